"""The build's parse memo (``parsers.ParseMemo``) changes nothing that is read: each document
parsed through one memo shared with every document before it reads exactly as it does afresh,
also when the same text stands lower in another file (lines moved, file renamed)."""
from __future__ import annotations

import dataclasses

import pytest

from pipeline import parsers, store
from pipeline.core.model import Line
from pipeline.parsers.htmltable import read_tables
from pipeline.parsers.rules import lines_to_requirement

from conftest import ROOT, SHARED


def _documents() -> list[tuple[str, bytes, str | None]]:
    dirs = [ROOT / "raw"] + [d for d in (SHARED / "tencent-history", SHARED / "corpus") if d.is_dir()]
    refs, _ = store.list_raw(dirs)
    hashes = store.hash_files(refs)
    out = []
    for ref in refs:
        raw = ref.read(hashes[ref.display])
        if not raw.data.startswith(b"%PDF"):  # (PDF pages remembered: test_pdf; their text is read here alike)
            out.append((raw.display, raw.data, dict(raw.metadata).get("format")))
    return out


def _parsed(data: bytes, file: str, fmt: str | None, memo=None):
    try:
        return parsers.parse(data, file, fmt, memo)
    except Exception as e:  # noqa: BLE001 (a document that does not parse must fail alike both ways)
        return repr(e)


def test_every_document_reads_the_same_through_a_shared_memo():
    memo = parsers.ParseMemo()
    docs = _documents()
    assert len(docs) >= 5
    for file, data, fmt in docs:
        assert _parsed(data, file, fmt, memo) == _parsed(data, file, fmt), file
    # the same texts again, lower down in other files: every remembered result is moved (a
    # third of the documents, every format among them: the test stays quick)
    for file, data, fmt in docs[::3]:
        moved, name = b"\n\n\n" + data, file.replace("/", "/moved-", 1)
        assert _parsed(moved, name, fmt, memo) == _parsed(moved, name, fmt), file


def test_a_remembered_requirement_is_moved_to_its_new_lines():
    memo = parsers.ParseMemo()
    lines = [Line("（2选1）", 10), Line("1. 《营业执照》", 11), Line("2. 《许可证》", 12)]
    first = lines_to_requirement(lines, memo=memo)
    moved = [dataclasses.replace(ln, line=ln.line + 30) for ln in lines]
    again = lines_to_requirement(moved, memo=memo)
    assert again == lines_to_requirement(moved)
    assert [i.line for i in again.items] == [i.line + 30 for i in first.items] == [41, 42]


@pytest.mark.parametrize("text", ["1. 《营业执照》（适用于", "1. 《网络文化经营许可证）\n2. 《许可证》"])
def test_a_remembered_requirement_with_a_warning_names_its_own_line(text):
    memo = parsers.ParseMemo()
    lines = [Line(t, 5 + i) for i, t in enumerate(text.split("\n"))]
    lines_to_requirement(lines, memo=memo)
    moved = [dataclasses.replace(ln, line=ln.line + 100) for ln in lines]
    got = lines_to_requirement(moved, memo=memo)
    assert got == lines_to_requirement(moved)
    assert got.warnings and all("line 5" not in str(w) for w in got.warnings)


_TABLE = "<table>\n<tr><th>要求</th><th>说明</th></tr>\n<tr><td>资质要求</td><td>（2选1）<br>1、《营业执照》<br>2、《许可证》</td></tr>\n</table>"


def test_a_remembered_table_is_moved_to_its_new_lines():
    memo = parsers.ParseMemo()
    first = read_tables(_TABLE, 3, memo)
    again = read_tables(_TABLE, 40, memo)
    assert memo.remembered()["tables"] == 1
    assert again == read_tables(_TABLE, 40) != first
    cell = again[0].rows[1].cells[1]
    assert [ln.line for ln in cell.lines] == [ln.line + 37 for ln in first[0].rows[1].cells[1].lines]
    assert cell.text == read_tables(_TABLE, 40)[0].rows[1].cells[1].text


