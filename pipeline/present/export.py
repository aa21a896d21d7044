"""Tables for compliance staff's own tools: the current requirements and the open conflicts of a
dataset version, as CSV or as an Excel workbook (``python -m pipeline export``).

Pure functions: rows in, CSV bytes or an openpyxl ``Workbook`` out; ``store.write_export``
puts them on disk. An export is not a dataset: it carries the time it was made (the workbook's
"about" sheet, openpyxl's own document properties) and is never compared byte for byte.

One row per *entry*, so a spreadsheet filter on a document title or a category finds every
requirement naming it: the current requirements give a row per (capability, category,
statement, item), a statement without items one row with an empty entry; the conflicts give a
row per value (each capture's side of a disagreement).

Spreadsheet formula injection: text taken from a document (an entry, a category name, a
conflict's value) can start with ``=``, ``+``, ``-`` or ``@``, which a spreadsheet reads as a
formula (``=HYPERLINK(…)``, ``-2+3``, DDE payloads). In the workbook every text cell is written
with the string data type (openpyxl's ``data_type = "s"``), so the value stays exactly the
text and is never evaluated. CSV has no types: there such a cell is prefixed with ``'``,
which Excel and LibreOffice take as "text follows" (OWASP's advice); the one character added is
the price of a file that opens safely by double-click.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

# the current table's status in words: one wording wherever it is shown (show, report, export)
from pipeline.present.words import STATUS_TEXT, list_words, rule_words
from pipeline.core.normalize import display_width, visible
# exported and checked: the conflicts still waiting for a person
from pipeline.core.tables import SEVERITY_ORDER, UNRESOLVED
from pipeline.core.errors import PipelineError
# the decide sheet: what a decision may say, and a row read back
from pipeline.reconcile.review import DECISION_CHOICES, SheetRow

#: what a spreadsheet takes as the start of a formula (tab and carriage return too: Excel strips
#: them and reads on)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: the sheet (and CSV file) where decisions are typed, read back by ``decide --from``
DECIDE = "decide"

#: what ``--what`` may name, in sheet order
TABLES = ("current", "conflicts", DECIDE)


#: severities from the most serious down; ``check --severity medium`` means medium or worse
SEVERITIES = SEVERITY_ORDER

CURRENT_COLUMNS = (
    "capability", "category", "category_id", "status", "page", "rule", "declared as written",
    "entry label", "entry", "entry documents", "entry conditions", "requirement conditions",
    "access method", "note", "rule source", "rule date", "entries source", "entries date", "conflicts",
)

CONFLICT_COLUMNS = (
    "id", "kind", "relation", "severity", "status", "capability", "category", "page", "field",
    "summary", "value", "source", "date",
)

#: one row per open or stale conflict: what it is about, three columns to type a decision in,
#: and the fingerprint of the values shown (``conflicts.values_hash``), which ``decide --from``
#: compares with the conflict's values then: a decision is never recorded on values that changed
DECIDE_COLUMNS = ("conflict", "severity", "status", "category", "page", "what differs",
                  "decision", "reason", "reviewer", "values_hash")
#: the columns a person types in (unlocked, text); every other one is locked
EDITABLE = ("decision", "reason", "reviewer")
#: hidden (and locked) in the workbook; a CSV has no hidden columns, so it is the last one there
HIDDEN = ("values_hash",)

#: separator of a list inside one cell: document titles are joined with 、 as the documents
#: themselves list them; conditions and categories (whose names may hold a 、) with ；
DOC_SEP = "、"
LIST_SEP = "；"


def _at(src: dict | None) -> tuple[str, str]:
    """(``file:line``, date) of a ``rule_source`` / ``items_source``."""
    if not src:
        return "", ""
    line = src.get("line")
    where = f"{src.get('source_file') or ''}:{line}" if line is not None else (src.get("source_file") or "")
    return where, src.get("date") or ""


def _category(levels) -> str:
    return " / ".join(levels or [])


def current_rows(current: list[dict]) -> list[list]:
    """The ``current`` table as rows of ``CURRENT_COLUMNS``: one per (capability, category,
    statement, entry), in the table's order."""
    out = []
    for row in current:
        conflicts = LIST_SEP.join(f"{c['id']} ({c.get('status')}, {c.get('severity')})"
                                  for c in row.get("conflicts") or [])
        head = [row["capability"], _category(row.get("category")), row.get("category_id") or "",
                STATUS_TEXT.get(row.get("status"), row.get("status") or "")]
        for st in row.get("statements") or []:
            note = [st["note"]] if st.get("note") else []
            if st.get("covers") == "children":
                note.append("stated for every sub-category of this category (所有二级类目)")
            if st.get("items_missing"):
                note.append(list_words(st))
            rule_at, rule_date = _at(st.get("rule_source"))
            items_at, items_date = _at(st.get("items_source"))
            stated = [st.get("page") or "", rule_words(st), st.get("declared") or ""]
            tail = [LIST_SEP.join(st.get("conditions") or []), st.get("integration") or "", LIST_SEP.join(note),
                    rule_at, rule_date, items_at, items_date, conflicts]
            for item in st.get("items") or [None]:
                out.append(head + stated + _entry(item) + tail)
            last = st.get("last_list")
            if last:
                # the last complete list, in rows of its own with its own rule and source: a list
                # of another shape is never shown as today's entries
                src_at, src_date = _at(last["source"])
                said = [st.get("page") or "", f"last complete list, not today's: {rule_words(last)}",
                        last.get("declared") or ""]
                for item in last.get("items") or [None]:
                    out.append(head + said + _entry(item) + [tail[0], tail[1], LIST_SEP.join(note), src_at, src_date,
                                                            src_at, src_date, conflicts])
    return out


