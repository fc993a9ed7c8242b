"""ClaudeChat in virtual time, with httpx2.MockTransport serving Anthropic-style SSE."""

from __future__ import annotations

import logging

import httpx2
import pytest
import trio

from actors.llm import ChatMessage, FailureKind, RetryPolicy
from actors.llm.claude_client import ClaudeChat
from actors.llm.structured import json_schema
from actors.secrets import Secret
from messages.debate import RiskAssessment, Stance, Thesis, Verdict
from messages.health import HealthStatus

from tests.llm.llm_fakes import (
    VALID_TEXT,
    Script,
    claude_error,
    claude_reply,
    claude_stream_then,
    raises,
    sse,
)

FAKE_KEY = "sk-ant-FAKE-KEY-0123456789-do-not-leak"
MESSAGES = (ChatMessage("system", "You are the risk desk."), ChatMessage("user", "Assess AAPL 200C."))
EXACT = RetryPolicy(delays=(2, 4, 8), jitter=0)
RISK_TEXT = '{"verdict": "adjust", "conviction": 0.4, "main_risks": ["earnings"], "summary": "size down"}'


def make(script: Script, *, retry: RetryPolicy = EXACT, observed: list | None = None) -> ClaudeChat:
    script.http = httpx2
    return ClaudeChat(model="claude-test", api_key=Secret(FAKE_KEY), retry=retry,
                      http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script)),
                      observer=observed.append if observed is not None else None)


async def test_streamed_text_is_assembled_and_validated(autojump_clock):
    """Text deltas are joined, parsed into the reply type, with token counts from the stream."""
    script = Script(claude_reply(RISK_TEXT, pieces=5, gap=0.25, input_tokens=31, output_tokens=17))
    chat = make(script)
    outcome = await chat.complete(MESSAGES, RiskAssessment)
    await chat.aclose()
    assert outcome.ok and outcome.value == RiskAssessment(
        verdict=Verdict.ADJUST, conviction=0.4, main_risks=("earnings",), summary="size down", stance=Stance.NEUTRAL)
    assert (outcome.input_tokens, outcome.output_tokens, outcome.attempts) == (31, 17, 1)
    assert outcome.latency == pytest.approx(1.25) and outcome.backend == "claude"


async def test_system_messages_go_into_system_and_the_schema_into_a_forced_tool(autojump_clock):
    """System messages become `system`; the schema is the forced tool's input_schema; key sent as auth."""
    script = Script(claude_reply())
    chat = make(script)
    await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    body = script.seen[0].body
    assert body["stream"] is True and body["max_tokens"] == 1024 and body["model"] == "claude-test"
    assert body["system"].startswith("You are the risk desk.\n\nGive your answer by calling the record_thesis tool")
    assert body["tools"] == [{"name": "record_thesis", "description": "Record the Thesis reply.",
                              "input_schema": json_schema(Thesis)}]
    assert body["tool_choice"] == {"type": "tool", "name": "record_thesis"}
    assert "temperature" not in body
    assert body["messages"] == [{"role": "user", "content": "Assess AAPL 200C."}]
    assert FAKE_KEY in " ".join(script.seen[0].headers.values())


async def test_overloaded_529_is_retried_after_retry_after(autojump_clock):
    """A 529 overloaded_error with Retry-After: 5 is retried exactly 5 s later."""
    script = Script(claude_error(529, "overloaded_error", "Overloaded", {"retry-after": "5"}), claude_reply())
    observed: list = []
    chat = make(script, observed=observed)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and script.times == [0, 5]
    assert [(o.kind, o.http_status, o.meaning.value) for o in observed] == [("http_status", 529, "answered_error"), (None, None, "answered")]


async def test_rate_limit_429_honours_retry_after_ms(autojump_clock):
    """A 429 with retry-after-ms: 1500 is retried 1.5 s later."""
    script = Script(claude_error(429, "rate_limit_error", headers={"retry-after-ms": "1500", "retry-after": "9"}),
                    claude_reply())
    chat = make(script)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and script.times == [0, 1.5]


async def test_persistent_overload_ends_as_http_status_after_the_schedule(autojump_clock):
    """529 on every attempt without Retry-After follows 2, 4, 8 and ends as http_status 529."""
    script = Script(*[claude_error(529, "overloaded_error")] * 4)
    chat = make(script)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert script.times == [0, 2, 6, 14]
    assert outcome.failure is FailureKind.HTTP_STATUS and outcome.http_status == 529


