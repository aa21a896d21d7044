"""All file I/O: reading raw folders, writing dataset versions, moving them into place.

A dataset version is written under ``output/.tmp-*`` and renamed into ``output/datasets/``
only when complete; ``output/LATEST`` is replaced atomically afterwards. A version that exists
is never written again. One build at a time holds ``output/.lock``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import marshal
import os
import shutil
import stat
import struct
import sys
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from pipeline.errors import ParseError, StoreError
from pipeline.tables import SCHEMA_VERSION, TABLE_ORDER, TABLES, json_schema, table_schema_fields

METADATA_FILE = "metadata.toml"
_METADATA_KEYS = {"url", "captured", "updated", "capability", "title", "format"}


@dataclass(frozen=True)
class RawFile:
    #: name shown in records and errors: ``raw/000_….txt``, ``corpus/wechat-…/2017-06-16_….md``
    display: str
    path: Path
    data: bytes
    metadata: tuple[tuple[str, str], ...] = ()
    #: every capture of these bytes, (file, capture date or ""), this one first (``RawRef``)
    captures: tuple[tuple[str, str], ...] = ()


def read_raw(dirs: list[Path]) -> list[RawFile]:
    """Every document under the raw folders with its bytes (see ``list_raw``)."""
    return [ref.read() for ref in list_raw(dirs)[0]]


#: metadata keys holding a day (``YYYY-MM-DD`` or a TOML date; ``captured`` also a date-time)
_METADATA_DATES = ("captured", "updated")


def _read_metadata(d: Path) -> dict[str, dict[str, str]]:
    """``raw/metadata.toml``: ``["file.txt"]`` tables with url, captured, updated, capability,
    title, format. Every value is checked here, where it enters: dates are real days (they
    order versions and name them: ``updated = "../../../PWNED"`` would be a folder), text has
    no control characters. A problem is one ``file:line`` error naming the key."""
    p = d / METADATA_FILE
    shown = f"{d.resolve().name}/{METADATA_FILE}"
    text = read_optional_text(p, shown)
    if text is None:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = getattr(e, "lineno", None) or 1
        raise ParseError(shown, line, f"not valid TOML: {e}") from None
    out = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise ParseError(shown, _toml_line(text, name), f"{name!r} must be a table of keys")
        bad = set(entry) - _METADATA_KEYS
        if bad:
            raise ParseError(shown, _toml_line(text, name), f"{name!r}: unknown key(s) {sorted(bad)}; "
                                                            f"allowed {sorted(_METADATA_KEYS)}")
        out[name] = {k: _metadata_value(v, k, name, shown, text) for k, v in entry.items()}
    return out


def _metadata_value(value, key: str, name: str, shown: str, text: str) -> str:
    from pipeline.normalize import real_date

    def bad(why: str) -> ParseError:
        # the line is looked for only for an error: per value, it would scan the whole file
        return ParseError(shown, _toml_line(text, name, key), f"{name!r}: {key} {why}")

    if key in _METADATA_DATES:
        if isinstance(value, dt.datetime) and key == "captured":
            return value.isoformat()
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str) and real_date(value):
            return value
        raise bad(f"= {value!r} is not a real date (YYYY-MM-DD)")
    if not isinstance(value, str) or not value.strip():
        raise bad("must be a non-empty string")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise bad(f"holds control characters ({value!r})")
    return value


def _toml_line(text: str, table: str, key: str | None = None) -> int:
    """The line of ``["table"]`` (or of ``key`` in it) in a metadata file: for error messages."""
    lines = text.split("\n")
    start = next((i for i, ln in enumerate(lines) if ln.strip().startswith("[") and table in ln), None)
    if start is None:
        return 1
    if key is not None:
        for i in range(start + 1, len(lines)):
            ln = lines[i].strip()
            if ln.startswith("["):
                break
            if ln.split("=", 1)[0].strip().strip('"') == key:
                return i + 1
    return start + 1


# --- writing -----------------------------------------------------------------------------

def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


@contextlib.contextmanager
def build_lock(output: Path):
    """One build at a time; a second one is told so instead of waiting or corrupting output."""
    output.mkdir(parents=True, exist_ok=True)
    fh = open(output / ".lock", "w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{output}: another build is running (lock {output / '.lock'} is held)") from None
        yield
    finally:
        fh.close()


def read_optional_text(path: Path, shown: str | None = None) -> str | None:
    """A UTF-8 text file people keep (decisions, metadata), or None when there is none.
    Anything else (a folder, other bytes, no permission) is one line naming the file
    (``shown``: its name in messages)."""
    shown = shown or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _cannot_read(shown, e) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ParseError(shown, line, f"not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start})") from None


@contextlib.contextmanager
def file_lock(path: Path):
    """Hold an exclusive lock on ``path`` (created if need be), waiting for whoever holds it.
    ``flock`` locks belong to the open file: the kernel drops it when the holder dies, however it
    dies, so a lock never outlives its owner. The file is opened close-on-exec (Python's default),
    and nothing here forks while holding it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` or leave it exactly as it was: written to a temporary file
    beside it, flushed to disk, then renamed over it (a kill or a full disk mid-write leaves the
    old file; the temporary file is removed on an error). The file keeps its permission bits."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with _naming(path), open(tmp, "wb") as fh:  # (fsync's error names no file: this one)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def update_text(path: Path, change) -> str:
    """Read-modify-write a text file people keep (``review/decisions.toml``) so that nothing
    in it is lost: ``change(old text or None)`` gives the new text, under a lock
    (``.<name>.lock`` beside it) that concurrent updates wait for, written with
    ``write_atomic``. Returns the new text."""
    with file_lock(path.with_name(f".{path.name}.lock")):
        new = change(read_optional_text(path))
        write_atomic(path, new.encode("utf-8"))
    return new


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash right after could otherwise undo it)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_tables(output: Path, version: str, skip: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """The JSON tables of a published version (tables it does not have, or ``skip``, are empty)."""
    ds = output / "datasets" / version
    if not (ds / "manifest.json").exists():
        raise StoreError(f"{ds}: no such dataset version")
    out = {}
    for table in TABLE_ORDER:
        p = ds / f"{table}.json"
        out[table] = list(iter_records(p)) if p.exists() and table not in skip else []
    return out


def load_small_tables(output: Path, version: str) -> dict[str, list[dict]]:
    """Every table of a version but ``requirements`` (which can be large: stream it with
    ``iter_records``)."""
    return load_tables(output, version, skip=("requirements",))


def previous_version(output: Path, version: str) -> str | None:
    """The version published just before ``version`` (None for the first)."""
    history = versions(output)
    idx = history.index(version) if version in history else len(history)
    return history[idx - 1] if idx > 0 else None


def versions(output: Path) -> list[str]:
    """Published versions in the order they became LATEST (``output/HISTORY``)."""
    p = output / "HISTORY"
    seen = [ln.strip() for ln in p.read_text("utf-8").splitlines() if ln.strip()] if p.exists() else []
    existing = {d.name for d in (output / "datasets").iterdir()} if (output / "datasets").exists() else set()
    ordered = [v for v in dict.fromkeys(seen) if v in existing]
    # versions published before HISTORY was kept come first, in name (= date) order
    return sorted(existing - set(ordered)) + ordered


def published_conflict_ids(output: Path, warn=None) -> set[str]:
    """Conflict ids of every published version. A version whose conflicts cannot be read (a
    truncated file, a disk error) is reported through ``warn`` (a callable taking one line),
    not fatal: it must not stop every later build."""
    ids: set[str] = set()
    for p in sorted((output / "datasets").glob("*/conflicts.json")) if (output / "datasets").exists() else []:
        try:
            ids.update(r["id"] for r in iter_records(p))
        except (OSError, StoreError, KeyError, TypeError) as e:
            why = str(e) if isinstance(e, StoreError) else f"{p}: cannot be read ({describe_error(e)})"
            if warn is None:
                raise StoreError(why) from None
            warn(f"{why}; its conflict ids are not known to this build")
    return ids


def describe_error(e: Exception) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {e}"


def version_name(date: str | None, content_hash: str) -> str:
    """``<newest page date>-<12 hex digits of the content>``, or ``undated-…``: a folder name,
    so made only of checked parts (the dates are checked where they are read; this is the
    last line of defence against a name that walks out of ``output/``)."""
    from pipeline.normalize import real_date

    if date is not None and not real_date(date):
        raise StoreError(f"refusing to name a version after {date!r}: not a date")
    if not all(c in "0123456789abcdef" for c in content_hash) or len(content_hash) < 12:
        raise StoreError(f"refusing to name a version after {content_hash!r}: not a hash")
    return f"{date or 'undated'}-{content_hash[:12]}"


def latest(output: Path) -> str | None:
    p = output / "LATEST"
    return p.read_text("utf-8").strip() or None if p.exists() else None


REPORT_SUFFIXES = ("md", "html")


def has_reports(output: Path, version: str) -> bool:
    return all((output / "reports" / f"{version}.{suffix}").is_file() for suffix in REPORT_SUFFIXES)


def clean_stale_tmp(output: Path) -> None:
    """Remove what a killed build left: half-written versions and temporary files (never
    visible as versions), and reports written for a version it did not get to publish."""
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


# --- listing and hashing raw files without reading them twice ------------------------------

@dataclass(frozen=True)
class RawRef:
    """A raw document found on disk; its bytes are read only when it has to be parsed."""

    display: str
    path: Path
    size: int
    metadata: tuple[tuple[str, str], ...] = ()
    #: the same bytes captured more than once (``build.one_per_capture``): every capture,
    #: (file, capture date or ""), this one first; empty for a file captured once
    captures: tuple[tuple[str, str], ...] = ()

    def read(self) -> RawFile:
        return RawFile(self.display, self.path, read_raw_bytes(self.path, self.display), self.metadata,
                       self.captures)


def list_raw(dirs: list[Path]) -> tuple[list[RawRef], list[str]]:
    """Every document under the raw folders (like ``read_raw``, without reading any bytes), and
    a warning for each entry that is not read: names starting with ``.`` or ``_`` (a folder's
    name once, not each file in it), readmes and manifests, links to folders (not followed:
    they could loop or reach anywhere), links to nothing, and what is not a regular file (FIFOs,
    sockets, devices). A name that is not UTF-8, or holds control characters, is an error: it
    would be every record's ``source_file``."""
    out: list[RawRef] = []
    skipped: list[str] = []
    for d in dirs:
        if not d.is_dir():
            raise StoreError(f"{d}: raw folder not found")
        meta = _read_metadata(d)
        base = d.resolve().name
        seen = set()
        for folder, subdirs, files in os.walk(d, onerror=_walk_error):
            rel_folder = Path(folder).relative_to(d).as_posix()
            prefix = "" if rel_folder == "." else rel_folder + "/"
            for name in sorted(subdirs):
                why = _skip_name(name) or ("a link to a folder (not followed)" if os.path.islink(
                    os.path.join(folder, name)) else None)
                if why:
                    subdirs.remove(name)
                    skipped.append(f"{base}/{_shown_name(prefix + name)}/: skipped, {why}")
            subdirs.sort()
            for name in sorted(files):
                rel = prefix + name
                shown = f"{base}/{_shown_name(rel)}"
                if rel == METADATA_FILE:
                    continue
                why = _skip_name(name) or (
                    "a readme, not a document" if name.upper().startswith(("README", "MANIFEST")) else None)
                if why:
                    skipped.append(f"{shown}: skipped, {why}")
                    continue
                _check_name(rel, shown)
                p = Path(folder) / name
                try:
                    st = p.stat()  # one stat per file: whether it is a regular file, and its size
                except FileNotFoundError:
                    skipped.append(f"{shown}: skipped, a link to nothing")
                    continue
                except OSError as e:
                    raise _cannot_read(shown, e) from None
                if not stat.S_ISREG(st.st_mode):
                    skipped.append(f"{shown}: skipped, not a regular file")
                    continue
                seen.add(rel)
                out.append(RawRef(f"{base}/{rel}", p, st.st_size, tuple(sorted(meta.get(rel, {}).items()))))
        for name in meta:
            if name not in seen:
                raise ParseError(f"{base}/{METADATA_FILE}", _toml_line(read_optional_text(d / METADATA_FILE), name),
                                 f"metadata for unknown file {name!r}")
    out.sort(key=lambda r: r.display)
    return out, skipped


def _skip_name(name: str) -> str | None:
    if name.startswith("."):
        return "a hidden name (starts with .)"
    if name.startswith("_"):
        return "a private name (starts with _)"
    return None


def _shown_name(rel: str) -> str:
    """A file name as messages can show it: bytes that are not UTF-8 as ``\\xNN``."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _check_name(rel: str, shown: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{shown}: the file name is not UTF-8; rename the file") from None
    if any(unicodedata.category(c) == "Cc" for c in rel):
        raise StoreError(f"{ascii(shown)[1:-1]}: the file name holds control characters; rename the file")


def _walk_error(e: OSError) -> None:
    raise StoreError(f"{e.filename}: cannot list ({describe_error(e)})")


def hash_files(refs: list[RawRef]) -> dict[str, str]:
    """display name -> sha256 of the bytes, read every time: a size and a modification time
    say nothing of an edit that keeps both (``touch -r``, a restored backup, a coarse clock), and
    a pipeline never publishes stale data to save the reading."""
    return {r.display: hashlib.sha256(read_raw_bytes(r.path, r.display)).hexdigest() for r in refs}


def read_raw_bytes(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise _cannot_read(shown, e) from None


def _cannot_read(shown: str, e: OSError) -> StoreError:
    return StoreError(f"{shown}: cannot read ({describe_error(e)})")


# --- caches --------------------------------------------------------------------------------
#
# The parse cache is a folder of packs. A process that parses appends each source's entry to a
# pack of its own and never rewrites it. A build thus creates a file per process, not one per
# source: creating ten thousand files cost the 10 000-document build 5-7 CPU-seconds of kernel
# time (ext4 looks past every inode freed in the last minutes, and a benchmark or a
# ``rm -rf .cache`` frees thousands), against 0.6 s on a file system that had freed none.
#
# An entry is its key (32 hex digits), the size of its marshal data and of that data compressed
# with zstd (level 1), then the compressed data. A pack cut short (a build killed while writing)
# ends at its last whole entry; an entry that does not decode is a miss.

_PACK_HEAD = struct.Struct("<32sQQ")
_PACK_SUFFIX = ".pack"


def _packs(cache_dir: Path) -> Path:
    return cache_dir / "parsed"


class ParseCache:
    """The cache entries as a build finds them: what a source contributes (see
    ``build.source_payloads``), cached by its bytes, name, metadata and the parser version.
    ``marshal``: plain values only, fast, never runs code."""

    def __init__(self, cache_dir: Path):
        #: key -> (pack, where its data starts, marshal size, compressed size)
        self.index: dict[str, tuple[Path, int, int, int]] = {}
        self._open: dict[Path, object] = {}
        try:
            packs = sorted(_packs(cache_dir).glob("*" + _PACK_SUFFIX))
        except OSError:
            packs = []
        for pack in packs:
            try:
                self._scan(pack)
            except OSError:
                continue

    def _scan(self, pack: Path) -> None:
        with open(pack, "rb") as fh:
            end = os.fstat(fh.fileno()).st_size
            at = 0
            while at + _PACK_HEAD.size <= end:
                fh.seek(at)
                key, size, n = _PACK_HEAD.unpack(fh.read(_PACK_HEAD.size))
                start = at + _PACK_HEAD.size
                if start + n > end:
                    break
                self.index[key.decode("ascii", "replace")] = (pack, start, size, n)
                at = start + n

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def get(self, key: str):
        """The payload cached under ``key``; None when there is none or it does not decode."""
        try:
            pack, start, size, n = self.index[key]
            fh = self._open.get(pack)
            if fh is None:
                fh = self._open[pack] = open(pack, "rb")
            fh.seek(start)
            return marshal.loads(_pyarrow().decompress(fh.read(n), size, codec="zstd", asbytes=True))
        except Exception:  # noqa: BLE001 - any entry that does not decode is a miss: the source is parsed again
            return None

    def close(self) -> None:
        for fh in self._open.values():
            fh.close()
        self._open.clear()


#: this process's pack, per cache folder: (pid, file). The pid tells a forked worker that the
#: file it inherited is its parent's.
_PACK_WRITERS: dict[Path, tuple[int, object]] = {}


def cache_close(cache_dir: Path) -> None:
    """Close this process's pack in ``cache_dir``, if it has one (a process that runs many
    builds, such as a test session, would otherwise keep one open per cache folder)."""
    pid, fh = _PACK_WRITERS.pop(_packs(cache_dir), (None, None))
    if fh is not None and pid == os.getpid():
        fh.close()


def cache_put(cache_dir: Path, key: str, payload) -> None:
    """Append ``payload`` under ``key`` to this process's pack. zstd through pyarrow (which the
    build has loaded anyway): on these payloads it packs tighter than zlib at level 1 and takes
    a quarter of the time, on a large build's every source."""
    folder = _packs(cache_dir)
    pid, fh = _PACK_WRITERS.get(folder, (None, None))
    if pid != os.getpid():
        folder.mkdir(parents=True, exist_ok=True)
        fh = open(folder / f"{os.getpid()}-{os.urandom(6).hex()}{_PACK_SUFFIX}", "ab")
        _PACK_WRITERS[folder] = (os.getpid(), fh)
    data = marshal.dumps(payload)
    packed = _zstd().compress(data, asbytes=True)
    fh.write(_PACK_HEAD.pack(key.encode("ascii"), len(data), len(packed)) + packed)
    fh.flush()  # whole entries on disk: the build reads them while this process goes on


@lru_cache(maxsize=1)
def _zstd():
    return _pyarrow().Codec("zstd", compression_level=1)


def _last_build_file(cache_dir: Path, output: Path) -> Path:
    tag = hashlib.sha256(str(output.resolve()).encode()).hexdigest()[:12]
    return cache_dir / f"last-build-{tag}.json"


def last_build(cache_dir: Path, output: Path) -> dict:
    """What the last successful build into ``output`` was made from (its key and version)."""
    try:
        return json.loads(_last_build_file(cache_dir, output).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def save_last_build(cache_dir: Path, output: Path, info: dict) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(_last_build_file(cache_dir, output), json.dumps(info, sort_keys=True).encode())


# --- streaming dataset writer --------------------------------------------------------------

ROW_GROUP = 5_000
#: ... or fewer rows once their JSON reaches this size: a conflict lists every capture's value,
#: and 236 conflicts over 10 000 documents are 200 MB of JSON
ROW_GROUP_BYTES = 8 << 20
#: record batches a writer holds before it combines them into one (``TableWriter._combined``)
PENDING_BATCHES = 256


class _HashingFile:
    def __init__(self, path: Path, resume: bool = False):
        """``resume``: append to what another process wrote there (hashed first)."""
        self.path = path
        self.fh = open(path, "r+b" if resume else "wb")
        self.sha = hashlib.file_digest(self.fh, "sha256") if resume else hashlib.sha256()
        self.size = self.fh.seek(0, os.SEEK_END)

    def write(self, data: bytes) -> None:
        with _naming(self.path):
            self.fh.write(data)
        self.sha.update(data)
        self.size += len(data)

    def close(self) -> None:
        with _naming(self.path):
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()


@contextlib.contextmanager
def _naming(path: Path):
    """An OSError that names no file (a write or fsync on a full disk) names ``path``."""
    try:
        yield
    except OSError as e:
        if e.filename:
            raise
        raise OSError(e.errno, e.strerror, str(path)) from e


def compact_json_bytes(value) -> bytes:
    """Compact JSON, keys sorted, non-ASCII characters as they are, in UTF-8: the text of
    ``json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` for every
    value a record holds (strings, integers, booleans, null, lists, dicts with string keys, and
    floats of at least 1e-4 such as fuzzy scores), in a fifth of the time (orjson; the
    equivalence is a property test). Record lines and Parquet JSON cells are most of what a
    large build writes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def compact_json(value) -> str:
    """``compact_json_bytes`` as text (a Parquet JSON cell)."""
    return compact_json_bytes(value).decode("utf-8")


def record_block(rows: list[dict]) -> bytes:
    """Records as they are written, one ``compact_json_bytes`` line each, joined by newlines:
    a record line never holds a newline (JSON escapes it). Records travel as such blocks from
    the worker that serialised them to the file, never split into lines on the way."""
    return b"\n".join([compact_json_bytes(r) for r in rows])


def block_lines(block: bytes) -> list[bytes]:
    return block.split(b"\n") if block else []


class TableWriter:
    """One table written as it comes: JSON one record per line, Parquet in row groups.

    The JSON file is ``{"schema_version", "table", "records": [ … ], "dataset_version"}``: the
    version comes last because it is the hash of everything written before it.

    Records come as a ``record_block`` and their Arrow record batch (``add_batch``), serialised
    already by a worker, or as dicts (``add_rows``, which serialises them here).
    """

    def __init__(self, folder: Path, table: str):
        self.table = table
        self.folder = folder
        self.json = _HashingFile(folder / f"{table}.json")
        self.json.write(f'{{"schema_version": {json.dumps(SCHEMA_VERSION)}, "table": {json.dumps(table)}, '
                        f'"records": [\n'.encode())
        self.content = hashlib.sha256()  # of every record line, each followed by a newline
        self.rows = 0
        self.pending: list = []           # Arrow record batches not yet in a row group
        self.group_rows = 0
        self.batch_bytes = 0
        self.parquet = None
        self.parquet_closed = False
        self.encoding = None  # the row group being encoded beside (``_flush``)

    def add_rows(self, rows: list[dict]) -> None:
        if rows:
            lines, batch = _encoded(self.table, rows)
            self.add_batch(b"\n".join(lines), batch)

    def add_batch(self, block: bytes, batch) -> None:
        """Append records serialised already: a ``record_block`` and its Arrow record batch
        (``arrow_batch``). Row groups end where they would for the same rows given one by one:
        after ``ROW_GROUP`` rows or ``ROW_GROUP_BYTES`` bytes of record lines."""
        if not block:
            return
        n, lines = batch.num_rows, block.count(b"\n") + 1
        if lines != n:  # the two forms of one set of records: they can only disagree by a bug
            raise StoreError(f"{self.table}: {lines} record lines for {n} Arrow rows")
        self.json.write((b",\n" if self.rows else b"") + block.replace(b"\n", b",\n"))
        self.content.update(block)
        self.content.update(b"\n")
        self.rows += n
        if self.group_rows + n < ROW_GROUP and self.batch_bytes + len(block) - (n - 1) < ROW_GROUP_BYTES:
            # the common case: no row group ends inside the block
            self.group_rows += n
            self.batch_bytes += len(block) - (n - 1)
            self.pending.append(batch)
            if len(self.pending) >= PENDING_BATCHES:
                self.pending = [self._combined()]
            return
        start = 0
        for i, line in enumerate(block_lines(block)):
            self.group_rows += 1
            self.batch_bytes += len(line)
            if self.group_rows >= ROW_GROUP or self.batch_bytes >= ROW_GROUP_BYTES:
                self.pending.append(batch.slice(start, i + 1 - start))
                start = i + 1
                self._flush()
        if start < n:
            self.pending.append(batch.slice(start))

    def _combined(self):
        """The pending batches as one (the same rows: a row group is combined before it is
        written anyway). Each batch has its own arrays, buffers and their bookkeeping, about
        15 KB for a one-row batch: a row group of the sources table (5 000 sources, one batch
        each) held 75 MB of it."""
        pa = _pyarrow()
        table = pa.Table.from_batches(self.pending, schema=_arrow_schema(self.table)).combine_chunks()
        return table.to_batches()[0]

    def _flush(self) -> None:
        import pyarrow.parquet as pq

        pa = _pyarrow()
        schema = _arrow_schema(self.table)
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(str(self.folder / f"{self.table}.parquet"), schema, compression="zstd")
        group = pa.Table.from_batches(self.pending, schema=schema)
        # encoded in a thread (pyarrow releases the GIL) while the JSON lines of the next row
        # group are written and hashed here: one group in flight, so they land in order
        self._encoded()
        self.encoding = _encoder().submit(lambda: self.parquet.write_table(group.combine_chunks()))
        self.pending = []
        self.group_rows = 0
        self.batch_bytes = 0

    def detach(self) -> dict:
        """Close this writer's files in this process, all but the JSON file's last line (which
        names the version, not known yet), and say what ``adopt`` needs to finish them in
        another process: the table can then be written where the build's other work is not."""
        self._close_parquet()
        # to disk here, beside the build's other work: the build's own fsync when it finishes
        # the file then has only the last line to write (a large table's pages took it seconds)
        self.json.fh.flush()
        os.fsync(self.json.fh.fileno())
        self.json.fh.close()
        return {"table": self.table, "rows": self.rows, "content": self.content.hexdigest()}

    @classmethod
    def adopt(cls, folder: Path, state: dict) -> "TableWriter":
        """The writer of a table another process wrote and ``detach``-ed, ready to ``finish``."""
        new = object.__new__(cls)
        new.table, new.folder, new.rows = state["table"], folder, state["rows"]
        new.json = _HashingFile(folder / f"{new.table}.json", resume=True)
        new.content = _Digest(state["content"])
        new.pending, new.group_rows, new.batch_bytes, new.parquet, new.parquet_closed = [], 0, 0, None, True
        new.encoding = None
        return new

    def _close_parquet(self) -> None:
        if self.parquet_closed:
            return
        if self.group_rows or self.parquet is None:
            self._flush()
        self._encoded()
        self.parquet.close()
        self.parquet_closed = True

    def _encoded(self) -> None:
        """Wait for the row group in flight (an error in encoding it is raised here)."""
        if self.encoding is not None:
            done, self.encoding = self.encoding, None
            done.result()

    def finish(self, version: str) -> dict:
        self._close_parquet()
        self.json.write(f'\n], "dataset_version": {json.dumps(version)}}}\n'.encode())
        self.json.close()
        pdata = (self.folder / f"{self.table}.parquet").read_bytes()
        return {f"{self.table}.json": (self.json.sha.hexdigest(), self.json.size, self.rows),
                f"{self.table}.parquet": (hashlib.sha256(pdata).hexdigest(), len(pdata), self.rows)}


#: the thread that encodes row groups (``TableWriter._flush``), per process id: a forked
#: process inherits the executor but not its thread
_ENCODERS: dict[int, object] = {}


def _encoder():
    if os.getpid() not in _ENCODERS:
        from concurrent.futures import ThreadPoolExecutor

        _ENCODERS[os.getpid()] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
    return _ENCODERS[os.getpid()]


class _Digest:
    """A hash computed elsewhere (``TableWriter.adopt``), read like a hashlib object."""

    def __init__(self, hexdigest: str):
        self._hex = hexdigest

    def hexdigest(self) -> str:
        return self._hex


@lru_cache(maxsize=1)
def _pyarrow():
    import pyarrow as pa

    # the writer frees each row group's buffers at once; the system allocator hands them back to
    # the OS (pyarrow's default, mimalloc, keeps ~50 MB more resident on a large build)
    pa.set_memory_pool(pa.system_memory_pool())
    return pa


@lru_cache(maxsize=None)
def _arrow_schema(table: str):
    pa = _pyarrow()

    kinds = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "list": pa.list_(pa.string()),
             "json": pa.string()}
    return pa.schema([pa.field(name, kinds[kind], metadata={"description": desc, "kind": kind})
                      for name, kind, desc in TABLES[table]],
                     metadata={"schema_version": SCHEMA_VERSION, "table": table})


