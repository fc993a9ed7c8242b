"""bin/daemon and `bin/scan resume` as real processes: SIGTERM during a debate, SIGHUP with a good and a
bad file, the notify socket's READY / STATUS / WATCHDOG / STOPPING, resuming a PARTIAL run by hand."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actors.fakes.ollama_testing import FakeOllama
from tests.e2e.db_poll import rows, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "OPTION_ALPHA_DASHBOARD_LISTEN": "127.0.0.1:0",  # an ephemeral port: never a fixed one in tests
        **extra,
    }


def daemon(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([str(ROOT / "bin" / "daemon"), *args], cwd=ROOT, env=_env(tmp_path, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class NotifySocket:
    """A unix datagram socket standing in for systemd's notify socket."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[str] = []

    def wait_for(self, predicate, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append(message)
            if predicate(message):
                return message
        raise AssertionError(f"no matching notify message; got {self.messages}")

    def drain(self) -> list[str]:
        self.sock.setblocking(False)
        try:
            while True:
                self.messages.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            pass
        return self.messages

    def close(self) -> None:
        self.sock.close()


DEBATE_FLAGS = ("--source", "sim", "--set", "universe_size=40", "--set", "scan_workers=0", "--set", "scan_on_start=true",
                "--set", "top_n_ai_debate=4", "--set", "ai_debate_concurrency=2", "--set", "ai_concurrency_min=2",
                "--set", "ai_retry_delays=0.1", "--set", "scan_at=")


@pytest.mark.parametrize(("grace", "latency", "expected"), [(20, 0.4, "COMPLETED"), (1, 3.0, "INTERRUPTED")])
def test_sigterm_during_a_debate_keeps_everything_and_exits_0_within_the_grace(tmp_path, grace, latency, expected):
    """SIGTERM mid-debate: debates in flight get shutdown_grace; within it they finish (COMPLETED), past it they
    are cancelled (INTERRUPTED, cut-off rows written); every thesis saved before the signal is still there; exit 0."""
    db = tmp_path / "d.db"
    with FakeOllama(latency_first=latency) as fake:
        proc = daemon(tmp_path, *DEBATE_FLAGS, "--db", str(db), "--set", f"ollama_host={fake.url}",
                      "--set", f"shutdown_grace={grace}")
        try:
            wait_for(db, "SELECT count(*) >= 1 FROM ai_theses")
            before = rows(db, "SELECT id FROM ai_theses")
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=grace + 30)
        finally:
            if proc.poll() is None:
                proc.kill()
    elapsed = time.monotonic() - sent
    assert proc.returncode == 0, err
    assert elapsed < grace + 10, err
    assert set(before) <= set(rows(db, "SELECT id FROM ai_theses"))
    (status, finished), = rows(db, "SELECT status, finished_at FROM scan_runs")
    assert status == expected and finished is not None, err
    debates = dict(rows(db, "SELECT status, count(*) FROM debates GROUP BY status"))
    if expected == "COMPLETED":
        assert debates == {"completed": 4}
    else:
        assert debates.get("completed", 0) < 4 and sum(debates.values()) == 4  # every debate has its row
        assert rows(db, "SELECT count(*) FROM debates WHERE status != 'completed' AND reason = 'interrupted'")[0][0] >= 1
    assert "Traceback" not in err


def test_notify_socket_gets_ready_status_watchdog_and_stopping_in_order(tmp_path):
    """NOTIFY_SOCKET + WATCHDOG_USEC: READY=1 first (with a STATUS), WATCHDOG=1 pings, STOPPING=1 last."""
    notify = NotifySocket(tmp_path / "notify.sock")
    proc = daemon(tmp_path, "--source", "sim", "--ai-backend", "none", "--db", str(tmp_path / "n.db"),
                  NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="400000")
    try:
        first = notify.wait_for(lambda m: True)
        notify.wait_for(lambda m: m == "WATCHDOG=1")
        notify.wait_for(lambda m: m == "WATCHDOG=1")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        messages = notify.drain()
        notify.close()
    assert proc.returncode == 0, err
    assert first.startswith("READY=1\nSTATUS=") and "next scan" in first
    kinds = [m.split("=", 1)[0] for m in messages]
    assert kinds[0] == "READY" and kinds.count("WATCHDOG") >= 2 and kinds[-1] == "STOPPING"
    assert kinds.index("STOPPING") > max(i for i, k in enumerate(kinds) if k == "WATCHDOG")
    assert any(m.startswith("STATUS=") for m in messages[1:])


