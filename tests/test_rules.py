"""Qualification text -> requirement structure, one phrasing per case (texts from the seeds)."""
import pytest

from pipeline.parsers import patterns
from conftest import SHARED
from pipeline.core.model import Line
from pipeline.parsers.rules import lines_to_requirement, split_alternatives, split_bundle, text_to_requirement

# (text, header) -> rule, pick, of, options, items_missing, documents
CASES = [
    ("declared_with_labels",
     "（2选1）：\n1、公立学校：由教育行政部门出具的审批设立证明或《事业单位法人证书》。\n2、私立学校：《民办学校办学许可证》及营业执照。", "",
     ("any", 1, 2, 2, False, ["事业单位法人证书", "民办学校办学许可证"])),
    ("restriction_and_bundle", "仅支持三级以上私立医疗机构，提供《医疗机构执业许可证》、《营业执照》及《医院等级证书》。", "",
     ("all", None, None, None, False, ["医疗机构执业许可证", "营业执照", "医院等级证书"])),
    ("or_between_titles", "仅支持政府/事业单位，提供《组织机构代码证》或《统一社会信用代码证》。", "",
     ("any", 1, None, 2, False, ["组织机构代码证", "统一社会信用代码证"])),
    ("or_inside_quotes_does_not_split",
     "仅支持 ETC 发行业务，（2选1）：\n1、事业单位主体，需提供《事业单位法人证书》\n2、官方指定的发行单位（一发单位），需提供“官方授权或协议，或公开可查询的文件”。", "",
     ("any", 1, 2, 2, False, ["事业单位法人证书"])),
    ("variants_without_count",
     "（供电类）提供《电力业务许可证》与《营业执照》，且《营业执照》且经营范围含供电。（燃气类）提供《燃气经营许可证》与《营业执照》。（供水类）提供《卫生许可证》与《营业执照》。", "",
     ("any", 1, None, 3, False, ["电力业务许可证", "营业执照", "燃气经营许可证", "卫生许可证"])),
    ("inline_enumeration_one_line",
     "(2选1):1、公立学校:由教育行政部门出具的审批设立证明 或 《事业单位法人证书》;2、私立学校:《民办学校办学许可证》与《民办非企业单位登记证书》", "",
     ("any", 1, 2, 2, False, ["事业单位法人证书", "民办学校办学许可证", "民办非企业单位登记证书"])),
    ("same_time_with_nested_choice",
     "仅支持省金融办监管的网络小贷主体,同时提供:1、《小额贷款公司经营许可证》或《小额贷款机构经营许可证》或省金融办批准文件;2、申请主体资质承诺函。", "",
     ("all", None, None, None, False, ["小额贷款公司经营许可证", "小额贷款机构经营许可证"])),
    ("chinese_enumerators_lost_items", "(二选一):\n一:需同时提供:\n二:需同时提供:", "",
     ("any", 1, 2, 2, True, [])),
    ("circled_count_subgroups_lost", "(3选1):\n1、保险机构主体提供(⑥选①):\n\n2、保险中介机构主体提供(④选①):", "",
     ("any", 1, 3, 2, True, [])),
    ("declared_only", "(5选1)", "", ("any", 1, 5, 0, True, [])),
    ("same_time_only", "需同时提供:", "", ("all", None, None, None, True, [])),
    ("heading_without_content", "", "资质要求", ("unknown", None, None, None, True, [])),
    ("slash_means_none", "/", "资质要求", ("none", None, None, None, False, [])),
    ("dash_means_none", "-", "资质要求", ("none", None, None, None, False, [])),
    ("count_in_header", "(2选1):", "资质要求(2选1)", ("any", 1, 2, 0, True, [])),
    ("or_in_brackets_is_not_a_choice",
     "需提供区、县级教育部门颁发的《民办学校办学许可证》及营业执照（或事业单位法人证书、民办非企业单位登记证书）", "",
     ("all", None, None, None, False, ["民办学校办学许可证"])),
    ("unclosed_bracket_at_end",
     "仅支持公立医疗机构互联网医院(2选1):1、卫生健康部门的《设置医疗机构批准书》;2、《医疗机构执业许可证》(范围均需含“互联网诊疗”或名称含“互联网医院”等相关内容", "",
     ("any", 1, 2, 2, False, ["设置医疗机构批准书", "医疗机构执业许可证"])),
    ("two_or_more_is_not_or", "需同时提供：\n1.《非经营性互联网信息服务备案核准》\n2.两家或以上的培训机构合作协议，及培训机构的《民办学校办学许可证》", "",
     ("all", None, None, None, False, ["非经营性互联网信息服务备案核准", "民办学校办学许可证"])),
    ("scenario_group_headers",
     "已具备《增值电信业务经营许可证》的场景：\n1. 《增值电信业务经营许可证》\n2. 电商平台服务协议\n《增值电信业务经营许可证》不予受理的场景\n《行政许可不予受理通知书》\n营业执照", "",
     ("any", 1, None, 2, False, ["增值电信业务经营许可证", "行政许可不予受理通知书"])),
    ("lost_bullets_one_item_per_line", "（3选1）：\n《A证》\n《B证》（含网络表演）\n统一社会信用代码及情况说明", "",
     ("any", 1, 3, 3, False, ["A证", "B证"])),
    ("changed_count_is_read_not_assumed", "(7选1):\n1、《A证》\n2、《B证》", "", ("any", 1, 7, 2, False, ["A证", "B证"])),
]


