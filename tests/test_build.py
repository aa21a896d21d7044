"""The dataset contract: layout, determinism, immutability, atomic publish, clear errors."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, read_table
from pipeline import store
from pipeline.build import run_build
from pipeline.core.errors import ParseError
from pipeline.core.tables import FOLDER_TABLES, SOURCE_TABLES, TABLE_ORDER, TABLES


def _tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def _dataset(output: Path) -> Path:
    return output / "datasets" / (output / "LATEST").read_text().strip()


def test_layout_and_manifest(fresh_build):
    result, output = fresh_build
    ds = _dataset(output)
    assert ds.name == result.version
    names = {p.name for p in ds.iterdir()}
    small = [t for t in TABLE_ORDER if t not in FOLDER_TABLES]
    assert names == {f"{t}.{ext}" for t in small for ext in ("json", "parquet")} | \
        {t for t in FOLDER_TABLES} | {f"{t}.parquet" for t in FOLDER_TABLES} | \
        {"manifest.json", "datapackage.json", "schema"}
    # a folder table: chunks, each a JSON-lines and a Parquet file, listing (in order) the
    # sources that have records in the table, and holding their records
    sources = read_table(ds, "sources")
    manifest = json.loads((ds / "manifest.json").read_text())
    for t in FOLDER_TABLES:
        counts = {r["source_sha256"]: 1 for r in read_table(ds, t)}  # (conflict values: made by reconciliation)
        having = [s["source_sha256"] for s in sources if (s["record_counts"].get(t) or counts.get(s["source_sha256"]))]
        # a source's records of the table come together, in the sources' order
        held_in_order = list(dict.fromkeys(r["source_sha256"] for r in read_table(ds, t)))
        assert held_in_order == having
        chunks = sorted(p.stem for p in (ds / t).glob("*.jsonl"))
        assert chunks and chunks == sorted(p.stem for p in (ds / f"{t}.parquet").glob("*.parquet"))
        listed = {o["file"]: o for o in manifest["outputs"]}
        assert [s for c in chunks for s in listed[f"{t}/{c}.jsonl"]["sources"]] == having
        for c in chunks:
            held = [json.loads(line)["source_sha256"] for line in (ds / t / f"{c}.jsonl").read_text().splitlines()]
            assert list(dict.fromkeys(held)) == listed[f"{t}/{c}.jsonl"]["sources"]
            assert hashlib.sha256((ds / t / f"{c}.jsonl").read_bytes()).hexdigest()[:16] == c.split("-")[1]
    assert manifest["dataset_version"] == result.version
    raw_files = sorted((ROOT / "raw").iterdir())
    assert [i["sha256"] for i in manifest["inputs"]] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in raw_files]
    for out in manifest["outputs"]:
        data = (ds / out["file"]).read_bytes()
        assert out["sha256"] == hashlib.sha256(data).hexdigest() and out["bytes"] == len(data)
    for entry in manifest["schemas"].values():
        assert hashlib.sha256((ds / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    listed = {o["file"] for o in manifest["outputs"]}
    on_disk = {p.relative_to(ds).as_posix() for p in ds.rglob("*") if p.is_file()} - {"manifest.json"}
    assert on_disk - {f"schema/{t}.schema.json" for t in TABLE_ORDER} == listed
    for table in small:
        doc = json.loads((ds / f"{table}.json").read_text())
        assert doc["schema_version"] == manifest["schema_version"] and doc["dataset_version"] == result.version
        rows = next(o["rows"] for o in manifest["outputs"] if o["file"] == f"{table}.json")
        assert rows == len(doc["records"]) == result.counts[table]
    for table in FOLDER_TABLES:
        rows = sum(o["rows"] for o in manifest["outputs"] if o["file"].startswith(f"{table}/"))
        assert rows == len(read_table(ds, table)) == result.counts[table]


def test_parquet_has_the_same_rows_as_json(fresh_build):
    _, output = fresh_build
    ds = _dataset(output)
    for table in TABLE_ORDER:
        # (read_table puts each conflict's values back into it: the published record has none)
        records = [{k: v for k, v in r.items() if (table, k) != ("conflicts", "values")} for r in read_table(ds, table)]
        # a folder table's Parquet files read as one table, in file-name order as the JSON lines
        parts = sorted((ds / f"{table}.parquet").glob("*.parquet")) if table in FOLDER_TABLES else [ds / f"{table}.parquet"]
        pt = [row for part in parts for row in pq.read_table(part).to_pylist()]
        if table in FOLDER_TABLES:
            assert pq.read_table(ds / f"{table}.parquet").num_rows == len(records)
        kinds = {f: k for f, k, _ in TABLES[table]}
        decoded = [{k: (json.loads(v) if kinds[k] == "json" else v) for k, v in row.items()} for row in pt]
        assert decoded == records


def test_every_record_carries_its_source_sha256(fresh_build):
    _, output = fresh_build
    ds = _dataset(output)
    shas = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "raw").iterdir()}
    for table in SOURCE_TABLES:
        for r in read_table(ds, table):
            assert r["source_sha256"] in shas
            if table != "sources":
                assert r["provenance"]["line_start"] >= 1 and r["provenance"]["file"].startswith("raw/")


def test_same_input_gives_byte_identical_output(fresh_build, tmp_path, raw_copy):
    result, output = fresh_build
    again = run_build([raw_copy], tmp_path / "output")
    assert again.version == result.version
    assert _tree(tmp_path / "output" / "datasets") == _tree(output / "datasets")


def test_fresh_build_reproduces_the_committed_latest_version(fresh_build):
    result, output = fresh_build
    committed = ROOT / "output"
    assert (committed / "LATEST").read_text().strip() == result.version, \
        "output/ is stale: run `make build` and commit output/"
    assert _tree(committed / "datasets" / result.version) == _tree(output / "datasets" / result.version)


def test_a_version_name_changes_with_the_schema_text_it_ships(tmp_path, raw_copy, monkeypatch):
    """Regression: a field's description changed, the records did not; the version kept its
    name with other schema files in it, so a committed version and a fresh build of the same
    name differed. A version's name covers every byte it holds."""
    from pipeline.store import writing

    first = run_build([raw_copy], tmp_path / "a")
    real = writing.json_schema

    def reworded(table):
        schema = real(table)
        return dict(schema, description=(schema.get("description") or "") + " (reworded)")

    monkeypatch.setattr(writing, "json_schema", reworded)
    second = run_build([raw_copy], tmp_path / "b")
    assert first.version != second.version


