"""The daemon in-process, in virtual time: resume when the LLM comes back, the watchdog and a wedged
actor, crash-loop escalation. Real system, scheduler and OllamaChat (over MockOllama); the
notify socket is a real unix datagram socket."""

from __future__ import annotations

import datetime as dt
import io
import socket
import zoneinfo

import pytest
import trio

from actors.app.notify import Notifier
from actors.cli_boundary import exit_for
from actors.config import Settings
from actors.fakes.memory_persister import MemoryPersister
from actors.runtime import SupervisorEscalation
from messages.debate import DebateStatus
from messages.scan import RunStatus
from tests.app.daemon_harness import running_daemon
from tests.debate.fakes import MockOllama, ollama_client
from tests.system.providers import BuggyProvider, SlowSim

NY = zoneinfo.ZoneInfo("America/New_York")


def ny(y, m, d, hh=0, mm=0, ss=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=NY)


DEBATING = dict(source="sim", top_n_options=5, top_n_ai_debate=3, fetch_concurrency=4, fetch_retry_delays=(0.5,),
                universe_size=30, ai_retry_delays=(0.5,), ai_debate_concurrency=2, ai_concurrency_min=2,
                health_interval=60.0, scan_at=("16:30",))


async def test_a_partial_run_is_resumed_within_one_health_interval_of_the_llm_coming_back(autojump_clock):
    """LLM down at 16:30 → PARTIAL; back at 17:00 → the next idle probe (≤ 60 s) resumes it: COMPLETED, same row."""
    settings = Settings(**DEBATING)
    server = MockOllama(latency_first=1.0, refuse=True)
    start = ny(2026, 12, 7, 16, 0)
    async with running_daemon(settings, start=start, news=False,  # count debate calls only
                              client_factory=lambda observer: ollama_client(settings, observer, server)) as daemon:
        await trio.sleep(35 * 60)  # past the 16:30 scan
        (run,) = daemon.memory.runs.values()
        assert run.status is RunStatus.PARTIAL and run.debates_completed == 0
        server.refuse = False
        back = trio.current_time()
        while daemon.memory.runs[run.id].status is not RunStatus.COMPLETED:
            await trio.sleep(1)
        noticed = trio.current_time() - back
        await daemon.stop()
    assert noticed <= 60 + 3 * 3 * 1.0 + 5  # one probe interval, then 3 debates x 3 calls on 2 slots
    final = daemon.memory.runs[run.id]
    assert (final.status, final.debates_requested, final.debates_completed) == (RunStatus.COMPLETED, 3, 3)
    assert len(daemon.memory.runs) == 1 and len(server.chats) == 9
    assert {d.status for d in daemon.memory.debates.values()} == {DebateStatus.COMPLETED}, [(d.ticker, d.status, d.reason) for d in daemon.memory.debates.values()]


async def test_the_daemon_scores_the_news_queue_on_its_own_every_news_interval(autojump_clock):
    """The 16:30 scan collects the sim's headlines; the daemon's news scorer drains them without a scan asking."""
    settings = Settings(**DEBATING)
    server = MockOllama(latency_first=0.2)
    async with running_daemon(settings, start=ny(2026, 12, 7, 16, 0),
                              client_factory=lambda observer: ollama_client(settings, observer, server)) as daemon:
        await trio.sleep(31 * 60)  # the 16:30 scan has run and debated
        (run,) = daemon.memory.runs.values()
        assert run.status is RunStatus.COMPLETED
        await trio.sleep(10 * settings.news_interval)
        statuses = dict(daemon.memory.news_db.execute("SELECT status, count(*) FROM articles GROUP BY status"))
        await daemon.stop()
    assert statuses and set(statuses) == {"scored"}, statuses
    assert len(server.chats) == 9 + 2 * statuses["scored"]  # 3 debates x 3 agents; categorize + score per article


def _datagrams(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


async def test_a_wedged_actor_stops_the_watchdog_pings(autojump_clock, tmp_path, caplog):
    """Pings every 10 s while all is well; the persister wedges in a command (the 10:05 scan's BeginRun) →
    no more pings, and the ERROR line names it."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    memory = MemoryPersister()
    settings = Settings(source="sim", top_n_ai_debate=0, ai_backend="none", universe_size=30, scan_at=(),
                        scan_every=300, shutdown_grace=1)
    async with running_daemon(settings, start=ny(2026, 12, 7, 9, 59, 30), memory=memory, notifier=Notifier(path),
                              watchdog=10.0) as daemon:
        await trio.sleep(60)
        first = _datagrams(sock)
        memory.delay = 10_000.0  # the next command holds the persister for hours: it takes no message
        await trio.sleep(300)  # the 10:05 scan sends BeginRun and wedges it
        _datagrams(sock)
        await trio.sleep(120)
        wedged_window = _datagrams(sock)
        await daemon.stop()
    sock.close()
    assert first[0] == "READY=1\n" + first[0].split("\n", 1)[1] and first[0].split("\n")[1].startswith("STATUS=")
    assert 5 <= first.count("WATCHDOG=1") <= 6
    assert "WATCHDOG=1" not in wedged_window
    wedged = [r for r in caplog.records if "watchdog: actor(s)" in r.getMessage()]
    assert len(wedged) == 1 and "persister" in wedged[0].getMessage() and wedged[0].levelname == "ERROR"


async def test_a_crash_loop_stops_the_daemon_naming_the_actor_and_exits_1(autojump_clock):
    """A provider bug on every scan crashes the fetcher past its restart limit: the daemon stops, exit 1, named."""
    settings = Settings(source="sim", top_n_ai_debate=0, ai_backend="none", universe_size=30, scan_at=(),
                        scan_every=120, fetch_concurrency=4, fetch_retry_delays=(0.5,))
    buggy = BuggyProvider(tickers=set(SlowSim(size=30).default_universe()), times=10_000, size=30)
    with pytest.raises(BaseException) as caught:
        async with running_daemon(settings, start=ny(2026, 12, 7, 10, 0), provider=buggy):
            await trio.sleep(3600)
    stderr = io.StringIO()
    assert exit_for(caught.value, stderr=stderr) == 1
    escalations = [e for e in _leaves(caught.value) if isinstance(e, SupervisorEscalation)]
    assert escalations and escalations[0].actor == "fetcher"
    assert "actor 'fetcher' exceeded its restart limit" in stderr.getvalue()


def _leaves(exc: BaseException):
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc
