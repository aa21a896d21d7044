"""The current requirement per capability and category (``pipeline.reconcile.current``, the ``current``
table) and ``show`` answering with it first."""
import json
import subprocess
import sys
from pathlib import Path

from conftest import read_table
from test_reconcile import row

from pipeline import reconcile
from pipeline.core.records import rows_of_records
from pipeline.reconcile.review import Decision

ROOT = Path(__file__).resolve().parent.parent
FUND = ["金融业", "公募基金"]


def current(rows, sources=None, decisions=()):
    rows = rows_of_records(reconcile.apply_stated_renames(rows))
    out = reconcile.reconcile_rows(rows, list(decisions), set(), "review/decisions.toml", sources=sources)
    return {(r["capability"], tuple(r["category"])): r for r in out["current"]}, out["conflicts"]


def _source(file, truncated=None):
    return {"source_sha256": f"sha-{file}", "source_file": file, "url": None, "captured": None, "captures": [],
            "truncated": truncated}


def test_an_older_list_of_another_shape_never_completes_a_newer_declaration():
    """A newer capture declares a rule and lost its list: an older list is taken only where it fits
    (same rule, as many entries as the count declared); otherwise it is the last complete list,
    with its own rule and source, and today's list is unknown."""
    rows = [row(FUND, file="b", of=3, options=3, documents=tuple("ABC"), date="2024-08-29"),
            row(FUND, file="c", of=5, options=0, documents=(), items=[], items_missing=True, date="2026-02-11")]
    got, _ = current(rows)
    r = got[("live_streaming", tuple(FUND))]
    (s,) = r["statements"]
    assert (s["rule"], s["of"], s["items"], s["items_source"]) == ("any", 5, [], None) and s["items_missing"]
    assert s["last_list"]["of"] == 3 and s["last_list"]["documents"] == list("ABC")
    assert s["last_list"]["source"] == {"source_file": "b", "line": 1, "date": "2024-08-29"}
    assert r["status"] in ("list_lost", "open_conflict")
    from pipeline.present.words import list_words
    assert "another shape" in list_words(s) and "today's list is unknown" in list_words(s)


def test_fits_needs_the_same_rule_and_the_declared_count_listed():
    from pipeline.reconcile.statements import fits

    def rule(rule, of=None, options=None):
        return {"rule": rule, "of": of, "options": options}
    assert fits(rule("any", 5), rule("any", 5, 5)) and fits(rule("any", None), rule("any", 3, 3))
    assert not fits(rule("any", 5), rule("any", 3, 3))  # 公募基金: 5选1 declared, 3 listed before
    assert not fits(rule("all"), rule("any", 2, 2))  # 企业征信: 需同时提供 declared, (2选1) before
    assert fits(rule("all"), rule("all")) and fits(rule("unknown"), rule("any", 2, 2))


def test_a_lost_list_comes_from_the_newest_capture_that_lists_it():
    rows = [row(FUND, file="a", of=5, options=5, documents=tuple("ABCDE"), date="2023-01-01"),
            row(FUND, file="b", of=5, options=5, documents=tuple("ABCDF"), date="2024-08-29"),
            row(FUND, file="c", of=5, options=0, documents=(), items=[], items_missing=True, date="2026-02-11")]
    got, _ = current(rows)
    r = got[("live_streaming", tuple(FUND))]
    (s,) = r["statements"]
    assert (s["rule"], s["pick"], s["of"]) == ("any", 1, 5)
    assert s["rule_source"] == {"source_file": "c", "line": 1, "date": "2026-02-11"}
    assert s["items_source"] == {"source_file": "b", "line": 1, "date": "2024-08-29"}  # b, not the older a
    assert s["documents"] == list("ABCDF") and not s["items_missing"]
    # the only conflict is the gap itself (and what b changed of a, decided below)
    assert r["status"] in ("list_from_older_capture", "open_conflict")


def test_status_list_from_older_capture_when_nothing_else_is_open():
    rows = [row(FUND, file="b", of=5, options=5, documents=tuple("ABCDE"), date="2024-08-29"),
            row(FUND, file="c", of=5, options=0, documents=(), items=[], items_missing=True, date="2026-02-11")]
    got, conflicts = current(rows)
    assert {c["status"] for c in conflicts} <= {"gap"}
    assert got[("live_streaming", tuple(FUND))]["status"] == "list_from_older_capture"


