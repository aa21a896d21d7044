"""Which parser reads a document: decided from its bytes and text, never from its name."""
from __future__ import annotations

import codecs
import re
from enum import Enum

from pipeline.parsers import patterns
from pipeline.core.errors import ParseError
from pipeline.parsers.htmltable import is_pipe_table
from pipeline.core.normalize import lines_containing
from pipeline.parsers import columns, flat


class Format(str, Enum):
    MARKDOWN = "markdown"
    WEB_TEXT = "web_text"
    PDF_TEXT = "pdf_text"
    COLUMN_TEXT = "column_text"
    PDF = "pdf"


_TABLE = re.compile(r"<table\b", re.IGNORECASE)
_HEADER_ONE_LINE = re.compile(r"要求\s+说明")
_SPACES = re.compile(r"\s+")
#: a Markdown heading line (``## 前提条件``): a Markdown capture, even one without any table
_MD_HEADING = re.compile(r"^#{1,6}\s+\S", re.MULTILINE)


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_ZERO_WIDTH_RE = re.compile("[" + "".join(map(chr, _ZERO_WIDTH)) + "]")


def _reads_as_text(text: str) -> bool:
    """Mostly CJK, ASCII and punctuation, no control characters: a decode that makes sense."""
    if not text:
        return False
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r") or 0xE000 <= ord(c) <= 0xF8FF)
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return bad == 0 and cjk >= max(1, len(text.strip()) // 20)


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Bytes -> (text with ``\\n`` line ends, encoding name).

    UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised by their bytes. Text that is
    not UTF-8 is tried as GB18030 (which covers GBK and GB2312) and kept only if it reads as
    Chinese text; anything else is rejected at the line of the first byte that is not UTF-8, so
    no mojibake ever reaches the dataset. Zero-width characters are dropped; line ends become
    ``\\n`` (CRLF and CR alike), so line numbers are those an editor shows.
    """
    if not data.strip():
        raise ParseError(file, 1, "file is empty")
    if data.startswith(codecs.BOM_UTF8):
        try:
            text, enc = data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as e:
            raise _bad_utf8(data, e, file, len(codecs.BOM_UTF8)) from None
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, enc = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise ParseError(file, 1, f"starts with a UTF-16 byte order mark but is not UTF-16 ({e.reason})") from None
    elif b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise ParseError(file, line, "binary content (NUL byte): not a text document")
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as e:
            try:
                text, enc = data.decode("gb18030"), "gb18030"
            except UnicodeDecodeError:
                raise _bad_utf8(data, e, file, 0) from None
            if not _reads_as_text(text):
                raise _bad_utf8(data, e, file, 0) from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ParseError(file, line, "binary content (NUL byte): not a text document")
    if _ZERO_WIDTH_RE.search(text):  # translate copies the whole text; most have none
        text = text.translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError(file, 1, "file holds no text")
    return text, enc


def _bad_utf8(data: bytes, e: UnicodeDecodeError, file: str, skip: int) -> ParseError:
    at = e.start + skip
    line = data[:at].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    return ParseError(file, line, f"cannot decode: byte 0x{data[at]:02x} at offset {at} is not UTF-8, "
                                  f"and the file is not GB18030 text either")


def detect_format(data: bytes, text: str | None) -> Format | None:
    """The layout of a document, from what it contains."""
    if data.startswith(b"%PDF"):
        return Format.PDF
    if text is None:
        return None
    if _TABLE.search(text):
        return Format.MARKDOWN
    lines = text.split("\n")
    # a Markdown pipe table: a row, then its ``|----|----|`` delimiter row
    if "|" in text and any(is_pipe_table(lines, i) for i in range(len(lines) - 1) if "|" in lines[i]):
        return Format.MARKDOWN
    # a column header names a 资质 column (``header_columns``); most lines do not say 资质
    if any(columns.header_columns(lines[i]) for i in lines_containing(lines, "资质", text)):
        return Format.COLUMN_TEXT
    # two link lines in a row (a link line says http or www.: most lines are not tried)
    links = {i for i, ln in enumerate(lines) if ("http" in ln or "www." in ln) and patterns.URL_LINE.match(ln)}
    url_run = any(i + 1 in links for i in links)
    # the substring tests first: most lines are neither header
    header_one_line = any(_HEADER_ONE_LINE.fullmatch(ln.strip()) for ln in lines if "说明" in ln)
    header_two_lines = any(_SPACES.sub("", a) == "要求" and _SPACES.sub("", b) == "说明"
                           for a, b in zip(lines, lines[1:]) if "要求" in a)
    if url_run or header_one_line:
        return Format.PDF_TEXT
    if header_two_lines:
        return Format.WEB_TEXT
    flat_lines = flat.to_lines(lines)
    if any(patterns.SCENARIO_HEADING.match(ln.text) for ln in flat_lines) or \
            any(patterns.LICENCE_SENTENCE.search(ln.text) for ln in flat_lines):
        return Format.PDF_TEXT
    # last: a Markdown page whose revision has no table (its parser then says nothing is
    # readable, and the capture is still a version of its page); text without any layout stays
    # an error
    if _MD_HEADING.search(text):
        return Format.MARKDOWN
    return None
