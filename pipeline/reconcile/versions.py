"""A page's versions in time order, and what each transition did: categories added, removed
and renamed (respelt). Which page a capture is, and when, is ``pages``; the newest dated version
is the page's current statement."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from pipeline.core.records import canonical_category, written_under
from pipeline.reconcile.pages import SourceFacts, capture_of, identify, listless_captures, note, source_facts
from pipeline.reconcile.values import per_content


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


def page_versions(rows: list[dict], sources: list[dict] | None = None, prior: list = (),
                  changes: dict | None = None) -> tuple[dict[str, list[Version]], dict[str, dict]]:
    """Versions of every page in time order (``pages.identify``: which page, which date), and
    a description of each page. ``part`` separates tables of a page that are separate
    statements (非个人主体 / 个人主体 / 海外主体); a version's parts are compared as the newest
    version's parts they share most categories with (``_part_slots``). ``prior``: the previous
    dataset version's pages (``pages.prior_pages``) a capture without URL or title may continue.
    ``changes``: the caller's dict, given each page's ``page_changes`` (``conflicts`` reads them)."""
    facts = source_facts(sources)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["capability"], r["source_sha256"], r["page"]), []).append(r)
    empty = listless_captures(sources, {gk[1] for gk in groups})
    groups.update({gk: [] for gk in empty})
    stated: dict = {}  # (what captures of the same contents state: ``capture_of``)
    captures = {gk: capture_of(gk, rs, empty.get(gk), stated) for gk, rs in groups.items()}
    del stated
    found = identify(list(captures.values()), facts, prior)
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
            versions.append(Version(key, captures[gk].file, gk[1], date,
                                    tuple(sorted(groups[gk], key=_line_order)), date_from, captured,
                                    facts.get(gk[1], SourceFacts()).truncated))
        slots = _part_slots(versions)
        pages[key] = [dataclasses.replace(v, slots=slots[i]) for i, v in enumerate(versions)]
        titled = [r["page"] for v in pages[key] for r in v.rows[:1] if r["page"]]
        info[key]["title"] = titled[-1] if titled else None
        now = current(pages[key])
        info[key]["parts"] = sorted({p for r in now.rows if (p := now.slot(r.get("page_part")))})
        changed = page_changes(pages[key])
        if changes is not None:
            changes[key] = changed
        # a transition is told of the version it leads to; an undated version's (compared with
        # the first dated one, ``transitions``) of the undated version
        compared = {}
        for (prev, nxt), n in zip(changed.pairs, changed.per_transition()):
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
                "added": n.get("added"), "removed": n.get("removed"), "renamed": n.get("renamed"),
                "absent": n.get("absent"), "moved": n.get("moved")})
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
    that order (``build.rows_of``, ``records.merge_rows``) and the sort is stable."""
    return r.line_start


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


def part_key(page_key: str, part: str | None) -> str:
    """A part of a page as conflicts name it: ``page / part``, the page alone when it has one
    statement."""
    return f"{page_key} / {part}" if part else page_key


