"""The three live sources as URL builders and request headers: what to ask each host, nothing else.

=========  =================================================================  =====================
source     URL                                                                gives
=========  =================================================================  =====================
Cboe       ``{cboe_base_url}/api/global/delayed_quotes/charts/historical/     daily bars (history)
           {SYM}.json``
Cboe       ``{cboe_base_url}/api/global/delayed_quotes/options/{SYM}.json``   chain with IV, Greeks
Nasdaq     ``{nasdaq_base_url}/api/calendar/earnings?date=YYYY-MM-DD``        one day's earnings
news       ``news_feed_url`` with ``{symbol}`` (Yahoo Finance RSS by default) headlines
EDGAR      ``edgar_feed_url`` with ``{symbol}`` (SEC 8-K Atom; optional)      8-K filings as news
=========  =================================================================  =====================

Cboe spells indices with a leading underscore (``_SPX``). Nasdaq answers only requests that
look like its own web page's (browser-like User-Agent, ``Origin``, ``Referer``): those headers
are sent to Nasdaq alone. The snapshot layout of each answer (``--record DIR``) is given by
:func:`record_path`, and read back by :mod:`actors.providers.snapshot`.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse

__all__ = [
    "CBOE_INDICES",
    "NASDAQ_HEADERS",
    "cboe_chain_url",
    "cboe_chart_url",
    "cboe_symbol",
    "host_of",
    "nasdaq_day_url",
    "news_url",
    "record_path",
]

#: Index symbols Cboe lists with a leading underscore.
CBOE_INDICES = frozenset({"SPX", "XSP", "VIX", "NDX", "RUT", "DJX", "OEX", "XEO", "MRUT", "NANOS"})

#: What Nasdaq's API requires to answer (it refuses clients that do not look like its web page).
NASDAQ_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0 Safari/537.36 option-alpha",
    "Accept": "application/json, text/plain, */*",
    "Origin": "https://www.nasdaq.com",
    "Referer": "https://www.nasdaq.com/",
}


def cboe_symbol(ticker: str) -> str:
    """Cboe's spelling: ``_SPX`` for an index, the ticker otherwise."""
    ticker = ticker.upper().lstrip("^_")
    return f"_{ticker}" if ticker in CBOE_INDICES else ticker


def cboe_chart_url(base: str, ticker: str) -> str:
    return f"{base.rstrip('/')}/api/global/delayed_quotes/charts/historical/{urllib.parse.quote(cboe_symbol(ticker))}.json"


def cboe_chain_url(base: str, ticker: str) -> str:
    return f"{base.rstrip('/')}/api/global/delayed_quotes/options/{urllib.parse.quote(cboe_symbol(ticker))}.json"


def nasdaq_day_url(base: str, day: dt.date) -> str:
    return f"{base.rstrip('/')}/api/calendar/earnings?date={day.isoformat()}"


def news_url(template: str, ticker: str) -> str:
    return template.replace("{symbol}", urllib.parse.quote(ticker.upper()))


def host_of(url: str) -> str:
    """``host[:port]`` of a URL: the key of the per-host client, limit and breaker."""
    return urllib.parse.urlsplit(url).netloc or url


def record_path(kind: str, key: str) -> str:
    """Where ``--record`` saves an answer, relative to DIR (the snapshot layout)."""
    paths = {
        "history": f"cboe/cboe_chart_historical_{key}.json",
        "chain": f"cboe/cboe_options_{key}.json",
        "earnings": f"nasdaq_earnings/nasdaq_earnings_{key}.json",
        "news": f"rss/rss_{key}.xml",
        "edgar": f"rss/edgar_{key}.xml",
    }
    return paths[kind]
