"""client_settings: the settings build each backend's client with every parameter it takes, and nothing else."""

from __future__ import annotations

import pytest

from actors.config import load_settings
from actors.debate.wiring import client_settings
from actors.errors import ConfigError
from actors.llm.claude_client import ClaudeChat
from actors.llm.factory import make_client
from actors.llm.ollama_client import OllamaChat


async def test_claude_is_built_from_settings_with_base_url_and_max_tokens():
    """ai_backend=claude: base URL, model, max_tokens (ollama_num_predict) and timeouts reach ClaudeChat."""
    settings = load_settings(env={"ANTHROPIC_API_KEY": "sk-ant-unit-1"}, flags={
        "ai_backend": "claude", "anthropic_base_url": "http://127.0.0.1:9/gw", "anthropic_model": "claude-x",
        "ollama_num_predict": "333", "ai_first_chunk_timeout": "7"})
    client = make_client(settings.ai_backend, **client_settings(settings, None))
    try:
        assert isinstance(client, ClaudeChat)
        assert client.model == "claude-x" and client.max_tokens == 333 and client.timeouts.first_chunk == 7
        assert str(client._client.base_url).rstrip("/") == "http://127.0.0.1:9/gw"
    finally:
        await client.aclose()


async def test_ollama_is_built_from_settings_with_its_temperature():
    """ai_backend=ollama: the Ollama client takes the temperature, host and model."""
    settings = load_settings(env={}, flags={"ai_temperature": "0.3", "ollama_model": "m:1"})
    client = make_client(settings.ai_backend, **client_settings(settings, None))
    try:
        assert isinstance(client, OllamaChat) and client.model == "m:1" and client.temperature == 0.3
    finally:
        await client.aclose()


def test_claude_without_a_key_is_a_configuration_error():
    """No key anywhere: ConfigError saying where to set one."""
    settings = load_settings(env={}, flags={"ai_backend": "claude"})
    with pytest.raises(ConfigError, match="needs an API key"):
        client_settings(settings, None)


def test_a_base_url_that_is_not_http_is_refused():
    """anthropic_base_url must be an http(s) URL with a host."""
    with pytest.raises(ConfigError, match=r"anthropic_base_url: expected an http:// or https:// URL"):
        load_settings(env={}, flags={"anthropic_base_url": "api.anthropic.com"})
