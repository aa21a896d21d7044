"""The build's parse memo (``parsers.ParseMemo``) changes nothing that is read: each document
parsed through one memo shared with every document before it reads exactly as it does afresh,
also when the same text stands lower in another file (lines moved, file renamed)."""
from __future__ import annotations

import dataclasses

import pytest

from pipeline import parsers, store
from pipeline.core.model import Line
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
