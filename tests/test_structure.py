"""The structure of a requirement, one regression case per problem class, each the real line.

Where the line comes from is in the case's comment: ``000``…``004`` are the seeds in raw/, "corpus" is
WeChat's category list (../shared/corpus), "history" the Tencent Cloud revisions
(../shared/tencent-history). Each case states what a careful reader writes down: rule, entries,
their labels, documents, conditions and nested groups (the conventions of ../shared/gold/README.md).
"""
import pytest

from pipeline.core.model import Item, Line, Requirement
from pipeline.parsers.flat import _split_declaration
from pipeline.parsers.rules import lines_to_requirement, text_to_requirement


def walk(items):
    for i in items:
        yield i
        if i.group is not None:
            yield from walk(i.group.items)


def conditions_of(item: Item) -> str:
    return " ".join(c for x in walk([item]) for c in x.conditions)


def shape(r: Requirement):
    """(rule, [entry shape]) where an entry is its text, or (label, rule, [entries]) with a group."""
    def entry(i: Item):
        if i.group is None:
            return i.text if i.label is None else (i.label, i.text)
        return (i.label, i.group.rule, [entry(x) for x in i.group.items])
    return r.rule, [entry(i) for i in r.items]


def assert_verbatim(r: Requirement, source: str):
    """An entry's text is the source text: every entry, at every depth, is a piece of it."""
    flat = source.replace("\n", "")
    for i in walk(r.items):
        if i.group is None or i.group.declared == "或" or i.group.rule == "all":
            assert i.text in flat or i.text == i.label, (i.text, source)


# --- 1. conditions outside N选1 lists are kept, on the document they follow -------------------

def test_condition_after_title_is_kept_driving_school():
    src = "《道路运输经营许可证》，且其中须有“驾驶员培训”项目"  # 001:223 教育/驾校培训
    r = text_to_requirement(src)
    assert shape(r) == ("all", ["《道路运输经营许可证》，且其中须有“驾驶员培训”项目"])
    assert "其中须有“驾驶员培训”项目" in conditions_of(r.items[0])
    assert_verbatim(r, src)


def test_condition_on_the_second_document_of_a_bundle_car_rental():
    src = "运营公司提供《备案证明》与对应公司《营业执照》,且营业执照中包含汽车租赁业务"  # 003:123 租车
    r = text_to_requirement(src)
    assert r.rule == "all" and [i.documents for i in r.items] == [("备案证明",), ("营业执照",)]
    assert r.items[0].conditions == ()
    assert "营业执照中包含汽车租赁业务" in conditions_of(r.items[1])


def test_condition_with_a_colon_inside_emigration():
    src = "《营业执照》且经营范围包含：提供出国探亲访友等信息咨询服务"  # 001 教育/出国移民
    r = text_to_requirement(src)
    assert (r.rule, r.items[0].label) == ("all", None)
    assert "经营范围包含：提供出国探亲访友等信息咨询服务" in conditions_of(r.items[0])


def test_condition_clause_does_not_swallow_the_items_after_it_stock_platform():
    # corpus 2017-06-16 金融业/股票信息服务平台: the 且-clause ended the list (1 of 3 items kept)
    src = ("《增值电信业务经营许可证》且核准服务项目包含“财经投资类互联网电子公告服务”和 深圳证券交易所"
           "《深圳交易所专有信息经营许可合同》和 上海证券交易所《上证所证券信息经营许可合同》")
    r = text_to_requirement(src)
    assert r.rule == "all" and [i.documents for i in r.items] == [
        ("增值电信业务经营许可证",), ("深圳交易所专有信息经营许可合同",), ("上证所证券信息经营许可合同",)]
    assert "核准服务项目包含“财经投资类互联网电子公告服务”" in conditions_of(r.items[0])
    assert conditions_of(r.items[1]) == conditions_of(r.items[2]) == ""


