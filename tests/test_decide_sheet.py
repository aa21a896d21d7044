"""Decisions typed in the workbook (or its CSV) come back with `decide --from`: every filled row in
one update of review/decisions.toml, or none, each row that cannot be recorded named with what was
typed in it; a second import adds nothing. The sheets are edited through openpyxl and the csv
module, as a person's spreadsheet would save them."""
import csv
import io
import shutil
import tomllib
import zipfile

import openpyxl
import pytest

from conftest import ROOT
from pipeline import cli, store
from pipeline.build import run_build
from pipeline.present import export
from pipeline.reconcile import review

#: face verification (000, 003) and live streaming (001, 004): conflicts of both; an edit of 004
#: changes the values of the live-streaming ones only
SEEDS = ("000_5e444a4c87042c42.txt", "001_c5ae0df2c7b8cf07.txt", "003_3b374c8cbaf8a554.txt",
         "004_ef2bf0700b54b804.txt")


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A dataset, its workbook and decide CSV, and the dataset built again after an edit of 004
    (a conflict whose values changed since the export): (folder, {id: values_hash} before, after)."""
    base = tmp_path_factory.mktemp("sheet")
    raw = base / "raw"
    raw.mkdir()
    for name in SEEDS:
        shutil.copy(ROOT / "raw" / name, raw)
    out = base / "output"
    run_build([raw], out, decisions=base / "none.toml")
    assert cli.main(["export", "--output", str(out), "--out", str(base / "sheet.xlsx")]) == 0
    assert cli.main(["export", "--output", str(out), "--what", "decide", "--format", "csv",
                     "--out", str(base / "decide.csv")]) == 0
    before = {c["id"]: c["values_hash"] for c in export.open_conflicts(store.load_tables(out, store.latest(out))["conflicts"])}
    page = raw / SEEDS[3]
    page.write_text(page.read_text("utf-8").replace("（3选1）", "（4选1）", 1), "utf-8")
    run_build([raw], out, decisions=base / "none.toml")
    after = {c["id"]: c["values_hash"] for c in store.load_tables(out, store.latest(out))["conflicts"]}
    return base, before, after


@pytest.fixture
def work(exported, tmp_path, monkeypatch):
    base, before, after = exported
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path, before, after


def _rows(ws) -> dict[str, int]:
    """conflict id -> its row in the decide sheet (the id column is locked, the hash hidden)."""
    return {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}


def _type(ws, row: int, decision, reason, reviewer) -> None:
    col = {name: export.DECIDE_COLUMNS.index(name) + 1 for name in export.EDITABLE}
    ws.cell(row, col["decision"]).value = decision
    ws.cell(row, col["reason"]).value = reason
    ws.cell(row, col["reviewer"]).value = reviewer


def _decisions(path) -> list[dict]:
    return tomllib.loads(path.read_text("utf-8")).get("decision", []) if path.exists() else []


def test_the_decide_sheet_is_made_for_typing_and_holds_no_formula(exported):
    base, before, _ = exported
    data = (base / "sheet.xlsx").read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book[export.DECIDE]
    assert [c.value for c in ws[1]] == list(export.DECIDE_COLUMNS)
    assert list(_rows(ws)) == list(before)  # one row per open or stale conflict, in the table's order
    col = {n: openpyxl.utils.get_column_letter(i) for i, n in enumerate(export.DECIDE_COLUMNS, 1)}
    assert ws.protection.sheet and ws.column_dimensions[col["values_hash"]].hidden
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and str(dv.sqref) == f"{col['decision']}2:{col['decision']}{ws.max_row}"
    assert dv.formula1 == '"' + ",".join(review.DECISION_CHOICES) + '"' and dv.showErrorMessage
    for row in range(2, ws.max_row + 1):
        assert ws[f"{col['conflict']}{row}"].protection.locked
        for name in export.EDITABLE:  # typed as text, unlocked
            cell = ws[f"{col[name]}{row}"]
            assert cell.number_format == "@" and not cell.protection.locked and cell.value is None
        assert ws[f"{col['values_hash']}{row}"].value == before[ws[f"{col['conflict']}{row}"].value]
    sheet = book.sheetnames.index(export.DECIDE) + 1
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(data)).read(f"xl/worksheets/sheet{sheet}.xml").decode()


def test_a_sheet_edited_by_a_person_records_every_row_or_none(work, capsys):
    folder, before, after = work
    changed = [i for i in before if after.get(i) != before[i]]
    same = [i for i in before if after.get(i) == before[i]]
    assert changed and len(same) >= 3, "the edit of 004 changes some conflicts' values and not others"
    book = openpyxl.load_workbook("sheet.xlsx")
    ws = book[export.DECIDE]
    at = _rows(ws)
    _type(ws, at[same[0]], "follow newest", "=HYPERLINK(\"http://x\",\"y\")", "Li Wei")  # a formula typed
    _type(ws, at[same[1]], "both hold", "two scopes;\nsee ticket 4411", 42)  # a line break; a number
    _type(ws, at[same[2]], "keep it", "r", "Wang Fang")  # a value outside the drop-down
    _type(ws, at[changed[0]], "follow older", "checked", "Li Wei")  # its values changed since
    book.save("edited.xlsx")
    path = folder / "review" / "decisions.toml"
    code, out, err = _run(capsys, "decide", "--from", "edited.xlsx")
    lines = err.strip().splitlines()
    assert code == 1 and out == "" and not path.exists()
    # one line per bad row, in the sheet's order, then what was done: nothing
    by_row = {int(ln.split("!")[1].split(":")[0]): ln for ln in lines[:-1]}
    assert sorted(by_row) == sorted((at[same[2]], at[changed[0]])) and list(by_row) == sorted(by_row)
    outside, stale = by_row[at[same[2]]], by_row[at[changed[0]]]
    assert outside.startswith(f"edited.xlsx:decide!{at[same[2]]}: decision 'keep it' is not one of the allowed")
    assert outside.endswith('typed: decision "keep it", reason "r", reviewer "Wang Fang"')
    assert stale.startswith(f"edited.xlsx:decide!{at[changed[0]]}: {changed[0]}: stale: the conflict's values "
                            f"changed since this sheet was exported")
    assert stale.endswith('typed: decision "follow older", reason "checked", reviewer "Li Wei"')
    assert lines[-1].startswith("nothing recorded: 2 row(s) to fix")
    # the person fixes the two rows (one emptied, one picked from the list): all the rest lands
    _type(ws, at[same[2]], "not a real difference", "r", "Wang Fang")
    _type(ws, at[changed[0]], None, None, None)
    book.save("edited.xlsx")
    code, out, err = _run(capsys, "decide", "--from", "edited.xlsx", "--date", "2026-12-01")
    assert code == 0, err
    assert sorted(out.splitlines()[:3]) == sorted(f"recorded decision on {i} (edited.xlsx:decide!{at[i]}: {d})"
                                                  for i, d in zip(same, ("follow newest", "both hold",
                                                                         "not a real difference")))
    got = sorted(_decisions(path), key=lambda d: same.index(d["conflict"]))
    assert [(d["conflict"], d["values"], d["decision"], d["reason"], d["reviewer"]) for d in got] == [
        (same[0], after[same[0]], "follow newest", "=HYPERLINK(\"http://x\",\"y\")", "Li Wei"),
        (same[1], after[same[1]], "both hold", "two scopes; see ticket 4411", "42"),
        (same[2], after[same[2]], "not a real difference", "r", "Wang Fang")]
    # importing it again records nothing new, and says so in one line
    written = path.read_bytes()
    code, out, err = _run(capsys, "decide", "--from", "edited.xlsx")
    assert code == 0 and out.splitlines() == [
        "nothing new: the 3 decision(s) in edited.xlsx are already in review/decisions.toml"]
    assert path.read_bytes() == written


def test_a_row_the_file_decides_otherwise_is_refused_with_its_text(work, capsys):
    folder, before, after = work
    same = [i for i in before if after.get(i) == before[i]]
    assert _run(capsys, "decide", same[0], "--decision", "follow newest", "--reason", "r", "--reviewer", "x")[0] == 0
    path = folder / "review" / "decisions.toml"
    written = path.read_bytes()
    book = openpyxl.load_workbook("sheet.xlsx")
    ws = book[export.DECIDE]
    at = _rows(ws)
    _type(ws, at[same[0]], "both hold", "another view", "Li Wei")
    _type(ws, at[same[1]], "both hold", "ok", "Li Wei")
    ws.cell(ws.max_row + 2, 1).value = "cfl_0000000000000000"  # a row typed below the table
    _type(ws, ws.max_row, "both hold", "r", "x")
    book.save("edited.xlsx")
    code, _, err = _run(capsys, "decide", "--from", "edited.xlsx")
    lines = err.strip().splitlines()
    assert code == 1 and path.read_bytes() == written
    assert lines[0].startswith(f"edited.xlsx:decide!{at[same[0]]}: {same[0]}: review/decisions.toml:")
    assert "already holds another decision on it ('follow newest' by x)" in lines[0]
    assert '"another view"' in lines[0]
    assert lines[1].startswith(f"edited.xlsx:decide!{ws.max_row}: cfl_0000000000000000: no such conflict")
    assert len(lines) == 3


def test_the_csv_comes_back_the_same_way(work, capsys):
    folder, before, after = work
    same = [i for i in before if after.get(i) == before[i]]
    text = (folder / "decide.csv").read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(export.DECIDE_COLUMNS) and [r[0] for r in rows[1:]] == list(before)
    col = {n: export.DECIDE_COLUMNS.index(n) for n in export.DECIDE_COLUMNS}
    at = {r[0]: n for n, r in enumerate(rows)}
    for cid, decision, reason in ((same[0], "follow newest", "-2+3 is text"), (same[1], "maybe", "r")):
        rows[at[cid]][col["decision"]] = decision
        rows[at[cid]][col["reason"]] = reason
        rows[at[cid]][col["reviewer"]] = "Li Wei"
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (folder / "edited.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))
    code, _, err = _run(capsys, "decide", "--from", "edited.csv")
    # a CSV row is named by its line (a row of the export is one line: no cell holds a line break)
    assert code == 1 and err.splitlines()[0].startswith(f"edited.csv:{at[same[1]] + 1}: decision 'maybe' is not")
    rows[at[same[1]]][col["decision"]] = "both hold"
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    (folder / "edited.csv").write_bytes(buf.getvalue().encode("utf-8-sig"))
    code, out, err = _run(capsys, "decide", "--from", "edited.csv")
    assert code == 0, err
    got = _decisions(folder / "review" / "decisions.toml")
    assert [(d["conflict"], d["decision"], d["reason"]) for d in got] == [
        (same[0], "follow newest", "-2+3 is text"), (same[1], "both hold", "r")]
    code, out, _ = _run(capsys, "decide", "--from", "edited.csv")
    assert code == 0 and out.startswith("nothing new: the 2 decision(s)")


@pytest.mark.parametrize("content,message", [
    (b"PK\x03\x04 not really a zip", "edited.xlsx: not a workbook openpyxl can read"),
    ("a,b\r\n1,2\r\n".encode(), "edited.xlsx:1: no column conflict, values_hash, decision, reason, reviewer"),
    ("conflict,values_hash,decision,reason,reviewer\r\nx,y,\xe9,r,s\r\n".encode("latin-1"),
     "edited.xlsx:2: not UTF-8 text"),
])
def test_a_file_that_is_no_decide_sheet_is_one_line(work, capsys, content, message):
    (work[0] / "edited.xlsx").write_bytes(content)
    code, _, err = _run(capsys, "decide", "--from", "edited.xlsx")
    assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith(message), err


def test_a_workbook_without_the_decide_sheet_is_one_line(work, capsys):
    book = openpyxl.load_workbook("sheet.xlsx")
    del book[export.DECIDE]
    book.save("edited.xlsx")
    code, _, err = _run(capsys, "decide", "--from", "edited.xlsx")
    assert code == 1 and err.strip().splitlines() == [
        "edited.xlsx: no sheet 'decide' (sheets: current, conflicts, about); export one with `python -m pipeline export`"]


def test_an_empty_sheet_records_nothing_and_writes_nothing(work, capsys):
    code, out, _ = _run(capsys, "decide", "--from", "sheet.xlsx")
    assert code == 0 and out.strip() == "sheet.xlsx: no row has a decision typed in it; nothing recorded"
    assert not (work[0] / "review").exists()


def test_from_goes_alone(work, capsys):
    code, _, err = _run(capsys, "decide", "cfl_0123456789abcdef", "--from", "sheet.xlsx")
    assert code == 1 and "give no ids" in err
    code, _, err = _run(capsys, "decide", "cfl_0123456789abcdef")
    assert code == 1 and err.strip() == "decide: --decision, --reason, --reviewer needed (or --from FILE, a decide sheet)"
