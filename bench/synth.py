"""A synthetic archive for benchmarking: many versions of the five seed pages in ``raw/``.

Each document is one seed with a few small random edits of the kind real page histories show:

* a declared count changes: ``（3选1）`` → ``（4选1）``, ``(5选1)`` → ``(6选1)``;
* a 《…》 item is added to or removed from a numbered list (later items are renumbered, so the
  list stays well formed);
* sections are reordered: two adjacent ``### `` sections (001-style Markdown), two rows of the
  appendix table (003-style column text), two adjacent title+body blocks (002-style web text);
* dated formats (002, 004) get a distinct ``最近更新时间`` per version, in the exact line format of
  the seed, so the versions of a page are ordered.

One document in ``PDF_EVERY`` (at most ``PDF_MAX``) is a real PDF rendered from an edited 001 or 004
text by ``tests/pdf_fixtures.py``. Everything derives from ``SEED`` and the document's index, and
document *i* depends only on documents before it, so the archive of 100 documents is the first 100
documents of the archive of 1000.

    python bench/synth.py --docs 100 --out /tmp/arch          # writes /tmp/arch/raw/
    python bench/synth.py --docs 100 --check                  # ... and builds it, expecting exit 0
    python bench/synth.py --docs 20000 --one-page --out /tmp/p # 20,000 pages of one document each
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = ROOT / "raw"
FIXTURES = ROOT / "tests" / "pdf_fixtures.py"
#: PDFs rendered once are kept here (keyed by their text and the generator's source) and copied
CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "pdf"

SEED = 20240829
STYLES = ("000", "001", "002", "003", "004")
#: PDFs are slow to parse, so they are a small share: index % PDF_EVERY == PDF_AT, at most PDF_MAX.
#: PDF_AT is small so that even a 10-document archive holds one PDF for the comparison in run.py.
PDF_EVERY, PDF_AT, PDF_MAX = 200, 3, 50
#: version v of a dated page is dated DATE_ORIGIN_DAYS before the seed's own date, plus v days:
#: dates increase with the version and stay in the past for archives up to ~20,000 documents
DATE_ORIGIN_DAYS = 4000

#: titles an edit may add to a list; plausible names, some already used elsewhere in the seeds
NEW_TITLES = ("《营业执照》", "《网络文化经营许可证》", "《广播电视节目制作经营许可证》",
              "《互联网药品信息服务资格证书》", "《增值电信业务经营许可证》", "《出版物经营许可证》",
              "《医疗器械经营许可证》", "《事业单位法人证书》")


def seed_texts() -> dict[str, str]:
    """The five seeds by style; found by their number prefix (the pipeline reads content, we
    only need to know which seed is which)."""
    out = {}
    for style in STYLES:
        (path,) = sorted(SEEDS_DIR.glob(f"{style}_*.txt"))
        out[style] = path.read_text("utf-8")
    return out


# ---------------------------------------------------------------- edits
# Every edit returns the edited text, or None when the text offers no place for it, so the
# caller can pick another edit. None adds, drops or splits a table tag, heading or detection cue.

COUNT = re.compile(r"([（(])(\d+)(\s*选1[）)])")


def edit_count(text: str, rng: random.Random) -> str | None:
    """Change one declared ``（N选1）`` / ``(N选1)`` by one (never below 2). ``\\s*`` also matches
    004's counts that the PDF export wrapped across lines (``（2\\n\\n选1）``)."""
    sites = list(COUNT.finditer(text))
    if not sites:
        return None
    m = rng.choice(sites)
    n = int(m.group(2))
    new = n + 1 if n <= 2 or rng.random() < 0.5 else n - 1
    return text[:m.start(2)] + str(new) + text[m.end(2):]


ITEM_LINE = re.compile(r"^(\s*)(\d+)([.、])(\s*)")
#: lines an item may wrap over (or blank lines between items in 004) before the next number
ITEM_GAP = 6


