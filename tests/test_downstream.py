"""For downstream tools: shipped JSON Schemas, the data package, the loader, show and sources."""
import json
import os
import subprocess
import sys

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeline
from conftest import ROOT
from pipeline import store
from pipeline.build import run_build
from pipeline.core.errors import SchemaError
from pipeline.store.loader import UnknownVersion
from pipeline.core.tables import FOLDER_TABLES, SCHEMA_VERSION, TABLE_ORDER


def _cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("down")
    import shutil
    shutil.copytree(ROOT / "raw", base / "raw")
    assert _cli(base, "build").returncode == 0
    return base


def test_every_table_ships_its_schema_and_validates_against_it(built):
    version = (built / "output" / "LATEST").read_text().strip()
    ds = built / "output" / "datasets" / version
    manifest = json.loads((ds / "manifest.json").read_text())
    registry = {}
    for table in TABLE_ORDER:
        entry = manifest["schemas"][table]
        assert entry["$id"] == f"urn:tencent-compliance-pipeline:schema:{SCHEMA_VERSION}:{table}"
        schema = json.loads((ds / entry["file"]).read_text())
        assert schema["$id"] == entry["$id"] and schema["$schema"].endswith("2020-12/schema")
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        records = pipeline.load(version, built / "output", records=True, tables=(table,))[table]
        for r in records:
            if table == "conflicts":  # (load puts each conflict's values, published apart, back in it)
                assert len(r.pop("values")) == r["value_count"]
            validator.validate(r)
        registry[table] = schema


def test_a_corrupted_record_is_rejected_naming_it(tmp_path, raw_copy, monkeypatch):
    from pipeline.core import records

    real = records.document_to_rows

    def corrupt(doc, info):
        rows = real(doc, info)
        if rows["requirements"]:
            rows["requirements"][0]["rule"] = "maybe"
        return rows

    monkeypatch.setattr(records, "document_to_rows", corrupt)
    with pytest.raises(SchemaError) as e:
        run_build([raw_copy], tmp_path / "output", use_cache=False, workers=1)
    msg = str(e.value)
    assert msg.startswith("requirements record req_") and "(raw/000_5e444a4c87042c42.txt:11)" in msg
    assert "does not match schema" in msg and "rule" in msg
    assert not (tmp_path / "output" / "datasets").exists()


def test_datapackage_validates_with_frictionless(built):
    version = (built / "output" / "LATEST").read_text().strip()
    ds = built / "output" / "datasets" / version
    package = json.loads((ds / "datapackage.json").read_text())
    tables = {r["name"]: r for r in package["resources"] if r["type"] == "table"}
    assert tables["requirements"]["schema"]["primaryKey"] == ["id"]
    files = {r["path"] for r in package["resources"]}
    small = [t for t in TABLE_ORDER if t not in FOLDER_TABLES]
    assert {f"{t}.json" for t in small} | {f"{t}.parquet" for t in small} <= files
    # a folder table is one tabular resource over its JSON-lines files, in file-name order
    for t in FOLDER_TABLES:
        parts = [tables[t]["path"], *tables[t].get("extrapaths", [])]
        assert parts == sorted(p.relative_to(ds).as_posix() for p in (ds / t).glob("*.jsonl")) and parts
    assert all(r.get("hash", "").startswith("sha256:") for r in package["resources"] if r["type"] == "file")
    proc = subprocess.run([sys.executable, "-m", "frictionless", "validate", "--json", "datapackage.json"],
                          cwd=ds, capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout)
    assert report["valid"], json.dumps(report, ensure_ascii=False)[:2000]


def test_loader_gives_dataframes_records_and_a_clear_error(built):
    out = built / "output"
    frames = pipeline.load(output=out)
    assert set(frames) == set(TABLE_ORDER)
    reqs = frames["requirements"]
    assert len(reqs) == 133 and {"category", "rule", "of", "provenance"} <= set(reqs.columns)
    fund = reqs[reqs["category"].map(lambda c: c == ["金融业", "公募基金"])]
    assert sorted(fund["of"].dropna().astype(int)) == [3, 3, 3, 4, 5]
    recs = pipeline.load("latest", out, records=True)
    assert recs["requirements"][0]["provenance"]["line_start"] >= 1
    with pytest.raises(UnknownVersion) as e:
        pipeline.load("2099-01-01-000000000000", out)
    assert "not found" in str(e.value) and "latest:" in str(e.value)


