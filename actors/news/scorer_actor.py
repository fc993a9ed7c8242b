"""The news scorer as a long-lived, supervised actor (one per process).

*Receives:* ``Request(DrainNews(first_tickers, timeout))``: score pending articles (those of
``first_tickers`` first) until the queue is empty or the timeout passed; answered
:class:`~messages.articles.NewsDrained`. ``bin/scan --score-news`` sends one before the
catalyst phase.
*Every* ``interval`` *seconds* (when given: the daemon's ``news_interval``) it drains the queue
on its own. Requests that arrive meanwhile wait in the inbox.
*Sends:* through its :class:`~actors.news.scorer.NewsScorer`: queue commands to the persister,
admission requests to the breaker, LLM calls on the shared limiter's slots.
*Owns:* the scorer (stateless between articles: the article in hand is in the store).

On failure (a bug while scoring): the actor crashes and is restarted; the article it held keeps
its lease, which expires and counts the attempt, so a poison article ends ``failed``. On
cancellation (stop): the article in hand is released uncounted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import trio

from actors.news.scorer import ArticleResult, NewsScorer
from actors.runtime import Failure, Request, answer
from actors.serving import serve
from messages.articles import DrainNews, NewsDrained

__all__ = ["drain", "news_scorer_actor"]

logger = logging.getLogger(__name__)


async def drain(
    scorer: NewsScorer,
    first_tickers: tuple[str, ...] = (),
    *,
    timeout: float = math.inf,
    wanted: Callable[[], bool] = lambda: True,
    wait_for_breaker: bool = True,
) -> NewsDrained:
    """Score articles one at a time until none is pending, ``timeout`` (trio seconds) passed,
    ``wanted()`` turns false between articles (the requester went away), or (unless
    ``wait_for_breaker``) the circuit breaker refuses."""
    started = trio.current_time()
    counts = {r: 0 for r in ArticleResult}
    with trio.move_on_after(timeout) as scope:
        while wanted():
            result = await scorer.score_next(first_tickers, wait_on_breaker=wait_for_breaker)
            if result is ArticleResult.EMPTY:
                break
            counts[result] += 1
            if result is ArticleResult.BREAKER_OPEN and not wait_for_breaker:
                break
    drained = NewsDrained(
        scored=counts[ArticleResult.SCORED], failed=counts[ArticleResult.FAILED],
        yielded=counts[ArticleResult.YIELDED] + counts[ArticleResult.BREAKER_OPEN], lost=counts[ArticleResult.LOST],
        timed_out=scope.cancelled_caught, breaker_open=counts[ArticleResult.BREAKER_OPEN] > 0, seconds=round(trio.current_time() - started, 4),
    )
    if drained.scored or drained.failed or drained.timed_out:
        logger.info("news: %d scored, %d failed attempts, %d yielded in %.1f s%s", drained.scored, drained.failed,
                    drained.yielded, drained.seconds, " (stopped at the timeout)" if drained.timed_out else "")
    return drained


async def news_scorer_actor(
    inbox: trio.MemoryReceiveChannel[Any],
    scorer: NewsScorer,
    interval: float | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The actor's loop (see the module docstring); run it under a supervisor.

    Requests are served by :func:`actors.serving.serve` (a crash answers the request in hand);
    one lock keeps it to one article at a time across requests and the periodic drain.
    """
    one_at_a_time = trio.Lock()

    async def handle(message: Any) -> None:
        if isinstance(message, Request) and isinstance(message.payload, DrainNews):
            wanted: DrainNews = message.payload
            async with one_at_a_time:
                answer(message, await drain(scorer, wanted.first_tickers, timeout=wanted.timeout,
                                            wanted=lambda: not _abandoned(message),
                                            wait_for_breaker=wanted.wait_for_breaker))
        elif isinstance(message, Request):
            answer(message, Failure(TypeError(f"the news scorer answers DrainNews, got {message.payload!r}")))
        else:
            logger.error("news scorer: unexpected message %r ignored", message)

    async with trio.open_nursery() as nursery:
        if interval is not None:
            nursery.start_soon(_drain_every, scorer, interval, one_at_a_time)
        await serve(inbox, handle, actor="news-scorer", task_status=task_status)
        nursery.cancel_scope.cancel()


def _abandoned(request: Request) -> bool:
    """Nobody can receive the answer any more (the requester timed out, was cancelled or stopped)."""
    try:
        return request.reply_to.statistics().open_receive_channels == 0
    except AttributeError:  # not a trio memory channel: assume someone listens
        return False


async def _drain_every(scorer: NewsScorer, interval: float, lock: trio.Lock) -> None:
    while True:
        await trio.sleep(interval)
        async with lock:
            await drain(scorer)
