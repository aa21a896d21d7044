"""Listings for the command line: rows built from a dataset's tables, and rendered as text, JSON
or CSV (``python -m pipeline categories|conflicts|versions|decisions|sources --format …``).

Row builders are pure: they take tables (lists of dicts) and return rows, one dict per line,
keys in column order. ``render`` turns rows into one format: ``text`` for a person (aligned
columns, control characters escaped with ``normalize.visible``: what a person typed in a
decision reaches the terminal as ``\\x1b``, never as an escape sequence), ``json`` (a list of
objects, the values as they are) and ``csv`` (a header row, then one row per line; lists
joined with ``; ``; UTF-8, Chinese as it is).
"""
from __future__ import annotations

import csv
import io
import json

from pipeline.core.normalize import display_width, visible
from pipeline.core.tables import SEVERITIES  # noqa: F401 (the CLI's --severity choices)
from pipeline.core.tables import FIELD_SCHEMAS

FORMATS = ("text", "json", "csv")


# --- rendering ---------------------------------------------------------------------------

def render(rows: list[dict], fmt: str, columns: list[str], text_columns: list[str] | None = None) -> str:
    """``rows`` in ``fmt``. ``columns``: every column, in order (also the header of an empty
    CSV listing); ``text_columns``: the ones a terminal has room for (default: all)."""
    if fmt == "json":
        return json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)  # RFC 4180: quoted where needed, CRLF line ends
        w.writerow(columns)
        for r in rows:
            w.writerow([_csv_defused(r.get(c)) for c in columns])
        return buf.getvalue()
    if fmt == "text":
        return _text_table(rows, text_columns or columns)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def _csv_defused(value) -> str:
    """A CSV cell that a spreadsheet never takes for a formula (``'`` before one, as
    ``export.csv_cell`` does): a category named ``=HYPERLINK(…)`` stays text."""
    from pipeline.present.export import FORMULA_START

    text = _csv_cell(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(_csv_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _text_cell(value) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # one line per row: a newline a person typed would break the columns
    return visible(_csv_cell(value).replace("\r", " ").replace("\n", " "))


def _text_table(rows: list[dict], columns: list[str]) -> str:
    cells = [[c for c in columns]] + [[_text_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for row in cells:
        padded = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(padded).rstrip())
    if not rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"


# --- rows ----------------------------------------------------------------------------------

def category_path(levels: list[str] | None) -> str | None:
    return " / ".join(levels) if levels else None


CATEGORY_COLUMNS = ["capability", "category", "category_id", "status", "open_conflicts", "conflicts", "pages"]
CATEGORY_TEXT_COLUMNS = ["capability", "category", "status", "open_conflicts", "conflicts", "pages"]


def category_rows(categories: list[dict], current: list[dict] = ()) -> list[dict]:
    """One row per capability + category: its open conflicts (of how many), the pages stating
    a requirement for it, and its status in the ``current`` table where the version has one."""
    status = {(r["capability"], r["category_id"]): r.get("status") for r in current}
    rows = [{"capability": c["capability"], "category": category_path(c["category"]),
             "category_id": c["category_id"], "status": status.get((c["capability"], c["category_id"])),
             "open_conflicts": c.get("open_conflicts") or 0, "conflicts": len(c.get("conflicts") or []),
             "pages": list(c.get("pages") or [])} for c in categories]
    return sorted(rows, key=lambda r: (r["capability"], r["category"] or "", r["category_id"]))


CONFLICT_COLUMNS = ["id", "severity", "status", "kind", "relation", "capability", "category", "categories",
                    "page", "summary"]
CONFLICT_TEXT_COLUMNS = ["id", "severity", "status", "kind", "category", "summary"]
#: every conflict status, as the schema names them
STATUSES = tuple(FIELD_SCHEMAS[("conflicts", "status")]["enum"])


def filter_conflicts(conflicts: list[dict], status=(), severity=(), page=()) -> list[dict]:
    """The conflicts matching every filter given (a filter with several values matches any of
    them). ``page``: text found, ignoring case, in the conflict's page or in the page of any
    value it lists (conflicts between pages name no one page)."""
    status, severity = set(status), set(severity)
    wanted = [p.casefold() for p in page]

    def on_page(c: dict) -> bool:
        pages = [c.get("page") or ""] + [v.get("page") or "" for v in c.get("values") or []]
        return any(w in p.casefold() for w in wanted for p in pages)

    return [c for c in conflicts if (not status or c["status"] in status)
            and (not severity or c["severity"] in severity) and (not wanted or on_page(c))]


def conflict_rows(conflicts: list[dict]) -> list[dict]:
    """One row per conflict; a page-wide conflict (no one category: the same change in many) is
    ``page-wide (N categories)``, every one of them listed in ``categories``."""
    rows = []
    for c in conflicts:
        cats = [category_path(x["category"]) for x in c.get("categories") or []]
        rows.append({"id": c["id"], "severity": c["severity"], "status": c["status"], "kind": c["kind"],
                     "relation": c["relation"], "capability": c["capability"],
                     "category": category_path(c.get("category")) or f"page-wide ({len(cats)} categories)",
                     "categories": cats, "page": c.get("page"), "summary": c["summary"]})
    return rows


VERSION_COLUMNS = ["version", "published", "latest", "report", "events"]


def version_rows(versions: list[str], events: list, latest: str | None, with_report: set[str]) -> list[dict]:
    """One row per published version, in the order they were first published: when it was
    (the first time it became LATEST, from HISTORY; none for a version from before times were
    kept), whether it is LATEST, whether its report exists, and every HISTORY event of it."""
    by_version: dict[str, list] = {}
    for e in events:
        by_version.setdefault(e.version, []).append(e)
    rows = []
    for v in versions:
        evs = by_version.get(v, [])
        rows.append({"version": v, "published": next((e.time for e in evs if e.time), None),
                     "latest": v == latest, "report": v in with_report,
                     "events": [f"{e.event} {e.time}" if e.time else "listed (no time kept)" for e in evs]})
    return rows


DECISION_COLUMNS = ["conflict", "status", "decision", "reviewer", "date", "summary", "reason", "line",
                    "in_dataset", "withdrawn_by", "withdrawn_date", "withdrawn_reason"]
DECISION_TEXT_COLUMNS = ["conflict", "status", "date", "reviewer", "decision", "summary"]
DECISION_STATUSES = ("applied", "stale", "withdrawn")


def decision_rows(parsed, conflicts: list[dict], reviews: list[dict]) -> list[dict]:
    """One row per decision in the decisions file (``review.read_decisions``), withdrawn ones
    too. ``status`` is what a build would make of it against this version's ``conflicts``:
    ``applied`` (the conflict has the values the reviewer saw), ``stale`` (its values changed,
    or it is gone) or ``withdrawn``. ``in_dataset``: the version was built with this decision
    (its ``reviews`` table has it); if not, run ``make build``."""
    by_id = {c["id"]: c for c in conflicts}
    built = {(r["conflict"], r["values"], r["date"], r["decision"]) for r in reviews}
    summaries = {r["conflict"]: r.get("summary") for r in reviews}
    rows = []
    for d in parsed.decisions:
        c = by_id.get(d.conflict)
        rows.append(_decision_row(d, "applied" if c and c["values_hash"] == d.values else "stale",
                                  c["summary"] if c else summaries.get(d.conflict),
                                  (d.conflict, d.values, d.date, d.decision) in built))
    for w in parsed.withdrawn:
        c = by_id.get(w.decision.conflict)
        rows.append(dict(_decision_row(w.decision, "withdrawn", c["summary"] if c else summaries.get(w.decision.conflict),
                                       None), withdrawn_by=w.by, withdrawn_date=w.date, withdrawn_reason=w.reason))
    return rows


def _decision_row(d, status: str, summary: str | None, in_dataset: bool | None) -> dict:
    return {"conflict": d.conflict, "status": status, "decision": d.decision, "reviewer": d.reviewer,
            "date": d.date, "summary": summary, "reason": d.reason, "line": d.line, "in_dataset": in_dataset,
            "withdrawn_by": None, "withdrawn_date": None, "withdrawn_reason": None}


SOURCE_COLUMNS = ["source", "format", "capability", "updated", "records", "pages"]


def source_rows(sources: list[dict]) -> list[dict]:
    """One row per source: format, capability, date, how many records it gave, its pages."""
    return [{"source": s["source_file"], "format": s["format"], "capability": s["capability"],
             "updated": s["updated"], "records": sum(s["record_counts"].values()),
             "pages": [f"{p['title'] or '(untitled)'} {p['updated'] or ''}".strip() for p in s["pages"]]}
            for s in sources]
