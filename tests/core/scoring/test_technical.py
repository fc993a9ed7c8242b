"""Technical score and direction on constructed series."""

from __future__ import annotations

import collections
import time

import attrs
import pytest

from actors.core.scoring import DEFAULT_WEIGHTS, InsufficientHistory, UnusableHistory, Weights, score_history
from actors.core.scoring.technical import MIN_BARS, TAIL_BARS
from messages.scan import Direction

from .series import flat_range, history, random_walk, trend_then_breakout


def test_uptrend_breakout_is_bullish_with_high_score():
    """A trend, a tight range, then a break up on heavy volume is a strong bullish setup."""
    scored = score_history(trend_then_breakout(sign=1))
    assert scored.direction is Direction.BULLISH
    assert scored.score >= 75


def test_breakdown_is_bearish_with_high_score():
    """The mirror image, a break down, is a strong *bearish* setup: high score, not low."""
    scored = score_history(trend_then_breakout(sign=-1))
    assert scored.direction is Direction.BEARISH
    assert scored.score >= 75


def test_flat_noisy_range_is_neutral_with_low_score():
    """Closes scattered around a constant level call no direction and score low."""
    scored = score_history(flat_range(seed=3))
    assert scored.direction is Direction.NEUTRAL
    assert scored.score < 25


def test_flat_ranges_are_mostly_neutral_and_all_weak():
    """Across 50 seeds of flat noise, at least 80 % are neutral and none scores as a strong setup."""
    results = [score_history(flat_range(seed=s)) for s in range(50)]
    neutral = sum(r.direction is Direction.NEUTRAL for r in results)
    assert neutral >= 40
    assert max(r.score for r in results) < 45


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("seed", [1, 5, 9])
def test_squeeze_then_breakout_beats_same_breakout_without_squeeze(sign, seed):
    """A break out of a tight range scores above the same break out of a loose one."""
    tight = score_history(trend_then_breakout(sign=sign, squeeze=True, seed=seed))
    loose = score_history(trend_then_breakout(sign=sign, squeeze=False, seed=seed))
    assert tight.direction is loose.direction
    assert tight.score > loose.score
    by_name = {c.name: c.value for c in tight.components}
    loose_by_name = {c.name: c.value for c in loose.components}
    assert by_name["squeeze_breakout"] > loose_by_name["squeeze_breakout"]


def test_random_walk_universe_is_at_most_40_percent_neutral():
    """Direction is a vote, not an all-averages-stacked rule: most random walks get a direction."""
    results = [score_history(random_walk(seed)) for seed in range(200)]
    counts = collections.Counter(r.direction for r in results)
    assert counts[Direction.NEUTRAL] <= 80, counts
    assert counts[Direction.BULLISH] >= 40 and counts[Direction.BEARISH] >= 40, counts


def test_scores_stay_within_0_and_100_on_extreme_series():
    """Straight lines, constant prices, spikes and random walks all score within 0..100."""
    series = [
        history([100.0 + i for i in range(200)]),
        history([300.0 - i for i in range(200)]),
        history([50.0] * 100),
        history([50.0] * 99 + [500.0], [1e6] * 99 + [1e9]),
        history([50.0] * 99 + [5.0], [0.0] * 100),
        *(random_walk(seed, vol=0.05) for seed in range(30)),
    ]
    for h in series:
        scored = score_history(h)
        assert 0.0 <= scored.score <= 100.0
        assert all(0.0 <= c.value <= 1.0 for c in scored.components)


def test_components_explain_the_score():
    """The score is 100 x the weighted sum of the reported components, in the weights' order."""
    scored = score_history(random_walk(11))
    assert [c.name for c in scored.components] == [name for name, _ in DEFAULT_WEIGHTS.items()]
    assert [c.weight for c in scored.components] == [w for _, w in DEFAULT_WEIGHTS.items()]
    assert scored.score == pytest.approx(100 * sum(c.weight * c.value for c in scored.components), abs=0.01)
    assert all(c.detail for c in scored.components)


def test_custom_weights_are_used():
    """All weight on relative volume makes the score that component alone."""
    only_volume = Weights(trend=0, momentum=0, squeeze_breakout=0, relative_volume=1.0, atr_regime=0)
    scored = score_history(trend_then_breakout(), weights=only_volume)
    assert scored.score == pytest.approx(100.0)  # 2.5x the baseline volume saturates the component
    quiet = score_history(flat_range(), weights=only_volume)
    assert quiet.score == 0.0


def test_reports_ticker_last_close_and_as_of():
    """The scored message carries the history's identity, not the wall clock."""
    h = trend_then_breakout()
    scored = score_history(h)
    assert (scored.ticker, scored.last_close, scored.as_of) == (h.ticker, h.bars[-1].close, h.as_of)


def test_fewer_than_min_bars_raises_insufficient_history():
    """59 bars is too few, with a message naming the ticker and the counts; 60 is enough."""
    short = random_walk(1, n=MIN_BARS - 1)
    with pytest.raises(InsufficientHistory, match=r"RW1: insufficient history: 59 bars, scoring needs at least 60"):
        score_history(short)
    assert isinstance(InsufficientHistory("X", got=1, needed=2), ValueError)
    score_history(random_walk(1, n=MIN_BARS))


def test_non_positive_price_raises_unusable_history_naming_the_bar():
    """A zero close in the tail is reported with its date, not as a ZeroDivisionError."""
    h = random_walk(2)
    bad = attrs.evolve(h.bars[-30], close=0.0)
    broken = attrs.evolve(h, bars=(*h.bars[:-30], bad, *h.bars[-29:]))
    with pytest.raises(UnusableHistory, match=rf"RW2: bar {bad.date} close: expected a positive price, got 0\.0"):
        score_history(broken)


def test_only_the_tail_of_a_long_history_is_read():
    """A decades-long history scores exactly like its last TAIL_BARS bars, and quickly."""
    long = random_walk(3, n=6000)
    tail = attrs.evolve(long, bars=long.bars[-TAIL_BARS:])
    assert score_history(long) == score_history(tail)
    started = time.perf_counter()
    for _ in range(200):
        score_history(long)
    assert time.perf_counter() - started < 1.0  # about 0.03 s on the dev box; 5,000 tickers ~0.7 s