def _line_groups(lines: list[str]) -> list[list[int]]:
    """Numbered lists written one item per line (001, 002, 004): the line index of each item,
    for lists numbered 1, 2, 3… that hold at least two items and name at least one 《…》."""
    groups, cur = [], []
    for i, line in enumerate(lines):
        m = ITEM_LINE.match(line)
        if not m:
            continue
        n = int(m.group(2))
        if cur and n == len(cur) + 1 and i - cur[-1] <= ITEM_GAP:
            cur.append(i)
            continue
        groups.append(cur)
        cur = [i] if n == 1 else []
    groups.append(cur)
    return [g for g in groups if len(g) >= 2 and any("《" in lines[i] for i in g)]


def _renumber_line(line: str, number: int) -> str:
    m = ITEM_LINE.match(line)
    return line[:m.start(2)] + str(number) + line[m.end(2):]


def edit_line_items(text: str, rng: random.Random) -> str | None:
    """Add a 《…》 item to a one-item-per-line list, or remove one (lists keep ≥ 2 items).

    Items are inserted before an existing item and removed if not last, so the last item, which
    may carry closing markup (``…</a>``), is never disturbed; the copy of the previous item's
    prefix and ``<br>`` keeps the list in the source's own style."""
    lines = text.split("\n")
    groups = _line_groups(lines)
    if not groups:
        return None
    g = rng.choice(groups)
    k = len(g)
    if k >= 3 and rng.random() < 0.5:
        j = rng.randrange(k - 1)  # remove item j+1 (1-based), never the last
        for idx in g[j + 1:]:
            lines[idx] = _renumber_line(lines[idx], int(ITEM_LINE.match(lines[idx]).group(2)) - 1)
        del lines[g[j]:g[j + 1]]
        return "\n".join(lines)
    j = rng.randrange(1, k)  # the new item becomes number j+1, before the current item j+1
    prev = ITEM_LINE.match(lines[g[j - 1]])
    br = "<br>" if re.search(r"<br>\s*$", lines[g[j - 1]]) else ""
    new = f"{prev.group(1)}{j + 1}{prev.group(3)}{prev.group(4)}{rng.choice(NEW_TITLES)}{br}"
    for idx in g[j:]:
        lines[idx] = _renumber_line(lines[idx], int(ITEM_LINE.match(lines[idx]).group(2)) + 1)
    # 004 separates items by a blank line: keep that rhythm
    block = [new, ""] if not lines[g[j] - 1].strip() else [new]
    lines[g[j]:g[j]] = block
    return "\n".join(lines)


#: a declared rule that a list follows in web text: ``(3选1):``, ``需同时提供:``
RULE_LINE = re.compile(r"(选|需同时提供).*[:：]$")


def edit_web_items(text: str, rng: random.Random) -> str | None:
    """002-style web text lost most list items in its capture (``(3选1):`` then nothing), so
    there are few lists to insert into: add a 《…》 item after the last item under a declared
    rule (starting the list if it is empty), or remove an item from a list of two or more.
    Web text never wraps an item over lines, so appending after the last one is safe here."""
    lines = text.split("\n")
    lists = []  # (rule line, [item lines]); items may be separated by blank lines
    for i, line in enumerate(lines):
        if ITEM_LINE.match(line) or not RULE_LINE.search(line.strip()):
            continue
        items, j = [], i + 1
        while j < len(lines):
            m = ITEM_LINE.match(lines[j])
            if m and int(m.group(2)) == len(items) + 1:
                items.append(j)
            elif lines[j].strip():
                break
            j += 1
        lists.append((i, items))
    if not lists:
        return None
    rule, items = rng.choice(lists)
    if len(items) >= 2 and rng.random() < 0.5:
        j = rng.randrange(len(items))
        for idx in items[j + 1:]:
            lines[idx] = _renumber_line(lines[idx], int(ITEM_LINE.match(lines[idx]).group(2)) - 1)
        del lines[items[j]]
    else:
        lines.insert((items[-1] if items else rule) + 1, f"{len(items) + 1}、{rng.choice(NEW_TITLES)}")
    return "\n".join(lines)


#: an item marker inside one line: ``<br>2、`` (000 table cells), ``;2、`` / ``:1、`` (003 rows)
INLINE_ITEM = re.compile(r"(<br>|[:;：；]\s*)(\d+)、")


