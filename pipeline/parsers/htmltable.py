"""Read tables as written by people: missing ``<tr>``, unclosed ``<td>``/``<li>``, rowspans.

HTML and Markdown pipe tables go through the same reader: a pipe table is first written as the
HTML table it stands for, line for line (``pipe_table_html``), so both give the same ``Table``.

lxml's HTML parser is used directly: it is fast (C), keeps every element's source line, closes an
unclosed ``<li>``/``<td>`` where a browser would, and leaves a stray ``<td>`` (a row that lost its
``<tr>``) where it stands, so such a row can be recognised instead of silently merged.
"""
from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from pipeline.parsers import patterns
from pipeline.core.errors import ParseError, PipelineWarning, warning
from pipeline.core.model import Line
from pipeline.core.normalize import clean

_BLOCK = {"p", "div", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}


@dataclass(frozen=True)
class Cell:
    header: bool
    lines: tuple[Line, ...]
    line: int
    rowspan: int = 1
    colspan: int = 1
    #: repeated from a rowspan above, not written in this row
    carried: bool = False

    @property
    def text(self) -> str:
        # worked out once per cell (parsers read it again and again) and kept beside the
        # fields: the dataclass is frozen, its instance dict is not
        text = self.__dict__.get("_text")
        if text is None:
            text = self.__dict__["_text"] = clean(" ".join(l.text for l in self.lines))
        return text

    def shifted(self, delta: int) -> Cell:
        """The same cell ``delta`` lines further down."""
        moved = Cell(self.header, tuple(ln.shifted(delta) for ln in self.lines),
                     self.line + delta, self.rowspan, self.colspan, self.carried)
        if "_text" in self.__dict__:
            moved.__dict__["_text"] = self.__dict__["_text"]
        return moved


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    line: int
    #: the row had no ``<tr>`` of its own
    implicit: bool = False


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    line_start: int
    line_end: int
    #: each with its line and no file (the document's parser knows it)
    warnings: tuple[PipelineWarning, ...] = field(default=())

    def shifted(self, delta: int) -> Table:
        """The same table ``delta`` lines further down (one without warnings: ``ParseMemo.tables``)."""
        return Table(tuple(Row(tuple(c.shifted(delta) for c in r.cells), r.line + delta, r.implicit)
                           for r in self.rows), self.line_start + delta, self.line_end + delta, self.warnings)


def _int_attr(el, name: str) -> int:
    try:
        return max(1, int(str(el.get(name, "1")).strip() or 1))
    except ValueError:
        return 1


def _within(el, cell) -> bool:
    return el is cell or any(a is cell for a in el.iterancestors())


def cell_lines(cell, first_line: int) -> tuple[Line, ...]:
    """The logical lines of a cell: ``<br>``, list items and block tags end a line.

    A list item becomes a bullet line whose depth is the number of lists around it inside the
    cell.
    """
    out: list[Line] = []
    buf: list[str] = []
    state = {"start": None, "line": (cell.sourceline or 1) + first_line - 1, "key": None,
             "bullet": False, "depth": 0}

    def flush() -> None:
        text = clean("".join(buf))
        if text:
            out.append(Line(text, state["start"] or state["line"], state["line"], state["bullet"], state["depth"]))
        buf.clear()
        state["start"] = None

    def text(piece: str | None, owner) -> None:
        """Text whose nearest element is ``owner`` (for its list-item context)."""
        if not piece:
            return
        li = owner if owner.tag == "li" else next((a for a in owner.iterancestors("li") if _within(a, cell)), None)
        if li is not None and not _within(li, cell):
            li = None
        if li is not state["key"]:
            flush()
            state["key"] = li
            state["bullet"] = li is not None
            state["depth"] = sum(1 for a in li.iterancestors() if a.tag in ("ul", "ol") and _within(a, cell)) if li is not None else 0
        stripped = piece.lstrip()
        if stripped and state["start"] is None:
            state["start"] = state["line"] + piece[: len(piece) - len(stripped)].count("\n")
        buf.append(piece)
        state["line"] += piece.count("\n")

    def walk(el) -> None:
        if isinstance(el.tag, str):
            if el is not cell and el.sourceline:
                state["line"] = max(state["line"], el.sourceline + first_line - 1)
            if el.tag == "br" or el.tag in _BLOCK:
                flush()
            text(el.text, el)
            for child in el:
                walk(child)
                if isinstance(child.tag, str) and child.tag in _BLOCK and child.tag != "br":
                    flush()
                text(child.tail, el)
        # comments and processing instructions carry no text for us; their tails do
        else:
            pass

    walk(cell)
    flush()
    return tuple(out)


