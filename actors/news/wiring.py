"""Adding the news scorer to a running system, and the client the coordinator drains it with.

::

    async with open_system(settings, db=path, news=True) as system:   # bin/scan --score-news
        ...
    # or, for a system opened without it (the daemon, every news_interval):
    address = await start_news_scorer(system, settings, interval=settings.news_interval)

The scorer is a child of the system's supervisor, started after the LLM side whose parts it
shares (:class:`~actors.debate.wiring.SharedLLM`: the client, the breaker, the limiter, the
debating signal); stop it (``actors.runtime.stop``) before the LLM side closes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from actors.breaker.supervised import BreakerClient
from actors.config import Settings
from actors.debate.wiring import SharedLLM
from actors.news.scorer import NewsScorer, NewsSettings, wall_clock
from actors.news.scorer_actor import news_scorer_actor
from actors.runtime import Address, ChildSpec, Supervisor
from actors.store.client import StoreClient
__all__ = ["make_news_scorer", "news_settings", "start_news_scorer"]


def news_settings(settings: Settings) -> NewsSettings:
    """The scorer's settings from the ``news_*`` (and ``breaker_cooldown``) settings."""
    return NewsSettings(
        max_attempts=settings.news_max_attempts,
        lease=settings.news_lease,
        categories=settings.news_categories,
        max_chars=settings.news_max_chars,
        rate_limit_cooldown=settings.news_rate_limit_cooldown,
        breaker_wait=settings.breaker_cooldown,
    )


def make_news_scorer(
    settings: Settings, llm: SharedLLM, store: StoreClient, *, clock: Callable[[], dt.datetime] = wall_clock
) -> NewsScorer:
    """A scorer on the debates' client, breaker (as user ``news``), limiter and debating signal."""
    return NewsScorer(
        llm.client,
        store=store,
        breaker=BreakerClient(llm.breaker, user="news", timeout=settings.ai_request_timeout + 30.0),
        limiter=llm.limiter,
        activity=llm.activity,
        settings=news_settings(settings),
        clock=clock,
    )


async def start_news_scorer(
    supervisor: Supervisor,
    settings: Settings,
    llm: SharedLLM,
    store: StoreClient,
    *,
    interval: float | None = None,
    clock: Callable[[], dt.datetime] = wall_clock,
) -> Address:
    """Start the ``news-scorer`` child; with ``interval`` it also drains the queue every ``interval`` s."""
    scorer = make_news_scorer(settings, llm, store, clock=clock)
    return await supervisor.start(ChildSpec(
        "news-scorer", news_scorer_actor, args=(scorer, interval), max_restarts=3, within=60.0,
        stop_deadline=10.0,
    ))
