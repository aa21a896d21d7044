"""The build: raw files -> parsed rows (cached) -> reconciled tables -> one dataset version.

Scale is a design input (tens of thousands of captures):
- nothing heavy is imported, and nothing is parsed, when the inputs, the decisions and the
  parser are unchanged since the last build ("up to date");
- parsed rows are cached per source, keyed by its bytes, name, metadata and the parser version,
  so an unchanged source is never parsed twice;
- sources that must be parsed are parsed in a process pool (serial for a handful), in file
  order, so the output is identical either way;
- rows are streamed into the dataset files (JSON one record per line, Parquet in row groups),
  and each conflict is written as it is found; reconciliation keeps one slim row per requirement
  (a few hundred bytes: what a category requires is shared between captures), so memory still
  grows with the archive, slowly.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline import store
from pipeline.errors import ParseError
from pipeline.normalize import sha256_bytes
from pipeline.tables import SCHEMA_VERSION, SOURCE_TABLES, TABLE_ORDER

#: sources parsed in one process below this many (a pool costs more than it saves)
POOL_MIN_SOURCES = 12


def _pool_size(workers: int | None, sources: int) -> int:
    """Processes to parse ``sources`` with (one per core unless told); 0: no pool at all."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    return workers if workers > 1 and sources >= POOL_MIN_SOURCES else 0


@dataclass(frozen=True)
class BuildResult:
    version: str
    created: bool
    counts: dict[str, int]
    warnings: tuple[str, ...]
    parsed: int = 0
    cached: int = 0


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
    import signal
    import threading

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


def parse_raw(raw: store.RawFile, *, seconds: float = MAX_PARSE_SECONDS):
    """One raw file -> (ParsedDocument, SourceInfo). Raises ``ParseError`` (never anything
    else). The work is bounded: bytes (``MAX_DOCUMENT_BYTES``), characters
    (``parsers.MAX_DOCUMENT_CHARS``), PDF pages and their content (``pdf.MAX_PAGES``,
    ``pdf.MAX_PAGE_CONTENT_BYTES``) and time (``seconds``)."""
    try:
        with _time_limit(seconds):
            return _parse_raw(raw)
    except _TooLong:
        raise ParseError(raw.display, 1, f"took more than {seconds:g} s to read; not read (one document "
                                         f"must not stall the build)") from None


def _parse_raw(raw: store.RawFile):
    from pipeline import parsers, records

    if len(raw.data) > MAX_DOCUMENT_BYTES:
        raise ParseError(raw.display, 1, f"{len(raw.data) >> 20} MB: larger than the {MAX_DOCUMENT_BYTES >> 20} MB "
                                         f"a document is read for")
    got = parsers.parse(raw.data, raw.display, dict(raw.metadata).get("format"))
    info = records.SourceInfo(file=raw.display, sha256=sha256_bytes(raw.data), size=len(raw.data),
                              encoding=got.encoding, format=got.format, metadata=raw.metadata,
                              captures=raw.captures)
    return got.doc, info


def rows_of(raw: store.RawFile) -> dict[str, list[dict]]:
    """The table rows one source contributes, sorted as they are published."""
    from pipeline import records

    doc, info = parse_raw(raw)
    rows = records.document_to_rows(doc, info)
    for table in ("requirements", "scenarios", "licenses"):
        rows[table].sort(key=lambda r: (r["provenance"]["line_start"], r["id"]))
    _validate(rows)
    return rows


def _validate(tables: dict[str, list[dict]]) -> None:
    """Every record against its table's JSON Schema, before it can reach a dataset."""
    from pipeline.errors import SchemaError
    from pipeline.tables import SchemaViolation, validate_row

    try:
        for table, rows in tables.items():
            for row in rows:
                validate_row(table, row)
    except SchemaViolation as e:
        raise SchemaError(str(e)) from None


@lru_cache(maxsize=1)
def _payload_format() -> str:
    """The cached payload holds marshal data and Arrow record batches: their versions count."""
    import pyarrow  # needed to write the tables anyway

    return f"python-{sys.version_info[0]}.{sys.version_info[1]}/pyarrow-{pyarrow.__version__}"


