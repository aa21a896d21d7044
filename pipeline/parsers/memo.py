"""What one build's parse has read so far, by content: each distinct text is read once.

Real archives are many captures of a few pages: consecutive captures share nearly all their
text. The parsers are pure functions of what they are given, so a requirement's text gives the
same ``Requirement``, a flat page the same statements and a PDF page the same lines, wherever
and in whichever file they stand. ``ParseMemo`` keeps those results, keyed by a digest of
everything the reading depends on *except* where it stands (the first line, the file, the
page's date), and places a remembered result into its new source: lines moved, the file and the
date set (``Requirement.shifted``, ``placed``).

Warnings are text that may name a line or a file (``line 12: unclosed bracket``); a remembered
result that carries any is used only where it was read (same lines, same file), and read afresh
anywhere else, so no warning ever names another place than its own.

Like pdfplumber's per-page caches, a memo is owned by what uses it: the build makes one for the
sources it parses itself, each parse task of a pool one for its share (``build._parse_into``);
it goes with its owner. Each kind keeps at most a bounded number of results, the least recently
used forgotten first.
"""
from __future__ import annotations

import hashlib
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


def digest(*parts: object) -> bytes:
    """A key for ``parts`` (texts, numbers, flags, tuples of them): 16 bytes of BLAKE2b over
    their ``repr``, which tells ``None`` from ``""`` and keeps tuples apart."""
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()


class ParseMemo:
    """The results of the parse's pure readings, by content (the module's docstring)."""

    def __init__(self, pdf_pages: int = 64, requirements: int = 4096, flat_pages: int = 128):
        self._pdf = _Lru(pdf_pages)
        self._requirements = _Lru(requirements)
        self._flat = _Lru(flat_pages)

    def remembered(self) -> dict[str, int]:
        """How many results of each kind are kept now."""
        return {"pdf_pages": len(self._pdf.got), "requirements": len(self._requirements.got),
                "flat_pages": len(self._flat.got)}

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

        key = digest(header, rel(lines), None if columns is None else tuple(rel(c) for c in columns))
        got = self._requirements.get(key)
        if got is not None:
            req, at = got
            if at == base:
                return req
            if not _any_warning(req):
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
        key = digest(raw, title, options)
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


def _any_warning(req: Requirement | None) -> bool:
    """Does ``req``, or any choice nested in it, carry a warning?"""
    if req is None:
        return False
    return bool(req.warnings) or any(_any_warning(i.group) for i in req.items)


def _statements_warn(result) -> bool:
    """Does a statement of a page's reading, or its requirement, carry a warning?"""
    return any(st.warnings or _any_warning(st.requirement) for st in result.statements)


def placed_warning(warning: PipelineWarning, delta: int, file: str, old_file: str) -> PipelineWarning | None:
    """A page's warning at a line of ``old_file`` moved ``delta`` lines into ``file``; None when
    it is not of that form (the page is then read afresh)."""
    if warning.file != old_file or warning.line is None:
        return None
    return warning.at(file, delta)


def placed_span(span: Span, delta: int, file: str) -> Span:
    return replace(span, file=file, line_start=span.line_start + delta, line_end=span.line_end + delta)


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
