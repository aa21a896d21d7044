"""Reconcile all sources into one canonical view and flag every disagreement. Pure functions.

Three kinds of difference are told apart (``relation`` of a conflict):
- ``version``: one page changed over time (its captures ordered by date);
- ``page``: two different pages about the same capability disagree (their current statements);
- ``capability``: the same category needs different things for face verification and live
  streaming; informative, never an open conflict.
Record-level problems (``relation = record``): a declared count that does not match the items
listed, and items lost in a capture (a coverage gap, reported apart from substantive changes).

Which page a capture is a version of, and in which order its versions came, is
``pipeline/pages.py``; the newest dated version is the page's current statement. Categories
added and removed are dated from the first version where it happened (``transitions``).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import sys
from dataclasses import dataclass

from pipeline import names
from pipeline.normalize import fold, stable_id
from pipeline.pages import Capture, SourceFacts, capture_of, identify, note, scoped_renames, source_facts
from pipeline.records import Row, aliases, canonical_category, category_id, content_key, distinct_contents

SEVERITY = {
    "count_differs": "high", "rule_differs": "high", "documents_differ": "high",
    "count_mismatch": "high", "integration_differs": "medium", "category_added": "medium",
    "category_removed": "medium", "category_renamed": "medium", "rename_candidate": "medium",
    "scope_differs": "low",
    "scenario_differs": "low", "items_lost": "gap", "capability_difference": "info",
    "conditions_differ": "high", "entries_differ": "high", "notes_differ": "medium",
}
#: field compared -> conflict kind
FIELD_KIND = {"count": "count_differs", "rule": "rule_differs", "documents": "documents_differ",
              "integration": "integration_differs", "scope": "scope_differs",
              "scenario": "scenario_differs", "conditions": "conditions_differ", "entries": "entries_differ",
              "integration_also": "integration_differs", "notes": "notes_differ"}
#: compared only where what the scenario and the notes say together differs: a sentence that
#: moved from the notes into the scenario cell (社交/直播, 004 and 002) is no change of either
SAID_TOGETHER = ("scenario", "notes")
#: a change of entries that a count, rule or documents change already reports is not told twice
#: (one fact, one conflict): ``entries`` reports what those miss, an entry without a 《》 title
#: dropped (培训机构's 营业执照) or an alternative reworded around the same title
ENTRIES_TOLD_BY = ("count", "rule", "documents")


# --- names ---------------------------------------------------------------------------------

def apply_stated_renames(rows: list, sources: list[dict] | None = None) -> list:
    """Part joined eligibility cells (``names``), and give a category its new name's id on the
    page that states the rename (``企业征信 (注:原二级名称为【征信业务】)``): 征信业务 in that
    page's other versions is the same category under its former name (``pages.scoped_renames``);
    other pages keep theirs. For tests and small tools: the build applies the same to its
    objects (``renames_reaching``)."""
    said = captures_said(rows)
    reach = [s.to_list() for s in names.splits_for(said, names.known_names(said))]
    rows = rename_rows(rows, reach) if reach else rows
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["capability"], r["source_sha256"], r["page"]), []).append(r)
    captures = [dataclasses.replace(capture_of(k, rs), states=tuple(stated_renames(rs).items()))
                for k, rs in groups.items()]
    scoped = scoped_renames(captures, identify(captures, source_facts(sources)))
    return [rename_row(r, scoped.get((r["capability"], r["source_sha256"], r["page"]), {})) for r in rows]


def captures_said(reqs: list[dict]) -> list[dict]:
    """What a source's object says of each page it holds, for the build to know its pages
    before reading any record: ``{capability, title, updated, categories, states}`` (the
    categories' canonical paths, the renames it states as ``[old, new]`` paths)."""
    groups: dict[tuple, list[dict]] = {}
    for r in reqs:
        groups.setdefault((r["capability"], r["page"]), []).append(r)
    out = []
    for (cap, title), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        dates = [r["page_updated"] for r in rs if r["page_updated"]]
        out.append({"capability": cap, "title": title, "updated": max(dates) if dates else None,
                    "categories": [list(c) for c in sorted({tuple(r["category"]) for r in rs})],
                    "eligible": [list(c) for c in sorted({tuple(r["category"]) for r in rs
                                                          if r.get("kind") == "eligibility"})],
                    "states": [[list(o), list(n)] for o, n in sorted(stated_renames(rs).items())]})
    return out


def renames_reaching(infos: list[dict], sources: list[dict]) -> list[list]:
    """For each object (``infos``, with its ``sources`` row), what the build changes of its
    records' names, sorted: the stated renames that reach them, ``["rename", capability, title,
    old, new]`` (paths as lists), and how each joined eligibility cell is parted
    (``names.Split.to_list``)."""
    captures, paths = [], {}
    for info, src in zip(infos, sources):
        for c in info["captures"]:
            k = (c["capability"], src["source_sha256"], c["title"])
            paths[k] = {tuple(p) for p in c["categories"]}
            captures.append(Capture(k, src["source_file"], c["updated"],
                                    frozenset(category_id(tuple(p)) for p in c["categories"]),
                                    tuple((tuple(o), tuple(n)) for o, n in c["states"])))
    scoped = scoped_renames(captures, identify(captures, source_facts(sources)))
    known = names.known_names([c for info in infos for c in info["captures"]])
    out = []
    for info, src in zip(infos, sources):
        reach = []
        for c in info["captures"]:
            k = (c["capability"], src["source_sha256"], c["title"])
            reach += [["rename", k[0], k[2], list(old), list(new)]
                      for old, new in scoped.get(k, {}).items() if old in paths[k]]
        reach += [s.to_list() for s in names.splits_for(info["captures"], known)]
        out.append(sorted(reach, key=json.dumps))
    return out


def rename_rows(rows: list[dict], reach: list) -> list[dict]:
    """``rows`` with what ``renames_reaching`` decided applied, each to its page's rows: joined
    eligibility cells parted (``names.split_row``), then the stated renames."""
    per: dict[tuple, dict] = {}
    splits: dict[tuple, names.Split] = {}
    for what, cap, title, old, new in reach:
        if what == "split":
            splits[(cap, title, tuple(old))] = names.Split(cap, title, tuple(old),
                                                           None if new is None else tuple(map(tuple, new)))
        else:
            per.setdefault((cap, title), {})[tuple(old)] = tuple(new)
    parted = []
    for r in rows:
        split = splits.get((r["capability"], r["page"], tuple(r["category"]))) if r.get("kind") == "eligibility" else None
        parted += names.split_row(r, split) if split else [r]
    return [rename_row(r, per.get((r["capability"], r["page"]), {})) for r in parted]


def rename_row(r, renames: dict[tuple[str, ...], tuple[str, ...]]):
    new = renames.get(tuple(r["category"]))
    if not new:
        return r
    if hasattr(r, "replace"):
        return r.replace(category=list(new), category_id=category_id(new))
    return dict(r, category=list(new), category_id=category_id(new))


def stated_renames(rows) -> dict[tuple[str, ...], tuple[str, ...]]:
    """old canonical path -> new canonical path, for every rename a document states."""
    table = aliases()
    renames: dict[tuple[str, ...], tuple[str, ...]] = {}
    for r in rows:
        for old in r["renamed_from"] or ():
            old_path = canonical_category(tuple(r["category_raw"][:-1]) + (old,), table, r["capability"])
            if old_path != tuple(r["category"]):
                renames[old_path] = tuple(r["category"])
    return renames


# --- pages and versions --------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    """One capture of a page: the rows one source holds of it (every part of the page)."""

    page_key: str
    source_file: str
    source_sha256: str
    #: the page's own date where it gives one, else the day it was captured (``date_from``)
    date: str | None
    rows: tuple[dict, ...]
    #: "page" | "capture" | None (no date at all: where the version falls is unknown)
    date_from: str | None = None
    #: when it was captured (a date-time where a capture manifest gives one): orders revisions
    #: of one day
    captured: str | None = None
    #: why the capture looks cut short (``sources.truncated``): what it lacks is not removed
    truncated: str | None = None
    #: part of the page as the source names it -> the part it is compared as (``_part_slots``)
    slots: tuple[tuple[str | None, str | None], ...] = ()

    @functools.cached_property
    def _slot_of(self) -> dict:
        return dict(self.slots)

    def slot(self, part: str | None) -> str | None:
        """The part ``part`` is compared as (asked once per row: the mapping is made once)."""
        return self._slot_of.get(part, part)


def page_versions(rows: list[dict], sources: list[dict] | None = None
                  ) -> tuple[dict[str, list[Version]], dict[str, dict]]:
    """Versions of every page in time order (``pages.identify``: which page, which date), and
    a description of each page. ``part`` separates tables of a page that are separate
    statements (非个人主体 / 个人主体 / 海外主体); a version's parts are compared as the newest
    version's parts they share most categories with (``_part_slots``).
    """
    facts = source_facts(sources)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["capability"], r["source_sha256"], r["page"]), []).append(r)
    found = identify([capture_of(gk, rs) for gk, rs in groups.items()], facts)
    identity, info, when, order = found.identity, found.info, found.when, found.order
    by_page: dict[str, list[tuple]] = {}
    for gk in groups:
        by_page.setdefault(identity[gk], []).append(gk)
    pages: dict[str, list[Version]] = {}
    for key, gks in by_page.items():
        gks.sort(key=order)
        versions = []
        for gk in gks:
            date, date_from, captured = when[gk]
            versions.append(Version(key, groups[gk][0]["source_file"], gk[1], date,
                                    tuple(sorted(groups[gk], key=_line_order)), date_from, captured,
                                    facts.get(gk[1], SourceFacts()).truncated))
        slots = _part_slots(versions)
        pages[key] = [dataclasses.replace(v, slots=slots[i]) for i, v in enumerate(versions)]
        titled = [r["page"] for v in pages[key] for r in v.rows[:1] if r["page"]]
        info[key]["title"] = titled[-1] if titled else None
        now = current(pages[key])
        info[key]["parts"] = sorted({p for r in now.rows if (p := now.slot(r.get("page_part")))})
        changes = page_changes(pages[key])
        # a transition is told of the version it leads to; an undated version's (compared with
        # the first dated one, ``transitions``) of the undated version
        compared = {}
        for (prev, nxt), n in zip(changes.pairs, changes.per_transition()):
            if prev.date is None and nxt.date is not None:
                compared[id(prev)] = (nxt, n)
            else:
                compared[id(nxt)] = (prev, n)
        info[key]["versions"] = []
        for v in pages[key]:
            prev, n = compared.get(id(v), (None, {}))
            info[key]["versions"].append({
                "source_file": v.source_file, "source_sha256": v.source_sha256, "date": v.date,
                "date_from": v.date_from, "captured": v.captured, "truncated": v.truncated is not None,
                "current": v is now, "compared_with": prev.source_file if prev else None,
                "added": n.get("added"), "removed": n.get("removed"), "renamed": n.get("renamed")})
        _note_unordered(info[key], pages[key])
    return pages, info


