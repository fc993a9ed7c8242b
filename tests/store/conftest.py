"""Builders for storage tests and a helper that talks to a persister like the runtime will."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from actors.runtime.envelope import Request
from actors.store.persister import Persister
from messages.debate import AgentOutcome, AgentRole, DebateFinished, DebateStatus, RiskAssessment, Stance, Thesis, Verdict
from messages.market import DataError, DataPiece, Headline, OptionType
from messages.scan import Catalyst, Checkpoint, Direction, OptionPick, ScoreComponent, TickerResult
from messages.storage import BeginRun

T0 = dt.datetime(2024, 1, 5, 14, 30, 0, 123456, tzinfo=dt.timezone.utc)


def begin(run_id: str = "run-1", *, at: dt.datetime = T0, tickers: int = 3) -> BeginRun:
    return BeginRun(run_id=run_id, started_at=at, source="sim", tickers_requested=tickers,
                    settings_json='{"top_n": 3}')


def pick(ticker: str) -> OptionPick:
    return OptionPick(
        contract=f"{ticker}240216C00150000", type=OptionType.CALL, strike=150.0,
        expiry=dt.date(2024, 2, 16), dte=42, delta=0.52, bid=4.1, ask=4.3, mid=4.2,
        open_interest=1200.0, volume=340.0, iv=0.27, greeks_source="chain",
        gamma=0.031, theta=-0.05, vega=0.19,
    )


def result(ticker: str, rank: int = 1, *, option: bool = True, n_components: int = 2) -> TickerResult:
    return TickerResult(
        ticker=ticker, rank=rank, score=71.25 - rank, technical_score=68.5 - rank,
        direction=Direction.BULLISH,
        components=tuple(ScoreComponent(f"c{i}", 0.1 * (i % 10), 0.25, "x" * (i % 7)) for i in range(n_components)),
        catalysts=(Catalyst("earnings_soon", "earnings in 9 days", -2.5, dt.date(2024, 1, 14)),
                   Catalyst("news", "2 positive articles", 1.0)),
        last_close=151.37, as_of=dt.date(2024, 1, 5),
        option=pick(ticker) if option else None,
        no_option_reason=None if option else "no contract within the delta target",
        synthetic=rank % 2 == 0,
    )


def checkpoint(run_id: str = "run-1", tickers: tuple[str, ...] = ("AAPL", "MSFT", "CLX")) -> Checkpoint:
    return Checkpoint(
        run_id=run_id,
        results=tuple(result(t, i + 1, option=i != 1) for i, t in enumerate(tickers)),
        errors=(DataError("ZZZZ", DataPiece.HISTORY, "unknown_ticker", "no such symbol"),
                DataError("CLX", DataPiece.NEWS, "timeout", "news timed out after 10 s")),
        tickers_requested=len(tickers) + 1,
    )


def bull_outcome(run_id: str = "run-1", ticker: str = "AAPL") -> AgentOutcome:
    return AgentOutcome(
        run_id=run_id, ticker=ticker, role=AgentRole.BULL, model="llama3.1:8b",
        thesis=Thesis(Stance.BULLISH, 0.7, ("trend up", "earnings beat"), "Looks strong."),
        failure=None, attempts=1, latency=2.5, input_tokens=812, output_tokens=140,
    )


def risk_outcome(run_id: str = "run-1", ticker: str = "AAPL") -> AgentOutcome:
    return AgentOutcome(
        run_id=run_id, ticker=ticker, role=AgentRole.RISK, model="llama3.1:8b",
        thesis=RiskAssessment(Verdict.ADJUST, 0.55, ("IV high",), "Size down.", Stance.BULLISH),
        failure=None, attempts=2, latency=3.25,
    )


def failed_outcome(run_id: str = "run-1", ticker: str = "MSFT") -> AgentOutcome:
    return AgentOutcome(
        run_id=run_id, ticker=ticker, role=AgentRole.BEAR, model="llama3.1:8b", thesis=None,
        failure="timeout", attempts=3, latency=60.0, detail="no first chunk within 30 s",
    )


def debate(run_id: str = "run-1", ticker: str = "AAPL") -> DebateFinished:
    return DebateFinished(run_id, ticker, DebateStatus.COMPLETED, Verdict.ADJUST, 0.55, None)


def headline(ticker: str, title: str, minute: int, url: str | None = None) -> Headline:
    return Headline(ticker=ticker, title=title, published_at=T0 + dt.timedelta(minutes=minute),
                    publisher="Wire", url=url)


async def call(inbox: trio.MemorySendChannel[Any], command: Any, *, timeout: float = 20.0) -> Any:
    """Send ``Request(command, reply_to)`` and wait for the one answer."""
    reply_send, reply_recv = trio.open_memory_channel[Any](1)
    await inbox.send(Request(command, reply_send))
    async with reply_recv:
        with trio.fail_after(timeout):
            return await reply_recv.receive()


@asynccontextmanager
async def serving(actor: Any) -> AsyncIterator[tuple[trio.MemorySendChannel[Any], Any, trio.Nursery]]:
    """Run ``actor.run`` on a fresh inbox; yields (send side, started value, nursery)."""
    send, recv = trio.open_memory_channel[Any](16)
    async with recv:
        async with trio.open_nursery() as nursery:
            opened = await nursery.start(functools.partial(actor.run, recv))
            async with send:
                yield send, opened, nursery


def real(db_path: Any, **kwargs: Any) -> Persister:
    return Persister(db_path=db_path, **kwargs)
