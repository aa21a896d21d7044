"""Raw folders: listing documents, reading their metadata, hashing their bytes. Nothing here
is ever written: ``raw/`` holds documents exactly as captured."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import ParseError, PipelineWarning, StoreError, warning
from pipeline.core.normalize import real_date
from pipeline.core.textfiles import loads_json, loads_toml
from pipeline.store.files import _cannot_read, describe_error, read_optional_text

METADATA_FILE = "metadata.toml"
#: a capture tool's record of what it captured and when (a crawler's or a git export's):
#: ``[{"file": …, <time key>: "2020-07-30T16:25:02+08:00", …}]``; see ``_read_manifest``
MANIFEST_FILE = "MANIFEST.json"
#: where a manifest entry gives the time of its capture, in the order they are looked for
_MANIFEST_TIMES = ("captured", "commit_date", "commit_date_or_update_time")
#: ``metadata.toml`` and ``MANIFEST.json`` larger than this are refused, in one line: each is read
#: whole (a 150 MB manifest held 1 GB); 32 MiB is about 50,000 captures at the corpus's 600
#: bytes an entry
MAX_LIST_BYTES = 32 << 20
_METADATA_KEYS = {"url", "captured", "updated", "capability", "title", "format"}
#: a document larger than the build reads (``build.MAX_DOCUMENT_BYTES``) has no records to quote
MAX_EXCERPT_BYTES = 64 << 20


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
    text = read_optional_text(p, shown, MAX_LIST_BYTES)
    if text is None:
        return {}
    data = loads_toml(text, shown)
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


def _read_manifest(d: Path) -> dict[str, str]:
    """``raw/MANIFEST.json``, when a capture tool wrote one: file -> the time it was captured
    (ISO 8601 with a time of day). Only the time is read from it: it orders revisions of a page
    that carry the same date (two FaceID revisions of 2020-07-30, 16:25 and 16:33), which
    nothing else does. A problem is one ``file:line`` error."""
    p = d / MANIFEST_FILE
    shown = f"{d.resolve().name}/{MANIFEST_FILE}"
    text = read_optional_text(p, shown, MAX_LIST_BYTES)
    if text is None:
        return {}
    data = loads_json(text, shown)
    if not isinstance(data, list):
        raise ParseError(shown, 1, "must be a list of entries, one per file")
    out = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ParseError(shown, _json_line(text, i), f"entry {i + 1} must be an object with a \"file\"")
        name = entry["file"]
        when = next((entry[k] for k in _MANIFEST_TIMES if entry.get(k) is not None), None)
        if when is None:
            continue
        try:
            parsed = dt.datetime.fromisoformat(when) if isinstance(when, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise ParseError(shown, _json_line(text, i), f"{name!r}: capture time {when!r} is not an ISO 8601 date-time")
        out[name] = parsed.isoformat()
    return out


def _json_line(text: str, index: int) -> int:
    """The line where entry ``index`` of a manifest's list starts (for error messages)."""
    depth, seen = 0, -1
    line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth == 2 and ch == "{":
                seen += 1
                if seen == index:
                    return line
        elif ch in "]}":
            depth -= 1
    return 1


def _with_capture_time(said: dict[str, str], when: str | None) -> dict[str, str]:
    """A manifest's capture time fills ``captured`` where the metadata gives none, or gives the
    same day (the time of day is what the manifest adds); what a person wrote in
    ``metadata.toml`` is never overridden by another day. A manifest may list files that are
    not kept here: only the files found are looked up."""
    if when is None or (said.get("captured") or when)[:10] != when[:10]:
        return said
    return dict(said, captured=when)


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

    def read(self, sha256: str | None = None) -> RawFile:
        """The document's bytes. ``sha256``: what they hashed to when the build listed them;
        bytes that hash to anything else are refused (the file was replaced meanwhile: parsed,
        they would be filed under the other content's hash, and served for it by every later
        build), so what is parsed is always what was hashed."""
        data = read_raw_bytes(self.path, self.display)
        if sha256 is not None:
            got = hashlib.sha256(data).hexdigest()
            if got != sha256:
                raise StoreError(f"{self.display}: changed while the build was reading it (sha256 {sha256[:12]}… "
                                 f"when listed, {got[:12]}… when parsed); nothing published: build again "
                                 f"once it is written")
        return RawFile(self.display, self.path, data, self.metadata, self.captures)


