"""One host's client over httpx.MockTransport in virtual time: retries, Retry-After, 4xx, breaker, headers."""

from __future__ import annotations

import logging

import httpx
import pytest
import trio

from actors.errors import DataNotAvailable, ProviderUnavailable, UnknownTicker
from actors.providers.live.http import USER_AGENT, HostClient, HostDown, HostPolicy

URL = "http://host.test/x.json"


def client(handler, **policy) -> HostClient:
    settings = {"rate": 1000.0, "burst": 1000, "retry_delays": (1.0, 2.0, 4.0), **policy}
    return HostClient("host.test", policy=HostPolicy(**settings), transport=httpx.MockTransport(handler))


def scripted(*answers):
    """A handler giving ``answers`` in order (a status, or an exception class to raise); records the times."""
    times: list[float] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        answer = queue.pop(0) if queue else 200
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("scripted", request=request)
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return httpx.Response(status, headers=headers, content=b"ok" if status == 200 else b"no")

    return handler, times


async def get(host: HostClient, ticker: str = "AAPL") -> bytes:
    return await host.get(URL, ticker=ticker, piece="history", day=None, not_found=UnknownTicker)


async def test_5xx_and_connection_errors_are_retried_on_the_delay_schedule(autojump_clock):
    """503 (no Retry-After), a refused connection, then 200: attempts at t = 0, 1, 3."""
    handler, times = scripted(503, httpx.ConnectError, 200)
    host = client(handler)
    assert await get(host) == b"ok"
    assert times == [0.0, 1.0, 3.0]
    await host.aclose()


async def test_429_waits_for_retry_after_not_the_shorter_delay(autojump_clock):
    """429 with Retry-After: 7 → the next attempt 7 s later (not 1 s); 503 Retry-After likewise."""
    handler, times = scripted((429, {"Retry-After": "7"}), (503, {"Retry-After": "3"}), 200)
    host = client(handler)
    assert await get(host) == b"ok"
    assert times == [0.0, 7.0, 10.0]
    await host.aclose()


async def test_a_retry_after_beyond_the_cap_gives_up_at_once(autojump_clock):
    """429 with Retry-After: 3600: one request, ProviderUnavailable naming the wait, no hour-long sleep."""
    handler, times = scripted((429, {"Retry-After": "3600"}))
    host = client(handler)
    with pytest.raises(ProviderUnavailable, match="Retry-After 3600 s is too long"):
        await get(host)
    assert times == [0.0] and trio.current_time() == 0.0
    await host.aclose()


async def test_retries_stop_after_the_last_delay(autojump_clock):
    """Four 503s with delays (1, 2, 4): four attempts, then ProviderUnavailable after 7 s."""
    handler, times = scripted(503, 503, 503, 503, 200)
    host = client(handler, breaker_failures=10)
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503 \(after 4 attempts\)"):
        await get(host)
    assert times == [0.0, 1.0, 3.0, 7.0]
    await host.aclose()


@pytest.mark.parametrize(("status", "error"), [(404, UnknownTicker), (410, UnknownTicker), (400, ProviderUnavailable),
                                               (401, ProviderUnavailable), (403, ProviderUnavailable)])
async def test_other_4xx_give_up_without_retrying(autojump_clock, status, error):
    """A 4xx other than 429 is final: one request; 404/410 is the caller's not-found error."""
    handler, times = scripted(status)
    host = client(handler)
    with pytest.raises(error, match=f"HTTP {status}"):
        await get(host)
    assert len(times) == 1
    await host.aclose()


async def test_a_slow_answer_counts_as_a_transport_failure_and_is_retried(autojump_clock):
    """A read timeout is retried like a refused connection."""
    handler, times = scripted(httpx.ReadTimeout, 200)
    host = client(handler)
    assert await get(host) == b"ok"
    assert times == [0.0, 1.0]
    await host.aclose()


