"""Writing a dataset version and publishing it.

A version is written under ``output/.tmp-build-<pid>/`` and renamed into ``output/datasets/``
only when complete; ``output/LATEST`` is replaced atomically afterwards. A version that exists
is never written again. Its folder tables are hard links to the chunk store's files
(``chunks``); its small tables are written here.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

from pipeline.core.errors import StoreError
from pipeline.store.files import _fsync_dir, _json_bytes, _naming, compact_json_bytes, write_atomic
from pipeline.store.chunks import CHUNKS, ChunkStore
from pipeline.store.objects import arrow_schema, arrow_table, parquet_options
from pipeline.store.published import (FEED_FILE, HISTORY_EVENTS, HISTORY_HEADER, REPORT_SUFFIXES, has_feed, history,
                                      latest, parse_history)
from pipeline.core.tables import FOLDER_TABLES, SCHEMA_VERSION, TABLE_ORDER, json_schema, table_schema_fields

#: a small table's Parquet row groups end after this many rows ...
ROW_GROUP = 5_000
#: ... or fewer once their JSON reaches this size (a conflict lists every capture's value)
ROW_GROUP_BYTES = 2 << 20


class _SmallTable:
    """One table written as it comes, into ``<table>.json`` (one record per line, the version
    name in its last line: ``{"schema_version", "table", "records": [ … ], "dataset_version"}``)
    and ``<table>.parquet`` (row groups)."""

    def __init__(self, folder: Path, table: str):
        self.folder, self.table = folder, table
        self.path = folder / f"{table}.json"
        self.fh = open(self.path, "wb")
        self.sha = hashlib.sha256()
        self.size = 0
        self._write(f'{{"schema_version": {json.dumps(SCHEMA_VERSION)}, "table": {json.dumps(table)}, '
                    f'"records": [\n'.encode())
        self.content = hashlib.sha256()  # of the record lines, each followed by a newline
        self.rows = 0
        self.group: list[dict] = []
        self.group_bytes = 0
        self.parquet = None

    def _write(self, data: bytes) -> None:
        with _naming(self.path):
            self.fh.write(data)
        self.sha.update(data)
        self.size += len(data)

    def add(self, row: dict, line: bytes | None = None) -> None:
        """One record (``line``: its ``compact_json_bytes``, when the caller has it)."""
        line = line if line is not None else compact_json_bytes(row)
        self._write((b",\n" if self.rows else b"") + line)
        self.content.update(line + b"\n")
        self.rows += 1
        self.group.append(row)
        self.group_bytes += len(line)
        if len(self.group) >= ROW_GROUP or self.group_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        import pyarrow.parquet as pq

        with _naming(self.folder / f"{self.table}.parquet"):
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(str(self.folder / f"{self.table}.parquet"),
                                                arrow_schema(self.table), **parquet_options(self.table))
            self.parquet.write_table(arrow_table(self.table, self.group))
        self.group, self.group_bytes = [], 0

    def finish(self, version: str) -> list[dict]:
        if self.group or self.parquet is None:
            self._flush()
        with _naming(self.folder / f"{self.table}.parquet"):
            self.parquet.close()
        self._write(f'\n], "dataset_version": {json.dumps(version)}}}\n'.encode())
        with _naming(self.path):
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
        pdata = (self.folder / f"{self.table}.parquet").read_bytes()
        return [{"file": f"{self.table}.json", "sha256": self.sha.hexdigest(), "bytes": self.size, "rows": self.rows},
                {"file": f"{self.table}.parquet", "sha256": hashlib.sha256(pdata).hexdigest(), "bytes": len(pdata),
                 "rows": self.rows}]

    def close(self) -> None:
        self.fh.close()
        if self.parquet is not None:
            with contextlib.suppress(Exception):
                self.parquet.close()


class VersionWriter:
    """A dataset version being written under ``output/.tmp-*``; nothing is visible until
    ``publish`` renames it into ``output/datasets/``."""

    def __init__(self, output: Path, chunks: ChunkStore | None = None):
        output.mkdir(parents=True, exist_ok=True)
        self.output = output
        self.folder = output / f".tmp-build-{os.getpid()}"
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir()
        self.small: dict[str, _SmallTable] = {}
        #: where the folder tables' chunks are (``link_chunks``); those it staged go into the
        #: store when the version is published, or away when it is abandoned
        self.chunks = chunks if chunks is not None else staged_chunks(output)
        #: folder tables: their files as the manifest lists them
        self.linked: dict[str, list[dict]] = {t: [] for t in FOLDER_TABLES}

    def link_chunks(self, table: str, chunks: list[dict]) -> None:
        """A folder table: its chunks (``chunks.Chunker.finish``), in this order, linked from
        the chunk store into the version (``<table>/<position>-<digest>.jsonl``,
        ``<table>.parquet/<position>-<digest>.parquet``: file names sort in published order). A
        hard link costs no bytes; where one cannot be made (another file system) the file is
        copied. The manifest lists each JSON-lines file with the sources whose records it holds
        (``sources``)."""
        width = max(5, len(str(len(chunks))))
        for suffix, folder in (("jsonl", table), ("parquet", f"{table}.parquet")):
            (self.folder / folder).mkdir()
            for i, chunk in enumerate(chunks):
                name = f"{folder}/{i:0{width}d}-{chunk['sha256'][:16]}.{suffix}"
                src = self.chunks.path(chunk["sha256"], suffix)
                try:
                    os.link(src, self.folder / name)
                except OSError:
                    with _naming(self.folder / name):
                        shutil.copyfile(src, self.folder / name)
                meta = chunk if suffix == "jsonl" else chunk["parquet"]
                entry = {"file": name, "sha256": meta["sha256"], "bytes": meta["bytes"], "rows": chunk["rows"]}
                self.linked.setdefault(table, []).append(dict(entry, sources=chunk["sources"]) if suffix == "jsonl" else entry)

    def table(self, name: str) -> _SmallTable:
        if name in FOLDER_TABLES:
            raise ValueError(f"{name} is a folder table (link_chunks)")
        if name not in self.small:
            self.small[name] = _SmallTable(self.folder, name)
        return self.small[name]

    def rows(self, name: str) -> int:
        if name in FOLDER_TABLES:
            return sum(f["rows"] for f in self.linked[name] if f["file"].endswith(".jsonl"))
        return self.table(name).rows

    def content_hash(self) -> str:
        """Of every table's content: a folder table's file names and hashes, a small table's
        record lines; and of its schema as published (descriptions too: they are in the
        version's files, so a version's name must change with them)."""
        h = hashlib.sha256(SCHEMA_VERSION.encode())
        for name in TABLE_ORDER:
            h.update(name.encode())
            h.update(_json_bytes(json_schema(name)))
            if name in FOLDER_TABLES:
                for f in self.linked[name]:
                    h.update(f"{f['file']}:{f['sha256']}\n".encode())
            else:
                h.update(self.table(name).content.hexdigest().encode())
        return h.hexdigest()

    def finish(self, version: str, inputs: list[dict]) -> None:
        outputs = [f for name in FOLDER_TABLES for f in self.linked[name]]
        for name in TABLE_ORDER:
            if name not in FOLDER_TABLES:
                outputs += self.table(name).finish(version)
        # the JSON Schema of every table ships with the data, named by an $id carrying the version
        (self.folder / "schema").mkdir()
        schemas = {}
        for name in TABLE_ORDER:
            schema = json_schema(name)
            path = f"schema/{name}.schema.json"
            data = _json_bytes(schema)
            (self.folder / path).write_bytes(data)
            schemas[name] = {"$id": schema["$id"], "file": path, "sha256": hashlib.sha256(data).hexdigest(),
                             "bytes": len(data)}
        package = _json_bytes(datapackage(version, outputs, schemas))
        (self.folder / "datapackage.json").write_bytes(package)
        outputs.append({"file": "datapackage.json", "sha256": hashlib.sha256(package).hexdigest(),
                        "bytes": len(package), "rows": None})
        manifest = {"dataset_version": version, "schema_version": SCHEMA_VERSION, "inputs": inputs,
                    "schemas": schemas, "outputs": sorted(outputs, key=lambda o: o["file"])}
        with open(self.folder / "manifest.json", "wb") as fh:
            fh.write(_json_bytes(manifest))
            fh.flush()
            os.fsync(fh.fileno())

    def publish(self, version: str, reports: dict[str, bytes] | None, feed=None) -> bool:
        """Publish the finished folder as ``version`` with its review report, together or not
        at all: the reports are written first (each atomically), then the folder is renamed
        into ``datasets/`` (the moment the version exists), then LATEST. A kill before the
        rename leaves reports of a version that does not exist, which the next build removes
        (``clean_stale_tmp``) or writes again (same inputs, same bytes); a full disk stops the
        build before anything is renamed. ``reports`` None: the version's reports exist.
        ``feed(history events)``: the bytes of ``output/feed.atom``, written (atomically) once
        HISTORY names the version and before LATEST moves, so that a kill in between leaves
        LATEST to move, and the feed to be written again, by the next build; also written
        where it is missing."""
        final = self.output / "datasets" / version
        # HISTORY is read (and a line in it that is no log line refused) before anything is
        # published: an error after the rename would leave a version published by a failed build
        history(self.output)
        if reports:
            write_reports(self.output, version, reports)
        if final.exists():
            shutil.rmtree(self.folder, ignore_errors=True)
            self.chunks.abandon()
            created = False
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            self.chunks.commit()  # (a kill from here to the rename: chunks no version links, pruned)
            os.rename(self.folder, final)
            _fsync_dir(final.parent)
            created = True
            self.chunks.prune()  # (a kill between commit and rename left chunks no version links)
        link_partitions(self.output)
        if latest(self.output) != version:
            record_history(self.output, version, "built" if created else "switched back")
            if feed is not None:
                write_feed(self.output, feed(history(self.output)))
            write_atomic(self.output / "LATEST", (version + "\n").encode())
        elif feed is not None and not has_feed(self.output):
            write_feed(self.output, feed(history(self.output)))
        return created

    def abandon(self) -> None:
        for t in self.small.values():
            t.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.chunks.abandon()


def staged_chunks(output: Path) -> ChunkStore:
    """The chunk store of ``output``, this build's new chunks staged apart until it publishes."""
    return ChunkStore(output / CHUNKS, output / f".tmp-chunks-{os.getpid()}")


