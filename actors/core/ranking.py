"""Pure scan logic between scoring and the checkpoint: catalysts, ranking, contract choice.

No trio, no I/O: the coordinator calls these with data it already holds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from actors.core.options.select import select_contract

try:
    from zoneinfo import ZoneInfo

    _NEW_YORK: dt.tzinfo = ZoneInfo("America/New_York")
except Exception:  # no tz database on this machine: US Eastern standard time is close enough for a date
    _NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
from actors.core.news.catalyst import NewsEffect
from actors.core.scoring.catalysts import apply_catalysts, earnings_flags
from messages.market import DataError, OptionChain, TickerData
from messages.scan import TickerResult, TickerScored


@attrs.frozen
class Scored:
    """A ticker's technical score with the data it came from (kept for catalysts and options)."""

    scored: TickerScored
    data: TickerData


def rank(
    scored: Iterable[Scored], *, horizon_days: int, news: Mapping[str, NewsEffect] | None = None
) -> list[TickerResult]:
    """Apply catalysts and rank by final score (ties: higher technical score, then ticker).

    ``news`` holds each ticker's scored-news effect (``actors.core.news.catalyst``), if any.
    """
    news = news or {}
    rows = []
    for item in scored:
        final, catalysts = apply_catalysts(
            item.scored,
            earnings=item.data.earnings,
            headlines=item.data.headlines,
            as_of=item.scored.as_of,
            horizon_days=horizon_days,
            news=news.get(item.scored.ticker),
        )
        rows.append((final, item, catalysts))
    rows.sort(key=lambda r: (-r[0], -r[1].scored.score, r[1].scored.ticker))
    return [
        TickerResult(
            ticker=item.scored.ticker,
            rank=position,
            score=round(final, 2),
            technical_score=round(item.scored.score, 2),
            direction=item.scored.direction,
            components=item.scored.components,
            catalysts=catalysts,
            last_close=item.scored.last_close,
            as_of=item.scored.as_of,
            option=None,
            no_option_reason=None,
            synthetic=item.data.synthetic,
        )
        for position, (final, item, catalysts) in enumerate(rows, start=1)
    ]


def choose_contracts(
    results: Sequence[TickerResult],
    chains: Mapping[str, OptionChain | DataError],
    *,
    top_n: int,
    selection: Mapping[str, float],
    now: dt.datetime | None = None,
) -> list[TickerResult]:
    """Pick a contract for each of the top ``top_n`` results; every other row says why it has none.

    ``selection`` holds the keyword settings of :func:`~actors.core.options.select.select_contract`.
    ``now`` (aware) gives each row with a chain its ``quote_age_s``. Data of two days (a chain of
    the 24th beside a close of the 23rd) is aligned and flagged by :func:`align_dates`.
    """
    out = []
    for result in results:
        if result.rank > top_n:
            out.append(attrs.evolve(result, no_option_reason=f"not in the top {top_n} for options"))
            continue
        chain = chains.get(result.ticker)
        if chain is None:
            out.append(attrs.evolve(result, no_option_reason="no option chain fetched"))
        elif isinstance(chain, DataError):
            out.append(attrs.evolve(result, no_option_reason=f"no option chain: {chain.message}"))
        else:
            # DTE counts from the chain's own as-of date (quotes of 24 July are 24 July's).
            chain_date = market_date(chain.as_of)
            picked = select_contract(chain, result.direction, as_of=chain_date, **selection)
            age = quote_age(chain, now) if not result.synthetic else None  # a generated quote has no age
            out.append(
                align_dates(
                    attrs.evolve(result, option=picked.pick, no_option_reason=picked.reason, quote_age_s=age),
                    chain,
                    chain_date,
                )
            )
    return out


