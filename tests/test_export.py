"""`pipeline export` (CSV and Excel for compliance staff's tools), `pipeline check` and
`pipeline diff --exit-code` (for CI): what lands in the files, and the exit codes both ways."""
import csv
import io
import shutil
import zipfile

import openpyxl
import pytest

from conftest import ROOT
from pipeline import cli, store
from pipeline.reconcile import review
from pipeline.present import export
from pipeline.build import run_build
from pipeline.present.words import rule_words

A_FILE, B_FILE = "raw/000_5e444a4c87042c42.txt", "raw/003_3b374c8cbaf8a554.txt"


def _statement(page, rule, items, **kw):
    base = {"page": page, "rule": rule, "pick": None, "of": None, "options": None, "declared": None,
            "conditions": [], "items": items, "documents": [d for i in items for d in i["documents"]],
            "integration": None, "items_missing": False,
            "rule_source": {"source_file": "raw/a.md", "line": 12, "date": "2024-08-29"},
            "items_source": {"source_file": "raw/a.md", "line": 13, "date": "2024-08-29"}, "note": None}
    return base | kw


def _item(text, documents=(), label=None, conditions=()):
    return {"text": text, "label": label, "documents": list(documents), "conditions": list(conditions),
            "group": None, "line": 13}


#: `current` rows as the table holds them: a 3选1 with three entries (one formula-looking), a
#: statement that requires nothing, one whose items no capture lists, on two pages
CURRENT = [
    {"capability": "live_streaming", "category_id": "cat_fund", "category": ["金融业", "公募基金"],
     "status": "open_conflict",
     "statements": [
         _statement("live_streaming:类目申请资质要求", "any", [
             _item("《经营证券期货业务许可证》", ["经营证券期货业务许可证"]),
             _item("=HYPERLINK(\"http://evil\",\"点我\")"),
             _item("公立学校：《事业单位法人证书》或《民办学校办学许可证》", ["事业单位法人证书", "民办学校办学许可证"],
                   label="公立学校", conditions=["且其中须有“驾驶员培训”项目"]),
         ], pick=1, of=3, options=3, declared="（3选1）", conditions=["仅支持公募基金管理人"],
             integration="标准直播+直播标签"),
         _statement("live_streaming:其他页面", "any", [], pick=1, of=5, options=None, declared="5选1",
                    items_missing=True, items_source=None),
     ],
     "conflicts": [{"id": "cfl_0123456789abcdef", "kind": "count_differs", "relation": "page",
                    "severity": "high", "status": "open", "summary": "count: 3选1 vs 5选1"}],
     "decisions": []},
    {"capability": "face_verification", "category_id": "cat_x", "category": ["社交", "直播"], "status": "current",
     "statements": [_statement("face_verification:p", "none", [], declared="-")],
     "conflicts": [], "decisions": []},
]


def test_current_rows_one_per_entry_with_rule_and_sources():
    rows = [dict(zip(export.CURRENT_COLUMNS, r)) for r in export.current_rows(CURRENT)]
    assert len(rows) == 3 + 1 + 1
    first = rows[0]
    assert first["category"] == "金融业 / 公募基金" and first["rule"] == "1 of 3 (3选1)" and first["declared as written"] == "（3选1）"
    assert first["entry"] == "《经营证券期货业务许可证》" and first["rule source"] == "raw/a.md:12"
    assert first["rule date"] == "2024-08-29" and first["entries source"] == "raw/a.md:13"
    assert first["requirement conditions"] == "仅支持公募基金管理人" and first["access method"] == "标准直播+直播标签"
    assert first["status"].startswith("open conflict") and "cfl_0123456789abcdef (open, high)" in first["conflicts"]
    assert rows[2]["entry documents"] == "事业单位法人证书、民办学校办学许可证" and rows[2]["entry label"] == "公立学校"
    assert rows[2]["entry conditions"] == "且其中须有“驾驶员培训”项目"
    # a statement without items: one row, the entry empty, and why
    missing = rows[3]
    assert missing["entry"] == "" and missing["rule"] == "1 of 5 (5选1)" and missing["entries source"] == ""
    assert "no capture of this page lists" in missing["note"]
    assert rows[4]["rule"] == "nothing required" and rows[4]["entry"] == "" and rows[4]["status"] == "current"


