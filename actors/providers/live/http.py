"""One polite HTTP client per host: connection limits, rate limit, retries, breaker, cache.

:meth:`HostClient.get` returns the body of a 200 (or of a cached one) and raises only
:mod:`actors.errors` provider errors naming the ticker and piece:

============================  ===========================================================
what happened                 what ``get`` does
============================  ===========================================================
200                           returns the body (cached for its trading day / feed TTL)
304 (conditional GET)         returns the cached body, its lifetime renewed
429, 503                      retried after ``max(delay, Retry-After)`` (``retry_delays``);
                              a Retry-After beyond ``MAX_RETRY_AFTER`` gives up at once
other 5xx, connect error,     retried after each of ``retry_delays``; each (and each 429)
timeout                       counts against the host breaker
404, 410 (``missing_statuses``) ``not_found(...)`` of the caller (UnknownTicker or
                              DataNotAvailable), no retry, cached by kind
other 4xx                     ProviderUnavailable, no retry
breaker open                  ProviderUnavailable at once (``quiet``: logged once, when it
                              opened, not once per ticker)
============================  ===========================================================

Every request carries ``User-Agent: option-alpha/<version> (+<project url>)``; a host that
demands browser-like headers (Nasdaq) gets them from its source adapter (``headers``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any

import attrs
import httpx
import trio

from actors.errors import DataNotAvailable, MalformedData, ProviderError, ProviderUnavailable, UnknownTicker
from actors.providers.live.cache import CachedBody, CachedFailure, HttpCache
from actors.providers.live.hostbreaker import HostBreaker
from actors.providers.live.ratelimit import TokenBucket

__all__ = ["HostClient", "HostDown", "HostPolicy", "USER_AGENT", "user_agent"]

logger = logging.getLogger(__name__)

#: The longest Retry-After we wait for; beyond it the piece fails (the host asks for a pause).
MAX_RETRY_AFTER = 60.0
#: Seconds to open a connection (capped by the policy's timeout).
CONNECT_TIMEOUT = 5.0


def user_agent() -> str:
    """``option-alpha/<version> (+<project url>)``: honest about what is asking. The URL is the
    first ``[project.urls]`` entry of the installed package; none is declared yet, and an
    invented one would not be honest, so until then it is ``option-alpha/<version>``."""
    try:
        meta = metadata.metadata("option-alpha")
    except metadata.PackageNotFoundError:
        return "option-alpha/0.1.0"
    urls = [entry.split(",", 1)[-1].strip() for entry in meta.get_all("Project-URL") or []]
    return f"option-alpha/{meta['Version']}" + (f" (+{urls[0]})" if urls else "")


USER_AGENT = user_agent()


class HostDown(ProviderUnavailable):
    """The host's breaker is open: the request was not sent. ``quiet``: the opening was logged once."""

    quiet = True


@attrs.frozen(kw_only=True)
class HostPolicy:
    """How one host is treated (defaults are conservative; settings per source override them)."""

    rate: float = 2.0                  # requests per second (token bucket)
    burst: int = 2
    timeout: float = 20.0              # connect/read/write/pool timeout of one request
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    breaker_failures: int = 3
    breaker_cooldown: float = 60.0
    max_connections: int = 4


