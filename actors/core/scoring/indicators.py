"""Technical indicators as plain functions over lists of floats (oldest first, no numpy).

Each function returns the indicator's *last* value (or a series where the name says so) and
reads only the tail of the input it needs, so callers can pass a long history cheaply. They
raise ``ValueError`` naming the argument when the input is too short for the period; scoring
calls them only after checking it has enough bars.

Conventions: ``closes``/``highs``/``lows``/``volumes`` are sequences of the same length;
``period`` counts bars. Results are floats; ratios are plain fractions (0.05 = 5 %).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "atr",
    "bollinger_width",
    "bollinger_width_series",
    "donchian",
    "efficiency_ratio",
    "ema",
    "percentile_rank",
    "rate_of_change",
    "relative_volume",
    "rsi",
    "sma",
    "true_ranges",
    "wilder_average",
]


def _need(values: Sequence[float], count: int, name: str, what: str) -> None:
    if count < 1:
        raise ValueError(f"{what}: period must be >= 1 (got {count})")
    if len(values) < count:
        raise ValueError(f"{what} needs at least {count} {name} (got {len(values)})")


def sma(values: Sequence[float], period: int) -> float:
    """Simple moving average of the last ``period`` values."""
    _need(values, period, "values", f"sma({period})")
    return math.fsum(values[-period:]) / period


def ema(values: Sequence[float], period: int) -> float:
    """Exponential moving average, smoothing 2/(period+1), seeded with the SMA of the first ``period`` values.

    All of ``values`` is used (an EMA has a long memory): pass a tail of 3-5 x period for speed.
    """
    _need(values, period, "values", f"ema({period})")
    alpha = 2.0 / (period + 1)
    value = sum(values[:period]) / period
    for x in values[period:]:
        value += alpha * (x - value)
    return value


def rsi(closes: Sequence[float], period: int = 14) -> float:
    """Wilder's Relative Strength Index (0..100) of the last close.

    Seeded with the simple average gain/loss of the first ``period`` changes and smoothed with
    Wilder's 1/period over the rest; pass a tail of ~5 x period. A series with no losses is 100,
    with no gains 0, and a flat one 50.
    """
    _need(closes, period + 1, "closes", f"rsi({period})")
    gain = loss = 0.0
    prev = closes[0]
    for i in range(1, period + 1):
        c = closes[i]
        d = c - prev
        prev = c
        if d > 0:
            gain += d
        else:
            loss -= d
    gain /= period
    loss /= period
    keep = (period - 1) / period
    for i in range(period + 1, len(closes)):
        c = closes[i]
        d = c - prev
        prev = c
        if d > 0:
            gain = gain * keep + d / period
            loss = loss * keep
        else:
            gain = gain * keep
            loss = loss * keep - d / period
    if loss == 0.0:
        return 50.0 if gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def true_ranges(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float]) -> list[float]:
    """True range of each bar after the first: max(high, prev close) - min(low, prev close)."""
    if not len(highs) == len(lows) == len(closes):
        raise ValueError(
            f"true_ranges: highs, lows and closes differ in length ({len(highs)}, {len(lows)}, {len(closes)})"
        )
    # zip stops at the shorter input, so ``closes`` pairs each bar with the previous close.
    return [(h if h > p else p) - (lo if lo < p else p) for h, lo, p in zip(highs[1:], lows[1:], closes)]


def atr(highs: Sequence[float], lows: Sequence[float], closes: Sequence[float], period: int = 14) -> float:
    """Wilder's Average True Range (price units) of the last bar; pass a tail of ~5 x period."""
    _need(closes, period + 1, "bars", f"atr({period})")
    return wilder_average(true_ranges(highs, lows, closes), period)


def wilder_average(values: Sequence[float], period: int) -> float:
    """Wilder's smoothing (an EMA with alpha 1/period) seeded with the SMA of the first ``period`` values."""
    _need(values, period, "values", f"wilder_average({period})")
    value = sum(values[:period]) / period
    keep = (period - 1) / period
    for x in values[period:]:
        value = value * keep + x / period
    return value


