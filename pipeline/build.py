"""The build: raw files -> parsed documents -> table rows -> one dataset version.

Parsing and row-making are pure; ``store`` does the reading and writing.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import detect, diff, reconcile, records, report, review, store
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
    if raw.data.startswith(b"%PDF") and fmt in (None, "pdf"):
        from pipeline.parsers import pdf

        try:
            doc = pdf.parse(raw.data, raw.display)
        except ParseError:
            raise
        except Exception as e:  # a parser bug must still name the file
            raise ParseError(raw.display, 1, f"the pdf parser failed ({type(e).__name__}: {e}); "
                                             f"please report this file") from e
        return doc, records.SourceInfo(file=raw.display, sha256=sha256_bytes(raw.data), size=len(raw.data),
                                       encoding="pdf", format="pdf", metadata=raw.metadata)
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


def run_build(raw_dirs: list[Path], output: Path, decisions: Path | None = None,
              known_conflicts: set[str] | None = None) -> BuildResult:
    """Read, parse, reconcile, publish, report. Any error leaves ``output`` as it was.

    ``known_conflicts``: conflict ids published elsewhere (default: every version in ``output``),
    so a decision on a conflict that no longer exists is stale rather than unknown.
    """
    raws = store.read_raw(raw_dirs)
    if not raws:
        raise ParseError(str(raw_dirs[0]), 1, "no documents to build from")
    tables = build_tables(raws)
    decisions = decisions if decisions is not None else Path(review.DECISIONS_FILE)
    text = store.read_optional_text(decisions)
    # shown as <folder>/<name>, like raw files, so the manifest does not depend on the cwd
    shown = f"{decisions.resolve().parent.name}/{decisions.name}"
    parsed = review.parse_decisions(text, shown) if text is not None else []
    inputs = [{"file": r.display, "sha256": sha256_bytes(r.data), "bytes": len(r.data)} for r in raws]
    if text is not None:
        data = text.encode("utf-8")
        inputs.append({"file": shown, "sha256": sha256_bytes(data), "bytes": len(data)})
    with store.build_lock(output):
        known = store.published_conflict_ids(output) | (known_conflicts or set())
        tables = reconcile.reconcile_tables(tables, parsed, known, shown)
        version = records.version_name(tables)
        files = store.dataset_files(version, tables, inputs)
        store.clean_stale_tmp(output)
        previous = store.latest(output)
        reports = None
        if previous != version and not (output / "datasets" / version).exists():
            old = store.load_tables(output, previous) if previous else None
            data = report.ReportData(
                version=version, previous=previous, diffs=diff.datasets_to_diffs(old, tables),
                conflicts=tables["conflicts"], reviews=tables["reviews"], pages=tables["pages"],
                categories=tables["categories"], sources=tables["sources"],
                previous_conflict_ids=frozenset(c["id"] for c in (old or {}).get("conflicts", [])))
            reports = {"md": report.to_markdown(data).encode("utf-8"), "html": report.to_html(data).encode("utf-8")}
        created = store.publish(output, version, files, reports)
    warnings = tuple(w for s in tables["sources"] for w in s["warnings"])
    return BuildResult(version, created, {t: len(rows) for t, rows in tables.items()}, warnings)
