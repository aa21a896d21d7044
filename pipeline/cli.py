"""Command line: ``python -m pipeline build|…``. Only argument parsing and messages live here."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.errors import PipelineError


def _cmd_build(args: argparse.Namespace) -> int:
    from pipeline.build import run_build

    raw_dirs = [Path("raw")] + [Path(d) for d in args.raw]
    result = run_build(raw_dirs, Path(args.output))
    counts = ", ".join(f"{n} {t}" for t, n in result.counts.items())
    if result.created:
        print(f"built dataset {result.version}: {counts}")
    else:
        print(f"up to date: dataset {result.version} ({counts})")
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline",
                                     description="Tencent compliance documentation -> datasets")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="parse raw/ (and --raw folders) into a new dataset version")
    b.add_argument("--raw", action="append", default=[], metavar="DIR",
                   help="an extra folder of documents (repeatable), e.g. ../shared/corpus")
    b.add_argument("--output", default="output", metavar="DIR", help="output folder (default: output)")
    b.set_defaults(func=_cmd_build)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PipelineError as e:
        print(str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; output/ left as it was", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