def test_or_inside_a_condition_clause_does_not_split_phone_cards():
    # corpus 2018-09-11 商家自营/电话卡发售
    src = ("两个及以上的市级及以上运营商合作协议，并加盖公司公章或合同专用章；和省级及以上运营商授权认证的"
           "《网络销售与实名制授权书》和运营商统一配发的授权防伪二维码标识（中国移动除外）")
    r = text_to_requirement(src)
    assert r.rule == "all" and len(r.items) == 3
    assert "并加盖公司公章或合同专用章" in conditions_of(r.items[0])
    assert r.items[2].conditions == ("中国移动除外",)


# --- 2. documents named without 《》 are split into a bundle -----------------------------------

def test_title_and_name_joined_by_yu_are_a_bundle_internet_hospital():
    src = ("仅支持公立医疗机构互联网医院（2选1）：\n1、卫生健康部门的《设置医疗机构批准书》。\n"
           "2、 合作医院的《医疗机构执业许可证》与执业登记机关的审核合格文件。")  # 000:16-19
    r = text_to_requirement(src)
    assert (r.rule, r.of, r.conditions) == ("any", 2, ("仅支持公立医疗机构互联网医院",))
    second = r.items[1]
    assert second.group.rule == "all"
    assert [i.text for i in second.group.items] == ["合作医院的《医疗机构执业许可证》", "执业登记机关的审核合格文件"]


def test_name_yiji_title_is_a_bundle_ride_hailing_platform():
    src = ("(自营性网约车)提供《网络预约出租汽车经营许可证》。(网约车平台)提供与网约车公司的合作协议以及"
           "合作网约车公司的《网络预约出租汽车经营许可证》。")  # 003:115
    r = text_to_requirement(src)
    assert (r.rule, r.of, [i.label for i in r.items]) == ("any", None, ["自营性网约车", "网约车平台"])
    assert [i.text for i in r.items[1].group.items] == ["与网约车公司的合作协议", "合作网约车公司的《网络预约出租汽车经营许可证》"]


def test_title_ji_name_is_a_bundle_private_school():
    src = "（2选1）：\n1、公立学校：由教育行政部门出具的审批设立证明或《事业单位法人证书》。\n2、私立学校：《民办学校办学许可证》及营业执照。"  # 000:14
    r = text_to_requirement(src)
    assert shape(r) == ("any", [
        ("公立学校", "any", ["由教育行政部门出具的审批设立证明", "《事业单位法人证书》"]),
        ("私立学校", "all", ["《民办学校办学许可证》", "营业执照"])])


@pytest.mark.parametrize("src", [
    "市级卫生和计划生育委员会批文",                # corpus 2017-06-16 医疗/就医服务
    "公司及人员情况表",                            # 001 电商平台: a form's name
    "业务发展和实施计划及技术方案专用表格",          # 001 电商平台
    "经所在地的中国人民银行及其派出机构备案的《企业征信业务经营备案证》",  # 001 征信业务
])
def test_joiner_inside_a_name_does_not_split(src):
    r = text_to_requirement(src)
    assert shape(r) == ("all", [src])


def test_titles_side_by_side_are_a_bundle_bath_house():
    src = "《公共场所卫生许可证》《健康合格证》《公众聚集场所投入使用、营业前消防安全检查合格证》《特种行业许可证》"  # corpus 2018-02-06
    r = text_to_requirement(src)
    assert r.rule == "all" and len(r.items) == 4


# --- 3. choices inside an entry --------------------------------------------------------------

def test_or_between_names_is_a_choice_mvno():
    src = ("仅支持虚拟运营商,同时提供:1、《营业执照》;2、《增值电信业务经营许可证》(业务种类包含“通过转售方式提供的"
           "蜂窝移动通信业务”或“含在全国转售中国移动的蜂窝移动通信业务”);3、虚拟运营商与基础电信运营商签订的合作"
           "协议或授权文件;4、所在地省级通信管理局向虚拟运营商颁发的网络渠道编码")  # 003 转售移动通信
    r = text_to_requirement(src)
    assert (r.rule, len(r.items), r.conditions) == ("all", 4, ("仅支持虚拟运营商",))
    assert r.items[1].group is None and "或" in r.items[1].conditions[0]
    assert [i.text for i in r.items[2].group.items] == ["虚拟运营商与基础电信运营商签订的合作协议", "授权文件"]
    assert r.items[2].group.rule == "any"


