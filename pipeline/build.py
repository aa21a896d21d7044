"""The build: list the raw files, parse them into the object store, reconcile, write and
publish one dataset version.

- nothing heavy is imported, and nothing is parsed, when the inputs, the decisions and the
  parser are unchanged since the last build ("up to date");
- each source's records are an object, keyed by its bytes, name, metadata and the parser
  version (``object_key``), written once by whoever parses it: an unchanged source is never
  parsed twice;
- the folder tables are chunks of consecutive sources' records, each written once and linked
  into every version that has it (``store.chunks``): a version costs what changed;
- sources that must be parsed are parsed in a process pool (serial for a handful); the output
  does not depend on how.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from pipeline import processes, store
from pipeline.core import records
from pipeline.core.errors import ParseError, PipelineError, PipelineWarning, SchemaError, warning
from pipeline.core.normalize import sha256_bytes
from pipeline.core.tables import (PARSED_TABLES, SCHEMA_VERSION, TABLE_ORDER, SchemaViolation, rows_validator,
                                  validate_row)


@dataclass(frozen=True)
class BuildResult:
    version: str
    created: bool
    counts: dict[str, int]
    warnings: tuple[PipelineWarning, ...]
    parsed: int = 0
    cached: int = 0
    #: LATEST before this build, when the build moved it to a version that already existed
    #: (``make build RAW_EXTRA=…`` then a plain ``make build``: back to the earlier version)
    switched_from: str | None = None


@lru_cache(maxsize=1)
def parser_version() -> str:
    """A fingerprint of the code and data that turn documents into rows: any change to the
    package invalidates the cache of parsed rows."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    for p in sorted(list(root.rglob("*.py")) + list((root / "data").glob("*"))):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


#: the most bytes a raw file may have (Tencent's pages are tens of KB, a PDF export a few MB)
MAX_DOCUMENT_BYTES = 64 << 20
#: the longest one document may take to parse, in seconds (the seeds take a fraction of one):
#: one hostile or broken file must not stall a build, or a pool worker, for ever
MAX_PARSE_SECONDS = 120.0


