"""Every disagreement, one fact one conflict. Three kinds of difference are told apart
(``relation`` of a conflict):
- ``version``: one page changed over time (its captures ordered by date);
- ``page``: two different pages about the same capability disagree (their current statements);
- ``capability``: the same category needs different things for face verification and live
  streaming; informative, never an open conflict.
Record-level problems (``relation = record``): a declared count that does not match the items
listed, and items lost in a capture (a coverage gap, reported apart from substantive changes).
Categories added and removed are dated from the first version where it happened."""

from __future__ import annotations

import hashlib
import json
from itertools import repeat

from pipeline.core.model import count_text
from pipeline.core.normalize import stable_id
from pipeline.core.records import Row, distinct_contents
from pipeline.reconcile.values import (ENTRIES_TOLD_BY, FIELD_KIND, SAID_TOGETHER, SLIGHT_KIND, differs_as, display,
                                       field_value, slight_display, slight_texts)
from pipeline.reconcile.statements import today_sources
from pipeline.reconcile.versions import Version, current, page_changes, part_key


SEVERITY = {
    "count_differs": "high", "rule_differs": "high", "documents_differ": "high",
    "count_mismatch": "high", "integration_differs": "medium", "category_added": "medium",
    "category_removed": "medium", "category_renamed": "medium", "rename_candidate": "medium",
    # a category gone and one or more come in its place (a rename, a move into its children)
    "category_moved": "medium",
    "scope_differs": "low",
    "scenario_differs": "low", "items_lost": "gap", "capability_difference": "info",
    "conditions_differ": "high", "entries_differ": "high", "notes_differ": "medium",
    # a revision caught mid-edit: the page lacked it for one revision and said it again
    "absent_from_revision": "low",
    # a glyph lost in PDF text is no change of what is required: told, both texts shown, low
    SLIGHT_KIND: "low",
}


def _value(row: dict, field: str, page_key: str, date: str | None) -> dict:
    """One capture's value in a conflict (``{source_file, source_sha256, page, date, value,
    category_raw, line_start, line_end}``), as plain JSON types already: a conflict over an
    archive lists every capture (hundreds of thousands of values), so ``plain_row`` passes
    them through rather than converting each again."""
    return _capture_value(row, page_key, date, display(row, field), list(row["category_raw"]))


def _capture_value(row, page_key: str, date: str | None, shown: str, raw: list[str]) -> dict:
    """``_value`` with what depends on the row's content only (``shown``, ``raw``) given."""
    return {"source_file": row.source_file, "source_sha256": row.source_sha256, "page": page_key,
            "date": date, "value": shown, "category_raw": raw, "line_start": row.line_start,
            "line_end": row.line_end}


_UNSEEN = object()


def _capture_values(entries: list[tuple[dict, str, str | None]], shows) -> tuple[list[dict], list[dict]]:
    """A value (``_value``) for each entry whose row shows something (``shows(row)``: the text
    shown, or None to leave the entry out), and one row per distinct content among them. What
    a row shows depends on its content alone (its ``content_hash``): asked once per
    content, not once per capture."""
    content: dict = {}
    said: dict = {}  # (text shown, category as written) -> a number standing for it
    values, reps = [], []
    told: set = set()  # a capture listing the category twice (two tables of a page) says it once
    for r, p, d in entries:
        k = r.content_hash
        shared = content.get(k, _UNSEEN)
        if shared is _UNSEEN:
            shown = shows(r)
            # (what a content says, and the number of what it is told once by: made once per
            # content; a number, not the text and the name, is what each capture's key holds)
            shared = content[k] = None if shown is None else (
                shown, list(r["category_raw"]), said.setdefault((shown, r["category_raw"]), len(said)))
            if shown is not None:
                reps.append(r)
        if shared is not None:
            once = (r.source_sha256, shared[2])
            if once not in told:
                told.add(once)
                values.append(_capture_value(r, p, d, shared[0], shared[1]))
    return values, reps


