"""The hand-labelled gold in ../shared must stay fully matched (147 facts when first reached).

The gold is only a measuring stick: this test runs the shared scorer on a fresh build."""
import subprocess
import sys

import pytest

from conftest import SHARED

SCORER = SHARED / "tools" / "score_gold.py"


@pytest.mark.skipif(not SCORER.exists(), reason="../shared/tools/score_gold.py not present")
def test_gold_fully_matched(fresh_build):
    result, output = fresh_build
    proc = subprocess.run([sys.executable, str(SCORER), "-v", "--dataset", str(output / "datasets" / result.version)],
                          capture_output=True, text=True, timeout=120)
    last = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout
    found = last.split("exact ")[1].split(",")[0]
    got, total = map(int, found.split("/"))
    assert got == total >= 147 and "unexpected 0" in last
