"""The debate phase under LLM fault profiles, in real time, against bin/fake-ollama.

Each run is a full scan (sim market, real coordinator, real SQLite persister, real Ollama
client, health monitor and circuit breaker) whose debate phase talks to a fake-ollama
subprocess on 127.0.0.1 with latencies scaled down (0.2 s per reply; retry delays 0.2/0.4/0.8 s,
the defaults 2/4/8 s scaled the same way). Every profile runs over ``--seeds`` fake-ollama
seeds (5). Printed per profile: debates completed (mean, min), the phase's wall time (median),
the bound it is held to, the ratio time / bound (median, max), and in how many seeds the
circuit breaker opened, with the first opening's reason.

Bounds: happy and transient are held to the schedule's lower bound
``max(3, ceil(3 n / c)) x latency`` (latency: one healthy call through the real client,
measured in this run); down to 1 s; hung to health_timeout + 1 s; dies mid-phase to
health_in_flight_interval + health_timeout + 1 s, measured from the moment the server hangs.

    .venv/bin/python bench/debate_faults.py [--latency 0.2] [--tickers 10] [--seeds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import attrs
import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.config import Settings  # noqa: E402
from actors.coordinator import ScanOutcome, run_scan  # noqa: E402
from actors.debate.wiring import open_debate_runner  # noqa: E402
from actors.fetcher import Fetcher  # noqa: E402
from actors.fakes.ollama_testing import FakeOllama  # noqa: E402
from actors.providers.base import make_provider  # noqa: E402
from actors.runtime import spawn, stop  # noqa: E402
from actors.store.client import StoreClient  # noqa: E402
from actors.store.persister import run_persister  # noqa: E402
from messages.health import BreakerState, BreakerStateName  # noqa: E402
from messages.scan import Phase, ScanRequested  # noqa: E402


@attrs.frozen
class Trial:
    """One scan of one profile and seed."""

    completed: int
    seconds: float  # the debate phase's wall time
    measured: float  # what the bound applies to (dies mid-phase: from the hang to the end)
    opened: str | None  # the first opening's reason, None if the breaker never opened


async def scan_once(settings: Settings, db: Path, on_debate_start=None) -> tuple[ScanOutcome, float, float, list]:
    """Run one scan; returns the outcome, the debate phase's start and end (perf_counter), breaker events."""
    provider = make_provider("sim", size=60, seed=11)
    marks: dict[str, float] = {}
    breaker_events: list[BreakerState] = []

    def publish(event: object) -> None:
        if getattr(event, "phase", None) is Phase.AI_DEBATE:
            marks.setdefault(type(event).__name__, time.perf_counter())
        if isinstance(event, BreakerState):
            breaker_events.append(event)

    async with trio.open_nursery() as nursery:
        persister = await spawn(nursery, functools.partial(run_persister, db_path=db), name="persister", capacity=64)
        store = StoreClient(persister)
        async with open_debate_runner(settings, store=store, publish=publish, disabled=None) as (runner, _):
            async def debate(run_id, candidates):
                if on_debate_start is not None:
                    nursery.start_soon(on_debate_start)
                return await runner(run_id, candidates)

            outcome = await run_scan(
                ScanRequested(provider.default_universe(), "sim", dt.datetime.now(dt.timezone.utc)),
                run_id=f"bench-{time.monotonic_ns()}", settings=settings,
                fetcher=Fetcher(provider), store=store, publish=publish, debate=debate,
            )
        await stop(persister)
        nursery.cancel_scope.cancel()
    return outcome, marks["PhaseStarted"], marks["PhaseFinished"], breaker_events


