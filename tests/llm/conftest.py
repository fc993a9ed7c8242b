"""Fixtures for the LLM client tests: the fake-ollama subprocess (one per module, reset per test)."""

from actors.llm.testing import fake_ollama, fake_ollama_server  # noqa: F401  (re-exported fixtures)
