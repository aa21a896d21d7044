"""Benchmark the build on synthetic archives of growing size, and the readers a user might use
instead of ours on the same inputs.

    python bench/run.py                    # sizes 10, 100, 1000, 10000
    python bench/run.py --sizes 10,100     # a quick run

Every build is a fresh ``python -m pipeline build`` process in a temporary project folder, timed
from here (so interpreter start and imports count, as they do for a user), followed by a second,
no-op build of the same inputs. See bench/README.md for what each number means.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import synth  # noqa: E402

DEFAULT_SIZES = (10, 100, 1000, 10000)
#: cold builds per size; the table shows the fastest. Other processes on a shared host only ever
#: add time (the same 10,000-document build took 32.8 s and 41.8 s fifteen minutes apart), so
#: the minimum is the estimate of what the code does on this hardware; every run is printed too
DEFAULT_REPEAT = 3
#: the five-seed build is what `make build` does on a fresh clone: it should feel instant
SEED_TARGETS = {"build": 1.5, "no-op": 0.3}
TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)


@dataclass
class Run:
    wall: float       # seconds, parent's clock, process start to exit
    rss_mb: float     # peak resident set of the build process (or its largest descendant)
    code: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The one-line error the CLI prints, or the last line of a traceback."""
        lines = [l for l in self.stderr.splitlines() if l.strip() and not l.startswith("warning:")]
        return lines[-1] if lines else f"exit status {self.code}"

    @property
    def up_to_date(self) -> bool:
        return any(l.startswith("up to date") for l in self.stdout.splitlines())


#: run by a fresh interpreter, which starts the build and reports its wall time, peak RSS and
#: exit status (``build``)
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    f.write(f"{wall!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def build(project: Path, code: Path = ROOT) -> Run:
    """One ``python -m pipeline build`` in ``project``, of the ``pipeline`` package under
    ``code`` (this checkout, or another revision's files: ``bench/compare.py``).

    Peak RSS comes from ``os.wait4`` on the build: the kernel reports its own peak (or that of
    its largest waited-for descendant: parse workers, helpers), so each run is measured on its
    own (``getrusage(RUSAGE_CHILDREN)`` would give the maximum over all children so far).

    The build is started by a small launcher (``_LAUNCHER``), not by this process: a child's
    ``ru_maxrss`` starts at the size of the process that started it (the kernel counts the
    parent's pages until the child execs), and this one holds the archive it generated. Started
    from here, even ``python -c pass`` read as 297 MB under a 300 MB parent, and builds read as
    this process's size (the 10-document build as 179 MB, five seeds take 109). The wall time
    is taken in the launcher too, from the build's start to its end.
    """
    # PIPELINE_* settings (a shared parse cache, fault injection) would make this something other
    # than a fresh build of this project, so none is passed on
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env["PYTHONPATH"] = str(code)
    # files rather than pipes: nothing to drain while we wait, so no pipe can fill up
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "resources"
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), sys.executable, "-m", "pipeline", "build"],
                       cwd=project, env=env, stdout=out, stderr=err, check=True)
        wall, maxrss, code = report.read_text().split()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    # Linux reports ru_maxrss in KiB, macOS in bytes
    rss_kib = int(maxrss) / 1024 if sys.platform == "darwin" else int(maxrss)
    return Run(float(wall), rss_kib / 1024, int(code), stdout, stderr)


