"""Which page a capture is a version of, and when it was. Pure functions.

A *capture* is what one source says on one page of one capability (a PDF export can hold
several titled pages). A page is identified, within its capability:

1. by its URL, when the source's metadata gives one: a page retitled at the same URL (WeChat's
   特殊行业所需资质材料 → 小程序开放的服务类目, 2018-09-11) stays one page, and the same content
   under two URLs (the live-streaming page copied under product 454) is two pages;
2. else by its title, spaces aside (``微信原生H5的主体类目`` / ``微信原生 H5 的主体类目``): a titled
   capture without a URL joins the page whose captures bear that title, or else a URL page whose
   captures bear no title and one of whose versions shares most of its categories
   (Jaccard >= 0.5: seeds 002 and 004 are the Markdown page product/1078/43316, untitled);
3. else by its content: a capture without a title joins the page one of whose versions shares
   most of its categories (Jaccard >= 0.5), so a list that grows from 46 to 380 rows stays one
   page; else a page of the previous dataset version (``PriorPage``) one of whose versions shares
   most of them, under that page's key: a capture replacing another under a new file name, with
   no metadata, continues its page rather than opening ``untitled:<its file>`` (seed 000, FaceID
   1007/42684 untitled, replaced by its 2020-10-26 revision: 54% of 000's categories);
   otherwise it is a page of its own.

A capture is dated by the page's own date (``最近更新时间``, or ``updated`` in the metadata), else
by the day it was captured; revisions of one day are ordered by their capture time (a capture
manifest gives it), never by file name. The build identifies pages from its objects' captures
before any record is read (to scope the renames a page states); reconciliation from the rows.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pipeline.core.records import written_under
from pipeline.reconcile.values import per_content

SAME_PAGE_MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class SourceFacts:
    """What pages need of a source beyond its records: where the page lives, when it was
    captured (the earliest capture of these bytes), and whether the capture was cut short."""

    url: str | None = None
    captured: str | None = None
    truncated: str | None = None


def source_facts(sources: list[dict] | None) -> dict[str, SourceFacts]:
    """sha256 -> ``SourceFacts``, from ``sources`` table rows."""
    out = {}
    for s in sources or ():
        times = [c.get("captured") for c in s.get("captures") or () if c.get("captured")]
        times += [s["captured"]] if s.get("captured") else []
        out[s["source_sha256"]] = SourceFacts(s.get("url"), min(times) if times else None, s.get("truncated"))
    return out


@dataclass(frozen=True)
class Capture:
    """One source's statement of one page: ``key`` is (capability, source sha256, title)."""

    key: tuple[str, str, str | None]
    file: str
    #: the newest page date its records give
    updated: str | None
    categories: frozenset[str]
    #: renames it states, old canonical path -> new (``企业征信 (注:原二级名称为【征信业务】)``)
    states: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    #: what each category it states requires (``carries_of``), for moves (``moved_renames``)
    carries: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = ()


def capture_of(key: tuple, rows: list, source: dict | None = None, memo: dict | None = None) -> Capture:
    """The capture ``key`` from its requirement rows; one with none from its ``sources`` row
    (its file, and the page's date the source gives). ``memo``: what captures of the same
    contents (``records.Row``s' ``content_hash``, in order) state, kept by the caller: thousands
    of captures of a page state the same categories."""
    if not rows:
        return Capture(key, source["source_file"], source.get("updated"), frozenset())
    dates = [d for d in (r["page_updated"] for r in rows) if d]
    contents = tuple(r.get("content_hash") for r in rows) if memo is not None else None
    if contents is not None and None in contents:  # (a row made by hand: no content to key by)
        contents = None
    stated = memo.get(contents) if contents is not None else None
    if stated is None:
        stated = (frozenset(r["category_id"] for r in rows), carries_of(rows))
        if contents is not None:
            memo[contents] = stated
    return Capture(key, rows[0]["source_file"], max(dates) if dates else None, stated[0], carries=stated[1])


