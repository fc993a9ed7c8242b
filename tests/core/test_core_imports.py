"""The pure layer stays pure: actors.core imports only the stdlib, attrs/cattrs, messages and itself."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.import_graph import ROOT, Import, import_graph, imports_in, module_files

ALLOWED_THIRD_PARTY = {"attrs", "cattrs", "__future__"}
#: What the pure layer must never load, directly or through what it imports.
FORBIDDEN = ("trio", "httpx", "httpx2", "apsw", "ollama", "anthropic", "rich", "h11", "trio_parallel")
#: The pure logic that lives here (a move back out of core fails this test).
EXPECTED = {
    "actors.core", "actors.core.scoring", "actors.core.scoring.technical", "actors.core.scoring.catalysts",
    "actors.core.scoring.indicators", "actors.core.scoring.weights", "actors.core.options",
    "actors.core.options.select", "actors.core.pricing", "actors.core.plausible", "actors.core.ranking",
    "actors.core.prompts",
}


def offenders(imports: list[Import]) -> list[str]:
    """The imports (module- or function-level) of anything but stdlib, attrs/cattrs, messages and actors.core."""
    found = []
    for imp in imports:
        top = imp.target.split(".")[0]
        if imp.target == "actors.core" or imp.target.startswith("actors.core.") or top == "messages":
            continue
        if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
            continue
        found.append(f"{imp.source}:{imp.line} imports {imp.target}")
    return found


def core_imports() -> list[Import]:
    return [imp for imp in import_graph() if imp.source == "actors.core" or imp.source.startswith("actors.core.")]


def test_core_holds_the_pure_logic():
    """Scoring, options selection, pricing, plausibility bounds, ranking and the debate prompts live in actors.core."""
    core = {name for name in module_files() if name == "actors.core" or name.startswith("actors.core.")}
    assert core >= EXPECTED


def test_core_imports_no_io_no_trio_and_no_actor():
    """No module of actors.core imports trio, httpx, apsw, an LLM SDK or any actor module, even inside a function."""
    imports = core_imports()
    readers = {"actors.core.ranking", "actors.core.prompts", "actors.core.pricing", "actors.core.scoring.technical",
               "actors.core.options.select"}
    assert readers <= {imp.source for imp in imports}  # the check did read the files
    assert offenders(imports) == []


def test_importing_core_loads_nothing_forbidden():
    """Importing every core module (and, through it, messages) in a fresh interpreter loads no I/O library and no actor."""
    names = sorted(name for name in module_files() if name.startswith("actors.core"))
    code = textwrap.dedent(f"""
        import importlib, json, sys
        for name in {names!r}:
            importlib.import_module(name)
        print(json.dumps(sorted(sys.modules)))
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout))
    assert set(names) <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN) == []
    ours = sorted(m for m in loaded if m.startswith("actors.") and not m.startswith("actors.core"))
    assert ours == []


def test_checker_flags_io_and_actor_imports(tmp_path):
    """The checker sees a function-level ``import trio`` and a relative import that leaves actors.core."""
    sample = tmp_path / "sample.py"
    sample.write_text(textwrap.dedent("""
        import math
        import attrs
        from messages.scan import Direction
        from . import weights
        from ...store import reader

        def later():
            import trio
    """))
    found = offenders(imports_in("actors.core.scoring.sample", sample))
    assert found == ["actors.core.scoring.sample:6 imports actors.store", "actors.core.scoring.sample:9 imports trio"]
