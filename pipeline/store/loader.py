"""Load a published dataset version for downstream use.

    import pipeline
    tables = pipeline.load()                      # latest version, pandas DataFrames
    reqs = pipeline.load("2026-02-11-…")["requirements"]
    raw = pipeline.load(records=True)             # the JSON records as lists of dicts
"""
from __future__ import annotations

import os
from pathlib import Path

from pipeline import store
from pipeline.core.errors import PipelineError
from pipeline.core.tables import TABLE_ORDER


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


#: the environment variable naming the output folder ``load`` reads when given none
OUTPUT_ENV = "PIPELINE_OUTPUT"


def default_output() -> Path:
    """Where ``load`` looks when no ``output`` is given: ``$PIPELINE_OUTPUT``; else ``output/``
    in the current folder, when there is one; else the project's own ``output/`` (beside the
    ``pipeline`` package), so a script run from any folder finds the dataset."""
    if os.environ.get(OUTPUT_ENV):
        return Path(os.environ[OUTPUT_ENV])
    here = Path("output")
    if (here / "datasets").is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "output"


def load(version: str = "latest", output: str | Path | None = None, *, records: bool = False,
         tables: tuple[str, ...] = TABLE_ORDER, mentioning=None) -> dict:
    """The tables of a dataset version: ``{name: DataFrame}``, or ``{name: [record, …]}`` with
    ``records=True``. Nested fields (items, provenance, values, …) stay Python lists/dicts;
    integer fields are pandas' nullable ``Int64`` (a count is 3, not 3.0, and a missing one
    ``<NA>``). ``output``: the output folder (default ``default_output()``). ``mentioning``:
    ids (``cat_…``): only the records that hold one of them, and perhaps others (a cheap test of
    each record's published line: select what you need from them; ``store.iter_table``)."""
    output = Path(output) if output is not None else default_output()
    name = resolve_version(version, output)
    # (equal texts read as one object: the versions of a page repeat theirs, 40 % of the records)
    loaded = store.load_tables(output, name, skip=tuple(t for t in TABLE_ORDER if t not in tables),
                               mentioning=mentioning, strings={})
    out = {t: loaded[t] for t in tables}
    return out if records else frames(out)


def frames(tables: dict[str, list[dict]]) -> dict:
    """Records as pandas DataFrames, columns in schema order, integers nullable ``Int64``."""
    import pandas as pd

    from pipeline.core.tables import TABLES

    out = {}
    for t, rows in tables.items():
        frame = pd.DataFrame(rows, columns=[f for f, _, _ in TABLES[t]])
        ints = [f for f, kind, _ in TABLES[t] if kind == "int"]
        out[t] = frame.astype({f: "Int64" for f in ints}) if ints else frame
    return out