def _inline_groups(line: str) -> list[list[re.Match]]:
    groups, cur = [], []
    for m in INLINE_ITEM.finditer(line):
        n = int(m.group(2))
        if cur and n == len(cur) + 1:
            cur.append(m)
            continue
        groups.append(cur)
        cur = [m] if n == 1 else []
    groups.append(cur)
    return [g for g in groups if len(g) >= 2]


def edit_inline_items(text: str, rng: random.Random) -> str | None:
    """The same as ``edit_line_items`` for lists written inside one line (000 cells, 003 rows):
    an item is inserted before an existing one with that one's separator, or a non-last item
    removed together with the separator after it."""
    lines = text.split("\n")
    sites = [(i, g) for i, line in enumerate(lines) for g in _inline_groups(line) if "《" in line]
    if not sites:
        return None
    i, g = rng.choice(sites)
    line, k = lines[i], len(g)
    # renumber from the right so earlier offsets stay valid
    if k >= 3 and rng.random() < 0.5:
        j = rng.randrange(k - 1)
        for m in reversed(g[j + 1:]):
            line = line[:m.start(2)] + str(int(m.group(2)) - 1) + line[m.end(2):]
        line = line[:g[j].start(2)] + line[g[j + 1].start(2):]
    else:
        j = rng.randrange(1, k)
        for m in reversed(g[j:]):
            line = line[:m.start(2)] + str(int(m.group(2)) + 1) + line[m.end(2):]
        at = g[j]
        line = line[:at.start(2)] + f"{j + 1}、{rng.choice(NEW_TITLES)}{at.group(1)}" + line[at.start(2):]
    lines[i] = line
    return "\n".join(lines)


def swap_md_sections(text: str, rng: random.Random) -> str | None:
    """Swap two adjacent ``### `` sections of one ``## `` parent (001), so every category keeps
    its parent and only the order changes."""
    lines = text.split("\n")
    heads = [i for i, l in enumerate(lines) if l.startswith("#")] + [len(lines)]
    pairs = [n for n in range(len(heads) - 2)
             if lines[heads[n]].startswith("### ") and heads[n + 1] < len(lines)
             and lines[heads[n + 1]].startswith("### ")]
    if not pairs:
        return None
    n = rng.choice(pairs)
    a, b, end = heads[n], heads[n + 1], heads[n + 2]
    lines[a:end] = lines[b:end] + lines[a:b]
    return "\n".join(lines)


def swap_table_rows(text: str, rng: random.Random) -> str | None:
    """Swap two rows of the appendix table of 003 (one category per line after its header)."""
    lines = text.split("\n")
    try:
        h = next(i for i, l in enumerate(lines) if l.startswith("一级类目 二级类目"))
    except StopIteration:
        return None
    end = h + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    if end - (h + 1) < 2:
        return None
    a, b = rng.sample(range(h + 1, end), 2)
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


PARA_SPLIT = re.compile(r"(\n(?:[ \t]*\n)+)")


def swap_web_blocks(text: str, rng: random.Random) -> str | None:
    """Swap two adjacent sections of 002-style web text. A section is a one-line title paragraph
    followed by a body paragraph starting ``具备``; requiring title, body, title, body in a row
    keeps parent headings (``教育``, ``金融业``) in place."""
    parts = PARA_SPLIT.split(text)  # paragraphs at even indexes, blank-line runs between

    def title(i: int) -> bool:
        return i < len(parts) and "\n" not in parts[i].strip() and not parts[i].startswith("具备")

    def body(i: int) -> bool:
        return i < len(parts) and parts[i].startswith("具备")

    starts = [i for i in range(0, len(parts), 2)
              if title(i) and body(i + 2) and title(i + 4) and body(i + 6)]
    if not starts:
        return None
    i = rng.choice(starts)
    parts[i], parts[i + 2], parts[i + 4], parts[i + 6] = parts[i + 4], parts[i + 6], parts[i], parts[i + 2]
    return "".join(parts)


DATE_LINE = re.compile(r"^(最近更新时间[:：])(\d{4}-\d{2}-\d{2})( \d{2}:\d{2}:\d{2})$", re.M)


