"""Command line: ``python -m pipeline build|…``. Only argument parsing and messages live here."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.core.normalize import visible


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


def _compared(output: Path, old_v: str | None, new_v: str) -> tuple[dict | None, dict]:
    """The tables ``report.compare`` reads of two versions, no others: of the older one's
    conflicts only the ids, and a requirements shard both versions hold is parsed once and
    shared (``store.iter_table``); every file read is checked against its manifest. (Every table
    of both, whole, took 2.4 GB on the 5,000-document archive, 1.0 GB now.)"""
    from pipeline import store
    from pipeline.core.tables import TABLE_ORDER
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


def _cmd_diff(args: argparse.Namespace) -> int:
    from pipeline import store
    from pipeline.core.tables import TABLE_ORDER
    from pipeline.reconcile import diff
    from pipeline.present import report

    output = Path(args.output)
    if args.files:
        tables = store.load_tables(output, store.latest(output) or "",
                                   skip=tuple(t for t in TABLE_ORDER if t not in ("requirements", "sources")))
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
        old, new = _compared(output, old_v, new_v)
        data = report.compare(old, new, version=new_v, previous=old_v, full=True, read_lines=store.source_lines)
    if args.html:
        store.write_export(Path(args.html), report.to_html(data).encode("utf-8"))
    print(report.to_markdown(data))
    if args.exit_code:
        # differ: a category added, removed, renamed or changed, what the report lists (a source
        # whose bytes changed but reads the same, or a conflict's new status, is no difference)
        counts = report.summary(data)
        return 1 if any(counts[k] for k in ("categories_added", "categories_removed", "categories_renamed",
                                            "categories_changed", "categories_new", "categories_gone")) else 0
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """(Re)write output/reports/<version>.md/.html, against the version published before it."""
    from pipeline import store
    from pipeline.present import report
    from pipeline.store.loader import resolve_version

    output = Path(args.output)
    version = resolve_version(args.version, output)
    previous = store.previous_version(output, version)
    old, new = _compared(output, previous, version)
    data = report.compare(old, new, version=version, previous=previous, read_lines=store.source_lines)
    store.write_reports(output, version, {"md": report.to_markdown(data).encode("utf-8"),
                                          "html": report.to_html(data).encode("utf-8")})
    print(f"report: {output / 'reports'}/{version}.md (and .html), compared with {previous or '(no earlier version)'}")
    return 0


def _conflict_ids(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The ids given as arguments and in ``--ids-from`` (``-``: standard input), each with where
    it came from for messages (``FILE:LINE: ``), first mention kept."""
    from pipeline import store
    from pipeline.reconcile import review

    given = [(i, "") for i in args.conflicts]
    if args.ids_from:
        name = "<stdin>" if args.ids_from == "-" else args.ids_from
        if args.ids_from == "-":
            text = store.decode_text(sys.stdin.buffer.read(), name)
        else:
            text = store.read_optional_text(Path(args.ids_from), name)
            if text is None:
                raise PipelineError(f"{name}: no such file")
        given += [(i, f"{name}:{no}: ") for i, no in review.parse_id_list(text, name)]
    if not given:
        raise PipelineError("no conflict id given (as arguments or with --ids-from FILE)")
    first: dict[str, tuple[str, str]] = {}
    for cid, where in given:
        first.setdefault(cid, (cid, where))
    return list(first.values())


def _cmd_decide(args: argparse.Namespace) -> int:
    import datetime as dt

    from pipeline import store
    from pipeline.reconcile import review

    output = Path(args.output)
    version = store.latest(output)
    if version is None:
        raise PipelineError(f"{output}: no dataset yet; run `make build`")
    known = {c["id"]: c for c in store.load_tables(output, version)["conflicts"]}
    chosen = []
    for cid, where in _conflict_ids(args):
        if cid not in known:
            raise PipelineError(f"{where}{cid}: no such conflict in dataset {version}; nothing recorded")
        chosen.append(known[cid])
    date = args.date or dt.date.today().isoformat()
    path = Path(args.file)
    # one update of the file for all of them, under its lock, read again there (another
    # `decide` may have added a decision meanwhile): every decision lands, or none
    store.update_text(path, lambda old: review.add_decisions(old, chosen, args.decision, args.reason,
                                                             args.reviewer, date, str(path)))
    for c in chosen:
        wide = f" (page-wide: {len(c.get('categories') or [])} categories)" if not c.get("category_id") else ""
        print(f"recorded decision on {c['id']}{wide}")
    print(f"in {path}; run `make build` to apply {'them' if len(chosen) > 1 else 'it'}")
    return 0