def _cell(kind: str, value):
    """A value as its Parquet column holds it: nested values as JSON text (compact, keys sorted)."""
    return compact_json(value) if kind == "json" else value


def _encoded(table: str, rows: list[dict]) -> tuple[list[bytes], object]:
    """Rows as record lines (``record_block``'s) and one Arrow record batch of the table's
    Parquet schema. Each nested (``json``) value is serialised once for both: into the line as
    an orjson Fragment (the same bytes a whole-row dump writes: compact, keys sorted, which a
    property test checks), into its Parquet cell as those UTF-8 bytes. A conflict lists every
    capture's value (hundreds of KB), and requirements' items are most of a record."""
    nested = [name for name, kind, _ in TABLES[table] if kind == "json"]
    cells: dict[str, list[bytes]] = {name: [] for name in nested}
    lines = []
    for r in rows:
        if nested:
            line = dict(r)
            for name in nested:
                cell = compact_json_bytes(r.get(name))
                cells[name].append(cell)
                if name in r:
                    line[name] = orjson.Fragment(cell)
            r = line
        lines.append(compact_json_bytes(r))
    columns = {name: cells[name] if kind == "json" else [r.get(name) for r in rows]
               for name, kind, _ in TABLES[table]}
    return lines, _pyarrow().RecordBatch.from_pydict(columns, schema=_arrow_schema(table))


