"""One module per input format; each exposes ``parse(text, file) -> ParsedDocument``."""
from __future__ import annotations

from typing import Callable

from pipeline.model import ParsedDocument
from pipeline.parsers import columns, markdown, pdftext, webtext

#: format name -> parser. PDF bytes are turned into text before one of these runs.
PARSERS: dict[str, Callable[[str, str], ParsedDocument]] = {
    "markdown": markdown.parse,
    "web_text": webtext.parse,
    "pdf_text": pdftext.parse,
    "column_text": columns.parse,
}
