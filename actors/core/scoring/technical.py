"""Technical score of one price history: direction by weighted vote, then setup strength.

The score (0..100) measures how strong the setup is *in its direction*: a clean breakdown is a
strong bearish setup and scores high, just like a clean breakout. It is
``100 * sum(weight * value)`` over the components of :mod:`actors.core.scoring.weights`, each valued
0..1, so the components always explain the score.

Direction is a weighted vote of five signals, each in -1..+1 and weighted 0.2, with moves
measured in ATR(14) units so that a quiet stock and a wild one are judged alike:

* close vs SMA20: ``(close3 - SMA20) / (1.5 ATR)``, clipped to -1..1, where ``close3`` is the
  mean of the last three closes (one noisy bar must not call a direction);
* close vs SMA50: ``(close3 - SMA50) / (2 ATR)``, clipped;
* SMA20 slope: ``(SMA20 - SMA20 five bars ago) / ATR``, clipped;
* 20-day momentum: ``(close - close 20 bars ago) / (ATR sqrt 20)``, clipped;
* range break: beyond the high (low) of the 20-bar consolidation window that ended five bars
  ago gives +0.5..+1 (-0.5..-1) growing with the distance; inside it, the position of
  ``close3`` in the range, -0.5 (at the low) .. +0.5 (at the high).

``vote >= +0.2`` is bullish, ``vote <= -0.2`` bearish, anything between neutral: neutral means
the signals conflict or are flat, not that the averages fail to line up perfectly (a rule that
needs every average stacked calls most tickers neutral, and neutral tickers get no contract).

Components, read in the setup's direction ``s`` (+1 bullish, -1 bearish), each 0..1:

* ``trend``: half the efficiency ratio over 20 bars in direction ``s`` (0.5 or more counts
  fully), half the share of {close vs SMA20, close vs SMA50, SMA20 vs SMA50, SMA20 slope} that
  point in direction ``s``;
* ``momentum``: 0.6 x the 20-bar move in direction ``s`` (1.5 ATR sqrt 20 counts fully) plus
  0.4 x RSI14's distance from 50 in direction ``s`` (25 points counts fully);
* ``squeeze_breakout``: the break beyond the consolidation window's edge, 0 at 1 ATR inside,
  0.5 at the edge, 1 at 1 ATR beyond, times 0.6 + 0.4 x squeeze, where squeeze is how low the
  window's Bollinger band width ranks among the band widths before it (a tight range that
  breaks scores above a loose one that breaks);
* ``relative_volume``: mean volume of the last 5 bars over the median of the 60 before,
  0 at 1x and 1 at 2x or more (0 when the provider has no volume);
* ``atr_regime``: true range of the last 10 bars over the 50 before, 0 at 0.8x and 1 at 1.6x:
  expanding realized volatility means the move has started.

For a neutral ticker each directional component (the first three) is the mean of its bullish
and bearish readings: without a direction there is no directional edge to credit.

Only the last ``TAIL_BARS`` bars are read; histories may be decades long.

Hostile values: every bar of the tail must hold plausible prices and volume
(:mod:`actors.core.plausible`, the bounds the parsers enforce), and every intermediate and component
must come out finite. Anything else is :class:`UnusableHistory` naming the ticker and why, a
per-ticker error; no ``OverflowError``, ``ZeroDivisionError`` or NaN leaves this module.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable

from actors.core.plausible import MAX_PRICE, MAX_VOLUME, MIN_PRICE, price_problem, volume_problem
from actors.core.scoring.errors import InsufficientHistory, UnusableHistory
from actors.core.scoring.indicators import (
    bollinger_width_series,
    efficiency_ratio,
    percentile_rank,
    relative_volume,
    rsi,
    sma,
    true_ranges,
    wilder_average,
)
from actors.core.scoring.weights import DEFAULT_WEIGHTS, Weights
from messages.market import PriceColumns, PriceHistory
from messages.scan import Direction, ScoreComponent, TickerScored

__all__ = ["MIN_BARS", "NEUTRAL_BAND", "TAIL_BARS", "score_columns", "score_history"]

logger = logging.getLogger(__name__)

MIN_BARS = 60
"""Fewest bars scoring accepts: SMA50 and its 5-bar slope, plus room for the 20-bar windows."""

TAIL_BARS = 160
"""Bars read from the end of a history: 120 bars of band-width history plus warm-up."""

NEUTRAL_BAND = 0.2
"""|vote| below this is neutral."""

_WINDOW = 20  # consolidation window length
_RECENT = 5  # bars since the consolidation window ended


def _clip(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def _unit(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class _Features:
    """Every indicator the score needs, computed once from the tail of a history."""

    __slots__ = (
        "atr",
        "atr_ratio",
        "bb_pct",
        "close",
        "close3",
        "d_down",
        "d_up",
        "er20",
        "range_high",
        "range_low",
        "rel_volume",
        "rsi14",
        "sma20",
        "sma20_prev",
        "sma50",
        "z20",
    )

    def __init__(self, closes: list[float], highs: list[float], lows: list[float], volumes: list[float]) -> None:
        close = closes[-1]
        self.close = close
        self.close3 = (closes[-1] + closes[-2] + closes[-3]) / 3
        tr = true_ranges(highs, lows, closes)
        # A series with no movement at all has ATR 0; use a tiny unit so ratios stay finite.
        unit = max(wilder_average(tr, 14), close * 1e-4)
        self.atr = unit
        self.sma20 = sma(closes, 20)
        self.sma20_prev = sma(closes[:-_RECENT], 20)
        self.sma50 = sma(closes, 50)
        self.z20 = (close - closes[-21]) / (unit * math.sqrt(20))
        self.er20 = efficiency_ratio(closes, 20)
        self.rsi14 = rsi(closes[-84:], 14)
        start, stop = -(_WINDOW + _RECENT), -_RECENT
        self.range_high = max(highs[start:stop])
        self.range_low = min(lows[start:stop])
        self.d_up = (close - self.range_high) / unit
        self.d_down = (self.range_low - close) / unit
        widths = bollinger_width_series(closes, 20)
        # widths[-1 - _RECENT] is the band width over the consolidation window itself.
        self.bb_pct = percentile_rank(widths[: len(widths) - _RECENT], widths[-1 - _RECENT])
        self.rel_volume = relative_volume(volumes, _RECENT, 60)
        recent_tr = sum(tr[-10:]) / 10
        base = tr[-60:-10]
        base_tr = sum(base) / len(base)
        self.atr_ratio = recent_tr / base_tr if base_tr > 0 else 1.0


def _check_finite(ticker: str, f: _Features) -> None:
    """Every feature is finite (None means "no volume data"), else the history is unusable."""
    for name in _Features.__slots__:
        value = getattr(f, name)
        if value is not None and not math.isfinite(value):
            raise UnusableHistory(ticker, f"indicator {name} is {value!r} on these bars")


def _direction_vote(f: _Features) -> float:
    """The weighted direction vote (-1..+1) described in the module docstring."""
    a = f.atr
    c = f.close3
    s1 = _clip((c - f.sma20) / (1.5 * a))
    s2 = _clip((c - f.sma50) / (2 * a))
    s3 = _clip((f.sma20 - f.sma20_prev) / a)
    s4 = _clip(f.z20)
    if f.d_up > 0:
        s5 = _clip(0.5 + f.d_up)
    elif f.d_down > 0:
        s5 = -_clip(0.5 + f.d_down)
    else:
        half = (f.range_high - f.range_low) / 2
        s5 = 0.5 * _clip((c - (f.range_low + half)) / half) if half > 0 else 0.0
    return 0.2 * (s1 + s2 + s3 + s4 + s5)


def _trend(f: _Features, s: int) -> float:
    er = _unit(s * f.er20 / 0.5)
    stack = (
        (s * (f.close - f.sma20) > 0)
        + (s * (f.close - f.sma50) > 0)
        + (s * (f.sma20 - f.sma50) > 0)
        + (s * (f.sma20 - f.sma20_prev) > 0)
    ) / 4
    return 0.5 * er + 0.5 * stack


def _momentum(f: _Features, s: int) -> float:
    return 0.6 * _unit(s * f.z20 / 1.5) + 0.4 * _unit(s * (f.rsi14 - 50.0) / 25.0)


def _breakout(f: _Features, s: int) -> float:
    d = f.d_up if s > 0 else f.d_down
    squeeze = 1.0 - f.bb_pct
    return _unit((d + 1.0) / 2.0) * (0.6 + 0.4 * squeeze)


def _directional(fn: Callable[[_Features, int], float], f: _Features, s: int) -> float:
    """``fn`` read in direction ``s``; for neutral (0), the mean of its bullish and bearish readings."""
    if s == 0:
        return (fn(f, 1) + fn(f, -1)) / 2
    return fn(f, s)


def _plausible(prices: tuple[list[float], ...], volumes: list[float]) -> bool:
    """The fast check of a tail: NaN or inf anywhere shows in the total; then the bounds."""
    try:
        total = sum(map(sum, prices)) + sum(volumes)
        return (
            math.isfinite(total)
            and all(MIN_PRICE <= min(p) and max(p) < MAX_PRICE for p in prices)
            and 0 <= min(volumes)
            and max(volumes) < MAX_VOLUME
        )
    except OverflowError:  # an int too large for a float
        return False


def _extract(history: PriceHistory) -> tuple[list[float], list[float], list[float], list[float]]:
    bars = history.bars[-TAIL_BARS:]
    closes = [b.close for b in bars]
    highs = [b.high for b in bars]
    lows = [b.low for b in bars]
    volumes = [b.volume for b in bars]
    opens = [b.open for b in bars]
    prices = (opens, highs, lows, closes)
    if _plausible(prices, volumes):
        return closes, highs, lows, volumes
    for b in bars:  # find and name the bad bar
        for name in ("open", "high", "low", "close"):
            problem = price_problem(getattr(b, name))
            if problem is not None:
                raise UnusableHistory(history.ticker, f"bar {b.date} {name}: {problem}")
        problem = volume_problem(b.volume)
        if problem is not None:
            raise UnusableHistory(history.ticker, f"bar {b.date} volume: {problem}")
    return closes, highs, lows, volumes


def score_history(history: PriceHistory, *, weights: Weights = DEFAULT_WEIGHTS) -> TickerScored:
    """Score one ticker's setup (0..100) and call its direction.

    Raises:
        InsufficientHistory: fewer than ``MIN_BARS`` bars.
        UnusableHistory: a bar in the tail has an implausible price or volume (:mod:`actors.core.plausible`),
            or an indicator or component is not finite.
    """
    if len(history.bars) < MIN_BARS:
        raise InsufficientHistory(history.ticker, got=len(history.bars), needed=MIN_BARS)
    return _guarded(history.ticker, lambda: _score(history.ticker, history.as_of, *_extract(history), weights))


def score_columns(series: PriceColumns, *, weights: Weights = DEFAULT_WEIGHTS) -> TickerScored:
    """:func:`score_history` of a history held as columns: the same score, no ``Bar`` objects.

    Raises:
        InsufficientHistory: fewer than ``MIN_BARS`` bars.
        UnusableHistory: a bar in the tail is implausible (see :func:`_extract`), or scoring failed.
    """
    if len(series.closes) < MIN_BARS:
        raise InsufficientHistory(series.ticker, got=len(series.closes), needed=MIN_BARS)
    tail = slice(-TAIL_BARS, None)
    opens, closes, highs, lows, volumes = (
        list(c[tail]) for c in (series.opens, series.closes, series.highs, series.lows, series.volumes)
    )
    if not _plausible((opens, highs, lows, closes), volumes):
        # The checks of _extract, run on the same tail through the same code (rarely: only when
        # the fast check says something is off), so the error names the bad bar.
        _extract(series.to_history())
    return _guarded(series.ticker, lambda: _score(series.ticker, series.as_of, closes, highs, lows, volumes, weights))


def _guarded(ticker: str, score: Callable[[], TickerScored]) -> TickerScored:
    """``score()``, with any arithmetic failure on hostile-but-plausible bars as ``UnusableHistory``."""
    try:
        return score()
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, UnusableHistory):
            raise
        raise UnusableHistory(ticker, f"scoring failed on these bars: {type(exc).__name__}: {exc}") from exc


def _score(
    ticker: str,
    as_of: dt.date,
    closes: list[float],
    highs: list[float],
    lows: list[float],
    volumes: list[float],
    weights: Weights,
) -> TickerScored:
    f = _Features(closes, highs, lows, volumes)
    _check_finite(ticker, f)
    vote = _direction_vote(f)
    if vote >= NEUTRAL_BAND:
        direction, s = Direction.BULLISH, 1
    elif vote <= -NEUTRAL_BAND:
        direction, s = Direction.BEARISH, -1
    else:
        direction, s = Direction.NEUTRAL, 0

    close = f.close
    rv = f.rel_volume
    values = {
        "trend": (
            _directional(_trend, f, s),
            f"direction vote {vote:+.2f}; ER20 {f.er20:+.2f}; close {close / f.sma20 - 1:+.1%} vs SMA20, {close / f.sma50 - 1:+.1%} vs SMA50; "
            f"SMA20 5-bar slope {(f.sma20 - f.sma20_prev) / f.atr:+.2f} ATR",
        ),
        "momentum": (
            _directional(_momentum, f, s),
            f"20-bar move {f.z20:+.2f} ATR*sqrt(20); RSI14 {f.rsi14:.1f}",
        ),
        "squeeze_breakout": (
            _directional(_breakout, f, s),
            f"close {f.d_up:+.2f} ATR vs range high {f.range_high:.4g}, {-f.d_down:+.2f} ATR vs range low "
            f"{f.range_low:.4g}; band width percentile {f.bb_pct:.0%}",
        ),
        "relative_volume": (
            0.0 if rv is None else _unit(rv - 1.0),
            "no volume data" if rv is None else f"last 5 bars at {rv:.2f}x the 60-bar median",
        ),
        "atr_regime": (
            _unit((f.atr_ratio - 0.8) / 0.8),
            f"ATR14 {f.atr / close:.2%} of price; true range last 10 bars {f.atr_ratio:.2f}x the 50 before",
        ),
    }
    components = tuple(
        ScoreComponent(name=name, value=round(values[name][0], 4), weight=weight, detail=values[name][1])
        for name, weight in weights.items()
    )
    for name, (value, _detail) in values.items():
        if not math.isfinite(value):
            raise UnusableHistory(ticker, f"component {name} is {value!r} on these bars")
    score = 100.0 * math.fsum(weight * values[name][0] for name, weight in weights.items())
    score = round(min(100.0, max(0.0, score)), 2)
    logger.debug("%s scored %.1f %s (vote %+.2f)", ticker, score, direction.value, vote)
    return TickerScored(
        ticker=ticker,
        score=score,
        direction=direction,
        components=components,
        last_close=close,
        as_of=as_of,
    )