def encode(table: str, parts: list[list[dict]]) -> list[tuple[bytes, bytes | None]]:
    """Each part's rows as it is spooled and cached: a ``record_block`` and its serialised Arrow
    record batch (no schema: both sides know it; None for no rows), so a worker process does the
    conversion and the writer only copies. The parts are converted together (converting to Arrow
    has a fixed cost per call), then sliced."""
    rows = [r for part in parts for r in part]
    if not rows:
        return [(b"", None)] * len(parts)
    lines, batch = _encoded(table, rows)
    out, at = [], 0
    for part in parts:
        n = len(part)
        out.append((b"\n".join(lines[at:at + n]), batch.slice(at, n).serialize().to_pybytes() if n else None))
        at += n
    return out


def patch_batch(table: str, batch, changed: dict[int, tuple[dict, dict]]):
    """``batch`` with rows ``i`` changed from ``old`` to ``new`` (``changed[i] = (old, new)``):
    only the columns that differ are rebuilt."""
    pa = _pyarrow()

    fields = sorted({f for old, new in changed.values() for f in new if new.get(f) != old.get(f)})
    if not fields:
        return batch
    kinds = {name: kind for name, kind, _ in TABLES[table]}
    columns = list(batch.columns)
    for f in fields:
        i = batch.schema.get_field_index(f)
        values = columns[i].to_pylist()
        for n, (_, new) in changed.items():
            values[n] = _cell(kinds[f], new.get(f))
        columns[i] = pa.array(values, type=batch.schema.field(i).type)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def arrow_batch(table: str, data: bytes):
    """The record batch ``encode`` serialised."""
    pa = _pyarrow()

    return pa.ipc.read_record_batch(pa.py_buffer(data), _arrow_schema(table))


