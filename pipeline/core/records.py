"""Parsed documents -> rows of the published tables. Pure: no I/O.

Canonical categories: every level folded (``normalize.fold``) and mapped through the reviewed
alias table ``pipeline/data/aliases.toml``; ``category_id`` hashes the canonical path, so the
same category gets the same id in every build and from every source.
"""
from __future__ import annotations

import hashlib
import re
import sys
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import orjson

from pipeline.core.model import License, ParsedDocument, Scenario, Statement
from pipeline.core.normalize import fold, stable_id
from pipeline.core.tables import REQUIREMENT_CONTENT_FIELDS, SOURCE_TABLES, TABLES


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
    """The reviewed alias table: level spellings and whole-path aliases, folded. A path alias
    may hold for some capabilities only (``path_scope``): 金融业 / 基金 is the public-fund
    category on the face-verification page, while WeChat's 2017–2018 list has 基金 as one
    undivided category."""

    level: dict[str, str]
    path: dict[tuple[str, ...], tuple[str, ...]]
    #: path -> the capabilities the alias holds for (absent: every capability)
    path_scope: dict[tuple[str, ...], frozenset[str]] = field(default_factory=dict)

    def path_alias(self, path: tuple[str, ...], capability: str | None) -> tuple[str, ...]:
        scope = self.path_scope.get(path)
        if scope is not None and capability not in scope:
            return path
        return self.path.get(path, path)


def _split_path(text: str) -> tuple[str, ...]:
    return tuple(fold(p) for p in text.split(" / ") if fold(p))


def parse_aliases(text: str) -> Aliases:
    """``[level] "金融" = "金融业"``; ``[path] "a / b" = "c / d"``, or, for an alias that holds for
    some capabilities only, ``"a / b" = {to = "c / d", capability = ["face_verification"]}``."""
    data = tomllib.loads(text)
    level = {fold(k): fold(v) for k, v in data.get("level", {}).items()}
    path, scope = {}, {}
    for k, v in data.get("path", {}).items():
        if isinstance(v, dict):
            unknown = set(v) - {"to", "capability"}
            if unknown or not isinstance(v.get("to"), str):
                raise ValueError(f"alias {k!r}: a table needs 'to' (and may have 'capability'); got {sorted(v)}")
            caps = v.get("capability")
            if caps is not None:
                scope[_split_path(k)] = frozenset([caps] if isinstance(caps, str) else caps)
            v = v["to"]
        path[_split_path(k)] = _split_path(v)
    return Aliases(level, path, scope)


@lru_cache(maxsize=1)
def aliases() -> Aliases:
    return parse_aliases(resources.files("pipeline").joinpath("data/aliases.toml").read_text("utf-8"))


def canonical_category(levels: tuple[str, ...], table: Aliases | None = None,
                       capability: str | None = None) -> tuple[str, ...]:
    """Fold each level, apply level aliases, then whole-path aliases (those that hold for
    ``capability``; with none given, only the unscoped ones)."""
    table = table or aliases()
    path = tuple(table.level.get(fold(l), fold(l)) for l in levels)
    return table.path_alias(path, capability)


def written_under(old_canonical: tuple[str, ...], old_raw: tuple[str, ...], new_raw: tuple[str, ...],
                  capability: str) -> bool:
    """``new_raw`` is the name ``old_raw`` with levels added, its first levels reading as the old
    category (``old_canonical``): 金融 / 基金 → 金融 / 基金 / 公募基金. What a move into a child
    is told by (``reconcile.pages.moved_renames``, ``reconcile.versions.page_changes``)."""
    return (len(new_raw) > len(old_raw)
            and canonical_category(tuple(new_raw[:len(old_raw)]), capability=capability) == tuple(old_canonical))


#: A level name in 【】 (``【金融】`` in a level cell): the brackets are markup, the name is 金融.
BRACKETED_LEVEL = re.compile(r"^\s*【(?P<name>[^【】]+)】\s*$")
#: A level that stands for every child of the level above it: ``所有二级类目`` (seed 000 and the
#: FaceID page, under 政务民生), ``所有子类目``, ``全部二级类目``.
ALL_CHILDREN = re.compile(r"^\s*(?:所有|全部)(?:[一二三]级|子)?类目\s*$")


def category_levels(raw: tuple[str, ...]) -> tuple[str, ...]:
    """A category's levels as written, without the markup around a level name (``【金融】`` ->
    ``金融``): every parser's levels pass through here before they are published."""
    out = []
    for level in raw:
        m = BRACKETED_LEVEL.match(level)
        out.append(m.group("name").strip() if m else level)
    return tuple(out)