def _cache_key(ref: store.RawRef, sha: str) -> str:
    return hashlib.sha256("\x1f".join([parser_version(), _payload_format(), sha, ref.display,
                                       json.dumps(ref.metadata), json.dumps(ref.captures)]).encode()).hexdigest()[:32]


def source_payloads(rows_of_sources: list[dict[str, list[dict]]]) -> list[dict]:
    """What the build needs of each source's rows, in the form it writes them: per table the
    records as one block of JSON lines and one Arrow record batch (``store.encode``),
    the slim requirement tuples reconciliation reads, and the source's dates and warnings. Made
    in the worker (in parallel) and cached as is. Several sources at once: each conversion to
    Arrow has a fixed cost, so each table is converted once for all of them and sliced."""
    from pipeline import records

    encoded = {t: store.encode(t, [rows[t] for rows in rows_of_sources]) for t in SOURCE_TABLES}
    return [{"block": {t: encoded[t][i][0] for t in SOURCE_TABLES},
             "arrow": {t: encoded[t][i][1] for t in SOURCE_TABLES if rows[t]},
             "slim": [records.slim_tuple(r) for r in rows["requirements"]],
             "updated": [s["updated"] for s in rows["sources"] if s["updated"]],
             "warnings": [w for s in rows["sources"] for w in s["warnings"]]}
            for i, rows in enumerate(rows_of_sources)]


#: sources one worker task parses (and converts to Arrow together)
TASK_SOURCES = 8


def _parse_task(task: tuple[list[tuple[store.RawRef, str]], str]) -> list[dict]:
    """Worker: parse a few sources and cache what each contributes. Top level so a process
    pool can call it."""
    jobs, cache_dir = task
    payloads = source_payloads([rows_of(ref.read()) for ref, _ in jobs])
    for (_, key), payload in zip(jobs, payloads):
        store.cache_put(Path(cache_dir), key, payload)
    return payloads


def _worker_task(task: tuple[list[tuple[store.RawRef, str]], str, str | None]) -> list[dict]:
    """``_parse_task`` in a pool worker. With a spool folder (the dataset being written), the
    worker leaves each source's records in a spool of its own and sends only where they are
    (``_spool_records``): the records of an archive are several times its size, and the build
    process would only copy them on."""
    jobs, cache_dir, spool_dir = task
    payloads = _parse_task((jobs, cache_dir))
    if spool_dir:
        spool = _worker_spool(spool_dir)
        for p in payloads:
            p["refs"] = _spool_records(p, spool)
            del p["block"], p["arrow"]
        spool.flush()  # readable by the process that writes the tables
    return payloads


#: this worker process's spool, per folder (``_worker_task``)
_WORKER_SPOOLS: dict[str, store.Spool] = {}


def _worker_spool(folder: str) -> store.Spool:
    if folder not in _WORKER_SPOOLS:
        _WORKER_SPOOLS[folder] = store.Spool(Path(folder) / f"tables.{os.getpid()}.scratch")
    return _WORKER_SPOOLS[folder]


def _spool_records(payload: dict, spool: store.Spool) -> dict[str, tuple[str, int]]:
    """Put a payload's records (``block``, ``arrow``) in ``spool``; returns where each table's
    are: ``{table: (spool file, position)}``."""
    return {t: (str(spool.path), spool.put(payload["block"][t], payload["arrow"][t]))
            for t in SOURCE_TABLES if payload["block"].get(t)}


def _progress(total: int, enabled: bool):
    """A progress bar on a terminal (never in CI, never when stderr is not a TTY)."""
    if not enabled or total < 50 or os.environ.get("CI") or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="parsing", file=sys.stderr, leave=False)


