"""Page kinds and layouts of Tencent's real pages, each a small document in the layout the
issue quotes (header rows and lines as the pages write them): recognised from their header
cells and content, not from the seeds' wording."""
import pytest

from pipeline.core import records
from pipeline.build import parse_raw
from pipeline.parsers.headers import CATEGORY, SCENARIO, column_roles, table_kind
from pipeline.parsers.sections import also_required, strip_markup
from pipeline.store import RawFile
from conftest import ROOT


def _parse(text: str, name: str = "page.md"):
    doc, _ = parse_raw(RawFile(f"raw/{name}", ROOT / "raw" / name, text.encode()))
    return doc


def test_header_cells_tell_the_kind_of_table():
    assert table_kind(["一级类目", "二级类目", "三级类目", "使用人脸核验接口所需资质"]) == CATEGORY
    assert table_kind(["一级类目/主体类型", "二级类目", "资质要求", "小程序内容场景"]) == CATEGORY
    assert table_kind(["主类目", "子类目", "小程序内容场景"]) == CATEGORY
    assert table_kind(["类目", "所需资质"]) == CATEGORY
    assert table_kind(["小程序内容场景", "要求", "接入方案"]) == SCENARIO
    assert table_kind(["小程序直播场景", "要求"]) == SCENARIO
    # a category section's key/value table and the plugin page's domain table are neither
    assert table_kind(["要求", "说明"]) is None
    assert table_kind(["直播场景", "域名类型", "使用场景", "计费说明"]) is None
    assert column_roles(["一级类目/主体类型", "二级类目", "资质要求", "小程序内容场景"]) == {
        0: "level1", 1: "level2", 2: "requirement", 3: "scenario"}


SDK_TABLE = """# 小程序直播接入

<table>
<tr><th>一级类目/主体类型</th><th>二级类目</th><th>资质要求</th><th>小程序内容场景</th></tr>
<tr><td>社交</td><td>直播</td><td>（2选1）<br>1.《信息网络传播视听节目许可证》<br>2.《网络文化经营许可证》</td><td>涉及娱乐性质，如明星直播</td></tr>
<tr><td>政府主体帐号</td><td>/</td><td>-</td><td>政府相关工作推广直播</td></tr>
</table>
"""


def test_category_table_with_a_subject_column_and_a_scenario_column():
    doc = _parse(SDK_TABLE)
    social, gov = doc.statements
    assert (social.capability, social.category_raw) == ("live_streaming", ("社交", "直播"))
    assert (social.requirement.rule, social.requirement.pick, social.requirement.of) == ("any", 1, 2)
    assert social.requirement.documents == ("信息网络传播视听节目许可证", "网络文化经营许可证")
    assert social.scenario == "涉及娱乐性质，如明星直播"
    assert (gov.category_raw, gov.requirement.rule) == (("政府主体帐号",), "none")


def test_pipe_table_is_read_like_the_html_table_it_stands_for():
    pipe = ("# 小程序直播接入\n\n| 一级类目/主体类型 | 二级类目 | 资质要求 | 小程序内容场景 |\n|---|---|---|---|\n"
            "| 社交 | 直播 | （2选1）<br>1.《信息网络传播视听节目许可证》<br>2.《网络文化经营许可证》 | 涉及娱乐性质，如明星直播 |\n"
            "| 政府主体帐号 | / | - | 政府相关工作推广直播 |\n")
    html, piped = _parse(SDK_TABLE).statements, _parse(pipe).statements
    assert [(s.category_raw, s.requirement.to_dict(), s.scenario) for s in piped] == \
        [(s.category_raw, s.requirement.to_dict(), s.scenario) for s in html]
    assert [s.span.line_start for s in piped] == [5, 6]


