"""Tencent / WeChat compliance documentation -> structured, versioned datasets.

The library is importable as a whole; ``pipeline.cli`` is only a thin wrapper.
"""
__all__ = ["__version__", "load"]

__version__ = "0.1.0"


def load(version: str = "latest", output=None, **kwargs):
    """The tables of a published dataset version (see ``pipeline.store.loader.load``; ``output``
    defaults to ``$PIPELINE_OUTPUT``, else ``output/`` here, else the project's)."""
    from pipeline.store.loader import load as _load

    return _load(version, output, **kwargs)
