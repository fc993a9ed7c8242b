"""The news conversation: articles, the queue's commands to the persister, the LLM's news replies.

An article is stored once (deduplicated on its URL and on a hash of its normalized title) and
may be about several tickers. The queue::

    pending ──ClaimArticle──▶ scoring ──FinishArticle(scores)──▶ scored
       ▲                        │  └────FinishArticle(failure)──▶ pending (attempts left) | failed
       └──ReleaseArticle────────┤      (lease expired: the same, counting the attempt)
          (yielded: not counted)

Every claim counts one attempt; after ``max_attempts`` the article is ``failed`` with its last
error. ``RetryArticles`` puts failed (or named) articles back to ``pending`` with no attempts.

The two LLM replies (:class:`NewsCategories`, :class:`NewsScoreReply`) are validated by their
attrs validators (ranges) when the client parses them; the scorer then range-checks them
against the article (tickers of the article, categories of the configured list).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
from attrs import frozen

from messages.market import Headline

__all__ = [
    "AddArticles",
    "Article",
    "ArticleStatus",
    "ClaimArticle",
    "DrainNews",
    "FinishArticle",
    "LoadNewsScores",
    "NewsCategories",
    "NewsCooldown",
    "NewsDrained",
    "NewsQueueCounts",
    "NewsScoreReply",
    "QueueCounts",
    "ReleaseArticle",
    "RetryArticles",
    "RunNewsItem",
    "SaveRunNews",
    "ScoredNews",
    "SetNewsCooldown",
    "TickerSentiment",
]

_str = attrs.validators.instance_of(str)
_when = attrs.validators.instance_of(dt.datetime)
_optional_when = attrs.validators.optional(_when)
_count = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(0))
_positive = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1))
_seconds = attrs.validators.and_(attrs.validators.instance_of((int, float)), attrs.validators.gt(0))


def _tickers(_inst: object, attribute: attrs.Attribute, value: Any) -> None:
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{attribute.name}[{i}] must be a ticker symbol, got {item!r:.40}")


class ArticleStatus(enum.Enum):
    PENDING = "pending"
    SCORING = "scoring"
    SCORED = "scored"
    FAILED = "failed"


@frozen(kw_only=True)
class Article:
    """One stored article, with the tickers it is linked to and its place in the queue.

    ``lease_expires_at`` is set while it is ``scoring``: it is also the claim's token (a
    ``FinishArticle`` for another lease is refused).
    """

    id: int
    title: str
    url: str | None
    source: str | None
    published_at: dt.datetime
    summary: str | None
    tickers: tuple[str, ...]
    status: ArticleStatus
    attempts: int
    last_error: str | None = None
    lease_expires_at: dt.datetime | None = None


# --- what the LLM answers (validated while parsing: the validators become the JSON schema) ----

_sentiment = attrs.validators.and_(
    attrs.validators.instance_of((int, float)), attrs.validators.ge(-1.0), attrs.validators.le(1.0)
)
_impact = attrs.validators.and_(
    attrs.validators.instance_of((int, float)), attrs.validators.ge(0.0), attrs.validators.le(10.0)
)


@frozen(kw_only=True)
class NewsCategories:
    """Stage 1: 1 to 4 categories of the configured list (others are dropped by the scorer)."""

    categories: tuple[str, ...] = attrs.field(
        validator=attrs.validators.and_(attrs.validators.min_len(1), attrs.validators.max_len(4))
    )


@frozen(kw_only=True)
class TickerSentiment:
    """Stage 2, per ticker the article is really about: sentiment -1..1 and impact 0..10."""

    ticker: str = attrs.field(validator=attrs.validators.and_(_str, attrs.validators.max_len(12)))
    sentiment: float = attrs.field(validator=_sentiment)
    impact: float = attrs.field(validator=_impact)


@frozen(kw_only=True)
class NewsScoreReply:
    """Stage 2: the tickers the model confirms, the event type and one sentence of reasoning."""

    tickers: tuple[TickerSentiment, ...] = attrs.field(validator=attrs.validators.max_len(8))
    event_type: str = attrs.field(validator=attrs.validators.and_(_str, attrs.validators.max_len(40)))
    reasoning: str = attrs.field(validator=attrs.validators.and_(_str, attrs.validators.max_len(400)))


@frozen(kw_only=True)
class ScoredNews:
    """One scored (article, ticker) pair as stored: what the catalyst rule reads."""

    article_id: int
    ticker: str
    title: str
    source: str | None
    url: str | None
    published_at: dt.datetime
    sentiment: float
    impact: float
    event_type: str
    reasoning: str
    categories: tuple[str, ...] = ()


@frozen(kw_only=True)
class RunNewsItem:
    """An article that moved a ticker's score in a run: its weight in the rule and its points."""

    ticker: str
    article_id: int
    weight: float
    points: float


@frozen(kw_only=True)
class QueueCounts:
    """Articles per status, and the cool-down in force (None: none)."""

    pending: int
    scoring: int
    scored: int
    failed: int
    cooldown_until: dt.datetime | None = None
    cooldown_reason: str | None = None