def test_notify_to_an_abstract_socket(tmp_path):
    """An abstract NOTIFY_SOCKET (leading @) gets READY=1 too."""
    name = f"option-alpha-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(60)
    proc = daemon(tmp_path, "--source", "sim", "--ai-backend", "none", "--db", str(tmp_path / "a.db"),
                  NOTIFY_SOCKET="@" + name)
    try:
        assert sock.recv(4096).decode().startswith("READY=1")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    assert proc.returncode == 0


def test_sighup_reloads_a_good_file_and_keeps_the_settings_on_a_bad_one(tmp_path):
    """SIGHUP with a good file: the next scan moves (STATUS shows it); with a bad file: one ERROR line, old stays."""
    config = tmp_path / "daemon.toml"
    config.write_text('source = "sim"\nai_backend = "none"\nscan_at = ["16:30"]\n')
    notify = NotifySocket(tmp_path / "notify.sock")
    proc = daemon(tmp_path, "--config", str(config), "--db", str(tmp_path / "h.db"), NOTIFY_SOCKET=notify.path)
    try:
        notify.wait_for(lambda m: m.startswith("READY=1"))
        config.write_text('source = "sim"\nai_backend = "none"\nscan_at = ["09:45"]\nscan_timezone = "Asia/Tokyo"\n')
        proc.send_signal(signal.SIGHUP)
        notify.wait_for(lambda m: "09:45 JST" in m)
        config.write_text('source = "sim"\nai_backend = "none"\nscan_at = ["25:00"]\n')
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        notify.close()
    assert proc.returncode == 0, err
    assert "configuration reloaded: scan_at, scan_timezone changed" in err
    refused = [line for line in err.splitlines() if "reload refused" in line]
    assert len(refused) == 1 and " ERROR " in refused[0] and "scan_at" in refused[0] and "25:00" in refused[0]


def test_journal_stream_drops_timestamps_and_adds_syslog_priorities(tmp_path):
    """Under journald (JOURNAL_STREAM set): `<6>INFO actors...` lines, no timestamp; without it, timestamps."""
    proc = daemon(tmp_path, "--source", "sim", "--ai-backend", "none", "--db", str(tmp_path / "j.db"),
                  JOURNAL_STREAM="8:12345")
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    lines = [line for line in err.splitlines() if line]
    assert proc.returncode == 0 and lines
    assert all(line.startswith("<") for line in lines), lines
    assert any(line.startswith("<6>INFO actors.app.daemon: daemon ready") for line in lines)


def scan(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "actors.cli", *args], cwd=ROOT,
                          env={**_env(tmp_path), "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)


def test_bin_scan_resume_finishes_a_partial_run_on_the_same_row(tmp_path):
    """LLM down at scan time → PARTIAL; `bin/scan resume RUN_ID` with it back → COMPLETED, same row, 3 theses each;
    resuming it again is refused naming why (exit 1)."""
    db = tmp_path / "r.db"
    first = scan(tmp_path, "--source", "sim", "--universe-size", "30", "--db", str(db), "--set", "top_n_ai_debate=3",
                 "--set", "ollama_host=http://127.0.0.1:9")
    assert first.returncode == 0, first.stderr
    (run_id, status), = rows(db, "SELECT id, status FROM scan_runs")
    assert status == "PARTIAL"
    with FakeOllama(latency_first=0.01) as fake:
        resumed = scan(tmp_path, "resume", run_id[:12], "--db", str(db), "--set", f"ollama_host={fake.url}")
        again = scan(tmp_path, "resume", run_id, "--db", str(db), "--set", f"ollama_host={fake.url}")
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id}: COMPLETED, 3 of 3 debates complete (3 resumed)" in resumed.stderr
    assert rows(db, "SELECT id, status, debates_requested, debates_completed FROM scan_runs") == [
        (run_id, "COMPLETED", 3, 3)]
    assert rows(db, "SELECT count(*) FROM ai_theses WHERE status = 'ok'") == [(9,)]
    assert "COMPLETED" in resumed.stdout
    assert again.returncode == 1
    assert "cannot be resumed" in again.stderr and "is COMPLETED" in again.stderr and "Traceback" not in again.stderr


