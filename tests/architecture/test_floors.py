"""The floors hold: no graphrec module imports one on a higher floor, at the top of a file or inside a
function (docs/architecture.md). The order is declared here once, lowest floor first; a room is a
top-level module or package of graphrec."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "graphrec"

FLOORS = (
    ("_lazy", "errors", "io", "metrics", "paths", "device", "config"),  # leaves
    ("data",),  # MovieLens, the split, the HeteroData graph, the processed-data cache
    ("embeddings",),  # walks, word2vec, similar movies
    ("models",),  # the registry and one model a file
    ("evaluation", "coldstart", "catalogue"),  # metrics over a split; what the benchmark and tuning run
    ("pipeline",),  # config -> data -> model
    ("training",),  # the trainer, run directories, the select-then-refit protocol
    ("tuning", "explain"),
    ("inductive",),  # new users and movies
    ("defaults",),  # the models and embedding trained on first use
    ("api",),  # graphrec.load_run -> TrainedRun
    ("benchmark", "serve"),  # graphrec benchmark; graphrec serve (the HTTP API and web page)
    ("cli", "__main__"),
)
FLOOR = {room: i for i, rooms in enumerate(FLOORS) for room in rooms}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = PACKAGE) -> list[tuple[str, int, bool]]:
    """``(graphrec module, line, inside a function)`` for every import in ``path``."""
    tree = ast.parse(path.read_text())
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out += [(t, node.lineno, id(node) in inner) for t in targets if t.startswith("graphrec.")]
    return out


def room(module: str) -> str:
    return module.split(".")[1]


def violations(package: Path = PACKAGE) -> list[str]:
    bad = []
    for path in sorted(package.rglob("*.py")):
        src = module_name(path, package)
        if src == "graphrec":
            continue  # the package's face: lazy names only
        for target, line, inner in imports(path, package):
            a, b = room(src), room(target)
            if a != b and FLOOR[b] > FLOOR[a]:
                where = "inside a function" if inner else "at the top"
                bad.append(f"{path.relative_to(package.parent)}:{line} ({a}, floor {FLOOR[a]}) imports "
                           f"{target} ({b}, floor {FLOOR[b]}) {where}")
    return bad


def test_every_room_has_a_floor():
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()}
    assert rooms - set(FLOOR) == set(), "declare the new room's floor in FLOORS and docs/architecture.md"


def test_no_module_imports_a_higher_floor():
    assert violations() == []


def test_the_check_can_fail(tmp_path):
    """Upward imports planted in a copy of two rooms are found, at the top and inside a function."""
    pkg = tmp_path / "graphrec"
    (pkg / "data").mkdir(parents=True)
    (pkg / "io.py").write_text("def f():\n    from .api import load_run\n")
    (pkg / "data" / "split.py").write_text("from ..training.protocol import select\nfrom . import graph\n")
    found = sorted(violations(pkg))
    assert len(found) == 2
    assert found[0].startswith("graphrec/data/split.py:1 ") and "graphrec.training.protocol" in found[0]
    assert found[0].endswith("at the top")
    assert found[1].startswith("graphrec/io.py:2 ") and found[1].endswith("graphrec.api (api, floor 10) inside a function")