@pytest.mark.parametrize("query", ["金融业/公募基金", "金融-基金", "公募基金"])
def test_show_finds_canonical_alias_and_partial_names(built, query):
    proc = _cli(built, "show", query, "--json")
    assert proc.returncode == 0, proc.stderr
    (d,) = json.loads(proc.stdout)["categories"]
    assert d["category"] == ["金融业", "公募基金"]
    caps = {c["capability"]: c for c in d["capabilities"]}
    live = caps["live_streaming"]
    now = live["current"][0]
    # one wording of a rule (current.rule_words) in the answer and the history alike
    assert now["requirement"] == "1 of 5 (5选1), 0 listed" and now["items_missing"]
    assert now["last_complete"]["requirement"] == "1 of 3 (3选1)" and now["last_complete"]["date"] == "2024-08-29"
    assert [h["requirement"] for h in live["history"]] == ["1 of 3 (3选1)", "1 of 3 (3选1)", "1 of 5 (5选1), 0 listed"]
    assert any(c["kind"] == "count_differs" for c in live["conflicts"])
    face = caps["face_verification"]
    assert sorted(c["requirement"] for c in face["current"]) == ["1 of 3 (3选1)", "1 of 4 (4选1)"]


def test_show_text_and_typo_suggestions(built):
    proc = _cli(built, "show", "社交/直播")
    assert proc.returncode == 0 and "[live_streaming]" in proc.stdout and "access method: 微信原生组件标签" in proc.stdout
    typo = _cli(built, "show", "公幕基金")
    assert typo.returncode == 1 and typo.stderr.startswith("no category matches '公幕基金'; did you mean: ")
    assert "金融业 / 公募基金" in typo.stderr


def test_show_a_child_finds_the_statement_covering_every_child_of_its_parent(built):
    """Seed 000 states face verification for 政务民生 / 所有二级类目: `show 政务民生/户政` answers
    with it, its condition (仅支持政府/事业单位) and what it covers."""
    proc = _cli(built, "show", "政务民生/户政")
    assert proc.returncode == 0, proc.stderr
    head = proc.stdout.split("Details:")[0]
    assert "[face_verification]" in head and "stated for every sub-category of 政务民生 (所有二级类目)" in head
    assert "only where: 仅支持政府/事业单位" in head and "《组织机构代码证》" in head


def test_sources_lists_every_source(built):
    proc = _cli(built, "sources", "--json")
    rows = json.loads(proc.stdout)
    assert [r["source_file"] for r in rows] == sorted(f"raw/{p.name}" for p in (ROOT / "raw").iterdir())
    text = _cli(built, "sources").stdout
    assert "raw/004_ef2bf0700b54b804.txt" in text and "方案选择 2024-07-26" in text and "pdf_text" in text


# what a record holds: strings (any character, CJK and control characters included), integers
# of the 64-bit range, booleans, null, fuzzy-score floats, and lists and string-keyed dicts of them
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 63 - 1) | st.text()
    | st.floats(min_value=1e-4, max_value=1e15, allow_nan=False) | st.sampled_from([0.0, 60.0, 85.7, 100.0]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_JSON_VALUES)
def test_compact_json_writes_what_the_standard_library_writes(value):
    # record lines and Parquet cells go through orjson for speed; their bytes are defined as the
    # standard library's (and the dataset version hashes them), so the two must never differ
    from pipeline.store import compact_json

    expected = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        got = compact_json(value)
    except TypeError:  # orjson refuses lone surrogates; the standard library could not encode them either
        with pytest.raises(UnicodeEncodeError):
            expected.encode("utf-8")
        return
    assert got == expected


def _rows_of(table):
    from pipeline.core.tables import TABLES

    kinds = {"str": st.none() | st.text(max_size=8), "int": st.none() | st.integers(-2**63, 2**63 - 1),
             "bool": st.none() | st.booleans(), "list": st.none() | st.lists(st.text(max_size=4), max_size=3),
             "json": _JSON_VALUES}
    return st.lists(st.fixed_dictionaries({name: kinds[kind] for name, kind, _ in TABLES[table]}), max_size=4)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_rows_of("requirements"))