class Spool:
    """Records set aside while a dataset is written (in its temporary folder): per entry, a
    ``record_block`` and its serialised Arrow record batch, read back by the position ``put``
    returned (``get``; ``SpoolReader`` for several spools)."""

    _HEAD = struct.Struct("<QQ")  # bytes of the block, bytes of the batch

    def __init__(self, path: Path, mode: str = "w+b"):
        """``mode="rb"``: read what another process spooled there."""
        self.path = path
        self.fh = open(path, mode)

    def put(self, block: bytes, data: bytes) -> int:
        at = self.fh.seek(0, os.SEEK_END)
        self.fh.write(self._HEAD.pack(len(block), len(data)))
        self.fh.write(block)
        self.fh.write(data)
        return at

    def flush(self) -> None:
        self.fh.flush()

    def get(self, at: int) -> tuple[bytes, bytes]:
        self.fh.seek(at)
        n_block, n_data = self._HEAD.unpack(self.fh.read(self._HEAD.size))
        return self.fh.read(n_block), self.fh.read(n_data)

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SpoolReader:
    """Entries of several spools, read by where ``Spool.put`` left them: ``(path, position)``."""

    def __init__(self):
        self.spools: dict[str, Spool] = {}

    def entries(self, refs: list[tuple[str, int]]):
        for path, at in refs:
            if path not in self.spools:
                self.spools[path] = Spool(Path(path), "rb")
            yield self.spools[path].get(at)

    def __enter__(self) -> "SpoolReader":
        return self

    def __exit__(self, *exc) -> None:
        for spool in self.spools.values():
            spool.close()


