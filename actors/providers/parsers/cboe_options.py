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
"""

from __future__ import annotations

import datetime as dt

from actors.providers.parsers._common import Reader, join, parse_occ_symbol
from messages.market import OptionChain, OptionQuote

__all__ = ["parse_cboe_chain"]

SOURCE = "cboe"
_GREEKS = ("iv", "delta", "gamma", "theta", "vega")


def parse_cboe_chain(raw: bytes | str, *, ticker: str) -> OptionChain:
    """Parse a Cboe option chain for ``ticker``.

    Raises:
        MalformedData: naming the field path and why.
    """
    r = Reader(ticker, "chain")
    doc = r.obj(r.json(raw), "$")
    as_of = _timestamp(r, r.field(doc, "timestamp", "$"))
    data = r.obj(r.field(doc, "data", "$"), "data")
    r.symbol(r.field(data, "symbol", "data"), "data.symbol")
    spot = r.number(r.field(data, "current_price", "data"), "data.current_price", positive=True)
    options = r.arr(r.field(data, "options", "data"), "data.options")
    if not options:
        raise r.error("data.options", "empty chain: no contracts")
    quotes = tuple(_quote(r, item, join("data.options", i)) for i, item in enumerate(options))
    return OptionChain(ticker=ticker, as_of=as_of, underlying_price=spot, quotes=quotes, source=SOURCE)


def _timestamp(r: Reader, value: object) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    raise r.error("timestamp", f"expected 'YYYY-MM-DD HH:MM:SS', got {value!r:.40}")


def _quote(r: Reader, item: object, path: str) -> OptionQuote:
    item = r.obj(item, path)
    symbol = r.string(r.field(item, "option", path), join(path, "option"))
    try:
        _root, expiry, kind, strike = parse_occ_symbol(symbol)
    except ValueError as exc:
        raise r.error(join(path, "option"), str(exc)) from None
    bid = r.number(r.field(item, "bid", path), join(path, "bid"), non_negative=True)
    ask = r.number(r.field(item, "ask", path), join(path, "ask"), non_negative=True)
    if ask < bid:
        raise r.error(join(path, "ask"), f"ask {ask!r} is below bid {bid!r}")
    greeks = {}
    for name in _GREEKS:
        value = r.optional_number(item.get(name), join(path, name))
        greeks[name] = None if value == 0.0 else value
    if greeks["iv"] is not None and greeks["iv"] < 0:
        raise r.error(join(path, "iv"), f"expected a volatility >= 0, got {greeks['iv']!r}")
    last = r.optional_number(item.get("last_trade_price"), join(path, "last_trade_price"), non_negative=True)
    return OptionQuote(
        contract=symbol,
        ticker=r.ticker,
        type=kind,
        strike=strike,
        expiry=expiry,
        bid=bid,
        ask=ask,
        last=last or None,
        volume=r.number(r.field(item, "volume", path), join(path, "volume"), non_negative=True),
        open_interest=r.number(
            r.field(item, "open_interest", path), join(path, "open_interest"), non_negative=True
        ),
        **greeks,
    )
