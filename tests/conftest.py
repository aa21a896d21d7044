import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.expected.json from the current parsers (review the diff)")


@pytest.fixture
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture
def raw_copy(tmp_path):
    """A private copy of raw/ (named raw, so records name files raw/… as in the real build)."""
    dst = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", dst)
    return dst


@pytest.fixture(scope="session")
def fresh_build(tmp_path_factory):
    """One build of the committed raw/ into an empty output folder."""
    from pipeline.build import run_build
    from pipeline.store import published_conflict_ids

    base = tmp_path_factory.mktemp("fresh")
    shutil.copytree(ROOT / "raw", base / "raw")
    decisions = ROOT / "review" / "decisions.toml"
    result = run_build([base / "raw"], base / "output", decisions=decisions,
                       known_conflicts=published_conflict_ids(ROOT / "output"))
    return result, base / "output"


def read_table(ds: Path, table: str) -> list[dict]:
    """A table's records read as the README tells a user with plain ``json`` to: a small table
    is ``<table>.json`` (records under ``records``), a folder table every line of
    ``<table>/*.jsonl`` in file-name order."""
    import json

    if (ds / table).is_dir():
        return [json.loads(line) for p in sorted((ds / table).glob("*.jsonl"))
                for line in p.read_text("utf-8").splitlines()]
    records = json.loads((ds / f"{table}.json").read_text("utf-8"))["records"]
    if table == "conflicts":  # (each conflict's values as the README's 5.0.0 migration note puts them back)
        values: dict[str, list[dict]] = {}
        for v in sorted(read_table(ds, "conflict_values"), key=lambda v: v["position"]):
            values.setdefault(v.pop("conflict_id"), []).append(v)
            del v["position"]
        for c in records:
            c["values"] = values.pop(c["id"], [])
            assert len(c["values"]) == c["value_count"]
        assert not values
    return records


@pytest.fixture(scope="session")
def history_output(tmp_path_factory):
    """The seeds and ../shared/tencent-history in one build (`make build
    RAW_EXTRA=../shared/tencent-history`), into a temporary output folder."""
    from pipeline.build import run_build

    history = SHARED / "tencent-history"
    if not history.is_dir():
        pytest.skip("../shared/tencent-history not present")
    base = tmp_path_factory.mktemp("history-output")
    shutil.copytree(ROOT / "raw", base / "raw")
    run_build([base / "raw", history], base / "output", decisions=base / "none.toml")
    return base / "output"
