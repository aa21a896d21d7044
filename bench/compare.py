"""This code against another git revision, side by side on one archive, in one run.

    python bench/compare.py --rev 9786fbe              # 1,000 documents, two cold builds each
    make bench-compare REV=9786fbe DOCS=200 REPEAT=3

The archive (``synth.py``) is made once. The other revision's files come from ``git archive``
into a temporary folder (the checkout and its ``.git`` are left as they are) and run with the
same interpreter and packages. Cold builds alternate between the two (this, other, this, …), so
a machine that gets busier or quieter part-way through weighs on both alike; then each does one
no-op rebuild. Each figure is printed for both and as a ratio (this / other): below 1.0 this code
is faster or smaller. Timing is the fastest cold build, memory the highest peak (``run.build``).
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the launcher, cold builds)
import synth  # noqa: E402


def revision_files(rev: str, into: Path) -> str:
    """The files of ``rev`` (``git archive``) under ``into``; its full commit name."""
    name = subprocess.run(["git", "-C", str(run.ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
                          capture_output=True, text=True)
    if name.returncode:
        raise SystemExit(f"bench/compare.py: {rev!r} is not a revision of this repository")
    data = subprocess.run(["git", "-C", str(run.ROOT), "archive", name.stdout.strip()],
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return name.stdout.strip()


def measure(project: Path, codes: dict[str, Path], repeat: int) -> dict[str, dict]:
    """Alternating cold builds of ``project`` with each code, then a no-op rebuild each."""
    runs: dict[str, list] = {label: [] for label in codes}
    labels = list(codes)
    for i in range(repeat):
        for label in labels if i % 2 == 0 else labels[::-1]:
            run.cold(project)
            got = run.build(project, codes[label])
            if got.code:
                raise SystemExit(f"bench/compare.py: the build of {label} failed: {got.error}")
            runs[label].append(got)
            run.progress(f"{label}: cold build {got.wall:.1f} s, peak {got.rss_mb:.0f} MB ({i + 1} of {repeat})")
    out = {}
    for label in labels:
        run.cold(project)
        run.build(project, codes[label])
        noop = run.build(project, codes[label])
        out[label] = {"cold build s": min(r.wall for r in runs[label]),
                      "peak RSS MB": max(r.rss_mb for r in runs[label]),
                      "no-op s": noop.wall, "every cold build s": [round(r.wall, 1) for r in runs[label]]}
    return out


def render(figures: dict[str, dict], docs: int, mb: float) -> list[str]:
    this, other = list(figures)
    lines = [f"{docs} documents, {mb:.1f} MB", "",
             f"| figure | {this} | {other} | ratio |", "|---|---|---|---|"]
    for key in ("cold build s", "peak RSS MB", "no-op s"):
        a, b = figures[this][key], figures[other][key]
        lines.append(f"| {key} | {a:.2f} | {b:.2f} | {a / b:.2f} |" if b else f"| {key} | {a:.2f} | {b:.2f} | - |")
    lines.append(f"| every cold build s | {figures[this]['every cold build s']} | "
                 f"{figures[other]['every cold build s']} | |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="This code against another revision on one archive.")
    ap.add_argument("--rev", required=True, help="the git revision to compare with (e.g. 9786fbe)")
    ap.add_argument("--docs", type=int, default=1000, help="documents in the archive (default 1000)")
    ap.add_argument("--repeat", type=int, default=2, help="cold builds of each (default 2)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        tmp = Path(tmp)
        full = revision_files(args.rev, tmp / "other")
        project = tmp / "project"
        docs = synth.generate(args.docs, project / "raw")
        mb = sum((project / "raw" / d.name).stat().st_size for d in docs) / 1e6
        run.progress(f"archive: {args.docs} documents, {mb:.1f} MB; comparing with {full[:12]}")
        figures = measure(project, {"this code": run.ROOT, full[:12]: tmp / "other"}, args.repeat)
    print("\n".join(render(figures, args.docs, mb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
