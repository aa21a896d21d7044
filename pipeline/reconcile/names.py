"""Category names across one build: the renames a document states, scoped to its own page,
and joined eligibility cells parted with the names pages stating requirements use
(``joined``). The build applies both to its objects before any record is read
(``renames_reaching``); ``apply_stated_renames`` does the same to rows in memory."""

from __future__ import annotations

import dataclasses
import json

import orjson

from pipeline.core.records import canonical_category, category_id, content_hash
from pipeline.reconcile import joined as names
from pipeline.reconcile.pages import Capture, capture_of, carries_of, identify, scoped_renames, source_facts


def apply_stated_renames(rows: list, sources: list[dict] | None = None, prior: list = ()) -> list:
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
    scoped = scoped_renames(captures, identify(captures, source_facts(sources), prior))
    return [rename_row(r, scoped.get((r["capability"], r["source_sha256"], r["page"]), {})) for r in rows]


def captures_said(reqs: list[dict]) -> list[dict]:
    """What a source's object says of each page it holds, for the build to know its pages
    before reading any record: ``{capability, title, updated, categories, states, carries}``
    (the categories' canonical paths, the renames it states as ``[old, new]`` paths, what each
    category requires: ``_carries_said``)."""
    groups: dict[tuple, list[dict]] = {}
    for r in reqs:
        groups.setdefault((r["capability"], r["page"]), []).append(r)
    out = []
    for (cap, title), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        dates = [r["page_updated"] for r in rs if r["page_updated"]]
        categories = sorted({tuple(r["category"]) for r in rs})
        out.append({"capability": cap, "title": title, "updated": max(dates) if dates else None,
                    "categories": [list(c) for c in categories],
                    "eligible": [list(c) for c in sorted({tuple(r["category"]) for r in rs
                                                          if r.get("kind") == "eligibility"})],
                    "states": [[list(o), list(n)] for o, n in sorted(stated_renames(rs).items())],
                    "carries": _carries_said(carries_of(rs), categories)})
    return out


def _carries_said(carries: tuple, categories: list[tuple]) -> list[list]:
    """``pages.carries_of`` as an object keeps it, small (10,000 objects hold it in memory at
    once): ``[place of the path in categories, the path as written or null where it is the
    canonical one, documents' key]``."""
    at = {c: i for i, c in enumerate(categories)}
    return [[at[canon], None if raw == canon else list(raw), key] for canon, raw, key in carries]


def _carries_read(said: list[list], categories: list) -> tuple:
    """``_carries_said`` back as ``pages.carries_of`` gives it."""
    return tuple((tuple(categories[i]), tuple(categories[i]) if raw is None else tuple(raw), key)
                 for i, raw, key in said)


def renames_reaching(infos: list[dict], sources: list[dict], prior: list = ()) -> list[list]:
    """For each object (``infos``, with its ``sources`` row), what the build changes of its
    records' names, sorted: the stated renames that reach them, ``["rename", capability, title,
    old, new]`` (paths as lists), and how each joined eligibility cell is parted
    (``names.Split.to_list``). ``prior``: the previous version's pages (``pages.prior_pages``),
    as reconciliation is given them, so both know the same pages."""
    captures, paths = [], {}
    said: dict[bytes, tuple] = {}  # (what equal captures say, read once: most versions of a page say the same)
    for info, src in zip(infos, sources):
        for c in info["captures"]:
            k = (c["capability"], src["source_sha256"], c["title"])
            text = orjson.dumps([c["categories"], c["states"], c["carries"]])
            got = said.get(text)
            if got is None:
                got = said[text] = ({tuple(p) for p in c["categories"]},
                                    frozenset(category_id(tuple(p)) for p in c["categories"]),
                                    tuple((tuple(o), tuple(n)) for o, n in c["states"]),
                                    _carries_read(c["carries"], c["categories"]))
            paths[k] = got[0]
            captures.append(Capture(k, src["source_file"], c["updated"], got[1], got[2], got[3]))
    del said
    scoped = scoped_renames(captures, identify(captures, source_facts(sources), prior))
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


def rename_row(r: dict, renames: dict[tuple[str, ...], tuple[str, ...]]) -> dict:
    """A requirement record under its category's new name (and so with its new content hash)."""
    new = renames.get(tuple(r["category"]))
    if not new:
        return r
    out = dict(r, category=list(new), category_id=category_id(new))
    return dict(out, content_hash=content_hash(out))


def stated_renames(rows) -> dict[tuple[str, ...], tuple[str, ...]]:
    """old canonical path -> new canonical path, for every rename a document states."""
    renames: dict[tuple[str, ...], tuple[str, ...]] = {}
    for r in rows:
        for old in r["renamed_from"] or ():
            old_path = canonical_category(tuple(r["category_raw"][:-1]) + (old,), capability=r["capability"])
            if old_path != tuple(r["category"]):
                renames[old_path] = tuple(r["category"])
    return renames