@pytest.mark.parametrize("statement,text", [
    ({"rule": "any", "pick": 1, "of": 5, "options": 5}, "1 of 5 (5选1)"),
    ({"rule": "any", "pick": 2, "of": 6, "options": 4}, "2 of 6 (6选2), 4 listed"),
    ({"rule": "any", "pick": 1, "of": None, "options": 3}, "1 of the 3 listed"),
    ({"rule": "all"}, "all of"),
    ({"rule": "none"}, "nothing required"),
    ({"rule": "unknown"}, "unknown (the requirement text was lost)"),
])
def test_rule_in_words(statement, text):
    assert rule_words(statement) == text


def test_workbook_sheets_header_rows_and_formula_stays_text(tmp_path):
    rows = {"current": export.table_rows("current", {"current": CURRENT})}
    wb = export.workbook(rows, version="2026-02-11-abc", exported_at="2026-02-12T10:00:00+00:00", about=export.ABOUT)
    data = export.workbook_bytes(wb)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["current", "about"]
    ws = book["current"]
    assert [c.value for c in ws[1]] == list(export.CURRENT_COLUMNS)
    assert all(c.font.b for c in ws[1]) and ws.freeze_panes == "A2"
    assert ws.max_row == 1 + 5
    entry = export.CURRENT_COLUMNS.index("entry") + 1
    # Chinese as it was, and the formula-looking entry a string, verbatim (not prefixed)
    assert ws.cell(2, entry).value == "《经营证券期货业务许可证》"
    formula = ws.cell(3, entry)
    assert formula.value == "=HYPERLINK(\"http://evil\",\"点我\")" and formula.data_type == "s"
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula anywhere in the file
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert all(export.MIN_WIDTH <= w <= export.MAX_WIDTH for w in widths.values())
    about = {r[0].value: r[1].value for r in book["about"].iter_rows(min_row=2)}
    assert about["dataset version"] == "2026-02-11-abc" and about["exported at"] == "2026-02-12T10:00:00+00:00"


def test_csv_has_bom_reads_back_and_defuses_formulas():
    data = export.csv_bytes(*export.table_rows("current", {"current": CURRENT}))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(export.CURRENT_COLUMNS) and len(rows) == 1 + 5
    entry = export.CURRENT_COLUMNS.index("entry")
    assert rows[1][entry] == "《经营证券期货业务许可证》"
    assert rows[2][entry] == "'=HYPERLINK(\"http://evil\",\"点我\")"
    assert [export.csv_cell(v) for v in ("+1", "-2", "@x", "\t=1", "a=b", "")] == ["'+1", "'-2", "'@x", "'\t=1", "a=b", ""]


def test_control_characters_are_escaped_not_refused():
    # openpyxl refuses most control characters; a dataset built before they were stripped may hold some
    wb = export.workbook({"t": (("a",), [["x\x1b[31my\u202e"]])}, version="v", exported_at="t")
    book = openpyxl.load_workbook(io.BytesIO(export.workbook_bytes(wb)))
    assert book["t"]["A2"].value == "x\\x1b[31my\\u202e"


def test_open_conflicts_by_severity():
    cs = [{"id": f"cfl_{s}_{st}", "severity": s, "status": st}
          for s in ("high", "medium", "low", "gap", "info") for st in ("open", "stale", "decided", "gap", "info")]
    assert {c["id"] for c in export.open_conflicts(cs, "high")} == {"cfl_high_open", "cfl_high_stale"}
    assert {c["id"] for c in export.open_conflicts(cs, "medium")} == {
        "cfl_high_open", "cfl_high_stale", "cfl_medium_open", "cfl_medium_stale"}
    assert len(export.open_conflicts(cs, "low")) == 6 and len(export.open_conflicts(cs)) == 10


def test_page_wide_conflict_names_every_category():
    c = {"id": "cfl_1", "status": "open", "severity": "medium", "category": [], "category_id": None,
         "categories": [{"category_id": "a", "category": ["金融业", "证券、期货投资咨询"]},
                        {"category_id": "b", "category": ["社交", "直播"]}],
         "values": [{"source_file": "raw/x.txt", "line_start": 9, "date": "2024-08-29", "value": "标准直播+直播标签"}]}
    (row,) = export.conflict_rows([c])
    got = dict(zip(export.CONFLICT_COLUMNS, row))
    assert got["category"] == "金融业 / 证券、期货投资咨询；社交 / 直播"
    assert (got["value"], got["source"], got["date"]) == ("标准直播+直播标签", "raw/x.txt:9", "2024-08-29")