def flag_earnings_at_expiry(results: Sequence[TickerResult], scored: Mapping[str, Scored]) -> list[TickerResult]:
    """Earnings flags against each chosen contract's expiry, then ranked again.

    :func:`rank` flags earnings against the top of the DTE window (no contract is chosen yet);
    a ticker whose contract expires before its earnings must not pay the earnings penalty,
    and one whose contract outlives the window must. Rows without a contract keep their flags.
    The final score is the technical score plus every catalyst's points, clamped to 0..100, as
    in :func:`~actors.core.scoring.catalysts.apply_catalysts`; ranks are renumbered.
    """
    updated = []
    for result in results:
        item = scored.get(result.ticker)
        if result.option is None or item is None:
            updated.append(result)
            continue
        as_of = item.scored.as_of
        horizon = max(1, (result.option.expiry - as_of).days)
        flags = earnings_flags(item.data.earnings, as_of, horizon, expiry=result.option.expiry)
        others = tuple(c for c in result.catalysts if not c.kind.startswith("earnings_"))
        catalysts = (*flags, *others)
        final = item.scored.score + math.fsum(c.adjustment for c in catalysts)
        updated.append(attrs.evolve(result, score=round(min(100.0, max(0.0, final)), 2), catalysts=catalysts))

    def precise(result: TickerResult) -> float:
        item = scored.get(result.ticker)
        return item.scored.score if item is not None else result.technical_score

    updated.sort(key=lambda r: (-r.score, -precise(r), r.ticker))
    return [attrs.evolve(r, rank=position) for position, r in enumerate(updated, start=1)]


def debate_candidates(results: Sequence[TickerResult], *, top_n: int, without_contract: bool) -> list[TickerResult]:
    """The tickers to debate: the ``top_n`` best with a contract (or the best of all with ``without_contract``)."""
    pool = results if without_contract else [r for r in results if r.option is not None]
    return list(pool[:top_n])


def quote_age(chain: OptionChain, now: dt.datetime | None) -> float | None:
    """Seconds from the chain's quote time to ``now`` (None without ``now`` or a zoned quote time)."""
    if now is None or chain.as_of.tzinfo is None:
        return None
    return round(max(0.0, (now - chain.as_of).total_seconds()), 1)


#: The flag of a row whose chain and price history are of different days.
MIXED_DATES = "mixed-dates"


def align_dates(result: TickerResult, chain: OptionChain, chain_date: dt.date) -> TickerResult:
    """A row whose chain and history are of different days.

    A chain newer than the last bar (the usual case: a chain stamped after the close, a history
    that ends the session before) is aligned: ``last_close`` becomes the chain's underlying
    price and ``as_of`` the chain's date, so the price shown is the one the contract was picked
    against. Either way the row is flagged ``mixed-dates``: its score was computed from bars of
    another day, and a chain older than the history is not aligned (its contract may be stale).
    """
    if chain_date == result.as_of:
        return result
    flags = (*result.data_flags, MIXED_DATES) if MIXED_DATES not in result.data_flags else result.data_flags
    if chain_date > result.as_of:
        return attrs.evolve(result, last_close=chain.underlying_price, as_of=chain_date, data_flags=flags)
    return attrs.evolve(result, data_flags=flags)


def market_date(moment: dt.datetime) -> dt.date:
    """The US trading date of a timestamp: a quote stamped 03:44 UTC on the 25th belongs to the 24th."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(_NEW_YORK).date()


class HasSelectionSettings(Protocol):
    """The option-selection fields of :class:`~actors.config.Settings` (core imports no actor module)."""

    dte_min: int
    dte_max: int
    dte_target: int
    delta_target: float
    delta_min: float
    delta_max: float
    min_open_interest: float
    min_volume: float
    max_spread_pct: float
    risk_free_rate: float


def selection_settings(settings: HasSelectionSettings) -> dict[str, float]:
    """The option-selection keywords taken from :class:`~actors.config.Settings`."""
    names = tuple(HasSelectionSettings.__annotations__)
    return {name: getattr(settings, name) for name in names}
