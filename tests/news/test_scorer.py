"""The news scorer: batch size 1, two stages, attempts and failed, breaker waits, Retry-After cool-downs.

Real path in virtual time: the news-scorer actor → BreakerClient → breaker actor; OllamaChat over
MockTransport; the queue's real SQL in the MemoryPersister.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
import trio

from actors.fakes.ollama_replies import error_body
from messages.articles import RetryArticles

from .conftest import BASE, LATENCY, NewsOllama, headlines, news_settings, news_side


async def test_drain_scores_every_article_one_at_a_time_in_two_stages(autojump_clock):
    """6 articles: 12 chat requests (categorize, then score), never two at once; each article scored
    with its ticker's sentiment, impact, event type, reasoning, prompt hash and both raw replies."""
    server = NewsOllama(latency_first=LATENCY)
    s = news_settings(server, ai_debate_concurrency=3, ai_concurrency_min=3)  # slots to spare: still one at a time
    async with news_side(server, s, articles=headlines(6)) as side:
        drained = await side.news.drain()
        rows = side.rows("SELECT status, attempts, prompt_hash, raw_reply, event_type, reasoning FROM articles")
        scores = side.rows("SELECT s.ticker, s.sentiment, s.impact FROM article_scores s ORDER BY s.article_id")
    assert (drained.scored, drained.failed, drained.timed_out) == (6, 0, False)
    assert server.most["news"] == 1 and len(server.times("news")) == 12
    prompts = [p for _, _, p in server.log]
    assert all("Choose 1 to 4 categories" in p for p in prompts[0::2])
    assert all("sentiment from -1" in p for p in prompts[1::2])
    assert {r[0] for r in rows} == {"scored"} and {r[1] for r in rows} == {1}
    for _status, _attempts, hashed, raw, event, reasoning in rows:
        assert len(hashed) == 32 and set(json.loads(raw)) == {"categorize", "score"}
        assert event and reasoning.startswith("Synthetic")
    assert [t for t, _, _ in scores] == ["AAPL", "MSFT"] * 3
    assert all(sentiment == 1.0 and 0 <= impact <= 10 for _, sentiment, impact in scores)  # "beats": positive


async def test_top_tickers_articles_are_scored_first(autojump_clock):
    """first_tickers=(MSFT,): MSFT's three articles go before AAPL's."""
    server = NewsOllama(latency_first=LATENCY)
    async with news_side(server, news_settings(server), articles=headlines(6)) as side:
        await side.news.drain(("MSFT",))
        order = side.rows("SELECT t.ticker FROM articles a JOIN article_tickers t ON t.article_id = a.id"
                          " ORDER BY a.scored_at")
    assert [t for (t,) in order] == ["MSFT"] * 3 + ["AAPL"] * 3


async def test_an_article_failing_every_attempt_ends_failed_with_its_last_error_and_can_be_retried(autojump_clock):
    """HTTP 400 on every request: 3 attempts (3 claims), then failed with the last error; retry re-queues it,
    and once the server is fine it is scored."""
    server = NewsOllama(latency_first=LATENCY, plan=lambda n: "http_400")
    async with news_side(server, news_settings(server), articles=headlines(1)) as side:
        drained = await side.news.drain()
        assert (drained.scored, drained.failed) == (0, 3)
        (status, attempts, error), = side.rows("SELECT status, attempts, last_error FROM articles")
        assert (status, attempts) == ("failed", 3) and error.startswith("categorize: http_status")
        server.plan = lambda n: "ok"
        assert (await side.store.send(RetryArticles())).rows == 1
        assert (await side.news.drain()).scored == 1
        assert side.rows("SELECT status, attempts FROM articles") == [("scored", 1)]


async def test_malformed_replies_are_retried_and_every_article_is_scored(autojump_clock):
    """30 % malformed replies (the fake's fault option): every article ends scored or, rarely, retried until
    scored; none is left scoring."""
    server = NewsOllama(latency_first=0.2, malformed=0.3, seed=3)
    async with news_side(server, news_settings(server, news_max_attempts=5), articles=headlines(20)) as side:
        drained = await side.news.drain()
        statuses = side.rows("SELECT status, count(*) FROM articles GROUP BY status")
    assert statuses == [("scored", 20)] and drained.scored == 20


async def test_while_the_breaker_is_open_the_queue_waits(autojump_clock):
    """The server refuses connections: the breaker opens, and no request reaches the server for the whole
    cool-down although it heals at 10 s; then the probe closes it and all are scored. The call that used up its
    own retries counts one attempt; the articles the open breaker refused are given back uncounted."""
    server = NewsOllama(latency_first=LATENCY)
    server.refuse = True
    s = news_settings(server, breaker_cooldown=30.0, breaker_failures=3)
    async with news_side(server, s, articles=headlines(3)) as side:
        async def heal() -> None:
            await trio.sleep(10)
            server.refuse = False

        async with trio.open_nursery() as nursery:
            nursery.start_soon(heal)
            started = trio.current_time()
            drained = await side.news.drain()
        rows = side.rows("SELECT status, attempts FROM articles")
    first_served = server.times("news")[0] - started  # refused attempts never reach the log
    assert first_served >= 30.0  # nothing during the cool-down, although the server healed at 10 s
    assert drained.scored == 3 and drained.yielded >= 1 and drained.failed == 1
    assert sorted(rows) == [("scored", 1), ("scored", 1), ("scored", 2)]  # refusals by the breaker not counted


class RateLimited(NewsOllama):
    """Answers the first chat request 429 with Retry-After: 120, then serves normally."""

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/chat" and not self.log:
            self.log.append((trio.current_time(), "news", "429"))
            return httpx.Response(429, json=error_body("slow down"), headers={"retry-after": "120"})
        return await super().__call__(request)


async def test_retry_after_starts_a_saved_cooldown_that_a_new_scorer_honours(autojump_clock):
    """429 + Retry-After 120 (more than the call's budget): the attempt fails, the cool-down is saved, and no
    request is sent for 120 s, also by a scorer started afresh on the same store (a restart)."""
    server = RateLimited(latency_first=LATENCY)
    s = news_settings(server, ai_request_timeout=60.0)
    async with news_side(server, s, articles=headlines(2)) as side:
        drained = await side.news.drain()
        (until, note), = side.rows("SELECT value, note FROM news_state")
    times = server.times("news")
    assert times[1] - times[0] >= 120.0
    assert note == "HTTP 429, Retry-After 120 s"
    assert dt.datetime.fromisoformat(until) == BASE + dt.timedelta(seconds=times[0] + 120)
    assert drained.scored == 2 and drained.failed == 1


async def test_a_scans_drain_stops_when_the_breaker_opens_instead_of_waiting(autojump_clock):
    """bin/scan's drain (wait_for_breaker=False) against a dead server: it returns as soon as the breaker
    refuses, long before the cool-down ends; the articles stay queued for later (only the first call counted)."""
    server = NewsOllama(latency_first=LATENCY)
    server.refuse = True
    s = news_settings(server, breaker_cooldown=30.0, breaker_failures=3)
    async with news_side(server, s, articles=headlines(4)) as side:
        started = trio.current_time()
        drained = await side.news.drain(wait_for_breaker=False)
        elapsed = trio.current_time() - started
        rows = side.rows("SELECT status, attempts FROM articles ORDER BY id")
    assert drained.breaker_open and drained.scored == 0 and elapsed < 5.0
    assert sorted(rows) == [("pending", 0)] * 3 + [("pending", 1)]
