"""The bounds of a plausible market value, at their edges."""

from __future__ import annotations

import pytest

from actors.core.plausible import MAX_PRICE, MAX_VOLUME, MIN_PRICE, price_problem, volume_problem


@pytest.mark.parametrize("value", [MIN_PRICE, 0.03, 333.8, 700_000.0, MAX_PRICE - 0.01, 5])
def test_plausible_prices_pass(value):
    """From the 0.0001 minimum up to just below 10,000,000, floats and small ints alike."""
    assert price_problem(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (float("nan"), "expected a finite price, got nan"),
        (float("inf"), "expected a finite price, got inf"),
        (0.0, "expected a positive price, got 0.0"),
        (-1.0, "expected a positive price, got -1.0"),
        (5e-324, "price 5e-324 is below the plausible minimum 0.0001"),
        (MAX_PRICE, "price 10000000.0 is not below the plausible maximum 1e+07"),
        (1e308, "price 1e+308 is not below the plausible maximum 1e+07"),
        (10**400, "price an integer of about 401 digits is not below the plausible maximum 1e+07"),
        (-(10**5000), "expected a positive price, got a negative integer of about 5001 digits"),
    ],
    ids=["nan", "inf", "zero", "negative", "subnormal", "max", "1e308", "int_400_digits", "int_-5000_digits"],
)
def test_implausible_prices_say_why(value, why):
    """Each refusal says why, and a huge int is described, never converted (float() would overflow)."""
    assert price_problem(value) == why


@pytest.mark.parametrize("value", [0, 0.0, 2.5, 44_306_035_200.0, MAX_VOLUME - 1])
def test_plausible_volumes_pass(value):
    """Zero, fractional (split-adjusted) and tens of billions of shares are all real volumes."""
    assert volume_problem(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (-1.0, "expected a finite volume >= 0, got -1.0"),
        (float("nan"), "expected a finite volume >= 0, got nan"),
        (MAX_VOLUME, "volume 10000000000000.0 is not below the plausible maximum 1e+13"),
        (10**400, "expected a finite volume >= 0 below 1e+13, got an integer of about 401 digits"),
    ],
    ids=["negative", "nan", "max", "int_400_digits"],
)
def test_implausible_volumes_say_why(value, why):
    """Each refusal says why."""
    assert volume_problem(value) == why
