"""PDF files, read with pdfplumber.

The PDF is turned into the text one of the other parsers reads, then that parser runs: a PDF
with ruled tables becomes Markdown with HTML tables (headings by font size), a PDF of flowing
text becomes the line-per-line text of a PDF export (``pdftext``). The same content therefore
gives the same records whatever format it arrives in; provenance gains the PDF page number.

What the conversion takes care of:
- fake-bold text (every glyph drawn twice a fraction of a point apart): ``dedupe_chars``;
- text in reading order, top to bottom, tables placed where they stand;
- tables found by their ruling lines; merged cells from the cell geometry; a cell's text that
  wraps at the cell edge joined again, an explicit line break kept; ``●``/``•`` lines as list
  items, nested by indentation;
- a table continuing over a page break (same columns) joined into one;
- page headers and footers (the same line at the top or bottom of most pages, page numbers)
  dropped;
- link annotations kept apart from the text (they are reported as the document's links);
- CJK punctuation: no space is ever inserted between two CJK characters.
"""
from __future__ import annotations

import bisect
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace

from pipeline.core.errors import ParseError
from pipeline.core.model import ParsedDocument
from pipeline.core.normalize import strip_controls
from pipeline.parsers import markdown, pdftext

_PAGE_NUMBER = re.compile(r"^(?:第\s*\d+\s*页(?:\s*/\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|-?\s*\d+\s*-?|page\s*\d+(?:\s*of\s*\d+)?)$",
                          re.IGNORECASE)
_ENUM_START = re.compile(r"^\s*(?:\d{1,2}\s*[、.．]|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,2}\s*[、:：])")


@dataclass
class _Line:
    text: str
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    page: int


@dataclass
class _Table:
    rows: list[list[dict | None]]  # grid of cells: {"html", "rowspan", "colspan"} or None (covered)
    top: float
    bottom: float
    xs: tuple[float, ...]
    page: int
    last_page: int = 0
    #: the PDF page each row stands on (a joined table spans pages)
    row_pages: list[int] = field(default_factory=list)


@dataclass
class _Page:
    number: int
    height: float
    blocks: list = field(default_factory=list)  # _Line | _Table in reading order


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or 0x3000 <= o <= 0x303F


def _chars_to_lines(chars: list[dict], page: int) -> list[_Line]:
    """Group characters into lines (by their baseline) and lines into reading order."""
    rows: list[list[dict]] = []
    for c in sorted(chars, key=lambda c: (round(c["top"], 1), c["x0"])):
        if rows and abs(rows[-1][0]["top"] - c["top"]) <= max(1.5, c["size"] * 0.35):
            rows[-1].append(c)
        else:
            rows.append([c])
    out = []
    for row in rows:
        row.sort(key=lambda c: c["x0"])
        text = ""
        prev = None
        for c in row:
            ch = c["text"]
            if prev is not None and ch != " " and not text.endswith(" "):
                gap = c["x0"] - prev["x1"]
                # a visible gap between two Latin characters is a space; CJK glyphs carry their
                # own spacing (full-width punctuation has blank space inside its box)
                if gap > prev["size"] * 0.25 and not (_is_cjk(ch) or _is_cjk(prev["text"])):
                    text += " "
                elif gap > prev["size"] * 0.9:
                    text += " "
            text += ch
            prev = c
        if text.strip():
            size = Counter(round(c["size"], 1) for c in row).most_common(1)[0][0]
            out.append(_Line(text.rstrip(), min(c["top"] for c in row), max(c["bottom"] for c in row),
                             row[0]["x0"], row[-1]["x1"], size, page))
    return out


def _inside(c: dict, bbox: tuple) -> bool:
    x0, top, x1, bottom = bbox
    cx, cy = (c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2
    return x0 <= cx <= x1 and top <= cy <= bottom


class _ByHeight:
    """The characters of a page, found by box (``_inside``) through their centres' heights
    instead of testing every character against every table cell."""

    def __init__(self, chars: list[dict]):
        self.chars = chars
        self.cx = [(c["x0"] + c["x1"]) / 2 for c in chars]
        cy = [(c["top"] + c["bottom"]) / 2 for c in chars]
        self.order = sorted(range(len(chars)), key=cy.__getitem__)
        self.cy = [cy[i] for i in self.order]

    def inside(self, bbox: tuple) -> list[dict]:
        """``[c for c in chars if _inside(c, bbox)]``, in the same order."""
        x0, top, x1, bottom = bbox
        lo, hi = bisect.bisect_left(self.cy, top), bisect.bisect_right(self.cy, bottom)
        return [self.chars[i] for i in sorted(i for i in self.order[lo:hi] if x0 <= self.cx[i] <= x1)]


def _edges(values, tol: float = 1.5) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _index(edges: list[float], v: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - v))