def set_dates(text: str, version: int) -> str:
    """Shift every ``最近更新时间`` of the document by the same number of days, so a version's
    pages keep their relative order and version v+1 is one day newer than version v."""
    shift = dt.timedelta(days=version - DATE_ORIGIN_DAYS)

    def repl(m: re.Match) -> str:
        day = dt.date.fromisoformat(m.group(2)) + shift
        return f"{m.group(1)}{day.isoformat()}{m.group(3)}"

    return DATE_LINE.sub(repl, text)


EDITS = {
    "000": (edit_count, edit_inline_items),
    "001": (edit_count, edit_line_items, swap_md_sections),
    "002": (edit_count, edit_web_items, swap_web_blocks),
    "003": (edit_count, edit_inline_items, swap_table_rows),
    "004": (edit_count, edit_line_items),
}
DATED = {"002", "004"}


def make_version(seed: str, style: str, version: int, rng: random.Random, edits: int) -> str:
    """The seed with ``edits`` random edits applied (each to the result of the previous one)."""
    text = set_dates(seed, version) if style in DATED else seed
    done, tries = 0, 0
    while done < edits and tries < edits * 10:
        tries += 1
        out = rng.choice(EDITS[style])(text, rng)
        if out is not None and out != text:
            text, done = out, done + 1
    return text


# ---------------------------------------------------------------- the archive

@dataclass(frozen=True)
class Doc:
    index: int
    style: str       # seed the text comes from
    version: int     # n-th version of that seed in the archive (dates follow it)
    pdf: bool
    name: str


