"""Scoring queued articles, one at a time: categorize, then score, through the debates' LLM side.

*Sends:* queue commands to the persister (``ClaimArticle``, ``FinishArticle``,
``ReleaseArticle``, ``SetNewsCooldown``, ``NewsCooldown``), each awaited until committed; LLM
calls through the shared client, each admitted by the breaker actor (``BreakerClient``, user
``news``) and run on a slot of the process's limiter, so news and debates share one budget and
every attempt's outcome reaches the one breaker.
*Owns:* nothing between articles: the article in hand is in the store, under its lease.

One article (batch size 1) goes: wait while a scan is debating → wait out a cool-down → claim
(under a lease of ``news_lease``; the claim counts an attempt) → one limiter slot → stage 1
(categories) → stage 2 (per-ticker sentiment and impact) → ``FinishArticle``. Any article
text enters the prompt only as quoted, truncated data (:mod:`actors.core.news.prompts`).

What ends an article's attempt:

=============================  ==================================================================
what happened                  the article
=============================  ==================================================================
both stages valid              ``scored``: scores, categories, event type, reasoning, prompt hash
                               and raw replies stored
a stage failed (timeout,       back to ``pending`` with ``last_error`` (the attempt counts), or
invalid reply, HTTP error)     ``failed`` after ``news_max_attempts``
HTTP 429 / 529, or any         as above, and a cool-down until now + Retry-After (else
Retry-After header             ``news_rate_limit_cooldown``) is saved: no article is claimed
                               before it ends, also after a restart
the breaker refuses or cuts    released (not counted); the scorer waits ``breaker_cooldown``
the call off                   and asks again (the breaker holds it while half-open)
a scan starts debating         the call is cancelled at once, the article released (not
                               counted); nothing more is claimed until the debates end
the process dies or hangs      the lease expires: back to ``pending``, the attempt counted
=============================  ==================================================================
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
from collections.abc import Callable

import attrs
import trio

from actors.breaker.actor import BreakerOpen
from actors.core.news.prompts import (
    categorize_messages,
    check_categories,
    check_score,
    prompt_hash,
    score_messages,
)
from actors.debate.activity import DebateActivity
from actors.debate.pool import Admission
from actors.errors import StoreError
from actors.llm.budget import Timeouts
from actors.llm.limiter import ConcurrencyLimiter
from actors.llm.outcome import CallOutcome
from actors.llm.protocol import ChatClient, ChatMessage
from actors.store.client import StoreClient
from messages.articles import (
    Article,
    ClaimArticle,
    FinishArticle,
    NewsCategories,
    NewsCooldown,
    NewsScoreReply,
    ReleaseArticle,
    SetNewsCooldown,
)

__all__ = ["ArticleResult", "NewsScorer", "NewsSettings", "wall_clock"]

logger = logging.getLogger(__name__)

#: HTTP statuses that mean "slow down" (rate limited, overloaded): they start a cool-down.
RATE_LIMIT_STATUSES = frozenset({429, 529})


def wall_clock() -> dt.datetime:
    """Now in UTC: leases and cool-downs are wall-clock times, so they survive a restart."""
    return dt.datetime.now(dt.timezone.utc)


@attrs.frozen(kw_only=True)
class NewsSettings:
    """The scorer's settings (from :class:`~actors.config.Settings` via :func:`actors.news.wiring.news_settings`)."""

    max_attempts: int = 3
    lease: float = 300.0
    categories: tuple[str, ...] = ("other",)
    max_chars: int = 2000
    rate_limit_cooldown: float = 60.0
    breaker_wait: float = 30.0


class ArticleResult(enum.Enum):
    """How one turn of the scorer ended."""

    SCORED = "scored"
    FAILED = "failed"  # this attempt failed (the article is pending again, or failed for good)
    EMPTY = "empty"  # nothing to claim
    YIELDED = "yielded"  # released uncounted: a scan started debating
    BREAKER_OPEN = "breaker_open"  # released uncounted: the breaker refused or cut the call off
    LOST = "lost"  # the store refused the result (lease lost, or the store failed)


