"""Tencent / WeChat compliance documentation -> structured, versioned datasets.

The library is importable as a whole; ``pipeline.cli`` is only a thin wrapper.
"""
__all__ = ["__version__", "load", "load_as_of"]

__version__ = "0.1.0"


def load(version: str = "latest", output=None, *, as_of=None, **kwargs):
    """The tables of a published dataset version (see ``pipeline.store.loader.load``; ``output``
    defaults to ``$PIPELINE_OUTPUT``, else ``output/`` here, else the project's). ``as_of``
    (``YYYY-MM-DD`` or a ``datetime.date``): the answer from the captures dated on or before
    that day (``load_as_of``); a warning says how many undated captures were left out."""
    from pipeline.store.loader import load as _load

    if as_of is None:
        return _load(version, output, **kwargs)
    import warnings

    from pipeline.present.words import as_of_words

    tables, counts = load_as_of(as_of, version, output, **kwargs)
    if counts.undated:
        warnings.warn(as_of_words(counts), stacklevel=2)
    return tables


def load_as_of(day, version: str = "latest", output=None, *, records: bool = False, tables=None):
    """``(tables, pipeline.reconcile.asof.AsOf)``: a version's tables as of ``day``, reconciled
    by the build's own code from its captures dated on or before it, and how many captures
    that was (and how many were left out: dated later, or undated)."""
    from pipeline.core.errors import PipelineError
    from pipeline.core.normalize import real_date
    from pipeline.core.tables import TABLE_ORDER
    from pipeline.reconcile.asof import NEEDED, as_of
    from pipeline.store.loader import frames, load as _load

    day = day.isoformat() if hasattr(day, "isoformat") else str(day)
    if not real_date(day):
        raise PipelineError(f"as of {day!r}: not a day (YYYY-MM-DD)")
    wanted = tuple(tables or TABLE_ORDER)
    loaded = _load(version, output, records=True, tables=tuple(dict.fromkeys(NEEDED + wanted)))
    got, counts = as_of(loaded, day[:10])
    out = {t: got[t] for t in wanted}
    return (out if records else frames(out)), counts