def parsed_sources(refs: list[store.RawRef], hashes: dict[str, str], cache_dir: Path, *,
                   workers: int | None = None, use_cache: bool = True, progress: bool = False,
                   spool_dir: Path | None = None):
    """(ref, payload, from_cache) for every source, in file order (``source_payloads``).
    ``spool_dir``: pool workers leave the records there (``_worker_task``); their payloads
    then say where (``refs``) instead of holding them."""
    keys = {r.display: _cache_key(r, hashes[r.display]) for r in refs}
    # cached payloads are read one at a time as they are written (reading them all first would
    # hold the whole archive in memory); one that turns out unreadable is parsed again here
    cache = store.ParseCache(cache_dir) if use_cache else None
    cached = {r.display for r in refs if cache is not None and keys[r.display] in cache}
    todo = [r for r in refs if r.display not in cached]
    size = _pool_size(workers, len(todo))
    bar = _progress(len(refs), progress)
    tasks = [([(r, keys[r.display]) for r in todo[i:i + TASK_SOURCES]], str(cache_dir))
             for i in range(0, len(todo), TASK_SOURCES)]
    with worker_processes(size) if size else contextlib.nullcontext() as pool, _closing(cache, cache_dir, bar):
        if pool:
            with _spawning():  # map submits every task: the workers start now
                done = pool.map(_worker_task, [t + (str(spool_dir) if spool_dir else None,) for t in tasks])
        else:
            done = map(_parse_task, tasks)
        # (a consumer that stops early, or fails, closes this generator: GeneratorExit leaves the
        # pool through its error path, without waiting for the tasks under way)
        results = (payload for payloads in done for payload in payloads)
        todo_iter = iter(todo)
        for ref in refs:
            hit = ref.display in cached
            payload = cache.get(keys[ref.display]) if hit else None
            if not hit:
                nxt = next(todo_iter)
                assert nxt is ref
                payload = next(results)
            elif payload is None:
                payload, hit = _parse_task(([(ref, keys[ref.display])], str(cache_dir)))[0], False
            if bar:
                bar.update(1)
            yield ref, payload, hit


@contextlib.contextmanager
def _closing(cache, cache_dir: Path, bar):
    """What ``parsed_sources`` opened besides its workers: the cache it reads and the pack it
    writes, and the progress bar."""
    try:
        yield
    finally:
        if cache is not None:
            cache.close()
        store.cache_close(cache_dir)
        if bar:
            bar.close()


def one_per_capture(refs: list[store.RawRef], hashes: dict[str, str]) -> list[store.RawRef]:
    """The sources to parse: a page captured again unchanged (the same bytes, and metadata that
    says the same of them but the capture date) is one source, parsed once, with every capture
    listed (``RawRef.captures``, the first file in name order standing for all). Capturing an
    unchanged page again is the most common event of all."""
    groups: dict[tuple, list[store.RawRef]] = {}
    for r in refs:
        said = tuple((k, v) for k, v in r.metadata if k != "captured")
        groups.setdefault((hashes[r.display], said), []).append(r)
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
              use_cache: bool = True, progress: bool = False, cache_dir: Path | None = None) -> BuildResult:
    """Read, parse, reconcile, publish, report. Any error leaves ``output`` as it was.

    ``cache_dir``: where parsed sources are cached (default ``.cache/`` beside ``output``).

    ``known_conflicts``: conflict ids published elsewhere (default: every version in ``output``),
    so a decision on a conflict that no longer exists is stale rather than unknown.
    """
    from pipeline import review

    refs, skipped = store.list_raw(raw_dirs)
    if not refs:
        raise ParseError(str(raw_dirs[0]), 1, "no documents to build from")
    decisions = decisions if decisions is not None else Path(review.DECISIONS_FILE)
    text = store.read_optional_text(decisions)
    # shown as <folder>/<name>, like raw files, so the manifest does not depend on the cwd
    shown = f"{decisions.resolve().parent.name}/{decisions.name}"
    # caches live beside output/, not in it: a failed build leaves output/ exactly as it was
    cache_dir = cache_dir if cache_dir is not None else output.resolve().parent / ".cache"
    with store.build_lock(output):
        hashes = store.hash_files(refs)
        decisions_sha = sha256_bytes(text.encode("utf-8")) if text is not None else None
        key = build_key(hashes, refs, decisions_sha)
        last = store.last_build(cache_dir, output)
        current = store.latest(output)
        if (use_cache and last.get("key") == key and last.get("version") == current and current
                and (output / "datasets" / current / "manifest.json").exists()
                and store.has_reports(output, current)):
            return BuildResult(current, False, last.get("counts", {}), tuple(skipped + last.get("warnings", [])))
        store.clean_stale_tmp(output)
        parsed = review.parse_decisions(text, shown) if text is not None else []
        # unchanged files are compared record by record only if the parser changed since
        # (otherwise their rows are the same by construction)
        recheck = not use_cache or last.get("parser") != parser_version() or last.get("version") != current
        result = _full_build(one_per_capture(refs, hashes), hashes, output, cache_dir, parsed, shown, text,
                             known_conflicts, workers=workers, use_cache=use_cache, progress=progress,
                             recheck=recheck)
        store.save_last_build(cache_dir, output, {"key": key, "version": result.version, "counts": result.counts,
                                          "warnings": list(result.warnings), "parser": parser_version()})
        return dataclasses.replace(result, warnings=tuple(skipped) + result.warnings)


