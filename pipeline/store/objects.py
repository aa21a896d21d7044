"""The object store (the parse cache): what each source contributes to the source tables,
written once, one file per source.

An object is one file ``<store>/<key[:2]>/<key>.jsonl``: a first line saying what it holds
(its key, the source's row, the renames and categories it states, the parser that wrote it,
per source table the records' count and bytes, and the sha256 and size of the rest), then the
source's records of each folder table (``tables.PARSED_TABLES``, in that order), one compact
JSON record per line: the lines the published chunks are made of (``chunks``); then what the
build reads in their place (``derived_parts``, listed in the first line's ``parts``): each
table's records as an Arrow stream (a new chunk's Parquet file) and the requirements' index and
distinct contents (reconciliation's rows), so that the build decodes no record. Its key hashes
the source's bytes, its name and metadata and the parser's version (``build.object_key``), or an
object and the renames applied to it. It is written under a temporary name and renamed into
place, so two builds that write the same one never mix bytes, and a build killed while writing
it leaves no object. What is read is checked against its first line (size when it is found,
sha256 when its records are read): an object cut short or edited is parsed again, never trusted.

One file per source, not a folder of seven (JSON lines and Parquet per table, and a listing):
writing the objects of 1,000 sources took 4.87 s that way (``Objects.put``, 7 files, a folder
and 3 Parquet files each). The published files are the version's chunks (``chunks``), not these.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

import orjson

from pipeline.core.errors import StoreError
from pipeline.core.records import row_index
from pipeline.store.files import compact_json_bytes
from pipeline.core.tables import PARSED_TABLES, SCHEMA_VERSION, TABLES

SUFFIX = ".jsonl"
#: what an object's first line holds: its key, the source's row, per page it holds what the
#: build needs before reading its records (``reconcile.captures_said``: title, date,
#: categories, the renames it states), the parser that wrote it (``build._parse_into``), per
#: folder table its records' count and bytes, and the size and sha256 of the records
REQUIRED = {"key", "source", "captures", "parser", "tables", "parts", "body"}
#: the longest first line read (a source's row and its pages: kilobytes; a line that long is
#: no object's, and the object is written again)
MAX_HEAD_BYTES = 16 << 20


class CorruptObject(Exception):
    """An object file that is not what its first line says (edited, cut short)."""


def write_new(path: Path, data: bytes, *, sync: bool, mode: int | None = None) -> None:
    """``data`` as ``path``, whole or not at all: written under a temporary name of this
    process's own beside it and renamed into place (two builds writing the same object or
    chunk write the same bytes). ``sync``: flushed to disk first (a published file; the parse
    cache is checked when read and is written again when it is not whole). ``mode``: its
    permission bits, set before it is in place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@lru_cache(maxsize=None)  # (a function of the table definitions, which never change at run time)
def arrow_schema(table: str):
    import pyarrow as pa

    kinds = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "list": pa.list_(pa.string()),
             "json": pa.string()}
    return pa.schema([pa.field(name, kinds[kind], metadata={"description": desc, "kind": kind})
                      for name, kind, desc in TABLES[table]],
                     metadata={"schema_version": SCHEMA_VERSION, "table": table})


def arrow_table(table: str, rows: list[dict]):
    """Rows as an Arrow table of ``table``'s Parquet schema: nested (``json``) values as their
    compact JSON text."""
    import pyarrow as pa

    schema = arrow_schema(table)
    columns = [_text_column([compact_json_bytes(r.get(name)) for r in rows]) if kind == "json"
               else pa.array([r.get(name) for r in rows], type=schema.field(name).type)
               for name, kind, _ in TABLES[table]]
    return pa.Table.from_arrays(columns, schema=schema)


def _text_column(cells: list[bytes]):
    """UTF-8 cells as an Arrow string column over one buffer, without making Python strings
    of them: a conflict's values over 10,000 captures are a 28 MB cell, which as a ``str``
    cost 30 MB more at the build's peak (the Parquet bytes are the same)."""
    import array

    import pyarrow as pa

    offsets = array.array("i", [0])  # (a row group's JSON text is far below 2 GB: ROW_GROUP_BYTES)
    for c in cells:
        offsets.append(offsets[-1] + len(c))
    return pa.StringArray.from_buffers(len(cells), pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(cells)))


