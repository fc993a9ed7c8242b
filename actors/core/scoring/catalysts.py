"""Catalyst adjustment: earnings inside the option's life, and scored news, on top of the technical score.

The rule, in points added to the technical score (the final score is clamped to 0..100):

==========================  ===========  ==================================================
flag                        points       when
==========================  ===========  ==================================================
``earnings_before_expiry``  -5           next earnings within ``horizon_days`` of ``as_of``
``earnings_soon``           -3 more      ... and within 7 days
``earnings_after_window``    0           next earnings known, after the horizon (or none in
                                         the calendar)
``earnings_unknown``         0           no earnings calendar for the ticker
``news``                    -10 .. +10   scored news, toward the setup's direction
                                         (``news_max_adjustment``)
==========================  ===========  ==================================================

Why a penalty for earnings inside the window: the picks are long 30-60 DTE options bought on a
*technical* setup. An earnings report inside the option's life is a coin-flip gap that can
swamp the technical edge, and the option's price already carries the event in its implied
volatility, which collapses the morning after the report (IV crush): the buyer pays for the
event and loses the premium even when the stock moves a little their way. Very near earnings
(<= 7 days) costs more, because IV is at its peak just before the report and the crush comes
before the setup has had time to work. The penalty is small on purpose: it breaks ties in the
ranking against event risk, it does not hide a strong setup, and the flag tells the user why.

Why known-but-distant earnings never rank below unknown earnings: an earnings date after the
horizon is *good* information (no event in the option's life), so it adjusts by 0, and unknown
earnings adjust by 0 too (no information is not evidence of an event; the flag tells the user
to check the date). A blend that punishes a ticker for having a known date (a known flaw of a
reference tool) cannot happen here, and a test checks it.

News: ``news`` is the :class:`~actors.core.news.catalyst.NewsEffect` of the ticker's scored
articles (impact-weighted sentiment with time decay, capped; see that module). Its points go
toward the setup's direction; with no scored news in the window there is no news adjustment,
and headlines not scored yet are only mentioned.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence

from actors.core.news.catalyst import NewsEffect
from messages.market import EarningsEvent, Headline
from messages.scan import Catalyst, TickerScored

__all__ = [
    "EARNINGS_IN_WINDOW_POINTS",
    "EARNINGS_SOON_DAYS",
    "EARNINGS_SOON_POINTS",
    "EARNINGS_UNKNOWN_POINTS",
    "apply_catalysts",
    "earnings_flags",
    "next_earnings",
]

logger = logging.getLogger(__name__)

EARNINGS_IN_WINDOW_POINTS = -5.0
EARNINGS_SOON_DAYS = 7
EARNINGS_SOON_POINTS = -3.0
EARNINGS_UNKNOWN_POINTS = 0.0


def next_earnings(earnings: Sequence[EarningsEvent], as_of: dt.date) -> EarningsEvent | None:
    """The first event still ahead on ``as_of``: a later date, or ``as_of`` itself unless reported before the open."""
    ahead = [e for e in earnings if e.date > as_of or (e.date == as_of and e.time != "before_open")]
    return min(ahead, key=lambda e: e.date, default=None)


def earnings_flags(
    earnings: tuple[EarningsEvent, ...] | None, as_of: dt.date, horizon_days: int, *, expiry: dt.date | None = None
) -> list[Catalyst]:
    """The earnings flags of one ticker for an option living ``horizon_days`` from ``as_of``.

    ``expiry``, when a contract was chosen, is its expiry (``horizon_days`` then counts to it)
    and the flags' text names it; without one the horizon is the top of the DTE window.
    """
    window = f"the contract's expiry {expiry}" if expiry is not None else f"the {horizon_days}-day horizon"
    if earnings is None:
        return [
            Catalyst(
                kind="earnings_unknown",
                detail="no earnings calendar for this ticker: check the date before trading",
                adjustment=EARNINGS_UNKNOWN_POINTS,
            )
        ]
    event = next_earnings(earnings, as_of)
    if event is None:
        return [Catalyst(kind="earnings_after_window", detail="no upcoming earnings in the calendar", adjustment=0.0)]
    days = (event.date - as_of).days
    when = f" ({event.time})" if event.time else ""
    if days > horizon_days:
        return [
            Catalyst(
                kind="earnings_after_window",
                detail=f"earnings {event.date}{when} in {days} days, after {window}",
                adjustment=0.0,
                date=event.date,
            )
        ]
    flags = [
        Catalyst(
            kind="earnings_before_expiry",
            detail=f"earnings {event.date}{when} in {days} days, "
            f"{'before' if expiry is not None else 'inside'} {window}: event risk and IV crush",
            adjustment=EARNINGS_IN_WINDOW_POINTS,
            date=event.date,
        )
    ]
    if days <= EARNINGS_SOON_DAYS:
        flags.append(
            Catalyst(
                kind="earnings_soon",
                detail=f"earnings in {days} days: implied volatility at its pre-report peak",
                adjustment=EARNINGS_SOON_POINTS,
                date=event.date,
            )
        )
    return flags


def _news_flag(news: NewsEffect | None, headlines: tuple[Headline, ...]) -> Catalyst | None:
    if news is None:
        if not headlines:
            return None
        return Catalyst(kind="news", detail=f"{len(headlines)} headlines, none scored in the window", adjustment=0.0)
    return Catalyst(kind="news", detail=news.detail, adjustment=news.points)


def apply_catalysts(
    scored: TickerScored,
    *,
    earnings: tuple[EarningsEvent, ...] | None,
    headlines: tuple[Headline, ...],
    as_of: dt.date,
    horizon_days: int = 60,
    news: NewsEffect | None = None,
) -> tuple[float, tuple[Catalyst, ...]]:
    """The final score (technical score plus catalyst points, clamped to 0..100) and the flags.

    ``earnings`` is None when the ticker's earnings dates are unknown, and a (possibly empty)
    tuple when its calendar is known. ``horizon_days`` is the candidate option's life: pass the
    picked contract's DTE when known, else the top of the DTE window.

    Raises:
        ValueError: a bad ``horizon_days``, or an earnings event of
            another ticker; the message names the field.
    """
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date):
        raise ValueError(f"as_of must be a date (got {as_of!r})")
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ValueError(f"horizon_days must be an int >= 1 (got {horizon_days!r})")
    if earnings is not None:
        for i, event in enumerate(earnings):
            if event.ticker != scored.ticker:
                raise ValueError(f"earnings[{i}] is for {event.ticker!r}, not {scored.ticker!r}")
    flags = earnings_flags(earnings, as_of, horizon_days)
    news_flag = _news_flag(news, headlines)
    if news_flag is not None:
        flags.append(news_flag)
    final = scored.score + math.fsum(f.adjustment for f in flags)
    final = round(min(100.0, max(0.0, final)), 2)
    logger.debug("%s catalysts %s: %.1f -> %.1f", scored.ticker, [f.kind for f in flags], scored.score, final)
    return final, tuple(flags)
