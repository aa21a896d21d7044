"""output/feed.atom (issue 32, point 3): one entry per published version, read back with a real
feed parser (feedparser), made again byte for byte from the published versions, escaped, and
never half-written."""
import json
from pathlib import Path

import feedparser
import pytest

from pipeline import store
from pipeline.present import feed
from test_faults import (  # noqa: F401  (fixtures, and the autouse guard that kills what a test started)
    _cli, _no_process_outlives_its_test, _one_line_error, built, work,
)

SEED = "raw/003_3b374c8cbaf8a554.txt"


def _second_version(work: Path) -> None:
    """An edit to a seed that changes a requirement (公募基金's 4选1 becomes 2选1 on 003) and
    removes a category, built as a second version."""
    p = work / SEED
    text = p.read_text("utf-8")
    assert "4选1" in text
    p.write_text(text.replace("4选1", "2选1", 1), "utf-8")
    proc = _cli(work, "build")
    assert proc.returncode == 0, proc.stderr


def test_each_published_version_is_an_entry_a_feed_reader_reads(work):
    out = work / "output"
    _second_version(work)
    parsed = feedparser.parse((out / "feed.atom").read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    events = [e for e in store.history(out) if e.event == "built"]
    assert len(parsed.entries) == len(events) == 2
    newest, first = parsed.entries
    v1, v2 = events[0].version, events[1].version
    assert v2 in newest.title and v1 in first.title, "newest first"
    # its date is the time HISTORY records for it, and nothing else
    assert newest.updated == events[1].time.replace("Z", "+00:00")
    assert parsed.feed.updated == newest.updated
    # the link opens the version's HTML report, relative to the feed
    assert newest.link == f"reports/{v2}.html" and (out / newest.link).is_file()
    # the counts are the report's (``report.summary`` over ``reconcile.diff``)
    md = (out / "reports" / f"{v2}.md").read_text("utf-8")
    for kind in ("added", "removed", "changed"):
        n = int(next(ln for ln in md.splitlines() if ln.startswith(f"| categories {kind} |")).split("|")[2])
        assert f"categories {kind}: {n}</li>" in newest.content[0].value
        assert (f"{n} categories added" if kind == "added" else f"{n} {kind}") in newest.title
    assert f"compared with <code>{v1}</code>" in newest.content[0].value
    # the new high-severity conflict of the edit is named (公募基金's count on 003 changed)
    told = json.loads((work / ".cache" / "feed" / f"{v2}.json").read_text("utf-8"))
    assert any("公募基金" in c["name"] for c in told["high"]), told["high"]
    assert all(c["name"] in newest.content[0].value for c in told["high"])


def test_the_feed_is_made_again_byte_for_byte_from_the_published_versions(work):
    out = work / "output"
    _second_version(work)
    before = (out / "feed.atom").read_bytes()
    import shutil

    shutil.rmtree(work / ".cache" / "feed")  # what each entry tells is worked out again
    proc = _cli(work, "feed")
    assert proc.returncode == 0, proc.stderr
    assert (out / "feed.atom").read_bytes() == before
    # a base URL makes every link absolute, and the feed names itself
    proc = _cli(work, "feed", "--base-url", "https://example.org/compliance")
    assert proc.returncode == 0, proc.stderr
    parsed = feedparser.parse((out / "feed.atom").read_bytes())
    assert all(e.link.startswith("https://example.org/compliance/reports/") for e in parsed.entries)
    assert any(link.rel == "self" and link.href == "https://example.org/compliance/feed.atom"
               for link in parsed.feed.links)
    _one_line_error(_cli(work, "feed", "--base-url", "javascript:alert(1)"), "--base-url 'javascript:alert(1)'")


def test_names_from_documents_are_escaped_in_the_feed():
    hostile = '<script>alert(1)</script> & "金融业" / <b>公募基金</b>'
    told = {"previous": "v1", "counts": {"added": 1, "removed": 0, "changed": 2, "renamed": 0},
            "high": [{"id": "cfl_0000000000000001", "name": hostile + " — number of alternatives differs"}]}
    data = feed.atom([("v1", "2026-01-01T00:00:00Z", None, "a <reason> & more"),
                      ("v2", "2026-01-02T00:00:00Z", told, "")])
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    html = parsed.entries[0].content[0].value
    # shown as text by a reader: escaped once inside the entry's HTML, never markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html and "<script" not in html and "<b>" not in html
    assert "&lt;reason&gt; &amp; more" in parsed.entries[1].content[0].value
    # and the XML itself stays well-formed (lxml reads it)
    from lxml import etree

    root = etree.fromstring(data)
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 2


def test_a_build_killed_between_history_and_latest_leaves_the_feed_to_the_next(work, monkeypatch):
    """The feed is written after HISTORY names the version and before LATEST moves: a build that
    dies there has not moved LATEST, and the next build writes both (HISTORY not twice)."""
    from pipeline import build

    out = work / "output"
    before = (out / "feed.atom").read_bytes()
    latest = (out / "LATEST").read_text()

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    p = work / SEED
    p.write_text(p.read_text("utf-8").replace("4选1", "2选1", 1), "utf-8")
    monkeypatch.chdir(work)
    monkeypatch.setattr(build, "feed_bytes", dies)
    with pytest.raises(KeyboardInterrupt):
        build.run_build([Path("raw")], Path("output"))
    assert (out / "LATEST").read_text() == latest and (out / "feed.atom").read_bytes() == before
    assert not [q for q in out.iterdir() if ".tmp-" in q.name]
    monkeypatch.undo()
    proc = _cli(work, "build")
    assert proc.returncode == 0, proc.stderr
    parsed = feedparser.parse((out / "feed.atom").read_bytes())
    versions = [e.version for e in store.history(out)]
    assert len(parsed.entries) == 2 and len(versions) == len(set(versions)) == 2
    assert versions[-1] in parsed.entries[0].title and (out / "LATEST").read_text().strip() == versions[-1]


def test_an_output_built_before_the_feed_gets_one_at_the_next_build(work):
    out = work / "output"
    (out / "feed.atom").unlink()
    proc = _cli(work, "build")
    assert proc.returncode == 0, proc.stderr
    assert len(feedparser.parse((out / "feed.atom").read_bytes()).entries) == 1
