"""The folder tables' chunks (store.chunks) and the object store's files (store.objects)."""
import hashlib
import json
import os
import stat

import io

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, read_table
from pipeline import store
from pipeline.core import records
from pipeline.store import chunks, objects
from pipeline.build import _index_rows, run_build
from pipeline.store.chunks import Chunker, ChunkStore
from pipeline.store.objects import CorruptObject, Objects


def _source(i: int) -> tuple[str, bytes, list[dict]]:
    sha = hashlib.sha256(f"source {i}".encode()).hexdigest()
    rows = [{"id": f"{sha[:8]}-{n}", "source_sha256": sha, "source_file": f"raw/{i}.txt", "text": "长" * n}
            for n in range(i % 3 + 1)]
    return sha, b"".join(store.compact_json_bytes(r) + b"\n" for r in rows), rows


def _chunks(chunk_store, sources, every=4):
    chunker = Chunker(chunk_store, "licenses", every=every)
    for sha, data, _ in sources:
        chunker.add(sha, data)
    return chunker.finish()


def test_a_source_added_changes_the_chunk_it_falls_in_only(tmp_path):
    chunk_store = ChunkStore(tmp_path / "chunks")
    sources = [_source(i) for i in range(60)]
    before = _chunks(chunk_store, sources)
    assert len(before) > 5
    written = set(os.listdir(tmp_path / "chunks"))
    after = _chunks(chunk_store, sources[:30] + [_source(1000)] + sources[30:])
    old, new = [c["sha256"] for c in before], [c["sha256"] for c in after]
    assert len(set(old) - set(new)) == 1 and 1 <= len(set(new) - set(old)) <= 2
    assert len(set(os.listdir(tmp_path / "chunks")) - written) == 3 * len(set(new) - set(old))
    # a chunk is the sources' lines as they are, in order; its Parquet file the same records
    for c in after:
        data = (tmp_path / "chunks" / f"{c['sha256']}.jsonl").read_bytes()
        assert hashlib.sha256(data).hexdigest() == c["sha256"] and c["rows"] == len(data.splitlines())
        assert [json.loads(ln)["source_sha256"] for ln in data.splitlines()][-1] == c["sources"][-1]
        got = pq.read_table(tmp_path / "chunks" / f"{c['sha256']}.parquet").to_pylist()
        assert [r["id"] for r in got] == [json.loads(ln)["id"] for ln in data.splitlines()]
    assert b"".join((tmp_path / "chunks" / f"{c['sha256']}.jsonl").read_bytes() for c in after) == \
        b"".join(d for _, d, _ in sources[:30] + [_source(1000)] + sources[30:])


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_a_chunk_that_is_not_what_it_lists_is_written_again(tmp_path, suffix):
    chunk_store = ChunkStore(tmp_path / "chunks")
    sources = [_source(i) for i in range(3)]
    (chunk,) = _chunks(chunk_store, sources, every=10**9)
    p = tmp_path / "chunks" / f"{chunk['sha256']}.{suffix}"
    good = p.read_bytes()
    assert stat.S_IMODE(p.stat().st_mode) == 0o444
    p.chmod(0o644)
    p.write_bytes(b"x" * len(good))
    (again,) = _chunks(chunk_store, sources, every=10**9)
    assert again == chunk and p.read_bytes() == good and stat.S_IMODE(p.stat().st_mode) == 0o444
    p.chmod(0o644)  # made writable, left as it was: read-only again
    _chunks(chunk_store, sources, every=10**9)
    assert stat.S_IMODE(p.stat().st_mode) == 0o444


def test_chunks_no_version_links_go_when_a_version_is_published(tmp_path, raw_copy):
    out = tmp_path / "output"
    run_build([raw_copy], out)
    kept = sorted((out / "chunks").iterdir())
    stray = ChunkStore(out / "chunks")
    _chunks(stray, [_source(i) for i in range(3)], every=10**9)  # (a build that failed wrote it)
    (out / "chunks" / ("0" * 64 + ".json")).write_text("{}")  # (a listing without its chunk)
    p = raw_copy / "003_3b374c8cbaf8a554.txt"
    p.write_text(p.read_text().replace("(4选1)", "(5选1)"))
    run_build([raw_copy], out)
    now = sorted((out / "chunks").iterdir())
    assert set(kept) & set(now) and not {q for q in now if q.stat().st_nlink == 1 and q.suffix != ".json"}
    assert not (out / "chunks" / ("0" * 64 + ".json")).exists()
    assert all((q.with_suffix(".jsonl")).exists() for q in now)


