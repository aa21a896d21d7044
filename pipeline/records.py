"""Parsed documents -> rows of the published tables. Pure: no I/O.

Canonical categories: every level folded (``normalize.fold``) and mapped through the reviewed
alias table ``pipeline/data/aliases.toml``; ``category_id`` hashes the canonical path, so the
same category gets the same id in every build and from every source.
"""
from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import orjson

from pipeline.model import ParsedDocument
from pipeline.normalize import fold, stable_id
from pipeline.tables import SOURCE_TABLES, TABLES


@dataclass(frozen=True)
class SourceInfo:
    """A raw file as read: where, what bytes, how decoded, and its metadata overrides."""

    file: str
    sha256: str
    size: int
    encoding: str
    format: str
    metadata: tuple[tuple[str, str], ...] = ()
    #: every capture of these bytes, (file, capture date or ""), this one first
    captures: tuple[tuple[str, str], ...] = ()

    def meta(self, key: str) -> str | None:
        return dict(self.metadata).get(key)

    @property
    def identity(self) -> str:
        """What record ids hash for the source: its bytes, and what its metadata says of them
        (a URL, a page date, a capability) but when they were captured. The same bytes captured
        again are one source (``build.one_per_capture``); the same bytes stated to be another
        page are another source, with other ids."""
        said = [f"{k}={v}" for k, v in self.metadata if k != "captured"]
        return "\x1f".join([self.sha256, *said])


@dataclass(frozen=True)
class Aliases:
    """The reviewed alias table: level spellings and whole-path aliases, folded."""

    level: dict[str, str]
    path: dict[tuple[str, ...], tuple[str, ...]]


def _split_path(text: str) -> tuple[str, ...]:
    return tuple(fold(p) for p in text.split(" / ") if fold(p))


def parse_aliases(text: str) -> Aliases:
    data = tomllib.loads(text)
    level = {fold(k): fold(v) for k, v in data.get("level", {}).items()}
    path = {_split_path(k): _split_path(v) for k, v in data.get("path", {}).items()}
    return Aliases(level, path)


@lru_cache(maxsize=1)
def aliases() -> Aliases:
    return parse_aliases(resources.files("pipeline").joinpath("data/aliases.toml").read_text("utf-8"))


def canonical_category(levels: tuple[str, ...], table: Aliases | None = None) -> tuple[str, ...]:
    """Fold each level, apply level aliases, then whole-path aliases."""
    table = table or aliases()
    path = tuple(table.level.get(fold(l), fold(l)) for l in levels)
    return table.path.get(path, path)


def category_id(canonical: tuple[str, ...]) -> str:
    return stable_id("cat", *canonical)


def _provenance(span) -> dict:
    return span.to_dict()


