"""A category's requirement over time as a small picture: inline SVG made here, no script, for
the HTML report. One lane per page (``periods.requirement_periods``), one bar per period of
what the page required, coloured and lettered by what it required (the same letter wherever
pages agree), the legend in words beside it. Every text from a document is escaped; the same
periods give the same bytes (coordinates are rounded, nothing depends on the clock).

Bounded over any archive: at most ``MAX_LANES`` pages and ``MAX_LANE_PERIODS`` periods per page
are drawn (the rest are said in words), and the report draws at most ``MAX_TIMELINES``
categories (``timelines``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup, escape

from pipeline.core.normalize import visible
from pipeline.reconcile.periods import Period

#: categories drawn in one report; pages per picture; periods drawn per page
MAX_TIMELINES = 150
MAX_LANES = 6
MAX_LANE_PERIODS = 24
#: the picture's geometry, in pixels: the labels' column, the time axis, a lane, the column of
#: captures whose date is unknown (drawn apart: where they fall in time is not known)
LABEL_W, AXIS_W, LANE_H, UNDATED_W = 230, 520, 22, 44
#: one colour per distinct requirement (a letter too, for who cannot tell colours apart)
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Timeline:
    """One category's picture: ``svg`` (markup, escaped), and the legend: (letter, colour,
    the first period saying it) per distinct requirement, in order of first appearance."""
    capability: str
    category_id: str
    category: tuple[str, ...]
    svg: Markup
    legend: tuple[tuple[str, str, Period], ...]
    #: what is not drawn (pages and periods beyond the caps), in words; "" when all is
    omitted: str


def _day(date: str) -> int:
    return dt.date.fromisoformat(date[:10]).toordinal()


def _e(text: object) -> Markup:
    """Document text for SVG: control characters shown escaped, then XML-escaped."""
    return escape(visible("" if text is None else str(text)))


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def _where(p: Period) -> str:
    first = f"{p.first['source_file']}:{p.first['line_start']}"
    if p.captures == 1:
        return f"{first} ({p.start or 'date unknown'})"
    when = f"{p.start} → {p.end}" if p.dated else "dates unknown"
    return f"{p.captures} captures, {when}: first {first}, last {p.last['source_file']}:{p.last['line_start']}"


def lane_label(lane: str) -> str:
    """A page's short name for its lane (the whole key is its tooltip): the last two parts of
    its URL (``1007/42684``) or its title, then the table's heading, cut short."""
    page, _, part = lane.partition(" / ")
    name = page.split(":", 1)[-1]
    if "://" in name:
        name = "/".join(name.split("://", 1)[1].rstrip("/").split("/")[-2:])
    return _short(name, 24) + (f" · {_short(part, 12)}" if part else "")


def _scale(lanes: list[tuple[str, list[Period]]]):
    """x of a date on the axis (the first and last dated capture of every lane drawn)."""
    days = [_day(d) for _, ps in lanes for p in ps if p.dated for d in (p.start, p.end)]
    lo, hi = (min(days), max(days)) if days else (None, None)
    span = max(hi - lo, 1) if days else 1
    x0 = LABEL_W + UNDATED_W

    def x(date: str) -> float:
        return round(x0 + (_day(date) - lo) * AXIS_W / span, 1)

    return x, lo, hi


def _bars(y: int, ps: list[Period], x, letter: dict[str, str]) -> list[str]:
    """A lane's bars: each period from its first capture to the next period's (the last one
    to its own last capture), at least 6 px wide; undated periods in the undated column."""
    out = []
    dated = [p for p in ps if p.dated]
    undated = [p for p in ps if not p.dated]
    for i, p in enumerate(undated):
        w = (UNDATED_W - 8) / len(undated)
        out.append(_bar(LABEL_W + 4 + i * w, y, w, p, letter))
    for i, p in enumerate(dated):
        x1 = x(p.start)
        x2 = x(dated[i + 1].start) if i + 1 < len(dated) else x(p.end)
        out.append(_bar(x1, y, max(x2 - x1, 6.0), p, letter))
    return out


def _bar(x1: float, y: int, w: float, p: Period, letter: dict[str, str]) -> str:
    ch = letter[p.value]
    colour = COLOURS[LETTERS.index(ch) % len(COLOURS)]
    label = f'<text x="{x1 + w / 2:.1f}" y="{y + 15}" text-anchor="middle">{ch}</text>' if w >= 12 else ""
    return (f'<g><title>{_e(ch + ": " + _where(p))}</title>'
            f'<rect x="{x1:.1f}" y="{y + 3}" width="{w:.1f}" height="{LANE_H - 6}" rx="3" fill="{colour}"/>'
            f'{label}</g>')