def test_a_reader_of_some_sources_reads_the_chunks_holding_them(tmp_path, raw_copy, monkeypatch):
    from pipeline.store import chunks

    monkeypatch.setitem(chunks.CHUNK_EVERY, "requirements", 2)
    out = tmp_path / "output"
    result = run_build([raw_copy], out)
    ds = out / "datasets" / result.version
    everything = read_table(ds, "requirements")
    manifest = json.loads((ds / "manifest.json").read_text())
    listed = [o for o in manifest["outputs"] if o["file"].startswith("requirements/")]
    assert len(listed) > 1
    one = listed[-1]["sources"][0]
    for o in listed[:-1]:  # chunks that do not hold it are not read
        if one not in o["sources"]:
            (ds / o["file"]).chmod(0o644)
            (ds / o["file"]).write_bytes(b"")
    assert list(store.iter_table(ds, "requirements", {one})) == [r for r in everything if r["source_sha256"] == one]


def test_a_version_of_one_file_per_source_is_read_as_before(tmp_path):
    """Schema 2 to 4: a folder table's file per source, listed with its ``source_sha256``."""
    ds = tmp_path / "datasets" / "v"
    (ds / "requirements").mkdir(parents=True)
    outputs = []
    for i in range(2):
        sha, data, rows = _source(i)
        name = f"requirements/{i:05d}-{sha[:16]}.jsonl"
        (ds / name).write_bytes(data)
        outputs.append({"file": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                        "rows": len(rows), "source_sha256": sha})
    (ds / "manifest.json").write_text(json.dumps({"outputs": outputs}))
    second = _source(1)
    assert list(store.iter_table(ds, "requirements", {second[0]})) == second[2]
    assert len(list(store.iter_table(ds, "requirements"))) == len(_source(0)[2]) + len(second[2])


@pytest.fixture(scope="module")
def seed_rows():
    """The tables of the seeds' first source, parsed (real requirement records)."""
    from pipeline.build import rows_of

    ref = store.list_raw([ROOT / "raw"])[0][0]
    return rows_of(ref.read(store.hash_files([ref])[ref.display]))


def test_an_object_is_one_file_checked_when_read(tmp_path, seed_rows):
    objects = Objects(tmp_path / "objects")
    rows = {"requirements": seed_rows["requirements"], "licenses": _source(2)[2]}
    info = objects.put("ab" * 16, rows, source={"source_sha256": "x"}, captures=[], parser="p", warnings=[])
    assert list((tmp_path / "objects").rglob("*")) == [tmp_path / "objects" / "ab", info["path"]]
    got = objects.get("ab" * 16)
    assert objects.records(got, "requirements") == rows["requirements"] and objects.records(got, "scenarios") == []
    data = info["path"].read_bytes()
    info["path"].write_bytes(data[:-3] + b"xyz")
    with pytest.raises(CorruptObject):
        objects.tables(objects.get("ab" * 16))
    info["path"].write_bytes(data[:-3])
    assert objects.checked("ab" * 16) is None and not info["path"].exists()


def test_a_chunks_parquet_from_the_objects_arrow_is_the_one_from_its_records(seed_rows):
    """The build makes a chunk's Parquet file of its sources' Arrow streams (``arrow_ipc``),
    not of their records decoded again: the same bytes, whatever the parts."""
    rs = seed_rows["requirements"]
    whole, n = chunks._parquet("requirements", [rs])
    streams = [chunks._arrow(objects.arrow_ipc("requirements", part)) for part in (rs[:5], rs[5:6], rs[6:])]
    assert n == len(rs) and chunks._parquet("requirements", streams) == (whole, n)
    assert chunks._parquet("requirements", [streams[0], rs[5:6], streams[2]]) == (whole, n)
    assert pq.read_table(io.BytesIO(whole)).num_rows == len(rs)


