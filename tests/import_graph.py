"""The import graph of our own packages, read from the source with ``ast`` (nothing is imported).

Every ``import`` and ``from ... import`` is listed with where it sits: at module level (run when
the module is imported) or inside a function (run when the function is called). Only
module-level imports can make an import cycle fail at start-up, so :func:`find_cycles` follows
those alone; function-level imports are listed (:attr:`Import.module_level` False) for the
other checks, e.g. "production code never imports the fakes".

Edges follow what Python loads: ``from actors.store import schema`` is an edge to the module
``actors.store.schema`` when that module exists, else to ``actors.store``; ``import a.b`` is an
edge to ``a.b``. The implicit import of a parent package's ``__init__`` is not an edge (a
package's ``__init__`` importing its own submodules, which import siblings through the package,
is how packages work, not a cycle). Imports under ``if TYPE_CHECKING:`` never run and are skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("actors", "messages")


@attrs.frozen
class Import:
    """One import statement's target in `source` at `line`; `module_level` False: inside a function."""

    source: str
    target: str
    line: int
    module_level: bool


def module_files(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under the `packages` directories of `root`."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_in(module: str, path: Path, known: Iterable[str] = ()) -> list[Import]:
    """Every import in the file at `path` (module `module`), relative ones resolved against it.

    `known` is the set of module names that exist, used to tell ``from pkg import submodule``
    (an edge to the submodule) from ``from pkg import name`` (an edge to the package).
    """
    known = set(known)
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_one(other, module_level)
                continue
            visit_one(child, module_level)

    def visit_one(node: ast.AST, module_level: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, node.lineno, module_level) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(module, is_package, node.level, node.module) if node.level else node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                target = candidate if candidate in known else base
                found.append(Import(module, target, node.lineno, module_level))
        else:
            inside = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(node, module_level and not inside)

    visit(ast.parse(path.read_text(), filename=str(path)), True)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> list[Import]:
    """All imports of every module under `packages`, module-level and function-level."""
    modules = module_files(root, packages)
    return [imp for name, path in modules.items() for imp in imports_in(name, path, modules)]


def find_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import), each sorted.

    Tarjan's algorithm, iterative. `edges` maps a module to the modules it imports.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    nodes = set(edges) | {t for targets in edges.values() for t in targets}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    cycles.append(sorted(component))
    return cycles


def module_level_edges(imports: Iterable[Import], packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """Source → targets for module-level imports between our own modules (third-party left out)."""
    tops = set(packages)
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if imp.module_level and imp.target.split(".")[0] in tops:
            edges.setdefault(imp.source, set()).add(imp.target)
    return edges