def read_tables(html: str, first_line: int = 1, memo=None) -> list[Table]:
    """Every top-level ``<table>`` in ``html``; ``first_line`` is the line ``html`` starts on.
    ``memo``: the build's ``ParseMemo`` (the same HTML read before is moved to this line)."""
    if memo is None:
        return _read_tables(html, first_line)
    return memo.tables(html, first_line, _read_tables, Table.shifted)


def _read_tables(html: str, first_line: int) -> list[Table]:
    if "<table" not in html.lower():
        return []
    # huge_tree: libxml2 otherwise stops reading at 256 levels of nesting (300 <span>s in one
    # cell dropped every row after it) and says so only in its error log. With it, the limit is
    # 2048 levels; a document that reaches even that is refused, never read in part.
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return []
    fatal = [e for e in parser.error_log if e.level >= etree.ErrorLevels.FATAL]
    if fatal:
        # the caller names the file (``build.parse_raw``)
        raise ParseError("", fatal[0].line + first_line - 1,
                         f"the HTML cannot be read to its end ({fatal[0].message.split(',')[0]}); "
                         f"nothing after this line would be read")
    tables = []
    for t in root.iter("table"):
        if any(a.tag == "table" for a in t.iterancestors()):
            continue
        tables.append(_read_table(t, first_line, html))
    return tables


def _read_table(table, first_line: int, html: str) -> Table:
    """A table's cells grouped into rows (``_cells_by_row``), then each row's cells placed in
    their columns, those a rowspan above carries down among them (``_place_row``)."""
    raw_rows = _cells_by_row(table, first_line)
    warnings: list[PipelineWarning] = []
    width = sum(_int_attr(c, "colspan") for c in raw_rows[0][0]) if raw_rows else 0
    # column -> (the cell a rowspan carries down into it, rows it has still to fill)
    pending: dict[int, tuple[Cell, int]] = {}
    rows: list[Row] = []
    for cells, line, implicit in raw_rows:
        own = [Cell(header=c.tag == "th", lines=cell_lines(c, first_line),
                    line=(c.sourceline or 1) + first_line - 1,
                    rowspan=_int_attr(c, "rowspan"), colspan=_int_attr(c, "colspan")) for c in cells]
        own_width = sum(c.colspan for c in own)
        if pending and width and own_width + sum(p[0].colspan for p in pending.values()) > width:
            # the row is complete without the cell above: the rowspan was declared too long
            warnings.append(warning("rowspan_ends_early", f"row has {len(own)} cells of its own; rowspan above ends early",
                                    line=line))
            pending.clear()
        placed = _place_row(own, pending)
        if implicit:
            warnings.append(warning("row_without_tr", "row without <tr>", line=line))
        rows.append(Row(tuple(placed), line, implicit))
    start = (table.sourceline or 1) + first_line - 1
    if pending:
        warnings.append(warning("rowspan_past_end", "rowspan runs past the last row", line=start))
    last = max([c.sourceline or 0 for c in table.iter()] + [table.sourceline or 0]) + first_line - 1
    end = max(last, max((ln.last for r in rows for c in r.cells for ln in c.lines), default=start))
    return Table(tuple(rows), start, max(start, end), tuple(warnings))