async def measure_call_latency(url: str, settings: Settings, samples: int = 7) -> float:
    """Median wall time of one healthy call through the real client: the per-call latency."""
    from actors.llm.protocol import ChatMessage
    from actors.llm.ollama_client import OllamaChat
    from messages.debate import Thesis

    client = OllamaChat(model=settings.ollama_model, host=url)
    times = []
    try:
        for _ in range(samples):
            t0 = time.perf_counter()
            outcome = await client.complete([ChatMessage("user", "Ticker: CAL calibration")], Thesis)
            assert outcome.ok, outcome.detail
            times.append(time.perf_counter() - t0)
    finally:
        await client.aclose()
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per LLM reply")
    parser.add_argument("--tickers", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=5, help="fake-ollama seeds per profile")
    args = parser.parse_args()
    lat, n, seeds = args.latency, args.tickers, range(1, args.seeds + 1)
    base = Settings(
        source="sim", top_n_ai_debate=n, ai_debate_concurrency=3,
        ai_retry_delays=(lat, 2 * lat, 4 * lat),  # the default 2,4,8 scaled like the latency
    )
    c = base.ai_debate_concurrency
    rows = []
    with FakeOllama() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.configure(latency_first=lat, chunk_interval=0.0)
        call = trio.run(measure_call_latency, fake.url, base)
        lower = max(3, math.ceil(3 * n / c)) * call

        def trial(name: str, seed: int, profile: dict, *, host: str | None = None, on_start=None,
                  hang_ref: list | None = None) -> Trial:
            fake.reset()  # empties the request log too
            fake.configure(latency_first=lat, chunk_interval=0.0, seed=seed, **profile)
            s = attrs.evolve(base, ollama_host=host or fake.url)
            db = Path(tmp) / f"{name.split()[0]}-{seed}.db"
            outcome, start, end, events = trio.run(scan_once, s, db, on_start)
            opened = next((e.reason for e in events if e.state is BreakerStateName.OPEN), None)
            measured = end - start if hang_ref is None else end - hang_ref[-1]
            return Trial(outcome.debate.completed, end - start, measured, opened)

        def run(name: str, profile: dict, bound: float, bound_name: str, **kwargs) -> None:
            trials = [trial(name, seed, profile, **kwargs) for seed in seeds]
            rows.append((name, trials, bound, bound_name))

        run("happy", {}, lower, "lower")
        run("transient 35%", {"http_500": 0.20, "malformed": 0.15}, lower, "lower")
        run("down (refused)", {}, 1.0, "1 s", host="http://127.0.0.1:9")
        run("hung (hang_all)", {"hang_all": True}, base.health_timeout + 1, "health+1")

        hang_at: list[float] = []

        async def hang_after_some_replies() -> None:
            while sum(1 for r in await trio.to_thread.run_sync(fake.requests) if r.path == "/api/chat") < 12:
                await trio.sleep(0.05)
            await trio.to_thread.run_sync(lambda: fake.configure(latency_first=lat, hang_all=True))
            hang_at.append(time.perf_counter())

        bound = base.health_in_flight_interval + base.health_timeout + 1
        run("dies mid-phase", {}, bound, "probe+health+1", on_start=hang_after_some_replies, hang_ref=hang_at)

    print(f"debate phase, {n} tickers, concurrency {c}, {lat:g} s per reply, retry delays "
          f"{', '.join(f'{d:g}' for d in base.ai_retry_delays)} s, seeds {seeds.start}..{seeds.stop - 1}")
    print(f"per-call latency measured through the client in this run: {call:.3f} s; "
          f"lower bound = max(3, ceil(3x{n}/{c})) x {call:.3f} = {lower:.2f} s")
    header = (f"{'profile':<16} {'done mean':>9} {'min':>4} {'phase s':>8} {'bound':>15} "
              f"{'ratio':>6} {'max':>5}  {'opened':>6}  first opening")
    print(header)
    print("-" * len(header))
    for name, trials, bound, bound_name in rows:
        done = [t.completed for t in trials]
        ratios = [t.measured / bound for t in trials]
        opened = [t.opened for t in trials if t.opened is not None]
        print(f"{name:<16} {statistics.mean(done):>6.1f}/{n:<2} {min(done):>4} "
              f"{statistics.median(t.seconds for t in trials):>8.2f} {bound_name:>9} {bound:>5.2f} "
              f"{statistics.median(ratios):>6.2f} {max(ratios):>5.2f}  {len(opened):>2}/{len(trials):<3}  "
              f"{(opened[0] if opened else '-')[:70]}")
    print("phase s: median over the seeds; ratio: time / bound (median, max); dies mid-phase: time from "
          "the hang to the phase's end. Targets: happy <= 1.05 (needs the schedule of issue 8 section 2), "
          "down/hung/dies <= 1; transient: the breaker never opens.")


if __name__ == "__main__":
    main()
