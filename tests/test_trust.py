"""What is published can be trusted (issue 30): what a build parses is what it hashed, readers
check every file they read against the version's manifest, nothing is written through a link
nobody expected, bad files people keep are one line, and memory stays bounded. Real processes,
killed at real moments, and hostile input, in the style of ``test_faults.py``."""
import json
import os
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from test_faults import (  # noqa: F401  (fixtures, and the autouse guard that kills what a test started)
    _cli, _no_process_outlives_its_test, _one_line_error, _start, built, work,
)

SEED = "003_3b374c8cbaf8a554.txt"


def _latest(out: Path) -> Path:
    return out / "datasets" / (out / "LATEST").read_text().strip()


def _counts_of(work: Path, file: str = f"raw/{SEED}") -> set:
    """The declared counts the latest version serves for ``file`` (through ``load``)."""
    import pipeline

    reqs = pipeline.load(output=work / "output", records=True, tables=("requirements",))["requirements"]
    return {r["of"] for r in reqs if r["source_file"] == file and r["of"]}


# --- one read per raw file: the bytes parsed are the bytes hashed --------------------------

def test_a_raw_file_replaced_during_a_build_never_poisons_the_cache(work):
    """Regression: the build hashed a file, then read it again to parse it, and filed the
    second content under the first hash. With the file flipping between two contents while a
    build runs, then restored to each in turn, a later build served the other content's rule
    ("up to date") in 3 of 6 rounds, and a build published a source hashed one way and parsed the other
    in the first. Now a build either refuses in one line or publishes what
    it hashed, and each content is served as itself afterwards."""
    path = work / "raw" / SEED
    seed = path.read_text("utf-8")
    assert "(4选1)" in seed
    for round_ in range(6):
        a, b = 10 + 2 * round_, 11 + 2 * round_  # (never seen before: nothing cached for them)
        texts = {n: seed.replace("(4选1)", f"({n}选1)").encode() for n in (a, b)}
        stop = threading.Event()

        def flip():
            i = 0
            while not stop.is_set():
                tmp = path.with_name(f".flip-{i % 2}")
                tmp.write_bytes(texts[(a, b)[i % 2]])
                os.replace(tmp, path)
                i += 1

        flipper = threading.Thread(target=flip)
        flipper.start()
        try:
            proc = _cli(work, "build")
        finally:
            stop.set()
            flipper.join()
        if proc.returncode != 0:
            _one_line_error(proc, f"raw/{SEED}: changed while the build was reading it")
        else:  # what it published is what it hashed
            ds = _latest(work / "output")
            inputs = {i["file"]: i["sha256"] for i in json.loads((ds / "manifest.json").read_text())["inputs"]}
            sources = {s["source_file"]: s["source_sha256"]
                       for s in json.loads((ds / "sources.json").read_text())["records"]}
            assert sources[f"raw/{SEED}"] == inputs[f"raw/{SEED}"], f"round {round_}"
        for n, other in ((a, b), (b, a)):
            path.write_bytes(texts[n])
            proc = _cli(work, "build")
            assert proc.returncode == 0, proc.stderr
            served = _counts_of(work)
            assert n in served and other not in served, f"round {round_}: the file says ({n}选1), the dataset {served}"


# --- a published version is checked against its manifest where it is read -----------------

def _shard(ds: Path, table: str, seed: str, suffix: str = "jsonl") -> Path:
    """The chunk of ``table`` that holds ``seed``'s records in version folder ``ds``."""
    import hashlib

    sha = hashlib.sha256((ROOT / "raw" / seed).read_bytes()).hexdigest()
    manifest = json.loads((ds / "manifest.json").read_text())
    name = next(o["file"] for o in manifest["outputs"]
                if o["file"].startswith(table + "/") and sha in o.get("sources", ()))
    return ds / (name if suffix == "jsonl" else f"{table}.parquet/{Path(name).stem}.parquet")


def _edit_in_place(p: Path, old: bytes, new: bytes) -> None:
    """Change ``p`` as a careless hand would: made writable, edited where it is (a hard link
    stays a hard link), the size kept."""
    assert len(old) == len(new)
    data = p.read_bytes()
    assert old in data, (p, old)
    p.chmod(0o644)
    with open(p, "r+b") as fh:
        fh.write(data.replace(old, new, 1))


