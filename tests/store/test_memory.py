"""The in-memory persister: same protocol and acks as the real one, virtual time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import trio

from actors.errors import DiskFull, StoreError
from actors.runtime.envelope import Failure
from actors.store import reader
from actors.fakes.memory_persister import MemoryPersister
from messages.articles import ClaimArticle, FinishArticle, ReleaseArticle, TickerSentiment
from messages.scan import CheckpointCommitted, Phase, RunStatus
from messages.storage import (
    AddArticles, Committed, FinishRun, RecordPhase, SaveAgentOutcome, SaveCheckpoint, SaveDebate,
)
from .conftest import (
    T0, begin, bull_outcome, call, checkpoint, debate, failed_outcome, headline, real, result, serving,
)

NAIVE = dt.datetime(2024, 1, 5, 15, 0)
LEASE_END = T0 + dt.timedelta(seconds=300)


def claim(minutes: float = 0) -> ClaimArticle:
    return ClaimArticle(now=T0 + dt.timedelta(minutes=minutes), lease_seconds=300, max_attempts=3)


def finish(article_id: int, **fields: Any) -> FinishArticle:
    base = {"article_id": article_id, "lease_expires_at": LEASE_END, "now": T0, "max_attempts": 3}
    return FinishArticle(**{**base, **fields})


def _sequence() -> list[Any]:
    cp = checkpoint()
    return [
        begin(), begin(),                                        # second: duplicate id
        RecordPhase("run-1", Phase.DATA_FETCH, "ok", 1.5),
        SaveCheckpoint(checkpoint("ghost")),                     # unknown run
        SaveCheckpoint(attrs.evolve(cp, results=cp.results + (result("AAPL", 7),))),  # duplicate ticker
        SaveCheckpoint(cp),
        SaveAgentOutcome(bull_outcome()), SaveAgentOutcome(failed_outcome()),
        SaveDebate(debate()),
        AddArticles((headline("AAPL", "a", 3, "u1"), headline("AAPL", "b", 3), headline("AAPL", "a2", 1, "u1"),
                     attrs.evolve(headline("MSFT", "naive time", 0), published_at=NAIVE))),
        claim(), claim(),
        finish(1, scores=(TickerSentiment(ticker="AAPL", sentiment=0.5, impact=3.0),), event_type="product",
               reasoning="Meh."),
        finish(42, failure="timeout"),                           # unknown article
        ReleaseArticle(article_id=2, lease_expires_at=LEASE_END),
        claim(), claim(), claim(10),                             # one left; then expired leases come back
        FinishRun("run-1", RunStatus.COMPLETED, None, 1, 1, 9.5, T0),
        SaveCheckpoint(cp),                                      # run already finished
        "not a command",
    ]


def _comparable(answer: Any) -> Any:
    if isinstance(answer, Failure):
        return (type(answer.error), str(answer.error))
    return answer


async def test_fake_gives_the_same_answers_as_the_real_persister(tmp_path):
    """One command sequence, both persisters: identical acks, failures and final runs."""
    db = tmp_path / "real.db"
    fake = MemoryPersister()
    answers: dict[str, list[Any]] = {}
    for name, actor in (("real", real(db)), ("fake", fake)):
        async with serving(actor) as (inbox, _, _):
            answers[name] = [_comparable(await call(inbox, c)) for c in _sequence()]
    assert answers["real"] == answers["fake"]
    kinds = [type(a).__name__ for a in answers["real"]]
    assert kinds.count("tuple") == 7 and kinds.count("NoneType") == 1  # failures (one a lost lease); an empty queue
    assert answers["real"][5] == CheckpointCommitted("run-1", 3)
    assert answers["real"][9] == Committed("AddArticles", None, 3)
    assert reader.list_runs(db) == (fake.runs["run-1"],)
    assert fake.checkpoints["run-1"].results == reader.load_run(db, "run-1").results
    assert fake.outcomes == [bull_outcome(), failed_outcome()]


async def test_fail_next_answers_disk_full_without_applying(autojump_clock):
    """Injected failures are answered as DiskFull and leave no trace; then it serves normally."""
    fake = MemoryPersister()
    fake.fail_next(2)
    async with serving(fake) as (inbox, _, _):
        first = await call(inbox, begin())
        second = await call(inbox, begin())
        assert isinstance(first, Failure) and isinstance(first.error, DiskFull)
        assert isinstance(second, Failure) and isinstance(second.error, DiskFull)
        assert fake.runs == {}
        assert await call(inbox, begin()) == Committed("BeginRun", "run-1", 1)
    stats = fake.statistics()
    assert (stats.commands_done, stats.failures) == (1, 2)


async def test_fail_next_takes_a_chosen_error(autojump_clock):
    """The injected error can be any StoreError."""
    fake = MemoryPersister()
    fake.fail_next(1, StoreError("database is locked"))
    async with serving(fake) as (inbox, _, _):
        answer = await call(inbox, begin())
    assert type(answer.error) is StoreError and str(answer.error) == "database is locked"


async def test_delay_runs_on_virtual_time(autojump_clock):
    """A slow fake takes its delay per command, in virtual seconds."""
    fake = MemoryPersister(delay=30.0)
    async with serving(fake) as (inbox, _, _):
        start = trio.current_time()
        await call(inbox, begin(), timeout=100)
        await call(inbox, SaveCheckpoint(checkpoint()), timeout=100)
        assert trio.current_time() - start == 60.0


async def test_cancel_during_delay_drops_the_command_unapplied(autojump_clock):
    """Cancelled mid-command, nothing is committed and the caller hears nothing."""
    fake = MemoryPersister(delay=10.0)
    async with serving(fake) as (inbox, _, nursery):
        with trio.move_on_after(5):
            await call(inbox, begin(), timeout=100)
        nursery.cancel_scope.cancel()
    assert fake.runs == {} and fake.committed == []


async def test_restart_interrupts_running_runs_like_the_real_one(autojump_clock):
    """Serving again reports RUNNING runs as interrupted; a claimed article comes back once its lease expired."""
    fake = MemoryPersister()
    async with serving(fake) as (inbox, _, _):
        await call(inbox, begin())
        await call(inbox, AddArticles((headline("AAPL", "a", 0),)))
        await call(inbox, claim())
    async with serving(fake) as (inbox, opened, _):
        assert opened.interrupted_runs == ("run-1",)
        assert await call(inbox, claim(1)) is None  # still under its lease
        again = await call(inbox, claim(6))
        assert (again.title, again.attempts) == ("a", 2)  # the expired lease counted its attempt
    assert fake.runs["run-1"].status is RunStatus.INTERRUPTED
    assert fake.runs["run-1"].status_reason == "process stopped while running"