class _Phases:
    """``PIPELINE_TIMING=1``: print how long each build phase took (for ``make bench``): wall
    time, and the CPU time of this process only (workers and helpers not counted), with its
    current and peak resident memory (Linux)."""

    def __init__(self):
        import time

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


def _full_build(refs, hashes, output: Path, cache_dir: Path, decisions, shown: str, text: str | None,
                known_conflicts, *, workers, use_cache, progress, recheck: bool) -> BuildResult:
    from pipeline import reconcile, records

    _phase = _Phases()
    writer = store.DatasetWriter(output)
    processes = contextlib.ExitStack()
    try:
        # started first: they get ready while the sources are parsed
        pool = processes.enter_context(_helper_process(workers, len(refs)))
        copier = processes.enter_context(_helper_process(workers, len(refs)))
        # the source tables are written once every source is read (requirements wait for the
        # stated renames), in a helper process when there is one: until then their records wait
        # in spools, the workers' own or (for sources read from the cache) this one
        spooled = writer.spool("tables")
        records_at: dict[str, list[tuple[str, int]]] = {t: [] for t in SOURCE_TABLES}
        slim: list[records.Slim] = []
        # a record id hashes its source's bytes (``records.document_to_rows``): sources with other
        # bytes have other ids (barring a collision of 64-bit hashes, which every stable id here
        # assumes away), so ids are checked within each source and across the sources whose bytes
        # occur more than once (a capture saved twice). A set of every id instead (265 675 at
        # 10 000 documents) cost 24 MB of the build's peak: it fragments the heap the rows live in
        repeated = {sha for sha, n in Counter(hashes[r.display] for r in refs).items() if n > 1}
        ids_of_repeated: set[str] = set()
        dates: list[str] = []
        warnings: list[str] = []
        n_parsed = n_cached = 0
        for ref, payload, hit in parsed_sources(refs, hashes, cache_dir, workers=workers, use_cache=use_cache,
                                                progress=progress, spool_dir=writer.folder if copier else None):
            n_cached += hit
            n_parsed += not hit
            ids = ids_of_repeated if hashes[ref.display] in repeated else set()
            for t in payload["slim"]:
                if t[0] in ids:
                    raise ParseError(ref.display, t[4][1], f"duplicate record id {t[0]}")
                ids.add(t[0])
                slim.append(records.Slim.from_tuple(t))
            at = payload["refs"] if "refs" in payload else _spool_records(payload, spooled)
            for table, where in at.items():
                records_at[table].append(where)
            dates += payload["updated"]
            warnings += payload["warnings"]
        del ids_of_repeated
        _phase("parse")
        # renames the documents state apply to every capture of the category
        renames = reconcile.stated_renames(slim)
        slim = [reconcile.rename_row(r, renames) for r in slim]
        with spooled:
            spooled.flush()
            if copier:
                # the source tables are written out in a process of their own while
                # reconciliation runs here (hashing, encoding Parquet: seconds on a large archive)
                copied = copier.submit(_copy_tables, str(writer.folder), records_at, renames)
            else:
                _write_tables(writer.table, records_at, renames)
        known = store.published_conflict_ids(output, warnings.append) | (known_conflicts or set())
        sink = _ConflictSink(writer.folder, pool)
        tables = reconcile.reconcile_rows(slim, decisions, known, shown, sink=sink)
        sink.settle()
        # the conflicts table, in publishing order, is written where the records are
        sink.write([c.pop("spooled") for c in tables["conflicts"]], writer)
        _phase("reconciled")
        _validate({t: tables[t] for t in ("categories", "pages", "reviews")})
        for name in ("categories", "pages", "reviews"):
            writer.table(name).add_rows(tables[name])
        # the report's comparison with the previous version needs no version name: worked out
        # while the helpers finish their tables (unused if this version exists already)
        previous = store.latest(output)
        compared = _compare_with(output, previous, slim, tables, refs, hashes, recheck, warnings.append)
        if copier:  # long done by now (while the conflicts table is written, its files are hashed)
            for state in copied.result():
                writer.adopt(state)
        sink.close(writer)
        for helper in (pool, copier):
            if helper:  # nothing more for them: let them exit while the build finishes
                helper.shutdown(wait=False)
        _phase("reconciled tables written")
        version = store.version_name(max(dates) if dates else None, writer.content_hash())
        inputs = sorted(({"file": f, "sha256": hashes[r.display], "bytes": r.size}
                         for r in refs for f in ([c[0] for c in r.captures] or [r.display])), key=lambda i: i["file"])
        if text is not None:
            data = text.encode("utf-8")
            inputs.append({"file": shown, "sha256": sha256_bytes(data), "bytes": len(data)})
        exists = (output / "datasets" / version).exists()
        writer.finish(version, inputs)
        reports = None
        if not (exists and store.has_reports(output, version)):
            if previous == version:  # its reports were lost: compared, as before, with its predecessor
                previous = store.previous_version(output, version)
                compared = _compare_with(output, previous, slim, tables, refs, hashes, True, warnings.append)
            reports = _reports(version, previous, compared, tables)
        _phase("finished and reported")
        created = writer.publish(version, reports)
        _phase("published")
    except BaseException:
        writer.abandon()
        raise
    finally:
        processes.close()
    counts = {t: writer.table(t).rows for t in TABLE_ORDER}
    return BuildResult(version, created, counts, tuple(warnings), n_parsed, n_cached)