READERS = [("show", "公募基金"), ("categories",), ("conflicts",), ("export", "--out", "x.xlsx"), ("diff",),
           ("report",), ("sources",), ("check",)]


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_a_same_size_edit_of_a_requirements_shard_is_refused(work, args):
    """Regression: "of":3 edited to "of":9 in 004's shard was served by show and load()."""
    ds = _latest(work / "output")
    p = _shard(ds, "requirements", "004_ef2bf0700b54b804.txt")
    _edit_in_place(p, b'"of":3', b'"of":9')
    if args[0] not in ("show", "diff", "report"):
        proc = _cli(work, *args)  # (these read other tables: the shard is not what they read)
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
        return
    _one_line_error(_cli(work, *args), f"output/datasets/{ds.name}/{p.relative_to(ds)}: not the file the manifest "
                                       f"lists (sha256 ")


def test_load_refuses_an_edited_shard(work):
    import pipeline
    from pipeline.core.errors import StoreError

    ds = _latest(work / "output")
    p = _shard(ds, "requirements", "004_ef2bf0700b54b804.txt")
    _edit_in_place(p, b'"of":3', b'"of":9')
    with pytest.raises(StoreError, match="not the file the manifest lists"):
        pipeline.load(output=work / "output")


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_a_deleted_shard_is_refused_not_fewer_rows(work, args):
    """Regression: with 004's shard deleted, show served 98 of 133 requirements and
    `diff --exit-code` reported 35 categories added that were not."""
    ds = _latest(work / "output")
    p = _shard(ds, "requirements", "004_ef2bf0700b54b804.txt")
    p.unlink()
    _one_line_error(_cli(work, *args), f"output/datasets/{ds.name}/{p.relative_to(ds)}: listed in the manifest but "
                                       f"cannot be read")


@pytest.mark.parametrize("args", [a for a in READERS if a[0] not in ("conflicts",)], ids=lambda a: a[0])
def test_an_edited_current_table_is_refused(work, args):
    """Regression: a same-size edit of current.json (a rule's count) was served."""
    ds = _latest(work / "output")
    p = ds / "current.json"
    _edit_in_place(p, b'"of":4', b'"of":7')
    proc = _cli(work, *args)
    if args[0] in ("diff", "report", "show", "categories", "export"):
        _one_line_error(proc, f"output/datasets/{ds.name}/current.json: not the file the manifest lists (sha256 ")
    else:  # (they read no current table)
        assert "Traceback" not in proc.stderr, proc.stderr