def values_hash(values: list[dict]) -> str:
    """Fingerprint of what a reviewer saw: which captures said what."""
    names: dict[int, str] = {}  # values of one content share their category_raw list: joined once
    key = []
    for v in values:
        raw = v.get("category_raw") or ()
        name = names.get(id(raw)) if raw else ""
        if name is None:
            name = names[id(raw)] = "/".join(raw)
        key.append((v["source_sha256"], v["value"], name))
    key.sort()
    return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).hexdigest()[:16]


def _unless_today(c: dict, today: bool) -> dict:
    """``c`` as history where it does not bear on today's answer (``statements.Today``): an
    open change between versions the page has since moved on from is the category's dated
    history, shown with it, never waiting for a decision."""
    if c["status"] == "open" and not today:
        c["status"] = "history"
    return c


def _conflict(kind: str, relation: str, capability: str, page: str | None, row: dict, field: str | None,
              values: list[dict], summary: str) -> dict:
    severity = SEVERITY[kind]
    status = {"info": "info", "gap": "gap"}.get(severity, "open")
    return {
        "id": stable_id("cfl", kind, relation, capability, page or "", row["category_id"], field or ""),
        "kind": kind, "relation": relation, "severity": severity, "status": status,
        "capability": capability, "category_id": row["category_id"], "category": row["category"],
        "categories": [{"category_id": row["category_id"], "category": list(row["category"])}],
        "page": page, "field": field, "summary": summary, "values": values,
        "values_hash": values_hash(values), "decision": None,
    }


#: the same change of a field at the same version in at least this many categories of a page is
#: one page-wide change (002 switched 19 categories to 微信原生组件标签): one conflict, one decision
PAGE_WIDE_MIN = 5


def _change_pattern(entries: list[tuple[dict, str, str | None]], field: str) -> tuple:
    """How a field's value changed over a page's versions (entries in version order): each
    change as (from, to, the sha256 of the version it appeared in)."""
    seq: list[tuple[str, str]] = []
    last = None  # (consecutive captures of one content show one value: looked at once)
    for r, _, _ in entries:
        if r.content_hash == last:
            continue
        last = r.content_hash
        if field_value(r, field) is None:
            continue
        shown = display(r, field)
        if not seq or seq[-1][1] != shown:
            seq.append((r.source_sha256, shown))
    return tuple((a[1], b[1], b[0]) for a, b in zip(seq, seq[1:]))


def _page_wide(kind: str, cap: str, where: str, field: str, pattern: tuple, members: list) -> dict:
    """One conflict for the same change in many categories of a page (``members``: each one's
    entries and distinct rows): every capture's value of each, and the categories it covers."""
    values, rows = [], []
    for entries, reps in sorted(members, key=lambda m: m[0][0][0]["category"]):
        vals, _ = _capture_values(entries, lambda r: display(r, field) if field_value(r, field) is not None else None)
        values += vals
        rows.append(entries[0][0])
    files = {v["source_sha256"]: f"{v['source_file']} ({v['date'] or 'date unknown'})" for v in values}
    change = "; ".join(f"{a} → {b} in {files.get(sha, sha)}" for a, b, sha in pattern)
    names = "、".join(" / ".join(r["category"]) for r in rows)
    c = _conflict(kind, "version", cap, where, rows[0], field, values,
                  f"page-wide: {field} of {len(rows)} categories: {change}: {names}")
    c["id"] = stable_id("cfl", kind, "version", cap, where, "page-wide", field, json.dumps(pattern, ensure_ascii=False))
    c["category_id"], c["category"] = None, []
    c["categories"] = [{"category_id": r["category_id"], "category": list(r["category"])} for r in rows]
    return c


def _summarise(field: str, groups: dict) -> str:
    parts = []
    for shown, vals in groups.items():
        where = ", ".join(f"{v['source_file']}:{v['line_start']}" for v in vals)
        parts.append(f"{shown} ({where})")
    return f"{field}: " + " vs ".join(parts)