class _TooLong(BaseException):
    """Raised by the parse's alarm (``_time_limit``). A BaseException, like KeyboardInterrupt,
    so that a parser's ``except Exception`` around some step cannot swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise ``_TooLong`` in this thread after ``seconds`` (an interval timer). Only the main
    thread receives signals: elsewhere (a library caller's thread) no limit is set."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise _TooLong()

    before = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def parse_raw(raw: store.RawFile, *, seconds: float = MAX_PARSE_SECONDS, memo=None):
    """One raw file -> (ParsedDocument, SourceInfo). Raises ``ParseError`` (never anything
    else). The work is bounded: bytes (``MAX_DOCUMENT_BYTES``), characters
    (``parsers.MAX_DOCUMENT_CHARS``), PDF pages and their content (``pdf.MAX_PAGES``,
    ``pdf.MAX_PAGE_CONTENT_BYTES``) and time (``seconds``). ``memo``: the build's
    ``parsers.ParseMemo`` (or its parse task's)."""
    try:
        with _time_limit(seconds):
            return _parse_raw(raw, memo)
    except _TooLong:
        raise ParseError(raw.display, 1, f"took more than {seconds:g} s to read; not read (one document "
                                         f"must not stall the build)") from None


def _parse_raw(raw: store.RawFile, memo=None):
    from pipeline import parsers
    if len(raw.data) > MAX_DOCUMENT_BYTES:
        raise ParseError(raw.display, 1, f"{len(raw.data) >> 20} MB: larger than the {MAX_DOCUMENT_BYTES >> 20} MB "
                                         f"a document is read for")
    got = parsers.parse(raw.data, raw.display, dict(raw.metadata).get("format"), memo)
    info = records.SourceInfo(file=raw.display, sha256=sha256_bytes(raw.data), size=len(raw.data),
                              encoding=got.encoding, format=got.format, metadata=raw.metadata,
                              captures=raw.captures)
    return got.doc, info


def rows_of(raw: store.RawFile, memo=None) -> dict[str, list[dict]]:
    """The table rows one source contributes, sorted as they are published, validated, their
    ids unique (``memo``: ``parse_raw``'s)."""
    return rows_and_warnings(raw, memo)[0]


def rows_and_warnings(raw: store.RawFile, memo=None) -> tuple[dict[str, list[dict]], tuple[PipelineWarning, ...]]:
    """``rows_of``, and the document's warnings as data (its ``sources`` row publishes their text)."""
    doc, info = parse_raw(raw, memo=memo)
    rows = records.document_to_rows(doc, info)
    for table in ("requirements", "scenarios", "licenses"):
        rows[table].sort(key=lambda r: (r["provenance"]["line_start"], r["id"]))
        seen: set[str] = set()
        for r in rows[table]:
            if r["id"] in seen:
                raise ParseError(raw.display, r["provenance"]["line_start"], f"duplicate record id {r['id']}")
            seen.add(r["id"])
    _validate(rows)
    return rows, doc.warnings


def _validate(tables: dict[str, list[dict]]) -> None:
    """Every record against its table's JSON Schema, before it can reach a dataset."""
    try:
        for table, rows in tables.items():
            for row in rows:
                validate_row(table, row)
    except SchemaViolation as e:
        raise SchemaError(str(e)) from None


def object_key(ref: store.RawRef, sha: str) -> str:
    """What a source's records depend on: its bytes, its name (every record's
    ``source_file``), what its metadata says of it (not when it was captured: the build sets
    ``captured`` and ``captures`` in its ``sources`` row) and the parser."""
    return hashlib.sha256("\x1f".join([parser_version(), sha, ref.display, json.dumps(_said(ref))]).encode()).hexdigest()[:32]


def _said(ref: store.RawRef) -> list[tuple[str, str]]:
    """What a source's metadata says of it, all but when it was captured."""
    return [(k, v) for k, v in ref.metadata if k != "captured"]


def _parse_into(task: tuple[list[tuple[store.RawRef, str, str]], str], memo=None) -> None:
    """Parse a share of the sources and write each one's object. Top level so a process pool
    can call it: a worker writes what it parses, and sends nothing back. ``memo``: the build's
    ``parsers.ParseMemo``; None in a pool worker, where this task's own serves its share."""
    from pipeline import parsers, reconcile

    jobs, folder = task
    memo = memo if memo is not None else parsers.ParseMemo()
    objects = store.Objects(Path(folder))
    for ref, key, sha in jobs:
        # the bytes parsed are the bytes the key was made from (``RawRef.read``): one read,
        # hashed, is what the object holds
        rows, warned = rows_and_warnings(ref.read(sha), memo)
        objects.put(key, rows, source=rows["sources"][0], captures=reconcile.captures_said(rows["requirements"]),
                    parser=parser_version(), warnings=[w.to_dict() for w in warned])


def source_objects(refs: list[store.RawRef], keys: dict[str, str], objects: store.Objects, hashes: dict[str, str],
                   *, workers: int | None = None, progress: bool = False) -> tuple[list[dict], int]:
    """Every source's object (``Objects.get``), in file order, parsing the sources that have
    none (in a pool when there are many); and how many were parsed. ``hashes``: each file's
    sha256 when listed (its bytes are parsed only if they still hash to it)."""
    found = {r.display: objects.checked(keys[r.display]) for r in refs}
    todo = [r for r in refs if found[r.display] is None]
    tasks = [([(r, keys[r.display], hashes[r.display]) for r in share], str(objects.folder))
             for share in processes.tasks(todo, workers)]
    processes.run(_parse_into, tasks, len(todo), workers, progress, "parsing")
    out = []
    for r in refs:
        info = found[r.display] or objects.get(keys[r.display])
        if info is None:
            raise store.StoreError(f"{objects.path(keys[r.display])}: the object was written but cannot be read")
        out.append(info)
    return out, len(todo)


def one_per_capture(refs: list[store.RawRef], hashes: dict[str, str]) -> list[store.RawRef]:
    """The sources to parse: a page captured again unchanged (the same bytes, and metadata that
    says the same of them but the capture date) is one source, parsed once, with every capture
    listed (``RawRef.captures``, the first file in name order standing for all). Capturing an
    unchanged page again is the most common event of all."""
    groups: dict[tuple, list[store.RawRef]] = {}
    for r in refs:
        groups.setdefault((hashes[r.display], tuple(_said(r))), []).append(r)
    out = []
    for group in groups.values():
        first = group[0]
        if len(group) > 1:
            caps = tuple((r.display, dict(r.metadata).get("captured", "")) for r in group)
            first = dataclasses.replace(first, captures=caps)
        out.append(first)
    return sorted(out, key=lambda r: r.display)


def build_key(hashes: dict[str, str], refs: list[store.RawRef], decisions_sha: str | None) -> str:
    """What the output depends on: every input's bytes and name, the decisions, the parser."""
    h = hashlib.sha256(parser_version().encode())
    for r in refs:
        h.update(f"{r.display}\x1f{hashes[r.display]}\x1f{json.dumps(r.metadata)}\n".encode())
    h.update((decisions_sha or "-").encode())
    return h.hexdigest()


def run_build(raw_dirs: list[Path], output: Path, decisions: Path | None = None,
              known_conflicts: set[str] | None = None, *, workers: int | None = None,
              use_cache: bool = True, progress: bool = False, cache_dir: Path | None = None,
              feed_base: str | None = None) -> BuildResult:
    """List, parse, reconcile, write, publish. Any error leaves ``output`` as it was.

    ``cache_dir``: where the object store lives (default ``.cache/`` beside ``output``: a
    failed build leaves ``output/`` as it was, and its sources need not be parsed again).
    ``use_cache=False``: parse every source again, into a store of this build's own.

    ``known_conflicts``: conflict ids published elsewhere (default: every version in ``output``),
    so a decision on a conflict that no longer exists is stale rather than unknown.

    ``feed_base``: the URL ``output/`` is served at, for the links of ``output/feed.atom``
    (None: links relative to the feed).
    """
    from pipeline.reconcile import review

    refs, skipped = store.list_raw(raw_dirs)
    if not refs:
        raise ParseError(str(raw_dirs[0]), 1, "no documents to build from")
    decisions = decisions if decisions is not None else Path(review.DECISIONS_FILE)
    text = store.read_optional_text(decisions)
    # shown as <folder>/<name>, like raw files, so the manifest does not depend on the cwd
    shown = f"{decisions.resolve().parent.name}/{decisions.name}"
    cache_dir = cache_dir if cache_dir is not None else output.resolve().parent / ".cache"
    with store.build_lock(output):
        hashes = store.hash_files(refs)
        decisions_sha = sha256_bytes(text.encode("utf-8")) if text is not None else None
        key = build_key(hashes, refs, decisions_sha)
        last = store.last_build(cache_dir, output)
        current = store.latest(output)
        if (use_cache and last.get("key") == key and last.get("version") == current and current
                and (output / "datasets" / current / "manifest.json").exists()
                and store.has_reports(output, current) and store.has_feed(output)):
            return BuildResult(current, False, last.get("counts", {}),
                               tuple(skipped + [PipelineWarning.from_dict(w) for w in last.get("warnings", [])]))
        store.clean_stale_tmp(output)
        parsed = review.parse_decisions(text, shown) if text is not None else []
        # unchanged files are compared record by record only if the parser changed since
        # (otherwise their rows are the same by construction)
        recheck = not use_cache or last.get("parser") != parser_version() or last.get("version") != current
        with contextlib.ExitStack() as stack:
            if use_cache:
                objects = store.Objects(cache_dir / "objects")
            else:  # a store of this build's own: the version keeps its files (hard links)
                objects = store.Objects(Path(stack.enter_context(_own_store(cache_dir))))
            result = _build(one_per_capture(refs, hashes), hashes, output, objects, parsed, shown, text,
                            known_conflicts, cache_dir=cache_dir, workers=workers, progress=progress,
                            recheck=recheck, feed_base=feed_base)
        if use_cache and last.get("parser") not in (None, parser_version()):
            # the parser changed since the last build: objects of other parsers are read by no
            # build of this code (published versions keep their files: hard links)
            store.Objects(cache_dir / "objects").prune(parser_version())
        store.save_last_build(cache_dir, output, {"key": key, "version": result.version, "counts": result.counts,
                                                  "warnings": [w.to_dict() for w in result.warnings],
                                                  "parser": parser_version()})
        return dataclasses.replace(result, warnings=tuple(skipped) + result.warnings)


class _Phases:
    """``PIPELINE_TIMING=1``: print how long each build phase took (for ``make bench``): wall
    time, and the CPU time of this process only (workers and helpers not counted), with its
    current and peak resident memory (Linux)."""

    def __init__(self):
        self.enabled = bool(os.environ.get("PIPELINE_TIMING"))
        self.clock = time.perf_counter, time.process_time
        self.last = (self.clock[0](), self.clock[1]())

    def __call__(self, name: str) -> None:
        if not self.enabled:
            return
        now = (self.clock[0](), self.clock[1]())
        mem = ""
        try:
            status = Path("/proc/self/status").read_text()
            rss = {k: int(v.split()[0]) // 1024 for k, v in (ln.split(":", 1) for ln in status.splitlines())
                   if k in ("VmRSS", "VmHWM")}
            mem = f"  rss {rss.get('VmRSS')} MB, peak {rss.get('VmHWM')} MB"
        except OSError:
            pass
        print(f"timing: {name} {now[0] - self.last[0]:.2f}s (cpu {now[1] - self.last[1]:.2f}s){mem}", file=sys.stderr)
        self.last = now


@contextlib.contextmanager
def _own_store(cache_dir: Path):
    """A temporary object store (``use_cache=False``), removed when the build ends. A worker
    may still be writing into it when an interrupted build ends (workers finish the task they
    have): what is left then, and what a killed build left, goes at the next build's start."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob("uncached-*-*"):
        pid = old.name.split("-")[1]
        if pid.isdigit() and not store.files.alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f"uncached-{os.getpid()}-",
                                     ignore_cleanup_errors=True) as folder:
        yield folder


def _build(refs, hashes, output: Path, objects: store.Objects, decisions, shown: str, text: str | None,
           known_conflicts, *, cache_dir: Path, workers, progress, recheck: bool,
           feed_base: str | None = None) -> BuildResult:
    """list (``refs``) -> parse (objects) -> reconcile -> write -> publish: the parse
    (``_parse_stage``), then, into one version being written (abandoned if anything fails), its
    sources, the reconciled tables, its inputs and reports, and the publication."""
    phase = _Phases()
    chunks = store.staged_chunks(output)
    try:
        parsed = _parse_stage(refs, hashes, output, objects, chunks, workers=workers, progress=progress)
    except BaseException:
        chunks.abandon()
        raise
    phase("parse")
    writer = store.VersionWriter(output, chunks)
    try:
        warnings, dates = _write_sources(writer, refs, parsed)
        known = store.published_conflict_ids(output, warnings.append, cache_dir) | (known_conflicts or set())
        tables = _reconcile_stage(writer, parsed, decisions, known, shown)
        phase("reconciled")
        _validate({t: tables[t] for t in ("categories", "current", "pages", "reviews")})
        for name in ("categories", "current", "pages", "reviews"):
            for row in tables[name]:
                writer.table(name).add(row)
        version = store.version_name(max(dates) if dates else None, writer.content_hash())
        exists = (output / "datasets" / version).exists()
        writer.finish(version, _inputs(refs, hashes, shown, text))
        reports = None
        if not (exists and store.has_reports(output, version)):
            reports = _version_reports(output, version, refs, hashes, parsed.rows, tables, recheck,
                                       warnings.append, cache_dir)
        phase("finished and reported")
        before = store.latest(output)
        created = writer.publish(version, reports,
                                 feed=lambda events: feed_bytes(output, cache_dir, events, feed_base, warnings.append))
        phase("published")
    except BaseException:
        writer.abandon()
        raise
    counts = {t: writer.rows(t) for t in TABLE_ORDER}
    return BuildResult(version, created, counts, tuple(warnings), parsed.n_parsed, len(refs) - parsed.n_parsed,
                       switched_from=before if not created and before != version else None)


@dataclass
class _Parsed:
    """What the parse stage leaves for the rest of a build."""

    #: what each source's object says, in ``refs`` order; dropped (``None``) once the sources are
    #: written: 10,000 of them are 150 MB, not held while reconciling
    infos: list | None
    #: what reconciliation needs of each source (its URL, capture times, whether cut short)
    facts: list[dict]
    #: the previous version's pages (``_prior_pages``)
    prior: list
    #: every source's requirement records (``_read_rows``)
    rows: list
    #: each folder table's chunks, in the chunk store (``_read_rows``)
    chunks: dict[str, list[dict]]
    #: how many sources were parsed rather than found in the object store
    n_parsed: int
    #: warnings met reading the previous version
    warnings: list[PipelineWarning]


def _parse_stage(refs, hashes, output: Path, objects: store.Objects, chunks: store.ChunkStore, *, workers,
                 progress) -> _Parsed:
    """Every source parsed into its object (or found there), the renames documents state applied
    to the objects they reach, then every source's records read back, and the folder tables'
    chunks made of them (in ``chunks``)."""
    from pipeline import reconcile  # (heavy: imported only once a build has work to do)

    keys = {r.display: object_key(r, hashes[r.display]) for r in refs}
    infos, n_parsed = source_objects(refs, keys, objects, hashes, workers=workers, progress=progress)
    # the sources' rows themselves are made as they are written (10,000 of them are 100 MB)
    facts = [{k: row[k] for k in ("source_sha256", "source_file", "url", "captured", "captures", "truncated",
                                  "capability", "title", "updated")}
             for row in (_source_row(ref, info["source"]) for ref, info in zip(refs, infos))]
    # a rename a document states applies to the versions of its own page (``pages.scoped_renames``):
    # the sources it reaches are published from objects of their own, with it applied
    # (``_renamed_object``); each object says, per page it holds, what it states and which
    # categories it has, so the pages are known before any record is read
    # the previous version's pages: a capture without URL or title replacing one of its captures
    # under a new name continues that page (``pages.identify``), here and in reconciliation alike
    read_warnings: list[PipelineWarning] = []
    prior = _prior_pages(output, {f["source_sha256"] for f in facts}, read_warnings.append)
    reaches = reconcile.renames_reaching(infos, facts, prior)
    reached = [(info, reach) for info, reach in zip(infos, reaches)
               if reach and objects.get(_renamed_key(info, reach)) is None]
    n = processes.TASK_SOURCES
    tasks = [(reached[i:i + n], str(objects.folder)) for i in range(0, len(reached), n)]
    processes.run(_rename_into, tasks, len(reached), workers, progress, "renaming")
    del reached, tasks  # (they hold objects' listings: not kept while reading and reconciling)
    rows, again, written = _read_rows(refs, keys, hashes, infos, objects, reaches, chunks)
    return _Parsed(infos, facts, prior, rows, written, n_parsed + again, read_warnings)


def _write_sources(writer: store.VersionWriter, refs, parsed: _Parsed) -> tuple[list[PipelineWarning], list[str]]:
    """The sources written into the version (the folder tables' chunks linked, their rows
    added), then their objects' descriptions dropped (``_Parsed.infos``). Returns the build's
    warnings so far and the dates the sources bear (the version is named by the latest)."""
    infos = parsed.infos
    for table in PARSED_TABLES:
        writer.link_chunks(table, parsed.chunks[table])
    sources = writer.table("sources")
    for ref, info in zip(refs, infos):
        sources.add(_source_row(ref, info["source"]))
    warnings = [PipelineWarning.from_dict(w) for info in infos for w in info["warnings"]] + parsed.warnings
    dates = [info["source"]["updated"] for info in infos if info["source"]["updated"]]
    parsed.infos = None
    return warnings, dates


def _reconcile_stage(writer: store.VersionWriter, parsed: _Parsed, decisions, known: set, shown: str) -> dict:
    """The records reconciled into the derived tables; the conflicts, spooled to disk as found
    (``_ConflictSpool``), are written into the version here, the other tables by the caller."""
    from pipeline import reconcile  # (heavy: imported only once a build has work to do)

    sources = [f["source_sha256"] for f in parsed.facts]
    with _ConflictSpool(writer.folder, sources, writer.chunks) as sink:
        tables = reconcile.reconcile_rows(parsed.rows, decisions, known, shown, sink=sink, sources=parsed.facts,
                                          prior=parsed.prior)
        sink.write([c.pop("spooled") for c in tables["conflicts"]], writer)
    return tables


def _inputs(refs, hashes, shown: str, text: str | None) -> list[dict]:
    """The version's inputs, as its manifest lists them: every capture's file, and the text
    given on the command line (named ``shown``) if any."""
    inputs = sorted(({"file": f, "sha256": hashes[r.display], "bytes": r.size}
                     for r in refs for f in ([c[0] for c in r.captures] or [r.display])), key=lambda i: i["file"])
    if text is not None:
        data = text.encode("utf-8")
        inputs.append({"file": shown, "sha256": sha256_bytes(data), "bytes": len(data)})
    return inputs


def _version_reports(output: Path, version: str, refs, hashes, rows, tables: dict, recheck: bool, warn,
                     cache_dir: Path) -> dict[str, bytes]:
    """The version's reports, comparing it with the version ``LATEST`` names."""
    previous = store.latest(output)
    if previous == version:  # its reports were lost: compared, as before, with its predecessor
        previous, recheck = store.previous_version(output, version), True
    old = _previous_tables(output, previous, refs, hashes, tables["pages"], recheck, warn, cache_dir)
    return _reports(report_data(old, rows, refs, hashes, tables, version, previous, recheck), cache_dir)


def _read_rows(refs, keys, hashes, infos, objects: store.Objects, reaches: list[list],
               chunk_store: store.ChunkStore) -> tuple[list, int, dict[str, list[dict]]]:
    """Every source's requirement records as ``records.Row``s, in file order, read once from
    the object its source is published from (``infos[i]`` becomes it: the source's own, or the
    one with the renames that reach it), and the folder tables' chunks made of every source's
    records as they are read (``store.Chunker``). The records themselves are not decoded: the
    rows come from the object's index of them (``RowReader.rows_of_index``), the chunks' Parquet
    files from its Arrow streams. What is read is checked byte for byte: an object that turns
    out corrupt is parsed again (and counted)."""
    reader = records.RowReader()
    chunkers = {t: store.Chunker(chunk_store, t) for t in PARSED_TABLES}
    rows, again = [], 0
    for i, ref in enumerate(refs):
        for attempt in (1, 2):
            try:
                if reaches[i]:
                    infos[i], parts = _renamed_object(objects, infos[i], reaches[i])
                else:
                    parts = objects.parts(infos[i])
                got = _index_rows(reader, parts, infos[i])
                break
            except store.CorruptObject:
                if attempt == 2:
                    raise
                objects.remove(infos[i]["key"])  # (the renamed object, when it was that one)
                objects.remove(keys[ref.display])
                (infos[i],), _ = source_objects([ref], keys, objects, hashes, workers=1)
                again += 1
        sha = infos[i]["source"]["source_sha256"]
        for t in PARSED_TABLES:
            chunkers[t].add(sha, parts[t], parts.get(store.arrow_part(t)))
        rows += got
    return rows, again, {t: c.finish() for t, c in chunkers.items()}


def _index_rows(reader: records.RowReader, parts: dict[str, bytes], info: dict) -> list:
    """The rows of an object's index (``RowReader.rows_of_index``); ``CorruptObject`` when the
    index does not hold what it lists (its bytes are the ones the first line gives, so only
    an object written whole by other code, or edited with its first line, can be)."""
    try:
        return reader.rows_of_index(parts[store.INDEX_PART], parts[store.CONTENTS_PART])
    except (KeyError, IndexError, ValueError, TypeError) as e:  # (whatever a malformed index can raise)
        raise store.CorruptObject(f"{info['path']}: its index of requirements cannot be read ({e!r})") from None


def _renamed_key(info: dict, reach: list) -> str:
    """The key of ``info``'s object with the renames that reach it applied
    (``reconcile.renames_reaching``: ``[[capability, title, old, new], …]``)."""
    return hashlib.sha256(json.dumps([info["key"], reach], ensure_ascii=False).encode()).hexdigest()[:32]


def _rename_into(task: tuple[list[tuple[dict, list]], str], memo=None) -> None:
    """Write the renamed objects of a few sources (``_renamed_object``). Top level so a process
    pool can call it; a source's own object that turns out corrupt is left to the build."""
    jobs, folder = task
    objects = store.Objects(Path(folder))
    for info, reach in jobs:
        with contextlib.suppress(store.CorruptObject):
            _renamed_object(objects, info, reach)


def _renamed_object(objects: store.Objects, info: dict, reach: list) -> tuple[dict, dict[str, bytes]]:
    """The object of ``info``'s source with the stated renames that reach it applied to its
    requirements (``reach``: ``[[capability, title, old, new], …]``), and its parts
    (``Objects.parts``): an object of its own, keyed by the source's and by the renames, so it
    is written once too (and the source's own object stays what its document says).
    ``CorruptObject`` when the source's own object is."""
    from pipeline import reconcile

    key = _renamed_key(info, reach)
    got = objects.checked(key)
    if got is not None:
        try:
            return got, objects.parts(got)
        except store.CorruptObject:
            objects.remove(key)
    tables = {t: store.jsonl_records(data) for t, data in objects.tables(info).items()}
    tables["requirements"] = reconcile.rename_rows(tables["requirements"], reach)
    got = objects.put(key, tables, source=info["source"], captures=info["captures"],
                      parser=info["parser"], warnings=info["warnings"],
                      renamed={"object": info["key"], "renames": reach})
    return got, objects.parts(got)


def _source_row(ref: store.RawRef, row: dict) -> dict:
    """A source's row as this build publishes it: its object's, with when it was captured (not
    part of the object's key: the same bytes captured again share the object)."""
    meta = dict(ref.metadata)
    captures = ref.captures or ((ref.display, meta.get("captured", "")),)
    return dict(row, captured=meta.get("captured"),
                captures=[{"file": f, "captured": c or None} for f, c in captures])


class _ConflictSpool:
    """Takes each conflict as reconciliation finds it (``reconcile_rows(sink=…)``): its record,
    validated, goes to a scratch file, its values (``conflict_values`` records, validated) to
    another, and its header (the report's first values) is kept with where the record is
    (``spooled``). A conflict lists every capture's value (185 MB of JSON over 10,000
    captures), so they are not all held: of each value only where its line is and what orders it
    (``_ValueIndex``). ``write``: the conflicts table in publishing order; the values grouped
    by source in the sources' order, into chunks (``store.Chunker``), so that a version whose
    sources' values are those of the version before writes none of them again."""

    def __init__(self, folder: Path, sources: list[str], chunks: store.ChunkStore):
        self.paths = (folder / "conflicts.scratch", folder / "values.scratch")
        self.fh = open(self.paths[0], "w+b")
        self.end = 0  # (where the next record goes: the file is only appended to until ``write``)
        self.values = _ValueIndex(open(self.paths[1], "w+b"), sources)
        self.chunks = chunks

    def __call__(self, c: dict) -> dict:
        from pipeline import reconcile
        from pipeline.present.report import MAX_VALUES

        row = reconcile.conflict_row(c)
        _validate({"conflicts": [row]})
        self.values.add(c["id"], reconcile.value_rows(c))
        head = store.compact_json_bytes(row)
        at, self.end = self.end, self.end + len(head)
        self.fh.write(head)
        header = reconcile.conflict_header(c, MAX_VALUES)
        header["spooled"] = (at, len(head))
        return header

    def write(self, order: list[tuple[int, int]], writer: store.VersionWriter) -> None:
        table = writer.table("conflicts")
        for at, n_head in order:
            self.fh.seek(at)
            head = self.fh.read(n_head)
            table.add(orjson.loads(head), head)
        writer.link_chunks("conflict_values", self.values.chunks(store.Chunker(self.chunks, "conflict_values")))

    def __enter__(self) -> "_ConflictSpool":
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()
        self.values.fh.close()
        for p in self.paths:
            p.unlink(missing_ok=True)


class _ValueIndex:
    """The ``conflict_values`` records of a build, each written to ``fh`` as its JSON line when
    it comes, and of each only its place in the file and its order kept, in compact arrays
    (five numbers a value: 500,000 values over 10,000 captures are 12 MB, not the 600 MB they
    are as dicts). A source's values are ordered by conflict id, then position: what the other
    conflicts of a build are does not move them, so an unchanged source's are the same bytes."""

    #: values encoded and written at a time
    WRITE_VALUES = 4096

    def __init__(self, fh, sources: list[str]):
        import array

        from pipeline import reconcile

        self.fh, self.sources = fh, sources
        self.end = 0  # (where the next line goes: the file is only appended to until ``chunks``)
        self.index = reconcile.source_positions(sources)
        self.conflicts: dict[str, int] = {}
        self.cols = {k: array.array("q") for k in ("source", "conflict", "position", "at", "size")}
        self.check = rows_validator("conflict_values")

    def add(self, conflict_id: str, values: list[dict]) -> None:
        """The values of conflict ``conflict_id`` (``reconcile.value_rows``: each with that id and
        its ``position``), validated, their lines written ``WRITE_VALUES`` at a time (a line
        and a write per value cost more than the rest of keeping them)."""
        try:  # (every record validated before it can reach a dataset, as ``_validate`` does: together)
            self.check(values)
        except SchemaViolation as e:
            raise SchemaError(str(e)) from None
        sources = [self.index.get(v["source_sha256"]) for v in values]
        if None in sources:
            v = values[sources.index(None)]
            raise PipelineError(f"conflict {v['conflict_id']}: a value of {v['source_file']}, which is not "
                                f"among this build's sources")
        c = self.cols
        c["source"].extend(sources)
        c["conflict"].extend(itertools.repeat(self.conflicts.setdefault(conflict_id, len(self.conflicts)),
                                              len(values)))
        c["position"].extend(v["position"] for v in values)
        for i in range(0, len(values), self.WRITE_VALUES):  # (a conflict's lines can be 30 MB: not held at once)
            lines = [store.compact_json_bytes(v) + b"\n" for v in values[i:i + self.WRITE_VALUES]]
            sizes = [len(line) for line in lines]
            c["at"].extend(itertools.accumulate(sizes[:-1], initial=self.end))
            c["size"].extend(sizes)
            self.fh.write(b"".join(lines))
            self.end += sum(sizes)

    def chunks(self, chunker) -> list[dict]:
        """Every source's values, in the sources' order, through ``chunker``; its chunks."""
        import numpy as np

        c = {k: np.frombuffer(v, dtype=np.int64) for k, v in self.cols.items()}
        # (a conflict's rank among the ids sorted, by the number it was given as it came)
        rank = np.empty(len(self.conflicts), dtype=np.int64)
        rank[[self.conflicts[k] for k in sorted(self.conflicts)]] = np.arange(len(self.conflicts))
        order = np.lexsort((c["position"], rank[c["conflict"]], c["source"]))
        at, size = c["at"][order], c["size"][order]  # (numbers, not Python ints: 500,000 of them)
        # where each source's values end among them, sorted
        ends = np.searchsorted(c["source"][order], np.arange(len(self.sources)), side="right").tolist()
        self.fh.flush()
        # each value's line read where it is (not the file mapped: the pages of a mapped file
        # count in the build's resident memory once touched, and the values of 10,000 captures
        # are a 200 MB file, which took the peak from 440 to 700 MB; 523,672 reads of 300 bytes
        # in shuffled order took 1.7 s at load 3)
        fd, start = self.fh.fileno(), 0
        for sha, end in zip(self.sources, ends):
            lines = zip(at[start:end].tolist(), size[start:end].tolist())
            chunker.add(sha, b"".join(os.pread(fd, n, a) for a, n in lines))
            start = end
        return chunker.finish()


def _prior_pages(output: Path, present: set[str], warn) -> list:
    """The latest version's pages a capture without URL or title may continue
    (``reconcile.prior_pages``): its ``pages`` table and the categories of the sources that
    needs (``reconcile.prior_sources``; ``present``: this build's sources' sha256). A version
    that cannot be read gives none, with a warning."""
    from pipeline import reconcile

    previous = store.latest(output)
    if previous is None:
        return []
    try:
        ds = store.dataset_dir(output, previous)
        pages = list(store.iter_table(ds, "pages"))
        categories: dict[str, set[str]] = {}
        for r in store.iter_table(ds, "requirements", reconcile.prior_sources(pages, present)):
            categories.setdefault(r["source_sha256"], set()).add(r["category_id"])
        return reconcile.prior_pages(pages, {k: frozenset(v) for k, v in categories.items()}, present)
    except (OSError, store.StoreError) as e:  # (what reading a published version raises; a bug is not caught)
        warn(warning("unreadable_version", f"cannot be read ({store.describe_error(e)}); pages are identified "
                                           f"without it", f"{output}/datasets/{previous}"))
        return []


def _previous_tables(output: Path, previous: str | None, refs, hashes, pages: list[dict], recheck: bool,
                     warn, cache_dir: Path) -> dict | None:
    """What the report compares the new version with: the previous version's tables, its
    requirements only of the sources worth comparing (those whose bytes changed, every one when
    the parser changed, and the latest captures of each page that gained one). A version that
    cannot be read is reported (``warn``), and the report compares with nothing."""
    if previous is None:
        return None
    try:
        # (of its conflicts the report needs only the ids)
        old = store.load_tables(output, previous, skip=("requirements", "conflicts", "conflict_values"))
        old["conflicts"] = [{"id": i} for i in store.conflict_ids(output, previous, cache_dir)]
        new_sources = {r.display: hashes[r.display] for r in refs}
        old_sources = {s["source_file"]: s["source_sha256"] for s in old["sources"]}
        wanted = {sha for f, sha in old_sources.items() if recheck or new_sources.get(f) != sha}
        # a new file is compared with the closest earlier version of its page: load the most
        # recent versions of every page that gained one
        added = {sha for f, sha in new_sources.items() if f not in old_sources}
        gained = {p["page_key"] for p in pages if any(v["source_sha256"] in added for v in p["versions"])}
        for p in old["pages"]:
            if p["page_key"] in gained:
                wanted |= {v["source_sha256"] for v in p["versions"][-20:]}
        reader = records.RowReader()
        old["requirements"] = [reader.row(r) for r in store.iter_table(store.dataset_dir(output, previous),
                                                                        "requirements", wanted)]
        return old
    except (OSError, store.StoreError) as e:  # (what reading a published version raises; a bug is not caught)
        warn(warning("unreadable_version", f"cannot be read ({store.describe_error(e)}); the report does not "
                                           f"compare with it", f"{output}/datasets/{previous}"))
        return None


def report_data(old: dict | None, rows, refs, hashes, tables: dict, version: str, previous: str | None,
                recheck: bool):
    """The report of the version being built (``report.compare``), from what the build holds."""
    from pipeline.present import report

    new = dict(tables, requirements=rows,
               sources=[{"source_file": r.display, "source_sha256": hashes[r.display]} for r in refs])
    paths = {r.display: r.path for r in refs}  # (excerpts: each value's lines, read where its file is)
    return report.compare(old, new, version=version, previous=previous, compare_unchanged=recheck,
                          read_lines=lambda spans, sha: store.source_lines(spans, sha, paths))


def feed_facts(data) -> dict:
    from pipeline.present import feed

    return feed.facts(data)


def feed_bytes(output: Path, cache_dir: Path, events, base_url: str | None, warn) -> bytes:
    """``output/feed.atom`` from every published version (``store.feed_versions``): what each
    one's entry tells comes from the cache (``store.feed_facts``), else from comparing the two
    versions again (then kept). A version that cannot be read gives an entry saying so, and a
    warning."""
    from pipeline.present import feed

    entries = []
    for version, when, previous in store.feed_versions(events, set(store.versions(output))):
        told, why = store.feed_facts(cache_dir, version, previous), ""
        if told is None:
            try:
                told = _version_facts(output, version, previous)
            except (OSError, store.StoreError) as e:  # (what reading a published version raises)
                why = store.describe_error(e) if isinstance(e, OSError) else str(e)
                warn(warning("feed_entry_untold", f"{version}: what changed cannot be told ({why})",
                             f"{output}/{store.FEED_FILE}"))
            else:
                store.save_feed_facts(cache_dir, version, told)
        entries.append((version, when, told, why))
    return feed.atom(entries, base_url)


def _version_facts(output: Path, version: str, previous: str | None) -> dict:
    from pipeline.present import report

    old = store.load_tables(output, previous) if previous else None
    data = report.compare(old, store.load_tables(output, version), version=version, previous=previous,
                          timelines=False)
    return feed_facts(data)


def write_feed(output: Path, base_url: str | None = None, cache_dir: Path | None = None) -> tuple[int, list[str]]:
    """Write ``output/feed.atom`` again from every published version (``pipeline feed``), under
    the build's lock; how many entries it has, and the warnings."""
    cache_dir = cache_dir if cache_dir is not None else output.resolve().parent / ".cache"
    warnings: list[str] = []
    with store.build_lock(output):
        events = store.history(output)
        store.write_feed(output, feed_bytes(output, cache_dir, events, base_url, warnings.append))
    return len(store.feed_versions(events, set(store.versions(output)))), warnings


def _reports(data, cache_dir: Path) -> dict[str, bytes]:
    """The report of the version being built; what its feed entry tells is kept beside
    (``store.save_feed_facts``), so the feed need not compare the versions again."""
    from pipeline.present import report

    store.save_feed_facts(cache_dir, data.version, feed_facts(data))
    return {"md": report.to_markdown(data).encode("utf-8"), "html": report.to_html(data).encode("utf-8")}


def rewrite_reports(output: Path, version: str | None) -> tuple[str, str | None]:
    """(Re)write ``output/reports/<version>.md`` and ``.html`` (``version``: a name, a prefix
    or None for the latest, as ``loader.resolve_version`` reads it), compared with the version
    published before it; each file written atomically by the store. Returns (version, previous)."""
    from pipeline.present import report
    from pipeline.store.loader import resolve_version

    version = resolve_version(version, output)
    previous = store.previous_version(output, version)
    old, new = _compared(output, previous, version)
    data = report.compare(old, new, version=version, previous=previous, read_lines=store.source_lines)
    store.write_reports(output, version, {"md": report.to_markdown(data).encode("utf-8"),
                                          "html": report.to_html(data).encode("utf-8")})
    return version, previous


def _compared(output: Path, old_v: str | None, new_v: str) -> tuple[dict | None, dict]:
    """The tables ``report.compare`` reads of two versions, no others: of the older one's
    conflicts only the ids, and a requirements shard both versions hold is parsed once and
    shared (``store.iter_table``); every file read is checked against its manifest. (Every table
    of both, whole, took 2.4 GB on the 5,000-document archive, 1.0 GB now.)"""
    from pipeline.present import report

    parsed: dict[str, list[dict]] = {}
    strings: dict[str, str] = {}  # (equal texts one object: store.iter_table)
    new = store.load_tables(output, new_v, skip=tuple(t for t in TABLE_ORDER if t not in report.COMPARED_NEW),
                            parsed=parsed, strings=strings)
    if old_v is None:
        return None, new
    old = store.load_tables(output, old_v, skip=tuple(t for t in TABLE_ORDER if t not in report.COMPARED_OLD)
                            + ("conflicts",), parsed=parsed, strings=strings)
    old["conflicts"] = [{"id": i} for i in store.conflict_ids(output, old_v)]
    return old, new


def diff_report(output: Path, *, files: tuple[str, str] | None = None, a: str | None = None,
                b: str | None = None, html: Path | None = None) -> tuple[str, dict[str, int]]:
    """What changed (``pipeline diff``), as the Markdown report and its summary counts: between
    two sources of the latest version (``files``), or two versions (``a`` -> ``b``; default the
    latest and the one before it). ``html``: also written there as HTML, atomically, by the store."""
    from pipeline.present import report
    from pipeline.reconcile import diff

    if files:
        tables = store.load_tables(output, store.latest(output) or "",
                                   skip=tuple(t for t in TABLE_ORDER if t not in ("requirements", "sources")))
        rows = {f: [r for r in tables["requirements"] if r["source_file"] == f] for f in files}
        for f, rs in rows.items():
            if not rs:
                known = sorted({r["source_file"] for r in tables["requirements"]})
                raise PipelineError(f"{f}: no records in the latest dataset; sources: {', '.join(known)}")
        first, second = files
        data = report.ReportData(version=second, previous=first,
                                 diffs=[diff.rows_to_diff(rows[first], rows[second], f"{first} → {second}",
                                                          first, second)],
                                 conflicts=[], reviews=[], pages=[], categories=[], full=True)
        shas = {x["source_file"]: x["source_sha256"] for x in tables["sources"]}
        data = report.with_excerpts(data, store.source_lines, shas, shas, rows[first] + rows[second])
    else:
        new_v = b or store.latest(output)
        if new_v is None:
            raise PipelineError(f"{output}: no dataset yet; run `make build`")
        old_v = a or store.previous_version(output, new_v)
        old, new = _compared(output, old_v, new_v)
        data = report.compare(old, new, version=new_v, previous=old_v, full=True, read_lines=store.source_lines)
    if html is not None:
        store.write_export(html, report.to_html(data).encode("utf-8"))
    return report.to_markdown(data), report.summary(data)


def build_tables(raws: list[store.RawFile]) -> dict[str, list[dict]]:
    """All tables of the given sources in memory (tests and small tools; the build streams)."""
    parts = [rows_of(raw) for raw in raws]
    return records.merge_rows(parts)