def _axis(height: int, lo: int | None, hi: int | None, x) -> list[str]:
    """Dates along the bottom: January 1st of each year in the span, or the first day of each
    quarter where the span is short; and the column of undated captures."""
    out = [f'<text x="{LABEL_W + UNDATED_W / 2:.1f}" y="{height - 4}" text-anchor="middle" '
           f'class="muted">undated</text>']
    if lo is None:  # (no capture has a date)
        return out
    first, last = dt.date.fromordinal(lo), dt.date.fromordinal(hi)
    if last.year - first.year >= 2:
        ticks = [dt.date(y, 1, 1) for y in range(first.year + 1, last.year + 1)]
        ticks = ticks[::-(-len(ticks) // 12)]  # (a span of decades: every few years)
    else:
        ticks = [dt.date(y, m, 1) for y in range(first.year, last.year + 1) for m in (1, 4, 7, 10)]
    for day in (t for t in ticks if lo < t.toordinal() <= hi):
        at = x(day.isoformat())
        label = str(day.year) if last.year - first.year >= 2 else day.isoformat()[:7]
        out.append(f'<line x1="{at}" y1="0" x2="{at}" y2="{height - 16}" class="tick"/>'
                   f'<text x="{at}" y="{height - 4}" text-anchor="middle">{label}</text>')
    return out


def draw(capability: str, category_id: str, category, lanes: list[tuple[str, list[Period]]]) -> Timeline:
    """The picture of one category's requirement over time (``lanes``: per page, its periods,
    as ``periods.requirement_periods`` gives them)."""
    letter: dict[str, str] = {}
    legend = []
    for _, ps in lanes:
        for p in ps:
            if p.value not in letter:
                letter[p.value] = LETTERS[len(letter) % len(LETTERS)]
                ch = letter[p.value]
                legend.append((ch, COLOURS[LETTERS.index(ch) % len(COLOURS)], p))
    shown = [(lane, ps[:MAX_LANE_PERIODS]) for lane, ps in lanes[:MAX_LANES]]
    omitted = []
    if len(lanes) > MAX_LANES:
        omitted.append(f"{len(lanes) - MAX_LANES} more pages not drawn")
    cut = sum(len(ps) - MAX_LANE_PERIODS for _, ps in lanes[:MAX_LANES] if len(ps) > MAX_LANE_PERIODS)
    if cut:
        omitted.append(f"{cut} later periods not drawn")
    x, lo, hi = _scale(shown)
    height = len(shown) * LANE_H + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{LABEL_W + UNDATED_W + AXIS_W + 20}" '
             f'height="{height}" role="img" aria-label="{_e(" / ".join(category))}: requirement over time">']
    for i, (lane, ps) in enumerate(shown):
        y = i * LANE_H
        parts.append(f'<g class="lane"><title>{_e(lane)}</title><text x="0" y="{y + 15}">{_e(lane_label(lane))}</text></g>')
        parts += _bars(y, ps, x, letter)
    parts += _axis(height, lo, hi, x)
    parts.append("</svg>")
    return Timeline(capability, category_id, tuple(category), Markup("".join(parts)), tuple(legend),
                    "; ".join(omitted))


def worth_drawing(lanes: list[tuple[str, list[Period]]]) -> bool:
    """Something to see: the requirement changed over time, or several pages state it."""
    return len(lanes) > 1 or any(len(ps) > 1 for _, ps in lanes)


def timelines(by_category: dict, names: dict[tuple[str, str], list[str]],
              first: frozenset = frozenset()) -> tuple[list[Timeline], int, int]:
    """The pictures of the categories worth drawing (``worth_drawing``), those in ``first``
    (a decision waits on them) first, each group by category name then capability, at most
    ``MAX_TIMELINES``; how many more were worth drawing, and how many categories said the same
    in every capture of their one page (not drawn). ``by_category``:
    ``periods.requirement_periods``; ``names``: each category's path."""
    worth = sorted((k not in first, tuple(names.get(k) or ()), k[0], k[1])
                   for k, lanes in by_category.items() if worth_drawing(lanes))
    drawn = [draw(cap, cid, name, by_category[(cap, cid)]) for _, name, cap, cid in worth[:MAX_TIMELINES]]
    return drawn, len(worth) - len(drawn), len(by_category) - len(worth)
