"""The object store: what each source contributes to the source tables, written once.

An object is a folder ``<store>/<key[:2]>/<key>/`` holding, per source table the source has
records in, ``<table>.jsonl`` (one compact JSON record per line) and ``<table>.parquet``, and
``object.json``, written last: each file's sha256, bytes and rows, and the source's row of the
``sources`` table. Its key hashes the source's bytes, its name and metadata and the parser's
version (``build.object_key``), or an object and the renames applied to it. A folder without
``object.json`` is not an object (a build killed while writing it); objects are written under a
temporary name and renamed into place, so two builds that write the same one never mix files.

The store is the parse cache and the published per-source files at once: a version links these
files (hard links: no bytes copied) into its folder, so every version that has a source shares
its files, and adding a document to an archive writes that document's records and the small
tables only.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

from pipeline.core.errors import StoreError
from pipeline.store.files import compact_json_bytes
from pipeline.core.tables import FOLDER_TABLES, SCHEMA_VERSION, TABLES

OBJECT_FILE = "object.json"
#: what an ``object.json`` holds: its key, its files, the source's row, per page it holds what
#: the build needs before reading its records (``reconcile.captures_said``: title, date,
#: categories, the renames it states) and the parser that wrote it (``build._parse_into``)
REQUIRED = {"key", "files", "source", "captures", "parser"}


class CorruptObject(Exception):
    """An object file that is not what its ``object.json`` says (edited, cut short)."""


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


def parquet_bytes(table: str, rows: list[dict]) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(arrow_table(table, rows), buf, **parquet_options(table))
    return buf.getvalue()


def jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(compact_json_bytes(r) + b"\n" for r in rows)


class Objects:
    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> dict | None:
        """The object's ``object.json`` (with its ``path``), or None when there is none or it
        cannot be read (it is then written again)."""
        p = self.path(key)
        try:
            info = json.loads((p / OBJECT_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or info.get("key") != key or not REQUIRED <= info.keys():
            return None
        info["path"] = p
        return info

    def checked(self, key: str) -> dict | None:
        """``get``, with every file there at the size ``object.json`` gives it
        (``check_files``); an object that is not is removed, and None returned (it is written
        again)."""
        info = self.get(key)
        if info is None:
            return None
        try:
            self.check_files(info)
        except CorruptObject:
            self.remove(key)
            return None
        return info

    def put(self, key: str, tables: dict[str, list[dict]], source: dict, **extra) -> dict:
        """Write the object ``key``: the records of each folder table in ``tables`` and the
        source's row. Returns its ``object.json`` (with its ``path``)."""
        final = self.path(key)
        tmp = final.with_name(f".{key}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
        try:
            tmp.mkdir(parents=True)
            files = {}
            for table in FOLDER_TABLES:
                rows = tables.get(table) or []
                if not rows:
                    continue
                for suffix, data in (("jsonl", jsonl_bytes(rows)), ("parquet", parquet_bytes(table, rows))):
                    (tmp / f"{table}.{suffix}").write_bytes(data)
                    # read-only: the file is every version's that has the source (hard links),
                    # so an edit to one published version's file would change them all
                    os.chmod(tmp / f"{table}.{suffix}", 0o444)
                    files[f"{table}.{suffix}"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                                                  "rows": len(rows)}
            info = {"key": key, "files": files, "source": source, **extra}
            (tmp / OBJECT_FILE).write_bytes(json.dumps(info, ensure_ascii=False, sort_keys=True).encode("utf-8"))
            try:
                os.rename(tmp, final)
            except OSError:
                if self.get(key) is None:  # (another build wrote it meanwhile: theirs is the same)
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(tmp, final)
        except OSError as e:
            raise StoreError(f"{final}: cannot write ({e.strerror or e})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self.get(key) or dict(info, path=final)

    def records(self, info: dict, table: str) -> list[dict]:
        """The object's records of ``table``, checked against its ``object.json``
        (``CorruptObject`` when they differ)."""
        meta = info["files"].get(f"{table}.jsonl")
        if meta is None:
            return []
        p = info["path"] / f"{table}.jsonl"
        try:
            data = p.read_bytes()
        except OSError as e:
            raise CorruptObject(f"{p}: {e.strerror or e}") from None
        if len(data) != meta["bytes"] or hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise CorruptObject(f"{p}: not the bytes its {OBJECT_FILE} lists")
        import orjson

        return [orjson.loads(line) for line in data.splitlines()]

    def check_files(self, info: dict) -> None:
        """Every file of the object is there with the size its ``object.json`` gives it (the
        JSON records are checked byte for byte when read: ``records``)."""
        for name, meta in info["files"].items():
            try:
                size = os.stat(info["path"] / name).st_size
            except OSError:
                size = None
            if size != meta["bytes"]:
                raise CorruptObject(f"{info['path'] / name}: {size} bytes where {OBJECT_FILE} says {meta['bytes']}")

    def verify(self, info: dict, checked: tuple[str, ...] = ()) -> None:
        """Every file of the object is the bytes its ``object.json`` lists (sha256), and
        read-only: what a version links is what was written, never a file edited in place
        through another version's link (its sha256 would be in the new manifest, not its
        bytes). ``checked``: files already read and checked (``records``). A file someone made
        writable but left as it was is made read-only again; one that differs is
        ``CorruptObject`` (the source is parsed again)."""
        for name, meta in info["files"].items():
            if name in checked:
                continue
            p = info["path"] / name
            try:
                with open(p, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    data = fh.read()
            except OSError as e:
                raise CorruptObject(f"{p}: {e.strerror or e}") from None
            if len(data) != meta["bytes"] or hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise CorruptObject(f"{p}: not the bytes its {OBJECT_FILE} lists")
            if st.st_mode & 0o222:
                try:
                    os.chmod(p, 0o444)
                except OSError as e:
                    raise CorruptObject(f"{p}: writable, and cannot be made read-only ({e.strerror or e})") from None

    def remove(self, key: str) -> None:
        shutil.rmtree(self.path(key), ignore_errors=True)

    def prune(self, parser: str) -> int:
        """Remove the objects another parser wrote (and folders that are not objects); a
        published version keeps its files, which are hard links. Returns how many went. The
        parse cache of schema 1.x (``parsed/`` packs, ``hashes.json`` beside this folder),
        which nothing reads any more, goes too."""
        for old in (self.folder.parent / "parsed", self.folder.parent / "hashes.json"):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            elif old.exists():
                old.unlink(missing_ok=True)
        gone = 0
        for p in self.folder.glob("*/*") if self.folder.is_dir() else []:
            if p.name.startswith("."):
                continue  # (being written by a build running now)
            try:
                info = json.loads((p / OBJECT_FILE).read_text("utf-8"))
            except (OSError, ValueError):
                info = {}
            if not isinstance(info, dict) or info.get("parser") != parser:
                shutil.rmtree(p, ignore_errors=True)
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
