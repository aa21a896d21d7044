"""Category names: a cell of an eligibility list joined by 、 (parted with the names pages
stating requirements use, or kept whole), 【】 markup around a level, and a level standing for
every child of its parent (所有二级类目). The real lines are quoted where each case is from."""
import pytest

from pipeline import reconcile
from pipeline.reconcile import joined as names
from pipeline.build import build_tables
from pipeline.core.records import category_levels, category_path
from pipeline.store import RawFile
from conftest import ROOT


def _parts(cell: str, known: set[str]):
    pieces = tuple(cell.split("、"))
    runs = names.segmentation(pieces, lambda n: n in known)
    return None if runs is None else ["、".join(pieces[a:b]) for a, b in runs]


FINANCE = {"银行", "信托", "基金", "证券/期货", "证券、期货投资咨询", "保险", "征信业务", "消费金融",
           "新三板信息服务平台", "股票信息服务平台（港股/美股）"}


@pytest.mark.parametrize("cell, known, want", [
    # 1078/37707, 2020-03-23, line 37: 证券、期货投资咨询 is one WeChat category
    ("银行、信托、基金、证券/期货、证券、期货投资咨询、保险、征信业务、新三板信息服务平台、股票信息服务平台（港股/美股）、消费金融",
     FINANCE, ["银行", "信托", "基金", "证券/期货", "证券、期货投资咨询", "保险", "征信业务", "新三板信息服务平台",
               "股票信息服务平台（港股/美股）", "消费金融"]),
    # the same, where 证券 alone is also known: the grouping with fewer unknown names wins
    ("证券/期货、证券、期货投资咨询", FINANCE | {"证券"}, ["证券/期货", "证券、期货投资咨询"]),
    # an unknown name between two known ones is its own (WeChat's live-player list, 2018)
    ("基金、信托、非金融机构自营小额贷款、征信业务", FINANCE, ["基金", "信托", "非金融机构自营小额贷款", "征信业务"]),
    # two unknown neighbours may be one name: not settled
    ("银行、甲类、乙类", FINANCE, None),
    # a joined name nobody states is never made up, and the known parts then cannot settle it
    ("证券、期货投资咨询", set(), None),
    # a whole cell that is one known name stays one
    ("证券、期货投资咨询", FINANCE | {"证券"}, ["证券、期货投资咨询"]),
])
def test_a_joined_cell_is_parted_only_where_known_names_settle_it(cell, known, want):
    assert _parts(cell, known) == want


def _rows(text: str, name: str = "list.md") -> list[dict]:
    return build_tables([RawFile(f"raw/{name}", ROOT / "raw" / name, text.encode())])["requirements"]


LIST = ("# 方案选择\n\n若您的小程序已具备以下类目，可直接使用 标准直播 + 移动直播 SDK 接入小程序直播。\n\n"
        "|主类目|子类目|小程序内容场景|\n|----|----|----|\n|金融|银行、甲类、乙类|金融产品推广直播|\n")


def test_a_cell_the_build_cannot_settle_is_kept_whole_with_a_warning():
    rows = reconcile.apply_stated_renames(_rows(LIST))
    assert [r["category_raw"] for r in rows] == [["金融", "银行、甲类、乙类"]]
    assert "kept whole" in rows[0]["warnings"][-1] and rows[0]["kind"] == "eligibility"


def test_a_cell_is_parted_with_the_names_a_requirement_page_states():
    page = ("# 类目申请资质要求\n\n<table>\n<tr><th>一级类目</th><th>二级类目</th><th>资质要求</th></tr>\n"
            "<tr><td>金融</td><td>甲类</td><td>《甲证》</td></tr>\n<tr><td>金融</td><td>乙类</td><td>《乙证》</td></tr>\n"
            "</table>\n")
    rows = reconcile.apply_stated_renames(_rows(LIST) + _rows(page, "req.md"))
    listed = [r for r in rows if r["kind"] == "eligibility"]
    assert [r["category_raw"] for r in listed] == [["金融", "银行"], ["金融", "甲类"], ["金融", "乙类"]]
    assert len({r["id"] for r in listed}) == 3
    assert [r["category"] for r in listed][1:] == [["金融业", "甲类"], ["金融业", "乙类"]]


def test_brackets_around_a_level_name_are_markup():
    """「【金融】」 + 基金 is 金融 / 基金 (the canonical name 金融业 / 基金), never 【金融】."""
    assert category_levels(("【金融】", "基金")) == ("金融", "基金")
    assert category_path(category_levels(("【金融】", "基金")), "live_streaming") == (("金融业", "基金"), None)
    rows = _rows("# 小程序直播\n\n<table>\n<tr><th>一级类目</th><th>二级类目</th><th>资质要求</th></tr>\n"
                 "<tr><td>【金融】</td><td>基金</td><td>《基金销售业务资格证书》</td></tr>\n</table>\n")
    assert rows[0]["category_raw"] == ["金融", "基金"] and rows[0]["category"] == ["金融业", "基金"]
    # a 【】 inside a name is not markup around it
    assert category_levels(("教育", "【教育】类目下所有二级类目")) == ("教育", "【教育】类目下所有二级类目")


def test_every_child_of_a_parent_is_published_as_covering_that_parent():
    """Seed 000, 政务民生 | 所有二级类目: the statement is about 政务民生, for each sub-category."""
    tables = build_tables([RawFile(f"raw/{p.name}", p, p.read_bytes()) for p in sorted((ROOT / "raw").glob("000_*"))])
    gov = [r for r in tables["requirements"] if r["category_raw"][0] == "政务民生"]
    assert [(r["category_raw"], r["category"], r["covers"]) for r in gov] == [
        (["政务民生", "所有二级类目"], ["政务民生"], "children")]
    assert category_path(("政务民生", "户政"))[1] is None