def test_object_files_are_what_serialising_each_row_and_cell_gives(rows):
    # an object's (and a chunk's) JSON lines are each row's compact JSON, and a chunk's Parquet
    # cells each nested value's: what a reader of either form gets back is the record
    import io

    import pyarrow.parquet as pq

    from pipeline import store
    from pipeline.store import chunks, objects
    from pipeline.core.tables import TABLES

    try:
        lines = objects.jsonl_bytes(rows)
        data, _ = chunks._parquet("requirements", [rows])
    except (TypeError, UnicodeEncodeError):  # a lone surrogate: orjson refuses it (see the test above)
        return
    assert lines == b"".join(store.compact_json_bytes(r) + b"\n" for r in rows)
    assert [json.loads(line) for line in lines.splitlines()] == rows
    kinds = {name: kind for name, kind, _ in TABLES["requirements"]}
    assert pq.read_table(io.BytesIO(data)).to_pylist() == [
        {k: store.compact_json(v) if kinds[k] == "json" else v for k, v in r.items()} for r in rows]


def test_the_readme_reads_a_folder_table_as_one_table(built):
    """The README's snippet: plain json, pyarrow and pandas read a folder table as one table,
    the same records in the same order; DuckDB reads its files by glob."""
    import re

    import duckdb

    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"## The dataset contract.*?```python\n(.*?)```", readme, re.S).group(1)
    env: dict = {}
    cwd = os.getcwd()
    os.chdir(built)
    try:
        exec(snippet, env)  # noqa: S102 - the README's own code, run as a user would
    finally:
        os.chdir(cwd)
    records, table, frame = env["records"], env["table"], env["frame"]
    ds = built / "output" / "datasets" / (built / "output" / "LATEST").read_text().strip()
    assert len(records) == table.num_rows == len(frame) == len(store.load_tables(built / "output", ds.name)["requirements"])
    assert [r["id"] for r in records] == table.column("id").to_pylist() == list(frame["id"])
    got = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{ds}/requirements.parquet/*.parquet')").fetchone()
    assert got == (len(records),)


def test_loader_works_from_any_folder_and_gives_integer_counts(built, tmp_path, monkeypatch):
    """Counts come back as integers (nullable Int64), not 3.0; with no output given, load reads
    $PIPELINE_OUTPUT, or the project's own output/ from any folder."""
    from pipeline.store import loader

    monkeypatch.chdir(tmp_path)  # a folder with no output/ in it
    monkeypatch.delenv(loader.OUTPUT_ENV, raising=False)
    assert loader.default_output() == ROOT / "output"
    monkeypatch.setenv(loader.OUTPUT_ENV, str(built / "output"))
    reqs = pipeline.load()["requirements"]
    assert str(reqs["of"].dtype) == "Int64" and str(reqs["pick"].dtype) == "Int64"
    fund = reqs[reqs["category"].map(lambda c: c == ["金融业", "公募基金"])]
    assert sorted(int(x) for x in fund["of"].dropna()) == [3, 3, 3, 4, 5]


def test_each_requirement_publishes_the_content_hash_reconciliation_groups_on(fresh_build):
    """``requirements.content_hash`` names what a record states: recomputed from the published
    record, it is the same; the Row reconciliation reads carries it; records that differ only in
    their capture (file, date, lines, id) share it, and a changed field changes it."""
    from conftest import read_table
    from pipeline.core.records import RowReader, content_hash
    from pipeline.store import dataset_dir, latest

    result, output = fresh_build
    reqs = read_table(dataset_dir(output, latest(output)), "requirements")
    assert reqs and all(r["content_hash"] == content_hash(r) for r in reqs)
    reader = RowReader()
    assert [reader.row(r).content_hash for r in reqs] == [r["content_hash"] for r in reqs]
    r = reqs[0]
    other_capture = dict(r, id="req_x", source_file="raw/other.txt", source_sha256="0" * 64,
                         page_updated="2030-01-01", provenance=dict(r["provenance"], line_start=900, line_end=901))
    assert content_hash(other_capture) == r["content_hash"]
    # the objects of ``items`` in the parser's key order or a published file's sorted order: one hash
    reordered = dict(r, items=[dict(reversed(list(i.items()))) for i in r["items"]])
    assert content_hash(reordered) == r["content_hash"]
    assert content_hash(dict(r, documents=r["documents"] + ["另一份证明"])) != r["content_hash"]