class _ConflictStore:
    """Conflict records as reconciliation finds them, validated and serialised into a spool;
    at the end, the conflicts table written from it in publishing order. A conflict lists every
    capture's value (185 MB of JSON over 10 000 captures), so this lives in a helper process
    when the build has one (``_helper_put``, ``_helper_write``): the records never come back."""

    def __init__(self, folder: Path):
        self.spool = store.Spool(folder / "conflicts.scratch")

    def put(self, row: dict) -> int:
        _validate({"conflicts": [row]})
        ((block, data),) = store.encode("conflicts", [[row]])
        return self.spool.put(block, data)

    def write(self, order: list[int], out: store.TableWriter) -> None:
        for at in order:
            block, data = self.spool.get(at)
            out.add_batch(block, store.arrow_batch("conflicts", data))
        self.spool.close()


#: the helper process's store (one build at a time per helper process)
_HELPER_STORE: list[_ConflictStore] = []


def _helper_put(folder: str, row: dict) -> int:
    """Helper process: ``_ConflictStore.put``. Top level so a process pool can call it."""
    if not _HELPER_STORE:
        _HELPER_STORE.append(_ConflictStore(Path(folder)))
    return _HELPER_STORE[0].put(row)


def _helper_write(folder: str, order: list[int]) -> dict:
    """Helper process: the conflicts table from its store, left for the build to finish."""
    conflicts = _HELPER_STORE.pop() if _HELPER_STORE else _ConflictStore(Path(folder))
    out = store.TableWriter(Path(folder), "conflicts")
    conflicts.write(order, out)
    return out.detach()


