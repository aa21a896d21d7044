"""Page kinds and layouts of Tencent's real pages, each a small document in the layout the
issue quotes (header rows and lines as the pages write them): recognised from their header
cells and content, not from the seeds' wording."""
from pipeline.build import parse_raw
from pipeline.headers import CATEGORY, SCENARIO, column_roles, table_kind
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
    cell's text whole and the build decides (``pipeline/names.py``, tests/test_names.py)."""
    text = ("若您的小程序具备以下类目，并且直播场景符合类目覆盖范围，可申请小程序·云直播进行接入。\n\n"
            "|主类目|子类目||直播场景|\n|----|----|----|\n|电商平台|电商平台|适用于直播带货等电商直播场景|\n"
            "|医疗|互联网医院、公立医院|问诊、大型健康讲座等直播。|\n")
    doc = _parse(text)
    assert [(s.kind, s.capability, s.category_raw) for s in doc.statements] == [
        ("eligibility", "live_streaming", ("电商平台", "电商平台")),
        ("eligibility", "live_streaming", ("医疗", "互联网医院、公立医院"))]
    assert all(s.requirement is None for s in doc.statements)
    assert doc.statements[0].scenario == "适用于直播带货等电商直播场景"
    assert any("pipe table header has 4 cells over 3 columns" in w for w in doc.warnings)


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
    assert any("cut short" in w for w in doc.warnings)
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
