"""Golden files: every record each seed yields, as reviewed. `pytest --update-golden` rewrites
them from the current parsers; the diff is then reviewed like code."""
import json
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline import store
from pipeline.core import records
from pipeline.build import parse_raw

GOLDEN = Path(__file__).parent / "golden"
RAW = sorted(p.name for p in (ROOT / "raw").iterdir() if p.is_file())


def _rows(name: str) -> dict:
    raw = next(r for r in store.read_raw([ROOT / "raw"]) if r.display == f"raw/{name}")
    doc, info = parse_raw(raw)
    rows = records.document_to_rows(doc, info)
    return {t: rows[t] for t in ("requirements", "scenarios", "licenses")}


@pytest.mark.parametrize("name", RAW)
def test_seed_matches_golden(name, update_golden):
    got = _rows(name)
    path = GOLDEN / f"{Path(name).stem}.expected.json"
    if update_golden or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        if not update_golden:
            pytest.fail(f"{path} was missing and has been written; review and commit it")
    assert got == json.loads(path.read_text())
