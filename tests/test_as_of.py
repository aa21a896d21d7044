"""Answers as of a day (`show --as-of`, `export --as-of`, `pipeline.load(as_of=…)`): the captures
dated on or before it, reconciled by the build's own code; and `show --history`. Expected answers
are read from the published tables (the captures' own rows and dates), never typed in."""
import json
import warnings

import openpyxl
import pytest

import pipeline
from conftest import SHARED
from pipeline import cli, store
from pipeline.build import run_build
from pipeline.present import show
from pipeline.present.words import as_of_words, rule_words
from pipeline.reconcile.asof import as_of

DAY = "2020-06-01"
HISTORY = SHARED / "tencent-history"
pytestmark = pytest.mark.skipif(not HISTORY.is_dir(), reason="../shared/tencent-history not present")


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def _same(a: list[dict], b: list[dict]) -> bool:
    dump = lambda rows: [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows]  # noqa: E731
    return dump(a) == dump(b)


def test_every_capture_reconciled_again_gives_the_published_tables(tmp_path):
    """The answer as of a day is the build's reconciliation of fewer captures: of all of them
    (the history alone has no undated capture), it is the published dataset, table for table."""
    out = tmp_path / "output"
    run_build([HISTORY], out, decisions=tmp_path / "none.toml")
    published = store.load_tables(out, store.latest(out))
    got, counts = as_of(published, "2999-12-31")
    assert counts.later == counts.undated == 0 and counts.used == sum(len(p["versions"]) for p in published["pages"])
    for table in ("requirements", "sources", "scenarios", "licenses", "conflicts", "categories", "current",
                  "pages", "reviews"):
        assert _same(got[table], published[table]), table


def _statements(current: list[dict], capability: str, path: list[str]) -> list[dict]:
    (row,) = [r for r in current if r["capability"] == capability and r["category"] == path]
    return row["statements"]


def test_a_category_answered_as_of_2020_06_01_differs_from_today(history_output, capsys):
    version = store.latest(history_output)
    today = store.load_tables(history_output, version)
    then, counts = pipeline.load_as_of(DAY, output=history_output, records=True)
    dated = [v["date"] for p in today["pages"] for v in p["versions"]]
    assert counts.undated == sum(d is None for d in dated) > 0
    assert (counts.used, counts.later) == (sum(d is not None and d <= DAY for d in dated),
                                           sum(d is not None and d > DAY for d in dated))
    path = ["金融业", "公募基金"]
    (now,) = _statements(today["current"], "live_streaming", path)
    (old,) = _statements(then["current"], "live_streaming", path)
    assert now["rule_source"]["date"] > DAY >= old["rule_source"]["date"]
    assert (rule_words(old), old["integration"]) != (rule_words(now), now["integration"])
    # what the page's newest capture on or before the day says of it, from its own rows
    (page,) = [p for p in today["pages"] if p["page_key"] == old["page"]]
    newest = [v for v in page["versions"] if v["date"] and v["date"] <= DAY][-1]
    (row,) = [r for r in today["requirements"] if r["source_sha256"] == newest["source_sha256"]
              and r["category"] == path and r["capability"] == "live_streaming"]
    assert (old["rule_source"]["source_file"], old["rule_source"]["line"]) == \
        (row["source_file"], row["provenance"]["line_start"])
    assert [i["text"] for i in old["items"]] == [i["text"] for i in row["items"]]
    assert (old["pick"], old["of"], old["integration"]) == (row["pick"], row["of"], row["integration"])
    # the command line says the same, with the line that says what the answer was made from
    code, said, err = _run(capsys, "show", "金融业/公募基金", "--as-of", DAY, "--output", history_output)
    assert code == 0, err
    lines = said.splitlines()
    assert lines[0] == as_of_words(counts) and f"{counts.undated} undated captures left out" in lines[0]
    assert f"  {rule_words(old, listed=False)}, declared on {old['rule_source']['date']} " \
           f"({row['source_file']}:{row['provenance']['line_start']})" in lines
    code, today_said, _ = _run(capsys, "show", "金融业/公募基金", "--output", history_output)
    assert f"declared on {now['rule_source']['date']}" in today_said and "as of" not in today_said