def carries_of(rows) -> tuple:
    """(canonical path, path as written, documents' key: ``documents_key``) of each category a
    capture's requirement rows state with documents, one per pair of paths (its parts'
    documents together). A statement covering every child (所有二级类目) is no parent that could
    move into one child."""
    got: dict[tuple, list] = {}
    for r in rows:
        said = _carried(r, "carries")
        if said is not None:
            got.setdefault(said[0], []).append(said)
    # (one row per pair of paths, the usual case: its content's key; several: their documents together)
    return tuple((canon, raw, said[0][2] if len(said) == 1 else documents_key(set().union(*(s[1] for s in said))))
                 for (canon, raw), said in sorted(got.items()))


@per_content
def _carried(r, field: str) -> tuple | None:
    """What one row adds to its capture's ``carries_of``: (its paths, its documents, their key),
    None where it adds nothing; one content's, worked out once (thousands of captures share it;
    ``field``: ``per_content``'s key)."""
    if r.get("kind", "qualification") != "qualification" or r.get("covers") or not r["documents"]:
        return None
    docs = frozenset(r["documents"])
    return (tuple(r["category"]), tuple(r["category_raw"])), docs, documents_key(docs)


def documents_key(docs) -> str:
    """A set of document titles as a short key: equal sets, equal keys (what moves compare; a
    build's objects keep it for each category, not the titles)."""
    return hashlib.sha256("\x1f".join(sorted(set(docs))).encode()).hexdigest()[:16]


def listless_captures(sources: list[dict] | None, stated: set[str]) -> dict[tuple, dict]:
    """Captures of a known page that state no category (a revision of the solution-selection
    page, 1078/37707, with scenario tables only from 2020-04-09 on; a capture in which nothing
    can be read): ``{(capability, sha256, title): sources row}`` of every source whose sha256 is
    not in ``stated`` and that names its page by a URL or a title. Each is a version of its
    page, one that lists nothing: what it no longer says, the page does not say today."""
    out = {}
    for s in sources or ():
        if s["source_sha256"] not in stated and s.get("capability") and (s.get("url") or s.get("title")):
            out[(s["capability"], s["source_sha256"], s.get("title"))] = s
    return out


@dataclass(frozen=True)
class PriorPage:
    """A page of the previous dataset version, as a capture without URL or title may continue it:
    its key, capability and the distinct category lists of its newest versions."""

    page_key: str
    capability: str
    lists: tuple[frozenset[str], ...]


#: of a previous page, the lists of at most this many of its newest versions are compared
PRIOR_VERSIONS = 20


def prior_sources(pages: list[dict], present: set[str]) -> set[str]:
    """The sha256 of the previous version's sources whose categories ``prior_pages`` needs: the
    newest versions of each page a capture without URL or title may continue, those identified by
    no URL (their key came from a title or from content) and those whose captures are all gone
    (``present``: the sha256 of this build's sources)."""
    out: set[str] = set()
    for p in pages:
        shas = [v["source_sha256"] for v in p.get("versions") or ()]
        if not p.get("url") or not present.intersection(shas):
            out.update(shas[-PRIOR_VERSIONS:])
    return out


def prior_pages(pages: list[dict], categories: dict[str, frozenset[str]], present: set[str]) -> list[PriorPage]:
    """The previous version's pages (``pages`` table rows) a capture may continue
    (``prior_sources``), each with its versions' category lists (``categories``: sha256 -> the
    category ids its requirements name in that version)."""
    wanted = prior_sources(pages, present)
    out = []
    for p in sorted(pages, key=lambda p: p["page_key"]):
        shas = [v["source_sha256"] for v in p.get("versions") or ()][-PRIOR_VERSIONS:]
        lists = {categories[sha] for sha in shas if sha in wanted and categories.get(sha)}
        if lists:
            out.append(PriorPage(p["page_key"], p["capability"], tuple(sorted(lists, key=sorted))))
    return out