def test_unchanged_rebuild_creates_no_version_and_touches_nothing(tmp_path, raw_copy):
    out = tmp_path / "output"
    first = run_build([raw_copy], out)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    second = run_build([raw_copy], out)
    assert first.created and not second.created and second.version == first.version
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before
    assert len(list((out / "datasets").iterdir())) == 1


def test_new_file_in_raw_is_picked_up_with_its_format_detected(tmp_path, raw_copy):
    out = tmp_path / "output"
    first = run_build([raw_copy], out)
    src = (raw_copy / "001_c5ae0df2c7b8cf07.txt").read_text()
    edited = src.replace("资质要求（3选1）</th>\n  <td><a href=\"https://developers.weixin.qq.com/miniprogram/product/material/jinrong/jijin.html\">",
                         "资质要求（5选1）</th>\n  <td><a href=\"https://developers.weixin.qq.com/miniprogram/product/material/jinrong/jijin.html\">")
    assert edited != src
    (raw_copy / "edited_copy.md").write_text(edited)
    second = run_build([raw_copy], out)
    assert second.created and second.version != first.version
    assert (out / "datasets" / first.version).is_dir(), "older versions stay"
    recs = read_table(_dataset(out), "requirements")
    mine = [r for r in recs if r["source_file"] == "raw/edited_copy.md"]
    fund = next(r for r in mine if r["category_raw"] == ["金融业", "公募基金"])
    assert (fund["format"], fund["of"], fund["options"]) == ("markdown", 5, 3)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.mark.parametrize("name,content,line", [
    # (prose in no known layout is a capture that lists nothing: tests/test_bad_input.py)
    ("binary.txt", bytes(range(256)) * 4, 1),
    ("not_utf8.txt", None, 3),
    ("empty.txt", "", 1),
])
def test_bad_file_stops_the_build_with_one_line_and_leaves_output(tmp_path, raw_copy, name, content, line):
    assert _cli(tmp_path, "build").returncode == 0
    before = _tree(tmp_path / "output")
    if content is None:
        (raw_copy / name).write_bytes("第一行\n第二行\n".encode() + b"\xff\xfe bad\n")
    elif isinstance(content, bytes):
        (raw_copy / name).write_bytes(content)
    else:
        (raw_copy / name).write_text(content)
    proc = _cli(tmp_path, "build")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"raw/{name}:{line}: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert _tree(tmp_path / "output") == before