class HostClient:
    """See the module docstring. ``transport`` replaces the network (``httpx.MockTransport`` in tests)."""

    def __init__(
        self,
        host: str,
        *,
        policy: HostPolicy,
        cache: HttpCache | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.host = host
        self.policy = policy
        self.cache = cache
        self.bucket = TokenBucket(policy.rate, burst=policy.burst)
        self.breaker = HostBreaker(failures=policy.breaker_failures, cooldown=policy.breaker_cooldown)
        self._headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", **(headers or {})}
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        #: Requests sent (not cache hits), for statistics and the request-count bench.
        self.requests = 0
        #: When the host last answered with a usable body, and its last failure (the dashboard's system page).
        self.last_answer_at: dt.datetime | None = None
        self.last_error_at: dt.datetime | None = None
        self.last_error: str | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=self.policy.max_connections,
                                  max_keepalive_connections=self.policy.max_connections)
            # A reachable host connects in well under a second: a blackholed one costs CONNECT_TIMEOUT,
            # not the whole request timeout, before the breaker hears of it.
            timeout = httpx.Timeout(self.policy.timeout, connect=min(self.policy.timeout, CONNECT_TIMEOUT))
            self._client = httpx.AsyncClient(headers=self._headers, timeout=timeout,
                                             limits=limits, transport=self._transport, follow_redirects=True)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def get(
        self,
        url: str,
        *,
        ticker: str,
        piece: str,
        day: dt.date | None,
        not_found: Callable[[str, str, str], ProviderError],
        missing_statuses: tuple[int, ...] = (404, 410),
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """The body at ``url`` (see the module docstring); ``day`` keys the cache (None: feed TTL)."""
        cached = self.cache.get(url, day=day) if self.cache is not None else None
        if isinstance(cached, CachedFailure):
            logger.debug("%s %s: cached failure for %s: %s", ticker, piece, url, cached.message)
            raise _error_of_kind(cached.kind, ticker, piece, cached.message)
        if isinstance(cached, CachedBody) and cached.fresh:
            return cached.body
        conditional = dict(headers or {})
        if isinstance(cached, CachedBody):
            if cached.etag:
                conditional["If-None-Match"] = cached.etag
            if cached.last_modified:
                conditional["If-Modified-Since"] = cached.last_modified
        try:
            body = await self._fetch(url, ticker=ticker, piece=piece, day=day, cached=cached, not_found=not_found,
                                     missing_statuses=missing_statuses, headers=conditional)
        except ProviderError as exc:
            self.last_error_at, self.last_error = dt.datetime.now(dt.timezone.utc), exc.message
            raise
        self.last_answer_at = dt.datetime.now(dt.timezone.utc)
        return body

    async def _fetch(self, url: str, *, ticker: str, piece: str, day: dt.date | None, cached: Any,
                     not_found: Callable[[str, str, str], ProviderError], missing_statuses: tuple[int, ...],
                     headers: Mapping[str, str]) -> bytes:
        try:
            response = await self._send_with_retries(url, ticker=ticker, piece=piece, headers=headers)
        except HostDown:
            raise
        except ProviderError as exc:
            if self.cache is not None:
                self.cache.put_failure(url, day=day, kind=exc.kind, message=exc.message)
            raise
        if response.status_code == 304 and isinstance(cached, CachedBody):
            body = cached.body
        elif response.status_code in missing_statuses:
            exc = not_found(ticker, piece, f"{self.host} answered HTTP {response.status_code} for {url}")
            if self.cache is not None:
                self.cache.put_failure(url, day=day, kind=exc.kind, message=exc.message)
            raise exc
        elif response.status_code != 200:
            raise ProviderUnavailable(ticker, piece, f"{self.host} answered HTTP {response.status_code} for {url}")
        else:
            body = response.content
        if self.cache is not None:
            self.cache.put(url, body, day=day, etag=response.headers.get("ETag") or (cached.etag if cached else None),
                           last_modified=response.headers.get("Last-Modified")
                           or (cached.last_modified if cached else None))
        return body

    async def _send_with_retries(
        self, url: str, *, ticker: str, piece: str, headers: Mapping[str, str]
    ) -> httpx.Response:
        delays: Sequence[float] = self.policy.retry_delays
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise HostDown(ticker, piece, self._down_message())
            await self.bucket.acquire()
            failure, retry_after, response = await self._attempt(url, headers)
            if failure is None:
                return response  # type: ignore[return-value]
            if attempt >= len(delays):
                raise ProviderUnavailable(ticker, piece, f"{failure} (after {attempt + 1} attempts)")
            if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                raise ProviderUnavailable(ticker, piece, f"{failure}; Retry-After {retry_after:g} s is too long")
            wait = max(delays[attempt], retry_after or 0.0)
            attempt += 1
            logger.debug("%s %s: %s; retry %d in %.1f s", ticker, piece, failure, attempt, wait)
            await trio.sleep(wait)

    async def _attempt(
        self, url: str, headers: Mapping[str, str]
    ) -> tuple[str | None, float | None, httpx.Response | None]:
        """One request: (failure description or None, Retry-After seconds or None, the response)."""
        self.requests += 1
        try:
            response = await self._http().get(url, headers=headers)
        except httpx.TimeoutException as exc:
            return self._transport_failure(f"{self.host}: no answer within {self.policy.timeout:g} s "
                                           f"({type(exc).__name__})"), None, None
        except httpx.TransportError as exc:
            return self._transport_failure(f"{self.host} cannot be reached ({type(exc).__name__}: "
                                           f"{str(exc)[:160] or 'no detail'})"), None, None
        if response.status_code >= 500:
            failure = self._transport_failure(f"{self.host} answered HTTP {response.status_code}")
            return failure, _retry_after(response) if response.status_code == 503 else None, response
        if response.status_code == 429:  # counts against the breaker: a host that keeps refusing us is "blocked"
            failure = self._transport_failure(f"{self.host} answered HTTP 429 (too many requests)")
            return failure, _retry_after(response) or 0.0, response
        self.breaker.record_success()
        return None, None, response

    def _transport_failure(self, description: str) -> str:
        if self.breaker.record_failure(description):
            logger.warning("%s; not asking it again for %.0f s. Offline or blocked? "
                           "Try `bin/scan --demo` (synthetic, offline) or `--source snapshot` (recorded data)",
                           description, self.breaker.cooldown)
        return description

    def _down_message(self) -> str:
        return (f"{self.host} is unreachable ({self.breaker.last_failure}); "
                f"not asked again for {self.breaker.retry_in():.0f} s")


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _error_of_kind(kind: str, ticker: str, piece: str, message: str) -> ProviderError:
    """The error a cached failure of ``kind`` stands for, marked as cached."""
    by_kind: dict[str, Callable[[str, str, str], ProviderError]] = {
        "unknown_ticker": UnknownTicker, "missing": DataNotAvailable, "malformed": MalformedData,
    }
    return by_kind.get(kind, ProviderUnavailable)(ticker, piece, f"{message} (cached)")