def _note_unordered(page: dict, versions: list[Version]) -> None:
    """Revisions of one day without a capture time: their order is not known, and says so."""
    days: dict[str, list[Version]] = {}
    for v in versions:
        if v.date and not (v.captured and len(v.captured) > 10):
            days.setdefault(v.date, []).append(v)
    for day, vs in sorted(days.items()):
        if len(vs) > 1:
            note(page, f"{len(vs)} versions dated {day} carry no capture time: their order is unknown.")


def _part_slots(versions: list[Version]) -> list[tuple]:
    """For each version, its parts -> the part of the newest version that holds most of each
    one's categories (a part-less list before a page was split into 非个人主体 / 个人主体 /
    海外主体 tables is compared with the part that continues it). A part sharing nothing with
    the newest version's parts is compared as itself."""
    newest = versions[-1]
    target: dict[str | None, set] = {}
    for r in newest.rows:
        target.setdefault(r.get("page_part"), set()).add(r["category_id"])
    out = []
    for v in versions:
        mine: dict[str | None, set] = {}
        for r in v.rows:
            mine.setdefault(r.get("page_part"), set()).add(r["category_id"])
        slots = []
        for part, ids in sorted(mine.items(), key=lambda kv: kv[0] or ""):
            if part in target:
                continue  # a part the newest version has is itself
            shared = sorted(((len(ids & t), p or "") for p, t in target.items()), reverse=True)
            if shared and shared[0][0] and (len(shared) == 1 or shared[0][0] > shared[1][0]):
                slots.append((part, shared[0][1] or None))
        out.append(tuple(slots))
    return out


