"""Text extracted from a PDF export of one or more doc pages.

Besides the flat layout of a web copy, the extraction breaks cells over lines at the column
width, lists each page's link targets as bare URLs at page breaks, and moves the
"具备…进行接入" sentences away from their sections; ``flat`` handles all three when
``wrapped`` is on.
"""
from __future__ import annotations

from pipeline.core.model import ParsedDocument
from pipeline.parsers.flat import parse_document


def parse(text: str, file: str, memo=None) -> ParsedDocument:
    return parse_document(text, file, fmt="pdf_text", wrapped=True, memo=memo)
