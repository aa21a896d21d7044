"""Reconciliation tells the truth about pages and dates: which page a capture is a version of,
in which order its versions came, and in which version a category was added or removed.

Each point is checked on the real files it came from (the seeds, ../shared/corpus and
../shared/tencent-history, read in place), with what is expected read from their metadata and
their records, not typed in, except the counts the issue states."""
import json
import re
import shutil
import tomllib

import pytest

from conftest import ROOT, SHARED, read_table
from pipeline import reconcile
from pipeline.build import run_build
from pipeline.core.errors import ParseError
from pipeline.store import list_raw

CORPUS = SHARED / "corpus"
HISTORY = SHARED / "tencent-history"
needs_shared = pytest.mark.skipif(not (CORPUS.is_dir() and HISTORY.is_dir()),
                                  reason="../shared/corpus or ../shared/tencent-history not present")

FACEID = "face_verification:https://cloud.tencent.com/document/product/1007/42684"
LIVE = "live_streaming:https://cloud.tencent.com/document/product/1078/43316"
WECHAT = "category_list:https://developers.weixin.qq.com/miniprogram/product/material.html"


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    """The seeds, the corpus and the Tencent Cloud history in one build."""
    if not (CORPUS.is_dir() and HISTORY.is_dir()):
        pytest.skip("../shared/corpus or ../shared/tencent-history not present")
    base = tmp_path_factory.mktemp("everything")
    shutil.copytree(ROOT / "raw", base / "raw")
    result = run_build([base / "raw", CORPUS, HISTORY], base / "output", decisions=base / "none.toml")
    ds = base / "output" / "datasets" / result.version
    tables = {t: read_table(ds, t) for t in ("requirements", "sources", "pages", "conflicts")}
    tables["page"] = {p["page_key"]: p for p in tables["pages"]}
    return tables


def _categories(tables, file: str) -> set[str]:
    return {r["category_id"] for r in tables["requirements"] if r["source_file"] == file}


def _version(page: dict, file: str) -> dict:
    return next(v for v in page["versions"] if v["source_file"] == file)


def _said_of(tables, kind: str, page: str, category: list[str]) -> list[str]:
    return [v["value"] for c in tables["conflicts"] if c["kind"] == kind and c["page"] == page
            and c["category"] == category for v in c["values"]]


# --- pages ------------------------------------------------------------------------------

@needs_shared
def test_a_page_retitled_at_one_url_is_one_page_and_its_retitling_is_reported(everything):
    """特殊行业所需资质材料 → 小程序开放的服务类目 on 2018-09-11, same URL: one page, so its changes
    are versions of it (never "different pages disagree"), and the categories added and removed
    on that date are reported: 211 and 11 as the issue counts them, 210 and 10 since 时政信息 →
    时政信息 / 时政信息 is one category (a move into its only child, issue 28 point 3)."""
    page = everything["page"][WECHAT]
    old, new = (f"corpus/wechat-miniprogram-service-categories/{f}" for f in
                ("2018-07-30_16e7d94b.md", "2018-09-11_75c679bd.md"))
    before, after = _categories(everything, old), _categories(everything, new)
    v = _version(page, new)
    assert v["compared_with"] == old
    assert (len(after - before), len(before - after)) == (210, 10)
    # two of them are one category respelt, most likely (a rename candidate, below): 201 + 2, 5 + 2;
    # four moves: 打车（网约车） into its 4 sub-categories, 小说 into 2, 医疗器械经营、销售 → 医疗器械销售
    # (nearly the same documents), and 时政信息 into its only child: 7 come, 3 gone
    assert (v["added"], v["removed"], v["renamed"], v["moved"]) == (201, 5, 2, 4)
    assert (v["added"] + v["renamed"] + 7, v["removed"] + v["renamed"] + 3) == (210, 10)
    added = [c for c in everything["conflicts"] if c["kind"] == "category_added" and c["page"] == WECHAT
             and any(f"added in {new} (2018-09-11)" in x["value"] for x in c["values"])]
    assert len(added) == 201
    assert not [c for c in everything["conflicts"] if c["relation"] == "page" and c["capability"] == "category_list"]


@needs_shared
def test_untitled_and_titled_revisions_at_one_url_are_one_page(everything):
    """FaceID's 2020 revisions have no title, its 2021 ones are titled 微信原生 H5 的主体类目:
    one URL, one page; seed 000 (a capture of it without URL or title) joins it by content."""
    meta = tomllib.loads((HISTORY / "metadata.toml").read_text())
    page = everything["page"][FACEID]
    files = {v["source_file"] for v in page["versions"]}
    ours = {f"tencent-history/{f}" for f, m in meta.items() if m["url"].endswith("/1007/42684")}
    assert ours <= files and len(ours) == 11
    assert "raw/000_5e444a4c87042c42.txt" in files and "000_5e444a4c87042c42.txt has no title" in page["inferred"]
    assert not [k for k in everything["page"] if k.startswith("face_verification:untitled:raw/000")]


def test_titles_that_differ_only_in_spaces_are_one_page():
    from test_reconcile import row

    a = [row(["金融业", "银行"], file="a", page="微信原生H5的主体类目", date="2021-06-30")]
    b = [row(["金融业", "银行"], file="b", page="微信原生 H5 的主体类目", date="2021-09-02", of=3, options=3)]
    from pipeline.core.records import rows_of_records

    rows = rows_of_records(a + b)
    pages, info = reconcile.page_versions(rows)
    assert list(pages) == ["live_streaming:微信原生H5的主体类目"]
    assert info["live_streaming:微信原生H5的主体类目"]["title"] == "微信原生 H5 的主体类目"
    assert [c["relation"] for c in reconcile.records_to_conflicts(rows, pages)] == ["version"]


