"""Hostile values handed straight to scoring, catalysts and option selection (no parser in front).

``sim`` and callers in tests build messages without a parser, so the pure logic checks again:
whatever floats a bar, quote or earnings date holds — inf, NaN, 1e308, subnormals, negatives,
Python ints too large for a float, dates from year 1 to 9999 — scoring gives a finite score or
``UnusableHistory`` naming the ticker, catalysts give a finite score in 0..100, and option
selection gives a ``Selection`` whose pick (if any) holds finite numbers. Never an
``OverflowError``, ``ZeroDivisionError``, NaN or any other exception.
"""

from __future__ import annotations

import datetime as dt
import math

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.core.options import select_contract
from actors.core.scoring.catalysts import apply_catalysts
from actors.core.scoring.errors import UnusableHistory
from actors.core.scoring.technical import MIN_BARS, score_history
from messages.market import EarningsEvent, OptionChain, OptionQuote, OptionType
from messages.scan import Direction, TickerScored
from tests.core.scoring.series import random_walk

_EXAMPLES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, 1e-300, 0.0, -0.0, -1.0, 1e-5, 9.99e6, 1e7, 1e13, 10**400, -(10**30)]),
)
FIELDS = ("open", "high", "low", "close", "volume")


def _finite(value: float | None) -> bool:
    return value is None or math.isfinite(value)


@_EXAMPLES
@given(st.data())
def test_scoring_gives_a_finite_score_or_unusable_history(data):
    """Hostile values in any bars of a history: a score in 0..100 with finite components, or UnusableHistory."""
    base = random_walk(data.draw(st.integers(0, 50), label="seed"), n=data.draw(st.integers(MIN_BARS, 90), label="n"))
    bars = list(base.bars)
    for _ in range(data.draw(st.integers(1, 6), label="changes")):
        i = data.draw(st.integers(0, len(bars) - 1), label="bar")
        field = data.draw(st.sampled_from(FIELDS), label="field")
        bars[i] = attrs.evolve(bars[i], **{field: data.draw(HOSTILE_FLOATS, label="value")})
    history = attrs.evolve(base, bars=tuple(bars))
    try:
        scored = score_history(history)
    except UnusableHistory as exc:
        assert str(exc).startswith(f"{history.ticker}: ")
        return
    assert 0.0 <= scored.score <= 100.0
    assert all(math.isfinite(c.value) and 0.0 <= c.value <= 1.0 for c in scored.components)
    assert math.isfinite(scored.last_close)


@_EXAMPLES
@given(
    st.lists(st.dates(), max_size=4),
    st.dates(),
    st.integers(1, 3650),
    st.floats(0, 100),
    st.sampled_from(list(Direction)),
)
def test_catalysts_give_a_finite_score_for_any_dates(dates, as_of, horizon, score, direction):
    """Earnings dates and as-of anywhere in year 1..9999: a final score in 0..100 and flags."""
    scored = TickerScored(ticker="T", score=score, direction=direction, components=(), last_close=10.0, as_of=as_of)
    events = tuple(EarningsEvent(ticker="T", date=d) for d in dates)
    final, flags = apply_catalysts(scored, earnings=events, headlines=(), as_of=as_of, horizon_days=horizon)
    assert 0.0 <= final <= 100.0 and flags


QUOTE_FIELDS = ("strike", "bid", "ask", "last", "volume", "open_interest", "iv", "delta", "gamma", "theta", "vega")


@st.composite
def _quotes(draw: st.DrawFn) -> OptionQuote:
    """A liquid 30-60 DTE quote that passes every filter, with zero to three fields made hostile."""
    bid = draw(st.floats(0.05, 50))
    quote = OptionQuote(
        contract="T",
        ticker="T",
        type=draw(st.sampled_from(list(OptionType))),
        strike=draw(st.floats(1, 500)),
        expiry=draw(st.dates(dt.date(2026, 8, 23), dt.date(2026, 9, 22))),
        bid=bid,
        ask=bid * (1 + draw(st.floats(0, 0.1))),
        last=None,
        volume=draw(st.floats(1, 1e5)),
        open_interest=draw(st.floats(100, 1e6)),
        iv=draw(st.one_of(st.none(), st.floats(0.05, 3))),
        delta=draw(st.one_of(st.none(), st.floats(-0.5, 0.5))),
    )
    changes = {}
    for _ in range(draw(st.integers(0, 3))):
        changes[draw(st.sampled_from(QUOTE_FIELDS))] = draw(HOSTILE_FLOATS)
    if draw(st.booleans()):
        changes["expiry"] = draw(st.dates())
    return attrs.evolve(quote, **changes)


@_EXAMPLES
@given(
    st.lists(_quotes(), min_size=1, max_size=8),
    st.one_of(HOSTILE_FLOATS, st.floats(1, 500)),
    st.sampled_from(list(Direction)),
    st.one_of(st.just(dt.date(2026, 7, 24)), st.dates()),
)
def test_option_selection_gives_a_selection_with_finite_numbers(quotes, spot, direction, as_of):
    """Any quote values and as-of: a Selection; a pick has a finite delta in the bounds and finite prices."""
    chain = OptionChain(
        ticker="T", as_of=dt.datetime(2026, 7, 24, tzinfo=dt.timezone.utc), underlying_price=spot,
        quotes=tuple(quotes), source="test",
    )
    selection = select_contract(chain, direction, as_of=as_of)
    pick = selection.pick
    assert (pick is None) == (selection.reason is not None)
    if pick is not None:
        assert 0.25 <= abs(pick.delta) <= 0.5
        for value in (pick.strike, pick.bid, pick.ask, pick.mid, pick.open_interest, pick.volume):
            assert math.isfinite(value)
        assert all(_finite(v) for v in (pick.iv, pick.gamma, pick.theta, pick.vega))