def _cells_by_row(table, first_line: int) -> list[tuple[list, int, bool]]:
    """The table's own cells (not a nested table's), by row: (cells, line, implicit). A row is
    a ``<tr>``'s cells, or a run of cells outside any ``<tr>`` (``implicit``: warned about)."""
    raw_rows: list[tuple[list, int, bool]] = []
    current_tr = None
    for cell in table.iter("td", "th"):
        if next((a for a in cell.iterancestors("table")), None) is not table:
            continue
        tr = next((a for a in cell.iterancestors("tr")), None)
        if tr is not None and not _within(tr, table):
            tr = None
        if tr is not None:
            if tr is not current_tr:
                raw_rows.append(([], (tr.sourceline or 1) + first_line - 1, False))
                current_tr = tr
        elif current_tr is not None or not raw_rows or not raw_rows[-1][2]:
            # a cell outside any <tr> after a closed row starts a row of its own
            raw_rows.append(([], (cell.sourceline or 1) + first_line - 1, True))
            current_tr = None
        raw_rows[-1][0].append(cell)
    return raw_rows


def _place_row(own: list[Cell], pending: dict[int, tuple[Cell, int]]) -> list[Cell]:
    """A row's cells in column order: its own (``own``) in the columns the cells carried down
    from above (``pending``, updated for the rows below) leave free."""
    placed: list[Cell] = []
    col = 0
    queue = list(own)
    while queue or any(k >= col for k in pending):
        if col in pending:
            cell, left = pending[col]
            placed.append(Cell(cell.header, cell.lines, cell.line, 1, cell.colspan, carried=True))
            if left <= 1:
                del pending[col]
            else:
                pending[col] = (cell, left - 1)
            col += cell.colspan
            continue
        if not queue:
            col += 1
            continue
        cell = queue.pop(0)
        placed.append(cell)
        if cell.rowspan > 1:
            pending[col] = (cell, cell.rowspan - 1)
        col += cell.colspan
    return placed


# --- Markdown pipe tables -------------------------------------------------------------------

#: ``|----|:---:|``: the delimiter row under a pipe table's header.
_PIPE_DELIMITER = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PIPE_SPLIT = re.compile(r"(?<!\\)\|")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")


def is_pipe_table(lines: list[str], i: int) -> bool:
    """Does a pipe table start at ``lines[i]`` (a row with ``|``, then a delimiter row)?"""
    return ("|" in lines[i] and i + 1 < len(lines) and bool(_PIPE_DELIMITER.match(lines[i + 1]))
            and "-" in lines[i + 1])


def pipe_table_end(lines: list[str], i: int) -> int:
    """The index of the last line of the pipe table starting at ``lines[i]``."""
    j = i + 1
    while j + 1 < len(lines) and "|" in lines[j + 1] and lines[j + 1].strip():
        j += 1
    return j


def _pipe_cells(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [c.strip().replace("\\|", "|") for c in _PIPE_SPLIT.split(text)]


def _cell_html(text: str) -> str:
    """A pipe cell's Markdown as HTML: links and bold become tags; inline HTML (``<br>``) stays."""
    text = patterns.MARKDOWN_LINK.sub(lambda m: f'<a href="{_html.escape(m.group(2))}">{m.group(1)}</a>', text)
    return _MD_BOLD.sub(r"<strong>\1</strong>", text)


def pipe_table_html(lines: list[str], first_line: int) -> tuple[str, tuple[PipelineWarning, ...]]:
    """The HTML table a pipe table stands for, one line per line (the delimiter row becomes an
    empty line), so cells keep their source lines; and warnings (with their line, no file).

    A header with more cells than the delimiter row, the extra ones empty
    (``|主类目|子类目||直播场景|`` over ``|----|----|----|``), loses its empty cells with a warning;
    any other mismatch is left to the table reader (rows simply have fewer or more cells)."""
    header = _pipe_cells(lines[0])
    width = len(_pipe_cells(lines[1]))
    warnings = []
    if len(header) > width and len([c for c in header if c]) == width:
        warnings.append(warning("pipe_header_wider", f"pipe table header has {len(header)} cells over {width} "
                                                     f"columns; its empty cells are dropped", line=first_line))
        header = [c for c in header if c]
    out = ["<table><tr>" + "".join(f"<th>{_cell_html(c)}</th>" for c in header) + "</tr>", ""]
    for line in lines[2:]:
        out.append("<tr>" + "".join(f"<td>{_cell_html(c)}</td>" for c in _pipe_cells(line)) + "</tr>")
    out[-1] += "</table>"
    return "\n".join(out), tuple(warnings)
