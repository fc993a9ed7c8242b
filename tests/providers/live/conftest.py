"""Shared pieces of the live-provider tests: recorded bodies, a MockTransport that serves them, a provider over it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import httpx
import pytest

from actors.providers.live.http import HostPolicy
from actors.providers.live.provider import LiveConfig, LiveProvider

RECORDED = resources.files("actors.providers") / "snapshot_data"
RSS = Path(__file__).resolve().parents[2] / "fixtures" / "rss"
DAY = dt.date(2026, 7, 24)
BASE = "http://cboe.test"
NASDAQ = "http://nasdaq.test"
NEWS = "http://news.test/rss?s={symbol}"


def recorded(relative: str) -> bytes:
    return RECORDED.joinpath(relative).read_bytes()


def fast_policy(**overrides) -> HostPolicy:
    """A policy for tests: high rate, the default retry schedule unless overridden."""
    return HostPolicy(**{"rate": 1000.0, "burst": 1000, "timeout": 5.0, **overrides})


def make_provider(handler: Callable[[httpx.Request], object], tmp_path: Path, **overrides) -> LiveProvider:
    policy = overrides.pop("policy", fast_policy())
    options = {"cboe_base_url": BASE, "nasdaq_base_url": NASDAQ, "news_feed_url": NEWS, "cboe": policy,
               "nasdaq": policy, "news": policy, "cache_dir": tmp_path / "cache",
               "transport": httpx.MockTransport(handler), "day": lambda: DAY, **overrides}
    config = LiveConfig(**options)
    return LiveProvider(config=config)


@pytest.fixture
def serve_recorded():
    """A handler answering like the real hosts from the recorded files; counts requests per path."""

    class Served:
        def __init__(self) -> None:
            self.paths: list[str] = []

        def __call__(self, request: httpx.Request) -> httpx.Response:
            path = request.url.path
            self.paths.append(f"{request.url.host}{path}?{request.url.query.decode()}")
            if path.startswith("/api/global/delayed_quotes/charts/historical/"):
                name = path.rsplit("/", 1)[1][:-5]
                try:
                    return httpx.Response(200, content=recorded(f"cboe/cboe_chart_historical_{name}.json"))
                except FileNotFoundError:
                    return httpx.Response(403, content=b"<Error>AccessDenied</Error>")
            if path.startswith("/api/global/delayed_quotes/options/"):
                name = path.rsplit("/", 1)[1][:-5]
                try:
                    return httpx.Response(200, content=recorded(f"cboe/cboe_options_{name}.json"))
                except FileNotFoundError:
                    return httpx.Response(403)
            if path == "/rss":
                symbol = request.url.params["s"]
                file = RSS / f"rss_{symbol}.xml"
                return httpx.Response(200, content=file.read_bytes()) if file.exists() else httpx.Response(404)
            return httpx.Response(404)

    return Served()
