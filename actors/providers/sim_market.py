"""Pure generators of a deterministic synthetic market (used by :mod:`actors.providers.sim`).

Everything is a function of ``(seed, ticker)``: each piece draws from its own
``random.Random(zlib.crc32(f"{seed}:{ticker}:{piece}"))`` so asking for a chain never changes
the history and the result never depends on call order or ``PYTHONHASHSEED``.

Prices follow a chain of regimes: trends up or down, ranges (an oscillating drift), and
volatility squeezes (shrinking range, quiet volume) that end in a breakout or breakdown on a
volume spike, then a follow-through trend. Each ticker has a temperament (bull, bear, neutral)
that tilts which regimes it gets, so a universe holds clear up-trends and down-trends.

Speed: ``history()`` for thousands of tickers must stay cheap in pure Python, so the per-bar
loop does a handful of float operations plus the ``Bar`` itself. Normal draws come from a table
generated once per seed; each ticker reads strided windows of it at its own random offsets.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zlib
from itertools import accumulate
from operator import mul

from actors.core.pricing import bs_greeks
from messages.market import Bar, EarningsEvent, Headline, OptionQuote, OptionType

__all__ = [
    "business_days",
    "generate_bars",
    "generate_columns",
    "generate_earnings",
    "generate_headlines",
    "generate_quotes",
    "normal_table",
    "rng_for",
]

RATE = 0.04
_TABLE_SIZE = 1 << 16
_STRIDES = (1, 3, 5, 7, 11, 13)


def rng_for(seed: int, ticker: str, piece: str) -> random.Random:
    """The random stream of one piece of one ticker (crc32, never Python's salted ``hash``)."""
    return random.Random(zlib.crc32(f"{seed}:{ticker}:{piece}".encode()))


def normal_table(seed: int, longest: int) -> list[float]:
    """Normal draws for strided windows of ``longest`` draws at any offset below 2**16.

    The first half holds standard normal draws, the second half ``0.5 * |z|`` of other draws.
    """
    rng = random.Random(zlib.crc32(f"{seed}:normals".encode()))
    gauss = rng.gauss
    span = _TABLE_SIZE + longest * _STRIDES[-1] + 1
    signed = [gauss(0.0, 1.0) for _ in range(_TABLE_SIZE)]
    wicks = [0.5 * abs(gauss(0.0, 1.0)) for _ in range(_TABLE_SIZE)]
    signed = (signed * (span // _TABLE_SIZE + 1))[:span]
    wicks = (wicks * (span // _TABLE_SIZE + 1))[:span]
    return signed + wicks


def business_days(end: dt.date, count: int) -> tuple[dt.date, ...]:
    """The ``count`` weekdays ending on the last weekday <= ``end``, oldest first (no holidays)."""
    day = end
    days: list[dt.date] = []
    one = dt.timedelta(days=1)
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= one
    days.reverse()
    return tuple(days)


def _plan(rng: random.Random, n: int, size: float) -> tuple[list[float], list[float], list[float]]:
    """Per-day drift, volatility and typical volume (``size`` times the regime's multiplier)."""
    base = rng.uniform(0.010, 0.028)
    temper = rng.random()
    if temper < 0.4:  # bull
        weights, p_up, bias = (0.40, 0.10, 0.20, 0.30), 0.75, 0.0008
    elif temper < 0.7:  # bear
        weights, p_up, bias = (0.10, 0.40, 0.20, 0.30), 0.25, -0.0008
    else:
        weights, p_up, bias = (0.22, 0.22, 0.31, 0.25), 0.5, 0.0
    drift: list[float] = []
    sigma: list[float] = []
    volume: list[float] = []
    kinds = ("up", "down", "range", "squeeze")
    while len(drift) < n:
        kind = rng.choices(kinds, weights)[0]
        if kind in ("up", "down"):
            length = rng.randint(25, 70)
            mu = rng.uniform(0.0012, 0.004) * (1 if kind == "up" else -1)
            drift += [mu + bias] * length
            sigma += [base * rng.uniform(0.8, 1.1)] * length
            volume += [size * rng.uniform(0.9, 1.2)] * length
        elif kind == "range":
            length = rng.randint(20, 60)
            period = rng.randint(8, 20)
            amp = base * rng.uniform(0.3, 0.7)
            phase = rng.random() * 2 * math.pi
            drift += [amp * math.sin(phase + 2 * math.pi * i / period) for i in range(length)]
            sigma += [base * 0.8] * length
            volume += [size * 0.85] * length
        else:
            quiet = rng.randint(10, 25)
            drift += [bias / 2] * quiet
            sigma += [base * (0.9 - 0.55 * i / quiet) for i in range(quiet)]
            volume += [size * 0.6] * quiet
            direction = 1 if rng.random() < p_up else -1
            burst = rng.randint(4, 8)
            drift += [direction * base * rng.uniform(0.9, 1.6)] * burst
            sigma += [base * 1.4] * burst
            spike = size * rng.uniform(2.5, 4.0)
            volume += [spike, spike * 0.8] + [size * 1.6] * (burst - 2)
            follow = rng.randint(15, 40)
            drift += [direction * rng.uniform(0.001, 0.003) + bias] * follow
            sigma += [base] * follow
            volume += [size * 1.2] * follow
    return drift[-n:], sigma[-n:], volume[-n:]


def generate_bars(
    seed: int, ticker: str, dates: tuple[dt.date, ...], table: list[float]
) -> tuple[Bar, ...]:
    """Daily bars on ``dates`` for one ticker: positive prices, high >= max(open, close) >= low.

    ``table`` comes from :func:`normal_table`: its first half holds signed draws, its second
    half half-absolute ones (``0.5 * |z|``) for the high/low wicks.
    """
    opens, highs, lows, closes, volumes = generate_columns(seed, ticker, len(dates), table)
    return tuple(map(Bar, dates, opens, highs, lows, closes, volumes))


def generate_columns(
    seed: int, ticker: str, n: int, table: list[float]
) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    """The numbers of :func:`generate_bars` as columns (opens, highs, lows, closes, volumes), no ``Bar``s."""
    rng = rng_for(seed, ticker, "history")
    base_volume = math.exp(rng.uniform(math.log(2e5), math.log(6e7)))
    drift, sigma, volume = _plan(rng, n, base_volume)
    windows = []
    half = len(table) // 2
    for base in (0, 0, half, half):
        offset = base + rng.randrange(_TABLE_SIZE)
        stride = rng.choice(_STRIDES)
        windows.append(table[offset : offset + n * stride : stride])
    za, zb, zc, zd = windows
    start = math.exp(rng.uniform(math.log(8.0), math.log(400.0)))
    # Comprehensions and accumulate instead of one loop with appends: ~2x faster in CPython.
    path = list(accumulate([1.0 + mu + s * a for mu, s, a in zip(drift, sigma, za)], mul, initial=start))
    closes = path[1:]
    opens = [p * (1.0 + 0.3 * s * b) for p, s, b in zip(path, sigma, zb)]
    highs = [(o if o > c else c) * (1.0 + s * hc) for o, c, s, hc in zip(opens, closes, sigma, zc)]
    lows = [(c if o > c else o) * (1.0 - s * lc) for o, c, s, lc in zip(opens, closes, sigma, zd)]
    volumes = [v * (0.6 + hc + lc) for v, hc, lc in zip(volume, zc, zd)]  # wide days trade more
    return opens, highs, lows, closes, volumes


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def _expiries(rng: random.Random, as_of: dt.date) -> list[dt.date]:
    """4-6 expiries: one or two weeklies, then monthly third Fridays out to ~120 days."""
    friday = as_of + dt.timedelta(days=(4 - as_of.weekday()) % 7 or 7)
    weeklies = [friday + dt.timedelta(days=7 * k) for k in range(rng.randint(1, 2))]
    monthlies = []
    year, month = as_of.year, as_of.month
    for _ in range(6):
        candidate = _third_friday(year, month)
        if weeklies[-1] < candidate and (candidate - as_of).days <= 125:
            monthlies.append(candidate)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    expiries = weeklies + monthlies
    while len(expiries) < 4:
        expiries.append(max(expiries) + dt.timedelta(days=7))
    return sorted(expiries)[: rng.randint(4, 6)]


def _strike_step(spot: float) -> float:
    for limit, step in ((20, 0.5), (50, 1.0), (100, 2.5), (250, 5.0), (600, 10.0)):
        if spot < limit:
            return step
    return 25.0


def realized_vol(bars: tuple[Bar, ...], days: int = 30) -> float:
    """Annualized standard deviation of the last ``days`` daily log returns."""
    closes = [bar.close for bar in bars[-(days + 1) :]]
    returns = [math.log(b / a) for a, b in zip(closes, closes[1:])]
    if len(returns) < 2:
        return 0.3
    mean = sum(returns) / len(returns)
    return math.sqrt(sum((x - mean) ** 2 for x in returns) / (len(returns) - 1) * 252)


def generate_quotes(
    seed: int, ticker: str, spot: float, rv: float, as_of: dt.date
) -> tuple[OptionQuote, ...]:
    """A chain around ``spot``: IV skew, BS Greeks, spreads widening away from the money, thin strikes."""
    rng = rng_for(seed, ticker, "chain")
    base_iv = min(1.5, max(0.12, rv * rng.uniform(1.0, 1.3) + 0.03))
    skew = rng.uniform(0.4, 1.2)
    smile = rng.uniform(0.5, 2.0)
    # Open-interest scale: most optionable names are liquid near the money, a tail is thin.
    liquidity = math.exp(rng.uniform(math.log(60.0), math.log(30000.0)))
    spread_pct = rng.uniform(0.008, 0.035) * (1.0 if liquidity > 300 else 2.5)
    step = _strike_step(spot)
    while 0.6 * spot / step > 30:
        step *= 2
    low, high = math.ceil(spot * 0.7 / step), math.floor(spot * 1.3 / step)
    strikes = [round(k * step, 2) for k in range(max(low, 1), high + 1)]
    quotes: list[OptionQuote] = []
    for expiry in _expiries(rng, as_of):
        dte = (expiry - as_of).days
        t = dte / 365.0
        term = 1.0 + rng.uniform(-0.08, 0.08) + 0.15 * 7 / (dte + 7)
        for strike in strikes:
            m = math.log(strike / spot)
            iv = max(0.05, base_iv * term * (1.0 - skew * m + smile * m * m))
            near = math.exp(-((m / (0.1 + 0.02 * math.sqrt(dte))) ** 2))
            for kind in (OptionType.CALL, OptionType.PUT):
                g = bs_greeks(kind, spot, strike, t, RATE, iv)
                thin = rng.random() < 0.15
                oi = float(rng.randint(0, 10)) if thin else float(int(liquidity * near * rng.uniform(0.3, 1.7) / (1 + dte / 60)))
                volume = float(int(oi * rng.uniform(0.0, 0.3)))
                half = max(0.01, g.price * spread_pct * (1.0 + 4.0 * abs(m)) * (3.0 if thin else 1.0))
                bid = max(0.0, round(g.price - half, 2))
                ask = max(round(g.price + half, 2), bid + 0.01)
                quotes.append(
                    OptionQuote(
                        contract=f"{ticker}{expiry:%y%m%d}{'C' if kind is OptionType.CALL else 'P'}{round(strike * 1000):08d}",
                        ticker=ticker,
                        type=kind,
                        strike=strike,
                        expiry=expiry,
                        bid=bid,
                        ask=round(ask, 2),
                        last=round((bid + ask) / 2, 2) if volume > 0 else None,
                        volume=volume,
                        open_interest=oi,
                        iv=round(iv, 4),
                        delta=g.delta,
                        gamma=g.gamma,
                        theta=g.theta,
                        vega=g.vega,
                    )
                )
    return tuple(quotes)


def generate_earnings(seed: int, ticker: str, as_of: dt.date) -> tuple[EarningsEvent, ...] | None:
    """Quarterly dates around the next report: a third within 60 days, a third 61-88 days out, a third unknown (None)."""
    rng = rng_for(seed, ticker, "earnings")
    draw = rng.random()
    if draw >= 2 / 3:
        return None
    # "Later" stays under one quarter so the previous report is already in the past.
    ahead = rng.randint(1, 60) if draw < 1 / 3 else rng.randint(61, 88)
    time = rng.choice(("before_open", "after_close"))
    events = []
    for quarter in range(-4, 5):
        day = as_of + dt.timedelta(days=ahead + 91 * quarter)
        if day.weekday() >= 5:  # weekends move to Monday
            day += dt.timedelta(days=7 - day.weekday())
        events.append(EarningsEvent(ticker=ticker, date=day, time=time))
    return tuple(events)


_UP = (
    "{t} climbs as buyers return after a quiet stretch",
    "Analyst lifts {t} price target, citing steady demand",
    "{t} draws heavy call volume as shares push higher",
    "{t} extends gains; traders eye the next resistance level",
)
_DOWN = (
    "{t} slides as investors rotate out of the sector",
    "{t} cut to neutral at a mid-size broker on margin worries",
    "Put buying picks up in {t} as shares weaken",
    "{t} falls for a third session; support levels in focus",
)
_FLAT = (
    "{t} trades in a tight range ahead of its next report",
    "What options traders are pricing in for {t}",
)


def generate_headlines(seed: int, ticker: str, close_at: dt.datetime, recent_return: float) -> tuple[Headline, ...]:
    """1-4 distinct headlines from the last five days whose tone follows ``recent_return``."""
    rng = rng_for(seed, ticker, "news")
    pool = _UP if recent_return > 0.03 else _DOWN if recent_return < -0.03 else _FLAT
    if pool is not _FLAT:
        pool = pool + _FLAT
    titles = rng.sample(pool, rng.randint(1, min(4, len(pool))))
    headlines = []
    for i, title in enumerate(titles):
        published = close_at - dt.timedelta(minutes=rng.randint(0, 5 * 24 * 60))
        headlines.append(
            Headline(
                ticker=ticker,
                title=title.format(t=ticker),
                published_at=published,
                publisher="Sim Newswire (synthetic)",
                url=f"https://sim.invalid/news/{ticker.lower()}/{i}",
            )
        )
    headlines.sort(key=lambda h: h.published_at, reverse=True)
    return tuple(headlines)
