"""ListResumable / ReopenRun on the real SQLite store (and the same answers from MemoryPersister)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from actors.errors import StoreError
from actors.fakes.memory_persister import MemoryPersister
from actors.store import schema, writes
from messages.debate import DebateStatus
from messages.resume import ListResumable, ReopenRun
from messages.scan import RunStatus
from messages.storage import BeginRun, FinishRun, SaveAgentOutcome, SaveCheckpoint, SaveDebate

from .conftest import T0, bull_outcome, checkpoint, debate, failed_outcome


def _finish(run_id: str, status: RunStatus) -> FinishRun:
    return FinishRun(run_id=run_id, status=status, reason="x", debates_requested=3, debates_completed=0,
                     duration_seconds=12.5, finished_at=T0 + dt.timedelta(minutes=1))


def _begin(run_id: str, *, at=T0, top_n: int = 2) -> BeginRun:
    return BeginRun(run_id=run_id, started_at=at, source="sim", tickers_requested=4,
                    settings_json=f'{{"top_n_ai_debate": {top_n}}}')


def _history() -> list[object]:
    """partial (checkpointed, finished), interrupted (checkpointed), completed, no-checkpoint, open, old."""
    cmds: list[object] = []
    for run_id in ("partial", "interrupted", "completed", "open"):
        cmds += [_begin(run_id), SaveCheckpoint(checkpoint(run_id))]
    cmds += [SaveAgentOutcome(bull_outcome("partial", "AAPL")), SaveAgentOutcome(failed_outcome("partial", "MSFT")),
             SaveDebate(attrs.evolve(debate("partial", "AAPL"), status=DebateStatus.CUT_OFF, verdict=None, conviction=None,
                                        reason="interrupted"))]
    cmds += [_finish("partial", RunStatus.PARTIAL), _finish("interrupted", RunStatus.INTERRUPTED),
             _finish("completed", RunStatus.COMPLETED)]
    cmds += [_begin("nocheckpoint"), _finish("nocheckpoint", RunStatus.INTERRUPTED)]
    cmds += [_begin("old", at=T0 - dt.timedelta(days=2)), SaveCheckpoint(checkpoint("old")),
             _finish("old", RunStatus.PARTIAL)]
    return cmds


class _Sqlite:
    def __init__(self, tmp_path):
        self.conn, _ = schema.open_writer(tmp_path / "r.db")

    def send(self, cmd):
        return writes.execute(self.conn, cmd, owner="me")

    def row(self, run_id):
        return self.conn.execute("SELECT status, finished_at, owner FROM scan_runs WHERE id = ?", (run_id,)).fetchall()[0]


class _Memory:
    def __init__(self, _tmp_path):
        self.memory = MemoryPersister()

    def send(self, cmd):
        ack = self.memory._apply(cmd)
        if hasattr(ack, "error"):
            raise ack.error
        return ack

    def row(self, run_id):
        r = self.memory.runs[run_id]
        return r.status.value, r.finished_at, "me"


@pytest.fixture(params=[_Sqlite, _Memory], ids=["sqlite", "memory"])
def store(request, tmp_path):
    s = request.param(tmp_path)
    for cmd in _history():
        s.send(cmd)
    return s


def test_lists_finished_checkpointed_partial_and_interrupted_runs_since(store):
    """Only finished PARTIAL/INTERRUPTED runs with a checkpoint, started since the bound, oldest first."""
    assert store.send(ListResumable(since=T0 - dt.timedelta(hours=1))) == ("interrupted", "partial")
    assert set(store.send(ListResumable(since=T0 - dt.timedelta(days=3)))) == {"old", "interrupted", "partial"}


def test_reopen_takes_the_run_and_returns_what_it_needs(store):
    """Reopened: PARTIAL, open (no finished_at), ours; top_n candidates by rank, debate rows, ok theses only."""
    reopened = store.send(ReopenRun(run_id="partial"))
    assert [c.ticker for c in reopened.candidates] == ["AAPL", "MSFT"]  # top_n_ai_debate = 2 of 3
    assert [(d.ticker, d.status) for d in reopened.debates] == [("AAPL", DebateStatus.CUT_OFF)]
    assert [(o.ticker, o.role.value) for o in reopened.saved] == [("AAPL", "bull")]  # the failed bear is not a thesis
    assert reopened.duration_seconds == 12.5 and reopened.previous_status == "PARTIAL"
    status, finished_at, owner = store.row("partial")
    assert (status, finished_at, owner) == ("PARTIAL", None, "me")
    assert "partial" not in store.send(ListResumable(since=T0 - dt.timedelta(hours=1)))


@pytest.mark.parametrize(("run_id", "why"), [
    ("nope", "unknown run id"),
    ("open", "is still open"),
    ("completed", "is COMPLETED; only PARTIAL or INTERRUPTED"),
    ("nocheckpoint", "has no checkpoint"),
])
def test_reopen_refuses_naming_why_and_changes_nothing(store, run_id, why):
    """A run that cannot be resumed is refused with the reason; its row is unchanged."""
    before = None if run_id == "nope" else store.row(run_id)
    with pytest.raises(StoreError, match=why):
        store.send(ReopenRun(run_id=run_id))
    if before is not None:
        assert store.row(run_id) == before


def test_a_second_reopen_is_refused_while_the_first_holds_it(store):
    """Two resumes of one run: the second finds it open and is refused."""
    store.send(ReopenRun(run_id="interrupted"))
    with pytest.raises(StoreError, match="still open"):
        store.send(ReopenRun(run_id="interrupted"))
