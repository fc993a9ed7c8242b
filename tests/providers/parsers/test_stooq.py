"""Stooq CSV parser: both header languages, CRLF and LF, fractional volumes, bad rows."""

from __future__ import annotations

import datetime as dt

import pytest

from actors.errors import DataNotAvailable, MalformedData, ProviderUnavailable
from actors.providers.parsers import parse_stooq_csv
from messages.market import Bar
from tests.providers.conftest import recorded

ENGLISH = "Date,Open,High,Low,Close,Volume"
POLISH = "Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen"
ROWS = ["2026-01-05,10,11,9.5,10.5,1000.25", "2026-01-06,10.5,12,10,11.75,2000"]


def test_parses_recorded_msft_crlf_with_fractional_volume():
    """MSFT (English header, CRLF): 10030 bars, fractional volume kept exactly."""
    raw = recorded("stooq/stooq_msft_us_d.csv")
    assert b"\r\n" in raw
    history = parse_stooq_csv(raw, ticker="MSFT")
    assert len(history.bars) == 10030
    assert history.bars[0] == Bar(dt.date(1986, 3, 13), 0.0615709, 0.069028, 0.0615709, 0.069028, 1496329307.4141)
    assert history.as_of == dt.date(2026, 1, 6)
    assert history.source == "stooq"


def test_parses_recorded_tsla_polish_header_lf():
    """TSLA (Polish header, LF): 3920 bars ending 2026-01-28; a zero-volume first day is valid."""
    raw = recorded("stooq/stooq_tsla_us_d.csv")
    assert raw.startswith(POLISH.encode()) and b"\r\n" not in raw
    history = parse_stooq_csv(raw, ticker="TSLA")
    assert len(history.bars) == 3920
    assert history.bars[0].volume == 0.0
    assert history.bars[-1] == Bar(dt.date(2026, 1, 28), 431.91, 438.26, 430.1, 431.38, 35807508.0)


@pytest.mark.parametrize("header", [ENGLISH, POLISH])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_both_headers_and_line_endings_give_same_bars(header, newline):
    """English/Polish headers with CRLF/LF all parse to the same bars."""
    history = parse_stooq_csv(newline.join([header, *ROWS, ""]).encode(), ticker="X")
    assert history.bars == (
        Bar(dt.date(2026, 1, 5), 10.0, 11.0, 9.5, 10.5, 1000.25),
        Bar(dt.date(2026, 1, 6), 10.5, 12.0, 10.0, 11.75, 2000.0),
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["2026-01-05,10,11,9.5,x,1000"], r"line 2\.Close: expected a number, got 'x'"),
        (["2026-01-05,10,11,9.5,nan,1000"], r"line 2\.Close: expected a finite number, got nan"),
        (["2026-01-05,-10,11,9.5,10,1000"], r"line 2\.Open: expected a positive price, got -10\.0"),
        (["2026-01-05,10,11,9.5,10,-1"], r"line 2\.Volume: expected a finite volume >= 0"),
        (["2026-01-05,10,9,9.5,10,1"], r"line 2\.High: high 9\.0 is below low 9\.5"),
        ([ROWS[1], ROWS[0]], r"line 3\.Date: bars out of order: 2026-01-05 after 2026-01-06"),
        ([ROWS[0], ROWS[0]], r"line 3\.Date: duplicate date"),
        (["2026-01-05,10,11,9.5"], r"line 2: expected 6 fields, got 4"),
        (["05.01.2026,10,11,9.5,10,1"], r"line 2\.Date: expected a date YYYY-MM-DD"),
    ],
)
def test_bad_rows_name_line_and_column(rows, expected):
    """Each bad row raises MalformedData naming the line and column."""
    with pytest.raises(MalformedData, match=expected):
        parse_stooq_csv("\n".join([ENGLISH, *rows]), ticker="X")


def test_polish_bad_row_uses_polish_column_name():
    """With the Polish header the column is named as in the file."""
    with pytest.raises(MalformedData, match=r"line 2\.Zamkniecie: expected a number"):
        parse_stooq_csv("\n".join([POLISH, "2026-01-05,10,11,9.5,?,1"]), ticker="X")


def test_unknown_header_is_malformed():
    """A CSV that is not Stooq's says which header was expected."""
    with pytest.raises(MalformedData, match=r"line 1: expected header Date,Open,High,Low,Close,Volume"):
        parse_stooq_csv("when,price\n2026-01-05,3", ticker="X")


def test_stooq_text_answers_map_to_provider_errors():
    """'No data' is DataNotAvailable; the hits limit is ProviderUnavailable."""
    with pytest.raises(DataNotAvailable):
        parse_stooq_csv(b"No data", ticker="X")
    with pytest.raises(ProviderUnavailable):
        parse_stooq_csv(b"Exceeded the daily hits limit", ticker="X")
