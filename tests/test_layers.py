"""The package's imports only point down its layers, and no module imports itself round a
cycle (issue #16; docs/architecture.md).

Every ``import`` statement of ``src/spfsim`` counts, wherever it stands: at the top, inside
a function (a lazy import is still a dependency) or under ``TYPE_CHECKING`` (a type that
names a higher layer is knowledge the lower layer should not have).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spfsim"

# Lowest first. A module may import its own layer and the layers before it, never a later
# one. The longest listed prefix of the module's name under spfsim decides its layer. The
# results registry (the contract: names, dims, units of every variable) is data that imports
# nothing of spfsim, so every layer that makes a results variable may read it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundations", ("_version", "allocator", "errors", "input_files", "params", "rng",
                     "results.registry",
                     "results.variables_stochastic",
                     "results.variables_projection", "results.variables_analysis")),
    ("demography", ("demography",)),
    ("economy", ("economy",)),
    ("schemes", ("schemes",)),
    ("engines", ("engine",)),
    ("analysis", ("finance", "equity", "indicators", "checks", "jumps")),
    ("results", ("results", "pipeline", "scenarios", "stochastic")),
    ("report", ("report",)),
    ("face", ("model", "spf", "cli", "batch", "starter", "__init__", "__main__")),
)
LAYER_OF = {part: rank for rank, (_, parts) in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    """``spfsim.a.b`` of a file (a package's ``__init__.py`` is the package itself)."""
    parts = ("spfsim", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(known: dict[str, Path], base: str, names: list[str]) -> set[str]:
    """The modules an ``import`` names: a submodule where ``from base import name`` names
    one, else ``base`` itself."""
    found = {f"{base}.{name}" for name in names if f"{base}.{name}" in known}
    if len(found) < len(names) and base in known:
        found.add(base)
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The spfsim modules that the module ``name`` (file ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "spfsim"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            elif node.module and node.module.split(".")[0] == "spfsim":
                base = node.module
            else:
                continue
            out |= _resolve(known, base, [a.name for a in node.names])
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def layer(module: str) -> int:
    parts = module.split(".")[1:] or ["__init__"]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYER_OF:
            return LAYER_OF[".".join(parts[:n])]
    raise AssertionError(f"{module} is in no layer: add {parts[0]!r} to LAYERS in "
                         "tests/test_layers.py and to docs/architecture.md")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} ({LAYERS[layer(a)][0]}) imports {b} ({LAYERS[layer(b)][0]})"
                  for a, targets in graph.items() for b in targets if layer(b) > layer(a))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_has_a_layer():
    for name in modules():
        layer(name)


def test_no_upward_import():
    upward = upward_imports(import_graph())
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(("source", "expected"), [
    ("from ..model import Model\n", {"spfsim.model"}),
    ("from . import methods\n", {"spfsim.finance.methods"}),
    ("from .methods import present_value\n", {"spfsim.finance.methods"}),
    ("import spfsim.engine.cohort as c\n", {"spfsim.engine.cohort"}),
    ("from spfsim.report import workbook\n", {"spfsim.report.workbook"}),
    ("def f():\n    from ..report.io import atomic_write\n", {"spfsim.report.io"}),
    ("import numpy as np\n", set()),
])
def test_imports_are_read_as_written(tmp_path, source, expected):
    """The reader resolves relative, absolute, lazy and submodule imports, so that the two
    tests above can fail. The file stands for a module of spfsim.finance: a module's package
    comes from its name, not from where the file lies."""
    file = tmp_path / "example.py"
    file.write_text(source)
    assert imports_of("spfsim.finance.example", file, modules()) == expected


def test_an_upward_import_and_a_cycle_are_found():
    graph = {"spfsim.engine.cohort": {"spfsim.equity.returns"},
             "spfsim.equity.returns": {"spfsim.engine.cohort"},
             "spfsim.params": set()}
    assert upward_imports(graph) == [
        "spfsim.engine.cohort (engines) imports spfsim.equity.returns (analysis)"]
    assert cycles(graph) == [["spfsim.engine.cohort", "spfsim.equity.returns"]]
