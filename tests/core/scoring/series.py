"""Constructed price histories for scoring tests (deterministic, seeded)."""

from __future__ import annotations

import datetime as dt
import math
import random

from messages.market import Bar, PriceHistory

START = dt.date(2024, 1, 1)


def history(closes: list[float], volumes: list[float] | None = None, *, wick: float = 0.004, ticker: str = "TEST") -> PriceHistory:
    """Bars that open at the previous close, with highs/lows ``wick`` beyond the body."""
    bars = []
    prev = closes[0]
    for i, c in enumerate(closes):
        o = prev
        v = 1_000_000.0 if volumes is None else volumes[i]
        bars.append(Bar(START + dt.timedelta(days=i), o, max(o, c) * (1 + wick), min(o, c) * (1 - wick), c, v))
        prev = c
    return PriceHistory(ticker, tuple(bars), bars[-1].date, "test")


def noise(seed: int, n: int, amp: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-amp, amp) for _ in range(n)]


def trend_then_breakout(*, sign: int = 1, squeeze: bool = True, seed: int = 1) -> PriceHistory:
    """200 bars trending (``sign``), 40 bars of range (tight when ``squeeze``), 5 bars breaking out on 2.5x volume."""
    nz = noise(seed, 200, 1.0)
    closes = []
    p = 100.0
    for i in range(200):
        p += sign * 0.15
        closes.append(p + nz[i])
    base = p
    nz2 = noise(seed + 1, 40, 0.3 if squeeze else 1.5)
    closes += [base + x for x in nz2]
    closes += [base + sign * (2.0 + i) for i in range(5)]
    return history(closes, [1e6] * 240 + [2.5e6] * 5)


def flat_range(seed: int = 3, n: int = 260) -> PriceHistory:
    """Closes scattered +-2 around 100 with no drift: a flat, noisy range."""
    return history([100 + x for x in noise(seed, n, 2.0)])


def random_walk(seed: int, n: int = 260, vol: float = 0.015) -> PriceHistory:
    """A geometric random walk with random wicks and log-normal volume."""
    rng = random.Random(seed)
    c = 100.0
    bars = []
    for i in range(n):
        o = c
        c = c * math.exp(rng.gauss(0.0, vol))
        h = max(o, c) * (1 + abs(rng.gauss(0, vol / 2)))
        lo = min(o, c) * (1 - abs(rng.gauss(0, vol / 2)))
        bars.append(Bar(START + dt.timedelta(days=i), o, h, lo, c, 1e6 * math.exp(rng.gauss(0, 0.3))))
    return PriceHistory(f"RW{seed}", tuple(bars), bars[-1].date, "test")
