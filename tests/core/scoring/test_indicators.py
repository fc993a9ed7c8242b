"""Indicator functions on small hand-checked series."""

from __future__ import annotations

import math
import random

import pytest

from actors.core.scoring import indicators as ind


class TestSma:
    def test_averages_the_last_period_values(self):
        """SMA reads only the tail it needs."""
        assert ind.sma([100.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3) == pytest.approx(9.0)

    def test_too_short_input_names_the_indicator(self):
        """Fewer values than the period is a ValueError saying how many were needed."""
        with pytest.raises(ValueError, match=r"sma\(5\) needs at least 5 values \(got 3\)"):
            ind.sma([1.0, 2.0, 3.0], 5)

    def test_period_below_one_is_rejected(self):
        """A zero period is an error, not a division by zero."""
        with pytest.raises(ValueError, match=r"period must be >= 1 \(got 0\)"):
            ind.sma([1.0], 0)


class TestEma:
    def test_seeded_with_sma_then_smoothed(self):
        """EMA(3) of 1..5: seed 2, alpha 0.5, then 3 and 4."""
        assert ind.ema([1.0, 2, 3, 4, 5], 3) == pytest.approx(4.0)

    def test_constant_series_is_constant(self):
        """The EMA of a constant is that constant."""
        assert ind.ema([7.5] * 30, 10) == pytest.approx(7.5)


class TestRsi:
    def test_wilder_smoothing_hand_computed(self):
        """RSI(2) of 10, 11, 10.5, 11.5: gain 0.75, loss 0.125, RS 6, RSI 85.71."""
        assert ind.rsi([10.0, 11.0, 10.5, 11.5], 2) == pytest.approx(100 - 100 / 7)

    def test_only_gains_is_100_only_losses_is_0_flat_is_50(self):
        """The limits of RSI are reached exactly."""
        up = [float(i) for i in range(1, 40)]
        assert ind.rsi(up) == 100.0
        assert ind.rsi(up[::-1]) == 0.0
        assert ind.rsi([5.0] * 40) == 50.0

    def test_alternating_equal_moves_is_50(self):
        """Equal gains and losses stay near 50 (tilted a little toward the last move)."""
        value = ind.rsi([10.0, 11.0] * 20)
        assert 50.0 < value < 55.0


class TestTrueRangeAndAtr:
    def test_true_range_includes_gaps_from_previous_close(self):
        """A gap up counts from the previous close, not from the bar's low."""
        tr = ind.true_ranges([10.0, 13.0], [9.0, 12.0], [10.0, 12.5])
        assert tr == [pytest.approx(3.0)]

    def test_atr_of_constant_ranges(self):
        """Bars of range 2 with no gaps have ATR 2."""
        highs, lows, closes = [11.0] * 30, [9.0] * 30, [10.0] * 30
        assert ind.atr(highs, lows, closes, 14) == pytest.approx(2.0)

    def test_mismatched_lengths_are_rejected(self):
        """Highs, lows and closes must line up."""
        with pytest.raises(ValueError, match=r"differ in length \(2, 1, 2\)"):
            ind.true_ranges([1.0, 2.0], [1.0], [1.0, 2.0])


class TestBollinger:
    def test_width_is_four_sigma_over_mean(self):
        """Width of 1..5 (period 5): 4 * sqrt(2) / 3."""
        assert ind.bollinger_width([1.0, 2, 3, 4, 5], 5) == pytest.approx(4 * math.sqrt(2) / 3)

    def test_rolling_series_matches_direct_computation(self):
        """Each item of the O(n) series equals the direct width of its window."""
        rng = random.Random(7)
        closes = [100 + rng.uniform(-5, 5) for _ in range(80)]
        series = ind.bollinger_width_series(closes, 20)
        assert len(series) == 61
        for i in (0, 17, 60):
            assert series[i] == pytest.approx(ind.bollinger_width(closes[: i + 20], 20), rel=1e-9)

    def test_flat_window_has_zero_width(self):
        """A constant window has no band width."""
        assert ind.bollinger_width_series([50.0] * 25, 20) == [0.0] * 6


class TestRangeVolumeMomentum:
    def test_donchian_reads_last_period(self):
        """Highest high and lowest low of the last 3 bars only."""
        assert ind.donchian([99.0, 5, 6, 7], [0.1, 4, 3, 5], 3) == (7.0, 3.0)

    def test_relative_volume_against_baseline_median(self):
        """Last 5 bars at 3M over a baseline whose median is 1M is 3.0."""
        volumes = [1e6] * 30 + [50e6] + [1e6] * 29 + [3e6] * 5
        assert ind.relative_volume(volumes, 5, 60) == pytest.approx(3.0)

    def test_relative_volume_unknown_without_volume(self):
        """Zero baseline volume (an index) gives None, not a division error."""
        assert ind.relative_volume([0.0] * 70) is None

    def test_rate_of_change(self):
        """110 over 100 two bars earlier is +10 %."""
        assert ind.rate_of_change([1.0, 100.0, 105.0, 110.0], 2) == pytest.approx(0.10)

    def test_efficiency_ratio_straight_lines_and_chop(self):
        """Straight up is +1, straight down -1, a zigzag back to start 0."""
        assert ind.efficiency_ratio([float(i) for i in range(30)], 20) == pytest.approx(1.0)
        assert ind.efficiency_ratio([float(-i) for i in range(30)], 20) == pytest.approx(-1.0)
        assert ind.efficiency_ratio([1.0, 2.0] * 15 + [1.0], 20) == pytest.approx(0.0)

    def test_percentile_rank_uses_mid_rank(self):
        """Two below and one equal out of four: (2 + 0.5) / 4."""
        assert ind.percentile_rank([1.0, 2.0, 3.0, 4.0], 3.0) == pytest.approx(0.625)
        with pytest.raises(ValueError, match="at least 1 value"):
            ind.percentile_rank([], 1.0)