# --- on real builds ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """Version A of one seed (no conflicts), then B with a second page that disagrees with it."""
    base = tmp_path_factory.mktemp("export")
    raw = base / "raw"
    raw.mkdir()
    shutil.copy(ROOT / A_FILE, raw)
    out = base / "output"
    a = run_build([raw], out).version
    shutil.copy(ROOT / B_FILE, raw)
    b = run_build([raw], out).version
    return out, a, b


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_conflicts_export_one_row_per_value(two_versions, tmp_path, capsys):
    out, _, b = two_versions
    conflicts = store.load_tables(out, b)["conflicts"]
    unresolved = export.open_conflicts(conflicts)
    assert unresolved, "the two pages disagree"
    code, said, _ = _run(capsys, "export", "--what", "conflicts", "--format", "csv", "--out", tmp_path / "c.csv",
                         "--output", out)
    assert code == 0 and "rows of conflicts" in said
    data = (tmp_path / "c.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = [dict(zip(export.CONFLICT_COLUMNS, r))
            for r in list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]]
    assert len(rows) == sum(len(c["values"]) for c in unresolved)
    want = [(c["id"], v["value"], f"{v['source_file']}:{v['line_start']}") for c in unresolved for v in c["values"]]
    assert [(r["id"], r["value"], r["source"]) for r in rows] == [
        (i, "'" + v if v.startswith(export.FORMULA_START) else v, s) for i, v, s in want]
    assert any("医疗 / 互联网医院" == r["category"] for r in rows)


def test_export_all_as_workbook_and_csv_folder(two_versions, tmp_path, capsys):
    out, _, b = two_versions
    code, said, err = _run(capsys, "export", "--what", "conflicts", "--out", tmp_path / "x.xlsx", "--output", out)
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "x.xlsx")
    assert book.sheetnames == ["conflicts", "about"]
    ws = book["conflicts"]
    assert [c.value for c in ws[1]] == list(export.CONFLICT_COLUMNS)
    unresolved = export.open_conflicts(store.load_tables(out, b)["conflicts"])
    assert ws.max_row - 1 == sum(len(c["values"]) for c in unresolved)
    value = export.CONFLICT_COLUMNS.index("value") + 1
    assert [ws.cell(r, value).value for r in range(2, ws.max_row + 1)] == [
        v["value"] or None for c in unresolved for v in c["values"]]
    # an existing folder: the default name inside it
    code, said, _ = _run(capsys, "export", "--what", "conflicts", "--format", "csv", "--out", tmp_path, "--output", out)
    assert code == 0 and (tmp_path / f"conflicts-{b}.csv").is_file()
    # every table as CSV wants a folder, not a file
    code, _, err = _run(capsys, "export", "--what", "all", "--format", "csv", "--out", tmp_path / "x.xlsx",
                        "--output", out)
    assert code == 1 and "needs a folder" in err


def test_check_fails_on_open_high_conflicts_and_passes_once_decided(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(ROOT / A_FILE, raw)
    out = tmp_path / "output"
    run_build([raw], out)
    code, said, _ = _run(capsys, "check", "--output", out)
    assert code == 0 and said.strip().startswith("no open high-severity conflicts")
    shutil.copy(ROOT / B_FILE, raw)
    v = run_build([raw], out).version
    high = export.open_conflicts(store.load_tables(out, v)["conflicts"], "high")
    assert high
    code, said, _ = _run(capsys, "check", "--output", out)
    lines = said.splitlines()
    assert code == 1 and len(lines) == 1 + len(high)
    assert [ln.split()[0] for ln in lines[1:]] == [c["id"] for c in high]
    assert any("医疗 / 互联网医院" in ln for ln in lines[1:])
    # a reviewer decides every one: the check passes
    decisions = tmp_path / "decisions.toml"
    decisions.write_text("".join(review.decision_entry(c, "follow newest", "checked", "Li Wei", "2026-02-12")
                                 for c in high), encoding="utf-8")
    run_build([raw], out, decisions=decisions)
    code, said, _ = _run(capsys, "check", "--output", out)
    assert code == 0 and "no open high-severity conflicts" in said


def test_check_on_no_dataset_is_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, "check", "--output", tmp_path / "none")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "no dataset" in err