def _line_order(r) -> tuple:
    """A version's rows in line and id order. ``Row``s keep no id, but a source's rows come in
    that order (``build.rows_of``) and the sort is stable."""
    if type(r) is Row:  # the archive's bulk: the line is a slot of its own
        return (r.line_start, "")
    return (r["provenance"]["line_start"], r.get("id") or "")


def transitions(versions: list[Version]) -> list[tuple[Version, Version]]:
    """Pairs of versions to compare for categories added, removed or renamed: consecutive dated
    versions, and each undated version against the first dated one (where an undated version
    falls is unknown; what the first dated version already has or lacks is dated from there,
    never from a later one)."""
    dated = [v for v in versions if v.date]
    if not dated:
        return list(zip(versions, versions[1:]))
    first = dated[0]
    return [(v, first) for v in versions if not v.date] + list(zip(dated, dated[1:]))


def current(versions: list[Version]) -> Version:
    """The newest dated version; with no dates at all, the last listed."""
    dated = [v for v in versions if v.date]
    return dated[-1] if dated else versions[-1]


# --- comparable values ---------------------------------------------------------------------

#: the memos of ``_per_content``, emptied when a reconciliation ends (``reconcile_rows``)
_MEMOS: list[dict] = []


def _per_content(fn):
    """``fn(row, field)`` reads only what a category requires, which ``Row``s with one content
    share (one content for thousands of captures): computed once per content hash and field,
    for the length of one reconciliation."""
    memo: dict = {}
    _MEMOS.append(memo)

    def wrapper(row, field):
        h = getattr(row, "content_hash", None)
        if h is None:
            return fn(row, field)
        key = (field, h)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = fn(row, field)
            return value

    wrapper.__doc__ = fn.__doc__
    return wrapper


def _text(v: str | None) -> str | None:
    return fold(v).rstrip("。.；;") if v else None


@_per_content
def field_value(row: dict, field: str):
    """The comparable value of a field, or None when this capture cannot tell (items lost)."""
    lost = row["items_missing"] or row["rule"] == "unknown"
    if field == "count":
        # only declared counts are compared: "no count" next to "2选1" is not a disagreement
        return (row["pick"], row["of"]) if row["rule"] == "any" and row["of"] is not None else None
    if field == "rule":
        return None if row["rule"] == "unknown" else row["rule"]
    if field == "documents":
        return None if lost else tuple(sorted(set(row["documents"])))
    if field == "integration":
        return row["integration"].replace("·", "") if row["integration"] else None
    if field == "scope":
        return _text(row[field])
    if field == "said":
        return frozenset(_sentences(row["scenario"])) | frozenset(s for n in row["notes"] or () for s in _sentences(n))
    if field == "scenario":  # its sentences the notes do not also say
        notes = {s for n in row["notes"] or () for s in _sentences(n)}
        return tuple(sorted(set(_sentences(row["scenario"])) - notes)) or None
    if field == "notes":
        scenario = set(_sentences(row["scenario"]))
        return tuple(sorted({s for n in row["notes"] or () for s in _sentences(n)} - scenario))
    if field == "integration_also":  # a second access method (若同时具备【社交-直播】…)
        return tuple(sorted((fold(a.get("category") or ""), (a.get("method") or "").replace("·", ""))
                            for a in row["integration_also"] or ()))
    if field == "conditions":
        # the restrictions on the whole requirement (仅支持公立医疗机构互联网医院)
        return None if row["rule"] == "unknown" else tuple(sorted({_text(c) for c in row["conditions"] or ()}))
    if field == "entries":
        return None if lost else tuple(sorted(_entry_key(i) for i in row["items"] or ()))
    raise KeyError(field)


_QUOTES = str.maketrans("", "", "【】“”「」‘’\"'《》")