def write_reports(output: Path, version: str, reports: dict[str, bytes]) -> None:
    """``output/reports/<version>.<suffix>``, each written atomically (``write_atomic``): a
    report is whole or absent, never a cut file that counts as present."""
    (output / "reports").mkdir(parents=True, exist_ok=True)
    for suffix, data in sorted(reports.items()):
        write_atomic(output / "reports" / f"{version}.{suffix}", data)


def write_feed(output: Path, data: bytes) -> None:
    """``output/feed.atom``, whole or as it was (``write_atomic``)."""
    write_atomic(output / FEED_FILE, data)


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_history(output: Path, version: str, event: str, now: str | None = None) -> bool:
    """Append ``<UTC time>\t<version>\t<event>`` to ``output/HISTORY`` (the time the dataset
    became LATEST: the one place a build's time is kept, so that datasets stay byte-identical
    for the same input). The file is replaced whole (``write_atomic``: a kill leaves the old
    one, never half a line). Nothing is appended when its last event already names
    ``version``: a build killed between HISTORY and LATEST recorded its event, and the next
    build, moving LATEST, must not record it twice. Returns whether a line was appended."""
    if event not in HISTORY_EVENTS:
        raise ValueError(f"unknown history event {event!r}")
    path = output / "HISTORY"
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = HISTORY_HEADER.encode()
    events = parse_history(old.decode("utf-8", errors="replace"), str(path))
    if events and events[-1].version == version:
        return False
    if old and not old.endswith(b"\n"):
        old += b"\n"
    write_atomic(path, old + f"{now or _utc_now()}\t{version}\t{event}\n".encode())
    return True


