"""Each parser on small inline documents: the layouts and breakages the real pages show."""
import textwrap
from pathlib import Path

import pytest

from pipeline.core.errors import ParseError
from pipeline.parsers.htmltable import read_tables
from pipeline.parsers import columns, markdown, pdftext, webtext


def _by_cat(doc):
    return {tuple(s.category_raw): s for s in doc.statements}


# --- HTML tables ---------------------------------------------------------------------------

def test_missing_tr_after_rowspan_is_its_own_row():
    html = textwrap.dedent("""\
        <table>
        <tr><th>一级类目</th><th>二级类目</th><th>所需资质</th></tr>
        <tr><td rowspan="2">医疗</td><td>互联网医院</td><td>《A》</td></tr>
        <td>私立医疗机构</td><td>《B》</td></tr>
        <tr><td>政务民生</td><td>所有二级类目</td><td>《C》</td></tr>
        </table>""")
    t = read_tables(html)[0]
    rows = [[c.text for c in r.cells] for r in t.rows[1:]]
    assert rows == [["医疗", "互联网医院", "《A》"], ["医疗", "私立医疗机构", "《B》"],
                    ["政务民生", "所有二级类目", "《C》"]]
    assert t.rows[2].implicit and t.rows[2].line == 4
    assert any("row without <tr>" in w for w in map(str, t.warnings))


def test_rowspan_declared_too_long_ends_at_a_full_row():
    html = ("<table><tr><th>一级类目</th><th>二级类目</th><th>资质</th></tr>"
            "<tr><td rowspan=\"3\">金融</td><td>银行</td><td>《A》</td></tr>"
            "<tr><td>出行与交通</td><td>高速服务</td><td>《B》</td></tr></table>")
    t = read_tables(html)[0]
    assert [c.text for c in t.rows[2].cells] == ["出行与交通", "高速服务", "《B》"]
    assert any("rowspan above ends early" in w for w in map(str, t.warnings))


def test_unclosed_li_and_td_keep_list_depth_and_lines():
    html = textwrap.dedent("""\
        <table><tr><th>资质要求</th>
        <td><ul>
        <li> 《C》
        <li> D申请时：
          <ul>
            <li> E</li></ul>
        <li> G</li></ul>
        </tr></table>""")
    cell = read_tables(html)[0].rows[0].cells[1]
    assert [(l.text, l.line, l.depth) for l in cell.lines] == [
        ("《C》", 3, 1), ("D申请时：", 4, 1), ("E", 6, 2), ("G", 7, 1)]


# --- Markdown ------------------------------------------------------------------------------

MD_SECTIONS = textwrap.dedent("""\
    >! 个人认证的微信小程序暂不支持直播业务。

    ## 教育

    ### 培训机构 - 职业培训/课外辅导

    具备【教育-培训机构-职业培训】或【教育-培训机构-课外辅导】类目，可使用 [小程序·云直播插件](https://x) 进行接入。
    <table>
     <tr><th>要求</th><th>说明</th></tr>
     <tr><th>类目适用范围</th><td>适用于培训机构</td></tr>
     <tr><th>资质要求（2选1）</th><td>1.《A证》<br>2.《B证》</td></tr>
    </table>

    ### 证券/期货

    具备【金融-证券/期货】类目，可使用 [标准直播+直播标签](https://y) 进行接入。
    >! 如提供股票交易服务，需补充类目。
    <table>
     <tr><th>要求</th><th>说明</th></tr>
     <tr><th>资质要求</th><td>-</td></tr>
    </table>
    """)


def test_markdown_sections_split_named_parts_and_keep_slash_names():
    doc = markdown.parse(MD_SECTIONS, "raw/x.md")
    cats = _by_cat(doc)
    assert set(cats) == {("教育", "培训机构", "职业培训"), ("教育", "培训机构", "课外辅导"), ("教育", "证券/期货")}
    s = cats[("教育", "培训机构", "职业培训")]
    assert (s.requirement.rule, s.requirement.of, s.integration.method) == ("any", 2, "小程序·云直播插件")
    assert s.scope == "适用于培训机构" and s.span.line_start == 5
    other = cats[("教育", "证券/期货")]
    assert other.requirement.rule == "none" and other.notes == ("如提供股票交易服务，需补充类目。",)


HISTORY = Path(__file__).resolve().parent.parent.parent / "shared" / "tencent-history"
needs_history = pytest.mark.skipif(not HISTORY.is_dir(), reason="../shared/tencent-history not present")