def test_quoted_names_with_or_and_comma_or_are_a_choice_etc_issuer():
    src = ("仅支持 ETC 发行业务，（2选1）：\n1、事业单位主体，需提供《事业单位法人证书》\n"
           "2、官方指定的发行单位（一发单位），需提供“官方授权或协议，或公开可查询的文件”。")  # 000 高速服务
    r = text_to_requirement(src)
    assert [i.label for i in r.items] == ["事业单位主体", "官方指定的发行单位（一发单位）"]
    assert shape(r)[1][1] == ("官方指定的发行单位（一发单位）", "any", ["官方授权", "协议", "公开可查询的文件"])


def test_huozhe_splits_like_huo_p2p():
    # corpus 2018-10-15 金融业/网络借贷信息中介（P2P）: 或者 was "never split"
    src = "银监会备案证明材料或者省（自治区、直辖市或深圳市等）金融办批准文件，并文件内容明确为“网络借贷信息中介机构”"
    r = text_to_requirement(src)
    assert (r.rule, r.of, len(r.items)) == ("any", None, 2)
    assert r.items[0].text == "银监会备案证明材料" and r.items[0].conditions == ()
    # the bracket inside the word 省（…）金融办 is part of the name, not a condition
    assert r.items[1].conditions == ("并文件内容明确为“网络借贷信息中介机构”",)


def test_parenthetical_alternatives_are_a_choice_not_a_condition():
    src = "需提供区、县级教育部门颁发的《民办学校办学许可证》及营业执照（或事业单位法人证书、民办非企业单位登记证书）"  # 001:144
    r = text_to_requirement(src)
    assert r.rule == "all" and len(r.items) == 2
    second = r.items[1]
    assert second.conditions == () and second.group.rule == "any"
    assert [i.text for i in second.group.items] == ["营业执照", "事业单位法人证书", "民办非企业单位登记证书"]


def test_label_with_parenthetical_alternatives_long_distance_bus():
    src = "(2选1):1、《道路运输经营许可证》(经营范围需含客运);2、官方指定联网售票平台(授权或协议或公开可查询文件)。"  # 003:122
    r = text_to_requirement(src)
    assert r.items[0].conditions == ("经营范围需含客运",)
    assert (r.items[1].label, r.items[1].group.rule, [i.text for i in r.items[1].group.items]) == \
        ("官方指定联网售票平台", "any", ["授权", "协议", "公开可查询文件"])


# --- 4. variant and subject labels -----------------------------------------------------------

def test_subject_provides_a_nested_list_insurance():
    src = "(3选1):\n1、保险机构主体提供(⑥选①):\n\n2、保险中介机构主体提供(④选①):"  # 002
    r = text_to_requirement(src)
    assert [(i.label, i.group.rule, i.group.of, len(i.group.items)) for i in r.items] == [
        ("保险机构主体", "any", 6, 0), ("保险中介机构主体", "any", 4, 0)]
    assert r.items_missing


def test_government_and_non_government_subjects_are_variants():
    # corpus 2018-09-11 政务民生/交警 (and the other 政务民生 categories): was split at the first 或
    src = "政府/事业单位，提供《组织机构代码证》或《统一社会信用代码证》\n\n非政府/事业单位，提供《相关政府部门的资质授权文件》"
    r = lines_to_requirement([Line(src, 354)])
    assert shape(r) == ("any", [("政府/事业单位", "any", ["《组织机构代码证》", "《统一社会信用代码证》"]),
                                ("非政府/事业单位", "非政府/事业单位，提供《相关政府部门的资质授权文件》")])
    assert [i.line for i in r.items] == [354, 356]


