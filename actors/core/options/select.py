"""Pick one option contract for a scored ticker: DTE window, delta target, liquidity filters.

Bullish setups get calls, bearish setups puts; a neutral setup gets no contract. The filters
run in this order, and when nothing is left the reason lists the count after each step, so the
user sees exactly which rule emptied the list::

    "12 calls within 30-60 DTE; 10 with bid > 0 and ask >= bid; none with open interest >= 100"

1. type: calls for bullish, puts for bearish;
2. DTE window: ``dte_min <= (expiry - as_of).days <= dte_max`` (as-of date, never the clock);
3. a real two-sided quote: ``bid > 0`` and ``ask >= bid`` (zero and crossed quotes rejected);
4. ``open_interest >= min_open_interest``;
5. ``volume >= min_volume``;
6. ``(ask - bid) / mid <= max_spread_pct``;
7. ``delta_min <= |delta| <= delta_max``.

Among what survives, the expiry nearest ``dte_target`` wins (a tie goes to the longer one:
less time decay per day), then the contract whose |delta| is nearest ``delta_target`` (a tie
goes to the larger open interest).

Greeks come from the chain when it has a usable delta (finite, non-zero, with the sign of its
type): ``greeks_source="chain"``. Otherwise they are computed with Black-Scholes from the
chain's IV, or, without one, the IV implied by the mid price: ``greeks_source="black_scholes"``.

Hostile values: a contract whose strike, bid, ask, volume or open interest is outside the bounds
of :mod:`actors.core.plausible` (the parsers' bounds) is left out before the liquidity filters, and
the reason then counts it ("11 with plausible prices and sizes"); non-finite chain Greeks other
than delta become None; a Black-Scholes failure makes the contract one "without a usable
delta". For data, :func:`select_contract` returns a value and never raises.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable

from attrs import frozen

from actors.core.plausible import MAX_CONTRACTS, MAX_PRICE, price_problem
from actors.core.pricing import bs_greeks, implied_volatility
from messages.market import OptionChain, OptionQuote, OptionType
from messages.scan import Direction, OptionPick

__all__ = ["NEUTRAL_REASON", "Selection", "select_contract"]

logger = logging.getLogger(__name__)

NEUTRAL_REASON = "neutral direction: no directional edge"


@frozen
class Selection:
    """The outcome of :func:`select_contract`.

    ``pick`` is None exactly when ``reason`` says why. ``considered`` counts the chain's
    contracts of the wanted type (calls or puts) that were examined.
    """

    pick: OptionPick | None
    reason: str | None
    considered: int


@frozen
class _Greeks:
    delta: float
    iv: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    source: str


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validate(
    *,
    direction: object,
    as_of: object,
    dte_min: object,
    dte_max: object,
    dte_target: object,
    delta_target: object,
    delta_min: object,
    delta_max: object,
    min_open_interest: object,
    min_volume: object,
    max_spread_pct: object,
    risk_free_rate: object,
) -> None:
    if not isinstance(direction, Direction):
        raise ValueError(f"direction must be a Direction (got {direction!r})")
    if not isinstance(as_of, dt.date):
        raise ValueError(f"as_of must be a date (got {as_of!r})")
    for name, value in (("dte_min", dte_min), ("dte_target", dte_target), ("dte_max", dte_max)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int (got {value!r})")
    if dte_min < 0:
        raise ValueError(f"dte_min must be >= 0 (got {dte_min})")
    if not dte_min <= dte_target <= dte_max:
        raise ValueError(
            f"dte_min <= dte_target <= dte_max must hold (got dte_min={dte_min}, dte_target={dte_target}, "
            f"dte_max={dte_max})"
        )
    for name, value in (("delta_min", delta_min), ("delta_target", delta_target), ("delta_max", delta_max)):
        if not _is_number(value):
            raise ValueError(f"{name} must be a finite number (got {value!r})")
    if not 0 < delta_min <= delta_target <= delta_max < 1:
        raise ValueError(
            f"0 < delta_min <= delta_target <= delta_max < 1 must hold (got delta_min={delta_min}, "
            f"delta_target={delta_target}, delta_max={delta_max})"
        )
    for name, value in (("min_open_interest", min_open_interest), ("min_volume", min_volume)):
        if not _is_number(value) or value < 0:
            raise ValueError(f"{name} must be a number >= 0 (got {value!r})")
    if not _is_number(max_spread_pct) or max_spread_pct <= 0:
        raise ValueError(f"max_spread_pct must be a number > 0 (got {max_spread_pct!r})")
    if not _is_number(risk_free_rate) or not -0.1 <= risk_free_rate <= 0.5:
        raise ValueError(f"risk_free_rate must be a number in -0.1..0.5 (got {risk_free_rate!r})")


def _chain_delta_usable(q: OptionQuote) -> bool:
    d = _finite_or_none(q.delta)
    if d is None or not 0 < abs(d) <= 1:
        return False
    return d > 0 if q.type is OptionType.CALL else d < 0


def _plausible(q: OptionQuote) -> bool:
    """A plausible strike; bid, ask, volume and open interest not NaN and below their maxima
    (values too low are the liquidity filters' business, which name them)."""
    return (
        price_problem(q.strike) is None
        and q.bid < MAX_PRICE
        and q.ask < MAX_PRICE
        and q.volume < MAX_CONTRACTS
        and q.open_interest < MAX_CONTRACTS
    )


def _finite_or_none(value: float | None) -> float | None:
    """``value`` as a finite float, or None (also for an int too large for a float)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _iv_usable(iv: float | None) -> bool:
    iv = _finite_or_none(iv)
    return iv is not None and 0 < iv <= 10


def _greeks(q: OptionQuote, dte: int, spot: float, r: float) -> _Greeks | None:
    """Greeks of one contract: the chain's if usable, else Black-Scholes; None when neither is possible."""
    iv = _finite_or_none(q.iv) if _iv_usable(q.iv) else None
    if _chain_delta_usable(q):
        delta, gamma, theta, vega = (_finite_or_none(g) for g in (q.delta, q.gamma, q.theta, q.vega))
        return _Greeks(delta, iv, gamma, theta, vega, "chain")
    if price_problem(spot) is not None:
        return None
    t = max(dte, 1) / 365.0  # a same-day expiry is priced with a day left: Black-Scholes needs t > 0
    if iv is None:
        iv = implied_volatility(q.type, q.mid, spot, q.strike, t, r)
        if iv is None:
            return None
    try:
        g = bs_greeks(q.type, spot, q.strike, t, r, iv)
    except (ValueError, ArithmeticError):
        return None
    return _Greeks(g.delta, iv, g.gamma, g.theta, g.vega, "black_scholes")


def _nearest_outside(dtes: list[int], dte_min: int, dte_max: int) -> str:
    below = max((d for d in dtes if 0 <= d < dte_min), default=None)
    above = min((d for d in dtes if d > dte_max), default=None)
    return ", ".join(str(d) for d in (below, above) if d is not None) or "none"


def select_contract(
    chain: OptionChain,
    direction: Direction,
    *,
    as_of: dt.date,
    dte_min: int = 30,
    dte_max: int = 60,
    dte_target: int = 45,
    delta_target: float = 0.35,
    delta_min: float = 0.25,
    delta_max: float = 0.50,
    min_open_interest: float = 100,
    min_volume: float = 1,
    max_spread_pct: float = 0.10,
    risk_free_rate: float = 0.045,
) -> Selection:
    """Choose the contract to trade a ``direction`` setup with, or say precisely why there is none.

    Raises:
        ValueError: a setting is out of range; the message names it and the rule it breaks.
    """
    _validate(
        direction=direction,
        as_of=as_of,
        dte_min=dte_min,
        dte_max=dte_max,
        dte_target=dte_target,
        delta_target=delta_target,
        delta_min=delta_min,
        delta_max=delta_max,
        min_open_interest=min_open_interest,
        min_volume=min_volume,
        max_spread_pct=max_spread_pct,
        risk_free_rate=risk_free_rate,
    )
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if direction is Direction.NEUTRAL:
        return Selection(pick=None, reason=NEUTRAL_REASON, considered=0)

    kind = OptionType.CALL if direction is Direction.BULLISH else OptionType.PUT
    noun = f"{kind.value}s"
    typed = [q for q in chain.quotes if q.type is kind]
    considered = len(typed)

    def no_pick(reason: str) -> Selection:
        logger.debug("%s: no %s pick: %s", chain.ticker, kind.value, reason)
        return Selection(pick=None, reason=reason, considered=considered)

    if not typed:
        return no_pick(f"chain has no {noun}")

    dated = [(q, (q.expiry - as_of).days) for q in typed]
    window = [(q, d) for q, d in dated if dte_min <= d <= dte_max]
    if not window:
        nearest = _nearest_outside([d for _, d in dated], dte_min, dte_max)
        return no_pick(f"no expiry within {dte_min}-{dte_max} DTE (nearest: {nearest})")

    steps = [f"{len(window)} {noun} within {dte_min}-{dte_max} DTE"]
    plausible = [(q, d) for q, d in window if _plausible(q)]
    if len(plausible) < len(window):
        window = plausible
        if not window:
            return no_pick("; ".join([*steps, "none with plausible prices and sizes"]))
        steps.append(f"{len(window)} with plausible prices and sizes")
    filters: list[tuple[str, Callable[[OptionQuote], bool]]] = [
        ("with bid > 0 and ask >= bid", lambda q: math.isfinite(q.ask) and q.bid > 0 and q.ask >= q.bid),
        (f"with open interest >= {min_open_interest:g}", lambda q: q.open_interest >= min_open_interest),
        (f"with volume >= {min_volume:g}", lambda q: q.volume >= min_volume),
        (
            f"with bid-ask spread <= {max_spread_pct:.0%} of mid",
            lambda q: (q.ask - q.bid) / q.mid <= max_spread_pct,
        ),
    ]
    survivors = window
    for label, keep in filters:
        survivors = [(q, d) for q, d in survivors if keep(q)]
        if not survivors:
            return no_pick("; ".join([*steps, f"none {label}"]))
        steps.append(f"{len(survivors)} {label}")

    priced = []
    no_delta = 0
    for q, d in survivors:
        g = _greeks(q, d, chain.underlying_price, risk_free_rate)
        if g is None:
            no_delta += 1
        elif delta_min <= abs(g.delta) <= delta_max:
            priced.append((q, d, g))
    if not priced:
        label = f"none with |delta| in {delta_min:.2f}-{delta_max:.2f}"
        if no_delta:
            label += f" ({no_delta} without a usable delta or implied volatility)"
        return no_pick("; ".join([*steps, label]))

    best_dte = min({d for _, d, _ in priced}, key=lambda d: (abs(d - dte_target), -d))
    q, d, g = min(
        ((q, d, g) for q, d, g in priced if d == best_dte),
        key=lambda item: (abs(abs(item[2].delta) - delta_target), -item[0].open_interest),
    )
    pick = OptionPick(
        contract=q.contract,
        type=q.type,
        strike=q.strike,
        expiry=q.expiry,
        dte=d,
        delta=g.delta,
        bid=q.bid,
        ask=q.ask,
        mid=q.mid,
        open_interest=q.open_interest,
        volume=q.volume,
        iv=g.iv,
        greeks_source=g.source,
        gamma=g.gamma,
        theta=g.theta,
        vega=g.vega,
    )
    logger.debug("%s: picked %s (%d DTE, delta %.2f, %s)", chain.ticker, q.contract, d, g.delta, g.source)
    return Selection(pick=pick, reason=None, considered=considered)
