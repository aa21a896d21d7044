"""Incremental and parallel builds give exactly what a plain serial build gives."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, read_table
from pipeline import build, processes
from pipeline.build import run_build
from pipeline.core.tables import FOLDER_TABLES, PARSED_TABLES


def _tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _copies(raw_copy, n):
    """More sources than the pool threshold: edited copies of a seed (distinct bytes)."""
    seed = (raw_copy / "003_3b374c8cbaf8a554.txt").read_text()
    for i in range(n):
        (raw_copy / f"copy_{i:02}.txt").write_text(seed.replace("(4选1)", f"({4 + i % 3}选1)") + f"\n# copy {i}\n")


def _serial_then_pooled(tmp_path, raw_copy, monkeypatch):
    """The serial, uncached build of 19 sources (the seeds and 14 copies) to compare with; the
    builds after it use a pool and a cache of their own."""
    _copies(raw_copy, 14)
    serial = run_build([raw_copy], tmp_path / "serial", workers=1, use_cache=False, cache_dir=tmp_path / "cache-a")
    monkeypatch.setattr(processes, "POOL_MIN_SOURCES", 2)
    return serial


def test_parallel_build_equals_serial_build(tmp_path, raw_copy, monkeypatch):
    serial = _serial_then_pooled(tmp_path, raw_copy, monkeypatch)
    parallel = run_build([raw_copy], tmp_path / "parallel", workers=2, use_cache=False)
    assert serial.version == parallel.version and parallel.parsed == 19
    assert parallel.counts["conflicts"] > 0
    assert _tree(tmp_path / "serial" / "datasets") == _tree(tmp_path / "parallel" / "datasets")


def test_parallel_build_with_some_sources_cached_equals_serial_build(tmp_path, raw_copy, monkeypatch):
    # sources parsed in the pool (objects the workers wrote) and sources found in the object
    # store: the folder tables interleave both, in file order
    serial = _serial_then_pooled(tmp_path, raw_copy, monkeypatch)
    for p in sorted(raw_copy.glob("copy_*.txt"))[::2]:  # every other copy parsed (and cached) first
        p.rename(p.with_suffix(".hold"))
    run_build([raw_copy], tmp_path / "first", workers=2)
    for p in sorted(raw_copy.glob("copy_*.hold")):
        p.rename(p.with_suffix(".txt"))
    mixed = run_build([raw_copy], tmp_path / "mixed", workers=2)
    assert mixed.cached == 12 and mixed.parsed == 7 and mixed.version == serial.version
    assert _tree(tmp_path / "serial" / "datasets") == _tree(tmp_path / "mixed" / "datasets")


def test_cached_build_equals_uncached_and_parses_only_what_changed(tmp_path, raw_copy, monkeypatch):
    first = run_build([raw_copy], tmp_path / "a")
    assert (first.parsed, first.cached) == (5, 0)
    again = run_build([raw_copy], tmp_path / "b")  # a new output folder, the same cache
    assert (again.parsed, again.cached) == (0, 5)
    run_build([raw_copy], tmp_path / "c", use_cache=False)
    assert _tree(tmp_path / "b" / "datasets") == _tree(tmp_path / "c" / "datasets") == _tree(tmp_path / "a" / "datasets")
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("(4选1)", "(5选1)"))
    edited = run_build([raw_copy], tmp_path / "a")
    assert (edited.parsed, edited.cached) == (1, 4) and edited.created


def _objects(tmp_path):
    return sorted((tmp_path / ".cache" / "objects").glob("*/*.jsonl"))


def _head(path) -> dict:
    """What an object's first line says it holds."""
    return json.loads(path.read_bytes().split(b"\n", 1)[0])


@pytest.mark.parametrize("renamed", [False, True])
def test_object_that_is_not_what_it_lists_is_parsed_again(tmp_path, raw_copy, renamed):
    """An object's records overwritten, its length kept: the source is parsed again (an object
    with renames applied is made again from its source's), and the version is what a fresh
    build gives."""
    run_build([raw_copy], tmp_path / "a")
    objs = _objects(tmp_path)
    # five sources, and 001 and 004 with the rename 002 states (征信业务 → 企业征信) applied
    assert len(objs) == 7 and sum("renamed" in _head(o) for o in objs) == 2
    listed = {o: _head(o) for o in objs}
    renamed_from = {info["renamed"]["object"] for info in listed.values() if "renamed" in info}
    # a renamed object, or a source's own object that is published (one no rename reaches)
    overwritten = next(o for o, info in listed.items()
                       if ("renamed" in info) == renamed and info["key"] not in renamed_from
                       and info["tables"]["requirements"]["rows"])
    data = overwritten.read_bytes()
    head = data.index(b"\n") + 1
    overwritten.write_bytes(data[:head] + b"x" * (len(data) - head))
    (tmp_path / "a").rename(tmp_path / "gone")
    again = run_build([raw_copy], tmp_path / "b")
    assert again.parsed == (0 if renamed else 1)
    run_build([raw_copy], tmp_path / "c", use_cache=False, cache_dir=tmp_path / "other")
    assert _tree(tmp_path / "b" / "datasets") == _tree(tmp_path / "c" / "datasets")