@pytest.mark.parametrize("src,labels", [
    # corpus 2018-09-11 商家自营/图书报刊…: no bogus condition "区" from 县（区）级
    ("批发：省级出版行政主管部门合法的《出版物经营许可证》\n\n零售：县（区）级出版行政主观部门合法的《出版物经营许可证》",
     ["批发", "零售"]),
    ("非广东省：《因私出入境中介机构经营许可证》\n\n广东省：《营业执照》", ["非广东省", "广东省"]),  # corpus 出国移民
    ("初级农产品：提交《全国工业产品生产许可证》\n\n其他农产品：提交《食品经营许可证》", ["初级农产品", "其他农产品"]),  # 农林牧渔
    ("新闻服务商：《互联网新闻信息服务许可证》；政府或监管机构：《增值电信业务经营许可备案》和《组织机构代码证》",
     ["新闻服务商", "政府或监管机构"]),  # corpus 2018-05-15 时政信息
])
def test_colon_labels_are_variants(src, labels):
    r = text_to_requirement(src)
    assert (r.rule, r.of, [i.label for i in r.items]) == ("any", None, labels)
    assert all(i.conditions == () for i in walk(r.items))
    assert_verbatim(r, src)


# --- 5. declaration phrasings, one matcher for every format ----------------------------------

def test_declaration_before_the_items_is_not_item_text():
    r = text_to_requirement("资质要求(任选其一):《营业执照》")
    assert (r.rule, r.pick, r.of, r.declared) == ("any", 1, None, "任选其一")
    assert [i.text for i in r.items] == ["《营业执照》"] and r.items[0].group is None


@pytest.mark.parametrize("head,expected", [
    ("（2选1）《A》", ("（2选1）", "《A》")), ("(任选其一):《营业执照》", ("(任选其一)", "《营业执照》")),
    ("需同时提供：《A》", ("需同时提供", "《A》")), ("《A》或《B》", ("", "《A》或《B》"))])
def test_web_text_uses_the_same_declaration_matcher(head, expected):
    assert _split_declaration(head) == expected


# --- 6. record-level conditions in unusual places --------------------------------------------

def test_unclosed_bracket_with_jun_covers_the_whole_requirement():
    src = ("仅支持公立医疗机构互联网医院(2选1):1、卫生健康部门的《设置医疗机构批准书》;2、《医疗机构执业许可证》"
           "(范围均需含“互联网诊疗”或名称含“互联网医院”等相关内容")  # 003:104, closing bracket missing
    r = text_to_requirement(src)
    assert r.conditions == ("仅支持公立医疗机构互联网医院", "范围均需含“互联网诊疗”或名称含“互联网医院”等相关内容")
    assert all(i.conditions == () and i.group is None for i in r.items)
    assert any("unclosed bracket" in w for w in map(str, r.warnings))


def test_jun_after_the_last_alternative_covers_them_all():
    src = "《营业执照》或《公司注册证书》或《其他商事主体登记证明》（均需经公证机构公证及我国驻该国大使馆或领事馆认证）"  # corpus 外卖点餐
    r = text_to_requirement(src)
    assert (r.rule, len(r.items)) == ("any", 3)
    assert r.conditions == ("均需经公证机构公证及我国驻该国大使馆或领事馆认证",)


# --- 7. text kept as written; malformed titles -----------------------------------------------

def test_note_stating_a_rule_is_read_insurance_2017():
    # corpus 2017-06-16:247: 需要同时提供两个资质 once came out as 需要两个资质 in a bogus nested
    # group, then was kept as text with a warning; now the note is read (issue 27 point 7): the
    # first alternative is both licences its title joins, the texts stay verbatim
    src = ("《保险公司法人许可证和经营保险业务许可证》或《保险兼业代理许可证》或《经营保险代理业务许可证》或"
           "《经营保险经纪业务许可证》（说明：四选一，如果选第一个，需要同时提供两个资质）")
    r = text_to_requirement(src)
    assert (r.rule, r.of, len(r.items)) == ("any", 4, 4)
    assert [i.group is None for i in r.items] == [False, True, True, True]
    assert r.items[0].group.rule == "all" and r.items[0].documents == ("保险公司法人许可证", "经营保险业务许可证")
    assert r.items[-1].text == "《经营保险经纪业务许可证》"
    assert not any("a note in brackets states a rule" in w for w in map(str, r.warnings))
    assert_verbatim(r, src)
    # a note that does not fit what is listed is still kept as text, with the warning
    misfit = src.replace("四选一", "三选一")
    r = text_to_requirement(misfit)
    assert all(i.group is None for i in r.items) and r.items[-1].text.endswith("需要同时提供两个资质）")
    assert any("a note in brackets states a rule" in w for w in map(str, r.warnings))


