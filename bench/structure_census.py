"""How many requirement records of a dataset show each structure problem of issue 14.

    .venv/bin/python bench/structure_census.py OUTPUT_DIR [OUTPUT_DIR ...]

Each OUTPUT_DIR is a build's output folder (its LATEST dataset is read), e.g. one built before a
change and one after, from the same raw folders (`python -m pipeline build --raw ../shared/corpus
--output DIR`). A record counts once per class, however many of its entries show the problem.
The tests are read from the stored record only (its requirement_text and its items), so a dataset
built by any version of the parsers can be counted:

1. condition dropped: a 且 / ，并 clause of the requirement text (top level) whose first words
   are in no condition of the record;
2. bundle not split: an entry without a group whose text joins (与/及/以及/和/、/+, top level)
   two sides that each name a document, one of them without 《》;
3. choice not read: an entry without a group whose text has a top-level 或/或者 between two
   sides that each name a document, or a （或…） parenthetical;
4. labels missing: the requirement text opens two or more variants with ``X：`` or
   ``X，提供`` at sentence starts, but not every entry has a label;
5. declaration in an entry: an entry without a group whose text opens with a declaration
   (``资质要求(任选其一):…``, ``需同时提供：…``);
6. record condition missing: a ``均需…`` restriction in the text that is not a condition of
   the record;
7. text altered: an entry whose text is not in the requirement text (spaces aside), or a condition that is a
   bracket inside a word (``县（区）级`` -> ``区``);
8. item swallowed: an entry whose text holds the enumerator of the next entry (``2.《A》(…）3.《B》``).

"Names a document" is the parsers' own test (a 《》 title, or a name ending in a document noun,
``patterns.DOCUMENT_NOUN``); so are the phrase patterns. The census shows what the stored records
say, not what a reader would: a record can show a class for a reason the grammar still gets wrong.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from pipeline.parsers import patterns, rules

CLASSES = ("1 condition dropped", "2 bundle not split", "3 choice not read", "4 labels missing",
           "5 declaration in an entry", "6 record condition missing", "7 text altered",
           "8 item swallowed")


def fold(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isalnum())


def _spaceless(text: str) -> str:
    # the parsers drop the spaces a line break leaves between two CJK characters
    return "".join(text.split())


def _entries(items, depth=0):
    for i in items:
        yield i, depth
        yield from _entries((i.get("group") or {}).get("items") or [], depth + 1)


def _top_level(text: str, pattern: re.Pattern) -> list[re.Match]:
    depths = rules.depth_map(text)
    return [m for m in pattern.finditer(text) if depths[m.end() - 1] == 0]


def _joins_documents(text: str, joiner: re.Pattern, needs_bare: bool) -> bool:
    for m in _top_level(text, joiner):
        left, right = text[:m.start()], text[m.end():]
        if rules._names_document(left) and rules._names_document(right) and \
                (not needs_bare or "《" not in left or "《" not in right):
            return True
    return False


def classes_of(record: dict) -> set[str]:
    text = record.get("requirement_text") or ""
    flat = text.replace("\n", "")
    entries = list(_entries(record.get("items") or []))
    conds = fold(" ".join(c for i, _ in entries for c in i.get("conditions") or [])
                 + " ".join(record.get("conditions") or []))
    found = set()
    for m in _top_level(flat, patterns.CONDITION_CLAUSE):
        words = fold(flat[m.end():m.end() + 12].split("。")[0])[:6]
        if words and words not in conds:
            found.add(CLASSES[0])
    for i, _ in entries:
        t = i.get("text") or ""
        if not i.get("group"):
            if _joins_documents(t, patterns.AND_JOINERS, needs_bare=True):
                found.add(CLASSES[1])
            if _joins_documents(t, re.compile(r"或者?(?!以上|以下)"), needs_bare=False) or re.search(r"[（(]\s*或", t):
                found.add(CLASSES[2])
            if patterns.LEADING_DECLARATION.match(t) and t[patterns.LEADING_DECLARATION.match(t).end():].strip():
                found.add(CLASSES[4])
        if t and _spaceless(t) not in _spaceless(flat) and t != i.get("label"):
            found.add(CLASSES[6])
        for c in i.get("conditions") or []:
            if re.search(rf"[\u4e00-\u9fff][（(]{re.escape(c)}[)）][\u4e00-\u9fff]", t):
                found.add(CLASSES[6])
        if re.search(r"[）)；;。\s]\s*\d{1,2}\s*[.、．]\s*\S", t.split("\n")[0][1:]):
            found.add(CLASSES[7])
    marks = [m for fam in (patterns.VARIANT_COLON_LABEL, patterns.VARIANT_SUBJECT_LABEL)
             for m in fam.finditer(text) if rules.depth_map(text)[m.start("label")] == 0
             and not patterns.declaration(m.group("label")).any
             and not patterns.CHINESE_ENUM.match(m.group("label") + "：")]
    top = record.get("items") or []
    if len(marks) >= 2 and not all(i.get("label") for i in top):
        found.add(CLASSES[3])
    for m in patterns.COVERS_ALL.finditer(flat):
        if fold(flat[m.start():m.start() + 8]) not in fold(" ".join(record.get("conditions") or [])):
            found.add(CLASSES[5])
    return found


def census(output: Path) -> tuple[int, dict[str, int]]:
    version = (output / "LATEST").read_text(encoding="utf-8").strip()
    data = json.loads((output / "datasets" / version / "requirements.json").read_text(encoding="utf-8"))
    records = data["records"] if isinstance(data, dict) else data
    counts = dict.fromkeys(CLASSES, 0)
    for r in records:
        for c in classes_of(r):
            counts[c] += 1
    return len(records), counts


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.splitlines()[2].strip())
        return 2
    results = [census(Path(a)) for a in argv]
    print("| class | " + " | ".join(argv) + " |")
    print("|---|" + "---|" * len(argv))
    for c in CLASSES:
        print(f"| {c} | " + " | ".join(str(counts[c]) for _, counts in results) + " |")
    print("| records | " + " | ".join(str(n) for n, _ in results) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