def test_diff_exit_code_both_ways(two_versions, capsys):
    out, a, b = two_versions
    assert _run(capsys, "diff", a, b, "--exit-code", "--output", out)[0] == 1
    assert _run(capsys, "diff", b, b, "--exit-code", "--output", out)[0] == 0
    assert _run(capsys, "diff", a, b, "--output", out)[0] == 0  # without the option: 0 as before
    assert _run(capsys, "diff", "--files", A_FILE, B_FILE, "--exit-code", "--output", out)[0] == 1
    assert _run(capsys, "diff", "--files", A_FILE, A_FILE, "--exit-code", "--output", out)[0] == 0


def test_every_export_and_check_option_has_help(capsys):
    for command, own in (("export", ("--what", "--format", "--out", "--dataset", "--output")),
                         ("check", ("--severity", "--dataset", "--output")), ("diff", ("--exit-code",))):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        lines = text.splitlines()
        for option in own:
            at = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith(option))
            # help on the option's line, or indented on the next (argparse prints a bare option otherwise)
            on_line = len(lines[at].strip().split("  ")) > 1
            assert on_line or lines[at + 1].startswith(" " * 10), (command, option, lines[at])


def test_export_of_a_real_build_of_the_seeds(fresh_build, tmp_path, capsys):
    _, out = fresh_build
    version = store.latest(out)
    tables = store.load_tables(out, version)
    current = tables["current"]
    assert current
    code, said, err = _run(capsys, "export", "--out", tmp_path / "all.xlsx", "--output", out)
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "all.xlsx")
    assert book.sheetnames == ["current", "conflicts", "decide", "about"]
    ws = book["current"]
    got = [dict(zip(export.CURRENT_COLUMNS, (c.value or "" for c in r))) for r in ws.iter_rows(min_row=2)]
    # one row per entry of every statement, one for a statement without entries
    # and the entries of a last complete list of another shape in rows of their own, said so
    lasts = [st["last_list"] for r in current for st in r["statements"] if st.get("last_list")]
    assert lasts, "the seeds' 002 lost lists that 004's do not fit"
    assert len(got) == (sum(max(1, len(st["items"])) for r in current for st in r["statements"])
                        + sum(max(1, len(last["items"])) for last in lasts))
    want = [(" / ".join(r["category"]), i["text"], "、".join(i["documents"]))
            for r in current for st in r["statements"]
            for i in list(st["items"]) + list((st.get("last_list") or {}).get("items") or [])]
    assert [(g["category"], g["entry"], g["entry documents"]) for g in got if g["entry"]] == want
    assert sum(g["rule"].startswith("last complete list, not today's") for g in got) == \
        sum(max(1, len(last["items"])) for last in lasts)
    # the entries are the documents' text, verbatim: each is some requirement's entry
    written = {i["text"] for r in tables["requirements"] for i in r["items"]}
    assert {g["entry"] for g in got if g["entry"]} <= written
    fund = [g for g in got if g["category"] == "金融业 / 公募基金" and g["capability"] == "live_streaming"]
    assert fund and all(g["rule source"].startswith("raw/") for g in fund)
    assert {g["status"] for g in got} <= set(export.STATUS_TEXT.values())
    unresolved = export.open_conflicts(tables["conflicts"])
    assert book["conflicts"].max_row - 1 == sum(len(c["values"]) for c in unresolved)
    # the same as CSV, into a folder
    code, _, err = _run(capsys, "export", "--format", "csv", "--out", tmp_path / "csv", "--output", out)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO((tmp_path / "csv" / f"current-{version}.csv").read_text("utf-8-sig"),
                                       newline="")))
    assert len(rows) - 1 == len(got) and rows[0] == list(export.CURRENT_COLUMNS)
    assert (tmp_path / "csv" / f"conflicts-{version}.csv").is_file()


def test_a_version_built_before_the_current_table_is_one_line(tmp_path, capsys):
    out = ROOT / "output"
    old = store.versions(out)[0]
    assert not store.has_table(out, old, "current") and store.has_table(out, store.latest(out), "current")
    code, _, err = _run(capsys, "export", "--dataset", old, "--out", tmp_path / "x.xlsx", "--output", out)
    assert code == 1 and f"dataset {old} has no `current` table" in err and not (tmp_path / "x.xlsx").exists()
    code, _, err = _run(capsys, "export", "--what", "conflicts", "--dataset", old, "--out", tmp_path / "x.xlsx",
                        "--output", out)
    assert code == 0 and (tmp_path / "x.xlsx").is_file()
