"""Decisions on conflicts, diff reports, and what an edited copy in raw/ shows."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from pipeline.build import run_build
from pipeline.errors import ParseError
from pipeline.review import apply_decisions, parse_decisions


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
    section = md[md.index("## What changed"):md.index("## Decided, gaps")]
    section = section[section.find("\n### "):]  # (after the counts)
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

    from pipeline import reconcile, records
    real = records.aliases()
    extra = records.parse_aliases('[path]\n"交通服务 / 骑车" = "交通服务 / 共享单车"\n')
    table = replace(real, path={**real.path, **extra.path})
    monkeypatch.setattr(records, "aliases", lambda: table)
    monkeypatch.setattr(reconcile, "aliases", lambda: table)
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