def test_rows_read_from_an_index_are_the_rows_of_the_records(seed_rows):
    """``RowReader.rows_of_index`` gives what ``RowReader.row`` gives of each record; a content
    the reader has met is not decoded again, one it has not is checked against its digest."""
    rs = seed_rows["requirements"]
    index, contents = records.row_index(rs)
    want = [records.RowReader().row(r) for r in rs]
    reader = records.RowReader()
    got = reader.rows_of_index(index, contents)
    fields = ("source_sha256", "source_file", "page_updated", "line_start", "line_end", "pdf_page", "content_hash")
    assert [[getattr(r, f) for f in fields] + [r._c, r.provenance.page, r.provenance.file] for r in got] == \
           [[getattr(r, f) for f in fields] + [r._c, r.provenance.page, r.provenance.file] for r in want]
    assert len(json.loads(index)["contents"]) == len(contents.splitlines()) == len({r.content_hash for r in want})
    # (met already: the contents are not read, so not even their absence is noticed)
    assert [r.content_hash for r in reader.rows_of_index(index, b"")] == [r.content_hash for r in want]
    lines = contents.splitlines()
    edited = b"\n".join([lines[0].replace(b'"', b' "', 1)] + lines[1:])
    with pytest.raises(ValueError):
        records.RowReader().rows_of_index(index, edited)
    # an index listing a content it does not have is a corrupt object (parsed again), not a crash
    bad = json.loads(index)
    bad["groups"][0][1][0][0] = len(bad["contents"])
    with pytest.raises(CorruptObject):
        _index_rows(records.RowReader(), {store.INDEX_PART: json.dumps(bad).encode(),
                                          store.CONTENTS_PART: contents}, {"path": "x.jsonl"})


def test_an_object_whose_index_is_not_what_it_lists_is_parsed_again(tmp_path, raw_copy):
    """An object whose index lists a content its contents do not hold (its first line
    rewritten to match) is corrupt: the source is parsed again, and the dataset is the same."""
    out = tmp_path / "output"
    first = run_build([raw_copy], out, decisions=tmp_path / "none.toml")
    cache = tmp_path / ".cache" / "objects"
    p = max(cache.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    head, body = p.read_bytes().split(b"\n", 1)
    info = json.loads(head)
    at = sum(t["bytes"] for t in info["tables"].values())
    sizes = dict(map(tuple, info["parts"]))
    start = at + sizes[store.INDEX_PART]
    body = body[:start] + b" " + body[start + 1:]  # (the first content's "[" made a space)
    info["body"]["sha256"] = hashlib.sha256(body).hexdigest()
    p.write_bytes(store.compact_json_bytes(info) + b"\n" + body)
    (tmp_path / "output" / "datasets").rename(tmp_path / "gone")  # (so that it builds again)
    (out / "LATEST").unlink()
    again = run_build([raw_copy], out, decisions=tmp_path / "none.toml")
    assert again.version == first.version and again.parsed == 1


def test_equal_lists_of_captures_are_one_object_once_read(tmp_path, seed_rows):
    """A build holds every source's first line at once: what two objects say alike of their
    captures (their categories, what those carry) is one object, read only, not two."""
    from pipeline import reconcile

    objects = Objects(tmp_path / "objects")
    said = reconcile.captures_said(seed_rows["requirements"])
    other = [dict(c, updated="2099-01-01") for c in said]
    for key, caps in (("ab" * 16, said), ("cd" * 16, other)):
        objects.put(key, seed_rows, source={"source_sha256": key}, captures=caps, parser="p", warnings=[])
    a, b = objects.get("ab" * 16), objects.get("cd" * 16)
    assert a["captures"] == said and b["captures"] == other
    assert all(x["categories"] is y["categories"] and x["carries"] is y["carries"]
               for x, y in zip(a["captures"], b["captures"]))