def _cmd_withdraw(args: argparse.Namespace) -> int:
    import datetime as dt

    from pipeline import store
    from pipeline.reconcile import review

    ids = [cid for cid, _ in _conflict_ids(args)]
    date = args.date or dt.date.today().isoformat()
    path = Path(args.file)
    if store.read_optional_text(path) is None:
        raise PipelineError(f"{path}: no decisions file; nothing to withdraw")
    store.update_text(path, lambda old: review.withdraw_decisions(old, ids, args.reason, args.reviewer, date,
                                                                  str(path)))
    for cid in ids:
        print(f"withdrew the decision on {cid} (kept in {path} as [[withdrawn]])")
    print("run `make build`: the conflicts are open again")
    return 0


def _emit(text: str, fmt: str) -> None:
    """Print a listing. JSON and CSV are UTF-8 whatever the terminal's locale (a file made
    with `> x.csv` keeps its Chinese); text goes through the terminal's encoding."""
    if fmt == "text":
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _cmd_categories(args: argparse.Namespace) -> int:
    from pipeline.present import listing
    from pipeline.store.loader import load

    tables = load(args.dataset, args.output, records=True, tables=("categories", "current"))
    rows = listing.category_rows(tables["categories"], tables["current"])
    _emit(listing.render(rows, args.format, listing.CATEGORY_COLUMNS, listing.CATEGORY_TEXT_COLUMNS), args.format)
    return 0


def _cmd_conflicts(args: argparse.Namespace) -> int:
    from pipeline.present import listing
    from pipeline.store.loader import load

    tables = load(args.dataset, args.output, records=True, tables=("conflicts",))
    found = listing.filter_conflicts(tables["conflicts"], status=_values(args.status, listing.STATUSES, "--status"),
                                     severity=_values(args.severity, listing.SEVERITIES, "--severity"),
                                     page=_values(args.page))
    rows = listing.conflict_rows(found)
    _emit(listing.render(rows, args.format, listing.CONFLICT_COLUMNS, listing.CONFLICT_TEXT_COLUMNS), args.format)
    return 0


def _values(given: list[str], allowed: tuple[str, ...] | None = None, option: str = "") -> list[str]:
    """A filter's values: the option repeated, or a comma list (``--status open,stale``)."""
    out = [v.strip() for g in given for v in g.split(",") if v.strip()]
    bad = [v for v in out if allowed is not None and v not in allowed]
    if bad:
        raise PipelineError(f"{option} {bad[0]!r}: not one of {', '.join(allowed)}")
    return out


def _cmd_versions(args: argparse.Namespace) -> int:
    from pipeline import store
    from pipeline.present import listing

    output = Path(args.output)
    versions = store.versions(output)
    rows = listing.version_rows(versions, store.history(output), store.latest(output),
                                {v for v in versions if store.has_reports(output, v)})
    _emit(listing.render(rows, args.format, listing.VERSION_COLUMNS), args.format)
    return 0


def _cmd_decisions(args: argparse.Namespace) -> int:
    from pipeline import store
    from pipeline.reconcile import review
    from pipeline.present import listing
    from pipeline.store.loader import load

    path = Path(args.file)
    text = store.read_optional_text(path)
    parsed = review.read_decisions(text or "", str(path))
    tables = load(args.dataset, args.output, records=True, tables=("conflicts", "reviews"))
    rows = listing.decision_rows(parsed, tables["conflicts"], tables["reviews"])
    status = _values(args.status, listing.DECISION_STATUSES, "--status")
    rows = [r for r in rows if not status or r["status"] in status]
    _emit(listing.render(rows, args.format, listing.DECISION_COLUMNS, listing.DECISION_TEXT_COLUMNS), args.format)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    import json

    from pipeline.present import show
    from pipeline.store.loader import load, resolve_version

    version = resolve_version(args.dataset, Path(args.output))
    tables = load(version, args.output, records=True, tables=("categories", "current"))
    exact, partial, suggestions = show.find(args.category, tables["categories"])
    if not (exact or partial):
        hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else ""
        raise PipelineError(f"no category matches {args.category!r}{hint}")
    # details for the categories the query names, or for every match when it names none and
    # they are few (or --all); a list of every match comes first whenever there are several
    detailed = exact or (partial if len(partial) <= show.DETAILS_MAX or args.all else [])
    if args.all:
        detailed = exact + partial
    # of the large tables, only the records that name the categories shown (describe picks
    # what is about each): a category of a 5,000-document archive held the whole of both
    tables |= load(version, args.output, records=True, tables=("requirements", "conflicts"),
                   mentioning=detailed)
    described = [show.describe(cid, tables) for cid in detailed]
    if args.format == "json":
        _emit(json.dumps({"query": args.category, "named": exact, "partial": partial, "categories": described},
                         ensure_ascii=False, indent=1, sort_keys=True) + "\n", "json")
        return 0
    parts = []
    if len(exact) + len(partial) > 1:
        parts.append(show.matches_text(args.category, exact, partial, tables["categories"], tables["current"]))
        if len(detailed) < len(exact) + len(partial):
            parts.append(f"details below for {len(detailed)} of them; name one (or add --all) for the others"
                         if detailed else "name one of them (or add --all) for its details")
    parts += [show.to_text(d) for d in described]
    print(visible(("\n\n" + "=" * 72 + "\n").join(parts)))
    return 0