# --- commands to the persister (answered after COMMIT) ----------------------------------------


@frozen
class AddArticles:
    """Store headlines as articles: one per URL and per normalized title; new ticker links are added.

    Answered ``Committed(rows=articles new to the queue)``.
    """

    headlines: tuple[Headline, ...] = attrs.field(converter=tuple)
    added_at: dt.datetime | None = attrs.field(default=None, validator=_optional_when)

    @headlines.validator
    def _check(self, attribute: attrs.Attribute, value: tuple[Any, ...]) -> None:
        for i, item in enumerate(value):
            if not isinstance(item, Headline):
                raise ValueError(f"{attribute.name}[{i}] must be a Headline, got {type(item).__name__}")


@frozen(kw_only=True)
class ClaimArticle:
    """Take the next article to score, under a lease of ``lease_seconds``; answered Article or None.

    First, leases expired at ``now`` end: the article goes back to ``pending`` (its attempt
    stays counted) or, out of attempts, to ``failed``. Then the next pending article with
    attempts left: articles of ``first_tickers`` first, newest first, then the rest.
    """

    now: dt.datetime = attrs.field(validator=_when)
    lease_seconds: float = attrs.field(validator=_seconds)
    max_attempts: int = attrs.field(validator=_positive)
    first_tickers: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_tickers)


@frozen(kw_only=True)
class FinishArticle:
    """The scorer's result for a claimed article: its scores, or ``failure`` (then pending or failed).

    ``lease_expires_at`` must be the claim's: a lease that expired and was claimed again is
    someone else's now, and the result is refused.
    """

    article_id: int = attrs.field(validator=_count)
    lease_expires_at: dt.datetime = attrs.field(validator=_when)
    now: dt.datetime = attrs.field(validator=_when)
    max_attempts: int = attrs.field(validator=_positive)
    scores: tuple[TickerSentiment, ...] = attrs.field(default=(), converter=tuple)
    categories: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    event_type: str | None = None
    reasoning: str | None = None
    prompt_hash: str | None = None
    raw_reply: str | None = None
    failure: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.failure is None) == (self.event_type is None):
            raise ValueError("FinishArticle needs exactly one of failure and a score (event_type)")


@frozen(kw_only=True)
class ReleaseArticle:
    """Give a claimed article back without counting its attempt (the scorer yielded the LLM)."""

    article_id: int = attrs.field(validator=_count)
    lease_expires_at: dt.datetime = attrs.field(validator=_when)
    reason: str = attrs.field(default="yielded", validator=_str)


@frozen(kw_only=True)
class RetryArticles:
    """Re-queue: article ``article_id``, or (None) every failed article; attempts start again at 0."""

    article_id: int | None = attrs.field(default=None, validator=attrs.validators.optional(_count))


@frozen(kw_only=True)
class SetNewsCooldown:
    """No news scoring before ``until`` (a rate limit or Retry-After); kept across restarts."""

    until: dt.datetime = attrs.field(validator=_when)
    reason: str = attrs.field(validator=_str)


@frozen(kw_only=True)
class NewsQueueCounts:
    """Ask for the queue's :class:`QueueCounts` (a read through the writer: one snapshot)."""


@frozen(kw_only=True)
class NewsCooldown:
    """Ask for the cool-down in force at ``now``: answered ``(until, reason)`` or None."""

    now: dt.datetime = attrs.field(validator=_when)


@frozen(kw_only=True)
class LoadNewsScores:
    """Scored news of ``tickers`` published from ``since`` to ``until``: answered tuple[ScoredNews]."""

    tickers: tuple[str, ...] = attrs.field(converter=tuple, validator=_tickers)
    since: dt.datetime = attrs.field(validator=_when)
    until: dt.datetime = attrs.field(validator=_when)


@frozen(kw_only=True)
class SaveRunNews:
    """Which articles moved which ticker's score in run ``run_id``, and by how many points."""

    run_id: str = attrs.field(validator=_str)
    items: tuple[RunNewsItem, ...] = attrs.field(converter=tuple)


# --- the news scorer actor's conversation -------------------------------------------------------


@frozen(kw_only=True)
class DrainNews:
    """To the news scorer: score pending articles until none is left (articles of ``first_tickers``
    first) or ``timeout`` seconds passed; answered :class:`NewsDrained`. With
    ``wait_for_breaker`` False (a scan) the drain ends when the circuit breaker refuses, instead
    of waiting out its cool-down (the daemon's way)."""

    first_tickers: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_tickers)
    timeout: float = attrs.field(default=600.0, validator=_seconds)
    wait_for_breaker: bool = True


@frozen(kw_only=True)
class NewsDrained:
    """What a drain did: articles scored, attempts failed, articles given back (yielded), and
    whether it stopped at its timeout with articles left."""

    scored: int
    failed: int
    yielded: int
    lost: int
    timed_out: bool
    seconds: float
    breaker_open: bool = False