def title_key(title: str) -> str:
    """Titles that differ only in spaces are one title."""
    return "".join(title.split())


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def note(page: dict, text: str) -> None:
    """Add to what a page's ``inferred`` says (bounded: an archive joins thousands of captures)."""
    if len(page["inferred"] or "") < 2000:
        page["inferred"] = ((page["inferred"] or "") + " " + text).strip()


@dataclass
class Identified:
    #: capture key -> page key
    identity: dict[tuple, str]
    #: page key -> {page_key, capability, url, inferred}
    info: dict[str, dict]
    #: capture key -> (date, date_from "page" | "capture" | None, capture time)
    when: dict[tuple, tuple[str | None, str | None, str | None]] = field(default_factory=dict)

    def order(self, key: tuple) -> tuple:
        """Time order: undated first (their place is unknown), then by date, capture time, and
        the source's sha256 (a stable order for what nothing tells apart, never the file name)."""
        date, _, captured = self.when[key]
        return (date is not None, date or "", captured or "", key[1])


def identify(captures: list[Capture], facts: dict[str, SourceFacts], prior: list[PriorPage] = ()) -> Identified:
    """The page of every capture (see the module's docstring); ``prior``: the previous dataset
    version's pages (``prior_pages``). Captures are taken in time order, by URL first, then by
    title, then by content."""
    found = Identified({}, {})
    for c in captures:
        captured = facts.get(c.key[1], SourceFacts()).captured
        if c.updated:
            found.when[c.key] = (c.updated, "page", captured)
        elif captured:
            found.when[c.key] = (captured[:10], "capture", captured)
        else:
            found.when[c.key] = (None, None, None)
    pages = _Pages(captures, found)
    prior_listing = _listing(list(prior))
    in_order = sorted(pages.by_key, key=found.order)
    for k in in_order:
        pages.by_url(k, facts.get(k[1], SourceFacts()).url)
    pages.lists_of_identified()
    for k in in_order:
        if k not in found.identity and k[2]:
            pages.by_title(k)
    for k in in_order:
        if k not in found.identity:
            pages.by_content(k, prior, prior_listing)
    return found


