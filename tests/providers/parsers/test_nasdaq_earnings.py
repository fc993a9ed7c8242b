"""Nasdaq earnings calendar parser on the three recorded days and corrupted copies."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from actors.errors import MalformedData
from actors.providers.parsers import parse_nasdaq_earnings
from messages.market import EarningsEvent
from tests.providers.conftest import recorded, recorded_json


@pytest.mark.parametrize(("day", "count"), [(1, 39), (2, 22), (3, 22)])
def test_parses_recorded_days(day, count):
    """Each recorded day has its date (from data.asOf) and every row."""
    parsed = parse_nasdaq_earnings(recorded(f"nasdaq_earnings/nasdaq_earnings_2024-07-0{day}.json"))
    assert parsed.day == dt.date(2024, 7, day)
    assert len(parsed.events) == count


def test_maps_report_times():
    """time-pre-market → before_open, time-after-hours → after_close, not supplied → None."""
    day2 = parse_nasdaq_earnings(recorded("nasdaq_earnings/nasdaq_earnings_2024-07-02.json"))
    assert day2.for_ticker("MSM") == (EarningsEvent("MSM", dt.date(2024, 7, 2), "before_open"),)
    assert day2.for_ticker("SLP") == (EarningsEvent("SLP", dt.date(2024, 7, 2), "after_close"),)
    assert day2.for_ticker("WDS") == (EarningsEvent("WDS", dt.date(2024, 7, 2), None),)
    day3 = parse_nasdaq_earnings(recorded("nasdaq_earnings/nasdaq_earnings_2024-07-03.json"))
    assert day3.for_ticker("stz") == (EarningsEvent("STZ", dt.date(2024, 7, 3), "before_open"),)
    assert day3.for_ticker("AAPL") == ()


def _corrupt(mutate) -> bytes:
    doc = recorded_json("nasdaq_earnings/nasdaq_earnings_2024-07-01.json")
    mutate(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["data"]["rows"][4].update(time="lunchtime"), r"data\.rows\[4\]\.time: expected one of"),
        (lambda d: d["data"]["rows"][2].pop("symbol"), r"data\.rows\[2\]\.symbol: required field missing"),
        (lambda d: d["data"]["rows"][2].update(symbol=7), r"data\.rows\[2\]\.symbol: expected a non-empty string"),
        (lambda d: d["data"].update(asOf="2024-07-01"), r"data\.asOf: expected a date like 'Mon, Jul 1, 2024'"),
        (lambda d: d["data"].update(rows={}), r"data\.rows: expected an array"),
        (lambda d: d["status"].update(rCode=400), r"status\.rCode: Nasdaq answered 400"),
    ],
)
def test_corrupted_calendar_names_the_field(mutate, expected):
    """Each corruption raises MalformedData naming the field path and why."""
    with pytest.raises(MalformedData, match=expected):
        parse_nasdaq_earnings(_corrupt(mutate), ticker="AAPL")


def test_null_rows_is_a_day_without_reports():
    """rows: null is a known day with no events, not an error."""
    parsed = parse_nasdaq_earnings(_corrupt(lambda d: d["data"].update(rows=None)))
    assert parsed.events == ()


def test_truncated_calendar_is_malformed():
    """A cut-off body is MalformedData with the position."""
    with pytest.raises(MalformedData, match=r"invalid JSON at line"):
        parse_nasdaq_earnings(recorded("nasdaq_earnings/nasdaq_earnings_2024-07-01.json")[:300])