def covers_children(raw: tuple[str, ...]) -> bool:
    """Whether the last level stands for every child of the level above it (政务民生 /
    所有二级类目): the statement is about the parent, for each of its sub-categories."""
    return len(raw) > 1 and bool(ALL_CHILDREN.match(raw[-1]))


def category_path(raw: tuple[str, ...], capability: str | None = None) -> tuple[tuple[str, ...], str | None]:
    """(canonical path, covers) of levels as written: a wildcard level (``所有二级类目``) names
    its parent, with ``covers`` = ``children``; otherwise the canonical path and None."""
    if covers_children(raw):
        return canonical_category(raw[:-1], capability=capability), "children"
    return canonical_category(raw, capability=capability), None


def category_id(canonical: tuple[str, ...]) -> str:
    return stable_id("cat", *canonical)


def _provenance(span) -> dict:
    return span.to_dict()


class _NoRequirement:
    """The requirement fields of a statement that states none (an eligibility list)."""

    rule = pick = of = options = declared = None
    conditions = items = documents = ()
    items_missing = False


_NO_REQUIREMENT = _NoRequirement()


def document_to_rows(doc: ParsedDocument, src: SourceInfo) -> dict[str, list[dict]]:
    """The rows one document contributes to each table: one pass per kind of record, then the
    source's row, which counts them."""
    # a date in the metadata file is a person's statement: it overrides what the page says
    page_override = src.meta("updated")
    reqs = [_requirement_row(st, src, page_override) for st in doc.statements]
    scen = [_scenario_row(s, src, page_override) for s in doc.scenarios]
    lic = [_licence_row(l, src, page_override) for l in doc.licenses]
    source = _source_row(doc, src, page_override,
                         {"requirements": len(reqs), "scenarios": len(scen), "licenses": len(lic)})
    return {"requirements": reqs, "scenarios": scen, "licenses": lic, "sources": [source]}


def _requirement_row(st: Statement, src: SourceInfo, page_override: str | None) -> dict:
    """One statement's row of ``requirements``, its content hash last (it hashes the rest)."""
    # an eligibility statement has no requirement: every requirement field is null
    r = st.requirement or _NO_REQUIREMENT
    capability = src.meta("capability") or st.capability
    raw = category_levels(st.category_raw)
    canon, covers = category_path(raw, capability)
    integ = st.integration
    row = {
        # the record id hangs on the names as written, so a new alias or rename elsewhere
        # never changes it
        "id": stable_id("req", src.identity, st.capability, st.page or "", st.page_part or "",
                        "/".join(fold(l) for l in raw), st.span.line_start),
        "source_sha256": src.sha256,
        "source_file": src.file,
        "format": src.format,
        "page": st.page or src.meta("title"),
        "page_updated": page_override or st.page_updated,
        "capability": capability,
        "section": st.section,
        "page_part": st.page_part,
        "kind": st.kind,
        "category_raw": list(raw),
        "category": list(canon),
        "covers": covers,
        "category_id": category_id(canon),
        "rule": r.rule,
        "pick": r.pick,
        "of": r.of,
        "options": r.options,
        "declared": r.declared,
        # one place per statement: the requirement's, or an eligibility list's own
        "conditions": list(r.conditions if st.requirement else st.conditions),
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
        "also_requires_categories": [list(p) for p in st.also_requires],
        "requirement_text": st.requirement_text,
        # published as text, each rendered from its one form (``PipelineWarning``)
        "warnings": [str(w) for w in st.warnings],
        "provenance": _provenance(st.span),
    }
    row["content_hash"] = content_hash(row)
    return row


def _scenario_row(s: Scenario, src: SourceInfo, page_override: str | None) -> dict:
    """One scenario's row of ``scenarios``."""
    return {
        "id": stable_id("scn", src.identity, s.page or "", s.scenario, s.span.line_start),
        "source_sha256": src.sha256, "source_file": src.file, "page": s.page,
        "page_updated": page_override or s.page_updated, "scenario": s.scenario, "content": s.content,
        "requirements": list(s.requirements), "solutions": list(s.solutions), "notes": list(s.notes),
        "provenance": _provenance(s.span)}


