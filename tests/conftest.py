"""Shared fixtures: the fake Ollama and fake Anthropic servers (real HTTP servers on 127.0.0.1)."""

pytest_plugins = ["actors.fakes.pytest_plugin"]