class _Yield(Exception):
    """Internal: the article is given back uncounted (``why`` says why)."""

    def __init__(self, why: str, *, breaker: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.breaker = breaker


class NewsScorer:
    """See the module docstring. ``clock`` gives wall-clock UTC (tests derive it from trio's clock)."""

    def __init__(
        self,
        client: ChatClient,
        *,
        store: StoreClient,
        breaker: Admission,
        limiter: ConcurrencyLimiter,
        activity: DebateActivity,
        settings: NewsSettings,
        timeouts: Timeouts | None = None,
        clock: Callable[[], dt.datetime] = wall_clock,
    ) -> None:
        self._client = client
        self._store = store
        self._breaker = breaker
        self._limiter = limiter
        self._activity = activity
        self.settings = settings
        self._timeouts = timeouts
        self._clock = clock
        self.calls = 0

    async def wait_turn(self) -> None:
        """Wait while a scan is debating, then while a saved cool-down is in force."""
        while True:
            await self._activity.wait_idle()
            held = await self._store.send(NewsCooldown(now=self._clock()))
            if held is None:
                return
            until, reason = held
            wait = max(0.0, (until - self._clock()).total_seconds())
            logger.info("news scorer: cooling down %.0f s (%s)", wait, reason)
            await trio.sleep(wait)

    async def score_next(self, first_tickers: tuple[str, ...] = (), *, wait_on_breaker: bool = True) -> ArticleResult:
        """Wait for a turn, claim the next article and score it (one attempt).

        When the breaker refuses, the article is given back and (``wait_on_breaker``) the scorer
        waits ``breaker_wait`` before returning :attr:`ArticleResult.BREAKER_OPEN`.
        """
        await self.wait_turn()
        article = await self._store.send(ClaimArticle(
            now=self._clock(), lease_seconds=self.settings.lease, max_attempts=self.settings.max_attempts,
            first_tickers=first_tickers,
        ))
        if article is None:
            return ArticleResult.EMPTY
        return await self._score(article, wait_on_breaker)

    async def _score(self, article: Article, wait_on_breaker: bool = True) -> ArticleResult:
        command: FinishArticle | None = None
        yielded: _Yield | None = None
        try:
            with trio.CancelScope() as preempt:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._preempt_on_debate, preempt)
                    try:
                        command = await self._stages(article)
                    except _Yield as why:
                        yielded = why
                    finally:
                        nursery.cancel_scope.cancel()
        except BaseException as exc:
            if _only_cancelled(exc):  # stopped from outside: give it back uncounted
                await self._release(article, "the scorer was stopped")
            raise  # a bug: the lease expires and counts the attempt (no endless retry)
        if preempt.cancelled_caught and command is None:
            yielded = _Yield("a scan started debating")
        if yielded is not None:
            await self._release(article, yielded.why)
            if not yielded.breaker:
                return ArticleResult.YIELDED
            if wait_on_breaker:
                await trio.sleep(self.settings.breaker_wait)
            return ArticleResult.BREAKER_OPEN
        assert command is not None
        return await self._finish(article, command)

    async def _preempt_on_debate(self, scope: trio.CancelScope) -> None:
        await self._activity.wait_debating()
        scope.cancel()

    async def _stages(self, article: Article) -> FinishArticle:
        s = self.settings
        lease = article.lease_expires_at
        assert lease is not None
        async with self._limiter.slot() as slot:
            with slot.measuring():
                first = categorize_messages(article, categories=s.categories, max_chars=s.max_chars)
                outcome = await self._call(first, NewsCategories)
                if outcome.value is None:
                    return await self._failed(article, "categorize", outcome, prompt_hash(first))
                categories = check_categories(outcome.value, s.categories)
                second = score_messages(article, categories=categories, max_chars=s.max_chars)
                scored = await self._call(second, NewsScoreReply)
        hashed = prompt_hash(second)
        if scored.value is None:
            return await self._failed(article, "score", scored, hashed)
        raw = json.dumps({"categorize": outcome.raw_reply, "score": scored.raw_reply})
        checked = check_score(scored.value, article)
        if isinstance(checked, str):
            return self._finish_command(article, failure=f"score: {checked}", prompt_hash=hashed, raw_reply=raw)
        return FinishArticle(
            article_id=article.id, lease_expires_at=lease, now=self._clock(), max_attempts=s.max_attempts,
            scores=checked.tickers, categories=categories, event_type=checked.event_type,
            reasoning=checked.reasoning, prompt_hash=hashed, raw_reply=raw,
        )

    async def _call(self, pairs: list[tuple[str, str]], reply_type: type) -> CallOutcome:
        messages = [ChatMessage(role, content) for role, content in pairs]  # type: ignore[arg-type]
        self.calls += 1
        try:
            async with self._breaker.guard():  # runs in the permit's scope: an opening cuts it off
                return await self._client.complete(messages, reply_type, timeouts=self._timeouts)
        except BreakerOpen as exc:
            state = getattr(exc, "state", None)
            raise _Yield(f"circuit breaker open ({getattr(state, 'reason', exc)})", breaker=True) from None

    async def _failed(self, article: Article, stage: str, outcome: CallOutcome, hashed: str) -> FinishArticle:
        kind = outcome.failure.value if outcome.failure else "unknown"
        failure = f"{stage}: {kind}: {outcome.detail}" if outcome.detail else f"{stage}: {kind}"
        if outcome.retry_after is not None or outcome.http_status in RATE_LIMIT_STATUSES:
            wait = outcome.retry_after if outcome.retry_after is not None else self.settings.rate_limit_cooldown
            why = f"HTTP {outcome.http_status}" + (f", Retry-After {wait:g} s" if outcome.retry_after is not None else "")
            until = self._clock() + dt.timedelta(seconds=wait)
            try:
                await self._store.send(SetNewsCooldown(until=until, reason=why))
            except StoreError as exc:
                logger.error("news scorer: could not save the cool-down (%s): %s", why, exc)
        return self._finish_command(article, failure=failure[:500], prompt_hash=hashed, raw_reply=None)

    def _finish_command(self, article: Article, *, failure: str, prompt_hash: str, raw_reply: str | None) -> FinishArticle:
        assert article.lease_expires_at is not None
        return FinishArticle(
            article_id=article.id, lease_expires_at=article.lease_expires_at, now=self._clock(),
            max_attempts=self.settings.max_attempts, failure=failure, prompt_hash=prompt_hash, raw_reply=raw_reply,
        )

    async def _finish(self, article: Article, command: FinishArticle) -> ArticleResult:
        try:
            with trio.CancelScope(shield=True):
                await self._store.send(command)
        except StoreError as exc:
            logger.warning("news scorer: result for article %d not saved: %s", article.id, exc)
            return ArticleResult.LOST
        if command.failure is not None:
            logger.info("news: article %d attempt %d failed: %s", article.id, article.attempts, command.failure)
            return ArticleResult.FAILED
        logger.debug("news: article %d scored (%s)", article.id, ", ".join(s.ticker for s in command.scores))
        return ArticleResult.SCORED

    async def _release(self, article: Article, why: str) -> None:
        assert article.lease_expires_at is not None
        logger.debug("news: article %d released uncounted: %s", article.id, why)
        try:
            with trio.CancelScope(shield=True):
                await self._store.send(ReleaseArticle(
                    article_id=article.id, lease_expires_at=article.lease_expires_at, reason=why
                ))
        except StoreError as exc:  # its lease expires instead (and counts the attempt)
            logger.warning("news scorer: could not release article %d: %s", article.id, exc)


def _only_cancelled(exc: BaseException) -> bool:
    """``trio.Cancelled`` alone, or as every leaf of an exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_cancelled(e) for e in exc.exceptions)
    return isinstance(exc, trio.Cancelled)
