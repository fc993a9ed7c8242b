"""Fixtures for the fake-ollama tests: one server subprocess per module, reset before each test."""

from actors.llm.testing import fake_ollama, fake_ollama_server  # noqa: F401  (re-exported fixtures)