def test_object_cut_short_is_not_used(tmp_path, raw_copy):
    """An object cut short (a disk that filled), or what a build killed while writing one left
    (a temporary file beside it), is no object: the source is parsed again, the other objects
    are used."""
    first = run_build([raw_copy], tmp_path / "a")
    sources = [o for o in _objects(tmp_path) if "renamed" not in _head(o)]
    data = sources[0].read_bytes()
    sources[0].write_bytes(data[:-10])
    (sources[1].parent / f".{sources[1].name}.tmp-1-abcd").write_bytes(data[:100])
    again = run_build([raw_copy], tmp_path / "b")
    assert (again.parsed, again.cached) == (1, 4) and again.version == first.version
    assert _tree(tmp_path / "a" / "datasets") == _tree(tmp_path / "b" / "datasets")


def test_a_new_version_shares_the_files_of_unchanged_sources(tmp_path, raw_copy, monkeypatch):
    """Adding a document writes that document's object, the chunk it falls in (two, when it
    ends one) and the small tables: every other chunk is the same file (a hard link) in both
    versions, and an identical capture of a document adds no object and no chunk at all."""
    from pipeline.store import chunks

    for t in FOLDER_TABLES:  # (chunks of about two sources: the seeds make several)
        monkeypatch.setitem(chunks.CHUNK_EVERY, t, 2)
    _copies(raw_copy, 8)
    out = tmp_path / "output"
    first = run_build([raw_copy], out)
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    (raw_copy / "003_new.txt").write_text(p.read_text().replace("(4选1)", "(5选1)"))
    second = run_build([raw_copy], out)
    assert (second.parsed, second.cached) == (1, 13) and second.created

    def files(version):
        ds = out / "datasets" / version
        return {(t, q.suffix, q.name.split("-", 1)[1]): q.stat().st_ino for t in FOLDER_TABLES
                for q in list((ds / t).glob("*")) + list((ds / f"{t}.parquet").glob("*"))}

    a, b = files(first.version), files(second.version)
    assert len([k for k in a if k[0] == "requirements" and k[1] == ".jsonl"]) > 3
    # (conflict values are not bounded so: a new capture can move other captures' values of a
    # conflict, where it falls among them; a chunk both versions have is still one file)
    for t in PARSED_TABLES:
        for suffix in (".jsonl", ".parquet"):
            old = {k for k in a if k[:2] == (t, suffix)}
            new = {k for k in b if k[:2] == (t, suffix)}
            assert len(old - new) <= 1 and len(new - old) <= 2
    assert all(a[name] == b[name] for name in set(a) & set(b))
    parsed = {k for k in a if k[0] in PARSED_TABLES}
    assert len(parsed - set(b)) < len(parsed) / 3
    objects = len(_objects(tmp_path))
    written = sorted((out / "chunks").iterdir())
    import shutil

    shutil.copy(raw_copy / "003_new.txt", raw_copy / "003_new_again.txt")
    third = run_build([raw_copy], out)
    assert third.created and third.parsed == 0 and len(_objects(tmp_path)) == objects
    assert sorted((out / "chunks").iterdir()) == written and files(third.version) == b
    captures = [s["captures"] for s in read_table(out / "datasets" / third.version, "sources")
                if s["source_file"] == "raw/003_new.txt"]
    assert captures == [[{"file": "raw/003_new.txt", "captured": None},
                         {"file": "raw/003_new_again.txt", "captured": None}]]


def test_unchanged_rebuild_is_up_to_date_without_pandas_or_pyarrow(tmp_path, raw_copy):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-X", "importtime", "-m", "pipeline", "build"]
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert first.returncode == 0 and "pyarrow" in first.stderr
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout.startswith("up to date")
    imported = {ln.rsplit("|", 1)[-1].strip() for ln in again.stderr.splitlines() if ln.startswith("import time:")}
    assert not {m for m in imported if m.split(".")[0] in ("pandas", "pyarrow", "numpy", "bs4", "pdfplumber")}


def _imported(stderr: str) -> set[str]:
    """Modules a ``-X importtime`` run imported (or tried to: an import that fails is listed too)."""
    return {ln.rsplit("|", 1)[-1].strip() for ln in stderr.splitlines() if ln.startswith("import time:")}


