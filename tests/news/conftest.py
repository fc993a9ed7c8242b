"""The news scorer through the real path in virtual time: the LLM side of ``open_debate_runner``
(breaker, health, pool actors; the real OllamaChat over ``httpx.MockTransport``), the
``news-scorer`` actor on its shared parts, and the MemoryPersister (whose news queue runs the
store's real SQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import httpx
import trio

from actors.config import Settings
from actors.debate.wiring import open_debate_runner
from actors.fakes.memory_persister import MemoryPersister
from actors.news.client import NewsClient
from actors.news.wiring import start_news_scorer
from actors.runtime import open_supervisor, stop
from actors.store.client import StoreClient
from messages.articles import AddArticles
from messages.market import Headline
from tests.debate.fakes import MockOllama, memory_store, ollama_client

BASE = dt.datetime(2026, 7, 24, 12, 0, tzinfo=dt.timezone.utc)
LATENCY = 1.0


def virtual_clock() -> dt.datetime:
    """Wall-clock UTC that moves with trio's (virtual) clock."""
    return BASE + dt.timedelta(seconds=trio.current_time())


class NewsOllama(MockOllama):
    """MockOllama that records, per chat request, its arrival, kind (news or debate) and concurrency."""

    def __init__(self, **profile: object) -> None:
        super().__init__(**profile)
        self.serving = {"news": 0, "debate": 0}
        self.most = {"news": 0, "debate": 0}
        self.log: list[tuple[float, str, str]] = []  # (arrival, kind, user prompt)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/chat" or self.refuse:  # refused requests never reach the server
            return await super().__call__(request)

        body = json.loads(request.content)
        kind = "news" if isinstance(body.get("format"), dict) and str(body["format"].get("title", "")).startswith("News") else "debate"
        self.log.append((trio.current_time(), kind, body["messages"][-1]["content"]))
        self.serving[kind] += 1
        self.most[kind] = max(self.most[kind], self.serving[kind])
        try:
            return await super().__call__(request)
        finally:
            self.serving[kind] -= 1

    def times(self, kind: str) -> list[float]:
        return [t for t, k, _ in self.log if k == kind]


def news_settings(server: MockOllama, **overrides: object) -> Settings:
    base = {
        "ollama_model": server.profile.models[0], "ai_retry_delays": (0.5, 1.0), "ai_debate_concurrency": 1,
        "ai_concurrency_min": 1, "ai_request_timeout": 60.0, "ai_first_chunk_timeout": 30.0, "ai_stall_timeout": 10.0,
        "breaker_cooldown": 30.0, "health_interval": 1000.0,
    }
    return Settings(**{**base, **overrides})


def headlines(n: int, tickers: tuple[str, ...] = ("AAPL", "MSFT"), word: str = "beats") -> tuple[Headline, ...]:
    return tuple(
        Headline(ticker=tickers[i % len(tickers)], title=f"Company {i} {word} estimates",
                 published_at=BASE - dt.timedelta(hours=i), publisher="Wire", url=f"https://n/{i}")
        for i in range(n)
    )


@attrs.frozen
class NewsSide:
    memory: MemoryPersister
    store: StoreClient
    runner: object
    news: NewsClient
    supervisor: object

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.memory.news_db.execute(sql, params).fetchall()


@asynccontextmanager
async def news_side(server: MockOllama, settings: Settings, *, articles: tuple[Headline, ...] = (),
                    interval: float | None = None) -> AsyncIterator[NewsSide]:
    async with memory_store() as (memory, store):
        if articles:
            await store.send(AddArticles(articles))
        async with open_supervisor(name="test") as sup:
            async with open_debate_runner(
                settings, store=store, publish=lambda e: None, disabled=None, supervisor=sup,
                client_factory=lambda observer: ollama_client(settings, observer, server),
            ) as (runner, _):
                address = await start_news_scorer(sup, settings, runner.llm, store, interval=interval,
                                                  clock=virtual_clock)
                try:
                    yield NewsSide(memory=memory, store=store, runner=runner, news=NewsClient(address), supervisor=sup)
                finally:
                    await stop(address)