def version_name(date: str | None, content_hash: str) -> str:
    """``<newest page date>-<12 hex digits of the content>``, or ``undated-…``: a folder name,
    so made only of checked parts (the dates are checked where they are read; this is the
    last line of defence against a name that walks out of ``output/``)."""
    from pipeline.core.normalize import real_date

    if date is not None and not real_date(date):
        raise StoreError(f"refusing to name a version after {date!r}: not a date")
    if not all(c in "0123456789abcdef" for c in content_hash) or len(content_hash) < 12:
        raise StoreError(f"refusing to name a version after {content_hash!r}: not a hash")
    return f"{date or 'undated'}-{content_hash[:12]}"


def clean_stale_tmp(output: Path) -> None:
    """Remove what a killed build left: half-written versions and temporary files (never
    visible as versions; its staged chunks among them), and reports written for a version it
    did not get to publish."""
    if not output.exists():
        return
    for p in list(output.glob(".tmp-*")) + list(output.glob(".*.tmp-*")) + list(output.glob("*/.*.tmp-*")):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    datasets = output / "datasets"
    for suffix in REPORT_SUFFIXES:
        for p in (output / "reports").glob(f"*.{suffix}") if (output / "reports").is_dir() else []:
            if p.is_file() and not (datasets / p.name[:-len(suffix) - 1] / "manifest.json").exists():
                p.unlink()


