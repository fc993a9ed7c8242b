"""The debate phase against servers that serve 1, 2 or 4 requests at once, with 8 slots configured.

Each row runs a full scan (sim market, real coordinator, SQLite persister, real Ollama client,
health monitor, breaker, adaptive limiter) whose debate phase talks to a ``bin/fake-ollama``
subprocess started with ``--parallel P`` (0.2 s per reply, the rest of the requests queue before
their first byte) and a 1 s first-chunk timeout — the setting where a fixed concurrency of 8
lost every debate (issue 16). It prints: completed debates, the phase's wall time against the
bound ``ceil(3n / P) x latency`` (latency measured through the client in the same run), the
ratio (goal <= 1.15), calls that timed out or were cut off (goal 0, from the server's request
log), and the longest wait in the server's queue. When fake-ollama has the ``runaway`` fault, a
last row has 30 % of replies run away (filler until ``num_predict``, 1 chunk per 2.5 ms): those
end as ``truncated`` and are retried once, so fewer debates complete; the row shows how many and
how long the phase took.

    .venv/bin/python bench/llm_capacity.py [--latency 0.2] [--tickers 10]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import attrs
import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actors.config import Settings  # noqa: E402
from actors.fakes.ollama_profile import FAULTS  # noqa: E402
from actors.fakes.ollama_testing import FakeOllama  # noqa: E402
from debate_faults import measure_call_latency, scan_once  # noqa: E402  (bench/ is on sys.path)


@attrs.frozen
class Row:
    name: str
    parallel: int
    faults: str
    completed: int
    tickers: int
    phase: float
    bound: float
    timed_out: int
    max_queued: float

    @property
    def ratio(self) -> float:
        return self.phase / self.bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per LLM reply")
    parser.add_argument("--tickers", type=int, default=10)
    args = parser.parse_args()
    lat, n = args.latency, args.tickers
    base = Settings(
        source="sim", top_n_ai_debate=n, ai_debate_concurrency=8,
        ai_connect_timeout=0.5, ai_first_chunk_timeout=1.0, ai_stall_timeout=1.0,
        ai_retry_delays=(lat, 2 * lat, 4 * lat),  # the default 2,4,8 scaled like the latency
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("adaptive 1..8", 1, base, {}),
            ("adaptive 1..8", 2, base, {}),
            ("adaptive 1..8", 4, base, {}),
            ("pinned at 8", 1, attrs.evolve(base, ai_concurrency_min=8), {}),
        ]
        if "runaway" in FAULTS:
            cases.append(("adaptive 1..8", 4, base, {"runaway": 0.3, "chunk_interval": 0.0025}))
        for name, parallel, settings, faults in cases:
            with FakeOllama(parallel=parallel, latency_first=lat, chunk_interval=0.0, seed=7) as fake:
                call = trio.run(measure_call_latency, fake.url, base)
                fake.reset()
                if faults:
                    fake.configure(latency_first=lat, seed=7, **faults)
                s = attrs.evolve(settings, ollama_host=fake.url)
                outcome, started, finished, _ = trio.run(scan_once, s, Path(tmp) / f"{name}-{parallel}.db")
                wall = finished - started
                chats = [r for r in fake.requests() if r.path == "/api/chat"]
                rows.append(Row(
                    name=name, parallel=parallel, faults="30% runaway" if faults else "none",
                    completed=outcome.debate.completed, tickers=n, phase=wall,
                    bound=math.ceil(3 * n / parallel) * call,
                    timed_out=sum(1 for r in chats if r.outcome not in ("ok", "runaway")),
                    max_queued=max((r.queued for r in chats), default=0.0),
                ))

    print(f"debate phase, {n} tickers, ai_debate_concurrency 8, {lat:g} s per reply, first-chunk timeout "
          f"{base.ai_first_chunk_timeout:g} s; fake-ollama --parallel P")
    header = (f"{'limit':<14} {'P':>2} {'faults':<12} {'done':>6} {'phase s':>8} {'bound s':>8} {'ratio':>6} "
              f"{'timed out':>9} {'max queued s':>12}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.name:<14} {r.parallel:>2} {r.faults:<12} {r.completed:>3}/{r.tickers:<2} {r.phase:>8.2f} {r.bound:>8.2f} "
              f"{r.ratio:>6.2f} {r.timed_out:>9} {r.max_queued:>12.2f}")
    print("bound = ceil(3 x tickers / P) x the per-call latency measured through the client in the same run; "
          "goal: ratio <= 1.15 and 0 timed out. 'timed out' counts chat requests the client gave up on "
          "(server log outcome other than ok or runaway).")
    if "runaway" not in FAULTS:
        print("(no runaway row: this fake-ollama has no runaway fault)")


if __name__ == "__main__":
    main()