def _cell_html(chars: list[dict], bbox: tuple, page: int) -> str:
    """A cell's text as HTML: wrapped lines joined, line breaks kept, bullets as list items."""
    from html import escape

    lines = _chars_to_lines(chars, page)
    if not lines:
        return ""
    x0, _, x1, _ = bbox
    logical: list[tuple[str, float]] = []  # (text, indent)
    prev: _Line | None = None
    in_list = False
    for ln in lines:
        text = ln.text.strip()
        bullet = _is_bullet(text)
        starts_item = bullet or bool(_ENUM_START.match(text))
        full = prev is not None and prev.x1 >= x1 - prev.size * 2.2
        # a line without a bullet inside a bulleted list continues the item above (renderers
        # wrap CJK text well short of the edge to respect line-breaking rules)
        if logical and not starts_item and (full or in_list):
            t, ind = logical[-1]
            sep = " " if t[-1:].isascii() and t[-1:].isalnum() and text[:1].isascii() and text[:1].isalnum() else ""
            logical[-1] = (t + sep + text, ind)
        else:
            logical.append((text, ln.x0 - x0))
            in_list = bullet
        prev = ln
    out, depth_open = [], 0
    # nesting from indentation: each distinct indent of a bullet line is one level deeper
    levels = _edges([ind for text, ind in logical if _is_bullet(text)], tol=3.0)
    for text, ind in logical:
        if _is_bullet(text):
            depth = 1 + _index(levels, ind)
            while depth_open < depth:
                out.append("<ul>")
                depth_open += 1
            while depth_open > depth:
                out.append("</ul>")
                depth_open -= 1
            out.append(f"<li>{escape(text[1:].strip(), quote=False)}</li>")
        else:
            while depth_open:
                out.append("</ul>")
                depth_open -= 1
            out.append(escape(text, quote=False) + "<br>")
    out += ["</ul>"] * depth_open
    return "".join(out)


def _is_bullet(text: str) -> bool:
    """``● 营业执照``, ``• x``: a bullet glyph (a dash only when followed by a space)."""
    return text[:1] in "●•▪◆◦·" or (text[:1] in "-–" and text[1:2] in (" ", "\u3000"))


def _dedupe(chars: list[dict], tolerance: float = 1.0) -> list[dict]:
    """Drop glyphs drawn twice at (almost) the same place: fake bold. Linear, unlike
    pdfplumber's ``dedupe_chars``, which compares every pair on a page."""
    seen: dict[tuple, list[dict]] = {}
    out = []
    for c in chars:
        key = (c["text"], round(c["top"] / tolerance), round(c["size"], 1))
        near = seen.setdefault(key, [])
        if any(abs(o["x0"] - c["x0"]) <= tolerance and abs(o["top"] - c["top"]) <= tolerance for o in near):
            continue
        near.append(c)
        out.append(c)
    return out


def _read_page(page, number: int) -> _Page:
    # pdfplumber's public objects only (``page.chars``, ``lines``, ``rects``, ``find_tables``)
    # the table finder needs ruling lines: a page without any has no ruled table
    tables = page.find_tables() if (page.lines or page.rects) else []
    chars = [c for c in _dedupe(page.chars) if c["text"].strip() or c["text"] == " "]
    out = _Page(number, float(page.height))
    taken: list[tuple] = []
    by_height = _ByHeight(chars) if tables else None
    for t in tables:
        cells = [c for c in t.cells if c]
        if not cells:
            continue
        xs = _edges([c[0] for c in cells] + [c[2] for c in cells])
        ys = _edges([c[1] for c in cells] + [c[3] for c in cells])
        grid: list[list[dict | None]] = [[None] * (len(xs) - 1) for _ in range(len(ys) - 1)]
        for bbox in sorted(cells, key=lambda b: (b[1], b[0])):
            r, c = _index(ys, bbox[1]), _index(xs, bbox[0])
            r2, c2 = _index(ys, bbox[3]), _index(xs, bbox[2])
            if r >= len(grid) or c >= len(grid[0]):
                continue
            inner = by_height.inside(bbox)
            grid[r][c] = {"html": _cell_html(inner, bbox, number), "rowspan": max(1, r2 - r),
                          "colspan": max(1, c2 - c)}
        out.blocks.append(_Table(grid, t.bbox[1], t.bbox[3], tuple(round(x) for x in xs), number, number,
                                 [number] * len(grid)))
        taken.append(t.bbox)
    free = [c for c in chars if not any(_inside(c, b) for b in taken)]
    out.blocks += _chars_to_lines(free, number)
    out.blocks.sort(key=lambda b: b.top)
    return out


