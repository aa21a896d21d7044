"""Whatever a person drops into raw/: decoded and recorded, or one clear file:line error.
Never a traceback, never a silently wrong record, never a half-written output."""
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, read_table
from pipeline.core import records
from pipeline.build import parse_raw
from pipeline.core.errors import ParseError
from pipeline.store import RawFile

SEED = (ROOT / "raw" / "003_3b374c8cbaf8a554.txt").read_text()
MD = (ROOT / "raw" / "000_5e444a4c87042c42.txt").read_text()


def _parse(name: str, data: bytes):
    return parse_raw(RawFile(f"raw/{name}", ROOT / "raw" / name, data))


def _cats(doc):
    return [tuple(s.category_raw) for s in doc.statements]


@pytest.mark.parametrize("encoding,data,expected", [
    ("utf-8", SEED.encode("utf-8"), "utf-8"),
    ("utf-8 with BOM", b"\xef\xbb\xbf" + SEED.encode("utf-8"), "utf-8-sig"),
    ("gb18030", SEED.encode("gb18030"), "gb18030"),
    ("gbk", SEED.encode("gbk"), "gb18030"),
    ("utf-16 with BOM", SEED.encode("utf-16"), "utf-16"),
    ("crlf", SEED.replace("\n", "\r\n").encode(), "utf-8"),
    ("cr", SEED.replace("\n", "\r").encode(), "utf-8"),
])
def test_encodings_and_line_ends_give_the_same_records(encoding, data, expected):
    reference, _ = _parse("ref.txt", SEED.encode())
    doc, info = _parse("x.txt", data)
    assert info.encoding == expected
    assert _cats(doc) == _cats(reference)
    assert [s.span.line_start for s in doc.statements] == [s.span.line_start for s in reference.statements]
    assert [s.requirement.documents for s in doc.statements] == [s.requirement.documents for s in reference.statements]


def test_full_width_spaces_and_zero_width_characters_are_folded():
    noisy = SEED.replace("金融业 公募基金 /", "金融业\u3000公募\u200b基金 /")
    doc, _ = _parse("x.txt", noisy.encode())
    assert ("金融业", "公募基金") in _cats(doc)


@pytest.mark.parametrize("name,data,line,message", [
    ("empty.txt", b"", 1, "file is empty"),
    ("blank.txt", b"\n\n   \n", 1, "file is empty"),
    ("junk.bin", bytes(range(256)) * 4, 1, "binary content"),
    ("latin1.txt", "第一行\n第二行\ncafé\n".encode("utf-8")[:-3] + b"\xe9\xff\n", 3, "cannot decode"),
    ("random.txt", bytes([0x80 + (i * 37) % 120 for i in range(400)]), 1, "cannot decode"),
    ("utf16_broken.txt", b"\xff\xfe" + b"\x00\xd8", 1, "not UTF-16"),
])
def test_broken_documents_are_one_clear_error(name, data, line, message):
    with pytest.raises(ParseError) as e:
        _parse(name, data)
    assert str(e.value).startswith(f"raw/{name}:{line}: ") and message in str(e.value), str(e.value)


def test_truncated_table_is_read_to_the_end_with_a_warning():
    cut = MD[:MD.rindex("</table>")]
    doc, _ = _parse("cut.md", cut.encode())
    assert ("社交", "直播") in _cats(doc)
    assert any("<table> is not closed" in w for w in map(str, doc.warnings))


NOTHING = "nothing readable: no category table, category section, scenario table or licence list found"


def test_text_in_no_known_layout_is_a_capture_that_lists_nothing():
    """Prose with no table, heading or section is still text: a capture of its page in which
    nothing can be read, said in a warning, never a stopped build (only bytes that are no text
    or PDF at all stop it)."""
    doc, info = _parse("prose.txt", "这只是一段说明文字。\n没有表格。\n".encode())
    assert not doc.statements and not doc.scenarios and not doc.licenses
    assert any(w.startswith("raw/prose.txt:1: nothing readable") for w in map(str, doc.warnings))


@pytest.mark.parametrize("name,text", [
    ("heading_only.md", "# 标题\n\n## 教育\n\n说明文字。\n<table><tr><td>a</td></tr></table>\n"),
    # a table without a header row is not guessed at
    ("nohead.md", "<table>\n<tr><td>金融</td><td>银行</td><td>《金融许可证》</td></tr>\n</table>\n"),
    # a revision of the plugin page without its category table (tencent-cloud-live-plugin
    # 2020-04-10, lines 13-21: headings and steps, no table at all)
    ("no_table.md", "## 申请插件\n\n1. 登录 [微信小程序后台](https://mp.weixin.qq.com/)，在【设置】>【基本设置】中，"
                    "确定已具备符合接入的类目。\n\n## 购买服务\n\n1. 申请审核通过后，可以前往【云直播控制台】。\n"),
])
def test_capture_with_nothing_readable_is_a_version_that_lists_nothing(name, text):
    """Still a version of its page: read, said in a warning naming file:1, no record."""
    doc, info = _parse(name, text.encode())
    assert (info.format, doc.statements, doc.scenarios, doc.licenses) == ("markdown", (), (), ())
    assert f"raw/{name}:1: {NOTHING}" in map(str, doc.warnings)
    assert [w.kind for w in doc.warnings] == ["nothing_readable"]
    rows = records.document_to_rows(doc, info)
    assert rows["sources"][0]["record_counts"] == {"requirements": 0, "scenarios": 0, "licenses": 0}
    assert f"raw/{name}:1: {NOTHING}" in rows["sources"][0]["warnings"]


