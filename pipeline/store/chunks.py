"""Content-addressed chunks: how a table whose records come source by source is published.

A version's folder table (``tables.FOLDER_TABLES``) is a few chunks, each the records of
consecutive sources: ``<table>/<position>-<digest>.jsonl`` (one compact JSON record per line)
and ``<table>.parquet/<position>-<digest>.parquet`` (the same rows). Where a chunk ends depends
on its sources alone, not on where they stand (``Chunker``: after a source whose digest is 0
modulo ``CHUNK_EVERY``), so adding a document to an archive changes the one chunk it falls in
(two, when it ends one) and every other chunk is the one the previous version has.

Each chunk is written once into the chunk store ``output/chunks/`` (``ChunkStore``; staged
until the version that first has it is published), named by
the sha256 of its JSON lines: ``<sha256>.jsonl``, ``<sha256>.parquet`` and ``<sha256>.json``
(what the other two are: rows, bytes, the Parquet file's sha256; written last, so a chunk
without it is none), read-only, and hard-linked into every version that has it: a version's
folder tables cost the chunks that changed. A chunk the store holds is linked only once its
bytes are checked against what this build would write; one that is not is written again.
A chunk no version links any more (a build killed as it published, a version removed by hand)
is removed when a version is published (``prune``).

The chunks are made from the JSON lines each source's object holds (``objects``); the Parquet
file of a new chunk is made here, from the Arrow stream the object holds of the same records
(``objects.arrow_ipc``: made where the source was parsed, so its records are not decoded again
here), or from its records where there is none (the conflicts' values).
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import orjson

from pipeline.store.objects import arrow_table, jsonl_records, parquet_options, write_new

#: the chunk store's folder, in ``output/``
CHUNKS = "chunks"
#: a chunk of a table ends after a source whose digest is 0 modulo this many (on average one
#: source in so many), chosen so that a chunk holds a few MB of JSON: on the synthetic
#: archives a source has ~49 KB of requirements, and one in five has scenarios and licences of
#: a few KB (10,000 documents: requirements in ~160 chunks of ~3 MB)
CHUNK_EVERY = {"requirements": 64, "scenarios": 512, "licenses": 512}
#: of a table not listed above
DEFAULT_EVERY = 64
#: ... or once its JSON lines reach this many bytes (a chunk's records are held to write its
#: Parquet file: this bounds them; what follows realigns at the next source that ends one)
MAX_CHUNK_BYTES = 8 << 20
#: records made into Arrow at a time (``_parquet``)
SLICE_ROWS = 1024


class ChunkStore:
    """``output/chunks/``: every chunk of every version, once. A build writes its new chunks
    into ``staging`` (``output/.tmp-chunks-<pid>/``) and moves them into the store when it
    publishes (``commit``), so that a build that fails leaves ``output/`` as it was
    (``abandon``; a killed build's staging goes with the other temporary files)."""

    def __init__(self, folder: Path, staging: Path | None = None):
        self.folder, self.staging = folder, staging

    def path(self, digest: str, suffix: str) -> Path:
        """Where the chunk's file is: staged by this build, or in the store."""
        if self.staging is not None:
            staged = self.staging / f"{digest}.{suffix}"
            if staged.exists():
                return staged
        return self.folder / f"{digest}.{suffix}"

    def put(self, table: str, data: bytes, records) -> dict:
        """The chunk of ``table`` whose JSON lines are ``data``, in the store (checked, or
        written: ``records()`` iterates over its parts for the Parquet file, each an Arrow table or
        records, ``_parquet``). Returns what it is:
        ``{"sha256", "bytes", "rows", "parquet": {"sha256", "bytes"}}``."""
        digest = hashlib.sha256(data).hexdigest()
        meta = self._checked(digest, table, data)
        if meta is None:
            meta = self._write(digest, table, data, records())
        return meta

    def commit(self) -> None:
        """The chunks this build wrote, moved into the store (each one's listing last)."""
        if self.staging is None or not self.staging.is_dir():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for suffix in ("jsonl", "parquet", "json"):
            for p in sorted(self.staging.glob(f"*.{suffix}")):
                os.replace(p, self.folder / p.name)
        self.abandon()

    def abandon(self) -> None:
        """What this build staged, removed (its versions' links to it go with them)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _checked(self, digest: str, table: str, data: bytes) -> dict | None:
        """The chunk ``digest`` as the store holds it, when its files are the bytes its
        listing gives (its JSON lines ``data`` itself) and read-only (a file someone made
        writable but left as it was is made read-only again); else None, and what there was
        of it is removed."""
        try:
            meta = orjson.loads(self.path(digest, "json").read_bytes())
            if not isinstance(meta, dict) or meta.get("table") != table or meta.get("sha256") != digest:
                raise ValueError("not this chunk's listing")
            for suffix, want in (("jsonl", data), ("parquet", None)):
                p = self.path(digest, suffix)
                with open(p, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    got = fh.read()
                if (got != want if want is not None else
                        len(got) != meta["parquet"]["bytes"] or hashlib.sha256(got).hexdigest() != meta["parquet"]["sha256"]):
                    raise ValueError(f"{p}: not the bytes listed")
                if st.st_mode & 0o222:
                    os.chmod(p, 0o444)
        except (OSError, ValueError, KeyError, TypeError):
            self.remove(digest)
            return None
        return meta

    def _write(self, digest: str, table: str, data: bytes, records) -> dict:
        pq, rows = _parquet(table, records)
        meta = {"table": table, "sha256": digest, "bytes": len(data), "rows": rows,
                "parquet": {"sha256": hashlib.sha256(pq).hexdigest(), "bytes": len(pq)}}
        folder = self.staging if self.staging is not None else self.folder
        folder.mkdir(parents=True, exist_ok=True)
        # read-only: the file is every version's that has the chunk (hard links), so an edit to
        # one published version's file would change them all
        write_new(folder / f"{digest}.jsonl", data, sync=True, mode=0o444)
        write_new(folder / f"{digest}.parquet", pq, sync=True, mode=0o444)
        write_new(folder / f"{digest}.json", orjson.dumps(meta, option=orjson.OPT_SORT_KEYS), sync=True)
        return meta

    def remove(self, digest: str) -> None:
        for suffix in ("json", "jsonl", "parquet"):  # (the listing first: a chunk without it is none)
            self.path(digest, suffix).unlink(missing_ok=True)

    def prune(self) -> int:
        """Remove the chunks no version links (their JSON lines have no other link); how many
        went. (A version copied without its hard links, ``cp -r``, holds copies: its chunks
        are written again when a version has them.)"""
        gone = 0
        for p in self.folder.glob("*.jsonl") if self.folder.is_dir() else []:
            try:
                alone = os.stat(p).st_nlink == 1
            except OSError:
                continue
            if alone:
                self.remove(p.name[:-len(".jsonl")])
                gone += 1
        for p in self.folder.glob("*.json") if self.folder.is_dir() else []:
            if not self.path(p.name[:-len(".json")], "jsonl").exists():
                self.remove(p.name[:-len(".json")])
        return gone


def _parquet(table: str, parts) -> tuple[bytes, int]:
    """The Parquet file of a chunk, and how many rows it has, from its parts: each an Arrow
    table (``objects.arrow_ipc`` read back) or records, made into Arrow ``SLICE_ROWS`` at a time;
    written as one table (one row group), so that only a slice of records is held as Python
    objects besides Arrow's compact copy (a 7 MB chunk of requirements cost 30 MB more made
    whole, pyarrow 17)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables, part = [], []
    for got in parts:
        if isinstance(got, pa.Table):
            tables.append(got)
            continue
        for r in got:
            part.append(r)
            if len(part) == SLICE_ROWS:
                tables.append(arrow_table(table, part))
                part = []
        tables.append(arrow_table(table, part))
        part = []
    if not tables:
        tables.append(arrow_table(table, []))
    whole = pa.concat_tables(tables).combine_chunks()
    buf = io.BytesIO()
    pq.write_table(whole, buf, **parquet_options(table))
    return buf.getvalue(), whole.num_rows