@needs_history
@pytest.mark.parametrize("revision", ["2020-04-09_5c448341de.md", "2020-04-15_fdb773e76b.md"])
def test_list_lines_after_a_callout_written_without_the_marker_belong_to_it(revision):
    """1078/43316, 2020-04-09:12-14: ``>!`` then ``1. 入驻商家…`` and ``2. 不得提供…`` without ``>``:
    the callout's notes, as the 2020-04-15 revision writes them with ``>`` on every line."""
    f = HISTORY / "tencent-cloud-live-category-requirements" / revision
    doc = markdown.parse(f.read_text("utf-8"), f.name)
    assert _by_cat(doc)[("电商平台", "电商平台")].notes == (
        "入驻商家如涉医疗器械、非处方药品在线销售，需补充医疗相关类目。", "不得提供如催情香水/催情药品等违法违规商品销售。")


def _plugin_lines(first: int, last: int) -> list[str]:
    """Real lines of the plugin page (1078/42916, 2021-08-30), 1-based and inclusive."""
    f = HISTORY / "tencent-cloud-live-plugin" / "2021-08-30_ddc73f1659.md"
    return f.read_text("utf-8").split("\n")[first - 1:last] if HISTORY.is_dir() else []


@pytest.mark.parametrize("lines, notes", [
    ([">! ", "1. A。", "2. B。"], ("A。", "B。")),                      # list lines continue the callout
    ([">! ", "1. A。", "", "2. B。"], ("A。",)),                        # a blank line ends it
    ([">! ", "1. A。", "说明文字", "2. B。"], ("A。",)),                 # so does a line that is no list item
    ([">! C。", ">", "4. D。"], ("C。",)),                              # and a bare ``>`` line
    (["- E。", ">! F。"], ("F。",)),                                    # list lines before it are not its
    # the plugin page, 2021-08-30:43-45: ``>! 请先参考…``, a bare ``>``, ``4. 信息提交完成后…``
    pytest.param(_plugin_lines(43, 45), ("请先参考 方案选择 和 类目申请资质要求，确保小程序的直播场景和已选择的服务类目一致，"
                                         "否则即使成功购买插件，微信小程序在上线时也会被驳回。",),
                 marks=needs_history, id="plugin-2021-08-30:43-45"),
])
def test_a_callout_continues_over_the_list_lines_that_follow_it(lines, notes):
    md = "\n".join(["## 教育", "### 在线视频课程", "具备【教育-在线视频课程】类目，可使用 [标准直播+直播标签](https://y) 进行接入。",
                    *lines,
                    "<table>", "<tr><th>要求</th><th>说明</th></tr>",
                    "<tr><th>资质要求</th><td>-</td></tr>", "</table>", ""])
    doc = markdown.parse(md, "raw/x.md")
    assert _by_cat(doc)[("教育", "在线视频课程")].notes == notes


def test_markdown_category_table_with_section_label():
    md = textwrap.dedent("""\
        **以下行业支持：**
        <table>
        <tr><th>一级类目</th><th>二级类目</th><th>使用人脸核验接口所需资质</th></tr>
        <tr><td> IT 科技 </td><td>增值电信运营商</td><td>提供《增值电信业务经营许可证》。</td></tr>
        </table>""")
    doc = markdown.parse(md, "raw/y.md")
    (s,) = doc.statements
    assert s.capability == "face_verification" and s.category_raw == ("IT 科技", "增值电信运营商")
    assert s.section == "以下行业支持" and s.span.line_start == 4


# --- web copy (lost lists) -----------------------------------------------------------------

WEB = textwrap.dedent("""\
    类目申请资质要求

    最近更新时间:2026-02-11 19:22:42

    我的收藏
    注意
    本文仅提供参考。

    教育

    在线视频课程

    具备教育-在线视频课程类目,可使用微信原生组件标签 <live-pusher><live-player> 进行接入。
    要求
    说明
    小程序直播场景
    网课。
    资质要求
    (5选1)

    驾校培训

    具备教育-驾校培训类目,可使用 小程序·云直播插件 进行接入。
    要求
    说明
    资质要求

    互联网医院

    具备医疗-互联网医院类目,可使用微信原生组件标签 <live-pusher><live-player> 进行接入。

    企业征信

    具备金融-企业征信 (注:原二级名称为【征信业务】)类目,可使用微信原生组件标签 <live-pusher><live-player> 进行接入。
    要求
    说明
    资质要求
    /
    """)


