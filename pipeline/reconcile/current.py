"""The current requirement of every capability and category: the answer people come for.

One row per capability and canonical category (the ``current`` table). Per page (part) that
states a requirement for it today, one *statement*:

- its rule as the newest capture declares it (``rule_source``), e.g. 5选1 in 002 (2026-02-11);
- its entries from the newest capture that lists them (``items_source``). When the newest
  capture lost its list, an older capture's list completes it only where it fits the rule
  (``statements.fits``); otherwise that list is the statement's ``last_list``, with its own rule
  and source, and today's entries are unknown (002 declares 5选1 for 公募基金 and lists nothing;
  004, 2024-08-29, listed three as 3选1: the last complete list, not today's);
- a capture cut short (``sources.truncated``) removes nothing: a category it does not reach is
  stated by the newest earlier capture that has it, with a note.

``status`` says in one word how far the answer can be trusted: ``open_conflict`` (versions or
pages disagree and nobody has decided), ``decided`` (every conflict about it was decided by a
reviewer: who, when and what is in ``decisions``), ``list_lost`` (a rule is declared and no
capture of the page lists entries that fit it), ``list_from_older_capture``, ``eligibility_only`` (only
eligibility lists name the category: they say it may use the capability, and nothing about the
documents it needs; never "nothing required"), or ``current``.
Pure functions over the reconciled pages and conflicts; nothing here reads a file.
"""
from __future__ import annotations

from pipeline.reconcile.conflicts import covered
from pipeline.reconcile.statements import stated_today
from pipeline.core.tables import UNRESOLVED

#: conflict statuses that concern today's answer: a reviewer has to, or did, look at it
_REVIEWED = UNRESOLVED + ("decided",)
#: a short summary per conflict in the table (a page-wide one names every category)
SUMMARY_MAX = 300


def current_view(pages: dict[str, list], conflicts: list[dict], summaries: dict[str, str] | None = None,
                 stated: dict[str, list[tuple]] | None = None) -> list[dict]:
    """The ``current`` rows from the reconciled page versions (``reconcile.page_versions``) and
    conflicts (decisions applied). ``summaries``: conflict id -> its summary, where the
    conflicts given are headers without it; ``stated``: the pages' ``statements.stated_today``,
    when worked out already."""
    summaries = summaries or {}
    stated = stated if stated is not None else stated_today(pages)
    rows: dict[tuple[str, str], dict] = {}
    for key in sorted(pages):
        for _, r, statement in stated[key]:
            k = (r["capability"], r["category_id"])
            row = rows.setdefault(k, {"capability": r["capability"], "category_id": r["category_id"],
                                      "category": r["category"], "status": None, "statements": [],
                                      "conflicts": [], "decisions": []})
            row["statements"].append(statement)
    for c in conflicts:
        if c["status"] not in _REVIEWED:
            continue
        for k in covered(c):
            row = rows.get(k)
            if row is None:
                continue
            summary = c.get("summary") or summaries.get(c["id"]) or ""
            row["conflicts"].append({"id": c["id"], "kind": c["kind"], "relation": c["relation"],
                                     "severity": c["severity"], "status": c["status"],
                                     "summary": summary[:SUMMARY_MAX] + ("…" if len(summary) > SUMMARY_MAX else "")})
            if c["decision"]:
                d = c["decision"]
                row["decisions"].append({k: d[k] for k in ("conflict", "decision", "reason", "reviewer",
                                                           "date", "status")})
    _answer_for_children(rows)
    for row in rows.values():
        row["status"] = status_of(row)
    return [rows[k] for k in sorted(rows, key=lambda k: (k[0], tuple(rows[k]["category"]), k[1]))]


def _answer_for_children(rows: dict[tuple[str, str], dict]) -> None:
    """A statement covering every child of its category (政务民生 / 所有二级类目) answers for each
    child some page names today (WeChat's 政务民生 / 户政): the child's row gets it, with its
    conflicts and decisions, beside any statement of its own."""
    paths = {tuple(r["category"]): (cid, r["category"]) for (_, cid), r in rows.items()}
    for (cap, _), parent in sorted(rows.items()):
        covering = [st for st in parent["statements"] if st.get("covers") == "children"]
        if not covering:
            continue
        top = tuple(parent["category"])
        for path, (cid, category) in sorted(paths.items()):
            if len(path) <= len(top) or path[:len(top)] != top:
                continue
            child = rows.setdefault((cap, cid), {"capability": cap, "category_id": cid, "category": category,
                                                 "status": None, "statements": [], "conflicts": [],
                                                 "decisions": []})
            child["statements"] += [dict(st, covers="from_parent", note=st["note"] or f"stated for every "
                                         f"sub-category of {' / '.join(top)} (所有二级类目)") for st in covering]
            seen = {c["id"] for c in child["conflicts"]}
            child["conflicts"] += [c for c in parent["conflicts"] if c["id"] not in seen]
            decided = {d["conflict"] for d in child["decisions"]}
            child["decisions"] += [d for d in parent["decisions"] if d["conflict"] not in decided]


def status_of(row: dict) -> str:
    """The one word ``status`` (module docstring), from the row's conflicts and statements."""
    statuses = {c["status"] for c in row["conflicts"]}
    if statuses & set(UNRESOLVED):
        return "open_conflict"
    if "decided" in statuses:
        return "decided"
    stated = [s for s in row["statements"] if s["kind"] == "qualification"]
    if not stated:
        # an eligibility list says the category may use the capability, not what it must show:
        # nothing here is settled about documents
        return "eligibility_only"
    if any(s["items_missing"] and s["rule"] != "none" for s in stated):
        return "list_lost"
    if any(s["items_source"] != s["rule_source"] for s in stated):
        return "list_from_older_capture"
    return "current"