class _ConflictSink:
    """Takes each conflict as reconciliation finds it (``reconcile_rows(sink=…)``): keeps its
    header (the report's first values, and where its record is: ``spooled``), and has its
    record kept by a ``_ConflictStore``, in the helper process ``pool`` when given. A conflict
    lists every capture's value, so over an archive this is half of reconciliation's work, and
    the build's other core is idle by then. At most ``WINDOW`` records are in flight, so memory
    stays bounded. ``write`` has the table written (in the helper while the build goes on);
    ``close`` waits for it."""

    WINDOW = 4

    def __init__(self, folder: Path, pool=None):
        self.folder, self.pool = folder, pool
        self.local = None if pool else _ConflictStore(folder)
        self.pending: list[tuple[object, dict]] = []
        self.written = None

    def __call__(self, c: dict) -> dict:
        from pipeline import reconcile
        from pipeline.report import MAX_VALUES

        row = reconcile.plain_row("conflicts", c)
        header = reconcile.conflict_header(c, MAX_VALUES)
        if self.pool is None:
            header["spooled"] = self.local.put(row)
            return header
        self.pending.append((self.pool.submit(_helper_put, str(self.folder), row), header))
        if len(self.pending) > self.WINDOW:
            self._settle()
        return header

    def _settle(self) -> None:
        done, header = self.pending.pop(0)
        header["spooled"] = done.result()

    def settle(self) -> None:
        """Wait for every record in flight: each header then says where its record is."""
        while self.pending:
            self._settle()

    def write(self, order: list[int], writer: store.DatasetWriter) -> None:
        """The conflicts table, records in ``order`` (``spooled`` positions)."""
        if self.pool is None:
            self.local.write(order, writer.table("conflicts"))
        else:
            self.written = self.pool.submit(_helper_write, str(self.folder), order)

    def close(self, writer: store.DatasetWriter) -> None:
        if self.written is not None:
            writer.adopt(self.written.result())


@contextlib.contextmanager
def _helper_process(workers: int | None, sources: int):
    """A one-process pool for work beside reconciliation (conflict records, the source tables)
    when the build is large enough to parse in a pool; None otherwise."""
    if not _pool_size(workers, sources):
        yield None
        return
    with worker_processes(1) as pool:
        with _spawning():
            pool.submit(_warm_up)  # starts the process now: it imports while the sources are parsed
        yield pool


@contextlib.contextmanager
def worker_processes(n: int):
    """``n`` processes that work for this build and die with it.

    Spawned, not forked: a forked worker would hold every file the build has open, the output
    lock among them, and would start at the build's size (forking a process that runs threads
    can also deadlock). Each one ignores Ctrl-C (the build handles it, once) and exits as soon
    as the build is gone, however it went (``_worker_init``). On an error, or Ctrl-C, the build
    does not wait for the tasks under way: a worker finishes at most the one it has, then
    finds nothing more to do."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=n, initializer=_worker_init,
                               initargs=(os.getpid(),),
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextlib.contextmanager
def _spawning():
    """Around the call that starts workers (a pool starts them as tasks are submitted): Ctrl-C
    is ignored for that moment, and so from their first instruction in the processes it starts
    (an ignored signal stays ignored across exec, and Python leaves it so), before
    ``_worker_init`` can run. Otherwise a Ctrl-C while a worker imports is its traceback."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # (signals are the main thread's; a library caller in a thread keeps its own)
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


#: how often a worker checks that its build is still there (``_worker_init``)
ORPHAN_CHECK_SECONDS = 0.2


def _worker_init(build_pid: int) -> None:
    """Ctrl-C reaches every process of the terminal's group: the build stops its workers, so
    they ignore it (instead of each printing a traceback). A thread watches for the build's
    end: a build that is killed (SIGKILL runs no clean-up) leaves its workers to the init
    process, and they must not go on holding its files, its terminal or the caller's pipe."""
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == build_pid:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="orphan-check", daemon=True).start()


def _warm_up() -> None:
    import pyarrow.parquet  # noqa: F401

    from pipeline import reconcile, records  # noqa: F401


def _copy_tables(folder: str, records_at: dict[str, list[tuple[str, int]]], renames: dict) -> list[dict]:
    """Helper process: the source tables (``_write_tables``), left for the build to finish
    (``TableWriter.detach``)."""
    writers: dict[str, store.TableWriter] = {}

    def table(name: str) -> store.TableWriter:
        writers[name] = store.TableWriter(Path(folder), name)
        return writers[name]

    _write_tables(table, records_at, renames)
    return [w.detach() for w in writers.values()]