def _sentences(text: str | None) -> list[str]:
    """A text's sentences as compared: split at 。；;！!？? and line breaks, width folded, quote
    marks and brackets aside (需补充“时政信息类目” / 需补充【时政信息】类目 say the same)."""
    if not text:
        return []
    out = []
    for part in re.split(r"[。；;！!？?\n]+", text):
        s = fold(part).translate(_QUOTES).strip(",，、:：.")
        if s:
            out.append(s)
    return out


def _entry_shown(item: dict) -> str:
    """An entry's text on one line, with the conditions read for it that its own text does not
    show (a cell's 经营范围需含客运 read into the entry it restricts)."""
    text = " ".join(str(item.get("text") or "").split())
    unseen = [c for c in item.get("conditions") or () if c not in text]
    return text + (f" [condition: {'；'.join(unseen)}]" if unseen else "")


def _entry_key(item: dict) -> tuple:
    """What an entry requires, as compared: a nested choice or bundle by its rule and its
    entries; an entry naming 《》 titles by those titles and its conditions (its wording around
    them aside); an entry without titles (营业执照) by its text. Order is not compared."""
    conditions = tuple(sorted({_text(c) for c in item.get("conditions") or ()}))
    group = item.get("group")
    if group:
        return ("group", group.get("rule") or "", group.get("pick") or 0, group.get("of") or 0, conditions,
                tuple(sorted(_entry_key(i) for i in group.get("items") or ())))
    if item.get("documents"):
        return ("documents", tuple(sorted(set(item["documents"]))), conditions)
    return ("text", _text(item.get("text")) or "", conditions)


@_per_content
def display(row: dict, field: str) -> str:
    """The value as a person reads it (interned: it recurs in thousands of captures)."""
    return sys.intern(_display(row, field))


def _display(row: dict, field: str) -> str:
    if field == "count":
        return f"{row['of']}选{row['pick']}" if row["of"] else f"choose {row['pick']} (no count declared)"
    if field == "documents":
        return "、".join(f"《{d}》" for d in row["documents"]) or "(none)"
    if field == "conditions":
        return "；".join(row["conditions"] or ()) or "(none)"
    if field == "notes":
        return " | ".join(row["notes"] or ()) or "(none)"
    if field == "integration_also":
        return "、".join(f"{a.get('category')}: {a.get('method')}" for a in row["integration_also"] or ()) or "(none)"
    if field == "entries":
        return " | ".join(_entry_shown(i) for i in row["items"] or ()) or "(none)"
    v = row.get(field)
    return str(v) if v is not None else "(none)"


def _value(row: dict, field: str, page_key: str, date: str | None) -> dict:
    """One capture's value in a conflict (``{source_file, source_sha256, page, date, value,
    category_raw, line_start, line_end}``), as plain JSON types already: a conflict over an
    archive lists every capture (hundreds of thousands of values), so ``plain_row`` passes
    them through rather than converting each again."""
    return _capture_value(row, page_key, date, display(row, field), list(row["category_raw"]))


def _capture_value(row, page_key: str, date: str | None, shown: str, raw: list[str]) -> dict:
    """``_value`` with what depends on the row's content only (``shown``, ``raw``) given."""
    if type(row) is Row:  # the archive's bulk: slots read directly
        src = row._src
        return {"source_file": src[1], "source_sha256": src[0], "page": page_key,
                "date": date, "value": shown, "category_raw": raw, "line_start": row.line_start,
                "line_end": row.line_end}
    p = row["provenance"]
    return {"source_file": row["source_file"], "source_sha256": row["source_sha256"], "page": page_key,
            "date": date, "value": shown, "category_raw": raw, "line_start": p["line_start"],
            "line_end": p["line_end"]}


_UNSEEN = object()


def _capture_values(entries: list[tuple[dict, str, str | None]], shows) -> tuple[list[dict], list[dict]]:
    """A value (``_value``) for each entry whose row shows something (``shows(row)``: the text
    shown, or None to leave the entry out), and one row per distinct content among them. What
    a row shows depends on its content alone (``records.content_key``): asked once per
    content, not once per capture."""
    content: dict = {}
    values, reps = [], []
    told: set = set()  # a capture listing the category twice (two tables of a page) says it once
    for r, p, d in entries:
        k = content_key(r)
        shared = content.get(k, _UNSEEN)
        if shared is _UNSEEN:
            shown = shows(r)
            shared = content[k] = None if shown is None else (shown, list(r["category_raw"]))
            if shown is not None:
                reps.append(r)
        if shared is not None:
            said = (r["source_sha256"], shared[0], tuple(shared[1]))
            if said not in told:
                told.add(said)
                values.append(_capture_value(r, p, d, *shared))
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
    for r, _, _ in entries:
        if field_value(r, field) is None:
            continue
        shown = display(r, field)
        if not seq or seq[-1][1] != shown:
            seq.append((r["source_sha256"], shown))
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


def _compare(field: str, entries: list[tuple[dict, str, str | None]], reps: list[dict] | None = None):
    """entries: (row, page_key, date). Returns (values, summary) when the known values differ.
    ``reps``: one row per distinct content among the entries (``distinct_contents``, computed
    when not given); a field's value depends on nothing else, so whether they differ is decided
    on these alone."""
    if reps is None:
        reps = list(distinct_contents(r for r, _, _ in entries))
    if len({field_value(r, field) for r in reps} - {None}) < 2:
        return None
    values, known = _capture_values(entries, lambda r: display(r, field) if field_value(r, field) is not None
                                    else None)
    groups: dict[str, list[dict]] = {}
    for v in values:
        groups.setdefault(v["value"], []).append(v)
    if field == "documents":
        sets = [set(r["documents"]) for r in known]
        common = set.intersection(*sets)
        extra = sorted(set.union(*sets) - common)
        return values, f"documents differ: not in every capture: {'、'.join(f'《{d}》' for d in extra)}"
    return values, _summarise(field, groups)


