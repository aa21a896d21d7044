"""Reading published versions: ``output/LATEST``, ``output/HISTORY`` and a version's tables.

A version folder is complete on its own. Small tables are one file each (``<table>.json``,
``<table>.parquet``); the tables whose records each come from one source document
(``tables.FOLDER_TABLES``) are folders of chunks, each the records of consecutive sources
(``<table>/*.jsonl``, ``<table>.parquet/*.parquet``), hard links to the chunk store's files
(``chunks``), so a version costs only what changed. ``manifest.json`` lists every file with
its size and sha256 (a chunk's with the sources it holds; before schema 5.0.0, a file per
source with its ``source_sha256``).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.core.errors import StoreError, warning
from pipeline.store.files import describe_error
from pipeline.core.tables import FOLDER_TABLES, TABLE_ORDER, VALUE_FIELDS


def dataset_dir(output: Path, version: str) -> Path:
    ds = output / "datasets" / version
    if not (ds / "manifest.json").exists():
        raise StoreError(f"{ds}: no such dataset version")
    return ds


def _manifest(ds: Path) -> dict:
    try:
        manifest = json.loads((ds / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise StoreError(f"{ds / 'manifest.json'}: cannot be read ({describe_error(e)})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs", []), list):
        raise StoreError(f"{ds / 'manifest.json'}: not a dataset manifest (no list of outputs)")
    return manifest


def _listed(ds: Path, outputs: list[dict] | None = None) -> dict[str, dict]:
    """The manifest's outputs by file name (``outputs``: the manifest's, when the caller has
    read it: a manifest lists every file, megabytes at 10,000 sources)."""
    outputs = outputs if outputs is not None else _manifest(ds).get("outputs", [])
    return {o["file"]: o for o in outputs if isinstance(o, dict) and isinstance(o.get("file"), str)}


def check_present(ds: Path, listed: dict[str, dict]) -> None:
    """Every file the manifest lists is there at the size it lists (one ``stat`` each: a file
    deleted or cut short, a Parquet file no reader of ours opens among them, refuses the whole
    version). Its bytes are checked where they are read (``iter_table``)."""
    for name, entry in listed.items():
        try:
            size = (ds / name).stat().st_size
        except OSError as e:
            raise StoreError(f"{ds / name}: listed in the manifest but cannot be read ({describe_error(e)}); "
                             f"this version cannot be trusted") from None
        if entry.get("bytes") is not None and size != entry["bytes"]:
            raise _not_as_published(ds / name, f"{size} bytes where the manifest says {entry['bytes']}")


def _not_as_published(path: Path, why: str) -> StoreError:
    return StoreError(f"{path}: not the file the manifest lists ({why}): it was cut short or changed since it "
                      f"was published; this version cannot be trusted")


def _check_digest(path: Path, entry: dict | None, size: int, sha: str) -> None:
    if entry is None:
        return
    if entry.get("bytes") is not None and size != entry["bytes"]:
        raise _not_as_published(path, f"{size} bytes where the manifest says {entry['bytes']}")
    if entry.get("sha256") is not None and sha != entry["sha256"]:
        raise _not_as_published(path, f"sha256 {sha[:12]}…, the manifest says {entry['sha256'][:12]}…")


#: what a word ``mentioning`` looks for may be made of: every JSON writer writes these as they are
_PLAIN = re.compile(r"^[A-Za-z0-9_]+$")


def _needles(mentioning) -> tuple[bytes, ...] | None:
    """The byte strings a line must hold one of to be parsed (None: every line is, as when a
    word is not plain: a writer may escape its characters)."""
    if mentioning is None:
        return None
    words = sorted(set(mentioning))
    if not all(isinstance(w, str) and _PLAIN.match(w) for w in words):
        return None
    return tuple(w.encode("ascii") for w in words)


def _mentions(line: bytes, needles: tuple[bytes, ...] | None) -> bool:
    return needles is None or any(n in line for n in needles)


def iter_table(ds: Path, table: str, sources: set[str] | None = None, outputs: list[dict] | None = None,
               mentioning=None, parsed: dict[str, list[dict]] | None = None, strings: dict[str, str] | None = None):
    """The records of one table of the version in folder ``ds``, in published order, each file
    checked against the size and sha256 the manifest lists as it is read (a file cut short,
    changed, deleted or not listed is a ``StoreError`` naming it, never other or fewer
    records): a folder table the files the manifest lists for it, a small table with
    ``iter_records``. ``sources``: only the records of these sources' sha256 (the other files
    are not read). ``outputs``: the manifest's, when the caller has read it. ``mentioning``:
    ids (``cat_…``, ``cfl_…``): only the records whose line holds one of them are parsed (every
    file is still read and checked whole), so a reader of one category holds its records, not
    the table's; a record holding the id in another field, or a table written whole (before
    schema 2.0.0, every record is yielded), is yielded too: the caller keeps what it is about.
    ``parsed``: a dict the caller keeps over several calls (two versions read to compare them):
    the records of a file whose bytes have a sha256 seen before are the ones parsed then, the
    same objects (the file is read and checked all the same); the caller changes none.
    ``strings``: a dict the caller keeps over calls: a text equal to one read before is that
    one (``_share``: the versions of a page repeat their texts; a reader of whole tables holds
    each once, 40 % less, for a third more time)."""
    needles = _needles(mentioning)
    sources = set(sources) if sources is not None else None
    listed = _listed(ds, outputs)
    p = ds / f"{table}.json"
    if table not in FOLDER_TABLES or f"{table}.json" in listed or p.exists():
        # (versions before schema 2.0.0: every table one file)
        if f"{table}.json" not in listed:
            if p.exists():
                raise StoreError(f"{p}: not listed in the version's manifest; this version cannot be trusted")
            return  # (a table the version predates)
        for r in iter_records(p, listed[f"{table}.json"], mentioning=mentioning, strings=strings):
            if sources is None or r.get("source_sha256") in sources:
                yield r
        return
    for name in sorted(n for n in listed if n.startswith(f"{table}/") and n.endswith(".jsonl")):
        entry = listed[name]
        # (a chunk lists the sources it holds; schema 2 to 4 published a file per source)
        held = entry.get("sources") if "sources" in entry else [entry.get("source_sha256")]
        wanted = None
        if sources is not None:
            if not isinstance(held, list) or sources.isdisjoint(held):
                continue
            if not sources.issuperset(held):  # (only the lines naming one of them are parsed)
                wanted = tuple(s.encode("ascii") for s in held if isinstance(s, str) and s in sources)
        p = ds / name
        if parsed is not None and needles is None and wanted is None:
            data = _read_listed(p)
            sha = hashlib.sha256(data).hexdigest()
            _check_digest(p, entry, len(data), sha)
            if sha not in parsed:
                parsed[sha] = list(_lines(p, data, None, strings))
            yield from parsed[sha]
            continue
        got = _checked_lines(p, entry, needles, wanted, strings)
        yield from (got if wanted is None else (r for r in got if r.get("source_sha256") in sources))


def _read_listed(p: Path) -> bytes:
    try:
        with open(p, "rb") as fh:
            return fh.read()
    except OSError as e:
        raise StoreError(f"{p}: listed in the manifest but cannot be read ({describe_error(e)}); "
                         f"this version cannot be trusted") from None


def _checked_lines(p: Path, entry: dict, needles: tuple[bytes, ...] | None, wanted: tuple[bytes, ...] | None,
                   strings: dict[str, str] | None) -> list[dict]:
    """The records of a file of one record per line whose line holds one of ``needles`` and
    one of ``wanted`` (None: any), once the whole file is read and checked against ``entry``:
    read line by line, so that a reader of a few records of a chunk holds those, not the chunk."""
    sha, size, out = hashlib.sha256(), 0, []
    try:
        with open(p, "rb") as fh:
            for no, line in enumerate(fh, 1):
                sha.update(line)
                size += len(line)
                if _mentions(line, needles) and _mentions(line, wanted):
                    out.append((no, line))
    except OSError as e:
        raise StoreError(f"{p}: listed in the manifest but cannot be read ({describe_error(e)}); "
                         f"this version cannot be trusted") from None
    _check_digest(p, entry, size, sha.hexdigest())
    return [_record(p, no, line, strings) for no, line in out]


def _record(p: Path, no: int, line: bytes, strings: dict[str, str] | None) -> dict:
    try:
        record = orjson.loads(line)
    except ValueError as e:
        raise StoreError(f"{p}:{no}: cannot be read ({describe_error(e)})") from None
    return record if strings is None else _share(record, strings)


def _lines(p: Path, data: bytes, needles: tuple[bytes, ...] | None, strings: dict[str, str] | None):
    """The records of a file of one record per line (``needles``: ``_mentions``; ``strings``:
    ``_share``)."""
    for no, line in enumerate(data.splitlines(), 1):
        if _mentions(line, needles):
            yield _record(p, no, line, strings)


def _share(value, strings: dict[str, str]):
    """``value`` (a record just parsed, nobody else's yet) with every text in it replaced by the
    equal one in ``strings`` (added when new): equal texts are one object, never a changed one."""
    items = value.items() if type(value) is dict else enumerate(value)
    for k, v in items:
        if type(v) is str:
            value[k] = strings.setdefault(v, v)
        elif type(v) is dict or type(v) is list:
            _share(v, strings)
    return value


def iter_records(path: Path, entry: dict | None = None, mentioning=None, strings: dict[str, str] | None = None):
    """The records of a published JSON table (``<table>.json``; orjson reads a record line in a
    third of the standard library's time), one at a time when it is
    written one per line (older versions, written indented, are read whole). A file that is
    cut short or does not parse is a ``StoreError`` naming it and the line, never fewer
    records than it holds. ``entry``: the manifest's entry for the file: its bytes are hashed
    as they are read, and a file that is not the one published is a ``StoreError`` when its
    end is reached (its size is checked before anything is read). ``mentioning``, ``strings``:
    as ``iter_table``'s (a file written one record per line parses only the lines holding one)."""
    needles = _needles(mentioning)
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        if entry is not None and entry.get("bytes") is not None:
            size = os.fstat(fh.fileno()).st_size
            if size != entry["bytes"]:
                raise _not_as_published(path, f"{size} bytes where the manifest says {entry['bytes']}")
        head = fh.readline()
        sha.update(head)
        if not head.rstrip().endswith(b"["):
            rest = fh.read()
            sha.update(rest)
            _check_digest(path, entry, len(head) + len(rest), sha.hexdigest())
            try:
                records = json.loads((head + rest).decode("utf-8"))["records"]
            except (ValueError, KeyError, TypeError, RecursionError) as e:
                raise StoreError(f"{path}: cannot be read ({describe_error(e)})") from None
            yield from records
            return
        closed = False
        size = len(head)
        for no, line in enumerate(fh, 2):
            sha.update(line)
            size += len(line)
            line = line.rstrip(b"\n").rstrip(b",")
            if line.startswith(b"{") and _mentions(line, needles):
                try:
                    record = orjson.loads(line)
                except ValueError as e:
                    raise StoreError(f"{path}:{no}: cannot be read ({describe_error(e)})") from None
                yield record if strings is None else _share(record, strings)
            elif line.startswith(b"]"):
                closed = True
        if not closed:
            raise StoreError(f"{path}: cut short (no closing line): the file is incomplete")
        _check_digest(path, entry, size, sha.hexdigest())


def load_tables(output: Path, version: str, skip: tuple[str, ...] = (), mentioning=None,
                parsed: dict[str, list[dict]] | None = None, strings: dict[str, str] | None = None
                ) -> dict[str, list[dict]]:
    """The tables of a published version (tables it does not have, or ``skip``, are empty),
    every file the manifest lists checked to be there at its size, and every file read checked
    byte for byte against it (``iter_table``, as are ``mentioning``, ``parsed`` and ``strings``)."""
    ds = dataset_dir(output, version)
    outputs = _manifest(ds).get("outputs", [])
    check_present(ds, _listed(ds, outputs))
    out = {t: [] if t in skip or t == "conflict_values" else
           list(iter_table(ds, t, outputs=outputs, mentioning=mentioning, parsed=parsed, strings=strings))
           for t in TABLE_ORDER}
    if "conflicts" in skip and "conflict_values" in skip:
        return out
    # (a reader of some conflicts reads the values whose lines name them)
    ids = [c["id"] for c in out["conflicts"]] if mentioning is not None else None
    values = list(iter_table(ds, "conflict_values", outputs=outputs, mentioning=ids, strings=strings)) \
        if ids is None or ids else []
    if "conflicts" not in skip:
        join_values(ds, out["conflicts"], values, every=mentioning is None)
    if "conflict_values" not in skip:
        kept = set(ids or ())
        out["conflict_values"] = values if mentioning is None else [v for v in values if v["conflict_id"] in kept]
    return out


def join_values(ds: Path, conflicts: list[dict], values: list[dict], every: bool = True) -> None:
    """Each conflict's values (its ``conflict_values`` records) put back into it as ``values``,
    in their order and as reconciliation made them (``tables.VALUE_FIELDS``): what every
    reader of a version's conflicts reads. A conflict of a version before 5.0.0 holds its own.
    A conflict with other than ``value_count`` values, or values of no conflict (``every``:
    all conflicts were read), is a version that cannot be trusted."""
    by_id: dict[str, list[tuple[int, dict]]] = {}
    for v in values:
        by_id.setdefault(v["conflict_id"], []).append((v["position"], {k: v[k] for k in VALUE_FIELDS}))
    for c in conflicts:
        if "values" in c:
            continue
        got = sorted(by_id.pop(c["id"], ()), key=lambda p: p[0])
        if [p for p, _ in got] != list(range(c.get("value_count") or 0)):
            raise StoreError(f"{ds}: conflict {c['id']} has {c.get('value_count')} values, conflict_values holds "
                             f"{len(got)} for it; this version cannot be trusted")
        c["values"] = [v for _, v in got]
    if every and by_id:
        raise StoreError(f"{ds}: conflict_values holds values of {next(iter(by_id))}, which is no conflict of the "
                         f"version; this version cannot be trusted")


def has_table(output: Path, version: str, table: str) -> bool:
    """Whether a published version has ``table`` at all (a version built before the table
    existed reads as having it empty)."""
    ds = dataset_dir(output, version)
    return (ds / f"{table}.json").is_file() or (ds / table).is_dir()


def load_small_tables(output: Path, version: str) -> dict[str, list[dict]]:
    """Every table of a version but ``requirements`` (which can be large: stream it with
    ``iter_table``)."""
    return load_tables(output, version, skip=("requirements",))


def conflict_ids(output: Path, version: str, cache_dir: Path | None = None) -> list[str]:
    """The conflict ids of a published version. A version never changes, so with ``cache_dir``
    its ids are read once and kept in ``<cache_dir>/conflict-ids/<version>.json`` (every build
    asks for every version's: reading each conflicts table, which lists every capture's value,
    cost an archive's build seconds per version it had published)."""
    kept = cache_dir / "conflict-ids" / f"{version}.json" if cache_dir is not None else None
    if kept is not None:
        try:
            return json.loads(kept.read_text("utf-8"))
        except (OSError, ValueError):
            pass
    ds = output / "datasets" / version
    p = ds / "conflicts.json"
    if not p.exists():
        return []
    entry = _listed(ds).get("conflicts.json")
    if entry is None:
        raise StoreError(f"{p}: not listed in the version's manifest; this version cannot be trusted")
    try:
        ids = [r["id"] for r in iter_records(p, entry)]
    except (KeyError, TypeError) as e:
        raise StoreError(f"{p}: cannot be read ({describe_error(e)})") from None
    if kept is not None:
        from pipeline.store.files import write_atomic

        kept.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(kept, json.dumps(ids).encode())
    return ids


def published_conflict_ids(output: Path, warn=None, cache_dir: Path | None = None) -> set[str]:
    """Conflict ids of every published version (``conflict_ids``). A version whose conflicts
    cannot be read (a truncated file, a disk error) is reported through ``warn`` (a callable
    taking a ``PipelineWarning``), not fatal: it must not stop every later build."""
    ids: set[str] = set()
    folder = output / "datasets"
    for version in sorted(p.name for p in folder.iterdir() if (p / "manifest.json").exists()) if folder.exists() else []:
        try:
            ids.update(conflict_ids(output, version, cache_dir))
        except (OSError, StoreError) as e:
            p = folder / version / "conflicts.json"
            why = str(e) if isinstance(e, StoreError) else f"{p}: cannot be read ({describe_error(e)})"
            if warn is None:
                raise StoreError(why) from None
            warn(warning("unreadable_version", f"{why}; its conflict ids are not known to this build"))
    return ids


def previous_version(output: Path, version: str) -> str | None:
    """The version published just before ``version`` (None for the first)."""
    history = versions(output)
    idx = history.index(version) if version in history else len(history)
    return history[idx - 1] if idx > 0 else None


#: what ``output/HISTORY`` records: a version newly built, or LATEST moved back to one built before
HISTORY_EVENTS = ("built", "switched back")

HISTORY_HEADER = ("# output/HISTORY: one line per time LATEST moved, appended, never rewritten:\n"
                  "# <UTC time>\t<dataset version>\t<built | switched back>. A bare version name is a line\n"
                  "# from before times were kept. Times live here only, never in a dataset.\n")


@dataclass(frozen=True)
class HistoryEvent:
    """One line of ``output/HISTORY``: LATEST became ``version`` at ``time``."""
    time: str | None  #: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC); None for a line from before times were kept
    version: str
    event: str | None  #: one of ``HISTORY_EVENTS``; None for an old bare-name line
    line: int


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def parse_history(text: str, file: str = "output/HISTORY") -> list[HistoryEvent]:
    """The events of a HISTORY file, in file order: ``time\tversion\tevent`` lines and the old
    bare version names; ``#`` lines and blank lines are skipped. Anything else is a
    ``file:line`` error (the build writes this file whole or not at all: a strange line was
    put there by hand)."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == 1 and "\t" not in line and " " not in line:
            out.append(HistoryEvent(None, line, None, no))
            continue
        if len(parts) != 3 or not _TIME.match(parts[0]) or parts[2] not in HISTORY_EVENTS or not parts[1]:
            raise StoreError(f"{file}:{no}: not a history line (<UTC time>\t<version>\t"
                             f"{' | '.join(HISTORY_EVENTS)}): {line[:80]!r}")
        out.append(HistoryEvent(parts[0], parts[1], parts[2], no))
    return out


def history(output: Path) -> list[HistoryEvent]:
    """The events of ``output/HISTORY`` (none when there is no such file)."""
    p = output / "HISTORY"
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise StoreError(f"{p}: cannot be read ({describe_error(e)})") from None
    return parse_history(text, str(p))


def versions(output: Path) -> list[str]:
    """Published versions in the order they first became LATEST (``output/HISTORY``)."""
    seen = [e.version for e in history(output)]
    existing = {d.name for d in (output / "datasets").iterdir()} if (output / "datasets").exists() else set()
    ordered = [v for v in dict.fromkeys(seen) if v in existing]
    # versions published before HISTORY was kept come first, in name (= date) order
    return sorted(existing - set(ordered)) + ordered


def latest(output: Path) -> str | None:
    p = output / "LATEST"
    return p.read_text("utf-8").strip() or None if p.exists() else None


REPORT_SUFFIXES = ("md", "html")


def has_reports(output: Path, version: str) -> bool:
    """Both reports of ``version`` are there (and not empty: a report is never, and an older
    ``pipeline report`` killed mid-write left one so)."""
    def whole(p: Path) -> bool:
        try:
            return p.is_file() and p.stat().st_size > 0
        except OSError:
            return False

    return all(whole(output / "reports" / f"{version}.{suffix}") for suffix in REPORT_SUFFIXES)


#: the feed of published versions (``present.feed``), beside LATEST and HISTORY
FEED_FILE = "feed.atom"


def has_feed(output: Path) -> bool:
    try:
        p = output / FEED_FILE
        return p.is_file() and p.stat().st_size > 0
    except OSError:
        return False


def feed_versions(events: list[HistoryEvent], existing: set[str]) -> list[tuple[str, str, str | None]]:
    """The feed's entries from ``output/HISTORY``: each version of ``existing`` at the first
    time it became LATEST, with the version LATEST was before then (what its report compares
    it with), oldest first: ``[(version, time, previous), …]``. A line from before times were
    kept gives no entry (it has no time)."""
    out, seen, before = [], set(), None
    for e in events:
        if e.version not in seen and e.version in existing and e.time is not None:
            out.append((e.version, e.time, before))
        seen.add(e.version)
        before = e.version
    return out


def feed_facts(cache_dir: Path, version: str, previous: str | None) -> dict | None:
    """What the feed's entry of ``version`` tells (``present.feed.facts``), kept in
    ``<cache_dir>/feed/<version>.json`` when it was told against ``previous``; else None. Two
    versions never change, so what changed between them is worked out once."""
    try:
        kept = json.loads((cache_dir / "feed" / f"{version}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return kept if isinstance(kept, dict) and kept.get("previous") == previous and "counts" in kept else None


def save_feed_facts(cache_dir: Path, version: str, facts: dict) -> None:
    from pipeline.store.files import write_atomic

    (cache_dir / "feed").mkdir(parents=True, exist_ok=True)
    write_atomic(cache_dir / "feed" / f"{version}.json", json.dumps(facts, ensure_ascii=False, sort_keys=True).encode())
