"""Scan throughput at 1,000 / 5,000 / 20,000 sim tickers, no LLM: whole processes and in-process phases.

Two measurements per size, each in its own process:

* **whole process**: ``python -m actors.cli --source sim --universe-size N --no-debate --json``
  as a user runs it (imports, worker processes, read-back, output, shutdown): wall time, CPU
  time (user + sys of the process and its workers), peak RSS of the largest process, and a
  check that the output is one JSON object with N rows;
* **in-process**: the actor system (``actors.system``: coordinator, fetcher and SQLite
  persister actors under the supervisor) in one ``trio.run`` (``--one N``), one scan request:
  the data → persist wall time and its fetch+score part.

With ``--baseline REF`` the same runs are made, interleaved, on a copy of commit REF (``git
archive``), so "before" and "after" share the machine's load; ratios are after / before. The
machine may be shared: compare ratios and CPU seconds, not only absolute times.

    .venv/bin/python bench/scan_scale.py [--sizes 1000,5000,20000] [--baseline REF] [--after REF] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {5000: 4.0, 20000: 15.0}  # whole-process seconds (issue 8)
RSS_TARGET_MB = {20000: 150}


def one(size: int) -> dict:
    """In-process scan of ``size`` tickers; prints the same keys as earlier versions of this script."""
    sys.path.insert(0, str(ROOT))
    import trio

    from actors.config import Settings
    from messages.scan import ScanRequested

    try:  # the actor system (issue 10); a baseline tree from before it runs the coordinator function
        from actors.system import open_system
    except ImportError:
        open_system = None

    async def main(db: Path) -> dict:
        settings = Settings(source="sim", universe_size=size, seed=7, ai_backend="none")
        if open_system is not None:
            async with open_system(settings, db=db, disabled="benchmark") as system:
                request = ScanRequested(system.provider.default_universe(), "sim", dt.datetime.now(dt.timezone.utc),
                                        run_id=f"bench-{size}")
                t0 = time.perf_counter()
                outcome = await system.scan(request)
                wall = time.perf_counter() - t0
        else:
            outcome, wall = await _before_the_system(settings, db)
        phases = {p.phase.value: p.seconds for p in outcome.phases}
        return {"size": size, "wall": wall, "phases": phases, "status": outcome.status.value,
                "results": len(outcome.results), "picks": sum(1 for r in outcome.results if r.option)}

    with tempfile.TemporaryDirectory() as tmp:
        result = trio.run(main, Path(tmp) / "bench.db")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


async def _before_the_system(settings, db: Path):
    """The in-process scan as it was run before ``actors.system`` existed (for ``--baseline``)."""
    from actors.coordinator import run_scan
    from actors.fetcher import Fetcher
    from actors.providers.base import make_provider
    from actors.runtime import spawn, stop
    from actors.store.client import StoreClient
    from actors.store.persister import run_persister
    from messages.scan import ScanRequested

    import trio

    provider = make_provider("sim", size=settings.universe_size, seed=7)
    request = ScanRequested(provider.default_universe(), "sim", dt.datetime.now(dt.timezone.utc))
    async with trio.open_nursery() as nursery:
        persister = await spawn(nursery, functools.partial(run_persister, db_path=db), name="persister", capacity=64)
        t0 = time.perf_counter()
        outcome = await run_scan(
            request, run_id=f"bench-{settings.universe_size}", settings=settings,
            fetcher=Fetcher(provider, concurrency=settings.fetch_concurrency), store=StoreClient(persister),
            publish=lambda e: None, debate=None, debate_disabled_reason="benchmark",
        )
        wall = time.perf_counter() - t0
        await stop(persister)
    return outcome, wall


def _run(argv: list[str], tree: Path) -> tuple[float, resource.struct_rusage, str, int]:
    """Run ``argv`` in ``tree``; wall time, its rusage (with its workers), stdout and exit code."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPTION_ALPHA_LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return wall, usage, out.read().decode(), proc.returncode


