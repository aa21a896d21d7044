"""`pipeline export --format sqlite` (issue 32, point 4): a database for browsing, its full-text
search finding Chinese words inside longer names, written whole or not at all."""
import os
import sqlite3
import stat

import pytest

from pipeline.present import database
from pipeline.store.database import write_database
from test_faults import (  # noqa: F401  (fixtures, and the autouse guard that kills what a test started)
    _cli, _no_process_outlives_its_test, _one_line_error, built, work,
)


def _search(db: sqlite3.Connection, word: str) -> set[int]:
    """The requirement rows a search finds, the way Datasette and sqlite-utils ask FTS5."""
    return {r for (r,) in db.execute("SELECT rowid FROM requirements WHERE rowid IN "
                                     "(SELECT rowid FROM requirements_fts WHERE requirements_fts MATCH ?)",
                                     [f'"{word}"'])}


def test_the_database_holds_the_tables_and_its_search_finds_words_inside_names(work):
    proc = _cli(work, "export", "--format", "sqlite", "--out", "compliance.db")
    assert proc.returncode == 0, proc.stderr
    assert "datasette compliance.db" in proc.stdout
    db = sqlite3.connect(work / "compliance.db")
    tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"requirements", "conflicts", "versions", "sources", "about", "requirements_fts"} <= tables
    (version,) = db.execute("SELECT value FROM about WHERE key = 'dataset_version'").fetchone()
    assert version == (work / "output" / "LATEST").read_text().strip()
    assert db.execute("SELECT count(*) FROM versions WHERE latest = 1").fetchone() == (1,)
    # 基金 is a word inside 公募基金 and 《基金托管业务许可证》: found wherever it is, and only there
    for word in ("基金", "公募基金", "许可证", "增值电信业务经营许可证"):
        found = _search(db, word)
        holds = {r for (r,) in db.execute("SELECT id FROM requirements WHERE category LIKE ? OR entry LIKE ? "
                                          "OR entry_documents LIKE ?", [f"%{word}%"] * 3)}
        assert found == holds and found, word
    rows = db.execute("SELECT category, status, capability FROM requirements WHERE rowid IN "
                      "(SELECT rowid FROM requirements_fts WHERE requirements_fts MATCH '\"基金\"')").fetchall()
    assert any(c == "金融业 / 公募基金" and s.startswith("open conflict") for c, s, _ in rows)
    # the faceted query README shows
    facets = dict(((s, c), n) for s, c, n in db.execute(
        "SELECT status, capability, count(*) FROM requirements GROUP BY status, capability"))
    assert sum(facets.values()) == db.execute("SELECT count(*) FROM requirements").fetchone()[0]
    # conflicts: one row per conflict, with its kind in words
    n = db.execute("SELECT count(*) FROM conflicts").fetchone()[0]
    assert n and db.execute("SELECT count(DISTINCT id) FROM conflicts").fetchone()[0] == n
    assert db.execute("SELECT count(*) FROM conflicts WHERE what_differs = 'number of alternatives differs'").fetchone()[0]


def test_chinese_runs_are_indexed_as_their_pieces():
    text = database.index_text("《基金托管业务许可证》 ABC")
    assert "ABC" in text.split() and "基金" in text.split() and "托管业务" in text.split()
    assert all(len(p) <= database.MAX_PIECE for p in text.split())
    assert database.index_text(None) == ""


def test_a_failed_write_leaves_the_target_as_it_was(tmp_path):
    target = tmp_path / "compliance.db"
    target.write_bytes(b"the database people have open")
    good = {"about": (("key", "value"), [["k", "v"]], "key", ())}
    bad = {"about": (("key", "value"), [["k", "v"], ["k", "again"]], "key", ())}  # (the same key twice)
    with pytest.raises(sqlite3.IntegrityError):
        write_database(target, bad, database.index_text)
    assert target.read_bytes() == b"the database people have open"
    assert [p.name for p in tmp_path.iterdir()] == ["compliance.db"]
    write_database(target, good, database.index_text)
    assert sqlite3.connect(target).execute("SELECT value FROM about").fetchone() == ("v",)


def test_a_target_that_is_a_link_is_written_through_and_no_regular_file_is_refused(work):
    real = work / "kept" / "compliance.db"
    real.parent.mkdir()
    real.write_bytes(b"")
    os.symlink(os.path.relpath(real, work), work / "link.db")
    proc = _cli(work, "export", "--format", "sqlite", "--out", "link.db")
    assert proc.returncode == 0, proc.stderr
    assert (work / "link.db").is_symlink() and real.read_bytes()[:15] == b"SQLite format 3"
    fifo = work / "target.db"
    os.mkfifo(fifo)
    _one_line_error(_cli(work, "export", "--format", "sqlite", "--out", str(fifo), timeout=60), str(fifo),
                    "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    _one_line_error(_cli(work, "export", "--format", "sqlite", "--what", "current"), "--format sqlite writes every")