def test_the_same_content_under_two_urls_is_two_pages_compared_as_pages(tmp_path):
    """A page copied under another product's URL (the live-streaming page is also under
    product 454) is another page: where the copy differs, pages disagree."""
    raw = tmp_path / "raw"
    raw.mkdir()
    seed = (ROOT / "raw" / "002_ff5f8a7ab923942f.txt").read_text("utf-8")
    assert "(5选1)" in seed
    (raw / "a.txt").write_text(seed, "utf-8")
    (raw / "b.txt").write_text(seed.replace("(5选1)", "(4选1)", 1), "utf-8")
    (raw / "metadata.toml").write_text('["a.txt"]\nurl = "https://cloud.tencent.com/document/product/1078/43316"\n'
                                       '["b.txt"]\nurl = "https://cloud.tencent.com/document/product/454/43316"\n')
    result = run_build([raw], tmp_path / "out", decisions=tmp_path / "none.toml")
    ds = tmp_path / "out" / "datasets" / result.version
    pages = {p["page_key"]: p for p in read_table(ds, "pages")}
    assert sorted(pages) == ["live_streaming:https://cloud.tencent.com/document/product/1078/43316",
                             "live_streaming:https://cloud.tencent.com/document/product/454/43316"]
    conflicts = read_table(ds, "conflicts")
    assert [(c["relation"], c["kind"]) for c in conflicts if c["relation"] != "record"] == [("page", "count_differs")]


# --- dates and order ----------------------------------------------------------------------

@needs_shared
def test_versions_are_dated_by_the_page_else_by_the_capture(everything):
    meta = {**{f"corpus/{f}": m for f, m in tomllib.loads((CORPUS / "metadata.toml").read_text()).items()},
            **{f"tencent-history/{f}": m for f, m in tomllib.loads((HISTORY / "metadata.toml").read_text()).items()}}
    seen = 0
    for page in everything["pages"]:
        for v in page["versions"]:
            m = meta.get(v["source_file"])
            if m is None:
                continue
            seen += 1
            if "updated" in m:
                assert (v["date"], v["date_from"]) == (str(m["updated"]), "page"), v
            else:
                assert (v["date"], v["date_from"]) == (str(m["captured"]), "capture"), v
        dated = [(v["date"], v["captured"] or "") for v in page["versions"] if v["date"]]
        assert dated == sorted(dated), page["page_key"]
    assert seen >= 45  # every capture with a category (the others give scenarios only)


@needs_shared
def test_same_day_revisions_follow_their_capture_order_not_their_file_names(everything):
    """Two FaceID revisions of 2020-07-30: 8a6cb08097 (16:25) still lists 高速服务, 733379bf70 (16:33)
    does not. By file name 733… comes first and 高速服务 would read as added; by capture time
    (the capture manifest) it was removed."""
    manifest = {e["file"]: e["commit_date"] for e in json.loads((HISTORY / "MANIFEST.json").read_text())}
    first, second = (f"tencent-history/tencent-cloud-faceid-wechat-qualifications/2020-07-30_{h}.md"
                     for h in ("8a6cb08097", "733379bf70"))
    assert manifest[first.removeprefix("tencent-history/")] < manifest[second.removeprefix("tencent-history/")]
    assert second < first  # the file names sort the other way
    files = [v["source_file"] for v in everything["page"][FACEID]["versions"]]
    assert files.index(first) + 1 == files.index(second)
    lost = _categories(everything, first) - _categories(everything, second)
    names = {tuple(r["category"]) for r in everything["requirements"] if r["category_id"] in lost}
    assert names == {("出行与交通", "高速服务")}
    # 2020-08-19 lists it again: one revision lacking it, not a removal (issue 28, point 4)
    said = _said_of(everything, "absent_from_revision", FACEID, ["出行与交通", "高速服务"])
    assert f"in {first} (2020-07-30 16:25); absent from {second} (2020-07-30 16:33)" in said
    assert not [s for s in _said_of(everything, "category_added", FACEID, ["出行与交通", "高速服务"]) if first in s]


