"""The real version history in ../shared/corpus builds, and every version yields its rows.

The corpus is public but not ours: it is read where it is, never copied into the project."""
import json
import re
import shutil
import tomllib

import pytest

from conftest import ROOT, SHARED, read_table
from pipeline.build import run_build

CORPUS = SHARED / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    shutil.copytree(ROOT / "raw", base / "raw")
    result = run_build([base / "raw", CORPUS], base / "output", decisions=base / "none.toml")
    ds = base / "output" / "datasets" / result.version
    return {t: read_table(ds, t) for t in
            ("requirements", "sources", "pages", "conflicts", "current")}


def _data_rows(path) -> int:
    """Data rows of the category tables, counted from the HTML independently of the parser."""
    text = path.read_text()
    n = 0
    for table in re.findall(r"<table>.*?</table>", text, re.S):
        head = re.search(r"<tr>(.*?)</tr>", table, re.S).group(1)
        if "级类目" in head or "级分类" in head:
            n += len(re.findall(r"<tr", table)) - 1
    return n


def test_every_corpus_file_yields_its_rows(corpus_build):
    reqs = corpus_build["requirements"]
    files = sorted(f for f in CORPUS.rglob("*.md") if f.name != "README.md")
    assert len(files) == 25
    for f in files:
        mine = [r for r in reqs if r["source_file"] == f"corpus/{f.relative_to(CORPUS).as_posix()}"]
        if "service-categories" in f.parent.name:
            assert len(mine) == _data_rows(f), f
            assert {r["capability"] for r in mine} == {"category_list"} and {r["kind"] for r in mine} == {"qualification"}
        else:
            assert mine and {r["kind"] for r in mine} == {"eligibility"}
            assert {r["capability"] for r in mine} == {"live_streaming"}
            assert ["金融", "征信业务"] in [r["category_raw"] for r in mine], "listed categories are split"


def test_versions_are_ordered_and_tables_stay_apart(corpus_build):
    """WeChat's category list is one page (one URL), retitled on 2018-09-11: its 21 captures in
    the order of their capture dates (metadata.toml, read here independently), its three
    tables of 2018-09 on (非个人主体 / 个人主体 / 海外主体) parts of it; the two component tables
    are two pages."""
    meta = tomllib.loads((CORPUS / "metadata.toml").read_text())
    pages = {p["page_key"]: p for p in corpus_build["pages"]}
    url = "https://developers.weixin.qq.com/miniprogram/product/material.html"
    page = pages[f"category_list:{url}"]
    files = [v["source_file"].removeprefix("corpus/") for v in page["versions"]]
    listed = [f for f in meta if f.startswith("wechat-miniprogram-service-categories/")]
    assert files == sorted(listed, key=lambda f: meta[f]["captured"]) and len(files) == 21
    assert [v["date"] for v in page["versions"]] == [str(meta[f]["captured"]) for f in files]
    assert {v["date_from"] for v in page["versions"]} == {"capture"} and page["versions"][-1]["current"]
    assert page["title"] == "小程序开放的服务类目" and len(page["parts"]) == 3
    assert not [k for k in pages if k.startswith("category_list:") and k != page["page_key"]]
    player = f"live_streaming:{meta['wechat-live-player-component-categories/2018-01-04_621382ab.md']['url']}"
    pusher = f"live_streaming:{meta['wechat-live-pusher-component-categories/2018-01-04_621382ab.md']['url']}"
    assert pages[player]["versions"] != pages[pusher]["versions"]


def test_certificate_rename_is_flagged(corpus_build):
    fund = [c for c in corpus_build["conflicts"] if c["capability"] == "category_list"
            and c["category"] == ["金融业", "基金"] and c["kind"] == "documents_differ"]  # (one undivided category then)
    assert fund and any("基金销售从业资格证书" in c["summary"] and "基金销售业务资格证书" in c["summary"] for c in fund)


def test_eligibility_pages_never_disagree_on_requirements(corpus_build):
    for c in corpus_build["conflicts"]:
        if c["kind"] not in ("category_added", "category_removed", "category_renamed"):
            assert not any("component-categories" in v["source_file"] for v in c["values"]), c["summary"]


def test_component_pages_name_the_native_component_method_and_the_subject_restriction(corpus_build):
    """The lead-in above each component table (``暂只针对国内主体如下类目的小程序开放…该组件权限``,
    2018-07-24 line 135 of live-player) opens the heading's component to the listed categories:
    every row is eligible for 微信原生组件标签, and ``国内主体`` restricts every row; the 2018-01-04
    lead-in (``暂只针对如下类目开放``) names no subject."""
    reqs = corpus_build["requirements"]
    for f in sorted(CORPUS.glob("wechat-live-*-component-categories/*.md")):
        lines = f.read_text().split("\n")
        (no,) = [i + 1 for i, ln in enumerate(lines) if ln.startswith("暂只针对")]
        mine = [r for r in reqs if r["source_file"] == f"corpus/{f.relative_to(CORPUS).as_posix()}"]
        assert {(r["integration"], r["integration_line"], r["integration_text"]) for r in mine} == {
            ("微信原生组件标签", no, lines[no - 1])}, f
        want = ["只针对国内主体"] if "国内主体" in lines[no - 1] else []
        assert all(r["conditions"] == want for r in mine), f


def test_a_category_only_a_component_list_names_is_eligible_only(corpus_build):
    """WeChat's live-player and live-pusher lists (2018) name 金融 / 非金融机构自营小额贷款 for the
    component tags; no live-streaming page states its documents: the answer says it is listed
    as eligible (微信原生组件标签, only for 国内主体), never "nothing required"."""
    from pipeline.present.words import rule_words

    (row,) = [r for r in corpus_build["current"] if r["capability"] == "live_streaming"
              and r["category"] == ["金融业", "非金融机构自营小额贷款"]]
    assert row["status"] == "eligibility_only" and len(row["statements"]) == 2
    for st in row["statements"]:
        assert st["kind"] == "eligibility" and st["rule"] is None and st["items"] == []
        assert st["integration"] == "微信原生组件标签" and st["conditions"] == ["只针对国内主体"]
        assert rule_words(st) == "listed as eligible for 微信原生组件标签; this page states no documents"