def test_a_remembered_table_with_a_warning_is_read_again_elsewhere():
    html = "<table>\n<tr><th>要求</th><th>说明</th></tr>\n<td>资质要求</td><td>《营业执照》</td>\n</table>"
    memo = parsers.ParseMemo()
    (first,) = read_tables(html, 1, memo)
    (moved,) = read_tables(html, 21, memo)
    assert first.warnings and moved == read_tables(html, 21)[0]
    assert [w.line for w in moved.warnings] == [w.line + 20 for w in first.warnings]


def test_a_pure_function_is_remembered_per_memo_and_bounded():
    calls = []

    def shout(text):
        calls.append(text)
        return text.upper()

    memo = parsers.ParseMemo(texts=2)
    loud = memo.pure(shout)
    assert memo.pure(shout) is loud
    assert [loud("a"), loud("a"), loud("b"), loud("c"), loud("a")] == ["A", "A", "B", "C", "A"]
    assert calls == ["a", "b", "c", "a"]  # (full at "c": everything forgotten, "a" read again)
    assert parsers.ParseMemo().pure(shout)("a") == "A" and calls[-1] == "a" and len(calls) == 5


def test_a_page_whose_lines_are_remembered_reads_as_afresh_when_its_sections_change():
    """Each window of lines is remembered (``ParseMemo.pure``): a version of a page with a
    section moved and another's count changed reads exactly as it does afresh."""
    seed = (ROOT / "raw" / "002_ff5f8a7ab923942f.txt").read_text("utf-8")
    memo = parsers.ParseMemo()
    parsers.parse(seed.encode(), "raw/a.txt", "web_text", memo)
    edited = seed.replace("(二选一)", "(三选一)", 1)
    blocks = edited.split("\n\n")
    edited = "\n\n".join(blocks[:3] + blocks[4:5] + blocks[3:4] + blocks[5:])
    assert edited != seed
    got = parsers.parse(edited.encode(), "raw/b.txt", "web_text", memo)
    assert got == parsers.parse(edited.encode(), "raw/b.txt", "web_text")
    assert memo.remembered()["texts"] > 0


# --- sections remembered by their lines (Markdown: ``markdown._scan``) ----------------------

_MD = (ROOT / "raw" / "001_c5ae0df2c7b8cf07.txt").read_text("utf-8")


def _md(text: str, file: str, memo=None):
    return parsers.parse(text.encode(), file, "markdown", memo).doc


def test_remembered_markdown_sections_placed_lower_read_as_afresh():
    memo = parsers.ParseMemo()
    _md(_MD, "raw/a.md", memo)
    kept = memo.remembered()["sections"]
    moved = "\n\n\n" + _MD
    got = _md(moved, "raw/b.md", memo)
    assert got == _md(moved, "raw/b.md")
    assert got.statements[0].span.file == "raw/b.md"
    # only the lines above the first heading (and what their tables give) are read again
    assert memo.remembered()["sections"] - kept <= 3 < kept


def test_a_remembered_markdown_section_with_a_warning_is_read_afresh_elsewhere():
    # a table not closed before the next heading: read up to it, with a warning naming its line
    text = _MD.replace("## 社交 - 直播\n", "<table>\n<tr><td>备注</td><td>无</td></tr>\n\n## 社交 - 直播\n", 1)
    memo = parsers.ParseMemo()
    first = _md(text, "raw/a.md", memo)
    assert any(w.kind == "table_not_closed" for w in first.warnings)
    moved = "\n\n" + text
    got = _md(moved, "raw/a.md", memo)
    assert got == _md(moved, "raw/a.md")
    line = next(w.line for w in first.warnings if w.kind == "table_not_closed")
    assert [w.line for w in got.warnings if w.kind == "table_not_closed"] == [line + 2]


