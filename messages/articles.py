"""The article queue: pending → scoring → scored | failed."""

from __future__ import annotations

import datetime as dt
import enum

import attrs
from attrs import frozen


class ArticleStatus(enum.Enum):
    PENDING = "pending"
    SCORING = "scoring"
    SCORED = "scored"
    FAILED = "failed"


class Sentiment(enum.Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


@frozen
class Article:
    id: int
    ticker: str
    title: str
    published_at: dt.datetime
    status: ArticleStatus
    publisher: str | None = None
    url: str | None = None


@frozen
class ArticleScore:
    """An LLM's reply for one article (validated)."""

    category: str
    sentiment: Sentiment
    impact: float = attrs.field(validator=attrs.validators.and_(attrs.validators.ge(0.0), attrs.validators.le(1.0)))
    summary: str


@frozen
class ArticleScored:
    article_id: int
    score: ArticleScore | None
    failure: str | None
