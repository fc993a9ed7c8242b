"""Cboe option chain parser on the recorded AAPL/CLX chains and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from actors.errors import MalformedData
from actors.providers.parsers import parse_cboe_chain
from messages.market import OptionType
from tests.providers.conftest import recorded, recorded_json


def _by_contract(chain):
    return {q.contract: q for q in chain.quotes}


def test_parses_recorded_aapl_chain():
    """All 3576 AAPL contracts, the underlying price and the UTC as-of timestamp."""
    chain = parse_cboe_chain(recorded("cboe/cboe_options_AAPL.json"), ticker="AAPL")
    assert len(chain.quotes) == 3576
    assert chain.underlying_price == 333.8
    assert chain.as_of == dt.datetime(2026, 7, 25, 3, 44, 38, tzinfo=dt.timezone.utc)
    assert chain.source == "cboe"
    assert len({q.expiry for q in chain.quotes}) == 24


def test_reads_occ_symbol_and_greeks_of_a_contract():
    """AAPL260821C00330000: type, strike, expiry from the symbol; bid/ask/Greeks from the row."""
    quote = _by_contract(parse_cboe_chain(recorded("cboe/cboe_options_AAPL.json"), ticker="AAPL"))[
        "AAPL260821C00330000"
    ]
    assert (quote.type, quote.strike, quote.expiry) == (OptionType.CALL, 330.0, dt.date(2026, 8, 21))
    assert (quote.bid, quote.ask, quote.last) == (12.65, 13.0, 12.65)
    assert (quote.volume, quote.open_interest) == (2638.0, 27020.0)
    assert (quote.iv, quote.delta, quote.gamma, quote.theta, quote.vega) == (0.2934, 0.5732, 0.0143, -0.192, 0.3618)


def test_zero_greeks_and_iv_become_none():
    """A row with iv/gamma/theta/vega 0.0 reports them as not given; a real delta stays."""
    quote = _by_contract(parse_cboe_chain(recorded("cboe/cboe_options_AAPL.json"), ticker="AAPL"))[
        "AAPL260724C00110000"
    ]
    assert quote.delta == 1.0
    assert quote.iv is None and quote.gamma is None and quote.theta is None and quote.vega is None
    put = _by_contract(parse_cboe_chain(recorded("cboe/cboe_options_AAPL.json"), ticker="AAPL"))["AAPL260724P00110000"]
    assert put.type is OptionType.PUT and put.delta is None and put.bid == 0.0


def test_parses_recorded_clx_chain():
    """CLX: 306 contracts over 6 expiries at spot 95.55."""
    chain = parse_cboe_chain(recorded("cboe/cboe_options_CLX.json"), ticker="CLX")
    assert len(chain.quotes) == 306
    assert chain.underlying_price == 95.55
    assert chain.as_of.date() == dt.date(2026, 7, 25)
    assert {q.ticker for q in chain.quotes} == {"CLX"}


def _corrupt(mutate) -> bytes:
    doc = recorded_json("cboe/cboe_options_CLX.json")
    mutate(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["data"].update(options=[]), r"data\.options: empty chain"),
        (lambda d: d["data"].update(current_price=-3), r"data\.current_price: expected a positive price"),
        (lambda d: d["data"].update(current_price=1e308), r"data\.current_price: price 1e\+308 is not below"),
        (lambda d: d["data"].update(symbol="MSFT"), r"data\.symbol: expected symbol 'CLX', got 'MSFT'"),
        (lambda d: d.update(timestamp=17), r"timestamp: expected 'YYYY-MM-DD HH:MM:SS'"),
        (lambda d: d.update(timestamp="9999-12-30 10:00:00"), r"timestamp: date 9999-12-30 is after"),
        (lambda d: d.update(data=[]), r"data: expected an object, got an array"),
    ],
)
def test_corrupted_chain_names_the_field(mutate, expected):
    """A bad envelope field fails the chain with MalformedData naming the field path and why."""
    with pytest.raises(MalformedData, match=expected) as info:
        parse_cboe_chain(_corrupt(mutate), ticker="CLX")
    assert (info.value.ticker, info.value.piece) == ("CLX", "chain")


@pytest.mark.parametrize(
    ("index", "change", "expected"),
    [
        (3, {"bid": "x"}, r"data\.options\[3\]\.bid: expected a number, got 'x'"),
        (5, {"ask": -1.0}, r"data\.options\[5\]\.ask: expected a number >= 0"),
        (2, {"bid": None}, r"data\.options\[2\]\.bid: expected a number, got None"),
        (7, {"option": "AAPL"}, r"data\.options\[7\]\.option: not an OCC option symbol"),
        (1, {"ask": 0.01, "bid": 5.0}, r"data\.options\[1\]\.ask: ask 0\.01 is below bid 5\.0"),
        (4, {"volume": True}, r"data\.options\[4\]\.volume: expected a number, got True"),
        (4, {"volume": 2.5}, r"data\.options\[4\]\.volume: expected a whole number of contracts"),
        (0, {"bid": float("nan")}, r"data\.options\[0\]\.bid: expected a finite number, got nan"),
        (6, {"iv": 1e6}, r"data\.options\[6\]\.iv: expected a volatility in 0\.\.50"),
        (6, {"delta": -3.0}, r"data\.options\[6\]\.delta: expected a delta in -1\.\.1"),
        (8, {"open_interest": 1e300}, r"data\.options\[8\]\.open_interest: 1e\+300 is not below"),
    ],
)
def test_a_contract_with_a_bad_value_is_dropped_not_the_chain(index, change, expected, caplog):
    """One bad contract is dropped; the other 305 stay, and an INFO line names the field and why."""
    good = parse_cboe_chain(recorded("cboe/cboe_options_CLX.json"), ticker="CLX")
    caplog.set_level("INFO", logger="actors.providers.parsers._common")
    chain = parse_cboe_chain(_corrupt(lambda d: d["data"]["options"][index].update(change)), ticker="CLX")
    lost = good.quotes[index].contract
    assert [q.contract for q in chain.quotes] == [q.contract for q in good.quotes if q.contract != lost]
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("CLX chain: dropped 1 of 306 contracts with a bad value; first: ")
    assert re.search(expected, line), line


def test_a_chain_whose_every_contract_is_bad_fails():
    """Nothing left after dropping is MalformedData with the count and the first reason."""
    def poison(doc):
        for item in doc["data"]["options"]:
            item["bid"] = "x"

    with pytest.raises(MalformedData, match=r"data\.options: every one of the 306 contracts has a bad value; "
                       r"first: data\.options\[0\]\.bid: expected a number, got 'x'"):
        parse_cboe_chain(_corrupt(poison), ticker="CLX")


def test_truncated_json_reports_position():
    """A truncated body is MalformedData with line/column/char and a truncation hint."""
    raw = recorded("cboe/cboe_options_CLX.json")[:5000]
    with pytest.raises(MalformedData, match=r"\$: invalid JSON at line \d+ column \d+ \(char \d+\).*truncated"):
        parse_cboe_chain(raw, ticker="CLX")
