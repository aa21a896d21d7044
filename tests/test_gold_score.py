"""The hand-labelled gold in ../shared must stay fully matched: the headline facts (147 when
first reached) and every requirement's structure (133/133 when first reached, gold v2).

The gold is only a measuring stick: this test runs the shared scorer on a fresh build."""
import subprocess
import sys

import pytest

from conftest import SHARED

SCORER = SHARED / "tools" / "score_gold.py"


@pytest.mark.skipif(not SCORER.exists(), reason="../shared/tools/score_gold.py not present")
def test_gold_fully_matched(fresh_build):
    result, output = fresh_build
    proc = subprocess.run([sys.executable, str(SCORER), "-v", "--structure",
                           "--dataset", str(output / "datasets" / result.version)],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stdout
    headline = lines[-1].split("exact ")[1].split(",")[0]
    got, total = map(int, headline.split("/"))
    assert got == total >= 147 and "unexpected 0" in lines[-1]
    structure = next(l for l in lines if l.startswith("structure")).rsplit(" ", 1)[1]
    got, total = map(int, structure.split("/"))
    assert got == total >= 133
