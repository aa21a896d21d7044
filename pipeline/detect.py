"""Which parser reads a document: decided from its bytes and text, never from its name."""
from __future__ import annotations

import codecs
import re
from enum import Enum

from pipeline import patterns
from pipeline.errors import ParseError
from pipeline.parsers import columns, flat


class Format(str, Enum):
    MARKDOWN = "markdown"
    WEB_TEXT = "web_text"
    PDF_TEXT = "pdf_text"
    COLUMN_TEXT = "column_text"
    PDF = "pdf"


_TABLE = re.compile(r"<table\b", re.IGNORECASE)


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Bytes -> (text with ``\\n`` line ends, encoding name).

    UTF-8 (with or without BOM) and UTF-16 with BOM are recognised by their bytes; anything
    else must decode as UTF-8, or the file is rejected at the line of the first bad byte.
    """
    if not data.strip():
        raise ParseError(file, 1, "file is empty")
    if data.startswith(codecs.BOM_UTF8):
        text, enc = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, enc = data.decode("utf-16"), "utf-16"
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as e:
            line = data[:e.start].count(b"\n") + 1
            raise ParseError(file, line, f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise ParseError(file, line, "binary content (NUL byte): not a text document")
    return text.replace("\r\n", "\n").replace("\r", "\n"), enc


def detect_format(data: bytes, text: str | None) -> Format | None:
    """The layout of a document, from what it contains."""
    if data.startswith(b"%PDF"):
        return Format.PDF
    if text is None:
        return None
    if _TABLE.search(text):
        return Format.MARKDOWN
    lines = text.split("\n")
    if any(columns.header_columns(ln) for ln in lines if ln.strip()):
        return Format.COLUMN_TEXT
    url_run = any(patterns.URL_LINE.match(a) and patterns.URL_LINE.match(b)
                  for a, b in zip(lines, lines[1:]))
    folded = [re.sub(r"\s+", "", ln) for ln in lines]
    header_one_line = any(re.fullmatch(r"要求\s+说明", ln.strip()) for ln in lines)
    header_two_lines = any(a == "要求" and b == "说明" for a, b in zip(folded, folded[1:]))
    if url_run or header_one_line:
        return Format.PDF_TEXT
    if header_two_lines:
        return Format.WEB_TEXT
    flat_lines = flat.to_lines(text)
    if any(patterns.SCENARIO_HEADING.match(ln.text) for ln in flat_lines) or \
            any(patterns.LICENCE_SENTENCE.search(ln.text) for ln in flat_lines):
        return Format.PDF_TEXT
    return None
