"""Answers as of a day: what the published captures dated on or before it say, reconciled by the
same code as a build (``reconcile_rows``), never by a second reading of the tables.

A published dataset holds every capture with its date (the page's own ``最近更新时间``, else the
day it was captured: ``pages.identify``). The answer as of a day is the build that would have
been made from the captures dated on or before it: their requirement rows go through
``reconcile_rows`` again, which gives that day's versions, conflicts, categories and ``current``.
Re-reconciling every published row gives back the published tables exactly (a test checks), so
the subset's answer differs from today's only by the captures left out. Captures without a date
cannot be placed before or after the day: they are left out, and counted.

The dataset's decisions (its ``reviews``) apply as in a build: where a conflict as of the day has
the values a reviewer decided on, it is decided; on other values the decision shows as stale.
The version's own pages are the ``prior`` pages (``pages.prior_pages``), so a capture without URL
or title continues the page it continues in the published dataset, under the same key.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.records import RowReader
from pipeline.reconcile import conflicts_as_read, prior_pages, reconcile_rows
from pipeline.reconcile.review import Decision
from pipeline.reconcile.versions import page_versions

#: the tables an answer as of a day is made from
NEEDED = ("requirements", "sources", "pages", "conflicts", "reviews")
#: tables of rows from one source each, kept where their source is
_BY_SOURCE = ("requirements", "scenarios", "licenses", "sources")


@dataclass(frozen=True)
class AsOf:
    """What an answer as of ``day`` was made from: captures (page versions) dated on or before
    it, those dated after it and those without a date (both left out). In words:
    ``present.words.as_of_words``."""
    day: str
    used: int
    later: int
    undated: int


def _dated(day: str, date: str | None) -> bool | None:
    """Whether a capture dated ``date`` was there on ``day`` (None: no date, cannot tell)."""
    return None if not date else date[:10] <= day


def _source_day(s: dict) -> str | None:
    """A source that is no version of a page (scenario or licence tables only): its date as a
    page's version would have it, the page's own date, else the earliest capture's."""
    times = [c.get("captured") for c in s.get("captures") or () if c.get("captured")]
    times += [s["captured"]] if s.get("captured") else []
    return s.get("updated") or (min(times)[:10] if times else None)


def _decisions(reviews: list[dict]) -> list[Decision]:
    return [Decision(r["conflict"], r["decision"], r["reason"], r["reviewer"], r["date"], r["values"], r["line"])
            for r in reviews or ()]


def as_of(tables: dict[str, list[dict]], day: str) -> tuple[dict[str, list[dict]], AsOf]:
    """A version's tables (at least ``NEEDED``; scenarios and licenses too where wanted) as of
    ``day`` (``YYYY-MM-DD``): the source tables cut to the captures dated on or before it, and
    the reconciled ones (conflicts, categories, current, pages, reviews) made from them."""
    reader = RowReader()
    rows = [reader.row(r) for r in tables["requirements"]]
    categories: dict[str, set[str]] = {}
    for r in rows:
        categories.setdefault(r["source_sha256"], set()).add(r["category_id"])
    shas = {s["source_sha256"] for s in tables["sources"]}
    prior = prior_pages(tables["pages"], {k: frozenset(v) for k, v in categories.items()}, shas)
    pages, _ = page_versions(rows, tables["sources"], prior)
    versions = [v for vs in pages.values() for v in vs]
    seen = {v.source_sha256 for v in versions}
    kept = {v.source_sha256 for v in versions if _dated(day, v.date)}
    kept |= {s["source_sha256"] for s in tables["sources"]
             if s["source_sha256"] not in seen and _dated(day, _source_day(s))}
    wanted = {id(r) for v in versions if _dated(day, v.date) for r in v.rows}
    counts = AsOf(day, sum(_dated(day, v.date) is True for v in versions),
                  sum(_dated(day, v.date) is False for v in versions),
                  sum(_dated(day, v.date) is None for v in versions))
    known = {c["id"] for c in tables["conflicts"]} | {r["conflict"] for r in tables.get("reviews") or ()}
    cut = [r for r in rows if id(r) in wanted]
    sources = [s for s in tables["sources"] if s["source_sha256"] in kept]
    out = reconcile_rows(cut, _decisions(tables.get("reviews")), known, "review/decisions.toml",
                         sources=sources, prior=prior)
    out |= conflicts_as_read(out["conflicts"], [s["source_sha256"] for s in tables["sources"]])
    ids = {id(r) for r in cut}
    out["requirements"] = [r for r, row in zip(tables["requirements"], rows) if id(row) in ids]
    for name in _BY_SOURCE[1:]:
        if name in tables:
            out[name] = [r for r in tables[name] if r["source_sha256"] in kept]
    return out, counts