def _cmd_sources(args: argparse.Namespace) -> int:
    import json

    from pipeline.present import listing
    from pipeline.store.loader import load

    tables = load(args.dataset, args.output, records=True, tables=("sources",))
    if args.format == "json":  # the whole records, as `sources --json` always gave them
        _emit(json.dumps(tables["sources"], ensure_ascii=False, indent=1, sort_keys=True) + "\n", "json")
        return 0
    rows = listing.source_rows(tables["sources"])
    _emit(listing.render(rows, args.format, listing.SOURCE_COLUMNS), args.format)
    return 0


def _export_tables(args: argparse.Namespace) -> tuple[str, dict]:
    """The version named and the tables an export reads (a version older than a table has it empty)."""
    from pipeline.store.loader import load, resolve_version

    version = resolve_version(args.dataset, Path(args.output))
    return version, load(version, args.output, records=True, tables=("current", "conflicts"))


def _cmd_export(args: argparse.Namespace) -> int:
    import datetime as dt

    from pipeline import store
    from pipeline.present import export

    out = Path(args.out) if args.out else None
    if out is not None and args.format == "csv" and args.what == "all" and out.exists() and not out.is_dir():
        raise PipelineError(f"{out}: a CSV export of every table needs a folder (one file per table), not a file")
    version, tables = _export_tables(args)
    if args.what in ("current", "all") and not store.has_table(Path(args.output), version, "current"):
        raise PipelineError(f"dataset {version} has no `current` table (it was built before the table "
                            f"existed): run `make build`, or export --what conflicts")
    # (a folder named with a trailing slash need not exist yet)
    is_dir = out is not None and (out.is_dir() or args.out.endswith(os.sep))
    targets = export.export_targets(args.what, args.format, version, out, is_dir)
    rows = {t: export.table_rows(t, tables) for t in export.TABLES if args.what in (t, "all")}
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    for path, names in targets:
        if args.format == "csv":
            (name,) = names
            store.write_export(path, export.csv_bytes(*rows[name]))
        else:
            cut: list[str] = []
            wb = export.workbook({n: rows[n] for n in names}, version=version, exported_at=when, about=export.ABOUT,
                                 warnings=cut)
            store.write_export(path, export.workbook_bytes(wb))
            for w in cut:
                print(visible(f"warning: {path}: {w}"), file=sys.stderr)
        counts = ", ".join(f"{len(rows[n][1])} rows of {n}" for n in names)
        print(f"wrote {path}: {counts} (dataset {version})")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from pipeline.present import export
    from pipeline.store.loader import load, resolve_version

    version = resolve_version(args.dataset, Path(args.output))
    found = export.open_conflicts(load(version, args.output, records=True, tables=("conflicts",))["conflicts"],
                                  args.severity)
    label = "high-severity" if args.severity == "high" else f"{args.severity}-or-higher-severity"
    if not found:
        print(f"no open {label} conflicts in dataset {version}")
        return 0
    print(f"{len(found)} open {label} conflicts in dataset {version} (open or stale; decide them, see README):")
    for line in export.check_lines(found):
        print(line)
    return 1


def _cmd_schema(args: argparse.Namespace) -> int:
    from pipeline.core.tables import SCHEMA_VERSION, schema_markdown

    print(f"Schema version {SCHEMA_VERSION}.\n\n{schema_markdown()}")
    return 0


