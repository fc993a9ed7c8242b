"""bin/scan with worker processes: the same --json results as in-process, and the database matches."""

import json

import apsw
import pytest

from actors.fakes.offline import OFFLINE_ENV
from tests.e2e.test_bin_scan import scan

pytestmark = pytest.mark.e2e


def test_scan_workers_give_the_same_json_results_as_in_process(tmp_path):
    """A pinned worker count and scan_workers=0 print the same ranked rows for the same seed."""
    reports = {}
    for workers in ("0", "2"):
        db = tmp_path / f"w{workers}.db"
        result = scan("--source", "sim", "--universe-size", "150", "--seed", "4", "--no-debate", "--json",
                      "--db", str(db), "--set", f"scan_workers={workers}", tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        reports[workers] = json.loads(result.stdout)
        with apsw.Connection(str(db)) as conn:
            ranked = [r[0] for r in conn.execute("SELECT ticker FROM ticker_scores ORDER BY rank")]
        assert [r["ticker"] for r in reports[workers]["results"]] == ranked
    assert reports["2"]["results"] == reports["0"]["results"]
    assert len(reports["2"]["results"]) == 150
    assert reports["2"]["errors"] == reports["0"]["errors"]



def test_json_top_streams_the_first_rows_and_show_prints_the_same(tmp_path):
    """--json --top 5 prints the five best rows of the run; `show --json` (validated read) agrees."""
    db = tmp_path / "top.db"
    result = scan("--source", "sim", "--universe-size", "40", "--no-debate", "--json", "--top", "5", "--db", str(db),
                  tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["rank"] for r in report["results"]] == [1, 2, 3, 4, 5]
    shown = scan("show", report["run_id"], "--db", str(db), "--json", tmp_path=tmp_path)
    assert json.loads(shown.stdout)["results"][:5] == report["results"]


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_to_the_process_group_during_worker_scoring_exits_130_and_leaves_no_process(tmp_path, signame):
    """Ctrl-C (or systemd's SIGTERM) reaches bin/scan and its workers: exit 130, run INTERRUPTED, no orphans."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.e2e.test_bin_scan import ROOT

    db = tmp_path / "sig.db"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), **OFFLINE_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "actors.cli", "--source", "sim", "--universe-size", "20000", "--no-debate",
         "--db", str(db), "--set", "scan_workers=2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _workers(proc.pid):
            time.sleep(0.05)
        assert _workers(proc.pid), "no worker process started"
        # Until a spawned worker reaches trio-parallel's loop (which ignores SIGINT) a Ctrl-C
        # interrupts its interpreter start-up with a traceback of its own; under load that takes
        # seconds. Signal once every worker ignores SIGINT, i.e. is working.
        while time.monotonic() < deadline and not all(_ignores_sigint(w) for w in _workers(proc.pid)):
            time.sleep(0.05)
        time.sleep(0.2)
        os.killpg(proc.pid, getattr(signal, signame))  # as a terminal or systemd would: the whole group
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with apsw.Connection(str(db)) as conn:
        assert conn.execute("SELECT status FROM scan_runs").fetchall() == [("INTERRUPTED",)]
    deadline = time.monotonic() + 10  # helpers (multiprocessing's resource tracker) exit on EOF
    while _group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [_cmdline(pid) for pid in _group_members(proc.pid)] == []


def _ignores_sigint(pid: int) -> bool:
    from pathlib import Path

    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    ignored = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(ignored & (1 << (2 - 1)))  # SIGINT is signal 2


def _workers(pid: int) -> list[int]:
    """Worker processes of ``pid`` (started from any of its threads; multiprocessing spawn children)."""
    from pathlib import Path

    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return [c for c in children if "spawn_main" in _cmdline(c)]


def _group_members(pgid: int) -> list[int]:
    import os
    from pathlib import Path

    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except ProcessLookupError:
                pass
    return members


def _cmdline(pid: int) -> str:
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"
