"""The news scorer in the supervised system: a scan with score_news, and the daemon's periodic drain.

Virtual time, the real actors (coordinator, fetcher, LLM side, news scorer), the MemoryPersister,
the real OllamaChat over MockTransport, the sim market (its headlines are labelled synthetic).
"""

from __future__ import annotations

import datetime as dt

import pytest
import trio

from actors.config import Settings
from actors.fakes.memory_persister import MemoryPersister
from actors.system import open_system
from messages.articles import AddArticles
from messages.scan import ScanRequested
from tests.debate.fakes import ollama_client

from .conftest import LATENCY, NewsOllama, headlines, virtual_clock


def _settings(server: NewsOllama) -> Settings:
    return Settings(source="sim", universe_size=12, top_n_options=4, top_n_ai_debate=0, fetch_retry_delays=(0.5,),
                    ollama_model=server.profile.models[0], ai_retry_delays=(0.5,), health_interval=1000.0)


async def test_a_scan_with_score_news_scores_the_headlines_and_moves_scores_by_the_rule(autojump_clock):
    """Collected in the fetch phase, scored before the catalyst phase, weighed by the rule: each ticker's news
    catalyst equals the sum of the points recorded for the run; the articles are all scored, none left scoring."""
    server = NewsOllama(latency_first=LATENCY)
    s = _settings(server)
    memory = MemoryPersister()
    async with open_system(s, db=":memory:", disabled="--no-debate", persister=memory.run, news=True,
                           news_clock=virtual_clock,
                           client_factory=lambda observer: ollama_client(s, observer, server)) as system:
        universe = tuple(system.provider.default_universe())[:12]
        outcome = await system.scan(ScanRequested(universe, "sim", dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc),
                                                  run_id="r1", score_news=True))
    statuses = dict(memory.news_db.execute("SELECT status, count(*) FROM articles GROUP BY status").fetchall())
    titles = [t for (t,) in memory.news_db.execute("SELECT source FROM articles").fetchall()]
    run_news = memory.news_db.execute("SELECT ticker, sum(points) FROM run_news WHERE run_id = 'r1' GROUP BY ticker"
                                      ).fetchall()
    assert set(statuses) == {"scored"} and statuses["scored"] >= 12
    assert set(titles) == {"Sim Newswire (synthetic)"}
    assert server.most["news"] == 1
    moved = {r.ticker: next(c.adjustment for c in r.catalysts if c.kind == "news") for r in outcome.results
             if any(c.kind == "news" and c.adjustment for c in r.catalysts)}
    assert moved and {t: pytest.approx(p, abs=0.05) for t, p in run_news if p} == moved
    catalysts = next(p for p in outcome.phases if p.phase.value == "catalysts")
    assert f"{statuses['scored']} articles scored" in catalysts.detail


async def test_without_score_news_headlines_are_only_collected(autojump_clock):
    """A plain scan stores the headlines as pending articles and sends nothing to the LLM."""
    server = NewsOllama(latency_first=LATENCY)
    s = _settings(server)
    memory = MemoryPersister()
    async with open_system(s, db=":memory:", disabled="--no-debate", persister=memory.run) as system:
        universe = tuple(system.provider.default_universe())[:6]
        await system.scan(ScanRequested(universe, "sim", dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc)))
    assert memory.news_db.execute("SELECT DISTINCT status FROM articles").fetchall() == [("pending",)]
    assert server.log == []


async def test_with_an_interval_the_scorer_drains_the_queue_on_its_own(autojump_clock):
    """The daemon's way: news_interval 30 s, articles queued meanwhile are scored at the next tick, no request."""
    server = NewsOllama(latency_first=LATENCY)
    s = _settings(server)
    memory = MemoryPersister()
    async with open_system(s, db=":memory:", disabled="--no-debate", persister=memory.run, news=True,
                           news_interval=30.0, news_clock=virtual_clock,
                           client_factory=lambda observer: ollama_client(s, observer, server)) as system:
        await system.store.send(AddArticles(headlines(3)))
        await trio.sleep(29)
        assert server.log == []
        await trio.sleep(10)
        scored = memory.news_db.execute("SELECT count(*) FROM articles WHERE status = 'scored'").fetchall()
    assert scored == [(3,)]
    assert server.times("news")[0] == pytest.approx(30.0, abs=0.1)


def test_news_takes_part_only_for_tickers_it_could_bring_into_the_top_n():
    """Top 2 of scores 90, 80, 70, 59, 30 with a 10-point cap: the cutoff is 80 - 20 = 60, so 59 and 30 are out."""
    from actors.core.ranking import Scored
    from actors.news.catalyst_phase import news_candidates
    from messages.market import TickerData
    from messages.scan import Direction, TickerScored

    def item(ticker: str, score: float) -> Scored:
        scored = TickerScored(ticker=ticker, score=score, direction=Direction.BULLISH, components=(), last_close=1.0,
                              as_of=dt.date(2026, 7, 24))
        return Scored(scored, TickerData(ticker=ticker, as_of=dt.date(2026, 7, 24), source="sim"))

    items = [item(t, s) for t, s in (("A", 90), ("B", 80), ("C", 70), ("D", 59), ("E", 30))]
    assert [s.scored.ticker for s in news_candidates(items, top_n=2, max_adjustment=10)] == ["A", "B", "C"]
    assert len(news_candidates(items, top_n=5, max_adjustment=10)) == 5
