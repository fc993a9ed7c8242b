"""Fetch and score a universe, in this process or in worker processes, behind one interface.

:func:`fetch_and_score` streams one :class:`TickerScan` per ticker (its data without the bars,
and its technical score or the reason it has none) to the coordinator:

* **in-process** (``workers == 0``): the fetcher streams :class:`~messages.market.TickerData`
  and each ticker is scored on the trio thread as it arrives. Every provider can do this, and
  it is the only path that runs under ``trio.testing.MockClock`` (tests, virtual time). An
  in-process provider with ``history_columns`` (sim) is read as columns here too.
* **worker processes** (``workers >= 1``, ``trio-parallel``): for a provider that computes its
  data without I/O and can be rebuilt from ``worker_options()`` (sim), each worker rebuilds
  the provider once, then fetches *and scores* chunks of the universe through the same
  :class:`~actors.fetcher.Fetcher` and scoring. The bars never leave the worker: only scores,
  earnings, headlines and errors cross back. A provider with ``history_columns`` (sim) gives
  its history as columns there (:class:`~messages.market.PriceColumns`), so no ``Bar``
  object is ever built: the same numbers, the same scores. A worker that dies (killed by the
  OOM killer or a signal) loses nothing: its chunk is fetched and scored in this process. Chunks are sent on in universe
  order, so a seed gives the same stream with and without workers.

:func:`resolve_workers` turns the ``scan_workers`` setting into a count: ``-1`` (auto) is one
worker per CPU core (at most :data:`MAX_AUTO_WORKERS`) for universes of at least
:data:`AUTO_MIN_TICKERS` tickers of such a provider, else in-process; ``0`` is in-process;
``N`` pins N workers (providers that cannot be rebuilt in a worker always run in-process).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import trio

from actors.fetcher import Fetcher
from actors.scoring.technical import InsufficientHistory, score_columns, score_history
from messages.market import DataError, DataPiece, PriceColumns, TickerData
from messages.scan import TickerScored

__all__ = [
    "AUTO_MIN_TICKERS",
    "MAX_AUTO_WORKERS",
    "TickerScan",
    "fetch_and_score",
    "resolve_workers",
    "score_columns_data",
    "score_data",
]

logger = logging.getLogger(__name__)

#: Auto mode starts workers only from this many tickers: below it, starting them (about half a
#: second of imports each) costs more than they save.
AUTO_MIN_TICKERS = 2500
#: Auto mode's cap on workers.
MAX_AUTO_WORKERS = 8


@attrs.frozen
class TickerScan:
    """One ticker after fetch and score: its data without the bars, and a score or why none."""

    data: TickerData
    scored: TickerScored | None
    #: Why a ticker with a history could not be scored (insufficient or malformed bars).
    score_error: DataError | None = None


def score_data(data: TickerData) -> TickerScan:
    """Score ``data`` and drop its bars (5,000 histories are 1.3 million objects). Pure."""
    if not data.usable:
        return TickerScan(data=data, scored=None)
    history = data.history
    assert history is not None
    return _scored(attrs.evolve(data, history=None), lambda: score_history(history))


def score_columns_data(data: TickerData, columns: PriceColumns | None) -> TickerScan:
    """:func:`score_data` for a history fetched as columns (``data`` has none of its own). Pure."""
    if columns is None or not columns.closes:
        return TickerScan(data=data, scored=None)
    return _scored(data, lambda: score_columns(columns))


def _scored(data: TickerData, score: Callable[[], TickerScored]) -> TickerScan:
    try:
        return TickerScan(data=data, scored=score())
    except InsufficientHistory as exc:
        error = DataError(data.ticker, DataPiece.HISTORY, "insufficient", str(exc))
    except ValueError as exc:
        error = DataError(data.ticker, DataPiece.HISTORY, "malformed", str(exc))
    return TickerScan(data=data, scored=None, score_error=error)


def resolve_workers(setting: int, *, tickers: int, provider: object, cpu_count: int | None = None) -> int:
    """How many worker processes fetch and score ``tickers`` tickers (see the module docstring).

    Raises:
        ValueError: ``setting`` below -1.
    """
    if setting < -1:
        raise ValueError(f"scan_workers: expected -1 (auto), 0 (in-process) or a worker count, got {setting}")
    if not callable(getattr(provider, "worker_options", None)) or not getattr(provider, "in_process", False):
        return 0
    if setting >= 0:
        return setting
    cores = os.cpu_count() if cpu_count is None else cpu_count
    if not cores or cores < 2 or tickers < AUTO_MIN_TICKERS:
        return 0
    return min(cores, MAX_AUTO_WORKERS)


async def fetch_and_score(
    fetcher: Fetcher,
    tickers: Sequence[str],
    send: trio.MemorySendChannel[TickerScan],
    *,
    workers: int = 0,
) -> None:
    """Send one :class:`TickerScan` per ticker on ``send`` (closed at the end); see the module docstring."""
    if workers <= 0:
        await _in_process(fetcher, tickers, send)
    else:
        await _in_workers(fetcher, tickers, send, workers)


async def _in_process(fetcher: Fetcher, tickers: Sequence[str], send: trio.MemorySendChannel[TickerScan]) -> None:
    if _has_columns(fetcher):  # sim: one ticker after the other, as columns, no Bar objects
        async with send:
            for ticker in tickers:
                await send.send(await _fetch_and_score_one(fetcher, ticker))
        return
    data_send, data_receive = trio.open_memory_channel[TickerData](16)
    async with send, trio.open_nursery() as nursery:
        nursery.start_soon(fetcher.fetch_universe, tickers, data_send)
        async with data_receive:
            async for data in data_receive:
                await send.send(score_data(data))


def _has_columns(fetcher: Fetcher) -> bool:
    """True when the provider computes its data here and can give a history as columns (sim)."""
    return fetcher.in_process and callable(getattr(fetcher.provider, "history_columns", None))


async def _fetch_and_score_one(fetcher: Fetcher, ticker: str) -> TickerScan:
    """One ticker, as columns when the provider can (no Bar objects), else through its bars."""
    if _has_columns(fetcher):
        return score_columns_data(*await fetcher.fetch_columns(ticker))
    return score_data(await fetcher.fetch_ticker(ticker))


def _chunk_size(tickers: int, workers: int) -> int:
    """About eight chunks per worker (even load, steady progress), 50..500 tickers each."""
    return max(50, min(500, -(-tickers // (workers * 8))))


async def _in_workers(
    fetcher: Fetcher, tickers: Sequence[str], send: trio.MemorySendChannel[TickerScan], workers: int
) -> None:
    import trio_parallel

    provider = fetcher.provider
    job = _WorkerJob(
        provider=provider.name,
        options=provider.worker_options(),  # type: ignore[attr-defined]
        retry_delays=fetcher.retry_delays,
        earnings_horizon_days=fetcher.earnings_horizon_days,
    )
    size = _chunk_size(len(tickers), workers)
    chunks = [tuple(tickers[i : i + size]) for i in range(0, len(tickers), size)]
    logger.info("fetching and scoring %d tickers in %d worker processes (%d chunks)", len(tickers), workers, len(chunks))
    done: list[list[TickerScan] | None] = [None] * len(chunks)
    ready = [trio.Event() for _ in chunks]
    # Chunks are handed out strictly in order (trio starts tasks in no set order), so the first
    # chunks finish first and the stream below rarely waits.
    slots = trio.Semaphore(workers)
    run_limiter = trio.CapacityLimiter(workers)

    async def run_chunk(index: int, context: Any) -> None:
        try:
            try:
                done[index] = await context.run_sync(
                    _run_job, job, chunks[index], kill_on_cancel=True, limiter=run_limiter
                )
            # Killed (OOM, a signal): nothing is lost. trio-parallel reports a worker killed
            # mid-answer as OSError (end of file on its pipe) rather than BrokenWorkerError.
            except (trio_parallel.BrokenWorkerError, OSError) as exc:
                logger.warning(
                    "a worker process died (%s); fetching and scoring its %d tickers in this process",
                    exc.args[0] if exc.args else exc, len(chunks[index]),
                )
                done[index] = [await _fetch_and_score_one(fetcher, ticker) for ticker in chunks[index]]
        finally:
            slots.release()
        ready[index].set()

    async def dispatch(context: Any, nursery: trio.Nursery) -> None:
        for index in range(len(chunks)):
            await slots.acquire()
            nursery.start_soon(run_chunk, index, context)

    streamed = False
    async with send:
        try:
            async with trio_parallel.open_worker_context(idle_timeout=5.0) as context:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(dispatch, context, nursery)
                    for index, event in enumerate(ready):  # in universe order: the same stream as in-process
                        await event.wait()
                        scans, done[index] = done[index], None
                        for scan in scans or ():
                            await send.send(scan)
                streamed = True
        except trio_parallel.BrokenWorkerError as exc:  # at shutdown: a killed worker was still in the pool
            if not streamed:
                raise
            logger.warning("worker processes did not shut down cleanly (%s); every chunk was already done",
                           exc.args[0] if exc.args else exc)


@attrs.frozen
class _WorkerJob:
    """What a worker needs to rebuild the provider and the fetcher (picklable)."""

    provider: str
    options: dict[str, Any]
    retry_delays: tuple[float, ...]
    earnings_horizon_days: int


_worker_fetcher: tuple[_WorkerJob, Fetcher] | None = None


def _run_job(job: _WorkerJob, tickers: tuple[str, ...]) -> list[TickerScan]:
    """In a worker process: fetch and score ``tickers``.

    The provider is built on the first job and kept for the next ones (the sim's normal table
    is built once per worker, not once per chunk); a worker serves one scan.
    """
    global _worker_fetcher
    from actors.providers.base import make_provider

    if _worker_fetcher is None or _worker_fetcher[0] != job:
        provider = make_provider(job.provider, **job.options)
        fetcher = Fetcher(provider, retry_delays=job.retry_delays, earnings_horizon_days=job.earnings_horizon_days)
        _worker_fetcher = (job, fetcher)
    fetcher = _worker_fetcher[1]

    async def fetch_all() -> list[TickerScan]:
        return [await _fetch_and_score_one(fetcher, ticker) for ticker in tickers]

    return trio.run(fetch_all)
