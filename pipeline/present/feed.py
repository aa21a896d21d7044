"""``output/feed.atom``: one Atom entry per published dataset version, for feed readers and
chat connectors (made with feedgen, never hand-written XML).

An entry says what the report of its version says first: how many categories were added,
removed, changed and renamed since the version LATEST was before it (``reconcile.diff``, the
one model of what changed, through ``report.summary``), the new high-severity conflicts that
wait for a decision by name, and a link to the version's HTML report. Its date is the time
``output/HISTORY`` records for the version, so the feed holds no time but those: it is made
again whole from every published version (same versions and HISTORY, same bytes).

Links: relative (``reports/<version>.html``, beside ``feed.atom`` in ``output/``) unless a base
URL is given (``PIPELINE_FEED_BASE_URL``, where ``output/`` is served): then absolute, and the
feed names itself (``rel="self"``).
"""
from __future__ import annotations

import uuid

from markupsafe import escape

from pipeline.core.normalize import visible
from pipeline.core.tables import UNRESOLVED
from pipeline.present.words import kind_text

#: what an entry counts, in this order (``report.summary``'s ``categories_…``)
COUNTS = ("added", "removed", "changed", "renamed")
#: conflicts named in one entry (the rest are counted)
MAX_NAMED = 20
#: what every entry's id and the feed's id are made from (a version name is unique to its content)
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pypi.org/project/tencent-compliance-pipeline/")


def _name(c: dict) -> str:
    """A conflict by name: its category (or for a page-wide change how many), and its kind."""
    if c.get("category"):
        what = " / ".join(c["category"])
    else:
        what = f"page-wide: {len(c.get('categories') or ())} categories of {c.get('page') or 'a page'}"
    return f"{what} — {kind_text(c['kind'])}"


def facts(data) -> dict:
    """What a version's entry tells, from its report's data (``report.ReportData``): plain JSON
    (kept in the build's cache, ``.cache/feed/``, so the feed is made again without reading
    every version)."""
    from pipeline.present.report import summary

    s = summary(data)
    high = [c for c in data.conflicts if c["severity"] == "high" and c["status"] in UNRESOLVED
            and c["id"] not in data.previous_conflict_ids]
    return {"previous": data.previous,
            "counts": {k: s[f"categories_{k}"] for k in COUNTS},
            "high": [{"id": c["id"], "name": _name(c)} for c in sorted(high, key=lambda c: (_name(c), c["id"]))]}


def title(version: str, told: dict | None) -> str:
    if told is None:
        return f"Dataset {version} published"
    n = told["counts"]
    return (f"Dataset {version}: {n['added']} categories added, {n['removed']} removed, {n['changed']} changed"
            f"{', ' + str(n['renamed']) + ' renamed' if n['renamed'] else ''}; "
            f"{len(told['high'])} new high-severity conflicts")


def content(version: str, when: str, told: dict | None, report: str, why: str = "") -> str:
    """An entry's HTML (escaped: category names are documents' text)."""
    e = lambda t: str(escape(visible(str(t))))  # noqa: E731
    out = [f"<p>Dataset <code>{e(version)}</code>, published {e(when)}"]
    if told is None:
        out[0] += f". What changed cannot be told: {e(why)}.</p>"
    else:
        prev = told["previous"]
        out[0] += f", compared with <code>{e(prev)}</code>.</p>" if prev else ", the first version.</p>"
        out.append("<ul>" + "".join(f"<li>categories {k}: {told['counts'][k]}</li>" for k in COUNTS) + "</ul>")
        high = told["high"]
        out.append(f"<p>New high-severity conflicts waiting for a decision: {len(high)}</p>")
        if high:
            items = "".join(f"<li>{e(c['name'])} (<code>{e(c['id'])}</code>)</li>" for c in high[:MAX_NAMED])
            more = f"<li>… and {len(high) - MAX_NAMED} more</li>" if len(high) > MAX_NAMED else ""
            out.append(f"<ul>{items}{more}</ul>")
    out.append(f'<p><a href="{e(report)}">Review report of {e(version)}</a></p>')
    return "".join(out)


def report_link(version: str, base_url: str | None) -> str:
    """Where an entry links: the version's HTML report, relative to ``feed.atom`` (both in
    ``output/``) or under ``base_url``."""
    return f"{base_url or ''}reports/{version}.html"


def atom(entries: list[tuple[str, str, dict | None, str]], base_url: str | None = None) -> bytes:
    """The Atom feed of ``entries`` (``(version, UTC time as output/HISTORY writes it, facts or
    None, why not)``, oldest first), newest first in the feed. ``base_url``: where ``output/``
    is served, ending in ``/`` (None: relative links)."""
    from feedgen.feed import FeedGenerator

    from pipeline import __version__

    fg = FeedGenerator()
    fg.id(f"{base_url}feed.atom" if base_url else f"urn:uuid:{uuid.uuid5(_NAMESPACE, 'feed')}")
    fg.title("Tencent compliance datasets: published versions")
    fg.subtitle("One entry per published dataset version: what changed, new high-severity conflicts, "
                "a link to its review report.")
    fg.author({"name": "tencent-compliance-pipeline"})
    fg.generator("tencent-compliance-pipeline", version=__version__)
    if base_url:
        fg.link(href=f"{base_url}feed.atom", rel="self")
    fg.link(href=base_url or "./", rel="alternate")
    fg.language("zh-CN")
    # (the feed's own time is its newest entry's: nothing here reads the clock)
    fg.updated(_time(entries[-1][1]) if entries else "1970-01-01T00:00:00+00:00")
    for version, when, told, why in entries:
        fe = fg.add_entry()  # (prepended: the newest comes first)
        fe.id(f"urn:uuid:{uuid.uuid5(_NAMESPACE, 'dataset/' + version)}")
        fe.title(visible(title(version, told)))
        fe.updated(_time(when))
        fe.published(_time(when))
        link = report_link(version, base_url)
        fe.link(href=link, rel="alternate", type="text/html")
        fe.content(content(version, when, told, link, why), type="html")
    return fg.atom_str(pretty=True)


def _time(when: str) -> str:
    """``output/HISTORY``'s ``YYYY-MM-DDTHH:MM:SSZ`` as feedgen takes it (with an offset)."""
    return when[:-1] + "+00:00" if when.endswith("Z") else when