# --- conflicts -----------------------------------------------------------------------------

def records_to_conflicts(rows: list[dict], pages: dict[str, list[Version]]) -> list[dict]:
    """Every disagreement, in publishing order (``conflict_order``)."""
    out = sorted(iter_conflicts(rows, pages), key=conflict_order)
    ids = [c["id"] for c in out]
    assert len(ids) == len(set(ids)), "conflict ids must be unique"
    return out


def conflict_order(c: dict) -> tuple:
    return ("/".join(c["category"]), c["relation"], c["kind"], c["id"])


def iter_conflicts(rows: list[dict], pages: dict[str, list[Version]]):
    """Every disagreement, one at a time (a conflict over an archive lists every capture's value,
    so the build writes each as it comes). Whitelist rows (a category list without a
    qualification column) state no requirement: they count for categories added and removed,
    never in value comparisons."""
    # 1. change over time within one page, part by part (``Version.slot``)
    for key, versions in sorted(pages.items()):
        cap = key.split(":", 1)[0]
        # per (part, category) its rows and the index of each one's version: a page's history
        # can be most of the archive, so the (row, page, date) entries are made one at a time
        by_cat: dict[tuple[str, str], tuple[list, list[int]]] = {}
        for i, v in enumerate(versions):
            for r in v.rows:
                if r.get("kind", "qualification") == "qualification":
                    k = (v.slot(r.get("page_part")) or "", r["category_id"])
                    rows_and_versions = by_cat.get(k)
                    if rows_and_versions is None:
                        rows_and_versions = by_cat[k] = ([], [])
                    rows_and_versions[0].append(r)
                    rows_and_versions[1].append(i)

        def entries_of(k: tuple[str, str]) -> list[tuple[dict, str, str | None]]:
            rows, at = by_cat[k]
            where = part_key(key, k[0])
            return [(r, where, versions[i].date) for r, i in zip(rows, at)]

        reps = {k: list(distinct_contents(rows)) for k, (rows, _) in by_cat.items()}
        if len(versions) > 1:
            # what differs, per (part, category) and field, with how it changed; the same change
            # at the same version in many categories is one page-wide change (``_page_wide``)
            differs = []
            for k in sorted(by_cat):
                told = set()
                said_alike = len({field_value(r, "said") for r in reps[k]}) < 2
                for field, kind in FIELD_KIND.items():
                    if field == "entries" and told & set(ENTRIES_TOLD_BY) or field in SAID_TOGETHER and said_alike:
                        continue
                    if len({field_value(r, field) for r in reps[k]} - {None}) >= 2:
                        told.add(field)
                        differs.append((k, field, kind, _change_pattern(entries_of(k), field)))
            alike: dict[tuple, list] = {}
            for k, field, kind, pattern in differs:
                alike.setdefault((k[0], field, pattern), []).append(k)
            for k, field, kind, pattern in differs:
                members = alike[(k[0], field, pattern)]
                if pattern and len(members) >= PAGE_WIDE_MIN:
                    if members[0] == k:
                        yield _page_wide(kind, cap, part_key(key, k[0]), field, pattern,
                                         [(entries_of(m), reps[m]) for m in members])
                    continue
                got = _compare(field, entries_of(k), reps[k])
                if got:
                    yield _conflict(kind, "version", cap, part_key(key, k[0]), by_cat[k][0][0], field, *got)
            yield from _membership(key, cap, versions)
        # record-level problems, per capture
        for k in sorted(by_cat):
            entries = entries_of(k)
            where = part_key(key, k[0])
            if any(_count_mismatch(r) for r in reps[k]):
                vals, mismatch = _capture_values(entries, lambda r: f"declares {r['of']}选{r['pick']}, lists "
                                                 f"{r['options']}" if _count_mismatch(r) else None)
                yield _conflict("count_mismatch", "record", cap, where, mismatch[0], "count", vals,
                                "declared count does not match the items listed: "
                                + "; ".join(f"{v['value']} ({v['source_file']}:{v['line_start']})" for v in vals))
            if any(_lost(r) for r in reps[k]):
                vals, lost = _capture_values(entries, lambda r: _lost_text(r) if _lost(r) else None)
                yield _conflict("items_lost", "record", cap, where, lost[0], "items", vals,
                                "items lost in capture: " + "; ".join(
                                    f"{v['value']} ({v['source_file']}:{v['line_start']})" for v in vals))
    # 2. different pages of one capability (their current statements)
    currents = {key: current(vs) for key, vs in pages.items()}
    by_cap_cat: dict[tuple[str, str], list[tuple[dict, str, str | None]]] = {}
    page_of: dict[str, str] = {}  # part key -> its page
    for key, v in sorted(currents.items()):
        for r in v.rows:
            if r.get("kind", "qualification") == "qualification":
                where = part_key(key, v.slot(r.get("page_part")))
                page_of[where] = key
                by_cap_cat.setdefault((r["capability"], r["category_id"]), []).append((r, where, v.date))
    for (cap, cid), entries in sorted(by_cap_cat.items()):
        # parts of one page (非个人主体 / 个人主体 tables) address different subjects: not a
        # disagreement between pages
        if len({page_of[p] for _, p, _ in entries}) < 2:
            continue
        told = set()
        said_alike = len({field_value(r, "said") for r in distinct_contents(r for r, _, _ in entries)}) < 2
        for field, kind in FIELD_KIND.items():
            if field == "entries" and told & set(ENTRIES_TOLD_BY) or field in SAID_TOGETHER and said_alike:
                continue
            got = _compare(field, entries)
            if got:
                told.add(field)
                yield _conflict(kind, "page", cap, None, entries[0][0], field, *got)
    # 3. between capabilities: informative
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
    """Category ids that are one category at different depths in different capabilities: the
    same first and last level (金融业 … 公募基金), at two depths or more, in two capabilities or
    more. Where one capability has two such categories at one depth, nothing is merged (they
    could be two categories)."""
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