def parquet_options(table: str) -> dict:
    """How ``table`` is written to Parquet: zstd; its JSON-text columns without statistics and
    dictionary encoding, which no reader can use on JSON text and which cost the writer copies
    of every cell: one conflict's values over 10,000 captures are a 28 MB cell, written with
    them at 190 MB over the Arrow table, without at 60 MB (pyarrow 17, the same file size)."""
    plain = [name for name, kind, _ in TABLES[table] if kind != "json"]
    return {"compression": "zstd", "write_statistics": plain, "use_dictionary": plain}


def jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(compact_json_bytes(r) + b"\n" for r in rows)


def arrow_ipc(table: str, rows: list[dict]) -> bytes:
    """Rows as an Arrow IPC stream of ``table``'s Parquet schema (``arrow_table``),
    uncompressed: a chunk's Parquet file is made of its sources' streams (``chunks``) without
    their records decoded again. (For a source's ~26 requirements, reading the stream back
    took 0.13 ms uncompressed, 0.7 ms with LZ4 at half the bytes, 2.0 ms with zstd; pyarrow 26.)"""
    import pyarrow as pa

    data = arrow_table(table, rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


#: the parts ``derived_parts`` names the requirements' index and contents
INDEX_PART, CONTENTS_PART = "requirements.index", "requirements.contents"


def arrow_part(table: str) -> str:
    """The name of the part holding ``table``'s records as Arrow (``derived_parts``)."""
    return f"{table}.arrow"


def derived_parts(tables: dict[str, list[dict]]) -> dict[str, bytes]:
    """What an object holds besides its records' JSON lines, made of them once, by whoever
    parses the source (in a pool worker, in parallel): each table's records as Arrow
    (``arrow_part``, for the chunks' Parquet files) and the requirements' index and contents
    (``records.row_index``, for reconciliation's rows)."""
    out = dict(zip((INDEX_PART, CONTENTS_PART), row_index(tables.get("requirements") or [])))
    for t in PARSED_TABLES:
        if tables.get(t):
            out[arrow_part(t)] = arrow_ipc(t, tables[t])
    return out


def jsonl_records(data: bytes) -> list[dict]:
    """The records of JSON lines (``jsonl_bytes``' inverse)."""
    return [orjson.loads(line) for line in data.splitlines()]


class Objects:
    def __init__(self, folder: Path):
        self.folder = folder
        #: each distinct list a capture in its objects' first lines holds (its categories, what
        #: they carry, ...), one object (``get``): the versions of a page nearly all say the same
        #: but their date, and a build holds every source's first line at once (10,000 of them
        #: were 166 MB, each with its own copies)
        self._captures: dict[bytes, list] = {}

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}{SUFFIX}"

    def get(self, key: str) -> dict | None:
        """What the object holds (its first line, with its ``path``), when it is there at the
        size that line gives; else None (it is then written again). Its records are checked
        byte for byte when they are read (``tables``)."""
        p = self.path(key)
        try:
            with open(p, "rb") as fh:
                head = fh.readline(MAX_HEAD_BYTES)
                size = os.fstat(fh.fileno()).st_size
            info = orjson.loads(head)
        except (OSError, ValueError):
            return None
        if (not isinstance(info, dict) or info.get("key") != key or not REQUIRED <= info.keys()
                or not isinstance(info["body"], dict) or size != len(head) + info["body"].get("bytes", -1)):
            return None
        info["path"], info["head_bytes"] = p, len(head)
        for c in info["captures"] if isinstance(info["captures"], list) else ():
            for k, v in c.items() if isinstance(c, dict) else ():
                if isinstance(v, list):  # (read only, by every holder of it)
                    c[k] = self._captures.setdefault(orjson.dumps(v), v)
        return info

    def checked(self, key: str) -> dict | None:
        """``get``; an object that is there but not whole is removed (it is written again)."""
        info = self.get(key)
        if info is None and self.path(key).exists():
            self.remove(key)
        return info

    def put(self, key: str, tables: dict[str, list[dict]], source: dict, **extra) -> dict:
        """Write the object ``key``: the records of each folder table in ``tables`` and the
        source's row (``extra``: what else its first line says), then what the build reads of
        them in place of their JSON (``derived_parts``). Returns what ``get`` returns."""
        parts = {t: jsonl_bytes(tables.get(t) or []) for t in PARSED_TABLES}
        more = derived_parts(tables)
        body = b"".join(parts.values()) + b"".join(more.values())
        info = {"key": key, "source": source, **extra,
                "tables": {t: {"rows": len(tables.get(t) or []), "bytes": len(data)} for t, data in parts.items()},
                "parts": [[name, len(data)] for name, data in more.items()],
                "body": {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}}
        head = compact_json_bytes(info) + b"\n"
        final = self.path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            write_new(final, head + body, sync=False)
        except OSError as e:
            raise StoreError(f"{final}: cannot write ({e.strerror or e})") from None
        return dict(info, path=final, head_bytes=len(head))

    def tables(self, info: dict) -> dict[str, bytes]:
        """The object's records of each folder table, as their lines (one compact JSON record
        each), checked against what its first line says (``CorruptObject`` when they differ)."""
        parts = self.parts(info)
        return {t: parts[t] for t in PARSED_TABLES}

    def parts(self, info: dict) -> dict[str, bytes]:
        """Every part of the object, checked (``CorruptObject``): each folder table's JSON lines
        (under the table's name), then the parts ``derived_parts`` made of them."""
        p = info["path"]
        try:
            with open(p, "rb") as fh:
                fh.seek(info["head_bytes"])
                body = fh.read()
        except OSError as e:
            raise CorruptObject(f"{p}: {e.strerror or e}") from None
        if len(body) != info["body"]["bytes"] or hashlib.sha256(body).hexdigest() != info["body"]["sha256"]:
            raise CorruptObject(f"{p}: not the bytes its first line lists")
        sizes = [(t, info["tables"].get(t, {}).get("bytes", 0)) for t in PARSED_TABLES] + list(map(tuple, info["parts"]))
        out, at = {}, 0
        for name, n in sizes:
            out[name], at = body[at:at + n], at + n
        return out

    def records(self, info: dict, table: str) -> list[dict]:
        """The object's records of ``table``, checked (``tables``)."""
        return jsonl_records(self.tables(info)[table])

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def prune(self, parser: str) -> int:
        """Remove the objects another parser wrote (and whatever is no object: the folders of
        schema 4 and before, one per object); a published version keeps its files (its chunks).
        Returns how many went. The parse cache of schema 1.x (``parsed/`` packs, ``hashes.json``
        beside this folder), which nothing reads any more, goes too."""
        for old in (self.folder.parent / "parsed", self.folder.parent / "hashes.json"):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():
                old.unlink(missing_ok=True)
        gone = 0
        for p in self.folder.glob("*/*") if self.folder.is_dir() else []:
            if p.name.startswith("."):
                continue  # (being written by a build running now)
            info = None
            if p.is_file() and p.name.endswith(SUFFIX):
                with contextlib.suppress(OSError, ValueError), open(p, "rb") as fh:
                    info = orjson.loads(fh.readline(MAX_HEAD_BYTES))
            if not isinstance(info, dict) or info.get("parser") != parser:
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                gone += 1
        return gone


def last_build_file(cache_dir: Path, output: Path) -> Path:
    tag = hashlib.sha256(str(output.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"last-build-{tag}.json"


def last_build(cache_dir: Path, output: Path) -> dict:
    """What the last successful build into ``output`` was made from (its key and version)."""
    try:
        return json.loads(last_build_file(cache_dir, output).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def save_last_build(cache_dir: Path, output: Path, info: dict) -> None:
    from pipeline.store.files import write_atomic

    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(last_build_file(cache_dir, output), json.dumps(info, sort_keys=True).encode())
