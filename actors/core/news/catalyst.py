"""The news catalyst rule: impact-weighted sentiment with exponential time decay, capped.

For one ticker, each scored article published in the lookback window before the reference
time ``at`` (the close of the ticker's as-of day, 20:00 UTC; nothing published after it counts)
has a weight::

    weight = impact / 10 * 0.5 ** (age_days / half_life_days)

and the news points are::

    net    = sum(sentiment * weight)                          (sentiment -1..1, impact 0..10)
    points = clamp(max_adjustment * net, -max_adjustment, +max_adjustment) * direction

``direction`` is +1 for a bullish setup, -1 for a bearish one (bad news confirms a bearish
setup) and 0 for a neutral one (no direction to confirm). One fresh article of impact 10 and
sentiment +1 alone reaches the cap; a two-day-old one counts half. Each article's share of the
points is its ``sentiment * weight`` scaled the same way (so the shares add up to the points).
The flag is ``NEWS+`` when the net sentiment is positive and ``NEWS-`` when negative, shown when
the news moved the score by at least :data:`FLAG_MIN_POINTS`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

import attrs

from messages.articles import ScoredNews
from messages.scan import Direction, TickerScored

__all__ = [
    "FLAG_MIN_POINTS", "NewsContribution", "NewsEffect", "NewsRule", "news_effect", "news_effects", "reference_time",
]

#: Points below which the news flag is not shown (the articles are still listed).
FLAG_MIN_POINTS = 0.5

_SIGN = {Direction.BULLISH: 1.0, Direction.BEARISH: -1.0, Direction.NEUTRAL: 0.0}


def _positive(_inst: object, attribute: attrs.Attribute, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be a finite number > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class NewsRule:
    """The rule's settings (``news_lookback_days``, ``news_half_life_days``, ``news_max_adjustment``)."""

    lookback_days: float = attrs.field(default=7.0, validator=_positive)
    half_life_days: float = attrs.field(default=2.0, validator=_positive)
    max_adjustment: float = attrs.field(default=10.0, validator=_positive)


@attrs.frozen(kw_only=True)
class NewsContribution:
    """One article's part in a ticker's news points."""

    item: ScoredNews
    weight: float
    points: float


@attrs.frozen(kw_only=True)
class NewsEffect:
    """The news points of one ticker, the net sentiment, the flag and the articles behind them."""

    points: float
    net: float
    flag: str | None
    contributions: tuple[NewsContribution, ...]
    detail: str


def reference_time(as_of: dt.date) -> dt.datetime:
    """The close of the as-of day (20:00 UTC): the moment news is weighed from."""
    return dt.datetime.combine(as_of, dt.time(20, 0), tzinfo=dt.timezone.utc)


def news_effect(
    items: Iterable[ScoredNews], *, direction: Direction, at: dt.datetime, rule: NewsRule
) -> NewsEffect | None:
    """Apply the rule (module docstring) to one ticker's scored news; None when none is in the window."""
    if at.tzinfo is None:
        raise ValueError("at must be a timezone-aware datetime")
    since = at - dt.timedelta(days=rule.lookback_days)
    weighted: list[tuple[ScoredNews, float]] = []
    for item in items:
        if not since < item.published_at <= at:
            continue
        age_days = (at - item.published_at).total_seconds() / 86400.0
        weight = item.impact / 10.0 * 0.5 ** (age_days / rule.half_life_days)
        weighted.append((item, weight))
    if not weighted:
        return None
    net = math.fsum(item.sentiment * w for item, w in weighted)
    uncapped = rule.max_adjustment * net
    capped = max(-rule.max_adjustment, min(rule.max_adjustment, uncapped))
    scale = capped / uncapped if uncapped else 0.0
    sign = _SIGN[direction]
    cap_ = rule.max_adjustment
    points = max(-cap_, min(cap_, round(capped * sign, 2))) + 0.0  # rounding never crosses the cap
    contributions = tuple(
        NewsContribution(item=item, weight=round(w, 4), points=round(rule.max_adjustment * item.sentiment * w * scale * sign, 2) + 0.0)
        for item, w in sorted(weighted, key=lambda p: -abs(p[0].sentiment * p[1]))
    )
    flag = None
    if abs(points) >= FLAG_MIN_POINTS and net:
        flag = "NEWS+" if net > 0 else "NEWS-"
    why = "no direction to confirm" if sign == 0 else f"toward the {direction.value} setup"
    cap = f", capped at {rule.max_adjustment:g}" if capped != uncapped else ""
    detail = (
        f"{len(weighted)} scored article{'s' if len(weighted) != 1 else ''} in {rule.lookback_days:g} days: "
        f"net sentiment {net:+.2f}{cap}; {points:+.2f} points ({why})"
    )
    return NewsEffect(points=points, net=round(net, 4), flag=flag, contributions=contributions, detail=detail)


def news_effects(
    scored: Iterable[TickerScored], news: Mapping[str, Sequence[ScoredNews]], *, rule: NewsRule
) -> dict[str, NewsEffect]:
    """:func:`news_effect` for every scored ticker with news, at the close of its as-of day."""
    out: dict[str, NewsEffect] = {}
    for item in scored:
        items = news.get(item.ticker)
        if items:
            effect = news_effect(items, direction=item.direction, at=reference_time(item.as_of), rule=rule)
            if effect is not None:
                out[item.ticker] = effect
    return out