def test_a_daemon_killed_mid_debate_is_resumed_by_the_next_one_per_agent_step(tmp_path):
    """kill -9 mid-debate; the next daemon's start-up recovery marks the run INTERRUPTED, its first healthy probe
    resumes it: COMPLETED on the same row, each agent's thesis saved exactly once, only the killed calls redone."""
    db = tmp_path / "k.db"
    with FakeOllama(latency_first=0.5) as fake:
        first = daemon(tmp_path, *DEBATE_FLAGS, "--db", str(db), "--set", f"ollama_host={fake.url}")
        try:
            wait_for(db, "SELECT count(*) >= 3 FROM ai_theses WHERE status = 'ok'")
            first.kill()
            first.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
        saved_before = rows(db, "SELECT count(*) FROM ai_theses WHERE status = 'ok'")[0][0]
        calls_before = sum(r.path == "/api/chat" for r in fake.requests())
        second = daemon(tmp_path, "--source", "sim", "--db", str(db), "--set", f"ollama_host={fake.url}",
                        "--set", "scan_at=", "--set", "health_interval=1", "--set", "top_n_ai_debate=4",
                        "--set", "ai_debate_concurrency=2", "--set", "ai_concurrency_min=2")
        try:
            wait_for(db, "SELECT count(*) FROM scan_runs WHERE status = 'COMPLETED'")
            second.send_signal(signal.SIGTERM)
            _, err = second.communicate(timeout=30)
        finally:
            if second.poll() is None:
                second.kill()
        calls = sum(r.path == "/api/chat" for r in fake.requests())
    assert second.returncode == 0, err
    assert "marked INTERRUPTED" in err or "recovery" in err
    assert rows(db, "SELECT status, debates_requested, debates_completed FROM scan_runs") == [("COMPLETED", 4, 4)]
    per_step = rows(db, "SELECT ticker, role, count(*) FROM ai_theses WHERE status = 'ok' GROUP BY ticker, role")
    assert len(per_step) == 12 and {n for *_, n in per_step} == {1}  # every agent step once, none redone
    assert calls - calls_before == 12 - saved_before  # the resume asked only for the missing steps


def test_the_daemon_serves_the_dashboard_and_its_scan_now_goes_through_the_scheduler(tmp_path):
    """The daemon logs the dashboard's URL; "scan now" starts a scan (a run row appears), a second press while it
    runs is refused by the scheduler with the run it waits for; the system page shows the scheduler's line."""
    import re
    import urllib.parse

    import httpx

    db = tmp_path / "w.db"
    proc = daemon(tmp_path, "--source", "sim", "--set", "universe_size=3000", "--set", "scan_workers=0",
                  "--ai-backend", "none", "--set", "scan_at=", "--db", str(db))
    try:
        url = None
        deadline = time.monotonic() + 60
        lines = []
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            found = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/?)", line)
            url = found and found.group(1).rstrip("/")
        assert url, "".join(lines)
        with httpx.Client(base_url=url, headers={"Origin": url}, timeout=30) as web:
            assert web.get("/healthz").status_code == 200
            first = web.post("/actions/scan", follow_redirects=False)
            assert first.status_code == 303 and "started" in first.headers["location"]
            second = web.post("/actions/scan", follow_redirects=False)
            notice = urllib.parse.unquote(second.headers["location"])
            assert "refused: scan" in notice and "is still running" in notice, notice
            system = web.get("/system").text
            assert "scheduler" in system and ("next scan" in system or "no scan scheduled" in system)
            assert "data sources" in system and "sim: no network fetch" in system
        wait_for(db, "SELECT count(*) = 1 FROM scan_runs WHERE finished_at IS NOT NULL", timeout=120)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert rows(db, "SELECT status FROM scan_runs") == [("COMPLETED",)]


@pytest.mark.parametrize(("listen", "says"), [("foo", "expected HOST:PORT"), ("0.0.0.0:0", "set dashboard_token")])
def test_a_bad_dashboard_address_is_refused_before_anything_opens(tmp_path, listen, says):
    """Exit 2 with one line naming dashboard_listen; no database was created."""
    db = tmp_path / "never.db"
    proc = daemon(tmp_path, "--source", "sim", "--ai-backend", "none", "--db", str(db),
                  OPTION_ALPHA_DASHBOARD_LISTEN=listen)
    _, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, err
    assert lines[0].startswith("error: dashboard_listen:") and says in lines[0]
    assert not db.exists()
