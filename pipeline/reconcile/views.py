"""The canonical views of a reconciliation: one row per capability and category
(``categories``) and one per page (``pages``). What each category requires today is
``current``."""

from __future__ import annotations

from pipeline.core.records import distinct_contents
from pipeline.reconcile.conflicts import covered
from pipeline.reconcile.versions import Version, current, part_key


def categories_view(rows: list[dict], pages: dict[str, list[Version]], conflicts: list[dict]) -> list[dict]:
    """One row per capability and canonical category: its names, pages, current statements,
    conflicts, and (for names no other page uses) fuzzy candidates for a reviewer."""
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
    # a name one page uses is compared with the names some other page uses (those of its own
    # page that no other uses are left out)
    only_on: dict[str, set[str]] = {}
    for cid, keys in page_of.items():
        if len(keys) == 1:
            only_on.setdefault(next(iter(keys)), set()).add(cid)
    named = [(cid, n) for cid, n in choices if page_of.get(cid)]
    single = [e for e in out.values() if len(e["pages"]) == 1]
    found = alike_names([(" / ".join(e["category"]), only_on.get(e["pages"][0], set())) for e in single], named)
    for e, best in zip(single, found):
        e["review"] = {"reason": f"name used by one page only ({e['pages'][0]})",
                       "candidates": [{"category_id": cid, "category": n, "score": round(score, 1)}
                                      for n, score, cid in best]}
    return [out[k] for k in sorted(out, key=lambda k: (k[0], out[k]["category"]))]


#: of ``alike_names``, the names compared at once hold at most this many scores (8 bytes each)
SCORES_AT_ONCE = 4_000_000
#: a name's candidates score at least this (rapidfuzz's ``fuzz.ratio``, 0 to 100), the best ``ALIKE`` of them
ALIKE_MIN, ALIKE = 60, 3


def alike_names(names: list[tuple[str, set[str]]], named: list[tuple[str, str]]) -> list[list[tuple[str, float, str]]]:
    """For each ``(name, ids left out)``, the ``ALIKE`` names of ``named`` (``(id, name)``) but
    those ids most like it, best first and the first in ``named`` of equals, as ``(name, score,
    id)``: what ``process.extract(name, {id: name, …}, scorer=fuzz.ratio, limit=ALIKE,
    score_cutoff=ALIKE_MIN)`` gives. Names are scored against all at once (``process.cdist``), a
    block at a time, those left out then dropped; a name that leaves out more than half of
    ``named`` (one page naming most categories: at most one such set) is scored against the
    others only. A table of the others per name, then one extract each, held and did in Python
    what grows with the square of the names (20,000 pages of their own: 8.5 GB)."""
    out: list[list[tuple[str, float, str]]] = [[] for _ in names]
    if not named or not names:
        return out
    narrow, wide = [], {}
    for at, (_, left_out) in enumerate(names):
        if 2 * len(left_out) > len(named):  # (grouped by the set itself: it is the same for a page's names)
            wide.setdefault(id(left_out), []).append(at)
        else:
            narrow.append(at)
    _alike(names, narrow, named, list(range(len(named))), out, drop=True)
    for ats in wide.values():
        left_out = names[ats[0]][1]
        _alike(names, ats, named, [i for i, (cid, _) in enumerate(named) if cid not in left_out], out, drop=False)
    return out


def _alike(names: list[tuple[str, set[str]]], ats: list[int], named: list[tuple[str, str]], among: list[int],
           out: list, drop: bool) -> None:
    """``alike_names`` of ``names[at]`` for each of ``ats`` into ``out[at]``, among ``named[i]`` for
    each ``i`` of ``among`` (in order); ``drop``: the ids each name leaves out are among them."""
    # (imported here: a build that finds nothing to do imports neither, test_incremental)
    import numpy as np
    from rapidfuzz import fuzz, process

    if not ats or not among:
        return
    texts = [named[i][1] for i in among]
    place = {named[i][0]: j for j, i in enumerate(among)}
    step = max(1, SCORES_AT_ONCE // len(texts))
    for start in range(0, len(ats), step):
        block = ats[start:start + step]
        scores = process.cdist([names[at][0] for at in block], texts, scorer=fuzz.ratio, score_cutoff=ALIKE_MIN,
                               dtype=np.float64, workers=-1)
        for row, at in zip(scores, block):
            if drop:
                row[[place[cid] for cid in names[at][1] if cid in place]] = -1
            kept = np.flatnonzero(row >= ALIKE_MIN)
            # best first, then in the order of ``named`` (lexsort: the last key is the first)
            best = kept[np.lexsort((kept, -row[kept]))][:ALIKE]
            out[at] = [(texts[j], float(row[j]), named[among[j]][0]) for j in best]


def pages_view(info: dict[str, dict]) -> list[dict]:
    return [info[k] for k in sorted(info)]
