"""bin/scan as a trader uses it: piped into head, the demo's debates against the built-in demo LLM,
Ctrl-C naming the run, and the installed console script."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import apsw
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCAN = str(ROOT / "bin" / "scan")
pytestmark = pytest.mark.e2e


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"),
            "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"), **extra}


def piped(argv: list[str], reader: list[str], tmp_path: Path) -> tuple[int, str, bytes]:
    """``argv | reader``: (exit code of argv, its stderr, what the reader printed)."""
    writer = subprocess.Popen(argv, cwd=tmp_path, env=env_for(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    head = subprocess.Popen(reader, stdin=writer.stdout, stdout=subprocess.PIPE)
    assert writer.stdout is not None
    writer.stdout.close()  # only head holds the read end: when it exits, the pipe is broken
    shown, _ = head.communicate(timeout=120)
    err = writer.stderr.read().decode() if writer.stderr else ""
    writer.wait(timeout=120)
    if writer.stderr:
        writer.stderr.close()
    return writer.returncode, err, shown


def test_demo_piped_into_head_exits_0_quietly(tmp_path):
    """`bin/scan --demo | head -1`: the title line, exit 0, no BrokenPipeError and no error line."""
    code, err, shown = piped([SCAN, "--demo", "--db", str(tmp_path / "d.db")], ["head", "-1"], tmp_path)
    assert code == 0, err
    assert shown.decode().startswith("option-alpha run ")
    assert "Traceback" not in err and "BrokenPipe" not in err and "error:" not in err


@pytest.mark.parametrize("command", ["scan", "show"])
def test_json_larger_than_the_pipe_cut_by_head_exits_0_quietly(tmp_path, command):
    """--json of thousands of rows (far beyond the pipe's buffer) into `head -c 300`: exit 0, nothing on stderr
    but the scan's own log lines."""
    db = tmp_path / "big.db"
    scan = [SCAN, "--source", "sim", "--universe-size", "3000", "--no-debate", "--json", "--db", str(db)]
    if command == "show":
        subprocess.run(scan, cwd=tmp_path, env=env_for(tmp_path), capture_output=True, timeout=120, check=True)
        argv = [SCAN, "show", "latest", "--json", "--db", str(db)]
    else:
        argv = scan
    code, err, shown = piped(argv, ["head", "-c", "300"], tmp_path)
    assert code == 0, err
    assert shown.startswith(b'{"schema_version": 1')
    assert "Traceback" not in err and "BrokenPipe" not in err and "error:" not in err


def test_the_demo_debates_against_the_built_in_demo_llm(tmp_path):
    """--demo with no LLM configured: every phase works, 10 debates complete against the demo LLM, its theses
    are labelled synthetic and speak of their ticker; the table says SYNTHETIC debates and the top panel follows."""
    db = tmp_path / "demo.db"
    result = subprocess.run([SCAN, "--demo", "--db", str(db)], cwd=tmp_path, env=env_for(tmp_path, COLUMNS="80"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("[SYNTHETIC market data and demo LLM]")
    assert "run " in result.stdout and ": COMPLETED" in result.stdout
    assert "Bull's case (for the trade):" in result.stdout and "Risk manager's verdict:" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    report = json.loads(subprocess.run([SCAN, "show", "latest", "--json", "--db", str(db)], cwd=tmp_path,
                                       env=env_for(tmp_path), capture_output=True, text=True, timeout=60).stdout)
    table = result.stdout.split("legend:")[0]
    for r in report["results"][:25]:  # the real demo table at 80 columns: every row's numbers whole
        line = next(line for line in table.splitlines() if line.split()[:2] == [str(r["rank"]), r["ticker"]])
        assert f" {r['score']:.1f} " in line
        if r["debate"]:
            assert line.endswith(f" {r['debate']['conviction']:.2f}")
        if r["option"]:
            assert f" {r['option']['strike']:g} " in line and f" {r['option']['mid']:.2f} " in line
    debated = [r for r in report["results"] if r["debate"]]
    assert len(debated) == 10 and all(r["option"] for r in debated)  # slots go to tickers with a contract
    assert all(r["debate"]["status"] == "completed" for r in debated)
    for r in debated:
        for thesis in r["debate"]["theses"]:
            assert thesis["model"] == "synthetic-demo"
            assert r["ticker"] in thesis["thesis"]["summary"]
        bull = next(t for t in r["debate"]["theses"] if t["role"] == "bull")
        assert f"{r['option']['strike']:g}" in bull["thesis"]["summary"]


def test_an_explicit_ollama_host_uses_the_real_one_not_the_demo_llm(tmp_path):
    """--demo with ollama_host set: no demo LLM; nothing listens there, so the debates are skipped."""
    result = subprocess.run([SCAN, "--demo", "--set", "ollama_host=http://127.0.0.1:9", "--json",
                             "--db", str(tmp_path / "r.db")], cwd=tmp_path, env=env_for(tmp_path),
                            capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout)
    assert report["status"] == "PARTIAL" and "llm_unreachable" in report["reason"]


def test_ctrl_c_during_the_scan_names_the_run(tmp_path):
    """SIGINT once the run exists: exit 130, and the message names the run id to `show`."""
    db = tmp_path / "c.db"
    proc = subprocess.Popen([SCAN, "--source", "sim", "--universe-size", "20000", "--no-debate",
                             "--set", "scan_workers=0", "--db", str(db)],
                            cwd=tmp_path, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    run_id = None
    try:
        deadline = time.monotonic() + 60
        while run_id is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            try:
                with apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY) as conn:
                    rows = conn.execute("SELECT id FROM scan_runs").fetchall()
                run_id = rows[0][0] if rows else None
            except apsw.Error:
                continue
        assert run_id is not None, "the run never started"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert f"run {run_id} marked INTERRUPTED" in err and f"bin/scan show {run_id}" in err


def test_the_console_script_is_installed_and_runs_the_same_main():
    """The package metadata declares `option-alpha = actors.cli:main`; the installed script prints the version."""
    found = [ep for ep in importlib.metadata.entry_points(group="console_scripts") if ep.name == "option-alpha"]
    assert [ep.value for ep in found] == ["actors.cli:main"]
    from actors.cli import main

    assert found[0].load() is main
    script = Path(sys.executable).parent / "option-alpha"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"option-alpha {importlib.metadata.version('option-alpha')}"


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def _run_started(db: Path) -> bool:
    try:
        with apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY) as conn:
            return bool(conn.execute("SELECT 1 FROM scan_runs").fetchall())
    except apsw.Error:
        return False


def test_the_demo_llm_does_not_outlive_a_killed_scan(tmp_path):
    """SIGKILL to bin/scan while the demo LLM serves: the server sees its stdin close and exits within seconds."""
    proc = subprocess.Popen([SCAN, "--demo", "--universe-size", "3000", "--set", "scan_workers=0",
                             "--db", str(tmp_path / "k.db")], cwd=tmp_path, env=env_for(tmp_path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        deadline = time.monotonic() + 60
        while server is None and time.monotonic() < deadline and proc.poll() is None:
            server = next((pid for pid, cmd in _children(proc.pid) if "actors.fakes.ollama" in cmd), None)
            time.sleep(0.05)
        assert server is not None, "the demo LLM never started"
        while not _run_started(tmp_path / "k.db") and time.monotonic() < deadline:  # the server is serving by then
            time.sleep(0.05)
        assert proc.poll() is None, "the scan ended before it could be killed"
        proc.kill()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while Path(f"/proc/{server}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = Path(f"/proc/{server}/stat").exists() and ") Z" not in Path(f"/proc/{server}/stat").read_text()
        assert not alive, "the demo LLM outlived the scan"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if server is not None and Path(f"/proc/{server}").exists():
            os.kill(server, signal.SIGKILL)
