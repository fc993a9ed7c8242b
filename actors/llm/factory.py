"""The factory that picks an LLM backend by name: ``make_client("ollama", host=..., model=...)``.

The backends' modules (and their SDKs) are imported only when chosen, so an Ollama-only run
never loads the Anthropic SDK. Both import :mod:`actors.llm.protocol`, never this module.
"""

from __future__ import annotations

from typing import Any

from actors.errors import ConfigError
from actors.llm.protocol import ChatClient

__all__ = ["BACKENDS", "make_client"]

BACKENDS = ("ollama", "claude")


def make_client(backend: str, **settings: Any) -> ChatClient:
    """An :class:`~actors.llm.ollama_client.OllamaChat` or a :class:`~actors.llm.claude_client.ClaudeChat`.

    ``settings`` are the chosen class's keyword-only arguments.

    Raises:
        ConfigError: ``backend`` is not one of :data:`BACKENDS`.
    """
    if backend == "ollama":
        from actors.llm.ollama_client import OllamaChat

        return OllamaChat(**settings)
    if backend in ("claude", "anthropic"):
        from actors.llm.claude_client import ClaudeChat

        return ClaudeChat(**settings)
    raise ConfigError(f"ai_backend: expected one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
