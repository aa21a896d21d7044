"""Values over time as periods, and each category's requirement drawn as a timeline in the HTML
report (issue 32, point 5)."""
import re

from lxml import etree

from pipeline.present import report, timeline
from pipeline.reconcile.periods import conflict_first_periods, conflict_periods, first_periods, periods

SVG = "{http://www.w3.org/2000/svg}"


def _v(value, date, n, page="p", raw=("教育", "类目")):
    return {"value": value, "page": page, "date": date, "source_file": f"raw/{n:02d}.md", "source_sha256": f"{n:064d}",
            "line_start": 10 + n, "line_end": 12 + n, "category_raw": list(raw)}


def test_consecutive_equal_values_are_one_period():
    values = [_v("仅支持虚拟运营商", None, 0), _v("(none)", "2020-03-19", 1)]
    values += [_v("仅支持虚拟运营商", f"2020-{m:02d}-01", m) for m in range(4, 12)]
    got = periods(values)
    assert [(p.value, p.captures, p.start, p.end) for p in got] == [
        ("仅支持虚拟运营商", 1, None, None), ("(none)", 1, "2020-03-19", "2020-03-19"),
        ("仅支持虚拟运营商", 8, "2020-04-01", "2020-11-01")]
    last = got[-1]
    assert (last.first["source_file"], last.first["line_start"]) == ("raw/04.md", 14)
    assert (last.last["source_file"], last.last["line_start"]) == ("raw/11.md", 21)
    # where an undated capture falls is unknown: never joined with a dated one
    assert [p.captures for p in periods([_v("a", None, 1), _v("a", "2020-01-01", 2)])] == [1, 1]
    # another page, a value said again later, a capture that comes again: new periods
    assert len(periods([_v("a", "2020-01-01", 1), _v("a", "2020-02-01", 2, page="q")])) == 2
    assert [p.value for p in periods([_v("a", "2020-01-01", 1), _v("b", "2020-02-01", 2),
                                      _v("a", "2020-03-01", 3)])] == ["a", "b", "a"]
    assert len(periods([_v("a", "2020-01-01", 1), _v("a", "2020-01-01", 1)])) == 2


def test_the_first_periods_are_those_of_all_and_the_rest_are_counted():
    """A conflict header keeps a dozen periods of a hundred thousand: the first ones, made as
    ``periods`` makes them, and the number of all of them."""
    values = [_v("ab"[m % 3 == 0], f"2020-{m + 1:02d}-01", m) for m in range(12)]
    values += [_v("a", None, 20), _v("a", "2021-01-01", 3), _v("a", "2021-02-01", 3)]
    whole = periods(values)
    for most in (0, 1, 3, len(whole), len(whole) + 5):
        assert first_periods(values, most) == (whole[:most], len(whole))
    cats = [("教育", f"类目{i}") for i in range(3)]
    c = {"values": [_v("x", f"2020-0{m + 1}-01", m, raw=cat) for cat in cats for m in range(2)], "category_id": None}
    assert conflict_first_periods(c, 2) == (conflict_periods(c)[:2], 3)


def test_a_page_wide_change_is_a_run_per_category():
    cats = [("教育", f"类目{i}") for i in range(3)]
    values = [_v("x" if m < 2 else "y", f"2020-0{m + 1}-01", m, raw=c) for c in cats for m in range(4)]
    c = {"values": values, "category_id": None}
    got = conflict_periods(c)
    assert [(p.category_raw[-1], p.value, p.captures) for p in got] == [
        (f"类目{i}", v, 2) for i in range(3) for v in ("x", "y")]


def test_the_report_lists_periods_with_first_and_last_source(tmp_path):
    from test_review_report import _conflict

    values = [dict(_v("仅支持虚拟运营商", f"2020-{m:02d}-01", m)) for m in range(1, 10)]
    data = report.ReportData(version="v2", previous=None, diffs=[], reviews=[], pages=[], categories=[],
                             conflicts=[_conflict("cfl_0000000000000001", "conditions_differ", "open", "high",
                                                  ["IT科技", "增值电信运营商"], values)])
    md, html = report.to_markdown(data), report.to_html(data)
    assert ("  - 仅支持虚拟运营商 — 9 captures, 2020-01-01 → 2020-09-01: first raw/01.md:11, last raw/09.md:19"
            in md)
    assert md.count("仅支持虚拟运营商") == 1 and html.count('class="period"') == 1


def _lanes(name_a="1078/43316 <script>&", doc="《基金托管业务许可证》<b>"):
    said = {"rule": "any", "pick": 1, "of": 3, "options": 3, "declared": "（3选1）", "documents": [doc],
            "conditions": ["仅支持<i>公立</i>"], "integration": None, "items_missing": False, "kind": "qualification"}
    a = periods([dict(_v("A", "2020-01-01", 1, page=name_a), said=said),
                 dict(_v("A", "2020-06-01", 2, page=name_a), said=said),
                 dict(_v("B", "2021-03-01", 3, page=name_a), said=dict(said, of=5))], said=lambda v: v["said"])
    b = periods([dict(_v("B", None, 4, page="untitled:raw/003.txt"), said=dict(said, of=5))], said=lambda v: v["said"])
    return [(name_a, a), ("untitled:raw/003.txt", b)]


