"""The fetcher actor (fetch *and* score), and the client the coordinator talks to it through.

*Receives:* :class:`~messages.system.FetchAndScore` (a universe to fetch and score, streamed
back on the channel in the message) and :class:`~messages.system.FetchChains` (the top N's
option chains), both as requests.
*Sends:* one :class:`~actors.fetch_score.TickerScan` per ticker on the request's channel, then
the answer (how many were sent); the chains as the answer to ``FetchChains``.
*Owns:* the :class:`~actors.fetcher.Fetcher` (the provider, the concurrency limiter and the
per-provider rate limit, shared by every scan in flight: two scans at once never exceed the
provider's limits) and its counters. A scan's universe and progress live in the request's
handler task (and in :class:`FetcherClient`'s call), never on the actor.

**Why one fetch-and-score actor, not a fetcher and a scorer.** In the worker-process path
(``scan_workers``) each worker fetches *and* scores a chunk, so the bars never cross a process
boundary (only scores, earnings and headlines come back): the split happens per worker, not
per actor. A separate scorer actor would have to receive the bars (1.3 million ``Bar`` objects
at 5,000 tickers) through the coordinator, undoing that. Scoring is pure
(:func:`~actors.fetch_score.score_data`) and runs where the data is made.

A handler that raises something other than a data error (a provider bug) crashes the actor
(:mod:`actors.serving`): the supervisor restarts it on the same inbox, and
:class:`FetcherClient` asks again for the tickers it has not received yet.
"""

from __future__ import annotations

import collections
import functools
import logging
from collections.abc import Sequence
from typing import Any

import trio

from actors.fetch_score import TickerScan, fetch_and_score
from actors.fetcher import Fetcher
from actors.runtime import Address, Failure, Request, answer, request
from actors.serving import HandlerCrashed, serve
from messages.market import DataError, OptionChain
from messages.system import FetchAndScore, FetchChains

logger = logging.getLogger(__name__)

#: How long a requester waits for a whole universe or its chains (the fetcher's own per-call
#: timeouts and retries bound each piece; this only keeps ``request()`` finite).
FETCH_REPLY_TIMEOUT = 24 * 3600.0
#: Attempts of one request across fetcher crashes (the supervisor's restart limit comes first
#: in a crash loop).
FETCH_ATTEMPTS = 4


async def run_fetcher(
    inbox: trio.MemoryReceiveChannel[Any],
    fetcher: Fetcher,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The fetcher actor: serve ``inbox`` with ``fetcher`` until it is closed (see the module docstring)."""
    await serve(inbox, functools.partial(_handle, fetcher), actor="fetcher", task_status=task_status)


async def _handle(fetcher: Fetcher, message: Any) -> None:
    if not isinstance(message, Request):
        logger.error("fetcher: dropped %r: not a request", type(message).__name__)
        return
    payload = message.payload
    if isinstance(payload, FetchAndScore):  # fetch_and_score closes payload.results when done
        await fetch_and_score(fetcher, payload.tickers, payload.results, workers=payload.workers)
        answer(message, len(payload.tickers))
    elif isinstance(payload, FetchChains):
        answer(message, await fetcher.fetch_chains(payload.tickers))
    else:
        answer(message, Failure(ValueError(f"fetcher: cannot handle {type(payload).__name__}")))


class FetcherClient:
    """What the coordinator holds: the fetcher's address, with the two conversations as methods.

    Each call is idempotent and is asked again (for what has not arrived yet) when the fetcher
    crashed while it was in hand, up to ``attempts`` times.
    """

    def __init__(self, address: Address, *, provider: object, attempts: int = FETCH_ATTEMPTS) -> None:
        self._address = address
        #: The fetcher's provider (read, never called here: ``resolve_workers`` looks at it).
        self.provider = provider
        self._attempts = attempts

    async def fetch_and_score(
        self, tickers: Sequence[str], send: trio.MemorySendChannel[TickerScan], *, workers: int = 0, run_id: str = ""
    ) -> None:
        """Send one TickerScan per ticker on ``send`` (closed at the end), as ``fetch_and_score`` does."""
        remaining = list(tickers)
        async with send:
            for attempt in range(1, self._attempts + 1):
                try:
                    await self._stream(run_id, remaining, send, workers)
                    return
                except HandlerCrashed as exc:
                    if attempt == self._attempts:
                        raise
                    logger.warning("run %s: %s; asking again for the %d tickers not received", run_id, exc,
                                   len(remaining))

    async def _stream(
        self, run_id: str, remaining: list[str], send: trio.MemorySendChannel[TickerScan], workers: int
    ) -> None:
        """One attempt; on return or raise, ``remaining`` holds the tickers not yet forwarded."""
        received: collections.Counter[str] = collections.Counter()
        part_send, part_receive = trio.open_memory_channel[TickerScan](16)

        async def forward() -> None:
            async with part_receive:
                async for scan in part_receive:
                    await send.send(scan)
                    received[scan.data.ticker] += 1

        crashed: HandlerCrashed | None = None
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(forward)
                try:
                    message = FetchAndScore(run_id=run_id, tickers=tuple(remaining), workers=workers,
                                            results=part_send)
                    await request(self._address, message, timeout=FETCH_REPLY_TIMEOUT)
                except HandlerCrashed as exc:  # raised below, after forward() has passed on what came
                    crashed = exc
                finally:
                    part_send.close()  # the fetcher is done with it (or never got it): ends forward()
        finally:
            left = []
            for ticker in remaining:
                if received[ticker]:
                    received[ticker] -= 1
                else:
                    left.append(ticker)
            remaining[:] = left
        if crashed is not None:
            raise crashed

    async def fetch_chains(self, tickers: Sequence[str], *, run_id: str = "") -> dict[str, OptionChain | DataError]:
        """Option chains for ``tickers``, each value a chain or its error, in the order asked."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await request(self._address, FetchChains(run_id=run_id, tickers=tuple(tickers)),
                                     timeout=FETCH_REPLY_TIMEOUT)
            except HandlerCrashed as exc:
                if attempt == self._attempts:
                    raise
                logger.warning("run %s: %s; asking for the chains again", run_id, exc)
        raise AssertionError("unreachable")
