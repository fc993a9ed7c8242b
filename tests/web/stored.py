"""A stored run written through the real persister, with hostile text where an LLM or a provider writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from actors.store.persister import Persister
from messages.debate import AgentOutcome, AgentRole, DebateFinished, DebateStatus, RiskAssessment, Stance, Thesis, Verdict
from messages.market import DataError, DataPiece
from messages.scan import Checkpoint, RunStatus
from messages.scan import Phase
from messages.storage import FinishRun, RecordPhase, SaveAgentOutcome, SaveCheckpoint, SaveDebate
from tests.store.conftest import begin, call, result, serving

RUN_ID = "20260724T150000-abc123"
SCRIPT = '<script>alert("owned")</script>'
IMG = '<img src=x onerror=alert(1)>'
T0 = dt.datetime(2026, 7, 24, 15, 0, tzinfo=dt.timezone.utc)


async def write_run(db: Path, run_id: str = RUN_ID, *, finish: bool = True) -> None:
    """AAPL (contract, completed debate: the bull's reply holds a <script>), MSFT (no contract), CLX; one error."""
    tickers = ("AAPL", "MSFT", "CLX")
    async with serving(Persister(db_path=db)) as (inbox, _opened, _nursery):
        await call(inbox, begin(run_id, at=T0, tickers=4))
        await call(inbox, SaveCheckpoint(Checkpoint(
            run_id=run_id, results=tuple(result(t, i + 1, option=i != 1) for i, t in enumerate(tickers)),
            errors=(DataError("ZZZZ", DataPiece.HISTORY, "unknown_ticker", f"no such symbol {IMG}"),),
            tickers_requested=4)))
        for phase, seconds in ((Phase.DATA_FETCH, 1.25), (Phase.SCORING, 1.0), (Phase.AI_DEBATE, 9.5)):
            await call(inbox, RecordPhase(run_id, phase, "ok", seconds, 0, ""))
        await call(inbox, SaveAgentOutcome(AgentOutcome(
            run_id=run_id, ticker="AAPL", role=AgentRole.BULL, model="llama3.1:8b",
            thesis=Thesis(Stance.BULLISH, 0.7, (f"trend up {IMG}", "earnings beat"), f"Looks strong. {SCRIPT}"),
            failure=None, attempts=1, latency=2.5)))
        await call(inbox, SaveAgentOutcome(AgentOutcome(
            run_id=run_id, ticker="AAPL", role=AgentRole.BEAR, model="llama3.1:8b",
            thesis=Thesis(Stance.BEARISH, 0.4, ("valuation",), "Priced in."), failure=None, attempts=1, latency=2.0)))
        await call(inbox, SaveAgentOutcome(AgentOutcome(
            run_id=run_id, ticker="AAPL", role=AgentRole.RISK, model="llama3.1:8b",
            thesis=RiskAssessment(Verdict.ADJUST, 0.55, ("IV high",), "Size down.", Stance.BULLISH),
            failure=None, attempts=2, latency=3.25)))
        await call(inbox, SaveDebate(DebateFinished(run_id, "AAPL", DebateStatus.COMPLETED, Verdict.ADJUST, 0.55, None)))
        if finish:
            await call(inbox, FinishRun(
                run_id=run_id, status=RunStatus.COMPLETED, reason=None, debates_requested=1,
                debates_completed=1, duration_seconds=12.5, finished_at=T0 + dt.timedelta(seconds=12.5)))