def _page_key(page) -> bytes | None:
    """A digest of everything ``_read_page`` reads of a page: its content streams and resources
    (fonts and their files, images, graphics states), boxes and rotation. Two pages with the same
    key give the same glyphs at the same places. None if the page holds an object this does not
    know how to digest or decode (then the page is simply read)."""
    import hashlib

    from pdfminer.pdftypes import PDFObjRef, PDFStream
    from pdfminer.psparser import PSKeyword, PSLiteral

    h = hashlib.sha256()
    order: dict[int, int] = {}  # indirect objects met so far, by position (ids differ per file)

    def feed(obj) -> None:
        if isinstance(obj, PDFObjRef):
            if obj.objid in order:
                h.update(b"R%d;" % order[obj.objid])
                return
            order[obj.objid] = len(order)
            feed(obj.resolve())
        elif isinstance(obj, PDFStream):
            feed(obj.attrs)
            # decoded, as the interpreter will read it (a stream is decoded once per file)
            data = obj.get_data() or b""
            h.update(b"S%d:" % len(data))
            h.update(data)
        elif isinstance(obj, dict):
            h.update(b"{")
            for k in sorted(obj, key=str):
                feed(k)
                feed(obj[k])
            h.update(b"}")
        elif isinstance(obj, (list, tuple)):
            h.update(b"[")
            for v in obj:
                feed(v)
            h.update(b"]")
        elif isinstance(obj, (PSLiteral, PSKeyword)):
            h.update(b"/%s;" % repr(obj.name).encode())
        elif obj is None or isinstance(obj, (bool, int, float, str, bytes)):
            h.update(b"%s:%s;" % (type(obj).__name__.encode(), repr(obj).encode()))
        else:
            raise TypeError(type(obj).__name__)

    po = page.page_obj
    try:
        feed([po.contents, po.resources, po.mediabox, po.cropbox, po.rotate])
    except Exception:  # an object it cannot digest or decode: the reading will say what is wrong
        return None
    return h.digest()


def _remembered_page(page, number: int, pages) -> _Page:
    """``_read_page``, through ``pages`` (a ``parsers.ParseMemo``: captures of a page export
    repeat most of its PDF pages unchanged, and pdfminer's interpreter is most of the cost of
    reading a PDF), by ``_page_key``: a copy (later steps change what they get), with its page
    number."""
    key = _page_key(page)
    if key is None:
        return _read_page(page, number)
    return _numbered(pages.read(("pdf", key), lambda: _read_page(page, number)), number)


def _numbered(p: _Page, number: int) -> _Page:
    """A copy of ``p`` as page ``number`` (later steps change the blocks and tables they get)."""
    def block(b):
        if isinstance(b, _Line):
            return replace(b, page=number)
        return replace(b, rows=list(b.rows), page=number, last_page=number, row_pages=[number] * len(b.rows))

    return _Page(number, p.height, [block(b) for b in p.blocks])


def _drop_furniture(pages: list[_Page]) -> None:
    """Remove page headers and footers: lines in the top or bottom band that recur on most pages
    (digits ignored), and page numbers."""
    def key(ln: _Line) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", ln.text))

    band: Counter = Counter()
    for p in pages:
        seen = {key(b) for b in p.blocks if isinstance(b, _Line)
                and (b.top < p.height * 0.1 or b.bottom > p.height * 0.92)}
        band.update(seen)
    repeated = {k for k, n in band.items() if len(pages) > 1 and n >= max(2, 0.6 * len(pages))}
    for p in pages:
        p.blocks = [b for b in p.blocks if not (
            isinstance(b, _Line) and (b.top < p.height * 0.1 or b.bottom > p.height * 0.92)
            and (key(b) in repeated or _PAGE_NUMBER.match(b.text.strip())))]


