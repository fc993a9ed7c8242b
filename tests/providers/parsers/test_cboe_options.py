"""Cboe option chain parser on the recorded AAPL/CLX chains and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json

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
        (lambda d: d["data"]["options"][3].update(bid="x"), r"data\.options\[3\]\.bid: expected a number, got 'x'"),
        (lambda d: d["data"]["options"][5].update(ask=-1.0), r"data\.options\[5\]\.ask: expected a number >= 0"),
        (lambda d: d["data"]["options"][2].pop("bid"), r"data\.options\[2\]\.bid: required field missing"),
        (lambda d: d["data"]["options"][7].update(option="AAPL"), r"data\.options\[7\]\.option: not an OCC option symbol"),
        (lambda d: d["data"]["options"][1].update(ask=0.01, bid=5.0), r"data\.options\[1\]\.ask: ask 0\.01 is below bid 5\.0"),
        (lambda d: d["data"].update(options=[]), r"data\.options: empty chain"),
        (lambda d: d["data"].update(current_price=-3), r"data\.current_price: expected a positive number"),
        (lambda d: d["data"].update(symbol="MSFT"), r"data\.symbol: expected symbol 'CLX', got 'MSFT'"),
        (lambda d: d.update(timestamp=17), r"timestamp: expected 'YYYY-MM-DD HH:MM:SS'"),
        (lambda d: d.update(data=[]), r"data: expected an object, got an array"),
        (lambda d: d["data"]["options"][4].update(volume=True), r"data\.options\[4\]\.volume: expected a number, got True"),
    ],
)
def test_corrupted_chain_names_the_field(mutate, expected):
    """Each corruption raises MalformedData naming the field path and why."""
    with pytest.raises(MalformedData, match=expected) as info:
        parse_cboe_chain(_corrupt(mutate), ticker="CLX")
    assert (info.value.ticker, info.value.piece) == ("CLX", "chain")


def test_nan_price_is_rejected():
    """A NaN bid (written by json.dumps as NaN) is not a finite number."""
    raw = _corrupt(lambda d: d["data"]["options"][0].update(bid=float("nan")))
    with pytest.raises(MalformedData, match=r"data\.options\[0\]\.bid: expected a finite number, got nan"):
        parse_cboe_chain(raw, ticker="CLX")


def test_truncated_json_reports_position():
    """A truncated body is MalformedData with line/column/char and a truncation hint."""
    raw = recorded("cboe/cboe_options_CLX.json")[:5000]
    with pytest.raises(MalformedData, match=r"\$: invalid JSON at line \d+ column \d+ \(char \d+\).*truncated"):
        parse_cboe_chain(raw, ticker="CLX")