def _entry(item: dict | None) -> list[str]:
    """The entry columns of one item (empty for a statement without entries)."""
    if item is None:
        return ["", "", "", ""]
    return [item.get("label") or "", item.get("text") or "", DOC_SEP.join(item.get("documents") or []),
            LIST_SEP.join(item.get("conditions") or [])]


def open_conflicts(conflicts: list[dict], severity: str | None = None) -> list[dict]:
    """Conflicts still waiting for a person (open or stale), in the table's order; with
    ``severity`` (one of ``SEVERITIES``), only those at least that serious."""
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r}: one of {', '.join(SEVERITIES)}")
    wanted = SEVERITIES[:SEVERITIES.index(severity) + 1] if severity else None
    return [c for c in conflicts if c.get("status") in UNRESOLVED
            and (wanted is None or c.get("severity") in wanted)]


def conflict_category(conflict: dict) -> str:
    """The category a conflict is about, or for a page-wide change every one it lists."""
    if conflict.get("category"):
        return _category(conflict["category"])
    return LIST_SEP.join(_category(c.get("category")) for c in conflict.get("categories") or [])


#: a conflict's summary on its value rows after the first (whose cell holds it whole): a
#: page-wide change's summary can be 46,791 characters, over 45,393 value rows
SUMMARY_REPEATED = 200


def _summary_again(summary: str, whole: str = "on this conflict's first row") -> str:
    if len(summary) <= SUMMARY_REPEATED:
        return summary
    return summary[:SUMMARY_REPEATED].rstrip("…") + f"… (whole summary {whole})"


def conflict_rows(conflicts: list[dict]) -> list[list]:
    """Open and stale conflicts as rows of ``CONFLICT_COLUMNS``: one per value. The summary is
    whole on a conflict's first row and cut at ``SUMMARY_REPEATED`` characters on the others
    (each row still says what it is about, for a filter; the whole text once)."""
    out = []
    for c in open_conflicts(conflicts):
        summary = c.get("summary") or ""
        head = [c["id"], c.get("kind") or "", c.get("relation") or "", c.get("severity") or "",
                c.get("status") or "", c.get("capability") or "", conflict_category(c), c.get("page") or "",
                c.get("field") or "", summary]
        again = head[:-1] + [_summary_again(summary)]
        for n, v in enumerate(c.get("values") or [None]):
            if n == 1:
                head = again
            if v is None:
                out.append(head + ["", "", ""])
                continue
            value = v.get("value")
            where = v.get("source_file") or ""
            if v.get("line_start") is not None:
                where += f":{v['line_start']}"
            out.append(head + [value if isinstance(value, str) else ("" if value is None else str(value)),
                               where, v.get("date") or ""])
    return out