def test_a_list_no_capture_has_is_lost_not_empty():
    rows = [row(FUND, file="c", of=5, options=0, documents=(), items=[], items_missing=True, date="2026-02-11")]
    got, _ = current(rows)
    r = got[("live_streaming", tuple(FUND))]
    assert r["status"] == "list_lost"
    (s,) = r["statements"]
    assert s["items_missing"] and s["items_source"] is None and s["items"] == []


def test_an_unchanged_requirement_is_current_and_its_parts_from_one_capture():
    rows = [row(FUND, file="a", date="2024-01-01"), row(FUND, file="b", date="2025-01-01")]
    got, _ = current(rows)
    r = got[("live_streaming", tuple(FUND))]
    assert r["status"] == "current" and r["conflicts"] == []
    (s,) = r["statements"]
    assert s["rule_source"] == s["items_source"] == {"source_file": "b", "line": 1, "date": "2025-01-01"}


def test_pages_that_disagree_are_both_stated_and_open():
    rows = [row(FUND, file="p1", page="页一", of=3, options=3, documents=tuple("ABC")),
            row(FUND, file="p2", page="页二", of=4, options=4, documents=tuple("ABCD"))]
    got, _ = current(rows)
    r = got[("live_streaming", tuple(FUND))]
    assert r["status"] == "open_conflict"
    assert sorted(s["of"] for s in r["statements"]) == [3, 4]
    assert {c["kind"] for c in r["conflicts"]} >= {"count_differs"}
    assert all(c["summary"] and c["relation"] == "page" for c in r["conflicts"])


def test_a_decided_conflict_says_who_decided_what():
    rows = [row(FUND, file="a", of=3, options=3, documents=tuple("ABC"), date="2024-01-01"),
            row(FUND, file="b", of=3, options=3, documents=tuple("ABD"), date="2025-01-01")]
    _, conflicts = current(rows)
    (c,) = [c for c in conflicts if c["status"] == "open"]
    d = Decision(c["id"], "follow newest", "confirmed with Tencent", "Li Wei", "2026-11-20", c["values_hash"], 3)
    got, _ = current(rows, decisions=[d])
    r = got[("live_streaming", tuple(FUND))]
    assert r["status"] == "decided"
    assert r["decisions"] == [{"conflict": c["id"], "decision": "follow newest", "reason": "confirmed with Tencent",
                               "reviewer": "Li Wei", "date": "2026-11-20", "status": "applied"}]


def test_a_capture_cut_short_removes_nothing_from_the_current_view():
    bank = ["金融业", "银行"]
    rows = [row(FUND, file="a", date="2024-01-01", line=1), row(bank, file="a", date="2024-01-01", line=2),
            row(FUND, file="b", date="2025-01-01", line=1)]
    got, _ = current(rows, sources=[_source("a"), _source("b", truncated="ends inside a table")])
    r = got[("live_streaming", tuple(bank))]
    (s,) = r["statements"]
    assert s["rule_source"]["source_file"] == "a"
    assert "cut short" in s["note"] and "b" in s["note"]
    # and a complete newest capture does remove it
    got, _ = current(rows, sources=[_source("a"), _source("b")])
    assert ("live_streaming", tuple(bank)) not in got


def test_the_seeds_current_fund_requirement(fresh_build):
    """002 (2026-02-11) declares 5选1 and lost its list; the newest capture listing it is 004
    (2024-08-29), with three documents declared 3选1: another shape, so it is the last complete
    list, shown with its own rule, and today's list is unknown (issue 28: never one answer made
    of two shapes). The face-verification pages (000, 003) differ."""
    result, out = fresh_build
    ds = out / "datasets" / result.version
    rows = {(r["capability"], tuple(r["category"])): r for r in read_table(ds, "current")}
    live = rows[("live_streaming", tuple(FUND))]
    (s,) = live["statements"]
    assert (s["of"], s["pick"], s["rule_source"]["date"]) == (5, 1, "2026-02-11")
    assert s["rule_source"]["source_file"].startswith("raw/002_")
    assert s["items_source"] is None and s["items_missing"] and s["documents"] == [] and s["items"] == []
    last = s["last_list"]
    assert last["source"]["source_file"].startswith("raw/004_") and last["source"]["date"] == "2024-08-29"
    assert (last["rule"], last["pick"], last["of"], last["options"]) == ("any", 1, 3, 3)
    assert last["documents"] == ["经营证券期货业务许可证", "基金托管业务许可证", "基金销售业务资格证书"]
    assert s["integration"] == "微信原生组件标签"
    face = rows[("face_verification", tuple(FUND))]
    assert face["status"] == "open_conflict" and sorted(s["of"] for s in face["statements"]) == [3, 4]
    assert any(c["relation"] == "page" and c["kind"] == "count_differs" for c in face["conflicts"])


