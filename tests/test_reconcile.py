"""Reconciliation: each conflict kind, page identity, stable ids, and the must-show conflicts."""
import json

import pytest

from conftest import read_table

from pipeline import reconcile
from pipeline.core.records import canonical_category, category_id, rows_of_records


def row(cat, *, file="raw/a.txt", sha=None, page="类目申请资质要求", date="2024-01-01", cap="live_streaming",
        rule="any", pick=1, of=2, options=2, documents=("A",), integration="标准直播+直播标签", scope="范围",
        scenario="场景", items_missing=False, renamed_from=(), line=1, raw=None, conditions=(), items=None):
    raw = raw or cat
    canon = canonical_category(tuple(raw), capability=cap)
    return {"id": f"req_{file}_{line}", "source_sha256": sha or f"sha-{file}", "source_file": file, "page": page,
            "page_updated": date, "capability": cap, "category_raw": list(raw), "category": list(canon),
            "category_id": category_id(canon), "rule": rule, "pick": pick if rule == "any" else None,
            "of": of if rule == "any" else None, "options": options if rule == "any" else None,
            "declared": None, "documents": list(documents), "items_missing": items_missing,
            "integration": integration, "scope": scope, "scenario": scenario, "renamed_from": list(renamed_from),
            "conditions": list(conditions), "notes": [], "integration_also": [], "kind": "qualification",
            "covers": None, "page_part": None,
            "items": items if items is not None else [{"text": f"《{d}》", "documents": [d], "conditions": [],
                                                       "group": None, "label": None, "line": line} for d in documents],
            "provenance": {"file": file, "line_start": line, "line_end": line, "page": page}}


def conflicts(rows):
    rows = rows_of_records(reconcile.apply_stated_renames(rows))
    pages, _ = reconcile.page_versions(rows)
    return reconcile.records_to_conflicts(rows, pages)


def kinds(cs):
    return sorted((c["relation"], c["kind"]) for c in cs)


def test_no_conflict_when_versions_agree():
    assert conflicts([row(["金融业", "银行"], file="a"), row(["金融业", "银行"], file="b", date="2025-01-01")]) == []


@pytest.mark.parametrize("change,kind", [
    ({"of": 5, "options": 5}, "count_differs"),
    ({"rule": "all"}, "rule_differs"),
    ({"documents": ("A", "B")}, "documents_differ"),
    ({"integration": "微信原生组件标签"}, "integration_differs"),
    ({"scope": "另一个范围"}, "scope_differs"),
    ({"scenario": "直播带货"}, "scenario_differs"),
])
def test_each_field_change_over_time_is_a_version_conflict(change, kind):
    cs = conflicts([row(["金融业", "公募基金"], file="old"), row(["金融业", "公募基金"], file="new", date="2026-02-11", **change)])
    assert kinds(cs) == [("version", kind)]
    (c,) = cs
    assert c["status"] == "open" and c["page"] == "live_streaming:类目申请资质要求"
    assert [v["source_file"] for v in c["values"]] == ["old", "new"] and all(v["line_start"] for v in c["values"])


def test_punctuation_and_width_are_not_a_scope_change():
    cs = conflicts([row(["教育", "x"], file="a", scope="适用于(学校)服务"), row(["教育", "x"], file="b", date="2025-01-01", scope="适用于（学校）服务。")])
    assert cs == []


def test_categories_added_removed_and_stated_rename():
    old = [row(["金融业", "征信业务"], file="old", line=1), row(["金融业", "银行"], file="old", line=2)]
    new = [row(["金融业", "企业征信"], file="new", date="2026-02-11", renamed_from=("征信业务",), line=1),
           row(["金融业", "信托"], file="new", date="2026-02-11", line=2, documents=("金融许可证",))]
    cs = conflicts(old + new)
    assert kinds(cs) == [("version", "category_added"), ("version", "category_removed"), ("version", "category_renamed")]
    renamed = next(c for c in cs if c["kind"] == "category_renamed")
    assert renamed["summary"] == "renamed: 金融业 / 征信业务 → 金融业 / 企业征信"


