"""The command line for downstream developers and reviewers: listings and their formats,
--version, help on every option, decisions on several conflicts, withdrawals, and HISTORY."""
import argparse
import contextlib
import csv
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline import cli, store
from pipeline.reconcile import review
from pipeline.present import listing
from pipeline.build import run_build
from pipeline.core.errors import ParseError, StoreError


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One build of raw/ (no decisions) that tests copy before changing anything."""
    base = tmp_path_factory.mktemp("cli")
    shutil.copytree(ROOT / "raw", base / "raw")
    run_build([base / "raw"], base / "output", decisions=base / "review" / "decisions.toml",
              cache_dir=base / ".cache")
    return base


@pytest.fixture
def work(built, tmp_path, monkeypatch):
    """A private copy of the built project, as the current folder."""
    shutil.copytree(built, tmp_path / "p", symlinks=True)
    monkeypatch.chdir(tmp_path / "p")
    return tmp_path / "p"


def _run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *args):
    code, out, err = _run(capsys, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _conflicts(root: Path) -> list[dict]:
    return store.load_tables(root / "output", store.latest(root / "output"))["conflicts"]


def _rebuild(root: Path):
    return run_build([root / "raw"], root / "output", decisions=root / "review" / "decisions.toml",
                     cache_dir=root / ".cache")


# --- the parser ------------------------------------------------------------------------------

def _commands(parser: argparse.ArgumentParser):
    # argparse has no public way to walk its parser: its `_actions` are what it prints help from
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub


def test_every_option_of_every_command_has_help():
    parser = cli.build_parser()
    sub = _commands(parser)
    missing = [f"(top) {a.dest}" for a in parser._actions if a is not sub and not a.help]
    missing += [f"{c.dest}: no help for the command" for c in sub._choices_actions if not c.help]
    for name, p in sub.choices.items():
        missing += [f"{name} {'/'.join(a.option_strings) or a.dest}" for a in p._actions
                    if not a.help or a.help == argparse.SUPPRESS]
    assert not missing, missing
    assert {"categories", "conflicts", "versions", "decisions", "withdraw"} <= set(sub.choices)


def test_version_names_the_tool_and_the_schema(capsys):
    from pipeline import __version__
    from pipeline.core.tables import SCHEMA_VERSION

    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"pipeline {__version__} (writes dataset schema {SCHEMA_VERSION})"


def test_a_commands_dataset_option_and_its_old_name_version_pick_the_same_dataset(work, capsys):
    v = store.latest(work / "output")
    a = _run(capsys, "show", "公募基金", "--dataset", v, "--format", "json")
    b = _run(capsys, "show", "公募基金", "--version", v, "--json")
    assert a == b and a[0] == 0 and json.loads(a[1])["categories"][0]["category"] == ["金融业", "公募基金"]
    code, _, err = _run(capsys, "sources", "--dataset", "2099-01-01-000000000000")
    assert code == 1 and "not found" in err


def test_json_is_an_alias_of_format_json(work, capsys):
    assert _run(capsys, "sources", "--json") == _run(capsys, "sources", "--format", "json")


# --- listings ------------------------------------------------------------------------------

def test_categories_lists_every_capability_and_category_with_its_open_conflicts(work, capsys):
    rows = _json(capsys, "categories")
    tables = store.load_tables(work / "output", store.latest(work / "output"))
    assert sorted((r["capability"], r["category_id"]) for r in rows) == \
        sorted((c["capability"], c["category_id"]) for c in tables["categories"])
    open_by_cat: dict[tuple, int] = {}
    for c in tables["conflicts"]:
        if c["status"] == "open":
            for cat in c["categories"]:
                key = (c["capability"], cat["category_id"])
                open_by_cat[key] = open_by_cat.get(key, 0) + 1
    for r in rows:
        assert r["open_conflicts"] == open_by_cat.get((r["capability"], r["category_id"]), 0), r
    fund = next(r for r in rows if r["category"] == "金融业 / 公募基金" and r["capability"] == "live_streaming")
    assert fund["open_conflicts"] >= 1 and fund["pages"]


def test_conflict_filters_take_repeated_options_or_comma_lists(work, capsys):
    every = _json(capsys, "conflicts")
    assert len(every) == len(_conflicts(work))
    repeated = _json(capsys, "conflicts", "--status", "open", "--severity", "high", "--severity", "medium")
    commas = _json(capsys, "conflicts", "--status", "open", "--severity", "high,medium")
    assert repeated == commas and repeated
    assert all(r["status"] == "open" and r["severity"] in ("high", "medium") for r in repeated)
    assert len(repeated) == sum(1 for r in every if r["status"] == "open" and r["severity"] in ("high", "medium"))
    # --page: part of a page key, any case; the seeds' live-streaming page holds most conflicts
    page = _json(capsys, "conflicts", "--page", "类目申请资质要求")
    assert page and all("类目申请资质要求" in (r["page"] or "") or r["relation"] != "version" for r in page)
    assert _json(capsys, "conflicts", "--page", "no-such-page") == []
    code, _, err = _run(capsys, "conflicts", "--severity", "urgent")
    assert code == 1 and err.strip() == "--severity 'urgent': not one of high, medium, low, gap, info"


def test_a_page_wide_conflict_is_one_row_listing_its_categories(work, capsys):
    wide = [r for r in _json(capsys, "conflicts") if r["category"].startswith("page-wide")]
    assert wide, "the seeds have a page-wide change (002's switch to 微信原生组件标签)"
    assert all(len(r["categories"]) >= 5 and r["category"] == f"page-wide ({len(r['categories'])} categories)"
               for r in wide)


def test_csv_has_a_header_row_and_chinese_intact(work, capsysbinary):
    assert cli.main(["conflicts", "--format", "csv"]) == 0
    data = capsysbinary.readouterr().out
    text = data.decode("utf-8")  # UTF-8 whatever the locale
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == listing.CONFLICT_COLUMNS
    assert len(rows) == 1 + len(_conflicts(work))
    assert any("金融业 / 公募基金" in r[listing.CONFLICT_COLUMNS.index("category")] for r in rows[1:])
    assert "\\u" not in text


def test_text_output_escapes_control_characters_and_aligns_chinese():
    rows = [{"a": "公募基金", "b": "x"}, {"a": "ab", "b": "evil\x1b[2J\u202e"}]
    text = listing.render(rows, "text", ["a", "b"])
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b[2J\\u202e" in text
    lines = text.splitlines()
    # 公募基金 is 8 columns wide on a terminal: the second column starts at the same place
    assert lines[1] == "公募基金  x" and lines[2] == "ab        evil\\x1b[2J\\u202e"


def test_json_and_csv_of_an_empty_listing():
    assert json.loads(listing.render([], "json", ["a"])) == []
    assert listing.render([], "csv", ["a", "b"]).splitlines() == ["a,b"]
    assert listing.render([], "text", ["a"]).splitlines() == ["a", "(none)"]


# --- decisions ----------------------------------------------------------------------------

def _two_open(root: Path) -> list[dict]:
    cs = [c for c in _conflicts(root) if c["status"] == "open"]
    return cs[:2]


def test_decide_records_several_conflicts_in_one_update(work, capsys, monkeypatch):
    a, b = _two_open(work)
    calls = []
    real = store.update_text
    monkeypatch.setattr(store, "update_text", lambda *x: calls.append(1) or real(*x))
    code, out, err = _run(capsys, "decide", a["id"], b["id"], "--decision", "follow newest", "--reason", "r",
                          "--reviewer", "Li Wei", "--date", "2026-11-20")
    assert code == 0, err
    assert len(calls) == 1
    held = review.parse_decisions((work / "review" / "decisions.toml").read_text())
    assert [(d.conflict, d.values) for d in held] == [(a["id"], a["values_hash"]), (b["id"], b["values_hash"])]


def test_decide_ids_from_a_file_with_comments_and_blank_lines(work, capsys):
    a, b = _two_open(work)
    (work / "ids.txt").write_text(f"# to decide\n\n{a['id']}   # the first\n{b['id']}\n{a['id']}\n")
    code, _, err = _run(capsys, "decide", "--ids-from", "ids.txt", "--decision", "d", "--reason", "r",
                        "--reviewer", "x")
    assert code == 0, err
    assert [d.conflict for d in review.parse_decisions((work / "review" / "decisions.toml").read_text())] == \
        [a["id"], b["id"]]


@pytest.mark.parametrize("line,message", [
    ("cfl_xyz", "ids.txt:3: 'cfl_xyz' is not a conflict id"),
    ("cfl_0000000000000000", "ids.txt:3: cfl_0000000000000000: no such conflict in dataset "),
])
def test_a_bad_line_in_the_ids_file_names_it_and_writes_nothing(work, capsys, line, message):
    a, b = _two_open(work)
    path = work / "review" / "decisions.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(review.FILE_HEADER)
    before = path.read_bytes()
    (work / "ids.txt").write_text(f"{a['id']}\n# c\n{line}\n{b['id']}\n")
    code, _, err = _run(capsys, "decide", "--ids-from", "ids.txt", "--decision", "d", "--reason", "r",
                        "--reviewer", "x")
    assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith(message), err
    assert path.read_bytes() == before


def test_one_conflict_already_decided_means_none_is_recorded(work, capsys):
    a, b = _two_open(work)
    args = ("--decision", "d", "--reason", "r", "--reviewer", "x")
    assert _run(capsys, "decide", a["id"], *args)[0] == 0
    before = (work / "review" / "decisions.toml").read_bytes()
    code, _, err = _run(capsys, "decide", b["id"], a["id"], *args)
    assert code == 1 and f"already holds a decision on {a['id']}; nothing recorded" in err
    assert (work / "review" / "decisions.toml").read_bytes() == before


@contextlib.contextmanager
def _disk_full_for(where: str):
    """fsync fails with ENOSPC for files whose path holds ``where`` (as on a full disk)."""
    real = os.fsync

    def full(fd):
        if where in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", full)
        yield


@pytest.mark.parametrize("command", ["decide", "withdraw"])
def test_a_failed_write_of_several_decisions_or_a_withdrawal_leaves_the_file_as_it_was(work, capsys, command):
    a, b = _two_open(work)
    assert _run(capsys, "decide", a["id"], "--decision", "d", "--reason", "r", "--reviewer", "x")[0] == 0
    path = work / "review" / "decisions.toml"
    before = path.read_bytes()
    args = (["decide", b["id"], "--decision", "d"] if command == "decide" else ["withdraw", a["id"]])
    with _disk_full_for("/review/"):
        code, _, err = _run(capsys, *args, "--reason", "r", "--reviewer", "x")
    assert code == 1 and err.strip() == "review/decisions.toml: No space left on device"
    assert path.read_bytes() == before
    assert sorted(q.name for q in path.parent.iterdir() if not q.name.endswith(".lock")) == ["decisions.toml"]


@pytest.mark.parametrize("command", ["withdraw", "decide"])
def test_a_withdraw_or_a_decide_of_several_killed_at_its_write_leaves_the_old_file_or_the_new_one(work, command):
    cs = _conflicts(work)
    cids = [c["id"] for c in cs][:5]
    path = work / "review" / "decisions.toml"
    path.parent.mkdir(exist_ok=True)
    by = {c["id"]: c for c in cs}
    text = review.add_decisions(None, [by[c] for c in cids[:3]], "keep", "checked", "Li Wei", "2026-11-20")
    text += "".join(f'\n[[decision]]\nconflict = "cfl_{i:016x}"\ndecision = "keep"\nreason = "r {i}"\n'
                    f'reviewer = "Li Wei"\ndate = 2026-11-20\nvalues = "{i:064x}"\n' for i in range(3000))
    path.write_text(text)
    before = path.read_bytes()
    args = (["withdraw", cids[1], "--reason", "wrong"] if command == "withdraw" else
            ["decide", cids[3], cids[4], "--decision", "d", "--reason", "r"])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "pipeline", *args, "--reviewer", "Wang"], cwd=work, env=env,
                         start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:  # killed the moment anything in review/ changes: its lock, its temporary file
        state = lambda: sorted(os.listdir(path.parent))  # noqa: E731
        first, end = state(), time.monotonic() + 60
        while state() == first and p.poll() is None and time.monotonic() < end:
            time.sleep(0.0005)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        p.communicate()
    after = path.read_bytes()
    if after != before:  # the new file, whole: every decision of the update, or the old one
        parsed = review.read_decisions(after.decode())
        if command == "withdraw":
            assert [w.decision.conflict for w in parsed.withdrawn] == [cids[1]] and len(parsed.decisions) == 3002
        else:
            assert [d.conflict for d in parsed.decisions][-2:] == cids[3:5] and len(parsed.decisions) == 3005
    assert after.startswith(before[:200]) and b"checked" in after and b"r 2999" in after


def test_withdrawing_keeps_the_text_and_the_build_opens_the_conflict_again(work, capsys):
    """Decide a page-wide conflict (one id, many categories), build: decided, and the
    categories' open counts drop; withdraw it, build: open again, the decision still in the
    file as [[withdrawn]] with who withdrew it, when and why."""
    wide = next(c for c in _conflicts(work) if c["category_id"] is None and c["status"] == "open")
    cats = {x["category_id"] for x in wide["categories"]}

    def open_counts():
        return {r["category_id"]: r["open_conflicts"] for r in _json(capsys, "categories")
                if r["capability"] == wide["capability"] and r["category_id"] in cats}

    before = open_counts()
    code, out, err = _run(capsys, "decide", wide["id"], "--decision", "follow newest", "--reason", "native tags now",
                          "--reviewer", "Li Wei", "--date", "2026-11-20")
    assert code == 0 and f"page-wide: {len(cats)} categories" in out, err
    listed = _json(capsys, "decisions")
    assert [(r["conflict"], r["status"], r["in_dataset"]) for r in listed] == [(wide["id"], "applied", False)]
    _rebuild(work)
    c = next(x for x in _conflicts(work) if x["id"] == wide["id"])
    assert c["status"] == "decided"
    assert open_counts() == {k: n - 1 for k, n in before.items()}
    assert _json(capsys, "decisions")[0]["in_dataset"] is True
    # show tells who decided what, in its answer (公募基金 is one of the 19 categories)
    code, out, _ = _run(capsys, "show", "公募基金")
    answer = out[out.index("[live_streaming]"):out.index("Details:")]
    assert f"decided by Li Wei on 2026-11-20 ({wide['id']}): follow newest: native tags now" in answer

    typed = (work / "review" / "decisions.toml").read_text()
    code, _, err = _run(capsys, "withdraw", wide["id"], "--reason", "Tencent corrected the page",
                        "--reviewer", "Wang Fang", "--date", "2026-12-02")
    assert code == 0, err
    now = (work / "review" / "decisions.toml").read_text()
    data = tomllib.loads(now)
    assert "decision" not in data
    (w,) = data["withdrawn"]
    assert (w["conflict"], w["decision"], w["reason"], w["reviewer"]) == \
        (wide["id"], "follow newest", "native tags now", "Li Wei")
    assert (w["withdrawn_by"], str(w["withdrawn_date"]), w["withdrawn_reason"]) == \
        ("Wang Fang", "2026-12-02", "Tencent corrected the page")
    for line in typed.splitlines():  # every line typed is still there (its header renamed)
        assert line.replace("[[decision]]", "[[withdrawn]]") in now.splitlines()
    assert [r["status"] for r in _json(capsys, "decisions")] == ["withdrawn"]
    _rebuild(work)
    c = next(x for x in _conflicts(work) if x["id"] == wide["id"])
    assert c["status"] == "open" and not c.get("decision")
    assert open_counts() == before
    tables = store.load_tables(work / "output", store.latest(work / "output"))
    assert tables["reviews"] == []
    # decided again after the withdrawal: both are in the file, the new one applies
    assert _run(capsys, "decide", wide["id"], "--decision", "d2", "--reason", "r2", "--reviewer", "x")[0] == 0
    rows = _json(capsys, "decisions")
    assert sorted(r["status"] for r in rows) == ["applied", "withdrawn"]
    assert _json(capsys, "decisions", "--status", "withdrawn")[0]["withdrawn_by"] == "Wang Fang"


def test_withdrawing_what_has_no_decision_is_an_error_and_writes_nothing(work, capsys):
    a, b = _two_open(work)
    assert _run(capsys, "decide", a["id"], "--decision", "d", "--reason", "r", "--reviewer", "x")[0] == 0
    path = work / "review" / "decisions.toml"
    before = path.read_bytes()
    code, _, err = _run(capsys, "withdraw", a["id"], b["id"], "--reason", "r", "--reviewer", "x")
    assert code == 1 and f"{b['id']}: no decision on it; nothing withdrawn" in err
    assert path.read_bytes() == before
    assert _run(capsys, "withdraw", a["id"], "--reason", "r", "--reviewer", "x")[0] == 0
    code, _, err = _run(capsys, "withdraw", a["id"], "--reason", "r", "--reviewer", "x")
    assert code == 1 and "already withdrawn" in err


@pytest.mark.parametrize("text,line,message", [
    ('[[withdrawn]]\nconflict = "cfl_0123456789abcdef"\ndecision="a"\nreason="b"\nreviewer="c"\ndate=2026-01-01\n'
     'values="v"\n', 1, "decision lacks withdrawn_by, withdrawn_date, withdrawn_reason"),
    ('\n[[withdrawn]]\nconflict = "cfl_0123456789abcdef"\ndecision="a"\nreason="b"\nreviewer="c"\ndate=2026-01-01\n'
     'values="v"\nwithdrawn_by="w"\nwithdrawn_date="later"\nwithdrawn_reason="x"\n', 2,
     "withdrawn_date 'later' is not YYYY-MM-DD"),
    ('[withdrawn]\nconflict = "cfl_0123456789abcdef"\n', 1, "each withdrawn is a [[withdrawn]] table"),
])
def test_malformed_withdrawn_entries_are_errors_at_their_line(text, line, message):
    with pytest.raises(ParseError) as e:
        review.parse_decisions(text, "review/decisions.toml")
    assert str(e.value).startswith(f"review/decisions.toml:{line}: ") and message in str(e.value)


# --- HISTORY -----------------------------------------------------------------------------

def test_history_reads_timed_events_and_the_old_bare_names():
    events = store.parse_history("# a comment\nv-old\n\n2026-12-02T07:40:11Z\tv-new\tbuilt\n"
                                 "2026-12-02T08:00:00Z\tv-old\tswitched back\n")
    assert [(e.time, e.version, e.event, e.line) for e in events] == [
        (None, "v-old", None, 2), ("2026-12-02T07:40:11Z", "v-new", "built", 4),
        ("2026-12-02T08:00:00Z", "v-old", "switched back", 5)]
    with pytest.raises(StoreError) as e:
        store.parse_history("v1\n2026-12-02\tv2\tbuilt\n", "output/HISTORY")
    assert str(e.value).startswith("output/HISTORY:2: not a history line")


def _fake_versions(output: Path, *names: str) -> None:
    for n in names:
        (output / "datasets" / n).mkdir(parents=True)
        (output / "datasets" / n / "manifest.json").write_text("{}")


def test_an_event_is_recorded_once_and_versions_shows_when(tmp_path, capsys):
    out = tmp_path / "output"
    _fake_versions(out, "v1", "v2")
    assert store.record_history(out, "v1", "built", now="2026-12-01T10:00:00Z")
    # a build killed after HISTORY, before LATEST: the next one moves LATEST, records nothing
    assert not store.record_history(out, "v1", "switched back", now="2026-12-01T10:05:00Z")
    assert store.record_history(out, "v2", "built", now="2026-12-01T11:00:00Z")
    assert store.record_history(out, "v1", "switched back", now="2026-12-01T12:00:00Z")
    (out / "LATEST").write_text("v1\n")
    lines = [ln for ln in (out / "HISTORY").read_text().splitlines() if not ln.startswith("#")]
    assert lines == ["2026-12-01T10:00:00Z\tv1\tbuilt", "2026-12-01T11:00:00Z\tv2\tbuilt",
                     "2026-12-01T12:00:00Z\tv1\tswitched back"]
    assert store.versions(out) == ["v1", "v2"]
    rows = _json(capsys, "versions", "--output", str(out))
    assert rows == [
        {"version": "v1", "published": "2026-12-01T10:00:00Z", "latest": True, "report": False,
         "events": ["built 2026-12-01T10:00:00Z", "switched back 2026-12-01T12:00:00Z"]},
        {"version": "v2", "published": "2026-12-01T11:00:00Z", "latest": False, "report": False,
         "events": ["built 2026-12-01T11:00:00Z"]}]
    code, text, _ = _run(capsys, "versions", "--output", str(out))
    assert code == 0 and re.search(r"^v1\s+2026-12-01T10:00:00Z\s+yes", text, re.M)


def test_an_old_bare_history_gets_timed_lines_appended_and_is_still_read(tmp_path):
    out = tmp_path / "output"
    _fake_versions(out, "v1", "v2")
    (out / "HISTORY").write_text("v1\nv1\n")
    store.record_history(out, "v2", "built", now="2026-12-01T11:00:00Z")
    assert (out / "HISTORY").read_text() == "v1\nv1\n2026-12-01T11:00:00Z\tv2\tbuilt\n"
    assert store.versions(out) == ["v1", "v2"]


def test_a_build_records_its_time_in_history_only_and_an_unchanged_build_nothing(work):
    lines = [ln for ln in (work / "output" / "HISTORY").read_text().splitlines() if not ln.startswith("#")]
    (line,) = lines
    t, v, event = line.split("\t")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) and event == "built"
    assert v == store.latest(work / "output")
    ds = work / "output" / "datasets" / v
    assert not any(t[:16].encode() in p.read_bytes() for p in ds.rglob("*") if p.is_file())
    before = (work / "output" / "HISTORY").read_bytes()
    assert not _rebuild(work).created
    assert (work / "output" / "HISTORY").read_bytes() == before


def test_the_committed_history_lists_every_committed_version_with_its_report():
    out = ROOT / "output"
    events = store.history(out)
    datasets = sorted(p.name for p in (out / "datasets").iterdir() if (p / "manifest.json").exists())
    assert sorted({e.version for e in events}) == datasets, "every committed version, and only those"
    assert all(e.time and e.event for e in events), "every line has its time and event"
    lines = [ln for ln in (out / "HISTORY").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == len(set(lines)), "no event twice"
    assert events[-1].version == store.latest(out)
    assert [e.time for e in events] == sorted(e.time for e in events), "appended in time order"
    assert [v for v in datasets if not store.has_reports(out, v)] == []
