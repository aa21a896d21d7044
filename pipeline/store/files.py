"""Files people keep and files the build writes: locks, atomic replacement, errors that name
the file, and the one JSON form records are written in."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from pathlib import Path

import orjson

from pipeline.core.errors import ParseError, StoreError


# --- writing -----------------------------------------------------------------------------

def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _open_lock(path: Path) -> int:
    """A lock file, opened for writing without truncating it and never through a link: a
    committed ``output/.lock -> ../../x`` would otherwise have every build open (and ``"w"``
    truncate) ``x``. Anything but a regular file is refused, in one line."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise StoreError(f"{path}: a symbolic link; a lock is never opened through one (remove it)") from None
        if e.errno == errno.ENXIO:  # (a FIFO nobody reads)
            raise StoreError(f"{path}: not a regular file; remove it") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path}: not a regular file; remove it")
    return fd


@contextlib.contextmanager
def build_lock(output: Path):
    """One build at a time; a second one is told so instead of waiting or corrupting output."""
    output.mkdir(parents=True, exist_ok=True)
    fd = _open_lock(output / ".lock")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{output}: another build is running (lock {output / '.lock'} is held)") from None
        yield
    finally:
        os.close(fd)


def read_optional_text(path: Path, shown: str | None = None, max_bytes: int | None = None) -> str | None:
    """A UTF-8 text file people keep (decisions, metadata), or None when there is none.
    Anything else (a folder, other bytes, no permission, more than ``max_bytes``) is one line
    naming the file (``shown``: its name in messages)."""
    shown = shown or str(path)
    data = read_optional_bytes(path, shown, max_bytes)
    return None if data is None else decode_text(data, shown)


def read_optional_bytes(path: Path, shown: str | None = None, max_bytes: int | None = None) -> bytes | None:
    """The bytes of a regular file a person names (a sheet for ``decide --from``), or None when
    there is none; a folder, a FIFO, an unreadable file or one of more than ``max_bytes`` is
    one line naming it."""
    shown = shown or str(path)
    try:
        # (non-blocking: a FIFO put where the file should be is refused, not waited on)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _cannot_read(shown, e) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks, read = [], 0
        # (what is read is counted too: the file may be growing)
        while max_bytes is None or max(read, st.st_size) <= max_bytes:
            if not (chunk := os.read(fd, 1 << 20)):
                break
            chunks.append(chunk)
            read += len(chunk)
        else:
            raise ParseError(shown, 1, f"{max(read, st.st_size):,} bytes, more than the {max_bytes:,} such a "
                                       f"file may hold; not read")
        data = b"".join(chunks)
        del chunks  # (held with ``data`` and its text, a file people keep cost five times its size)
        return data
    except OSError as e:
        raise _cannot_read(shown, e) from None
    finally:
        os.close(fd)


def decode_text(data: bytes, shown: str) -> str:
    """UTF-8 text people keep, or one ``file:line`` error at the first byte that is not."""
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
    fd = _open_lock(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _replaceable(path: Path) -> Path:
    """The file ``write_atomic`` replaces for ``path``: ``path`` itself, or, where ``path`` is
    a symbolic link, the file it names (the link stays a link; renaming over it would leave its
    file unwritten). A link to nothing, or anything but a regular file (a device, a FIFO, a
    folder), is refused in one line: it is never replaced."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    if stat.S_ISLNK(st.st_mode):
        real = Path(os.path.realpath(path))
        try:
            st = os.stat(real)
        except FileNotFoundError:
            raise StoreError(f"{path}: a symbolic link to {real}, which does not exist; not written "
                             f"(name the file itself)") from None
        path = real
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{path}: not a regular file; not replaced (name a file)")
    return path


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files ``write_atomic`` left beside ``path`` in a process that is
    gone (killed mid-write): ``.<name>.tmp-<pid>``."""
    prefix = f".{path.name}.tmp-"
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix):]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` or leave it exactly as it was (``replacing``). The file
    keeps its permission bits."""
    with replacing(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))


@contextlib.contextmanager
def replacing(path: Path):
    """The one way a file is replaced whole: yields a temporary path beside ``path`` for the
    caller to write and flush; when the block ends it is renamed over ``path`` and the folder
    synced (a kill or a full disk mid-write leaves the old file; the temporary file is removed
    on an error, and by the next write to ``path`` after a kill). A symbolic link is written
    through (the file it names is replaced); what is not a regular file is refused
    (``_replaceable``). An OSError raised in the block that names no file names ``path``."""
    path = _replaceable(path)
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with _naming(path):  # (fsync's error names no file: this one)
            yield tmp
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
    ``write_atomic``. Returns the new text. A symbolic link is read and written through."""
    path = _replaceable(path)
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
