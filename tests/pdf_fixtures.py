"""PDF fixtures made from our own documents, so the PDF parser can be compared with the text
parsers on the same content. ``python tests/pdf_fixtures.py`` rebuilds them into
``tests/fixtures/pdf/``; the tests build them afresh in a temporary folder.

Both renderings carry the traps real exports have: a header and a page number on every page,
fake-bold titles (each glyph drawn twice, slightly offset), link annotations instead of visible
URLs, and cells whose text wraps. ``invariant=1`` makes reportlab's output byte-stable.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.parsers.htmltable import read_tables  # noqa: E402

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
#: STSong-Light draws no glyph for U+00B7 (·) or U+2022 (•): draw U+30FB (・), which
#: pdfplumber reads back as ·, and ● for list bullets.
DRAWN = str.maketrans({"·": "・"})
BULLET = "● "
HEADER = "腾讯云 · 文档中心"
URL = re.compile(r"^\s*https?://\S+\s*$")
MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)[^)]*\)")


def _furniture(canvas, doc_or_page) -> None:
    page = canvas.getPageNumber()
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawString(20 * mm, A4[1] - 12 * mm, HEADER.translate(DRAWN))
    canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"第 {page} 页")
    canvas.restoreState()


def _fake_bold(canvas, x: float, y: float, text: str) -> None:
    """What some exporters do for bold: draw every glyph twice, a fraction of a point apart."""
    canvas.drawString(x, y, text.translate(DRAWN))
    canvas.drawString(x + 0.3, y, text.translate(DRAWN))


def text_to_pdf(text: str, path: Path, *, lines_per_page: int = 64) -> None:
    """A flowing-text page like the export behind 004: one PDF line per text line, indentation
    kept, bare URL lines turned into link annotations, titles in fake bold."""
    from reportlab.pdfgen import canvas as pdfcanvas

    c = pdfcanvas.Canvas(str(path), pagesize=A4, invariant=1)
    size, lead, left = 8, 11, 20 * mm
    top = A4[1] - 22 * mm
    lines = text.split("\n")
    y, count = top, 0
    for i, line in enumerate(lines):
        if URL.match(line):
            c.linkURL(line.strip(), (left, y - 2, left + 200, y + 8), relative=0)
            continue
        if count == lines_per_page:
            _furniture(c, None)
            c.showPage()
            y, count = top, 0
        c.setFont(FONT, size)
        stripped = line.strip()
        if stripped:
            x = left + size * (len(line) - len(line.lstrip(" ")))
            title = i + 1 < len(lines) and lines[i + 1].startswith("最近更新时间")
            if title:
                _fake_bold(c, x, y, stripped)
            else:
                c.drawString(x, y, stripped.translate(DRAWN))
        y -= lead
        count += 1
    _furniture(c, None)
    c.save()


class _Heading(Flowable):
    def __init__(self, text: str, size: float):
        super().__init__()
        self.text, self.size = text, size

    def wrap(self, avail_width, avail_height):
        return avail_width, self.size * 1.6

    def draw(self):
        self.canv.setFont(FONT, self.size)
        _fake_bold(self.canv, 0, self.size * 0.4, self.text)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(DRAWN)


def _inline(text: str) -> str:
    """Markdown inline -> reportlab markup: links become link annotations, the rest is escaped."""
    out, last = [], 0
    for m in MD_LINK.finditer(text):
        out.append(_esc(text[last:m.start()]))
        out.append(f'<link href="{_esc(m.group(2))}">{_esc(m.group(1))}</link>')
        last = m.end()
    out.append(_esc(text[last:]))
    return "".join(out).replace("**", "")


def markdown_to_pdf(md: str, path: Path) -> None:
    """A Markdown page with HTML tables rendered as a PDF with real table borders: headings in
    fake bold at larger sizes, ``>`` callouts as a 注意 box, table cells wrapping at the column
    width, list items with bullets indented by depth."""
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=12, wordWrap="CJK")
    note = ParagraphStyle("note", parent=body, leftIndent=12)
    story: list = []
    lines = md.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            story.append(_Heading(MD_LINK.sub(r"\1", m.group(2)).strip(), {1: 18, 2: 15, 3: 12}.get(len(m.group(1)), 11)))
            i += 1
            continue
        if "<table" in line:
            j = i
            while "</table>" not in lines[j]:
                j += 1
            story.append(_table("\n".join(lines[i:j + 1]), cell))
            story.append(Spacer(1, 6))
            i = j + 1
            continue
        if line.startswith(">"):
            notes = []
            while i < len(lines) and lines[i].startswith(">"):
                t = re.sub(r"^\s*(?:[-*]\s+|\d+[.、]\s*)", "", lines[i].lstrip(">").lstrip("!").strip())
                if t:
                    notes.append(t)
                i += 1
            if notes:
                story.append(Paragraph("注意", body))
                story += [Paragraph(_inline(n), note) for n in notes]
            continue
        text = re.sub(r"^\s*[-*]\s+", "", line).strip()
        if text:
            story.append(Paragraph(_inline(text), body))
        i += 1
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                            topMargin=20 * mm, bottomMargin=18 * mm, invariant=1)
    doc.build(story, onFirstPage=_furniture, onLaterPages=_furniture)


def _table(html: str, style: ParagraphStyle) -> Table:
    (t,) = read_tables(html)
    width = max(sum(c.colspan for c in r.cells if not c.carried) + sum(1 for c in r.cells if c.carried)
                for r in t.rows)
    grid = [["" for _ in range(width)] for _ in t.rows]
    spans = []
    taken = [[False] * width for _ in t.rows]
    for ri, row in enumerate(t.rows):
        col = 0
        for c in row.cells:
            if c.carried:
                continue
            while col < width and taken[ri][col]:
                col += 1
            if col >= width:
                break
            # one paragraph per line; list items get a bullet and 12 pt of indent per level
            grid[ri][col] = [Paragraph((BULLET if ln.bullet else "") + _esc(ln.text),
                                       ParagraphStyle(f"d{ln.depth}", parent=style, leftIndent=12 * max(0, ln.depth - 1)))
                             for ln in c.lines] or ""
            for dr in range(c.rowspan):
                for dc in range(c.colspan):
                    if ri + dr < len(t.rows) and col + dc < width:
                        taken[ri + dr][col + dc] = True
            if c.rowspan > 1 or c.colspan > 1:
                spans.append(("SPAN", (col, ri), (col + c.colspan - 1, min(len(t.rows) - 1, ri + c.rowspan - 1))))
            col += c.colspan
    avail = A4[0] - 40 * mm
    first = avail * 0.2 if width > 1 else avail
    widths = [first] + [(avail - first) / (width - 1)] * (width - 1) if width > 1 else [avail]
    table = Table(grid, colWidths=widths, repeatRows=0)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")] + spans))
    return table


if __name__ == "__main__":
    out = ROOT / "tests" / "fixtures" / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    markdown_to_pdf((ROOT / "raw" / "001_c5ae0df2c7b8cf07.txt").read_text(), out / "001-rendered-with-borders.pdf")
    text_to_pdf((ROOT / "raw" / "004_ef2bf0700b54b804.txt").read_text(), out / "004-flowing-text.pdf")
    print("written", *sorted(p.name for p in out.iterdir()))