def test_eligibility_pipe_table_keeps_a_cell_joined_by_the_ideographic_comma_whole_for_the_build():
    """A 、 may part two names or stand inside one (证券、期货投资咨询): the parser keeps the
    cell's text whole and the build decides (``pipeline/reconcile/joined.py``, tests/test_names.py)."""
    text = ("若您的小程序具备以下类目，并且直播场景符合类目覆盖范围，可申请小程序·云直播进行接入。\n\n"
            "|主类目|子类目||直播场景|\n|----|----|----|\n|电商平台|电商平台|适用于直播带货等电商直播场景|\n"
            "|医疗|互联网医院、公立医院|问诊、大型健康讲座等直播。|\n")
    doc = _parse(text)
    assert [(s.kind, s.capability, s.category_raw) for s in doc.statements] == [
        ("eligibility", "live_streaming", ("电商平台", "电商平台")),
        ("eligibility", "live_streaming", ("医疗", "互联网医院、公立医院"))]
    assert all(s.requirement is None for s in doc.statements)
    assert doc.statements[0].scenario == "适用于直播带货等电商直播场景"
    assert any("pipe table header has 4 cells over 3 columns" in w for w in map(str, doc.warnings))


SECTION = """## 社交 - 直播

具备 **社交-直播** 类目，可使用 [标准直播+直播标签](https://cloud.tencent.com/document/product/454/12554) 进行接入。

<table >
	<tr><th>要求</th><th>说明</th></tr>
	<tr><th >资质要求（2选1）</th><td>1.《信息网络传播视听节目许可证》 <br>2.《网络文化经营许可证》<br></td></tr>
<table>

## 教育 - 在线视频课程

具备【教育-在线视频课程】类目，可使用 [标准直播+直播标签](https://cloud.tencent.com/document/product/454/12554) 进行接入。

<table>
	<tr><th>要求</th><th>说明</th></tr>
	<tr><th>资质要求</th><td>《网络文化经营许可证》</td></tr>
</table>
"""


def test_table_closed_by_a_second_table_tag_and_bold_access_sentence():
    doc = _parse("# 类目申请资质要求\n\n最近更新时间：2021-08-30 10:00:00\n\n" + SECTION)
    social, course = doc.statements
    assert social.requirement.of == 2 and social.integration.method == "标准直播+直播标签"
    assert course.integration is not None and course.span.line_start == 14
    assert doc.warnings == () and doc.truncated is None
    # the page's own date, in Markdown as in web text
    assert doc.pages[0].updated == "2021-08-30" and {s.page_updated for s in doc.statements} == {"2021-08-30"}


def test_capture_cut_inside_a_table_or_after_a_heading_is_marked():
    cut = SECTION[:SECTION.rindex("</table>")]
    doc = _parse(cut)
    assert doc.truncated == "ends inside the table that starts on line 14"
    assert any("cut short" in w for w in map(str, doc.warnings))
    doc = _parse(SECTION + "\n## 工具 - 视频客服\n")
    assert doc.truncated == "ends right after the heading '工具 - 视频客服' (line 19)"


def test_capture_that_names_a_category_it_has_no_section_for_is_marked():
    head = ("- 具备【电商平台】类目，可直接通过 小程序·云直播插件 进行接入小程序直播。\n"
            "- 若同时具备【社交-直播】类目，可直接使用 标准直播+直播标签 进行接入。\n\n")
    whole = _parse(head + SECTION.replace("## 社交 - 直播", "## 电商平台 - 电商平台", 1).replace(
        "具备 **社交-直播** 类目", "具备【电商平台】类目", 1))
    assert whole.truncated and "'社交-直播'" in whole.truncated
    assert _parse(head + SECTION.replace("## 教育 - 在线视频课程", "## 电商平台 - 电商平台").replace(
        "具备【教育-在线视频课程】", "具备【电商平台】")).truncated is None


SCENARIOS = """## 方案选择

### 场景2：电商带货类直播

<table>
	<tr><th>小程序内容场景</th><th>要求</th><th>接入方案</th></tr>
	<tr>
		<td rowspan='2'>电商带货、直播导购等</td>
		<td><a href="x">电商平台-电商平台类目</a></td>
		<td><a href="y">小程序云直播插件</a></td>
	</tr>
	<tr>
		<td><a href="z">社交-直播类目</a></td>
		<td><a href="y">标准直播+直播标签</a></td>
	</tr>
</table>

>! 
>- 如涉医疗器械、非处方药品在线销售，需补充医疗相关类目。
"""


