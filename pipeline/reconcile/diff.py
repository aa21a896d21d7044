"""What changed between two sets of requirement records: the diff model, no rendering.

Rows are matched by capability and canonical category id, never by position, so reordered
sections change nothing. A category present on one side only is added or removed, unless the
pair is a rename: the document states it (both sides share an id, their names differ) or a
removed and an added category say exactly the same thing (inferred, and marked so).

Two datasets are compared source by source: a file whose bytes changed against its old self; a
new file against the closest earlier version of the same page (the one sharing most identical
statements), so an edited copy shows exactly its edits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.reconcile.values import (ENTRIES_TOLD_BY, SAID_TOGETHER, display, field_value, slight_display,
                                       slight_texts)
from pipeline.core.records import canonical_category

#: fields compared, in report order
FIELDS = ("count", "options", "rule", "documents", "conditions", "entries", "integration", "integration_also",
          "scope", "scenario", "notes", "items_missing")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str
    #: documents only: titles added and removed
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: a slight text difference (``values.slight_texts``): old and new are the texts that differ
    slight: bool = False


@dataclass(frozen=True)
class CategoryChange:
    kind: str  # added | removed | renamed | changed
    capability: str
    category_id: str
    category: tuple[str, ...]
    old_name: str | None
    new_name: str | None
    old_at: str | None  # file:line
    new_at: str | None
    fields: tuple[FieldChange, ...] = ()
    inferred: bool = False


@dataclass
class Diff:
    title: str
    old_label: str
    new_label: str
    changes: list[CategoryChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: categories added by a source with no earlier version to compare with: counted, not
    #: listed (a first build of an archive would otherwise hold a change per record)
    added_only: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind) + (self.added_only if kind == "added" else 0)


def _at(row: dict) -> str:
    # (a ``records.Row`` holds its first line: its provenance would be made for it)
    start = getattr(row, "line_start", None)
    return f"{row['source_file']}:{row['provenance']['line_start'] if start is None else start}"


def _name(row: dict) -> str:
    return " / ".join(row["category_raw"])


def _value(row: dict, f: str):
    if f in ("items_missing", "options"):
        return row[f]
    return field_value(row, f) if f != "count" else (row["pick"], row["of"]) if row["rule"] == "any" else None


def _show(row: dict, f: str) -> str:
    if f == "items_missing":
        return "yes" if row["items_missing"] else "no"
    if f == "options":
        return f"{row['options']} listed" if row["options"] is not None else "(no choice)"
    if f == "count" and row["rule"] != "any":
        return "(no choice)"
    return display(row, f)


def field_changes(old: dict, new: dict) -> tuple[FieldChange, ...]:
    out = []
    for f in FIELDS:
        if _value(old, f) == _value(new, f):
            continue
        if f == "entries" and {c.field for c in out} & set(ENTRIES_TOLD_BY):
            continue  # one fact, one change: what the count, rule or documents already tell
        if f in SAID_TOGETHER and field_value(old, "said") == field_value(new, "said"):
            continue  # a sentence moved between the notes and the scenario cell
        slight = slight_texts(f, {_value(old, f), _value(new, f)} - {None})
        if slight:  # the reconciliation's rule: a character or two of a text, both texts shown
            out.append(FieldChange(f, slight_display(old, f, slight), slight_display(new, f, slight), slight=True))
        elif f == "documents":
            a, b = list(dict.fromkeys(old["documents"])), list(dict.fromkeys(new["documents"]))
            out.append(FieldChange(f, _show(old, f), _show(new, f),
                                   added=tuple(d for d in b if d not in a), removed=tuple(d for d in a if d not in b)))
        else:
            out.append(FieldChange(f, _show(old, f), _show(new, f)))
    return tuple(out)


def _signature(row: dict) -> tuple:
    return (row["capability"], row["rule"], row["pick"], row["of"], tuple(sorted(row["documents"])),
            row["integration"], field_value(row, "scope"))


def _content(row) -> str | None:
    """A row's ``content_hash`` (a ``records.Row``'s, or a published record's), None where it
    has none (a row made by hand)."""
    return row.get("content_hash")


def _compared(ra, rb, memo: dict | None) -> tuple[bool, tuple[FieldChange, ...]]:
    """Whether a category's name as written reads as another canonical path (renamed), and its
    fields changed (``field_changes``), from one row to the other. Both depend on the rows'
    contents only: two rows of one content differ in nothing, and a pair of contents is
    compared once per ``memo`` (the diffs of one report: consecutive captures of a page share
    most contents)."""
    ka, kb = _content(ra), _content(rb)
    if ka is not None and ka == kb:
        return False, ()
    key = (ka, kb) if ka is not None and kb is not None and memo is not None else None
    got = memo.get(key) if key is not None else None
    if got is None:
        renamed = (canonical_category(tuple(ra["category_raw"]), capability=ra["capability"])
                   != canonical_category(tuple(rb["category_raw"]), capability=rb["capability"]))
        got = (renamed, field_changes(ra, rb))
        if key is not None:
            memo[key] = got
    return got


def rows_to_diff(old: list[dict], new: list[dict], title: str, old_label: str, new_label: str,
                 memo: dict | None = None) -> Diff:
    """Compare two sets of requirement rows (two versions of a page, or of a source).
    ``memo``: what pairs of contents were found to differ in (``_compared``), shared by the
    diffs of one comparison."""
    a = {(r["capability"], r["category_id"]): r for r in old}
    b = {(r["capability"], r["category_id"]): r for r in new}
    d = Diff(title, old_label, new_label)
    gone = {k: a[k] for k in a.keys() - b.keys()}
    came = {k: b[k] for k in b.keys() - a.keys()}
    # a removed and an added category that say exactly the same thing: a rename, inferred
    for ka, ra in sorted(gone.items()):
        sig = _signature(ra)
        # (the same documents, or with none listed the same scope text: what says whose it is)
        telling = ra["documents"] or field_value(ra, "scope")
        match = [kb for kb, rb in sorted(came.items()) if _signature(rb) == sig and telling]
        if len(match) == 1:
            rb = came.pop(match[0])
            del gone[ka]
            old_name, new_name = _name(ra), _name(rb)
            if old_name == new_name:  # written the same: the canonical name is what moved
                old_name, new_name = " / ".join(ra["category"]), " / ".join(rb["category"])
            d.changes.append(CategoryChange("renamed", rb["capability"], rb["category_id"], tuple(rb["category"]),
                                            old_name, new_name, _at(ra), _at(rb), field_changes(ra, rb),
                                            inferred=True))
    for k in sorted(a.keys() & b.keys()):
        ra, rb = a[k], b[k]
        renamed, fields = _compared(ra, rb, memo)
        if renamed or fields:
            d.changes.append(CategoryChange("renamed" if renamed else "changed", rb["capability"], rb["category_id"],
                                            tuple(rb["category"]), _name(ra), _name(rb), _at(ra), _at(rb), fields))
    for k, r in sorted(came.items()):
        d.changes.append(CategoryChange("added", r["capability"], r["category_id"], tuple(r["category"]),
                                        None, _name(r), None, _at(r)))
    for k, r in sorted(gone.items()):
        d.changes.append(CategoryChange("removed", r["capability"], r["category_id"], tuple(r["category"]),
                                        _name(r), None, _at(r), None))
    d.changes.sort(key=lambda c: (c.category, c.capability, c.kind))
    return d


def _page_of(pages: list[dict]) -> dict[str, str]:
    """source sha256 -> page key, from a dataset's ``pages`` table."""
    return {v["source_sha256"]: p["page_key"] for p in pages for v in p["versions"]}


