"""A scripted LLM client and helpers for virtual-time tests of the debate phase."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager

import trio

from actors.config import Settings
from actors.llm.budget import FIRST_CHUNK_LISTENER
from actors.llm.client import ChatMessage
from actors.llm.outcome import CallOutcome, FailureKind
from actors.runtime import spawn
from actors.store.client import StoreClient
from actors.store.memory import MemoryPersister
from messages.debate import RiskAssessment, Stance, Thesis, Verdict
from messages.health import HealthStatus, LLMHealth
from messages.scan import Direction, ScoreComponent, TickerResult

#: script(ticker, role_index, attempt) -> None for success, or a FailureKind.
Script = Callable[[str, int, int], FailureKind | None]


def ticker_results(n: int) -> list[TickerResult]:
    return [
        TickerResult(
            ticker=f"T{i:02d}",
            rank=i + 1,
            score=80.0 - i,
            technical_score=80.0 - i,
            direction=Direction.BULLISH,
            components=(ScoreComponent("trend", 0.8, 1.0, "up"),),
            catalysts=(),
            last_close=100.0,
            as_of=dt.date(2026, 7, 24),
            option=None,
            no_option_reason="test",
        )
        for i in range(n)
    ]


def _reply(reply_type: type, ticker: str):
    if reply_type is RiskAssessment:
        return RiskAssessment(verdict=Verdict.TAKE, conviction=0.6, main_risks=("gap risk",), summary=f"{ticker} ok")
    return Thesis(stance=Stance.BULLISH, conviction=0.7, key_points=(f"{ticker} trend",), summary=f"{ticker} summary")


class FakeChat:
    """A ChatClient whose every call takes ``latency`` virtual seconds and follows ``script``.

    Transport failures are retried after ``retry_delay`` (like the real client's backoff) up to
    ``max_attempts`` tries; invalid output is retried at once, twice at most (like the real
    client); each attempt is reported to ``observer``. ``hang_after`` makes every call
    from that call number on (and every probe) hang forever: a wedged server.
    """

    backend = "fake"
    model = "fake-model"

    def __init__(
        self,
        *,
        latency: float = 1.0,
        script: Script | None = None,
        observer: Callable[[FailureKind | None], None] | None = None,
        probe_status: HealthStatus = HealthStatus.HEALTHY,
        hang_after: int | None = None,
        max_attempts: int = 1,
        retry_delay: float = 0.0,
    ) -> None:
        self.latency = latency
        self.script = script or (lambda ticker, role, attempt: None)
        self.observer = observer
        self.probe_status = probe_status
        self.hang_after = hang_after
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.calls: list[tuple[float, str, int, Sequence[ChatMessage]]] = []
        self.closed = False

    def _hung(self) -> bool:
        return self.hang_after is not None and len(self.calls) > self.hang_after

    async def complete(self, messages, reply_type, *, timeouts=None):
        start = trio.current_time()
        ticker = messages[-1].content.split("Ticker: ", 1)[1].split()[0]
        role = {"bull": 0, "bear": 1, "risk": 2}[_role_of(messages)]
        self.calls.append((start, ticker, role, messages))
        if self._hung():
            await trio.sleep_forever()
        attempt = transport_failures = parse_failures = 0
        while True:
            attempt += 1
            listener = FIRST_CHUNK_LISTENER.get()  # like a streaming client: the reply's first chunk
            if listener is not None:
                listener.attempt_started()
            await trio.sleep(self.latency)
            failure = self.script(ticker, role, attempt)
            if listener is not None and failure in (None, FailureKind.INVALID_OUTPUT):
                listener.first_chunk(self.latency)
            if self.observer:
                self.observer(failure)
            if failure is None:
                return CallOutcome(_reply(reply_type, ticker), None, attempt, parse_failures,
                                   trio.current_time() - start, self.model, self.backend)
            if failure is FailureKind.INVALID_OUTPUT:
                # Like the real client: retried at once with a stricter prompt, twice at most.
                parse_failures += 1
                if parse_failures <= 2:
                    continue
            else:
                transport_failures += 1
                if transport_failures < self.max_attempts:
                    await trio.sleep(self.retry_delay)
                    continue
            return CallOutcome(None, failure, attempt, parse_failures, trio.current_time() - start,
                               self.model, self.backend, "scripted")
        raise AssertionError("unreachable")

    async def probe(self, *, timeout: float) -> LLMHealth:
        if self._hung() or self.probe_status is HealthStatus.TIMEOUT:
            await trio.sleep_forever()
        await trio.sleep(0.01)
        return LLMHealth(self.backend, self.probe_status, 0.01, self.probe_status.value, trio.current_time())

    async def aclose(self) -> None:
        self.closed = True


def _role_of(messages: Sequence[ChatMessage]) -> str:
    system = messages[0].content
    if system.startswith("You are the bull"):
        return "bull"
    if system.startswith("You are the bear"):
        return "bear"
    return "risk"


@asynccontextmanager
async def memory_store():
    """A MemoryPersister behind a real inbox, and a StoreClient for it."""
    memory = MemoryPersister()
    async with trio.open_nursery() as nursery:
        address = await spawn(nursery, memory.run, name="persister")
        yield memory, StoreClient(address, timeout=30)
        address.close()


def settings(**overrides) -> Settings:
    return Settings(**overrides)
