"""SEC EDGAR 8-K feeds as a second headline source: off by default, the declared User-Agent, one source
failing still gives the other's items, and a recording replays both."""

from __future__ import annotations

import httpx
import pytest

from actors.errors import MalformedData
from actors.providers.snapshot import SnapshotProvider

from .conftest import RSS, make_provider

EDGAR = "http://sec.test/cgi-bin/browse-edgar?action=getcompany&CIK={symbol}&type=8-K&output=atom"
DECLARED = "Jane Doe jane@example.com"


def handler_for(*, feed_status: int = 200, seen: list[httpx.Request] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.host == "sec.test":
            file = RSS / f"edgar_{request.url.params['CIK']}.xml"
            return httpx.Response(200, content=file.read_bytes()) if file.exists() else httpx.Response(404)
        if feed_status != 200:
            return httpx.Response(feed_status)
        file = RSS / f"rss_{request.url.params['s']}.xml"
        return httpx.Response(200, content=file.read_bytes()) if file.exists() else httpx.Response(404)

    return handler


async def test_edgar_is_off_without_a_declared_user_agent(tmp_path):
    seen: list[httpx.Request] = []
    live = make_provider(handler_for(seen=seen), tmp_path, edgar_feed_url=EDGAR)
    assert len(await live.news("AAPL")) == 2
    await live.aclose()
    assert [r.url.host for r in seen] == ["news.test"]


async def test_filings_follow_the_headlines_and_edgar_gets_the_declared_user_agent(tmp_path):
    seen: list[httpx.Request] = []
    record = tmp_path / "rec"
    live = make_provider(handler_for(seen=seen), tmp_path, edgar_feed_url=EDGAR, edgar_user_agent=DECLARED,
                         record_dir=record)
    news = await live.news("AAPL")
    await live.aclose()
    assert [h.title for h in news] == ["Test headline one about AAPL", "Test headline two about AAPL",
                                       "8-K  - Current report"]
    assert news[2].publisher == "APPLE INC  (0000320193)"
    by_host = {r.url.host: r.headers["User-Agent"] for r in seen}
    assert by_host["sec.test"] == DECLARED and by_host["news.test"].startswith("option-alpha/")
    assert await SnapshotProvider(data_dir=record).news("AAPL") == news


async def test_one_source_failing_still_gives_the_other(tmp_path):
    """The headline feed answers 404 (and CLX has no EDGAR feed): AAPL gets its filings; CLX fails."""
    live = make_provider(handler_for(feed_status=404), tmp_path, edgar_feed_url=EDGAR, edgar_user_agent=DECLARED)
    assert [h.title for h in await live.news("AAPL")] == ["8-K  - Current report"]
    with pytest.raises(Exception, match="HTTP 404"):
        await live.news("CLX")
    await live.aclose()


async def test_an_empty_feed_beside_filings_gives_the_filings(tmp_path):
    """Yahoo's empty feed fails that source (MalformedData when it is the only one); with EDGAR on,
    the filings are the ticker's news."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sec.test":
            return httpx.Response(200, content=(RSS / "edgar_AAPL.xml").read_bytes())
        return httpx.Response(200, content=(RSS / "rss_EMPTY.xml").read_bytes())

    alone = make_provider(handler, tmp_path / "alone", edgar_feed_url=EDGAR)
    with pytest.raises(MalformedData, match="no items"):
        await alone.news("EMPTY")
    await alone.aclose()
    both = make_provider(handler, tmp_path / "both", edgar_feed_url=EDGAR, edgar_user_agent=DECLARED)
    assert [h.title for h in await both.news("EMPTY")] == ["8-K  - Current report"]
    await both.aclose()