def plan(n: int) -> list[Doc]:
    """Which seed, version and form each of the first ``n`` documents has. Styles rotate so every
    prefix mixes all five; a PDF slot renders 001 (tables) and 004 (flowing text) alternately."""
    docs, versions = [], dict.fromkeys(STYLES, 0)
    for i in range(n):
        pdf = i % PDF_EVERY == PDF_AT and i // PDF_EVERY < PDF_MAX
        style = ("001", "004")[(i // PDF_EVERY) % 2] if pdf else STYLES[i % len(STYLES)]
        v = versions[style]
        versions[style] += 1
        # names say nothing the pipeline relies on (it detects by content); a leading digit keeps
        # them from looking hidden (the pipeline skips names starting with '.' or '_')
        name = f"{i:05d}-s{style}-v{v:04d}.{'pdf' if pdf else 'txt'}"
        docs.append(Doc(i, style, v, pdf, name))
    return docs


def _pdf_bytes(style: str, text: str) -> bytes:
    """Render with the test fixture generator, through a cache: a rendering depends only on the
    text and the generator's source, and re-rendering on every benchmark run would be wasted."""
    key = hashlib.sha256(FIXTURES.read_bytes() + style.encode() + text.encode()).hexdigest()[:24]
    cached = CACHE_DIR / f"{key}.pdf"
    if cached.exists():
        return cached.read_bytes()
    sys.path.insert(0, str(FIXTURES.parent))
    import pdf_fixtures  # noqa: E402  (reportlab is loaded only when a PDF is actually needed)

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    (pdf_fixtures.markdown_to_pdf if style == "001" else pdf_fixtures.text_to_pdf)(text, tmp)
    tmp.replace(cached)  # atomic: a concurrent or interrupted run never sees half a PDF
    return cached.read_bytes()


def generate(n: int, raw_dir: Path) -> list[Doc]:
    """Write the first ``n`` documents into ``raw_dir`` (created; must not hold other files)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    seeds = seed_texts()
    seen: set[str] = set()
    docs = plan(n)
    for doc in docs:
        rng = random.Random(f"{SEED}:{doc.index}")
        # Undated seeds have a finite space of small edits: redraw (with more edits) until the
        # text is new, so the archive holds n distinct documents rather than repeated captures.
        for attempt in range(20):
            text = make_version(seeds[doc.style], doc.style, doc.version, rng, rng.choice((1, 1, 2, 3)) + attempt)
            if text not in seen:
                break
        seen.add(text)
        path = raw_dir / doc.name
        if doc.pdf:
            path.write_bytes(_pdf_bytes(doc.style, text))
        else:
            path.write_text(text, encoding="utf-8")
    return docs


# ---------------------------------------------------------------- one page per document

#: parents of the one-page archive's categories (``--one-page``): shared, so many names are alike
ONE_PAGE_PARENTS = ("教育", "医疗", "金融业", "社交", "工具", "汽车", "电商平台", "生活服务", "文娱", "政务民生")
#: characters its leaf names are drawn from
ONE_PAGE_CHARS = "安保城村德电东发富光广海航和华环汇家建江金康乐联林龙民明南宁平齐商盛世顺泰天通网文新信兴阳业益云中众"
SECTION = re.compile(r"^### (.+)$", re.M)


def one_page_text(seed: str, index: int, rng: random.Random) -> str:
    """Document ``index`` of the one-page archive: the 001 seed's introduction and one of its
    ``###`` sections (the index picks which), under a category no other document names:
    ``<parent> - <two random characters><the index in base 60>``. No title and no category in
    common with any other document: each is a page of its own, identified by its content."""
    intro = seed[:seed.index("\n## ")]
    sections = list(SECTION.finditer(seed))
    at = sections[index % len(sections)]
    end = seed.find("\n##", at.end())
    body = seed[at.end():end if end >= 0 else len(seed)]
    digits, n = "", index
    while True:
        digits = ONE_PAGE_CHARS[n % len(ONE_PAGE_CHARS)] + digits
        n //= len(ONE_PAGE_CHARS)
        if not n:
            break
    parent = rng.choice(ONE_PAGE_PARENTS)
    leaf = "".join(rng.choice(ONE_PAGE_CHARS) for _ in range(2)) + digits
    # the body names its own category (具备【教育-出国留学】类目): it names the new one
    body = re.sub(r"【[^】]*】", f"【{parent}-{leaf}】", body)
    return f"{intro}\n## {parent} - {leaf}\n{body}"


def generate_one_page(n: int, raw_dir: Path) -> list[str]:
    """Write ``n`` one-page documents (``one_page_text``) into ``raw_dir``; their names."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    seed = seed_texts()["001"]
    names = []
    for i in range(n):
        name = f"{i:05d}-page.txt"
        (raw_dir / name).write_text(one_page_text(seed, i, random.Random(f"{SEED}:page:{i}")), encoding="utf-8")
        names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=100, help="number of documents (default 100)")
    ap.add_argument("--out", type=Path, help="project folder to write raw/ into (default: a temp folder)")
    ap.add_argument("--check", action="store_true", help="build the archive and require exit status 0")
    ap.add_argument("--one-page", action="store_true",
                    help="every document a page of its own, naming one category no other names (one_page_text)")
    args = ap.parse_args(argv)
    project = args.out or Path(tempfile.mkdtemp(prefix="bench-synth-"))
    if (project / "raw").exists() and any((project / "raw").iterdir()):
        ap.error(f"{project}/raw is not empty")
    if args.one_page:
        names = generate_one_page(args.docs, project / "raw")
        size = sum((project / "raw" / name).stat().st_size for name in names)
        print(f"{len(names)} one-page documents, {size / 1e6:.2f} MB in {project}/raw")
    else:
        docs = generate(args.docs, project / "raw")
        size = sum((project / "raw" / d.name).stat().st_size for d in docs)
        print(f"{len(docs)} documents ({sum(d.pdf for d in docs)} PDF), {size / 1e6:.2f} MB in {project}/raw")
    if not args.check:
        return 0
    # a fresh build of this project only: no shared parse cache or fault injection from PIPELINE_*
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run([sys.executable, "-m", "pipeline", "build"], cwd=project, env=env,
                       capture_output=True, text=True)
    # warnings are allowed (the seeds have their own); show which kinds, without file and line
    kinds = Counter(re.sub(r"^warning: \S+:\d+: ", "", l) for l in r.stderr.splitlines()
                    if l.startswith("warning:"))
    print(f"build exit status {r.returncode}; warnings: "
          + (", ".join(f"{n}× {w}" for w, n in kinds.most_common()) or "none"))
    print((r.stdout.strip().splitlines() or [""])[-1])
    if r.returncode != 0:
        print(r.stderr.strip(), file=sys.stderr)
    elif args.out is None:
        shutil.rmtree(project)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