def document_to_rows(doc: ParsedDocument, src: SourceInfo) -> dict[str, list[dict]]:
    """The rows one document contributes to each table."""
    # a date in the metadata file is a person's statement: it overrides what the page says
    page_override = src.meta("updated")
    reqs = []
    for st in doc.statements:
        r = st.requirement
        canon = canonical_category(st.category_raw)
        integ = st.integration
        reqs.append({
            # the record id hangs on the names as written, so a new alias or rename elsewhere
            # never changes it
            "id": stable_id("req", src.identity, st.capability, st.page or "", st.page_part or "",
                            "/".join(fold(l) for l in st.category_raw), st.span.line_start),
            "source_sha256": src.sha256,
            "source_file": src.file,
            "format": src.format,
            "page": st.page or src.meta("title"),
            "page_updated": page_override or st.page_updated,
            "capability": src.meta("capability") or st.capability,
            "section": st.section,
            "page_part": st.page_part,
            "kind": st.kind,
            "category_raw": list(st.category_raw),
            "category": list(canon),
            "category_id": category_id(canon),
            "rule": r.rule,
            "pick": r.pick,
            "of": r.of,
            "options": r.options,
            "declared": r.declared,
            "conditions": list(r.conditions),
            "items": [i.to_dict() for i in r.items],
            "documents": list(r.documents),
            "items_missing": r.items_missing,
            "integration": integ.method if integ else None,
            "integration_text": integ.text if integ else None,
            "integration_line": integ.line if integ else None,
            "integration_also": [{"category": c, "method": m} for c, m in integ.also] if integ else [],
            "renamed_from": list(st.renamed_from),
            "scenario": st.scenario,
            "scope": st.scope,
            "notes": list(st.notes),
            "requirement_text": st.requirement_text,
            "warnings": list(st.warnings),
            "provenance": _provenance(st.span),
        })
    scen = [{
        "id": stable_id("scn", src.identity, s.page or "", s.scenario, s.span.line_start),
        "source_sha256": src.sha256, "source_file": src.file, "page": s.page,
        "page_updated": page_override or s.page_updated, "scenario": s.scenario, "content": s.content,
        "requirements": list(s.requirements), "solutions": list(s.solutions), "notes": list(s.notes),
        "provenance": _provenance(s.span)} for s in doc.scenarios]
    lic = [{
        "id": stable_id("lic", src.identity, l.page or "", l.business, l.licence, l.span.line_start),
        "source_sha256": src.sha256, "source_file": src.file, "page": l.page,
        "page_updated": page_override or l.page_updated, "business": l.business, "licence": l.licence,
        "authority": l.authority, "provenance": _provenance(l.span)} for l in doc.licenses]
    dates = [p.updated for p in doc.pages if p.updated]
    source = {
        "source_sha256": src.sha256, "source_file": src.file, "bytes": src.size,
        "encoding": src.encoding, "format": src.format,
        "capability": src.meta("capability") or doc.capability,
        "title": src.meta("title") or (doc.pages[0].title if doc.pages else None),
        "updated": page_override or (max(dates) if dates else None),
        "pages": [{"title": p.title, "updated": p.updated, "kind": p.kind, "line_start": p.line_start,
                   "line_end": p.line_end} for p in doc.pages],
        "url": src.meta("url"), "captured": src.meta("captured"),
        "captures": [{"file": f, "captured": c or None} for f, c in src.captures or ((src.file, src.meta("captured")),)],
        "record_counts": {"requirements": len(reqs), "scenarios": len(scen), "licenses": len(lic)},
        "links": [{"pdf_page": page, "uri": uri} for page, uri in doc.links],
        "truncated": doc.truncated,
        "warnings": list(doc.warnings),
    }
    return {"requirements": reqs, "scenarios": scen, "licenses": lic, "sources": [source]}


def _sort_key(table: str):
    if table == "sources":
        return lambda r: (r["source_file"],)
    return lambda r: (r["source_file"], r["provenance"]["line_start"], r["id"])


def merge_rows(parts: list[dict[str, list[dict]]]) -> dict[str, list[dict]]:
    """All documents' rows, each table in a fixed order (file, line), fields in schema order."""
    out: dict[str, list[dict]] = {}
    for table in SOURCE_TABLES:
        fields = [f for f, _, _ in TABLES[table]]
        rows = [row for p in parts for row in p.get(table, [])]
        rows.sort(key=_sort_key(table))
        out[table] = [{f: row.get(f) for f in fields} for row in rows]
        ids = [r.get("id") or r.get("source_sha256") for r in out[table]]
        if len(ids) != len(set(ids)):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"duplicate id {dup} in table {table}")
    return out


# --- slim rows: what reconciliation, diffs and reports read ----------------------------------

#: the requirement fields reconciliation, diffs and reports use (not the record id: a source's rows
#: arrive in line and id order, ``build.rows_of``, and that order is all they need of it)
SLIM_FIELDS = ("source_sha256", "source_file", "page", "page_part", "page_updated", "capability",
               "category_raw", "category", "category_id", "rule", "pick", "of", "options", "declared",
               "documents", "items_missing", "integration", "scope", "scenario", "renamed_from", "kind",
               "provenance")
#: fields that differ from capture to capture; the others (what a category requires) are the
#: same in thousands of captures and are stored once (``Slim._c``)
_PER_CAPTURE = ("source_sha256", "source_file", "page_updated", "provenance")
_CONTENT = tuple(f for f in SLIM_FIELDS if f not in _PER_CAPTURE)
_INDEX = {f: i for i, f in enumerate(_CONTENT)}
#: interned content tuples (one per distinct content, for the life of the process)
_CONTENTS: dict[tuple, tuple] = {}


def _compact(value):
    """Intern strings and make sequences tuples: the same category, document or scope text
    across thousands of captures is then stored once."""
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, (list, tuple)):
        return tuple(_compact(v) for v in value)
    return value


def _provenance_tuple(p: dict) -> tuple:
    return tuple(p.get(k) for k in Provenance.__slots__)


#: line numbers as one shared int object each (``Slim``)
_NUMBERS: dict[int, int] = {}


class Provenance:
    """``{file, line_start, line_end, page, pdf_page}`` as a read-only mapping with slots."""

    __slots__ = ("file", "line_start", "line_end", "page", "pdf_page")

    def __init__(self, file: str, line_start: int, line_end: int, page: str | None, pdf_page: int | None):
        self.file, self.line_start, self.line_end, self.page, self.pdf_page = file, line_start, line_end, page, pdf_page

    def __getitem__(self, key: str):
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