async def test_error_event_inside_the_stream_is_retried(autojump_clock):
    """An `event: error` overloaded_error mid-stream counts as a 529 and is retried."""
    error = sse("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    script = Script(claude_stream_then(error), claude_reply())
    chat = make(script)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and script.times == [0, 2]


async def test_unauthorized_is_not_retried_and_never_shows_the_key(autojump_clock, caplog):
    """A 401 is unauthorized after one attempt; the key is absent from outcome, repr and logs."""
    caplog.set_level(logging.DEBUG)
    script = Script(claude_error(401, "authentication_error", f"invalid x-api-key {FAKE_KEY}"))
    chat = make(script)
    outcome = await chat.complete(MESSAGES, Thesis)
    health_script_chat = make(Script(claude_error(401, "authentication_error", f"bad key {FAKE_KEY}")))
    health = await health_script_chat.probe(timeout=3)
    await chat.aclose()
    await health_script_chat.aclose()
    assert outcome.failure is FailureKind.UNAUTHORIZED and outcome.attempts == 1 and outcome.http_status == 401
    assert health.status is HealthStatus.UNAUTHORIZED
    texts = [outcome.detail, repr(outcome), str(outcome), repr(chat), str(chat), health.detail, repr(health),
             caplog.text]
    for text in texts:
        assert FAKE_KEY not in text
    assert "***" in outcome.detail


async def test_invalid_reply_is_retried_with_the_stricter_instruction(autojump_clock):
    """A reply with prose and a bad enum is retried at once with the problems as the last user message."""
    bad = 'Here you go: {"stance": "very bullish", "conviction": 0.7, "key_points": ["a"], "summary": "s"}'
    script = Script(claude_reply(bad), claude_reply())
    chat = make(script)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and outcome.parse_failures == 1 and script.times == [0, 0]
    last = script.seen[1].body["messages"][-1]
    assert last["role"] == "user" and "Reply with only a JSON object matching the schema" in last["content"]
    assert "$.stance" in last["content"]


async def test_stalled_sse_stream_fails_as_stall(autojump_clock):
    """message_start then silence ends as stall after the stall timeout, not the total."""
    script = Script(claude_stream_then(hang_after=True))
    chat = make(script, retry=RetryPolicy(delays=(), jitter=0))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.failure is FailureKind.STALL and outcome.latency == 20


async def test_connection_failure_is_unreachable(autojump_clock):
    """A refused connection (APIConnectionError) is unreachable and retried on schedule."""
    script = Script(*[raises(lambda r: httpx2.ConnectError("Connection refused", request=r))] * 2, claude_reply())
    chat = make(script)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and script.times == [0, 2, 6]


async def test_missing_message_stop_is_a_protocol_error(autojump_clock):
    """A stream that ends without message_stop is protocol_error."""
    chat = make(Script(claude_stream_then()), retry=RetryPolicy(delays=(), jitter=0))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.failure is FailureKind.PROTOCOL_ERROR


async def test_probe_is_healthy_when_the_model_is_retrievable(autojump_clock):
    """probe() GETs /v1/models/{model} and reports healthy on 200."""

    async def model_info(script, request):
        return httpx2.Response(200, json={"id": "claude-test", "type": "model", "display_name": "Claude Test",
                                          "created_at": "2025-01-01T00:00:00Z"})

    script = Script(model_info)
    chat = make(script)
    health = await chat.probe(timeout=3)
    await chat.aclose()
    assert health.status is HealthStatus.HEALTHY and script.seen[0].path == "/v1/models/claude-test"


async def test_probe_reports_unreachable_and_timeout(autojump_clock):
    """A refused connection is unreachable; a hung API is timeout at the probe timeout."""

    async def hang(script, request):
        await trio.sleep_forever()

    refused = make(Script(raises(lambda r: httpx2.ConnectError("refused", request=r))))
    hung = make(Script(hang))
    first = await refused.probe(timeout=3)
    second = await hung.probe(timeout=3)
    await refused.aclose()
    await hung.aclose()
    assert first.status is HealthStatus.UNREACHABLE
    assert second.status is HealthStatus.TIMEOUT and second.latency == 3


def test_a_plain_string_key_is_refused():
    """The key must come wrapped in a Secret; the error message does not echo it."""
    with pytest.raises(TypeError, match="api_key must be an actors.secrets.Secret") as info:
        ClaudeChat(model="claude-test", api_key=FAKE_KEY)  # type: ignore[arg-type]
    assert FAKE_KEY not in str(info.value)


async def test_valid_text_is_the_default_reply(autojump_clock):
    """The default fake reply parses as a bullish Thesis through the Claude path."""
    chat = make(Script(claude_reply(VALID_TEXT)))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.value is not None and outcome.value.stance is Stance.BULLISH