def whole(size: int, tree: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "actors.cli", "--source", "sim", "--universe-size", str(size), "--seed", "7",
                "--no-debate", "--json", "--db", str(Path(tmp) / "scan.db")]
        wall, usage, stdout, code = _run(argv, tree)
    if code != 0:
        raise SystemExit(f"{tree}: bin/scan exited {code} at {size} tickers")
    rows = len(json.loads(stdout)["results"])
    if rows != size:
        raise SystemExit(f"{tree}: --json has {rows} rows, expected {size}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def in_process(size: int, tree: Path) -> dict:
    argv = [sys.executable, str(tree / "bench" / "scan_scale.py"), "--one", str(size)]
    wall, usage, stdout, code = _run(argv, tree)
    if code != 0:
        raise SystemExit(f"{tree}: bench --one {size} exited {code}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_cpu"] = usage.ru_utime + usage.ru_stime  # the whole --one process, with its workers
    return result


def _tree(ref: str, into: Path) -> Path:
    """Commit ``ref`` of this repository, extracted into ``into``."""
    into.mkdir(parents=True)
    archive = into.with_suffix(".tar")
    with archive.open("wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--baseline", metavar="REF", help="git commit to measure beside this tree (before/after)")
    parser.add_argument("--after", metavar="REF", help="measure commit REF as 'after' instead of this working tree")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and tree (median shown)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        after = _tree(args.after, Path(tmp) / "after") if args.after else ROOT
        trees = {"after": after}
        if args.baseline:
            trees = {"before": _tree(args.baseline, Path(tmp) / "before"), "after": after}
        runs: dict[tuple[str, int], dict[str, list[dict]]] = {}
        for size in sizes:
            for _ in range(args.repeat):
                for label, tree in trees.items():  # interleaved: before and after share the load
                    entry = runs.setdefault((label, size), {"whole": [], "inproc": []})
                    entry["whole"].append(whole(size, tree))
                    entry["inproc"].append(in_process(size, tree))
    _print(runs, sizes, list(trees), args)


def _print(runs: dict, sizes: list[int], labels: list[str], args: argparse.Namespace) -> None:
    cores = os.cpu_count()
    print(f"bench/scan_scale.py: sim seed 7, --no-debate; median of {args.repeat}; {cores} CPU cores"
          + (f"; before = {args.baseline}" if args.baseline else "") + f"; after = {args.after or 'working tree'}")
    print("\nwhole process: python -m actors.cli --source sim --universe-size N --no-debate --json")
    head = f"{'tickers':>8} {'tree':>6} {'wall':>7} {'CPU':>7} {'per 1k':>7} {'vs 1k':>6} {'peak MB':>8} {'target':>8}"
    if len(labels) == 2:
        head += f" {'after/before':>13}"
    print(head)
    print("-" * len(head))
    base_size = 1000 if 1000 in sizes else sizes[0]
    for size in sizes:
        for label in labels:
            w = runs[(label, size)]["whole"]
            wall, cpu, rss = _median(w, "wall"), _median(w, "cpu"), _median(w, "rss_mb")
            per_k = wall / size * 1000
            base = _median(runs[(label, base_size)]["whole"], "wall") / base_size * 1000
            target = TARGETS.get(size)
            shown = f"<{target:g} s" if target else ""
            if size in RSS_TARGET_MB:
                shown += f" <{RSS_TARGET_MB[size]}MB"
            line = (f"{size:>8} {label:>6} {wall:>6.2f}s {cpu:>6.2f}s {per_k:>6.2f}s {per_k / base:>6.2f} "
                    f"{rss:>8.0f} {shown:>8}")
            if len(labels) == 2 and label == "after":
                line += f" {wall / _median(runs[('before', size)]['whole'], 'wall'):>13.2f}"
            print(line)
    print("CPU: user + sys of the process and its worker processes; peak MB: the largest process.\n"
          "On a shared machine wall times follow the load; CPU seconds and the ratios of interleaved runs less so.")
    print("\nin-process: coordinator -> SQLite checkpoint in one trio.run (bench --one N; CPU: the whole process)")
    head = (f"{'tickers':>8} {'tree':>6} {'fetch+score':>11} {'catalysts':>9} {'options':>8} {'persist':>8} "
            f"{'data->persist':>13} {'per 1k':>7} {'CPU':>7} {'peak MB':>8}")
    if len(labels) == 2:
        head += f" {'after/before':>13}"
    print(head)
    print("-" * len(head))
    for size in sizes:
        for label in labels:
            r = runs[(label, size)]["inproc"]
            phases = {name: statistics.median(x["phases"][name] for x in r) for name in ("scoring", "catalysts", "options", "persist")}
            wall = _median(r, "wall")
            line = (f"{size:>8} {label:>6} {phases['scoring']:>10.2f}s {phases['catalysts']:>8.2f}s "
                    f"{phases['options']:>7.2f}s {phases['persist']:>7.2f}s {wall:>12.2f}s "
                    f"{wall / size * 1000:>6.2f}s {_median(r, 'process_cpu'):>6.2f}s {_median(r, 'peak_rss_mb'):>8.0f}")
            if len(labels) == 2 and label == "after":
                line += f" {wall / _median(runs[('before', size)]['inproc'], 'wall'):>13.2f}"
            print(line)


if __name__ == "__main__":
    main()
