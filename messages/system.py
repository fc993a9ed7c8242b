"""The system's internal conversations: coordinator ↔ fetcher, and cancelling a scan.

All keyword-only and frozen. ``results`` is the one capability that crosses: the channel a
fetcher streams a scan's tickers on (the receiver's own, closed by the fetcher when done).
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen


@frozen(kw_only=True)
class FetchAndScore:
    """Fetch and score ``tickers`` for run ``run_id`` (coordinator → fetcher, a request).

    The fetcher sends one ``TickerScan`` per ticker on ``results`` as each is done, closes
    ``results``, then answers with the number sent. ``workers`` is the resolved
    ``scan_workers`` count (0: in this process).
    """

    run_id: str
    tickers: tuple[str, ...]
    workers: int = 0
    results: Any = field(repr=False, eq=False)  #: trio.MemorySendChannel[TickerScan]


@frozen(kw_only=True)
class FetchChains:
    """Option chains for the top-N ``tickers`` of run ``run_id`` (coordinator → fetcher, a request).

    Answered with ``{ticker: OptionChain | DataError}`` in the order asked.
    """

    run_id: str
    tickers: tuple[str, ...]


@frozen(kw_only=True)
class CancelScan:
    """Cancel the scan ``run_id`` (bin/scan on a signal, the daemon → coordinator, a request).

    The scan is marked INTERRUPTED with its usual reason; the answer (True if the scan was
    running, False if unknown or already finished) comes once it has ended.
    """

    run_id: str
