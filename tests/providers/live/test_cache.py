"""The on-disk cache: a second run the same day asks nothing, --refresh asks again, failures kept by kind."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from actors.errors import UnknownTicker
from actors.providers.live.cache import FAILURE_TTL, CachedBody, CachedFailure, HttpCache, default_cache_dir, trading_day

from .conftest import DAY, make_provider


async def test_a_second_run_the_same_day_makes_no_request(serve_recorded, tmp_path):
    """Two providers (two runs) on one cache folder: the second gets AAPL's history and chain without a request."""
    first = make_provider(serve_recorded, tmp_path)
    history = await first.history("AAPL")
    chain = await first.chain("AAPL")
    await first.aclose()
    assert len(serve_recorded.paths) == 2
    second = make_provider(serve_recorded, tmp_path)
    assert await second.history("AAPL") == history
    assert await second.chain("AAPL") == chain
    await second.aclose()
    assert len(serve_recorded.paths) == 2
    assert second.request_counts() == {}


async def test_refresh_asks_again_and_updates_the_cache(serve_recorded, tmp_path):
    """cache_mode=refresh (--refresh) makes the request even with a fresh entry, and writes it."""
    first = make_provider(serve_recorded, tmp_path)
    await first.history("AAPL")
    refreshed = make_provider(serve_recorded, tmp_path, cache_mode="refresh")
    await refreshed.history("AAPL")
    assert len(serve_recorded.paths) == 2
    assert refreshed.cache.writes == 1
    for provider in (first, refreshed):
        await provider.aclose()


async def test_another_trading_day_is_another_key(serve_recorded, tmp_path):
    """The same URL on the next trading day is asked again."""
    first = make_provider(serve_recorded, tmp_path)
    await first.history("AAPL")
    later = make_provider(serve_recorded, tmp_path, day=lambda: DAY + dt.timedelta(days=3))
    await later.history("AAPL")
    assert len(serve_recorded.paths) == 2
    for provider in (first, later):
        await provider.aclose()


async def test_an_unknown_symbol_is_remembered_and_not_asked_again(serve_recorded, tmp_path):
    """Cboe's 403 for an unknown symbol: UnknownTicker; the next run says so from the cache, no request."""
    for run in range(2):
        provider = make_provider(serve_recorded, tmp_path)
        with pytest.raises(UnknownTicker, match="HTTP 403"):
            await provider.history("NOPE")
        await provider.aclose()
    assert len(serve_recorded.paths) == 1


def test_failures_expire_by_kind(tmp_path):
    """An 'unavailable' failure is kept 120 s, an unknown symbol hours: the clock decides the hit."""
    now = [1000.0]
    cache = HttpCache(tmp_path, now=lambda: now[0])
    cache.put_failure("http://h/a", day=DAY, kind="unavailable", message="refused")
    cache.put_failure("http://h/b", day=DAY, kind="unknown_ticker", message="403")
    assert isinstance(cache.get("http://h/a", day=DAY), CachedFailure)
    now[0] += FAILURE_TTL["unavailable"] + 1
    assert cache.get("http://h/a", day=DAY) is None
    assert cache.get("http://h/b", day=DAY) == CachedFailure("unknown_ticker", "403")


def test_feeds_go_stale_after_their_ttl_and_keep_their_validators(tmp_path):
    """A feed (day=None) is fresh for news_ttl, then returned stale with its ETag for a conditional GET."""
    now = [0.0]
    cache = HttpCache(tmp_path, news_ttl=900, now=lambda: now[0])
    cache.put("http://h/rss", b"<rss/>", day=None, etag='"v1"', last_modified="Thu, 23 Jul 2026 20:05:00 GMT")
    assert cache.get("http://h/rss", day=None) == CachedBody(b"<rss/>", 0.0, '"v1"', "Thu, 23 Jul 2026 20:05:00 GMT")
    now[0] = 901
    stale = cache.get("http://h/rss", day=None)
    assert isinstance(stale, CachedBody) and not stale.fresh and stale.etag == '"v1"'


def test_a_corrupt_entry_is_a_miss_and_off_mode_writes_nothing(tmp_path):
    cache = HttpCache(tmp_path)
    cache.put("http://h/x", b"\xffbinary\x00", day=DAY)
    assert cache.get("http://h/x", day=DAY).body == b"\xffbinary\x00"  # bytes survive the JSON entry
    path = next((tmp_path / "http").rglob("*.json"))
    path.write_text("{truncated", encoding="utf-8")
    assert cache.get("http://h/x", day=DAY) is None
    off = HttpCache(tmp_path / "off", mode="off")
    off.put("http://h/y", b"x", day=DAY)
    assert not (tmp_path / "off").exists()


async def test_conditional_get_reuses_the_body_on_304(tmp_path):
    """A stale feed is asked with If-None-Match; the 304 keeps the cached headlines."""
    from .conftest import RSS

    body = (RSS / "rss_AAPL.xml").read_bytes()
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        if request.headers.get("If-None-Match") == '"abc"':
            return httpx.Response(304, headers={"ETag": '"abc"'})
        return httpx.Response(200, headers={"ETag": '"abc"'}, content=body)

    provider = make_provider(handler, tmp_path, news_ttl=0.0)
    first = await provider.news("AAPL")
    second = await provider.news("AAPL")
    await provider.aclose()
    assert first == second and len(first) == 2
    assert "If-None-Match" not in seen[0] and seen[1]["If-None-Match"] == '"abc"'


def test_trading_day_and_cache_folder():
    """Before 09:30 New York the key is the previous session; weekends fall back to Friday;
    $CACHE_DIRECTORY (systemd) wins over $XDG_CACHE_HOME."""
    utc = dt.timezone.utc
    assert trading_day(dt.datetime(2026, 7, 24, 14, 0, tzinfo=utc)) == dt.date(2026, 7, 24)  # 10:00 NY, Friday
    assert trading_day(dt.datetime(2026, 7, 24, 12, 0, tzinfo=utc)) == dt.date(2026, 7, 23)  # 08:00 NY
    assert trading_day(dt.datetime(2026, 7, 26, 18, 0, tzinfo=utc)) == dt.date(2026, 7, 24)  # Sunday
    assert trading_day(dt.datetime(2026, 7, 27, 12, 0, tzinfo=utc)) == dt.date(2026, 7, 24)  # Monday pre-open
    assert str(default_cache_dir({"CACHE_DIRECTORY": "/var/cache/oa", "XDG_CACHE_HOME": "/x"})) == "/var/cache/oa"
    assert str(default_cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"})) == "/x/option-alpha"
    assert str(default_cache_dir({"HOME": "/h"})) == "/h/.cache/option-alpha"
