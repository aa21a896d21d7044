"""Category names an eligibility list joins with 、, read with the names the build knows.

A level cell of an eligibility list (a category table without a qualification column) may list
several categories: ``基金、信托、保险、银行、证券/期货`` (WeChat's live-player list). But a category
name may itself hold a 、: ``证券、期货投资咨询`` is one WeChat category, and the solution-selection
page (1078/37707, 2020-03-23, line 37) writes ``…证券/期货、证券、期货投资咨询、保险…``. A parser
alone cannot tell, so it keeps such a cell's text whole (``，`` and ``；`` are never inside a name:
it splits there). The build decides here, with the names that pages stating requirements use
(never another eligibility list's, which are what is being decided):

- the cell is cut at 、 into pieces, and every way of grouping consecutive pieces is tried;
- a group of several pieces must be a known name (a joined name is never invented);
- two unknown neighbours are never separated (``甲、乙`` could be one name nobody else uses);
- of the groupings left, the one with the fewest unknown names wins, when it is the only one.
Otherwise the cell stays whole, with a warning: the text, never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pipeline.core.errors import warning
from pipeline.core.normalize import stable_id
from pipeline.core.records import canonical_category, category_id, content_hash

#: the separator that may, or may not, stand between two names in an eligibility cell
JOINER = "、"


def known_names(captures: list[dict]) -> frozenset[tuple[str, str]]:
    """(first level, lower level) of every category a page states requirements for, from the
    objects' captures (``reconcile.captures_said``): ``(金融业, 证券、期货投资咨询)``. A category
    filed at another depth elsewhere (金融业 / 基金 / 公募基金) counts at each of its levels."""
    out = set()
    for c in captures:
        listed = {tuple(p) for p in c.get("eligible") or ()}
        for path in c["categories"]:
            if tuple(path) not in listed and len(path) > 1:
                out.update((path[0], level) for level in path[1:])
    return frozenset(out)


def joined(path) -> bool:
    """Whether an eligibility row's canonical path ends in a cell that may join names."""
    return len(path) > 1 and JOINER in path[-1]


def segmentation(pieces: tuple[str, ...], known) -> tuple[tuple[int, int], ...] | None:
    """The one grouping of ``pieces`` (canonical names, in order) the known names allow, as
    ``(start, end)`` index runs; None when there is none or more than one (module docstring).
    ``known(name)`` says whether a canonical name is known."""
    n = len(pieces)

    @cache
    def best(i: int, prev_known: bool) -> tuple[int, tuple, int]:
        # (fewest unknown names, the grouping, how many groupings reach that) for pieces[i:]
        if i == n:
            return 0, (), 1
        found: tuple[int, tuple, int] | None = None
        for j in range(i + 1, n + 1):
            ok = known(JOINER.join(pieces[i:j]))
            if j - i > 1 and not ok:
                continue
            if not ok and not prev_known and i > 0:
                continue  # two unknown neighbours are never cut apart
            rest = best(j, ok)
            if rest[2] == 0:
                continue
            cand = (rest[0] + (not ok), ((i, j),) + rest[1], rest[2])
            if found is None or cand[0] < found[0]:
                found = cand
            elif cand[0] == found[0]:
                found = (found[0], found[1], found[2] + cand[2])
        return found or (0, (), 0)

    unknown, runs, count = best(0, True)
    return runs if count == 1 else None


@dataclass(frozen=True)
class Split:
    """What the build decided for one joined cell of one page: the canonical path of the row
    as parsed, and its grouping (``segmentation``), or None: kept whole."""

    capability: str
    page: str | None
    path: tuple[str, ...]
    runs: tuple[tuple[int, int], ...] | None

    def to_list(self) -> list:
        return ["split", self.capability, self.page, list(self.path),
                None if self.runs is None else [list(r) for r in self.runs]]


def _canonical(parent: tuple[str, ...], name: str, capability: str) -> tuple[str, ...]:
    """The canonical path of one name of a cell, under the cell's (canonical) parent levels."""
    return canonical_category(parent + (name,), capability=capability)


def splits_for(captures: list[dict], known: frozenset[tuple[str, str]]) -> list[Split]:
    """The decisions for every joined eligibility cell of an object's captures."""
    out = []
    for c in captures:
        for path in c.get("eligible") or ():
            if not joined(path):
                continue
            parent, cap = tuple(path[:-1]), c["capability"]
            pieces = tuple(p.strip() for p in path[-1].split(JOINER))

            def is_known(name: str) -> bool:
                canon = _canonical(parent, name, cap)
                return (canon[0], canon[-1]) in known

            out.append(Split(cap, c["title"], tuple(path), segmentation(pieces, is_known)))
    return out


def split_row(r: dict, split: Split) -> list[dict]:
    """``r`` (a requirement record whose category is ``split.path``) as the rows it stands for:
    one per name of the grouping, each with its verbatim part of the cell; or ``r`` whole, with a
    warning, when the build cannot tell."""
    cell = r["category_raw"][-1]
    if split.runs is None:
        return [dict(r, warnings=list(r["warnings"]) + [str(warning(
            "joined_cell_kept_whole", f"{cell!r} is kept whole: it may list several categories joined by "
                                      f"{JOINER}, and the names known from pages stating requirements do not "
                                      f"settle where they part"))])]
    if len(split.runs) == 1:
        return [r]
    raw_pieces = [p.strip() for p in cell.split(JOINER)]
    out = []
    for start, end in split.runs:
        name = JOINER.join(raw_pieces[start:end])
        canon = _canonical(tuple(r["category"][:-1]), name, r["capability"])
        out.append(dict(r, id=stable_id("req", r["id"], name), category_raw=list(r["category_raw"][:-1]) + [name],
                        category=list(canon), category_id=category_id(canon),
                        warnings=list(r["warnings"]) + [str(warning(
                            "joined_cell_split", f"{cell!r} is read as {len(split.runs)} categories, parted at "
                                                 f"{JOINER} where the names known from pages stating requirements "
                                                 f"say so"))]))
        out[-1]["content_hash"] = content_hash(out[-1])
    return out