def test_a_timeline_is_well_formed_svg_with_its_text_escaped_and_the_same_each_time():
    t = timeline.draw("live_streaming", "cat_1", ["金融业", "公募<基金>&"], _lanes())
    assert str(t.svg) == str(timeline.draw("live_streaming", "cat_1", ["金融业", "公募<基金>&"], _lanes()).svg)
    root = etree.fromstring(str(t.svg).encode("utf-8"))
    assert root.tag == f"{SVG}svg" and "公募<基金>&" in root.get("aria-label")
    lanes = root.findall(f"{SVG}g[@class='lane']")
    assert [g.find(f"{SVG}title").text for g in lanes] == ["1078/43316 <script>&", "untitled:raw/003.txt"]
    assert "<script" not in str(t.svg) and "&lt;script&gt;&amp;" in str(t.svg)
    bars = root.findall(f"{SVG}g/{SVG}rect")
    assert len(bars) == 3  # two periods of the first page, the undated one of the second
    tips = [g.find(f"{SVG}title").text for g in root.findall(f"{SVG}g") if g.find(f"{SVG}rect") is not None]
    assert tips[0] == "A: 2 captures, 2020-01-01 → 2020-06-01: first raw/01.md:11, last raw/02.md:12"
    # the same requirement, the same letter on every page
    assert [x[0] for x in t.legend] == ["A", "B"] and tips[2].startswith("B: raw/04.md:14 (date unknown)")


def test_the_report_draws_timelines_escaped_and_bounded(tmp_path):
    drawn = [timeline.draw("live_streaming", f"cat_{i}", ["教育", f"<类目{i}>"], _lanes()) for i in range(3)]
    data = report.ReportData(version="v2", previous=None, diffs=[], conflicts=[], reviews=[], pages=[],
                             categories=[], timelines=tuple(drawn), timelines_more=4, timelines_same=7)
    html = report.to_html(data)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 3 and all(etree.fromstring(s.encode("utf-8")) is not None for s in svgs)
    assert "《基金托管业务许可证》&lt;b&gt;" in html and "仅支持&lt;i&gt;公立&lt;/i&gt;" in html and "<i>" not in html
    assert "7 categories required the same" in html and "4 more changed over time" in html
    # a category's lanes and periods are capped, and say so
    many = [(f"page{i}", ps) for i in range(timeline.MAX_LANES + 2) for _, ps in _lanes()[:1]]
    t = timeline.draw("x", "cat", ["c"], many)
    assert len(etree.fromstring(str(t.svg).encode()).findall(f"{SVG}g[@class='lane']")) == timeline.MAX_LANES
    assert t.omitted == "2 more pages not drawn"


def test_the_built_report_draws_the_categories_pages_disagree_on(fresh_build):
    result, output = fresh_build
    html = (output / "reports" / f"{result.version}.html").read_text("utf-8")
    section = html[html.index('<section id="timelines">'):html.index('<section id="changes">')]
    svgs = re.findall(r"<svg .*?</svg>", section, re.S)
    assert svgs and len(svgs) <= timeline.MAX_TIMELINES
    for s in svgs:
        etree.fromstring(s.encode("utf-8"))
    fund = section[section.index('data-name="金融业 / 公募基金"'):]
    fund = fund[:fund.index("</section>")]
    # the face-verification pages 000 and 003 say 3选1 and 4选1: two lanes, two letters
    assert "1 of 3 (3选1)" in fund and "1 of 4 (4选1)" in fund


def test_requirement_periods_read_per_content_are_those_read_per_record(fresh_build):
    """The build's rows (``records.Row``s, each content's fields read once for all its
    captures) give each category's periods exactly as the published records read one by one
    (no content hash to share by): eligibility lists left out, parts kept apart."""
    from conftest import read_table

    from pipeline.core.records import content_hash, rows_of_records
    from pipeline.reconcile.periods import requirement_periods
    from pipeline.store import dataset_dir, latest

    _, output = fresh_build
    ds = dataset_dir(output, latest(output))
    records, pages = read_table(ds, "requirements"), read_table(ds, "pages")
    # (the seeds state no eligibility list: one of their statements made one)
    listed = dict(records[0], kind="eligibility")
    records[0] = dict(listed, content_hash=content_hash(listed))
    plain = [{k: v for k, v in r.items() if k != "content_hash"} for r in records]
    got = requirement_periods(rows_of_records(records), pages)
    assert got and got == requirement_periods(plain, pages)
    assert any(" / " in lane for per_lane in got.values() for lane, _ in per_lane)  # (a page's parts apart)
    starts = {(p.first["source_file"], p.first["line_start"]) for per_lane in got.values()
              for _, ps in per_lane for p in ps}
    assert (listed["source_file"], listed["provenance"]["line_start"]) not in starts
    assert (records[1]["source_file"], records[1]["provenance"]["line_start"]) in starts