def test_web_copy_lost_lists_become_items_missing():
    doc = webtext.parse(WEB, "raw/w.txt")
    assert doc.pages[0].title == "类目申请资质要求" and doc.pages[0].updated == "2026-02-11"
    cats = _by_cat(doc)
    assert list(cats) == [("教育", "在线视频课程"), ("教育", "驾校培训"), ("教育", "互联网医院"), ("教育", "企业征信")]
    v = cats[("教育", "在线视频课程")]
    assert (v.requirement.rule, v.requirement.of, v.requirement.options, v.requirement.items_missing) == ("any", 5, 0, True)
    assert v.integration.method == "微信原生组件标签" and v.integration.components == ("live-pusher", "live-player")
    assert cats[("教育", "驾校培训")].requirement.rule == "unknown"
    assert cats[("教育", "互联网医院")].requirement.rule == "unknown"
    z = cats[("教育", "企业征信")]
    assert z.requirement.rule == "none" and z.renamed_from == ("征信业务",)


# --- PDF text (broken lines, URLs, displaced sentences) -------------------------------------

PDF = textwrap.dedent("""\
     类目申请资质要求
    最近更新时间：2024-08-29 17:45:51

    金融业

    银行

    要求 说明

    小程序直播场
    景
    金融产品视频客服理赔、金融产品推广直播等

    类目适用范围 适用于提供银行业务在线服务或交易等服务

    资质要求（2

    选1）

    1.《金融许可证》

    2.《金融机构许可证》 

    征信业务

    https://cloud.tencent.com/document/product/454/12554
    https://developers.weixin.qq.com/miniprogram/product/material/jinrong/yinhang.html
     具备 金融-银行 类目，可使用 标准直播+直播标签  进行接入。

    具备 金融-征信业务 类目，可使用 标准直播+直播标签  进行接入。

    要求 说明

    类目适用范围 适用于银行或征信机构提供征信业务服务

    资质要求（2

    选1）

    1.经营个人征信业务：《个人征信业务经营许可证》、《营业执照》

    2.经营企业征信业务：经所在地的中国人民银行及其派出机构备案的《企业征信业务经营

    备案证》、《营业执照》 
    """)


def test_pdf_text_joins_broken_cells_and_finds_displaced_sentences():
    doc = pdftext.parse(PDF, "raw/p.txt")
    cats = _by_cat(doc)
    assert list(cats) == [("金融业", "银行"), ("金融业", "征信业务")]
    bank = cats[("金融业", "银行")]
    assert bank.scenario == "金融产品视频客服理赔、金融产品推广直播等"
    assert (bank.requirement.rule, bank.requirement.of, bank.requirement.options) == ("any", 2, 2)
    assert bank.integration.method == "标准直播+直播标签" and bank.integration.line == 28
    credit = cats[("金融业", "征信业务")]
    assert credit.requirement.documents == ("个人征信业务经营许可证", "营业执照", "企业征信业务经营备案证")
    assert credit.page == "类目申请资质要求" and credit.page_updated == "2024-08-29"


def test_pdf_text_scenarios_and_licences():
    text = textwrap.dedent("""\
         方案选择
        最近更新时间：2024-07-26 16:22:11

        场景5：医疗相关直播

        小程序内容场景 要求 接入方案

        医疗器械、非处方药品销售的直播 见场景2：电商带货类直播要求
        见场景2：电商带货类

        直播方案

        问诊、大型健康讲座等直播。
        医疗-互联网医院类目  或 医疗-公

        立医疗机构类目
        标准直播+直

        播标签
         直播服务许可申请
        最近更新时间：2022-11-23 10:40:03

        涉及经营网络表演业务，请咨询当地人民政府文化行政部门申请办理《网络文化经营许可证》。
        """)
    doc = pdftext.parse(text, "raw/s.txt")
    (sc,) = doc.scenarios
    assert sc.scenario == "场景5：医疗相关直播"
    assert sc.solutions == ("见场景2：电商带货类直播方案", "标准直播+直播标签")
    assert sc.requirements == ("见场景2：电商带货类直播要求", "医疗-互联网医院类目 或 医疗-公立医疗机构类目")
    (lic,) = doc.licenses
    assert (lic.business, lic.licence, lic.authority) == ("经营网络表演业务", "网络文化经营许可证", "当地人民政府文化行政部门")
    assert lic.span.line_start == 23 and lic.page_updated == "2022-11-23"


# --- column text ---------------------------------------------------------------------------

def test_column_table_levels_slash_and_continuation():
    text = textwrap.dedent("""\
        # 附录
        一级类目 二级类目 三级类目 使用微信人脸核身能力所需资质
        物流服务 收件/派件 / 《快递业务经营许可证》
        交通服务 网约车 快车/专车 (甲)提供《X证》。(乙)提供《Y证》。
        金融业 保险 / (2选1):1、《A》;
        2、《B》
        """)
    doc = columns.parse(text, "raw/c.txt")
    cats = _by_cat(doc)
    assert ("物流服务", "收件/派件") in cats
    assert cats[("交通服务", "网约车", "快车/专车")].requirement.options == 2
    ins = cats[("金融业", "保险")]
    assert (ins.requirement.of, ins.requirement.options, ins.span.line_end) == (2, 2, 6)