def test_scenario_section_is_one_scenario_with_every_row():
    (s,) = _parse(SCENARIOS).scenarios
    assert (s.scenario, s.content) == ("场景2：电商带货类直播", "电商带货、直播导购等")
    assert s.requirements == ("电商平台-电商平台类目", "社交-直播类目")
    assert s.solutions == ("小程序云直播插件", "标准直播+直播标签")
    assert s.notes == ("如涉医疗器械、非处方药品在线销售，需补充医疗相关类目。",)
    assert (s.span.line_start, s.span.line_end) == (3, 19)  # the heading to its notes


def test_method_page_table_gives_a_scenario_per_row_and_no_category():
    text = ("## 前提条件\n- 注册微信小程序，**认证主体需为中国大陆地区的非个人主体**。\n"
            "- 小程序符合小程序·云直播插件的接入的类目要求：\n\n| 小程序直播场景 | 要求 | \n|---------|---------|\n"
            "| 电商带货、直播导购等 | [【电商平台】类目](https://cloud.tencent.com/document/product/1078/43316) |\n")
    doc = _parse(text)
    assert doc.statements == ()
    (s,) = doc.scenarios
    assert (s.scenario, s.requirements, s.solutions) == ("插件：电商带货、直播导购等", ("【电商平台】类目",),
                                                          ("小程序·云直播插件",))
    assert s.span.line_start == 7


def test_licence_page_in_markdown_with_links():
    text = ("## 直播服务许可申请\n\n由于各地相关部门对于当地企业要求不同，具体资质要求及许可申请请参考以下内容：\n\n"
            "- 涉及经营电信业务，请咨询[当地通信管理局](https://example.org/a)申请办理《电信业务经营许可证》。\n"
            "- 涉及经营网络表演业务，请咨询 **当地人民政府文化行政部门** 申请办理《网络文化经营许可证》。\n")
    for doc in (_parse(text), _parse(text + "\n" + SCENARIOS)):  # on its own, and beside a table
        assert [(x.business, x.licence, x.authority, x.span.line_start) for x in doc.licenses] == [
            ("经营电信业务", "电信业务经营许可证", "当地通信管理局", 5),
            ("经营网络表演业务", "网络文化经营许可证", "当地人民政府文化行政部门", 6)]


def test_wechat_component_pipe_table_with_markup_in_a_header_and_aligned_columns():
    """The <live-player> page's table: a stray backtick in a header cell, a centred column,
    cells listing categories with ，/；, and a later attribute table that is no category table."""
    text = ("# live-player\n\n## 申请开通\n\n暂只针对国内主体如下类目的小程序开放。\n\n"
            "| 一级类目/主体类型 |    `二级类目    | 小程序内容场景 |\n| ----- | :-----: | ----- |\n"
            "| 社交 |  直播  | 涉及娱乐性质，如明星直播 |\n| IT科技 | 多方通信；音视频设备 | 为多方提供电话会议 |\n\n"
            "## 通用属性\n\n|  | 属性 | 类型 |\n| -- | -- | -- |\n|  | src | string |\n")
    doc = _parse(text)
    assert [(s.kind, s.capability, s.category_raw, s.warnings) for s in doc.statements] == [
        ("eligibility", "live_streaming", ("社交", "直播"), ()),
        ("eligibility", "live_streaming", ("IT科技", "多方通信"), ()),
        ("eligibility", "live_streaming", ("IT科技", "音视频设备"), ())]


# --- what a category table's lead-in says of every row (issue 27, point 2) ------------------

def _table_under(lead_in: str, heading: str = "## 选择小程序类目") -> str:
    return (f"{heading}\n\n{lead_in}\n\n|主类目|子类目|小程序内容场景|\n|----|----|----|\n"
            "|社交|直播|涉及娱乐性质，如明星直播|\n|教育|在线视频课程|网课、在线培训、讲座等教育类直播。|\n")


