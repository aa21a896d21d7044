"""What is published can be trusted (issue 30): what a build parses is what it hashed, readers
check every file they read against the version's manifest, nothing is written through a link
nobody expected, bad files people keep are one line, and memory stays bounded. Real processes,
killed at real moments, and hostile input, in the style of ``test_faults.py``."""
import json
import os
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from test_faults import (  # noqa: F401  (fixtures, and the autouse guard that kills what a test started)
    _cli, _no_process_outlives_its_test, _one_line_error, _start, built, work,
)

SEED = "003_3b374c8cbaf8a554.txt"


def _latest(out: Path) -> Path:
    return out / "datasets" / (out / "LATEST").read_text().strip()


def _counts_of(work: Path, file: str = f"raw/{SEED}") -> set:
    """The declared counts the latest version serves for ``file`` (through ``load``)."""
    import pipeline

    reqs = pipeline.load(output=work / "output", records=True, tables=("requirements",))["requirements"]
    return {r["of"] for r in reqs if r["source_file"] == file and r["of"]}


# --- one read per raw file: the bytes parsed are the bytes hashed --------------------------

def test_a_raw_file_replaced_during_a_build_never_poisons_the_cache(work):
    """Regression: the build hashed a file, then read it again to parse it, and filed the
    second content under the first hash. With the file flipping between two contents while a
    build runs, then restored to each in turn, a later build served the other content's rule
    ("up to date") in 3 of 6 rounds, and a build published a source hashed one way and parsed the other
    in the first. Now a build either refuses in one line or publishes what
    it hashed, and each content is served as itself afterwards."""
    path = work / "raw" / SEED
    seed = path.read_text("utf-8")
    assert "(4选1)" in seed
    for round_ in range(6):
        a, b = 10 + 2 * round_, 11 + 2 * round_  # (never seen before: nothing cached for them)
        texts = {n: seed.replace("(4选1)", f"({n}选1)").encode() for n in (a, b)}
        stop = threading.Event()

        def flip():
            i = 0
            while not stop.is_set():
                tmp = path.with_name(f".flip-{i % 2}")
                tmp.write_bytes(texts[(a, b)[i % 2]])
                os.replace(tmp, path)
                i += 1

        flipper = threading.Thread(target=flip)
        flipper.start()
        try:
            proc = _cli(work, "build")
        finally:
            stop.set()
            flipper.join()
        if proc.returncode != 0:
            _one_line_error(proc, f"raw/{SEED}: changed while the build was reading it")
        else:  # what it published is what it hashed
            ds = _latest(work / "output")
            inputs = {i["file"]: i["sha256"] for i in json.loads((ds / "manifest.json").read_text())["inputs"]}
            sources = {s["source_file"]: s["source_sha256"]
                       for s in json.loads((ds / "sources.json").read_text())["records"]}
            assert sources[f"raw/{SEED}"] == inputs[f"raw/{SEED}"], f"round {round_}"
        for n, other in ((a, b), (b, a)):
            path.write_bytes(texts[n])
            proc = _cli(work, "build")
            assert proc.returncode == 0, proc.stderr
            served = _counts_of(work)
            assert n in served and other not in served, f"round {round_}: the file says ({n}选1), the dataset {served}"