class _Pages:
    """``identify``'s work: the pages found so far (``found``), the titles their captures bear
    and the category lists of their versions."""

    def __init__(self, captures: list[Capture], found: Identified):
        self.by_key = {c.key: c for c in captures}
        self.found = found
        self.titles_of: dict[tuple[str, str], set[str]] = {}
        for c in captures:
            cap, sha, title = c.key
            if title:
                self.titles_of.setdefault((cap, sha), set()).add(title_key(title))
        #: (capability, title key) -> pages with captures so titled
        self.bearing: dict[tuple[str, str], set[str]] = {}
        self.titled: set[str] = set()  # every page in ``bearing``
        #: page key -> the distinct category lists of its captures (thousands of captures of a
        #: page share a few), for captures identified by their content; and the pages that list
        #: each category: only they can share any (20,000 pages of their own were each compared
        #: with every other: 393 s)
        self.lists: dict[str, set[frozenset]] = {}
        self.listing: dict[str, set[str]] = {}

    def by_url(self, k: tuple, url: str | None) -> None:
        if not url:
            return
        cap, sha, title = k
        several = len(self.titles_of.get((cap, sha), ())) > 1
        key = f"{cap}:{url}" + (f"#{title_key(title)}" if several and title else "")
        self.found.identity[k] = key
        self.found.info.setdefault(key, {"page_key": key, "capability": cap, "url": url, "inferred": None})
        if title:
            self.bearing.setdefault((cap, title_key(title)), set()).add(key)
            self.titled.add(key)

    def listed(self, key: str, ids: frozenset) -> None:
        self.lists.setdefault(key, set()).add(ids)
        for cid in ids:
            self.listing.setdefault(cid, set()).add(key)

    def lists_of_identified(self) -> None:
        for k, key in self.found.identity.items():
            self.listed(key, self.by_key[k].categories)

    def closest(self, cap: str, ids: frozenset, eligible) -> tuple[str | None, float]:
        """The page (``eligible(key)``) one of whose lists shares most of ``ids``, the first in key
        order of equals; a page that shares none scores 0, below any match, and is not looked at."""
        sharing = set().union(*(self.listing.get(cid, ()) for cid in ids))
        scores = ((k, max(_jaccard(ids, other) for other in self.lists[k])) for k in sorted(sharing)
                  if k.startswith(cap + ":") and eligible(k))
        return max(scores, key=lambda kv: kv[1], default=(None, 0.0))

    def join(self, k: tuple, key: str) -> None:
        self.found.identity[k] = key
        self.listed(key, self.by_key[k].categories)
        if k[2]:
            self.bearing.setdefault((k[0], title_key(k[2])), set()).add(key)
            self.titled.add(key)

    def by_title(self, k: tuple) -> None:
        """A titled capture without a URL: the page whose captures bear its title, else a URL
        page whose captures bear none and shares most of its categories, else its own."""
        cap, _, title = k
        c, info = self.by_key[k], self.found.info
        by_title = self.bearing.get((cap, title_key(title)), set())
        if len(by_title) == 1:
            key = next(iter(by_title))
            if info[key]["url"]:
                note(info[key], f"{c.file} has no URL; it bears the title of the page's captures.")
        else:
            key, score = self.closest(cap, c.categories, lambda p: info[p]["url"] and p not in self.titled)
            if key and score >= SAME_PAGE_MIN_OVERLAP:
                note(info[key], f"{c.file} has no URL; its title is new to the page and it shares "
                                f"{score:.0%} of the categories of one of its versions.")
            else:
                key = f"{cap}:{title_key(title)}"
                info.setdefault(key, {"page_key": key, "capability": cap, "url": None, "inferred": None})
        self.join(k, key)

    def by_content(self, k: tuple, prior: list[PriorPage], prior_listing: dict[str, list[int]]) -> None:
        """A capture without URL or title: the page one of whose versions shares most of its
        categories, else a page of the previous dataset version that does, else its own."""
        c, info = self.by_key[k], self.found.info
        key, score = self.closest(k[0], c.categories, lambda p: p in info)
        if key and score >= SAME_PAGE_MIN_OVERLAP:
            note(info[key], f"{c.file} has no title; shares {score:.0%} of the categories of one of its versions.")
        elif (key := _prior_match(c, prior, prior_listing)) and key != f"{k[0]}:untitled:{c.file}":
            info.setdefault(key, {"page_key": key, "capability": k[0], "url": None, "inferred": None})
            # (no score: the previous version may hold this very capture, and a rebuild says the same)
            note(info[key], f"{c.file} has no title; it shares at least {SAME_PAGE_MIN_OVERLAP:.0%} of the categories "
                            f"of a version of this page in the previous dataset version, whose key it keeps.")
        else:
            key = f"{k[0]}:untitled:{c.file}"
            info[key] = {"page_key": key, "capability": k[0], "url": None,
                         "inferred": f"no title; first seen in {c.file}"}
        self.join(k, key)


def _listing(prior: list[PriorPage]) -> dict[str, list[int]]:
    """category id -> the places in ``prior`` of the pages one of whose lists names it, in order."""
    out: dict[str, list[int]] = {}
    for at, p in enumerate(prior):
        for cid in set().union(*p.lists):
            out.setdefault(cid, []).append(at)
    return out