def test_a_sibling_come_with_the_same_documents_in_place_of_one_gone_is_one_move():
    """Issue 28, point 3: 银行 gone and 信托 come under one parent, requiring the same documents,
    each the other's only match: one event naming both, neither removed nor added; a second
    candidate makes it no move."""
    old = [row(["金融业", "银行"], file="old", line=2)]
    new = [row(["金融业", "信托"], file="new", date="2026-02-11", line=2)]
    (moved,) = conflicts(old + new)
    assert moved["kind"] == "category_moved" and moved["summary"].startswith("moved: 金融业 / 银行 → 金融业 / 信托 from ")
    assert "with the same documents" in moved["summary"]
    assert {x["category"][-1] for x in moved["categories"]} == {"银行", "信托"}
    two = new + [row(["金融业", "保险"], file="new", date="2026-02-11", line=3)]
    assert kinds(conflicts(old + two)) == [("version", "category_added")] * 2 + [("version", "category_removed")]


def test_a_parent_moved_into_its_only_child_is_one_category_on_its_page_only():
    """Issue 28, point 3: 公交 → 公交 / 公交公司 with the same documents is one category on that
    page, under the newest name, and one ``category_moved`` event; another page's 公交 is left as
    it is; with other documents the child is a category of its own."""
    old = [row(["出行与交通", "公交"], file="old", line=1)]
    new = [row(["出行与交通", "公交", "公交公司"], file="new", date="2026-02-11", line=1)]
    other = [row(["出行与交通", "公交"], file="other", page="另一页", line=1)]
    rows = reconcile.apply_stated_renames(old + new + other)
    assert {(r["source_file"], tuple(r["category"])) for r in rows} == {
        ("old", ("出行与交通", "公交", "公交公司")), ("new", ("出行与交通", "公交", "公交公司")),
        ("other", ("出行与交通", "公交"))}
    assert [c["kind"] for c in conflicts(old + new) if c["relation"] == "version"] == ["category_moved"]
    changed = [row(["出行与交通", "公交", "公交公司"], file="new", date="2026-02-11", line=1, documents=("B",))]
    assert kinds(conflicts(old + changed)) == [("version", "category_added"), ("version", "category_removed")]


def test_count_mismatch_and_items_lost_are_record_problems():
    cs = conflicts([row(["金融业", "保险"], of=3, options=2),
                    row(["金融业", "银行"], of=2, options=0, documents=(), items_missing=True, line=2)])
    assert kinds(cs) == [("record", "count_mismatch"), ("record", "items_lost")]
    assert next(c for c in cs if c["kind"] == "items_lost")["status"] == "gap"


def test_lost_items_are_a_gap_not_a_document_change():
    cs = conflicts([row(["金融业", "银行"], file="a"),
                    row(["金融业", "银行"], file="b", date="2026-01-01", documents=(), options=0, items_missing=True)])
    assert kinds(cs) == [("record", "items_lost")]


def test_different_pages_and_capabilities():
    rows = [row(["金融业", "公募基金"], file="p1", page="页面一", cap="face_verification", of=3, options=3),
            row(["金融业", "公募基金"], file="p2", page="页面二", cap="face_verification", of=4, options=4),
            row(["金融业", "公募基金"], file="p3", cap="live_streaming", of=4, options=4)]
    cs = conflicts(rows)
    assert kinds(cs) == [("capability", "capability_difference"), ("page", "count_differs")]
    info = next(c for c in cs if c["relation"] == "capability")
    assert info["status"] == "info" and info["capability"] == "face_verification+live_streaming"


def test_alias_table_merges_reviewed_names_only():
    a = row(["金融", "基金"], file="f", page="页面一", cap="face_verification", of=3, options=3)
    b = row(["金融业", "公募基金"], file="g", page="页面二", cap="face_verification", of=4, options=4)
    assert a["category_id"] == b["category_id"]
    c = row(["金融业", "私募基金"], file="g", page="页面二", cap="face_verification")
    assert c["category_id"] != b["category_id"]


def test_untitled_document_joins_the_page_it_overlaps():
    titled = [row(["教育", n], file="t", line=i) for i, n in enumerate("甲乙丙丁")]
    untitled = [row(["教育", n], file="u", page=None, date=None, line=i) for i, n in enumerate("甲乙丙")]
    other = [row(["物流", n], file="o", page=None, date=None, line=i) for i, n in enumerate("戊己")]
    pages, info = reconcile.page_versions(rows_of_records(titled + untitled + other))
    assert [v.source_file for v in pages["live_streaming:类目申请资质要求"]] == ["u", "t"]
    assert "u has no title" in info["live_streaming:类目申请资质要求"]["inferred"]
    assert "live_streaming:untitled:o" in pages