def test_failure_while_writing_leaves_no_partial_version(tmp_path, raw_copy, monkeypatch):
    out = tmp_path / "output"
    first = run_build([raw_copy], out)
    (raw_copy / "001_c5ae0df2c7b8cf07.txt").write_text(
        (raw_copy / "001_c5ae0df2c7b8cf07.txt").read_text().replace("8选1", "9选1"))
    real_open = open
    calls = {"n": 0}

    def failing_open(path, mode="r", *a, **kw):
        if "wb" in mode and ".tmp-" in str(path):
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError("disk full")
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OSError):
        run_build([raw_copy], out)
    monkeypatch.undo()
    assert [p.name for p in (out / "datasets").iterdir()] == [first.version]
    assert (out / "LATEST").read_text().strip() == first.version
    assert not list(out.glob(".tmp-*"))


def test_second_build_while_one_holds_the_lock_is_refused(tmp_path, raw_copy):
    out = tmp_path / "output"
    with store.build_lock(out):
        proc = _cli(tmp_path, "build")
    assert proc.returncode == 1 and "another build is running" in proc.stderr


def test_metadata_file_adds_url_and_dates(tmp_path, raw_copy):
    (raw_copy / "metadata.toml").write_text(
        '["001_c5ae0df2c7b8cf07.txt"]\nurl = "https://cloud.tencent.com/document/product/1078/43316"\n'
        'captured = "2024-09-01"\nupdated = "2024-08-29"\n')
    run_build([raw_copy], tmp_path / "output")
    ds = _dataset(tmp_path / "output")
    src = next(s for s in json.loads((ds / "sources.json").read_text())["records"]
               if s["source_file"] == "raw/001_c5ae0df2c7b8cf07.txt")
    assert (src["url"], src["captured"], src["updated"]) == (
        "https://cloud.tencent.com/document/product/1078/43316", "2024-09-01", "2024-08-29")
    reqs = read_table(ds, "requirements")
    assert {r["page_updated"] for r in reqs if r["source_file"] == "raw/001_c5ae0df2c7b8cf07.txt"} == {"2024-08-29"}


def test_metadata_with_unknown_key_is_an_error_naming_the_file(tmp_path, raw_copy):
    (raw_copy / "metadata.toml").write_text('["001_c5ae0df2c7b8cf07.txt"]\nauthor = "x"\n')
    with pytest.raises(ParseError) as e:
        run_build([raw_copy], tmp_path / "output")
    assert str(e.value).startswith("raw/metadata.toml:1: ")


def test_readme_documents_every_published_field():
    readme = (ROOT / "README.md").read_text()
    for table, fields in TABLES.items():
        for name, _, _ in fields:
            assert f"`{name}`" in readme, f"README lacks {table}.{name}"