def _join_tables(pages: list[_Page]) -> list:
    """All blocks in order, a table that continues on the next page (same columns) joined."""
    blocks: list = []
    for p in pages:
        for i, b in enumerate(p.blocks):
            prev = blocks[-1] if blocks else None
            if (i == 0 and isinstance(b, _Table) and isinstance(prev, _Table) and prev.last_page == p.number - 1
                    and len(prev.xs) == len(b.xs) and all(abs(a - c) <= 2 for a, c in zip(prev.xs, b.xs))):
                rows = b.rows
                if rows and [c and c["html"] for c in rows[0]] == [c and c["html"] for c in prev.rows[0]]:
                    rows = rows[1:]  # the header row repeated on the new page
                prev.rows.extend(rows)
                prev.row_pages.extend([p.number] * len(rows))
                prev.last_page = p.number
                continue
            blocks.append(b)
    return blocks


def _table_html(t: _Table) -> list[tuple[str, int]]:
    """HTML lines of a table, each with the PDF page it stands on."""
    out = [("<table>", t.page)]
    for row, page in zip(t.rows, t.row_pages):
        cells = []
        for c in row:
            if c is None:
                continue
            span = (f' rowspan="{c["rowspan"]}"' if c["rowspan"] > 1 else "") + \
                   (f' colspan="{c["colspan"]}"' if c["colspan"] > 1 else "")
            cells.append(f"<td{span}>{c['html']}</td>")
        out.append(("<tr>" + "".join(cells) + "</tr>", page))
    out.append(("</table>", t.last_page))
    return out


def _to_markdown(blocks: list) -> tuple[str, list[int]]:
    """Markdown with HTML tables, and the PDF page of every output line."""
    lines = [b for b in blocks if isinstance(b, _Line)]
    sizes = Counter()
    for ln in lines:
        sizes[ln.size] += len(ln.text)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    heading_sizes = sorted({ln.size for ln in lines if ln.size >= body * 1.2}, reverse=True)
    right = max((ln.x1 for ln in lines), default=0.0)
    out: list[str] = []
    pages: list[int] = []

    def emit(text: str, page: int) -> None:
        out.append(text)
        pages.append(page)

    callout = False
    para: _Line | None = None
    for b in blocks:
        if isinstance(b, _Table):
            if para:
                emit(("> " if callout else "") + para.text, para.page)
                para = None
            callout = False
            emit("", b.page)
            for html, page in _table_html(b):
                emit(html, page)
            emit("", b.last_page)
            continue
        text = b.text.strip()
        if b.size in heading_sizes:
            if para:
                emit(("> " if callout else "") + para.text, para.page)
                para = None
            callout = False
            emit("", b.page)
            emit("#" * (heading_sizes.index(b.size) + 1) + " " + text, b.page)
            emit("", b.page)
            continue
        if re.fullmatch(r"注意\s*[:：]?", text):
            if para:
                emit(("> " if callout else "") + para.text, para.page)
                para = None
            callout = True
            emit(">!", b.page)
            continue
        if para is not None and para.x1 >= right - para.size * 2.2 and not _is_bullet(text):
            para = replace(para, text=para.text + text, x1=b.x1)
            continue
        if para:
            emit(("> " if callout else "") + para.text, para.page)
        para = b
    if para:
        emit(("> " if callout else "") + para.text, para.page)
    return "\n".join(out), pages


def _to_flat_text(blocks: list) -> tuple[str, list[int]]:
    """The text of a PDF without tables, line by line, indentation kept as spaces."""
    lines = [b for b in blocks if isinstance(b, _Line)]
    left = min((ln.x0 for ln in lines), default=0.0)
    out, pages = [], []
    for ln in lines:
        indent = int(round((ln.x0 - left) / max(ln.size, 1.0)))
        out.append(" " * indent + ln.text.strip())
        pages.append(ln.page)
    return "\n".join(out), pages