def bollinger_width(closes: Sequence[float], period: int = 20, k: float = 2.0) -> float:
    """Bollinger band width of the last bar: (upper - lower) / middle = 2 k sigma / SMA (population sigma)."""
    _need(closes, period, "closes", f"bollinger_width({period})")
    window = closes[-period:]
    mean = sum(window) / period
    var = sum((x - mean) ** 2 for x in window) / period
    return 2.0 * k * math.sqrt(var) / mean if mean > 0 else 0.0


def bollinger_width_series(closes: Sequence[float], period: int = 20, k: float = 2.0) -> list[float]:
    """Bollinger band width of every bar from index ``period - 1`` on (rolling sums, O(n)).

    ``len(result) == len(closes) - period + 1``; the last item equals ``bollinger_width(closes)``
    up to rounding.
    """
    _need(closes, period, "closes", f"bollinger_width_series({period})")
    # Centre the data on its first value so the rolling variance does not lose precision.
    base = closes[0]
    s = s2 = 0.0
    for x in closes[:period]:
        d = x - base
        s += d
        s2 += d * d
    two_k = 2.0 * k
    inv = 1.0 / period
    sqrt = math.sqrt
    mean_d = s * inv
    var = s2 * inv - mean_d * mean_d
    out = [two_k * sqrt(var) / (base + mean_d) if var > 0 and base + mean_d > 0 else 0.0]
    append = out.append
    for new, old in zip(closes[period:], closes):
        new -= base
        old -= base
        s += new - old
        s2 += new * new - old * old
        mean_d = s * inv
        var = s2 * inv - mean_d * mean_d
        mean = base + mean_d
        append(two_k * sqrt(var) / mean if var > 0 and mean > 0 else 0.0)
    return out


def donchian(highs: Sequence[float], lows: Sequence[float], period: int) -> tuple[float, float]:
    """Donchian channel of the last ``period`` bars: (highest high, lowest low)."""
    _need(highs, period, "bars", f"donchian({period})")
    return max(highs[-period:]), min(lows[-period:])


def relative_volume(volumes: Sequence[float], recent: int = 5, baseline: int = 60) -> float | None:
    """Mean volume of the last ``recent`` bars over the median of the ``baseline`` bars before them.

    Uses as many baseline bars as exist (at least ``recent``). Returns None when the baseline
    median is 0 (an index or a provider without volume): relative volume is then unknown.
    """
    _need(volumes, 2 * recent, "volumes", f"relative_volume({recent})")
    base = sorted(volumes[-(recent + baseline) : -recent])
    m = len(base)
    median = base[m // 2] if m % 2 else (base[m // 2 - 1] + base[m // 2]) / 2
    if median <= 0:
        return None
    return sum(volumes[-recent:]) / recent / median


def rate_of_change(closes: Sequence[float], period: int) -> float:
    """Fractional change of the last close over ``period`` bars: c[-1] / c[-1-period] - 1."""
    _need(closes, period + 1, "closes", f"rate_of_change({period})")
    return closes[-1] / closes[-1 - period] - 1.0


def efficiency_ratio(closes: Sequence[float], period: int) -> float:
    """Kaufman's efficiency ratio, signed: net move over ``period`` bars / sum of absolute moves.

    +1 is a straight line up, -1 straight down, near 0 a choppy range; a random walk's typical
    magnitude is about 1/sqrt(period). A trend-strength measure that costs one pass.
    """
    _need(closes, period + 1, "closes", f"efficiency_ratio({period})")
    tail = closes[-period - 1 :]
    path = 0.0
    prev = tail[0]
    for c in tail[1:]:
        path += abs(c - prev)
        prev = c
    if path == 0.0:
        return 0.0
    return (tail[-1] - tail[0]) / path


def percentile_rank(values: Sequence[float], x: float) -> float:
    """Fraction (0..1) of ``values`` strictly below ``x`` plus half of those equal (mid-rank)."""
    if not values:
        raise ValueError("percentile_rank needs at least 1 value (got 0)")
    below = equal = 0
    for v in values:
        if v < x:
            below += 1
        elif v == x:
            equal += 1
    return (below + 0.5 * equal) / len(values)
