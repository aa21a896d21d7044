"""Reconcile all sources into one canonical view and flag every disagreement. Pure functions,
one home per concept, called in this order by ``reconcile_rows``:

- ``pages``: which page a capture is a version of (URL, title, content), and when it was;
- ``names``: the renames a page states, and eligibility cells joined by 、 (``joined``);
- ``versions``: a page's versions in time order, what each transition added, removed, renamed;
- ``values``: what is compared of a requirement, field by field (shared with ``pipeline diff``);
- ``conflicts``: every disagreement between versions, pages and capabilities;
- ``views``: the ``categories`` and ``pages`` tables; ``current``: what each category requires today.
"""

from __future__ import annotations

from pipeline.core.records import rows_of_records
from pipeline.core.tables import TABLES
from pipeline.reconcile.conflicts import conflict_order, iter_conflicts, records_to_conflicts
from pipeline.reconcile.current import SUMMARY_MAX, current_view
from pipeline.reconcile.names import apply_stated_renames, captures_said, rename_rows, renames_reaching
from pipeline.reconcile.pages import prior_pages, prior_sources
from pipeline.reconcile.periods import conflict_first_periods
from pipeline.reconcile.review import apply_decision, review_rows
from pipeline.reconcile.statements import stated_today
from pipeline.reconcile.versions import page_versions
from pipeline.reconcile.views import categories_view, pages_view

__all__ = ["apply_stated_renames", "captures_said", "conflict_header", "page_versions", "plain_row", "prior_pages",
           "prior_sources", "reconcile_rows", "reconcile_tables", "records_to_conflicts", "rename_rows",
           "renames_reaching"]


def reconcile_rows(rows: list, decisions: list, known_ids: set[str], decisions_file: str,
                   sink=None, sources: list[dict] | None = None, prior: list = ()) -> dict[str, list[dict]]:
    """The reconciled tables from requirement rows (``records.Row``, the one form reconciliation
    reads: ``records.rows_of_records`` makes them of published records) whose stated renames are applied:
    conflicts (with decisions applied), the canonical categories view, page versions, and the
    review of every decision.

    ``sink(conflict)``, when given, receives each conflict as it is found and returns what to
    keep of it (``conflict_header``): a conflict lists every capture's value, so over an archive
    the build writes them out rather than holding them all. ``prior``: the previous dataset
    version's pages (``pages.prior_pages``), so that a capture replacing another under a new
    name, with no URL or title, keeps its page.
    """
    return _reconcile_rows(rows, decisions, known_ids, decisions_file, sink, sources, prior)


def _reconcile_rows(rows, decisions, known_ids, decisions_file, sink, sources, prior):

    changes: dict = {}  # (each page's transitions: worked out by page_versions, read by iter_conflicts)
    pages, info = page_versions(rows, sources, prior, changes)
    by_id = {d.conflict: d for d in decisions}
    kept, summaries = [], {}
    stated = stated_today(pages)  # (what each page states today: read twice, worked out once)
    for c in iter_conflicts(rows, pages, stated, changes):
        c = apply_decision(c, by_id.get(c["id"]))
        # the current table quotes each conflict's summary, cut short (a sink drops it)
        summaries[c["id"]] = c["summary"][:SUMMARY_MAX + 1]
        kept.append(sink(c) if sink else c)
    kept.sort(key=conflict_order)
    ids = {c["id"] for c in kept}
    assert len(ids) == len(kept), "conflict ids must be unique"
    reviews = review_rows(decisions, {c["id"]: c for c in kept}, known_ids | ids, decisions_file)
    out = dict(categories=categories_view(rows, pages, kept), pages=pages_view(info), reviews=reviews,
               current=current_view(pages, kept, summaries, stated))
    out = {t: [plain_row(t, row) for row in rs] for t, rs in out.items()}
    out["conflicts"] = kept
    return out


def conflict_header(c: dict, keep_values: int) -> dict:
    """A conflict without the bulk of its values: the first ``keep_values`` and their number
    (``values_total``), and the first ``keep_values`` of its periods (``periods``, made from
    every value) and their number (``periods_total``), for the report and the categories view.
    The summary, which names every capture (hundreds of KB for one conflict over an archive),
    is kept only where a decision was recorded: the review of that decision quotes it
    (``review.review_rows``)."""
    spans, total = conflict_first_periods(c, keep_values)
    return dict(c, values=list(c["values"][:keep_values]), values_total=len(c["values"]),
                periods=spans, periods_total=total,
                summary=c["summary"] if c["decision"] is not None else None)


def conflict_row(c: dict) -> dict:
    """A conflict's record as published: its fields, and how many values it has (they are
    ``value_rows``' records)."""
    return dict(plain_row("conflicts", c), value_count=len(c["values"]))


def value_rows(c: dict) -> list[dict]:
    """A conflict's values as ``conflict_values`` records: each with the conflict's id and its
    place among them."""
    return [dict(v, conflict_id=c["id"], position=i) for i, v in enumerate(c["values"])]


def source_positions(sources: list[str]) -> dict[str, int]:
    """Each source's place among ``sources`` (their sha256 in the sources' order; the first,
    should one stand twice): what orders a version's ``conflict_values``."""
    at: dict[str, int] = {}
    for i, sha in enumerate(sources):
        at.setdefault(sha, i)
    return at


def conflicts_as_read(conflicts: list[dict], sources: list[str]) -> dict[str, list[dict]]:
    """Conflicts as a reader of a version gets them (``store.load_tables``): each record with its
    values, and the values as ``conflict_values`` records in published order: by source
    (``sources``: their sha256 in the sources' order), then conflict id, then position (the
    build writes them so: ``build._ValueIndex``)."""
    at = source_positions(sources)
    values = sorted((v for c in conflicts for v in value_rows(c)),
                    key=lambda v: (at.get(v["source_sha256"], len(at)), v["conflict_id"], v["position"]))
    return {"conflicts": [dict(conflict_row(c), values=list(c["values"])) for c in conflicts],
            "conflict_values": values}


def plain_row(table: str, row) -> dict:
    """A reconciled row as plain JSON types, fields in schema order."""

    return {f: _plain(row.get(f)) for f, _, _ in TABLES[table]}


def _plain(value):
    """``Row`` values (tuples, Provenance) back to JSON types."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def reconcile_tables(tables: dict[str, list[dict]], decisions: list, known_ids: set[str],
                     decisions_file: str) -> dict[str, list[dict]]:
    """The source tables (in memory) plus the reconciled ones; for tests and small tools."""

    reqs = apply_stated_renames(tables["requirements"], tables.get("sources"))
    out = dict(tables, requirements=reqs, **reconcile_rows(rows_of_records(reqs), decisions, known_ids,
                                                           decisions_file, sources=tables.get("sources")))
    conflicts = out.pop("conflicts")
    out = {t: [{f: row.get(f) for f, _, _ in TABLES[t]} for row in rows] for t, rows in out.items()}
    return out | conflicts_as_read(conflicts, [s["source_sha256"] for s in tables.get("sources") or ()])