@pytest.mark.parametrize("lead_in,method,known", [
    # tencent-cloud-live-solution-selection 2020-03-23 line 13: the method as written; whether
    # 移动直播 SDK is the 直播标签 of later revisions the page does not say
    ("- 方案一：若您的小程序已具备以下类目，可直接使用 [标准直播](https://cloud.tencent.com/product/lvb) + "
     "[移动直播 SDK](https://cloud.tencent.com/product/mlvb) 接入小程序直播，详细接入流程请参考 "
     "[小程序接入](https://cloud.tencent.com/document/product/454/12554)。", "标准直播 + 移动直播 SDK", False),
    # the same page, line 57 (and the plugin page 2020-03-24 line 9)
    ("- 方案二：若您的小程序具备以下类目并且直播场景符合类目覆盖范围，可申请小程序·云直播进行接入。", "小程序·云直播", False),
    ("若您的小程序具备以下类目，可使用 标准直播+直播标签 进行接入。", "标准直播+直播标签", True),
])
def test_lead_in_names_the_access_method_of_every_row(lead_in, method, known):
    doc = _parse(_table_under(lead_in))
    assert [(s.kind, s.category_raw) for s in doc.statements] == [
        ("eligibility", ("社交", "直播")), ("eligibility", ("教育", "在线视频课程"))]
    lead = strip_markup(lead_in.lstrip("- "))
    assert {(s.integration.method, s.integration.text, s.integration.line) for s in doc.statements} == {
        (method, lead, 3)}
    unknown = [w for w in map(str, doc.warnings) if "none of the known names" in w]
    assert unknown == ([] if known else [f"raw/page.md:3: the lead-in names the access method {method!r}, none of "
                                         f"the known names (标准直播+直播标签, 小程序·云直播插件, 微信原生组件标签): "
                                         f"kept as written"])
    assert not [w for w in map(str, doc.warnings) if "sentence names" in w]


def test_each_table_takes_the_lead_in_written_after_the_table_before_it():
    first = "- 方案一：若您的小程序已具备以下类目，可直接使用 标准直播+直播标签 接入小程序直播。"
    second = "- 方案二：若您的小程序具备以下类目并且直播场景符合类目覆盖范围，可申请小程序·云直播插件进行接入。"
    text = _table_under(first) + "\n" + second + "\n\n|主类目|子类目||直播场景|\n|----|----|----|\n" \
        "|电商平台|电商平台|适用于直播带货等电商直播场景|\n"
    got = [(s.category_raw, s.integration.method) for s in _parse(text).statements]
    assert got == [(("社交", "直播"), "标准直播+直播标签"), (("教育", "在线视频课程"), "标准直播+直播标签"),
                   (("电商平台", "电商平台"), "小程序·云直播插件")]


# WeChat's <live-player> page, 2018-07-24 (corpus/wechat-live-player-component-categories, line 135)
COMPONENT_PAGE = """#### live-player

> 基础库 1.7.0 开始支持，低版本需做[兼容处理](../framework/compatibility.html)

实时音视频播放。

{lead_in}

<table>
<thead><tr><th>一级类目</th><th>二级类目</th></tr></thead>
<tbody>
<tr><td>社交</td><td>直播</td></tr>
<tr><td>医疗</td><td>互联网医院，公立医院</td></tr>
</tbody>
</table>
"""