def test_a_truncated_parquet_file_is_refused(work):
    """Regression: a Parquet file cut in half went unnoticed (DuckDB fails on it)."""
    ds = _latest(work / "output")
    p = ds / "conflicts.parquet"
    data = p.read_bytes()
    p.write_bytes(data[:len(data) // 2])
    _one_line_error(_cli(work, "show", "公募基金"), f"output/datasets/{ds.name}/conflicts.parquet: not the file "
                                                  f"the manifest lists ({len(data) // 2} bytes where the manifest "
                                                  f"says {len(data)})")


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_a_shard_edited_through_its_hard_link_is_not_published_again(work, suffix):
    """Regression: 004's Parquet shard, edited in place in the latest version, is the object
    store's file too (a hard link): the next version linked it, and its manifest listed the
    object's sha256, not its bytes. Now every file of the next version is what its manifest
    says, and the edited version is refused."""
    from test_faults import _edit_a_seed

    out = work / "output"
    _edit_a_seed(work / "raw")  # (a version built here: its shards are the object store's files)
    assert _cli(work, "build").returncode == 0
    old = _latest(out)
    p = _shard(old, "requirements", "004_ef2bf0700b54b804.txt", suffix)
    assert p.stat().st_nlink > 1
    data = p.read_bytes()
    if suffix == "jsonl":
        _edit_in_place(p, b'"of":3', b'"of":9')
    else:  # a byte of the footer's key-value metadata (the schema's text)
        at = data.rindex(b"qualification")
        _edit_in_place(p, data[at:at + 4], b"QUAL")
    _edit_a_seed(work / "raw", "(5选1)", "(6选1)")
    proc = _cli(work, "build")
    assert proc.returncode == 0, proc.stderr
    new = _latest(out)
    assert new != old
    import hashlib

    for o in json.loads((new / "manifest.json").read_text())["outputs"]:
        got = (new / o["file"]).read_bytes()
        assert hashlib.sha256(got).hexdigest() == o["sha256"], o["file"]
        if "/" in o["file"]:
            assert not (new / o["file"]).stat().st_mode & 0o222, o["file"]  # (every published shard read-only)
    assert _cli(work, "show", "公募基金").returncode == 0
    if suffix == "jsonl":  # (show reads the JSON: the edited version's Parquet is DuckDB's to read)
        _one_line_error(_cli(work, "show", "公募基金", "--dataset", old.name), f"output/datasets/{old.name}/")


def _one_source_category(out: Path) -> tuple[dict, str]:
    """A category of the latest version whose requirements all come from one source, and a seed
    whose shard holds none of them."""
    import pipeline

    t = pipeline.load(output=out, records=True, tables=("requirements", "categories"))
    files: dict[str, set[str]] = {}
    for r in t["requirements"]:
        files.setdefault(r["category_id"], set()).add(r["source_file"])
    cat = next(c for c in t["categories"] if len(files.get(c["category_id"], ())) == 1)
    (only,) = files[cat["category_id"]]
    other = next(p.name for p in sorted((ROOT / "raw").iterdir()) if f"raw/{p.name}" != only)
    return cat, other


def test_show_parses_the_records_of_its_category_and_checks_every_file(work):
    """Regression: `show 公募基金` held every requirement and conflict of the version (485 MB on
    the 2,000-document archive, 1.16 GB on 5,000). Now the records that do not name the category
    shown are never parsed, what it says is the same, and the files it does not parse are still
    checked against the manifest: one edited in place is refused."""
    import pipeline
    from pipeline.present import show

    out = work / "output"
    cat, other = _one_source_category(out)
    cid = cat["category_id"]
    full = pipeline.load(output=out, records=True)
    some = pipeline.load(output=out, records=True, tables=("requirements", "conflicts"), mentioning=[cid])
    assert len(some["requirements"]) < len(full["requirements"]) / 10
    assert [r for r in some["requirements"] if r["category_id"] == cid] == \
        [r for r in full["requirements"] if r["category_id"] == cid]
    assert len(some["conflicts"]) < len(full["conflicts"])
    assert show.describe(cid, full) == show.describe(cid, full | some)
    name = " / ".join(cat["category"])
    assert _cli(work, "show", name, "--format", "json").returncode == 0
    ds = _latest(out)
    p = _shard(ds, "requirements", other)
    # a line of a seed that does not name the category: never parsed, checked all the same
    line = next(ln for ln in p.read_bytes().splitlines() if f"raw/{other}".encode() in ln)
    assert cid.encode() not in line
    _edit_in_place(p, line, line.replace(b'"capability"', b'"capabilitz"'))
    _one_line_error(_cli(work, "show", name), f"output/datasets/{ds.name}/{p.relative_to(ds)}: not the file the "
                                              f"manifest lists (sha256 ")


def test_show_holds_what_its_category_needs_not_the_tables(work):
    """The memory `show` holds grows with its category, not with the version: loading for one
    category of the seeds peaks at a fraction of loading the tables (tracemalloc)."""
    import tracemalloc

    import pipeline

    out = work / "output"
    cid = _one_source_category(out)[0]["category_id"]

    def peak(**kw) -> int:
        tracemalloc.start()
        try:
            pipeline.load(output=out, records=True, tables=("requirements", "conflicts"), **kw)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    whole, one = peak(), peak(mentioning=[cid])
    assert one < whole / 3, (one, whole)


# --- one name per document; a failed command publishes nothing ----------------------------

def test_two_raw_folders_of_one_name_are_refused(work, tmp_path):
    """Regression: `--raw /elsewhere/raw` named its documents raw/<file> like the project's
    own: one of two files of one name silently won, and the manifest listed one hash twice."""
    other = tmp_path / "elsewhere" / "raw"
    other.mkdir(parents=True)
    (other / SEED).write_text((work / "raw" / SEED).read_text("utf-8").replace("(4选1)", "(9选1)"), "utf-8")
    before = (work / "output" / "LATEST").read_text()
    _one_line_error(_cli(work, "build", "--raw", str(other)), f"{other}: a second raw folder named 'raw'")
    assert (work / "output" / "LATEST").read_text() == before
    # the same folder named twice is one folder
    proc = _cli(work, "build", "--raw", "raw", "--raw", str(work / "raw"))
    assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stderr


def test_a_history_line_that_is_no_log_line_publishes_nothing(work):
    """Regression: the build exited 1 on a hand-written line in output/HISTORY after it had
    published the version; a later build logged it as "switched back"."""
    from test_faults import _edit_a_seed

    out = work / "output"
    with open(out / "HISTORY", "a") as fh:
        fh.write("rebuilt by hand on Monday\n")
    line = (out / "HISTORY").read_text().count("\n")
    before = sorted(p.name for p in (out / "datasets").iterdir()), (out / "LATEST").read_text()
    _edit_a_seed(work / "raw")
    _one_line_error(_cli(work, "build"), f"output/HISTORY:{line}: not a history line")
    assert (sorted(p.name for p in (out / "datasets").iterdir()), (out / "LATEST").read_text()) == before
    assert not [p for p in (out / "reports").iterdir() if p.name.split(".")[0] not in before[0]]


def _report_complete(out: Path, version: str) -> bool:
    md, html = (out / "reports" / f"{version}.md"), (out / "reports" / f"{version}.html")
    return md.is_file() and html.is_file() and html.read_text("utf-8").rstrip().endswith("</html>") \
        and md.stat().st_size > 0


@pytest.mark.parametrize("moment", ["file size limit", 0.4, 0.8, 1.2])
def test_a_report_cut_short_is_never_counted_as_present(work, moment):
    """Regression: `pipeline report` wrote its files in place: stopped mid-write (killed, or
    at the file size limit: here the HTML is cut), it left a 0-byte or partial report that `versions`
    called present and the next build "up to date". Now a report is whole or absent, and the
    next build writes it."""
    import resource
    import signal
    import subprocess
    import sys

    from test_faults import _env

    out = work / "output"
    v = (out / "LATEST").read_text().strip()
    md = (out / "reports" / f"{v}.md").stat().st_size  # (the HTML is twice as large)
    for p in (out / "reports").glob(f"{v}.*"):
        p.unlink()
    if moment == "file size limit":
        def limit():  # the Markdown fits, the HTML is cut
            resource.setrlimit(resource.RLIMIT_FSIZE, (md + 4096, md + 4096))
        proc = subprocess.run([sys.executable, "-m", "pipeline", "report"], cwd=work, env=_env(),
                              capture_output=True, text=True, timeout=120, preexec_fn=limit)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    else:
        p = _start(work, "report")
        import time

        time.sleep(moment)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    listed = json.loads(_cli(work, "versions", "--format", "json").stdout)
    assert next(r for r in listed if r["version"] == v)["report"] == _report_complete(out, v)
    again = _cli(work, "build")
    assert again.returncode == 0, again.stderr
    assert _report_complete(out, v)
    assert not [q for q in out.rglob("*") if ".tmp-" in q.name]


# --- nothing is written through a link nobody expected --------------------------------------

def test_a_lock_that_is_a_link_is_never_followed(work):
    """Regression: the build opened output/.lock with "w": a committed `output/.lock ->
    ../precious.txt` truncated precious.txt for everyone who ran `make build`."""
    precious = work / "precious.txt"
    precious.write_text("keep me\n")
    lock = work / "output" / ".lock"
    lock.unlink(missing_ok=True)
    os.symlink("../precious.txt", lock)
    _one_line_error(_cli(work, "build"), "output/.lock: a symbolic link")
    assert precious.read_text() == "keep me\n" and lock.is_symlink()


def test_the_decisions_lock_that_is_a_link_is_never_followed(work):
    precious = work / "precious.txt"
    precious.write_text("keep me\n")
    (work / "review").mkdir(exist_ok=True)
    os.symlink("../precious.txt", work / "review" / ".decisions.toml.lock")
    cid = json.loads((_latest(work / "output") / "conflicts.json").read_text())["records"][0]["id"]
    _one_line_error(_cli(work, "decide", cid, "--decision", "d", "--reason", "r", "--reviewer", "Li Wei"),
                    "review/.decisions.toml.lock: a symbolic link")
    assert precious.read_text() == "keep me\n"


@pytest.mark.parametrize("command", ["export", "decide"])
def test_a_target_that_is_a_link_is_written_through_and_stays_a_link(work, command):
    """Regression: `export --out` and `decide --file` renamed over their target: a link lost
    its link, and the file it named was never written."""
    real = work / "kept" / ("book.xlsx" if command == "export" else "decisions.toml")
    real.parent.mkdir()
    link = work / ("link.xlsx" if command == "export" else "decisions-link.toml")
    if command == "decide":
        real.write_text("# decisions kept elsewhere\n")
    else:
        real.write_bytes(b"")
    os.symlink(os.path.relpath(real, link.parent), link)
    if command == "export":
        proc = _cli(work, "export", "--out", str(link))
    else:
        cid = json.loads((_latest(work / "output") / "conflicts.json").read_text())["records"][0]["id"]
        proc = _cli(work, "decide", cid, "--decision", "d", "--reason", "r", "--reviewer", "Li Wei",
                    "--file", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.path.realpath(link) == str(real)
    if command == "export":
        assert real.read_bytes()[:2] == b"PK"  # (a zip: the workbook)
    else:
        assert real.read_text().startswith("# decisions kept elsewhere\n") and cid in real.read_text()


@pytest.mark.parametrize("command", ["export", "decide"])
def test_a_target_that_is_no_regular_file_is_never_replaced(work, command):
    """Regression: a FIFO (or a device node) named as the target was renamed over."""
    fifo = work / "target"
    os.mkfifo(fifo)
    if command == "export":
        proc = _cli(work, "export", "--out", str(fifo), timeout=60)
    else:
        cid = json.loads((_latest(work / "output") / "conflicts.json").read_text())["records"][0]["id"]
        proc = _cli(work, "decide", cid, "--decision", "d", "--reason", "r", "--reviewer", "Li Wei",
                    "--file", str(fifo), timeout=60)
    import stat

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    _one_line_error(proc, str(fifo), "not a regular file")


@pytest.mark.parametrize("command", ["export", "decide"])
def test_a_killed_write_leaves_no_temporary_file_after_the_next_one(work, command):
    """Regression: a decide or export killed mid-write left its temporary file (2-10 MB)
    beside the target for good. Now the next write to the target removes it."""
    from test_faults import _kill_on_first_change, _many_decisions

    folder = work / "review"
    folder.mkdir(exist_ok=True)
    cid = json.loads((_latest(work / "output") / "conflicts.json").read_text())["records"][0]["id"]
    if command == "decide":
        (folder / "decisions.toml").write_text(_many_decisions(30_000), "utf-8")
        args = ("decide", cid, "--decision", "d", "--reason", "r", "--reviewer", "Li Wei")
    else:
        folder = work / "exports"
        folder.mkdir()
        args = ("export", "--out", "exports/book.xlsx")
    for _ in range(5):  # (until a kill lands mid-write)
        p = _start(work, *args)
        _kill_on_first_change(p, folder)
        if [q for q in folder.iterdir() if ".tmp-" in q.name]:
            break
    else:
        pytest.skip("no kill landed while the temporary file was there")
    if command == "decide":
        (folder / "decisions.toml").write_text(_many_decisions(30_000), "utf-8")
    proc = _cli(work, *args)
    assert proc.returncode == 0, proc.stderr
    assert not [q.name for q in folder.iterdir() if ".tmp-" in q.name]


# --- bad files people keep, odd names, odd terminals: one line, never a traceback -----------

def test_ids_from_a_file_that_is_not_utf8_is_one_line(work):
    """Regression: a UnicodeDecodeError traceback."""
    (work / "ids.txt").write_bytes(b"# \xb2\xbb\xca\xc7 UTF-8\ncfl_0123456789abcdef\n")
    _one_line_error(_cli(work, "decide", "--ids-from", "ids.txt", "--decision", "d", "--reason", "r",
                         "--reviewer", "Li Wei"), "ids.txt:1: not UTF-8 text")
    _one_line_error(_cli(work, "decide", "--ids-from", "gone.txt", "--decision", "d", "--reason", "r",
                         "--reviewer", "Li Wei"), "gone.txt: no such file")


def _nested(kind: str, depth: int) -> str:
    if kind == "toml":
        return "x = " + "[" * depth + "1" + "]" * depth + "\n"
    return "[\n" + "[" * depth + "]" * depth + "\n]\n"


@pytest.mark.parametrize("which", ["raw/metadata.toml", "raw/MANIFEST.json", "review/decisions.toml",
                                   "output/datasets/manifest.json"])
def test_a_file_nested_hundreds_of_levels_deep_is_one_line(work, which):
    """Regression: a RecursionError traceback (tomllib and json recurse per level)."""
    if which.startswith("output/"):
        p = _latest(work / "output") / "manifest.json"
        p.write_text(_nested("json", 5000))
        proc = _cli(work, "show", "公募基金")
        _one_line_error(proc, f"output/datasets/{p.parent.name}/manifest.json: cannot be read")
        return
    p = work / which
    p.parent.mkdir(exist_ok=True)
    p.write_text(("# nested\n" if which.endswith("toml") else "") + _nested(which.rsplit(".", 1)[1], 5000))
    line = 2 if which.endswith("toml") else 2
    _one_line_error(_cli(work, "build"), f"{which}:{line}: nested more than 100 levels deep")


@pytest.mark.parametrize("which", ["raw/metadata.toml", "raw/MANIFEST.json"])
def test_a_list_of_captures_past_its_size_limit_is_one_line_not_a_gigabyte(work, which):
    """Regression: a 150 MB capture manifest cost 1 GB (read, decoded and parsed whole). Now a
    metadata.toml or MANIFEST.json over the documented limit (README, ``MAX_LIST_BYTES``) is
    refused before it is read: one line naming it and its size. (A sparse file: no disk used.)"""
    from pipeline.store.raw import MAX_LIST_BYTES

    assert MAX_LIST_BYTES <= 32 << 20
    size = 150 << 20
    with open(work / which, "wb") as fh:
        fh.truncate(size)
    proc = _cli(work, "build")
    _one_line_error(proc, f"{which}:1: {size:,} bytes, more than the {MAX_LIST_BYTES:,} such a file may hold")


@pytest.mark.parametrize("which", ["raw/metadata.toml", "review/decisions.toml"])
def test_a_toml_syntax_error_is_reported_at_its_line(work, which):
    """Regression: reported at `:1:`, the real line only inside the message."""
    p = work / which
    p.parent.mkdir(exist_ok=True)
    p.write_text("# one\n# two\n\n[[decision]\nconflict = 1\n")
    _one_line_error(_cli(work, "build"), f"{which}:4: not valid TOML")


def _decided_with_a_multiline_reason(work: Path) -> tuple[Path, list[str]]:
    ids = [c["id"] for c in json.loads((_latest(work / "output") / "conflicts.json").read_text())["records"][:2]]
    for cid in ids:
        proc = _cli(work, "decide", cid, "--decision", "d", "--reason", "r", "--reviewer", "Li Wei")
        assert proc.returncode == 0, proc.stderr
    p = work / "review" / "decisions.toml"
    text = p.read_text("utf-8")
    p.write_text(text.replace('reason = "r"', 'reason = """checked with support:\n[ticket 4411] says 5选1\n'
                                              '[[decision]]\n"""', 1), "utf-8")
    return p, ids


def test_a_hand_edited_reason_with_lines_starting_with_a_bracket_is_accepted(work):
    """Regression: a valid decisions file whose multi-line reason has a line starting with `[`
    was refused by withdraw as invalid TOML (the reason's lines were taken for table headers),
    and a `[[decision]]` line inside it put every later decision at the wrong line."""
    p, ids = _decided_with_a_multiline_reason(work)
    listed = json.loads(_cli(work, "decisions", "--format", "json").stdout)
    lines = p.read_text("utf-8").split("\n")
    headers = [lines.index(f'conflict = "{cid}"') - 1 for cid in ids]  # (decide writes header, comment, conflict)
    assert [d["line"] for d in listed] == headers and lines[headers[1] - 1] == "[[decision]]", listed
    proc = _cli(work, "withdraw", ids[0], "--reason", "page corrected", "--reviewer", "Wang Fang")
    assert proc.returncode == 0, proc.stderr
    import tomllib

    data = tomllib.loads(p.read_text("utf-8"))
    assert [d["conflict"] for d in data["decision"]] == [ids[1]]
    assert data["withdrawn"][0]["reason"].startswith("checked with support:\n[ticket 4411]")


def test_a_reason_with_a_carriage_return_reaches_the_terminal_on_one_line(work):
    """Regression: `show` printed a decision's reason with its CR, which sends the cursor back
    over the line (what it said is overwritten on screen)."""
    import tomllib

    v = _latest(work / "output")
    cur = json.loads((v / "current.json").read_text())["records"]
    row = next(r for r in cur if r["conflicts"])
    cid = row["conflicts"][0]["id"]
    proc = _cli(work, "decide", cid, "--decision", "keep", "--reason", "x", "--reviewer", "Li Wei")
    assert proc.returncode == 0, proc.stderr
    p = work / "review" / "decisions.toml"
    p.write_text(p.read_text("utf-8").replace('reason = "x"', 'reason = "approved\\rREJECTED"'), "utf-8")
    assert tomllib.loads(p.read_text("utf-8"))["decision"][0]["reason"] == "approved\rREJECTED"
    assert _cli(work, "build").returncode == 0
    shown = _cli(work, "show", "/".join(row["category"]))
    assert shown.returncode == 0, shown.stderr
    assert "approved REJECTED" in shown.stdout and "\r" not in shown.stdout


def test_a_category_made_of_separators_only_breaks_no_show(work):
    """Regression: a category `｜> / >｜` (its levels only separators) made every later `show`
    fail with IndexError."""
    p = work / "raw" / "001_c5ae0df2c7b8cf07.txt"
    text = p.read_text("utf-8")
    i = text.index("\n### 银行\n")
    j = text.rindex("\n## 金融业\n", 0, i)
    p.write_text(text[:j] + "\n## ｜>\n" + text[j + len("\n## 金融业\n"):i] + "\n### >｜\n"
                 + text[i + len("\n### 银行\n"):], "utf-8")
    assert _cli(work, "build").returncode == 0
    for query in ("基金", "公募基金", ">｜"):
        proc = _cli(work, "show", query)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == 0 or proc.stderr.startswith("no category matches"), proc.stderr


def test_show_reads_a_version_from_before_a_field_existed():
    """Regression: `show --dataset` on the committed 1.1.0 version: KeyError: 'kind'."""
    oldest = ROOT / "output" / "datasets" / "2026-02-11-026574fa2dd0"  # (schema 1.1.0)
    if not oldest.is_dir():
        pytest.skip("the committed 1.1.0 version is gone")
    proc = _cli(ROOT, "show", "公募基金", "--dataset", oldest.name)
    assert proc.returncode == 0 and "公募基金" in proc.stdout, proc.stderr


@pytest.mark.parametrize("args", [("show", "公募基金"), ("categories",), ("conflicts",), ("decisions",)])
def test_a_terminal_that_is_not_utf8_gets_escapes_not_a_traceback(work, args):
    """Regression: UnicodeEncodeError in show and categories on a latin-1 terminal."""
    import subprocess
    import sys

    from test_faults import _env

    proc = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=work, capture_output=True,
                          env=_env(PYTHONIOENCODING="latin-1"), timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()
    if args[0] != "decisions":  # (Chinese, escaped)
        assert b"\\u" in proc.stdout


# --- what a spreadsheet or a terminal would act on ------------------------------------------

def test_listings_as_csv_defuse_formulas(work):
    """Regression: a category named =HYPERLINK(…) was a live formula in `categories --format
    csv` (the export defuses it; the listings did not)."""
    import csv
    import io

    p = work / "raw" / "001_c5ae0df2c7b8cf07.txt"
    text = p.read_text("utf-8")
    j = text.rindex("\n## 金融业\n", 0, text.index("\n### 银行\n"))
    p.write_text(text[:j] + '\n## =HYPERLINK("http://x.example/","金融业")\n' + text[j + len("\n## 金融业\n"):],
                 "utf-8")
    assert _cli(work, "build").returncode == 0
    proc = _cli(work, "categories", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    cells = [c for row in csv.reader(io.StringIO(proc.stdout)) for c in row]
    assert any("HYPERLINK" in c for c in cells)
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], [c for c in cells if "HYPER" in c]
    # conflicts: the same rendering (a conflict about such a category)
    from pipeline.present import listing

    rows = listing.conflict_rows([{"id": "cfl_0123456789abcdef", "severity": "high", "status": "open",
                                   "kind": "count_differs", "relation": "page", "capability": "live_streaming",
                                   "category": ['=HYPERLINK("http://x.example/","x")', "银行"],
                                   "categories": [], "page": "@page", "summary": "-2+3"}])
    text = listing.render(rows, "csv", listing.CONFLICT_COLUMNS)
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'@page" in cells and "'-2+3" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], cells


def test_a_bidi_mark_makes_no_second_category(work):
    """Regression: 银\\u061c行 (an Arabic letter mark inside) was a second 金融业 / 银行 that
    looks identical to the first."""
    def banks():
        cats = json.loads((_latest(work / "output") / "categories.json").read_text())["records"]
        return sorted((c["capability"], tuple(c["category"])) for c in cats if "行" in c["category"][-1]
                      and c["category"][0] == "金融业")

    before = banks()
    p = work / "raw" / "001_c5ae0df2c7b8cf07.txt"
    p.write_text(p.read_text("utf-8").replace("\n### 银行\n", "\n### 银\u061c行\n", 1), "utf-8")
    proc = _cli(work, "build")
    assert proc.returncode == 0, proc.stderr
    assert banks() == before


# --- work that grows with its input, not its square ---------------------------------------

def test_a_cell_of_many_titles_parses_in_linear_time():
    """Regression: one cell listing 60,000 《》 titles parsed in 98 s: every title was looked
    for in the list of those seen before it (parsers.rules.document_titles). A complexity check:
    the best of two times at 4n against n, about 4 for linear work and 16 for quadratic
    (before: 2.9 s at 10,000 titles, 38 s at 40,000; after: 0.9 s and 4.3 s)."""
    import gc
    import time

    from pipeline.build import parse_raw
    from pipeline.store import RawFile

    seed = (ROOT / "raw" / "001_c5ae0df2c7b8cf07.txt").read_text("utf-8")
    old = "2.《私募投资基金管理人登记证书》"

    def best(n: int) -> float:
        data = seed.replace(old, "2." + "、".join(f"《证书{i:05d}》" for i in range(n)), 1).encode()
        times = []
        for _ in range(2):
            gc.collect()
            t = time.perf_counter()
            doc, _ = parse_raw(RawFile("raw/x.md", Path("raw/x.md"), data), seconds=600)
            times.append(time.perf_counter() - t)
        assert any(s.requirement_text.count("《") >= n for s in doc.statements)
        return min(times)

    small, large = best(10_000), best(40_000)
    assert large / small < 9, (small, large)


def _best_of_two(work) -> float:
    import gc
    import time

    times = []
    for _ in range(2):
        gc.collect()
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return min(times)


def test_pages_of_their_own_are_identified_in_linear_time():
    """Regression: 20,000 one-page documents built in 393 s, 8.5 GB: every capture without URL
    or title was compared with every page found before it, and with every page of the previous
    version (pages.identify). The best of two times at 4n against n: about 4 for linear work, 16
    for quadratic (before: 1.0 s at 1,000 captures, 15 s at 4,000)."""
    from pipeline.reconcile.pages import Capture, PriorPage, identify

    def run(n: int) -> None:
        caps = [Capture(("live_streaming", f"{i:064x}", None), f"raw/{i:05d}.md", None,
                        frozenset({f"cat_{i:016x}", f"cat_{i + 1:016x}"})) for i in range(0, 2 * n, 2)]
        prior = [PriorPage(f"live_streaming:untitled:raw/p{i}.md", "live_streaming",
                           (frozenset({f"cat_{i + 10 ** 9:016x}"}),)) for i in range(n)]
        found = identify(caps, {}, prior)
        assert len(found.info) == n  # (each a page of its own: they share no category)

    small, large = _best_of_two(lambda: run(1_000)), _best_of_two(lambda: run(4_000))
    assert large / small < 9, (small, large)


def test_alike_names_are_extracts_answers_in_bounded_memory():
    """Regression: categories_view made, for each page of one name, a dict of every other name
    and ran one process.extract over it (N x N held: part of the 8.5 GB). Now alike_names scores
    them all at once, a block at a time, and gives what extract gave, ties and names left out
    included; its memory stays within its block (tracemalloc)."""
    import random
    import tracemalloc

    from rapidfuzz import fuzz, process

    from pipeline.reconcile.views import SCORES_AT_ONCE, alike_names

    rng = random.Random(7)
    chars = "安保城村德电东发富光广海航和华环"
    named = [(f"cat_{i:016x}", f"{rng.choice(['教育', '医疗', '金融业'])} / "
              + "".join(rng.choice(chars) for _ in range(rng.randint(1, 4)))) for i in range(3_000)]
    queries = [(n, {cid, named[(i * 7) % len(named)][0]}) for i, (cid, n) in enumerate(named)]
    tracemalloc.start()
    try:
        got = alike_names(queries, named)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * SCORES_AT_ONCE + (20 << 20), peak
    for (q, left_out), best in list(zip(queries, got))[::25]:
        want = process.extract(q, {cid: n for cid, n in named if cid not in left_out}, scorer=fuzz.ratio,
                               limit=3, score_cutoff=60)
        assert best == want, q


def _wide_conflict(values: int, summary_chars: int) -> dict:
    return {"id": "cfl_0123456789abcdef", "kind": "integration_differs", "relation": "version", "severity": "high",
            "status": "open", "capability": "live_streaming", "category": None,
            "categories": [{"category_id": "c", "category": ["金融业", "银行"]}], "page": "p", "field": "integration",
            "summary": ("页" * (summary_chars - 1)) + "。",
            "values": [{"source_file": f"raw/{i:05d}.md", "line_start": 3, "date": "2026-01-01", "value": "x"}
                       for i in range(values)]}


def test_export_does_not_repeat_a_long_summary_on_every_value_row():
    """Regression: each of a conflict's 45,393 value rows repeated its 46,791-character summary
    (the 5,000-document export: 10.7 GB, a 796 MB workbook). Now whole once, then cut."""
    from pipeline.present import export

    rows = export.conflict_rows([_wide_conflict(2_000, 46_791)])
    at = export.CONFLICT_COLUMNS.index("summary")
    assert len(rows) == 2_000 and len(rows[0][at]) == 46_791
    assert sum(len(r[at]) for r in rows) < 46_791 + 2_000 * 300
    assert rows[1][at].endswith("(whole summary on this conflict's first row)")


def test_a_cell_longer_than_a_spreadsheet_holds_is_cut_with_a_word(tmp_path):
    """Regression: a cell over 32,767 characters was written whole, and Excel cut it silently
    (or refused the file). Now the cell says it was cut, and export warns, naming the cell."""
    from openpyxl import load_workbook

    from pipeline.present import export

    cut: list[str] = []
    wb = export.workbook({"conflicts": export.table_rows("conflicts", {"conflicts": [_wide_conflict(3, 46_791)]})},
                         version="v", exported_at="t", warnings=cut)
    (tmp_path / "x.xlsx").write_bytes(export.workbook_bytes(wb))
    cell = load_workbook(tmp_path / "x.xlsx")["conflicts"]["J2"].value
    assert len(cell) == export.CELL_MAX and cell.endswith("the whole text is in the dataset]")
    assert "46,791 characters in all" in cell
    assert cut == ["sheet conflicts, row 2, column 'summary': 46,791 characters cut to the 32,767 a spreadsheet "
                   "cell holds"]
