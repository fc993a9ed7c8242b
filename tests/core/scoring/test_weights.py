"""The component weights: one place, validated, summing to 1."""

from __future__ import annotations

import math

import pytest

from actors.core.scoring import DEFAULT_WEIGHTS, Weights


def test_default_weights_sum_to_one():
    """The documented defaults add up to exactly 1."""
    assert math.isclose(sum(w for _, w in DEFAULT_WEIGHTS.items()), 1.0)
    assert DEFAULT_WEIGHTS.total == pytest.approx(1.0)
    assert [name for name, _ in DEFAULT_WEIGHTS.items()] == [
        "trend",
        "momentum",
        "squeeze_breakout",
        "relative_volume",
        "atr_regime",
    ]


def test_weights_not_summing_to_one_are_rejected():
    """A set of weights that adds to 1.1 is refused with the sum and each part."""
    with pytest.raises(ValueError, match=r"weights must sum to 1 \(got 1\.1: trend=0\.35, momentum=0\.25"):
        Weights(trend=0.35)


def test_out_of_range_weight_names_the_field():
    """A negative weight is refused before the sum is checked, naming the weight."""
    with pytest.raises(ValueError, match=r"weight momentum must be between 0 and 1 \(got -0\.1\)"):
        Weights(momentum=-0.1, trend=0.6)
    with pytest.raises(ValueError, match=r"weight trend must be a finite number \(got nan\)"):
        Weights(trend=float("nan"))
