"""The news queue in real time against bin/fake-ollama: articles per minute, and how long a debate waits.

Everything is the product's path: ``open_system(..., news=True)`` (real SQLite persister, the
LLM side's breaker, health monitor, limiter and pool, the news-scorer actor), the real Ollama
client, a fake-ollama subprocess on 127.0.0.1 answering in ``--latency`` seconds (0.2).

1. **Throughput**: ``--articles`` (40) queued synthetic headlines drained by one ``DrainNews``;
   articles per minute, against the bound of one article per two calls (categorize + score) at
   the per-call latency measured in this run. Profiles: happy, and 30 % malformed replies.
2. **Yielding**: one LLM slot (``ai_debate_concurrency`` = ``ai_concurrency_min`` = 1), the
   news scorer busy with a long queue, a debate run of ``--tickers`` (2) is requested at a random
   moment inside a news call. The debate's extra time is its phase time minus the median phase
   time of the same run with the scorer idle (measured in this run, ``--trials`` each); the goal
   is under one LLM call. Also counted: LLM requests sent during the debate beyond the run's
   own 3 per ticker (news requests that did not yield).

    .venv/bin/python bench/news_queue.py [--latency 0.2] [--articles 40] [--trials 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import attrs
import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from debate_faults import measure_call_latency  # noqa: E402

from actors.config import Settings  # noqa: E402
from actors.fakes.ollama_testing import FakeOllama  # noqa: E402
from actors.news.client import NewsClient  # noqa: E402
from actors.system import open_system  # noqa: E402
from messages.articles import AddArticles  # noqa: E402
from messages.market import Headline  # noqa: E402
from messages.scan import Direction, ScoreComponent, TickerResult  # noqa: E402
from messages.storage import BeginRun  # noqa: E402

NOW = dt.datetime.now(dt.timezone.utc)
WORDS = ("beats", "misses", "raises guidance", "cuts outlook", "wins approval", "faces lawsuit")


def headlines(n: int, salt: str) -> tuple[Headline, ...]:
    return tuple(
        Headline(ticker=f"T{i % 7:02d}", title=f"Company {salt}-{i} {WORDS[i % len(WORDS)]} (synthetic)",
                 published_at=NOW - dt.timedelta(minutes=i), publisher="Bench Wire (synthetic)",
                 url=f"https://bench.invalid/{salt}/{i}")
        for i in range(n)
    )


def candidates(n: int) -> list[TickerResult]:
    return [
        TickerResult(ticker=f"D{i:02d}", rank=i + 1, score=70.0, technical_score=70.0, direction=Direction.BULLISH,
                     components=(ScoreComponent("trend", 0.8, 1.0, "up"),), catalysts=(), last_close=100.0,
                     as_of=NOW.date(), option=None, no_option_reason="bench")
        for i in range(n)
    ]


async def throughput(settings: Settings, db: Path, articles: int) -> tuple[int, float]:
    async with open_system(settings, db=db, news=True) as system:
        await system.store.send(AddArticles(headlines(articles, db.stem)))
        t0 = time.perf_counter()
        drained = await NewsClient(system.news).drain(timeout=600)
        return drained.scored, time.perf_counter() - t0


@attrs.frozen
class DebateTrial:
    seconds: float
    requests_during: int


async def debate_once(settings: Settings, db: Path, fake: FakeOllama, *, busy: bool, tickers: int,
                      offset: float) -> DebateTrial:
    async with open_system(settings, db=db, news=True) as system:
        run_id = f"run-{random.getrandbits(32):08x}"
        await system.store.send(BeginRun(run_id, NOW, "sim", tickers))
        async with trio.open_nursery() as nursery:
            if busy:
                await system.store.send(AddArticles(headlines(500, run_id)))
                nursery.start_soon(NewsClient(system.news).drain)
                await trio.sleep(1.0 + offset)  # a few news calls in, then somewhere inside one
            t0, m0 = time.perf_counter(), time.monotonic()
            summary = await system.debate(run_id, candidates(tickers))
            seconds, m1 = time.perf_counter() - t0, time.monotonic()
            assert summary.completed == tickers, summary
            nursery.cancel_scope.cancel()
    chats = [r for r in fake.requests() if r.path == "/api/chat" and m0 <= r.start <= m1]
    return DebateTrial(seconds=seconds, requests_during=len(chats) - 3 * tickers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per LLM reply")
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--tickers", type=int, default=2, help="tickers in the debate run of the yield test")
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    lat = args.latency
    random.seed(12)
    with FakeOllama() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.configure(latency_first=lat, chunk_interval=0.0)
        base = Settings(source="sim", ollama_host=fake.url, ai_retry_delays=(lat, 2 * lat, 4 * lat),
                        health_interval=3600.0)
        call = trio.run(measure_call_latency, fake.url, base)
        print(f"one LLM call through the real client: {call:.3f} s (fake-ollama at {lat} s per reply)\n")
        print("| profile | articles | scored | seconds | articles/min | bound (1 per 2 calls) | ratio |")
        print("|---|---|---|---|---|---|---|")
        bound = 60.0 / (2 * call)
        for name, profile in (("happy", {}), ("30 % malformed", {"malformed": 0.3, "seed": 4})):
            fake.reset()
            fake.configure(latency_first=lat, chunk_interval=0.0, **profile)
            db = Path(tmp) / f"t-{name.split()[0]}.db"
            scored, seconds = trio.run(throughput, base, db, args.articles)
            rate = scored / seconds * 60
            print(f"| {name} | {args.articles} | {scored} | {seconds:.2f} | {rate:.0f} | {bound:.0f} | {rate / bound:.2f} |")

        pinned = attrs.evolve(base, ai_debate_concurrency=1, ai_concurrency_min=1)
        fake.reset()
        fake.configure(latency_first=lat, chunk_interval=0.0)
        idle, busy = [], []
        for i in range(args.trials):
            for kind, out in (("idle", idle), ("busy", busy)):
                db = Path(tmp) / f"y-{kind}-{i}.db"
                out.append(trio.run(lambda: debate_once(pinned, db, fake, busy=kind == "busy", tickers=args.tickers,
                                                        offset=random.uniform(0.0, 2 * call))))
        reference = statistics.median(t.seconds for t in idle)
        waits = [t.seconds - reference for t in busy]
        print(f"\ndebate of {args.tickers} tickers on one LLM slot, {args.trials} trials each (seconds)\n")
        print("| scorer | phase median | phase max | wait: median | wait: max | wait max / one call | "
              "news requests sent during the debate |")
        print("|---|---|---|---|---|---|---|")
        for kind, trials in (("idle", idle), ("busy (yields)", busy)):
            phase = [t.seconds for t in trials]
            w = [p - reference for p in phase]
            print(f"| {kind} | {statistics.median(phase):.3f} | {max(phase):.3f} | {statistics.median(w):+.3f} | "
                  f"{max(w):+.3f} | {max(w) / call:.2f} | {sum(t.requests_during for t in trials)} |")
        print(f"\ngoal: a debate waits less than one LLM call ({call:.3f} s) for the news scorer: "
              f"{'met' if max(waits) < call else 'NOT met'}")


if __name__ == "__main__":
    main()
