"""The on-disk HTTP cache: raw response bodies keyed by URL and trading day.

Where: ``cache_dir`` when set, else ``$CACHE_DIRECTORY`` (systemd's ``CacheDirectory=``), else
``$XDG_CACHE_HOME/option-alpha/``, else ``~/.cache/option-alpha/``; entries live under
``http/``. A market-data answer (chart, chain, earnings day) is kept for its trading day (a
second run the same day makes no request); a news feed for ``news_ttl`` seconds, then asked
again with its ``ETag`` / ``Last-Modified`` (a 304 keeps the body). Failures are kept briefly,
by kind (:data:`FAILURE_TTL`), so a rerun does not hammer a host that just refused, nor
re-ask for a symbol that does not exist. ``mode="refresh"`` reads nothing but still writes;
``mode="off"`` neither reads nor writes.

Entries are one JSON file each (metadata + the body as text), written to a temporary name and
renamed: a crash leaves the old entry or the new one, never half of one. An unreadable entry
is a miss. Wall-clock times (``time.time``) because entries outlive the process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

__all__ = ["FAILURE_TTL", "CACHE_MODES", "CachedFailure", "CachedBody", "HttpCache", "default_cache_dir", "trading_day"]

logger = logging.getLogger(__name__)

CACHE_MODES = ("use", "refresh", "off")

#: Seconds a failure is remembered, by kind (``ProviderError.kind``).
FAILURE_TTL: Mapping[str, float] = {
    "unavailable": 120.0,     # transport failure, 5xx, 429: the host may be back soon
    "unknown_ticker": 6 * 3600.0,  # the host said the symbol does not exist
    "missing": 3600.0,        # the host has no such piece for the symbol
    "malformed": 600.0,       # a bad document: perhaps a deploy in progress
}

_NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
_OPEN = dt.time(9, 30)


def trading_day(now: dt.datetime | None = None) -> dt.date:
    """The US session whose data a request made at ``now`` gets: before 09:30 New York time the
    previous session; weekends fall back to Friday (holidays are not known here: a holiday is
    simply its own key)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    local = now.astimezone(_NEW_YORK)
    day = local.date() if local.time() >= _OPEN else local.date() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$CACHE_DIRECTORY`` (first entry), else ``$XDG_CACHE_HOME/option-alpha``, else ``~/.cache/option-alpha``."""
    env = os.environ if env is None else env
    systemd = env.get("CACHE_DIRECTORY", "").split(":")[0].strip()
    if systemd:
        return Path(systemd)
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or "~").expanduser() / ".cache")
    return Path(base) / "option-alpha"


@attrs.frozen
class CachedBody:
    body: bytes
    fetched_at: float
    etag: str | None = None
    last_modified: str | None = None
    #: False when the entry is past its lifetime: usable only for a conditional GET.
    fresh: bool = True


@attrs.frozen
class CachedFailure:
    kind: str
    message: str


class HttpCache:
    """See the module docstring. ``now`` is injectable for tests (wall-clock seconds)."""

    def __init__(self, root: Path, *, mode: str = "use", news_ttl: float = 900.0,
                 now: Callable[[], float] = time.time) -> None:
        if mode not in CACHE_MODES:
            raise ValueError(f"cache mode: expected one of {', '.join(CACHE_MODES)}, got {mode!r}")
        self.root = Path(root)
        self.mode = mode
        self.news_ttl = news_ttl
        self._now = now
        self.hits = self.misses = self.writes = 0

    # -- keys ------------------------------------------------------------------------------

    def key(self, url: str, *, day: dt.date | None) -> str:
        """The entry name: URL plus trading day (``day=None`` for TTL-kept entries such as feeds)."""
        text = f"{url}\n{day.isoformat() if day else 'ttl'}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / "http" / key[:2] / f"{key}.json"

    # -- reads -----------------------------------------------------------------------------

    def get(self, url: str, *, day: dt.date | None) -> CachedBody | CachedFailure | None:
        """The entry for ``url`` (fresh body, stale body for revalidation, or a live failure), or None."""
        if self.mode != "use":
            return None
        entry = self._read(self.key(url, day=day))
        if entry is None:
            self.misses += 1
            return None
        now = self._now()
        if "failure" in entry:
            failure = entry["failure"]
            if now - entry["fetched_at"] < FAILURE_TTL.get(failure["kind"], 60.0):
                self.hits += 1
                return CachedFailure(failure["kind"], failure["message"])
            self.misses += 1
            return None
        fresh = day is not None or now - entry["fetched_at"] < self.news_ttl
        if fresh:
            self.hits += 1
        else:
            self.misses += 1
        return CachedBody(entry["body"].encode("utf-8", "surrogateescape"), entry["fetched_at"],
                          entry.get("etag"), entry.get("last_modified"), fresh)

    def _read(self, key: str) -> dict | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.debug("cache: unreadable entry %s (%s): a miss", key, exc)
            return None
        return entry if isinstance(entry, dict) and isinstance(entry.get("fetched_at"), (int, float)) else None

    # -- writes ----------------------------------------------------------------------------

    def put(self, url: str, body: bytes, *, day: dt.date | None, etag: str | None = None,
            last_modified: str | None = None) -> None:
        self._write(self.key(url, day=day), {
            "url": url, "fetched_at": self._now(), "etag": etag, "last_modified": last_modified,
            "body": body.decode("utf-8", "surrogateescape"),
        })

    def put_failure(self, url: str, *, day: dt.date | None, kind: str, message: str) -> None:
        self._write(self.key(url, day=day), {
            "url": url, "fetched_at": self._now(), "failure": {"kind": kind, "message": message},
        })

    def _write(self, key: str, entry: dict) -> None:
        if self.mode == "off":
            return
        path = self._path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(entry), encoding="utf-8")
            os.replace(tmp, path)
            self.writes += 1
        except OSError as exc:  # a full or read-only cache costs requests, never the scan
            logger.warning("cache: cannot write %s: %s", path, exc.strerror or exc)
            tmp.unlink(missing_ok=True)
