"""What a page says of a category today: one *statement* per page (part) and category, from the
page's newest capture, with a lost list looked for in its earlier captures (``fits``), and a
capture cut short stating nothing about what it does not reach (the newest earlier capture
that has it does). ``current`` puts them in rows; ``conflicts`` asks which captures they come
from (``today_sources``): a change in those bears on today's answer, one in others is history.
Pure functions over the reconciled pages; nothing here reads a file.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.reconcile.versions import current, part_key


def _source(v, r) -> dict:
    return {"source_file": r["source_file"], "line": r["provenance"]["line_start"], "date": v.date}


def _lists(r) -> bool:
    """Whether a record lists what its rule requires (an eligibility list requires nothing and
    lists no entries: it never stands in for a lost list)."""
    if r.get("kind") == "eligibility":
        return False
    return r["rule"] == "none" or (r["rule"] != "unknown" and not r["items_missing"] and bool(r["items"]))


def _eligibility(part: str, v, r, note: str | None) -> dict:
    """What an eligibility list says of a category: that it may use the capability (by the
    access method the list names, on the conditions its lead-in sets), and nothing about the
    documents it needs. No rule, no entries, no list to look for elsewhere."""
    return {
        "page": part, "kind": "eligibility", "rule": None, "pick": None, "of": None, "options": None,
        "declared": None, "conditions": r["conditions"], "items": (), "documents": (),
        "integration": r["integration"], "items_missing": False,
        "rule_source": _source(v, r), "items_source": None, "note": note, "covers": r.get("covers"),
        "last_list": None,
    }


def fits(declared, listed) -> bool:
    """Whether an older capture's list completes a newer declaration: the same rule, and for a
    choice with a declared count, as many entries listed as the declaration counts (002 declares
    5选1 for 公募基金 and 004 lists three: not today's list; 002 declares 企业征信 需同时提供 and
    004 lists (2选1): another rule)."""
    if declared["rule"] == "unknown":
        return True  # the capture lost the whole text: the rule too is the older capture's
    if listed["rule"] != declared["rule"]:
        return False
    return declared["rule"] != "any" or declared["of"] is None or declared["of"] == listed["options"]


def _last_list(v, r) -> dict:
    """An older capture's complete list, shown with its own rule, date and line beside a newer
    declaration it does not fit (never merged into it)."""
    return {"rule": r["rule"], "pick": r["pick"], "of": r["of"], "options": r["options"],
            "declared": r["declared"], "items": r["items"], "documents": r["documents"], "source": _source(v, r)}


def _statement(part: str, v, r, listings: "_Listings", note: str | None) -> dict:
    """The statement of row ``r`` of version ``v``; a lost list is looked for in the page's
    earlier captures (``listings``), and taken only where it fits the declaration (``fits``):
    otherwise it is the statement's ``last_list``, and today's list is unknown."""
    if r.get("kind") == "eligibility":
        return _eligibility(part, v, r, note)
    items_v, items_r = (v, r) if _lists(r) else (listings.newest(v, r) or (None, None))
    last = None
    if items_r is not None and items_r is not r and not fits(r, items_r):
        last, items_v, items_r = _last_list(items_v, items_r), None, None
    # a capture that lost the whole requirement text declares no rule: the rule is then the one
    # of the capture the entries come from
    rule_v, rule_r = (items_v, items_r) if r["rule"] == "unknown" and items_r is not None else (v, r)
    listed = items_r or {"items": (), "documents": (), "options": None}
    return {
        "page": part, "kind": "qualification", "rule": rule_r["rule"], "pick": rule_r["pick"], "of": rule_r["of"],
        "options": listed["options"], "declared": rule_r["declared"], "conditions": rule_r["conditions"],
        "items": listed["items"], "documents": listed["documents"], "integration": r["integration"],
        "items_missing": items_r is None,
        "rule_source": _source(rule_v, rule_r),
        "items_source": _source(items_v, items_r) if items_r is not None else None,
        "note": note, "covers": r.get("covers"), "last_list": last,
    }


class _Listings:
    """Per page, the newest capture listing each category's entries, before a given version:
    worked out in one pass over the page's versions, newest first, and only when a statement
    needs it (an archive's page has thousands of versions: searching them per category was
    categories x versions)."""

    def __init__(self, versions: list):
        self.versions = versions
        self.index = {id(v): i for i, v in enumerate(versions)}
        self._newest: dict[int, dict] = {}

    def newest(self, v, r):
        """The (version, row) of the newest version before ``v`` that lists what row ``r``
        requires, or None."""
        i = self.index[id(v)]
        found = self._newest.get(i)
        if found is None:
            found = self._newest[i] = {}
            # undated versions come first in a page's order, so newest first is dated ones,
            # newest first, then the undated (where they fall is unknown)
            for ov in self.versions[:i][::-1]:
                for o in ov.rows:
                    if _lists(o):
                        found.setdefault((o["capability"], o["category_id"], ov.slot(o.get("page_part"))), (ov, o))
        return found.get((r["capability"], r["category_id"], v.slot(r.get("page_part"))))


def _stated(versions: list) -> list[tuple[object, object, str | None]]:
    """(version, row, note) for every category the page states today: its current version's
    rows, and where that capture is cut short, categories it does not reach from the newest
    earlier version that has them (back to the newest complete one)."""
    now = current(versions)
    out = [(now, r, None) for r in now.rows]
    if now.truncated:
        seen = {(r["capability"], r["category_id"]) for r in now.rows}
        earlier = [v for v in versions if v is not now]
        for v in reversed(earlier):
            for r in v.rows:
                k = (r["capability"], r["category_id"])
                if k not in seen:
                    seen.add(k)
                    out.append((v, r, f"the newest capture, {now.source_file} ({now.date or 'date unknown'}), is cut "
                                      f"short ({now.truncated}) before this category: stated by {v.source_file}"))
            if not v.truncated:
                break
    return out


def page_statements(key: str, versions: list):
    """(version, row, statement) for every category page ``key`` states today (``_stated``),
    in the page's order: the statement names the part it is on (``part_key``)."""
    listings = _Listings(versions)
    for v, r, note in _stated(versions):
        yield v, r, _statement(part_key(key, v.slot(r.get("page_part"))), v, r, listings, note)