def test_all_versions_read_as_one_partitioned_dataset(tmp_path, raw_copy):
    import re

    import duckdb
    import pyarrow.dataset as ds

    out = tmp_path / "output"
    first = run_build([raw_copy], out)
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("(4选1)", "(6选1)"))
    second = run_build([raw_copy], out)
    table = ds.dataset(out / "parquet" / "requirements", partitioning="hive").to_table()
    assert set(table.column("dataset_version").to_pylist()) == {first.version, second.version}
    readme = (ROOT / "README.md").read_text()
    query = re.search(r"```sql\n(.*?)```", readme, re.S).group(1)
    rows = duckdb.connect().execute(query.replace("output/", f"{out}/")).fetchall()
    face = {(v, r[4]) for r in rows for v in [r[0]] if r[1] == "face_verification" and "003" in r[2]}
    assert {(first.version, 4), (second.version, 4)} <= {(v, o) for v, o in face}
    assert {r[3] for r in rows if r[0] == second.version and "003" in r[2]} == {6}


def test_small_tables_are_written_in_row_groups_that_read_back_as_the_records(tmp_path, monkeypatch):
    # a small table's Parquet row groups end after ROW_GROUP rows or ROW_GROUP_BYTES of JSON,
    # whichever comes first; read back, the groups are the records in order
    import pyarrow.parquet as pq

    from pipeline.store import writing

    rows = [{"source_file": f"raw/{i}.txt", "source_sha256": f"{i:064x}", "bytes": i, "encoding": "utf-8",
             "format": "web_text", "pages": [], "updated": None, "record_counts": {}, "captures": [],
             "warnings": ["长" * (i % 7) * 20], "links": []} for i in range(23)]
    monkeypatch.setattr(writing, "ROW_GROUP", 5)
    monkeypatch.setattr(writing, "ROW_GROUP_BYTES", 1500)
    table = writing._SmallTable(tmp_path, "sources")
    for r in rows:
        table.add(r)
    table.finish("v")
    f = pq.ParquetFile(tmp_path / "sources.parquet")
    sizes = [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)]
    assert sum(sizes) == len(rows) and max(sizes) == 5 and len(set(sizes)) > 1  # both limits take part
    got = f.read().to_pylist()
    assert [g["source_file"] for g in got] == [r["source_file"] for r in rows]
    assert json.loads((tmp_path / "sources.json").read_text())["records"] == [
        {k: r.get(k) for k in sorted(r)} for r in rows]


def test_a_build_leaves_no_file_open(tmp_path, raw_copy):
    # a process that runs many builds (a test session, a service) must not keep files open
    run_build([raw_copy], tmp_path / "a")
    assert _objects(tmp_path)
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    assert not [p for p in held if p.startswith(str(tmp_path))]


def test_a_parser_change_that_changes_no_record_gives_the_same_version_bytes(tmp_path, raw_copy, monkeypatch):
    """Regression: the folder tables' files were named after the object key, which hashes the
    parser's code: a code change that changed no record gave the same version name but other
    file names, manifest and Data Package."""
    run_build([raw_copy], tmp_path / "a")
    monkeypatch.setattr(build, "parser_version", lambda: "another parser")
    again = run_build([raw_copy], tmp_path / "b")
    assert again.parsed == 5  # (other objects: the cache is keyed by the parser)
    assert _tree(tmp_path / "a" / "datasets") == _tree(tmp_path / "b" / "datasets")


def test_objects_of_another_parser_are_removed_and_published_versions_keep_their_files(tmp_path, raw_copy,
                                                                                       monkeypatch):
    first = run_build([raw_copy], tmp_path / "output")
    old = set(_objects(tmp_path))
    # an object of schema 4 and before: a folder
    (tmp_path / ".cache" / "objects" / "ab" / "ab12").mkdir(parents=True)
    (tmp_path / ".cache" / "objects" / "ab" / "ab12" / "object.json").write_text("{}")
    # what the parse cache of schema 1.x left beside the objects
    (tmp_path / ".cache" / "parsed").mkdir()
    (tmp_path / ".cache" / "parsed" / "123-abc.pack").write_bytes(b"old")
    (tmp_path / ".cache" / "hashes.json").write_text("{}")
    monkeypatch.setattr(build, "parser_version", lambda: "another parser")
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("(4选1)", "(5选1)"))
    run_build([raw_copy], tmp_path / "output")
    now = set(_objects(tmp_path))
    assert old and not (old & now) and len(now) == len(old)
    assert not (tmp_path / ".cache" / "parsed").exists() and not (tmp_path / ".cache" / "hashes.json").exists()
    assert not (tmp_path / ".cache" / "objects" / "ab" / "ab12").exists()
    # the first version's files were the old objects' (hard links): still whole
    ds = tmp_path / "output" / "datasets" / first.version
    assert len(read_table(ds, "requirements")) == first.counts["requirements"]
    from pipeline import store

    assert len(list(store.iter_table(ds, "requirements"))) == first.counts["requirements"]


def test_object_files_are_read_only(tmp_path, raw_copy):
    """A published folder table's file is the object's, and every version's that has the source:
    it is read-only, so an edit meant for one version cannot silently change the others."""
    import stat

    first = run_build([raw_copy], tmp_path / "output")
    ds = tmp_path / "output" / "datasets" / first.version
    files = list((ds / "requirements").glob("*.jsonl")) + list((ds / "requirements.parquet").glob("*.parquet"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o444 for f in files)