def _licence_row(l: License, src: SourceInfo, page_override: str | None) -> dict:
    """One licence's row of ``licenses``."""
    return {
        "id": stable_id("lic", src.identity, l.page or "", l.business, l.licence, l.span.line_start),
        "source_sha256": src.sha256, "source_file": src.file, "page": l.page,
        "page_updated": page_override or l.page_updated, "business": l.business, "licence": l.licence,
        "authority": l.authority, "provenance": _provenance(l.span)}


def _source_row(doc: ParsedDocument, src: SourceInfo, page_override: str | None, counts: dict) -> dict:
    """The document's row of ``sources``: the file, its pages and how many records of each
    table it gave (``counts``)."""
    dates = [p.updated for p in doc.pages if p.updated]
    return {
        "source_sha256": src.sha256, "source_file": src.file, "bytes": src.size,
        "encoding": src.encoding, "format": src.format,
        "capability": src.meta("capability") or doc.capability,
        "title": src.meta("title") or (doc.pages[0].title if doc.pages else None),
        "updated": page_override or (max(dates) if dates else None),
        "pages": [{"title": p.title, "updated": p.updated, "kind": p.kind, "line_start": p.line_start,
                   "line_end": p.line_end} for p in doc.pages],
        "url": src.meta("url"), "captured": src.meta("captured"),
        "captures": [{"file": f, "captured": c or None} for f, c in src.captures or ((src.file, src.meta("captured")),)],
        "record_counts": counts,
        "links": [{"pdf_page": page, "uri": uri} for page, uri in doc.links],
        "truncated": doc.truncated,
        "warnings": [str(w) for w in doc.warnings],
    }


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


# --- requirement rows as reconciliation, diffs and reports read them ------------------------

#: what a requirement record says of its capture (which file, which date, which lines)
CAPTURE_FIELDS = ("source_sha256", "source_file", "page_updated", "provenance")
#: what the category requires: its content, the same in thousands of captures, named by its
#: published ``content_hash``
CONTENT_FIELDS = REQUIREMENT_CONTENT_FIELDS
#: the requirement fields reconciliation, diffs and reports use (not the record id: a source's rows
#: arrive in line and id order, ``build.rows_of``, and that order is all they need of it)
ROW_FIELDS = CAPTURE_FIELDS + CONTENT_FIELDS
_INDEX = {f: i for i, f in enumerate(CONTENT_FIELDS)}


def _content_json(values: list) -> bytes:
    """The content fields' values as the JSON ``content_hash`` hashes: one spelling whatever
    order a record's objects were written in (the parser's, or a published file's sorted keys)."""
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS)


def content_hash(record) -> str:
    """A requirement record's published ``content_hash``: what it states, whatever capture it
    comes from (``tables.REQUIREMENT_CONTENT_FIELDS``)."""
    return hashlib.sha256(_content_json([record.get(f) for f in CONTENT_FIELDS])).hexdigest()[:16]


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


class Row:
    """A requirement record as reconciliation reads it (``ROW_FIELDS``), read like a dict
    (``r["rule"]``, ``r.rule``). Its content (what the category requires) is one tuple shared by
    every row with that content, named by ``content_hash`` (the record's published one):
    reconciliation groups on the hash, and keeps what it derives from a content in ``derived``,
    a dict the rows with that content share (gone with them). Rows are made by a ``RowReader``,
    which shares contents within one build: the one form reconciliation reads."""

    __slots__ = ("_src", "line_start", "line_end", "_lines_page", "pdf_page", "_c", "content_hash", "derived")

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