def link_partitions(output: Path) -> None:
    """``output/parquet/<table>/dataset_version=<v>/``: every version's Parquet as one
    Hive-partitioned dataset per table (relative symlinks, no copies), so DuckDB, Spark or
    pandas read all versions at once with ``dataset_version`` as a column. A small table's
    partition holds a link to its file; a folder table's partition is a link to its folder."""
    datasets = output / "datasets"
    if not datasets.exists():
        return
    for version_dir in sorted(p for p in datasets.iterdir() if (p / "manifest.json").exists()):
        for table in TABLE_ORDER:
            parquet = version_dir / f"{table}.parquet"
            if not parquet.exists():
                continue
            part = output / "parquet" / table / f"dataset_version={version_dir.name}"
            if table in FOLDER_TABLES:
                link, target = part, parquet
            else:
                link, target = part / parquet.name, parquet
            if link.is_symlink() or link.exists():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(target, link.parent), link)


def datapackage(version: str, outputs: list[dict], schemas: dict) -> dict:
    """A Frictionless Data Package describing every file of a version.

    A small JSON table is a tabular resource (rows under ``records``) with its Table Schema and
    primary key, plus a file resource carrying its bytes and sha256 (Frictionless cannot count
    the bytes of a JSON table read from a nested property); a table without rows is a file
    resource only. A folder table is one tabular resource over its JSON-lines files (every
    file's bytes and sha256 are in the manifest). Parquet files and JSON Schemas are file
    resources with bytes and sha256.
    """
    by_file = {o["file"]: o for o in outputs}
    resources = []
    for name in TABLE_ORDER:
        if name in FOLDER_TABLES:
            parts = [o["file"] for o in outputs if o["file"].startswith(f"{name}/")]
            if parts:
                resources.append({
                    "name": name, "type": "table", "path": parts[0], "format": "jsonl",
                    "mediatype": "application/jsonl", "encoding": "utf-8",
                    "schema": table_schema_fields(name),
                    "description": f"{name}, in chunks of consecutive sources: {name}/*.jsonl and "
                                   f"{name}.parquet/*.parquet; "
                                   f"JSON Schema {schemas[name]['$id']}",
                    **({"extrapaths": parts[1:]} if len(parts) > 1 else {}),
                })
            continue
        o = by_file[f"{name}.json"]
        if o["rows"]:
            resources.append({
                "name": name, "type": "table", "path": f"{name}.json", "format": "json",
                "mediatype": "application/json", "encoding": "utf-8", "hash": f"sha256:{o['sha256']}",
                "dialect": {"json": {"keyed": True, "property": "records"}},
                "schema": table_schema_fields(name),
                "description": f"{name}; JSON Schema {schemas[name]['$id']}",
            })
        resources.append({"name": f"{name}-json-file", "type": "file", "path": f"{name}.json", "format": "json",
                          "bytes": o["bytes"], "hash": f"sha256:{o['sha256']}"})
        p = by_file[f"{name}.parquet"]
        resources.append({"name": f"{name}-parquet", "type": "file", "path": f"{name}.parquet", "format": "parquet",
                          "bytes": p["bytes"], "hash": f"sha256:{p['sha256']}"})
    for name, sch in schemas.items():
        resources.append({"name": f"{name}-json-schema", "type": "file", "path": sch["file"], "format": "json",
                          "bytes": sch["bytes"], "hash": f"sha256:{sch['sha256']}"})
    return {"name": "tencent-compliance-dataset", "title": f"Tencent compliance dataset {version}",
            "version": version, "resources": resources}
