"""Flattened page text: one line per heading or table cell, tables without markup.

Shared by the web-copy parser (``webtext``) and the PDF-text parser (``pdftext``). The PDF text
adds three problems, switched on with ``wrapped=True``: cells broken over several lines, bare
link URLs listed at page breaks, and "具备…进行接入" sentences displaced from their sections.

A document is split into pages at ``最近更新时间`` lines (the title is the line above). Each
page is read by what it contains, not by its title:
- category sections (a ``要求 说明`` table per category)            -> statements
- ``场景N：…`` blocks with ``小程序内容场景 要求 接入方案`` tables      -> scenarios
- a ``小程序直播场景 要求`` table of the categories a method accepts -> scenarios
- ``涉及…，请咨询…申请办理《…》`` sentences                         -> licences
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Sequence

from pipeline.parsers import patterns
from pipeline.core.errors import ParseError, PipelineWarning, warning
from pipeline.core.model import License, Line, Page, ParsedDocument, Scenario, Span, Statement
from pipeline.core.normalize import clean, display_width, fold, lines_containing, real_date, squeeze_cjk
from pipeline.parsers.memo import ParseMemo, any_warning, placed_licence, placed_scenario, placed_statement, placed_warning
from pipeline.parsers.rules import lines_to_requirement
from pipeline.parsers.sections import (Draft, Sentence, could_be_needs_sentence, detect_capability, drafts_to_statements, needs_statements,
                               heading_levels, method_pattern, method_scenario, paths_name_section,
                               parse_sentence, strip_markup)

_LABELS = (patterns.LABEL_SCENARIO, patterns.LABEL_SCOPE, patterns.LABEL_REQUIREMENT)
_FIELD = {patterns.LABEL_SCENARIO: "scenario", patterns.LABEL_SCOPE: "scope",
          patterns.LABEL_REQUIREMENT: "requirement"}
_CONNECTOR_END = "，,、的与及或和（(“-/："
_NOT_IN_HEADING = re.compile(r"[《》“”\"。；;：:，,!！?？]")
#: a heading is short; longer lines are sentences or cells
_HEADING_MAX = 40


class Phys(NamedTuple):
    """A physical line: number, text as written (for the leading space) and cleaned text.
    (A named tuple: a page makes one per line, several times cheaper than a frozen dataclass.)"""

    no: int
    raw: str
    text: str

    @property
    def indented(self) -> bool:
        """PDF text drops bullet glyphs but keeps the space after them."""
        return self.raw[:1] in (" ", "\u3000") and bool(self.text)


def to_lines(raw: Sequence[str], first: int = 1, memo: ParseMemo | None = None) -> list[Phys]:
    """Physical lines from lines as written, the first of them being line ``first`` (``memo``:
    each distinct line cleaned once)."""
    if memo is None:
        return [Phys(first + i, r, clean(r)) for i, r in enumerate(raw)]
    cleaned = memo.pure(clean)
    got = cleaned.got  # (looked up here: a call per line costs more than the lookup)
    return [Phys(first + i, r, got[r] if r in got else cleaned(r)) for i, r in enumerate(raw)]


# --- pages -------------------------------------------------------------------------------

@dataclass
class _Page:
    title: str | None
    updated: str | None
    #: the page's lines as written, the first of them being line ``first`` of the document
    raw: tuple[str, ...]
    first: int


def split_pages(raw: list[str], text: str | None = None, file: str = "") -> list[_Page]:
    """The pages of a document (lines as written, split from ``text``); a page starts at the
    title line above ``最近更新时间``. Lines above the first page are left out. A date that is
    no day (``2026-99-99``) is an error: it would order and name versions."""
    marks = []
    for i in lines_containing(raw, "最近更新时间", text):
        m = patterns.UPDATED_AT.search(clean(raw[i]))
        if m:
            if not real_date(m.group("date")):
                raise ParseError(file, i + 1, f"page date {m.group('date')!r} is not a real date (YYYY-MM-DD)")
            t = i - 1
            while t >= 0 and not clean(raw[t]):
                t -= 1
            marks.append((t if t >= 0 else i, i, m.group("date")))
    if not marks:
        return [_Page(None, None, tuple(raw), 1)]
    pages = []
    for n, (t, u, date) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(raw)
        title = clean(raw[t]) if t != u else None
        pages.append(_Page(title, date, tuple(raw[u + 1:end]), u + 2))
    return pages


# --- sentences ---------------------------------------------------------------------------

def hoist_sentences(lines: list[Phys], wrapped: bool, memo: ParseMemo | None = None) -> tuple[list[Phys], list[Sentence]]:
    """Take every integration sentence out of the flow of lines (with its wrapped tail).
    ``memo``: each distinct text read as a sentence once (``parse_sentence``)."""
    out: list[Phys] = []
    sentences: list[Sentence] = []
    # a sentence starts only on a line that says 具备: the lines between are taken as they are
    starts = [n for n, ln in enumerate(lines) if "具备" in ln.text]
    i = 0
    for c in starts:
        if c < i:  # (in the tail of the sentence before)
            continue
        out += lines[i:c]
        i = c
        ln = lines[i]
        if "类目" in ln.text or (wrapped and ln.text.lstrip().startswith(("具备", "若同时具备"))):
            text, j = ln.text, i
            s = parse_sentence(text, ln.no, memo)
            while s is None and wrapped and j + 1 < len(lines) and j - i < 4:
                j += 1
                if lines[j].text:
                    text = _join(text, lines[j].text)
                    s = parse_sentence(text, ln.no, memo)
            if s is not None:
                # a sentence wrapped after 进行接入 keeps its tail ("…在线咨询服" / "务，建议选…")
                while wrapped and not text.rstrip().endswith(tuple(patterns.TERMINAL)):
                    k = j + 1
                    while k < len(lines) and not lines[k].text:
                        k += 1
                    if k >= len(lines) or _structural(lines[k].text) or "具备" in lines[k].text:
                        break
                    text, j = _join(text, lines[k].text), k
                sentences.append(Sentence(s.paths, s.names, s.method, s.components, s.also,
                                          text, s.line, s.renamed_from))
                i = j + 1
                continue
        out.append(ln)
        i += 1
    out += lines[i:]
    return out, sentences


def _structural(text: str) -> bool:
    f = fold(text)
    return (f in ("要求说明", "要求", "说明") or bool(patterns.LABEL_NOTE.match(text))
            or any(f.startswith(label) for label in _LABELS))


def _join(a: str, b: str) -> str:
    """Join a wrapped line: no space between CJK, one space between two ASCII words."""
    a, b = a.rstrip(), b.lstrip()
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return f"{a} {b}"
    return a + b


# --- sections ----------------------------------------------------------------------------

@dataclass
class _Open:
    heading: Phys
    path: tuple[str, ...]
    fields: dict[str, list[Phys]] = field(default_factory=dict)
    header: str = ""
    current: str | None = None
    table: bool = False
    end: int = 0
    #: sentences written right under the heading (before the next line of the section)
    inplace: tuple[Sentence, ...] = ()


class _Sections:
    """Reads the category sections of one page."""

    def __init__(self, lines: list[Phys], sentences: list[Sentence], wrapped: bool, page: str | None,
                 memo: ParseMemo, file: str = ""):
        self.page = page
        self.memo = memo  # (the build's ``ParseMemo``: what the same texts gave before)
        self.sig = [ln for ln in lines if ln.text and not patterns.URL_LINE.match(ln.text)]
        # the lookaheads compare folded text many times over: fold each line once (each
        # distinct line once in the build: versions of a page share most lines)
        folded = memo.pure(fold)
        self.folded = [folded(ln.text) for ln in self.sig]
        self.sentences = sorted(sentences, key=lambda s: s.line)
        self._sentence_lines = [s.line for s in self.sentences]
        self.wrapped = wrapped
        self._section_cache: dict[int, bool] = {}
        # every lookahead asks the same questions of the same lines: answer each once here,
        # and each distinct window of lines once in the build
        self._label_cache: dict[int, tuple[str, int, str] | None] = {}
        self._heading_cache: dict[int, bool] = {}
        self._label_in = memo.pure(_label_in)
        self._heading_in = memo.pure(_heading_in)
        self._names = memo.pure(paths_name_section)
        self._levels = memo.pure(heading_levels)
        # what a run of lines is remembered by and checked against (``_remembered_run``): each
        # line as written and its distance from the one above; each sentence by the line it
        # follows (-1: above the first), its distance below it and what it names; the page's own
        self.file = file
        nos = [ln.no for ln in self.sig]
        self.keys = [(ln.raw, ln.no - (nos[n - 1] if n else ln.no)) for n, ln in enumerate(self.sig)]
        self._anchors = [bisect.bisect_left(nos, x.line) - 1 for x in self.sentences]
        self._sentence_keys = [(x.line - (nos[a] if a >= 0 else 0), x.also, x.paths)
                               for a, x in zip(self._anchors, self.sentences)]
        self.facts = memo.token((wrapped, page, tuple(sorted({(x.also, x.paths) for x in self.sentences}))))
        #: what ``_below_level1`` answered in the run being read (``_remembered_run``)
        self.asked: list = []

    # lookahead helpers -------------------------------------------------------------------
    def table_header(self, k: int) -> int:
        """Lines taken by a ``要求 说明`` header at k (0 if none)."""
        return _header_taken(self.folded[k:k + 2])

    def label_at(self, k: int) -> tuple[str, int, str] | None:
        """A row label at k, possibly broken over lines (``小程序直`` / ``播场景``).

        Returns (label, lines taken, rest of the last line after the label).
        """
        if k not in self._label_cache:
            self._label_cache[k] = self._label_at(k)
        return self._label_cache[k]

    def _label_at(self, k: int) -> tuple[str, int, str] | None:
        return self._label_in(self._window(k))

    def _window(self, k: int) -> tuple[str, ...]:
        """The texts of lines k to k+2: all a label or a heading at k depends on."""
        return tuple(ln.text for ln in self.sig[k:k + 3])

    def heading_like(self, k: int) -> bool:
        if k not in self._heading_cache:
            self._heading_cache[k] = self._heading_in(self._window(k))
        return self._heading_cache[k]

    def _sentences_after(self, k: int) -> list[Sentence]:
        lo = self.sig[k].no
        hi = self.sig[k + 1].no if k + 1 < len(self.sig) else 10 ** 9
        i = bisect.bisect_right(self._sentence_lines, lo)
        j = bisect.bisect_left(self._sentence_lines, hi)
        return self.sentences[i:j]

    def section_heading(self, k: int, strict: bool = False) -> bool:
        """A category heading: its own sentence follows, or (after notes) a ``要求 说明`` table."""
        key = k * 2 + strict
        if key in self._section_cache:
            return self._section_cache[key]
        ok = False
        if self.heading_like(k):
            levels = self._levels(self.sig[k].text)
            if any(not s.also and self._names((s.paths, levels)) for s in self._sentences_after(k)):
                ok = True
            else:
                j = k + 1
                if j < len(self.sig) and patterns.LABEL_NOTE.match(self.sig[j].text):
                    if strict:
                        j = len(self.sig)
                    j += 1
                    while (j < len(self.sig) and j - k < 12 and not self.table_header(j)
                           and not self.heading_like(j) and not self.label_at(j)):
                        j += 1
                ok = bool(self.table_header(j))
        self._section_cache[key] = ok
        return ok

    def level1_heading(self, k: int) -> bool:
        """A first-level heading: directly above a one-level category heading."""
        if not self.heading_like(k) or self.section_heading(k) or k + 1 >= len(self.sig):
            return False
        if self.wrapped and self.sig[k].indented:
            return False
        if not self.section_heading(k + 1):
            return False
        below = self._levels(self.sig[k + 1].text)
        if len(below) != 1:
            return False
        mine = self.folded[k]
        for s in self.sentences:
            if not s.also and self._names((s.paths, below)):
                firsts = [fold(p[0]) for p in s.paths if len(p) > 1]
                if firsts and not any(mine.startswith(f) or f.startswith(mine) for f in firsts):
                    return False
        return True

    def _below_level1(self, k: int, levels: tuple[str, ...], level1: tuple[str, ...]) -> bool:
        """Is a multi-level heading (``学历教育(培训机构) - 职业培训/课外辅导``) nested in the
        first-level heading above it? Its own sentence says so by naming more levels
        (``教育-培训机构-职业培训``) whose first is that heading."""
        if not level1:
            return False
        for s in self.sentences:
            if not s.also and self._names((s.paths, levels)):
                return any(len(p) > len(levels) and fold(p[0]) == fold(level1[0]) for p in s.paths)
        return False

    # the scan ----------------------------------------------------------------------------
    def read(self) -> list[Draft]:
        """The category sections, as drafts. Each line is a first-level heading (it closes the
        open section and prefixes the headings below it), a section's heading (it opens a
        section), or a line of the open section's body (``_read_body``).

        The page is read in runs (``_run``): the lines above its first section, then each
        section from its heading up to the next section's, each remembered in the memo by all
        it looks at (``_remembered_run``) and placed at its lines."""
        drafts: list[Draft] = []
        k, level1 = self._remembered_run(0, (), False, drafts)
        while k < len(self.sig):
            k, level1 = self._remembered_run(k, level1, True, drafts)
        return drafts

    def _run(self, k: int, level1: tuple[str, ...], opening: bool, drafts: list[Draft]) -> tuple[int, tuple[str, ...]]:
        """The scan from line k (``opening``: a section's heading, opened here) up to the next
        section's heading; the section closed into ``drafts``. Returns where the next section
        opens (or the end) and the first-level heading there."""
        cur: _Open | None = None
        if opening:
            ln = self.sig[k]
            levels = self._levels(ln.text)
            if len(levels) > 1 and level1:
                below = self._below_level1(k, levels, level1)
                self.asked.append((levels, level1, below))
                if not below:
                    level1 = ()
            elif len(levels) > 1:
                level1 = ()
            cur = _Open(ln, level1 + levels, end=ln.no, inplace=tuple(self._sentences_after(k)))
            k += 1
        while k < len(self.sig):
            ln = self.sig[k]
            # a 场景/适用范围 text may hold heading-like lines: there no line is a first-level
            # heading, and one is a section's heading only if its own sentence or a table follows
            # it directly, not after notes (``section_heading(strict=True)``)
            in_text_field = cur is not None and cur.current in ("scenario", "scope")
            if not in_text_field and self.level1_heading(k):
                if cur:
                    drafts.append(self._close(cur))
                    cur = None
                level1 = self._levels(ln.text)
                k += 1
            elif self.section_heading(k, strict=in_text_field):
                break
            elif cur is None:  # above the first section
                k += 1
            else:
                k = self._read_body(cur, k)
        if cur:
            drafts.append(self._close(cur))
        return k, level1

    def _remembered_run(self, k: int, level1: tuple[str, ...], opening: bool,
                        drafts: list[Draft]) -> tuple[int, tuple[str, ...]]:
        """``_run``, or what it gave for the same lines before (``ParseMemo.checked``).

        What a run reads: the lines from k up to 14 past where it stops (the lookaheads of a
        heading's test: ``section_heading`` looks 13 lines on, ``level1_heading`` at the next
        line's), as written and at the same distances; whether the page ends among them; the
        sentences between them; and of the page: its title, whether its text is wrapped,
        what its every sentence names (``level1_heading``: in any order), the first-level
        heading the run starts under, and what ``_below_level1`` answered (it asks the first
        sentence that names a heading: their order matters there). The first are checked
        against what the run read, the rest make the key; what ``_below_level1`` answered is
        asked again."""
        first = self.sig[k].no if k < len(self.sig) else 0
        key = (self.keys[k][0] if k < len(self.sig) else None, level1, opening, self.facts)

        def read():
            got: list[Draft] = []
            self.asked = []
            end, level1_out = self._run(k, level1, opening, got)
            reach = min(len(self.sig), end + 15)
            return (got, end - k, level1_out), (*self._read_at(k, reach), tuple(self.asked))

        def matches(what) -> bool:
            lines, ends, sentences, asked = what
            reach = k + 1 + len(lines)
            # (the last line first: where versions differ, it most often does)
            return (reach <= len(self.sig) and ends == (reach == len(self.sig))
                    and (not lines or self.keys[reach - 1] == lines[-1])
                    and self.keys[k + 1:reach] == lines
                    and sentences == self._sentences_in(k, reach)
                    and all(self._below_level1(k, levels, l1) == below for levels, l1, below in asked))

        def moved(run, delta: int):
            got, n, level1_out = run
            inplace = tuple(self._sentences_after(k)) if opening else ()
            return [d if not delta and len(d.inplace) == len(inplace) and all(a is b for a, b in zip(d.inplace, inplace))
                    else d.placed(delta, inplace)
                    for d in got], k + n, level1_out

        got, end, level1_out = self.memo.checked("flat_run", key, matches, first, self.file, read, moved,
                                                 lambda run: any(d.warnings or any_warning(d.requirement)
                                                                 for d in run[0]))
        drafts += got
        return end, level1_out

    def _read_at(self, k: int, reach: int):
        """What a run from line k read of the page's lines up to ``reach`` (``_remembered_run``)."""
        return self.keys[k + 1:reach], reach == len(self.sig), self._sentences_in(k, reach)

    def _sentences_in(self, k: int, reach: int) -> list[tuple]:
        """The sentences after lines k to ``reach`` - 1: which line they follow (from k), how
        far below it, whether they are an alternative, what they name."""
        i = bisect.bisect_left(self._anchors, k)
        j = bisect.bisect_left(self._anchors, reach)
        return [(self._anchors[n] - k, *self._sentence_keys[n]) for n in range(i, j)]

    def _read_body(self, cur: _Open, k: int) -> int:
        """Line k of the open section's body, read into ``cur``: a ``要求 说明`` table's header,
        a notes label, a field's label (``_read_label``), or a line of the field being read.
        Returns the index of the next line to read."""
        ln = self.sig[k]
        cur.end = ln.no
        taken = self.table_header(k)
        if taken:
            cur.table = True
            cur.current = None
            cur.end = self.sig[k + taken - 1].no
            return k + taken
        if patterns.LABEL_NOTE.match(ln.text):
            cur.current = "notes"
            cur.fields.setdefault("notes", [])
            return k + 1
        lab = self.label_at(k)
        if lab:
            return self._read_label(cur, k, lab)
        cur.fields.setdefault(cur.current or "notes", []).append(ln)
        return k + 1

    def _read_label(self, cur: _Open, k: int, lab: tuple[str, int, str]) -> int:
        """A field's label at line k (``lab``, from ``label_at``) opens that field in ``cur``;
        the rest of its last line starts the field's value. A requirement's label may be
        followed by a declaration in brackets, possibly wrapped over the next lines: read whole,
        it goes into the section's header. Returns the index of the next line to read."""
        label, taken, rest = lab
        k += taken
        cur.end = self.sig[k - 1].no
        name = _FIELD[label]
        cur.current = name
        cur.fields.setdefault(name, [])
        if name == "requirement":
            head = rest
            while not _balanced(head) and k < len(self.sig) and len(head) < 40:
                head = _join(head, self.sig[k].text)
                cur.end = self.sig[k].no
                k += 1
            paren, value = _split_declaration(head)
            cur.header = label + paren
            rest = value
        if rest.strip():
            last = self.sig[k - 1]
            cur.fields[name].append(Phys(last.no, " " + rest if last.indented else rest, clean(rest)))
        return k

    def _close(self, cur: _Open) -> Draft:
        def logical(name: str) -> list[Line]:
            return join_wrapped(cur.fields.get(name, []), self.wrapped, self.memo.pure(display_width))

        def text(name: str) -> str | None:
            got = " ".join(l.text for l in logical(name)).strip()
            return got or None

        req_lines = logical("requirement")
        if "requirement" in cur.fields or cur.header:
            requirement = lines_to_requirement(req_lines, header=cur.header, memo=self.memo)
        else:
            requirement = lines_to_requirement([], header="", memo=self.memo)
        notes = tuple(patterns.STARTS_WITH_ENUM.sub("", l.text).strip() for l in logical("notes"))
        own_warn = ()
        if not cur.table and "requirement" not in cur.fields:
            own_warn = (warning("no_requirement_table", "section has no 要求/资质要求 table: requirement unknown"),)
        return Draft(path=cur.path, line_start=cur.heading.no, line_end=max(cur.end, cur.heading.no),
                     section=self.page or (cur.path[0] if cur.path else ""), requirement=requirement,
                     requirement_text="\n".join(l.text for l in req_lines), scope=text("scope"),
                     scenario=text("scenario"), notes=tuple(n for n in notes if n),
                     inplace=cur.inplace, warnings=own_warn)


def _header_taken(folded: Sequence[str]) -> int:
    """Lines taken by a ``要求 说明`` table header at the top of ``folded`` (0 if none)."""
    if folded and folded[0] == "要求说明":
        return 1
    return 2 if len(folded) > 1 and folded[0] == "要求" and folded[1] == "说明" else 0


def _label_in(window: tuple[str, ...]) -> tuple[str, int, str] | None:
    """A row label at the top of ``window``, possibly broken over its lines (``小程序直`` /
    ``播场景``): (label, lines taken, rest of the last line after the label)."""
    for label in _LABELS:
        acc = ""
        for n, t in enumerate(window):
            f = fold(t)
            need = label[len(acc):]
            if f.startswith(need):
                return label, n + 1, _after(t, need)
            if need.startswith(f) and f:
                acc += f
                continue
            break
    return None


def _heading_in(window: tuple[str, ...]) -> bool:
    """Could the top line of ``window`` be a heading (short, no sentence punctuation, not a
    label, table header, note, link or date)?"""
    t = window[0]
    if (not t or len(fold(t)) > _HEADING_MAX or _NOT_IN_HEADING.search(t)
            or patterns.NONE_TEXT.match(t) or patterns.STARTS_WITH_ENUM.match(t)
            or t[0] in "（(" or _header_taken([fold(x) for x in window[:2]]) or _label_in(window)
            or patterns.LABEL_NOTE.match(t) or patterns.URL_LINE.match(t)
            or patterns.UPDATED_AT.search(t)):
        return False
    return _balanced(t)


def _after(text: str, need: str) -> str:
    """The part of ``text`` after the characters of ``need`` (spaces in ``text`` ignored)."""
    i = 0
    for ch in need:
        while i < len(text) and text[i].isspace():
            i += 1
        if i < len(text) and fold(text[i]) == fold(ch):
            i += 1
    return text[i:].strip()


def _balanced(text: str) -> bool:
    opens = sum(text.count(c) for c in "（(")
    closes = sum(text.count(c) for c in "）)")
    return opens == closes


def _split_declaration(head: str) -> tuple[str, str]:
    """``（2选1）rest`` -> (``（2选1）``, ``rest``), with the one pattern every format uses
    (``patterns.LEADING_DECLARATION``); text that does not open with a declaration is all value."""
    head = head.strip()
    m = patterns.LEADING_DECLARATION.match(head)
    if not m:
        return "", head
    return squeeze_cjk(m.group(0).strip().rstrip(":：").strip()), head[m.end():].strip()


def join_wrapped(lines: list[Phys], wrapped: bool, width=display_width) -> list[Line]:
    """Logical lines from physical ones. In PDF text a line continues the one above when that
    one is (nearly) full width or ends on a joining character, and it does not itself open an
    item (a number, or the space a dropped bullet leaves). ``width``: ``display_width``, or
    the same remembered (``ParseMemo.pure``)."""
    if not lines:
        return []
    if not wrapped:
        return [Line(l.text, l.no, l.no) for l in lines if l.text]
    widest = max(width(l.text) for l in lines)
    out: list[Line] = []
    prev_physical = ""
    for l in lines:
        if not l.text:
            continue
        if out and not l.indented and not patterns.STARTS_WITH_ENUM.match(l.text):
            # the width that matters is the physical line above, not the logical line so far
            full = width(prev_physical) >= 0.7 * widest
            if not prev_physical.endswith(tuple(patterns.TERMINAL)) and (
                    full or prev_physical.endswith(tuple(_CONNECTOR_END))):
                out[-1] = Line(_join(out[-1].text, l.text), out[-1].line, l.no)
                prev_physical = l.text
                continue
        out.append(Line(l.text, l.no, l.no))
        prev_physical = l.text
    return out


# --- scenarios and licences --------------------------------------------------------------



@dataclass
class _Frag:
    text: str
    line: int
    newline: bool  # starts a physical line (else: after a space on the same line)


def _fragments(lines: list[Phys]) -> list[_Frag]:
    out = []
    for ln in lines:
        for n, part in enumerate(re.split(r"\s+", ln.text.strip())):
            if part:
                out.append(_Frag(part, ln.no, n == 0))
    return out


def _rows_of_table(frags: list[_Frag], methods: re.Pattern) -> list[dict]:
    """Cells of a flattened scenario table, told apart by what they say.

    A solution names an access method (or ``见场景N…方案``); a requirement names a category or
    the account's subject (``…类目``, ``…主体``, ``见场景N…要求``); anything else is content. A
    fragment continues the cell before it when that cell is unfinished (no ``类目``/``主体``/
    ``。`` at its end) or when either side is a joining word (``或``, ``、``, ``-``).

    Each fragment's kind is read on its own (``_fragment_kinds``), then the fragments are
    grouped into rows and cells in order (``_group_rows``).
    """
    # solutions are found in the joined text: one may be cut over fragments ("标准直播+直" / "播标签")
    joined = "".join(f.text for f in frags)
    spans = [(m.start(), m.end()) for m in methods.finditer(joined)]
    spans += [(m.start(), m.end()) for m in patterns.SCENARIO_REFERENCE.finditer(joined)
              if m.group(0).endswith("方案")]
    spans.sort()
    rows = _group_rows(frags, _fragment_kinds(frags, spans), spans, joined)
    for r in rows:
        r["requirements"] = [t for t, _ in r["requirements"]]
        r["solutions"] = list(dict.fromkeys(r["solutions"]))
    return rows


def _fragment_kinds(frags: list[_Frag], spans: list[tuple[int, int]]) -> list[str]:
    """Each fragment's kind by what it says alone: "solution" (it overlaps a solution's span in
    the joined text), "requirement" or "content"."""
    kinds, pos = [], 0
    for f in frags:
        a, b = pos, pos + len(f.text)
        pos = b
        if any(s < b and a < e for s, e in spans):
            kinds.append("solution")
        elif patterns.SCENARIO_REQUIREMENT_HINT.search(f.text) or patterns.SCENARIO_REFERENCE.search(f.text) \
                or f.text.startswith("见场景"):
            kinds.append("requirement")
        else:
            kinds.append("content")
    return kinds


def _group_rows(frags: list[_Frag], kinds: list[str], spans: list[tuple[int, int]], joined: str) -> list[dict]:
    """The fragments grouped into rows, in order: a fragment continues the cell before it or
    starts a new cell, and a solution closes its row. Requirements are kept as (text, whether
    it began a line) until the caller drops the flag."""
    rows: list[dict] = []
    row = {"content": [], "requirements": [], "solutions": []}
    last_kind = None
    pos = 0
    for f, kind in zip(frags, kinds):
        start = pos
        pos += len(f.text)
        if kind == "solution":
            sol = next((joined[s:e] for s, e in spans if s < pos and start < e), f.text)
            # one solution may span several fragments ("标准直播+直" / "播标签"): record it once
            if not row["solutions"] or row["solutions"][-1] != sol:
                row["solutions"].append(sol)
            last_kind = "solution"
            continue
        if last_kind == "solution" or (kind == "content" and last_kind == "requirement"
                                       and not _unfinished(row["requirements"][-1][0]) and f.newline):
            # a solution closes a row; so does finished requirement text followed by new content
            # (tables without a solution column)
            rows.append(row)
            row = {"content": [], "requirements": [], "solutions": []}
            last_kind = None
        if kind == "content" and last_kind == "requirement" and _unfinished(row["requirements"][-1][0]):
            kind = "requirement"
        if kind == "content" and last_kind == "requirement" and not f.newline:
            kind = "requirement"
        if kind == "requirement" and last_kind == "requirement" and (
                _unfinished(row["requirements"][-1][0]) or _joiner(f.text)):
            prev, nl = row["requirements"][-1]
            row["requirements"][-1] = (prev + ("" if f.newline else " ") + f.text, nl)
        elif kind == "requirement":
            row["requirements"].append((f.text, f.newline))
        elif kind == "content" and last_kind == "content":
            row["content"][-1] += ("" if f.newline else " ") + f.text
        else:
            row["content"].append(f.text)
        last_kind = kind
    if any(row.values()):
        rows.append(row)
    return rows


def _unfinished(text: str) -> bool:
    return not text.endswith(("类目", "主体", "要求", "。")) or _joiner(text[-1:])


def _joiner(text: str) -> bool:
    return text in ("或", "及", "和", "、", "-", "与") or text.startswith(("或", "、")) or text.endswith(("、", "-", "/"))


def read_scenarios(lines: list[Phys], methods: re.Pattern, file: str, page: str | None,
                   updated: str | None) -> list[Scenario]:
    """``场景N：…`` blocks, each a small table of content / requirement / access method."""
    sig = [ln for ln in lines if ln.text and not patterns.URL_LINE.match(ln.text)]
    heads = [i for i, ln in enumerate(sig) if patterns.SCENARIO_HEADING.match(ln.text)]
    out = []
    for n, h in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(sig)
        body = sig[h + 1:end]
        notes: list[str] = []
        cut = next((i for i, ln in enumerate(body) if patterns.LABEL_NOTE.match(ln.text)), None)
        if cut is not None:
            notes = [ln.text for ln in body[cut + 1:]]
            body = body[:cut]
        body = [ln for ln in body if not patterns.SCENARIO_TABLE_HEADER.match(ln.text)]
        rows = _rows_of_table(_fragments(body), methods)
        label = patterns.SCENARIO_HEADING.match(sig[h].text).group("label")
        content = "；".join(c for r in rows for c in r["content"])
        reqs = tuple(q for r in rows for q in r["requirements"])
        sols = tuple(dict.fromkeys(s for r in rows for s in r["solutions"]))
        last = body[-1].no if body else sig[h].no
        out.append(Scenario(scenario=clean(label), content=content, requirements=reqs, solutions=sols,
                            span=Span(file, sig[h].no, max(last, sig[h].no), page), notes=tuple(notes),
                            page=page, page_updated=updated))
    return out


def read_method_table(lines: list[Phys], methods: re.Pattern, title: str | None, file: str,
                      page: str | None, updated: str | None) -> list[Scenario]:
    """A two-column ``小程序直播场景 要求`` table on a method's own page: each row a scenario
    whose solution is the method the page is about."""
    sig = [ln for ln in lines if ln.text and not patterns.URL_LINE.match(ln.text)]
    start = next((i for i, ln in enumerate(sig) if patterns.SCENARIO_TABLE_HEADER.match(ln.text)
                  and "接入方案" not in ln.text), None)
    if start is None:
        return []
    method = None
    for ln in [*(sig[max(0, start - 3):start]), Phys(0, title or "", title or "")]:
        m = methods.search(fold(ln.text))
        if m:
            method = m.group(0)
    if method is None:
        return []
    body = []
    for ln in sig[start + 1:]:
        if patterns.LABEL_NOTE.match(ln.text) or (len(fold(ln.text)) <= 8 and _NOT_IN_HEADING.search(ln.text) is None
                                                  and not patterns.SCENARIO_REQUIREMENT_HINT.search(ln.text)
                                                  and body and not _unfinished_content(body[-1].text)):
            break
        body.append(ln)
    rows = _rows_of_table(_fragments(body), methods)
    out = []
    for r in rows:
        content = "".join(r["content"])
        if not content:
            continue
        out.append(Scenario(scenario=method_scenario(method, content), content=content,
                            requirements=tuple(r["requirements"]), solutions=(method,),
                            span=Span(file, body[0].no, body[-1].no, page), page=page,
                            page_updated=updated))
    return out


def _unfinished_content(text: str) -> bool:
    return bool(text) and not text.endswith(("。", "等", "播", "目", "台", "）"))


def read_licences(lines: list[Phys], file: str, page: str | None, updated: str | None) -> list[License]:
    out = []
    for ln in lines:
        # a Markdown source writes the authority as a link or in bold: ``请咨询[当地通信管理局](…)``
        markup = "](" in ln.text or "**" in ln.text
        if not markup and "涉及" not in ln.text:  # (every licence sentence says 涉及)
            continue
        text = strip_markup(ln.text) if markup else ln.text
        for m in patterns.LICENCE_SENTENCE.finditer(text):
            out.append(License(business=clean(m.group("business")), licence=clean(m.group("licence")),
                               authority=clean(m.group("authority")), span=Span(file, ln.no, ln.no, page),
                               page=page, page_updated=updated))
    return out


# --- the document ------------------------------------------------------------------------

@dataclass(frozen=True)
class _PageRead:
    """What one page says (``read_page``)."""

    statements: tuple[Statement, ...]
    scenarios: tuple[Scenario, ...]
    licences: tuple[License, ...]
    #: (line, names) of integration sentences that no section took
    unused: tuple[tuple[int, str], ...]
    kinds: tuple[str, ...]
    #: the first section's line, when the page has sections but the document no capability
    no_capability_at: int | None = None
    warnings: tuple[PipelineWarning, ...] = ()


def read_page(pg: _Page, file: str, wrapped: bool, capability: str | None, memo: ParseMemo) -> _PageRead:
    """What one page says, at its own lines, in ``file``, with its date. ``memo``: the build's
    ``ParseMemo`` (a page read before, anywhere, is moved here rather than read again)."""
    return memo.flat_page(pg.raw, pg.first, pg.title, pg.updated, file, (wrapped, capability),
                          lambda: _read_page(pg, file, wrapped, capability, memo), _moved_page)


def _moved_page(got: _PageRead, delta: int, file: str, updated: str | None, old_file: str) -> _PageRead | None:
    """A page's reading (one whose statements carry no warning: ``ParseMemo.flat_page``) moved
    ``delta`` lines, from ``old_file`` into ``file``, dated ``updated``; None if a warning of
    the page's cannot be moved."""
    warnings = tuple(placed_warning(w, delta, file, old_file) for w in got.warnings)
    if None in warnings:
        return None
    return replace(got, warnings=warnings, statements=tuple(placed_statement(s, delta, file, updated) for s in got.statements),
                   scenarios=tuple(placed_scenario(s, delta, file, updated) for s in got.scenarios),
                   licences=tuple(placed_licence(l, delta, file, updated) for l in got.licences),
                   unused=tuple((line + delta, names) for line, names in got.unused),
                   no_capability_at=None if got.no_capability_at is None else got.no_capability_at + delta)


def _read_page(pg: _Page, file: str, wrapped: bool, capability: str | None, memo: ParseMemo) -> _PageRead:
    body, sentences = hoist_sentences(to_lines(pg.raw, pg.first, memo), wrapped, memo)
    methods = method_pattern(sentences)
    kinds = []
    statements, unused = [], []
    drafts = _Sections(body, sentences, wrapped, pg.title, memo, file).read()
    if drafts:
        if capability is None:
            return _PageRead((), (), (), (), (), no_capability_at=drafts[0].line_start)
        statements, unused_sentences = drafts_to_statements(drafts, sentences, capability=capability,
                                                            file=file, page=pg.title, updated=pg.updated, memo=memo)
        unused = [(s.line, s.names) for s in unused_sentences]
        kinds.append("requirements")
    sc = read_scenarios(body, methods, file, pg.title, pg.updated)
    if not sc:
        sc = read_method_table(body, methods, pg.title, file, pg.title, pg.updated)
    if sc:
        kinds.append("scenarios")
    lic = read_licences(body, file, pg.title, pg.updated)
    if lic:
        kinds.append("licenses")
    could_need = memo.pure(could_be_needs_sentence)
    needs, needs_warnings = needs_statements(((ln.text, ln.no) for ln in body if could_need(ln.text)),
                                             capability=capability,
                                             section=pg.title or "text", file=file, page=pg.title,
                                             updated=pg.updated)
    if needs:
        statements = list(statements) + needs
        kinds.append("eligibility")
    return _PageRead(tuple(statements), tuple(sc), tuple(lic), tuple(unused), tuple(kinds),
                     warnings=tuple(needs_warnings))


def parse_document(text: str, file: str, *, fmt: str, wrapped: bool, memo: ParseMemo | None = None) -> ParsedDocument:
    """``memo``: the build's ``ParseMemo``; None: one of its own, for this document."""
    memo = memo if memo is not None else ParseMemo()
    capability = detect_capability(text)
    statements: list[Statement] = []
    scenarios: list[Scenario] = []
    licences: list[License] = []
    out_pages: list[Page] = []
    warnings: list[PipelineWarning] = []
    for pg in split_pages(text.split("\n"), text, file):
        got = read_page(pg, file, wrapped, capability, memo)
        if got.no_capability_at is not None:
            raise ParseError(file, got.no_capability_at, "cannot tell which capability the page is about")
        statements += got.statements
        scenarios += got.scenarios
        licences += got.licences
        warnings += [warning("sentence_without_section", f"sentence names {names!r} but no section of that "
                             f"category was found", file, line) for line, names in got.unused] + list(got.warnings)
        # a dated page starts at its date line; its title line above belongs to the page before
        first = max(1, pg.first - 1) if pg.updated else pg.first
        last = max(first, pg.first + len(pg.raw) - 1)
        out_pages.append(Page(pg.title, pg.updated, first, last, "+".join(got.kinds) or "other"))
    if not statements and not scenarios and not licences:
        # still a version of its page, one that lists nothing: said, not fatal
        warnings.append(warning("nothing_readable", "nothing readable: no category section, scenario table or "
                                                    "licence list found", file, 1))
    return ParsedDocument(format=fmt, capability=capability, pages=tuple(out_pages),
                          statements=tuple(statements), scenarios=tuple(scenarios),
                          licenses=tuple(licences), warnings=tuple(warnings))
