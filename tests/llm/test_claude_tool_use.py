"""ClaudeChat's forced tool call: input_json_delta assembled and validated, max_tokens, key scrubbing."""

from __future__ import annotations

import json

import base64
import logging
import urllib.parse
from typing import Any

import httpx2
import pytest

from actors.llm.structured import truncated_retry_instruction
from actors.llm import ChatMessage, FailureKind, RetryPolicy
from actors.llm.claude_client import ClaudeChat
from actors.secrets import Secret
from messages.debate import RiskAssessment, Stance, Verdict

from tests.llm.llm_fakes import Script, claude_error, raises, sse

FAKE_KEY = "sk-ant-api03-FAKE_key-0123456789abcdef"
MESSAGES = (ChatMessage("system", "You are the risk desk."), ChatMessage("user", "Assess AAPL 200C."))
EXACT = RetryPolicy(delays=(1, 2), jitter=0)
RISK_JSON = '{"verdict": "adjust", "conviction": 0.4, "main_risks": ["earnings"], "summary": "size down"}'


def tool_events(json_text: str, *, pieces: int = 4, stop_reason: str = "tool_use",
                output_tokens: int = 23) -> list[tuple[float, bytes]]:
    """The events the Messages API streams for a forced tool call (tool_use + input_json_delta)."""
    size = max(1, -(-len(json_text) // pieces))
    chunks = [json_text[i:i + size] for i in range(0, len(json_text), size)]
    events = [
        (0.0, sse("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test", "content": [],
            "stop_reason": None, "usage": {"input_tokens": 57, "output_tokens": 1}}})),
        (0.0, sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "toolu_1", "name": "record_riskassessment", "input": {}}})),
        (0.0, sse("ping", {"type": "ping"})),
    ]
    for chunk in chunks:
        events.append((0.5, sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                          "delta": {"type": "input_json_delta",
                                                                    "partial_json": chunk}})))
    events += [
        (0.0, sse("content_block_stop", {"type": "content_block_stop", "index": 0})),
        (0.0, sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason},
                                    "usage": {"output_tokens": output_tokens}})),
        (0.0, sse("message_stop", {"type": "message_stop"})),
    ]
    return events


def tool_reply(json_text: str = RISK_JSON, **kwargs: Any):
    async def step(script: Script, request: Any) -> Any:
        return httpx2.Response(200, content=script.body(tool_events(json_text, **kwargs)),
                               headers={"content-type": "text/event-stream"})

    return step


def make(script: Script, *, key: str = FAKE_KEY, max_tokens: int = 1024) -> ClaudeChat:
    script.http = httpx2
    return ClaudeChat(model="claude-test", api_key=Secret(key), retry=EXACT, max_tokens=max_tokens,
                      http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script)))


async def test_tool_input_json_deltas_are_joined_and_validated(autojump_clock):
    """The tool_use block's input_json_delta pieces make the reply; usage is counted."""
    script = Script(tool_reply())
    chat = make(script)
    outcome = await chat.complete(MESSAGES, RiskAssessment)
    await chat.aclose()
    assert outcome.ok and outcome.value == RiskAssessment(
        verdict=Verdict.ADJUST, conviction=0.4, main_risks=("earnings",), summary="size down", stance=Stance.NEUTRAL)
    assert (outcome.input_tokens, outcome.output_tokens, outcome.attempts) == (57, 23, 1)
    assert outcome.latency == pytest.approx(2.0)


async def test_tool_input_that_breaks_the_schema_is_retried_with_the_stricter_instruction(autojump_clock):
    """Tool input that does not fit is retried at once, like Ollama's replies; the second fits."""
    script = Script(tool_reply('{"verdict": "maybe", "conviction": 7}'), tool_reply())
    chat = make(script)
    outcome = await chat.complete(MESSAGES, RiskAssessment)
    await chat.aclose()
    assert outcome.ok and outcome.attempts == 2 and outcome.parse_failures == 1
    assert script.seen[1].at == script.seen[0].at + 2.0  # no backoff: only the 4 x 0.5 s stream time
    assert "Your previous reply was not valid" in script.seen[1].body["messages"][-1]["content"]


async def test_max_tokens_stop_reason_is_truncated_and_max_tokens_is_sent(autojump_clock):
    """stop_reason max_tokens is truncated: retried once, at once, asking for brevity; the cap is sent as max_tokens."""
    script = Script(tool_reply(RISK_JSON[:30], stop_reason="max_tokens"), tool_reply(RISK_JSON[:30], stop_reason="max_tokens"))
    chat = make(script, max_tokens=64)
    outcome = await chat.complete(MESSAGES, RiskAssessment)
    await chat.aclose()
    assert outcome.failure is FailureKind.TRUNCATED and outcome.attempts == 2
    assert "max_tokens=64" in outcome.detail
    assert [s.body["max_tokens"] for s in script.seen] == [64, 64]
    assert truncated_retry_instruction() in json.dumps(script.seen[1].body["messages"][-1])


def key_forms(key: str) -> list[str]:
    raw = key.encode()
    return [key, repr(key), urllib.parse.quote(key, safe=""), base64.b64encode(raw).decode(),
            base64.b64encode(b"x-api-key: " + raw).decode(), raw.hex()]


@pytest.mark.parametrize("form", range(6), ids=["plain", "repr", "url", "base64", "base64-header", "hex"])
async def test_the_key_in_any_encoding_is_scrubbed_from_error_details(autojump_clock, caplog, form):
    """A server or transport error echoing the key (in any encoding) leaves it in no detail or log."""
    caplog.set_level(logging.DEBUG)
    echoed = key_forms(FAKE_KEY)[form]
    script = Script(claude_error(400, "invalid_request_error", f"bad header value {echoed}"),
                    *[raises(lambda request: httpx2.ConnectError(f"Illegal header value {echoed}"))] * 3)
    chat = make(script)
    first = await chat.complete(MESSAGES, RiskAssessment)
    second = await chat.complete(MESSAGES, RiskAssessment)
    await chat.aclose()
    assert first.failure is FailureKind.HTTP_STATUS and second.failure is FailureKind.UNREACHABLE
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("actors"))
    for text in (first.detail, second.detail, ours):  # the SDK's own DEBUG lines: see test_cli_secrets
        for leaked in key_forms(FAKE_KEY):
            assert leaked not in text
    assert "***" in first.detail and "***" in second.detail


@pytest.mark.parametrize("key", ["sk-ant-abc\n# comment", "sk-ant abc", "sk-ant-\x00abc"])
def test_a_key_that_is_not_one_token_is_refused_without_showing_it(key):
    """ClaudeChat refuses a key with whitespace or control characters; the message hides it."""
    with pytest.raises(ValueError) as info:
        ClaudeChat(model="claude-test", api_key=Secret(key))
    assert "abc" not in str(info.value) and "api_key" in str(info.value)



def test_an_unmapped_error_that_holds_the_key_is_reraised_scrubbed():
    """An exception the client does not map (a bug) never carries the key out; one without it is re-raised as is."""
    chat = ClaudeChat(model="claude-test", api_key=Secret(FAKE_KEY))
    leaky = LookupError(f"unexpected header Bearer {FAKE_KEY}")
    with pytest.raises(RuntimeError) as info:
        chat._raise_scrubbed(leaky)
    assert str(info.value) == "LookupError in the Claude client: unexpected header Bearer ***"
    assert info.value.__cause__ is None and info.value.__suppress_context__
    clean = LookupError("no key here")
    with pytest.raises(LookupError) as same:
        chat._raise_scrubbed(clean)
    assert same.value is clean
