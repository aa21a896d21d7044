"""The file list is the architecture (README, "Layout of the code"): a record passes the stages
downward, raw file -> parse -> reconcile -> publish -> present, and no module imports a stage
above its own. Read from the source with ``ast`` (imports inside functions count too)."""
import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "pipeline"
#: a stage, and the stages it may import (itself always)
MAY_IMPORT = {
    "core": set(),
    "parsers": {"core"},
    "reconcile": {"core"},
    "store": {"core", "parsers"},  # decoding a raw file to quote it is the parsers' (parsers.detect)
    "present": {"core", "reconcile"},
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out.update(n.split(".")[1] for n in names if n.count(".") >= 1)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("pipeline."))
    return out


def test_no_stage_imports_a_stage_above_it():
    stages = set(MAY_IMPORT)
    wrong = []
    for stage, allowed in MAY_IMPORT.items():
        for path in sorted((PACKAGE / stage).rglob("*.py")):
            above = {m for m in _imports(path) if m in stages and m != stage and m not in allowed}
            # the top-level modules (build, cli, processes) are the spine and the door: only they
            # call every stage
            spine = {m for m in _imports(path) if (PACKAGE / f"{m}.py").exists()}
            if above or spine:
                wrong.append(f"{path.relative_to(ROOT)}: imports {sorted(above | spine)}")
    assert not wrong, "\n".join(wrong)


def test_the_top_level_holds_only_the_spine_and_the_door():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "build.py", "cli.py", "processes.py"], top
