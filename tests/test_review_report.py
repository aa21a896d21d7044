"""Decisions on conflicts, diff reports, and what an edited copy in raw/ shows."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from pipeline.build import run_build
from pipeline.core.errors import ParseError
from pipeline.reconcile.review import apply_decisions, parse_decisions


def _cli(cwd, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def _latest(out):
    v = (out / "LATEST").read_text().strip()
    return v, {t: json.loads((out / "datasets" / v / f"{t}.json").read_text())["records"]
               for t in ("conflicts", "reviews")}


def _report(out):
    v = (out / "LATEST").read_text().strip()
    return (out / "reports" / f"{v}.md").read_text(), (out / "reports" / f"{v}.html").read_text()


def _fund_conflict(tables):
    return next(c for c in tables["conflicts"] if c["kind"] == "count_differs" and c["relation"] == "version"
                and c["category"] == ["金融业", "公募基金"])


# --- decisions ---------------------------------------------------------------------------

def test_decide_then_build_applies_the_decision(tmp_path, raw_copy):
    assert _cli(tmp_path, "build").returncode == 0
    _, tables = _latest(tmp_path / "output")
    c = _fund_conflict(tables)
    proc = _cli(tmp_path, "decide", c["id"], "--decision", "follow newest", "--reason", "5选1 confirmed",
                "--reviewer", "Li Wei", "--date", "2026-11-20")
    assert proc.returncode == 0, proc.stderr
    assert _cli(tmp_path, "build").returncode == 0
    _, tables = _latest(tmp_path / "output")
    c2 = next(x for x in tables["conflicts"] if x["id"] == c["id"])
    assert c2["status"] == "decided" and c2["decision"]["reviewer"] == "Li Wei"
    assert tables["reviews"][0]["status"] == "applied"
    # the review quotes the conflict's whole summary (the build keeps it only for decided ones)
    assert tables["reviews"][0]["summary"] == c2["summary"] and "5选1" in c2["summary"]
    md, html = _report(tmp_path / "output")
    assert "### Decided (1)" in md and "follow newest" in html
    # a decided conflict no longer needs a decision: it is listed with the rest, not at the top
    decide, rest = md.split("## Current requirements")
    assert c["id"] not in decide and c["id"] in rest.split("### Decided (1)")[1]


def test_decision_goes_stale_when_values_change_and_when_conflict_disappears(tmp_path, raw_copy):
    assert _cli(tmp_path, "build").returncode == 0
    _, tables = _latest(tmp_path / "output")
    c = _fund_conflict(tables)
    assert _cli(tmp_path, "decide", c["id"], "--decision", "ok", "--reason", "r", "--reviewer", "x",
                "--date", "2026-11-20").returncode == 0
    # the 2026 page now says 6选1: the decision was about other values
    p = raw_copy / "002_ff5f8a7ab923942f.txt"
    p.write_text(p.read_text().replace("资质要求\n(5选1):", "资质要求\n(6选1):"))
    assert _cli(tmp_path, "build").returncode == 0
    _, tables = _latest(tmp_path / "output")
    assert next(x for x in tables["conflicts"] if x["id"] == c["id"])["status"] == "stale"
    assert tables["reviews"][0]["stale_reason"] == "values changed since the decision"
    # all versions agree again: the conflict is gone, the decision is reported, not kept
    p.write_text(p.read_text().replace("资质要求\n(6选1):", "资质要求\n(3选1):"))
    assert _cli(tmp_path, "build").returncode == 0
    _, tables = _latest(tmp_path / "output")
    assert c["id"] not in {x["id"] for x in tables["conflicts"]}
    assert tables["reviews"][0]["stale_reason"] == "conflict no longer exists"
    md, _ = _report(tmp_path / "output")
    assert "Decisions whose conflict no longer exists" in md and c["id"] in md


def test_unknown_conflict_id_is_a_clear_error(tmp_path, raw_copy):
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "decisions.toml").write_text(
        '# decisions\n\n[[decision]]\nconflict = "cfl_0000000000000000"\ndecision = "x"\nreason = "y"\n'
        'reviewer = "z"\ndate = 2026-11-20\nvalues = "abc"\n')
    proc = _cli(tmp_path, "build")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("review/decisions.toml:3: unknown conflict id cfl_0000000000000000: "
                                   "not in this build nor in any published dataset version")
    assert not (tmp_path / "output" / "datasets").exists()


@pytest.mark.parametrize("text,line,message", [
    ('[[decision]]\nconflict = "cfl_0123456789abcdef"\n', 1, "decision lacks decision, reason, reviewer, date, values"),
    ('[[decision]]\nconflict = "nope"\ndecision="a"\nreason="b"\nreviewer="c"\ndate=2026-01-01\nvalues="v"\n', 1,
     "'nope' is not a conflict id"),
    ('x = 1\n', 1, "unexpected top-level key"),
    ('\n[[decision]]\nconflict = "cfl_0123456789abcdef"\ndecision="a"\nreason="b"\nreviewer="c"\ndate="soon"\nvalues="v"\n',
     2, "date 'soon' is not YYYY-MM-DD"),
    ('\n[[decision]]\nconflict = "cfl_0123456789abcdef"\ndecision="a"\nreason="b"\nreviewer="c"\ndate="2026-02-30"\nvalues="v"\n',
     2, "date '2026-02-30' is not YYYY-MM-DD"),
    # regression: one bracket pair (a table, not an array of tables) was a TypeError traceback
    ('# decisions\n[decision]\nconflict = "cfl_0123456789abcdef"\n', 2, "each decision is a [[decision]] table"),
    ('decision = "follow newest"\n', 1, "each decision is a [[decision]] table"),
])
def test_malformed_decisions(text, line, message):
    with pytest.raises(ParseError) as e:
        parse_decisions(text, "review/decisions.toml")
    assert str(e.value).startswith(f"review/decisions.toml:{line}: ") and message in str(e.value)


def test_apply_marks_status_per_decision():
    cs = [{"id": "cfl_aaaaaaaaaaaaaaaa", "values_hash": "h1", "summary": "s", "status": "open", "decision": None}]
    ds = parse_decisions('[[decision]]\nconflict="cfl_aaaaaaaaaaaaaaaa"\ndecision="a"\nreason="b"\nreviewer="c"\n'
                         'date=2026-01-01\nvalues="h1"\n')
    out, reviews = apply_decisions(cs, ds, set())
    assert out[0]["status"] == "decided" and reviews[0]["status"] == "applied"
    assert cs[0]["status"] == "open", "input rows are not modified"


# --- reports and variants -----------------------------------------------------------------

def _change_rows(md: str) -> list[str]:
    section = md[md.index("## What changed"):md.index("## Decided, history")]
    rest = section.split("### Summary", 1)[1]  # (the sources' sections, after the counts)
    section = rest[rest.find("\n### "):] if "\n### " in rest else ""
    return [ln for ln in section.splitlines() if ln.startswith("| ") and not ln.startswith("| category")]


def test_edited_copy_in_raw_shows_exactly_its_edits(tmp_path, raw_copy):
    out = tmp_path / "output"
    run_build([raw_copy], out)
    text = (raw_copy / "001_c5ae0df2c7b8cf07.txt").read_text()
    text = text.replace("资质要求（3选1）</th>\n  <td><a href=\"https://developers.weixin.qq.com/miniprogram/product/material/jinrong/jijin.html\">",
                        "资质要求（5选1）</th>\n  <td><a href=\"https://developers.weixin.qq.com/miniprogram/product/material/jinrong/jijin.html\">")
    text = text.replace("2.《私募投资基金管理人登记证书》", "2.《私募投资基金管理人登记证书》<br>\n3.《私募基金托管协议》")
    blocks = re.split(r"(?=\n### )", text)
    blocks = [b for b in blocks if "### 出国留学" not in b]
    i = next(i for i, b in enumerate(blocks) if "### 银行" in b)
    j = next(i for i, b in enumerate(blocks) if "### 信托" in b)
    blocks[i], blocks[j] = blocks[j], blocks[i]
    (raw_copy / "edited.md").write_text("".join(blocks))
    run_build([raw_copy], out)
    md, html = _report(out)
    rows = _change_rows(md)
    assert "new version of live_streaming:类目申请资质要求" in md and "compared with raw/001_c5ae0df2c7b8cf07.txt" in md
    assert len(rows) == 4, rows
    assert any("金融业 / 公募基金 | changed | count | 3选1 | 5选1 | raw/001_c5ae0df2c7b8cf07.txt:549 → raw/edited.md:" in r for r in rows)
    assert any("金融业 / 私募基金 | changed | documents |  | added: 《私募基金托管协议》" in r for r in rows)
    assert any("金融业 / 私募基金 | changed | options | 2 listed | 3 listed" in r for r in rows)
    assert any("教育 / 出国留学 | removed" in r for r in rows)
    assert "| categories removed | 1 |" in md and "| categories changed | 2 |" in md


def test_renamed_category_in_an_edited_copy(tmp_path, raw_copy):
    out = tmp_path / "output"
    run_build([raw_copy], out)
    text = (raw_copy / "003_3b374c8cbaf8a554.txt").read_text().replace("交通服务 航司服务 /", "交通服务 航空公司服务 /")
    (raw_copy / "003_3b374c8cbaf8a554.txt").write_text(text)
    run_build([raw_copy], out)
    rows = _change_rows(_report(out)[0])
    assert rows == [r for r in rows if "航" in r] and len(rows) == 1
    assert "renamed (inferred: same content) | name | 交通服务 / 航司服务 | 交通服务 / 航空公司服务" in rows[0]


def test_reordered_sections_change_nothing(tmp_path, raw_copy):
    out = tmp_path / "output"
    run_build([raw_copy], out)
    lines = (raw_copy / "003_3b374c8cbaf8a554.txt").read_text().split("\n")
    table = lines[99:134]
    (raw_copy / "003_3b374c8cbaf8a554.txt").write_text("\n".join(lines[:99] + table[::-1] + lines[134:]))
    run_build([raw_copy], out)
    md, _ = _report(out)
    assert "raw/003_3b374c8cbaf8a554.txt (changed)" in md and _change_rows(md) == []


def test_diff_command_between_versions_and_between_files(tmp_path, raw_copy):
    assert _cli(tmp_path, "build").returncode == 0
    first = (tmp_path / "output" / "LATEST").read_text().strip()
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("(4选1):1、《经营证券期货业务许可证》", "(5选1):1、《经营证券期货业务许可证》"))
    assert _cli(tmp_path, "build").returncode == 0
    proc = _cli(tmp_path, "diff", "--html", "d.html")
    assert proc.returncode == 0 and f"Compared with: {first}" in proc.stdout
    assert "| 金融业 / 公募基金 | changed | count | 4选1 | 5选1 |" in proc.stdout
    assert (tmp_path / "d.html").read_text().startswith("<!doctype html>")
    proc = _cli(tmp_path, "diff", "--files", "raw/004_ef2bf0700b54b804.txt", "raw/002_ff5f8a7ab923942f.txt")
    assert proc.returncode == 0
    assert "| 金融业 / 企业征信 | renamed | name | 金融业 / 征信业务 | 金融业 / 企业征信 |" in proc.stdout
    assert "| 金融业 / 公募基金 | changed | count | 3选1 | 5选1 |" in proc.stdout
    bad = _cli(tmp_path, "diff", "--files", "raw/nope.txt", "raw/002_ff5f8a7ab923942f.txt")
    assert bad.returncode == 1 and bad.stderr.startswith("raw/nope.txt: no records")


def test_html_report_escapes_document_text(tmp_path, raw_copy):
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("交通服务 骑车 /", "交通服务 <script>alert(1)</script>骑车 /"))
    run_build([raw_copy], tmp_path / "output")
    _, html = _report(tmp_path / "output")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1, "only the report's own filter script"


def test_unchanged_file_read_differently_is_reported(tmp_path, raw_copy, monkeypatch):
    out = tmp_path / "output"
    run_build([raw_copy], out)
    from dataclasses import replace

    from pipeline.core import records
    real = records.aliases()
    extra = records.parse_aliases('[path]\n"交通服务 / 骑车" = "交通服务 / 共享单车"\n')
    table = replace(real, path={**real.path, **extra.path})
    monkeypatch.setattr(records, "aliases", lambda: table)
    # a real edit of aliases.toml changes the parser fingerprint; patched in memory, the cache
    # cannot know, so this build skips it
    run_build([raw_copy], out, use_cache=False)
    md, _ = _report(out)
    assert "raw/003_3b374c8cbaf8a554.txt (file unchanged; read differently by this build)" in md
    assert len(_change_rows(md)) == 1


def test_report_command_rewrites_a_versions_report(tmp_path, raw_copy):
    assert _cli(tmp_path, "build").returncode == 0
    v = (tmp_path / "output" / "LATEST").read_text().strip()
    (tmp_path / "output" / "reports" / f"{v}.html").unlink()
    proc = _cli(tmp_path, "report")
    assert proc.returncode == 0 and "(no earlier version)" in proc.stdout
    html = (tmp_path / "output" / "reports" / f"{v}.html").read_text()
    assert 'href="../../raw/002_ff5f8a7ab923942f.txt"' in html
    assert _cli(tmp_path, "report", "2000-01-01-000000000000").returncode == 1


# --- the report's layout: what needs a decision first, kinds in words, excerpts ----------

HOSTILE = '<script>alert(1)</script>[x](javascript:alert(1))'


def _value(file, sha, start, end, value, date="2024-08-29"):
    return {"source_file": file, "source_sha256": sha, "page": "p", "date": date, "value": value,
            "category_raw": [], "line_start": start, "line_end": end}


def _conflict(cid, kind, status, severity, category, values, *, categories=None, decision=None, relation="version"):
    cats = categories if categories is not None else [{"category_id": "cat_" + cid[-4:], "category": category}]
    return {"id": cid, "kind": kind, "relation": relation, "severity": severity, "status": status,
            "capability": "live_streaming", "category_id": ("cat_" + cid[-4:]) if category else None,
            "category": category, "categories": cats, "page": "live_streaming:类目申请资质要求", "field": "count",
            "summary": None, "values": values, "values_hash": "h", "decision": decision}


def sample_data(tmp_path):
    """A report's data made in the test: a conflict of each status, a page-wide change over 6
    categories, two current requirements (one whose list is an older capture's), and raw files
    whose lines hold markup and a Markdown link (``HOSTILE``). Returns (ReportData, raw sha256s)."""
    import hashlib

    from pipeline import store
    from pipeline.present import report

    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    a = ("### 公募基金\r\n\r\n具备【金融-公募基金】类目，可使用 标准直播 进行接入。\r\n资质要求（3选1）" + HOSTILE +
         "\r\n1.《经营证券期货业务许可证》" + "很长" * 150 + "\r\n2.《基金托管业务许可证》\r\n3.《基金销售业务资格证书》\r\n")
    b = "公募基金\n\n资质要求（5\n选1）\n1.《经营证券期货业务许可证》\n"
    files = {"raw/a.md": a.encode("utf-8"), "raw/b.txt": b.encode("utf-8")}
    for f, data in files.items():
        (tmp_path / f).write_bytes(data)
    sha = {f: hashlib.sha256(data).hexdigest() for f, data in files.items()}
    fund = ["金融业", "公募基金"]
    wide = [{"category_id": f"cat_{i:04d}", "category": ["教育", f"类目{i}"]} for i in range(6)]
    conflicts = [
        _conflict("cfl_000000000000low1", "scope_differs", "open", "low", ["汽车", "汽车预售服务"],
                  [_value("raw/a.md", sha["raw/a.md"], 1, 3, "适用于")]),
        _conflict("cfl_00000000000high1", "count_differs", "open", "high", fund,
                  [_value("raw/a.md", sha["raw/a.md"], 1, 7, "3选1"), _value("raw/b.txt", sha["raw/b.txt"], 1, 5, "5选1")]),
        _conflict("cfl_0000000000stale1", "documents_differ", "stale", "medium", ["教育", "教育平台"],
                  [_value("raw/a.md", sha["raw/a.md"], 1, 7, "《基金托管业务许可证》")],
                  decision={"decision": "ok", "reviewer": "x", "date": "2026-01-01", "reason": "r",
                            "stale_reason": "values changed since the decision"}),
        _conflict("cfl_000000000000wide", "integration_differs", "open", "medium", [],
                  [dict(_value("raw/a.md", f"{j:064d}", 3, 3, "标准直播", date=f"2024-08-2{j}"),
                        category_raw=["教育", f"类目{i}"]) for i in range(6) for j in range(5)], categories=wide),
        _conflict("cfl_00000000decided1", "rule_differs", "decided", "high", fund,
                  [_value("raw/b.txt", sha["raw/b.txt"], 1, 5, "any")],
                  decision={"decision": "follow newest", "reviewer": "Li", "date": "2026-01-01", "reason": "r",
                            "stale_reason": None}),
        _conflict("cfl_00000000000gap01", "items_lost", "gap", "gap", fund,
                  [_value("raw/b.txt", sha["raw/b.txt"], 1, 5, "requirement text lost")], relation="record"),
        _conflict("cfl_0000000000info01", "capability_difference", "info", "info", fund,
                  [_value("raw/b.txt", sha["raw/b.txt"], 1, 5, "2选1")], relation="capability"),
    ]
    statement = {"page": "live_streaming:类目申请资质要求", "rule": "any", "pick": 1, "of": 3, "options": 3,
                 "declared": True, "conditions": [], "items": [], "documents": ["经营证券期货业务许可证", "基金托管业务许可证"],
                 "integration": "标准直播", "items_missing": False,
                 "rule_source": {"source_file": "raw/a.md", "line": 4, "date": "2024-08-29"},
                 "items_source": None, "note": None}
    older = dict(statement, rule_source={"source_file": "raw/b.txt", "line": 3, "date": "2026-02-11"},
                 items_source={"source_file": "raw/a.md", "line": 5, "date": "2024-08-29"})
    current = [
        {"capability": "live_streaming", "category_id": "cat_fund", "category": fund, "status": "open_conflict",
         "statements": [statement], "conflicts": [{"id": "cfl_00000000000high1", "kind": "count_differs",
                                                   "relation": "version", "severity": "high", "status": "open",
                                                   "summary": None}], "decisions": []},
        {"capability": "live_streaming", "category_id": "cat_edu", "category": ["教育", "教育平台"],
         "status": "list_from_older_capture", "statements": [older], "conflicts": [], "decisions": []},
    ]
    data = report.ReportData(version="v2", previous="v1", diffs=[], conflicts=conflicts, reviews=[], pages=[],
                             categories=[], current=current)
    data = report.with_excerpts(data, lambda spans, want: store.source_lines(spans, want, root=tmp_path), sha, sha)
    return data, sha


def test_report_opens_with_what_needs_a_decision_then_current_then_changes(tmp_path):
    from pipeline.present import report

    data, _ = sample_data(tmp_path)
    md, html = report.to_markdown(data), report.to_html(data)
    for text, mark in ((md, "## "), (html, "<h2>")):
        heads = ["What needs a decision", "Current requirements", "What changed since the previous version",
                 "Decided, history, gaps and informative differences", "Page versions", "Category names to review"]
        at = [text.index(mark + h) for h in heads]
        assert at == sorted(at), (mark, at)
        text = re.sub(r"<[^>]+>", "", text)  # (the HTML's counts are elements of their own)
        at = [text.index(h) for h in heads]
        decide = text[at[0]:at[1]]
        # by severity, high first; a stale decision needs one as much as an open conflict
        sev = [decide.index(x) for x in ("High (1)", "Medium (2)", "Low (1)")]
        assert sev == sorted(sev)
        assert decide.index("cfl_00000000000high1") < decide.index("cfl_0000000000stale1") < decide.index("cfl_000000000000low1")
        for done in ("cfl_00000000decided1", "cfl_00000000000gap01", "cfl_0000000000info01"):
            assert done not in decide and done in text[at[3]:at[4]]
    assert "## What needs a decision (4)" in md and "| high | 1 |" in md and "| decisions stale | 1 |" in md


def test_a_page_wide_change_is_one_row_listing_its_categories(tmp_path):
    from pipeline.present import report

    data, _ = sample_data(tmp_path)
    md, html = report.to_markdown(data), report.to_html(data)
    lines = [ln for ln in md.splitlines() if "cfl_000000000000wide" in ln]
    assert len(lines) == 1 and "page-wide: 6 categories" in lines[0]
    assert "  - categories: 教育 / 类目0、教育 / 类目1、教育 / 类目2、教育 / 类目3、教育 / 类目4、教育 / 类目5" in md
    rows = [r for r in html.split("<tr") if "cfl_000000000000wide" in r]
    assert len(rows) == 1 and all(f"<li>教育 / 类目{i}</li>" in rows[0] for i in range(6))
    # its 30 values (6 categories, 5 captures each, all saying the same) are a period per category
    assert rows[0].count('class="period"') == 6 and rows[0].count("5 captures, 2024-08-20 → 2024-08-24") == 6
    assert "教育 / 类目5: 标准直播 — 5 captures, 2024-08-20 → 2024-08-24: first raw/a.md:3, last raw/a.md:3" in md


def test_conflict_kinds_are_words_for_every_kind_the_schema_lists(tmp_path):
    from pipeline.present import report, words
    from pipeline.core.tables import TABLES

    desc = next(d for f, _, d in TABLES["conflicts"] if f == "kind")
    kinds = {part.split()[0] for part in desc.split(" | ")}
    assert len(kinds) >= 16 and kinds <= set(words.KIND_TEXT), kinds - set(words.KIND_TEXT)
    data, _ = sample_data(tmp_path)
    md, html = report.to_markdown(data), report.to_html(data)
    for text in (md, html):
        assert "number of alternatives differs" in text and "access method differs" in text
        assert not any(k in text for k in ("count_differs", "integration_differs", "items_lost", "scope_differs"))
    assert words.kind_text("brand_new_kind") == "brand new kind"


def test_current_requirements_say_status_rule_and_sources_in_words(tmp_path):
    from pipeline.present import report

    data, _ = sample_data(tmp_path)
    md, html = report.to_markdown(data), report.to_html(data)
    section = md[md.index("## Current requirements (2)"):md.index("## What changed")]
    fund = next(ln for ln in section.splitlines() if ln.startswith("| 金融业 / 公募基金"))
    assert "| open conflict: versions or pages disagree |" in fund and "1 of 3 (3选1); access: 标准直播" in fund
    assert "raw/a.md:4 (2024-08-29) line 4: «资质要求（3选1）" in fund
    edu = next(ln for ln in section.splitlines() if ln.startswith("| 教育 / 教育平台"))
    assert "its entries come from an older capture" in edu
    assert "listed in an older capture: raw/a.md:5 (2024-08-29) line 5: «1.《经营证券期货业务许可证》" in edu
    assert "raw/b.txt:3 (2026-02-11)" in edu
    assert "listed in an older capture:" in html and 'href="../../raw/a.md"' in html


def test_values_show_their_source_lines_escaped_and_short(tmp_path):
    from pipeline.present import report

    data, _ = sample_data(tmp_path)
    md, html = report.to_markdown(data), report.to_html(data)
    # from the line that holds the value (3选1 is on line 4 of the span 1-7; 5选1 is broken over two lines)
    assert "    - line 4: «资质要求（3选1）&lt;script&gt;alert(1)&lt;/script&gt;\\[x\\](javascript:alert(1)) ↵ 1.《经营证券期货业务许可证》很长" in md
    assert "    - line 3: «资质要求（5 ↵ 选1） ↵ 1.《经营证券期货业务许可证》»" in md
    assert "<script>alert" not in md and "[x](" not in md
    assert html.count("<script>") == 1, "only the report's own filter script"
    assert ('<span class="ln">line 4</span>资质要求（3选1）&lt;script&gt;alert(1)&lt;/script&gt;'
            '[x](javascript:alert(1))\n1.《经营证券期货业务许可证》很长') in html
    for ex in data.excerpts.values():
        assert ex.text.count("\n") < report.MAX_EXCERPT_LINES
        assert len(ex.text.replace("\n", "")) <= report.MAX_EXCERPT_CHARS + 1
    cut = data.excerpt("new", "raw/a.md", 1, 7, "3选1")
    assert cut.text.endswith("…") and len(cut.text) < 260


def test_excerpts_are_read_only_for_what_is_shown_and_only_from_the_same_bytes(tmp_path):
    from dataclasses import replace

    from pipeline import store
    from pipeline.present import report

    data, sha = sample_data(tmp_path)
    asked = []

    def reader(spans, want):
        asked.extend(spans)
        return store.source_lines(spans, want, root=tmp_path)

    again = report.with_excerpts(data, reader, sha, sha)
    # each span once (the page-wide change's 30 values are one), none longer than MAX_SPAN_LINES
    assert len(asked) == len(set(asked)) <= len(report.excerpt_keys(data)) and again.excerpts == data.excerpts
    assert sum(1 for k in report.excerpt_keys(data) if k[4] == "标准直播") == 1
    assert all(end - start < report.MAX_SPAN_LINES for _, start, end in asked)
    many = replace(data, conflicts=[dict(data.conflicts[0], values=[
        _value("raw/a.md", sha["raw/a.md"], i, i, f"v{i}") for i in range(1, 40)])], current=[])
    assert len(report.excerpt_keys(many)) == report.MAX_VALUES
    # the file changed since the version was built: its lines are not that version's
    (tmp_path / "raw" / "a.md").write_text("something else\n")
    changed = report.with_excerpts(data, lambda s, w: store.source_lines(s, w, root=tmp_path), sha, sha)
    assert not any(k[1] == "raw/a.md" for k in changed.excerpts) and any(k[1] == "raw/b.txt" for k in changed.excerpts)
    md = report.to_markdown(changed)
    assert "3选1 — raw/a.md:1 (2024-08-29)" in md and "line 4:" not in md


def test_source_lines_numbers_lines_as_the_parsers_do(tmp_path):
    """CRLF, a BOM and GB18030 bytes give the lines an editor shows; a PDF and a missing file
    give nothing."""
    import hashlib

    from pipeline import store

    files = {"raw/crlf.txt": b"\xef\xbb\xbfone\r\ntwo\r\nthree\r\n", "raw/gbk.txt": "第一行\n第二行\n".encode("gb18030"),
             "raw/x.pdf": b"%PDF-1.4\n1 0 obj\n"}
    (tmp_path / "raw").mkdir()
    for f, data in files.items():
        (tmp_path / f).write_bytes(data)
    sha = {f: hashlib.sha256(d).hexdigest() for f, d in files.items()} | {"raw/gone.txt": "0" * 64}
    got = store.source_lines([("raw/crlf.txt", 2, 3), ("raw/gbk.txt", 2, 2), ("raw/x.pdf", 1, 2), ("raw/gone.txt", 1, 1)],
                             sha, root=tmp_path)
    assert got == {("raw/crlf.txt", 2, 3): ("two", "three"), ("raw/gbk.txt", 2, 2): ("第二行",)}


def test_the_built_report_quotes_each_value_from_its_source(fresh_build):
    result, output = fresh_build
    md = (output / "reports" / f"{result.version}.md").read_text()
    decide = md[:md.index("## Current requirements")]
    # the fund's count conflict: each capture's count, quoted from the line that states it,
    # including a text export that breaks it over two lines
    block = decide[decide.index("金融业 / 公募基金 · number of alternatives differs · change over time"):]
    block = block[:block.index("\n- ")]
    assert "line 566: «&lt;th &gt;资质要求（3选1）&lt;/th&gt;" in block
    assert "line 613: «资质要求（3 ↵ 选1）" in block
    assert "line 174: «(5选1):»" in block
    # one row for the page-wide switch of 19 categories to 微信原生组件标签
    assert len([ln for ln in decide.splitlines() if "page-wide: 19 categories" in ln]) == 1
    # a diff between two captures of this build quotes both
    row = next(ln for ln in md.splitlines() if ln.startswith("| 金融业 / 公募基金 | changed | count | 3选1 | 5选1 |"))
    assert row.endswith("raw/004_ef2bf0700b54b804.txt:602 → raw/002_ff5f8a7ab923942f.txt:164 — "
                        "old line 613: «资质要求（3 ↵ 选1） ↵ 1.《经营证券期货业务许可证》且业务范围必须包含“基金”…» · "
                        "new line 174: «(5选1):» |"), row


def test_a_diff_row_quotes_each_side_from_its_own_bytes(tmp_path):
    """A diff names a record by its first line (``file:line``): its span comes from the
    requirements; the old side of a file whose bytes changed since is not quoted (what is on
    disk is the new text)."""
    from dataclasses import replace

    from pipeline import store
    from pipeline.present import report
    from pipeline.reconcile.diff import CategoryChange, Diff, FieldChange

    data, sha = sample_data(tmp_path)
    change = CategoryChange("changed", "live_streaming", "cat_fund", ("金融业", "公募基金"), "金融业 / 公募基金",
                            "金融业 / 公募基金", "raw/b.txt:1", "raw/a.md:1", fields=(FieldChange("count", "5选1", "3选1"),))
    data = replace(data, diffs=[Diff("raw/a.md (new version)", "raw/b.txt", "raw/a.md", changes=[change])])
    rows = [{"source_file": f, "source_sha256": sha[f], "provenance": {"line_start": 1, "line_end": end}}
            for f, end in (("raw/a.md", 7), ("raw/b.txt", 5))]

    def read(spans, want):
        return store.source_lines(spans, want, root=tmp_path)

    def row(d):
        return next(ln for ln in report.to_markdown(d).splitlines() if ln.startswith("| 金融业 / 公募基金 | changed"))

    both = row(report.with_excerpts(data, read, sha, sha, rows))
    assert "| 5选1 | 3选1 | raw/b.txt:1 → raw/a.md:1 — old line 3: «资质要求（5 ↵ 选1） ↵ 1.《经营证券期货业务许可证》» · new line 4: «资质要求（3选1）" in both
    edited = row(report.with_excerpts(data, read, {**sha, "raw/b.txt": "0" * 64}, sha, rows))
    assert "raw/b.txt:1 → raw/a.md:1 — new line 4: «资质要求（3选1）" in edited and "old line" not in edited
    # without the record's span, only its first lines are read
    assert "new line 1: «### 公募基金" in row(report.with_excerpts(data, read, sha, sha))
