"""What every live source adapter shares: one client per host, the disk cache, and the recording.

:class:`HostPool` hands out the one :class:`~actors.providers.live.http.HostClient` of a host
(``host[:port]`` of the URL: two sources on one host share its client, limit and breaker),
fetches through it, and turns a body into a value with a parser: a body that fails to parse is
remembered briefly as a failure (not served again from the cache as if good); a body that
parses is saved under ``record_dir`` in the snapshot layout (:data:`RECORD_LAYOUT`) when the
run records (``--record DIR``), so ``--source snapshot:DIR`` replays it.
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from actors.errors import MalformedData, ProviderError
from actors.providers.live.cache import HttpCache
from actors.providers.live.http import HostClient, HostPolicy

__all__ = ["HostPool", "RECORD_LAYOUT", "host_of"]

#: Where ``--record`` saves an answer, relative to DIR, by kind (read back by the snapshot provider).
RECORD_LAYOUT = {
    "history": "cboe/cboe_chart_historical_{}.json",
    "chain": "cboe/cboe_options_{}.json",
    "earnings": "nasdaq_earnings/nasdaq_earnings_{}.json",
    "news": "rss/rss_{}.xml",
    "edgar": "rss/edgar_{}.xml",
}


def host_of(url: str) -> str:
    """``host[:port]`` of a URL: the key of the per-host client, limit and breaker."""
    return urllib.parse.urlsplit(url).netloc or url


class HostPool:
    """See the module docstring. ``day`` gives the trading day that keys market-data entries."""

    def __init__(self, *, cache: HttpCache, day: Callable[[], dt.date], record_dir: Path | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.cache = cache
        self.day = day
        self.record_dir = record_dir
        self._transport = transport
        self._hosts: dict[str, HostClient] = {}

    def statistics(self) -> list[dict[str, Any]]:
        """Per host: requests sent, its breaker, when it last answered, its last failure (the system page)."""
        return [
            {"host": name, "requests": c.requests, "breaker": c.breaker.state.value,
             "last_answer": c.last_answer_at.isoformat(timespec="seconds") if c.last_answer_at else "never",
             "last_error": (f"{c.last_error_at:%Y-%m-%d %H:%M:%S} UTC: {c.last_error}" if c.last_error_at else "none")}
            for name, c in sorted(self._hosts.items())
        ]

    def host(self, url: str, policy: HostPolicy) -> HostClient:
        """The one client of ``url``'s host (created with ``policy`` on first use)."""
        name = host_of(url)
        client = self._hosts.get(name)
        if client is None:
            client = self._hosts[name] = HostClient(name, policy=policy, cache=self.cache, transport=self._transport)
        return client

    async def get(self, url: str, policy: HostPolicy, *, ticker: str, piece: str, per_day: bool,
                  not_found: Callable[[str, str, str], ProviderError], missing_statuses: tuple[int, ...] = (404, 410),
                  headers: dict[str, str] | None = None) -> bytes:
        """The body at ``url``; ``per_day``: cached for the trading day (else for the feed TTL)."""
        return await self.host(url, policy).get(url, ticker=ticker, piece=piece, day=self.day() if per_day else None,
                                                not_found=not_found, missing_statuses=missing_statuses,
                                                headers=headers)

    def parsed(self, url: str, body: bytes, parse: Callable[..., Any], *, ticker: str, record_as: tuple[str, str],
               per_day: bool) -> Any:
        """``parse(body, ticker=ticker)``, recorded as ``record_as`` (kind, key) when it parses.

        Raises:
            MalformedData: from the parser; the failure replaces the cached body for a while.
        """
        try:
            value = parse(body, ticker=ticker)
        except MalformedData as exc:
            self.cache.put_failure(url, day=self.day() if per_day else None, kind=exc.kind, message=exc.message)
            raise
        self.record(*record_as, body)
        return value

    def record(self, kind: str, key: str, body: bytes) -> None:
        """Save ``body`` under ``record_dir`` (no-op when the run does not record).

        Raises:
            ProviderError: the file cannot be written (naming it): a recording asked for and not made
                is an error of the piece, never silently missing.
        """
        if self.record_dir is None:
            return
        path = self.record_dir / RECORD_LAYOUT[kind].format(key)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(body)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ProviderError(key, kind, f"--record: cannot save {path}: {exc.strerror or exc}") from exc

    def request_counts(self) -> dict[str, int]:
        """Requests sent per host (cache hits not counted)."""
        return {name: client.requests for name, client in self._hosts.items()}

    async def aclose(self) -> None:
        hosts, self._hosts = list(self._hosts.values()), {}
        for client in hosts:
            await client.aclose()
