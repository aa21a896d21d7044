"""How readable the package is as a whole, measured (issue 29): the figures of the lead's
before/after table, for this tree or any revision.

    python bench/metrics.py              # this working tree
    python bench/metrics.py --rev edd4954  # a commit (read with `git show`, nothing checked out)
    python bench/metrics.py --json

- modules at the top level of ``pipeline/``;
- the longest function and every function over ``LIMIT`` lines (a def's first line to its last);
- imports inside functions: indented ``import x`` / ``from x import y`` lines, as
  ``grep -cE '^\\s+(import|from \\S+ import) '`` counts them, and the names of the functions
  holding them;
- places that word a rule: functions with an f-string writing a declared count from a record's
  ``of`` and ``pick`` (``5选1``, ``1 of 5``) — the wording of a rule belongs to
  ``present/words.py``, so every other place is a second home.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60
_INDENTED_IMPORT = re.compile(r"^[ \t]+(import |from \S+ import )", re.M)
#: a count written from a record's fields: f"{…of…}选{…pick…}" or f"{pick} of {of}"
_RULE_WORDING = re.compile(r"\{[^{}]*\bof\b[^{}]*\}选\{[^{}]*\bpick\b|\{[^{}]*\bpick\b[^{}]*\} of \{[^{}]*\bof\b")


def _sources(rev: str | None) -> dict[str, str]:
    """path under the repository -> text, of every module of ``pipeline/``."""
    if rev is None:
        return {p.relative_to(ROOT).as_posix(): p.read_text("utf-8") for p in sorted((ROOT / "pipeline").rglob("*.py"))}
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "pipeline/"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout for n in names if n.endswith(".py")}


def _functions(path: str, text: str):
    """(qualified name, first line, last line, source) of every function and method."""
    tree = ast.parse(text)
    lines = text.splitlines()

    def walk(node, prefix: str):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                name = f"{prefix}{child.name}"
                yield name, first, child.end_lineno, "\n".join(lines[child.lineno - 1:child.end_lineno])
                yield from walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, f"{path}:")


def measure(sources: dict[str, str]) -> dict:
    top = sorted(Path(p).name for p in sources if p.count("/") == 1)
    funcs = [(name, last - first + 1, src) for p, text in sources.items() for name, first, last, src in _functions(p, text)]
    # a nested function counts in its own right and within its parent, as a reader meets it
    longest = max(funcs, key=lambda f: f[1])
    over = sorted(((n, k) for n, k, _ in funcs if k > LIMIT), key=lambda f: -f[1])
    inside = sum(len(_INDENTED_IMPORT.findall(text)) for text in sources.values())
    wording = sorted({n for n, _, src in funcs if _RULE_WORDING.search(src)})
    # a function nested in one that words a rule is counted once, as its outermost function
    wording = [n for n in wording if not any(n != o and n.startswith(o + ".") for o in wording)]
    return {"top_level_modules": top, "longest_function": [longest[0], longest[1]],
            "functions_over_limit": over, "imports_inside_functions": inside, "rule_wording": wording}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", help="a git revision to measure instead of the working tree")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    m = measure(_sources(args.rev))
    if args.json:
        print(json.dumps(m, ensure_ascii=False, indent=1))
        return 0
    print(f"modules at the top level: {len(m['top_level_modules'])} ({', '.join(m['top_level_modules'])})")
    print(f"longest function: {m['longest_function'][0]} ({m['longest_function'][1]} lines)")
    print(f"functions over {LIMIT} lines: {len(m['functions_over_limit'])}")
    for name, n in m["functions_over_limit"]:
        print(f"  {n:4d}  {name}")
    print(f"imports inside functions: {m['imports_inside_functions']}")
    print(f"places that word a rule: {len(m['rule_wording'])}")
    for name in m["rule_wording"]:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