def slim_tuple(row: dict) -> tuple:
    """A requirement row reduced to what ``Slim`` keeps, cheap to make, pickle and cache:
    ``(id, source_sha256, source_file, page_updated, provenance, content)`` (the id only for the
    build's check that ids are unique; ``Slim`` does not keep it), the content (what
    the category requires, shared by thousands of captures) as the compact JSON of its fields
    in ``_CONTENT`` order: the process that keeps the rows decodes each distinct content once."""
    content = orjson.dumps([row.get(f) for f in _CONTENT])
    return (row["id"], row["source_sha256"], row["source_file"], row.get("page_updated"),
            _provenance_tuple(row["provenance"]), content)


#: the content tuple of each content's JSON (``slim_tuple``) seen so far
_DECODED: dict[bytes, tuple] = {}


#: the source fields of the rows read last (``_source``): a source's rows come together
_LAST_SOURCE: list[tuple] = [()]


def _source(sha: str, file: str, updated: str | None, lines_file: str) -> tuple:
    """``(source_sha256, source_file, page_updated, provenance file)``, one tuple shared by the
    rows of a source."""
    fields = (sha, file, updated, lines_file)
    if fields != _LAST_SOURCE[0]:
        _LAST_SOURCE[0] = tuple(sys.intern(f) if f else f for f in fields)
    return _LAST_SOURCE[0]


class Slim:
    """A requirement row reduced to ``SLIM_FIELDS``; reads like a dict (``r["rule"]``). What a
    category requires is kept in one shared tuple per distinct content (``_c``), what its source
    says in one tuple per source (``_src``), and the lines in slots of the row itself (its
    ``provenance`` is made when asked for): an archive of 10 000 captures of a few pages costs
    about 120 bytes per record."""

    __slots__ = ("_src", "line_start", "line_end", "_lines_page", "pdf_page", "_c")

    def __init__(self, row: dict):
        self._load(slim_tuple(row))

    @classmethod
    def from_tuple(cls, t: tuple) -> "Slim":
        """From ``slim_tuple``'s form (what workers send and the parse cache holds)."""
        new = object.__new__(cls)
        new._load(t)
        return new

    def _load(self, t: tuple) -> None:
        content = _DECODED.get(t[5])  # most contents were seen before: nothing to decode
        if content is None:
            content = _compact(orjson.loads(t[5]))
            content = _DECODED[t[5]] = _CONTENTS.setdefault(content, content)
        lines_file, start, end, page, self.pdf_page = t[4]
        self._src = _source(t[1], t[2], t[3], lines_file)
        # line numbers recur in every capture of a page: one int object each (Python shares
        # only those up to 256), not two new ones per record
        self.line_start, self.line_end = _NUMBERS.setdefault(start, start), _NUMBERS.setdefault(end, end)
        self._lines_page = sys.intern(page) if page else page
        self._c = _CONTENTS.setdefault(content, content)

    @property
    def source_sha256(self) -> str:
        return self._src[0]

    @property
    def source_file(self) -> str:
        return self._src[1]

    @property
    def page_updated(self) -> str | None:
        return self._src[2]

    @property
    def provenance(self) -> "Provenance":
        return Provenance(self._src[3], self.line_start, self.line_end, self._lines_page, self.pdf_page)

    def __getitem__(self, key: str):
        i = _INDEX.get(key)
        return getattr(self, key) if i is None else self._c[i]

    def __getattr__(self, key: str):  # content fields as attributes too (r.rule)
        try:
            return self._c[_INDEX[key]]
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str, default=None):
        i = _INDEX.get(key)
        if i is not None:
            return self._c[i]
        return getattr(self, key, default)

    def replace(self, **changes) -> "Slim":
        new = object.__new__(Slim)
        content = tuple(_compact(changes[f]) if f in changes else v for f, v in zip(_CONTENT, self._c))
        new._src, new.line_start, new.line_end = self._src, self.line_start, self.line_end
        new._lines_page, new.pdf_page = self._lines_page, self.pdf_page
        new._c = _CONTENTS.setdefault(content, content)
        return new


def distinct_contents(rows):
    """One row per distinct content (every field but the capture's own: id, file, date, lines),
    for loops that read nothing else; plain dict rows are all distinct."""
    seen: set[int] = set()
    for r in rows:
        c = getattr(r, "_c", None)
        if c is None:
            yield r
        elif id(c) not in seen:
            seen.add(id(c))
            yield r