@pytest.mark.parametrize("lead_in,conditions", [
    ("暂只针对国内主体如下类目的小程序开放，需要先通过类目审核，再在小程序管理后台，“设置”-“接口设置”中自助开通该组件权限。",
     ("只针对国内主体",)),
    # the 2018-01-04 revision: no restriction on the subject
    ("暂只针对如下类目开放，需要先通过类目审核，再在小程序管理后台，“设置”-“接口设置”中自助开通该组件权限。", ()),
])
def test_component_page_lead_in_is_the_native_component_method_and_its_subject_a_condition(lead_in, conditions):
    doc = _parse(COMPONENT_PAGE.format(lead_in=lead_in))
    assert [s.category_raw for s in doc.statements] == [("社交", "直播"), ("医疗", "互联网医院"), ("医疗", "公立医院")]
    for s in doc.statements:
        assert (s.kind, s.integration.method, s.integration.components) == (
            "eligibility", "微信原生组件标签", ("live-player",))
        assert (s.integration.text, s.integration.line, s.conditions) == (lead_in, 7, conditions)
    rows = records.document_to_rows(doc, _info())["requirements"]
    assert {(tuple(r["conditions"]), r["integration"], r["rule"]) for r in rows} == {
        (conditions, "微信原生组件标签", None)}


def test_component_lead_in_under_a_heading_that_names_no_component_names_no_method():
    text = COMPONENT_PAGE.format(lead_in="暂只针对国内主体如下类目的小程序开放，…自助开通该组件权限。").replace(
        "#### live-player", "#### 申请开通")
    assert {(s.integration, s.conditions) for s in _parse(text).statements} == {(None, ("只针对国内主体",))}


def test_subject_restriction_of_a_qualification_table_is_a_condition_of_its_requirement():
    # the wording the issue quotes for WeChat's category list (not found in the stored captures)
    text = ("## 服务类目\n\n（只有非个人主体才有以下类目）\n\n"
            "|一级类目|二级类目|资质要求|\n|----|----|----|\n|社交|直播|《信息网络传播视听节目许可证》|\n")
    (s,) = _parse(text).statements
    assert (s.kind, s.conditions, s.requirement.conditions) == ("qualification", (), ("只有非个人主体",))
    assert s.requirement.documents == ("信息网络传播视听节目许可证",)


def _info():
    from pipeline.core.records import SourceInfo
    return SourceInfo(file="raw/page.md", sha256="0" * 64, size=1, encoding="utf-8", format="markdown")


# --- every column of a category table lands in a field (issue 27, point 3) -----------------

SDK_FIVE_COLUMNS = """# 小程序直播接入

<table>
<tr><th>一级类目/主体类型</th><th>二级类目</th><th>资质要求</th><th>类目适用范围</th><th>小程序直播内容场景</th></tr>
<tr><td>金融业</td><td>证券/期货</td><td>《经营证券期货业务许可证》</td><td>适用于证券公司、期货公司<br>注：如提供股票交易服务，需补充：金融业-证券/期货类目</td><td>金融产品推广直播</td></tr>
<tr><td>汽车</td><td>汽车预售服务</td><td>《营业执照》</td><td>汽车预售、推广；平台暂不支持在线整车销售</td><td>汽车预售、推广直播</td></tr>
</table>
"""


def test_scope_column_and_its_notes_land_in_fields():
    doc = _parse(SDK_FIVE_COLUMNS)
    fin, car = doc.statements
    assert fin.scope == "适用于证券公司、期货公司\n注：如提供股票交易服务，需补充：金融业-证券/期货类目"
    assert fin.also_requires == (("金融业", "证券/期货"),) and fin.scenario == "金融产品推广直播"
    assert (car.scope, car.also_requires) == ("汽车预售、推广；平台暂不支持在线整车销售", ())
    assert not [w for w in map(str, doc.warnings) if "not read" in w]
    row = records.document_to_rows(doc, _info())["requirements"][0]
    assert (row["scope"], row["also_requires_categories"]) == (fin.scope, [["金融业", "证券/期货"]])


def test_a_column_no_field_takes_is_named_in_a_warning():
    text = SDK_FIVE_COLUMNS.replace("<th>类目适用范围</th>", "<th>审核时长</th>")
    doc = _parse(text)
    assert doc.statements[0].scope is None
    assert [w for w in map(str, doc.warnings) if "not read" in w] == [
        "raw/page.md:3: column '审核时长' of the category table is not read into any field"]


