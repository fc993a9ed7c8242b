"""Tests for bin/fake-ollama (actors.llm.fake_ollama*) and its test helper."""
