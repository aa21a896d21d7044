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

    def meta(self, key: str) -> str | None:
        return dict(self.metadata).get(key)


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
            "id": stable_id("req", src.sha256, st.capability, st.page or "", st.page_part or "",
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
        "id": stable_id("scn", src.sha256, s.page or "", s.scenario, s.span.line_start),
        "source_sha256": src.sha256, "source_file": src.file, "page": s.page,
        "page_updated": page_override or s.page_updated, "scenario": s.scenario, "content": s.content,
        "requirements": list(s.requirements), "solutions": list(s.solutions), "notes": list(s.notes),
        "provenance": _provenance(s.span)} for s in doc.scenarios]
    lic = [{
        "id": stable_id("lic", src.sha256, l.page or "", l.business, l.licence, l.span.line_start),
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
        "record_counts": {"requirements": len(reqs), "scenarios": len(scen), "licenses": len(lic)},
        "links": [{"pdf_page": page, "uri": uri} for page, uri in doc.links],
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

#: the requirement fields reconciliation, diffs and reports use
SLIM_FIELDS = ("id", "source_sha256", "source_file", "page", "page_part", "page_updated", "capability",
               "category_raw", "category", "category_id", "rule", "pick", "of", "options", "declared",
               "documents", "items_missing", "integration", "scope", "scenario", "renamed_from", "kind",
               "provenance")


def _compact(value):
    """Intern strings and turn lists into tuples: the same category, document or scope text
    across thousands of captures is then stored once."""
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, list):
        return tuple(_compact(v) for v in value)
    if isinstance(value, dict):
        return Provenance(value)
    return value


class Provenance:
    """``{file, line_start, line_end, page, pdf_page}`` as a read-only mapping with slots."""

    __slots__ = ("file", "line_start", "line_end", "page", "pdf_page")

    def __init__(self, d: dict):
        for k in self.__slots__:
            setattr(self, k, _compact(d.get(k)))

    def __getitem__(self, key: str):
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


class Slim:
    """A requirement row reduced to ``SLIM_FIELDS``; reads like a dict (``r["rule"]``) at a
    fraction of the memory, so an archive of 10 000 documents reconciles in bounded memory."""

    __slots__ = SLIM_FIELDS

    def __init__(self, row: dict):
        for f in SLIM_FIELDS:
            setattr(self, f, _compact(row.get(f)))

    def __getitem__(self, key: str):
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default)

    def replace(self, **changes) -> "Slim":
        new = object.__new__(Slim)
        for f in SLIM_FIELDS:
            setattr(new, f, _compact(changes[f]) if f in changes else getattr(self, f))
        return new