@pytest.mark.parametrize("name,text,header,expected", CASES, ids=[c[0] for c in CASES])
def test_requirement(name, text, header, expected):
    r = text_to_requirement(text, header=header)
    assert (r.rule, r.pick, r.of, r.options, r.items_missing, list(r.documents)) == expected


def test_nested_choice_inside_an_option():
    r = text_to_requirement("(8选1):1、《A》;2、《B》;3、《C》或《D》")
    assert r.options == 3
    nested = r.items[2].group
    assert nested.rule == "any" and nested.of is None and nested.options == 2


def test_bundle_option_and_conditions():
    r = text_to_requirement("（3选1）\n1.《基金证》且业务范围必须包含“基金”\n2.《托管证》\n3.《统一社会信用代码》及《情况说明函件》（适用于政府主体）")
    assert r.items[0].conditions == ("且业务范围必须包含“基金”",)
    assert r.items[2].group.rule == "all" and r.items[2].group.documents == ("统一社会信用代码", "情况说明函件")
    assert "适用于政府主体" in r.items[2].conditions


def test_labels_and_leading_restriction():
    r = text_to_requirement("仅支持公立医疗机构互联网医院（2选1）：\n1、公立学校：《A》\n2、私立学校：《B》")
    assert r.conditions == ("仅支持公立医疗机构互联网医院",)
    assert [i.label for i in r.items] == ["公立学校", "私立学校"]


def test_explicit_columns_are_alternatives():
    cols = [[Line("已具备《X》的场景", 1), Line("《X》", 2, bullet=True, depth=1)],
            [Line("《X》不予受理的场景", 3), Line("《Y》", 4, bullet=True, depth=1)]]
    r = lines_to_requirement([], header="资质要求", columns=cols)
    assert (r.rule, r.of, r.options, r.documents) == ("any", None, 2, ("X", "Y"))


def test_bullets_with_children():
    def li(text, no, depth):
        return Line(text, no, bullet=True, depth=depth)
    lines = [Line("需同时提供：", 1), li("《A》", 2, 1), li("B申请时：", 3, 1),
             li("《C》", 4, 2), li("D", 5, 2), li("E", 6, 1)]
    r = lines_to_requirement(lines)
    assert r.rule == "all" and len(r.items) == 3
    assert r.items[1].group is not None and len(r.items[1].group.items) == 2


def test_item_lines_point_at_their_source_line():
    r = text_to_requirement("（2选1）\n1.《A》\n2.《B》", line=10)
    assert [i.line for i in r.items] == [11, 12]


@pytest.mark.parametrize("text,expected", [
    ("3选1", (1, 3)), ("（5选1）", (1, 5)), ("二选一", (1, 2)), ("⑥选①", (1, 6)), ("4 选 1", (1, 4)),
    ("３选１", (1, 3)), ("十二选二", (2, 12)), ("建议选 证券", None)])