def code_stamp() -> tuple:
    """Names, sizes and times of the pipeline's files. The package is under active development:
    if it changes between a full build and its no-op rebuild, the rebuild re-parses everything
    (parsed rows are cached per code version) and the row would compare two different programs."""
    files = sorted(p for p in (ROOT / "pipeline").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return tuple((p.relative_to(ROOT).as_posix(), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def progress(msg: str) -> None:
    """Progress goes to stderr so that stdout holds only the results."""
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- alternatives

def compare_tables(raw: Path) -> str:
    """pandas.read_html vs pipeline.parsers.htmltable.read_tables on every <table> of the text documents
    (only the Markdown ones hold tables). Each table is read on its own by both, as a user
    feeding tables one by one would; a table pandas rejects is counted, not fatal."""
    import pandas as pd

    from pipeline.parsers.htmltable import read_tables

    tables = [m.group(0) for p in sorted(raw.glob("*.txt"))
              for m in TABLE.finditer(p.read_text("utf-8"))]
    if not tables:
        return "HTML tables: none in this archive"
    # first calls import parsers and build caches: keep that out of both timings
    read_tables(tables[0])
    pd.read_html(io.StringIO(tables[0]))
    failed = 0
    start = time.perf_counter()
    for t in tables:
        try:
            pd.read_html(io.StringIO(t))
        except ValueError:  # "No tables found" and friends
            failed += 1
    t_pandas = time.perf_counter() - start
    # every table read afresh, as the build reads them
    start = time.perf_counter()
    for t in tables:
        read_tables(t)
    t_ours = time.perf_counter() - start
    note = f", pandas rejected {failed}" if failed else ""
    return (f"HTML tables ({len(tables)} tables{note}): pandas.read_html {t_pandas:.2f} s, "
            f"pipeline.parsers.htmltable.read_tables {t_ours:.2f} s, ours/pandas {t_ours / t_pandas:.2f}×")


def compare_pdfs(raw: Path) -> str:
    """Plain pdfplumber text extraction vs our PDF parser (which also finds headings, ruled
    tables and merged cells, and runs the text parser) over every PDF of the archive."""
    import pdfplumber

    from pipeline.parsers import ParseMemo, pdf

    files = sorted(raw.glob("*.pdf"))
    if not files:
        return "PDF pages: no PDF in this archive"
    blobs = [(f"raw/{p.name}", p.read_bytes()) for p in files]
    pages = 0
    start = time.perf_counter()
    for _, data in blobs:
        with pdfplumber.open(io.BytesIO(data)) as doc:
            for page in doc.pages:
                page.extract_text()
                pages += 1
    t_plumber = time.perf_counter() - start
    # every page afresh, as pdfplumber reads them; then remembering pages seen before, as the
    # build does (captures repeat most pages of an export)
    times = []
    for memo in (None, ParseMemo()):
        start = time.perf_counter()
        for name, data in blobs:
            pdf.parse(data, name, memo)
        times.append(time.perf_counter() - start)
    t_ours, t_remembered = times
    plural = "s" if len(files) != 1 else ""
    return (f"PDF pages ({len(files)} PDF{plural}, {pages} pages): pdfplumber extract_text {t_plumber:.2f} s, "
            f"pipeline.parsers.pdf.parse {t_ours:.2f} s, ours/pdfplumber {t_ours / t_plumber:.2f}× "
            f"(remembering pages seen before, as the build does: {t_remembered:.2f} s)")


# ---------------------------------------------------------------- the runs

@dataclass
class Result:
    docs: int
    mb: float
    #: every cold build of this size, in the order they ran
    runs: list[Run] = field(default_factory=list)
    noop: Run | None = None  # only after a successful full build
    #: pipeline/ was edited while this size was measured
    code_changed: bool = False
    #: one new document added to the built archive, then an identical capture of it
    added: Run | None = None
    identical: Run | None = None
    #: bytes on disk (output/ and .cache/, each inode once) after the cold build, and what
    #: adding the one document added to them
    disk_bytes: int = 0
    added_bytes: int = 0
    #: the bytes of the version the cold build published, as a reader sees them (every file of
    #: its folder at its full size, whether or not it is a hard link): what ``added_bytes`` is
    #: measured against (target: adding one document adds at most 2 % of it)
    version_bytes: int = 0

    @property
    def full(self) -> Run | None:
        return reported(self.runs)

    @property
    def peak_rss_mb(self) -> float:
        """Memory is reported at its worst: the highest peak of all runs."""
        return max(r.rss_mb for r in self.runs)


def reported(runs: list[Run]) -> Run | None:
    """The run a size is reported by: the fastest, or the first failed one (a failure is never
    hidden)."""
    failed = [r for r in runs if r.code]
    return failed[0] if failed else min(runs, key=lambda r: r.wall, default=None)


def cold_builds(project: Path, repeat: int, label: str | None = None) -> list[Run]:
    """``repeat`` builds of ``project``, each from nothing (``cold``); stops at a failed one.
    ``label``: say each one's time on stderr."""
    runs: list[Run] = []
    for i in range(repeat):
        cold(project)
        runs.append(build(project))
        if runs[-1].code:
            break
        if label:
            progress(f"{label} built in {runs[-1].wall:.1f} s ({i + 1} of {repeat})")
    return runs


def cold(project: Path) -> None:
    """Make ``project`` as it was before its first build: no output, no parse cache. Then
    ``sync``, so the next build does not wait for this one's writes to reach the disk."""
    for name in ("output", ".cache"):
        shutil.rmtree(project / name, ignore_errors=True)
    os.sync()


def disk_bytes(project: Path) -> int:
    """Bytes allocated under ``output/`` and ``.cache/``, each file (inode) counted once: a
    hard link shares its bytes with the file it links to."""
    seen, total = set(), 0
    for name in ("output", ".cache"):
        for folder, _, files in os.walk(project / name):
            for f in files:
                st = os.lstat(os.path.join(folder, f))
                if st.st_ino not in seen:
                    seen.add(st.st_ino)
                    total += st.st_blocks * 512
    return total


def version_bytes(project: Path) -> int:
    """The size of the latest published version: every file of its folder at its full size."""
    latest = (project / "output" / "LATEST").read_text("utf-8").strip()
    return sum(p.lstat().st_size for p in (project / "output" / "datasets" / latest).rglob("*") if p.is_file())


def incremental(project: Path, n: int, result: "Result") -> None:
    """On the built archive of ``n`` documents: add the next document of the archive (a new
    page version) and build; then add an identical capture of it under another name and build."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = synth.generate(n + 1, Path(tmp) / "raw")
        new = docs[-1].name
        shutil.copy2(Path(tmp) / "raw" / new, project / "raw" / new)
    before = result.disk_bytes = disk_bytes(project)
    result.version_bytes = version_bytes(project)
    result.added = build(project)
    result.added_bytes = disk_bytes(project) - before
    if result.added.code == 0:
        stem, dot, suffix = new.rpartition(".")
        shutil.copy2(project / "raw" / new, project / "raw" / f"{stem}-again.{suffix}")
        result.identical = build(project)


def seed_build(keep: bool, repeat: int) -> str:
    """The five seeds as a fresh clone has them: ``repeat`` cold builds (the fastest counts) and
    one no-op rebuild."""
    project = Path(tempfile.mkdtemp(prefix="bench-seeds-"))
    try:
        shutil.copytree(synth.SEEDS_DIR, project / "raw",
                        ignore=lambda d, names: [n for n in names if n.startswith((".", "_"))])
        runs = cold_builds(project, repeat)
        full = reported(runs)
        if full.code:
            return f"five-seed build failed: {full.error}"
        noop = build(project)
        verdict = {k: "ok" if t < SEED_TARGETS[k] else "over target"
                   for k, t in (("build", full.wall), ("no-op", noop.wall))}
        note = "" if noop.up_to_date else " (second build did not say 'up to date')"
        return (f"five-seed build: {full.wall:.2f} s (target < {SEED_TARGETS['build']} s: {verdict['build']}; "
                f"runs {_walls(runs)}), "
                f"no-op rebuild: {noop.wall:.2f} s (target < {SEED_TARGETS['no-op']} s: {verdict['no-op']}){note}")
    finally:
        if not keep:
            shutil.rmtree(project, ignore_errors=True)


def _walls(runs: list[Run]) -> str:
    return "/".join(f"{r.wall:.2f}" if r.code == 0 else "failed" for r in runs)


def bench_size(n: int, compare: bool, keep: bool, repeat: int) -> tuple[Result, list[str]]:
    project = Path(tempfile.mkdtemp(prefix=f"bench-{n}-"))
    lines: list[str] = []
    try:
        start = time.perf_counter()
        docs = synth.generate(n, project / "raw")
        mb = sum((project / "raw" / d.name).stat().st_size for d in docs) / 1e6
        progress(f"[{n} documents] generated {mb:.1f} MB ({sum(d.pdf for d in docs)} PDF) "
                 f"in {time.perf_counter() - start:.1f} s; building…")
        result = Result(n, mb)
        stamp = code_stamp()
        result.runs = cold_builds(project, repeat, label=f"[{n} documents]")
        if result.full.code == 0:
            progress(f"[{n} documents] no-op rebuild…")
            result.noop = build(project)
            progress(f"[{n} documents] adding one document, then an identical capture…")
            incremental(project, n, result)
        else:
            progress(f"[{n} documents] build failed: {result.full.error}")
        result.code_changed = code_stamp() != stamp
        if compare:
            progress(f"[{n} documents] comparing readers…")
            for name, fn in (("HTML tables", compare_tables), ("PDF pages", compare_pdfs)):
                try:
                    line = fn(project / "raw")
                except Exception as e:  # a reader broken mid-refactor must not lose the table above
                    line = f"{name}: comparison failed: {type(e).__name__}: {e}"
                lines.append(f"{line}  [on the {n}-document archive]")
        return result, lines
    finally:
        if keep:
            progress(f"[{n} documents] kept in {project}")
        else:
            shutil.rmtree(project, ignore_errors=True)


def table(results: list[Result]) -> list[str]:
    out = [f"{'documents':>9} {'MB':>8} {'wall s':>8} {'MB/s':>7} {'peak RSS MB':>11} {'no-op s':>8} "
           f"{'disk MB':>8} {'+1 doc s':>8} {'+1 doc %':>8} {'+1 MB':>7} {'ver MB':>7} {'+1 MB %':>7} {'+same s':>7}  every run, s"]
    errors = []
    for r in results:
        f, nop = r.full, r.noop
        if f.code:
            out.append(f"{r.docs:>9} {r.mb:>8.2f} {'failed':>8}")
            errors.append(f"  {r.docs} documents: build exit status {f.code}: {f.error}")
            continue
        noop = "n/a" if nop is None else f"{nop.wall:.2f}" if nop.code == 0 else "failed"
        if nop is not None and nop.code == 0 and not nop.up_to_date:
            noop += "*"  # the rebuild did work: inputs were unchanged, so that is a finding
        add = "n/a" if r.added is None else f"{r.added.wall:.2f}" if r.added.code == 0 else "failed"
        pct = f"{100 * r.added.wall / f.wall:.0f}" if r.added is not None and r.added.code == 0 else "n/a"
        share = f"{100 * r.added_bytes / r.version_bytes:.1f}" if r.version_bytes else "n/a"
        same = "n/a" if r.identical is None else f"{r.identical.wall:.2f}" if r.identical.code == 0 else "failed"
        out.append(f"{r.docs:>9} {r.mb:>8.2f} {f.wall:>8.2f} {r.mb / f.wall:>7.2f} {r.peak_rss_mb:>11.1f} "
                   f"{noop:>8} {r.disk_bytes / 1e6:>8.1f} {add:>8} {pct:>8} {r.added_bytes / 1e6:>7.1f} {r.version_bytes / 1e6:>7.1f} {share:>7} {same:>7}  {_walls(r.runs)}")
        for what, run in (("adding one document", r.added), ("adding an identical capture", r.identical)):
            if run is not None and run.code:
                errors.append(f"  {r.docs} documents: {what}: exit status {run.code}: {run.error}")
        if nop is not None and nop.code:
            errors.append(f"  {r.docs} documents: no-op build exit status {nop.code}: {nop.error}")
    if any(r.noop and r.noop.code == 0 and not r.noop.up_to_date for r in results):
        out.append("  * the second build did not print 'up to date'")
    changed = [str(r.docs) for r in results if r.code_changed]
    if changed:
        out.append(f"  ! pipeline/ changed while measuring {', '.join(changed)} documents: "
                   "those builds ran different code; measure again")
    return out + errors


def scaling(results: list[Result]) -> list[str]:
    """Time ratio between consecutive sizes, next to the document ratio: equal means linear.
    Small sizes are dominated by interpreter start and imports, so look at the large end."""
    ok = [r for r in results if r.full and r.full.code == 0]
    out = []
    for a, b in zip(ok, ok[1:]):
        out.append(f"  {a.docs}→{b.docs} ({b.docs / a.docs:g}× documents): {b.full.wall / a.full.wall:.1f}× time")
    return ["scaling of the full build:"] + out if out else []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark `python -m pipeline build` on synthetic archives.")
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                    help="comma-separated archive sizes in documents (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary project folders")
    ap.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                    help="cold builds per size; the fastest is shown (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        ap.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        ap.error("--sizes needs at least one size ≥ 1")
    if args.repeat < 1:
        ap.error("--repeat needs at least 1")

    progress("five-seed build…")
    seeds = seed_build(args.keep, args.repeat)
    results, comparisons = [], []
    for n in sizes:
        # the readers are compared once, on the largest archive: both are per-table / per-file,
        # so one archive is enough and the small ones would only add noise
        result, lines = bench_size(n, compare=n == sizes[-1], keep=args.keep, repeat=args.repeat)
        results.append(result)
        comparisons += lines

    print("\n".join(table(results)))
    print()
    print("\n".join(comparisons))
    print(seeds)
    print(f"wall s: the fastest of {args.repeat} cold builds (every run listed); peak RSS: the highest")
    print("\n".join(scaling(results)))
    # cpu_count is the machine; the affinity set is what a parallel build may actually use
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "n/a"
    print(f"cores: {os.cpu_count()} (usable by this process: {usable}); "
          f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
    return 0 if all(r.full.code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