def _compared_with(pages: list[dict]) -> dict[str, str]:
    """source sha256 -> the file of the version it follows on its page (``pages.versions``'
    ``compared_with``: the version before it in date order; for an undated one, the page's
    first dated version)."""
    return {v["source_sha256"]: v["compared_with"] for p in pages for v in p["versions"] if v.get("compared_with")}


def datasets_to_diffs(old: dict[str, list[dict]] | None, new: dict[str, list[dict]],
                      compare_unchanged: bool = True) -> list[Diff]:
    """Source-by-source differences between two datasets (``old`` None: everything is new).

    A file whose bytes changed is compared with its old self. A new undated file (its place in
    time unknown) is compared with the version of its page that shares most statements with it.
    A new dated file is compared with the version before it on its page (``pages.versions``),
    whether that one is new in this build
    too (several captures of a page arriving at once are each compared with the one before it
    in date order) or already there; a page's first version here is compared with the page's
    newest version in ``old`` that is gone from ``new`` (a capture replaced by a newer one),
    else with the closest earlier version of its page (most identical statements); a page new
    altogether adds its categories. A file gone whose page goes on is a note, not the removal
    of everything it said.

    ``compare_unchanged``: also compare files whose bytes did not change (needed when the
    parsers or the alias table may have changed)."""
    both = _Datasets(old or {"requirements": [], "sources": [], "pages": []}, new)
    diffs: list[Diff] = []
    for name in sorted(both.new_src):
        prev, s = both.old_src.get(name), both.new_src[name]
        if prev and prev["source_sha256"] == s["source_sha256"]:
            d = both.reread(name) if compare_unchanged else None
            if d is not None:
                diffs.append(d)
        else:
            diffs.append(both.changed(name) if prev else both.added(name))
    for name in sorted(both.old_src.keys() - both.new_src.keys()):
        diffs.append(both.removed(name))
    return diffs


