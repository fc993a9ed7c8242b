"""Shared fixtures: the fake Ollama server (a real HTTP server on 127.0.0.1)."""

pytest_plugins = ["actors.llm.testing"]
