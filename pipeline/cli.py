"""Command line: ``python -m pipeline build|…``. Only argument parsing and messages live here."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import sys
from pathlib import Path

from pipeline.core.errors import PipelineError
from pipeline.core.normalize import visible
from pipeline.core.tables import SCHEMA_VERSION, SEVERITY_ORDER, TABLE_ORDER, schema_markdown

#: what ``decide`` reads of a dataset: its conflicts
_ALL_BUT_CONFLICTS = tuple(t for t in TABLE_ORDER if t != "conflicts")


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
                       progress=True, feed_base=_feed_base(None))
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


#: where ``output/`` is served, for the links of ``output/feed.atom`` (README, "A feed of changes")
FEED_BASE_ENV = "PIPELINE_FEED_BASE_URL"


def _feed_base(given: str | None) -> str | None:
    """The feed's base URL: ``given``, else ``$PIPELINE_FEED_BASE_URL``, else None (links
    relative to the feed). An http(s) URL without spaces or quotes, ending in ``/``."""

    url = given if given is not None else os.environ.get(FEED_BASE_ENV) or None
    if url is None:
        return None
    if not re.fullmatch(r"https?://[^\s\"'<>]+", url):
        raise PipelineError(f"{'--base-url' if given is not None else FEED_BASE_ENV} {url!r}: not an http(s) URL "
                            f"(where output/ is served, e.g. https://example.org/compliance/)")
    return url if url.endswith("/") else url + "/"


def _cmd_feed(args: argparse.Namespace) -> int:
    from pipeline.build import write_feed

    output = Path(args.output)
    n, warnings = write_feed(output, _feed_base(args.base_url))
    print(f"wrote {output}/feed.atom: {n} entries, one per published version")
    for w in warnings:
        print(visible(f"warning: {w}"), file=sys.stderr)
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from pipeline.build import diff_report

    files = tuple(args.files) if args.files else None
    markdown, counts = diff_report(Path(args.output), files=files, a=args.a, b=args.b,
                                   html=Path(args.html) if args.html else None)
    print(markdown)
    if args.exit_code:
        # differ: a category added, removed, renamed or changed, what the report lists (a source
        # whose bytes changed but reads the same, or a conflict's new status, is no difference)
        return 1 if any(counts[k] for k in ("categories_added", "categories_removed", "categories_renamed",
                                            "categories_changed", "categories_new", "categories_gone")) else 0
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """(Re)write output/reports/<version>.md/.html, against the version published before it."""
    from pipeline.build import rewrite_reports

    output = Path(args.output)
    version, previous = rewrite_reports(output, args.version)
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

    from pipeline import store
    from pipeline.reconcile import review

    if args.sheet:
        return _decide_from_sheet(args)
    lacking = [f"--{k}" for k in ("decision", "reason", "reviewer") if getattr(args, k) is None]
    if lacking:
        raise PipelineError(f"decide: {', '.join(lacking)} needed (or --from FILE, a decide sheet)")
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


def _decide_from_sheet(args: argparse.Namespace) -> int:
    """``decide --from FILE``: every filled row of a decide sheet (``export``'s workbook or CSV)
    in one update of the decisions file, or none (each row that cannot be, one line)."""

    from pipeline import store
    from pipeline.present import export
    from pipeline.reconcile import review

    if args.conflicts or args.ids_from or any(getattr(args, k) is not None for k in ("decision", "reason", "reviewer")):
        raise PipelineError("decide --from FILE takes the ids, decisions, reasons and reviewers from the sheet; "
                            "give no ids, --ids-from, --decision, --reason or --reviewer with it")
    output = Path(args.output)
    version = store.latest(output)
    if version is None:
        raise PipelineError(f"{output}: no dataset yet; run `make build`")
    data = store.read_optional_bytes(Path(args.sheet), args.sheet)
    if data is None:
        raise PipelineError(f"{args.sheet}: no such file")
    rows = export.read_decide_sheet(data, args.sheet)
    filled = [r for r in rows if r.filled()]
    if not filled:
        print(f"{args.sheet}: no row has a decision typed in it; nothing recorded")
        return 0
    known = {c["id"]: c for c in store.load_tables(output, version, skip=_ALL_BUT_CONFLICTS)["conflicts"]}
    date = args.date or dt.date.today().isoformat()
    path = Path(args.file)
    done: list[review.SheetImport] = []

    def change(old: str | None) -> str:
        new, result = review.sheet_decisions(old, filled, known, version, date, str(path))
        done.append(result)
        return new

    store.update_text(path, change)
    result = done[-1]
    for r in result.recorded:
        print(f"recorded decision on {r.conflict} ({r.where}: {r.decision})")
    if not result.recorded:
        print(f"nothing new: the {len(result.already)} decision(s) in {args.sheet} are already in {path}")
        return 0
    if result.already:
        print(f"{len(result.already)} row(s) already in {path}, not added again")
    print(f"in {path}; run `make build` to apply {'them' if len(result.recorded) > 1 else 'it'}")
    return 0


def _cmd_withdraw(args: argparse.Namespace) -> int:

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


def _tables(args: argparse.Namespace, names: tuple[str, ...]) -> tuple[dict, object]:
    """A version's tables, and with ``--as-of`` the answer as of that day
    (``pipeline.load_as_of``) and what it was made from (None without)."""
    from pipeline import load_as_of
    from pipeline.store.loader import load

    if getattr(args, "as_of", None):
        return load_as_of(args.as_of, args.dataset, args.output, records=True, tables=names)
    return load(args.dataset, args.output, records=True, tables=names), None


def _cmd_show(args: argparse.Namespace) -> int:

    from pipeline.present import show
    from pipeline.present.words import as_of_words
    from pipeline.store.loader import load, resolve_version

    if getattr(args, "as_of", None):  # (the answer as of a day is reconciled from every capture)
        tables, as_of = _tables(args, ("requirements", "categories", "conflicts", "current", "pages"))
    else:
        version = resolve_version(args.dataset, Path(args.output))
        tables, as_of = load(version, args.output, records=True, tables=("categories", "current", "pages")), None
    exact, partial, suggestions = show.find(args.category, tables["categories"])
    if not (exact or partial):
        hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else ""
        raise PipelineError(f"no category matches {args.category!r}{hint}"
                            + (f" ({as_of_words(as_of)})" if as_of else ""))
    # details for the categories the query names, or for every match when it names none and
    # they are few (or --all); a list of every match comes first whenever there are several
    detailed = exact or (partial if len(partial) <= show.DETAILS_MAX or args.all else [])
    if args.all:
        detailed = exact + partial
    if as_of is None:
        # of the large tables, only the records that name the categories shown (describe picks
        # what is about each): a category of a 5,000-document archive held the whole of both
        tables |= load(version, args.output, records=True, tables=("requirements", "conflicts"),
                       mentioning=detailed)
    if args.format == "json":
        described = [dict(show.describe(cid, tables), **({"history_lines": show.history_lines(cid, tables)}
                                                          if args.history else {})) for cid in detailed]
        said = {"query": args.category, "named": exact, "partial": partial, "categories": described}
        if as_of:
            said["as_of"] = {"day": as_of.day, "captures_used": as_of.used, "captures_later": as_of.later,
                             "captures_undated": as_of.undated, "said": as_of_words(as_of)}
        _emit(json.dumps(said, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "json")
        return 0
    parts = []
    if len(exact) + len(partial) > 1:
        parts.append(show.matches_text(args.category, exact, partial, tables["categories"], tables["current"]))
        if len(detailed) < len(exact) + len(partial):
            parts.append(f"details below for {len(detailed)} of them; name one (or add --all) for the others"
                         if detailed else "name one of them (or add --all) for its details")
    if args.history:
        parts += ["\n".join([show.title_line(cid, tables), "History: one line per version that changed what "
                             "its page says of it"] + show.history_lines(cid, tables)) for cid in detailed]
    else:
        parts += [show.to_text(show.describe(cid, tables)) for cid in detailed]
    head = f"{as_of_words(as_of)}\n\n" if as_of else ""
    print(visible(head + ("\n\n" + "=" * 72 + "\n").join(parts)))
    return 0


def _cmd_sources(args: argparse.Namespace) -> int:

    from pipeline.present import listing
    from pipeline.store.loader import load

    tables = load(args.dataset, args.output, records=True, tables=("sources",))
    if args.format == "json":  # the whole records, as `sources --json` always gave them
        _emit(json.dumps(tables["sources"], ensure_ascii=False, indent=1, sort_keys=True) + "\n", "json")
        return 0
    rows = listing.source_rows(tables["sources"])
    _emit(listing.render(rows, args.format, listing.SOURCE_COLUMNS), args.format)
    return 0


def _export_tables(args: argparse.Namespace) -> tuple[str, dict, object]:
    """The version named, the tables an export reads (a version older than a table has it
    empty), as of ``--as-of``'s day where given, and what that answer was made from."""
    from pipeline.store.loader import resolve_version

    version = resolve_version(args.dataset, Path(args.output))
    args.dataset = version
    tables, as_of = _tables(args, ("current", "conflicts"))
    return version, tables, as_of


def _cmd_export(args: argparse.Namespace) -> int:

    from pipeline import store
    from pipeline.present import export
    from pipeline.present.words import as_of_words

    if args.format == "sqlite":
        return _export_sqlite(args)
    out = Path(args.out) if args.out else None
    if out is not None and args.format == "csv" and args.what == "all" and out.exists() and not out.is_dir():
        raise PipelineError(f"{out}: a CSV export of every table needs a folder (one file per table), not a file")
    if args.as_of and args.what == "decide":
        raise PipelineError("export --as-of: no decide sheet (decisions are made on today's values); "
                            "export --what decide without --as-of")
    if args.what in ("current", "all") and not store.has_table(Path(args.output), _version(args), "current"):
        raise PipelineError(f"dataset {_version(args)} has no `current` table (it was built before the table "
                            f"existed): run `make build`, or export --what conflicts")
    version, tables, as_of = _export_tables(args)
    # (a folder named with a trailing slash need not exist yet)
    is_dir = out is not None and (out.is_dir() or args.out.endswith(os.sep))
    # an answer as of a day is named after it, and has no decide sheet
    label = f"{version}-as-of-{as_of.day}" if as_of else version
    what = tuple(t for t in export.TABLES if args.what in (t, "all") and not (as_of and t == export.DECIDE))
    targets = export.export_targets(what, args.format, label, out, is_dir)
    rows = {t: export.table_rows(t, tables) for t in what}
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    about = export.ABOUT + ([("as of", as_of_words(as_of))] if as_of else [])
    if as_of:
        print(as_of_words(as_of))
    for path, names in targets:
        if args.format == "csv":
            (name,) = names
            store.write_export(path, export.csv_bytes(*rows[name]))
        else:
            cut: list[str] = []
            wb = export.workbook({n: rows[n] for n in names}, version=version, exported_at=when, about=about,
                                 warnings=cut)
            store.write_export(path, export.workbook_bytes(wb))
            for w in cut:
                print(visible(f"warning: {path}: {w}"), file=sys.stderr)
        counts = ", ".join(f"{len(rows[n][1])} rows of {n}" for n in names)
        print(f"wrote {path}: {counts} (dataset {version}{', as of ' + as_of.day if as_of else ''})")
    return 0


def _export_sqlite(args: argparse.Namespace) -> int:
    """``export --format sqlite``: every table of the database (``present.database``) in one
    file, written whole or not at all (``store.write_database``)."""

    from pipeline import store
    from pipeline.present import database, export, listing
    from pipeline.store.database import write_database
    from pipeline.store.loader import load, resolve_version

    if args.what != "all":
        raise PipelineError("--format sqlite writes every table (requirements, conflicts, versions, sources): "
                            "leave out --what")
    if args.as_of:  # (the database is today's answer: never a silent one for another day)
        raise PipelineError("export --format sqlite --as-of: the database holds today's answer only; "
                            "export --as-of as xlsx or csv")
    output = Path(args.output)
    version = resolve_version(args.dataset, output)
    tables = load(version, args.output, records=True, tables=("current", "conflicts", "sources"))
    versions = store.versions(output)
    rows = listing.version_rows(versions, store.history(output), store.latest(output),
                                {v for v in versions if store.has_reports(output, v)})
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    spec = database.database_tables(version, tables, rows, listing.source_rows(tables["sources"]), when)
    given = Path(args.out) if args.out else None
    # (a folder named with a trailing slash need not exist yet)
    out = export.target_path(f"compliance-{version}.db", given,
                             given is not None and (given.is_dir() or args.out.endswith(os.sep)))
    write_database(out, spec, database.index_text)
    counts = ", ".join(f"{len(t[1])} rows of {n}" for n, t in spec.items() if n != "about")
    print(f"wrote {out}: {counts} (dataset {version}); browse it: datasette {out}")
    return 0


def _version(args: argparse.Namespace) -> str:
    from pipeline.store.loader import resolve_version

    return resolve_version(args.dataset, Path(args.output))


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

    print(f"Schema version {SCHEMA_VERSION}.\n\n{schema_markdown()}")
    return 0


def _add_decide_parsers(sub, output) -> None:
    """``decide`` and ``withdraw``: what people type about conflicts."""
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
    r.add_argument("--decision", help="what was decided, e.g. 'follow newest' (needed unless --from)")
    r.add_argument("--reason", help="why (needed unless --from)")
    r.add_argument("--reviewer", help="who decided (needed unless --from)")
    r.add_argument("--from", dest="sheet", metavar="FILE",
                   help="the decisions typed in a decide sheet (`export`'s workbook, or its decide CSV): every "
                        "filled row recorded in one update, or none; a row that cannot be is named "
                        "FILE:decide!ROW (FILE:LINE for a CSV) with what was typed in it")
    r.set_defaults(func=_cmd_decide)
    w = sub.add_parser("withdraw", help="withdraw decisions: kept in the decisions file as [[withdrawn]], "
                                        "their conflicts open again at the next build")
    ids(w, "withdraw the decisions on")
    w.add_argument("--reason", required=True, help="why the decision is withdrawn")
    w.add_argument("--reviewer", required=True, help="who withdraws it")
    w.set_defaults(func=_cmd_withdraw)


def _add_export_parsers(sub, dataset, output) -> None:
    # (from their home, not from present.export: every command builds this parser, and export
    # imports the reconcile stage, which a Ctrl-C during a build's first second would interrupt)

    fe = sub.add_parser("feed", parents=[output], help="(re)write output/feed.atom, one Atom entry per published "
                                                      "version (a build writes it too)")
    fe.add_argument("--base-url", metavar="URL",
                    help=f"where output/ is served, for absolute links (default: ${FEED_BASE_ENV}, else links "
                         f"relative to the feed)")
    fe.set_defaults(func=_cmd_feed)

    ex = sub.add_parser("export", parents=[dataset, output], help="the current requirements and the open conflicts as CSV or an Excel "
                                       "workbook, one row per entry (for compliance staff's own tools)")
    ex.add_argument("--what", choices=("current", "conflicts", "decide", "all"), default="all",
                    help="current: the current requirements, one row per category, statement and entry; "
                         "conflicts: open and stale conflicts, one row per value; decide: open and stale "
                         "conflicts, one row each, to type decisions in (read back by `decide --from`); "
                         "all: the three (default)")
    ex.add_argument("--format", choices=("xlsx", "csv", "sqlite"), default="xlsx",
                    help="xlsx: one workbook, a sheet per table and an 'about' sheet (default); "
                         "csv: UTF-8 with a byte order mark (Excel reads the Chinese right), a file per table; "
                         "sqlite: one database (requirements with full-text search, conflicts, versions, sources) "
                         "for Datasette or any SQLite tool")
    ex.add_argument("--out", metavar="PATH",
                    help="the file to write (a workbook, or one table as CSV), or a folder (CSV of all "
                         "tables: one file per table; an existing folder: default names inside it); "
                         "default: compliance-<version>.xlsx / <table>-<version>.csv in the current folder")
    ex.add_argument("--as-of", metavar="YYYY-MM-DD",
                    help="the current requirements and conflicts as of that day: from the captures dated on or "
                         "before it, reconciled as a build would have then (undated captures left out and "
                         "counted); no decide sheet; files named <version>-as-of-<day>")
    ex.set_defaults(func=_cmd_export)
    ck = sub.add_parser("check", parents=[dataset, output], help="for CI and scheduled runs: exit 1, listing them, when the dataset has "
                                      "open (or stale) conflicts of high severity; exit 0 when it has none")
    ck.add_argument("--severity", choices=SEVERITY_ORDER, default="high",
                    help="the least severity that fails the check (default: high; medium: medium or high)")
    ck.set_defaults(func=_cmd_check)


class _ShowVersion(argparse.Action):
    """``--version``: the tool's version and the schema version of the datasets it writes."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from pipeline import __version__

        print(f"pipeline {__version__} (writes dataset schema {SCHEMA_VERSION})")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option has help text (tests/test_cli.py walks it). Commands are
    added in the order ``--help`` lists them."""
    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="Tencent compliance documentation -> datasets")
    parser.add_argument("--version", action=_ShowVersion,
                        help="print the tool's version and its dataset schema version, and exit "
                             "(a command's --dataset picks a dataset version)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _Common()
    _add_build_parsers(sub, common)
    _add_decide_parsers(sub, common.output)
    _add_reading_parsers(sub, common)
    _add_listing_parsers(sub, common)
    rp = sub.add_parser("report", help="(re)write the review report of a dataset version", parents=[common.output])
    rp.add_argument("version", nargs="?", default="latest", help="dataset version (default: latest)")
    rp.set_defaults(func=_cmd_report)
    _add_export_parsers(sub, common.dataset, common.output)
    sc = sub.add_parser("schema", help="print the published tables' fields as Markdown")
    sc.set_defaults(func=_cmd_schema)
    return parser


class _Common:
    """The options several commands share, as argparse parents."""

    def __init__(self):
        self.output = argparse.ArgumentParser(add_help=False)
        self.output.add_argument("--output", default="output", metavar="DIR",
                                 help="output folder holding the datasets (default: output)")
        self.dataset = argparse.ArgumentParser(add_help=False)
        self.dataset.add_argument("--dataset", default="latest", metavar="VERSION",
                                  help="dataset version to read (default: latest)")
        # show and sources had this option as `--version` first: that name stays for them (only
        # there; at the top level `--version` is the tool's version)
        self.dataset_or_version = argparse.ArgumentParser(add_help=False)
        self.dataset_or_version.add_argument(
            "--dataset", "--version", dest="dataset", default="latest", metavar="VERSION",
            help="dataset version to read (default: latest; --version is the same option, kept for old scripts)")

    @staticmethod
    def as_of(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as-of", metavar="YYYY-MM-DD",
                       help="answer from the captures dated on or before that day (the page's own date, else "
                            "the capture's), reconciled as a build would have then; undated captures are left "
                            "out and counted")

    @staticmethod
    def formats(p: argparse.ArgumentParser, choices=None, json_alias: bool = False) -> None:
        from pipeline.present.listing import FORMATS

        choices = choices or FORMATS
        p.add_argument("--format", choices=choices, default="text",
                       help=f"output format: {', '.join(choices)} (default: text; json and csv are UTF-8)")
        if json_alias:
            p.add_argument("--json", dest="format", action="store_const", const="json",
                           help="same as --format json")


def _add_build_parsers(sub, common: _Common) -> None:
    """build and diff."""
    b = sub.add_parser("build", help="parse raw/ (and --raw folders) into a new dataset version",
                       parents=[common.output])
    b.add_argument("--raw", action="append", default=[], metavar="DIR",
                   help="an extra folder of documents (repeatable), e.g. ../shared/corpus")
    b.add_argument("--jobs", type=int, default=None, metavar="N", help="parser processes (default: one per core)")
    b.add_argument("--no-cache", action="store_true", help="parse every source again (ignore the cache)")
    b.set_defaults(func=_cmd_build)
    d = sub.add_parser("diff", parents=[common.output],
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


def _add_reading_parsers(sub, common: _Common) -> None:
    """show and sources."""
    sh = sub.add_parser("show", help="what a category needs today, its history and open conflicts",
                        parents=[common.dataset_or_version, common.output])
    sh.add_argument("category", help="canonical path (金融业/公募基金), any spelling seen (金融-基金), or part of a name")
    common.formats(sh, ("text", "json"), json_alias=True)
    sh.add_argument("--all", action="store_true", help="details of every match, not only those the name names")
    sh.add_argument("--history", action="store_true",
                    help="instead of the details: per page, one line per version in which what it says of the "
                         "category changed (date, rule, entries gained and lost, what changed, file:line)")
    common.as_of(sh)
    sh.set_defaults(func=_cmd_show)
    so = sub.add_parser("sources", help="every source with its format, pages, dates and record count",
                        parents=[common.dataset_or_version, common.output])
    common.formats(so, json_alias=True)
    so.set_defaults(func=_cmd_sources)


def _add_listing_parsers(sub, common: _Common) -> None:
    """categories, conflicts, versions and decisions."""
    from pipeline.present.listing import DECISION_STATUSES, SEVERITIES, STATUSES

    ca = sub.add_parser("categories", help="every capability + category: status, open conflicts, pages",
                        parents=[common.dataset, common.output])
    common.formats(ca)
    ca.set_defaults(func=_cmd_categories)
    co = sub.add_parser("conflicts", help="the conflicts of a dataset version, filtered",
                        parents=[common.dataset, common.output])
    co.add_argument("--status", action="append", default=[], metavar="S",
                    help=f"only these statuses ({', '.join(STATUSES)}); repeatable or comma-separated")
    co.add_argument("--severity", action="append", default=[], metavar="S",
                    help=f"only these severities ({', '.join(SEVERITIES)}); repeatable or comma-separated")
    co.add_argument("--page", action="append", default=[], metavar="P",
                    help="only conflicts about a page whose key holds P (any case; e.g. a URL's number or a "
                         "title); repeatable or comma-separated")
    common.formats(co)
    co.set_defaults(func=_cmd_conflicts)
    ve = sub.add_parser("versions", help="every published dataset version, when it was published, which is LATEST",
                        parents=[common.output])
    common.formats(ve)
    ve.set_defaults(func=_cmd_versions)
    de = sub.add_parser("decisions", help="the decisions recorded, withdrawn ones too, with their status against "
                                          "a dataset version", parents=[common.dataset, common.output])
    de.add_argument("--file", default="review/decisions.toml", help="decisions file (default: %(default)s)")
    de.add_argument("--status", action="append", default=[], metavar="S",
                    help=f"only these statuses ({', '.join(DECISION_STATUSES)}); repeatable or comma-separated")
    common.formats(de)
    de.set_defaults(func=_cmd_decisions)


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
