"""PDF input: the same content gives the same records as the text and Markdown parsers.

The fixtures are made by ``tests/pdf_fixtures.py`` from our own documents (reportlab, CID font
STSong-Light), afresh for every run."""
import pdfplumber
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from conftest import ROOT
from pdf_fixtures import markdown_to_pdf, text_to_pdf
from pipeline.build import parse_raw
from pipeline.core.errors import ParseError
from pipeline.parsers import markdown, pdf, pdftext
from pipeline.store import RawFile


def _strip_lines(x):
    if isinstance(x, dict):
        return {k: _strip_lines(v) for k, v in x.items() if k != "line"}
    if isinstance(x, list):
        return [_strip_lines(v) for v in x]
    return x


def _facts(doc):
    """Everything a record says, without where (line numbers differ between formats)."""
    return [(s.capability, s.category_raw, _strip_lines(s.requirement.to_dict()), s.requirement.documents,
             s.integration.method if s.integration else None, s.scope, s.scenario, s.notes, s.page,
             s.page_updated) for s in doc.statements]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("pdf")
    markdown_to_pdf((ROOT / "raw" / "001_c5ae0df2c7b8cf07.txt").read_text(), d / "001.pdf")
    text_to_pdf((ROOT / "raw" / "004_ef2bf0700b54b804.txt").read_text(), d / "004.pdf")
    return d


def test_pdf_with_ruled_tables_equals_the_markdown_source(pdfs):
    got = pdf.parse((pdfs / "001.pdf").read_bytes(), "raw/001.pdf")
    want = markdown.parse((ROOT / "raw" / "001_c5ae0df2c7b8cf07.txt").read_text(), "raw/001.txt")
    assert _facts(got) == _facts(want) and len(got.statements) == 31


def test_flowing_text_pdf_equals_the_text_export(pdfs):
    got = pdf.parse((pdfs / "004.pdf").read_bytes(), "raw/004.pdf")
    want = pdftext.parse((ROOT / "raw" / "004_ef2bf0700b54b804.txt").read_text(), "raw/004.txt")
    assert _facts(got) == _facts(want) and len(got.statements) == 26
    assert [(s.scenario, s.content, s.requirements, s.solutions) for s in got.scenarios] == \
           [(s.scenario, s.content, s.requirements, s.solutions) for s in want.scenarios]
    assert [(l.business, l.licence, l.authority) for l in got.licenses] == \
           [(l.business, l.licence, l.authority) for l in want.licenses]


def test_page_numbers_in_provenance_point_at_the_right_page(pdfs):
    data = (pdfs / "001.pdf").read_bytes()
    got = pdf.parse(data, "raw/001.pdf")
    with pdfplumber.open(pdfs / "001.pdf") as doc:
        texts = [p.dedupe_chars().extract_text() for p in doc.pages]
    assert len({s.span.pdf_page for s in got.statements}) > 3
    for s in got.statements:
        assert s.category_raw[-1] in texts[s.span.pdf_page - 1].replace("\n", ""), s.category_raw


def test_furniture_links_and_fake_bold(pdfs):
    layout, text, pages, links = pdf.pdf_to_text((pdfs / "004.pdf").read_bytes(), "raw/004.pdf")
    assert layout == "pdf_text" and len(pages) == len(text.split("\n"))
    assert "文档中心" not in text and "第 1 页" not in text, "header and page numbers dropped"
    assert "类目申请资质要求" in text and "类类目目" not in text, "fake-bold glyphs deduplicated"
    assert "https://" not in text and ("https://cloud.tencent.com/document/product/454/12554" in {u for _, u in links})
    expected = [l.strip() for l in (ROOT / "raw" / "004_ef2bf0700b54b804.txt").read_text().split("\n")
                if l.strip() and not l.strip().startswith("https://")]
    assert [l.strip() for l in text.split("\n") if l.strip()] == expected


def test_table_continuing_over_a_page_break_is_joined(tmp_path):
    rows = "".join(f"<tr><td>金融</td><td>类目{i}</td><td>（2选1）：<br>1、《甲证{i}》<br>2、《乙证{i}》</td></tr>\n"
                   for i in range(70))
    md = ("**以下行业支持人脸核验：**\n\n<table>\n<tr><th>一级类目</th><th>二级类目</th><th>使用人脸核验接口所需资质</th></tr>\n"
          + rows + "</table>\n")
    markdown_to_pdf(md, tmp_path / "long.pdf")
    with pdfplumber.open(tmp_path / "long.pdf") as doc:
        assert len(doc.pages) >= 2
    got = pdf.parse((tmp_path / "long.pdf").read_bytes(), "raw/long.pdf")
    assert [s.category_raw[-1] for s in got.statements] == [f"类目{i}" for i in range(70)]
    assert all(s.requirement.options == 2 for s in got.statements)
    assert got.statements[-1].span.pdf_page >= 2


