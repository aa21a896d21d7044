"""Tencent / WeChat compliance documentation -> structured, versioned datasets.

The library is importable as a whole; ``pipeline.cli`` is only a thin wrapper.
"""
__all__ = ["__version__"]

__version__ = "0.1.0"
