"""OllamaChat's output cap, usage stats, cold loads and HTTP hygiene.

Virtual time against scripted ``httpx.MockTransport`` steps, and real time against a
fake-ollama subprocess where the server's own behaviour (runaway replies) is the point.
"""

from __future__ import annotations

import ssl

import httpx
import pytest
import trio

from actors.llm import ChatMessage, FailureKind, RetryPolicy, Timeouts
from actors.llm.ollama_client import OllamaChat
from actors.llm.structured import truncated_retry_instruction
from messages.debate import Stance, Thesis
from messages.llm import BreakerMeaning

from tests.llm.llm_fakes import Script, VALID_TEXT, hang, ollama_line, reply, status

MESSAGES = (ChatMessage("system", "You are a bull."), ChatMessage("user", "AAPL?"))
EXACT = RetryPolicy(delays=(2, 4, 8), jitter=0)
VALID = Thesis(stance=Stance.BULLISH, conviction=0.7, key_points=("momentum",), summary="up")


def make(script: Script, *, observed: list | None = None, **kwargs) -> OllamaChat:
    kwargs.setdefault("retry", EXACT)
    return OllamaChat(model="llama3.2", host="http://ollama.test:11434",
                      transport=httpx.MockTransport(script),
                      observer=observed.append if observed is not None else None, **kwargs)


def runaway_cut(tokens: int = 1280, *, gap: float = 0.5):
    """A reply the output cap stopped: filler, then done with done_reason 'length'."""

    async def step(script, request):
        parts = [(gap, ollama_line('{"summary": "up')), (gap, ollama_line(" and" * 50))]
        parts.append((0.0, ollama_line("", done=True, done_reason="length", prompt_eval_count=40,
                                       eval_count=tokens, eval_duration=2_000_000_000)))
        return httpx.Response(200, content=script.body(parts))

    return step


def usage_reply(*, load_ns: int = 0, gap: float = 0.0):
    """A valid reply whose final chunk carries Ollama's counts and nanosecond durations."""

    async def step(script, request):
        parts = [(gap, ollama_line(VALID_TEXT)),
                 (0.0, ollama_line("", done=True, done_reason="stop", prompt_eval_count=120,
                                   prompt_eval_duration=300_000_000, eval_count=50,
                                   eval_duration=2_500_000_000, load_duration=load_ns))]
        return httpx.Response(200, content=script.body(parts))

    return step


def done_then_silence():
    """A valid reply whose server keeps the stream open after the done line."""

    async def step(script, request):
        parts = [(0.5, ollama_line(VALID_TEXT)),
                 (0.0, ollama_line("", done=True, done_reason="stop", prompt_eval_count=5, eval_count=3))]
        return httpx.Response(200, content=script.body(parts, then_hang=True))

    return step


def ps(*names: str):
    async def step(script, request):
        return httpx.Response(200, json={"models": [{"model": n, "name": n} for n in names]})

    return step


def load(seconds: float, *, load_ns: int | None = None):
    """Ollama's answer to the empty /api/generate: done_reason 'load' once the model is in memory."""

    async def step(script, request):
        await trio.sleep(seconds)
        body = {"model": "llama3.2", "created_at": "2025-01-01T00:00:00Z", "response": "", "done": True,
                "done_reason": "load"}
        if load_ns is not None:
            body["load_duration"] = load_ns
        return httpx.Response(200, json=body)

    return step


def slow_first_chunk(seconds: float):
    """A chat whose first chunk waits ``seconds`` (the model loads inside the request)."""

    async def step(script, request):
        async def body():
            await trio.sleep(seconds)
            yield ollama_line(VALID_TEXT)
            yield ollama_line("", done=True, done_reason="stop", prompt_eval_count=5, eval_count=3,
                              load_duration=int(seconds * 1e9))

        return httpx.Response(200, content=body())

    return step


# --- the output cap -------------------------------------------------------------------------


async def test_cap_is_sent_on_every_call(autojump_clock):
    """num_predict goes into options of every request, retries included; None sends no cap."""
    script = Script(status(500), reply())
    chat = make(script, num_predict=300)
    assert (await chat.complete(MESSAGES, Thesis)).ok
    await chat.aclose()
    assert [s.body["options"]["num_predict"] for s in script.seen] == [300, 300]
    uncapped = Script(reply())
    chat = make(uncapped, num_predict=None)
    await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert "num_predict" not in uncapped.seen[0].body["options"]


