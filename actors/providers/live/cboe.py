"""Cboe delayed quotes: daily history and option chains (with IV and Greeks), no key.

``{base}/api/global/delayed_quotes/charts/historical/{SYM}.json`` and
``{base}/api/global/delayed_quotes/options/{SYM}.json``; indices carry a leading underscore
(``_SPX``). Cboe answers 403 (its CDN's "access denied") or 404 for a symbol it does not list:
UnknownTicker for the history, DataNotAvailable for a chain. Parsed by the snapshot's parsers.
Cboe's data is delayed and for personal use (see the README).
"""

from __future__ import annotations

import urllib.parse

from actors.errors import DataNotAvailable, UnknownTicker
from actors.providers.live.hosts import HostPool
from actors.providers.live.http import HostPolicy
from actors.providers.parsers import parse_cboe_chain, parse_cboe_chart
from messages.market import OptionChain, PriceHistory

__all__ = ["CBOE_INDICES", "Cboe", "cboe_symbol"]

#: Index symbols Cboe lists with a leading underscore.
CBOE_INDICES = frozenset({"SPX", "XSP", "VIX", "NDX", "RUT", "DJX", "OEX", "XEO", "MRUT"})
_MISSING = (403, 404, 410)


def cboe_symbol(ticker: str) -> str:
    """Cboe's spelling: ``_SPX`` for an index, the ticker otherwise."""
    ticker = ticker.upper().lstrip("^_")
    return f"_{ticker}" if ticker in CBOE_INDICES else ticker


class Cboe:
    """History and chains of one ticker at a time from ``base_url``."""

    def __init__(self, pool: HostPool, *, base_url: str, policy: HostPolicy) -> None:
        self._pool = pool
        self._base = base_url.rstrip("/")
        self._policy = policy

    def url(self, kind: str, ticker: str) -> str:
        path = "charts/historical" if kind == "history" else "options"
        return f"{self._base}/api/global/delayed_quotes/{path}/{urllib.parse.quote(cboe_symbol(ticker))}.json"

    async def history(self, ticker: str) -> PriceHistory:
        url = self.url("history", ticker)
        body = await self._pool.get(url, self._policy, ticker=ticker, piece="history", per_day=True,
                                    not_found=UnknownTicker, missing_statuses=_MISSING)
        return self._pool.parsed(url, body, parse_cboe_chart, ticker=ticker, record_as=("history", ticker),
                                 per_day=True)

    async def chain(self, ticker: str) -> OptionChain:
        url = self.url("chain", ticker)
        body = await self._pool.get(url, self._policy, ticker=ticker, piece="chain", per_day=True,
                                    not_found=DataNotAvailable, missing_statuses=_MISSING)
        return self._pool.parsed(url, body, parse_cboe_chain, ticker=ticker, record_as=("chain", ticker),
                                 per_day=True)
