"""Run ``fake-ollama`` as a subprocess for tests and benchmarks: ``FakeOllama`` and the ``fake_ollama`` fixture.

::

    with FakeOllama(latency_first=0.01, script="ok*2,hang*") as fake:
        client = ollama.AsyncClient(host=fake.url)
        ...
        fake.configure(http_503=1.0)      # replaces the profile, restarts the script
        [record.outcome for record in fake.requests()]

``FakeOllama`` is a plain (sync) context manager, so sync and trio tests both use it; its
control calls are short blocking ``httpx`` calls to a server in another process. The server's
keyword profile is checked here (``ConfigError`` before anything starts) and handed over as
command-line flags, so ``reset()`` goes back to it.

The pytest fixture ``fake_ollama`` gives a server reset to its default profile; one server
process (``fake_ollama_server``, module scope) serves every test of a module, since starting
one costs a Python start-up (about a quarter of a second). Load the fixtures with
``pytest_plugins = ["actors.fakes.ollama_testing"]`` in the root conftest, or import both names
into a conftest.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs
import httpx

from actors.errors import ConfigError
from actors.fakes.ollama import READY as _READY
from actors.fakes.ollama_profile import Profile

__all__ = ["FakeOllama", "FakeOllamaStartError", "RequestRecord", "fake_ollama", "fake_ollama_server"]

_ROOT = Path(__file__).resolve().parents[2]


class FakeOllamaStartError(RuntimeError):
    """The fake-ollama subprocess did not announce its address in time, or exited first."""


@attrs.frozen
class RequestRecord:
    """One entry of the server's request log; times are ``time.monotonic()`` seconds on this machine."""

    id: int
    method: str
    path: str
    model: str | None
    start: float
    end: float | None
    status: int | None
    outcome: str
    queued: float = 0.0  # seconds the request waited for a free slot (``parallel``)

    @property
    def duration(self) -> float | None:
        """Seconds from the request's arrival to its end; None while still open."""
        return None if self.end is None else self.end - self.start


class FakeOllama:
    """A ``fake-ollama`` subprocess on a free loopback port, stopped on exit.

    Keyword arguments are a ``Profile``: ``models``, ``seed``, ``latency_first``, ``load_time``,
    ``chunk_interval``, ``chunks``, ``stall_after``, ``retry_after``, ``parallel`` (generation
    requests served at once, the rest queue; 0: no limit), the fault probabilities
    (``http_500`` ... ``model_missing``, ``runaway``), ``script``, ``hang_all``, ``tags_hang``.
    """

    def __init__(self, *, startup_timeout: float = 10.0, log_level: str = "WARNING",
                 stderr: IO[Any] | int | None = None, **profile: Any) -> None:
        self.profile = Profile.from_mapping(profile)
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self._stderr = stderr
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: httpx.Client | None = None
        self.url = ""
        self.port = 0

    def __enter__(self) -> FakeOllama:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the subprocess and wait for its ``listening on`` line (``FakeOllamaStartError`` if late)."""
        if self._proc is not None:
            raise RuntimeError("FakeOllama is already running")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        argv = [sys.executable, "-m", *self._server_argv()]
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self._stderr, env=env, cwd=_ROOT)
        try:
            line = self._first_line()
        except BaseException:
            self.stop()
            raise
        self.url = line[len(self.ready_line):].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        self._control = httpx.Client(base_url=self.url, timeout=5.0, trust_env=False)

    #: The line the server prints first, followed by its URL.
    ready_line = _READY

    def _server_argv(self) -> list[str]:
        """The server's module and flags (``python -m`` runs them)."""
        return ["actors.fakes.ollama", "--port", "0", "--log-level", self.log_level, *self.profile.to_argv()]

    def _first_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + self.startup_timeout
        buffer = b""
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FakeOllamaStartError(f"fake-ollama did not say where it listens within {self.startup_timeout}s")
            readable, _, _ = select.select([fd], [], [], left)
            if readable:
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self._proc.wait(timeout=5)
                    raise FakeOllamaStartError(f"fake-ollama exited with code {code} before listening")
                buffer += chunk
        line = buffer.split(b"\n", 1)[0].decode()
        if not line.startswith(self.ready_line):
            raise FakeOllamaStartError(f"fake-ollama printed {line!r} instead of its address")
        return line

    def stop(self) -> None:
        """Terminate the subprocess (kill it if it does not stop within 5 s) and close its pipe."""
        proc, self._proc = self._proc, None
        if self._control is not None:
            self._control.close()
            self._control = None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def pid(self) -> int | None:
        """The subprocess's id while it is started."""
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        """True while the subprocess is alive."""
        return self._proc is not None and self._proc.poll() is None

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._control is None:
            raise RuntimeError("FakeOllama is not started")
        response = self._control.request(method, path, json=body)
        if response.status_code == 400:
            raise ConfigError(response.json().get("error", response.text))
        response.raise_for_status()
        return response.json()

    def configure(self, **profile: Any) -> dict[str, Any]:
        """Replace the server's profile (keys not given take the launch values); returns the new profile."""
        return self._call("POST", "/_fake/config", profile)

    def reset(self) -> None:
        """Launch profile back, request numbering and log emptied."""
        self._call("POST", "/_fake/reset")

    def current_profile(self) -> dict[str, Any]:
        """The profile the server uses now, as JSON."""
        return self._call("GET", "/_fake/config")

    def requests(self) -> list[RequestRecord]:
        """The request log, oldest first (control calls are not logged)."""
        return [RequestRecord(**entry) for entry in self._call("GET", "/_fake/requests")["requests"]]


try:
    import pytest
except ImportError:  # the helper works without pytest; only the fixtures need it
    pass
else:

    @pytest.fixture(scope="module")
    def fake_ollama_server() -> Iterator[FakeOllama]:
        """One fake-ollama subprocess per test module."""
        with FakeOllama() as server:
            yield server

    @pytest.fixture
    def fake_ollama(fake_ollama_server: FakeOllama) -> FakeOllama:
        """The module's fake-ollama, reset to its default profile with an empty request log."""
        fake_ollama_server.reset()
        return fake_ollama_server
