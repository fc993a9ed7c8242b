"""The dashboard's live feed under slow browsers: does a client that never reads slow anyone down?

One real dashboard (``run_dashboard`` on an ephemeral loopback port, Hypercorn's trio worker) and
raw SSE clients on sockets: ``fast`` clients read as fast as they can, ``slow`` ones connect and
never read (a 4 kB receive buffer). The publisher sends ``--events`` progress events of ~1 kB
over 20 keys (the shape of a scan's phases), 100 per batch with one checkpoint between batches,
as the bus feeder would. Measured per row, all in the same process and run:

* **publish µs/event**: time spent inside ``hub.publish`` per event (the publisher's cost);
* **lag p50 / max**: from the last event's publish to each fast client reading it;
* **slow buffered / resyncs**: the most any slow client's hub buffer held, and how many times
  slow clients were skipped to a fresh snapshot instead of buffering without bound.

Ratios compare each row with the row without slow clients (same fast clients). Real time on a
shared machine: compare ratios.

    .venv/bin/python bench/dashboard_feed.py [--events 20000] [--fast 1,10] [--slow 0,1,10]
"""

from __future__ import annotations

import argparse
import functools
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.web.serve import run_dashboard  # noqa: E402
from actors.web.sse import EventHub  # noqa: E402


async def _fast_reader(host: str, port: int, marker: bytes, arrived: list[float], ready: trio.Event) -> None:
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        tail = b""
        ready.set()
        while True:
            chunk = await stream.receive_some(1 << 16)
            if not chunk:
                return
            window = tail + chunk
            if marker in window:
                arrived.append(time.perf_counter())
                return
            tail = window[-len(marker):]


def _slow_client(host: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    return sock


async def measure(db: Path, *, events: int, fast: int, slow: int) -> dict[str, float]:
    hub = EventHub()
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(functools.partial(
            run_dashboard, db=db, listen="127.0.0.1:0", token=None, hub=hub, shutdown=shutdown, poll_interval=3600))
        host, port = url.removeprefix("http://").rsplit(":", 1)
        sockets = [_slow_client(host, int(port)) for _ in range(slow)]
        arrived: list[float] = []
        marker = f'"done":{events},'.encode()
        readies = [trio.Event() for _ in range(fast)]
        for ready in readies:
            nursery.start_soon(_fast_reader, host, int(port), marker, arrived, ready)
        for ready in readies:
            await ready.wait()
        while hub.statistics().clients < fast + slow:
            await trio.sleep(0.01)
        pad = "x" * 1000
        inside = 0.0
        for start in range(0, events, 100):
            t0 = time.perf_counter()
            for n in range(start + 1, min(start + 100, events) + 1):
                hub.publish("progress", {"run_id": "bench", "phase": f"p{n % 20}", "done": n, "pad": pad},
                            key=f"progress:bench:p{n % 20}")
            inside += time.perf_counter() - t0
            await trio.sleep(0)
        published = time.perf_counter()
        with trio.move_on_after(30):
            while len(arrived) < fast:
                await trio.sleep(0.001)
        buffered = max((c.statistics().buffered for c in hub._clients), default=0)  # noqa: SLF001 - a bench
        resyncs = hub.statistics().resyncs
        for sock in sockets:
            sock.close()
        shutdown.set()
    lags = [a - published for a in arrived]
    return {
        "publish_us": inside / events * 1e6,
        "lag_p50": statistics.median(lags) if lags else float("nan"),
        "lag_max": max(lags) if lags else float("nan"),
        "received": len(arrived),
        "buffered": buffered,
        "resyncs": resyncs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--fast", default="1,10")
    parser.add_argument("--slow", default="0,1,10")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "none.db"  # no database: the feed does not need one
        print(f"{args.events} events of ~1 kB over 20 keys; client buffer 64 events")
        print("| fast | slow | publish µs/event | ratio | lag p50 | lag max | ratio (max) | fast got last | slow buffered max | resyncs |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for fast in (int(x) for x in args.fast.split(",")):
            base = None
            for slow in (int(x) for x in args.slow.split(",")):
                row = trio.run(functools.partial(measure, db, events=args.events, fast=fast, slow=slow))
                base = base or row
                print(f"| {fast} | {slow} | {row['publish_us']:.1f} | {row['publish_us'] / base['publish_us']:.2f} | "
                      f"{row['lag_p50'] * 1e3:.1f} ms | {row['lag_max'] * 1e3:.1f} ms | "
                      f"{row['lag_max'] / base['lag_max']:.2f} | {row['received']}/{fast} | "
                      f"{row['buffered']} | {row['resyncs']} |", flush=True)


if __name__ == "__main__":
    main()
