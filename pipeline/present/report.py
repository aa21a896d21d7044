"""Render the review report (Markdown and one self-contained HTML page) from data.

The data comes from ``reconcile`` (conflicts, pages, categories) and ``diff`` (what changed);
nothing here decides anything. Every value taken from a document is escaped in HTML (jinja2
autoescape) and shown with the file and line to check by hand.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources

from pipeline.core.model import count_text
from pipeline.reconcile.conflicts import PAGE_WIDE_MIN
from pipeline.present.words import RELATION_TEXT, STATUS_TEXT, kind_text, rule_words
from pipeline.reconcile.diff import Diff
from pipeline.reconcile import periods
from pipeline.reconcile.periods import Period, conflict_first_periods
from pipeline.present import timeline
from pipeline.core.normalize import visible
from pipeline.core.tables import CONFLICT_STATUSES, SEVERITY_ORDER, UNRESOLVED

STATUS_ORDER = tuple(CONFLICT_STATUSES)
#: what needs a decision (open and stale conflicts) is listed by severity, in this order
#: values shown per conflict; the dataset's conflicts table has all of them
MAX_VALUES = 12
#: rows shown per changed source, and changed sources shown in detail
MAX_ROWS = 50
MAX_SOURCES = 200
#: categories named in a page-wide change's row (an archive's can list hundreds)
MAX_CATEGORIES = 40
#: an excerpt of a value's source lines: at most this many lines and characters, "…" where cut
MAX_EXCERPT_LINES = 3
MAX_EXCERPT_CHARS = 200
#: a span longer than this is read only this far (a value is looked for in it): keeps what
#: is read for the excerpts bounded whatever the records say
MAX_SPAN_LINES = 120


@dataclass(frozen=True)
class Excerpt:
    """A short quote of a value's source lines: the first line shown, and the text (lines
    joined by newlines, "…" where cut)."""
    line: int
    text: str


#: (side, source_file, line_start, line_end or None, value): which lines a shown value came
#: from; side "new" for the version reported on, "old" for what it is compared with (a file's
#: bytes may differ between them); line_end None: the record that starts at line_start (its
#: end resolved from the requirements), or the few lines from there
ExcerptKey = tuple[str, str, int, "int | None", str]


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
    #: the ``current`` table: one row per capability + category, its current requirement
    current: list[dict] = ()
    #: ``ExcerptKey`` -> ``Excerpt`` of the values shown (``with_excerpts``); a value without
    #: one (a PDF, a file no longer on disk or changed since) is shown with its file:line only
    excerpts: Mapping[tuple, Excerpt] = field(default_factory=dict)
    #: each category's requirement over time, drawn (``timeline.timelines``): the pictures, how
    #: many more were worth drawing, how many said the same in every capture of one page
    timelines: tuple = ()
    timelines_more: int = 0
    timelines_same: int = 0

    def caps(self) -> tuple[int, int, int]:
        big = 10 ** 9
        return (big, big, big) if self.full else (MAX_VALUES, MAX_ROWS, MAX_SOURCES)

    def excerpt(self, side: str, file: str | None, line: int | None, end: int | None, value: object = "") -> Excerpt | None:
        """The excerpt of a value shown (``ExcerptKey``), or None."""
        if not file or line is None:
            return None
        return self.excerpts.get((side, file, int(line), end, _s(value)))


def _s(value: object) -> str:
    return "" if value is None else str(value)


#: the tables ``compare`` reads of the version it reports on, and of the version it compares it
#: with (of whose conflicts only the ids: ``{"id": …}`` records do); it reads no others
COMPARED_NEW = ("requirements", "sources", "pages", "conflicts", "reviews", "categories", "current")
COMPARED_OLD = ("requirements", "sources", "pages", "categories", "conflicts")


def compare(old: dict | None, new: dict, *, version: str, previous: str | None,
            compare_unchanged: bool = True, full: bool = False, read_lines=None, timelines: bool = True) -> ReportData:
    """What the report says of version ``new`` against ``old`` (each a version's tables;
    ``old`` None: nothing to compare with): the one way the report's data is made, for the
    build, ``pipeline report`` and ``pipeline diff``. The build passes what it holds (its
    requirements as ``records.Row``s, its conflicts as headers, and of ``old`` only the
    requirements of the sources worth comparing). ``compare_unchanged``: also compare sources
    whose bytes did not change (``diff.datasets_to_diffs``); ``full``: every row and value;
    ``read_lines(spans, sha256)``: reads the source lines of the excerpts
    (``store.source_lines``; None: no excerpts); ``timelines``: draw each category's
    requirement over time (``timeline``; the feed needs no pictures)."""
    from pipeline.reconcile import diff

    data = ReportData(version=version, previous=previous,
                      diffs=diff.datasets_to_diffs(old, new, compare_unchanged=compare_unchanged),
                      conflicts=new["conflicts"], reviews=new["reviews"], pages=new["pages"],
                      categories=new["categories"],
                      previous_conflict_ids=frozenset(c["id"] for c in (old or {}).get("conflicts", [])),
                      previous_categories=frozenset((c["capability"], c["category_id"])
                                                    for c in (old or {}).get("categories", [])),
                      full=full, current=list(new.get("current", [])))
    if not timelines:
        return data
    drawn, more, same = timeline.timelines(periods.requirement_periods(new.get("requirements", ()), new["pages"]),
                                           {(c["capability"], c["category_id"]): c["category"]
                                            for c in new["categories"]},
                                           frozenset((r["capability"], r["category_id"]) for r in data.current
                                                     if r.get("status") == "open_conflict"))
    data = replace(data, timelines=tuple(drawn), timelines_more=more, timelines_same=same)
    if read_lines is None:
        return data
    return with_excerpts(data, read_lines, _shas(old), _shas(new),
                         [*(old or {}).get("requirements", []), *new.get("requirements", [])])


def _shas(tables: dict | None) -> dict[str, str]:
    return {s["source_file"]: s["source_sha256"] for s in (tables or {}).get("sources", [])}


def _at(at: str | None) -> tuple[str, int] | None:
    """``file:line`` (a diff's ``old_at``/``new_at``) -> (file, line)."""
    if not at:
        return None
    file, _, line = at.rpartition(":")
    return (file, int(line)) if line.isdigit() else None


def excerpt_keys(data: ReportData) -> list[ExcerptKey]:
    """Every value the report shows with its source lines, in report order, once each: what
    the renderers look up, no more (the caps ``MAX_VALUES``, ``MAX_ROWS``, ``MAX_SOURCES``
    apply), so reading them stays bounded over any archive."""
    max_values, max_rows, max_sources = data.caps()
    keys: dict[ExcerptKey, None] = {}
    for c in data.conflicts:
        for p in shown_periods(c, max_values)[0]:
            keys[("new", p.first["source_file"], p.first["line_start"], p.first["line_end"], _s(p.value))] = None
    for row in data.current:
        for st in row.get("statements") or ():
            for src, value in _statement_sources(st):
                keys[("new", src["source_file"], src["line"], None, value)] = None
    for d in data.diffs[:max_sources]:
        for c in d.changes[:max_rows]:
            for side, at, value in _change_values(c):
                got = _at(at)
                if got:
                    keys[(side, got[0], got[1], None, value)] = None
    return list(keys)


def _statement_sources(st: dict) -> list[tuple[dict, str]]:
    """The sources a current statement names (its rule's, and its list's where that is another
    capture's), with the value to look for in each."""
    out = []
    # what states the rule: its words where the document has them (需同时提供), else its count
    said = st.get("declared") if isinstance(st.get("declared"), str) else ""
    count = count_text(st["pick"], st["of"]) if st.get("rule") == "any" and st.get("of") else ""
    if st.get("rule_source"):
        out.append((st["rule_source"], said or count))
    items = st.get("items_source")
    if items and items != st.get("rule_source"):
        docs = st.get("documents") or []
        out.append((items, f"《{docs[0]}》" if docs else ""))
    last = st.get("last_list")
    if last:
        docs = last.get("documents") or []
        out.append((last["source"], f"《{docs[0]}》" if docs else ""))
    return out


def _change_values(c) -> list[tuple[str, str | None, str]]:
    """(side, file:line, value) of what a diff row shows."""
    out = []
    if c.kind in ("added", "removed", "renamed"):
        out += [("old", c.old_at, _s(c.old_name)), ("new", c.new_at, _s(c.new_name))]
    for f in c.fields:
        old, new = (_documents_text(f.removed), _documents_text(f.added)) if f.field == "documents" else (f.old, f.new)
        out += [("old", c.old_at, _s(old)), ("new", c.new_at, _s(new))]
    return out


def _documents_text(titles) -> str:
    return "、".join(f"《{x}》" for x in titles)


def excerpt_spans(data: ReportData, old_sha: Mapping[str, str], new_sha: Mapping[str, str],
                  requirements=()) -> dict[tuple[str, str], dict[ExcerptKey, tuple[str, int, int]]]:
    """The source lines the report quotes (``excerpt_keys``), by file: (source_file, the
    sha256 its bytes must have) -> {key: (source_file, line_start, line_end)}. ``old_sha`` and
    ``new_sha``: each side's source files (the old side of a file whose bytes changed since is
    not quoted: those bytes are not on disk any more); ``requirements``: rows whose spans
    resolve a record named by its first line only (a diff's ``file:line``; else its first
    ``MAX_EXCERPT_LINES`` lines are read)."""
    def wanted_sha(side: str, file: str) -> str | None:
        new = new_sha.get(file)
        if side == "new":
            return new
        old = old_sha.get(file)
        if old is None:  # an earlier capture of a page, in this version too
            return new
        return old if new is None or old == new else None

    keys = excerpt_keys(data)
    starts = {(k[1], wanted_sha(k[0], k[1]), k[2]) for k in keys if k[3] is None}
    files = {f for f, _, _ in starts}
    ends = {}
    for r in requirements:
        if r["source_file"] not in files:
            continue
        # (a ``records.Row`` holds its lines; a published record, in its provenance)
        start, end = getattr(r, "line_start", None), getattr(r, "line_end", None)
        if start is None:
            start, end = r["provenance"]["line_start"], r["provenance"]["line_end"]
        if (r["source_file"], r["source_sha256"], start) in starts:
            ends[(r["source_file"], r["source_sha256"], start)] = end
    out: dict[tuple[str, str], dict[ExcerptKey, tuple[str, int, int]]] = {}
    for k in keys:
        side, file, start, end = k[:4]
        sha = wanted_sha(side, file)
        if sha is None:
            continue
        if end is None:
            end = ends.get((file, sha, start), start + MAX_EXCERPT_LINES - 1)
        out.setdefault((file, sha), {})[k] = (file, start, min(max(end, start), start + MAX_SPAN_LINES - 1))
    return out


def with_excerpts(data: ReportData, read_lines, old_sha: Mapping[str, str], new_sha: Mapping[str, str],
                  requirements=()) -> ReportData:
    """``data`` with the excerpts of the values it shows (``excerpt_spans``, whose arguments
    these are). ``read_lines`` gets the spans ``(source_file, line_start, line_end)`` of one
    file and the sha256 it must have, and returns each span's lines it could read
    (``store.source_lines``); it is called file by file, and each file's lines are made
    excerpts before the next is read, so what is held stays small over any archive."""
    out = {}
    for (file, sha), wanted in sorted(excerpt_spans(data, old_sha, new_sha, requirements).items()):
        lines = read_lines(dict.fromkeys(wanted.values()), {file: sha})
        for k, span in wanted.items():
            got = lines.get(span)
            ex = excerpt(got, span[1], k[4]) if got else None
            if ex is not None:
                out[k] = ex
    return replace(data, excerpts=out)


def _needles(value: str) -> list[str]:
    """What to look for in a value's source lines: the value, the titles 《…》 it names, its
    parts; only text a document can hold (the pipeline's own words, such as a rule ``any`` or
    "2 listed", are ASCII and would match anywhere)."""
    value = value.strip()
    # the longest part first: a category's own name before its parent's, a title before a word
    pieces = sorted(re.split(r"[、，,;；|+/→]", value), key=len, reverse=True)
    parts = [value, *re.findall(r"《[^》]+》", value), *pieces]
    out = []
    for p in parts:
        p = p.strip().removeprefix("removed:").removeprefix("added:").strip()
        if len(p) >= 2 and not p.isascii() and p not in out:
            out.append(p)
    return out


def excerpt(lines, first: int, value: str = "") -> Excerpt | None:
    """A short quote of source lines ``lines`` (the first is line ``first``): from the first
    line holding ``value`` (or a part of it), else from the first line with text; at most
    ``MAX_EXCERPT_LINES`` lines and ``MAX_EXCERPT_CHARS`` characters, "…" where cut. None
    when the lines hold no text."""
    numbered = [(first + i, ln.strip()) for i, ln in enumerate(lines) if ln.strip()]
    if not numbered:
        return None
    at = 0
    # a line and the next, joined: a text export breaks lines inside words ("资质要求（3" / "选1）")
    joined = [ln + (numbered[i + 1][1] if i + 1 < len(numbered) else "") for i, (_, ln) in enumerate(numbered)]
    for needle in _needles(value):
        hit = next((i for i, (_, ln) in enumerate(numbered) if needle in ln), None)
        if hit is None:
            hit = next((i for i, ln in enumerate(joined) if needle in ln), None)
        if hit is not None:
            at = hit
            break
    shown, budget = [], MAX_EXCERPT_CHARS
    rest = numbered[at:]
    cut = len(rest) > MAX_EXCERPT_LINES
    for _, ln in rest[:MAX_EXCERPT_LINES]:
        if len(ln) > budget:
            if budget:
                shown.append(ln[:budget])
            cut = True
            break
        shown.append(ln)
        budget -= len(ln)
    return Excerpt(numbered[at][0], "\n".join(shown) + ("…" if cut else ""))


def shown_periods(conflict: dict, most: int) -> tuple[list[Period], int]:
    """The first ``most`` periods of a conflict's values (``periods.conflict_periods``) and how
    many it has: the build's conflict headers carry them, made from every value
    (``reconcile.conflict_header``); a conflict read whole is made into periods here."""
    if "periods" in conflict:
        return list(conflict["periods"][:most]), conflict.get("periods_total", len(conflict["periods"]))
    return conflict_first_periods(conflict, most)


def period_when(p: Period) -> str:
    """When a period was said, in words: its date (``date unknown``), or ``N captures,
    FROM → TO``."""
    if p.captures == 1:
        return p.start or "date unknown"
    if not p.dated:
        return f"{p.captures} captures, dates unknown"
    return f"{p.captures} captures, {p.start} → {p.end}" if p.start != p.end else f"{p.captures} captures, {p.start}"


def _md_period(data: ReportData, c: dict, p: Period) -> list[str]:
    """A period of a conflict's values on one Markdown line (the first and last capture's
    ``file:line``), then the excerpt of its first capture."""
    wide = f"{_md(' / '.join(p.category_raw))}: " if c.get("category_id") is None and p.category_raw else ""
    first = f"{_md(p.first['source_file'])}:{p.first['line_start']}"
    if p.captures == 1:
        out = [f"  - {wide}{_md(p.value)} — {first} ({period_when(p)})"]
    else:
        out = [f"  - {wide}{_md(p.value)} — {period_when(p)}: first {first}, last "
               f"{_md(p.last['source_file'])}:{p.last['line_start']}"]
    q = _mdq(data.excerpt("new", p.first["source_file"], p.first["line_start"], p.first["line_end"], p.value))
    return out + ([f"    - {q}"] if q else [])


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
    severity = Counter(c["severity"] for c in data.conflicts if c["status"] in UNRESOLVED)
    new_ids = [c["id"] for c in data.conflicts if c["id"] not in data.previous_conflict_ids]
    gone = sum(1 for r in data.reviews if r["stale_reason"] == "conflict no longer exists")
    return {
        "categories_added": kinds["added"], "categories_removed": kinds["removed"],
        "categories_renamed": kinds["renamed"], "categories_changed": kinds["changed"],
        "categories_added_unlisted": sum(d.added_only for d in data.diffs),
        "categories_new": len(now - data.previous_categories), "categories_gone": len(data.previous_categories - now),
        "conflicts_open": status["open"], "conflicts_decided": status["decided"],
        "conflicts_stale": status["stale"] + gone, "decisions_gone": gone,
        "needs_decision": status["open"] + status["stale"] + gone,
        "high": severity["high"], "medium": severity["medium"], "low": severity["low"],
        "coverage_gaps": status["gap"], "informative": status["info"],
        "conflicts_new": len(new_ids) if data.previous else 0,
        "current": len({(r["capability"], r["category_id"]) for r in data.current}),
    }


def needs_decision(conflicts: list[dict]) -> list[tuple[str, list[dict]]]:
    """Open and stale conflicts by severity (``SEVERITY_ORDER``, then any other), each group
    in category order: what the report opens with."""
    groups: dict[str, list[dict]] = {s: [] for s in SEVERITY_ORDER}
    for c in conflicts:
        if c["status"] in UNRESOLVED:
            groups.setdefault(c["severity"], []).append(c)
    return [(sev, sorted(cs, key=_conflict_order)) for sev, cs in groups.items()]


def other_conflicts(conflicts: list[dict]) -> list[tuple[str, list[dict]]]:
    """Decided conflicts, coverage gaps and informative differences, by status."""
    groups: dict[str, list[dict]] = {s: [] for s in STATUS_ORDER if s not in UNRESOLVED}
    for c in conflicts:
        if c["status"] not in UNRESOLVED:
            groups.setdefault(c["status"], []).append(c)
    return [(st, sorted(cs, key=_conflict_order)) for st, cs in groups.items()]


OTHER_TEXT = {"decided": "Decided",
              "history": "History (changes between older versions, superseded since: no decision needed)",
              "gap": "Coverage gaps (documents lost in a capture)",
              "info": "Differences between capabilities (informative, not a conflict)"}


def _conflict_order(c: dict) -> tuple:
    return (c["status"] != "stale", conflict_category(c)[0], c["relation"], c["kind"], c["id"])


def is_page_wide(c: dict) -> bool:
    """One change in many categories of a page: one conflict, one row, its categories listed."""
    return c.get("category_id") is None and len(c.get("categories") or ()) >= PAGE_WIDE_MIN


def conflict_category(c: dict) -> tuple[str, list[str]]:
    """What a conflict is about, as (label, category names listed): its category; for a
    page-wide change "page-wide: N categories" and their names (the first
    ``MAX_CATEGORIES``)."""
    if c.get("category"):
        return " / ".join(c["category"]), []
    names = [" / ".join(x["category"]) for x in c.get("categories") or ()]
    if is_page_wide(c):
        return f"page-wide: {len(names)} categories", names[:MAX_CATEGORIES]
    return ("、".join(names) or "(the page as a whole)"), []


def current_rows(data: ReportData) -> list[tuple[dict, dict | None]]:
    """The current requirements as (row, statement) pairs, by category then capability; a row
    without statements once, with None."""
    out = []
    for row in sorted(data.current, key=lambda r: (list(r.get("category") or ()), r["capability"], r["category_id"])):
        sts = list(row.get("statements") or ()) or [None]
        out += [(row, st) for st in sts]
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


def _mdq(ex: Excerpt | None) -> str:
    """An excerpt on one Markdown line (its line breaks shown as ↵), or ""."""
    if ex is None:
        return ""
    return f"line {ex.line}: «{_md(ex.text.replace(chr(10), ' ↵ '))}»"


def _md_check(data: ReportData, sides) -> str:
    """A diff row's ``old file:line → new file:line``, then the excerpt of each value there
    (``sides``: (side, file:line, value))."""
    ats, quotes = [], []
    for side, at, value in sides:
        if not at:
            continue
        ats.append(_md(at))
        got = _at(at)
        q = _mdq(data.excerpt(side, got[0], got[1], None, value)) if got else ""
        if q:
            quotes.append(f"{side} {q}")
    return " → ".join(ats) + (" — " + " · ".join(quotes) if quotes else "")


def _md_conflict(data: ReportData, c: dict, max_values: int) -> list[str]:
    label, names = conflict_category(c)
    out = [f"- **{c['status']}** · {_md(label)} · {kind_text(c['kind'])} · {RELATION_TEXT[c['relation']]}"
           f" · severity {c['severity']} · `{c['id']}`" + (f" · page {_md(c['page'])}" if c["page"] else "")]
    if names:
        more = len(c["categories"]) - len(names)
        out.append(f"  - categories: {_md('、'.join(names))}" + (f" … and {more} more" if more > 0 else ""))
    spans, total = shown_periods(c, max_values)
    for p in spans:
        out += _md_period(data, c, p)
    if total > len(spans):
        out.append(f"  - … and {total - len(spans)} more periods ({n_values(c)} captures' values in all; "
                   f"conflicts.json has them all)")
    if c["decision"]:
        d = c["decision"]
        out.append(f"  - decision: {_md(d['decision'])} by {_md(d['reviewer'])} on {d['date']}: "
                   f"{_md(d['reason'])}" + (f" — **stale: {_md(d['stale_reason'])}**" if d["stale_reason"] else ""))
    return out


def _md_source(data: ReportData, src: dict | None, value: str) -> str:
    if not src:
        return ""
    q = _mdq(data.excerpt("new", src["source_file"], src["line"], None, value))
    return f"{_md(src['source_file'])}:{src['line']} ({src.get('date') or 'date unknown'})" + (f" {q}" if q else "")


def to_markdown(data: ReportData) -> str:
    """The report in Markdown: its sections in order (``MARKDOWN_SECTIONS``), each a function of
    the report's data and summary returning its lines."""
    s = summary(data)
    out = [f"# Review report: dataset {data.version}", ""]
    out.append(f"Compared with: {_md(data.previous or '(no earlier version)')}")
    for section in MARKDOWN_SECTIONS:
        out += section(data, s)
    return "\n".join(out)


def _md_needs_decision(data: ReportData, s: dict) -> list[str]:
    max_values = data.caps()[0]
    out = ["", f"## What needs a decision ({s['needs_decision']})", "",
           "Open conflicts (no decision yet) and stale decisions (the values changed since, or the conflict "
           "is gone), by severity: the statements that hold today disagree, or the newest version of a page "
           "changed something. Changes between older versions, superseded since, are history (below).", "",
           "| | count |", "|---|---|",
           f"| conflicts open | {s['conflicts_open']} |", f"| decisions stale | {s['conflicts_stale']} |",
           f"| high | {s['high']} |", f"| medium | {s['medium']} |", f"| low | {s['low']} |", ""]
    for sev, cs in needs_decision(data.conflicts):
        out += _md_conflict_group(data, sev.capitalize(), cs, max_values)
    gone = [r for r in data.reviews if r["stale_reason"] == "conflict no longer exists"]
    if gone:
        out += [f"### Decisions whose conflict no longer exists ({len(gone)})", ""]
        out += [f"- `{r['conflict']}` ({_md(r['decision'])} by {_md(r['reviewer'])}, {_md(r['date'])}; "
                f"decisions file line {r['line']})"
                for r in gone]
        out.append("")
    return out


def _md_current_requirements(data: ReportData, s: dict) -> list[str]:
    out = [f"## Current requirements ({s['current']})", ""]
    if not data.current:
        return out + ["This dataset version has no current-requirements table.", ""]
    out += ["One row per page stating the requirement of a capability's category.", "",
            "| category | capability | status | page | requirement | source | documents |",
            "|---|---|---|---|---|---|---|"]
    out += [_md_current(data, row, st) for row, st in current_rows(data)]
    return out + [""]


def _md_what_changed(data: ReportData, s: dict) -> list[str]:
    _, max_rows, max_sources = data.caps()
    out = ["## What changed since the previous version", "", "### Summary", "",
           "| | count |", "|---|---|",
           f"| categories added | {s['categories_added']} |", f"| categories removed | {s['categories_removed']} |",
           f"| categories renamed | {s['categories_renamed']} |", f"| categories changed | {s['categories_changed']} |",
           f"| categories new to the dataset | {s['categories_new']} |",
           f"| categories gone from the dataset | {s['categories_gone']} |",
           f"| new conflicts since previous | {s['conflicts_new']} |", ""]
    if s["categories_added_unlisted"]:
        out += [f"{s['categories_added_unlisted']} of the categories added come with pages seen for the first "
                f"time: counted, not listed.", ""]
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
            out += _md_change_rows(data, c)
        if len(d.changes) > max_rows:
            out.append(f"\n… and {len(d.changes) - max_rows} more categories (`python -m pipeline diff` lists them all)")
        out.append("")
    return out


def _md_change_rows(data: ReportData, c) -> list[str]:
    """The rows of one category's change in a source's table of changes."""
    name = " / ".join(c.category)
    if c.kind in ("added", "removed"):
        where = _md_check(data, _change_values(c)[:2])  # (the names; fields have rows of their own)
        return [f"| {_md(name)} | {c.kind} | | {_md(c.old_name or '')} | {_md(c.new_name or '')} | {where} |"]
    out = []
    if c.kind == "renamed":
        label = "renamed (inferred: same content)" if c.inferred else "renamed"
        where = _md_check(data, _change_values(c)[:2])  # (the names; fields have rows of their own)
        out.append(f"| {_md(name)} | {label} | name | {_md(c.old_name)} | {_md(c.new_name)} | {where} |")
    for f in c.fields:
        old, new = f.old, f.new
        if f.field == "documents":
            old = "removed: " + _documents_text(f.removed) if f.removed else ""
            new = "added: " + _documents_text(f.added) if f.added else ""
        ov, nv = (_documents_text(f.removed), _documents_text(f.added)) if f.field == "documents" else (f.old, f.new)
        where = _md_check(data, (("old", c.old_at, ov), ("new", c.new_at, nv)))
        label = f"{f.field} (slight text difference)" if f.slight else f.field
        out.append(f"| {_md(name)} | changed | {label} | {_md(old)} | {_md(new)} | {where} |")
    return out


def _md_other_conflicts(data: ReportData, s: dict) -> list[str]:
    max_values = data.caps()[0]
    others = other_conflicts(data.conflicts)
    out = [f"## Decided, history, gaps and informative differences ({sum(len(cs) for _, cs in others)})", ""]
    for st, cs in others:
        out += _md_conflict_group(data, OTHER_TEXT.get(st, st), cs, max_values)
    return out


def _md_conflict_group(data: ReportData, heading: str, cs: list[dict], max_values: int) -> list[str]:
    """A heading with its count, then each conflict, or "None."."""
    out = [f"### {heading} ({len(cs)})", ""]
    for c in cs:
        out += _md_conflict(data, c, max_values)
    return out + ([""] if cs else ["None.", ""])


def _md_page_versions(data: ReportData, s: dict) -> list[str]:
    out = ["## Page versions", ""]
    for p in data.pages:
        out.append(f"### {_md(p['page_key'])}")
        if p["inferred"]:
            out.append(f"_{_md(p['inferred'])}_")
        out.append("")
        for v in p["versions"]:
            out.append(f"- {_md(v['source_file'])} — {v['date'] or 'date unknown'}" + (" — **current**" if v["current"] else ""))
        out.append("")
    return out


def _md_names_to_review(data: ReportData, s: dict) -> list[str]:
    review = [c for c in data.categories if c["review"]]
    out = [f"## Category names to review ({len(review)})", "",
           "Names used by one page only. None is merged with another; to merge, add a reviewed line to "
           "`pipeline/data/aliases.toml`.", "",
           "| category | capability | page | closest names elsewhere |", "|---|---|---|---|"]
    for c in sorted(review, key=lambda c: (not c["review"]["candidates"], " / ".join(c["category"]))):
        cands = "; ".join(f"{x['category']} ({x['score']})" for x in c["review"]["candidates"]) or "(none)"
        out.append(f"| {_md(' / '.join(c['category']))} | {c['capability']} | {_md(c['pages'][0])} | {_md(cands)} |")
    return out + [""]


#: the Markdown report's sections, in order (a new section: a function here, and its part of the
#: HTML template, ``pipeline/data/report.html.j2``)
MARKDOWN_SECTIONS = (_md_needs_decision, _md_current_requirements, _md_what_changed, _md_other_conflicts,
                     _md_page_versions, _md_names_to_review)


def _md_current(data: ReportData, row: dict, st: dict | None) -> str:
    name = _md(" / ".join(row.get("category") or ()))
    status = STATUS_TEXT.get(row["status"], row["status"])
    if st is None:
        return f"| {name} | {row['capability']} | {status} | | | | |"
    req = rule_words(st)
    if st.get("integration"):
        req += f"; access: {st['integration']}"
    if st.get("conditions"):
        req += "; " + "；".join(str(x) for x in st["conditions"])
    if st.get("note"):
        req += f"; {st['note']}"
    docs = _documents_text(st.get("documents") or ()) or ("(no capture lists the documents)"
                                                          if st.get("items_missing") else "")
    items, rule_src = st.get("items_source"), st.get("rule_source")
    count = _statement_sources(st)
    docs = _md(docs)
    if items and items != rule_src:
        docs += f" — listed in an older capture: {_md_source(data, items, count[-1][1])}"
    last = st.get("last_list")
    if last:
        docs += _md(f" — last complete list, not today's ({rule_words(last)}): "
                    f"{_documents_text(last.get('documents') or ())}") + f" {_md_source(data, last['source'], count[-1][1])}"
    return (f"| {name} | {row['capability']} | {_md(status)} | {_md(st.get('page') or '')} | {_md(req)} | "
            f"{_md_source(data, rule_src, count[0][1] if rule_src else '')} | {docs} |")


def to_html(data: ReportData) -> str:
    from jinja2 import Environment, select_autoescape
    from markupsafe import Markup

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True,
                      # every value shown has its control characters escaped, then is HTML-escaped
                      # (markup the template made itself, a macro's output, is left as it is)
                      finalize=lambda v: v if isinstance(v, Markup) or not isinstance(v, str) else visible(v))
    template = env.from_string(resources.files("pipeline").joinpath("data/report.html.j2").read_text("utf-8"))
    max_values, max_rows, max_sources = data.caps()
    others = other_conflicts(data.conflicts)
    # the cards count the rows listed (what the filter can show), the totals are said beside them
    listed = Counter(c.kind for d in data.diffs[:max_sources] for c in d.changes[:max_rows])
    return template.render(listed=listed, d=data, s=summary(data), decide=needs_decision(data.conflicts),
                           others=others, n_others=sum(len(cs) for _, cs in others), other_text=OTHER_TEXT,
                           current=current_rows(data), current_status=STATUS_TEXT, unresolved=UNRESOLVED,
                           relation_text=RELATION_TEXT, kind_text=kind_text, rule_text=rule_words,
                           conflict_category=conflict_category, statement_sources=_statement_sources,
                           change_values=_change_values, documents_text=_documents_text, at=_at,
                           n_values=n_values, max_values=max_values, shown_periods=shown_periods,
                           period_when=period_when, max_timelines=timeline.MAX_TIMELINES, max_rows=max_rows, max_sources=max_sources,
                           review=[c for c in data.categories if c["review"]],
                           gone=[r for r in data.reviews if r["stale_reason"] == "conflict no longer exists"])