def test_column_row_too_short_without_previous_row_is_an_error():
    with pytest.raises(ParseError) as e:
        columns.parse("一级类目 二级类目 人脸核身所需资质\n孤立\n", "raw/c.txt")
    assert str(e.value).startswith("raw/c.txt:2: ")


def test_pdf_text_sentence_naming_another_section_keeps_its_method_with_a_warning():
    """Regression (a typo in the source: 1078 of 2020-04 writes 具备【教育-培训机构-…】 under
    教育信息服务): the sentence under a heading that names a section which has its own sentence
    stays with the section it stands in, flagged, instead of being dropped."""
    text = PDF.replace("具备 金融-征信业务 类目", "具备 金融-私募基金 类目")
    doc = pdftext.parse(text, "raw/p.txt")
    credit = next(s for s in doc.statements if s.category_raw[-1] == "征信业务")
    assert credit.integration is not None and credit.integration.line == 30
    assert any("names '金融-私募基金', not this category" in w for w in map(str, credit.warnings))
    assert not any("sentence names '金融-私募基金'" in w for w in map(str, doc.warnings))


def test_sentence_without_its_section_is_reported():
    md = ("# 类目申请资质要求\n\n具备【金融-不存在】类目，可使用 标准直播+直播标签 进行接入。\n\n## 社交 - 直播\n\n"
          "具备【社交-直播】类目，可使用 标准直播+直播标签 进行接入。\n\n<table><tr><th>要求</th><th>说明</th></tr>"
          "<tr><th>资质要求</th><td>《网络文化经营许可证》</td></tr></table>\n")
    doc = markdown.parse(md, "raw/m.md")
    assert [w for w in map(str, doc.warnings) if "sentence names" in w] == [
        "raw/m.md:3: sentence names '金融-不存在' but no section of that category was found"]


def test_a_table_read_again_at_another_line_equals_a_fresh_reading():
    """A table read further down has every line it keeps further down by as much, warnings
    included, and the same cells."""
    html = textwrap.dedent("""\
        <table>
        <tr><th>一级类目</th><th>二级类目</th><th>所需资质</th></tr>
        <tr><td rowspan="3">金融</td><td>基金</td><td>1、《A》<br>2、《B》</td></tr>
        <td>保险</td><td>《C》</td>
        <tr><td>银行</td><td><ul><li>《D》</li><li>《E》</li></ul></td></tr>
        </table>""")
    first = read_tables(html, 1)
    assert first[0].warnings  # the row without <tr>
    later = read_tables(html, 41)
    assert [[c.text for c in r.cells] for r in later[0].rows] == [[c.text for c in r.cells] for r in first[0].rows]
    assert [r.line for r in later[0].rows] == [r.line + 40 for r in first[0].rows]
    assert later[0].warnings == tuple(w.at(delta=40) for w in first[0].warnings)
    assert [(w.file, w.line, w.kind) for w in later[0].warnings] == [(None, 44, "row_without_tr")]


def test_a_page_export_moved_down_and_redated_reads_the_same_at_its_lines():
    """Another capture of a page export, two lines further down and every page dated a day
    later: the same statements, scenarios and licences, each at its own line, file and date."""
    import dataclasses
    import re
    from pathlib import Path

    (path,) = Path(__file__).resolve().parent.parent.glob("raw/004_*.txt")
    # a sentence naming a category without a section gives a warning with a line number
    seed = path.read_text("utf-8").replace("具备 社交-直播 类目，可使用", "具备 金融-私募基金 类目，可使用")
    later = "导出说明\n\n" + re.sub(r"(最近更新时间：\d{4}-\d{2}-)(\d{2})",
                                   lambda m: f"{m.group(1)}{int(m.group(2)) % 28 + 1:02d}", seed)
    first, again = pdftext.parse(seed, "raw/first.txt"), pdftext.parse(later, "raw/later.txt")

    def at(span):
        return dataclasses.replace(span, file="raw/later.txt", line_start=span.line_start + 2,
                                   line_end=span.line_end + 2)

    assert [at(s.span) for s in first.statements] == [s.span for s in again.statements] and first.statements
    assert [at(s.span) for s in first.scenarios] == [s.span for s in again.scenarios] and first.scenarios
    assert [at(s.span) for s in first.licenses] == [s.span for s in again.licenses] and first.licenses
    assert [s.page_updated for s in again.statements] != [s.page_updated for s in first.statements]
    assert [w.replace("raw/first.txt:", "") for w in map(str, first.warnings) if "sentence names" in w] != []
    assert [w.line for w in again.warnings if w.kind == "sentence_without_section"] == \
        [w.line + 2 for w in first.warnings if w.kind == "sentence_without_section"]


