"""Markdown source with embedded HTML tables (Tencent Cloud doc sources).

Two layouts are read:
- a category table: header cells ``一级类目 | 二级类目 | …所需资质`` and one row per category
  (the FaceID industries page); the bold paragraph above a table names its section;
- a section per category: ``##``/``###`` headings, ``>!`` callouts, a "具备…进行接入" sentence
  and a key/value table (``小程序直播场景`` / ``类目适用范围`` / ``资质要求``) (the 小程序·云直播 page).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline import patterns
from pipeline.errors import ParseError
from pipeline.htmltable import Table, placed_tables, shifted_warnings
from pipeline.model import Page, ParsedDocument, Requirement, Span, Statement
from pipeline.normalize import clean, fold
from pipeline.rules import lines_to_requirement
from pipeline.sections import (Draft, Sentence, detect_capability, drafts_to_statements,
                               heading_levels, parse_sentence, strip_markup)

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_TABLE_OPEN = re.compile(r"<table\b", re.IGNORECASE)
_TABLE_CLOSE = re.compile(r"</table\s*>", re.IGNORECASE)
_LIST_MARK = re.compile(r"^\s*(?:[-*+]\s+|\d{1,2}[.、]\s*)")


@dataclass
class _Heading:
    level: int
    text: str
    line: int
    #: (table, d): each table as read d lines above where it stands (``placed_tables``)
    tables: list[tuple[Table, int]] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paragraphs: list[tuple[str, int]] = field(default_factory=list)
    end: int = 0
    children: int = 0
    #: category tables (one row per category) under this heading
    category_tables: int = 0


def parse(text: str, file: str) -> ParsedDocument:
    lines = text.split("\n")
    root = _Heading(0, "", 1)
    headings: list[_Heading] = [root]
    category_tables: list[tuple[Table, int, str, str]] = []
    warnings: list[str] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        no = i + 1
        cur = headings[-1]
        m = _HEADING.match(raw)
        if m:
            level = len(m.group("hashes"))
            h = _Heading(level, strip_markup(m.group("text")), no)
            for prev in reversed(headings):
                if prev.level < level:
                    prev.children += 1
                    break
            headings.append(h)
            i += 1
            continue
        if _TABLE_OPEN.search(raw):
            j = i
            while j < len(lines) and not _TABLE_CLOSE.search(lines[j]):
                if j > i and _HEADING.match(lines[j]):
                    break
                j += 1
            if j >= len(lines) or not _TABLE_CLOSE.search(lines[j]):
                warnings.append(f"{file}:{no}: <table> is not closed; read up to line {j}")
                j -= 1
            html = "\n".join(lines[i:j + 1])
            for t, d in placed_tables(html, first_line=no):
                warnings.extend(f"{file}:{w}" for w in shifted_warnings(t, d))
                if _is_category_table(t):
                    label = cur.paragraphs[-1][0] if cur.paragraphs else cur.text
                    intro = " ".join(p for p, _ in cur.paragraphs[-3:])
                    category_tables.append((t, d, label, intro))
                    cur.category_tables += 1
                else:
                    cur.tables.append((t, d))
            cur.end = j + 1
            i = j + 1
            continue
        stripped = raw.strip()
        if stripped:
            if stripped.startswith(">"):
                note = strip_markup(_LIST_MARK.sub("", stripped.lstrip(">").lstrip("!").strip()))
                if note:
                    cur.notes.append(note)
            else:
                plain = _LIST_MARK.sub("", stripped)
                s = parse_sentence(plain, no)
                if s:
                    cur.sentences.append(s)
                else:
                    cur.paragraphs.append((strip_markup(plain), no))
            cur.end = no
        i += 1

    # each table's key/value rows, read once (the title, the sections and their drafts ask)
    kv_rows = {id(t): _kv_rows(t) for h in headings for t, _ in h.tables}
    title = _title(headings, kv_rows)
    statements: list[Statement] = []
    parts = len(category_tables) > 1
    for t, d, label, intro in category_tables:
        statements.extend(_category_rows(t, d, label, intro, file, title, parts))

    drafts = []
    all_sentences = [s for h in headings for s in h.sentences]
    capability = detect_capability(text)
    for idx, h in enumerate(headings[1:], start=1):
        kv = [(t, d) for t, d in h.tables if kv_rows[id(t)]]
        own_sentence = any(not s.also for s in h.sentences)
        if not kv and not (own_sentence and h.children == 0):
            continue
        path = _path(headings, idx, title)
        if not path:
            continue
        drafts.append(_kv_draft(h, kv[0] if kv else None, kv_rows[id(kv[0][0])] if kv else [], path,
                                _section(headings, idx, title)))
    if drafts and capability is None:
        raise ParseError(file, drafts[0].line_start,
                         "cannot tell whether the page is about face verification or live streaming")
    got, unused = drafts_to_statements(drafts, all_sentences, capability=capability or "live_streaming",
                                       file=file, page=title)
    statements.extend(got)
    warnings += [f"{file}:{s.line}: sentence names {s.names!r} but no section of that category "
                 f"was found" for s in unused]
    if not statements:
        raise ParseError(file, 1, "no category table and no category section found")
    pages = (Page(title=title, updated=None, line_start=1, line_end=max(1, len(lines)),
                  kind="requirements"),)
    capability = statements[0].capability if len({s.capability for s in statements}) == 1 else capability
    return ParsedDocument(format="markdown", capability=capability, pages=pages,
                          statements=tuple(statements), warnings=tuple(warnings))


def _title(headings: list[_Heading], kv_rows: dict[int, list]) -> str | None:
    """The page's own title: the first non-empty heading above every table that does not open a
    category section itself, and is the only heading of its level up to there.

    Site navigation leaves empty headings (``# [](javascript:;)``) and search-box headings after
    the content; a page whose first heading is a category (``## 电商平台 - 电商平台``) has none.
    """
    before = []
    for h in headings[1:]:
        before.append(h)
        if h.tables or h.category_tables:
            break
    named = [h for h in before if h.text]
    if not named:
        return None
    if any(kv_rows[id(t)] for h in headings[1:] for t, _ in h.tables):
        # with category sections, headings above them are category levels (## 教育): only a
        # single top-level heading is a title
        named = [h for h in named if h.level == 1]
        if len(named) != 1:
            return None
    first = named[0]
    if first.tables and any(kv_rows[id(t)] for t, _ in first.tables):
        return None
    if sum(1 for h in named if h.level == first.level) > 1:
        return None
    return first.text


def _path(headings: list[_Heading], idx: int, title: str | None) -> tuple[str, ...]:
    """Levels of a heading, prefixed by the levels of the container headings above it
    (the page title is not a category level)."""
    h = headings[idx]
    path = heading_levels(h.text)
    level = h.level
    for prev in reversed(headings[1:idx]):
        if prev.level < level:
            if not prev.text or prev.text == title:
                break
            path = heading_levels(prev.text) + path
            level = prev.level
    return path


def _header_roles(row) -> dict[int, str]:
    roles = {}
    for i, c in enumerate(row.cells):
        t = fold(c.text)
        m = patterns.LEVEL_HEADER.match(t)
        if m:
            roles[i] = f"level{patterns.to_int(m.group('level'))}"
        elif patterns.QUALIFICATION_HEADER.search(t):
            roles[i] = "requirement"
    return roles


def _is_category_table(t: Table) -> bool:
    """A header row naming category levels (with or without a qualification column)."""
    if not t.rows:
        return False
    roles = _header_roles(t.rows[0])
    return "level1" in roles.values() and "level2" in roles.values()


def _category_rows(t: Table, d: int, label: str, intro: str, file: str, title: str | None,
                   parts: bool) -> list[Statement]:
    """One statement per row (per listed category, in a whitelist); ``t`` stands ``d`` lines
    further down than it says (``placed_tables``).

    Capability: what the qualification column's header names (``使用人脸核验接口所需资质``);
    a generic header (``法务建议资质文件``) makes it WeChat's category list; a table without a
    qualification column is a whitelist for the capability its page is about."""
    header = t.rows[0]
    roles = _header_roles(header)
    for i, c in enumerate(header.cells):
        if i not in roles and patterns.NOTE_HEADER.match(fold(c.text)):
            roles[i] = "note"
    req_col = next((i for i, r in roles.items() if r == "requirement"), None)
    if req_col is not None:
        kind = "qualification"
        capability = detect_capability(header.cells[req_col].text) or "category_list"
    else:
        kind = "whitelist"
        capability = detect_capability(" ".join(x for x in (title, label, intro) if x))
        if capability is None:
            raise ParseError(file, t.line_start + d, "category table without a qualification column, and the "
                                                 "page does not say which capability it lists categories for")
    level_cols = sorted((r, i) for i, r in roles.items() if r.startswith("level"))
    note_cols = [i for i, r in roles.items() if r == "note"]
    section = clean(label).rstrip("：:。.") or "table"
    out = []
    for row in t.rows[1:]:
        if len(row.cells) < len(header.cells) and req_col is not None and len(row.cells) <= req_col:
            raise ParseError(file, row.line + d, f"table row has {len(row.cells)} cells, "
                                             f"expected {len(header.cells)}")
        levels = []
        for _, col in level_cols:
            v = row.cells[col].text if col < len(row.cells) else ""
            if v and not patterns.NONE_TEXT.match(v):
                levels.append(v)
        if not levels:
            raise ParseError(file, row.line + d, "table row without a category name")
        notes = tuple(row.cells[i].text for i in note_cols if i < len(row.cells) and row.cells[i].text
                      and not patterns.NONE_TEXT.match(row.cells[i].text))
        last = max([c.lines[-1].last for c in row.cells if c.lines and not c.carried] + [row.line])
        span = Span(file, row.line + d, last + d)
        if kind == "whitelist":
            for name in patterns.WHITELIST_LIST_SEPARATOR.split(levels[-1]):
                if name:
                    out.append(Statement(
                        capability=capability, section=section, category_raw=tuple(levels[:-1]) + (name,),
                        requirement=Requirement(rule="none", declared=None), span=span, notes=notes,
                        page=title, page_part=section if parts else None, kind="whitelist"))
            continue
        cell = row.cells[req_col]
        req = lines_to_requirement(cell.lines, offset=d)
        out.append(Statement(
            capability=capability, section=section, category_raw=tuple(levels), requirement=req,
            requirement_text="\n".join(l.text for l in cell.lines), span=span, notes=notes,
            warnings=req.warnings, page=title, page_part=section if parts else None))
    return out


def _kv_rows(t: Table) -> list[tuple[str, list]]:
    """``[(label, value cells)]`` of a key/value table whose first column holds row labels."""
    rows = []
    for row in t.rows:
        if not row.cells:
            continue
        label = fold(row.cells[0].text)
        if label.startswith(patterns.LABEL_REQUIREMENT) or label in (patterns.LABEL_SCENARIO,
                                                                     patterns.LABEL_SCOPE):
            rows.append((row.cells[0].text, [c for c in row.cells[1:] if not c.carried]))
        elif patterns.LABEL_NOTE.match(row.cells[0].text):
            rows.append(("注意", [c for c in row.cells[1:] if not c.carried]))
    return rows


def _kv_draft(h: _Heading, placed: tuple[Table, int] | None, rows: list[tuple[str, list]],
              path: tuple[str, ...], section: str) -> Draft:
    """``placed``: the section's table and how much further down it stands (``placed_tables``);
    ``rows``: ``_kv_rows`` of that table."""
    scope = scenario = None
    notes = list(h.notes)
    requirement = None
    req_text = ""
    end = h.end or h.line
    if placed is not None:
        t, d = placed
        end = max(end, t.line_end + d)
        for label, cells in rows:
            value = " ".join(c.text for c in cells).strip() or None
            f = fold(label)
            if f == patterns.LABEL_SCENARIO:
                scenario = value
            elif f == patterns.LABEL_SCOPE:
                scope = value
            elif f.startswith(patterns.LABEL_REQUIREMENT):
                columns = [list(c.lines) for c in cells]
                flat = [l for col in columns for l in col]
                req_text = "\n".join(l.text for l in flat)
                requirement = lines_to_requirement(flat if len(columns) < 2 else [], header=label,
                                                   columns=columns if len(columns) > 1 else None, offset=d)
            elif value:
                notes.append(value)
    if requirement is None:
        requirement = lines_to_requirement([], header="")
    return Draft(path=path, line_start=h.line, line_end=end, section=section,
                 requirement=requirement, requirement_text=req_text, scope=scope,
                 scenario=scenario, notes=tuple(notes), inplace=tuple(h.sentences))


def _section(headings: list[_Heading], idx: int, title: str | None) -> str:
    """The document title when it has one, else the top heading the section sits under."""
    if title:
        return title
    h = headings[idx]
    for prev in reversed(headings[1:idx]):
        if prev.level < h.level:
            h = prev
    return h.text
