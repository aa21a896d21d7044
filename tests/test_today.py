"""What bears on today (issue 28, points 4 and 8), on the real revisions of the Tencent pages
(../shared/tencent-history) with the seeds: a capture caught mid-edit is one low event naming the
right captures, and only what bears on today's answer waits for a decision; older changes are
the category's history."""
import pytest

from conftest import ROOT, SHARED

from pipeline import reconcile

HISTORY = SHARED / "tencent-history"
pytestmark = pytest.mark.skipif(not HISTORY.is_dir(), reason="../shared/tencent-history not present")
LIVE = "tencent-history/tencent-cloud-live-category-requirements/"
#: 2020-04-15: 15:17 lists the page's 31 categories, 15:55 only 电商平台 (cut short), 16:08 all again
BEFORE, CUT, AFTER = (LIVE + f for f in ("2020-04-15_fdb773e76b.md", "2020-04-15_8bc99636d6.md",
                                         "2020-04-15_db6df489d2.md"))


@pytest.fixture(scope="module")
def raws():
    from pipeline.store import read_raw

    return read_raw([ROOT / "raw", HISTORY])


def _reconcile(raws, files, cut_reads_complete=False, decisions=()):
    """The seeds' and history's ``files`` reconciled in memory; ``cut_reads_complete``: the cut
    capture's ``truncated`` cleared, as a mid-edit capture that ends cleanly reads."""
    from pipeline.build import build_tables

    tables = build_tables([r for r in raws if r.display in files or r.display.startswith(tuple(files))])
    if cut_reads_complete:
        tables["sources"] = [dict(s, truncated=None) for s in tables["sources"]]
    return reconcile.reconcile_tables(tables, list(decisions), set(), "review/decisions.toml")


def _versions(out, page_end: str) -> dict[str, dict]:
    (page,) = [p for p in out["pages"] if p["page_key"].endswith(page_end)]
    return {v["source_file"]: v for v in page["versions"]}


def test_a_capture_caught_mid_edit_is_one_low_event_naming_the_right_captures(raws):
    """Read as complete, the 15:55 capture lacks 30 of the 31 categories that 15:17 and 16:08
    list: that was 30 removals and 30 additions keeping every category open; it is one page-wide
    ``absent_from_revision`` of low severity, naming 15:55 as the capture that lacks them and
    15:17 and 16:08 as the ones that list them."""
    out = _reconcile(raws, (BEFORE, CUT, AFTER), cut_reads_complete=True)
    kinds = [c["kind"] for c in out["conflicts"] if c["relation"] == "version"]
    assert "category_removed" not in kinds and "category_added" not in kinds
    (event,) = [c for c in out["conflicts"] if c["kind"] == "absent_from_revision"]
    cut = {tuple(r["category"]) for r in out["requirements"] if r["source_file"] == CUT}
    listed = {tuple(r["category"]) for r in out["requirements"] if r["source_file"] == BEFORE}
    assert len(cut) == 1 and len(listed) == 31
    assert event["severity"] == "low" and event["category_id"] is None
    assert {tuple(c["category"]) for c in event["categories"]} == listed - cut
    assert f"absent from one revision only, {CUT} (2020-04-15 15:55)" in event["summary"]
    assert f"{BEFORE} (2020-04-15 15:17) before and {AFTER} (2020-04-15 16:08) after" in event["summary"]
    assert {v["source_file"] for v in event["values"]} == {BEFORE, AFTER}
    versions = _versions(out, "/1078/43316")
    assert (versions[CUT]["removed"], versions[CUT]["absent"], versions[AFTER]["added"]) == (0, 30, 0)
    # what the page says today is its 16:08 list, nothing open about the categories 15:55 lacked
    assert all(r["status"] == "current" for r in out["current"] if tuple(r["category"]) in listed - cut)


def test_a_removal_after_a_capture_cut_short_names_the_capture_that_listed_it(raws):
    """15:55 is cut short (``truncated``) and removes nothing; the seed raw/004 (2024-08-29) then
    lacks categories 15:17 listed. Those removals were said to be "in" 15:55, which holds only
    电商平台: they are in 15:17."""
    seed = next(r.display for r in raws if r.display.startswith("raw/004_"))
    out = _reconcile(raws, (BEFORE, CUT, seed))
    removed = [c for c in out["conflicts"] if c["kind"] == "category_removed"]
    assert removed
    for c in removed:
        assert [v["source_file"] for v in c["values"]] == [BEFORE], c["summary"]
        assert CUT not in c["summary"] and f"in {BEFORE} (2020-04-15)" in c["summary"]