def test_conflict_ids_survive_rebuilds_and_value_changes():
    a = conflicts([row(["金融业", "公募基金"], file="old"), row(["金融业", "公募基金"], file="new", date="2026-02-11", of=5, options=5)])
    b = conflicts(list(reversed([row(["金融业", "公募基金"], file="old"), row(["金融业", "公募基金"], file="new", date="2026-02-11", of=5, options=5)])))
    c = conflicts([row(["金融业", "公募基金"], file="old"), row(["金融业", "公募基金"], file="new", date="2026-02-11", of=6, options=6)])
    assert a[0]["id"] == b[0]["id"] == c[0]["id"]
    assert a[0]["values_hash"] == b[0]["values_hash"] != c[0]["values_hash"]


# --- the seeds ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed(fresh_build):
    result, output = fresh_build
    ds = output / "datasets" / result.version
    tables = {t: read_table(ds, t) for t in ("conflicts", "pages")}
    report = (output / "reports" / f"{result.version}.md").read_text()
    return tables, report


def _find(cs, kind, relation, category):
    found = [c for c in cs if c["kind"] == kind and c["relation"] == relation and c["category"] == category]
    assert len(found) == 1, (kind, relation, category)
    return found[0]


def _vals(c):
    return {(v["source_file"][4:7], v["value"]) for v in c["values"]}


def test_must_show_conflicts_on_the_seeds(seed):
    (tables, report) = seed
    cs = tables["conflicts"]
    c = _find(cs, "count_differs", "version", ["金融业", "公募基金"])
    assert _vals(c) == {("001", "3选1"), ("004", "3选1"), ("002", "5选1")}
    c = _find(cs, "count_differs", "page", ["金融业", "公募基金"])
    assert _vals(c) == {("000", "3选1"), ("003", "4选1")}
    assert next(v for v in c["values"] if v["source_file"].startswith("raw/000"))["category_raw"] == ["金融", "基金"]
    c = _find(cs, "rule_differs", "version", ["教育", "教育平台"])
    assert _vals(c) == {("001", "all"), ("004", "any"), ("002", "any")}
    c = _find(cs, "documents_differ", "page", ["金融业", "保险"])
    assert "保险中介许可证" in c["summary"] and "经营保险代理业务许可证" in c["summary"]
    c = _find(cs, "documents_differ", "version", ["金融业", "消费金融"])
    assert {v["source_file"][4:7] for v in c["values"]} == {"001", "004"}
    c = _find(cs, "documents_differ", "version", ["教育", "驾校培训"])
    assert "道路运输经营许可证" in c["summary"] and "机动车驾驶员培训备案" in c["summary"]
    # (one page-wide change since issue 18: 002 switched 19 categories, 社交/直播 among them)
    c = [c for c in cs if c["kind"] == "integration_differs" and c["field"] == "integration"
         and ["社交", "直播"] in [x["category"] for x in c["categories"]]]
    assert len(c) == 1 and {v["value"] for v in c[0]["values"] if v["category_raw"] == ["社交", "直播"]} == \
        {"标准直播+直播标签", "微信原生组件标签"}
    c = _find(cs, "category_renamed", "version", ["金融业", "企业征信"])
    assert c["summary"] == "renamed: 金融业 / 征信业务 → 金融业 / 企业征信"
    added = {tuple(c["category"]) for c in cs if c["kind"] == "category_added"}
    removed = {tuple(c["category"]) for c in cs if c["kind"] == "category_removed"}
    assert ("教育", "驾校平台") in added and ("房地产服务", "房地产营销") in added
    assert ("教育", "教育信息服务") in removed and ("工具", "视频客服") in removed
    for c in cs:
        assert all(v["source_file"] and v["line_start"] >= 1 for v in c["values"])
        assert c["id"] in report, c["id"]


def test_face_pages_do_not_merge_but_live_versions_do(seed):
    pages = {p["page_key"]: p for p in seed[0]["pages"]}
    live = pages["live_streaming:类目申请资质要求"]
    assert [v["source_file"][4:7] for v in live["versions"]] == ["001", "004", "002"]
    assert [v["current"] for v in live["versions"]] == [False, False, True]
    face = [p for k, p in pages.items() if k.startswith("face_verification")]
    files = [{v["source_file"][4:7] for v in p["versions"]} for p in face]
    assert {"000", "003"} not in files and set().union(*files) == {"000", "003"}