def test_declared_choice(text, expected):
    assert patterns.declared_choice(text) == expected


def test_split_helpers():
    assert split_alternatives("《A》或《B》或C文件") == ["《A》", "《B》", "C文件"]
    # both sides name a document (机制, 方案 end in document nouns): a choice (gold v2, 电商平台)
    assert split_alternatives("机制或方案") == ["机制", "方案"]
    assert split_alternatives("卫生和计划生育委员会或医管局批文") == ["卫生和计划生育委员会或医管局批文"]
    assert split_alternatives("两家或以上《A》") == ["两家或以上《A》"]
    assert split_bundle("《A》与《B》及《C》") == ["《A》", "《B》", "《C》"]
    assert split_bundle("证券、期货投资咨询") == ["证券、期货投资咨询"]


def test_chinese_groups_holding_numbered_items():
    r = text_to_requirement("(二选一):\n一:需同时提供:\n1、《增值电信业务经营许可证》\n2、电商平台服务协议\n"
                            "二:需同时提供:\n1、《行政许可不予受理通知书》\n2、营业执照\n3、承诺书")
    assert (r.rule, r.of, r.options, r.items_missing) == ("any", 2, 2, False)
    assert [len(i.group.items) for i in r.items] == [2, 3]
    assert all(i.group.rule == "all" for i in r.items)


def test_numbered_items_holding_circled_items():
    r = text_to_requirement("(3选1):\n1、保险机构主体提供(⑥选①):\n①《A》\n②《B》\n③《C》\n"
                            "2、保险中介机构主体提供(②选①):\n①《D》②《E》\n3、《F》")
    assert (r.rule, r.of, r.options, r.items_missing) == ("any", 3, 3, False)
    first, second, third = r.items
    assert (first.group.rule, first.group.of, first.group.options) == ("any", 6, 3)
    assert (second.group.of, second.group.options) == (2, 2)
    assert third.group is None and r.documents == ("A", "B", "C", "D", "E", "F")


def test_unreadable_count_is_a_warning_not_a_guess():
    r = text_to_requirement("（N选1）：\n1、《A》\n2、《B》")
    assert (r.rule, r.pick, r.of, r.options) == ("any", None, None, 2)
    assert [(w.kind, str(w)) for w in r.warnings] == [
        ("unreadable_count", "declared count （N选1） cannot be read: left unknown")]


def _item_lines(req) -> list:
    return [x for i in req.items for x in [i.line] + (_item_lines(i.group) if i.group else [])]


def test_requirement_text_at_another_line_reads_the_same_with_lines_shifted():
    """lines_to_requirement memoises by text read from line 1; a repeat elsewhere must come back
    exactly as a fresh reading there would (regression guard for the shift)."""
    from dataclasses import replace

    from pipeline.parsers import rules

    text = "（3选1）\n1、《A》\n2、《B》或《C》\n3、需同时提供：\n《D》\n《E》"
    first = rules.text_to_requirement(text, line=1)
    later = rules.text_to_requirement(text, line=41)
    fresh = rules._lines_to_requirement([Line(t, 41 + i) for i, t in enumerate(text.split("\n"))], "", None)
    assert later == fresh
    assert _item_lines(later) == [n + 40 for n in _item_lines(first)] and len(_item_lines(first)) >= 4

    def strip(req):
        return replace(req, items=tuple(replace(i, line=None, group=i.group and strip(i.group)) for i in req.items))

    assert strip(first) == strip(later)


# --- issue 27 points 5, 6, 7: labels, shared modifiers, a note that bundles an alternative -----