def _with_pdf_pages(doc: ParsedDocument, pages: list[int], links) -> ParsedDocument:
    def fix(span):
        page = pages[span.line_start - 1] if 0 < span.line_start <= len(pages) else None
        return replace(span, pdf_page=page)

    return replace(doc, format="pdf",
                   statements=tuple(replace(s, span=fix(s.span)) for s in doc.statements),
                   scenarios=tuple(replace(s, span=fix(s.span)) for s in doc.scenarios),
                   licenses=tuple(replace(s, span=fix(s.span)) for s in doc.licenses),
                   links=tuple(links))


#: the most pages a PDF is read for (Tencent's exports have tens)
MAX_PAGES = 1000
#: the most bytes of drawing operators one page may decompress to. pdfminer makes an object per
#: operator: a 1 MB PDF whose page decompressed to 320 MB of them grew past 18 GB in 5 minutes.
#: A page of text is tens of KB; a dense page with vector drawings a few MB.
MAX_PAGE_CONTENT_BYTES = 16 << 20


def _check_content(page, number: int, file: str) -> None:
    """Refuse a page whose content streams decompress to more than ``MAX_PAGE_CONTENT_BYTES``,
    before anything interprets them (pdfminer keeps the decoded bytes: they are not decoded
    twice)."""
    from pdfminer.pdftypes import resolve1

    contents = resolve1(page.page_obj.contents)
    streams = contents if isinstance(contents, list) else [contents]
    size = 0
    for stream in streams:
        stream = resolve1(stream)
        if hasattr(stream, "get_data"):
            size += len(stream.get_data())
        if size > MAX_PAGE_CONTENT_BYTES:
            raise ParseError(file, 1, f"PDF page {number}: its content decompresses to more than "
                                      f"{MAX_PAGE_CONTENT_BYTES >> 20} MB of drawing operators; not read")


def pdf_to_text(data: bytes, file: str, pages=None) -> tuple[str, str, list[int], list[tuple[int, str]]]:
    """(layout, text, pdf page per line, links): the text another parser reads. ``pages``: a
    ``parsers.ParseMemo`` of pages read before, or None to read every page."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        raw_pages = list(pdf.pages)
    except Exception as e:  # pdfplumber wraps pdfminer's errors: look at the cause
        causes = [e, e.__context__, e.__cause__, *(a for a in e.args if isinstance(a, BaseException))]
        if any(isinstance(c, PDFPasswordIncorrect) or "password" in type(c).__name__.lower() for c in causes if c):
            raise ParseError(file, 1, "encrypted PDF: cannot be read without its password") from None
        inner = next((c for c in causes[1:] if c), e)
        raise ParseError(file, 1, f"not a readable PDF ({type(inner).__name__}: {inner})") from None
    if len(raw_pages) > MAX_PAGES:
        pdf.close()
        raise ParseError(file, 1, f"{len(raw_pages)} pages: more than the {MAX_PAGES} a document is read for")
    try:
        for i, p in enumerate(raw_pages):
            _check_content(p, i + 1, file)
        read = _read_page if pages is None else (lambda p, n: _remembered_page(p, n, pages))
        got = [read(p, i + 1) for i, p in enumerate(raw_pages)]
        links = [(i + 1, h["uri"]) for i, p in enumerate(raw_pages) for h in p.hyperlinks if h.get("uri")]
    except ParseError:
        raise
    except Exception as e:
        raise ParseError(file, 1, f"not a readable PDF ({type(e).__name__}: {e})") from None
    finally:
        pdf.close()
    if not any(p.blocks for p in got):
        raise ParseError(file, 1, "PDF without a text layer (scanned?): no text to read")
    _drop_furniture(got)
    blocks = _join_tables(got)
    if any(isinstance(b, _Table) for b in blocks):
        text, line_pages = _to_markdown(blocks)
        return "markdown", text, line_pages, links
    text, line_pages = _to_flat_text(blocks)
    return "pdf_text", text, line_pages, links


def parse(data: bytes, file: str, pages=None) -> ParsedDocument:
    layout, text, line_pages, links = pdf_to_text(data, file, pages)
    text, removed = strip_controls(text, file)  # (a font's ToUnicode map can produce them)
    parser = markdown.parse if layout == "markdown" else pdftext.parse
    doc = _with_pdf_pages(parser(text, file, pages), line_pages, links)
    return replace(doc, warnings=(removed, *doc.warnings)) if removed else doc
