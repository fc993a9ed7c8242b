"""The live provider over recorded answers: one parsing path with the snapshot, corrupted variants,
earnings days asked once and with Nasdaq's headers only there, RSS news, record → replay."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
import trio

from actors.errors import MalformedData, UnknownTicker
from actors.providers.live.http import USER_AGENT
from actors.providers.snapshot import SnapshotProvider

from .conftest import make_provider, recorded


async def test_history_and_chain_are_the_snapshots_own_parse_of_the_same_bytes(serve_recorded, tmp_path):
    """AAPL and CLX served from the recordings: live gives exactly what the snapshot gives."""
    live = make_provider(serve_recorded, tmp_path)
    snapshot = SnapshotProvider()
    assert await live.history("AAPL") == await snapshot.history("AAPL")
    for ticker in ("AAPL", "CLX"):
        assert await live.chain(ticker) == await snapshot.chain(ticker)
    await live.aclose()
    assert sorted(serve_recorded.paths) == [
        "cboe.test/api/global/delayed_quotes/charts/historical/AAPL.json?",
        "cboe.test/api/global/delayed_quotes/options/AAPL.json?",
        "cboe.test/api/global/delayed_quotes/options/CLX.json?",
    ]


async def test_an_index_is_asked_with_cboes_underscore(tmp_path):
    """SPX is /options/_SPX.json; the document's symbol _SPX is accepted for ticker SPX."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        doc = json.loads(recorded("cboe/cboe_options_CLX.json"))
        doc["data"]["symbol"] = "_SPX"
        return httpx.Response(200, content=json.dumps(doc).encode())

    live = make_provider(handler, tmp_path)
    chain = await live.chain("SPX")
    await live.aclose()
    assert asked == ["/api/global/delayed_quotes/options/_SPX.json"] and chain.ticker == "SPX"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[: len(b) // 2], "truncated|Unterminated|Expecting"),
        (lambda b: b"<html>502 Bad Gateway</html>", r"\$"),
        (lambda b: json.dumps({**json.loads(b), "data": None}).encode(), "data"),
        (lambda b: b.replace(b'"symbol": "AAPL"', b'"symbol": "MSFT"').replace(b'"symbol":"AAPL"', b'"symbol":"MSFT"'),
         "symbol"),
    ],
    ids=["truncated", "html", "data-null", "other-symbol"],
)
async def test_a_corrupted_answer_is_malformed_data_and_is_asked_again_later(tmp_path, mutate, message):
    """A broken body fails the piece with MalformedData naming where; the bad body is not served again from
    the cache as if good (the failure is remembered briefly instead)."""
    good = recorded("cboe/cboe_chart_historical_AAPL.json")
    bad = mutate(good)
    assert bad != good

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bad)

    live = make_provider(handler, tmp_path)
    with pytest.raises(MalformedData, match=message):
        await live.history("AAPL")
    with pytest.raises(MalformedData, match=r"\(cached\)"):
        await live.history("AAPL")
    await live.aclose()


async def test_unknown_symbol_is_unknown_ticker(serve_recorded, tmp_path):
    live = make_provider(serve_recorded, tmp_path)
    with pytest.raises(UnknownTicker, match="NOPE history: cboe.test answered HTTP 403"):
        await live.history("NOPE")
    await live.aclose()


def nasdaq_handler(asked: list[httpx.Request], *, null_day: dt.date | None = None):
    """Nasdaq's calendar: the recorded 2024-07-01..03 days, other days a day without reports
    (the recorded document, asOf moved, rows emptied), ``null_day`` with ``data: null``."""
    template = json.loads(recorded("nasdaq_earnings/nasdaq_earnings_2024-07-01.json"))

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        day = dt.date.fromisoformat(request.url.params["date"])
        try:
            return httpx.Response(200, content=recorded(f"nasdaq_earnings/nasdaq_earnings_{day}.json"))
        except FileNotFoundError:
            pass
        doc = json.loads(json.dumps(template))
        doc["data"]["asOf"] = day.strftime("%a, %b %-d, %Y")
        doc["data"]["rows"] = []
        if day == null_day:
            doc["data"] = None
        return httpx.Response(200, content=json.dumps(doc).encode())

    return handler