class DatasetWriter:
    """A dataset version being written under ``output/.tmp-*``; nothing is visible until
    ``publish`` renames it into ``output/datasets/``."""

    def __init__(self, output: Path):
        output.mkdir(parents=True, exist_ok=True)
        self.output = output
        self.folder = output / f".tmp-build-{os.getpid()}"
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir()
        self.tables: dict[str, TableWriter] = {}

    def table(self, name: str) -> TableWriter:
        if name not in self.tables:
            self.tables[name] = TableWriter(self.folder, name)
        return self.tables[name]

    def adopt(self, state: dict) -> None:
        """A table another process wrote in this folder (``TableWriter.detach``)."""
        self.tables[state["table"]] = TableWriter.adopt(self.folder, state)

    def spool(self, name: str) -> Spool:
        """A scratch file of records, deleted when the dataset is finished."""
        return Spool(self.folder / f"{name}.scratch")

    def content_hash(self) -> str:
        h = hashlib.sha256(SCHEMA_VERSION.encode())
        for name in TABLE_ORDER:
            h.update(name.encode())
            h.update(self.table(name).content.hexdigest().encode())
        return h.hexdigest()

    def finish(self, version: str, inputs: list[dict]) -> None:
        outputs = []
        for name in TABLE_ORDER:
            for file, (sha, size, rows) in sorted(self.table(name).finish(version).items()):
                outputs.append({"file": file, "sha256": sha, "bytes": size, "rows": rows})
        for p in self.folder.glob("*.scratch"):
            p.unlink()
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

    def publish(self, version: str, reports: dict[str, bytes] | None) -> bool:
        """Publish the finished folder as ``version`` with its review report, together or not
        at all: the reports are written first (each atomically), then the folder is renamed
        into ``datasets/`` (the moment the version exists), then LATEST. A kill before the
        rename leaves reports of a version that does not exist, which the next build removes
        (``clean_stale_tmp``) or writes again (same inputs, same bytes); a full disk stops the
        build before anything is renamed. ``reports`` None: the version's reports exist."""
        final = self.output / "datasets" / version
        if reports:
            (self.output / "reports").mkdir(parents=True, exist_ok=True)
            for suffix, data in sorted(reports.items()):
                write_atomic(self.output / "reports" / f"{version}.{suffix}", data)
        if final.exists():
            shutil.rmtree(self.folder, ignore_errors=True)
            created = False
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.folder, final)
            _fsync_dir(final.parent)
            created = True
        link_partitions(self.output)
        if latest(self.output) != version:
            with open(self.output / "HISTORY", "a", encoding="utf-8") as fh:
                fh.write(version + "\n")
            write_atomic(self.output / "LATEST", (version + "\n").encode())
        return created

    def abandon(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def iter_records(path: Path):
    """The records of a published JSON table, one at a time when it is written one per line
    (older versions, written indented, are read whole). A file that is cut short or does not
    parse is a ``StoreError`` naming it and the line, never fewer records than it holds."""
    with open(path, "rb") as fh:
        head = fh.readline()
        if not head.rstrip().endswith(b"["):
            fh.seek(0)
            try:
                records = json.loads(fh.read().decode("utf-8"))["records"]
            except (ValueError, KeyError, TypeError) as e:
                raise StoreError(f"{path}: cannot be read ({describe_error(e)})") from None
            yield from records
            return
        closed = False
        for no, line in enumerate(fh, 2):
            line = line.rstrip(b"\n").rstrip(b",")
            if line.startswith(b"{"):
                try:
                    record = json.loads(line)
                except ValueError as e:
                    raise StoreError(f"{path}:{no}: cannot be read ({describe_error(e)})") from None
                yield record
            elif line.startswith(b"]"):
                closed = True
        if not closed:
            raise StoreError(f"{path}: cut short (no closing line): the file is incomplete")


def link_partitions(output: Path) -> None:
    """``output/parquet/<table>/dataset_version=<v>/<table>.parquet``: every version's Parquet
    as one Hive-partitioned dataset per table (relative symlinks, no copies), so DuckDB, Spark
    or pandas read all versions at once with ``dataset_version`` as a column."""
    datasets = output / "datasets"
    if not datasets.exists():
        return
    for version_dir in sorted(p for p in datasets.iterdir() if (p / "manifest.json").exists()):
        for parquet in sorted(version_dir.glob("*.parquet")):
            part = output / "parquet" / parquet.stem / f"dataset_version={version_dir.name}"
            link = part / parquet.name
            if link.is_symlink() or link.exists():
                continue
            part.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(parquet, part), link)


def datapackage(version: str, outputs: list[dict], schemas: dict) -> dict:
    """A Frictionless Data Package describing every file of a version.

    Each JSON table is a tabular resource (rows under ``records``) with its Table Schema and
    primary key, plus a file resource carrying its bytes and sha256 (Frictionless cannot count
    the bytes of a JSON table read from a nested property). A table without rows is a file
    resource only (nothing to read as a table). Parquet files and JSON Schemas are file
    resources with bytes and sha256.
    """
    by_file = {o["file"]: o for o in outputs}
    resources = []
    for name in TABLE_ORDER:
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
