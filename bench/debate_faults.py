"""The debate phase under LLM fault profiles, in real time, against bin/fake-ollama.

Each profile runs a full scan (sim market, real coordinator, real SQLite persister, real Ollama
client, health monitor and breaker) whose debate phase talks to a fake-ollama subprocess on
127.0.0.1 with latencies scaled down (0.2 s per reply; retry delays scaled the same way). It
prints: profile, debates completed, phase wall time, the ideal or bound it is held to, the
ratio, and how busy the LLM was (request-seconds / (phase time x concurrency)).

    .venv/bin/python bench/debate_faults.py [--latency 0.2] [--tickers 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
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
from actors.llm.testing import FakeOllama  # noqa: E402
from actors.providers.base import make_provider  # noqa: E402
from actors.runtime import spawn, stop  # noqa: E402
from actors.store.client import StoreClient  # noqa: E402
from actors.store.persister import run_persister  # noqa: E402
from messages.scan import Phase, ScanRequested  # noqa: E402


async def scan_once(settings: Settings, db: Path, on_debate_start=None) -> tuple[ScanOutcome, float, float]:
    """Run one scan; returns the outcome, the debate phase's start and end (perf_counter)."""
    provider = make_provider("sim", size=60, seed=11)
    marks: dict[str, float] = {}

    def publish(event: object) -> None:
        if getattr(event, "phase", None) is Phase.AI_DEBATE:
            marks.setdefault(type(event).__name__, time.perf_counter())

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
    return outcome, marks["PhaseStarted"], marks["PhaseFinished"]


def busy_fraction(fake: FakeOllama, since_mono: float, seconds: float, concurrency: int) -> float:
    spans = [r for r in fake.requests() if r.path == "/api/chat" and r.start >= since_mono]
    now = time.monotonic()
    used = sum(((r.end if r.end is not None else now) - r.start) for r in spans)
    return used / (seconds * concurrency) if seconds > 0 else 0.0


async def measure_call_latency(url: str, settings: Settings, samples: int = 7) -> float:
    """Median wall time of one healthy call through the real client: the per-call latency."""
    from actors.llm.client import ChatMessage
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
    args = parser.parse_args()
    lat, n = args.latency, args.tickers
    base = Settings(
        source="sim", top_n_ai_debate=n, ai_debate_concurrency=3,
        ai_retry_delays=(lat, 2 * lat, 4 * lat),  # the default 2,4,8 scaled like the latency
    )
    rows = []
    with FakeOllama() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.configure(latency_first=lat, chunk_interval=0.0)
        call = trio.run(measure_call_latency, fake.url, base)
        ideal = math.ceil(n / base.ai_debate_concurrency) * 3 * call

        def run(name: str, profile: dict, bound: float, bound_name: str, *, host: str | None = None,
                settings: Settings | None = None, on_start=None, hang_ref: list | None = None) -> None:
            fake.reset()  # empties the request log too
            fake.configure(latency_first=lat, chunk_interval=0.0, seed=7, **profile)
            s = attrs.evolve(settings or base, ollama_host=host or fake.url)
            since = time.monotonic()
            outcome, start, end = trio.run(scan_once, s, Path(tmp) / f"{name}.db", on_start)
            wall = end - start
            measured = wall if hang_ref is None else end - hang_ref[0]
            rows.append((name, outcome.debate.completed, n, wall, bound_name, bound, measured / bound,
                         busy_fraction(fake, since, wall, s.ai_debate_concurrency), outcome.status.value,
                         outcome.debate.skipped_reason or ""))

        run("happy", {}, ideal, "ideal")
        run("transient 35%", {"http_500": 0.175, "malformed": 0.175}, ideal, "ideal")
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

    print(f"debate phase, {n} tickers, concurrency 3, {lat:g} s per reply, retry delays "
          f"{', '.join(f'{d:g}' for d in base.ai_retry_delays)} s")
    print(f"per-call latency measured through the client in this run: {call:.3f} s; "
          f"ideal = ceil({n}/3) x 3 x {call:.3f} = {ideal:.2f} s")
    header = f"{'profile':<16} {'done':>6} {'phase s':>8} {'bound':>15} {'ratio':>6} {'LLM busy':>8}  {'status':<8} reason"
    print(header)
    print("-" * len(header))
    for name, done, req, wall, bound_name, bound, ratio, busy, status, reason in rows:
        print(f"{name:<16} {done:>3}/{req:<2} {wall:>8.2f} {bound_name:>9} {bound:>5.2f} {ratio:>6.2f} {busy:>8.0%}  "
              f"{status:<8} {reason[:60]}")
    print("ratio: phase time / bound (dies mid-phase: time from the hang to the phase's end / bound). "
          "Targets: happy <= 1.05, transient <= 2 (retried work alone ~1.54), others <= 1.")


if __name__ == "__main__":
    main()
