"""The kernel stands alone: actors.runtime imports nothing from the actors or the messages."""

from __future__ import annotations

import ast
from pathlib import Path

import actors.runtime

RUNTIME = Path(actors.runtime.__file__).parent
ALLOWED_THIRD_PARTY = {"trio", "attrs", "outcome"}


def imported_modules(path: Path) -> list[str]:
    """Absolute names of every module imported by the file at `path` (relative ones resolved)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = "actors.runtime".rsplit(".", node.level - 1)[0] if node.level > 1 else "actors.runtime"
                names.append(f"{base}.{node.module}" if node.module else base)
            else:
                names.append(node.module or "")
    return names


def test_runtime_imports_only_itself_stdlib_and_trio_attrs():
    """No module in actors/runtime imports actors.* (outside runtime), messages, or other packages."""
    import sys

    modules = sorted(RUNTIME.glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "mailbox.py", "request.py", "supervisor.py", "bus.py"}
    offenders = []
    for path in modules:
        for name in imported_modules(path):
            top = name.split(".")[0]
            if name == "actors.runtime" or name.startswith("actors.runtime."):
                continue
            if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__":
                continue
            offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_import_checker_catches_domain_imports(tmp_path):
    """The checker does see `from messages import ...` and `from ..errors import ...`."""
    sample = tmp_path / "sample.py"
    sample.write_text("from messages.scan import ScanRequested\nfrom ..errors import ConfigError\nimport trio\n")
    assert imported_modules(sample) == ["messages.scan", "actors.errors", "trio"]


def test_public_names_are_exported():
    """Everything in __all__ exists, and the package docstring opens with the layer's job."""
    for name in actors.runtime.__all__:
        assert hasattr(actors.runtime, name), name
    assert actors.runtime.__doc__.splitlines()[0].startswith("The actor kernel")
