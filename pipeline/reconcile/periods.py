"""Values over time as periods: consecutive captures of one page that say the same thing are one
period (what was said, from, to, how many captures, the first and the last source), the one
way a run of equal values is told, for a conflict's values and for a category's requirement
over time (the report's Markdown and HTML, its timelines).

A conflict lists its values page by page, each page's in version order (``conflicts``: the
page's versions by date, then capture time; undated captures first, as ``pages.versions``
has them). A period never joins a capture whose date is unknown with a dated one: where an
undated capture falls in time is not known, so it is a period of its own kind, shown as such.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.reconcile.values import field_value
from pipeline.reconcile.versions import part_key


@dataclass(frozen=True)
class Period:
    """Consecutive captures of one page saying ``value``."""
    value: str
    page: str | None
    captures: int
    #: the first and last capture of the run: ``{source_file, source_sha256, line_start,
    #: line_end, date}`` (the same capture for a period of one)
    first: dict
    last: dict
    #: the category as the first capture writes it (a page-wide change's values cover several)
    category_raw: tuple[str, ...] = ()
    #: what the first capture requires, where the caller gives it (a timeline's legend)
    said: dict | None = None

    @property
    def start(self) -> str | None:
        return self.first.get("date")

    @property
    def end(self) -> str | None:
        return self.last.get("date")

    @property
    def dated(self) -> bool:
        return self.first.get("date") is not None


_UNSEEN = object()

_WHERE = ("source_file", "source_sha256", "line_start", "line_end", "date")


def _where(v: dict) -> dict:
    return {k: v.get(k) for k in _WHERE}


def periods(values, said=None, by_category: bool = False) -> list[Period]:
    """``values`` (a conflict's, or any ``{value, page, date, source_file, source_sha256,
    line_start, line_end, category_raw}`` in page and version order) as periods: a new one
    starts where the page or the value changes, where a capture's date is known and the
    previous one's is not (or the reverse), and where a capture comes again (a page-wide
    change lists each category's run of the page's captures one after the other; with
    ``by_category``, also where the category as written changes). ``said(value)``: what to
    keep of the first capture of each period (``Period.said``)."""
    values = list(values)
    return first_periods(values, len(values), said, by_category)[0]


def first_periods(values: list, most: int, said=None, by_category: bool = False) -> tuple[list[Period], int]:
    """The first ``most`` of ``periods(values, said, by_category)``, and how many there are:
    the others are counted, not made (a conflict over an archive has 100,000 periods, and the
    report shows a dozen)."""
    starts = _starts(values, by_category) + [len(values)]
    out = []
    for at, end in zip(starts[:most], starts[1:most + 1]):
        head = values[at]
        out.append(Period(value=head["value"], page=head.get("page"), captures=end - at, first=_where(head),
                          last=_where(values[end - 1]), category_raw=tuple(head.get("category_raw") or ()),
                          said=said(head) if said else None))
    return out, len(starts) - 1


def _starts(values: list, by_category: bool) -> list[int]:
    """Where each period of ``values`` starts (``periods``)."""
    out: list[int] = []
    seen: set = set()  # the captures since the last one that came again
    head: dict = {}
    for i, v in enumerate(values):
        capture = (v.get("source_sha256"), v.get("source_file"), v.get("line_start"))
        again = capture in seen
        if (not i or again or v["value"] != head["value"] or v.get("page") != head.get("page")
                or (v.get("date") is None) != (head.get("date") is None)
                or by_category and _other_name(v.get("category_raw") or (), head.get("category_raw") or ())):
            out.append(i)
            head = v
        if again:
            seen = set()
        seen.add(capture)
    return out


def _other_name(a, b) -> bool:
    """Two names as written (lists or tuples of levels) differ."""
    return a is not b and a != b and list(a) != list(b)


def conflict_periods(c: dict) -> list[Period]:
    """A conflict's values as periods; a page-wide change's split by category too (its values
    are each category's run of the page's captures)."""
    return periods(c["values"], by_category=c.get("category_id") is None)


def conflict_first_periods(c: dict, most: int) -> tuple[list[Period], int]:
    """The first ``most`` of ``conflict_periods(c)``, and how many there are."""
    return first_periods(c["values"], most, by_category=c.get("category_id") is None)


#: what a requirement is, for its timeline: a new period starts where one of these changes
#: (``values.field_value``, the comparison reconciliation and ``pipeline diff`` make)
REQUIREMENT_FIELDS = ("rule", "count", "documents", "conditions", "entries", "integration")
#: what a timeline's legend says of a period's requirement (its first capture's)
SAID_FIELDS = ("rule", "pick", "of", "options", "declared", "documents", "conditions", "integration",
               "items_missing", "kind")


def _lines(r) -> tuple[int, int]:
    start = getattr(r, "line_start", None)  # (a ``records.Row`` holds its lines; a record, its provenance)
    if start is None:
        return r["provenance"]["line_start"], r["provenance"]["line_end"]
    return start, r.line_end


def requirement_periods(rows, pages: list[dict]) -> dict[tuple[str, str], list[tuple[str, list[Period]]]]:
    """Each category's requirement over time: per (capability, category_id), per page (its
    part where a page holds several tables: ``page / part``), the periods of what the page's
    captures require (``REQUIREMENT_FIELDS``), in the page's version order (``pages`` table).
    Eligibility statements require nothing and are left out."""
    at = {v["source_sha256"]: (p["page_key"], i, v.get("date")) for p in pages for i, v in enumerate(p["versions"])}
    lanes: dict[tuple[str, str], dict[str, list]] = {}
    # content hash -> (value, what the legend says, the name as written, its (capability,
    # category id), its part; None for an eligibility statement): thousands of captures
    # share a few contents, and each capture's entry holds the one shared copy (on 10,000
    # documents a copy per capture was hundreds of MB); a capture's entry is a tuple, its
    # period's first and last capture made dicts only where a period starts and ends
    # (``_lane_periods``: a dict per capture was 70 MB and a third of the report's time)
    known: dict[str, tuple | None] = {}
    lanes_of: dict[tuple, str] = {}  # (page, part) -> its lane (``part_key``), made once
    for r in rows:
        sha = r["source_sha256"]
        where = at.get(sha)
        if where is None:
            continue
        h = r.get("content_hash")
        got = known.get(h, _UNSEEN) if h else _UNSEEN
        if got is _UNSEEN:
            # (everything but the capture's own fields is the content's: read once per content)
            got = None if r.get("kind", "qualification") != "qualification" else (
                repr(tuple(field_value(r, f) for f in REQUIREMENT_FIELDS)),
                {f: _plain(r.get(f)) for f in SAID_FIELDS}, tuple(r["category_raw"]),
                (r["capability"], r["category_id"]), r.get("page_part"))
            if h:
                known[h] = got
        if got is None:  # an eligibility statement
            continue
        lane = lanes_of.get((where[0], got[4]))
        if lane is None:
            lane = lanes_of[(where[0], got[4])] = part_key(where[0], got[4])
        start, end = _lines(r)
        lanes.setdefault(got[3], {}).setdefault(lane, []).append(
            (where[1], start, end, where[2], r["source_file"], sha, got))
    return {key: [(lane, _lane_periods(lane, sorted(vs, key=_in_order))) for lane, vs in sorted(by_lane.items())]
            for key, by_lane in sorted(lanes.items())}


def _in_order(entry: tuple) -> tuple:
    return entry[0], entry[1]  # (the version's place in its page, the first line)


def _lane_periods(lane: str, entries: list[tuple]) -> list[Period]:
    """``periods`` of one lane's captures (``requirement_periods``' entries, in order): the same
    rule (a new period where the value changes, where the date becomes known or unknown, where
    a capture comes again), each period's legend the first capture's (``said``)."""
    out: list[Period] = []
    seen: set = set()  # the captures since the last one that came again
    first = 0

    def where(e: tuple) -> dict:
        return {"source_file": e[4], "source_sha256": e[5], "line_start": e[1], "line_end": e[2], "date": e[3]}

    def close(upto: int) -> None:
        head, value = entries[first], entries[first][6]
        out.append(Period(value=value[0], page=lane, captures=upto - first, first=where(head),
                          last=where(entries[upto - 1]), category_raw=value[2], said=value[1]))

    for i, e in enumerate(entries):
        capture = (e[5], e[4], e[1])
        again = capture in seen
        head = entries[first]
        if i and (again or e[6][0] != head[6][0] or (e[3] is None) != (head[3] is None)):
            close(i)
            first = i
        if again:
            seen = set()
        seen.add(capture)
    if entries:
        close(len(entries))
    return out


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
