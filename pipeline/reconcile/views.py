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


def pages_view(info: dict[str, dict]) -> list[dict]:
    return [info[k] for k in sorted(info)]
