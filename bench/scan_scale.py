"""Scan throughput at 100, 1,000 and 5,000 sim tickers, no LLM: wall time per phase and peak memory.

Each size runs in its own process (so peak RSS is that size's), through the real coordinator,
fetcher, scorer and SQLite persister, with the debate phase disabled. Prints a table; the
"per 1k" column shows linearity (it should stay flat as the universe grows).

    .venv/bin/python bench/scan_scale.py [--sizes 100,1000,5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(size: int) -> dict:
    import trio

    from actors.config import Settings
    from actors.coordinator import run_scan
    from actors.fetcher import Fetcher
    from actors.providers.base import make_provider
    from actors.runtime import spawn, stop
    from actors.store.client import StoreClient
    from actors.store.persister import run_persister
    from messages.scan import ScanRequested

    async def main(db: Path) -> dict:
        settings = Settings(source="sim", universe_size=size, ai_backend="none")
        provider = make_provider("sim", size=size, seed=7)
        request = ScanRequested(provider.default_universe(), "sim", dt.datetime.now(dt.timezone.utc))
        async with trio.open_nursery() as nursery:
            persister = await spawn(nursery, functools.partial(run_persister, db_path=db), name="persister", capacity=64)
            t0 = time.perf_counter()
            outcome = await run_scan(
                request, run_id=f"bench-{size}", settings=settings,
                fetcher=Fetcher(provider, concurrency=settings.fetch_concurrency), store=StoreClient(persister),
                publish=lambda e: None, debate=None, debate_disabled_reason="benchmark",
            )
            wall = time.perf_counter() - t0
            await stop(persister)
        phases = {p.phase.value: p.seconds for p in outcome.phases}
        return {"size": size, "wall": wall, "phases": phases, "status": outcome.status.value,
                "results": len(outcome.results), "picks": sum(1 for r in outcome.results if r.option)}

    with tempfile.TemporaryDirectory() as tmp:
        result = trio.run(main, Path(tmp) / "bench.db")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = next((r for r in rows if r["size"] == 1000), rows[0])
    base_per_k = base["wall"] / base["size"] * 1000
    header = f"{'tickers':>8} {'fetch+score':>11} {'catalysts':>9} {'options':>8} {'persist':>8} {'total':>7} {'per 1k':>7} {'vs 1k':>6} {'target':>7} {'peak MB':>8} {'picks':>6}"
    print(header)
    print("-" * len(header))
    for r in rows:
        p = r["phases"]
        per_k = r["wall"] / r["size"] * 1000
        print(f"{r['size']:>8} {p['scoring']:>10.2f}s {p['catalysts']:>8.2f}s {p['options']:>7.2f}s {p['persist']:>7.2f}s "
              f"{r['wall']:>6.2f}s {per_k:>6.2f}s {per_k / base_per_k:>6.2f} "
              f"{'<10s' if r['size'] == 5000 else '':>7} {r['peak_rss_mb']:>8.0f} {r['picks']:>6}")
    print("fetch+score: data_fetch and scoring overlap (a ticker is scored as its data arrives); "
          "total: data_fetch -> persist wall time; vs 1k: time per ticker relative to the 1,000-ticker run.")


if __name__ == "__main__":
    main()
