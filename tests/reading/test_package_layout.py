"""The reading package stays in small parts that import one way (issue 9).

ruff's C901 keeps each function small; these keep each module under 500 lines
and the imports inside votes/reading/ free of cycles.
"""

import ast
from pathlib import Path

import votes.reading

PACKAGE = Path(votes.reading.__file__).parent
MODULES = {path.stem: path for path in PACKAGE.glob("*.py")}


def imports_inside(path: Path) -> set[str]:
    """The modules of votes/reading/ that this module imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif node.level == 1:
            found |= {alias.name for alias in node.names if alias.name in MODULES}
        elif node.module and node.module.startswith("votes.reading."):
            found.add(node.module.split(".")[2])
    return found - {path.stem}


def test_it_keeps_every_module_under_500_lines():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    assert {name: n for name, n in sizes.items() if n > 500} == {}


def test_it_has_no_import_cycle():
    graph = {name: imports_inside(path) for name, path in MODULES.items()}
    done: set[str] = set()
    # Take away, round after round, the modules whose imports are all taken away;
    # what is left over imports itself through a cycle.
    while True:
        ready = {name for name, deps in graph.items() if name not in done and deps <= done}
        if not ready:
            break
        done |= ready
    assert set(graph) - done == set()
