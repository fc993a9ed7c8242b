"""Black-Scholes prices and Greeks in pure Python (no numpy): used when a chain has no Greeks.

Conventions: ``t`` in years (DTE / 365), ``sigma`` and ``r`` as decimals, theta per calendar
day, vega per 1 volatility point (0.01).
"""

from __future__ import annotations

import math

from attrs import frozen

from messages.market import OptionType

__all__ = ["Greeks", "bs_greeks", "bs_price", "implied_volatility", "norm_cdf", "norm_pdf"]


@frozen
class Greeks:
    price: float
    delta: float
    gamma: float
    theta: float
    vega: float


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _d1_d2(spot: float, strike: float, t: float, r: float, sigma: float) -> tuple[float, float]:
    if not all(math.isfinite(x) for x in (spot, strike, t, r, sigma)):
        raise ValueError(f"Black-Scholes needs finite inputs (got {spot}, {strike}, {t}, {r}, {sigma})")
    if spot <= 0 or strike <= 0 or t <= 0 or sigma <= 0:
        raise ValueError(
            f"Black-Scholes needs spot, strike, t and sigma > 0 (got {spot}, {strike}, {t}, {sigma})"
        )
    vol_t = sigma * math.sqrt(t)
    d1 = (math.log(spot / strike) + (r + 0.5 * sigma * sigma) * t) / vol_t
    return d1, d1 - vol_t


def bs_price(kind: OptionType, spot: float, strike: float, t: float, r: float, sigma: float) -> float:
    d1, d2 = _d1_d2(spot, strike, t, r, sigma)
    if kind is OptionType.CALL:
        return spot * norm_cdf(d1) - strike * math.exp(-r * t) * norm_cdf(d2)
    return strike * math.exp(-r * t) * norm_cdf(-d2) - spot * norm_cdf(-d1)


def bs_greeks(kind: OptionType, spot: float, strike: float, t: float, r: float, sigma: float) -> Greeks:
    """Price and Greeks of a European option.

    Raises:
        ValueError: when an input is not finite and positive, or the result is not finite.
    """
    d1, d2 = _d1_d2(spot, strike, t, r, sigma)
    disc = math.exp(-r * t)
    pdf = norm_pdf(d1)
    gamma = pdf / (spot * sigma * math.sqrt(t))
    vega = spot * pdf * math.sqrt(t) / 100.0
    if kind is OptionType.CALL:
        price = spot * norm_cdf(d1) - strike * disc * norm_cdf(d2)
        delta = norm_cdf(d1)
        theta = (-spot * pdf * sigma / (2 * math.sqrt(t)) - r * strike * disc * norm_cdf(d2)) / 365.0
    else:
        price = strike * disc * norm_cdf(-d2) - spot * norm_cdf(-d1)
        delta = norm_cdf(d1) - 1.0
        theta = (-spot * pdf * sigma / (2 * math.sqrt(t)) + r * strike * disc * norm_cdf(-d2)) / 365.0
    if not all(math.isfinite(x) for x in (price, delta, gamma, theta, vega)):
        raise ValueError(f"Black-Scholes gave a non-finite result for {spot}, {strike}, {t}, {r}, {sigma}")
    return Greeks(price=price, delta=delta, gamma=gamma, theta=theta, vega=vega)


def implied_volatility(
    kind: OptionType, price: float, spot: float, strike: float, t: float, r: float
) -> float | None:
    """Volatility that reproduces ``price`` (bisection), or None when no volatility in 1%..500% does
    (and when an input is not finite and positive: never an exception)."""
    if not (math.isfinite(price) and price > 0 and math.isfinite(t) and t > 0):
        return None
    lo, hi = 0.01, 5.0
    try:
        if not bs_price(kind, spot, strike, t, r, lo) <= price <= bs_price(kind, spot, strike, t, r, hi):
            return None
    except (ValueError, ArithmeticError):
        return None
    for _ in range(80):
        mid = (lo + hi) / 2
        if bs_price(kind, spot, strike, t, r, mid) < price:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-6:
            break
    return (lo + hi) / 2
