"""Hostile values through every parser: only a value or a clear per-ticker error ever comes out.

Each test takes a small, valid document cut from the recorded data, replaces one to three of
its values (or deletes keys) with something hostile — huge and tiny floats, inf, NaN,
negatives, integer literals of 25, 400 and 5,000 digits written straight into the JSON text,
absurd dates, wrong types — and parses it. The parser must either return a value whose every
number and date is within :mod:`actors.core.plausible`'s bounds, or raise a ``ProviderError``; a
``MalformedData`` message starts with the field path (``data[3].close: ...``). A history that
parses is then scored: a ``TickerScored`` or a per-ticker ``UnusableHistory``, nothing else.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.errors import MalformedData, ProviderError
from actors.core.plausible import (
    EARLIEST_DATE,
    FUTURE_SLACK,
    MAX_CONTRACTS,
    MAX_GREEK,
    MAX_IV,
    MAX_PRICE,
    price_problem,
    volume_problem,
)
from actors.providers.parsers import (
    EarningsDay,
    parse_cboe_chain,
    parse_cboe_chart,
    parse_nasdaq_earnings,
    parse_stooq_csv,
    parse_yahoo_chart,
    parse_yahoo_news,
    parse_yahoo_options,
)
from actors.providers.snapshot import SnapshotProvider
from actors.core.scoring.errors import UnusableHistory
from actors.core.scoring.technical import score_history
from messages.market import Headline, OptionChain, PriceHistory
from tests.providers.conftest import recorded, recorded_json

TODAY = dt.date(2026, 7, 28)
LATEST = TODAY + FUTURE_SLACK
_EXAMPLES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Integer literals too long for any market value, written into the JSON text as they are.
BIG_LITERALS = ("9" * 25, "-" + "9" * 30, "1" * 400, "9" * 5000)
DATES = ("9999-12-30", "0001-01-01", "1969-12-31", "2100-01-01", "2026-02-30", "2099-12-31", "", "yesterday")
_MARK = "\u0000big:"


def _hostile_scalar() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([1e308, -1e308, 5e-324, 1e-300, 0.0, -0.0, -1.0, 1e7, 9_999_999.99, 1e13, 1e9, 2.5]),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([f"{_MARK}{i}" for i in range(len(BIG_LITERALS))]),
        st.sampled_from(DATES),
        st.text(max_size=12),
        st.none(),
        st.booleans(),
        st.just([]),
        st.just({}),
        st.just(["x", 1]),
        st.just({"a": None}),
    )


DELETE = object()
HOSTILE = st.one_of(_hostile_scalar(), st.just(DELETE))


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path in ``doc`` (containers too, so a whole array or object can be replaced)."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


def _set(doc: Any, path: tuple, value: Any) -> None:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


def _dump(doc: Any) -> str:
    """JSON text (NaN/Infinity written as Python's json does), with the big literals spliced in."""
    text = json.dumps(doc, allow_nan=True)
    for i, literal in enumerate(BIG_LITERALS):
        text = text.replace(json.dumps(f"{_MARK}{i}"), literal)
    return text


def _mutated(data: st.DataObject, base: Any) -> str:
    doc = json.loads(json.dumps(base))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        value = data.draw(HOSTILE, label="value")
        _set(doc, path, value if value is DELETE else copy.deepcopy(value))
    return _dump(doc)


def _expect_value_or_clear_error(parse: Callable[[], Any]) -> Any:
    """The parse result, or None after checking the error is a ProviderError with a path."""
    try:
        return parse()
    except ProviderError as exc:
        if isinstance(exc, MalformedData):
            assert re.match(r"^(\$|[\w.\[\]]+|line \d+(\.\w+)?): \S", exc.message), exc.message
        assert len(str(exc)) < 600, "an error message must stay readable"
        return None


def _check_date(date: dt.date, latest: dt.date = LATEST) -> None:
    assert EARLIEST_DATE <= date <= latest


def _check_history(history: PriceHistory) -> None:
    assert history.bars and history.as_of == history.bars[-1].date
    previous = None
    for bar in history.bars:
        _check_date(bar.date)
        assert previous is None or bar.date > previous
        previous = bar.date
        for value in (bar.open, bar.high, bar.low, bar.close):
            assert price_problem(value) is None
        assert volume_problem(bar.volume) is None and bar.high >= bar.low
    try:
        scored = score_history(history)
    except UnusableHistory:
        return
    assert 0.0 <= scored.score <= 100.0
    assert all(math.isfinite(c.value) and 0.0 <= c.value <= 1.0 for c in scored.components)


def _check_chain(chain: OptionChain) -> None:
    assert price_problem(chain.underlying_price) is None
    _check_date(chain.as_of.date())
    assert chain.quotes
    for q in chain.quotes:
        assert price_problem(q.strike) is None
        assert 0 <= q.bid <= q.ask < MAX_PRICE
        assert q.last is None or 0 < q.last < MAX_PRICE
        for count in (q.volume, q.open_interest):
            assert 0 <= count < MAX_CONTRACTS and count == int(count)
        assert q.iv is None or 0 < q.iv <= MAX_IV
        assert q.delta is None or -1 <= q.delta <= 1
        for greek in (q.gamma, q.theta, q.vega):
            assert greek is None or (math.isfinite(greek) and abs(greek) < MAX_GREEK)
        assert chain.as_of.date() - dt.timedelta(days=7) <= q.expiry <= chain.as_of.date() + dt.timedelta(days=3660)


def _check_news(news: tuple[Headline, ...]) -> None:
    for h in news:
        assert h.title.strip()
        _check_date(h.published_at.date())


def _check_earnings(day: EarningsDay) -> None:
    _check_date(day.day, TODAY + dt.timedelta(days=2 * 366))
    assert all(e.ticker and e.date == day.day for e in day.events)


# -- small valid documents cut from the recordings ----------------------------------------------


def _cboe_chart() -> dict:
    doc = recorded_json("cboe/cboe_chart_historical_AAPL.json")
    doc["data"] = doc["data"][-65:]
    return doc


def _yahoo_chart() -> dict:
    doc = recorded_json("yahoo_chart/yahoo_chart_MSFT.json")
    result = doc["chart"]["result"][0]
    result["timestamp"] = result["timestamp"][-62:]
    quote = result["indicators"]["quote"][0]
    for name in list(quote):
        quote[name] = quote[name][-62:]
    result["indicators"] = {"quote": [quote]}
    return doc


def _cboe_chain() -> dict:
    doc = recorded_json("cboe/cboe_options_CLX.json")
    doc["data"]["options"] = doc["data"]["options"][100:112]
    return doc


def _yahoo_options() -> dict:
    doc = recorded_json("yahoo_options/yahoo_options_AAPL.json")
    group = doc["optionChain"]["result"][0]["options"][0]
    group["calls"], group["puts"] = group["calls"][20:26], group["puts"][20:26]
    return doc


def _nasdaq_day() -> dict:
    doc = recorded_json("nasdaq_earnings/nasdaq_earnings_2024-07-01.json")
    doc["data"]["rows"] = doc["data"]["rows"][:6]
    return doc


CBOE_CHART, YAHOO_CHART, CBOE_CHAIN = _cboe_chart(), _yahoo_chart(), _cboe_chain()
YAHOO_OPTIONS, NASDAQ_DAY = _yahoo_options(), _nasdaq_day()
NEWS = recorded_json("yahoo_search/yahoo_search_news_AAPL.json")


async def test_snapshot_provider_bounds_dates_by_its_injected_today():
    """Recordings dated after the provider's ``today`` (+2 days) are refused, naming the first late bar."""
    early = SnapshotProvider(today=dt.date(2026, 1, 1))
    try:
        await early.history("AAPL")
    except MalformedData as exc:
        assert re.match(r"data\[\d+\]\.date: date 2026-01-05 is after 2026-01-03 \(today 2026-01-01\)$", exc.message)
    else:
        raise AssertionError("a history dated after today was accepted")
    assert (await SnapshotProvider(today=TODAY).history("AAPL")).as_of == dt.date(2026, 7, 23)


def test_the_cut_documents_parse_cleanly():
    """The bases are valid, so whatever fails below fails because of the hostile value."""
    _check_history(parse_cboe_chart(_dump(CBOE_CHART), ticker="AAPL", today=TODAY))
    _check_history(parse_yahoo_chart(_dump(YAHOO_CHART), ticker="MSFT", today=TODAY))
    _check_chain(parse_cboe_chain(_dump(CBOE_CHAIN), ticker="CLX", today=TODAY))
    _check_chain(parse_yahoo_options(_dump(YAHOO_OPTIONS), ticker="AAPL", today=TODAY))
    _check_news(parse_yahoo_news(_dump(NEWS), ticker="AAPL", today=TODAY))
    assert len(parse_nasdaq_earnings(_dump(NASDAQ_DAY), today=TODAY).events) == 6


@_EXAMPLES
@given(st.data())
def test_cboe_chart_gives_a_plausible_history_or_a_clear_error(data):
    """Cboe chart: every bar plausible and scorable, or a ProviderError naming the field."""
    raw = _mutated(data, CBOE_CHART)
    history = _expect_value_or_clear_error(lambda: parse_cboe_chart(raw, ticker="AAPL", today=TODAY))
    if history is not None:
        _check_history(history)


@_EXAMPLES
@given(st.data())
def test_yahoo_chart_gives_a_plausible_history_or_a_clear_error(data):
    """Yahoo chart: every bar plausible and scorable, or a ProviderError naming the field."""
    raw = _mutated(data, YAHOO_CHART)
    history = _expect_value_or_clear_error(lambda: parse_yahoo_chart(raw, ticker="MSFT", today=TODAY))
    if history is not None:
        _check_history(history)


@_EXAMPLES
@given(st.data())
def test_cboe_chain_gives_plausible_contracts_or_a_clear_error(data):
    """Cboe chain: every kept contract plausible, or a ProviderError naming the field."""
    raw = _mutated(data, CBOE_CHAIN)
    chain = _expect_value_or_clear_error(lambda: parse_cboe_chain(raw, ticker="CLX", today=TODAY))
    if chain is not None:
        _check_chain(chain)


@_EXAMPLES
@given(st.data())
def test_yahoo_options_gives_plausible_contracts_or_a_clear_error(data):
    """Yahoo options: every kept contract plausible, or a ProviderError naming the field."""
    raw = _mutated(data, YAHOO_OPTIONS)
    chain = _expect_value_or_clear_error(lambda: parse_yahoo_options(raw, ticker="AAPL", today=TODAY))
    if chain is not None:
        _check_chain(chain)


@_EXAMPLES
@given(st.data())
def test_yahoo_news_gives_sane_headlines_or_a_clear_error(data):
    """Yahoo news: kept headlines are titled and dated 1970..today, or a ProviderError."""
    raw = _mutated(data, NEWS)
    news = _expect_value_or_clear_error(lambda: parse_yahoo_news(raw, ticker="AAPL", today=TODAY))
    if news is not None:
        _check_news(news)


@_EXAMPLES
@given(st.data())
def test_nasdaq_earnings_gives_a_sane_day_or_a_clear_error(data):
    """Nasdaq calendar: a day dated 1970..two years ahead with named events, or a ProviderError."""
    raw = _mutated(data, NASDAQ_DAY)
    day = _expect_value_or_clear_error(lambda: parse_nasdaq_earnings(raw, today=TODAY))
    if day is not None:
        _check_earnings(day)


_STOOQ_LINES = recorded("stooq/stooq_spy_us_d.csv").decode().splitlines()
STOOQ_HEADER, STOOQ_ROWS = _STOOQ_LINES[0], _STOOQ_LINES[-66:]
STOOQ_CELLS = st.one_of(
    st.sampled_from(
        ["1e308", "-1e308", "inf", "-inf", "nan", "NaN", "0", "-0", "-5", "1e7", "5e-324", "", " ", "x", "1,2",
         *BIG_LITERALS, *DATES]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=10),
)


@_EXAMPLES
@given(st.data())
def test_stooq_csv_gives_a_plausible_history_or_a_clear_error(data):
    """Stooq CSV: hostile cells give plausible, scorable bars or a ProviderError naming ``line N.Column``."""
    rows = [row.split(",") for row in STOOQ_ROWS]
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        row = data.draw(st.sampled_from(rows), label="row")
        row[data.draw(st.integers(0, len(row) - 1), label="column")] = data.draw(STOOQ_CELLS, label="cell")
    raw = "\n".join([STOOQ_HEADER, *(",".join(row) for row in rows)])
    history = _expect_value_or_clear_error(lambda: parse_stooq_csv(raw, ticker="SPY", today=TODAY))
    if history is not None:
        _check_history(history)
