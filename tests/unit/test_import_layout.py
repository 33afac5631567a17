"""The monolith's import layout, read from the source: no cycle, and the ports cut clean (issue 9).

    ports/        Protocols, DTOs and errors: import no adapter, no context, no wiring
    adapters/     one module per adapter: import ports, their context, core, strangler; never wiring
    wiring.py     the only module of the monolith that imports an adapter
    core/service_client.py   the one HTTP client: imports no other module of the monolith

Only module-level imports count for cycles, and the modules that define the layout have no
import inside a function (the old way of breaking a cycle).
"""

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONOLITH = ROOT / "monolith"
# The modules whose layout this issue set: no import inside a function here.
LAID_OUT = (
    "monolith.ports",
    "monolith.adapters",
    "monolith.wiring",
    "monolith.core.service_client",
    "monolith.strangler",
)


@cache
def modules():
    """{dotted name: path} of every module of the monolith but migrations."""
    found = {}
    for path in MONOLITH.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _targets(module, path, node):
    """The dotted names an import statement may mean: the module and each imported name under it."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if node.level:
        base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
        source = base + (f".{node.module}" if node.module else "")
    else:
        source = node.module
    return [source, *(f"{source}.{alias.name}" for alias in node.names)]


@cache
def graph():
    """{module: the monolith's modules it imports at module level}."""
    known, edges = modules(), {}
    for module, path in known.items():
        imported = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, path, node):
                    while target and target not in known:  # a class or function: its module
                        target = target.rpartition(".")[0]
                    if target and target != module:
                        imported.add(target)
        edges[module] = imported
    return edges


def cycle_from(start, edges):
    """A list of modules that leads from `start` back to it, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, path = stack.pop()
        for target in edges[module]:
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def under(module, *prefixes):
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def test_the_monolith_has_no_import_cycle():
    edges = graph()
    cycles = [cycle for cycle in (cycle_from(module, edges) for module in sorted(edges)) if cycle]
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("module", sorted(m for m in modules() if under(m, *LAID_OUT)))
def test_no_import_inside_a_function(module):
    tree = ast.parse(modules()[module].read_text())
    inside = [
        inner.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for inner in ast.walk(node)
        if isinstance(inner, (ast.Import, ast.ImportFrom))
    ]
    assert not inside, f"{module} imports inside a function at lines {inside}"


@pytest.mark.parametrize("module", sorted(m for m in modules() if under(m, "monolith.ports")))
def test_a_port_imports_nothing_but_core(module):
    assert all(
        under(target, "monolith.core", "monolith.ports") or target == "monolith" for target in graph()[module]
    ), graph()[module]


def test_only_wiring_imports_an_adapter():
    importers = {
        module for module, targets in graph().items() if any(under(target, "monolith.adapters") for target in targets)
    }
    assert {module for module in importers if not under(module, "monolith.adapters")} == {"monolith.wiring"}
    assert not any(
        under(target, "monolith.wiring")
        for module in importers
        for target in graph()[module]
        if under(module, "monolith.adapters")
    )


def test_the_service_client_imports_no_other_module_of_the_monolith():
    assert graph()["monolith.core.service_client"] == set()


def test_the_layout_test_sees_a_cycle_when_there_is_one():
    assert cycle_from("a", {"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_from("a", {"a": {"b"}, "b": set()}) is None
