"""bin/scan as a process: signals early in start-up, quiet -v, a full disk at open: exit codes, one line, no trace."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from actors.fakes.anthropic_testing import TEST_KEY
from actors.fakes.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"),
            "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"), **OFFLINE_ENV,
            **extra}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("delay", [0.03, 0.1, 0.3, 0.6, 1.0])
def test_a_signal_in_the_first_second_exits_130_without_a_trace(tmp_path, signum, delay):
    """SIGTERM/SIGINT while bin/scan starts (imports, before or as the scan opens): exit 130, one clean line."""
    # A scan that cannot finish within the second (a finished process has nothing left to interrupt).
    proc = subprocess.Popen([str(ROOT / "bin" / "scan"), "--source", "sim", "--universe-size", "20000", "--no-debate",
                             "--db", str(tmp_path / "s.db")],
                            cwd=tmp_path, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(delay)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "interrupted" in err.splitlines()[-1]


def test_verbose_logs_show_ours_but_not_the_transport_libraries_debug(tmp_path, fake_anthropic):
    """-v: DEBUG lines from option-alpha, none from httpx/httpcore/anthropic; the key in none of them."""
    result = subprocess.run([str(ROOT / "bin" / "scan"), "--demo", "-v", "--ai-backend", "claude",
                             "--set", f"anthropic_base_url={fake_anthropic.url}", "--db", str(tmp_path / "v.db")],
                            cwd=tmp_path, env=env_for(tmp_path, ANTHROPIC_API_KEY=TEST_KEY), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r" DEBUG actors\.", result.stderr)
    noisy = re.findall(r" (?:DEBUG|INFO) (httpx2?|httpcore2?|anthropic|h11|hpack)\S*:", result.stderr)
    assert noisy == []
    assert TEST_KEY not in result.stderr + result.stdout


def _ignore_sigxfsz_and_limit(size: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def test_a_file_size_limit_at_open_is_one_database_line_and_exit_1(tmp_path):
    """Writes refused at open (RLIMIT_FSIZE): exit 1 with one 'error: database:' line, no trace."""
    # No bytecode writes under the limit: a .pyc cut at 2 KiB would break every later import.
    result = subprocess.run([str(ROOT / "bin" / "scan"), "--demo", "--no-debate", "--db", str(tmp_path / "f.db")],
                            cwd=tmp_path, env=env_for(tmp_path, PYTHONDONTWRITEBYTECODE="1"), capture_output=True,
                            text=True, timeout=60, preexec_fn=_ignore_sigxfsz_and_limit(2048))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: database: opening ") and "Traceback" not in result.stderr


@pytest.fixture
def full_filesystem(tmp_path):
    """A 16 KiB tmpfs filled up (needs the right to mount; skipped elsewhere)."""
    mount = tmp_path / "full"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        try:
            with open(mount / "filler", "wb") as filler:
                while True:
                    filler.write(b"\0" * 4096)
                    filler.flush()
        except OSError:  # ENOSPC: full
            pass
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_at_open_is_one_database_line_and_exit_1(tmp_path, full_filesystem):
    """The database's filesystem is full: exit 1, 'database or disk is full', no trace."""
    result = subprocess.run([str(ROOT / "bin" / "scan"), "--demo", "--no-debate",
                             "--db", str(full_filesystem / "x.db")],
                            cwd=tmp_path, env=env_for(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "disk is full" in lines[-1] and lines[-1].startswith("error: database: ")
    assert "Traceback" not in result.stderr


def test_the_current_directory_never_shadows_the_package(tmp_path):
    """Run from a directory holding another `actors` package (another checkout): bin/scan uses its own."""
    (tmp_path / "actors").mkdir()
    (tmp_path / "actors" / "__init__.py").write_text("raise ImportError('the wrong checkout')\n")
    result = subprocess.run([str(ROOT / "bin" / "scan"), "--print-config"], cwd=tmp_path, env=env_for(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ai_backend"] == "ollama"