def test_a_sentence_read_elsewhere_is_the_same_sentence_at_its_line():
    import dataclasses

    from pipeline.parsers import sections

    text = "具备【教育-培训机构-职业培训 (注:原二级名称为【职业教育】)】类目，可使用小程序直播组件<live-player>进行接入"
    first = sections.parse_sentence(text, 12)
    again = sections.parse_sentence(text, 40)
    assert first.line == 12 and again == dataclasses.replace(first, line=40) and again.renamed_from == ("职业教育",)
    assert again.paths and sections.parse_sentence("没有接入说明的一行", 3) is None


def test_a_table_read_at_any_line_keeps_its_cells_and_starts_there():
    html = textwrap.dedent("""\
        <table>
        <tr><th>一级类目</th><th>二级类目</th><th>资质</th></tr>
        <tr><td rowspan="2">金融业</td><td>银行</td><td>《金融许可证》<br>或<br>《营业执照》</td></tr>
        <tr><td>证券</td><td><ul><li>《经营证券期货业务许可证》</li></ul></td></tr>
        <td>保险</td><td>-</td><td>/</td>
        </table>""")
    at_1 = read_tables(html, 1)
    for first in (1, 7, 300):
        again = read_tables(html, first)
        assert again[0].warnings and again[0].line_start == first
        assert [[c.text for c in r.cells] for r in again[0].rows] == \
            [[c.text for c in r.cells] for r in at_1[0].rows]


def test_a_markdown_document_moved_down_keeps_every_line_it_reports():
    # spans, item lines and warnings of a document read four lines further down are all four
    # lines further down (what a reviewer opens must be the line the text is on)
    import re
    from pathlib import Path

    from pipeline.parsers import markdown

    def lines(doc):
        return ([(s.span.line_start, s.span.line_end, [i.line for i in s.requirement.items]) for s in doc.statements],
                [re.sub(r"^raw/x\.md:(\d+)", lambda m: m.group(1), w) for w in map(str, doc.warnings)])

    root = Path(__file__).resolve().parent.parent
    for seed in sorted(root.glob("raw/00[01]_*.txt")):  # the two Markdown seeds
        text = seed.read_text("utf-8")
        # a row without <tr> (a copy of the table's last row) gives a warning naming its line
        end = text.index("</table>")
        row = re.findall(r"<tr[^>]*>(.*?)</tr>", text[:end], re.S)[-1]
        text = text[:end] + row + "\n" + text[end:]
        first = markdown.parse(text, "raw/x.md")
        later = markdown.parse("导出说明\n\n说明文字\n\n" + text, "raw/x.md")
        (spans, warnings), (spans2, warnings2) = lines(first), lines(later)
        assert spans2 == [(a + 4, b + 4, [i + 4 if i else i for i in items]) for a, b, items in spans] and spans
        moved = [re.sub(r"^(\d+)", lambda m: str(int(m.group(1)) + 4), w) for w in warnings]
        assert warnings2 == moved and any("without <tr>" in w for w in warnings2)


def test_a_warning_names_a_line_of_its_record():
    """Regression: requirement texts were read once at line 1 and moved, but the line in their
    warnings was not: 003's 医疗/互联网医院 said ``line 1: unclosed bracket`` for a bracket on
    line 104. Every ``line N:`` a record's warning names is a line of that record, and the text
    it quotes is on it."""
    import re
    from pathlib import Path

    from pipeline.build import rows_of
    from pipeline.store import read_raw

    root = Path(__file__).resolve().parent.parent
    seen = 0
    for raw in read_raw([root / "raw"]):
        lines = raw.data.decode("utf-8").split("\n") if not raw.data.startswith(b"%PDF") else None
        for r in rows_of(raw)["requirements"]:
            for w in r["warnings"]:
                m = re.match(r"line (\d+): unclosed bracket \((.{0,12})", w)
                if not m:
                    continue
                seen += 1
                n = int(m.group(1))
                assert r["provenance"]["line_start"] <= n <= r["provenance"]["line_end"], (raw.display, w)
                assert lines is None or m.group(2)[:6] in lines[n - 1], (raw.display, w)
    assert seen
