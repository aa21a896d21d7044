"""Markdown source with embedded HTML or pipe tables (Tencent Cloud doc sources).

Each table is told by its header cells (``pipeline/parsers/headers.py``); a pipe table is read as the
HTML table it stands for (``htmltable.pipe_table_html``). What a page holds:
- category tables: header cells ``一级类目 | 二级类目 | …所需资质`` (the FaceID industries page),
  ``一级类目/主体类型 | 二级类目 | 资质要求 | 小程序内容场景``, one row per category; without a
  qualification column an eligibility list (``主类目 | 子类目 | 小程序内容场景``); the bold paragraph above
  a table names its section;
- a section per category: ``##``/``###`` headings, ``>!`` callouts, a "具备…进行接入" sentence
  and a key/value table (``小程序直播场景`` / ``类目适用范围`` / ``资质要求``) (the 小程序·云直播 page);
- scenario tables: ``小程序内容场景 | 要求 | 接入方案`` under ``### 场景N：…`` (方案选择), and an
  access method's own ``小程序直播场景 | 要求`` table (the plugin page);
- licence sentences (``涉及…，请咨询…申请办理《…》``) and the page date (``最近更新时间``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipeline.parsers import headers, patterns
from pipeline.core.errors import ParseError, PipelineWarning, warning
from pipeline.parsers.htmltable import Table, is_pipe_table, pipe_table_end, pipe_table_html, read_tables
from pipeline.core.model import Integration, Page, ParsedDocument, Scenario, Span, Statement
from pipeline.core.normalize import clean, fold, real_date
from pipeline.parsers.rules import lines_to_requirement
from pipeline.parsers.flat import Phys, read_licences
from pipeline.parsers.memo import ParseMemo, any_warning as _any_warning, placed_statement
from pipeline.parsers.sections import (Draft, Sentence, detect_capability, drafts_to_statements,
                               heading_levels, method_pattern, method_scenario, needs_statements,
                               parse_sentence, strip_markup)

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_TABLE_OPEN = re.compile(r"<table\b", re.IGNORECASE)
_TABLE_CLOSE = re.compile(r"</table\s*>", re.IGNORECASE)
_LIST_MARK = re.compile(r"^\s*(?:[-*+]\s+|\d{1,2}[.、]\s*)")


@dataclass
class _Heading:
    level: int
    text: str
    line: int
    tables: list[Table] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paragraphs: list[tuple[str, int]] = field(default_factory=list)
    end: int = 0
    children: int = 0
    #: category tables (one row per category) and scenario tables under this heading
    category_tables: int = 0
    scenario_tables: int = 0
    #: last line of the last table under this heading: the text after it leads in the next one
    table_end: int = 0
    #: what its section was remembered by (``_scan``; None: the document was scanned whole)
    key: tuple | None = None
    #: where each table's key/value rows stand in it (``_kv_index``), read with the section;
    #: None: not read (the document was scanned whole)
    kv: list | None = None
    #: how many lines lower than ``tables`` say the tables stand in this document: a section
    #: remembered elsewhere keeps its tables as read there, moved only when they are read
    #: again (``_drafts``: its draft not remembered), most often never
    tables_moved: int = 0


@dataclass(frozen=True)
class _LeadIn:
    """What the text above a category table says of every row of it."""

    integration: Integration | None = None
    conditions: tuple[str, ...] = ()


def parse(text: str, file: str, memo=None) -> ParsedDocument:
    """``memo``: the build's ``ParseMemo`` (tables and requirement texts read before are not read
    again); None: one of its own, for this document."""
    memo = memo if memo is not None else ParseMemo()
    lines = text.split("\n")
    scan = _scan(lines, file, memo)
    headings, warnings = scan.headings, scan.warnings
    # each table's key/value rows, read once (the title, the sections and their drafts ask)
    # where each table's key/value rows stand (read with its section, or here)
    kv_rows = {id(t): _kv_index(t) if h.kv is None else kv
               for h in headings for t, kv in zip(h.tables, h.kv or [None] * len(h.tables))}
    title = _title(headings, kv_rows)
    updated = _updated(lines, file)
    capability = detect_capability(text)
    statements: list[Statement] = []
    parts = len(scan.category_tables) > 1
    for t, label, intro, lead, key in scan.category_tables:
        statements.extend(_with_lead_in(_table_rows(t, label, intro, key, file, title, parts, capability, updated,
                                                    memo), lead))
    statements.extend(_needs_statements(headings, file, title, capability, updated, warnings))

    drafts = _drafts(headings, kv_rows, title, file, memo)
    if drafts and capability is None:
        raise ParseError(file, drafts[0].line_start,
                         "cannot tell whether the page is about face verification or live streaming")
    all_sentences = [s for h in headings for s in h.sentences]
    got, unused = drafts_to_statements(drafts, all_sentences, capability=capability or "live_streaming",
                                       file=file, page=title, updated=updated, memo=memo)
    statements.extend(got)
    warnings += [warning("sentence_without_section", f"sentence names {s.names!r} but no section of that "
                         f"category was found", file, s.line) for s in unused]
    scenarios = [sc for t, h, context in scan.scenario_tables
                 for sc in _scenario_rows(t, h, context, all_sentences, file, title, updated, warnings)]
    licences = read_licences([Phys(no, p, p) for h in headings for p, no in h.paragraphs], file, title, updated)
    if not statements and not scenarios and not licences:
        # still a version of its page, one that lists nothing: said, not fatal
        warnings.append(warning("nothing_readable", NOTHING_READABLE, file, 1))
    truncated = _truncated(scan.truncated, headings, all_sentences, drafts)
    if truncated:
        warnings.append(warning("truncated", f"the capture looks cut short: {truncated}", file, len(lines)))
    kinds = [k for k, got_any in (("requirements", any(s.kind == "qualification" for s in statements)),
                                  ("eligibility", any(s.kind == "eligibility" for s in statements)),
                                  ("scenarios", scenarios), ("licenses", licences)) if got_any]
    pages = (Page(title=title, updated=updated, line_start=1, line_end=max(1, len(lines)),
                  kind="+".join(kinds) or "other"),)
    if statements and len({s.capability for s in statements}) == 1:
        capability = statements[0].capability
    return ParsedDocument(format="markdown", capability=capability, pages=pages,
                          statements=tuple(statements), scenarios=tuple(scenarios),
                          licenses=tuple(licences), warnings=tuple(warnings), truncated=truncated)


@dataclass
class _Scan:
    """What one pass over a document's lines found: its headings (each with the tables,
    sentences, notes and paragraphs under it), its category and scenario tables, warnings, and
    why it looks cut short (a table that runs to its end)."""

    headings: list[_Heading]
    #: (table, label, intro, lead-in, what it is remembered by: its section's key and its
    #: place among the section's category tables, or None) of each category table
    category_tables: list[tuple[Table, str, str, _LeadIn, tuple | None]] = field(default_factory=list)
    #: (table, heading, the text above it) of each scenario table
    scenario_tables: list[tuple[Table, _Heading, list[str]]] = field(default_factory=list)
    warnings: list[PipelineWarning] = field(default_factory=list)
    truncated: str | None = None


def _scan(lines: list[str], file: str, memo: ParseMemo) -> _Scan:
    """Every line once, in order: a heading opens a section, a table is read whole, any other
    line is a callout note, an access sentence or a paragraph of the section it is in.

    Each section (a heading up to the next one; the lines above the first heading) is read on
    its own (``_read_section``), and remembered by its lines in ``memo``: versions of a page
    share most of their sections, at other lines. A section is read alone only as far as the
    whole scan would read it so: when a table of it runs over the next heading (a pipe row
    ``## a | b``), the document is scanned as a whole (``_scan_whole``)."""
    starts = [i for i, ln in enumerate(lines) if ln[:1] == "#" and _HEADING.match(ln)]
    bounds = [(0, starts[0] if starts else len(lines), True)]
    bounds += [(a, b, False) for a, b in zip(starts, starts[1:] + [len(lines)])]
    scan = _Scan([])
    for a, b, root in bounds:
        # what a section's reading looks at: its lines and the next heading's (where a table
        # that is not closed stops), whether it is the page's first part and its last
        key = (root, b == len(lines), tuple(lines[a:b + 1]))
        part = memo.placed("markdown_section", key, a + 1, file,
                           lambda: _read_section(lines, a, b, root, file, memo), _moved_section, _section_warns)
        if part is None:
            return _scan_whole(lines, file, memo)
        h = part.headings[0]
        h.key = key
        if not root:
            for prev in reversed(scan.headings):  # (as ``_open_heading``)
                if prev.level < h.level:
                    prev.children += 1
                    break
        scan.headings.append(h)
        scan.category_tables += [(*c[:4], (key, n)) for n, c in enumerate(part.category_tables)]
        scan.scenario_tables += part.scenario_tables
        scan.warnings += part.warnings
        scan.truncated = scan.truncated or part.truncated
    return scan


def _read_section(lines: list[str], a: int, b: int, root: bool, file: str, memo: ParseMemo) -> _Scan | None:
    """The scan (``_scan_whole``) of lines ``a`` to ``b`` (exclusive), a heading and what
    follows it up to the next heading (``root``: the lines above the first heading), as the
    scan of the headings alone; None when a table of it runs past line ``b``."""
    if root:
        h, i = _Heading(0, "", 1), a
    else:
        m = _HEADING.match(lines[a])
        h, i = _Heading(len(m.group("hashes")), strip_markup(m.group("text")), a + 1), a + 1
    scan = _Scan([h])
    in_callout = False
    while i < b:
        block = _table_block(lines, i, file)
        if block is not None:
            if block[1] >= b:
                return None
            i = _take_tables(scan, block, i + 1, file, memo)
            in_callout = False
        else:
            in_callout = _take_text(h, lines[i].strip(), i + 1, in_callout, memo)
        i += 1
    h.kv = [_kv_index(t) for t in h.tables]
    return scan


def _section_warns(scan: _Scan) -> bool:
    """Does a section's scan say something that names its lines or file (a warning, a cut)?"""
    return bool(scan.warnings) or scan.truncated is not None or any(t.warnings for t in scan.headings[0].tables)


def _moved_section(scan: _Scan, delta: int) -> _Scan:
    """A section's scan (``_read_section``) read ``delta`` lines higher up, placed here: its
    heading made afresh (the scan of the page counts its children)."""
    def at(n: int) -> int:
        return n + delta if n else 0

    def table(t: Table) -> Table:
        return t.shifted(delta) if delta else t

    h = scan.headings[0]
    moved = _Heading(h.level, h.text, h.line + delta if h.level else h.line,
                     tables=list(h.tables), tables_moved=delta,
                     sentences=[replace(x, line=x.line + delta) for x in h.sentences] if delta else list(h.sentences),
                     notes=list(h.notes), paragraphs=[(p, no + delta) for p, no in h.paragraphs],
                     end=at(h.end), category_tables=h.category_tables, scenario_tables=h.scenario_tables,
                     table_end=at(h.table_end), kv=h.kv)
    categories = [(table(t), label, intro, lead if lead.integration is None or not delta else
                   replace(lead, integration=replace(lead.integration, line=lead.integration.line + delta)), None)
                  for t, label, intro, lead, _ in scan.category_tables]
    scenarios = [(table(t), moved, context) for t, _, context in scan.scenario_tables]
    return _Scan([moved], categories, scenarios, list(scan.warnings), scan.truncated)


def _scan_whole(lines: list[str], file: str, memo: ParseMemo) -> _Scan:
    """Every line once, in order (``_scan``), the document as a whole."""
    scan = _Scan([_Heading(0, "", 1)])
    # list lines written without ``>`` right after a ``>!`` callout line belong to the callout,
    # as its renderer shows them (1078/43316, 2020-04-09:12-14: ``>!`` then ``1. 入驻商家…``,
    # ``2. 不得提供…``), until a blank line or a line that is no list item
    in_callout = False
    i = 0
    while i < len(lines):
        no = i + 1
        m = _HEADING.match(lines[i])
        block = None if m else _table_block(lines, i, file)
        if m:
            _open_heading(scan.headings, len(m.group("hashes")), strip_markup(m.group("text")), no)
            in_callout = False
        elif block is not None:
            i = _take_tables(scan, block, no, file, memo)
            in_callout = False
        else:
            in_callout = _take_text(scan.headings[-1], lines[i].strip(), no, in_callout, memo)
        i += 1
    return scan


def _open_heading(headings: list[_Heading], level: int, text: str, no: int) -> None:
    """A heading: a new section, counted as a child of the nearest heading above its level."""
    for prev in reversed(headings):
        if prev.level < level:
            prev.children += 1
            break
    headings.append(_Heading(level, text, no))


def _take_tables(scan: _Scan, block, no: int, file: str, memo: ParseMemo) -> int:
    """The tables of a table block (``_table_block``) starting on line ``no``, each filed by
    its header cells under the current heading. Returns the index of the block's last line."""
    cur = scan.headings[-1]
    html, j, block_warnings, cut = block
    scan.warnings.extend(block_warnings)
    scan.truncated = scan.truncated or cut
    for t in read_tables(html, no, memo):
        scan.warnings.extend(w.at(file) for w in t.warnings)
        kind = headers.table_kind([c.text for c in t.rows[0].cells]) if t.rows else None
        if kind == headers.CATEGORY:
            label = cur.paragraphs[-1][0] if cur.paragraphs else cur.text
            intro = " ".join(p for p, _ in cur.paragraphs[-3:])
            scan.category_tables.append((t, label, intro, _lead_in(cur, file, scan.warnings), None))
            scan.warnings.extend(_unread_columns(t, file))
            cur.category_tables += 1
        elif kind == headers.SCENARIO:
            context = [p for p, _ in cur.paragraphs[-2:]] + [cur.text]
            scan.scenario_tables.append((t, cur, context))
            cur.scenario_tables += 1
        else:
            cur.tables.append(t)
    cur.end = cur.table_end = j + 1
    return j


def _take_text(cur: _Heading, stripped: str, no: int, in_callout: bool, memo: ParseMemo | None = None) -> bool:
    """A line of text under ``cur``: a callout's note, an access sentence or a paragraph.
    Returns whether the callout goes on past it."""
    if not stripped:
        return False
    if stripped.startswith(">") or (in_callout and _LIST_MARK.match(stripped) is not None):
        note = strip_markup(_LIST_MARK.sub("", stripped.lstrip(">").lstrip("!").strip()))
        if note:
            cur.notes.append(note)
        # a ``>`` line with nothing after it closes the callout's paragraph: what follows
        # without ``>`` is the page's own text again (the plugin page, 2021-08-30:45)
        going_on = bool(stripped.lstrip(">").strip())
    else:
        plain = _LIST_MARK.sub("", stripped)
        s = parse_sentence(plain, no, memo)
        if s:
            cur.sentences.append(s)
        else:
            cur.paragraphs.append((strip_markup(plain), no))
        going_on = False
    cur.end = no
    return going_on


def _drafts(headings: list[_Heading], kv_rows: dict[int, tuple], title: str | None, file: str,
            memo: ParseMemo) -> list[Draft]:
    """A draft per category section: a heading with a key/value table, or a leaf heading with
    an access sentence of its own. ``kv_rows``: where each table's key/value rows stand
    (``_kv_index``), by the table's id."""
    levels = memo.pure(heading_levels)
    drafts = []
    for idx, h in enumerate(headings[1:], start=1):
        kv = [t for t in h.tables if kv_rows[id(t)]]
        own_sentence = any(not s.also for s in h.sentences)
        if not kv and not (own_sentence and h.children == 0):
            continue
        path = _path(headings, idx, title, levels)
        if not path:
            continue
        section = _section(headings, idx, title)

        def read(h=h, kv=kv, path=path, section=section) -> Draft:
            if not kv:
                return _kv_draft(h, None, [], path, section, memo)
            t = kv[0].shifted(h.tables_moved) if h.tables_moved else kv[0]
            return _kv_draft(h, t, _kv_placed(t, kv_rows[id(kv[0])]), path, section, memo)

        if h.key is None:
            drafts.append(read())
            continue
        # a section's draft is a function of its scan (remembered by ``h.key``), its path and
        # the name of its part: remembered by those, placed at the heading's line
        drafts.append(memo.placed("markdown_draft", (h.key, path, section), h.line, file, read,
                                  lambda d, delta, h=h: _moved_draft(d, delta, h), _draft_warns))
    return drafts


def _moved_draft(d: Draft, delta: int, h: _Heading) -> Draft:
    """A section's draft read ``delta`` lines higher up, placed under its heading ``h`` here:
    its sentences are ``h``'s own (the page's sentences are told apart by identity)."""
    if not delta and len(d.inplace) == len(h.sentences) and all(a is b for a, b in zip(d.inplace, h.sentences)):
        return d
    return d.placed(delta, tuple(h.sentences))


def _draft_warns(d: Draft) -> bool:
    return bool(d.warnings) or _any_warning(d.requirement)


def _truncated(cut: str | None, headings: list[_Heading], sentences: list[Sentence],
               drafts: list[Draft]) -> str | None:
    """Why the capture looks cut short: a table running to its end (``cut``), a category its
    sentences name without a section, or a last heading with nothing under it; None if none."""
    if cut is None and drafts:
        cut = _named_but_missing(sentences, drafts)
    if cut is None and headings[-1].text and headings[-1].end == 0 and len(headings) > 1 \
            and not headings[-1].children:
        cut = f"ends right after the heading {headings[-1].text!r} (line {headings[-1].line})"
    return cut


NOTHING_READABLE = "nothing readable: no category table, category section, scenario table or licence list found"


def _lead_in(h: _Heading, file: str, warnings: list[PipelineWarning]) -> _LeadIn:
    """What the paragraphs between the previous table under ``h`` (or ``h`` itself) and a
    category table say of every row: the access method they name (``若您的小程序已具备以下类目，
    可直接使用 M 接入``; under a component's own heading, ``暂只针对如下类目开放…该组件``: WeChat's
    component tags), and a restriction on the account's subject (``暂只针对国内主体如下类目``).
    Only a paragraph that points at the table (``以下类目``, ``如下类目``) leads it in."""
    paras = [(p, no) for p, no in h.paragraphs if no > h.table_end and patterns.TABLE_REFERENCE.search(p)]
    integration = None
    for text, no in reversed(paras):
        m = patterns.LEAD_IN_METHOD.search(text)
        tag = patterns.COMPONENT_HEADING.match(h.text)
        if m:
            method = clean(m.group("method"))
            if not patterns.ACCESS_METHOD.fullmatch(method):
                # 标准直播 + 移动直播 SDK, 小程序·云直播: maybe another name of a known method, maybe
                # not; the page does not say, so the name stays as written
                warnings.append(warning("unknown_access_method",
                                        f"the lead-in names the access method {method!r}, none of the known names "
                                        f"(标准直播+直播标签, 小程序·云直播插件, 微信原生组件标签): kept as written", file, no))
            integration = Integration(method=method, text=text, line=no)
        elif tag and patterns.COMPONENT_LEAD_IN.search(text):
            integration = Integration(method=patterns.NATIVE_COMPONENT_METHOD, text=text, line=no,
                                      components=(tag.group("tag"),))
        if integration:
            break
    conditions = tuple(dict.fromkeys(m.group("cond") for text, _ in paras
                                     for m in patterns.LEAD_IN_SUBJECT.finditer(text)))
    return _LeadIn(integration, conditions)


def _with_lead_in(statements: list[Statement], lead: _LeadIn) -> list[Statement]:
    """The statements of one table with what its lead-in says of every row: the access method
    (live streaming only: the methods are live-streaming ones) and the subject restriction, a
    condition of the requirement or, for an eligibility list, of the statement itself."""
    out = []
    for st in statements:
        if lead.integration and st.integration is None and st.capability == "live_streaming":
            st = replace(st, integration=lead.integration)
        if lead.conditions and st.requirement is None:
            st = replace(st, conditions=st.conditions + lead.conditions)
        elif lead.conditions:
            st = replace(st, requirement=replace(st.requirement,
                                                 conditions=st.requirement.conditions + lead.conditions))
        out.append(st)
    return out


#: the column roles ``_category_rows`` reads
_READ_ROLES = {"level1", "level2", "level3", "requirement", "note", "scenario", "scope"}


def _unread_columns(t: Table, file: str) -> list[PipelineWarning]:
    """A warning per column of a category table that no field takes (a header cell without a
    known role, or a second column of one role), naming it: nothing is dropped silently."""
    if not t.rows:
        return []
    cells = [c.text for c in t.rows[0].cells]
    roles = headers.column_roles(cells)
    return [warning("unread_column", f"column {text!r} of the category table is not read into any field",
                    file, t.line_start)
            for i, text in enumerate(cells) if text.strip() and roles.get(i) not in _READ_ROLES]


def _needs_statements(headings: list[_Heading], file: str, title: str | None, capability: str | None,
                      updated: str | None, warnings: list[PipelineWarning]) -> list[Statement]:
    """Eligibility statements from sentences that name the categories an access method needs
    (``小程序·云直播插件由于需要先满足【电商平台】或【教育】类目场景``), under the heading they stand in."""
    out = []
    for h in headings:
        got, why = needs_statements(h.paragraphs, capability=capability, section=h.text or title or "text",
                                    file=file, page=title, updated=updated)
        out += got
        warnings += why
    return out


def _updated(lines: list[str], file: str) -> str | None:
    """The page's own date: its first ``最近更新时间：2024-08-29 17:45:51`` line (a date that is
    no day is an error, as in ``flat.split_pages``)."""
    for no, ln in enumerate(lines, 1):
        if "最近更新时间" in ln:
            m = patterns.UPDATED_AT.search(clean(strip_markup(ln)))
            if m:
                if not real_date(m.group("date")):
                    raise ParseError(file, no, f"page date {m.group('date')!r} is not a real date (YYYY-MM-DD)")
                return m.group("date")
    return None


def _named_but_missing(sentences: list[Sentence], drafts: list[Draft]) -> str | None:
    """A page of category sections whose access sentences name a category that no section of
    it has (``若同时具备【社交-直播】类目…`` above the only section): the rest of the page is
    missing. None when every named category has its section."""
    # a category counts as present when some section ends on its last level, whole or as one
    # of its ``/``-parts (a sentence may name 职业培训 of ``培训机构 - 职业培训/课外辅导``)
    present = {fold(part) for d in drafts for part in (d.path[-1], *d.path[-1].split("/"))}
    for s in sentences:
        for path in s.paths:
            if fold(path[-1]) not in present:
                return (f"the page names {'-'.join(path)!r} (line {s.line}) but has no section of it "
                        f"after its last section")
    return None


def _scenario_rows(t: Table, h: _Heading, context: list[str], sentences: list[Sentence],
                   file: str, title: str | None, updated: str | None,
                   warnings: list[PipelineWarning]) -> list[Scenario]:
    """The scenarios of a scenario table (``headers.SCENARIO``).

    Under a ``场景N：…`` heading (方案选择) the table is that one scenario: its contents joined,
    every requirement and every access method in row order. Elsewhere (the plugin page) each row
    is a scenario of the access method its lead-in names (``小程序符合小程序·云直播插件的接入的
    类目要求：``), labelled as every format labels it (``method_scenario``)."""
    roles = headers.column_roles([c.text for c in t.rows[0].cells])
    col = {r: i for i, r in roles.items()}

    def cell(row, role: str, own: bool = False) -> str:
        i = col.get(role)
        if i is None or i >= len(row.cells) or (own and row.cells[i].carried):
            return ""
        # Markdown inside an HTML cell (``<a …> **电商平台** 类目</a>``) is markup, not text
        return strip_markup(row.cells[i].text)

    rows = [r for r in t.rows[1:] if any(c.text for c in r.cells)]
    if not rows:
        return []
    start, end = t.line_start, t.line_end
    m = patterns.SCENARIO_HEADING.match(h.text)
    if m:
        contents = [c for c in dict.fromkeys(cell(r, "scenario") for r in rows) if c]
        reqs = tuple(x for x in (cell(r, "condition", own=True) for r in rows) if x)
        sols = tuple(x for x in dict.fromkeys(cell(r, "solution") for r in rows) if x)
        return [Scenario(scenario=clean(m.group("label")), content="；".join(contents), requirements=reqs,
                         solutions=sols, span=Span(file, h.line, max(h.line, end, h.end)), notes=tuple(h.notes),
                         page=title, page_updated=updated)]
    methods = method_pattern(sentences)
    method = next((mm.group(0) for text in context + [title or ""] for mm in [methods.search(fold(text))] if mm),
                  None)
    if method is None and "solution" not in col:
        warnings.append(warning("scenario_without_method", "scenario table without an access-method column, and "
                                "the text above it names no access method: its rows are kept without one",
                                file, start))
    out = []
    for r in rows:
        content = cell(r, "scenario")
        if not content:
            continue
        sols = (cell(r, "solution"),) if cell(r, "solution") else ((method,) if method else ())
        label = method_scenario(method, content) if method and "solution" not in col else content
        req = cell(r, "condition")
        out.append(Scenario(scenario=label, content=content, requirements=(req,) if req else (),
                            solutions=sols, span=Span(file, r.line, max(r.line, _row_end(r))),
                            page=title, page_updated=updated))
    return out


def _row_end(row) -> int:
    return max([c.lines[-1].last for c in row.cells if c.lines and not c.carried] + [row.line])


_BARE_TABLE_OPEN = re.compile(r"<table\b[^>]*>", re.IGNORECASE)
_ROW_TAG = re.compile(r"^\s*<\s*(?:tr|td|th|thead|tbody|caption|col)\b", re.IGNORECASE)


def _table_block(lines: list[str], i: int, file: str) -> tuple[str, int, list[PipelineWarning], str | None] | None:
    """The table starting at ``lines[i]``, if one does: (its HTML, index of its last line,
    warnings, why the document looks cut short inside it or None).

    A pipe table is written as HTML (``pipe_table_html``). An HTML table ends at ``</table>``;
    a bare ``<table>`` line that no row follows closes it too (revisions of the live-streaming
    page close every table so); an unclosed one is read up to the next heading, with a
    warning, and when it runs to the end of the file, the capture ends inside it."""
    no = i + 1
    if is_pipe_table(lines, i):
        j = pipe_table_end(lines, i)
        html, w = pipe_table_html(lines[i:j + 1], no)
        return html, j, [x.at(file) for x in w], None
    if not _TABLE_OPEN.search(lines[i]):
        return None
    j = i
    while j < len(lines) and not _TABLE_CLOSE.search(lines[j]):
        if j > i and _HEADING.match(lines[j]):
            break
        if j > i and _BARE_TABLE_OPEN.fullmatch(lines[j].strip()) and not _row_follows(lines, j):
            return "\n".join(lines[i:j] + ["</table>"]), j, [], None
        j += 1
    if j < len(lines) and _TABLE_CLOSE.search(lines[j]):
        return "\n".join(lines[i:j + 1]), j, [], None
    cut = f"ends inside the table that starts on line {no}" if j >= len(lines) else None
    return ("\n".join(lines[i:j]), j - 1,
            [warning("table_not_closed", f"<table> is not closed; read up to line {j}", file, no)], cut)


def _row_follows(lines: list[str], j: int) -> bool:
    k = j + 1
    while k < len(lines) and not lines[k].strip():
        k += 1
    return k < len(lines) and bool(_ROW_TAG.match(lines[k]))


def _title(headings: list[_Heading], kv_rows: dict[int, tuple]) -> str | None:
    """The page's own title: the first non-empty heading above every table that does not open a
    category section itself, and is the only heading of its level up to there.

    Site navigation leaves empty headings (``# [](javascript:;)``) and search-box headings after
    the content; a page whose first heading is a category (``## 电商平台 - 电商平台``) has none.
    """
    before = []
    for h in headings[1:]:
        before.append(h)
        if h.tables or h.category_tables or h.scenario_tables:
            break
    named = [h for h in before if h.text]
    if not named:
        return None
    if any(kv_rows[id(t)] for h in headings[1:] for t in h.tables):
        # with category sections, headings above them are category levels (## 教育): only a
        # single top-level heading is a title
        named = [h for h in named if h.level == 1]
        if len(named) != 1:
            return None
    first = named[0]
    if first.tables and any(kv_rows[id(t)] for t in first.tables):
        return None
    if first.scenario_tables and first.level > 1:
        # a section holding a scenario table (``## 前提条件`` of the plugin page) names its part
        return None
    if sum(1 for h in named if h.level == first.level) > 1:
        return None
    return first.text


def _path(headings: list[_Heading], idx: int, title: str | None, heading_levels=heading_levels) -> tuple[str, ...]:
    """Levels of a heading, prefixed by the levels of the container headings above it
    (the page title is not a category level). ``heading_levels``: that function, or the same
    remembered (``ParseMemo.pure``)."""
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


def _table_rows(t: Table, label: str, intro: str, key: tuple | None, file: str, title: str | None, parts: bool,
                page_capability: str | None, updated: str | None, memo: ParseMemo) -> list[Statement]:
    """``_category_rows``, remembered by the table's section and place in it (``key``: they
    give the table, its label and intro) and what else the rows depend on; placed at the
    table's line, in ``file``, on a page dated ``updated``."""
    def read() -> list[Statement]:
        return _category_rows(t, label, intro, file, title, parts, page_capability, updated, memo)

    if key is None:
        return read()

    def moved(sts: list[Statement], delta: int) -> list[Statement]:
        return [placed_statement(st, delta, file, updated) for st in sts]

    return memo.placed("markdown_rows", (key, title, parts, page_capability), t.line_start, file, read, moved,
                       lambda sts: any(st.warnings or _any_warning(st.requirement) for st in sts))


def _category_rows(t: Table, label: str, intro: str, file: str, title: str | None,
                   parts: bool, page_capability: str | None, updated: str | None, memo=None) -> list[Statement]:
    """One statement per row (per listed category, in an eligibility list): what the table's
    header says of its columns and capability (``_CategoryTable``), then each row read by it."""
    table = _CategoryTable(t, label, intro, file, title, page_capability)
    return [st for row in t.rows[1:] for st in table.statements(row, parts, updated, memo)]


class _CategoryTable:
    """A category table's header as read: what each column holds, which capability the table is
    about, whether it is a qualification table or an eligibility list, and the section its rows
    stand in. ``statements`` reads one row."""

    def __init__(self, t: Table, label: str, intro: str, file: str, title: str | None,
                 page_capability: str | None):
        header = t.rows[0]
        roles = headers.column_roles([c.text for c in header.cells])
        self.file, self.title, self.width = file, title, len(header.cells)
        self.req_col = next((i for i, r in roles.items() if r == "requirement"), None)
        self.kind, self.capability = self._capability(t, header, label, intro, page_capability)
        self.level_cols = sorted((r, i) for i, r in roles.items() if r.startswith("level"))
        self.note_cols = [i for i, r in roles.items() if r == "note"]
        self.scenario_col = next((i for i, r in roles.items() if r == "scenario"), None)
        self.scope_col = next((i for i, r in roles.items() if r == "scope"), None)
        self.section = clean(label).rstrip("：:。.") or "table"

    def _capability(self, t: Table, header, label: str, intro: str, page_capability: str | None):
        """(kind, capability). Capability: what the qualification column's header names
        (``使用人脸核验接口所需资质``), else what the table's lead-in or the page title names; a
        generic header under a title that names none (``法务建议资质文件``) makes it WeChat's
        category list. A table without a qualification column is an eligibility list for the
        capability its lead-in, or else its page, is about."""
        around = " ".join(x for x in (self.title, label, intro) if x)
        if self.req_col is not None:
            # the column's own words first (使用人脸核验接口所需资质), then the table's lead-in and the
            # page title (a live-streaming SDK page's 资质要求 column); WeChat's list says neither
            return "qualification", (detect_capability(header.cells[self.req_col].text)
                                     or detect_capability(around) or "category_list")
        # the table's own lead-in first; else what the page as a whole is about
        capability = detect_capability(around) or page_capability
        if capability is None:
            raise ParseError(self.file, t.line_start, "category table without a qualification column, and the "
                                                      "page does not say which capability it lists categories for")
        return "eligibility", capability

    def statements(self, row, parts: bool, updated: str | None, memo=None) -> list[Statement]:
        """One row's statement, or one per category an eligibility row lists."""
        file = self.file
        if len(row.cells) < self.width and self.req_col is not None and len(row.cells) <= self.req_col:
            raise ParseError(file, row.line, f"table row has {len(row.cells)} cells, expected {self.width}")
        levels = []
        for _, col in self.level_cols:
            v = row.cells[col].text if col < len(row.cells) else ""
            if v and not patterns.NONE_TEXT.match(v):
                levels.append(v)
        if not levels:
            raise ParseError(file, row.line, "table row without a category name")
        notes = tuple(row.cells[i].text for i in self.note_cols if i < len(row.cells) and row.cells[i].text
                      and not patterns.NONE_TEXT.match(row.cells[i].text))
        scenario = None
        if self.scenario_col is not None and self.scenario_col < len(row.cells):
            scenario = row.cells[self.scenario_col].text or None
        said = dict(capability=self.capability, section=self.section, span=Span(file, row.line, _row_end(row)),
                    notes=notes, scenario=scenario, scope=_cell_text(row, self.scope_col), page=self.title,
                    page_updated=updated, page_part=self.section if parts else None)
        if self.kind == "eligibility":
            # ，and ； never stand inside a name: the cell lists several categories there. A 、
            # may (证券、期货投资咨询): such a part is kept whole here, and the build parts it
            # with the names it knows (``pipeline/reconcile/joined.py``)
            names = [n for n in patterns.ELIGIBILITY_LIST_SEPARATOR.split(levels[-1]) if n]
            return [Statement(category_raw=tuple(levels[:-1]) + (name,), requirement=None, kind="eligibility",
                              **said) for name in names]
        cell = row.cells[self.req_col]
        req = lines_to_requirement(cell.lines, memo=memo)
        return [Statement(category_raw=tuple(levels), requirement=req,
                          requirement_text="\n".join(l.text for l in cell.lines), warnings=req.warnings, **said)]


def _cell_text(row, col: int | None) -> str | None:
    """A row's cell text in column ``col``, its lines kept apart (a 类目适用范围 cell's ``注：`` line
    is its own line), None where there is no such column or the cell is empty."""
    if col is None or col >= len(row.cells):
        return None
    return "\n".join(l.text for l in row.cells[col].lines) or None


def _kv_index(t: Table) -> tuple[tuple[int, str, tuple[int, ...]], ...]:
    """Where the key/value rows of a table whose first column holds row labels stand in it:
    (row, label, value columns) each, the same for the table moved to other lines (remembered
    with its section: ``_read_section``); ``_kv_placed`` gives the rows."""
    rows = []
    for n, row in enumerate(t.rows):
        if not row.cells:
            continue
        label = fold(row.cells[0].text)
        values = tuple(i for i, c in enumerate(row.cells) if i and not c.carried)
        if label.startswith(patterns.LABEL_REQUIREMENT) or label in (patterns.LABEL_SCENARIO,
                                                                     patterns.LABEL_SCOPE):
            rows.append((n, row.cells[0].text, values))
        elif patterns.LABEL_NOTE.match(row.cells[0].text):
            rows.append((n, "注意", values))
    return tuple(rows)


def _kv_placed(t: Table, index) -> list[tuple[str, list]]:
    """``[(label, value cells)]`` of ``t``, from where they stand (``_kv_index``)."""
    return [(label, [t.rows[n].cells[i] for i in values]) for n, label, values in index]


def _kv_draft(h: _Heading, t: Table | None, rows: list[tuple[str, list]],
              path: tuple[str, ...], section: str, memo=None) -> Draft:
    """``t``: the section's table; ``rows``: its key/value rows (``_kv_placed``)."""
    scope = scenario = None
    notes = list(h.notes)
    requirement = None
    req_text = ""
    end = h.end or h.line
    if t is not None:
        end = max(end, t.line_end)
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
                                                   columns=columns if len(columns) > 1 else None, memo=memo)
            elif value:
                notes.append(value)
    if requirement is None:
        requirement = lines_to_requirement([], header="", memo=memo)
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