@pytest.mark.parametrize("old, new", [
    ("## 教育\n", "## 教育培训\n"),          # the heading above: every section's path under it
    ("## 医疗\n", "### 医疗\n"),             # a heading's level: which sections are its children
])
def test_a_remembered_markdown_section_under_other_headings_is_read_for_them(old, new):
    memo = parsers.ParseMemo()
    _md(_MD, "raw/a.md", memo)
    text = _MD.replace(old, new, 1)
    assert text != _MD
    assert _md(text, "raw/b.md", memo) == _md(text, "raw/b.md")
    # lower down too: the sections are remembered, moved, their drafts read again for their
    # new paths (their tables moved only then)
    memo = parsers.ParseMemo()
    _md(_MD, "raw/a.md", memo)
    moved = "\n\n" + text
    assert _md(moved, "raw/c.md", memo) == _md(moved, "raw/c.md")


def test_a_remembered_markdown_section_on_a_page_with_another_title_is_read_for_it():
    """The title names every section's part and is no category level."""
    memo = parsers.ParseMemo()
    titled = "# 小程序直播类目\n" + _MD
    _md(titled, "raw/a.md", memo)
    for text in ("# 小程序直播类目要求\n" + _MD, _MD):
        assert _md(text, "raw/b.md", memo) == _md(text, "raw/b.md")


# --- runs of a flat page remembered by what they read (``flat._Sections._remembered_run``) ---

_WEB = (ROOT / "raw" / "002_ff5f8a7ab923942f.txt").read_text("utf-8")


def _web(text: str, file: str, memo=None):
    return parsers.parse(text.encode(), file, "web_text", memo).doc


def test_remembered_flat_runs_placed_lower_read_as_afresh():
    memo = parsers.ParseMemo()
    _web(_WEB, "raw/a.txt", memo)
    kept = memo.remembered()["runs"]
    # the first section changed (its count) and three lines more above it: the rest is moved
    text = _WEB.replace("(二选一)", "(三选一)", 1).replace("我的收藏\n", "我的收藏\n\n\n\n", 1)
    got = _web(text, "raw/b.txt", memo)
    assert got == _web(text, "raw/b.txt")
    # read again: the lines above the first section and that section (their lines changed),
    # and the two sections that warn (no requirement table): a warning is never moved
    assert memo.remembered()["runs"] - kept == 4 < kept


def test_a_remembered_flat_run_with_a_warning_is_read_afresh_elsewhere():
    # a requirement whose bracket is not closed: its warning names its line
    text = _WEB.replace("(3选1):\n", "(3选1):\n1、《网络文化经营许可证)\n", 1)
    memo = parsers.ParseMemo()
    first = _web(text, "raw/a.txt", memo)
    assert any("line" in str(w) for st in first.statements for w in st.warnings)
    moved = text.replace("我的收藏\n", "我的收藏\n\n\n", 1)
    assert _web(moved, "raw/a.txt", memo) == _web(moved, "raw/a.txt")


def test_a_remembered_flat_run_on_a_page_whose_sentences_differ_is_read_for_it():
    """Whether ``教育`` heads ``在线视频课程`` depends on what every sentence of the page names:
    one far below that names 医疗-在线视频课程 says it does not."""
    memo = parsers.ParseMemo()
    _web(_WEB, "raw/a.txt", memo)
    other = _WEB.rstrip("\n") + "\n具备医疗-在线视频课程类目,可使用 小程序·云直播插件 进行接入。\n"
    got = _web(other, "raw/b.txt", memo)
    assert got == _web(other, "raw/b.txt")
    paths = {st.category_raw for st in got.statements if st.category_raw[-1] == "在线视频课程"}
    assert paths != {st.category_raw for st in _web(_WEB, "raw/a.txt").statements
                     if st.category_raw[-1] == "在线视频课程"}


def test_a_remembered_flat_run_is_checked_past_where_it_stopped():
    """A run stops at a heading because of the lines below it (a ``要求 说明`` header): those
    lines are part of what it read."""
    sentence = "具备社交-直播类目,可使用微信原生组件标签 <live-pusher><live-player> 进行接入。\n"
    base = _WEB.replace(sentence, "", 1)
    assert base != _WEB
    memo = parsers.ParseMemo()
    _web(base, "raw/a.txt", memo)
    other = base.replace("社交 - 直播\n\n要求\n", "社交 - 直播\n\n要 求 x\n", 1)
    assert other != base
    assert _web(other, "raw/b.txt", memo) == _web(other, "raw/b.txt")
