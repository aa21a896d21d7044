"""What a table is, read from its header cells: a category table, a scenario table, or neither.

The one place that knows the column names of Tencent's tables (the phrases are in ``patterns``).
Real headers, by kind:

- category table, one row per category, levels and optionally a qualification column:
  ``一级类目 | 二级类目 | 三级类目 | 使用人脸核验接口所需资质`` (FaceID),
  ``一级类目/主体类型 | 二级类目 | 资质要求 | 小程序内容场景`` (live-streaming SDK pages; some add
  ``类目适用范围`` before ``小程序直播内容场景``),
  ``主类目 | 子类目 | 小程序内容场景`` (a whitelist: which categories may use a method at all);
- scenario table, one row per content scenario: ``小程序内容场景 | 要求 | 接入方案`` (方案选择),
  ``小程序直播场景 | 要求`` (the plugin page: the method is the page's own);
- anything else (``要求 | 说明`` key/value tables of a category section, ``直播场景 | 域名类型 | …``)
  is left to the parser that holds it.

Every parser that reads table cells (HTML, Markdown pipe tables, column text) asks here.
"""
from __future__ import annotations

from typing import Sequence

from pipeline.parsers import patterns
from pipeline.core.normalize import fold

CATEGORY = "category"
SCENARIO = "scenario"


def level_of(text: str) -> int | None:
    """The category level a header cell names (``二级类目`` -> 2, ``主类目`` -> 1,
    ``一级类目/主体类型`` -> 1), else None."""
    for part in fold(text).split("/"):
        m = patterns.LEVEL_HEADER.match(part)
        if m:
            if m.group("level"):
                return patterns.to_int(m.group("level"))
            return 2 if m.group("sub") else 1
    return None


def column_roles(cells: Sequence[str]) -> dict[int, str]:
    """``{column: role}`` for a header row: ``level1``..``level3``, ``requirement`` (the
    qualification column), ``note``, ``scenario``, ``scope`` (类目适用范围), ``condition`` (a
    scenario table's 要求) and ``solution``. Columns with no known name get no role; a level named twice counts once."""
    roles: dict[int, str] = {}
    for i, text in enumerate(cells):
        # Markdown left in a header cell is markup (``\`二级类目`` in a WeChat pipe table)
        t = fold(text.replace("`", "").replace("*", ""))
        if not t:
            continue
        level = level_of(t)
        if level is not None:
            role = f"level{level}"
        elif patterns.QUALIFICATION_HEADER.search(t):
            role = "requirement"
        elif patterns.NOTE_HEADER.match(t):
            role = "note"
        elif patterns.SCENARIO_HEADER.search(t):
            role = "scenario"
        elif patterns.CONDITION_HEADER.match(t):
            role = "condition"
        elif patterns.SOLUTION_HEADER.match(t):
            role = "solution"
        elif patterns.SCOPE_HEADER.match(t):
            role = "scope"
        else:
            continue
        if role not in roles.values():
            roles[i] = role
    return roles


def table_kind(cells: Sequence[str]) -> str | None:
    """``CATEGORY``: two level columns, or one beside a qualification column; ``SCENARIO``: a
    scenario column beside a requirement (要求) column; None otherwise."""
    roles = set(column_roles(cells).values())
    levels = sum(1 for r in roles if r.startswith("level"))
    if levels >= 2 or (levels == 1 and "requirement" in roles):
        return CATEGORY
    if "scenario" in roles and "condition" in roles:
        return SCENARIO
    return None
