"""Command line: ``python -m pipeline build|…``. Only argument parsing and messages live here."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.normalize import visible


class Terminated(BaseException):
    """SIGTERM, raised where the build is, so that its clean-up runs (as for Ctrl-C)."""


def _terminated(signum, frame):
    raise Terminated()


def _cmd_build(args: argparse.Namespace) -> int:
    from pipeline.build import run_build

    # a supervisor's SIGTERM stops the build as Ctrl-C does: it cleans up, its workers go with it
    signal.signal(signal.SIGTERM, _terminated)
    raw_dirs = [Path("raw")] + [Path(d) for d in args.raw]
    result = run_build(raw_dirs, Path(args.output), workers=args.jobs, use_cache=not args.no_cache,
                       progress=True)
    if result.created:
        print(f"report: {args.output}/reports/{result.version}.md (and .html)")
    counts = ", ".join(f"{n} {t}" for t, n in result.counts.items())
    if result.created:
        print(f"built dataset {result.version}: {counts}")
    elif result.switched_from:
        print(f"switched back to dataset {result.version}, built before from the same inputs "
              f"(LATEST was {result.switched_from}): {counts}")
    else:
        print(f"up to date: dataset {result.version} ({counts})")
    for w in result.warnings:
        print(visible(f"warning: {w}"), file=sys.stderr)
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from pipeline import diff, report, store

    output = Path(args.output)
    if args.files:
        tables = store.load_tables(output, store.latest(output) or "")
        rows = {f: [r for r in tables["requirements"] if r["source_file"] == f] for f in args.files}
        for f, rs in rows.items():
            if not rs:
                known = sorted({r["source_file"] for r in tables["requirements"]})
                raise PipelineError(f"{f}: no records in the latest dataset; sources: {', '.join(known)}")
        a, b = args.files
        data = report.ReportData(version=b, previous=a, diffs=[diff.rows_to_diff(rows[a], rows[b], f"{a} → {b}", a, b)],
                                 conflicts=[], reviews=[], pages=[], categories=[], full=True)
        shas = {x["source_file"]: x["source_sha256"] for x in tables["sources"]}
        data = report.with_excerpts(data, store.source_lines, shas, shas, rows[a] + rows[b])
    else:
        new_v = args.b or store.latest(output)
        if new_v is None:
            raise PipelineError(f"{output}: no dataset yet; run `make build`")
        old_v = args.a or store.previous_version(output, new_v)
        old = store.load_tables(output, old_v) if old_v else None
        data = report.compare(old, store.load_tables(output, new_v), version=new_v, previous=old_v, full=True,
                              read_lines=store.source_lines)
    if args.html:
        Path(args.html).write_text(report.to_html(data), encoding="utf-8")
    print(report.to_markdown(data))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """(Re)write output/reports/<version>.md/.html, against the version published before it."""
    from pipeline import report, store
    from pipeline.loader import resolve_version

    output = Path(args.output)
    version = resolve_version(args.version, output)
    previous = store.previous_version(output, version)
    old = store.load_tables(output, previous) if previous else None
    data = report.compare(old, store.load_tables(output, version), version=version, previous=previous,
                          read_lines=store.source_lines)
    folder = output / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{version}.md").write_text(report.to_markdown(data), encoding="utf-8")
    (folder / f"{version}.html").write_text(report.to_html(data), encoding="utf-8")
    print(f"report: {folder}/{version}.md (and .html), compared with {previous or '(no earlier version)'}")
    return 0


def _cmd_decide(args: argparse.Namespace) -> int:
    import datetime as dt

    from pipeline import review, store

    output = Path(args.output)
    version = store.latest(output)
    if version is None:
        raise PipelineError(f"{output}: no dataset yet; run `make build`")
    conflicts = {c["id"]: c for c in store.load_tables(output, version)["conflicts"]}
    c = conflicts.get(args.conflict)
    if c is None:
        raise PipelineError(f"{args.conflict}: no such conflict in dataset {version}")
    date = args.date or dt.date.today().isoformat()
    path = Path(args.file)

    def add(existing: str | None) -> str:
        # read again under the lock: another `decide` may have added its decision meanwhile
        existing = existing if existing is not None else (
            "# Decisions on conflicts, read by every build (see README: recording a decision).\n")
        if any(d.conflict == c["id"] for d in review.parse_decisions(existing, str(path))):
            raise PipelineError(f"{path}: already holds a decision on {c['id']}; edit it there")
        new = existing + review.decision_entry(c, args.decision, args.reason, args.reviewer, date)
        review.parse_decisions(new, str(path))  # never write a file the build would reject
        return new

    store.update_text(path, add)
    print(f"recorded decision on {c['id']} in {path}; run `make build` to apply it")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    import json

    from pipeline import show
    from pipeline.loader import load

    tables = load(args.version, args.output, records=True,
                  tables=("requirements", "categories", "conflicts"))
    found, suggestions = show.find(args.category, tables["categories"])
    if not found:
        hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else ""
        raise PipelineError(f"no category matches {args.category!r}{hint}")
    described = [show.describe(cid, tables) for cid in found]
    if args.json:
        print(json.dumps(described, ensure_ascii=False, indent=1, sort_keys=True))
    else:
        print(visible("\n\n".join(show.to_text(d) for d in described)))
    return 0


def _cmd_sources(args: argparse.Namespace) -> int:
    import json

    from pipeline.loader import load

    tables = load(args.version, args.output, records=True, tables=("sources",))
    rows = tables["sources"]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True))
        return 0
    print(f"{'source':<58} {'format':<11} {'capability':<17} {'updated':<10} {'records':>7}  pages")
    for s in rows:
        pages = "; ".join(f"{p['title'] or '(untitled)'} {p['updated'] or ''}".strip() for p in s["pages"])
        print(visible(f"{s['source_file']:<58} {s['format']:<11} {s['capability'] or '':<17} {s['updated'] or '—':<10} "
              f"{sum(s['record_counts'].values()):>7}  {pages}"))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from pipeline.tables import SCHEMA_VERSION, schema_markdown

    print(f"Schema version {SCHEMA_VERSION}.\n\n{schema_markdown()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="Tencent compliance documentation -> datasets")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="parse raw/ (and --raw folders) into a new dataset version")
    b.add_argument("--raw", action="append", default=[], metavar="DIR",
                   help="an extra folder of documents (repeatable), e.g. ../shared/corpus")
    b.add_argument("--output", default="output", metavar="DIR", help="output folder (default: output)")
    b.add_argument("--jobs", type=int, default=None, metavar="N", help="parser processes (default: one per core)")
    b.add_argument("--no-cache", action="store_true", help="parse every source again (ignore the cache)")
    b.set_defaults(func=_cmd_build)
    d = sub.add_parser("diff", help="what changed between two dataset versions (default: previous -> latest), "
                                    "or between two sources of the latest dataset (--files A B)")
    d.add_argument("a", nargs="?", help="older dataset version (default: the one before B)")
    d.add_argument("b", nargs="?", help="newer dataset version (default: latest)")
    d.add_argument("--files", nargs=2, metavar=("A", "B"), help="two source files (two versions of one page)")
    d.add_argument("--html", metavar="FILE", help="also write the report as a self-contained HTML page")
    d.add_argument("--output", default="output", metavar="DIR")
    d.set_defaults(func=_cmd_diff)
    r = sub.add_parser("decide", help="record a decision on a conflict in review/decisions.toml")
    r.add_argument("conflict", help="conflict id (cfl_…), from the report")
    r.add_argument("--decision", required=True, help="what was decided, e.g. 'follow newest'")
    r.add_argument("--reason", required=True, help="why")
    r.add_argument("--reviewer", required=True, help="who decided")
    r.add_argument("--date", help="YYYY-MM-DD (default: today)")
    r.add_argument("--file", default="review/decisions.toml", help="decisions file")
    r.add_argument("--output", default="output", metavar="DIR")
    r.set_defaults(func=_cmd_decide)
    sh = sub.add_parser("show", help="what a category needs today, its history and open conflicts")
    sh.add_argument("category", help="canonical path (金融业/公募基金), any spelling seen (金融-基金), or part of a name")
    sh.add_argument("--json", action="store_true", help="print JSON instead of text")
    sh.add_argument("--version", default="latest", help="dataset version (default: latest)")
    sh.add_argument("--output", default="output", metavar="DIR")
    sh.set_defaults(func=_cmd_show)
    so = sub.add_parser("sources", help="every source with its format, pages, dates and record count")
    so.add_argument("--json", action="store_true")
    so.add_argument("--version", default="latest")
    so.add_argument("--output", default="output", metavar="DIR")
    so.set_defaults(func=_cmd_sources)
    rp = sub.add_parser("report", help="(re)write the review report of a dataset version")
    rp.add_argument("version", nargs="?", default="latest")
    rp.add_argument("--output", default="output", metavar="DIR")
    rp.set_defaults(func=_cmd_report)
    sc = sub.add_parser("schema", help="print the published tables' fields as Markdown")
    sc.set_defaults(func=_cmd_schema)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PipelineError as e:
        print(visible(str(e)), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`pipeline sources | head -1`): it wanted no more. Python would
        # otherwise complain again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
    except OSError as e:  # a full disk, a read-only or unreadable folder: the file and the reason
        where = f"{e.filename}: " if e.filename else ""
        print(f"{where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; output/ left as it was", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated; output/ left as it was", file=sys.stderr)
        return 143


if __name__ == "__main__":
    sys.exit(main())
