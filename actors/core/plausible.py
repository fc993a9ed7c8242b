"""The bounds of a plausible market value: what the parsers accept and scoring re-checks.

A value outside these bounds is not an extreme market, it is a broken document (a close of
``1e308``, a 400-digit volume, a bar dated 9999-12-30). The parsers refuse it at the boundary
(:mod:`actors.providers.parsers`); scoring and option selection check again, because a provider
that does not parse (``sim``) or a caller in a test hands them values directly.

The bounds are generous on purpose: the dearest US share has traded near $700,000, split-adjusted
histories reach $0.03 and tens of billions of shares a day, and option IVs of 800 % occur on the
last day of a contract.
"""

from __future__ import annotations

import datetime as dt
import math

__all__ = [
    "EARLIEST_DATE",
    "FUTURE_SLACK",
    "MAX_CONTRACTS",
    "MAX_EXPIRY_YEARS",
    "MAX_GREEK",
    "MAX_INT_DIGITS",
    "MAX_IV",
    "MAX_PRICE",
    "MAX_VOLUME",
    "MIN_PRICE",
    "price_problem",
    "volume_problem",
]

#: Prices (bars, strikes, spot, bid/ask) lie in ``[MIN_PRICE, MAX_PRICE)``; a bid may be 0.
MIN_PRICE = 1e-4
MAX_PRICE = 1e7
#: Share volume of one bar: ``0 <= volume < MAX_VOLUME`` (fractional when split-adjusted).
MAX_VOLUME = 1e13
#: Contract volume and open interest: whole numbers in ``0 <= n < MAX_CONTRACTS``.
MAX_CONTRACTS = 1e9
#: Implied volatility as a fraction: ``0 < iv <= MAX_IV`` (50 = 5,000 %).
MAX_IV = 50.0
#: |gamma|, |theta| and |vega| of a contract stay below this (price units).
MAX_GREEK = 1e7
#: An integer literal with more digits than this is refused before ``int()`` sees it.
MAX_INT_DIGITS = 20
#: No market data is dated before this day.
EARLIEST_DATE = dt.date(1970, 1, 1)
#: An observation (bar, quote, headline) may be dated at most this far after today (time zones).
FUTURE_SLACK = dt.timedelta(days=2)
#: An option expiry lies at most this many years after its chain's as-of date.
MAX_EXPIRY_YEARS = 10


def _big(value: int) -> str:
    """A large int, shown without converting it (``str()`` of 5,000 digits raises, ``float()`` overflows)."""
    if abs(value) < 10**15:
        return str(value)
    digits = int(abs(value).bit_length() * math.log10(2)) + 1
    return f"{'a negative' if value < 0 else 'an'} integer of about {digits} digits"


def price_problem(value: float) -> str | None:
    """Why ``value`` is not a plausible price, or None when it is."""
    if isinstance(value, int) and not 0 < value < MAX_PRICE:  # before float() could overflow
        if value <= 0:
            return f"expected a positive price, got {_big(value)}"
        return f"price {_big(value)} is not below the plausible maximum {MAX_PRICE:g}"
    if not math.isfinite(value):
        return f"expected a finite price, got {value!r}"
    if value <= 0:
        return f"expected a positive price, got {value!r}"
    if value < MIN_PRICE:
        return f"price {value!r} is below the plausible minimum {MIN_PRICE:g}"
    if value >= MAX_PRICE:
        return f"price {value!r} is not below the plausible maximum {MAX_PRICE:g}"
    return None


def volume_problem(value: float) -> str | None:
    """Why ``value`` is not a plausible share volume, or None when it is."""
    if isinstance(value, int) and not -1 < value < MAX_VOLUME:  # before float() could overflow
        return f"expected a finite volume >= 0 below {MAX_VOLUME:g}, got {_big(value)}"
    if not (math.isfinite(value) and value >= 0):
        return f"expected a finite volume >= 0, got {value!r}"
    if value >= MAX_VOLUME:
        return f"volume {value!r} is not below the plausible maximum {MAX_VOLUME:g}"
    return None