async def test_truncated_reply_is_retried_once_at_once_with_the_stricter_instruction(autojump_clock):
    """done_reason 'length' is a truncated attempt: retried immediately, brief-instruction appended."""
    script = Script(runaway_cut(), reply())
    observed: list = []
    chat = make(script, observed=observed)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and outcome.value == VALID
    assert outcome.attempts == 2 and outcome.parse_failures == 0
    assert script.times == [0, 1.0]  # no backoff: the retry starts when the cut reply ends
    assert [o.kind for o in observed] == ["truncated", None]
    assert script.seen[1].body["messages"][-1] == {"role": "user", "content": truncated_retry_instruction()}
    assert script.seen[0].body["messages"] == script.seen[1].body["messages"][:-1]
    assert outcome.output_tokens == 1280 + 7  # the cut reply's tokens are counted too


async def test_truncated_twice_ends_as_truncated_not_deadline(autojump_clock):
    """If the retry is cut as well the call ends 'truncated' after 2 attempts, long before the deadline."""
    script = Script(runaway_cut(), runaway_cut())
    observed: list = []
    chat = make(script, observed=observed, timeouts=Timeouts(total=120))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.failure is FailureKind.TRUNCATED and outcome.attempts == 2
    assert outcome.latency == 2.0 and "output cap of 1280 tokens" in outcome.detail
    assert [o.kind for o in observed] == ["truncated"] * 2
    assert FailureKind.TRUNCATED.breaker_meaning(None) is BreakerMeaning.ANSWERED_INVALID and not FailureKind.TRUNCATED.is_timeout


# --- usage ------------------------------------------------------------------------------------


async def test_usage_counts_and_durations_reach_the_outcome(autojump_clock):
    """prompt/eval counts and durations (ns) become tokens and seconds; the rate is derivable."""
    chat = make(Script(usage_reply(load_ns=1_500_000_000)))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert (outcome.input_tokens, outcome.output_tokens) == (120, 50)
    assert (outcome.generation_seconds, outcome.prompt_seconds, outcome.load_seconds) == (2.5, 0.3, 1.5)
    assert outcome.tokens_per_second == 20.0


async def test_usage_is_summed_over_attempts(autojump_clock):
    """A parse retry's usage is added to the first attempt's."""
    async def bad(script, request):
        parts = [(0.0, ollama_line("not json")),
                 (0.0, ollama_line("", done=True, done_reason="stop", prompt_eval_count=100, eval_count=10,
                                   eval_duration=1_000_000_000, prompt_eval_duration=100_000_000))]
        return httpx.Response(200, content=script.body(parts))

    chat = make(Script(bad, usage_reply()))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and outcome.parse_failures == 1
    assert (outcome.input_tokens, outcome.output_tokens) == (220, 60)
    assert outcome.generation_seconds == pytest.approx(3.5) and outcome.prompt_seconds == pytest.approx(0.4)
    assert outcome.tokens_per_second == pytest.approx(60 / 3.5)


# --- HTTP hygiene -----------------------------------------------------------------------------


async def test_response_is_closed_when_done_arrives(autojump_clock):
    """A server that keeps the stream open after 'done' does not hold the call: it ends at once."""
    script = Script(done_then_silence())
    chat = make(script, timeouts=Timeouts(stall=20))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and outcome.latency == 0.5  # not 0.5 + the 20 s stall window
    assert script.closed.closed_early == 1 and script.closed.finished == 0


def test_no_ca_bundle_is_loaded_for_an_http_host(monkeypatch):
    """An http:// host builds no default TLS context (certifi's CA bundle); https:// still does."""
    built: list[str] = []
    real = ssl.create_default_context

    def counting(*args, **kwargs):
        built.append(kwargs.get("cafile") or "default")
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    OllamaChat(model="m", host="http://127.0.0.1:11434")
    OllamaChat(model="m", host="HTTP://localhost:11434")
    assert built == []
    OllamaChat(model="m", host="https://ollama.example")
    assert len(built) == 1


# --- cold loads -------------------------------------------------------------------------------


async def test_slow_first_load_is_not_a_first_chunk_timeout(autojump_clock):
    """A 200 s model load runs under ai_load_timeout before the call; the call keeps its 90 s budget."""
    script = Script(ps(), load(200.0, load_ns=199_000_000_000), usage_reply(gap=1.0))
    observed: list = []
    chat = make(script, observed=observed, load_timeout=300, timeouts=Timeouts(first_chunk=90, total=120))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and outcome.attempts == 1 and [o.kind for o in observed] == [None]
    assert [s.path for s in script.seen] == ["/api/ps", "/api/generate", "/api/chat"]
    assert script.seen[1].body == {"model": "llama3.2", "keep_alive": "5m", "stream": False}  # no prompt: load only
    assert script.times == [0, 0, 200]
    assert outcome.latency == 1.0 and outcome.load_seconds == 200.0


