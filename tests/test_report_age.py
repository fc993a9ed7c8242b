"""The table's age cell: quote age when a chain was fetched, else days since the as-of date; * for mixed dates."""

import datetime as dt

import pytest

from actors.report import age_cell

TODAY = dt.date(2026, 7, 27)


@pytest.mark.parametrize(
    ("row", "cell"),
    [
        ({"quote_age_s": 45 * 60.0, "as_of": "2026-07-27"}, "45m"),
        ({"quote_age_s": 6 * 3600.0, "as_of": "2026-07-27"}, "6h"),
        ({"quote_age_s": 3 * 86400.0, "as_of": "2026-07-24", "data_flags": ["mixed-dates"]}, "3d*"),
        ({"quote_age_s": None, "as_of": "2026-07-24"}, "3d"),
        ({"as_of": "2026-07-27"}, "0m"),
        ({}, "-"),
    ],
)
def test_age_cell(row, cell):
    assert age_cell(row, today=TODAY) == cell
