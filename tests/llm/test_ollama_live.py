"""OllamaChat over real loopback sockets against the fake-ollama server (real clock, short budgets).

Each failure kind must give its outcome within its own timeout: wall times are asserted loosely
(the machine is shared), the kinds exactly.
"""

from __future__ import annotations

import gc
import socket
import time

import pytest
import trio

from actors.llm import ChatMessage, FailureKind, RetryPolicy, Timeouts, complete_or_cancelled
from actors.llm.ollama_client import OllamaChat
from actors.fakes.ollama_testing import FakeOllama
from messages.articles import NewsCategories, NewsScoreReply
from messages.debate import RiskAssessment, Thesis
from messages.health import HealthStatus

MODEL = "llama3.1:8b"
MESSAGES = (ChatMessage("system", "You are a bull."), ChatMessage("user", "Make the case for AAPL."))
FAST = Timeouts(connect=0.5, first_chunk=1.0, stall=0.4, total=5.0)
NO_RETRY = RetryPolicy(delays=(), jitter=0)
QUICK_RETRY = RetryPolicy(delays=(0.05, 0.05), jitter=0)

# Async generators left unfinished would surface as unraisable ResourceWarnings at collection.
NO_LEAKS = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")


def chat_for(fake: FakeOllama, *, retry: RetryPolicy = NO_RETRY, model: str = MODEL) -> OllamaChat:
    return OllamaChat(model=model, host=fake.url, timeouts=FAST, retry=retry)


async def timed(chat: OllamaChat, reply_type: type = Thesis):
    start = time.monotonic()
    try:
        outcome = await chat.complete(MESSAGES, reply_type)
    finally:
        await chat.aclose()
    return outcome, time.monotonic() - start


def wait_for_log(fake: FakeOllama, predicate, timeout: float = 3.0):
    """The server's request log once ``predicate(log)`` holds (the server notices a departure late)."""
    deadline = time.monotonic() + timeout
    while True:
        log = fake.requests()
        if predicate(log) or time.monotonic() > deadline:
            return log
        time.sleep(0.02)


@NO_LEAKS
@pytest.mark.parametrize("reply_type", [Thesis, RiskAssessment, NewsCategories, NewsScoreReply])
async def test_schema_replies_parse_into_every_reply_type(fake_ollama, reply_type):
    """With our JSON schema as `format`, the server's reply validates into each reply type."""
    outcome, _ = await timed(chat_for(fake_ollama), reply_type)
    assert outcome.ok and isinstance(outcome.value, reply_type)
    assert outcome.input_tokens is not None and outcome.output_tokens is not None
    gc.collect()


async def test_hang_is_timeout_first_chunk_within_the_first_chunk_budget(fake_ollama):
    """A request that is read and never answered ends as timeout_first_chunk after ~1 s, not 5 s."""
    fake_ollama.configure(script="hang*")
    outcome, elapsed = await timed(chat_for(fake_ollama))
    assert outcome.failure is FailureKind.TIMEOUT_FIRST_CHUNK
    assert 0.9 <= elapsed < 2.5
    log = wait_for_log(fake_ollama, lambda log: log and log[0].end is not None)
    assert log[0].outcome == "hang" and log[0].end is not None  # the server saw the client go away


async def test_stall_is_detected_by_the_stall_timeout_not_the_total(fake_ollama):
    """Some chunks then silence on an open socket ends as stall after ~0.4 s of silence."""
    fake_ollama.configure(script="stall*", stall_after=2)
    outcome, elapsed = await timed(chat_for(fake_ollama))
    assert outcome.failure is FailureKind.STALL
    assert 0.35 <= elapsed < 2.0


async def test_dropped_connection_mid_stream_is_unreachable(fake_ollama):
    """The server closing the socket mid-body is unreachable, fast."""
    fake_ollama.configure(script="drop*", stall_after=2)
    outcome, elapsed = await timed(chat_for(fake_ollama))
    assert outcome.failure is FailureKind.UNREACHABLE and elapsed < 1.0


