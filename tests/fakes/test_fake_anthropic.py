"""bin/fake-anthropic through the real ClaudeChat (anthropic SDK over loopback): replies and each fault."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from actors.errors import ConfigError
from actors.fakes.anthropic_testing import TEST_KEY
from actors.llm import ChatMessage, FailureKind, RetryPolicy, Timeouts
from actors.llm.claude_client import ClaudeChat
from actors.secrets import Secret
from messages.debate import RiskAssessment, Thesis
from messages.health import HealthStatus

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = (ChatMessage("system", "You are the bull."), ChatMessage("user", "Ticker: AAPL. Argue the case."))
FAST = RetryPolicy(delays=(0.05, 0.05), jitter=0)


def chat(fake, *, key: str = TEST_KEY, retry: RetryPolicy = FAST, timeouts: Timeouts | None = None) -> ClaudeChat:
    return ClaudeChat(model="claude-test", api_key=Secret(key), base_url=fake.url, retry=retry,
                      timeouts=timeouts or Timeouts(connect=2, first_chunk=5, stall=5, total=10))


async def test_a_forced_tool_call_is_answered_with_json_that_fits_the_schema(fake_anthropic):
    """The reply streams as input_json_delta and validates into the reply type; usage is reported."""
    client = chat(fake_anthropic)
    thesis = await client.complete(MESSAGES, Thesis)
    risk = await client.complete(MESSAGES, RiskAssessment)
    await client.aclose()
    assert thesis.ok and isinstance(thesis.value, Thesis) and thesis.attempts == 1
    assert risk.ok and isinstance(risk.value, RiskAssessment)
    assert thesis.input_tokens and thesis.output_tokens
    log = fake_anthropic.requests()
    assert [(r.method, r.path, r.status, r.outcome) for r in log] == [("POST", "/v1/messages", 200, "ok")] * 2


async def test_a_wrong_key_is_unauthorized_for_calls_and_probes(fake_anthropic):
    """A key the server does not accept: 401 → unauthorized after one attempt, probe unauthorized."""
    client = chat(fake_anthropic, key="sk-ant-wrong-key-000")
    outcome = await client.complete(MESSAGES, Thesis)
    health = await client.probe(timeout=2)
    await client.aclose()
    assert outcome.failure is FailureKind.UNAUTHORIZED and outcome.attempts == 1 and outcome.http_status == 401
    assert health.status is HealthStatus.UNAUTHORIZED
    assert "sk-ant-wrong-key-000" not in outcome.detail + health.detail


async def test_rate_limited_429_is_retried_after_its_retry_after(fake_anthropic):
    """429 with retry-after 0.5: the retry waits the server's 0.5 s (not the 0.05 s backoff), then succeeds."""
    fake_anthropic.configure(script="rate_limited,ok*", retry_after=0.5)
    client = chat(fake_anthropic)
    outcome = await client.complete(MESSAGES, Thesis)
    await client.aclose()
    log = fake_anthropic.requests()
    assert outcome.ok and outcome.attempts == 2
    assert [(r.status, r.outcome) for r in log] == [(429, "rate_limited"), (200, "ok")]
    assert log[1].start - log[0].start >= 0.5


async def test_overloaded_529_ends_as_http_status_after_the_retries(fake_anthropic):
    """529 overloaded every time: retried on the schedule, then http_status 529."""
    fake_anthropic.configure(script="overloaded*")
    client = chat(fake_anthropic)
    outcome = await client.complete(MESSAGES, Thesis)
    await client.aclose()
    assert outcome.failure is FailureKind.HTTP_STATUS and outcome.http_status == 529 and outcome.attempts == 3
    assert "overloaded_error" in outcome.detail


async def test_a_hang_ends_as_a_timeout_within_the_budget(fake_anthropic):
    """The server reads the request and never answers: first-chunk timeouts, then the deadline."""
    fake_anthropic.configure(script="hang*")
    client = chat(fake_anthropic, timeouts=Timeouts(connect=0.3, first_chunk=0.3, stall=0.3, total=1.0))
    outcome = await client.complete(MESSAGES, Thesis)
    await client.aclose()
    assert outcome.failure in (FailureKind.TIMEOUT_FIRST_CHUNK, FailureKind.DEADLINE)
    assert outcome.latency <= 1.0 + 0.5
    assert {r.outcome for r in fake_anthropic.requests()} == {"hang"}


async def test_malformed_replies_end_as_invalid_output(fake_anthropic):
    """Broken tool JSON three times: invalid_output after the parse retries, no backoff."""
    fake_anthropic.configure(script="malformed*")
    client = chat(fake_anthropic)
    outcome = await client.complete(MESSAGES, Thesis)
    await client.aclose()
    assert outcome.failure is FailureKind.INVALID_OUTPUT and outcome.parse_failures == 3


async def test_a_reply_cut_at_max_tokens_is_truncated(fake_anthropic):
    """stop_reason max_tokens from the server: truncated."""
    fake_anthropic.configure(script="max_tokens*")
    client = chat(fake_anthropic)
    outcome = await client.complete(MESSAGES, Thesis)
    await client.aclose()
    assert outcome.failure is FailureKind.TRUNCATED


def test_a_bad_script_is_refused_naming_the_entry(fake_anthropic):
    """configure() with an unknown outcome is a ConfigError naming the entry."""
    with pytest.raises(ConfigError, match=r"script entry 2 'teapot'"):
        fake_anthropic.configure(script="ok,teapot")


@pytest.mark.e2e
def test_bin_fake_anthropic_has_help():
    """bin/fake-anthropic --help lists the faults and exits 0."""
    result = subprocess.run([str(ROOT / "bin" / "fake-anthropic"), "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    assert "rate_limited" in result.stdout and "overloaded" in result.stdout and "--script" in result.stdout
