"""Files people keep and files the build writes: locks, atomic replacement, errors that name
the file, and the one JSON form records are written in."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from pathlib import Path

import orjson

from pipeline.errors import ParseError, StoreError


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


def write_export(path: Path, data: bytes) -> None:
    """Write a file made for people's own tools (``pipeline export``), creating its folder:
    atomically, so a spreadsheet open on the old file, or a kill mid-write, never sees half a
    file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


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


def describe_error(e: Exception) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {e}"


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


def _cannot_read(shown: str, e: OSError) -> StoreError:
    return StoreError(f"{shown}: cannot read ({describe_error(e)})")
