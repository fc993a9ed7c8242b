"""Cboe delayed-quotes option chain (``cdn.cboe.com/api/global/delayed_quotes/options/<T>.json``).

Shape::

    {"timestamp": "2026-07-25 03:44:38",
     "data": {"symbol": "AAPL", "current_price": 333.8, ...,
              "options": [{"option": "AAPL260724C00110000", "bid": 221.75, "ask": 224.2,
                           "iv": 0.0, "delta": 1.0, "gamma": 0.0, "theta": 0.0, "vega": 0.0,
                           "volume": 27.0, "open_interest": 1.0, "last_trade_price": 222.91, ...}]}}

Choices: ``timestamp`` is read as UTC (the recorded quote's timestamp matches its GMT recording
time). Greeks and ``iv`` of exactly 0.0 mean "not computed" and become None; so does a
``last_trade_price`` of 0. An empty ``data.options`` is MalformedData: Cboe answers an HTTP
error for symbols without options, so an empty list in a 200 body is a broken document.

Hostile values (bounds in :mod:`actors.core.plausible`): a bad ``timestamp`` (not 1970..today) or
``current_price`` fails the chain; a contract with any bad field (price out of range, ask below
bid, volume or open interest not a whole number in range, ``iv`` above ``MAX_IV``, ``|delta|``
above 1, a Greek beyond ``MAX_GREEK``, an expiry before the as-of week or more than
``MAX_EXPIRY_YEARS`` after it) is dropped and counted in an INFO log line; a chain whose every
contract is dropped is MalformedData naming the first reason.
"""

from __future__ import annotations

import datetime as dt

from actors.core.plausible import MAX_GREEK, MAX_IV, MAX_PRICE
from actors.providers.parsers._common import Dropped, Reader, expiry_window, join, parse_occ_symbol
from messages.market import OptionChain, OptionQuote

__all__ = ["parse_cboe_chain"]

SOURCE = "cboe"
_GREEKS = ("iv", "delta", "gamma", "theta", "vega")


def parse_cboe_chain(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> OptionChain:
    """Parse a Cboe option chain for ``ticker``; contracts with a bad value are dropped.

    Raises:
        MalformedData: naming the field path and why.
    """
    r = Reader(ticker, "chain", today=today)
    doc = r.obj(r.json(raw), "$")
    as_of = _timestamp(r, r.field(doc, "timestamp", "$"))
    data = r.obj(r.field(doc, "data", "$"), "data")
    r.symbol(r.field(data, "symbol", "data"), "data.symbol")
    spot = r.price(r.field(data, "current_price", "data"), "data.current_price")
    options = r.arr(r.field(data, "options", "data"), "data.options")
    if not options:
        raise r.error("data.options", "empty chain: no contracts")
    dropped = Dropped(r, "contracts")
    expiries = expiry_window(as_of)
    read = dropped.read
    quotes = tuple(
        q
        for i, item in enumerate(options)
        if (q := read(_quote, r, item, join("data.options", i), expiries)) is not None
    )
    dropped.report(len(options), "data.options")
    return OptionChain(ticker=ticker, as_of=as_of, underlying_price=spot, quotes=quotes, source=SOURCE)


def _timestamp(r: Reader, value: object) -> dt.datetime:
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            r.in_range(parsed.date(), "timestamp")
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    raise r.error("timestamp", f"expected 'YYYY-MM-DD HH:MM:SS', got {value!r:.40}")


def _greek(r: Reader, item: dict, name: str, path: str) -> float | None:
    """A Greek or ``iv`` within its sane range; 0.0 (not computed) and absent become None."""
    value = r.optional_number(item.get(name), path)
    if value is None or value == 0.0:
        return None
    if name == "iv" and not 0 < value <= MAX_IV:
        raise r.error(path, f"expected a volatility in 0..{MAX_IV:g}, got {value!r}")
    if name == "delta" and not -1.0 <= value <= 1.0:
        raise r.error(path, f"expected a delta in -1..1, got {value!r}")
    if abs(value) >= MAX_GREEK:
        raise r.error(path, f"{value!r} is beyond the plausible magnitude {MAX_GREEK:g}")
    return value


def _quote(r: Reader, item: object, path: str, expiries: tuple[dt.date, dt.date]) -> OptionQuote:
    item = r.obj(item, path)
    symbol = r.string(r.field(item, "option", path), join(path, "option"))
    try:
        _root, expiry, kind, strike = parse_occ_symbol(symbol)
    except ValueError as exc:
        raise r.error(join(path, "option"), str(exc)) from None
    r.in_range(expiry, join(path, "option"), earliest=expiries[0], latest=expiries[1])
    bid = r.quote_price(r.field(item, "bid", path), join(path, "bid"))
    ask = r.quote_price(r.field(item, "ask", path), join(path, "ask"))
    if ask < bid:
        raise r.error(join(path, "ask"), f"ask {ask!r} is below bid {bid!r}")
    greeks = {name: _greek(r, item, name, join(path, name)) for name in _GREEKS}
    last = r.optional_number(
        item.get("last_trade_price"), join(path, "last_trade_price"), non_negative=True, below=MAX_PRICE
    )
    return OptionQuote(
        contract=symbol,
        ticker=r.ticker,
        type=kind,
        strike=strike,
        expiry=expiry,
        bid=bid,
        ask=ask,
        last=last or None,
        volume=r.contracts(r.field(item, "volume", path), join(path, "volume")),
        open_interest=r.contracts(r.field(item, "open_interest", path), join(path, "open_interest")),
        **greeks,
    )