def test_a_parser_bug_still_names_the_file(tmp_path, raw_copy, monkeypatch):
    from pipeline import parsers

    def broken(text, file, memo=None):
        raise KeyError("boom")

    monkeypatch.setitem(parsers.PARSERS, "column_text", broken)
    with pytest.raises(ParseError) as e:
        run_build([raw_copy], tmp_path / "output")
    assert str(e.value).startswith("raw/003_3b374c8cbaf8a554.txt:1: the column_text parser failed (KeyError")
    assert not (tmp_path / "output" / "datasets").exists()


def test_metadata_date_overrides_the_page_date(tmp_path, raw_copy):
    (raw_copy / "metadata.toml").write_text('["002_ff5f8a7ab923942f.txt"]\nupdated = "2026-03-01"\n')
    run_build([raw_copy], tmp_path / "output")
    reqs = read_table(_dataset(tmp_path / "output"), "requirements")
    assert {r["page_updated"] for r in reqs if r["source_file"].endswith("002_ff5f8a7ab923942f.txt")} == {"2026-03-01"}


def test_readme_schema_section_is_generated_from_the_tables():
    from pipeline.core.tables import schema_markdown

    assert schema_markdown() in (ROOT / "README.md").read_text()


def test_streamed_build_equals_the_in_memory_reconciliation(fresh_build):
    """The build writes conflicts as they are found and reconciles ``records.Row``s; the plain
    in-memory path (tests, small tools) must give the same tables."""
    from pipeline import reconcile
    from pipeline.reconcile import review
    from pipeline.build import build_tables
    from pipeline.store import published_conflict_ids, read_raw

    _, output = fresh_build
    ds = _dataset(output)
    shown = "review/decisions.toml"
    text = store.read_optional_text(ROOT / shown)
    decisions = review.parse_decisions(text, shown) if text is not None else []
    tables = reconcile.reconcile_tables(build_tables(read_raw([ROOT / "raw"])), decisions,
                                        published_conflict_ids(ROOT / "output"), shown)
    for table in TABLE_ORDER:
        records = read_table(ds, table)
        assert json.loads(json.dumps(tables[table], ensure_ascii=False)) == records, table


def test_a_version_of_the_old_layout_is_read_by_the_next_build(tmp_path, raw_copy):
    """Regression: the first build in the 2.0.0 layout compared with a 1.x version (every table
    one file, `requirements.json`) as if that version had no records, and its report said all
    133 requirements' categories were added. The version before is read whichever its layout."""
    import shutil

    out = tmp_path / "output"
    shutil.copytree(ROOT / "output", out, symlinks=True)
    old = next(v for v in reversed(store.versions(out)) if (out / "datasets" / v / "requirements.json").exists())
    (out / "LATEST").write_text(old + "\n")
    result = run_build([raw_copy], out, decisions=ROOT / "review" / "decisions.toml",
                       known_conflicts=store.published_conflict_ids(ROOT / "output"), cache_dir=tmp_path / "cache")
    assert result.version != old
    report = (out / "reports" / f"{result.version}.md").read_text()
    assert "| categories added | 0 |" in report and "| categories removed | 0 |" in report
    # every source is the same file; what this build reads differently (a parser change) is
    # said per source, never as a new or changed file
    sections = [ln for ln in report.splitlines() if ln.startswith("### raw/")]
    assert all("(file unchanged" in ln for ln in sections)
    assert len(store.load_tables(out, old)["requirements"]) == 133