def test_build_goes_on_past_a_capture_with_nothing_readable(tmp_path, raw_copy):
    """The source is a row of ``sources`` (counts 0, the warning), an input of the manifest, and
    an object of the cache like any other: a rebuild parses nothing again."""
    from pipeline.build import run_build

    (raw_copy / "no_table.md").write_text("## 申请插件\n\n1. 登录微信小程序后台，确定已具备符合接入的类目。\n")
    first = run_build([raw_copy], tmp_path / "out")
    assert any(w.startswith(f"raw/no_table.md:1: {NOTHING}") for w in map(str, first.warnings))
    ds = tmp_path / "out" / "datasets" / first.version
    (src,) = [s for s in read_table(ds, "sources") if s["source_file"] == "raw/no_table.md"]
    assert src["record_counts"] == {"requirements": 0, "scenarios": 0, "licenses": 0}
    assert f"raw/no_table.md:1: {NOTHING}" in src["warnings"]
    manifest = json.loads((ds / "manifest.json").read_text())
    assert "raw/no_table.md" in json.dumps(manifest["inputs"])
    again = run_build([raw_copy], tmp_path / "out2")
    assert (again.parsed, again.cached, again.version) == (0, 6, first.version)


def test_heading_without_table_and_requirement_without_content():
    text = ("类目申请资质要求\n\n最近更新时间:2026-02-11 19:22:42\n\n教育\n\n驾校培训\n\n具备教育-驾校培训类目,可使用 小程序·云直播插件 进行接入。\n\n"
            "教育平台\n\n具备教育-教育平台类目,可使用 小程序·云直播插件 进行接入。\n要求\n说明\n资质要求\n")
    doc, _ = _parse("web.txt", text.encode())
    a, b = doc.statements
    assert (a.requirement.rule, a.requirement.items_missing) == ("unknown", True)
    assert [(w.kind, str(w)) for w in a.warnings] == [
        ("no_requirement_table", "section has no 要求/资质要求 table: requirement unknown")]
    assert (b.requirement.rule, b.requirement.items_missing) == ("unknown", True)


def test_unreadable_count_gives_a_record_with_a_warning():
    text = SEED.replace("(4选1):1、《经营证券期货业务许可证》", "(N选1):1、《经营证券期货业务许可证》")
    doc, _ = _parse("x.txt", text.encode())
    fund = next(s for s in doc.statements if s.category_raw == ("金融业", "公募基金"))
    assert (fund.requirement.rule, fund.requirement.of) == ("any", None)
    assert any("cannot be read" in w for w in map(str, fund.warnings))


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT))


