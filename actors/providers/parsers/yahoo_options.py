"""Yahoo Finance options v7 (``query2.finance.yahoo.com/v7/finance/options/<T>?formatted=false``).

Shape::

    {"optionChain": {"error": null, "result": [{
        "underlyingSymbol": "AAPL", "expirationDates": [1740700800, ...],
        "quote": {"regularMarketPrice": 245.55, "regularMarketTime": 1740171602, ...},
        "options": [{"expirationDate": 1740700800,
                     "calls": [{"contractSymbol": "AAPL250228C00110000", "strike": 110,
                                "bid": 135.9, "ask": 136.65, "lastPrice": 111.67,
                                "openInterest": 0, "volume": 2, "expiration": 1740700800,
                                "impliedVolatility": 3.5859}], "puts": [...]}]}]}}

Choices: the chain's as-of is ``quote.regularMarketTime``; expiries are the UTC date of
``expiration``. A missing ``volume``/``openInterest`` means 0 (Yahoo omits them when nothing
traded). Yahoo writes ``impliedVolatility`` 1e-05 when it has none: values below 1e-4 become
None. No expirations and no contracts is how Yahoo says "no listed options" (DataNotAvailable);
expirations listed but no contracts is MalformedData. Yahoo gives no Greeks.

Hostile values (bounds in :mod:`actors.core.plausible`): a bad ``regularMarketPrice`` or
``regularMarketTime`` (not 1970..today) fails the chain; a contract with any bad field (price out
of range, ask below bid, volume or open interest not a whole number in range, IV above
``MAX_IV``, an expiry before the as-of week or more than ``MAX_EXPIRY_YEARS`` after it) is
dropped and counted in an INFO log line; a chain whose every contract is dropped is MalformedData
naming the first reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from actors.errors import DataNotAvailable
from actors.core.plausible import MAX_IV, MAX_PRICE
from actors.providers.parsers._common import Dropped, Reader, expiry_window, join
from actors.providers.parsers.yahoo_chart import yahoo_error
from messages.market import OptionChain, OptionQuote, OptionType

__all__ = ["parse_yahoo_options"]

SOURCE = "yahoo"
_IV_PLACEHOLDER = 1e-4


def parse_yahoo_options(raw: bytes | str, *, ticker: str, today: dt.date | None = None) -> OptionChain:
    """Parse a Yahoo v7 options document for ``ticker`` (the expiries it contains).

    Raises:
        MalformedData: naming the field path and why.
        UnknownTicker: Yahoo says the symbol is not found.
        DataNotAvailable: the symbol has no listed options, or Yahoo reports another error.
    """
    r = Reader(ticker, "chain", today=today)
    doc = r.obj(r.json(raw), "$")
    envelope = r.obj(r.field(doc, "optionChain", "$"), "optionChain")
    yahoo_error(r, envelope, "optionChain")
    results = r.arr(r.field(envelope, "result", "optionChain"), "optionChain.result")
    if not results:
        raise r.error("optionChain.result", "expected one result, got an empty array")
    path = "optionChain.result[0]"
    result = r.obj(results[0], path)
    r.symbol(r.field(result, "underlyingSymbol", path), join(path, "underlyingSymbol"))
    quote = r.obj(r.field(result, "quote", path), join(path, "quote"))
    spot = r.price(r.field(quote, "regularMarketPrice", join(path, "quote")), join(path, "quote.regularMarketPrice"))
    as_of = r.unix(r.field(quote, "regularMarketTime", join(path, "quote")), join(path, "quote.regularMarketTime"))
    expirations = r.arr(result.get("expirationDates", []), join(path, "expirationDates"))
    groups = r.arr(r.field(result, "options", path), join(path, "options"))
    quotes: list[OptionQuote] = []
    dropped = Dropped(r, "contracts")
    expiries = expiry_window(as_of)
    total = 0
    for g, group in enumerate(groups):
        group_path = join(join(path, "options"), g)
        group = r.obj(group, group_path)
        for side, kind in (("calls", OptionType.CALL), ("puts", OptionType.PUT)):
            side_path = join(group_path, side)
            for i, item in enumerate(r.arr(group.get(side, []), side_path)):
                total += 1
                quote = dropped.read(_quote, r, item, join(side_path, i), kind, expiries)
                if quote is not None:
                    quotes.append(quote)
    dropped.report(total, join(path, "options"))
    if not quotes:
        if not expirations:
            raise DataNotAvailable(ticker, "chain", "Yahoo lists no options for this symbol")
        raise r.error(join(path, "options"), f"empty chain: no contracts for {len(expirations)} listed expiries")
    return OptionChain(ticker=ticker, as_of=as_of, underlying_price=spot, quotes=tuple(quotes), source=SOURCE)


def _quote(r: Reader, item: Any, path: str, kind: OptionType, expiries: tuple[dt.date, dt.date]) -> OptionQuote:
    item = r.obj(item, path)
    contract = r.string(r.field(item, "contractSymbol", path), join(path, "contractSymbol"))
    bid = r.quote_price(r.field(item, "bid", path), join(path, "bid"))
    ask = r.quote_price(r.field(item, "ask", path), join(path, "ask"))
    if ask < bid:
        raise r.error(join(path, "ask"), f"ask {ask!r} is below bid {bid!r}")
    iv = r.optional_number(item.get("impliedVolatility"), join(path, "impliedVolatility"), non_negative=True)
    if iv is not None and iv > MAX_IV:
        raise r.error(join(path, "impliedVolatility"), f"expected a volatility in 0..{MAX_IV:g}, got {iv!r}")
    last = r.optional_number(item.get("lastPrice"), join(path, "lastPrice"), non_negative=True, below=MAX_PRICE)
    expiry_path = join(path, "expiration")
    expiry = r.unix(r.field(item, "expiration", path), expiry_path, latest=expiries[1]).date()
    r.in_range(expiry, expiry_path, earliest=expiries[0], latest=expiries[1])
    return OptionQuote(
        contract=contract,
        ticker=r.ticker,
        type=kind,
        strike=r.price(r.field(item, "strike", path), join(path, "strike")),
        expiry=expiry,
        bid=bid,
        ask=ask,
        last=last or None,
        volume=r.contracts(item.get("volume", 0), join(path, "volume")),
        open_interest=r.contracts(item.get("openInterest", 0), join(path, "openInterest")),
        iv=iv if iv is not None and iv >= _IV_PLACEHOLDER else None,
    )
