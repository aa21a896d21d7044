"""The build: raw files -> parsed documents -> table rows -> one dataset version.

Parsing and row-making are pure; ``store`` does the reading and writing.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import detect, records, store
from pipeline.errors import ParseError
from pipeline.model import ParsedDocument
from pipeline.normalize import sha256_bytes
from pipeline.parsers import PARSERS


@dataclass(frozen=True)
class BuildResult:
    version: str
    created: bool
    counts: dict[str, int]
    warnings: tuple[str, ...]


def parse_raw(raw: store.RawFile) -> tuple[ParsedDocument, records.SourceInfo]:
    """One raw file -> what its parser read, and how it was read. Raises ``ParseError``."""
    meta = dict(raw.metadata)
    fmt = meta.get("format")
    if raw.data.startswith(b"%PDF"):
        raise ParseError(raw.display, 1, "PDF files are not supported yet; export the text")
    text, encoding = detect.decode(raw.data, raw.display)
    if fmt is None:
        found = detect.detect_format(raw.data, text)
        if found is None:
            raise ParseError(raw.display, 1, "cannot tell the document's format (no HTML table, category "
                                             "table, section table, scenario or licence text found)")
        fmt = found.value
    if fmt not in PARSERS:
        raise ParseError(raw.display, 1, f"unknown format {fmt!r} (metadata); known: {sorted(PARSERS)}")
    try:
        doc = PARSERS[fmt](text, raw.display)
    except ParseError:
        raise
    except Exception as e:  # a parser bug must still name the file, never print a traceback
        raise ParseError(raw.display, 1, f"the {fmt} parser failed ({type(e).__name__}: {e}); "
                                         f"please report this file") from e
    info = records.SourceInfo(file=raw.display, sha256=sha256_bytes(raw.data), size=len(raw.data),
                              encoding=encoding, format=fmt, metadata=raw.metadata)
    return doc, info


def build_tables(raws: list[store.RawFile]) -> dict[str, list[dict]]:
    parts = []
    for raw in raws:
        doc, info = parse_raw(raw)
        parts.append(records.document_to_rows(doc, info))
    return records.merge_rows(parts)


def run_build(raw_dirs: list[Path], output: Path) -> BuildResult:
    """Read, parse, publish. Any error leaves ``output`` as it was."""
    raws = store.read_raw(raw_dirs)
    if not raws:
        raise ParseError(str(raw_dirs[0]), 1, "no documents to build from")
    tables = build_tables(raws)
    version = records.version_name(tables)
    inputs = [{"file": r.display, "sha256": sha256_bytes(r.data), "bytes": len(r.data)} for r in raws]
    files = store.dataset_files(version, tables, inputs)
    with store.build_lock(output):
        store.clean_stale_tmp(output)
        created = store.publish(output, version, files)
    warnings = tuple(w for s in tables["sources"] for w in s["warnings"])
    return BuildResult(version, created, {t: len(rows) for t, rows in tables.items()}, warnings)