def decide_rows(conflicts: list[dict]) -> list[list]:
    """Open and stale conflicts as rows of ``DECIDE_COLUMNS``, one each, the decision empty."""
    return [[c["id"], c.get("severity") or "", c.get("status") or "", conflict_category(c), c.get("page") or "",
             _summary_again(c.get("summary") or "", "in the conflicts sheet and the report"), "", "", "",
             c.get("values_hash") or ""]
            for c in open_conflicts(conflicts)]


def table_rows(what: str, tables: dict) -> tuple[tuple[str, ...], list[list]]:
    """(header, rows) of ``what`` (one of ``TABLES``) from a version's tables."""
    if what == "current":
        return CURRENT_COLUMNS, current_rows(tables.get("current") or [])
    if what == "conflicts":
        return CONFLICT_COLUMNS, conflict_rows(tables.get("conflicts") or [])
    if what == DECIDE:
        return DECIDE_COLUMNS, decide_rows(tables.get("conflicts") or [])
    raise ValueError(f"unknown table {what!r}: one of {', '.join(TABLES)}")


def _text(value) -> str:
    # control characters escaped as on the terminal (normalize.visible): a spreadsheet would
    # show them as boxes or act on bidi overrides, and openpyxl refuses most of them outright
    return visible(value if isinstance(value, str) else "" if value is None else str(value))


def csv_cell(value) -> str:
    """One CSV cell: text as it is, but never a formula (``'`` before a formula start)."""
    text = _text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(header, rows) -> bytes:
    """A table as CSV (RFC 4180: comma, double quotes, CRLF) in UTF-8 *with* a byte order mark:
    Excel opens a CSV without one in the machine's legacy code page (GBK on a Chinese Windows,
    cp1252 elsewhere), which turns every Chinese character into mojibake; the BOM is how it
    recognises UTF-8. Other tools (Python's ``utf-8-sig``, pandas, LibreOffice) read it too."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_cell(h) for h in header])
    w.writerows([csv_cell(v) for v in r] for r in rows)
    return buf.getvalue().encode("utf-8-sig")


#: column widths, in characters: wide enough for an id or a date, never a whole page of text
MIN_WIDTH, MAX_WIDTH = 8, 60


#: the most characters a spreadsheet cell holds (Excel's limit; openpyxl writes more, and Excel
#: then refuses or cuts the file)
CELL_MAX = 32_767


def _fit(text: str, where: str, warnings: list[str] | None) -> str:
    """``text`` for one cell: cut to ``CELL_MAX`` characters where it is longer, saying so in
    the cell and in ``warnings``, never silently."""
    if len(text) <= CELL_MAX:
        return text
    note = f"… [cut: {len(text):,} characters in all; a cell holds {CELL_MAX:,}; the whole text is in the dataset]"
    if warnings is not None:
        warnings.append(f"{where}: {len(text):,} characters cut to the {CELL_MAX:,} a spreadsheet cell holds")
    return text[:CELL_MAX - len(note)] + note


def _sheet(wb, title: str, header, rows, warnings: list[str] | None = None) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append([_text(h) for h in header])
    for n, r in enumerate(rows, 2):
        ws.append([_fit(_text(v), f"sheet {title}, row {n}, column {header[i]!r}", warnings) or None
                   for i, v in enumerate(r)])  # (an empty cell, not an empty string)
    widths = [display_width(_text(h)) for h in header]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"  # a document's text, never a formula (see the module docstring)
            longest = max((display_width(part) for part in str(cell.value or "").split("\n")), default=0)
            widths[cell.column - 1] = max(widths[cell.column - 1], longest)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.data_type = "s"
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(MIN_WIDTH, w + 2))
        if w > MAX_WIDTH:  # long text wraps inside its column instead of running off the screen
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.alignment = wrap
    ws.freeze_panes = "A2"  # the header stays in view while scrolling
    if rows:
        ws.auto_filter.ref = ws.dimensions


def workbook(sheets: dict[str, tuple], *, version: str, exported_at: str, about: list[tuple[str, str]] = (),
             warnings: list[str] | None = None):
    """An openpyxl ``Workbook``: one sheet per table (``{name: (header, rows)}``), header bold
    and frozen, and a sheet ``about`` naming the dataset version and when it was exported.
    ``warnings``: gets a line per cell cut to ``CELL_MAX`` characters."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        _sheet(wb, name, header, rows, warnings)
        if name == DECIDE:
            _for_deciding(wb[name], header, len(rows))
    info = [("dataset version", version), ("exported at", exported_at)]
    info += [(f"sheet {name}", f"{len(rows)} rows") for name, (_, rows) in sheets.items()]
    info += list(about)
    _sheet(wb, "about", ("about", ""), info)
    return wb