def test_a_capture_manifest_gives_capture_times_and_its_errors_name_their_line(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("x")
    (raw / "metadata.toml").write_text('["a.txt"]\ncaptured = "2020-07-30"\n')
    (raw / "MANIFEST.json").write_text(json.dumps([{"file": "gone.txt", "commit_date": "2020-01-01T00:00:00"},
                                                   {"file": "a.txt", "commit_date": "2020-07-30T16:25:02+08:00"}]))
    refs, skipped = list_raw([raw])
    assert [dict(r.metadata)["captured"] for r in refs] == ["2020-07-30T16:25:02+08:00"]
    assert not [s for s in skipped if "MANIFEST" in s]
    (raw / "metadata.toml").write_text('["a.txt"]\ncaptured = "2020-08-01"\n')
    assert dict(list_raw([raw])[0][0].metadata)["captured"] == "2020-08-01", "another day: the person's word stands"
    (raw / "MANIFEST.json").write_text('[\n  {"file": "a.txt"},\n  {"file": "a.txt", "commit_date": "yesterday"}\n]\n')
    with pytest.raises(ParseError) as e:
        list_raw([raw])
    assert str(e.value).startswith("raw/MANIFEST.json:3: ") and "yesterday" in str(e.value)
    (raw / "MANIFEST.json").write_text('[{"file": "a.txt",}]')
    with pytest.raises(ParseError) as e:
        list_raw([raw])
    assert str(e.value).startswith("raw/MANIFEST.json:1: not valid JSON")


# --- added and removed name the first version where it happened ----------------------------

@pytest.fixture(scope="module")
def seeds(fresh_build):
    result, output = fresh_build
    ds = output / "datasets" / result.version
    return {"conflicts": read_table(ds, "conflicts"), "requirements": read_table(ds, "requirements"),
            "pages": read_table(ds, "pages")}


def test_categories_a_dated_version_already_has_are_dated_from_it(seeds):
    """驾校平台, 音视频设备, 多方通信, 房地产营销: 004 (2024-08-29) already has them, so they are not
    "added in 002 (2026-02-11)"; what only the undated 001 has is already absent from 004."""
    reqs = seeds["requirements"]
    of = {f: {tuple(r["category"]) for r in reqs if r["source_file"] == f} for f in
          ("raw/001_c5ae0df2c7b8cf07.txt", "raw/002_ff5f8a7ab923942f.txt", "raw/004_ef2bf0700b54b804.txt")}
    s001, s002, s004 = of.values()
    assert {("教育", "驾校平台"), ("IT科技", "音视频设备"), ("IT科技", "多方通信"), ("房地产服务", "房地产营销")} <= s004 - s001
    added = {tuple(c["category"]): c for c in seeds["conflicts"] if c["kind"] == "category_added"}
    removed = {tuple(c["category"]): c for c in seeds["conflicts"] if c["kind"] == "category_removed"}
    for cat in (s004 & s002) - s001:
        said = [v["value"] for v in added[cat]["values"]]
        assert said == ["in raw/004_ef2bf0700b54b804.txt (2024-08-29), the page's first dated version; "
                        "absent from raw/001_c5ae0df2c7b8cf07.txt (date unknown)"], cat
    only_001 = s001 - s004 - s002
    assert len(only_001) == 9
    for cat in only_001:
        said = [v["value"] for v in removed[cat]["values"]]
        assert said == ["in raw/001_c5ae0df2c7b8cf07.txt (date unknown); already absent from "
                        "raw/004_ef2bf0700b54b804.txt (2024-08-29), the page's first dated version"], cat
    assert not [c for c in seeds["conflicts"] if c["kind"] in ("category_added", "category_removed")
                and any("added in raw/002" in v["value"] for v in c["values"])]


@needs_shared
def test_a_truncated_capture_is_not_a_removal(everything):
    """2020-04-15_8bc99636d6 is cut short (the parsers mark it): what it lacks of the revision
    before it is not removed, and is not added again by the revision after it."""
    cut = "tencent-history/tencent-cloud-live-category-requirements/2020-04-15_8bc99636d6.md"
    before = "tencent-history/tencent-cloud-live-category-requirements/2020-04-15_fdb773e76b.md"
    after = "tencent-history/tencent-cloud-live-category-requirements/2020-04-15_db6df489d2.md"
    source = next(s for s in everything["sources"] if s["source_file"] == cut)
    assert source["truncated"]
    lacks = _categories(everything, before) - _categories(everything, cut)
    assert lacks and lacks <= _categories(everything, after)
    page = everything["page"][LIVE]
    assert (_version(page, cut)["removed"], _version(page, after)["added"]) == (0, 0)
    assert _version(page, cut)["truncated"]
    for c in everything["conflicts"]:
        if c["kind"] in ("category_removed", "category_added") and c["category_id"] in lacks:
            assert not any(cut in v["value"] for v in c["values"]), c["summary"]


# --- names have a scope -------------------------------------------------------------------

@needs_shared
def test_a_stated_rename_holds_on_its_own_page_only(everything):
    """002 states 企业征信 (原二级名称为【征信业务】) in 2026: the earlier versions of its page
    (product/1078/43316 and seed 001) are that category under its former name; WeChat's
    2017–2018 征信业务 (个人征信 too) and the other live-streaming pages keep theirs."""
    reqs = everything["requirements"]
    pages = everything["page"]
    on_page = {v["source_file"] for v in pages[LIVE]["versions"]}
    old_name = [r for r in reqs if r["category_raw"][-1] == "征信业务"]
    assert {r["capability"] for r in old_name} == {"category_list", "live_streaming"}
    for r in old_name:
        expected = ["金融业", "企业征信"] if r["source_file"] in on_page else ["金融业", "征信业务"]
        assert r["category"] == expected, (r["source_file"], r["category"])
    assert any(r["source_file"] in on_page for r in old_name) and any(r["source_file"] not in on_page for r in old_name)


@needs_shared
def test_an_alias_holds_where_its_entry_says(everything):
    """金融业 / 基金 → 公募基金 is reviewed for the face-verification page; WeChat's list of
    2017–2018 has 基金 as one undivided category."""
    by_cap: dict[str, set] = {}
    for r in everything["requirements"]:
        if r["category_raw"][-1] == "基金":
            by_cap.setdefault(r["capability"], set()).add(tuple(r["category"]))
    assert by_cap["face_verification"] == {("金融业", "公募基金")}
    assert by_cap["category_list"] == {("金融业", "基金")}


def test_alias_entries_parse_with_and_without_a_scope():
    from pipeline.core.records import canonical_category, parse_aliases

    table = parse_aliases('[path]\n"金融业 / 基金" = { to = "金融业 / 公募基金", capability = ["face_verification"] }\n'
                          '"医疗 / 三级私立医疗机构" = "医疗 / 私立医疗机构"\n')
    assert canonical_category(("金融业", "基金"), table, "face_verification") == ("金融业", "公募基金")
    assert canonical_category(("金融业", "基金"), table, "category_list") == ("金融业", "基金")
    assert canonical_category(("医疗", "三级私立医疗机构"), table, "category_list") == ("医疗", "私立医疗机构")
    with pytest.raises(ValueError, match="needs 'to'"):
        parse_aliases('[path]\n"a / b" = { into = "c" }\n')


@needs_shared
def test_a_typo_fixed_between_versions_is_a_rename_candidate(everything):
    """医疗器械生产企业 → 医疗器械生成企业 (2018-09-11) and 公关印制刻制 → 公共印章刻制 (2018-09-21): one
    category gone and one come, a letter or two apart and requiring the same documents: a rename
    candidate for review, not a category added and another removed."""
    file = "corpus/wechat-miniprogram-service-categories/{}.md".format
    cases = [("医疗", "医疗器械生产企业", "医疗器械生成企业", file("2018-07-30_16e7d94b"), file("2018-09-11_75c679bd")),
             ("商业服务", "公关印制刻制", "公共印章刻制", file("2018-09-17_4cba2ae9"), file("2018-09-21_16df2470"))]
    candidates = [c for c in everything["conflicts"] if c["kind"] == "rename_candidate" and c["page"] == WECHAT]
    for parent, old, new, before, after in cases:
        got = [c for c in candidates if [(v["source_file"], v["value"]) for v in c["values"]]
               == [(before, f"{parent} / {old}"), (after, f"{parent} / {new}")]]
        # 2018 changes of a page whose newest version (2018-11-15) agrees: its history (issue 28, point 8)
        assert len(got) == 1 and got[0]["status"] == "history", (old, new)
        assert not [s for s in _said_of(everything, "category_added", WECHAT, [parent, new]) if f"added in {after}" in s]
        assert not [s for s in _said_of(everything, "category_removed", WECHAT, [parent, old]) if f"absent from {after}" in s]
    # one letter apart but two categories (other documents): still added and removed
    assert not [c for c in everything["conflicts"] if c["kind"] == "rename_candidate" and "私立医疗机构" in c["summary"]]


# --- what is compared: entries and conditions, not only the set of 《》 titles -------------

def _one(conflicts, kind: str, category: list[str], relation: str) -> dict:
    got = [c for c in conflicts if c["kind"] == kind and c["category"] == category and c["relation"] == relation]
    assert len(got) == 1, (kind, category, [c["kind"] for c in conflicts if c["category"] == category])
    return got[0]


def test_an_entry_without_a_title_that_disappears_is_raised(seeds):
    """培训机构: 001 and 004 require 营业执照 (or …) beside the 《民办学校办学许可证》; 002 lists only
    the licence. The 《》 titles are the same, so documents_differ cannot tell it."""
    reqs = {r["source_file"][4:7]: r for r in seeds["requirements"] if r["category"] == ["教育", "培训机构", "职业培训"]}
    assert {k: set(r["documents"]) for k, r in reqs.items()} == {k: {"民办学校办学许可证"} for k in ("001", "002", "004")}
    assert len(reqs["001"]["items"]) == len(reqs["004"]["items"]) == 2 and len(reqs["002"]["items"]) == 1
    c = _one(seeds["conflicts"], "entries_differ", ["教育", "培训机构", "职业培训"], "version")
    assert c["status"] == "open" and c["severity"] == "high"
    shown = {v["source_file"][4:7]: v["value"] for v in c["values"]}
    assert "营业执照" in shown["001"] and "营业执照" in shown["004"] and "营业执照" not in shown["002"]
    assert not [x for x in seeds["conflicts"] if x["kind"] == "documents_differ"
                and x["category"] == ["教育", "培训机构", "职业培训"]]


def test_an_alternative_reworded_around_the_same_title_and_a_condition_added_are_raised(seeds):
    """医疗 / 互联网医院: 000 requires 合作医院的《医疗机构执业许可证》与执业登记机关的审核合格文件; 003
    requires the licence alone, its scope containing 互联网诊疗, and adds that restriction."""
    rows = {r["source_file"][4:7]: r for r in seeds["requirements"] if r["category"] == ["医疗", "互联网医院"]}
    assert set(rows["000"]["documents"]) == set(rows["003"]["documents"])
    entries = _one(seeds["conflicts"], "entries_differ", ["医疗", "互联网医院"], "page")
    shown = {v["source_file"][4:7]: v["value"] for v in entries["values"]}
    assert "执业登记机关的审核合格文件" in shown["000"] and "执业登记机关的审核合格文件" not in shown["003"]
    conditions = _one(seeds["conflicts"], "conditions_differ", ["医疗", "互联网医院"], "page")
    added = set(rows["003"]["conditions"]) - set(rows["000"]["conditions"])
    assert added and all(a in conditions["summary"] for a in added)


@needs_shared
def test_a_condition_added_to_an_entry_is_raised(everything):
    """FaceID 2020-10-26: 长途客运's 《道路运输经营许可证》 now needs 经营范围需含客运."""
    c = [x for x in everything["conflicts"] if x["kind"] == "entries_differ" and (x["page"] or "").startswith(FACEID)
         and x["category"] == ["出行与交通", "长途客运"]]
    assert c and any("经营范围需含客运" in v["value"] for v in c[0]["values"])


# --- slight text differences: a glyph lost in PDF text is no change of what is required --------

ECOMMERCE = ["电商平台", "电商平台"]
WHOLE, CUT = "公司股权结构及股东", "公司股权构及股东"  # 001 (Markdown) and 004's PDF text, raw/004:266-267


def _row(tables, file: str, category: list[str]) -> dict:
    return next(r for r in tables["requirements"] if r["source_file"] == file and r["category"] == category
                and r["capability"] == "live_streaming")


def test_a_glyph_lost_in_pdf_text_is_a_slight_text_difference(seeds):
    """电商平台: 004's PDF text lost the 结 of 「公司股权结构」, the one difference of its entries from
    001's: one low conflict showing both texts, not a high entries_differ."""
    assert not [c for c in seeds["conflicts"] if c["kind"] == "entries_differ" and c["category"] == ECOMMERCE]
    c = _one(seeds["conflicts"], "text_differs_slightly", ECOMMERCE, "version")
    assert (c["severity"], c["status"], c["field"]) == ("low", "open", "entries")
    shown = {v["source_file"][4:7]: v["value"] for v in c["values"]}
    assert WHOLE in shown["001"] and CUT in shown["004"] and CUT not in shown["001"]
    assert "slight text difference" in c["summary"]


@needs_shared
def test_slight_differences_over_the_history_and_real_changes_kept(everything):
    """On the history too (1078/43316 2020-04-09 closes 「“在线数据处理与交易处理业务“」 with an opening
    quote): one slight difference; the FaceID page dropping 增值电信运营商's condition
    (经营范围含移动通信转售业务) stays a high entries_differ."""
    slight = [c for c in everything["conflicts"] if c["category"] == ECOMMERCE and c["page"] == LIVE
              and c["field"] == "entries"]
    assert [c["kind"] for c in slight] == ["text_differs_slightly"]
    shown = {v["source_file"]: v["value"] for v in slight[0]["values"]}
    assert "“在线数据处理与交易处理业务“或" in shown["tencent-history/tencent-cloud-live-category-requirements/"
                                          "2020-04-09_5c448341de.md"]
    dropped = [c for c in everything["conflicts"] if c["category"] == ["IT科技", "增值电信运营商"]
               and c["page"] and c["page"].startswith(FACEID) and c["field"] == "entries"]
    assert [(c["kind"], c["severity"]) for c in dropped] == [("entries_differ", "high")]


def _edited(row: dict, old: str, new: str) -> dict:
    """``row`` with ``old`` replaced by ``new`` once in its entries (and documents), and so with
    the content hash of what it now states."""
    from pipeline.core.records import content_hash

    text = json.dumps(row, ensure_ascii=False)
    assert text.count(old) >= 1, old
    out = json.loads(text.replace(old, new))
    return dict(out, content_hash=content_hash(out))


def _slight(a: dict, b: dict, field: str = "entries"):
    from pipeline.reconcile.values import field_value, slight_texts

    return slight_texts(field, {field_value(a, field), field_value(b, field)})


def test_a_slight_difference_never_hides_a_real_change(seeds):
    """001's real 电商平台 entries against edits of them: the lost glyph is slight; another 《》
    title, a condition dropped, a count, a numeral, a negation or a word gained never are.
    企业征信's scope, 「提供征信业务服务」 (001) and 「提供企业征信业务服务」 (002), is a real change."""
    real = _row(seeds, "raw/001_c5ae0df2c7b8cf07.txt", ECOMMERCE)
    assert _slight(real, _edited(real, WHOLE, CUT)) == {"股东追溯及其相关证明材料(如公司章程、公司股权结构及股东的有关情况)",
                                                         "股东追溯及其相关证明材料(如公司章程、公司股权构及股东的有关情况)"}
    for old, new in (("《行政许可不予受理通知书》", "《行政许可受理通知书》"),             # another title
                     ("业务发展和实施计划", "业务发展和3实施计划"),                       # a numeral
                     ("依法经营电信业务承诺书", "依法经营电信业务不承诺书"),               # a negation
                     ("相关证明材料（如公司章程", "相关证明材料原件（如公司章程")):        # a word
        assert _slight(real, _edited(real, old, new)) is None, (old, new)
    counted = json.loads(json.dumps(real))
    counted["items"][0]["group"]["pick"] = 2  # a count
    unconditioned = json.loads(json.dumps(real))
    licence = unconditioned["items"][0]["group"]["items"][0]
    assert licence["conditions"] == ["核准服务项目包含“在线数据处理与交易处理业务”或“互联网信息服务业务”"]
    licence["conditions"] = []  # a condition dropped
    assert _slight(real, counted) is None and _slight(real, unconditioned) is None
    scope = _one(seeds["conflicts"], "scope_differs", ["金融业", "企业征信"], "version")
    assert any("提供企业征信业务服务" in v["value"] for v in scope["values"])


def test_pipeline_diff_tells_a_slight_text_difference_as_the_reconciliation_does(seeds):
    """``pipeline diff`` of 001 and 004 (one rule, ``values``): 电商平台's entries changed slightly,
    both texts shown."""
    from pipeline.reconcile.diff import field_changes

    got = field_changes(_row(seeds, "raw/001_c5ae0df2c7b8cf07.txt", ECOMMERCE),
                        _row(seeds, "raw/004_ef2bf0700b54b804.txt", ECOMMERCE))
    entries = [f for f in got if f.field == "entries"]
    assert len(entries) == 1 and entries[0].slight and WHOLE in entries[0].old and CUT in entries[0].new


def test_a_second_access_method_and_notes_are_compared(seeds):
    """002 changes 电商平台's 若同时具备【社交-直播】 method, and adds notes to 证券/期货 (建议选…投资咨询)
    and 企业征信 (若涉及个人征信业务…)."""
    also = [c for c in seeds["conflicts"] if c["field"] == "integration_also" and c["category"] == ["电商平台", "电商平台"]]
    assert len(also) == 1 and also[0]["kind"] == "integration_differs" and also[0]["relation"] == "version"
    assert {v["source_file"][4:7]: v["value"] for v in also[0]["values"]}["002"] == "社交-直播: 微信原生组件标签"
    for category, said in ((["金融业", "证券/期货"], "建议选【金融业-证券/期货投资咨询】"),
                           (["金融业", "企业征信"], "需选择【金融业-个人征信】")):
        c = _one(seeds["conflicts"], "notes_differ", category, "version")
        assert any(said in v["value"] and v["source_file"].startswith("raw/002") for v in c["values"])


def test_a_sentence_moved_from_the_notes_to_the_scenario_is_no_change(seeds):
    """社交/直播: 004 and 002 carry 选择该类目后首次提交代码审核… in the scenario cell as well as in
    the notes, where 001 has it in the notes only."""
    rows = {r["source_file"][4:7]: r for r in seeds["requirements"] if r["category"] == ["社交", "直播"]
            and r["capability"] == "live_streaming"}
    assert "首次提交代码审核" in rows["004"]["scenario"] and "首次提交代码审核" not in rows["001"]["scenario"]
    assert not [c for c in seeds["conflicts"] if c["category"] == ["社交", "直播"]
                and c["kind"] in ("scenario_differs", "notes_differ")]


# --- one fact, one conflict ------------------------------------------------------------------

def test_a_page_wide_change_is_one_conflict_listing_its_categories(seeds):
    """002 switched 19 categories from 标准直播+直播标签 to 微信原生组件标签: one change, decidable in
    one step, listing every category (each one's rows in 004 and 002 say so)."""
    reqs = seeds["requirements"]
    by_file = {f: {tuple(r["category"]): r["integration"] for r in reqs if r["source_file"] == f}
               for f in ("raw/004_ef2bf0700b54b804.txt", "raw/002_ff5f8a7ab923942f.txt")}
    old, new = by_file.values()
    switched = {c for c in old.keys() & new.keys() if old[c] == "标准直播+直播标签" and new[c] == "微信原生组件标签"}
    assert len(switched) == 19
    wide = [c for c in seeds["conflicts"] if c["kind"] == "integration_differs" and c["field"] == "integration"]
    assert len(wide) == 1 and wide[0]["category_id"] is None and wide[0]["status"] == "open"
    assert {tuple(x["category"]) for x in wide[0]["categories"]} == switched
    assert "19 categories" in wide[0]["summary"] and "→ 微信原生组件标签 in raw/002_ff5f8a7ab923942f.txt" in wide[0]["summary"]


def test_a_page_wide_change_is_decided_once_and_shown_for_each_category(tmp_path):
    from pipeline.present import show

    raw_copy = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw_copy)
    out = tmp_path / "output"
    first = run_build([raw_copy], out, decisions=tmp_path / "none.toml")
    ds = out / "datasets" / first.version
    wide = next(c for c in read_table(ds, "conflicts") if c["category_id"] is None)
    (tmp_path / "d.toml").write_text(f'[[decision]]\nconflict = "{wide["id"]}"\ndecision = "follow newest"\n'
                                     f'reason = "r"\nreviewer = "x"\ndate = 2026-12-02\nvalues = "{wide["values_hash"]}"\n')
    second = run_build([raw_copy], out, decisions=tmp_path / "d.toml")
    ds = out / "datasets" / second.version
    decided = next(c for c in read_table(ds, "conflicts") if c["id"] == wide["id"])
    assert decided["status"] == "decided"
    cats = {tuple(c["category"]): c for c in read_table(ds, "categories") if c["capability"] == "live_streaming"}
    for x in wide["categories"]:
        assert wide["id"] in cats[tuple(x["category"])]["conflicts"]
    tables = {t: read_table(ds, t) for t in ("categories", "requirements", "conflicts")}
    first_covered = wide["categories"][0]["category_id"]
    before = {t: read_table(out / "datasets" / first.version, t) for t in ("categories", "requirements", "conflicts")}
    shown = [x["id"] for cap in show.describe(first_covered, before)["capabilities"] for x in cap["conflicts"]]
    assert wide["id"] in shown  # open: `show` lists it for each category it covers
    shown = [x["id"] for cap in show.describe(first_covered, tables)["capabilities"] for x in cap["conflicts"]]
    assert wide["id"] not in shown  # decided