def _count_mismatch(r: dict) -> bool:
    """A declared count the items listed do not match; not where items were lost in the capture
    (保险 002:214 declares 3选1 and lists 2 of them: one fact, reported as items lost)."""
    return (r["rule"] == "any" and r["of"] is not None and bool(r["options"]) and r["options"] != r["of"]
            and not _lost(r))


def _lost(r: dict) -> bool:
    return bool(r["items_missing"]) or r["rule"] == "unknown"


def part_key(page_key: str, part: str | None) -> str:
    """A part of a page as conflicts name it: ``page / part``, the page alone when it has one
    statement."""
    return f"{page_key} / {part}" if part else page_key


def _lost_text(r: dict) -> str:
    if r["rule"] == "unknown":
        return "requirement text lost (no rule, no items)"
    if r["of"]:
        return f"declares {r['of']}选{r['pick']}, lists {r['options'] or 0} with items missing"
    return f"declares {r['declared'] or r['rule']} with items missing"


@dataclass
class Changes:
    """Categories added, removed and renamed over a page's transitions (``transitions``): per
    category, the transitions where it happened, with the rows that say so."""

    pairs: list[tuple[Version, Version]]
    added: dict[str, list[tuple]]
    removed: dict[str, list[tuple]]
    renamed: dict[str, list[tuple]]
    rows_of: dict[str, dict]
    #: a category gone and another come whose names differ by a letter or two (a typo fixed or
    #: made: 医疗器械生产企业 / 医疗器械生成企业): per new category id, (transition, old row, new row)
    respelt: dict[str, list[tuple]]

    def per_transition(self) -> list[dict[str, int]]:
        """How many categories each transition added, removed and renamed (respelt ones count
        as renamed)."""
        out = [{"added": 0, "removed": 0, "renamed": 0} for _ in self.pairs]
        for kind, found in (("added", self.added), ("removed", self.removed), ("renamed", self.renamed),
                            ("renamed", self.respelt)):
            for seen in found.values():
                for occurrence in seen:
                    out[occurrence[0]][kind] += 1
        return out


#: a respelling: at most this many characters differ in the last level, and at most a third of it
RESPELT_MAX_EDITS = 2