def _arrow(data: bytes):
    import pyarrow as pa

    return pa.ipc.open_stream(data).read_all()


class Chunker:
    """One table's records, given source by source in published order (``add``), cut into
    chunks put in the store as each one ends; ``finish`` gives them in order. Generic over any
    table whose records are grouped by source: only their JSON lines are needed, and their
    Arrow stream when the caller has one (else the lines are decoded when a chunk is new)."""

    def __init__(self, chunk_store: ChunkStore, table: str, every: int | None = None):
        self.store, self.table = chunk_store, table
        self.every = every or CHUNK_EVERY.get(table, DEFAULT_EVERY)
        self.chunks: list[dict] = []
        self._parts: list[bytes] = []
        self._arrow: list[bytes | None] = []
        self._sources: list[str] = []
        self._bytes = 0

    def add(self, source_sha256: str, data: bytes, arrow: bytes | None = None) -> None:
        """One source's records of the table (``data``: their lines; ``arrow``: the same
        records as an Arrow IPC stream, ``objects.arrow_ipc``, or None: they are then decoded
        from their lines when a chunk is new); a source with none still counts where chunks end."""
        if data:
            self._parts.append(data)
            self._arrow.append(arrow)
            self._sources.append(source_sha256)
            self._bytes += len(data)
        if int(source_sha256[:8], 16) % self.every == 0 or self._bytes >= MAX_CHUNK_BYTES:
            self._cut()

    def _cut(self) -> None:
        if not self._parts:
            return
        data = b"".join(self._parts)
        parts, arrows = self._parts, self._arrow

        def records():
            for part, got in zip(parts, arrows):
                yield _arrow(got) if got is not None else jsonl_records(part)

        meta = self.store.put(self.table, data, records)
        self.chunks.append(dict(meta, sources=self._sources))
        self._parts, self._arrow, self._sources, self._bytes = [], [], [], 0

    def finish(self) -> list[dict]:
        """The table's chunks, in order: each what ``ChunkStore.put`` returns and the sources
        whose records it holds (``sources``)."""
        self._cut()
        return self.chunks