def test_building_again_without_the_extra_folder_says_it_switched_back(tmp_path, raw_copy):
    """`make build RAW_EXTRA=…` then a plain `make build`: LATEST moves back to the earlier
    version, and the build says so rather than "up to date"."""
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "x.md").write_text((raw_copy / "001_c5ae0df2c7b8cf07.txt").read_text().replace("3选1", "4选1", 1))
    out = tmp_path / "output"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "pipeline", "build", "--output", str(out), *a],
                                    cwd=raw_copy.parent, env=env, capture_output=True, text=True)
    first, second, third = run(), run("--raw", str(extra)), run()
    assert all(p.returncode == 0 for p in (first, second, third)), third.stderr
    v1 = first.stdout.split("built dataset ", 1)[1].split(":", 1)[0]
    v2 = second.stdout.split("built dataset ", 1)[1].split(":", 1)[0]
    assert v1 != v2 and (out / "LATEST").read_text().strip() == v1
    assert f"switched back to dataset {v1}" in third.stdout and f"LATEST was {v2}" in third.stdout
    assert "up to date" not in third.stdout


def test_conflict_values_are_spooled_a_conflict_at_a_time_and_come_back_by_source(tmp_path):
    """The build's value index (``build._ValueIndex``) takes a conflict's values together and
    gives each source's lines, in the sources' order, ordered by conflict id then position,
    whatever order the conflicts came in; each value validated, each from a known source."""
    from pipeline import build, reconcile
    from pipeline.core.errors import PipelineError, SchemaError

    shas = [f"{n:064x}" for n in (3, 1, 2)]

    def value(n: int, text: str) -> dict:
        return {"source_file": f"raw/{n}.md", "source_sha256": shas[n], "page": "p", "date": None, "value": text,
                "category_raw": ["教育"], "line_start": 1 + n, "line_end": 2 + n}

    conflicts = [{"id": "cfl_" + "b" * 16, "values": [value(2, "x"), value(0, "y"), value(0, "z")]},
                 {"id": "cfl_" + "a" * 16, "values": [value(1, "w"), value(0, "v")]}]

    class Chunker:
        def __init__(self):
            self.added = []

        def add(self, sha, data):
            self.added.append((sha, data))

        def finish(self):
            return self.added

    with open(tmp_path / "values", "w+b") as fh:
        index = build._ValueIndex(fh, shas)
        index.WRITE_VALUES = 2  # (a conflict's lines written in parts)
        for c in conflicts:
            index.add(c["id"], reconcile.value_rows(c))
        got = index.chunks(Chunker())
        want = reconcile.conflicts_as_read(conflicts, shas)["conflict_values"]
        assert [sha for sha, _ in got] == shas
        assert b"".join(data for _, data in got) == b"".join(store.compact_json_bytes(v) + b"\n" for v in want)
        assert [v["value"] for v in want] == ["v", "y", "z", "w", "x"]
        stranger = dict(value(0, "u"), source_sha256="f" * 64)
        with pytest.raises(PipelineError, match="not among this build's sources"):
            index.add("cfl_" + "c" * 16, reconcile.value_rows({"id": "cfl_" + "c" * 16, "values": [stranger]}))
        with pytest.raises(SchemaError, match="conflict_values"):
            index.add("cfl_" + "d" * 16, [dict(r, line_start="one") for r in reconcile.value_rows(conflicts[0])])


def test_records_checked_together_are_checked_as_one_by_one(fresh_build):
    """``tables.rows_validator`` (one call for many records) accepts what ``validate_row``
    accepts, and for a list with a bad record says what ``validate_row`` says of the first."""
    from pipeline.core.tables import SchemaViolation, rows_validator, validate_row

    ds = _dataset(fresh_build[1])
    for table in ("conflict_values", "requirements"):
        records = read_table(ds, table)
        check = rows_validator(table)
        check(records)
        check([])
        nested = next(i for i, r in enumerate(records) if r.get("items") or table == "conflict_values")
        bad = [dict(records[nested], line_start="one") if table == "conflict_values"
               else dict(records[nested], items=[dict(records[nested]["items"][0], line="one")])]
        with pytest.raises(SchemaViolation) as one:
            validate_row(table, bad[0])
        with pytest.raises(SchemaViolation) as together:
            check(records[:nested] + bad + records[nested + 1:] + bad)
        assert str(together.value) == str(one.value)
