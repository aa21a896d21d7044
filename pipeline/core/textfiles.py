"""The text of files people keep (``metadata.toml``, ``decisions.toml``, a capture tool's
``MANIFEST.json``) into data, or one ``file:line`` error. Pure: the caller reads the file."""
from __future__ import annotations

import json
import re
import tomllib

from pipeline.core.errors import ParseError

#: how deep a file people keep may nest ([ and { inside each other) before it is refused
#: (the parsers recurse per level: a few hundred levels exhaust Python's stack)
MAX_NESTING = 100


def loads_toml(text: str, shown: str) -> dict:
    """A TOML file people keep (``metadata.toml``, ``decisions.toml``), or one ``file:line``
    error: a syntax error at its real line (tomllib names it only inside its message), a file
    nested too deep at the line where it goes past ``MAX_NESTING`` levels."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        at = re.search(r"at line (\d+)", str(e))
        line = int(at.group(1)) if at else getattr(e, "lineno", None) or text.count("\n") + 1
        raise ParseError(shown, line, f"not valid TOML: {e}") from None
    except RecursionError:
        raise _too_deep(text, shown) from None


def loads_json(text: str, shown: str):
    """A JSON file people keep (a capture tool's ``MANIFEST.json``), or one ``file:line``
    error (as ``loads_toml``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(shown, e.lineno, f"not valid JSON: {e.msg}") from None
    except RecursionError:
        raise _too_deep(text, shown) from None


def _too_deep(text: str, shown: str) -> ParseError:
    """The error for a file nested deeper than can be read, at the line where it goes past
    ``MAX_NESTING`` levels (brackets in strings counted too: this is only where to look)."""
    depth, line = 0, 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                break
        elif ch in "]}":
            depth -= 1
    return ParseError(shown, line, f"nested more than {MAX_NESTING} levels deep; not read")
