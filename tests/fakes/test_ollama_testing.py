"""The FakeOllama helper and the fake-ollama command line: start, announce, control, stop cleanly."""

import os
import signal
import subprocess
import sys

import httpx
import pytest

from actors.errors import ConfigError
from actors.fakes.ollama_testing import FakeOllama, FakeOllamaStartError


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_helper_starts_with_a_profile_and_leaves_no_process():
    """The launch profile reaches the server, reset() returns to it, and exit reaps the process."""
    with FakeOllama(models=["phi3:mini"], script="http_500,ok*") as fake:
        pid = fake.pid
        assert fake.running and fake.url == f"http://127.0.0.1:{fake.port}"
        body = {"model": "phi3:mini", "messages": [{"role": "user", "content": "hi"}], "stream": False}
        assert httpx.post(fake.url + "/api/chat", json=body, timeout=1).status_code == 500
        fake.configure(script="ok*")
        fake.reset()
        assert fake.current_profile()["script"] == "http_500,ok*"
        assert fake.requests() == []
    assert not fake.running and _gone(pid)


def test_helper_refuses_a_bad_profile_before_starting():
    """A bad keyword profile raises ConfigError naming the key; nothing is started."""
    with pytest.raises(ConfigError, match="drop must be a probability"):
        FakeOllama(drop=2)


def test_helper_gives_up_when_the_server_is_late():
    """No 'listening on' line within startup_timeout raises FakeOllamaStartError and stops the child."""
    fake = FakeOllama(startup_timeout=0.001)
    with pytest.raises(FakeOllamaStartError, match="did not say where it listens"):
        fake.start()
    assert not fake.running


def _launch(*flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "actors.fakes.ollama", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_command_prints_one_line_and_stops_cleanly_on_signal(signum):
    """stdout is exactly the 'listening on' line; SIGINT/SIGTERM end the process with code 0."""
    proc = _launch("--port", "0")
    with proc:
        first = proc.stdout.readline()
        url = first.split()[-1]
        assert first == f"fake-ollama listening on {url}\n" and url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/", timeout=1).text == "Ollama is running"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0
    assert out == ""
    assert "received, stopping" in err


def test_command_rejects_bad_flags_with_exit_2():
    """A probability out of range is reported on stderr with exit code 2."""
    proc = _launch("--port", "0", "--http-503", "1.5")
    with proc:
        out, err = proc.communicate(timeout=5)
    assert proc.returncode == 2 and out == ""
    assert "http_503 must be a probability from 0 to 1, got 1.5" in err


def test_command_exits_1_when_the_port_is_taken(fake_ollama):
    """Listening on a port already in use fails with exit code 1 and says why."""
    proc = _launch("--port", str(fake_ollama.port))
    with proc:
        out, err = proc.communicate(timeout=5)
    assert proc.returncode == 1 and out == ""
    assert f"cannot listen on 127.0.0.1:{fake_ollama.port}" in err