def _write_tables(table, records_at: dict[str, list[tuple[str, int]]], renames: dict) -> None:
    """Each source table (``table(name)``: its writer) from the spooled records, in source
    order, with the stated renames applied to the requirements. A block is split into its
    lines only when it names a renamed category's id (a substring test), and a line is read
    back only when it does; most are copied as they are."""
    from pipeline import records

    marks = [f'"category_id":"{records.category_id(old)}"'.encode() for old in renames]
    with store.SpoolReader() as spools:
        for name in SOURCE_TABLES:
            out = table(name)
            for block, data in spools.entries(records_at[name]):
                batch = store.arrow_batch(name, data)
                if name == "requirements" and any(m in block for m in marks):
                    block, batch = _renamed(block, batch, marks, renames)
                out.add_batch(block, batch)


def _renamed(block: bytes, batch, marks: list[bytes], renames: dict):
    """Requirement records with the stated renames applied (``_write_tables``)."""
    from pipeline import reconcile

    lines = store.block_lines(block)
    changed = {}
    for i, line in enumerate(lines):
        if any(m in line for m in marks):
            row = json.loads(line)
            new = reconcile.rename_row(row, renames)
            if new is not row:
                lines[i] = store.record_block([new])
                changed[i] = (row, new)
    if not changed:
        return block, batch
    return b"\n".join(lines), store.patch_batch("requirements", batch, changed)


def _compare_with(output: Path, previous: str | None, slim, tables, refs, hashes, recheck: bool, warn):
    """What the review report says of the new version against the previous one: (source
    diffs, the previous version's conflict ids). Only sources whose bytes changed are compared
    record by record, and unchanged ones too when the parser changed. A previous version that
    cannot be read is reported (``warn``), and the report compares with nothing."""
    try:
        return _compared(output, previous, slim, tables, refs, hashes, recheck)
    except (OSError, store.StoreError) as e:  # (what reading a published version raises; a bug is not caught)
        warn(f"{output}/datasets/{previous}: cannot be read ({store.describe_error(e)}); the report does not compare with it")
        return _compared(output, None, slim, tables, refs, hashes, recheck)


def _compared(output: Path, previous: str | None, slim, tables, refs, hashes, recheck: bool):
    from pipeline import diff, records

    old = store.load_small_tables(output, previous) if previous else None
    new_sources = {r.display: hashes[r.display] for r in refs}
    if old is not None:
        old_sources = {s["source_file"]: s["source_sha256"] for s in old["sources"]}
        wanted = {sha for f, sha in old_sources.items() if recheck or new_sources.get(f) != sha}
        # a new file is compared with the closest earlier version of its page: load the most
        # recent versions of every page that gained one
        added = {sha for f, sha in new_sources.items() if f not in old_sources}
        pages = {p["page_key"] for p in tables["pages"] if any(v["source_sha256"] in added for v in p["versions"])}
        for p in old["pages"]:
            if p["page_key"] in pages:
                wanted |= {v["source_sha256"] for v in p["versions"][-20:]}
        old["requirements"] = [records.Slim(r) for r in
                               store.iter_records(output / "datasets" / previous / "requirements.json")
                               if r["source_sha256"] in wanted]
    new = {"requirements": slim, "sources": [{"source_file": f, "source_sha256": s} for f, s in new_sources.items()],
           "pages": tables["pages"]}
    return (diff.datasets_to_diffs(old, new, compare_unchanged=recheck),
            frozenset(c["id"] for c in (old or {}).get("conflicts", [])))


def _reports(version: str, previous: str | None, compared, tables) -> dict[str, bytes]:
    """The review report of a new version (``compared``: ``_compare_with``)."""
    from pipeline import report

    diffs, previous_ids = compared
    data = report.ReportData(
        version=version, previous=previous, diffs=diffs, conflicts=tables["conflicts"],
        reviews=tables["reviews"], pages=tables["pages"], categories=tables["categories"], sources=[],
        previous_conflict_ids=previous_ids)
    return {"md": report.to_markdown(data).encode("utf-8"), "html": report.to_html(data).encode("utf-8")}


def build_tables(raws: list[store.RawFile]) -> dict[str, list[dict]]:
    """All tables of the given sources in memory (tests and small tools; the build streams)."""
    from pipeline import records

    parts = [rows_of(raw) for raw in raws]
    return records.merge_rows(parts)