def _spelling_fixes(gone: list, came: list) -> list[tuple]:
    """Pairs (old row, new row) of a transition's removed and added categories under the same
    parent whose last levels differ by at most ``RESPELT_MAX_EDITS`` characters (and a third of
    the name), requiring the same documents, each the other's only such match: 医疗器械生产企业 →
    医疗器械生成企业, 公关印制刻制 → 公共印章刻制. 教育信息服务 / 教育装备 are too far apart to be one."""
    from rapidfuzz.distance import Levenshtein

    def close(x, y) -> bool:
        p, q = tuple(x["category"]), tuple(y["category"])
        if p[:-1] != q[:-1] or not p or x["capability"] != y["capability"]:
            return False
        d = Levenshtein.distance(p[-1], q[-1])
        # and they require the same documents: 私立医疗机构 / 公立医疗机构 are one letter apart,
        # and two categories
        return (0 < d <= min(RESPELT_MAX_EDITS, max(len(p[-1]), len(q[-1])) // 3)
                and set(x["documents"]) == set(y["documents"]))

    pairs = []
    for old in gone:
        matches = [new for new in came if close(old, new)]
        if len(matches) == 1 and [o for o in gone if close(o, matches[0])] == [old]:
            pairs.append((old, matches[0]))
    return pairs


def page_changes(versions: list[Version]) -> Changes:
    """What each transition of a page changed in its list of categories (every part of it).
    A capture cut short (``Version.truncated``) lacks what it lost: that is not a removal, and
    what it lacks is carried to the comparison after it."""
    got = Changes(transitions(versions), {}, {}, {}, {}, {})
    carried: dict = {}  # what the page listed before a capture cut short, carried past it
    for t, (prev, nxt) in enumerate(got.pairs):
        a = {r["category_id"]: r for r in prev.rows}
        if prev.truncated and prev.date:  # in the dated chain, ``carried`` is what came before
            a = carried | a
        b = {r["category_id"]: r for r in nxt.rows}
        came = sorted(b.keys() - a.keys())
        gone = sorted(a.keys() - b.keys()) if not nxt.truncated else []
        for old, new in _spelling_fixes([a[c] for c in gone], [b[c] for c in came]):
            # one category whose name was respelt, most likely: for review, not added and removed
            got.rows_of[new["category_id"]] = new
            got.respelt.setdefault(new["category_id"], []).append((t, old, new))
            came.remove(new["category_id"])
            gone.remove(old["category_id"])
        for cid in came:
            got.rows_of[cid] = b[cid]
            got.added.setdefault(cid, []).append((t, b[cid]))
        for cid in gone:
            got.rows_of[cid] = a[cid]
            got.removed.setdefault(cid, []).append((t, a[cid]))
        carried = a | b if nxt.truncated and prev.date else {}
        for cid in sorted(a.keys() & b.keys()):
            old, new = _canonical_raw(a[cid], "category_raw"), _canonical_raw(b[cid], "category_raw")
            if old != new:
                got.rows_of[cid] = b[cid]
                got.renamed.setdefault(cid, []).append((t, a[cid], b[cid]))
    return got


def _membership(key: str, cap: str, versions: list[Version]):
    """Categories added, removed and renamed between consecutive versions of a page
    (``page_changes``), one conflict at a time; each conflict's values (a sentence per
    transition, over a long history thousands) are made when it is yielded."""
    changes = page_changes(versions)
    pairs, added, removed, renamed, rows_of = (changes.pairs, changes.added, changes.removed,
                                               changes.renamed, changes.rows_of)

    def added_value(t: int, row) -> dict:
        prev, nxt = pairs[t]
        if prev.date is None and nxt.date is not None:  # where ``prev`` falls is unknown
            said = (f"in {nxt.source_file} ({nxt.date}), the page's first dated version; "
                    f"absent from {prev.source_file} (date unknown)")
        else:
            said = (f"added in {nxt.source_file} ({nxt.date or 'date unknown'}), "
                    f"absent from {prev.source_file} ({prev.date or 'date unknown'})")
        return _value(row, "rule", key, nxt.date) | {"value": said}

    def removed_value(t: int, row) -> dict:
        prev, nxt = pairs[t]
        if prev.date is None and nxt.date is not None:
            said = (f"in {prev.source_file} (date unknown); already absent from {nxt.source_file} "
                    f"({nxt.date}), the page's first dated version")
        else:
            said = (f"in {prev.source_file} ({prev.date or 'date unknown'}), "
                    f"absent from {nxt.source_file} ({nxt.date or 'date unknown'})")
        return _value(row, "rule", key, prev.date) | {"value": said}

    def renamed_values(t: int, old, new) -> list[dict]:
        prev, nxt = pairs[t]
        return [_value(old, "rule", key, prev.date) | {"value": " / ".join(old["category_raw"])},
                _value(new, "rule", key, nxt.date) | {"value": " / ".join(new["category_raw"])}]

    for kind, found in (("category_added", added), ("category_removed", removed), ("category_renamed", renamed)):
        for cid, seen in sorted(found.items()):
            row = rows_of[cid]
            name = " / ".join(row["category_raw"])
            if kind == "category_renamed":
                vals = [v for occurrence in seen for v in renamed_values(*occurrence)]
                summary = "renamed: " + " → ".join(dict.fromkeys(v["value"] for v in vals))
            else:
                vals = [(added_value if kind == "category_added" else removed_value)(*occurrence)
                        for occurrence in seen]
                summary = f"{name}: " + "; ".join(v["value"] for v in vals)
            yield _conflict(kind, "version", cap, key, row, "category", vals, summary)
    for cid, seen in sorted(changes.respelt.items()):
        vals = [v for occurrence in seen for v in renamed_values(*occurrence)]
        names = " → ".join(dict.fromkeys(v["value"] for v in vals))
        yield _conflict("rename_candidate", "version", cap, key, rows_of[cid], "category", vals,
                        f"respelt? {names}: one category gone and one come, their names a letter or two "
                        f"apart; if they are one category, add a reviewed alias")


@_per_content
def _canonical_raw(row: dict, field: str) -> tuple[str, ...]:
    """The canonical path of the names as written (before stated renames), by the reviewed
    alias table."""
    return canonical_category(tuple(row[field]), aliases(), row["capability"])


# --- the canonical view --------------------------------------------------------------------

def categories_view(rows: list[dict], pages: dict[str, list[Version]], conflicts: list[dict]) -> list[dict]:
    """One row per capability and canonical category: its names, pages, current statements,
    conflicts, and (for names no other page uses) fuzzy candidates for a reviewer."""
    from rapidfuzz import fuzz, process

    currents = {key: current(vs) for key, vs in pages.items()}
    page_of: dict[str, set[str]] = {}
    for key, vs in pages.items():
        for r in distinct_contents(r for v in vs for r in v.rows):
            page_of.setdefault(r["category_id"], set()).add(key)
    rows = list(distinct_contents(rows))  # only what categories require is read below
    names: dict[str, str] = {}
    for r in rows:
        names.setdefault(r["category_id"], " / ".join(r["category"]))
    choices = sorted(names.items())
    out: dict[tuple[str, str], dict] = {}
    spellings: dict[tuple[str, str], set[str]] = {}
    for r in rows:  # one category id is one canonical path, so any of its rows names it
        k = (r["capability"], r["category_id"])
        if k not in out:
            out[k] = {"category_id": r["category_id"], "capability": r["capability"], "category": r["category"],
                      "names": [], "covers": None, "pages": [], "current": [], "conflicts": [],
                      "open_conflicts": 0, "review": None}
            spellings[k] = set()
        if r.get("covers"):
            out[k]["covers"] = r["covers"]
        spellings[k].add(r["category_raw"] if isinstance(r["category_raw"], tuple) else tuple(r["category_raw"]))
    for key, v in sorted(currents.items()):
        for r in v.rows:
            e = out[(r["capability"], r["category_id"])]
            e["current"].append({"page": part_key(key, v.slot(r.get("page_part"))), "source_file": r["source_file"], "date": v.date,
                                 "rule": r["rule"], "pick": r["pick"], "of": r["of"], "options": r["options"],
                                 "documents": r["documents"], "integration": r["integration"],
                                 "items_missing": r["items_missing"], "line_start": r["provenance"]["line_start"]})
    for k, e in out.items():
        e["pages"] = sorted(page_of.get(e["category_id"], ()))
        e["names"] = sorted({" / ".join(raw) for raw in spellings[k]})
    for c in conflicts:
        for k in covered(c):
            e = out.get(k)
            if e is not None:
                e["conflicts"].append(c["id"])
                e["open_conflicts"] += c["status"] == "open"
    # a name one page uses is compared with the names some other page uses: per page, worked
    # out once (a table of N distinct categories made this N x N before)
    only_on: dict[str, set[str]] = {}
    for cid, keys in page_of.items():
        if len(keys) == 1:
            only_on.setdefault(next(iter(keys)), set()).add(cid)
    named = [(cid, n) for cid, n in choices if page_of.get(cid)]
    elsewhere: dict[str, dict[str, str]] = {}
    for e in out.values():
        if len(e["pages"]) == 1:
            page = e["pages"][0]
            if page not in elsewhere:
                mine = only_on.get(page, set())
                elsewhere[page] = {cid: n for cid, n in named if cid not in mine}
            found = process.extract(" / ".join(e["category"]), elsewhere[page], scorer=fuzz.ratio,
                                    limit=3, score_cutoff=60) if elsewhere[page] else []
            e["review"] = {"reason": f"name used by one page only ({e['pages'][0]})",
                           "candidates": [{"category_id": cid, "category": n, "score": round(score, 1)}
                                          for n, score, cid in found]}
    return [out[k] for k in sorted(out, key=lambda k: (k[0], out[k]["category"]))]


def covered(conflict: dict) -> list[tuple[str, str]]:
    """(capability, category_id) of every category a conflict is about: each capability it
    names (``face_verification+live_streaming`` for a capability difference) times each
    category (a page-wide change lists many; a conflict read from a version older than the
    ``categories`` field names its own ``category_id``)."""
    cats = conflict.get("categories") or [{"category_id": conflict["category_id"]}]
    return [(cap, x["category_id"]) for cap in conflict["capability"].split("+") for x in cats]


def pages_view(info: dict[str, dict]) -> list[dict]:
    return [info[k] for k in sorted(info)]


def reconcile_rows(rows: list, decisions: list, known_ids: set[str], decisions_file: str,
                   sink=None, sources: list[dict] | None = None) -> dict[str, list[dict]]:
    """The reconciled tables from requirement rows (``records.Row`` or dicts) whose stated renames are applied:
    conflicts (with decisions applied), the canonical categories view, page versions, and the
    review of every decision.

    ``sink(conflict)``, when given, receives each conflict as it is found and returns what to
    keep of it (``conflict_header``): a conflict lists every capture's value, so over an archive
    the build writes them out rather than holding them all.
    """
    try:
        return _reconcile_rows(rows, decisions, known_ids, decisions_file, sink, sources)
    finally:
        for memo in _MEMOS:
            memo.clear()


def _reconcile_rows(rows, decisions, known_ids, decisions_file, sink, sources):
    from pipeline.current import SUMMARY_MAX, current_view
    from pipeline.review import apply_decision, review_rows

    pages, info = page_versions(rows, sources)
    by_id = {d.conflict: d for d in decisions}
    kept, summaries = [], {}
    for c in iter_conflicts(rows, pages):
        c = apply_decision(c, by_id.get(c["id"]))
        # the current table quotes each conflict's summary, cut short (a sink drops it)
        summaries[c["id"]] = c["summary"][:SUMMARY_MAX + 1]
        kept.append(sink(c) if sink else c)
    kept.sort(key=conflict_order)
    ids = {c["id"] for c in kept}
    assert len(ids) == len(kept), "conflict ids must be unique"
    reviews = review_rows(decisions, {c["id"]: c for c in kept}, known_ids | ids, decisions_file)
    out = dict(categories=categories_view(rows, pages, kept), pages=pages_view(info), reviews=reviews,
               current=current_view(pages, kept, summaries))
    out = {t: [plain_row(t, row) for row in rs] for t, rs in out.items()}
    out["conflicts"] = kept
    return out


def conflict_header(c: dict, keep_values: int) -> dict:
    """A conflict without the bulk of its values: the first ``keep_values`` and their number
    (``values_total``), for the report and the categories view. The summary, which names every
    capture (hundreds of KB for one conflict over an archive), is kept only where a decision
    was recorded: the review of that decision quotes it (``review.review_rows``)."""
    return dict(c, values=list(c["values"][:keep_values]), values_total=len(c["values"]),
                summary=c["summary"] if c["decision"] is not None else None)


#: fields built as plain JSON types (``_value``), passed through by ``plain_row``
_BUILT_PLAIN = {("conflicts", "values")}


def plain_row(table: str, row) -> dict:
    """A reconciled row as plain JSON types, fields in schema order."""
    from pipeline.tables import TABLES

    return {f: row.get(f) if (table, f) in _BUILT_PLAIN else _plain(row.get(f)) for f, _, _ in TABLES[table]}


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
    from pipeline.tables import TABLES

    reqs = apply_stated_renames(tables["requirements"], tables.get("sources"))
    out = dict(tables, requirements=reqs, **reconcile_rows(reqs, decisions, known_ids, decisions_file,
                                                                  sources=tables.get("sources")))
    out["conflicts"] = [plain_row("conflicts", c) for c in out["conflicts"]]
    return {t: [{f: row.get(f) for f, _, _ in TABLES[t]} for row in rows] for t, rows in out.items()}
