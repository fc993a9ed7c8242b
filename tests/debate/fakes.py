"""Helpers for virtual-time tests of the debate phase.

:class:`MockOllama` + :func:`debate_phase` drive the product's real path (OllamaChat → its
observer → the circuit breaker → the pool) against a scripted Ollama server; :class:`FakeChat`
is a one-attempt scripted client for the pool's scheduling tests only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager

import attrs
import httpx
import trio

from actors.config import Settings
from actors.coordinator import DebateSummary
from actors.breaker.supervised import BREAKER_INBOX, BreakerClient, BreakerHome, breaker_actor
from actors.debate.wiring import breaker_settings, client_settings, open_debate_runner
from actors.llm.budget import FIRST_CHUNK_LISTENER
from actors.llm.protocol import ChatMessage
from actors.fakes.ollama_profile import Profile, plan_outcome, request_rng
from actors.fakes.ollama_replies import chat_chunk, chat_final, error_body, reply_content, tags_body
from actors.llm.ollama_client import OllamaChat
from actors.llm.outcome import CallOutcome, FailureKind
from actors.runtime import Address, ChildSpec, open_supervisor, spawn
from actors.store.client import StoreClient
from actors.fakes.memory_persister import MemoryPersister
from messages.debate import RiskAssessment, Stance, Thesis, Verdict
from messages.health import BreakerState, BreakerStateName, HealthStatus, LLMHealth
from messages.llm import AttemptOutcome
from messages.scan import Direction, ScoreComponent, TickerResult
from messages.storage import BeginRun

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
    """A scripted ChatClient for the pool's schedule tests: one attempt per call, no retries.

    Every call takes ``latency`` virtual seconds and ends as ``script`` says (a FailureKind, or
    None for a valid reply). It reports nothing to a breaker: tests of the breaker drive the
    real :class:`~actors.llm.ollama_client.OllamaChat` over :class:`MockOllama` instead.
    ``hang_after`` makes every call from that call number on (and every probe) hang forever.
    """

    backend = "fake"
    model = "fake-model"

    def __init__(
        self,
        *,
        latency: float = 1.0,
        script: Script | None = None,
        probe_status: HealthStatus = HealthStatus.HEALTHY,
        hang_after: int | None = None,
    ) -> None:
        self.latency = latency
        self.script = script or (lambda ticker, role, attempt: None)
        self.probe_status = probe_status
        self.hang_after = hang_after
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
        listener = FIRST_CHUNK_LISTENER.get()  # like a streaming client: the reply's first chunk
        if listener is not None:
            listener.attempt_started()
        await trio.sleep(self.latency)
        failure = self.script(ticker, role, 1)
        if listener is not None and failure in (None, FailureKind.INVALID_OUTPUT):
            listener.first_chunk(self.latency)
        if failure is None:
            return CallOutcome(_reply(reply_type, ticker), None, 1, 0, trio.current_time() - start,
                               self.model, self.backend)
        return CallOutcome(None, failure, 1, int(failure is FailureKind.INVALID_OUTPUT), trio.current_time() - start,
                           self.model, self.backend, "scripted")

    async def probe(self, *, timeout: float) -> LLMHealth:
        if self._hung() or self.probe_status is HealthStatus.TIMEOUT:
            await trio.sleep_forever()
        await trio.sleep(0.01)
        return LLMHealth(self.backend, self.probe_status, 0.01, self.probe_status.value, trio.current_time())

    async def aclose(self) -> None:
        self.closed = True


class MockOllama:
    """bin/fake-ollama's behaviour as an ``httpx.MockTransport`` handler, in virtual time.

    Serves ``/api/tags`` and streaming ``/api/chat`` to the real
    :class:`~actors.llm.ollama_client.OllamaChat`. Keyword arguments are a fake-ollama
    :class:`~actors.fakes.ollama_profile.Profile` (``seed``, ``latency_first``, ``http_500``,
    ``malformed``, ``hang_all``...): request *n*'s fate is ``plan_outcome(profile, n)`` and its
    reply text ``reply_content`` — the same functions the fake server uses — unless ``plan``
    (request number → outcome) says otherwise. ``plan`` may also name ``http_400``,
    ``protocol_error`` (a line that is not JSON) and ``prose`` (a reply with no JSON at all). ``refuse`` refuses every connection;
    ``hang_after`` serves that many chat requests, then every request (``/api/tags`` too) hangs.
    Every request sleeps ``latency_first`` before its answer, errors included.
    """

    def __init__(self, *, plan: Callable[[int], str] | None = None, refuse: bool = False,
                 hang_after: int | None = None, **profile: object) -> None:
        self.profile = Profile.from_mapping(profile)
        self.plan = plan or (lambda number: plan_outcome(self.profile, number))
        self.refuse = refuse
        self.hang_after = hang_after
        self.chats: list[tuple[float, str]] = []  # (arrival on trio's clock, planned outcome)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def hung(self) -> bool:
        return self.profile.hang_all or (self.hang_after is not None and len(self.chats) >= self.hang_after)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.refuse:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if request.url.path == "/api/tags":
            if self.hung or self.profile.tags_hang:
                await trio.sleep_forever()
            await trio.sleep(0.001)
            return httpx.Response(200, json=tags_body(self.profile.models))
        body = json.loads(request.content)
        number = len(self.chats)
        outcome = "hang" if self.hung else self.plan(number)
        self.chats.append((trio.current_time(), outcome))
        if outcome == "hang":
            await trio.sleep_forever()
        await trio.sleep(self.profile.latency_first)
        model = body["model"]
        if outcome == "model_missing":
            return httpx.Response(404, json=error_body(f'model "{model}" not found, try pulling it first'))
        if outcome in _STATUSES:
            return httpx.Response(_STATUSES[outcome], json=error_body(f"fake {outcome}"))
        if outcome == "protocol_error":
            return httpx.Response(200, content=b"this is not NDJSON\n")
        if outcome == "prose":
            content = "Sorry, I cannot give investment advice."
        else:
            content = reply_content(body, rng=request_rng(self.profile.seed, number, "content"), number=number,
                                    malformed=outcome == "malformed")
        return httpx.Response(200, content=self._stream(model, content, outcome))

    async def _stream(self, model: str, content: str, outcome: str):
        yield (json.dumps(chat_chunk(model, content)) + "\n").encode()
        if outcome == "stall":
            await trio.sleep_forever()
        if outcome == "drop":
            raise httpx.ReadError("connection reset by peer")
        final = chat_final(model, content="", generated=content, prompt="", total=self.profile.latency_first,
                           load=0.0, evaluating=self.profile.latency_first)
        yield (json.dumps(final) + "\n").encode()


_STATUSES = {"http_500": 500, "http_503": 503, "http_429": 429, "http_400": 400}


def ollama_client(settings: Settings, observer: Callable[[AttemptOutcome], None] | None,
                  server: MockOllama) -> OllamaChat:
    """The real OllamaChat built from ``settings`` as the product builds it, talking to ``server``."""
    return OllamaChat(**client_settings(settings, observer), transport=server.transport())


@attrs.frozen
class Phase:
    """What one debate phase through the real wiring produced."""

    summary: DebateSummary
    seconds: float
    memory: MemoryPersister
    events: tuple[object, ...]

    @property
    def openings(self) -> list[BreakerState]:
        return [e for e in self.events if isinstance(e, BreakerState) and e.state is BreakerStateName.OPEN]


async def debate_phase(server: MockOllama, n: int = 10, **overrides: object) -> Phase:
    """One debate phase of ``n`` tickers through ``open_debate_runner``: real OllamaChat, observer,
    breaker, health monitor and pool, against ``server``; the store is the in-memory persister."""
    s = settings(**{"ollama_model": server.profile.models[0], **overrides})
    events: list[object] = []
    async with memory_store() as (memory, store):
        await store.send(BeginRun("run-phase", dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), "sim", n))
        async with open_debate_runner(s, store=store, publish=events.append, disabled=None,
                                      client_factory=lambda observer: ollama_client(s, observer, server)) as (runner, _):
            start = trio.current_time()
            summary = await runner("run-phase", ticker_results(n))
            seconds = trio.current_time() - start
    return Phase(summary, seconds, memory, tuple(events))


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


@attrs.frozen
class RunningBreaker:
    """The breaker actor under a supervisor, as the product starts it, and the handles to it."""

    address: Address
    home: BreakerHome

    @property
    def client(self) -> BreakerClient:
        return BreakerClient(self.address)

    def statistics(self):
        assert self.home.current is not None
        return self.home.current.statistics()


@asynccontextmanager
async def breaker_actor_from(s: Settings, publish: Callable[[object], None]):
    """The breaker actor with ``s``'s policy, supervised, publishing to ``publish``; yields a :class:`RunningBreaker`."""
    home = BreakerHome(breaker_settings(s), publish)
    async with open_supervisor(name="test") as supervisor:
        address = await supervisor.start(ChildSpec("llm-breaker", breaker_actor, args=(home,), capacity=BREAKER_INBOX))
        yield RunningBreaker(address, home)


def settings(**overrides) -> Settings:
    return Settings(**overrides)