def _grouped(values: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for v in values:
        groups.setdefault(v["value"], []).append(v)
    return groups


def _compare(field: str, entries: list[tuple[dict, str, str | None]], reps: list[dict] | None = None):
    """entries: (row, page_key, date). Returns (values, summary) when the known values differ.
    ``reps``: one row per distinct content among the entries (``distinct_contents``, computed
    when not given); a field's value depends on nothing else, so whether they differ is decided
    on these alone."""
    if reps is None:
        reps = list(distinct_contents(r for r, _, _ in entries))
    if len({field_value(r, field) for r in reps} - {None}) < 2:
        return None
    slight = slight_texts(field, {field_value(r, field) for r in reps} - {None})
    if slight:  # what differs is a few characters of a text: those texts, side by side
        values, _ = _capture_values(entries, lambda r: slight_display(r, field, slight)
                                    if field_value(r, field) is not None else None)
        return values, _summarise(f"{field}, slight text difference", _grouped(values))
    values, known = _capture_values(entries, lambda r: display(r, field) if field_value(r, field) is not None
                                    else None)
    groups = _grouped(values)
    if field == "documents":
        sets = [set(r["documents"]) for r in known]
        common = set.intersection(*sets)
        extra = sorted(set.union(*sets) - common)
        return values, f"documents differ: not in every capture: {'、'.join(f'《{d}》' for d in extra)}"
    return values, _summarise(field, groups)


def records_to_conflicts(rows: list[Row], pages: dict[str, list[Version]]) -> list[dict]:
    """Every disagreement, in publishing order (``conflict_order``)."""
    out = sorted(iter_conflicts(rows, pages), key=conflict_order)
    ids = [c["id"] for c in out]
    assert len(ids) == len(set(ids)), "conflict ids must be unique"
    return out


def conflict_order(c: dict) -> tuple:
    return ("/".join(c["category"]), c["relation"], c["kind"], c["id"])


def iter_conflicts(rows: list[Row], pages: dict[str, list[Version]], stated: dict | None = None,
                   changes: dict | None = None):
    """Every disagreement, one at a time (a conflict over an archive lists every capture's value,
    so the build writes each as it comes): a page over time and within one capture, pages of one
    capability, capabilities. Eligibility rows (a category list without a qualification column)
    state no requirement: they count for categories added and removed, never in value
    comparisons. ``stated``: ``statements.stated_today(pages)``, and ``changes``: each page's
    ``versions.page_changes``, when worked out already."""
    # which captures today's answer comes from: a change that appeared in another is history
    today = today_sources(pages, stated)
    for key, versions in sorted(pages.items()):
        page = _PageRows(key, versions)
        if len(versions) > 1:
            yield from _changes(page, today)
            yield from _membership(key, page.cap, versions, today.by_page.get(key, frozenset()),
                                   (changes or {}).get(key))
        yield from _record_problems(page, today)
    by_cap_cat, page_of = _stated_today(pages)
    yield from _between_pages(by_cap_cat, page_of)
    yield from _between_capabilities(by_cap_cat)


def _is_requirement(r) -> bool:
    return r.get("kind", "qualification") == "qualification"


class _Entries:
    """One category's (row, page part, date) entries on a page, made as they are read: a page's
    history can be most of the archive, and a tuple held per capture cost more than the rest of
    the comparison (its rows and their dates are kept, the part is one for all)."""

    __slots__ = ("rows", "where", "dates")

    def __init__(self, rows: list, where: str, dates: list):
        self.rows, self.where, self.dates = rows, where, dates

    def __iter__(self):
        return zip(self.rows, repeat(self.where), self.dates)

    def __getitem__(self, i: int) -> tuple:
        return self.rows[i], self.where, self.dates[i]

    def __len__(self) -> int:
        return len(self.rows)


class _PageRows:
    """One page's requirement rows per (part, category), with the date of each one's version
    (``entries``); ``reps`` holds each category's distinct contents."""

    def __init__(self, key: str, versions: list[Version]):
        self.key, self.versions, self.cap = key, versions, key.split(":", 1)[0]
        self.by_cat: dict[tuple[str, str], tuple[list, list]] = {}
        for v in versions:
            for r in v.rows:
                if _is_requirement(r):
                    rows, dates = self.by_cat.setdefault((v.slot(r.get("page_part")) or "", r["category_id"]),
                                                         ([], []))
                    rows.append(r)
                    dates.append(v.date)
        self.reps = {k: list(distinct_contents(rows)) for k, (rows, _) in self.by_cat.items()}

    def entries(self, k: tuple[str, str]) -> _Entries:
        rows, dates = self.by_cat[k]
        return _Entries(rows, part_key(self.key, k[0]), dates)


def _differences(page: _PageRows) -> list[tuple]:
    """What differs over a page's versions, per (part, category) and field, with how it changed
    (``_change_pattern``): ``[(key, field, kind, pattern)]``."""
    differs = []
    for k in sorted(page.by_cat):
        told = set()
        said_alike = len({field_value(r, "said") for r in page.reps[k]}) < 2
        for field in FIELD_KIND:
            if field == "entries" and told & set(ENTRIES_TOLD_BY) or field in SAID_TOGETHER and said_alike:
                continue
            known = {field_value(r, field) for r in page.reps[k]} - {None}
            if len(known) >= 2:
                told.add(field)
                differs.append((k, field, differs_as(field, known), _change_pattern(page.entries(k), field)))
    return differs


def _changes(page: _PageRows, today):
    """Changes of a page over time; the same change at the same version in many categories is
    one page-wide change (``_page_wide``). A change is open when it appeared in a capture
    today's statement comes from, else history (``_unless_today``)."""
    differs = _differences(page)
    alike: dict[tuple, list] = {}
    for k, field, kind, pattern in differs:
        alike.setdefault((k[0], field, kind, pattern), []).append(k)

    def recent(m: tuple[str, str], pattern: tuple) -> bool:
        # the last change appeared in a capture today's statement comes from (no change
        # shown: kept open, never hidden)
        return not pattern or pattern[-1][2] in today.by_part.get((part_key(page.key, m[0]), m[1]), ())

    for k, field, kind, pattern in differs:
        members = alike[(k[0], field, kind, pattern)]
        if pattern and len(members) >= PAGE_WIDE_MIN:
            if members[0] == k:
                c = _page_wide(kind, page.cap, part_key(page.key, k[0]), field, pattern,
                               [(page.entries(m), page.reps[m]) for m in members])
                yield _unless_today(c, any(recent(m, pattern) for m in members))
            continue
        got = _compare(field, page.entries(k), page.reps[k])
        if got:
            c = _conflict(kind, "version", page.cap, part_key(page.key, k[0]), page.by_cat[k][0][0], field, *got)
            yield _unless_today(c, recent(k, pattern))


def _record_problems(page: _PageRows, today):
    """Problems within one capture: a declared count the items do not match, items lost."""
    for k in sorted(page.by_cat):
        where = part_key(page.key, k[0])
        reps = page.reps[k]
        if any(_count_mismatch(r) for r in reps):
            vals, mismatch = _capture_values(page.entries(k), lambda r: f"declares {count_text(r['pick'], r['of'])}, lists "
                                             f"{r['options']}" if _count_mismatch(r) else None)
            c = _conflict("count_mismatch", "record", page.cap, where, mismatch[0], "count", vals,
                          "declared count does not match the items listed: "
                          + "; ".join(f"{v['value']} ({v['source_file']}:{v['line_start']})" for v in vals))
            stated = today.by_part.get((where, k[1]), ())
            yield _unless_today(c, any(v["source_sha256"] in stated for v in vals))
        if any(_lost(r) for r in reps):
            vals, lost = _capture_values(page.entries(k), lambda r: _lost_text(r) if _lost(r) else None)
            yield _conflict("items_lost", "record", page.cap, where, lost[0], "items", vals,
                            "items lost in capture: " + "; ".join(
                                f"{v['value']} ({v['source_file']}:{v['line_start']})" for v in vals))


def _stated_today(pages: dict[str, list[Version]]) -> tuple[dict, dict[str, str]]:
    """Every page's current statements per (capability, category): ``(by_cap_cat, page_of)``,
    ``page_of`` mapping a part key to its page."""
    by_cap_cat: dict[tuple[str, str], list[tuple[dict, str, str | None]]] = {}
    page_of: dict[str, str] = {}
    for key, vs in sorted(pages.items()):
        v = current(vs)
        for r in v.rows:
            if _is_requirement(r):
                where = part_key(key, v.slot(r.get("page_part")))
                page_of[where] = key
                by_cap_cat.setdefault((r["capability"], r["category_id"]), []).append((r, where, v.date))
    return by_cap_cat, page_of


def _between_pages(by_cap_cat: dict, page_of: dict[str, str]):
    """Different pages of one capability that disagree today (their current statements)."""
    for (cap, cid), (entries, group) in sorted(_across_pages(by_cap_cat, page_of).items()):
        # parts of one page (非个人主体 / 个人主体 tables) address different subjects: not a
        # disagreement between pages
        if len({page_of[p] for _, p, _ in entries}) < 2:
            continue
        told = set()
        said_alike = len({field_value(r, "said") for r in distinct_contents(r for r, _, _ in entries)}) < 2
        for field in FIELD_KIND:
            if field == "entries" and told & set(ENTRIES_TOLD_BY) or field in SAID_TOGETHER and said_alike:
                continue
            got = _compare(field, entries)
            if got:
                told.add(field)
                known = {field_value(r, field) for r, _, _ in entries} - {None}
                c = _conflict(differs_as(field, known), "page", cap, None, entries[0][0], field, *got)
                c["categories"] = group or c["categories"]
                yield c


def _between_capabilities(by_cap_cat: dict):
    """The same category requiring other things for face verification and live streaming:
    informative."""
    by_cat_all: dict[str, list[tuple[dict, str, str | None]]] = {}
    for (cap, cid), entries in sorted(by_cap_cat.items()):
        by_cat_all.setdefault(cid, []).extend(entries)
    for group in _at_other_depths(by_cap_cat):
        # one category filed at another depth by another capability (FaceID 2021: 金融业 / 基金
        # / 公募基金; live streaming: 金融业 / 公募基金): compared as one
        merged = [e for cid in group for e in by_cat_all.pop(cid)]
        by_cat_all[group[0]] = merged
    for cid, entries in sorted(by_cat_all.items()):
        caps = sorted({r["capability"] for r, _, _ in entries})
        if len(caps) < 2:
            continue
        for field in ("count", "rule", "documents"):
            got = _compare(field, entries)
            if got and len({r["capability"] for r, _, _ in entries if field_value(r, field) is not None}) > 1:
                yield _conflict("capability_difference", "capability", "+".join(caps), None,
                                entries[0][0], field, got[0], got[1])


def _at_other_depths(by_cap_cat: dict[tuple[str, str], list]) -> list[list[str]]:
    """Category ids that are one category at different depths in different capabilities (or,
    keyed by page, on different pages): the same first and last level (金融业 … 公募基金), at two
    depths or more, in two capabilities or more. Where one capability has two such categories
    at one depth, nothing is merged (they could be two categories)."""
    names: dict[tuple[str, str], dict[str, set[str]]] = {}
    depth: dict[str, int] = {}
    for (cap, cid), entries in by_cap_cat.items():
        path = tuple(entries[0][0]["category"])
        if len(path) >= 2:
            names.setdefault((path[0], path[-1]), {}).setdefault(cap, set()).add(cid)
            depth[cid] = len(path)
    out = []
    for key, per_cap in sorted(names.items()):
        ids = sorted({cid for cids in per_cap.values() for cid in cids})
        if (len(per_cap) > 1 and len(ids) > 1 and len({depth[i] for i in ids}) > 1
                and all(len({depth[i] for i in c}) == len(c) for c in per_cap.values())):
            out.append(sorted(ids, key=lambda i: (depth[i], i)))  # named by the shortest path
    return out


def _across_pages(by_cap_cat: dict[tuple[str, str], list], page_of: dict[str, str]) -> dict[tuple, tuple]:
    """What the pages of one capability state today, per category, for comparing pages:
    ``{(capability, category_id): (entries, categories)}``. One category filed at another depth
    by another page (FaceID's 2021 page: 金融 / 基金 / 公募基金, 3选1; seed 003: 金融业 / 公募基金,
    4选1) is compared as one (``_at_other_depths``, with pages in place of capabilities), and
    its conflicts name every such category (``categories``), so that each one's answer shows
    the disagreement; categories is None for a category compared alone."""
    per_cap: dict[str, dict[tuple[str, str], list]] = {}
    for (cap, cid), entries in by_cap_cat.items():
        for e in entries:
            per_cap.setdefault(cap, {}).setdefault((page_of[e[1]], cid), []).append(e)
    out = {k: (entries, None) for k, entries in by_cap_cat.items()}
    for cap, per_page in sorted(per_cap.items()):
        for group in _at_other_depths(per_page):
            merged = [e for cid in group for e in out.pop((cap, cid))[0]]
            named = [{"category_id": cid, "category": list(by_cap_cat[(cap, cid)][0][0]["category"])}
                     for cid in group]
            out[(cap, group[0])] = (merged, named)
    return out


def _count_mismatch(r: dict) -> bool:
    """A declared count the items listed do not match; not where items were lost in the capture
    (保险 002:214 declares 3选1 and lists 2 of them: one fact, reported as items lost)."""
    return (r["rule"] == "any" and r["of"] is not None and bool(r["options"]) and r["options"] != r["of"]
            and not _lost(r))


def _lost(r: dict) -> bool:
    return bool(r["items_missing"]) or r["rule"] == "unknown"


def _lost_text(r: dict) -> str:
    if r["rule"] == "unknown":
        return "requirement text lost (no rule, no items)"
    if r["of"]:
        return f"declares {count_text(r['pick'], r['of'])}, lists {r['options'] or 0} with items missing"
    return f"declares {r['declared'] or r['rule']} with items missing"


def _membership(key: str, cap: str, versions: list[Version], now: frozenset[str], changes=None):
    """Categories added, removed, renamed and moved between consecutive versions of a page
    (``page_changes``), one conflict at a time; each conflict's values (a sentence per
    transition, over a long history thousands) are made when it is yielded. One bears on today
    where a transition of it led to a capture today's answer comes from (``now``)."""
    changes = changes if changes is not None else page_changes(versions)
    said = _Said(key, changes.pairs)
    for kind, found in (("category_added", changes.added), ("category_removed", changes.removed),
                        ("category_renamed", changes.renamed)):
        for cid, seen in sorted(found.items()):
            row = changes.rows_of[cid]
            if kind == "category_renamed":
                vals = [v for occurrence in seen for v in said.renamed(*occurrence)]
                summary = "renamed: " + " → ".join(dict.fromkeys(v["value"] for v in vals))
            else:
                vals = [(said.added if kind == "category_added" else said.removed)(*occurrence)
                        for occurrence in seen]
                summary = f"{' / '.join(row['category_raw'])}: " + "; ".join(v["value"] for v in vals)
            c = _conflict(kind, "version", cap, key, row, "category", vals, summary)
            yield _unless_today(c, said.today(seen, now))
    for cid, seen in sorted(changes.respelt.items()):
        vals = [v for occurrence in seen for v in said.renamed(*occurrence)]
        names = " → ".join(dict.fromkeys(v["value"] for v in vals))
        c = _conflict("rename_candidate", "version", cap, key, changes.rows_of[cid], "category", vals,
                      f"respelt? {names}: one category gone and one come, their names a letter or two "
                      f"apart; if they are one category, add a reviewed alias")
        yield _unless_today(c, said.today(seen, now))
    yield from _moves(key, cap, changes, said, now)
    yield from _absences(key, cap, changes)


class _Said:
    """What a page's transitions (``pairs``) say of a category, as conflict values."""

    def __init__(self, key: str, pairs: list[tuple[Version, Version]]):
        self.key, self.pairs = key, pairs

    def today(self, seen: list[tuple], now: frozenset[str]) -> bool:
        return any(self.pairs[o[0]][1].source_sha256 in now for o in seen)

    def added(self, t: int, row) -> dict:
        prev, nxt = self.pairs[t]
        if prev.date is None and nxt.date is not None:  # where ``prev`` falls is unknown
            said = (f"in {nxt.source_file} ({nxt.date}), the page's first dated version; "
                    f"absent from {prev.source_file} (date unknown)")
        else:
            said = (f"added in {nxt.source_file} ({nxt.date or 'date unknown'}), "
                    f"absent from {prev.source_file} ({prev.date or 'date unknown'})")
        return _value(row, "rule", self.key, nxt.date) | {"value": said}

    def removed(self, t: int, row, holder) -> dict:
        # ``holder``: the version the row is of (the one before a capture cut short, not it)
        prev, nxt = holder, self.pairs[t][1]
        if prev.date is None and nxt.date is not None:
            said = (f"in {prev.source_file} (date unknown); already absent from {nxt.source_file} "
                    f"({nxt.date}), the page's first dated version")
        else:
            said = (f"in {prev.source_file} ({prev.date or 'date unknown'}), "
                    f"absent from {nxt.source_file} ({nxt.date or 'date unknown'})")
        return _value(row, "rule", self.key, prev.date) | {"value": said}

    def renamed(self, t: int, old, new) -> list[dict]:
        prev, nxt = self.pairs[t]
        return [_value(old, "rule", self.key, prev.date) | {"value": " / ".join(old["category_raw"])},
                _value(new, "rule", self.key, nxt.date) | {"value": " / ".join(new["category_raw"])}]


def _moves(key: str, cap: str, changes, said: _Said, now: frozenset[str]):
    """A category gone and what came in its place (``Changes.moved``): one event each, naming
    the category before and after, the versions, and whether the documents are the same. It
    covers the categories on both sides, so each one's history tells of it."""
    for cid, seen in sorted(changes.moved.items()):
        vals, told = [], []
        for t, old, holder, new in seen:
            nxt = said.pairs[t][1]
            vals.append(_value(old, "rule", key, holder.date) | {"value": " / ".join(old["category_raw"])})
            vals += [_value(n, "rule", key, nxt.date) | {"value": " / ".join(n["category_raw"])} for n in new]
            docs = ("the same documents" if all(set(n["documents"]) == set(old["documents"]) for n in new)
                    else "nearly the same documents: " + " → ".join(
                        dict.fromkeys("、".join(f"《{d}》" for d in sorted(r["documents"])) for r in [old, *new])))
            told.append(f"{' / '.join(old['category_raw'])} → " + "、".join(" / ".join(n["category_raw"]) for n in new)
                        + f" from {_named(holder)} to {_named(nxt)}, with {docs}")
        c = _conflict("category_moved", "version", cap, key, changes.rows_of[cid], "category", vals,
                      "moved: " + "; ".join(told))
        cats = {cid: list(changes.rows_of[cid]["category"])}
        cats |= {n["category_id"]: list(n["category"]) for o in seen for n in o[3]}
        c["categories"] = [{"category_id": k, "category": v} for k, v in cats.items()]
        yield _unless_today(c, said.today(seen, now))


def _absences(key: str, cap: str, changes):
    """Categories one revision lacks and the next has again (``Changes.absent``): one low
    event each, naming the revision that lacks it and the ones before and after that list it;
    the same revision lacking ``PAGE_WIDE_MIN`` categories or more (a capture caught mid-edit)
    is one page-wide event listing them. What the page says is the same before and after, so
    it is history, whenever it happened: nothing about today to decide."""
    pairs = changes.pairs
    per_revision: dict[int, list[str]] = {}
    for cid, seen in changes.absent.items():
        for t, *_ in seen:
            per_revision.setdefault(t, []).append(cid)
    wide = {t for t, cids in per_revision.items() if len(cids) >= PAGE_WIDE_MIN}

    def values(t: int, before, holder, after) -> list[dict]:
        lacking, back = pairs[t][1], pairs[t + 1][1]
        return [_value(before, "rule", key, holder.date) | {"value": f"in {_named(holder)}; absent from "
                                                                     f"{_named(lacking)}"},
                _value(after, "rule", key, back.date) | {"value": f"back in {_named(back)}"}]

    for cid, seen in sorted(changes.absent.items()):
        seen = [o for o in seen if o[0] not in wide]
        if seen:
            vals = [v for o in seen for v in values(*o)]
            name = " / ".join(seen[0][1]["category_raw"])
            c = _conflict("absent_from_revision", "version", cap, key, seen[0][1], "category", vals,
                          f"{name}: absent from one revision only: " + "; ".join(
                              f"{_named(pairs[o[0]][1])} lacks it, {_named(o[2])} before and "
                              f"{_named(pairs[o[0] + 1][1])} after list it" for o in seen))
            yield _unless_today(c, False)
    for t in sorted(wide):
        members = sorted(((o, o[1]) for cid in per_revision[t] for o in changes.absent[cid] if o[0] == t),
                         key=lambda m: m[1]["category"])
        lacking = pairs[t][1]
        vals = [v for o, _ in members for v in values(*o)]
        befores = "、".join(dict.fromkeys(_named(o[2]) for o, _ in members))
        names = "、".join(" / ".join(row["category"]) for _, row in members)
        c = _conflict("absent_from_revision", "version", cap, key, members[0][1], "category", vals,
                      f"page-wide: {len(members)} categories absent from one revision only, {_named(lacking)} "
                      f"(caught mid-edit?): {befores} before and {_named(pairs[t + 1][1])} after list them: {names}")
        c["id"] = stable_id("cfl", "absent_from_revision", "version", cap, key, "page-wide", lacking.source_sha256)
        c["category_id"], c["category"] = None, []
        c["categories"] = [{"category_id": row["category_id"], "category": list(row["category"])} for _, row in members]
        yield _unless_today(c, False)


def _named(v: Version) -> str:
    """A version as a conflict names it: its file and date, and its capture time where it has
    one (revisions of one day are told apart by it)."""
    when = v.date or "date unknown"
    if v.captured and len(v.captured) > 10 and v.captured[:10] == v.date:
        when = f"{v.date} {v.captured[11:16]}"
    return f"{v.source_file} ({when})"


def covered(conflict: dict) -> list[tuple[str, str]]:
    """(capability, category_id) of every category a conflict is about: each capability it
    names (``face_verification+live_streaming`` for a capability difference) times each
    category (a page-wide change lists many; a conflict read from a version older than the
    ``categories`` field names its own ``category_id``)."""
    cats = conflict.get("categories") or [{"category_id": conflict["category_id"]}]
    return [(cap, x["category_id"]) for cap in conflict["capability"].split("+") for x in cats]