async def test_a_dead_host_costs_one_short_wait_not_one_per_ticker(autojump_clock, caplog):
    """Connection refused for 50 tickers, 8 at a time (the fetcher's concurrency): the breaker opens
    on the first failures; no request is retried and the other tickers fail at once, without a
    request; one WARNING names the host and suggests --demo / --source snapshot."""
    caplog.set_level(logging.INFO, logger="actors.providers.live.http")
    handler, times = scripted(*[httpx.ConnectError] * 1000)
    host = client(handler, breaker_failures=3, breaker_cooldown=60.0)
    failures: list[Exception] = []
    limiter = trio.CapacityLimiter(8)

    async def one(ticker: str) -> None:
        try:
            async with limiter:
                await get(host, ticker)
        except ProviderUnavailable as exc:
            failures.append(exc)

    async with trio.open_nursery() as nursery:
        for i in range(50):
            nursery.start_soon(one, f"T{i}")
    assert len(failures) == 50
    assert len(times) == 8  # the first eight in flight; nobody retried, nobody after them asked
    assert trio.current_time() == 1.0  # one wait: the first retry delay, when the breaker was found open
    assert sum(isinstance(f, HostDown) for f in failures) == 50
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "host.test cannot be reached" in warnings[0].getMessage()
    assert "--demo" in warnings[0].getMessage() and "--source snapshot" in warnings[0].getMessage()
    await host.aclose()


async def test_a_host_that_keeps_answering_429_is_treated_as_blocked(autojump_clock, caplog):
    """429 after 429 (Retry-After 2): the third opens the breaker; the next ticker fails at once without
    a request, instead of every ticker spending its whole retry schedule on 429s."""
    caplog.set_level(logging.WARNING, logger="actors.providers.live.http")
    handler, times = scripted(*[(429, {"Retry-After": "2"})] * 100)
    host = client(handler, breaker_failures=3)
    with pytest.raises(HostDown):
        await get(host, "A")
    with pytest.raises(HostDown):
        await get(host, "B")
    assert times == [0.0, 2.0, 4.0]
    (warning,) = caplog.records
    assert "HTTP 429" in warning.getMessage() and "blocked" in warning.getMessage()
    await host.aclose()


async def test_after_the_cooldown_one_trial_request_closes_the_breaker(autojump_clock):
    """Open breaker: fast failures; after the cooldown one request goes, succeeds, and the host is used again."""
    handler, times = scripted(httpx.ConnectError, httpx.ConnectError, 200, 200)
    host = client(handler, breaker_failures=2, breaker_cooldown=30.0, retry_delays=())
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await get(host)
    with pytest.raises(HostDown, match="host.test is unreachable"):
        await get(host)
    assert len(times) == 2
    await trio.sleep(30)
    assert await get(host) == b"ok"
    assert await get(host) == b"ok"
    assert times[2:] == [30.0, 30.0]
    await host.aclose()


async def test_every_request_names_the_tool_and_its_version():
    """User-Agent is option-alpha/<version> (+url), unless the caller sends a host's required headers."""
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, content=b"ok")

    host = client(handler)
    await get(host)
    await host.get(URL, ticker="X", piece="earnings", day=None, not_found=DataNotAvailable,
                   headers={"User-Agent": "Mozilla/5.0 x", "Origin": "https://www.nasdaq.com"})
    assert seen[0]["User-Agent"] == USER_AGENT and USER_AGENT.startswith("option-alpha/")
    assert "Origin" not in seen[0]
    assert seen[1]["User-Agent"] == "Mozilla/5.0 x" and seen[1]["Origin"] == "https://www.nasdaq.com"
    await host.aclose()


async def test_the_host_remembers_its_last_answer_and_its_last_failure_for_the_system_page(autojump_clock):
    """A failure after retries sets last_error (with the message); the next good answer sets last_answer."""
    handler, _ = scripted(503, 503, 503)  # then 200s
    host = client(handler)
    assert (host.last_answer_at, host.last_error) == (None, None)
    with pytest.raises(ProviderUnavailable):
        await get(host)
    assert host.last_answer_at is None and "503" in host.last_error and host.last_error_at is not None
    await trio.sleep(host.breaker.cooldown)  # three 503s in a row opened the host breaker
    assert await get(host) == b"ok"
    assert host.last_answer_at is not None and host.last_answer_at >= host.last_error_at
    await host.aclose()
