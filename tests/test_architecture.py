"""The house rules of docs/ARCHITECTURE.md, checked on the code itself.

Every ``import`` in ``playml/`` — at the top of a module or inside a function — is read
with :mod:`ast`, and each module is placed in a layer by its folder:

    surfaces   playml (the public face), playml.cli, playml.web
    tasks      playml.images, playml.bodies, playml.sound, playml.text, playml.tabular, playml.projects
    blocks     playml.zoo, playml.formats, playml.datasets
    engines    playml.engines
    core       playml.core, playml.errors, playml.results, playml.registry, playml.samples

A module may import its own layer or any layer below it; a task area imports another
task area only through the public face (``import playml``); and no chain of imports
leads back to where it started.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "playml"

LAYERS = {  # first dotted part after "playml" -> rank
    "core": 0, "errors": 0, "results": 0, "registry": 0, "samples": 0, "_version": 0,
    "engines": 1,
    "zoo": 2, "formats": 2, "datasets": 2,
    "images": 3, "bodies": 3, "sound": 3, "text": 3, "tabular": 3, "projects": 3,
    "cli": 4, "web": 4, "__main__": 4, "": 4,
}
NAMES = {0: "core", 1: "engines", 2: "blocks", 3: "tasks", 4: "surfaces"}
TASK_AREAS = {area for area, rank in LAYERS.items() if rank == 3}


def _module_name(path: Path) -> str:
    parts = ["playml", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports() -> dict[str, set[str]]:
    """module -> the playml modules it imports (anywhere in its code)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                found = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in found:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("playml") and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


GRAPH = _imports()


def test_every_module_has_a_layer():
    unknown = sorted(m for m in GRAPH if _area(m) not in LAYERS)
    assert not unknown, f"add these folders to a layer in docs/ARCHITECTURE.md and here: {unknown}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module):
    rank = LAYERS[_area(module)]
    wrong = []
    for target in sorted(GRAPH[module]):
        target_rank = LAYERS[_area(target)]
        if target == "playml" and rank >= 3:  # tasks and surfaces may use the public face
            continue
        if target_rank > rank:
            wrong.append(f"{target} ({NAMES[target_rank]})")
        elif rank == 3 and target_rank == 3 and _area(target) != _area(module):
            wrong.append(f"{target} (another task's internals: use `import playml` or move it down)")
    assert not wrong, f"{module} ({NAMES[rank]}) imports upward or sideways: {wrong}"


def test_no_import_cycles():
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt == "playml":
                continue  # the lazy public face imports nothing at start-up
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_one_onnx_engine():
    """Only playml/engines/onnx.py opens ONNX Runtime sessions or exports PyTorch to ONNX."""
    engine = ROOT / "engines" / "onnx.py"
    found = []
    for path in ROOT.rglob("*.py"):
        if path == engine:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("InferenceSession", "export") and \
                    ast.unparse(node.value) in ("ort", "onnxruntime", "torch.onnx"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert not found, "use playml.engines.onnx (session, cached_session, export_torch) instead: " + ", ".join(found)


def test_modules_named_in_strings_point_down_too():
    """A module loaded by name (``importlib.import_module("playml.…")``) obeys the same rules;
    only the task map (playml/registry.py) names tasks for the layers below them."""
    import re

    pattern = re.compile(r"playml(\.[a-z_]+)+(:\w+)?")
    wrong = []
    for path in ROOT.rglob("*.py"):
        module = _module_name(path)
        if module == "playml.registry":
            continue
        rank = LAYERS[_area(module)]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and pattern.fullmatch(node.value):
                target = node.value.partition(":")[0]
                if target in GRAPH and LAYERS[_area(target)] > rank:
                    wrong.append(f"{module} names {target}")
    assert not wrong, wrong