def _for_deciding(ws, header, n_rows: int) -> None:
    """The decide sheet made for typing: the decision a drop-down of ``DECISION_CHOICES``
    (Excel and LibreOffice refuse another value as it is typed; ``decide --from`` refuses it
    too, whatever wrote it), decision, reason and reviewer cells typed as text (``@``: what is
    typed stays text, never a formula or a number), every other cell locked, the values
    fingerprint hidden. The protection has no password: it keeps a slip from editing an id, no
    more; sorting and filtering stay allowed (rows are matched by id, never by position)."""
    from openpyxl.styles import Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    last = max(n_rows + 1, 2)
    letter = {name: get_column_letter(i) for i, name in enumerate(header, 1)}
    for name in EDITABLE:
        for row in range(2, n_rows + 2):
            cell = ws[f"{letter[name]}{row}"]
            cell.number_format = "@"
            cell.protection = Protection(locked=False)
        ws.column_dimensions[letter[name]].width = max(ws.column_dimensions[letter[name]].width or 0, 24)
    choices = DataValidation(type="list", formula1='"' + ",".join(DECISION_CHOICES) + '"', allow_blank=True,
                             showErrorMessage=True, errorTitle="decision",
                             error="Pick one of the list (its meanings: sheet about)",
                             showInputMessage=True, promptTitle="decision", prompt="; ".join(DECISION_CHOICES))
    choices.add(f"{letter['decision']}2:{letter['decision']}{last}")
    ws.add_data_validation(choices)
    for name in HIDDEN:
        ws.column_dimensions[letter[name]].hidden = True
    ws.protection.sheet = True
    ws.protection.autoFilter = ws.protection.sort = ws.protection.formatColumns = False


def _cell_text(value) -> str:
    """A cell read back as plain text: whatever a spreadsheet made of what was typed (a
    number, a date, a formula's text) is its text, never evaluated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip()


def _uncsv(text: str) -> str:
    """The inverse of ``csv_cell``: the ``'`` put before a formula start is not the text's."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _sheet_rows(header: list[str], rows, where) -> list[SheetRow]:
    """``SheetRow``s from a header and ``(place, cells)`` rows; ``where(place)`` names a row."""
    missing = [c for c in ("conflict", "values_hash") + EDITABLE if c not in header]
    if missing:
        raise PipelineError(f"{where(1)}: no column {', '.join(missing)} in the header: not a decide sheet "
                            f"written by `pipeline export` (or its header row was changed)")
    at = {name: header.index(name) for name in ("conflict", "values_hash") + EDITABLE}
    out = []
    for place, cells in rows:
        get = lambda name: cells[at[name]] if at[name] < len(cells) else ""  # noqa: E731
        out.append(SheetRow(where(place), get("conflict"), get("values_hash"), get("decision"), get("reason"),
                            get("reviewer")))
    return out


