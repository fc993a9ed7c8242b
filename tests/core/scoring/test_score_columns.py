"""score_columns: the same score as score_history for the same numbers, and the same errors."""

import attrs
import pytest
import trio

from actors.providers.sim import SimProvider
from actors.core.scoring.errors import InsufficientHistory, UnusableHistory
from actors.core.scoring.technical import score_columns, score_history
from messages.market import PriceColumns


def _columns(history) -> PriceColumns:
    bars = history.bars
    return PriceColumns(
        ticker=history.ticker, dates=tuple(b.date for b in bars), opens=tuple(b.open for b in bars),
        highs=tuple(b.high for b in bars), lows=tuple(b.low for b in bars), closes=tuple(b.close for b in bars),
        volumes=tuple(b.volume for b in bars), as_of=history.as_of, source=history.source,
    )


def _histories(count=200, **options):
    provider = SimProvider(size=count, seed=13, **options)

    async def all_histories():
        return [await provider.history(t) for t in provider.default_universe()]

    return trio.run(all_histories)


def test_columns_score_exactly_like_bars():
    """Two hundred sim tickers: equal TickerScored (score, direction, components, details)."""
    for history in _histories():
        assert score_columns(_columns(history)) == score_history(history)


def test_columns_to_history_round_trips():
    history = _histories(3)[0]
    assert _columns(history).to_history() == history


def test_short_columns_are_insufficient():
    history = _histories(3, history_days=40)[0]
    with pytest.raises(InsufficientHistory):
        score_columns(_columns(history))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("closes", -1.0, "close: expected a positive price, got -1.0"),
    ("lows", float("nan"), "low: expected a finite price, got nan"),
    ("highs", 1e308, "high: price 1e\\+308 is not below the plausible maximum"),
    ("volumes", -5.0, "volume: expected a finite volume >= 0"),
])
def test_bad_numbers_in_the_tail_raise_what_score_history_raises(field, value, message):
    columns = _columns(_histories(3)[0])
    broken = attrs.evolve(columns, **{field: getattr(columns, field)[:-1] + (value,)})
    with pytest.raises(UnusableHistory, match=message) as from_columns:
        score_columns(broken)
    with pytest.raises(UnusableHistory) as from_bars:
        score_history(broken.to_history())
    assert str(from_columns.value) == str(from_bars.value)
