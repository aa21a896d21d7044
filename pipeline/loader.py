"""Load a published dataset version for downstream use.

    import pipeline
    tables = pipeline.load()                      # latest version, pandas DataFrames
    reqs = pipeline.load("2026-02-11-…")["requirements"]
    raw = pipeline.load(records=True)             # the JSON records as lists of dicts
"""
from __future__ import annotations

from pathlib import Path

from pipeline import store
from pipeline.errors import PipelineError
from pipeline.tables import TABLE_ORDER


class UnknownVersion(PipelineError):
    """The requested dataset version is not in the output folder."""


def resolve_version(version: str, output: Path) -> str:
    """``latest`` -> the version LATEST names; any other name must exist."""
    available = store.versions(output)
    if version == "latest":
        found = store.latest(output)
        if found is None:
            raise UnknownVersion(f"{output}: no dataset has been built yet (run `make build`)")
        return found
    if version not in available:
        shown = ", ".join(available[-5:]) or "none"
        raise UnknownVersion(f"dataset version {version!r} not found in {output}/datasets "
                             f"(latest: {store.latest(output)}; most recent: {shown})")
    return version


def load(version: str = "latest", output: str | Path = "output", *, records: bool = False,
         tables: tuple[str, ...] = TABLE_ORDER) -> dict:
    """The tables of a dataset version: ``{name: DataFrame}``, or ``{name: [record, …]}`` with
    ``records=True``. Nested fields (items, provenance, values, …) stay Python lists/dicts."""
    output = Path(output)
    name = resolve_version(version, output)
    loaded = store.load_tables(output, name, skip=tuple(t for t in TABLE_ORDER if t not in tables))
    out = {t: loaded[t] for t in tables}
    if records:
        return out
    import pandas as pd

    from pipeline.tables import TABLES

    return {t: pd.DataFrame(rows, columns=[f for f, _, _ in TABLES[t]]) for t, rows in out.items()}