# (text, alternatives as (label, text)): a bare name after "X的A" keeps X as its label; its text
# stays as written (real lines: 电商平台, tencent-history 2021-08-30 lines 38-39 and 56-57; 转售移动通信,
# seed 003 line 127); a side with its own 的 or title, or a choice without 的, is left alone
SHARED_MODIFIER_CASES = [
    ("电商平台对入驻经营者的审核要求或规范文件",
     [(None, "电商平台对入驻经营者的审核要求"), ("电商平台对入驻经营者的", "规范文件")]),
    ("电商平台对用户交易纠纷处理的机制或方案",
     [(None, "电商平台对用户交易纠纷处理的机制"), ("电商平台对用户交易纠纷处理的", "方案")]),
    ("虚拟运营商与基础电信运营商签订的合作协议或授权文件",
     [(None, "虚拟运营商与基础电信运营商签订的合作协议"), ("虚拟运营商与基础电信运营商签订的", "授权文件")]),
    ("由教育行政部门出具的审批设立证明 或 《事业单位法人证书》",
     [(None, "由教育行政部门出具的审批设立证明"), (None, "《事业单位法人证书》")]),
    ("合作协议或授权文件", [(None, "合作协议"), (None, "授权文件")]),
    ("甲方的授权书或乙方的证明文件", [(None, "甲方的授权书"), (None, "乙方的证明文件")]),
]


@pytest.mark.parametrize("text,expected", SHARED_MODIFIER_CASES, ids=[c[0] for c in SHARED_MODIFIER_CASES])
def test_alternatives_sharing_a_modifier(text, expected):
    r = text_to_requirement(text)
    assert (r.rule, r.pick, r.options) == ("any", 1, len(expected))
    assert [(i.label, i.text) for i in r.items] == expected
    # every text is the source's own words, and label + text never leaves a bare fragment
    assert all(i.text.replace(" ", "") in text.replace(" ", "") for i in r.items)


INSURANCE = ("《保险公司法人许可证和经营保险业务许可证》或《保险兼业代理许可证》或《经营保险代理业务许可证》"
             "或《经营保险经纪业务许可证》（说明：四选一，如果选第一个，需要同时提供两个资质）")

# (text, of, first alternative's documents, its group, record documents, warned): the note is read
# only where it fits what is listed; 《…和…》 is otherwise one title
BUNDLE_NOTE_CASES = [
    ("insurance_2017_line_247", INSURANCE, 4, ["保险公司法人许可证", "经营保险业务许可证"], ("all", 2),
     ["保险公司法人许可证", "经营保险业务许可证", "保险兼业代理许可证", "经营保险代理业务许可证", "经营保险经纪业务许可证"],
     False),
    ("count_does_not_fit", "《A证和B证》或《C证》（说明：三选一，如果选第一个，需要同时提供两个资质）", 3,
     ["A证和B证"], None, ["A证和B证", "C证"], True),
    ("title_does_not_cut_in_two", "《A证和B证和C证》或《D证》（说明：二选一，如果选第一个，需要同时提供两个资质）", 2,
     ["A证和B证和C证"], None, ["A证和B证和C证", "D证"], True),
    ("second_alternative", "《A证》或《B证与C证》（说明：二选一，若选第2个，需同时提供两者）", 2,
     ["A证"], None, ["A证", "B证", "C证"], False),
    ("no_note_no_split", "《卫生和计划生育委员会批文》或《C证》", None,
     ["卫生和计划生育委员会批文"], None, ["卫生和计划生育委员会批文", "C证"], False),
]


@pytest.mark.parametrize("name,text,of,first_docs,first_group,documents,warned", BUNDLE_NOTE_CASES,
                         ids=[c[0] for c in BUNDLE_NOTE_CASES])
def test_note_that_bundles_an_alternative(name, text, of, first_docs, first_group, documents, warned):
    r = text_to_requirement(text, line=247)
    assert (r.rule, r.pick, r.of) == ("any", 1, of)
    first = r.items[0]
    assert list(first.documents) == first_docs
    assert (first.group and (first.group.rule, len(first.group.items))) == first_group
    assert list(r.documents) == documents
    assert any("a note in brackets states a rule" in w for w in map(str, r.warnings)) == warned