async def test_connection_refused_is_unreachable_fast():
    """A closed port gives unreachable at once (no timeout is waited for)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chat = OllamaChat(model=MODEL, host=f"http://127.0.0.1:{port}", timeouts=FAST, retry=NO_RETRY)
    outcome, elapsed = await timed(chat)
    assert outcome.failure is FailureKind.UNREACHABLE and outcome.attempts == 1 and elapsed < 0.5


async def test_model_missing_is_reported_without_retry(fake_ollama):
    """A model the server does not list gives model_missing after one attempt."""
    outcome, _ = await timed(chat_for(fake_ollama, retry=QUICK_RETRY, model="qwen2.5:7b"))
    assert outcome.failure is FailureKind.MODEL_MISSING and outcome.attempts == 1
    assert "ollama pull qwen2.5:7b" in outcome.detail


async def test_busy_503_is_retried_after_its_retry_after(fake_ollama):
    """A 503 with Retry-After: 1 is retried ~1 s later and the second answer is used."""
    fake_ollama.configure(script="http_503,ok*", retry_after=1)
    outcome, elapsed = await timed(chat_for(fake_ollama, retry=QUICK_RETRY))
    assert outcome.ok and outcome.attempts == 2 and 0.9 <= elapsed < 3.0


async def test_server_error_then_success_uses_the_retry_schedule(fake_ollama):
    """A 500 is retried after the first delay."""
    fake_ollama.configure(script="http_500,ok*")
    outcome, _ = await timed(chat_for(fake_ollama, retry=QUICK_RETRY))
    assert outcome.ok and outcome.attempts == 2 and outcome.http_status is None


async def test_malformed_replies_are_retried_then_invalid_output(fake_ollama):
    """Malformed JSON is retried at once; when it persists the outcome is invalid_output."""
    fake_ollama.configure(script="malformed*")
    outcome, elapsed = await timed(chat_for(fake_ollama, retry=QUICK_RETRY))
    assert outcome.failure is FailureKind.INVALID_OUTPUT
    assert (outcome.attempts, outcome.parse_failures) == (3, 3) and elapsed < 2.0
    fake_ollama.configure(script="malformed,ok*")
    recovered, _ = await timed(chat_for(fake_ollama))
    assert recovered.ok and recovered.parse_failures == 1


@NO_LEAKS
async def test_cancelling_the_caller_closes_the_stream(fake_ollama):
    """Cancelling mid-stream returns cancelled promptly; the server sees the client leave."""
    fake_ollama.configure(chunks=20, chunk_interval=0.1)
    chat = chat_for(fake_ollama)
    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_cancel_after, scope, 0.35)
        outcome = await complete_or_cancelled(chat, MESSAGES, Thesis, cancel_scope=scope)
    await chat.aclose()
    assert outcome.failure is FailureKind.CANCELLED and outcome.latency < 1.0
    log = wait_for_log(fake_ollama, lambda log: log and log[0].outcome == "cancelled_by_client")
    assert log[0].outcome == "cancelled_by_client" and log[0].end is not None
    gc.collect()


async def _cancel_after(scope: trio.CancelScope, seconds: float) -> None:
    await trio.sleep(seconds)
    scope.cancel()


async def test_probe_healthy_missing_and_timeout(fake_ollama):
    """The probe is healthy for a listed model, model_missing otherwise, timeout when tags hang."""
    healthy = chat_for(fake_ollama, model="llama3.1:8b")
    missing = chat_for(fake_ollama, model="mistral")
    first = await healthy.probe(timeout=1.0)
    second = await missing.probe(timeout=1.0)
    fake_ollama.configure(tags_hang=True)
    start = time.monotonic()
    third = await healthy.probe(timeout=0.3)
    elapsed = time.monotonic() - start
    await healthy.aclose()
    await missing.aclose()
    assert first.status is HealthStatus.HEALTHY
    assert second.status is HealthStatus.MODEL_MISSING
    assert third.status is HealthStatus.TIMEOUT and 0.25 <= elapsed < 1.5
