"""Incremental and parallel builds give exactly what a plain serial build gives."""
import os
import subprocess
import sys

from conftest import ROOT
from pipeline import build, store
from pipeline.build import run_build


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
    monkeypatch.setattr(build, "POOL_MIN_SOURCES", 2)
    return serial


def test_parallel_build_equals_serial_build(tmp_path, raw_copy, monkeypatch):
    serial = _serial_then_pooled(tmp_path, raw_copy, monkeypatch)
    parallel = run_build([raw_copy], tmp_path / "parallel", workers=2, use_cache=False)
    assert serial.version == parallel.version and parallel.parsed == 19
    assert parallel.counts["conflicts"] > 0  # written by the conflict process in the parallel build
    assert _tree(tmp_path / "serial" / "datasets") == _tree(tmp_path / "parallel" / "datasets")


def test_parallel_build_with_some_sources_cached_equals_serial_build(tmp_path, raw_copy, monkeypatch):
    # sources parsed in the pool leave their records in the workers' spools, sources read from
    # the cache in the build's own: the tables interleave both, in file order
    serial = _serial_then_pooled(tmp_path, raw_copy, monkeypatch)
    for p in sorted(raw_copy.glob("copy_*.txt"))[::2]:  # every other copy parsed (and cached) first
        p.rename(p.with_suffix(".hold"))
    run_build([raw_copy], tmp_path / "first", workers=2)
    for p in sorted(raw_copy.glob("copy_*.hold")):
        p.rename(p.with_suffix(".txt"))
    mixed = run_build([raw_copy], tmp_path / "mixed", workers=2)
    assert mixed.cached == 12 and mixed.parsed == 7 and mixed.version == serial.version
    assert _tree(tmp_path / "serial" / "datasets") == _tree(tmp_path / "mixed" / "datasets")


def test_batches_combined_before_their_row_group_give_the_same_tables(tmp_path, raw_copy, monkeypatch):
    """A table writer combines its pending record batches every ``PENDING_BATCHES`` (a row group
    of one-row batches held 75 MB of Arrow bookkeeping): the same bytes as never combining.
    Small row groups, so that groups also end inside a source's records."""
    _copies(raw_copy, 14)
    monkeypatch.setattr(store, "ROW_GROUP", 40)
    run_build([raw_copy], tmp_path / "never", workers=1, use_cache=False)  # 19 sources: under 256 batches
    monkeypatch.setattr(store, "PENDING_BATCHES", 2)
    run_build([raw_copy], tmp_path / "often", workers=1, use_cache=False)
    assert _tree(tmp_path / "never" / "datasets") == _tree(tmp_path / "often" / "datasets")


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


def test_unreadable_cache_entry_is_parsed_again(tmp_path, raw_copy, monkeypatch):
    run_build([raw_copy], tmp_path / "a")
    cache = store.ParseCache(tmp_path / ".cache")
    assert len(cache.index) == 5
    pack, start, _, n = sorted(cache.index.values())[2]
    with open(pack, "r+b") as fh:  # the entry's data overwritten, its length kept
        fh.seek(start)
        fh.write(b"x" * n)
    again = run_build([raw_copy], tmp_path / "b")
    assert (again.parsed, again.cached) == (1, 4)
    assert _tree(tmp_path / "a" / "datasets") == _tree(tmp_path / "b" / "datasets")


def test_cache_pack_cut_short_keeps_its_whole_entries(tmp_path, raw_copy, monkeypatch):
    """A build killed while it wrote an entry: the entries before it are still used."""
    run_build([raw_copy], tmp_path / "a")
    (pack,) = {p for p, *_ in store.ParseCache(tmp_path / ".cache").index.values()}
    with open(pack, "r+b") as fh:
        fh.truncate(pack.stat().st_size - 10)
    again = run_build([raw_copy], tmp_path / "b")
    assert (again.parsed, again.cached) == (1, 4)
    assert _tree(tmp_path / "a" / "datasets") == _tree(tmp_path / "b" / "datasets")


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


def test_row_groups_end_where_they_would_for_rows_given_one_by_one(tmp_path, monkeypatch):
    # a build hands the writer each source's records as one block; where a row group ends must
    # not depend on how the records were grouped, or a cached or parallel build (other blocks)
    # would write other Parquet bytes
    import pyarrow.parquet as pq

    from pipeline import store

    rows = [{"id": f"src_{i}", "file": f"raw/{i}.txt", "sha256": "0" * 64, "size": i, "encoding": "utf-8",
             "format": "web_text", "metadata": {}, "pages": [], "updated": None, "record_counts": {},
             "warnings": ["长" * (i % 7)], "links": []} for i in range(23)]
    monkeypatch.setattr(store, "ROW_GROUP", 5)
    monkeypatch.setattr(store, "ROW_GROUP_BYTES", 900)
    files = []
    for name, blocks in (("one_by_one", [[r] for r in rows]), ("blocks", [rows[:2], rows[2:13], rows[13:]]),
                         ("whole", [rows])):
        folder = tmp_path / name
        folder.mkdir()
        w = store.TableWriter(folder, "sources")
        for block, data in store.encode("sources", blocks):
            w.add_batch(block, store.arrow_batch("sources", data))
        w.finish("v")
        files.append(folder / "sources.parquet")
    sizes = [[pq.ParquetFile(f).metadata.row_group(i).num_rows for i in range(pq.ParquetFile(f).num_row_groups)]
             for f in files]
    assert sizes[0] == sizes[1] == sizes[2] and len(sizes[0]) > 4 and sum(sizes[0]) == len(rows)
    assert len(set(sizes[0])) > 1  # both limits take part: rows and bytes
    assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()


def test_a_build_leaves_no_cache_pack_open(tmp_path, raw_copy, monkeypatch):
    # a process that runs many builds (a test session, a service) must not keep a file open per
    # cache folder it ever wrote to
    run_build([raw_copy], tmp_path / "a")
    assert list((tmp_path / ".cache" / "parsed").glob("*.pack"))
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    assert not [p for p in held if p.startswith(str(tmp_path / ".cache"))]
