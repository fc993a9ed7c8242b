"""30 simulated days of bin/daemon in virtual time, with random LLM outages.

The real daemon (:func:`actors.app.daemon.serve`: system, scheduler, coordinator, fetcher, breaker,
health monitor, debate pool, resume) runs under ``trio.testing.MockClock(autojump_threshold=0)``
with a wall clock derived from trio's, so a month takes a minute or two of CPU. The market is
the sim source; the store is the in-memory persister (the SQLite persister works in threads,
which virtual time cannot wait for); the LLM is the real ``OllamaChat`` over an
``httpx.MockTransport`` that serves like bin/fake-ollama (tests/debate/fakes.py ``MockOllama``).

Outages: each simulated day, with probability ``--outage-rate``, the LLM goes away at a random
time for 20 min .. 8 h, either refusing connections or hanging (every request, probes included).
A seed drives everything.

Printed: scans run vs scheduled (the schedule's own count of due times, plus the catch-up),
skipped (due while one ran), debates completed vs requested over every run, runs left
unfinished at the end (goal 0: every run the outages left PARTIAL is resumed once the LLM is
back), resumes, and process RSS at the start, after day 1 and at the end (goal: no growth).
The in-memory store keeps every row it is given; to measure the daemon rather than that fake
database, rows of COMPLETED runs older than two days are dropped from it each simulated day.

    .venv/bin/python bench/daemon_soak.py [--days 30] [--seed 1] [--outage-rate 0.5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import logging
import random
import signal
import sys
import time
import zoneinfo
from contextlib import contextmanager
from pathlib import Path

import attrs
import trio
import trio.testing

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.app.calendar import TradingCalendar  # noqa: E402
from actors.app.daemon import DaemonOptions, serve  # noqa: E402
from actors.app.schedule import ScheduleSpec, due_times  # noqa: E402
from actors.config import Settings  # noqa: E402
from actors.fakes.memory_persister import MemoryPersister  # noqa: E402
from messages.scan import Phase, RunStatus  # noqa: E402
from tests.debate.fakes import MockOllama, ollama_client  # noqa: E402

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.timezone.utc


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@attrs.define
class Soak:
    settings: Settings
    start: dt.datetime
    days: int
    rng: random.Random
    outage_rate: float
    memory: MemoryPersister = attrs.Factory(MemoryPersister)
    server: MockOllama = attrs.Factory(lambda: MockOllama(latency_first=2.0))
    outages: list[tuple[dt.datetime, float, str]] = attrs.Factory(list)
    rss: dict[str, float] = attrs.Factory(dict)
    origin: float = 0.0

    def wall(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=trio.current_time() - self.origin)

    async def run(self) -> None:
        self.origin = trio.current_time()
        send, receive = trio.open_memory_channel[int](4)

        @contextmanager
        def signals():
            yield receive

        settings = self.settings
        options = DaemonOptions(
            db=":memory:", reload=lambda: settings, wall_clock=self.wall, signals=signals,
            system_options={"persister": self.memory.run,
                            "client_factory": lambda observer: ollama_client(settings, observer, self.server)},
        )
        self.rss["start"] = rss_mb()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve, settings, options)
            for day in range(self.days):
                await self._day(day)
                self._prune()
                if day == 0:
                    gc.collect()
                    self.rss["after day 1"] = rss_mb()
            await trio.sleep(6 * 3600)  # the LLM is up: what the last outage left is resumed
            await send.send(signal.SIGTERM)
        gc.collect()
        self.rss["end"] = rss_mb()

    async def _day(self, day: int) -> None:
        """One simulated day; maybe an outage in it (refused or hung) of 20 min .. 8 h."""
        day_start = trio.current_time()
        if self.rng.random() < self.outage_rate:
            at = self.rng.uniform(0, 20 * 3600)
            length = self.rng.uniform(20 * 60, 8 * 3600)
            kind = self.rng.choice(("refused", "hung"))
            await trio.sleep(at)
            self.outages.append((self.wall(), length, kind))
            self._llm(kind)
            await trio.sleep(length)
            self._llm("up")
        await trio.sleep(max(0.0, day_start + 86400 - trio.current_time()))

    def _llm(self, state: str) -> None:
        self.server.refuse = state == "refused"
        self.server.profile = attrs.evolve(self.server.profile, hang_all=state == "hung")

    def _prune(self) -> None:
        horizon = self.wall() - dt.timedelta(days=2)
        old = {r.id for r in self.memory.runs.values()
               if r.status is RunStatus.COMPLETED and r.started_at < horizon}
        for run_id in old:
            self.memory.checkpoints.pop(run_id, None)
        self.memory.outcomes[:] = [o for o in self.memory.outcomes if o.run_id not in old]
        self.memory.committed.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--outage-rate", type=float, default=0.5)
    parser.add_argument("--tickers", type=int, default=100)
    args = parser.parse_args()
    settings = Settings(
        source="sim", universe_size=args.tickers, scan_workers=0, top_n_options=10, top_n_ai_debate=5,
        scan_at=("09:45", "12:30", "16:30"), ai_debate_concurrency=2, ai_concurrency_min=2,
        ai_first_chunk_timeout=60.0, ai_request_timeout=90.0, ai_retry_delays=(2.0, 4.0),
        health_interval=60.0, resume_window=86400.0 * 3, log_level="ERROR",
    )
    start = dt.datetime(2026, 10, 15, 0, 0, tzinfo=NY).astimezone(UTC)  # crosses the Nov 1 DST change
    soak = Soak(settings=settings, start=start, days=args.days, rng=random.Random(args.seed),
                outage_rate=args.outage_rate)
    logging.basicConfig(level=logging.ERROR)  # the run's own log lines stay out of the table
    began = time.perf_counter()
    trio.run(soak.run, clock=trio.testing.MockClock(autojump_threshold=0))
    cpu = time.perf_counter() - began

    end = start + dt.timedelta(days=args.days)
    spec = ScheduleSpec.from_settings(settings)
    scheduled = 0
    for due in due_times(start, spec, TradingCalendar()):
        if due > end:
            break
        scheduled += 1
    runs = list(soak.memory.runs.values())
    requested = sum(r.debates_requested for r in runs)
    completed = sum(r.debates_completed for r in runs)
    unfinished = [r for r in runs if r.status is not RunStatus.COMPLETED]
    resumed = [rid for (rid, phase), rec in soak.memory.phases.items()
               if phase is Phase.AI_DEBATE and rec.detail.startswith("resumed")]
    down = sum(length for _, length, _ in soak.outages) / 3600
    print(f"daemon soak: {args.days} simulated days from {start:%Y-%m-%d} (NY), seed {args.seed}, "
          f"{args.tickers} sim tickers, scan_at {','.join(settings.scan_at)}, top {settings.top_n_ai_debate} debated; "
          f"{len(soak.outages)} LLM outages ({down:.1f} h down: "
          f"{sum(k == 'refused' for *_, k in soak.outages)} refused, {sum(k == 'hung' for *_, k in soak.outages)} hung); "
          f"{cpu:.1f} s of real time")
    print()
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| scans run / scheduled | {len(runs)} / {scheduled} | equal (none skipped) |")
    print(f"| debates completed / requested | {completed} / {requested} | equal |")
    print(f"| runs an outage left PARTIAL, finished by a resume | {len(resumed)} | — |")
    print(f"| runs left unfinished | {len(unfinished)} | 0 |")
    print(f"| LLM calls served | {len(soak.server.chats)} | — |")
    print(f"| RSS start / after day 1 / end | {soak.rss['start']:.0f} / {soak.rss['after day 1']:.0f} / "
          f"{soak.rss['end']:.0f} MB | end ≈ after day 1 |")
    for r in unfinished:
        print(f"  unfinished: {r.id} {r.status.value} {r.debates_completed}/{r.debates_requested} {r.status_reason}")


if __name__ == "__main__":
    main()