def _add_export_parsers(sub, dataset, output) -> None:
    from pipeline.present.export import SEVERITIES

    ex = sub.add_parser("export", parents=[dataset, output], help="the current requirements and the open conflicts as CSV or an Excel "
                                       "workbook, one row per entry (for compliance staff's own tools)")
    ex.add_argument("--what", choices=("current", "conflicts", "all"), default="all",
                    help="current: the current requirements, one row per category, statement and entry; "
                         "conflicts: open and stale conflicts, one row per value; all: both (default)")
    ex.add_argument("--format", choices=("xlsx", "csv"), default="xlsx",
                    help="xlsx: one workbook, a sheet per table and an 'about' sheet (default); "
                         "csv: UTF-8 with a byte order mark (Excel reads the Chinese right), a file per table")
    ex.add_argument("--out", metavar="PATH",
                    help="the file to write (a workbook, or one table as CSV), or a folder (CSV of all "
                         "tables: one file per table; an existing folder: default names inside it); "
                         "default: compliance-<version>.xlsx / <table>-<version>.csv in the current folder")
    ex.set_defaults(func=_cmd_export)
    ck = sub.add_parser("check", parents=[dataset, output], help="for CI and scheduled runs: exit 1, listing them, when the dataset has "
                                      "open (or stale) conflicts of high severity; exit 0 when it has none")
    ck.add_argument("--severity", choices=SEVERITIES, default="high",
                    help="the least severity that fails the check (default: high; medium: medium or high)")
    ck.set_defaults(func=_cmd_check)


class _ShowVersion(argparse.Action):
    """``--version``: the tool's version and the schema version of the datasets it writes."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from pipeline import __version__
        from pipeline.core.tables import SCHEMA_VERSION

        print(f"pipeline {__version__} (writes dataset schema {SCHEMA_VERSION})")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option has help text (tests/test_cli.py walks it)."""
    from pipeline.present.listing import DECISION_STATUSES, FORMATS, SEVERITIES, STATUSES

    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="Tencent compliance documentation -> datasets")
    parser.add_argument("--version", action=_ShowVersion,
                        help="print the tool's version and its dataset schema version, and exit "
                             "(a command's --dataset picks a dataset version)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--output", default="output", metavar="DIR",
                        help="output folder holding the datasets (default: output)")
    dataset = argparse.ArgumentParser(add_help=False)
    dataset.add_argument("--dataset", default="latest", metavar="VERSION",
                         help="dataset version to read (default: latest)")
    # show and sources had this option as `--version` first: that name stays for them (only
    # there; at the top level `--version` is the tool's version)
    dataset_or_version = argparse.ArgumentParser(add_help=False)
    dataset_or_version.add_argument("--dataset", "--version", dest="dataset", default="latest", metavar="VERSION",
                                    help="dataset version to read (default: latest; --version is the same "
                                         "option, kept for old scripts)")

    def formats(p: argparse.ArgumentParser, choices=FORMATS, json_alias: bool = False) -> None:
        p.add_argument("--format", choices=choices, default="text",
                       help=f"output format: {', '.join(choices)} (default: text; json and csv are UTF-8)")
        if json_alias:
            p.add_argument("--json", dest="format", action="store_const", const="json",
                           help="same as --format json")

    b = sub.add_parser("build", help="parse raw/ (and --raw folders) into a new dataset version", parents=[output])
    b.add_argument("--raw", action="append", default=[], metavar="DIR",
                   help="an extra folder of documents (repeatable), e.g. ../shared/corpus")
    b.add_argument("--jobs", type=int, default=None, metavar="N", help="parser processes (default: one per core)")
    b.add_argument("--no-cache", action="store_true", help="parse every source again (ignore the cache)")
    b.set_defaults(func=_cmd_build)
    d = sub.add_parser("diff", parents=[output],
                       help="what changed between two dataset versions (default: previous -> latest), "
                            "or between two sources of the latest dataset (--files A B)")
    d.add_argument("a", nargs="?", help="older dataset version (default: the one before B)")
    d.add_argument("b", nargs="?", help="newer dataset version (default: latest)")
    d.add_argument("--files", nargs=2, metavar=("A", "B"), help="two source files (two versions of one page)")
    d.add_argument("--html", metavar="FILE", help="also write the report as a self-contained HTML page")
    d.add_argument("--exit-code", action="store_true",
                   help="exit 1 when they differ, 0 when not (as git diff --exit-code): they differ when a "
                        "category is added, removed, renamed or changed (the report's summary counts, "
                        "categories new to or gone from the dataset included); "
                        "a source whose bytes changed but whose requirements read the same does not count")
    d.set_defaults(func=_cmd_diff)

    def ids(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("conflicts", nargs="*", metavar="ID", help=f"conflict id(s) (cfl_…) to {what}")
        p.add_argument("--ids-from", metavar="FILE",
                       help="also the ids in FILE, one per line (# comments and blank lines allowed; - reads "
                            "standard input); a line that is no id stops with FILE:LINE and writes nothing")
        p.add_argument("--date", help="YYYY-MM-DD (default: today)")
        p.add_argument("--file", default="review/decisions.toml", help="decisions file (default: %(default)s)")

    r = sub.add_parser("decide", parents=[output],
                       help="record one decision on one or more conflicts in review/decisions.toml",
                       description="Record a decision on one or more conflicts, all in one atomic update of "
                                   "the decisions file, or none. A page-wide conflict (one id, the same change in "
                                   "many categories of a page) is decided once for all its categories.")
    ids(r, "decide")
    r.add_argument("--decision", required=True, help="what was decided, e.g. 'follow newest'")
    r.add_argument("--reason", required=True, help="why")
    r.add_argument("--reviewer", required=True, help="who decided")
    r.set_defaults(func=_cmd_decide)
    w = sub.add_parser("withdraw", help="withdraw decisions: kept in the decisions file as [[withdrawn]], "
                                        "their conflicts open again at the next build")
    ids(w, "withdraw the decisions on")
    w.add_argument("--reason", required=True, help="why the decision is withdrawn")
    w.add_argument("--reviewer", required=True, help="who withdraws it")
    w.set_defaults(func=_cmd_withdraw)
    sh = sub.add_parser("show", help="what a category needs today, its history and open conflicts",
                        parents=[dataset_or_version, output])
    sh.add_argument("category", help="canonical path (金融业/公募基金), any spelling seen (金融-基金), or part of a name")
    formats(sh, ("text", "json"), json_alias=True)
    sh.add_argument("--all", action="store_true", help="details of every match, not only those the name names")
    sh.set_defaults(func=_cmd_show)
    so = sub.add_parser("sources", help="every source with its format, pages, dates and record count",
                        parents=[dataset_or_version, output])
    formats(so, json_alias=True)
    so.set_defaults(func=_cmd_sources)
    ca = sub.add_parser("categories", help="every capability + category: status, open conflicts, pages",
                        parents=[dataset, output])
    formats(ca)
    ca.set_defaults(func=_cmd_categories)
    co = sub.add_parser("conflicts", help="the conflicts of a dataset version, filtered", parents=[dataset, output])
    co.add_argument("--status", action="append", default=[], metavar="S",
                    help=f"only these statuses ({', '.join(STATUSES)}); repeatable or comma-separated")
    co.add_argument("--severity", action="append", default=[], metavar="S",
                    help=f"only these severities ({', '.join(SEVERITIES)}); repeatable or comma-separated")
    co.add_argument("--page", action="append", default=[], metavar="P",
                    help="only conflicts about a page whose key holds P (any case; e.g. a URL's number or a "
                         "title); repeatable or comma-separated")
    formats(co)
    co.set_defaults(func=_cmd_conflicts)
    ve = sub.add_parser("versions", help="every published dataset version, when it was published, which is LATEST",
                        parents=[output])
    formats(ve)
    ve.set_defaults(func=_cmd_versions)
    de = sub.add_parser("decisions", help="the decisions recorded, withdrawn ones too, with their status against "
                                          "a dataset version", parents=[dataset, output])
    de.add_argument("--file", default="review/decisions.toml", help="decisions file (default: %(default)s)")
    de.add_argument("--status", action="append", default=[], metavar="S",
                    help=f"only these statuses ({', '.join(DECISION_STATUSES)}); repeatable or comma-separated")
    formats(de)
    de.set_defaults(func=_cmd_decisions)
    rp = sub.add_parser("report", help="(re)write the review report of a dataset version", parents=[output])
    rp.add_argument("version", nargs="?", default="latest", help="dataset version (default: latest)")
    rp.set_defaults(func=_cmd_report)
    _add_export_parsers(sub, dataset, output)
    sc = sub.add_parser("schema", help="print the published tables' fields as Markdown")
    sc.set_defaults(func=_cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # a terminal that cannot show Chinese (a latin-1 or ASCII locale) gets \uXXXX escapes
    # rather than a UnicodeEncodeError traceback halfway through the text
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
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
