"""Cboe historical chart parser on the recorded AAPL chart and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from actors.errors import DataNotAvailable, MalformedData
from actors.providers.parsers import parse_cboe_chart
from messages.market import Bar
from tests.providers.conftest import recorded, recorded_json


def test_parses_recorded_aapl_chart():
    """5675 bars from 2004-01-02 to 2026-07-23; as-of is the last bar's date."""
    history = parse_cboe_chart(recorded("cboe/cboe_chart_historical_AAPL.json"), ticker="AAPL")
    assert len(history.bars) == 5675
    assert history.bars[0] == Bar(dt.date(2004, 1, 2), 0.39, 0.39, 0.38, 0.38, 2024993600.0)
    assert history.bars[-1] == Bar(dt.date(2026, 7, 23), 321.8, 323.3, 319.35, 321.66, 40840778.0)
    assert history.as_of == dt.date(2026, 7, 23)
    assert history.source == "cboe"


def _corrupt(mutate) -> bytes:
    doc = recorded_json("cboe/cboe_chart_historical_AAPL.json")
    mutate(doc)
    return json.dumps(doc).encode()


def _swap(rows, i, j):
    rows[i], rows[j] = rows[j], rows[i]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["data"][10].update(close=-5.0), r"data\[10\]\.close: expected a positive price, got -5\.0"),
        (lambda d: d["data"][10].update(open=float("nan")), r"data\[10\]\.open: expected a finite number, got nan"),
        (lambda d: d["data"][11].update(high=0.1, low=0.5), r"data\[11\]\.high: high 0\.1 is below low 0\.5"),
        (lambda d: _swap(d["data"], 20, 21), r"data\[21\]\.date: bars out of order"),
        (lambda d: d["data"].insert(31, dict(d["data"][30])), r"data\[31\]\.date: duplicate date"),
        (lambda d: d["data"][3].pop("volume"), r"data\[3\]\.volume: required field missing"),
        (lambda d: d["data"][3].update(volume=-1), r"data\[3\]\.volume: expected a finite volume >= 0"),
        (lambda d: d["data"][4].update(date="04/01/2004"), r"data\[4\]\.date: expected a date YYYY-MM-DD"),
        (lambda d: d["data"][4].update(low="0.3"), r"data\[4\]\.low: expected a number, got '0\.3'"),
        (lambda d: d.update(data={"x": 1}), r"data: expected an array, got an object"),
    ],
)
def test_corrupted_chart_names_the_field(mutate, expected):
    """Each corruption raises MalformedData naming the field path and why."""
    with pytest.raises(MalformedData, match=expected) as info:
        parse_cboe_chart(_corrupt(mutate), ticker="AAPL")
    assert info.value.piece == "history"


def test_empty_chart_is_not_available():
    """A well-formed chart with no bars says there is nothing: DataNotAvailable."""
    with pytest.raises(DataNotAvailable):
        parse_cboe_chart(b'{"symbol": "AAPL", "data": []}', ticker="AAPL")


def test_truncated_chart_is_malformed():
    """A chart cut mid-document is MalformedData with the position."""
    with pytest.raises(MalformedData, match=r"invalid JSON at line 1 column \d+ \(char \d+\)"):
        parse_cboe_chart(recorded("cboe/cboe_chart_historical_AAPL.json")[:-100], ticker="AAPL")
