"""What one build's parse has read so far, by content: each distinct text is read once.

Real archives are many captures of a few pages: consecutive captures share nearly all their
text. The parsers are pure functions of what they are given, so a requirement's text gives the
same ``Requirement``, a flat page the same statements and a PDF page the same lines, wherever
and in whichever file they stand. ``ParseMemo`` keeps those results, keyed by everything
the reading depends on *except* where it stands (the first line, the file, the
page's date), and places a remembered result into its new source: lines moved, the file and the
date set (``Requirement.shifted``, ``placed``).

Warnings are text that may name a line or a file (``line 12: unclosed bracket``); a remembered
result that carries any is used only where it was read (same lines, same file), and read afresh
anywhere else, so no warning ever names another place than its own.

Versions of a page differ in a few lines, so a page as a whole is rarely read twice; its parts
are: a Markdown section, its draft and its category table's rows (``placed``), a run of a flat
page's lines from one section's heading to the next (``checked``: its end, and so all it
read, is known once it is read), an HTML table (``tables``), a line of text and the few lines
after it (``pure``: the parsers' pure functions of a text, such as ``normalize.fold`` or
whether a line can be a heading), a requirement's lines. Each is remembered by its content
alone and placed where it stands now.

Like pdfplumber's per-page caches, a memo is owned by what uses it: the build makes one for the
sources it parses itself, each parse task of a pool one for its share (``build._parse_into``), a
parser called without one makes its own for the document; it goes with its owner. Each kind
keeps at most a bounded number of results, the least recently used forgotten first (the
results of ``pure`` functions: all at once when full).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from pipeline.core.errors import PipelineWarning
from pipeline.core.model import Line, License, Requirement, Scenario, Span, Statement


class _Lru:
    """At most ``size`` results, the least recently used forgotten first."""

    def __init__(self, size: int):
        self.size = size
        self.got: dict = {}

    def get(self, key):
        found = self.got.pop(key, None)
        if found is not None:
            self.got[key] = found  # (put back last: the most recently used)
        return found

    def put(self, key, value) -> None:
        self.got[key] = value
        if len(self.got) > self.size:
            del self.got[next(iter(self.got))]


class _Pure:
    """``fn`` (a pure function of one hashable argument, whose result nobody changes), each
    distinct argument computed once; at most ``size`` results kept, all forgotten when full
    (cheaper than keeping them in order of use, for results that cost microseconds)."""

    __slots__ = ("fn", "got", "size")

    def __init__(self, fn: Callable, size: int):
        self.fn, self.got, self.size = fn, {}, size

    def __call__(self, arg):
        try:
            return self.got[arg]
        except KeyError:
            pass
        value = self.fn(arg)
        if len(self.got) >= self.size:
            self.got.clear()
        self.got[arg] = value
        return value


class ParseMemo:
    """The results of the parse's pure readings, by content (the module's docstring)."""

    def __init__(self, pdf_pages: int = 64, requirements: int = 4096, flat_pages: int = 128,
                 tables: int = 1024, texts: int = 65536, sections: int = 4096):
        self._pdf = _Lru(pdf_pages)
        self._requirements = _Lru(requirements)
        self._flat = _Lru(flat_pages)
        self._tables = _Lru(tables)
        self._placed: dict[str, _Lru] = {}
        self._checked: dict[str, _Lru] = {}
        self._sections = sections
        self._tokens: dict = {}
        self._next_token = 0
        self._texts = texts
        self._pure: dict[Callable, _Pure] = {}

    def remembered(self) -> dict[str, int]:
        """How many results of each kind are kept now."""
        return {"pdf_pages": len(self._pdf.got), "requirements": len(self._requirements.got),
                "flat_pages": len(self._flat.got), "tables": len(self._tables.got),
                "texts": sum(len(p.got) for p in self._pure.values()),
                "sections": sum(len(p.got) for p in self._placed.values()),
                "runs": sum(len(kept) for p in self._checked.values() for kept in p.got.values())}

    def pure(self, fn: Callable) -> Callable:
        """``fn`` remembered by its argument, in this memo: for a pure function of one text (or
        a tuple of texts) that names no line and whose result is never changed (``fold``,
        ``clean``, whether a line can be a heading)."""
        got = self._pure.get(fn)
        if got is None:
            got = self._pure[fn] = _Pure(fn, self._texts)
        return got

    def tables(self, html: str, first_line: int, read: Callable[[str, int], list],
               move: Callable[[object, int], object]) -> list:
        """``read(html, first_line)`` (``htmltable.read_tables``: the tables of a block of
        HTML), or what it gave for the same HTML before, each table moved by ``move(table,
        delta)`` to start ``delta`` lines further down. Tables that carry a warning are used
        only where they were read."""
        got = self._tables.get(html)
        if got is not None:
            tables, at = got
            if at == first_line:
                return tables
            if not any(t.warnings for t in tables):
                return [move(t, first_line - at) for t in tables]
        tables = read(html, first_line)
        self._tables.put(html, (tables, first_line))
        return tables

    def placed(self, kind: str, key, first: int, file: str, read: Callable[[], object],
               move: Callable[[object, int], object], warns: Callable[[object], bool]):
        """A part of a page (``kind``: a Markdown section, its draft, its category rows): what
        ``read()`` gave before for ``key`` (everything the reading depends on except where it
        stands: the first line ``first``, the ``file``), moved by ``move(result, delta)`` from
        the line it was read at; else ``read()``, remembered. ``read()`` giving None (the part
        cannot be read alone) is not remembered. A result that ``warns`` is used only where it
        was read (same first line, same file). What is given out is always ``move``'s, with
        delta 0 where it was read: ``move`` makes what the caller may change afresh."""
        lru = self._placed.get(kind)
        if lru is None:
            lru = self._placed[kind] = _Lru(self._sections)
        got = lru.get(key)
        if got is not None:
            result, at, in_file = got
            if (at == first and in_file == file) or not warns(result):
                return move(result, first - at)
        result = read()
        if result is None:
            return None
        lru.put(key, (result, first, file))
        return move(result, 0)

    def checked(self, kind: str, key, matches: Callable[[object], bool], first: int, file: str,
                read: Callable[[], tuple], move: Callable[[object, int], object],
                warns: Callable[[object], bool]):
        """``placed`` for a reading whose key names only part of what it depends on (a run of
        a flat page's lines, whose end is known once it is read): ``read()`` gives (result,
        what else it read), and a result is used only where ``matches(what)``. A few results
        are kept per key, the last used first."""
        lru = self._checked.get(kind)
        if lru is None:
            lru = self._checked[kind] = _Lru(self._sections)
        kept = lru.get(key) or ()
        for n, (what, result, at, in_file) in enumerate(kept):
            if matches(what) and ((at == first and in_file == file) or not warns(result)):
                if n:  # (the one used first next time: versions mostly repeat the same)
                    lru.put(key, (kept[n],) + kept[:n] + kept[n + 1:])
                return move(result, first - at)
        result, what = read()
        lru.put(key, ((what, result, first, file),) + kept[:7])
        return move(result, 0)

    def token(self, value) -> int:
        """A number for ``value`` (hashable), the same for equal values while it is remembered:
        a short key part for a value that many keys share (a page's sentences)."""
        got = self._tokens.get(value)
        if got is None:
            if len(self._tokens) >= self._sections:
                self._tokens.clear()  # (numbers are never given twice: old keys stay apart)
            got = self._tokens[value] = self._next_token
            self._next_token += 1
        return got

    def read(self, key, read: Callable[[], object]):
        """A PDF page: ``read()``, or what it gave for ``key`` before (``key`` None: always
        read). ``key`` is a digest of the page's content streams and resources
        (``pdf._page_key``); the caller numbers the page (``pdf._numbered``)."""
        if key is None:
            return read()
        got = self._pdf.get(key)
        if got is None:
            got = read()
            self._pdf.put(key, got)
        return got

    def requirement(self, lines: Sequence[Line], header: str, columns: Sequence[Sequence[Line]] | None,
                    read: Callable[..., Requirement]) -> Requirement:
        """``read(lines, header, columns)`` (``rules.lines_to_requirement``), or what it gave for
        the same texts at the same distances before, moved to these lines."""
        every = list(lines) + [ln for col in (columns or ()) for ln in col]
        base = every[0].line if every else 0

        def rel(ls):
            return tuple((ln.text, ln.line - base, ln.end - base if ln.end else None, ln.bullet, ln.depth)
                         for ln in ls)

        # the tuple itself is the key (texts, numbers, flags: hashable, compared exactly); a
        # digest of its ``repr`` cost more than the lookup it keyed
        key = (header, rel(lines), None if columns is None else tuple(rel(c) for c in columns))
        got = self._requirements.get(key)
        if got is not None:
            req, at = got
            if at == base:
                return req
            if not any_warning(req):
                return req.shifted(base - at)
        req = read(lines, header, columns)
        self._requirements.put(key, (req, base))
        return req

    def flat_page(self, raw: tuple[str, ...], first: int, title: str | None, updated: str | None, file: str,
                  options: tuple, read: Callable[[], object], move: Callable[..., object | None]):
        """A page of flat text (``flat.read_page``): ``read()``, or what it gave before for the
        same lines, title and ``options``, placed by ``move(result, delta, file, updated,
        old_file)`` at line ``first`` of ``file`` with the page's date ``updated`` (None: it
        cannot be moved, and is read afresh). Statements that carry a warning are never moved;
        the page's own warnings (``file:line: …``) are ``move``'s to place."""
        key = (raw, title, options)  # (the tuple itself: hashing it costs less than a digest)
        got = self._flat.get(key)
        if got is not None:
            result, at, in_file, on = got
            if (at, in_file, on) == (first, file, updated):
                return result
            if not _statements_warn(result):
                moved = move(result, first - at, file, updated, in_file)
                if moved is not None:
                    return moved
        result = read()
        self._flat.put(key, (result, first, file, updated))
        return result


def any_warning(req: Requirement | None) -> bool:
    """Does ``req``, or any choice nested in it, carry a warning?"""
    if req is None:
        return False
    return bool(req.warnings) or any(any_warning(i.group) for i in req.items)


def _statements_warn(result) -> bool:
    """Does a statement of a page's reading, or its requirement, carry a warning?"""
    return any(st.warnings or any_warning(st.requirement) for st in result.statements)


def placed_warning(warning: PipelineWarning, delta: int, file: str, old_file: str) -> PipelineWarning | None:
    """A page's warning at a line of ``old_file`` moved ``delta`` lines into ``file``; None when
    it is not of that form (the page is then read afresh)."""
    if warning.file != old_file or warning.line is None:
        return None
    return warning.at(file, delta)


def placed_span(span: Span, delta: int, file: str) -> Span:
    return Span(file, span.line_start + delta, span.line_end + delta, span.page, span.pdf_page)


def placed_statement(st: Statement, delta: int, file: str, updated: str | None) -> Statement:
    """A statement read elsewhere, moved ``delta`` lines, into ``file``, on a page dated
    ``updated`` (only for one that carries no warning: ``ParseMemo``)."""
    integration = st.integration and replace(st.integration, line=st.integration.line + delta)
    return replace(st, span=placed_span(st.span, delta, file),
                   requirement=st.requirement and st.requirement.shifted(delta),
                   integration=integration, page_updated=updated)


def placed_scenario(sc: Scenario, delta: int, file: str, updated: str | None) -> Scenario:
    return replace(sc, span=placed_span(sc.span, delta, file), page_updated=updated)


def placed_licence(lic: License, delta: int, file: str, updated: str | None) -> License:
    return replace(lic, span=placed_span(lic.span, delta, file), page_updated=updated)
