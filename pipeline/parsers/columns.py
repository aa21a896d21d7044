"""Plain text with a category table written one row per line, columns separated by spaces.

WeChat's 微信人脸核身 developer doc ends with an appendix like::

    一级类目 二级类目 三级类目 使用微信人脸核身能力所需资质
    物流服务 收件/派件 / 《快递业务经营许可证》

The header row names the columns; every level column holds one word (``/`` = no such level),
the last column is the rest of the line. A line that does not have enough columns continues
the row above.
"""
from __future__ import annotations

import re

from pipeline.parsers import headers, patterns
from pipeline.core.errors import ParseError, PipelineWarning, warning
from pipeline.core.model import Page, ParsedDocument, Span, Statement
from pipeline.core.normalize import clean
from pipeline.parsers.rules import text_to_requirement
from pipeline.parsers.sections import detect_capability

_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*$")


def header_columns(text: str) -> list[str] | None:
    """``['level1', 'level2', 'level3', 'requirement']`` for a header line, else None."""
    tokens = clean(text).split(" ")
    if len(tokens) < 3:
        return None
    roles = headers.column_roles(tokens)
    if len(roles) != len(tokens) or roles.get(len(tokens) - 1) != "requirement" \
            or not all(r.startswith("level") for i, r in roles.items() if i < len(tokens) - 1):
        return None
    return [roles[i] for i in range(len(tokens))]


def parse(text: str, file: str, memo=None) -> ParsedDocument:
    lines = text.split("\n")
    statements: list[Statement] = []
    warnings: list[PipelineWarning] = []
    heading = None
    title = None
    i = 0
    while i < len(lines):
        m = _HEADING.match(lines[i].strip())
        if m:
            heading = clean(m.group("text"))
            title = title or heading
        roles = header_columns(lines[i]) if lines[i].strip() else None
        if not roles:
            i += 1
            continue
        capability = detect_capability(lines[i]) or detect_capability(text)
        if capability is None:
            raise ParseError(file, i + 1, "cannot tell which capability the table is about")
        n = len(roles) - 1
        rows: list[tuple[int, int, list[str], str]] = []
        i += 1
        while i < len(lines):
            raw = clean(lines[i])
            if not raw:
                i += 1
                if rows and i < len(lines) and not clean(lines[i]):
                    break
                continue
            if _HEADING.match(lines[i].strip()):
                break
            parts = raw.split(" ", n)
            if len(parts) <= n:
                if not rows:
                    raise ParseError(file, i + 1, f"table row has {len(parts)} columns, expected {n + 1}")
                no, _, levels, req = rows[-1]
                rows[-1] = (no, i + 1, levels, req + raw)
                warnings.append(warning("continued_row", "line continues the table row above", file, i + 1))
            else:
                rows.append((i + 1, i + 1, parts[:n], parts[n]))
            i += 1
        for start, end, levels, req in rows:
            names = [lv for lv in levels if not patterns.NONE_TEXT.match(lv)]
            if not names:
                raise ParseError(file, start, "table row without a category name")
            r = text_to_requirement(req, line=start, memo=memo)
            statements.append(Statement(
                capability=capability, section=heading or "table", category_raw=tuple(names),
                requirement=r, requirement_text=req, span=Span(file, start, end),
                warnings=r.warnings))
    if not statements:
        # still a version of its page, one that lists nothing: said, not fatal
        warnings.append(warning("nothing_readable", "nothing readable: no category table (一级类目 二级类目 … 资质) "
                                                    "found", file, 1))
    return ParsedDocument(format="column_text", capability=statements[0].capability if statements else None,
                          pages=(Page(title, None, 1, max(1, len(lines)), "requirements" if statements else "other"),),
                          statements=tuple(statements), warnings=tuple(warnings))