def test_load_as_of_gives_frames_and_warns_of_undated_captures(history_output):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frames = pipeline.load(output=history_output, as_of=DAY, tables=("current", "requirements"))
    assert [str(w.message) for w in seen] == [as_of_words(pipeline.load_as_of(DAY, output=history_output)[1])]
    assert set(frames) == {"current", "requirements"} and len(frames["current"]) > 0
    assert (frames["requirements"]["page_updated"].dropna() <= DAY).all()
    with pytest.raises(pipeline.core.errors.PipelineError, match="not a day"):
        pipeline.load(output=history_output, as_of="2020-02-30")


def test_export_as_of_names_the_day_and_has_no_decide_sheet(history_output, tmp_path, capsys):
    code, said, err = _run(capsys, "export", "--as-of", DAY, "--out", tmp_path, "--output", history_output)
    assert code == 0, err
    version = store.latest(history_output)
    book = openpyxl.load_workbook(tmp_path / f"compliance-{version}-as-of-{DAY}.xlsx")
    assert book.sheetnames == ["current", "conflicts", "about"]
    about = {r[0].value: r[1].value for r in book["about"].iter_rows(min_row=2)}
    assert about["as of"] == said.splitlines()[0] and said.startswith(f"as of {DAY}: answered from the ")
    then, _ = pipeline.load_as_of(DAY, output=history_output, records=True)
    fund = [r for r in book["current"].iter_rows(min_row=2, values_only=True)
            if r[0] == "live_streaming" and r[1] == "金融业 / 公募基金"]
    (old,) = _statements(then["current"], "live_streaming", ["金融业", "公募基金"])
    assert fund and {r[5] for r in fund} == {rule_words(old)}
    code, _, err = _run(capsys, "export", "--as-of", DAY, "--what", "decide", "--output", history_output)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "no decide sheet" in err
    code, _, err = _run(capsys, "show", "公募基金", "--as-of", "June", "--output", history_output)
    assert code == 1 and err.strip() == "as of 'June': not a day (YYYY-MM-DD)"


def test_show_history_is_one_line_per_version_that_changed_it(history_output, capsys):
    tables = store.load_tables(history_output, store.latest(history_output))
    code, said, err = _run(capsys, "show", "金融业/公募基金", "--history", "--output", history_output)
    assert code == 0, err
    (cid,) = {r["category_id"] for r in tables["requirements"] if r["category"] == ["金融业", "公募基金"]}
    lines = show.history_lines(cid, tables)
    assert "\n".join(lines) in said
    page = next(p for p in tables["pages"] if p["page_key"].endswith("/1078/43316"))
    at = lines.index(f"[live_streaming] {page['page_key']}:")
    mine = lines[at + 1:]
    mine = mine[:next((i for i, ln in enumerate(mine) if ln.startswith("[")), len(mine))]
    rows = {(r["source_file"], r["provenance"]["line_start"]): r for r in tables["requirements"]
            if r["category_id"] == cid and r["capability"] == "live_streaming"}
    stating = [v for v in page["versions"] if any(r["source_sha256"] == v["source_sha256"] for r in rows.values())]
    # every version of the page states it but a capture cut short (which says nothing of what it
    # lacks): a line for the first, then one per change, each a row of the category saying the
    # rule its row states; fewer lines than versions, none "no longer listed"
    assert all(v["truncated"] for v in page["versions"] if v not in stating)
    assert len(stating) > len(mine) >= 2 and not any("no longer listed" in ln for ln in mine)
    for line in mine:
        where = line.rsplit("(", 1)[1].rstrip(")")
        file, no = where.rsplit(":", 1)
        row = rows[(file, int(no))]
        assert line.startswith(f"  {row['page_updated'] or 'date unknown'}  {rule_words(row)}, ")
    assert "changed:" in mine[-1] and "(+0 −" in mine[-1]  # 002 lost the list: every entry gone
