"""Render the review report (Markdown and one self-contained HTML page) from data.

The data comes from ``reconcile`` (conflicts, pages, categories) and ``diff`` (what changed);
nothing here decides anything. Every value taken from a document is escaped in HTML (jinja2
autoescape) and shown with the file and line to check by hand.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import resources

from pipeline.diff import Diff
from pipeline.normalize import visible

STATUS_ORDER = ("open", "stale", "decided", "gap", "info")
#: values shown per conflict; the dataset's conflicts table has all of them
MAX_VALUES = 12
#: rows shown per changed source, and changed sources shown in detail
MAX_ROWS = 50
MAX_SOURCES = 200
RELATION_TEXT = {"version": "change over time (one page)", "page": "different pages disagree",
                 "capability": "differs between capabilities (informative)",
                 "record": "problem within one capture"}


@dataclass(frozen=True)
class ReportData:
    version: str
    previous: str | None
    diffs: list[Diff]
    conflicts: list[dict]
    reviews: list[dict]
    pages: list[dict]
    categories: list[dict]
    previous_conflict_ids: frozenset[str] = frozenset()
    #: (capability, category_id) of the version compared with
    previous_categories: frozenset[tuple[str, str]] = frozenset()
    #: list every changed row and every value (``pipeline diff``); the build's report is capped
    full: bool = False

    def caps(self) -> tuple[int, int, int]:
        big = 10 ** 9
        return (big, big, big) if self.full else (MAX_VALUES, MAX_ROWS, MAX_SOURCES)


def compare(old: dict | None, new: dict, *, version: str, previous: str | None,
            compare_unchanged: bool = True, full: bool = False) -> ReportData:
    """What the report says of version ``new`` against ``old`` (each a version's tables;
    ``old`` None: nothing to compare with): the one way the report's data is made, for the
    build, ``pipeline report`` and ``pipeline diff``. The build passes what it holds (its
    requirements as ``records.Row``s, its conflicts as headers, and of ``old`` only the
    requirements of the sources worth comparing). ``compare_unchanged``: also compare sources
    whose bytes did not change (``diff.datasets_to_diffs``); ``full``: every row and value."""
    from pipeline import diff

    return ReportData(version=version, previous=previous,
                      diffs=diff.datasets_to_diffs(old, new, compare_unchanged=compare_unchanged),
                      conflicts=new["conflicts"], reviews=new["reviews"], pages=new["pages"],
                      categories=new["categories"],
                      previous_conflict_ids=frozenset(c["id"] for c in (old or {}).get("conflicts", [])),
                      previous_categories=frozenset((c["capability"], c["category_id"])
                                                    for c in (old or {}).get("categories", [])),
                      full=full)


def n_values(conflict: dict) -> int:
    """How many values a conflict has (the build keeps only the first ``MAX_VALUES`` for the
    report, with ``values_total``)."""
    return conflict.get("values_total", len(conflict["values"]))


def summary(data: ReportData) -> dict:
    kinds = Counter(c.kind for d in data.diffs for c in d.changes)
    # a page's first version adds every category it has: counted, not listed
    kinds["added"] += sum(d.added_only for d in data.diffs)
    # and what the dataset as a whole gained and lost (a category one page added and another
    # already had, or that several new pages bring, counts once or not at all)
    now = {(c["capability"], c["category_id"]) for c in data.categories}
    status = Counter(c["status"] for c in data.conflicts)
    new_ids = [c["id"] for c in data.conflicts if c["id"] not in data.previous_conflict_ids]
    return {
        "categories_added": kinds["added"], "categories_removed": kinds["removed"],
        "categories_renamed": kinds["renamed"], "categories_changed": kinds["changed"],
        "categories_new": len(now - data.previous_categories), "categories_gone": len(data.previous_categories - now),
        "conflicts_open": status["open"], "conflicts_decided": status["decided"],
        "conflicts_stale": status["stale"] + sum(1 for r in data.reviews if r["stale_reason"] == "conflict no longer exists"),
        "coverage_gaps": status["gap"], "informative": status["info"],
        "conflicts_new": len(new_ids) if data.previous else 0,
    }


def grouped_conflicts(conflicts: list[dict]) -> list[tuple[str, list[dict]]]:
    """Conflicts grouped by canonical category, open ones first inside each group."""
    groups: dict[str, list[dict]] = {}
    for c in conflicts:
        groups.setdefault(" / ".join(c["category"]) or "page-wide changes (several categories)", []).append(c)
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    out = []
    for name in sorted(groups):
        cs = sorted(groups[name], key=lambda c: (order.get(c["status"], 9), c["relation"], c["kind"], c["id"]))
        out.append((name, cs))
    out.sort(key=lambda g: (min(order.get(c["status"], 9) for c in g[1]), g[0]))
    return out


#: Markdown that document text must not become: links and images (``[x](javascript:…)``), raw
#: HTML and autolinks (``<script>``, ``<javascript:…>``), code, emphasis, table cells; each is
#: written as the literal character. (``_`` is left: file names are full of it, and between
#: letters it is no emphasis.)
_MD_LITERAL = {"\\": "\\\\", "`": "\\`", "*": "\\*", "[": "\\[", "]": "\\]", "|": "\\|",
               "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "}
_MD_TRANSLATE = str.maketrans(_MD_LITERAL)


def _md(text: object) -> str:
    """Text taken from a document, or typed by a person, as literal Markdown on one line (a
    table cell, a list item): nothing in it can make a link, markup or HTML, and control
    characters are shown escaped."""
    return visible(str(text)).translate(_MD_TRANSLATE)


def to_markdown(data: ReportData) -> str:
    s = summary(data)
    max_values, max_rows, max_sources = data.caps()
    out = [f"# Review report: dataset {data.version}", ""]
    out.append(f"Compared with: {_md(data.previous or '(no earlier version)')}")
    out += ["", "## Summary", "",
            "| | count |", "|---|---|",
            f"| categories added | {s['categories_added']} |", f"| categories removed | {s['categories_removed']} |",
            f"| categories renamed | {s['categories_renamed']} |", f"| categories changed | {s['categories_changed']} |",
            f"| categories new to the dataset | {s['categories_new']} |",
            f"| categories gone from the dataset | {s['categories_gone']} |",
            f"| conflicts open | {s['conflicts_open']} |", f"| conflicts decided | {s['conflicts_decided']} |",
            f"| decisions stale | {s['conflicts_stale']} |", f"| new conflicts since previous | {s['conflicts_new']} |",
            f"| coverage gaps (items lost in a capture) | {s['coverage_gaps']} |",
            f"| differences between capabilities (informative) | {s['informative']} |", ""]
    out += ["## What changed since the previous version", ""]
    if not data.diffs:
        out += ["No source changed.", ""]
    if len(data.diffs) > max_sources:
        out += [f"{len(data.diffs)} sources changed; the first {max_sources} are shown in detail.", ""]
    for d in data.diffs[:max_sources]:
        out += [f"### {_md(d.title)}", "", f"{_md(d.old_label)} → {_md(d.new_label)}", ""]
        out += [f"_{_md(n)}_" for n in d.notes] + ([""] if d.notes else [])
        if not d.changes:
            out += ["" if d.added_only else "No category changed.", ""]
            continue
        out += ["| category | change | field | old | new | check |", "|---|---|---|---|---|---|"]
        for c in d.changes[:max_rows]:
            where = " → ".join(x for x in (c.old_at, c.new_at) if x)
            name = " / ".join(c.category)
            if c.kind in ("added", "removed"):
                out.append(f"| {_md(name)} | {c.kind} | | {_md(c.old_name or '')} | {_md(c.new_name or '')} | {_md(where)} |")
                continue
            if c.kind == "renamed":
                label = "renamed (inferred: same content)" if c.inferred else "renamed"
                out.append(f"| {_md(name)} | {label} | name | {_md(c.old_name)} | {_md(c.new_name)} | {_md(where)} |")
            for f in c.fields:
                old, new = f.old, f.new
                if f.field == "documents":
                    old = "removed: " + "、".join(f"《{x}》" for x in f.removed) if f.removed else ""
                    new = "added: " + "、".join(f"《{x}》" for x in f.added) if f.added else ""
                out.append(f"| {_md(name)} | changed | {f.field} | {_md(old)} | {_md(new)} | {_md(where)} |")
        if len(d.changes) > max_rows:
            out.append(f"\n… and {len(d.changes) - max_rows} more categories (`python -m pipeline diff` lists them all)")
        out.append("")
    out += ["## Conflicts by category", "",
            "Status: open (needs a decision), stale (decided, but the values changed or the conflict is gone), "
            "decided, gap (items lost in a capture), info (differs between capabilities: not a conflict).", ""]
    for name, cs in grouped_conflicts(data.conflicts):
        out += [f"### {_md(name)}", ""]
        for c in cs:
            out.append(f"- **{c['status']}** · {c['kind']} · {RELATION_TEXT[c['relation']]} · severity {c['severity']}"
                       f" · `{c['id']}`" + (f" · page {_md(c['page'])}" if c["page"] else ""))
            for v in c["values"][:max_values]:
                out.append(f"  - {_md(v['value'])} — {_md(v['source_file'])}:{v['line_start']}"
                           f" ({v['date'] or 'date unknown'})")
            if n_values(c) > max_values:
                out.append(f"  - … and {n_values(c) - max_values} more (conflicts.json has them all)")
            if c["decision"]:
                d = c["decision"]
                out.append(f"  - decision: {_md(d['decision'])} by {_md(d['reviewer'])} on {d['date']}: "
                           f"{_md(d['reason'])}" + (f" — **stale: {_md(d['stale_reason'])}**" if d["stale_reason"] else ""))
        out.append("")
    gone = [r for r in data.reviews if r["stale_reason"] == "conflict no longer exists"]
    if gone:
        out += ["## Decisions whose conflict no longer exists", ""]
        out += [f"- `{r['conflict']}` ({_md(r['decision'])} by {_md(r['reviewer'])}, {_md(r['date'])}; "
                f"decisions file line {r['line']})"
                for r in gone]
        out.append("")
    out += ["## Page versions", ""]
    for p in data.pages:
        out.append(f"### {_md(p['page_key'])}")
        if p["inferred"]:
            out.append(f"_{_md(p['inferred'])}_")
        out.append("")
        for v in p["versions"]:
            out.append(f"- {_md(v['source_file'])} — {v['date'] or 'date unknown'}" + (" — **current**" if v["current"] else ""))
        out.append("")
    review = [c for c in data.categories if c["review"]]
    out += ["## Category names to review", "",
            "Names used by one page only. None is merged with another; to merge, add a reviewed line to "
            "`pipeline/data/aliases.toml`.", "",
            "| category | capability | page | closest names elsewhere |", "|---|---|---|---|"]
    for c in sorted(review, key=lambda c: (not c["review"]["candidates"], " / ".join(c["category"]))):
        cands = "; ".join(f"{x['category']} ({x['score']})" for x in c["review"]["candidates"]) or "(none)"
        out.append(f"| {_md(' / '.join(c['category']))} | {c['capability']} | {_md(c['pages'][0])} | {_md(cands)} |")
    out.append("")
    return "\n".join(out)


def to_html(data: ReportData) -> str:
    from jinja2 import Environment, select_autoescape
    from markupsafe import Markup

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True,
                      # every value shown has its control characters escaped, then is HTML-escaped
                      # (markup the template made itself, a macro's output, is left as it is)
                      finalize=lambda v: v if isinstance(v, Markup) or not isinstance(v, str) else visible(v))
    template = env.from_string(resources.files("pipeline").joinpath("data/report.html.j2").read_text("utf-8"))
    return template.render(d=data, s=summary(data), groups=grouped_conflicts(data.conflicts),
                           relation_text=RELATION_TEXT, n_values=n_values, max_values=data.caps()[0], max_rows=data.caps()[1],
                           max_sources=data.caps()[2],
                           review=[c for c in data.categories if c["review"]],
                           gone=[r for r in data.reviews if r["stale_reason"] == "conflict no longer exists"])
