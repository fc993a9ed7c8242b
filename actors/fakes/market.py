"""A fake of the live market-data hosts on 127.0.0.1, serving recorded answers: for tests and benches.

One server stands in for all three sources (point ``cboe_base_url``, ``nasdaq_base_url`` and
``news_feed_url`` at it)::

    GET /api/global/delayed_quotes/charts/historical/<T>.json   cboe/cboe_chart_historical_<T>.json
    GET /api/global/delayed_quotes/options/<T>.json             cboe/cboe_options_<T>.json
    GET /api/calendar/earnings?date=YYYY-MM-DD                  nasdaq_earnings/nasdaq_earnings_<day>.json,
                                                                else a day without reports
    GET /rss?s=<T>                                              rss/rss_<T>.xml (ETag; 304 on If-None-Match)

Files come from ``data_dir`` (the snapshot layout; default the packaged recordings), so every
body is a real recorded answer, except the "day without reports" (the recorded 2024-07-01
document with its ``asOf`` moved and ``rows`` emptied) and the RSS files a test provides.
Unknown paths answer 404 (Cboe answers 403 for an unknown symbol; ``unknown_status`` says which).
``faults`` (path prefix → list of statuses, consumed one per request) injects 429/503 with
``Retry-After`` and 5xx; ``delay`` slows every answer. ``log`` lists ``(path, status, headers)``.

Runs in a thread (stdlib ``ThreadingHTTPServer``) so a test can drive a ``bin/scan`` subprocess
against it: ``with FakeMarket(dir) as market: ... market.url``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import threading
import time
import urllib.parse
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["FakeMarket"]

_TEMPLATE_DAY = "nasdaq_earnings/nasdaq_earnings_2024-07-01.json"


class FakeMarket:
    """See the module docstring."""

    def __init__(self, data_dir: Path | None = None, *, rss_dir: Path | None = None, delay: float = 0.0,
                 unknown_status: int = 403) -> None:
        self.root: Any = Path(data_dir) if data_dir else resources.files("actors.providers") / "snapshot_data"
        self.rss_dir = rss_dir
        self.delay = delay
        self.unknown_status = unknown_status
        self.faults: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.log: list[tuple[str, int, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def settings_env(self) -> dict[str, str]:
        """The ``OPTION_ALPHA_*`` variables that point a ``bin/scan`` at this server."""
        return {"OPTION_ALPHA_CBOE_BASE_URL": self.url, "OPTION_ALPHA_NASDAQ_BASE_URL": self.url,
                "OPTION_ALPHA_NEWS_FEED_URL": self.url + "/rss?s={symbol}"}

    def fail(self, prefix: str, *statuses: int, retry_after: str | None = None) -> None:
        """The next requests whose path starts with ``prefix`` get ``statuses``, one each."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self.faults.setdefault(prefix, []).extend((s, headers) for s in statuses)

    def requests(self, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for path, _, _ in self.log if path.startswith(prefix))

    def __enter__(self) -> FakeMarket:
        market = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                status, headers, body = market._answer(self.path, dict(self.headers))
                with market._lock:
                    market.log.append((self.path, status, dict(self.headers)))
                if market.delay:
                    time.sleep(market.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-market", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- answers ---------------------------------------------------------------------------

    def _answer(self, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        split = urllib.parse.urlsplit(raw_path)
        with self._lock:
            for prefix, queue in self.faults.items():
                if split.path.startswith(prefix) and queue:
                    status, extra = queue.pop(0)
                    return status, extra, b"fault"
        query = urllib.parse.parse_qs(split.query)
        path = urllib.parse.unquote(split.path)
        json_type = {"Content-Type": "application/json"}
        for prefix, file in (("/api/global/delayed_quotes/charts/historical/", "cboe/cboe_chart_historical_{}.json"),
                             ("/api/global/delayed_quotes/options/", "cboe/cboe_options_{}.json")):
            if path.startswith(prefix) and path.endswith(".json"):
                symbol = path[len(prefix):-5].lstrip("_")
                body = self._read(file.format(symbol))
                return (200, json_type, body) if body is not None else (self.unknown_status, {}, b"<Error/>")
        if path == "/api/calendar/earnings" and "date" in query:
            day = dt.date.fromisoformat(query["date"][0])
            body = self._read(f"nasdaq_earnings/nasdaq_earnings_{day.isoformat()}.json")
            return 200, json_type, body if body is not None else self._day_without_reports(day)
        if path == "/rss" and "s" in query:
            body = self._read_rss(query["s"][0].upper())
            if body is None:
                return 404, {}, b""
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if headers.get("If-None-Match") == etag:
                return 304, {"ETag": etag}, b""
            return 200, {"Content-Type": "application/rss+xml", "ETag": etag}, body
        return 404, {}, b""

    def _read(self, relative: str) -> bytes | None:
        try:
            return self.root.joinpath(relative).read_bytes()
        except OSError:
            return None

    def _read_rss(self, symbol: str) -> bytes | None:
        if self.rss_dir is not None:
            try:
                return (self.rss_dir / f"rss_{symbol}.xml").read_bytes()
            except OSError:
                return None
        return self._read(f"rss/rss_{symbol}.xml")

    def _day_without_reports(self, day: dt.date) -> bytes:
        template = resources.files("actors.providers").joinpath("snapshot_data", _TEMPLATE_DAY).read_bytes()
        doc = json.loads(template)
        doc["data"]["asOf"] = day.strftime("%a, %b %-d, %Y")
        doc["data"]["rows"] = []
        return json.dumps(doc).encode()