def list_raw(dirs: list[Path]) -> tuple[list[RawRef], list[PipelineWarning]]:
    """Every document under the raw folders (like ``read_raw``, without reading any bytes), and
    a warning for each entry that is not read: names starting with ``.`` or ``_`` (a folder's
    name once, not each file in it), readmes and manifests, links to folders (not followed:
    they could loop or reach anywhere), links to nothing, and what is not a regular file (FIFOs,
    sockets, devices). A name that is not UTF-8, or holds control characters, is an error: it
    would be every record's ``source_file``."""
    out: list[RawRef] = []
    skipped: list[PipelineWarning] = []
    named: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            raise StoreError(f"{d}: raw folder not found")
        base = d.resolve().name
        if base in named:
            if named[base] == d.resolve():
                continue  # (one folder named twice)
            # every document is named <folder name>/<file>: two folders of one name would give
            # two documents one name, and one of them would silently win
            raise StoreError(f"{d}: a second raw folder named {base!r} (the first is {named[base]}): their "
                             f"documents would both be named {base}/<file>; rename one of the folders")
        named[base] = d.resolve()
        out += _list_folder(d, base, skipped)
    out.sort(key=lambda r: r.display)
    return out, skipped


def _list_folder(d: Path, base: str, skipped: list[PipelineWarning]) -> list[RawRef]:
    """The documents of one raw folder (``list_raw``), with what its metadata and capture
    manifest say of each; what is not read is added to ``skipped``."""
    meta = _read_metadata(d)
    times = _read_manifest(d)
    out, seen = [], set()
    for folder, subdirs, files in os.walk(d, onerror=_walk_error):
        rel_folder = Path(folder).relative_to(d).as_posix()
        prefix = "" if rel_folder == "." else rel_folder + "/"
        for name in sorted(subdirs):
            why = _skip_name(name) or ("a link to a folder (not followed)" if os.path.islink(
                os.path.join(folder, name)) else None)
            if why:
                subdirs.remove(name)
                skipped.append(warning("skipped", f"skipped, {why}", f"{base}/{_shown_name(prefix + name)}/"))
        subdirs.sort()
        for name in sorted(files):
            rel = prefix + name
            size = _listed_size(Path(folder) / name, rel, f"{base}/{_shown_name(rel)}", skipped)
            if size is not None:
                seen.add(rel)
                said = _with_capture_time(meta.get(rel, {}), times.get(rel))
                out.append(RawRef(f"{base}/{rel}", Path(folder) / name, size, tuple(sorted(said.items()))))
    for name in meta:
        if name not in seen:
            raise ParseError(f"{base}/{METADATA_FILE}", _toml_line(read_optional_text(d / METADATA_FILE), name),
                             f"metadata for unknown file {name!r}")
    return out


def _listed_size(p: Path, rel: str, shown: str, skipped: list[PipelineWarning]) -> int | None:
    """The size of a document to read, or None for an entry that is not one (the metadata and
    manifest files themselves; skipped ones are added to ``skipped``)."""
    if rel in (METADATA_FILE, MANIFEST_FILE):
        return None
    name = p.name
    why = _skip_name(name) or ("a readme, not a document" if name.upper().startswith(("README", "MANIFEST")) else None)
    if why:
        skipped.append(warning("skipped", f"skipped, {why}", shown))
        return None
    _check_name(rel, shown)
    try:
        st = p.stat()  # one stat per file: whether it is a regular file, and its size
    except FileNotFoundError:
        skipped.append(warning("skipped", "skipped, a link to nothing", shown))
        return None
    except OSError as e:
        raise _cannot_read(shown, e) from None
    if not stat.S_ISREG(st.st_mode):
        skipped.append(warning("skipped", "skipped, not a regular file", shown))
        return None
    return st.st_size


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


def source_lines(spans, sha256: dict[str, str], paths: dict[str, Path] | None = None,
                 root: Path = Path(".")) -> dict[tuple[str, int, int], tuple[str, ...]]:
    """The lines of each span ``(source_file, line_start, line_end)`` (1-based, inclusive), as
    the parsers numbered them: the file decoded as a document is (``detect.decode``, control
    characters removed), for the report's excerpts. ``sha256``: the bytes each file must have
    (the version's source); a file that is gone, unreadable, larger than a document may be,
    or changed since (another hash) gives nothing, and the report shows its file:line only.
    ``paths``: where a source file is (the build's raw folders); else ``root / source_file``
    (``raw/…`` under the project folder). Each file is read once, and only its spans' lines are
    kept."""
    from pipeline.parsers import detect
    from pipeline.core.errors import PipelineError
    from pipeline.core.normalize import strip_controls

    by_file: dict[str, list[tuple[int, int]]] = {}
    for file, start, end in spans:
        by_file.setdefault(file, []).append((start, end))
    out: dict[tuple[str, int, int], tuple[str, ...]] = {}
    for file in sorted(by_file):
        path = (paths or {}).get(file) or root / file
        try:
            if path.stat().st_size > MAX_EXCERPT_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        # A PDF's lines count the text pdfplumber reads from it: reading it again for an excerpt
        # costs seconds per file, so a PDF's values are shown with their file:line only.
        if hashlib.sha256(data).hexdigest() != sha256.get(file) or data.startswith(b"%PDF"):
            continue
        try:
            text, _ = detect.decode(data, file)
        except PipelineError:
            continue
        lines = strip_controls(text, file)[0].split("\n")
        del text, data
        for start, end in by_file[file]:
            out[(file, start, end)] = tuple(lines[max(start, 1) - 1:end])
    return out
