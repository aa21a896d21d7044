"""Are two builds' datasets the same? Table by table, then file by file.

    python bench/compare_datasets.py OUTPUT_A OUTPUT_B      # each an ``output/`` folder

Each folder's latest version (``LATEST``) is read through the store, every file checked against
its manifest (``store.load_tables``), and each table's records compared in published order; then
every file of the two version folders (and the two reports) byte for byte. Prints one line per
table and a verdict; exits 1 when a table's records differ, 2 when only bytes differ (the same
records written otherwise: a layout change), 0 when the two are byte-identical. Used to check
that a change made for speed leaves what is published as it was (issue 31).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import store  # noqa: E402
from pipeline.core.tables import TABLE_ORDER  # noqa: E402


def _version(output: Path) -> str:
    version = store.latest(output)
    if version is None:
        raise SystemExit(f"{output}: no published version")
    return version


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def compare(a: Path, b: Path) -> tuple[list[str], bool, bool]:
    """(lines to print, records equal, bytes equal) of the latest versions of ``a`` and ``b``."""
    va, vb = _version(a), _version(b)
    ta, tb = store.load_tables(a, va), store.load_tables(b, vb)
    lines, same_records = [f"{a}: {va}", f"{b}: {vb}"], True
    for table in TABLE_ORDER:
        ra, rb = ta[table], tb[table]
        if ra == rb:
            lines.append(f"  {table}: {len(ra)} records, the same")
            continue
        same_records = False
        first = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), min(len(ra), len(rb)))
        lines.append(f"  {table}: DIFFERENT ({len(ra)} vs {len(rb)} records; first difference at record {first})")
    fa, fb = _files(store.dataset_dir(a, va)), _files(store.dataset_dir(b, vb))
    for kind in ("md", "html"):
        for name, out, version, files in (("a", a, va, fa), ("b", b, vb, fb)):
            p = out / "reports" / f"{version}.{kind}"
            if p.exists():
                files[f"report.{kind}"] = p.read_bytes()
    differ = sorted(n for n in fa.keys() | fb.keys() if fa.get(n) != fb.get(n))
    lines += [f"  bytes differ: {n}" for n in differ[:20]] + ([f"  … and {len(differ) - 20} more"] if len(differ) > 20 else [])
    return lines, same_records, not differ and va == vb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Compare the latest datasets of two output folders.")
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    lines, same_records, same_bytes = compare(args.a, args.b)
    print("\n".join(lines))
    verdict = "byte-identical" if same_bytes else "the same records, other bytes" if same_records else "DIFFERENT"
    print(verdict)
    return 0 if same_bytes else 2 if same_records else 1


if __name__ == "__main__":
    sys.exit(main())