def test_title_closed_by_a_round_bracket_keeps_the_document_video():
    # corpus 2018-09-21:2150 文娱/视频: 《网络文化经营许可证） lost the document and gave conditions 节, 区
    src = ("《信息网络传播视听节目许可证》或\n\n《广播电视节目制作经营许可证》或\n\n《网络文化经营许可证）（适用于秀场类非直播"
           "视频，经营范围须含有音乐娱乐产品或演出剧（节）目、网络表演或动漫产品或展览、比赛活动）或\n\n《广播电视节目播出机构许可证》（适用于电视台）")
    for r in (lines_to_requirement([Line(src, 2112)]), text_to_requirement(src, line=2112)):
        # one cell, or the same with each line a logical line (a line ending on 或 continues)
        assert (r.rule, len(r.items)) == ("any", 4)
    assert [i.line for i in r.items] == [2112, 2114, 2116, 2118]
    assert "网络文化经营许可证" in r.documents and r.items[2].documents == ("网络文化经营许可证",)
    assert r.items[3].conditions == ("适用于电视台",)
    assert "节" not in [c for i in walk(r.items) for c in i.conditions]
    assert any("closed by a round bracket" in w for w in map(str, r.warnings))


def test_stray_title_mark_gives_no_bogus_condition_retail():
    src = "批发：省级出版行政主管部门合法的《出版物经营许可证》；零售：《县（区）级出版行政主观部门合法的《出版物经营许可证》"  # corpus 2018-05-21:556
    r = text_to_requirement(src)
    assert [i.label for i in r.items] == ["批发", "零售"]
    assert all(i.conditions == () for i in walk(r.items))


# --- 8. a half-width "(" closed by a full-width "）" -----------------------------------------

def test_half_width_open_bracket_does_not_swallow_the_next_item():
    # history 2020-04-09 1078/43316 社交/直播: item 3 was merged into item 2 (a false count mismatch)
    lines = [Line("1.《信息网络传播视听节目许可证》", 87), Line("2.《网络文化经营许可证》(经营范围含网络表演）", 88),
             Line("3.《统一社会信用代码》及《情况说明函件》（适用于政府主体）", 89)]
    r = lines_to_requirement(lines, header="资质要求（3选1）")
    assert (r.rule, r.of, r.options) == ("any", 3, 3)
    assert r.items[1].conditions == ("经营范围含网络表演",)
    assert r.items[2].group.rule == "all" and r.items[2].conditions == ("适用于政府主体",)
    assert [i.line for i in r.items] == [87, 88, 89]


# --- where the grammar cannot decide, it says so ---------------------------------------------

def test_or_mixed_with_he_is_read_but_flagged_cartoons():
    src = "《互联网出版许可证》或者《网络出版服务许可证》和《网络文化经营许可证》"  # corpus 2018-05-15 文娱/动漫
    r = text_to_requirement(src)
    assert r.rule == "any" and any("check the scope of 或" in w for w in map(str, r.warnings))


def test_several_sentences_are_kept_whole_with_a_warning():
    src = "认证主体需为业务对应政府或事业单位。如非对应单位，需提供对应单位授权或合作协议"  # corpus 2018-05-15 政务民生
    r = text_to_requirement(src)
    assert shape(r) == ("all", [src])
    assert any("several sentences" in w for w in map(str, r.warnings))