def test_insurance_note_reads_four_alternatives_the_first_two_licences():
    r = text_to_requirement(INSURANCE, line=247)
    assert (r.of, r.options, r.declared, r.warnings) == (4, 4, "四选一", ())
    first, *rest = r.items
    assert first.text == "《保险公司法人许可证和经营保险业务许可证》"
    assert [(i.text, i.documents) for i in first.group.items] == [
        ("保险公司法人许可证", ("保险公司法人许可证",)), ("经营保险业务许可证", ("经营保险业务许可证",))]
    # the note is the requirement's, not the last alternative's; every text is verbatim
    assert rest[-1].text == "《经营保险经纪业务许可证》"
    assert all(i.text in INSURANCE for i in list(r.items) + list(first.group.items))


def test_lead_in_labels_its_list_and_a_heading_names_its_branch():
    def li(text, no, depth):
        return Line(text, no, bullet=True, depth=depth)
    refused = [Line("《X证》不予受理的场景", 1), li("《不予受理通知书》", 2, 1),
               li("《X证》申请时，所需资质文件如下：", 3, 1), li("营业执照", 4, 2), li("申请表", 5, 2),
               li("服务协议", 6, 1)]
    holding = [Line("已具备《X证》的场景", 7), li("《X证》", 8, 1), li("服务协议", 9, 1)]
    r = lines_to_requirement([], header="资质要求", columns=[holding, refused])
    have, lack = r.items
    assert have.documents == ("X证",) and lack.documents == ("不予受理通知书",)
    lead = lack.group.items[1]
    assert (lead.label, lead.text) == ("《X证》申请时，所需资质文件如下", "《X证》申请时，所需资质文件如下：")
    assert [i.text for i in lead.group.items] == ["营业执照", "申请表"] and lead.group.rule == "all"
    assert r.documents == ("X证", "不予受理通知书")


def _real_statement(path, category):
    from pipeline.parsers import parse

    doc = parse(path.read_bytes(), str(path)).doc
    return next(s for s in doc.statements if s.category_raw[-1] == category)


def test_ecommerce_2021_08_30_branches_as_a_reader_reads_them():
    """tencent-history 2021-08-30 lines 31-57 (电商平台): the refused branch is labelled by its
    heading, needs the refusal notice, the application files (labelled by their lead-in, line 45)
    and the platform documents, not the licence it was refused; 规范文件 and 方案 keep the modifier."""
    path = SHARED / "tencent-history" / "tencent-cloud-live-category-requirements" / "2021-08-30_fd51fe19e1.md"
    if not path.is_file():
        pytest.skip("../shared/tencent-history not present")
    r = _real_statement(path, "电商平台").requirement
    have, lack = r.items
    assert (r.rule, r.of, r.options) == ("any", None, 2)
    assert lack.label == "《增值电信业务经营许可证》不予受理的场景" and lack.line == 42
    assert lack.documents == ("行政许可不予受理通知书",) and have.documents == ("增值电信业务经营许可证",)
    notice, lead, *platform = lack.group.items
    assert (lead.label, lead.line, len(lead.group.items)) == ("《增值电信业务经营许可证》申请时，所需资质文件如下", 45, 8)
    assert "增值电信业务经营许可证" not in [d for i in lead.group.items for d in i.documents]
    for branch in (have, lack):
        choices = [i.group.items for i in branch.group.items if i.group is not None and i.group.rule == "any"]
        assert [[(a.label or "") + a.text.rstrip("；") for a in c] for c in choices] == [
            ["电商平台对入驻经营者的审核要求", "电商平台对入驻经营者的规范文件"],
            ["电商平台对用户交易纠纷处理的机制", "电商平台对用户交易纠纷处理的方案"]]
    assert r.documents == ("增值电信业务经营许可证", "行政许可不予受理通知书")


def test_insurance_2017_06_16_line_247_real_file():
    path = SHARED / "corpus" / "wechat-miniprogram-service-categories" / "2017-06-16_bbd6e517.md"
    if not path.is_file():
        pytest.skip("../shared/corpus not present")
    st = _real_statement(path, "保险")
    r = st.requirement
    assert (r.rule, r.pick, r.of, r.options) == ("any", 1, 4, 4)
    assert r.items[0].line == 247 and r.items[0].group.rule == "all"
    assert r.documents == ("保险公司法人许可证", "经营保险业务许可证", "保险兼业代理许可证",
                           "经营保险代理业务许可证", "经营保险经纪业务许可证")
    assert not r.warnings
