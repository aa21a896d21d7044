"""A dataset version as one SQLite database for browsing (``pipeline export --format sqlite``):
Datasette (``pip install '.[browse]'``, ``datasette compliance.db``) gives compliance staff
faceted, searchable tables over it, and any SQLite tool reads it.

Pure: the tables as columns and rows, and what the full-text index holds; ``store.write_database``
writes them (sqlite-utils) to a temporary file renamed over the target.

Tables: ``requirements`` (the current requirements, one row per capability, category, statement
and entry: the export's ``current`` rows), ``conflicts`` (every conflict, one row each),
``versions`` (every published version) and ``sources`` (the version's sources), and ``about``.

Full-text search (SQLite FTS5) on ``requirements``' category, entry and documents. Chinese is
written without spaces, so SQLite's tokenizer would take a whole run of characters for one word
(公募基金 would never match 基金): the index holds each run of Chinese characters as every piece
of it up to ``MAX_PIECE`` characters (``index_text``), while the table shows the text as it is.
A search for 基金 or 许可证 then finds 公募基金 and 《增值电信业务经营许可证》.
"""
from __future__ import annotations

import re

from pipeline.present import export
from pipeline.present.report import conflict_category
from pipeline.present.words import kind_text

#: the longest piece of a run of Chinese characters the full-text index holds (a search for a
#: longer run of Chinese characters finds nothing: search for a part of it)
MAX_PIECE = 12
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")

CONFLICT_COLUMNS = ("id", "kind", "what_differs", "relation", "severity", "status", "capability", "category",
                    "page", "field", "captures", "summary", "decision")
ABOUT_COLUMNS = ("key", "value")


def column(name: str) -> str:
    """A column name SQL can use bare: ``entry documents`` -> ``entry_documents``."""
    return re.sub(r"\W+", "_", name).strip("_")


def index_text(text: str | None) -> str:
    """What the full-text index holds for ``text``: its words, and every piece of up to
    ``MAX_PIECE`` characters of each run of Chinese characters, separated by spaces."""
    if not text:
        return ""
    pieces = []
    for m in _CJK.finditer(text):
        run = m.group()
        pieces += [run[i:j] for i in range(len(run)) for j in range(i + 1, min(len(run), i + MAX_PIECE) + 1)]
    return " ".join([_CJK.sub(" ", text).strip(), *pieces]).strip()


def _conflict_row(c: dict) -> list:
    d = c.get("decision")
    decided = f"{d['decision']} — {d['reviewer']}, {d['date']}: {d['reason']}" if d else None
    return [c["id"], c["kind"], kind_text(c["kind"]), c["relation"], c["severity"], c["status"], c["capability"],
            conflict_category(c)[0], c.get("page"), c.get("field"), len(c.get("values") or ()), c.get("summary"),
            decided]


def database_tables(version: str, tables: dict, versions: list[dict], sources: list[dict],
                    exported_at: str) -> dict[str, tuple]:
    """``{table: (columns, rows, primary key, full-text columns)}`` of a version's database.
    ``tables``: the version's ``current`` and ``conflicts``; ``versions``:
    ``listing.version_rows``; ``sources``: ``listing.source_rows``."""
    current = export.current_rows(tables.get("current") or [])
    req_cols = ("id",) + tuple(column(c) for c in export.CURRENT_COLUMNS)
    ver_cols = ("version", "published", "latest", "report", "events")
    src_cols = ("source", "format", "capability", "updated", "records", "pages")
    about = [["dataset_version", version], ["exported_at", exported_at],
             ["search", f"requirements: category, entry, entry_documents (Chinese: any part of up to {MAX_PIECE} "
                        f"characters)"]]
    return {
        "requirements": (req_cols, [[n, *r] for n, r in enumerate(current, 1)], "id",
                         ("category", "entry", "entry_documents")),
        "conflicts": (CONFLICT_COLUMNS, [_conflict_row(c) for c in tables.get("conflicts") or []], "id", ()),
        "versions": (ver_cols, [[v["version"], v["published"], int(v["latest"]), int(v["report"]),
                                 "; ".join(v["events"])] for v in versions], "version", ()),
        "sources": (src_cols, [[s["source"], s["format"], s["capability"], s["updated"], s["records"],
                                "; ".join(s["pages"])] for s in sources], "source", ()),
        "about": (ABOUT_COLUMNS, about, "key", ()),
    }
