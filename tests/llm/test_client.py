"""The shared interface: ChatMessage, make_client, complete_or_cancelled."""

from __future__ import annotations

import pytest
import trio

from actors.errors import ConfigError
from actors.llm import ChatClient, ChatMessage, FailureKind, complete_or_cancelled, make_client
from actors.llm.claude_client import ClaudeChat
from actors.llm.ollama_client import OllamaChat
from actors.secrets import Secret
from messages.debate import Thesis


class SlowClient:
    """A ChatClient whose complete() takes `seconds` and records whether it was cancelled."""

    backend = "fake"
    model = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.cancelled = False

    async def complete(self, messages, reply_type, *, timeouts=None):
        try:
            await trio.sleep(self.seconds)
        except trio.Cancelled:
            self.cancelled = True
            raise
        raise AssertionError("not reached in these tests")

    async def probe(self, *, timeout):
        raise AssertionError("not used")

    async def aclose(self):
        pass


def test_chat_message_roles_are_checked():
    """Only system/user/assistant are roles; content must be text."""
    assert ChatMessage("user", "hi").role == "user"
    with pytest.raises(ValueError, match="ChatMessage.role must be one of system, user, assistant, got 'tool'"):
        ChatMessage("tool", "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ChatMessage.content must be a str, got int"):
        ChatMessage("user", 3)  # type: ignore[arg-type]


async def test_make_client_builds_each_backend():
    """make_client('ollama'|'claude', ...) builds the right class, which satisfies ChatClient."""
    ollama = make_client("ollama", model="llama3.2", host="http://127.0.0.1:1")
    claude = make_client("claude", model="claude-test", api_key=Secret("sk-test"))
    try:
        assert isinstance(ollama, OllamaChat) and isinstance(claude, ClaudeChat)
        assert isinstance(ollama, ChatClient) and isinstance(claude, ChatClient)
        assert (ollama.backend, ollama.model, claude.backend) == ("ollama", "llama3.2", "claude")
    finally:
        await ollama.aclose()
        await claude.aclose()


def test_make_client_rejects_an_unknown_backend():
    """An unknown backend is a ConfigError listing the allowed ones."""
    with pytest.raises(ConfigError, match="ai_backend: expected one of 'ollama', 'claude', got 'gpt'"):
        make_client("gpt", model="x")


async def test_complete_or_cancelled_turns_the_scope_cancel_into_an_outcome(autojump_clock):
    """Cancelling the given scope gives a cancelled outcome with its latency; the call saw Cancelled."""
    client = SlowClient(100)
    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:

        async def cancel_soon():
            await trio.sleep(4)
            scope.cancel()

        nursery.start_soon(cancel_soon)
        outcome = await complete_or_cancelled(client, [ChatMessage("user", "x")], Thesis, cancel_scope=scope)
    assert outcome.failure is FailureKind.CANCELLED and outcome.latency == 4 and client.cancelled
    assert (outcome.backend, outcome.model) == ("fake", "slow")


async def test_complete_or_cancelled_lets_an_outer_cancel_through(autojump_clock):
    """A cancel from an enclosing scope still propagates (it is not the helper's scope)."""
    client = SlowClient(100)
    with trio.move_on_after(2) as outer:
        await complete_or_cancelled(client, [ChatMessage("user", "x")], Thesis, cancel_scope=trio.CancelScope())
        pytest.fail("returned although the outer scope was cancelled")
    assert outer.cancelled_caught and client.cancelled