def _prior_match(c: Capture, prior: list[PriorPage], listing: dict[str, list[int]]) -> str | None:
    """The previous version's page (``PriorPage``) a capture without URL or title continues: the
    one of its capability one of whose versions shares most of its categories, at least
    ``SAME_PAGE_MIN_OVERLAP`` (the first in key order of equals). ``listing``: ``_listing(prior)``:
    only the pages that name one of its categories can share any."""
    best: tuple[str | None, float] = (None, 0.0)
    for p in (prior[at] for at in sorted(set().union(*(listing.get(cid, ()) for cid in c.categories)))):
        if p.capability != c.key[0]:
            continue
        score = max(_jaccard(c.categories, other) for other in p.lists)
        if score >= SAME_PAGE_MIN_OVERLAP and score > best[1]:
            best = (p.page_key, score)
    return best[0]


def scoped_renames(captures: list[Capture], found: Identified) -> dict[tuple, dict]:
    """capture key -> the renames that apply to it: those a version of its own page states.
    A rename has the scope of the page that states it: 征信业务 → 企业征信, stated by the
    live-streaming page in 2026, makes that page's earlier 征信业务 the same category under its
    former name, and leaves WeChat's 2017–2018 征信业务 (which covered 个人征信 too) alone."""
    per_page: dict[str, dict] = {}
    for c in sorted(captures, key=lambda c: found.order(c.key)):
        for old, new in c.states:
            per_page.setdefault(found.identity[c.key], {})[old] = new
    for page, moves in moved_renames(captures, found).items():
        for old, new in moves.items():
            per_page.setdefault(page, {}).setdefault(old, new)  # a rename the page states wins
    return {c.key: per_page[found.identity[c.key]] for c in captures if found.identity[c.key] in per_page}


def moved_renames(captures: list[Capture], found: Identified) -> dict[str, dict]:
    """page key -> old canonical path -> new, for each category a page moved into its only new
    child: from one dated version to the next, the category is gone and exactly one category
    came whose name, as written, is the old one with a level added, requiring the same
    documents. The names say they are one: on 2021-06-30 the FaceID page (1007/42684) wrote
    金融 / 基金 as 金融 / 基金 / 公募基金 (the same three licences), 公交 as 公交 / 公交公司 (营业执照).
    Like a stated rename it holds on that page only. The newest name is kept, unless the old
    category's name already names the child (the same first and last level: the reviewed alias
    table reads FaceID's 金融 / 基金 as 金融业 / 公募基金, which 金融 / 基金 / 公募基金 is), so the page
    goes on being compared with the pages that use that name. A parent that gains several
    children, or one carrying other documents, is no one category (what each transition did is
    ``versions.page_changes``)."""
    per_page: dict[str, list[Capture]] = {}
    for c in sorted(captures, key=lambda c: found.order(c.key)):
        if found.when[c.key][0] and c.carries:
            per_page.setdefault(found.identity[c.key], []).append(c)
    out: dict[str, dict] = {}
    for page, caps in per_page.items():
        later: set = set()  # what the versions after a transition state: a category back is no move
        for i in range(len(caps) - 1, 0, -1):
            for old, new in _moves_into_child(caps[i - 1], caps[i]).items():
                if old not in later:
                    names_child = len(old) < len(new) and old[0] == new[0] and old[-1] == new[-1]
                    frm, to = (new, old) if names_child else (old, new)
                    out.setdefault(page, {}).setdefault(frm, to)
            later |= {canon for canon, _, _ in caps[i].carries}
    return out


def _moves_into_child(prev: Capture, nxt: Capture) -> dict:
    """old canonical path -> new, for the categories of ``prev`` that ``nxt`` wrote as their
    only new child carrying the same documents (``moved_renames``)."""
    before = {canon for canon, _, _ in prev.carries}
    after = {canon for canon, _, _ in nxt.carries}
    cap = prev.key[0]
    out = {}
    for canon, raw, docs in prev.carries:
        if canon in after:
            continue
        children = [(c, d) for c, r, d in nxt.carries if c not in before and written_under(canon, raw, r, cap)]
        if len(children) == 1 and children[0][1] == docs:
            out[canon] = children[0][0]
    return out