def test_pdf_through_the_build_records_format_links_and_pages(pdfs):
    doc, info = parse_raw(RawFile("raw/004.pdf", pdfs / "004.pdf", (pdfs / "004.pdf").read_bytes()))
    assert (info.format, info.encoding) == ("pdf", "pdf") and doc.links


def test_a_pdf_page_seen_before_is_read_as_afresh(tmp_path):
    """Pages are remembered by a digest of what their reading depends on: a PDF whose pages
    were all seen before, or that differs from one in a single page, reads exactly as afresh,
    and a changed page is never taken for the page it replaced."""
    text = (ROOT / "raw" / "004_ef2bf0700b54b804.txt").read_text()
    text_to_pdf(text, tmp_path / "a.pdf")
    # the same page export with the scenario page's first scenario renamed
    text_to_pdf(text.replace("场景1：政府主体账号", "场景1：政府机关账号"), tmp_path / "b.pdf")
    a, b = (tmp_path / "a.pdf").read_bytes(), (tmp_path / "b.pdf").read_bytes()

    from pipeline.parsers import ParseMemo

    want_a, want_b = pdf.parse(a, "raw/a.pdf"), pdf.parse(b, "raw/b.pdf")
    assert want_b.scenarios[0].scenario == "场景1：政府机关账号" != want_a.scenarios[0].scenario
    pages = ParseMemo()
    assert pdf.parse(a, "raw/a.pdf", pages) == want_a
    remembered = pages.remembered()["pdf_pages"]
    assert pdf.parse(a, "raw/a.pdf", pages) == want_a and pages.remembered()["pdf_pages"] == remembered
    assert pdf.parse(b, "raw/b.pdf", pages) == want_b
    assert pages.remembered()["pdf_pages"] == remembered + 1, "only the changed page is read again"


def _encrypted(path):
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), encrypt="secret", invariant=1)
    c.drawString(72, 720, "secret")
    c.save()


def _blank(path):
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(str(path), invariant=1)
    c.rect(72, 72, 100, 100)
    c.save()


@pytest.mark.parametrize("make,message", [
    (_encrypted, "encrypted PDF"),
    (lambda p: p.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n%%EOF\n"), "not a readable PDF"),
    (lambda p: p.write_bytes((ROOT / "tests" / "fixtures" / "pdf" / "004-flowing-text.pdf").read_bytes()[:3000]),
     "not a readable PDF"),
    (_blank, "without a text layer"),
])
def test_unreadable_pdfs_are_one_clear_error(tmp_path, make, message):
    path = tmp_path / "x.pdf"
    make(path)
    with pytest.raises(ParseError) as e:
        parse_raw(RawFile("raw/x.pdf", path, path.read_bytes()))
    assert str(e.value).startswith("raw/x.pdf:1: ") and message in str(e.value), str(e.value)


def test_cjk_punctuation_width_never_becomes_a_space():
    def ch(text, x0, width=9.0):
        return {"text": text, "x0": x0, "x1": x0 + width, "top": 100.0, "bottom": 109.0, "size": 9.0}
    # a full-width comma draws its glyph at the left of a 9 pt box: the next character starts
    # a full em later than the comma's ink would suggest
    row = [ch("许", 10), ch("可", 19), ch("，", 28, 3.0), ch("且", 37), ch("A", 46, 5), ch("B", 55, 5)]
    (line,) = pdf._chars_to_lines(row, 1)
    assert line.text == "许可，且A B"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(*[st.integers(0, 40)] * 4), max_size=60), st.tuples(*[st.integers(0, 40)] * 4))
def test_characters_found_by_height_are_those_inside_the_box(boxes, cell):
    chars = [{"x0": a, "x1": a + b / 4, "top": c, "bottom": c + d / 4} for a, b, c, d in boxes]
    bbox = (cell[0], cell[1], cell[0] + cell[2], cell[1] + cell[3])
    assert pdf._ByHeight(chars).inside(bbox) == [c for c in chars if pdf._inside(c, bbox)]