class RowReader:
    """Makes ``Row``s from requirement records, sharing within its own lifetime (one build) each
    distinct content and each source's fields: an archive of 10,000 captures of a few pages then
    costs about 120 bytes per record."""

    def __init__(self):
        #: sha256 of a content's JSON -> (content tuple, content hash, what is derived from it:
        #: ``Row.derived``); keyed by the digest, not the JSON (a content holds its entries: the
        #: JSON of 100,000 contents is hundreds of MB)
        self._contents: dict[bytes, tuple[tuple, str, dict]] = {}
        #: sha256 of an entry's (any nested object's) JSON -> the one object kept: the entries of
        #: a requirement recur in every content that differs from another in one field
        self._shared: dict[bytes, dict] = {}
        self._source: tuple = ()

    def _content(self, values: list) -> tuple[tuple, str, dict]:
        key = _content_json(values)
        digest = hashlib.sha256(key).digest()
        got = self._contents.get(digest)
        if got is None:
            got = self._contents[digest] = (self._share(values), sys.intern(digest.hex()[:16]), {})
        return got

    def _share(self, value):
        """Strings interned, sequences as tuples, and each nested object (an entry, a group) kept
        once per reader: the same category, document or scope text across thousands of captures
        is then stored once."""
        if isinstance(value, str):
            return sys.intern(value)
        if isinstance(value, (list, tuple)):
            return tuple(self._share(v) for v in value)
        if isinstance(value, dict):
            digest = hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).digest()
            got = self._shared.get(digest)
            if got is None:
                got = self._shared[digest] = {k: self._share(v) for k, v in value.items()}
            return got
        return value

    def row(self, record: dict) -> Row:
        fields, start, end, page, pdf_page = _capture_of(record)
        return self._row(fields, start, end, page, pdf_page, self._content([record.get(f) for f in CONTENT_FIELDS]))

    def _row(self, fields: tuple, line_start, line_end, page, pdf_page, content: tuple) -> Row:
        if fields != self._source:  # a source's rows come together
            self._source = tuple(sys.intern(f) if f else f for f in fields)
        new = object.__new__(Row)
        new._src = self._source
        new.line_start, new.line_end, new.pdf_page = line_start, line_end, pdf_page
        new._lines_page = sys.intern(page) if page else page
        new._c, new.content_hash, new.derived = content
        return new

    def rows_of_index(self, index: bytes, contents: bytes) -> list[Row]:
        """The ``Row``s of a source's requirement records from their index (``row_index``):
        only a content this reader has not met is decoded, and it is checked against the digest
        it is listed under. Reading every record's JSON instead cost 75 µs a record at 10,000
        sources (most of it the garbage collector, run by the objects made), for contents that
        nearly all recur from one capture of a page to the next."""
        got = orjson.loads(index)
        lines = None
        known = []
        for n, name in enumerate(got["contents"]):
            digest = bytes.fromhex(name)
            content = self._contents.get(digest)
            if content is None:
                lines = lines if lines is not None else contents.splitlines()
                if n >= len(lines) or hashlib.sha256(lines[n]).digest() != digest:
                    raise ValueError(f"content {n} is not the one its index lists")
                content = self._contents[digest] = (self._share(orjson.loads(lines[n])), sys.intern(name[:16]), {})
            known.append(content)
        return [self._row(tuple(fields), start, end, page, pdf_page, known[c])
                for fields, entries in got["groups"] for c, start, end, page, pdf_page in entries]


def row_index(records: list[dict]) -> tuple[bytes, bytes]:
    """A source's requirement records as ``RowReader.rows_of_index`` reads them: an index (one
    JSON line: each distinct content's digest, and per record its content's place, lines, page
    and PDF page, grouped by the capture fields they share) and the contents, one JSON line each
    (``_content_json``, what the digest hashes). What reconciliation reads of a record, without
    its entries decoded again in every capture that repeats them."""
    digests: dict[str, int] = {}
    lines: list[bytes] = []
    groups: list[list] = []
    for r in records:
        text = _content_json([r.get(f) for f in CONTENT_FIELDS])
        c = digests.setdefault(hashlib.sha256(text).hexdigest(), len(lines))
        if c == len(lines):
            lines.append(text)
        fields, start, end, page, pdf_page = _capture_of(r)
        if not groups or groups[-1][0] != fields:
            groups.append([fields, []])
        groups[-1][1].append([c, start, end, page, pdf_page])
    return orjson.dumps({"contents": list(digests), "groups": groups}), b"".join(t + b"\n" for t in lines)


def _capture_of(record: dict) -> tuple[tuple, int, int, str | None, int | None]:
    """What a requirement record says of its capture, as a ``Row`` keeps it: the fields a
    source's rows share (sha256, file, page date, provenance file), then its lines, page and
    PDF page (``RowReader.row`` and ``row_index`` alike)."""
    p = record["provenance"]
    return ((record["source_sha256"], record["source_file"], record.get("page_updated"), p.get("file")),
            p.get("line_start"), p.get("line_end"), p.get("page"), p.get("pdf_page"))



def rows_of_records(records) -> list[Row]:
    """Requirement records (dicts, as published) as the ``Row``s reconciliation reads."""
    reader = RowReader()
    return [reader.row(r) for r in records]


def distinct_contents(rows):
    """One row per distinct content (every field but the capture's own: id, file, date, lines),
    for loops that read nothing else."""
    seen: set = set()
    for r in rows:
        k = r.content_hash
        if k not in seen:
            seen.add(k)
            yield r
