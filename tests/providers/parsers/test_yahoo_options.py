"""Yahoo options v7 parser on the recorded chains and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from actors.errors import DataNotAvailable, MalformedData
from actors.providers.parsers import parse_yahoo_options
from messages.market import OptionType
from tests.providers.conftest import recorded, recorded_json

CALLS = "optionChain.result[0].options[0].calls"


def test_parses_recorded_goog_chain():
    """GOOG: 43 calls + 38 puts of the 2025-02-28 expiry, spot and as-of from the quote."""
    chain = parse_yahoo_options(recorded("yahoo_options/yahoo_options_GOOG.json"), ticker="GOOG")
    assert len(chain.quotes) == 81
    assert sum(q.type is OptionType.CALL for q in chain.quotes) == 43
    assert chain.underlying_price == 181.58
    assert chain.as_of == dt.datetime(2025, 2, 21, 21, 0, tzinfo=dt.timezone.utc)
    assert {q.expiry for q in chain.quotes} == {dt.date(2025, 2, 28)}


def test_reads_contract_fields_and_iv_placeholder():
    """AAPL250228C00110000 keeps its IV; Yahoo's 1e-05 placeholder IV becomes None."""
    chain = parse_yahoo_options(recorded("yahoo_options/yahoo_options_AAPL.json"), ticker="AAPL")
    first = chain.quotes[0]
    assert (first.contract, first.strike, first.bid, first.ask, first.last) == (
        "AAPL250228C00110000", 110.0, 135.9, 136.65, 111.67,
    )
    assert first.iv == pytest.approx(3.5859385)
    assert first.volume == 0.0  # missing volume means none traded
    goog = parse_yahoo_options(recorded("yahoo_options/yahoo_options_GOOG.json"), ticker="GOOG")
    assert goog.quotes[0].iv is None


@pytest.mark.parametrize("ticker,count", [("AMZN", 106), ("QQQ", 180)])
def test_parses_every_recorded_chain(ticker, count):
    """Every recorded Yahoo chain parses in full."""
    assert len(parse_yahoo_options(recorded(f"yahoo_options/yahoo_options_{ticker}.json"), ticker=ticker).quotes) == count


def _corrupt(mutate) -> bytes:
    doc = recorded_json("yahoo_options/yahoo_options_GOOG.json")
    mutate(doc)
    return json.dumps(doc).encode()


def _result(doc):
    return doc["optionChain"]["result"][0]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _result(d).update(options=[]), r"optionChain\.result\[0\]\.options: empty chain"),
        (lambda d: _result(d)["quote"].update(regularMarketPrice=None), r"quote\.regularMarketPrice: expected a number, got None"),
        (lambda d: _result(d)["quote"].update(regularMarketTime=4_000_000_000), r"quote\.regularMarketTime: date 2096-10-02 is after"),
    ],
)
def test_corrupted_chain_names_the_field(mutate, expected):
    """A bad envelope field fails the chain with MalformedData naming the field path and why."""
    with pytest.raises(MalformedData, match=expected):
        parse_yahoo_options(_corrupt(mutate), ticker="GOOG")


@pytest.mark.parametrize(
    ("side", "index", "change", "expected"),
    [
        ("calls", 3, {"bid": "x"}, r"calls\[3\]\.bid: expected a number, got 'x'"),
        ("puts", 1, {"strike": -5}, r"puts\[1\]\.strike: expected a positive price"),
        ("calls", 0, {"contractSymbol": None}, r"calls\[0\]\.contractSymbol: expected a non-empty string"),
        ("calls", 0, {"expiration": "soon"}, r"calls\[0\]\.expiration: expected a unix timestamp"),
        ("calls", 2, {"expiration": 4_000_000_000}, r"calls\[2\]\.expiration: date 2096-10-02 is after 2035-02-21"),
        ("calls", 2, {"impliedVolatility": 99.0}, r"calls\[2\]\.impliedVolatility: expected a volatility in 0\.\.50"),
    ],
)
def test_a_contract_with_a_bad_value_is_dropped_not_the_chain(side, index, change, expected, caplog):
    """One bad contract is dropped, the rest stay, and an INFO line names the field and why."""
    good = parse_yahoo_options(recorded("yahoo_options/yahoo_options_GOOG.json"), ticker="GOOG")
    caplog.set_level("INFO", logger="actors.providers.parsers._common")
    chain = parse_yahoo_options(_corrupt(lambda d: _result(d)["options"][0][side][index].update(change)), ticker="GOOG")
    assert len(chain.quotes) == len(good.quotes) - 1
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"GOOG chain: dropped 1 of {len(good.quotes)} contracts with a bad value; first: ")
    assert re.search(expected, line), line


def test_no_listed_options_is_not_available():
    """No expirations and no contracts is Yahoo saying the symbol has no options."""
    def empty(doc):
        _result(doc).update(options=[], expirationDates=[])

    with pytest.raises(DataNotAvailable):
        parse_yahoo_options(_corrupt(empty), ticker="GOOG")