def read_decide_sheet(data: bytes, name: str) -> list[SheetRow]:
    """The rows of a decide sheet, from an .xlsx workbook (its sheet ``decide``; rows named
    ``FILE:decide!ROW``) or a CSV file written by ``export`` (rows named ``FILE:LINE``)."""
    if data.startswith(b"PK\x03\x04"):  # a zip: a workbook
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as e:
            raise PipelineError(f"{name}: not a workbook openpyxl can read ({type(e).__name__}: {e})") from None
        if DECIDE not in book.sheetnames:
            raise PipelineError(f"{name}: no sheet {DECIDE!r} (sheets: {', '.join(book.sheetnames)}); "
                                f"export one with `python -m pipeline export`")
        cells = [(n, [_cell_text(v) for v in r]) for n, r in enumerate(book[DECIDE].iter_rows(values_only=True), 1)]
        book.close()
        header = cells[0][1] if cells else []
        return _sheet_rows(header, cells[1:], lambda n: f"{name}:{DECIDE}!{n}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise PipelineError(f"{name}:{line}: not UTF-8 text (save it as \"CSV UTF-8\")") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, start = [], 1
    for r in reader:
        rows.append((start, [_uncsv(c).strip() for c in r]))
        start = reader.line_num + 1
    header = rows[0][1] if rows else []
    return _sheet_rows(header, rows[1:], lambda n: f"{name}:{n}")


ABOUT = [
    ("current", "one row per capability, category, statement (a page stating it) and entry; "
                "a statement without entries is one row with the entry empty"),
    ("conflicts", "open and stale conflicts, one row per value (each source's side)"),
    (DECIDE, "open and stale conflicts, one row each: type decision (from the list), reason and reviewer, "
             "then `python -m pipeline decide --from <this file>`; rows left empty are skipped"),
] + [(f"decision: {value}", meaning) for value, meaning in DECISION_CHOICES.items()] + [
    ("text", "cells hold the documents' text verbatim, as text (never formulas)"),
]


def workbook_bytes(wb) -> bytes:
    """The workbook as the bytes of an .xlsx file."""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def check_lines(conflicts: list[dict]) -> list[str]:
    """One line per conflict for ``pipeline check``: id, severity, status, category, summary,
    with control characters escaped for the terminal."""
    return [visible(f"{c['id']}  {c.get('severity')}  {c.get('status')}  {conflict_category(c) or '-'}  "
                    f"{c.get('summary') or ''}") for c in conflicts]


def workbook_name(version: str) -> str:
    return f"compliance-{version}.xlsx"


def csv_name(table: str, version: str) -> str:
    return f"{table}-{version}.csv"


def export_targets(what, fmt: str, version: str, out, out_is_dir: bool) -> list[tuple]:
    """Where ``pipeline export`` writes: ``[(path, (table, …)), …]``; ``what``: ``all``, a
    table, or a tuple of tables. ``out`` (a ``Path`` or
    None: the current folder) is a file for a workbook or a single table, or a folder (when it
    is one: ``out_is_dir``) to hold the default names; a CSV export of every table is one file
    per table, in the folder ``out``."""
    from pathlib import Path

    tables = TABLES if what == "all" else (what,) if isinstance(what, str) else tuple(what)
    if fmt == "xlsx":
        return [(target_path(workbook_name(version), out, out_is_dir), tables)]
    if len(tables) == 1:
        return [(target_path(csv_name(tables[0], version), out, out_is_dir), tables)]
    folder = Path(".") if out is None else out
    return [(folder / csv_name(t, version), (t,)) for t in tables]


def target_path(name: str, out, out_is_dir: bool):
    """Where one exported file goes: ``name`` in the current folder (``out`` None), in the
    folder ``out`` (``out_is_dir``), or the file ``out`` itself."""
    from pathlib import Path

    return Path(name) if out is None else out / name if out_is_dir else out