async def test_without_the_load_check_the_same_load_is_a_timeout(autojump_clock):
    """The contrast: a load inside the chat request spends the warm first-chunk budget and fails."""
    script = Script(slow_first_chunk(200.0))
    chat = make(script, timeouts=Timeouts(first_chunk=90, total=120), retry=RetryPolicy(delays=(), jitter=0))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.failure is FailureKind.TIMEOUT_FIRST_CHUNK


async def test_loaded_model_is_not_loaded_again_until_keep_alive_runs_out(autojump_clock):
    """Listed by /api/ps: no load; later calls skip the check until keep_alive (5 min) could have passed."""
    script = Script(ps("llama3.2:latest"), reply(), reply(), ps(), load(10.0), reply())
    chat = make(script, load_timeout=300)
    assert (await chat.complete(MESSAGES, Thesis)).ok
    await trio.sleep(200)
    assert (await chat.complete(MESSAGES, Thesis)).ok
    await trio.sleep(301)
    third = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert [s.path for s in script.seen] == ["/api/ps", "/api/chat", "/api/chat", "/api/ps", "/api/generate",
                                             "/api/chat"]
    assert third.ok and third.load_seconds == 10.0


async def test_calls_arriving_during_a_load_wait_for_that_one_load(autojump_clock):
    """Three calls at once: one /api/ps and one load, then three chats, none timed out."""
    script = Script(ps(), load(100.0), reply(), reply(), reply())
    chat = make(script, load_timeout=300, timeouts=Timeouts(first_chunk=30, total=60))
    outcomes: list = []

    async def one():
        outcomes.append(await chat.complete(MESSAGES, Thesis))

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(one)
    await chat.aclose()
    assert [s.path for s in script.seen] == ["/api/ps", "/api/generate"] + ["/api/chat"] * 3
    assert all(o.ok for o in outcomes)
    assert sorted(o.load_seconds or 0 for o in outcomes) == [0, 0, 100.0]  # stored with the call that loaded


async def test_a_load_over_ai_load_timeout_fails_the_call_and_is_reported(autojump_clock):
    """A load that never finishes ends the call at load_timeout as timeout_first_chunk, observed once."""
    script = Script(ps(), hang())
    observed: list = []
    chat = make(script, observed=observed, load_timeout=300)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.failure is FailureKind.TIMEOUT_FIRST_CHUNK and outcome.attempts == 1
    assert trio.current_time() == 300 and "ai_load_timeout" in outcome.detail
    assert [o.kind for o in observed] == ["timeout_first_chunk"]


async def test_a_server_without_api_ps_is_called_without_a_load_check(autojump_clock):
    """/api/ps answering 404 (an older server, a proxy) is not an error: the call goes ahead."""
    script = Script(status(404, "not found"), reply())
    chat = make(script, load_timeout=300)
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and [s.path for s in script.seen] == ["/api/ps", "/api/chat"]


# --- against bin/fake-ollama ------------------------------------------------------------------


async def test_runaway_reply_ends_at_the_cap_as_truncated_and_is_retried(fake_ollama):
    """fake-ollama's runaway stops at the num_predict we send ('length'); the retry gets a real reply."""
    fake_ollama.configure(script="runaway,ok*")
    chat = OllamaChat(model="llama3.1:8b", host=fake_ollama.url, num_predict=64, retry=EXACT,
                      timeouts=Timeouts(connect=2, first_chunk=5, stall=5, total=10))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and outcome.attempts == 2
    assert [r.outcome for r in fake_ollama.requests()] == ["runaway", "ok"]
    assert outcome.output_tokens is not None and outcome.output_tokens > 64  # 64 cut + the real reply


async def test_runaway_reply_without_a_cap_runs_into_the_deadline(fake_ollama):
    """The same runaway with no num_predict streams until the total budget ends the call: 'deadline'."""
    fake_ollama.configure(script="runaway*")
    chat = OllamaChat(model="llama3.1:8b", host=fake_ollama.url, num_predict=None, retry=EXACT,
                      timeouts=Timeouts(connect=0.5, first_chunk=0.5, stall=0.5, total=0.8))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.failure is FailureKind.DEADLINE and outcome.attempts == 1


async def test_a_hung_api_ps_costs_at_most_the_first_chunk_budget(autojump_clock):
    """/api/ps not answering is given the warm first-chunk budget (not ai_load_timeout), then the call runs."""
    script = Script(hang(), reply())
    chat = make(script, load_timeout=300, timeouts=Timeouts(first_chunk=30, total=60))
    outcome = await chat.complete(MESSAGES, Thesis)
    await chat.aclose()
    assert outcome.ok and script.times == [0, 30]