async def test_earnings_days_are_asked_once_for_all_tickers_with_nasdaqs_headers(tmp_path):
    """30 tickers ask the same two-week window at once: each of its 10 weekdays is asked exactly once,
    with the browser-like headers Nasdaq requires; the events match the snapshot's."""
    asked: list[httpx.Request] = []
    live = make_provider(nasdaq_handler(asked), tmp_path)
    start, end = dt.date(2024, 7, 1), dt.date(2024, 7, 14)
    results: dict[str, object] = {}

    async def one(ticker: str) -> None:
        results[ticker] = await live.earnings(ticker, start, end)

    async with trio.open_nursery() as nursery:
        for ticker in ["STZ", "AAPL", *[f"T{i}" for i in range(28)]]:
            nursery.start_soon(one, ticker)
    await live.aclose()
    days = sorted(r.url.params["date"] for r in asked)
    assert days == ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-04", "2024-07-05",
                    "2024-07-08", "2024-07-09", "2024-07-10", "2024-07-11", "2024-07-12"]
    assert all(r.headers["Origin"] == "https://www.nasdaq.com" and r.headers["Referer"] for r in asked)
    assert all(r.headers["User-Agent"] != USER_AGENT for r in asked)
    snapshot = SnapshotProvider()
    assert results["STZ"] == await snapshot.earnings("STZ", dt.date(2024, 7, 1), dt.date(2024, 7, 3))
    assert results["STZ"] and results["AAPL"] == ()


async def test_a_day_nasdaq_cannot_give_makes_the_window_unknown(tmp_path):
    """data: null for one weekday → None (unknown), never () (no earnings)."""
    asked: list[httpx.Request] = []
    live = make_provider(nasdaq_handler(asked, null_day=dt.date(2024, 7, 9)), tmp_path)
    assert await live.earnings("AAPL", dt.date(2024, 7, 1), dt.date(2024, 7, 12)) is None
    assert await live.earnings("AAPL", dt.date(2024, 7, 1), dt.date(2024, 7, 5)) == ()
    await live.aclose()


async def test_news_comes_from_the_rss_feed_and_an_empty_feed_is_a_failure(serve_recorded, tmp_path):
    """AAPL's feed: two headlines (the undated item dropped), newest first; an empty channel is MalformedData."""
    live = make_provider(serve_recorded, tmp_path)
    headlines = await live.news("AAPL")
    assert [h.title for h in headlines] == ["Test headline one about AAPL", "Test headline two about AAPL"]
    assert headlines[0].published_at == dt.datetime(2026, 7, 23, 20, 5, tzinfo=dt.timezone.utc)
    assert headlines[0].publisher == "Yahoo! Finance: AAPL News"
    with pytest.raises(MalformedData, match="no items"):
        await live.news("EMPTY")
    await live.aclose()


async def test_a_recorded_run_replays_the_same_pieces_offline(serve_recorded, tmp_path):
    """record_dir gets every body used in the snapshot layout; SnapshotProvider(data_dir=...) gives
    the same history, chain, news and earnings, with no network."""
    record = tmp_path / "rec"
    asked: list[httpx.Request] = []
    nasdaq = nasdaq_handler(asked)

    def handler(request: httpx.Request) -> httpx.Response:
        return nasdaq(request) if request.url.host == "nasdaq.test" else serve_recorded(request)

    live = make_provider(handler, tmp_path, record_dir=record)
    window = (dt.date(2024, 7, 1), dt.date(2024, 7, 8))
    got = {t: (await live.history(t) if t == "AAPL" else None, await live.chain(t), await live.news(t),
               await live.earnings("STZ", *window)) for t in ("AAPL", "CLX")}
    await live.aclose()
    assert sorted(p.relative_to(record).as_posix() for p in record.rglob("*") if p.is_file()) == [
        "cboe/cboe_chart_historical_AAPL.json", "cboe/cboe_options_AAPL.json", "cboe/cboe_options_CLX.json",
        *[f"nasdaq_earnings/nasdaq_earnings_2024-07-0{d}.json" for d in (1, 2, 3, 4, 5, 8)],
        "rss/rss_AAPL.xml", "rss/rss_CLX.xml",
    ]
    replay = SnapshotProvider(data_dir=record)
    for ticker, (history, chain, news, earnings) in got.items():
        if history is not None:
            assert await replay.history(ticker) == history
        assert await replay.chain(ticker) == chain
        assert await replay.news(ticker) == news
        assert await replay.earnings("STZ", *window) == earnings
    assert set(replay.default_universe()) >= {"AAPL", "CLX"}


async def test_a_calendar_day_whose_first_asker_was_cancelled_is_asked_again(autojump_clock, tmp_path):
    """The ticker that started a day's request is cancelled mid-request: the day is not left 'unknown';
    the next ticker asks it again and gets the events."""
    asked: list[httpx.Request] = []
    inner = nasdaq_handler([])

    async def slow(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        await trio.sleep(5)
        return inner(request)

    live = make_provider(slow, tmp_path)
    day = dt.date(2024, 7, 2)
    with trio.move_on_after(1):
        await live.earnings("STZ", day, day)
    assert await live.earnings("STZ", day, day) == await SnapshotProvider().earnings("STZ", day, day)
    assert len(asked) == 2
    await live.aclose()
