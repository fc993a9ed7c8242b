"""The Nasdaq earnings calendar: one document per day for the whole market, no key.

``{base}/api/calendar/earnings?date=YYYY-MM-DD``. Nasdaq answers only requests that look like
its own web page's: browser-like ``User-Agent``, ``Origin`` and ``Referer`` (:data:`NASDAQ_HEADERS`,
sent to Nasdaq alone). Each weekday is asked once per run (single flight, kept in memory) and
shared by every ticker. A window is known when every weekday in it is (weekends carry no
reports); a day Nasdaq cannot give (``data`` null, as for dates far ahead; a malformed
document; a document for another day) makes the window unknown (None), never "no earnings".
A host that is down makes the piece unavailable.
"""

from __future__ import annotations

import datetime as dt
import logging

import trio

from actors.errors import DataNotAvailable, MalformedData, ProviderUnavailable, UnknownTicker
from actors.providers.live.hosts import HostPool
from actors.providers.live.http import HostPolicy
from actors.providers.parsers import EarningsDay, parse_nasdaq_earnings
from messages.market import EarningsEvent

__all__ = ["NASDAQ_HEADERS", "NasdaqCalendar"]

logger = logging.getLogger(__name__)

#: What Nasdaq's API requires to answer (it refuses clients that do not look like its web page).
NASDAQ_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0 Safari/537.36 option-alpha",
    "Accept": "application/json, text/plain, */*",
    "Origin": "https://www.nasdaq.com",
    "Referer": "https://www.nasdaq.com/",
}


class NasdaqCalendar:
    """Earnings events of a ticker in a window, from shared calendar days (see the module docstring)."""

    def __init__(self, pool: HostPool, *, base_url: str, policy: HostPolicy) -> None:
        self._pool = pool
        self._base = base_url.rstrip("/")
        self._policy = policy
        self._days: dict[dt.date, _Flight] = {}

    def url(self, day: dt.date) -> str:
        return f"{self._base}/api/calendar/earnings?date={day.isoformat()}"

    async def earnings(self, ticker: str, start: dt.date, end: dt.date) -> tuple[EarningsEvent, ...] | None:
        events: list[EarningsEvent] = []
        day = start
        while day <= end:
            if day.weekday() < 5:
                calendar = await self._day(day, ticker)
                if calendar is None:
                    return None
                events.extend(calendar.for_ticker(ticker))
            day += dt.timedelta(days=1)
        return tuple(events)

    async def _day(self, day: dt.date, ticker: str) -> EarningsDay | None:
        flight = self._days.get(day)
        if flight is None:
            flight = self._days[day] = _Flight()
            try:
                flight.result = await self._fetch(day, ticker)
            except ProviderUnavailable as exc:
                flight.error = exc
            except BaseException:  # cancelled: the next asker fetches the day again
                del self._days[day]
                flight.error = ProviderUnavailable(ticker, "earnings", "the request was cancelled")
                raise
            finally:
                flight.done.set()
        else:
            await flight.done.wait()
        if flight.error is not None:
            raise ProviderUnavailable(ticker, "earnings", f"calendar {day}: {flight.error.message}")
        return flight.result

    async def _fetch(self, day: dt.date, ticker: str) -> EarningsDay | None:
        url = self.url(day)
        try:
            body = await self._pool.get(url, self._policy, ticker=ticker, piece="earnings", per_day=True,
                                        not_found=DataNotAvailable, headers=NASDAQ_HEADERS)
            calendar = parse_nasdaq_earnings(body, ticker=ticker)
        except (MalformedData, DataNotAvailable, UnknownTicker) as exc:
            logger.info("earnings calendar %s is unusable (%s): windows with that day are unknown", day, exc.message)
            return None
        if calendar.day != day:
            logger.info("earnings calendar for %s answered day %s: windows with that day are unknown", day, calendar.day)
            return None
        self._pool.record("earnings", day.isoformat(), body)
        return calendar


class _Flight:
    """One calendar day being fetched: later askers wait for the first one's answer."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.result: EarningsDay | None = None
        self.error: ProviderUnavailable | None = None