@pytest.mark.parametrize("text,paths,vague", [
    ("如提供股票交易服务，需补充：金融业-证券/期货类目。", (("金融业", "证券/期货"),), ()),   # raw/001 line 747
    ("如提供时政信息服务，需补充“时政信息类目”。", (("时政信息",),), ()),                # raw/001 line 66
    ("1、如提供时政信息服务,需补充【时政信息】类目。", (("时政信息",),), ()),              # raw/002 line 39
    ("入驻商家如涉医疗器械、非处方药品在线销售，需补充医疗相关类目。", (), ("需补充医疗相关类目",)),  # raw/001 line 13
    ("选择该类目后首次提交代码审核，需经当地互联网主管机关审核确认。", (), ()),
])
def test_also_requires_another_category(text, paths, vague):
    assert also_required([text]) == (paths, vague)


def test_also_required_category_read_from_a_section_callout_with_the_text_kept():
    text = SECTION.replace("<table >", ">!\n>1. 如提供时政信息服务，需补充“时政信息类目”。\n>\n<table >", 1)
    social = _parse(text).statements[0]
    assert social.also_requires == (("时政信息",),)
    assert "如提供时政信息服务，需补充“时政信息类目”。" in social.notes


def test_also_required_phrase_without_a_clear_category_is_a_warning():
    text = SECTION.replace("<table >", ">!\n>1. 入驻商家如涉医疗器械、非处方药品在线销售，需补充医疗相关类目。\n>\n<table >", 1)
    social = _parse(text).statements[0]
    assert social.also_requires == ()
    assert "'需补充医疗相关类目' names no clear category: kept as text, no category read" in map(str, social.warnings)


# --- eligibility stated in a sentence (issue 27, point 8) -----------------------------------

@pytest.mark.parametrize("line", [
    # tencent-cloud-live-plugin 2020-04-10 line 23 (and 2020-04-15)
    "小程序·云直播插件由于需要先满足【电商平台】或【教育】类目场景，为避免客户购买后不符合要求无法接入，需要先准备以上信息和截图，"
    "然后在此 [提交插件申请](https://cloud.tencent.com/apply/p/n6h3nx5f73)。",
    # 2021-08-30 line 41: bold markup, a list item
    "3. 由于小程序·云直播插件需要先满足 **电商平台** 或 **教育** 类目场景，为避免客户购买后不符合要求无法接入，需要先准备以上信息和截图。",
])
def test_sentence_naming_the_categories_a_method_needs_gives_eligibility_statements(line):
    doc = _parse(f"## 申请插件\n\n{line}\n")
    assert [(s.kind, s.capability, s.category_raw, s.integration.method, s.integration.line, s.span.line_start)
            for s in doc.statements] == [
        ("eligibility", "live_streaming", ("电商平台",), "小程序·云直播插件", 3, 3),
        ("eligibility", "live_streaming", ("教育",), "小程序·云直播插件", 3, 3)]
    assert doc.statements[0].integration.text == strip_markup(line.removeprefix("3. "))
    assert not [w for w in map(str, doc.warnings) if "nothing readable" in w]


@pytest.mark.parametrize("line,warned", [
    # raw/004 line 1004: the names run together (one name or two?): never guessed apart
    ("由于小程序·云直播插件需要先满足电商平台或教育类目场景，为避免客户购买后不符合要求无法接入", True),
    # tencent-cloud-live-solution-selection 2020-03-23 line 1: no method named before 需满足
    ("预计2020年第一季度完成优化后，再次对外开放接入，申请插件的小程序需满足电商平台类目的要求不变。", False),
    # tencent-cloud-live-plugin 2020-03-24 line 16: no method either
    ("若教育类小程序需要做电商直播带货相关业务，也需要具备电商平台类目进行申请。", False),
])
def test_sentence_without_the_shape_gives_no_statement(line, warned):
    doc = _parse(f"## 申请插件\n\n{line}\n")
    assert doc.statements == ()
    assert any("cannot be told apart into names" in w for w in map(str, doc.warnings)) == warned