def _show(output: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "show", *args, "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True)


def test_show_answers_in_its_first_lines(fresh_build):
    fresh_build = fresh_build[1]
    proc = _show(fresh_build, "公募基金")
    assert proc.returncode == 0, proc.stderr
    head = "\n".join(proc.stdout.splitlines()[:30])
    live = head[head.index("[live_streaming]"):]
    assert "1 of 5 (5选1), declared on 2026-02-11 (raw/002_" in live
    assert "lost its list" in live and "raw/004_" in live and "(2024-08-29)" in live
    assert "today's list is unknown" in live and "last complete list (1 of 3 (3选1)), not today's:" in live
    for doc in ("经营证券期货业务许可证", "基金托管业务许可证", "基金销售业务资格证书"):
        assert doc in live
    face = head[head.index("[face_verification]"):head.index("[live_streaming]")]
    assert "2 pages state it, and they differ" in face and "where they differ" in face
    assert "3选1" in face and "4选1" in face and "基金管理资格证书" in face


def test_show_lists_every_match_of_a_partial_name_first(fresh_build):
    fresh_build = fresh_build[1]
    proc = _show(fresh_build, "基金")
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.split("=" * 72)[0]
    assert "金融业 / 公募基金" in first and "金融业 / 私募基金" in first  # 私募基金 is not left out
    wide = _show(fresh_build, "金融")
    listing = wide.stdout.split("=" * 72)[0]
    cats = [ln for ln in listing.splitlines() if ln.startswith("  金融")]
    assert len(cats) >= 10 and len(wide.stdout.splitlines()) < 80  # a list, not 300 lines of details
    assert "name one of them (or add --all)" in wide.stdout
    every = _show(fresh_build, "金融", "--all")
    assert every.stdout.count("Current requirement:") == len(cats)


def test_show_json_carries_the_answer(fresh_build):
    fresh_build = fresh_build[1]
    proc = _show(fresh_build, "公募基金", "--json")
    d = json.loads(proc.stdout)
    (cat,) = d["categories"]
    live = next(c for c in cat["capabilities"] if c["capability"] == "live_streaming")
    assert live["answer"]["statements"][0]["last_list"]["source"]["date"] == "2024-08-29"


def test_a_statement_covering_every_child_answers_for_each_child_a_page_names():
    """政务民生 / 所有二级类目 (seed 000, face verification) answers for 政务民生 / 户政, which WeChat's
    list names: the child's row has the parent's statement, said to be the parent's, beside none
    of its own (issue 28, point 7)."""
    parent = row(["政务民生", "所有二级类目"], file="f", cap="face_verification", page="人脸核身",
                 conditions=("仅支持政府/事业单位",))
    parent.update(category=["政务民生"], covers="children")
    from pipeline.core.records import category_id
    parent["category_id"] = category_id(("政务民生",))
    child = row(["政务民生", "户政"], file="w", cap="category_list", page="服务类目")
    got, _ = current([parent, child])
    answer = got[("face_verification", ("政务民生", "户政"))]
    (s,) = answer["statements"]
    assert s["covers"] == "from_parent" and "政务民生" in s["note"] and s["conditions"] == ["仅支持政府/事业单位"]
    assert s["rule_source"]["source_file"] == "f"
    assert got[("face_verification", ("政务民生",))]["statements"][0]["covers"] == "children"
    # the child's own capability is untouched
    (own,) = got[("category_list", ("政务民生", "户政"))]["statements"]
    assert own["covers"] is None and own["rule_source"]["source_file"] == "w"