@dataclass(frozen=True)
class Today:
    """Which captures today's answer comes from (sha256 of their sources): per part of a page
    and category (``by_part``: the capture stating it, and those its rule and entries come
    from where that one lost them), and per page (``by_page``: the captures whose lists of
    categories are today's, its newest and, where that one is cut short, the earlier ones
    stating what it does not reach; never an older capture only lending a lost list). A change
    that appeared in one of them bears on today; one in any other capture is history."""

    by_part: dict[tuple[str, str], frozenset[str]]
    by_page: dict[str, frozenset[str]]


def stated_today(pages: dict[str, list]) -> dict[str, list[tuple]]:
    """Every page's ``page_statements``, by page key in key order: worked out once, read by
    ``today_sources`` and ``current.current_view`` (a page's thousands of versions are
    searched for lost lists)."""
    return {key: list(page_statements(key, pages[key])) for key in sorted(pages)}


def today_sources(pages: dict[str, list], stated: dict[str, list[tuple]] | None = None) -> Today:
    """``Today`` of reconciled pages (``versions.page_versions``); ``stated``: their
    ``stated_today``, when worked out already."""
    stated = stated if stated is not None else stated_today(pages)
    by_part: dict[tuple[str, str], set[str]] = {}
    by_page: dict[str, set[str]] = {}
    for key, versions in sorted(pages.items()):
        # a statement names its rows' file: the version's, or for bytes captured again, the first
        sha = {f: v.source_sha256 for v in versions for f in (v.source_file, *(r["source_file"] for r in v.rows[:1]))}
        now = by_page.setdefault(key, {current(versions).source_sha256})
        for v, r, st in stated[key]:
            now.add(v.source_sha256)
            told = by_part.setdefault((st["page"], r["category_id"]), {v.source_sha256})
            told.update(sha[s["source_file"]] for s in (st["rule_source"], st["items_source"]) if s)
    return Today({k: frozenset(v) for k, v in by_part.items()}, {k: frozenset(v) for k, v in by_page.items()})
