"""Read HTML tables as written by people: missing ``<tr>``, unclosed ``<td>``/``<li>``, rowspans.

``html.parser`` (not lxml) is used on purpose: it keeps every tag's source line and leaves a stray
``<td>`` where it stands, so a row without its ``<tr>`` can be recognised instead of silently
merged into another row.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from pipeline.model import Line
from pipeline.normalize import clean

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
        return clean(" ".join(l.text for l in self.lines))


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
    warnings: tuple[str, ...] = field(default=())


def _int_attr(tag: Tag, name: str) -> int:
    try:
        return max(1, int(str(tag.get(name, "1")).strip() or 1))
    except ValueError:
        return 1


def cell_lines(cell: Tag, first_line: int) -> tuple[Line, ...]:
    """The logical lines of a cell: ``<br>``, list items and block tags end a line.

    A list item becomes a bullet line whose depth is the number of lists around it (so an
    unclosed ``<li>`` that ``html.parser`` nests in its sibling still gets the right depth).
    """
    out: list[Line] = []
    buf: list[str] = []
    start: int | None = None
    key: object = None
    bullet, depth = False, 0
    line = (cell.sourceline or 1) + first_line - 1

    def flush() -> None:
        nonlocal buf, start
        text = clean("".join(buf))
        if text:
            out.append(Line(text, start or line, line, bullet, depth))
        buf, start = [], None

    for node in cell.descendants:
        if isinstance(node, Tag):
            if node.sourceline:
                line = node.sourceline + first_line - 1
            if node.name == "br" or node.name in _BLOCK:
                flush()
            continue
        if not isinstance(node, NavigableString) or isinstance(node, Comment):
            continue
        text = str(node)
        li = node.find_parent("li")
        if li is not None and cell not in li.parents:
            li = None
        if li is not key:
            flush()
            key = li
            bullet = li is not None
            depth = sum(1 for p in node.parents if p.name in ("ul", "ol") and cell in p.parents) if li else 0
        stripped = text.lstrip()
        if stripped and start is None:
            start = line + text[: len(text) - len(stripped)].count("\n")
        buf.append(text)
        line += text.count("\n")
    flush()
    return tuple(out)


def read_tables(html: str, first_line: int = 1) -> list[Table]:
    """Every top-level ``<table>`` in ``html``; ``first_line`` is the line ``html`` starts on."""
    soup = BeautifulSoup(html, "html.parser")
    tables = []
    for t in soup.find_all("table"):
        if t.find_parent("table") is not None:
            continue
        tables.append(_read_table(t, first_line, html))
    return tables


def _read_table(table: Tag, first_line: int, html: str) -> Table:
    raw_rows: list[tuple[list[Tag], int, bool]] = []
    current_tr: Tag | None = None
    for cell in table.find_all(["td", "th"]):
        if cell.find_parent("table") is not table:
            continue
        tr = cell.find_parent("tr")
        if tr is not None and table not in tr.parents:
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

    warnings: list[str] = []
    width = sum(_int_attr(c, "colspan") for c in raw_rows[0][0]) if raw_rows else 0
    pending: dict[int, tuple[Cell, int]] = {}
    rows: list[Row] = []
    for cells, line, implicit in raw_rows:
        own = [Cell(header=c.name == "th", lines=cell_lines(c, first_line),
                    line=(c.sourceline or 1) + first_line - 1,
                    rowspan=_int_attr(c, "rowspan"), colspan=_int_attr(c, "colspan")) for c in cells]
        own_width = sum(c.colspan for c in own)
        if pending and width and own_width + sum(p[0].colspan for p in pending.values()) > width:
            # the row is complete without the cell above: the rowspan was declared too long
            warnings.append(f"{line}: row has {len(own)} cells of its own; rowspan above ends early")
            pending = {}
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
        if implicit:
            warnings.append(f"{line}: row without <tr>")
        rows.append(Row(tuple(placed), line, implicit))
    start = (table.sourceline or 1) + first_line - 1
    if pending:
        warnings.append(f"{start}: rowspan runs past the last row")
    end = start + str(table).count("\n")
    return Table(tuple(rows), start, max(start, end), tuple(warnings))