@dataclass
class Changes:
    """Categories added, removed and renamed over a page's transitions (``transitions``): per
    category, the transitions where it happened, with the rows that say so."""

    pairs: list[tuple[Version, Version]]
    added: dict[str, list[tuple]]
    #: per category id, (transition, row, the version that row is of): the version before the
    #: transition, or where that one is cut short, the earlier one that listed the category
    removed: dict[str, list[tuple]]
    renamed: dict[str, list[tuple]]
    rows_of: dict[str, dict]
    #: a category gone and another come whose names differ by a letter or two (a typo fixed or
    #: made: 医疗器械生产企业 / 医疗器械生成企业): per new category id, (transition, old row, new row)
    respelt: dict[str, list[tuple]]
    #: a category one revision lacks and the next one has again (a capture caught mid-edit): per
    #: category id, (transition into the revision that lacks it, row before, the version of that
    #: row, row after); neither a removal nor an addition
    absent: dict[str, list[tuple]] = dataclasses.field(default_factory=dict)
    #: a category gone and what came in its place (``_moves``): per category id of the one gone,
    #: (transition, old row, the version of that row, new rows); a move into its only child
    #: that the build made one category (``pages.moved_renames``) is one of them, keyed by its id
    moved: dict[str, list[tuple]] = dataclasses.field(default_factory=dict)

    def per_transition(self) -> list[dict[str, int]]:
        """How many categories each transition added, removed, renamed (respelt ones count
        as renamed), moved, and lacked for that revision only (``absent``)."""
        out = [{"added": 0, "removed": 0, "renamed": 0, "absent": 0, "moved": 0} for _ in self.pairs]
        for kind, found in (("added", self.added), ("removed", self.removed), ("renamed", self.renamed),
                            ("renamed", self.respelt), ("absent", self.absent), ("moved", self.moved)):
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
    what it lacks is carried to the comparison after it, with the version that listed it. A
    removal the next revision undoes is no removal (``_undone``)."""
    got = Changes(transitions(versions), {}, {}, {}, {}, {})
    carried: dict = {}  # id -> (row, version): what the page listed before a capture cut short
    for t, (prev, nxt) in enumerate(got.pairs):
        a = {r["category_id"]: (r, prev) for r in prev.rows}
        if prev.truncated and prev.date:  # in the dated chain, ``carried`` is what came before
            a = carried | a
        b = {r["category_id"]: r for r in nxt.rows}
        came = sorted(b.keys() - a.keys())
        gone = sorted(a.keys() - b.keys()) if not nxt.truncated else []
        for old, new in _spelling_fixes([a[c][0] for c in gone], [b[c] for c in came]):
            # one category whose name was respelt, most likely: for review, not added and removed
            got.rows_of[new["category_id"]] = new
            got.respelt.setdefault(new["category_id"], []).append((t, old, new))
            came.remove(new["category_id"])
            gone.remove(old["category_id"])
        # where an undated version falls is unknown: what it has and the first dated one lacks
        # is no move from one to the other
        ordered = prev.date is not None or nxt.date is None
        for (old, holder), new in _moves([a[c] for c in gone], [b[c] for c in came]) if ordered else ():
            # one event: the category went on under another name, or into its children
            got.rows_of[old["category_id"]] = old
            got.moved.setdefault(old["category_id"], []).append((t, old, holder, new))
            gone.remove(old["category_id"])
            came = [c for c in came if c not in {r["category_id"] for r in new}]
        for cid in came:
            got.rows_of[cid] = b[cid]
            got.added.setdefault(cid, []).append((t, b[cid]))
        for cid in gone:
            got.rows_of[cid] = a[cid][0]
            got.removed.setdefault(cid, []).append((t, *a[cid]))
        carried = a | {cid: (r, nxt) for cid, r in b.items()} if nxt.truncated and prev.date else {}
        for cid in sorted(a.keys() & b.keys()):
            old, new = _canonical_raw(a[cid][0], "category_raw"), _canonical_raw(b[cid], "category_raw")
            if old != new and ordered and _into_child(a[cid][0], b[cid]):
                got.rows_of[cid] = b[cid]
                got.moved.setdefault(cid, []).append((t, *a[cid], [b[cid]]))
            elif old != new:
                got.rows_of[cid] = b[cid]
                got.renamed.setdefault(cid, []).append((t, a[cid][0], b[cid]))
    _undone(got)
    return got


def _into_child(old, new) -> bool:
    """``new``'s name as written is ``old``'s with levels added (``records.written_under``)."""
    return written_under(_canonical_raw(old, "category_raw"), tuple(old["category_raw"]),
                         tuple(new["category_raw"]), new["capability"])


#: documents "nearly the same": their titles, sorted and joined, at least this similar (rapidfuzz
#: ratio, 0–100): 《增值电信业务经营许可证》 / 《增值电信业务许可证》 (90)
NEARLY_SAME_DOCUMENTS = 85


def _moves(gone: list[tuple], came: list) -> list[tuple]:
    """What a transition moved: ((old row, its version), new rows) for a category gone whose
    children (names as written extending its own) came, each carrying its documents (打车（网约车）
    → its sub-categories), or else one category come under the same parent requiring the same or
    nearly the same documents, each the other's only such match (增值电信运营商 → 转售移动通信,
    《增值电信业务经营许可证》 / 《增值电信业务许可证》, 2021-06-30). Categories without documents
    (eligibility lists) are never matched: nothing says they are one."""
    out, taken = [], set()
    for old, holder in gone:
        kids = [n for n in came if _into_child(old, n)]
        if old["documents"] and kids and all(set(n["documents"]) == set(old["documents"]) for n in kids):
            out.append(((old, holder), kids))
            taken |= {id(n) for n in kids}
    rest = [(o, h) for o, h in gone if not any(o is m[0][0] for m in out)]
    free = [n for n in came if id(n) not in taken]
    for old, holder in rest:
        matches = [n for n in free if _nearly_same(old, n)]
        if len(matches) == 1 and [o for o, _ in rest if _nearly_same(o, matches[0])] == [old]:
            out.append(((old, holder), matches))
    return out


def _nearly_same(old, new) -> bool:
    """Siblings (one parent) of one capability whose documents are the same or nearly so."""
    if (old["capability"] != new["capability"] or tuple(old["category"])[:-1] != tuple(new["category"])[:-1]
            or not old["documents"] or len(old["documents"]) != len(new["documents"])):
        return False
    a, b = "、".join(sorted(old["documents"])), "、".join(sorted(new["documents"]))
    return fuzz.ratio(a, b) >= NEARLY_SAME_DOCUMENTS


def _undone(got: Changes) -> None:
    """A category removed in one transition and added back in the next (a revision caught
    mid-edit, 15:55 lacking what 15:17 and 16:08 list) is one event, ``absent``, not a removal
    and an addition: the page never meant to drop it. Dated transitions only: where an undated
    version falls is unknown, so nothing is "the next" of it."""
    for cid in sorted(got.removed.keys() & got.added.keys()):
        for occurrence in list(got.removed[cid]):
            t, before, holder = occurrence
            if t + 1 >= len(got.pairs) or not got.pairs[t][0].date:
                continue
            lacking, (after_prev, _) = got.pairs[t][1], got.pairs[t + 1]
            back = next((o for o in got.added[cid] if o[0] == t + 1), None)
            if back is None or after_prev is not lacking:
                continue
            got.removed[cid].remove(occurrence)
            got.added[cid].remove(back)
            got.absent.setdefault(cid, []).append((t, before, holder, back[1]))
        for found in (got.removed, got.added):
            if not found[cid]:
                del found[cid]


@per_content
def _canonical_raw(row: dict, field: str) -> tuple[str, ...]:
    """The canonical path of the names as written (before stated renames), by the reviewed
    alias table."""
    return canonical_category(tuple(row[field]), capability=row["capability"])
