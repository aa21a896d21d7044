"""The real version history in ../shared/corpus builds, and every version yields its rows.

The corpus is public but not ours: it is read where it is, never copied into the project."""
import json
import re
import shutil

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
            ("requirements", "sources", "pages", "conflicts")}


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
            assert mine and {r["kind"] for r in mine} == {"whitelist"}
            assert {r["capability"] for r in mine} == {"live_streaming"}
            assert ["金融", "征信业务"] in [r["category_raw"] for r in mine], "listed categories are split"


def test_versions_are_ordered_and_tables_stay_apart(corpus_build):
    pages = {p["page_key"]: p for p in corpus_build["pages"]}
    part = pages["category_list:小程序开放的服务类目 / 非个人主体小程序开放的服务类目"]
    files = [v["source_file"].rsplit("/", 1)[1][:10] for v in part["versions"]]
    assert files == sorted(files) and len(files) == 8 and part["versions"][-1]["current"]
    assert "category_list:小程序开放的服务类目 / 个人主体小程序开放的服务类目" in pages
    older = next(p for k, p in pages.items() if k.startswith("category_list:untitled:"))
    assert len(older["versions"]) == 13, "2017-06 … 2018-07 captures (no title) joined by their categories"
    assert pages["live_streaming:live-player"]["versions"] != pages["live_streaming:live-pusher"]["versions"]


def test_certificate_rename_is_flagged(corpus_build):
    fund = [c for c in corpus_build["conflicts"] if c["capability"] == "category_list"
            and c["category"] == ["金融业", "公募基金"] and c["kind"] == "documents_differ"]
    assert fund and any("基金销售从业资格证书" in c["summary"] and "基金销售业务资格证书" in c["summary"] for c in fund)


def test_whitelist_pages_never_disagree_on_requirements(corpus_build):
    for c in corpus_build["conflicts"]:
        if c["kind"] not in ("category_added", "category_removed", "category_renamed"):
            assert not any("component-categories" in v["source_file"] for v in c["values"]), c["summary"]
