"""Writing a SQLite database for browsing (``pipeline export --format sqlite``) with sqlite-utils:
into a temporary file beside the target, renamed over it when complete, so a kill, a full disk
or an error leaves the target as it was (a database open in Datasette meanwhile keeps reading
the old file). The target is replaced as every file is (``files.replacing``): a link is
written through, anything but a regular file is refused."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from pipeline.store.files import replacing


def write_database(path: Path, tables: dict[str, tuple], index_text) -> None:
    """``tables``: ``{name: (columns, rows, primary key, full-text columns)}`` (``present.database``);
    ``index_text(text)``: what the full-text index holds for a cell of a full-text column (the
    table keeps the text as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        tmp.unlink(missing_ok=True)  # (sqlite would open a file left by a killed run of this pid)
        conn = sqlite3.connect(tmp)
        try:
            # (no journal: the file is new, and thrown away whole if anything fails)
            conn.execute("PRAGMA journal_mode = OFF")
            _fill(conn, tables, index_text)
            conn.commit()
        finally:
            conn.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())


def _fill(conn: sqlite3.Connection, tables: dict[str, tuple], index_text) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(conn, execute_plugins=False)
    for name, (columns, rows, pk, fts) in tables.items():
        types = {c: _type(c, rows, i) for i, c in enumerate(columns)}
        db[name].create(types, pk=pk)
        db[name].insert_all((dict(zip(columns, r)) for r in rows), batch_size=1000)
        if fts:
            # FTS5 over the table's content; its index holds ``index_text`` of each cell (the
            # table shows the text as it is)
            db[name].enable_fts(list(fts), create_triggers=False)
            at = [columns.index(c) for c in fts]
            fts_table = f"{name}_fts"
            conn.execute(f"INSERT INTO [{fts_table}]([{fts_table}]) VALUES ('delete-all')")
            conn.executemany(
                f"INSERT INTO [{fts_table}](rowid, {', '.join(f'[{c}]' for c in fts)}) "
                f"VALUES ({', '.join('?' * (len(fts) + 1))})",
                ([r[columns.index(pk)], *(index_text(r[i]) for i in at)] for r in rows))


def _type(name: str, rows: list, i: int) -> type:
    """A column's SQLite type: integer where every value is one (a count, a flag), else text."""
    values = [r[i] for r in rows if r[i] is not None]
    return int if values and all(isinstance(v, int) for v in values) else str
