"""Yahoo chart v8 parser on the recorded charts, null days and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from actors.errors import DataNotAvailable, MalformedData, UnknownTicker
from actors.providers.parsers import parse_yahoo_chart
from tests.providers.conftest import recorded, recorded_json

QUOTE = "chart.result[0].indicators.quote[0]"


def test_parses_recorded_msft_chart():
    """MSFT: 252 bars 2021-02-01..2022-01-28, timestamps turned into exchange dates."""
    history = parse_yahoo_chart(recorded("yahoo_chart/yahoo_chart_MSFT.json"), ticker="MSFT")
    assert len(history.bars) == 252
    assert history.bars[0].date == dt.date(2021, 2, 1)
    assert history.as_of == dt.date(2022, 1, 28)
    assert history.bars[-1].close == pytest.approx(308.26)
    assert history.source == "yahoo"


@pytest.mark.parametrize(("ticker", "count"), [("AAPL", 49), ("NVDA", 252), ("TSLA", 3303)])
def test_parses_every_recorded_chart(ticker, count):
    """Each recorded chart parses with its full bar count."""
    history = parse_yahoo_chart(recorded(f"yahoo_chart/yahoo_chart_{ticker}.json"), ticker=ticker)
    assert len(history.bars) == count


def _corrupt(mutate) -> bytes:
    doc = recorded_json("yahoo_chart/yahoo_chart_AAPL.json")
    mutate(doc)
    return json.dumps(doc).encode()


def _quote(doc):
    return doc["chart"]["result"][0]["indicators"]["quote"][0]


def test_null_days_are_skipped():
    """A day with null prices is dropped; the other days stay."""
    def blank(doc):
        for name in ("open", "high", "low", "close", "volume"):
            _quote(doc)[name][5] = None

    history = parse_yahoo_chart(_corrupt(blank), ticker="AAPL")
    assert len(history.bars) == 48
    assert dt.date(2020, 9, 8) not in {bar.date for bar in history.bars}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _quote(d)["close"].__setitem__(7, -1.0), re.escape(f"{QUOTE}.close[7]: expected a positive price")),
        (lambda d: _quote(d)["open"].__setitem__(2, "abc"), r"quote\[0\]\.open\[2\]: expected a number, got 'abc'"),
        (lambda d: _quote(d)["low"].pop(), r"quote\[0\]\.low: has 48 values for 49 timestamps"),
        (lambda d: d["chart"]["result"][0]["timestamp"].__setitem__(3, 1598880600), r"chart\.result\[0\]\.timestamp\[3\]: bars out of order"),
        (lambda d: d["chart"]["result"][0]["meta"].pop("symbol"), r"chart\.result\[0\]\.meta\.symbol: required field missing"),
        (lambda d: d["chart"].update(result=[]), r"chart\.result: expected one result"),
    ],
)
def test_corrupted_chart_names_the_field(mutate, expected):
    """Each corruption raises MalformedData naming the field path and why."""
    with pytest.raises(MalformedData, match=expected):
        parse_yahoo_chart(_corrupt(mutate), ticker="AAPL")


def test_yahoo_not_found_is_unknown_ticker():
    """chart.error 'Not Found' means the symbol does not exist."""
    raw = b'{"chart": {"result": null, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}}'
    with pytest.raises(UnknownTicker, match="delisted"):
        parse_yahoo_chart(raw, ticker="ZZZZ")


def test_chart_without_timestamps_is_not_available():
    """A result with no timestamps (empty range) is DataNotAvailable."""
    doc = recorded_json("yahoo_chart/yahoo_chart_AAPL.json")
    del doc["chart"]["result"][0]["timestamp"]
    with pytest.raises(DataNotAvailable):
        parse_yahoo_chart(json.dumps(doc), ticker="AAPL")