def test_killed_mid_write_leaves_no_partial_version(tmp_path, raw_copy):
    """Killed for real while the version's files are being written (the moment the first table
    of the half-written version is on disk): nothing published, and the next build cleans up."""
    import time

    run = [sys.executable, "-m", "pipeline", "build"]
    assert subprocess.run(run, cwd=tmp_path, env=_env(), capture_output=True).returncode == 0
    out = tmp_path / "output"
    before_latest = (out / "LATEST").read_text()
    before = sorted(p.name for p in (out / "datasets").iterdir())
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("(4选1)", "(5选1)"))
    proc = subprocess.Popen(run, cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while not list(out.glob(".tmp-build-*/*.json")) and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert sorted(p.name for p in (out / "datasets").iterdir()) == before
    assert (out / "LATEST").read_text() == before_latest
    assert list(out.glob(".tmp-*")), "the half-written version stays hidden in .tmp-*"
    again = subprocess.run(run, cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout.startswith("report:")
    assert not list(out.glob(".tmp-*")) and len(list((out / "datasets").iterdir())) == len(before) + 1
    v = (out / "LATEST").read_text().strip()
    manifest = json.loads((out / "datasets" / v / "manifest.json").read_text())
    assert all((out / "datasets" / v / o["file"]).stat().st_size == o["bytes"] for o in manifest["outputs"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_page_captured_again_unchanged_is_one_source_listing_both_captures(tmp_path, raw_copy, workers):
    """Regression: a second file with the same bytes stopped the build (``duplicate record id``):
    capturing an unchanged page again is the most common event of all. Now: one source, parsed
    once, both captures listed with their dates. Also with a pool (twelve sources or more)."""
    from pipeline.build import run_build

    if workers > 1:
        for i in range(1, 3):  # other bytes, so not copies: only the zz copies are
            for p in raw_copy.glob("0*.txt"):
                (raw_copy / f"more{i}_{p.name}").write_bytes(p.read_bytes() + b"\n" * i)
    (raw_copy / "zz_copy.txt").write_bytes((raw_copy / "001_c5ae0df2c7b8cf07.txt").read_bytes())
    (raw_copy / "zz_copy2.txt").write_bytes((raw_copy / "001_c5ae0df2c7b8cf07.txt").read_bytes())
    (raw_copy / "metadata.toml").write_text('["zz_copy.txt"]\ncaptured = 2026-11-30\n'
                                            '["zz_copy2.txt"]\ncaptured = "2026-12-01"\n', "utf-8")
    result = run_build([raw_copy], tmp_path / "output", workers=workers)
    assert result.parsed == len(list(raw_copy.glob("*.txt"))) - 2  # the copies are not parsed again
    out = tmp_path / "output" / "datasets" / result.version
    sources = json.loads((out / "sources.json").read_text())["records"]
    mine = [s for s in sources if s["source_file"] == "raw/001_c5ae0df2c7b8cf07.txt"]
    assert len(mine) == 1 and not [s for s in sources if s["source_file"].startswith("raw/zz_")]
    assert mine[0]["captures"] == [{"file": "raw/001_c5ae0df2c7b8cf07.txt", "captured": None},
                                   {"file": "raw/zz_copy.txt", "captured": "2026-11-30"},
                                   {"file": "raw/zz_copy2.txt", "captured": "2026-12-01"}]
    reqs = read_table(out, "requirements")
    assert not [r for r in reqs if r["source_file"].startswith("raw/zz_")]
    assert len({r["id"] for r in reqs}) == len(reqs)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"raw/zz_copy.txt", "raw/zz_copy2.txt"} <= {i["file"] for i in manifest["inputs"]}


def test_the_same_bytes_said_to_be_another_page_are_another_source(tmp_path, raw_copy):
    """Same bytes, another URL in the metadata: two pages (their records have other ids)."""
    from pipeline.build import run_build

    (raw_copy / "zz_copy.txt").write_bytes((raw_copy / "001_c5ae0df2c7b8cf07.txt").read_bytes())
    (raw_copy / "metadata.toml").write_text('["zz_copy.txt"]\nurl = "https://cloud.tencent.com/document/product/1078/x"\n')
    result = run_build([raw_copy], tmp_path / "output", workers=1)
    out = tmp_path / "output" / "datasets" / result.version
    sources = {s["source_file"] for s in json.loads((out / "sources.json").read_text())["records"]}
    assert {"raw/001_c5ae0df2c7b8cf07.txt", "raw/zz_copy.txt"} <= sources


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_one_broken_file_among_many_is_its_one_line_with_and_without_a_pool(tmp_path, raw_copy, jobs):
    """Regression (ParseError could not be unpickled): with a pool (twelve sources or more) an
    error raised in a worker came back as a TypeError and BrokenProcessPool traceback."""
    for i in range(1, 4):  # distinct bytes, so these are sources, not repeated captures
        for p in sorted(raw_copy.glob("0*.txt")):
            (raw_copy / f"m{i}_{p.name}").write_bytes(p.read_bytes() + b"\n" * i)
    (raw_copy / "m9_junk.txt").write_bytes(bytes(range(256)) * 4)
    assert len(list(raw_copy.iterdir())) >= 12
    proc = subprocess.run([sys.executable, "-m", "pipeline", "build", "--jobs", jobs, "--no-cache"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("raw/m9_junk.txt:1: ") and "binary content" in lines[0], proc.stderr
    assert not (tmp_path / "output" / "datasets").exists()


def test_a_warning_is_data_printed_and_published_as_one_text():
    """A warning is (file, line, kind, message); its text is what the build prints and the
    tables publish: ``file:line: …`` for a document, ``line N: …`` within a record, or the
    message alone. Every kind is listed once and produced somewhere."""
    from pathlib import Path

    from pipeline.core.errors import WARNING_KINDS, PipelineWarning, warning

    w = warning("row_without_tr", "row without <tr>", line=21)
    assert str(w) == "line 21: row without <tr>"
    assert str(w.at("raw/a.txt", 2)) == "raw/a.txt:23: row without <tr>"
    assert str(warning("skipped", "skipped, a readme, not a document", "corpus/README.md")) == \
        "corpus/README.md: skipped, a readme, not a document"
    assert PipelineWarning.from_dict(w.to_dict()) == w
    with pytest.raises(ValueError):
        warning("no_such_kind", "x")
    source = "".join(p.read_text("utf-8") for p in Path(__file__).resolve().parent.parent.glob("pipeline/**/*.py")
                     if p.name != "errors.py")
    assert [k for k in WARNING_KINDS if f'"{k}"' not in source] == []
