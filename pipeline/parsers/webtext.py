"""A page copied from the web as plain text: one line per heading or table cell.

The copy keeps headings, the "具备…进行接入" sentence and the table cells in order, but a web
copy loses list items (the 资质要求 of most categories arrive as a bare ``(3选1):``); those
become records with ``items_missing`` rather than guesses.
"""
from __future__ import annotations

from pipeline.core.model import ParsedDocument
from pipeline.parsers.flat import parse_document


def parse(text: str, file: str, memo=None) -> ParsedDocument:
    return parse_document(text, file, fmt="web_text", wrapped=False, memo=memo)