class _Datasets:
    """Two datasets' sources, records and pages, indexed once for ``datasets_to_diffs``."""

    def __init__(self, old: dict[str, list[dict]], new: dict[str, list[dict]]):
        self.old = old
        self.old_src = {s["source_file"]: s for s in old["sources"]}
        self.new_src = {s["source_file"]: s for s in new["sources"]}
        self.rows_old: dict[str, list[dict]] = {}
        self.rows_new: dict[str, list[dict]] = {}
        for r in old["requirements"]:
            self.rows_old.setdefault(r["source_sha256"], []).append(r)
        for r in new["requirements"]:
            self.rows_new.setdefault(r["source_sha256"], []).append(r)
        self.page_old = _page_of(old.get("pages", []))
        self.page_new = _page_of(new.get("pages", []))
        self.before = _compared_with(new.get("pages", []))
        self.undated = {v["source_sha256"] for p in new.get("pages", []) for v in p["versions"] if not v.get("date")}
        self.when = {v["source_file"]: _when(v) for p in new.get("pages", []) for v in p["versions"]}
        # versions already there and unchanged (in both datasets, same bytes): what an undated
        # new capture is compared with
        self.kept = {f: x for f, x in self.old_src.items()
                     if f in self.new_src and self.new_src[f]["source_sha256"] == x["source_sha256"]}
        self.signed: dict[str, set] = {}  # sha256 -> its statements' signatures, worked out once
        self.memo: dict = {}  # (content, content) -> how they differ (``rows_to_diff``)

    def _mine(self, name: str) -> list[dict]:
        return self.rows_new.get(self.new_src[name]["source_sha256"], [])

    def reread(self, name: str) -> Diff | None:
        """The same bytes, which the parsers or the alias table may read differently now."""
        sha = self.new_src[name]["source_sha256"]
        d = rows_to_diff(self.rows_old.get(sha, []), self._mine(name),
                         f"{name} (file unchanged; read differently by this build)", f"{name} before", f"{name} now",
                         self.memo)
        if not d.changes:
            return None
        d.notes.append("the file's bytes are the same: the parsers or the reviewed alias table changed")
        return d

    def changed(self, name: str) -> Diff:
        return rows_to_diff(self.rows_old.get(self.old_src[name]["source_sha256"], []), self._mine(name),
                            f"{name} (changed)", f"{name} as before", f"{name} now", self.memo)

    def added(self, name: str) -> Diff:
        """A file new to ``old``: compared with the version of its page it follows."""
        s, mine = self.new_src[name], self._mine(name)
        sha = s["source_sha256"]
        page = self.page_new.get(sha)
        old, old_src, new_src = self.old, self.old_src, self.new_src
        if sha in self.undated and (base := _closest(mine, page, self.page_old, self.rows_old,
                                                     self.kept | _gone(page, self.page_old, old_src, new_src),
                                                     self.signed)):
            # an undated capture's place is unknown: compared with the version already there, or
            # replaced by this build, that says most alike (seed 001 replaced by a later capture
            # of its page: that capture, not 004; a version new in this build too is not
            # searched: among thousands arriving at once that would be a search per pair)
            d = rows_to_diff(self.rows_new.get(base["source_sha256"]) or self.rows_old.get(base["source_sha256"], []),
                             mine, f"{name} (new version of {page})", base["source_file"], name, self.memo)
            d.notes.append(f"compared with {base['source_file']}: it has no date, and that version of the same "
                           f"page shares most statements with it")
            return d
        if self.before.get(sha) in new_src and not _replaced(
                page, old, old_src, new_src, after=self.when.get(self.before[sha]), until=self.when.get(name)):
            base = new_src[self.before[sha]]
            d = rows_to_diff(self.rows_new.get(base["source_sha256"], []), mine, f"{name} (new version of {page})",
                             base["source_file"], name, self.memo)
            d.notes.append(f"compared with {base['source_file']}, the version before it on its page (date order)")
            return d
        base = (_replaced(page, old, old_src, new_src, until=self.when.get(name))
                or _closest(mine, page, self.page_old, self.rows_old, old_src, self.signed))
        if base:
            d = rows_to_diff(self.rows_old.get(base["source_sha256"], []), mine, f"{name} (new version of {page})",
                             base["source_file"], name, self.memo)
            d.notes.append(f"compared with {base['source_file']}, the earlier version of the same page "
                           f"in the previous dataset")
            return d
        d = Diff(f"{name} (new source)", "(nothing)", name,
                 added_only=len({(r["capability"], r["category_id"]) for r in mine}))
        d.notes.append(f"{d.added_only} categories; the first version of its page")
        return d

    def removed(self, name: str) -> Diff:
        """A file gone: a note when its page goes on, else the removal of what it said."""
        s = self.old_src[name]
        page = self.page_old.get(s["source_sha256"])
        if page is not None and page in set(self.page_new.values()):
            d = Diff(f"{name} (removed; its page goes on)", name, "(nothing)")
            d.notes.append(f"the page {page} has other versions in this dataset: they are compared with theirs")
            return d
        return rows_to_diff(self.rows_old.get(s["source_sha256"], []), [], f"{name} (removed)", name, "(nothing)", self.memo)