def test_items_lost_is_not_also_a_count_mismatch(seeds):
    """保险 002:214 declares 3选1 and lists 2 with items missing: items lost, reported once."""
    at = [c for c in seeds["conflicts"] if c["category"] == ["金融业", "保险"]
          and any(v["source_file"] == "raw/002_ff5f8a7ab923942f.txt" and v["line_start"] == 214 for v in c["values"])
          and c["relation"] == "record"]
    assert [c["kind"] for c in at] == ["items_lost"]


@needs_shared
def test_a_category_listed_twice_in_one_capture_appears_once(everything):
    """FaceID 2021-09-02 lists 医疗 / 互联网医院 in both its tables (lines 20 and 68)."""
    file = "tencent-history/tencent-cloud-faceid-wechat-qualifications/2021-09-02_728af7e832.md"
    lines = sorted(r["provenance"]["line_start"] for r in everything["requirements"]
                   if r["source_file"] == file and r["category"] == ["医疗", "互联网医院"])
    assert len(lines) == 2
    for c in everything["conflicts"]:
        said = [(v["source_file"], v["value"], tuple(v["category_raw"] or ())) for v in c["values"]]
        assert len(said) == len(set(said)), c["summary"]


@needs_shared
def test_the_same_category_at_another_depth_is_compared_across_capabilities(everything):
    """FaceID 2021 writes 公募基金 as 金融 / 基金 / 公募基金, the category its 金融 / 基金 moved into
    (issue 28, point 3: one category, 金融业 / 公募基金); live streaming has 金融业 / 公募基金."""
    faceid = {tuple(r["category_raw"]): tuple(r["category"]) for r in everything["requirements"]
              if r["source_file"].endswith("2021-09-02_728af7e832.md")}
    assert faceid[("金融", "基金", "公募基金")] == ("金融业", "公募基金")
    c = [x for x in everything["conflicts"] if x["kind"] == "capability_difference" and x["field"] == "count"
         and x["category"] == ["金融业", "公募基金"]]
    assert len(c) == 1
    deeper = [v for v in c[0]["values"] if v["source_file"].endswith("2021-09-02_728af7e832.md")]
    assert deeper and len(deeper[0]["category_raw"]) == 3
    assert any(v["source_file"] == "raw/002_ff5f8a7ab923942f.txt" for v in c[0]["values"])


