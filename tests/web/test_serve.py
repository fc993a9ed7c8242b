"""The dashboard served for real (Hypercorn's trio worker on an ephemeral loopback port), and bin/scan serve."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import trio

from actors.errors import ConfigError
from actors.web.serve import is_loopback, parse_listen, run_dashboard
from actors.web.sse import EventHub
from actors.cli import main
from tests.web.sse_client import open_events
from tests.web.stored import RUN_ID, write_run

ROOT = Path(__file__).resolve().parents[2]


async def test_events_stream_replays_what_a_reconnecting_client_missed(stored_db):
    """Over a real socket: snapshot first; after a disconnect, Last-Event-ID brings exactly the missed events."""
    hub = EventHub()
    hub.publish("progress", {"run_id": "r1", "phase": "scoring", "done": 1}, key="progress:r1:scoring")
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(functools.partial(
            run_dashboard, db=stored_db, listen="127.0.0.1:0", token=None, hub=hub, shutdown=shutdown,
            poll_interval=3600))
        async with open_events(url) as stream:
            assert "content-type: text/event-stream" in stream.headers.lower()
            first = (await stream.events(1))[0]
        assert first["event"] == "snapshot" and int(first["id"]) == hub.last_id
        last_seen = first["id"]
        for done in range(2, 6):  # published while no browser is connected
            hub.publish("progress", {"run_id": "r1", "phase": f"p{done}", "done": done}, key=f"progress:r1:p{done}")
        async with open_events(url, last_event_id=last_seen) as stream:
            missed = await stream.events(4)
        async with httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as http:
            assert [int(e["id"]) for e in missed] == list(range(int(last_seen) + 1, int(last_seen) + 5))
            assert [json.loads(e["data"])["done"] for e in missed] == [2, 3, 4, 5]
            assert hub.statistics().replayed == 1
            assert (await http.get(f"/api/runs/{RUN_ID}")).json()["run_id"] == RUN_ID
        shutdown.set()
    assert hub.statistics().clients == 0


async def test_shutdown_ends_open_streams_promptly(stored_db):
    """A browser's open /events stream does not hold the server past its shutdown."""
    shutdown = trio.Event()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(functools.partial(
            run_dashboard, db=stored_db, listen="127.0.0.1:0", token=None, shutdown=shutdown, poll_interval=3600))
        async with open_events(url) as stream:
            await stream.events(1)
            shutdown.set()
            start = trio.current_time()
            with trio.fail_after(5):
                while await stream.next_block() is not None:  # the server ends the stream
                    pass
        assert trio.current_time() - start < 1


def test_listen_addresses_are_checked_naming_the_setting():
    assert parse_listen("127.0.0.1:8787") == ("127.0.0.1", 8787)
    assert parse_listen("[::1]:0") == ("::1", 0)
    for bad in ("8787", "127.0.0.1:", "host:99999", ":80"):
        with pytest.raises(ConfigError, match="dashboard_listen"):
            parse_listen(bad)
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("example.org")


async def test_listening_beyond_loopback_requires_a_token(stored_db):
    with pytest.raises(ConfigError, match="dashboard_listen: 0.0.0.0:0 is beyond loopback; set dashboard_token"):
        await run_dashboard(db=stored_db, listen="0.0.0.0:0", token=None)
    with pytest.raises(ConfigError, match="dashboard_listen: expected HOST:PORT"):
        await run_dashboard(db=stored_db, listen="nonsense", token=None)


def _scan_cmd(*args: str) -> list[str]:
    return [str(ROOT / "bin" / "scan"), *args]


@pytest.mark.e2e
def test_bin_scan_serve_serves_the_database_and_stops_on_sigterm(tmp_path):
    """bin/scan serve --listen 127.0.0.1:0: prints its URL, serves the API and pages, exits 0 on SIGTERM."""
    db = tmp_path / "runs.db"
    trio.run(_write, db)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    with subprocess.Popen(_scan_cmd("serve", "--db", str(db), "--listen", "127.0.0.1:0"), stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env) as proc:
        _serve_and_stop(proc)


def _serve_and_stop(proc: subprocess.Popen) -> None:
    try:
        url = None
        for line in proc.stderr:
            found = re.search(r"dashboard: (http://127\.0\.0\.1:\d+)/", line)
            if found:
                url = found.group(1)
                break
        assert url is not None
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
            assert [r["run_id"] for r in http.get("/api/runs").json()["runs"]] == [RUN_ID]
            system = http.get("/system").text
            assert "no daemon attached: showing the database only" in system
            assert "Scan now" not in http.get("/").text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.e2e
def test_bin_scan_serve_refuses_to_listen_beyond_loopback_without_a_token(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("OPTION_ALPHA_DASHBOARD_TOKEN", None)
    done = subprocess.run(_scan_cmd("serve", "--db", str(tmp_path / "x.db"), "--listen", "0.0.0.0:0"),
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: dashboard_listen: 0.0.0.0:0 is beyond loopback")
    assert "Traceback" not in done.stderr


async def test_show_html_writes_the_self_contained_report(stored_db, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["show", RUN_ID, "--db", str(stored_db), "--html", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "&lt;script&gt;" in text and f"option-alpha run {RUN_ID}" in text
    assert f"wrote {out}" in capsys.readouterr().err
    assert main(["show", RUN_ID, "--db", str(stored_db), "--html", str(tmp_path / "no" / "such" / "x.html")]) == 2
    assert "--html" in capsys.readouterr().err


async def _write(db: Path) -> None:
    await write_run(db)