def _gone(page: str | None, page_old: dict[str, str], old_src: dict, new_src: dict) -> dict[str, dict]:
    """The files of ``page`` in the old dataset that the new one no longer has (replaced)."""
    if page is None:
        return {}
    return {f: x for f, x in old_src.items() if f not in new_src and page_old.get(x["source_sha256"]) == page}


def _when(version: dict) -> tuple:
    """Where a version falls in time (``pages.versions``): its date, then its capture time."""
    return (version.get("date") or "", version.get("captured") or "")


def _replaced(page: str | None, old: dict, old_src: dict, new_src: dict, *, after: tuple | None = None,
              until: tuple | None = None) -> dict | None:
    """The newest version of ``page`` in ``old`` whose file is gone from the new dataset (a
    capture replaced by a newer one of the same page), dated after ``after`` and not after
    ``until`` when given: a replaced capture is the version before its replacement, as if the
    new one had been added beside it."""
    if page is None:
        return None
    for p in old.get("pages", []):
        if p["page_key"] == page:
            gone = [v for v in p["versions"] if v["source_file"] not in new_src and v["source_file"] in old_src
                    and (after is None or _when(v) > after) and (until is None or _when(v) <= until)]
            return old_src[gone[-1]["source_file"]] if gone else None
    return None


def _closest(mine: list[dict], page: str | None, page_old: dict[str, str], rows_old: dict[str, list[dict]],
             old_src: dict[str, dict], signed: dict[str, set] | None = None) -> dict | None:
    """The source of ``old_src`` on ``page`` (or of no known page) sharing most identical
    statements with ``mine``. ``signed`` caches each source's signatures across calls."""
    if not mine or not old_src:  # nothing to compare with (a first build): no signatures needed
        return None
    signed = {} if signed is None else signed
    sigs = {(r["category_id"],) + _signature(r) for r in mine}
    best, score = None, 0
    for s in sorted(old_src.values(), key=lambda s: s["source_file"]):
        if page is not None and page_old.get(s["source_sha256"]) not in (page, None):
            continue
        theirs = signed.get(s["source_sha256"])
        if theirs is None:
            theirs = signed[s["source_sha256"]] = {(r["category_id"],) + _signature(r)
                                                   for r in rows_old.get(s["source_sha256"], [])}
        shared = len(sigs & theirs)
        if shared > score:
            best, score = s, shared
    return best
