"""The layout shows the architecture: no import cycles, and production code never imports the test doubles."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.import_graph import (
    PACKAGES,
    ROOT,
    Import,
    find_cycles,
    import_graph,
    imports_in,
    module_files,
    module_level_edges,
)

FAKES = "actors.fakes"


def _ours(target: str) -> bool:
    return target.split(".")[0] in PACKAGES


def test_no_import_cycle_at_module_level():
    """Module-level imports between actors/ and messages/ form no cycle (those are what run at import time)."""
    imports = import_graph()
    edges = module_level_edges(imports)
    assert len(edges) > 50 and "actors.cli" in edges  # the graph was read
    assert find_cycles(edges) == []


def test_no_import_cycle_even_through_function_level_imports():
    """Counting the imports inside functions too (lazy imports), there is still no cycle.

    Only module-level cycles can break start-up, but a lazy import that closes a cycle (the old
    cli -> cli_runs -> cli, llm.client -> ollama_client -> llm.client) still ties two modules
    into one; lazy imports are for start-up cost and must point down like the others.
    """
    imports = import_graph()
    assert any(not imp.module_level and _ours(imp.target) for imp in imports)  # lazy imports are in the graph
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if _ours(imp.target):
            edges.setdefault(imp.source, set()).add(imp.target)
    assert find_cycles(edges) == []


def test_production_code_never_imports_the_fakes():
    """No module outside actors.fakes imports actors.fakes, at module level or inside a function."""
    found = [f"{imp.source}:{imp.line} imports {imp.target}" for imp in import_graph()
             if (imp.target == FAKES or imp.target.startswith(FAKES + "."))
             and not (imp.source == FAKES or imp.source.startswith(FAKES + "."))]
    assert found == []


def test_no_test_double_left_in_production_packages():
    """The fake servers, their test helpers and the memory persister live in actors.fakes only."""
    modules = module_files()
    assert {f"{FAKES}.ollama", f"{FAKES}.ollama_testing", f"{FAKES}.anthropic", f"{FAKES}.anthropic_testing",
            f"{FAKES}.memory_persister", f"{FAKES}.pytest_plugin"} <= set(modules)
    misplaced = [name for name in modules if not name.startswith(FAKES)
                 and any(word in name.rsplit(".", 1)[-1] for word in ("fake", "testing", "memory"))]
    assert misplaced == []


def test_the_scan_loads_no_fake():
    """Importing the CLI, the scan wiring and the stores in a fresh interpreter loads nothing from actors.fakes."""
    code = textwrap.dedent("""
        import json, sys
        import actors.cli, actors.cli_runs, actors.scan_app, actors.store, actors.llm, actors.debate.wiring
        import actors.llm.factory, actors.llm.ollama_client, actors.llm.claude_client
        print(json.dumps(sorted(sys.modules)))
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    assert "actors.scan_app" in loaded
    assert [m for m in loaded if m.startswith(FAKES)] == []


def test_graph_reader_lists_both_kinds_and_resolves_names(tmp_path):
    """Module- and function-level imports are told apart; ``from pkg import module`` is an edge to the module;
    relative imports are resolved; imports under ``if TYPE_CHECKING:`` are skipped."""
    sample = tmp_path / "cli.py"
    sample.write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        from actors.store import schema, Persister
        from .config import Settings
        if TYPE_CHECKING:
            from actors.scan_app import run_scan_command

        class Command:
            import json

        def main():
            from actors.cli_runs import main_runs
    """))
    found = [(imp.target, imp.module_level) for imp in imports_in("actors.cli", sample, {"actors.store.schema"})]
    assert found == [
        ("typing", True),
        ("actors.store.schema", True),
        ("actors.store", True),
        ("actors.config", True),
        ("json", True),
        ("actors.cli_runs", False),
    ]


def test_cycle_finder_finds_cycles_and_only_cycles():
    """A three-module loop and a self-import are reported; a diamond is not."""
    edges = {
        "a": {"b"}, "b": {"c"}, "c": {"a", "d"},  # a -> b -> c -> a
        "d": {"e", "f"}, "e": {"g"}, "f": {"g"},  # a diamond, no cycle
        "s": {"s"},
    }
    assert sorted(find_cycles(edges)) == [["a", "b", "c"], ["s"]]
    assert find_cycles({"d": {"e", "f"}, "e": {"g"}, "f": {"g"}}) == []


def test_module_level_edges_leave_lazy_imports_out():
    """A cycle closed only by a function-level import is not a module-level cycle, but is in the full graph."""
    imports = [Import("actors.a", "actors.b", 1, True), Import("actors.b", "actors.a", 9, False),
               Import("actors.a", "trio", 2, True)]
    assert module_level_edges(imports) == {"actors.a": {"actors.b"}}
    assert find_cycles(module_level_edges(imports)) == []
    assert find_cycles({"actors.a": {"actors.b"}, "actors.b": {"actors.a"}}) == [["actors.a", "actors.b"]]