def test_a_revision_lacking_one_category_is_one_event_among_its_other_changes(raws):
    """FaceID 2020-07-30 16:33 lacks 出行与交通 / 高速服务, which 16:25 and 2020-08-19 list: one
    event, not a removal and an addition."""
    face = "tencent-history/tencent-cloud-faceid-wechat-qualifications/"
    out = _reconcile(raws, (face,))
    (event,) = [c for c in out["conflicts"] if c["kind"] == "absent_from_revision"]
    assert event["category"] == ["出行与交通", "高速服务"] and event["severity"] == "low"
    assert f"{face}2020-07-30_733379bf70.md (2020-07-30 16:33) lacks it" in event["summary"]
    assert f"{face}2020-07-30_8a6cb08097.md (2020-07-30 16:25) before" in event["summary"]
    assert f"{face}2020-08-19_a5a8be0beb.md (2020-08-19 18:01) after" in event["summary"]
    membership = [c for c in out["conflicts"] if c["category_id"] == event["category_id"]
                  and c["kind"] in ("category_added", "category_removed")]
    assert not any("733379bf70" in c["summary"] for c in membership)


@pytest.fixture(scope="module")
def everything(raws):
    return _reconcile(raws, tuple(r.display for r in raws))


def test_only_what_bears_on_today_waits_for_a_decision(everything):
    """Seeds + history: a change between two 2020 revisions that later ones agree with is the
    category's history; open are the disagreements between pages stating today, and changes
    that appeared in a capture today's answer comes from (issue 28, point 8)."""
    out = everything
    today = {s[f]["source_file"] for row in out["current"] for s in row["statements"]
             for f in ("rule_source", "items_source") if s[f]}
    status = {c["id"]: c["status"] for c in out["conflicts"]}
    history = [c for c in out["conflicts"] if c["status"] == "history"]
    assert len(history) > 2 * sum(s == "open" for s in status.values())  # 77 and 33 on these files
    for c in out["conflicts"]:
        if c["status"] == "open" and c["relation"] == "version":
            assert {v["source_file"] for v in c["values"]} & today, c["summary"]
        if c["relation"] == "page":
            assert c["status"] == "open"
    # the solution-selection page stopped listing categories on 2020-04-09: its 19 removals are
    # history now that three later revisions agree, and nothing of 1078/37707 is open
    selection = [c for c in out["conflicts"] if (c["page"] or "").endswith("/1078/37707")]
    assert sum(c["kind"] == "category_removed" for c in selection) == 19
    assert {c["status"] for c in selection} == {"history"}
    # 1078/43316's changes in 2020 (notes moved, scope reworded before 2021) are history; raw/002
    # (2026-02-11) changing 公募基金 from 3选1 to 5选1 is open
    fund = [c for c in out["conflicts"] if c["category"] == ["金融业", "公募基金"] and c["kind"] == "count_differs"
            and c["relation"] == "version"]
    assert [c["status"] for c in fund] == ["open"]
    # a current row is an open conflict only for open (or stale) conflicts, never for history
    for row in out["current"]:
        open_ids = [c["id"] for c in row["conflicts"] if c["status"] in ("open", "stale")]
        assert (row["status"] == "open_conflict") == bool(open_ids), row["category"]
        assert not [c for c in row["conflicts"] if c["status"] == "history"]


def test_history_is_shown_with_its_category_and_never_fails_the_check(everything):
    from pipeline.present import export, show

    out = everything
    assert not [c for c in export.open_conflicts(out["conflicts"], "low") if c["status"] == "history"]
    (c,) = [c for c in out["conflicts"] if c["kind"] == "absent_from_revision"]
    assert c["status"] == "history"
    told = show.describe(c["category_id"], out)
    (face,) = [cap for cap in told["capabilities"] if cap["capability"] == "face_verification"]
    assert c["id"] in [x["id"] for x in face["earlier_changes"]]
    assert c["id"] not in [x["id"] for x in face["conflicts"]]
    assert "earlier changes (history" in show.to_text(told)


def test_a_decision_recorded_on_a_conflict_keeps_applying_once_it_is_history(raws, everything):
    from pipeline.reconcile.review import Decision

    c = next(c for c in everything["conflicts"] if c["status"] == "history" and c["kind"] == "category_removed")
    kept = Decision(c["id"], "follow newest", "confirmed", "Li Wei", "2026-11-20", c["values_hash"], 1)
    other = next(x for x in everything["conflicts"] if x["status"] == "history" and x["id"] != c["id"])
    changed = Decision(other["id"], "follow newest", "confirmed", "Li Wei", "2026-11-20", "0" * 16, 2)
    out = _reconcile(raws, tuple(r.display for r in raws), decisions=(kept, changed))
    got = {x["id"]: x for x in out["conflicts"]}
    assert got[c["id"]]["status"] == "decided" and got[c["id"]]["decision"]["status"] == "applied"
    # decided on other values: the decision is stale, and the conflict, superseded since, needs none
    assert got[other["id"]]["status"] == "history" and got[other["id"]]["decision"]["status"] == "stale"
    assert {r["conflict"]: r["status"] for r in out["reviews"]} == {c["id"]: "applied", other["id"]: "stale"}