# --- reports ---------------------------------------------------------------------------------

def _report_md(out) -> str:
    v = (out / "LATEST").read_text().strip()
    return (out / "reports" / f"{v}.md").read_text()


def _summary(md: str) -> dict[str, int]:
    section = md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^\| ([^|]+?) \| (\d+) \|$", section, re.M)}


def _changes(md: str, title: str) -> list[str]:
    """The change rows of one source's section of a report."""
    section = md.split(f"### {title}", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    return [ln for ln in section.splitlines() if ln.startswith("| ") and not ln.startswith(("| category", "|---"))]


def _edited_002(text: str) -> str:
    """A later revision of 002: another date, a count changed, a category removed, one renamed,
    and two sections swapped. Each edit is checked to apply."""
    def edit(old: str, new: str) -> None:
        nonlocal text
        assert text.count(old) == 1, old
        text = text.replace(old, new)

    edit("最近更新时间:2026-02-11 19:22:42", "最近更新时间:2026-03-02 10:00:00")
    edit("资质要求\n(3选1):\n\n教育", "资质要求\n(4选1):\n\n教育")  # 社交 - 直播's count
    start, middle, end = (text.index(s) for s in ("电商平台 - 电商平台\n", "社交 - 直播\n", "教育\n\n在线视频课程"))
    text = text[:start] + text[middle:end] + text[start:middle] + text[end:]  # two sections swapped
    start = text.index("学历教育(学校)\n")
    text = text[:start] + text[text.index("驾校平台\n\n具备"):]  # a category removed
    edit("在线视频课程\n\n具备教育-在线视频课程类目", "在线视频教程\n\n具备教育-在线视频教程类目")  # renamed
    return text


def test_a_replaced_capture_is_compared_as_the_next_version_of_its_page(tmp_path):
    """Delete 002, add a later revision of it under another name: the report compares the new
    file with 002 and shows exactly the edits (the swapped sections change nothing), and 002's
    removal is not the removal of everything it said."""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "output"
    run_build([raw], out, decisions=tmp_path / "none.toml")
    old = raw / "002_ff5f8a7ab923942f.txt"
    (raw / "002_revised.txt").write_text(_edited_002(old.read_text("utf-8")), "utf-8")
    old.unlink()
    run_build([raw], out, decisions=tmp_path / "none.toml")
    md = _report_md(out)
    title = "raw/002_revised.txt (new version of live_streaming:类目申请资质要求)"
    rows = _changes(md, title)
    assert "compared with raw/002_ff5f8a7ab923942f.txt" in md.split(f"### {title}", 1)[1].split("\n### ", 1)[0]
    assert len(rows) == 3, rows
    assert any(r.startswith("| 社交 / 直播 | changed | count | 3选1 | 4选1 |") for r in rows)
    assert any(r.startswith("| 教育 / 学历教育（学校） | removed |") or r.startswith("| 教育 / 学历教育(学校) | removed |")
               for r in rows), rows
    assert any("renamed" in r and "在线视频课程" in r and "在线视频教程" in r for r in rows)
    assert "### raw/002_ff5f8a7ab923942f.txt (removed; its page goes on)" in md
    assert _changes(md, "raw/002_ff5f8a7ab923942f.txt (removed; its page goes on)") == []
    ds = out / "datasets" / (out / "LATEST").read_text().strip()
    page = next(p for p in read_table(ds, "pages") if p["page_key"] == "live_streaming:类目申请资质要求")
    assert page["versions"][-1]["source_file"] == "raw/002_revised.txt" and page["versions"][-1]["date"] == "2026-03-02"


def _replace_and_rebuild(tmp_path, old: str, new) -> tuple[str, str, str]:
    """Build the seeds, replace raw/``old`` by ``new`` under another name (no metadata) and build
    again: (first version, second version, the new file's name)."""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "output"
    a = run_build([raw], out, decisions=tmp_path / "none.toml").version
    (raw / old).unlink()
    name = "006_later_capture.md"
    shutil.copyfile(new, raw / name)
    b = run_build([raw], out, decisions=tmp_path / "none.toml").version
    return a, b, name


def _pipeline_diff(out, a: str, b: str) -> str:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pipeline", "diff", a, b, "--output", str(out)], cwd=out.parent,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@needs_shared
def test_a_capture_replacing_the_only_one_of_its_page_under_a_new_name_continues_the_page(tmp_path):
    """Seed 000 (FaceID 1007/42684, Markdown, no title: page ``untitled:raw/000…``) replaced by the
    page's 2020-10-26 revision under another name, no metadata: it shares 54% of 000's
    categories, so it is the page's next version under the page's key, and the report and
    ``pipeline diff`` compare it with 000 (categories added, none removed), not a page removed
    (15 categories) and one added (28)."""
    old = "000_5e444a4c87042c42.txt"
    a, b, name = _replace_and_rebuild(tmp_path, old, HISTORY / "tencent-cloud-faceid-wechat-qualifications"
                                      / "2020-10-26_2f2566f17b.md")
    out = tmp_path / "output"
    key = f"face_verification:untitled:raw/{old}"
    pages = {p["page_key"]: p for p in read_table(out / "datasets" / b, "pages")}
    assert [v["source_file"] for v in pages[key]["versions"]] == [f"raw/{name}"]
    assert not [k for k in pages if name in k] and "previous dataset version" in pages[key]["inferred"]
    cats = {v: {r["category_id"] for r in read_table(out / "datasets" / v, "requirements")
                if r["source_file"] in (f"raw/{old}", f"raw/{name}")} for v in (a, b)}
    for md in (_report_md(out), _pipeline_diff(out, a, b)):
        s = _summary(md)
        assert (s["categories removed"], s["categories added"]) == (0, len(cats[b] - cats[a])) != (0, 0)
        assert f"### raw/{name} (new version of {key})" in md and f"### raw/{old} (removed; its page goes on)" in md
        assert f"compared with raw/{old}" in md.split(f"### raw/{name}", 1)[1].split("\n### ", 1)[0]


@needs_shared
def test_an_undated_capture_replacing_another_is_compared_with_the_one_it_replaced(tmp_path):
    """Seed 001 (1078/43316, Markdown, no title, no date) replaced by the page's 2021-08-30
    revision, the same 31 categories, under another name: compared with 001, no category
    changed (it was compared with 004, the PDF export: 9 added, 4 removed, 7 changed)."""
    old = "001_c5ae0df2c7b8cf07.txt"
    a, b, name = _replace_and_rebuild(tmp_path, old, HISTORY / "tencent-cloud-live-category-requirements"
                                      / "2021-08-30_fd51fe19e1.md")
    out = tmp_path / "output"
    for md in (_report_md(out), _pipeline_diff(out, a, b)):
        s = _summary(md)
        assert [s[f"categories {k}"] for k in ("added", "removed", "renamed", "changed")] == [0, 0, 0, 0]
        section = md.split(f"### raw/{name} (new version of live_streaming:类目申请资质要求)", 1)[1].split("\n### ", 1)[0]
        assert f"compared with raw/{old}" in section and "No category changed" in section


@needs_shared
def test_captures_arriving_in_one_build_are_each_compared_with_the_one_before(tmp_path):
    """The 21 WeChat captures added to a built seeds dataset: each is compared with the capture
    before it in date order (metadata.toml), the first is its page's first version; the summary
    counts what the sources added and what is new to the dataset."""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "output"
    first = run_build([raw], out, decisions=tmp_path / "none.toml")
    second = run_build([raw, CORPUS], out, decisions=tmp_path / "none.toml")
    md = _report_md(out)
    meta = tomllib.loads((CORPUS / "metadata.toml").read_text())
    files = sorted((f for f in meta if f.startswith("wechat-miniprogram-service-categories/")),
                   key=lambda f: meta[f]["captured"])
    assert f"### corpus/{files[0]} (new source)" in md
    for before, f in zip(files, files[1:]):
        section = md.split(f"### corpus/{f} (new version of {WECHAT})", 1)[1].split("\n### ", 1)[0]
        assert f"compared with corpus/{before}, the version before it on its page" in section, f
    assert "no earlier version of its page" not in md
    old_cats = {(c["capability"], c["category_id"]) for c in read_table(out / "datasets" / first.version, "categories")}
    new_cats = {(c["capability"], c["category_id"]) for c in read_table(out / "datasets" / second.version, "categories")}
    s = _summary(md)
    assert s["categories new to the dataset"] == len(new_cats - old_cats) > 300
    assert s["categories gone from the dataset"] == len(old_cats - new_cats)
    assert s["categories added"] >= s["categories new to the dataset"]


def test_diff_gives_the_counts_and_sections_of_the_build_report(tmp_path):
    """`pipeline diff A B` and the build's report of B against A: one summary, one set of
    sections."""
    import subprocess
    import sys

    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    out = tmp_path / "output"
    a = run_build([raw], out, decisions=tmp_path / "none.toml").version
    (raw / "002_revised.txt").write_text(_edited_002((raw / "002_ff5f8a7ab923942f.txt").read_text("utf-8")), "utf-8")
    (raw / "002_ff5f8a7ab923942f.txt").unlink()
    b = run_build([raw], out, decisions=tmp_path / "none.toml").version
    proc = subprocess.run([sys.executable, "-m", "pipeline", "diff", a, b, "--output", str(out)], cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    built = _report_md(out)
    assert _summary(proc.stdout) == _summary(built) and _summary(built)["new conflicts since previous"] > 0
    sections = lambda md: re.findall(r"^#{2,3} .*$", md, re.M)
    assert sections(proc.stdout) == sections(built)
