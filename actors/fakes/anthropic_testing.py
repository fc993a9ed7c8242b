"""Run ``fake-anthropic`` as a subprocess for tests and benchmarks: ``FakeAnthropic`` and the ``fake_anthropic`` fixture.

::

    with FakeAnthropic(api_key="sk-ant-test-1", script="ok*3,overloaded,ok*") as fake:
        settings = {"anthropic_base_url": fake.url, ...}
        ...
        fake.configure(script="rate_limited,ok*", retry_after=1)
        [record.outcome for record in fake.requests()]

The subprocess plumbing and the control calls (``configure``, ``reset``, ``requests``) are
:class:`actors.fakes.ollama_testing.FakeOllama`'s: both servers speak the same ``/_fake/*`` endpoints.
The key the server accepts is handed over in a private temporary file, never on the command
line. Load the fixtures with ``pytest_plugins = ["actors.fakes.anthropic_testing"]``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from actors.fakes.anthropic import READY, AnthropicProfile
from actors.fakes.ollama_testing import FakeOllama

__all__ = ["FakeAnthropic", "fake_anthropic", "fake_anthropic_server", "TEST_KEY"]

#: The key the ``fake_anthropic`` fixture's server accepts.
TEST_KEY = "sk-ant-test-0123456789abcdefABCDEF"


class FakeAnthropic(FakeOllama):
    """A ``fake-anthropic`` subprocess on a free loopback port, stopped on exit.

    Keyword arguments are an ``AnthropicProfile``: ``api_key`` (None: any key works), ``models``,
    ``seed``, ``latency_first``, ``chunk_interval``, ``chunks``, ``retry_after``, ``script``,
    ``hang_all``.
    """

    ready_line = READY

    def __init__(self, *, startup_timeout: float = 10.0, log_level: str = "WARNING",
                 stderr: IO[Any] | int | None = None, **profile: Any) -> None:
        self.anthropic_profile = AnthropicProfile.from_mapping(profile)
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self._stderr = stderr
        self._proc = None
        self._control = None
        self._key_file: str | None = None
        self.url = ""
        self.port = 0

    def _server_argv(self) -> list[str]:
        p = self.anthropic_profile
        argv = ["actors.fakes.anthropic", "--port", "0", "--log-level", self.log_level, "--seed", str(p.seed),
                "--latency-first", repr(p.latency_first), "--chunk-interval", repr(p.chunk_interval),
                "--chunks", str(p.chunks), "--retry-after", repr(p.retry_after),
                "--script", ",".join(e.render() for e in p.script)]
        for model in p.models:
            argv += ["--model", model]
        if p.hang_all:
            argv.append("--hang-all")
        if p.api_key is not None:
            fd, self._key_file = tempfile.mkstemp(prefix="fake-anthropic-key-")
            with os.fdopen(fd, "w") as handle:
                handle.write(p.api_key + "\n")
            argv += ["--api-key-file", self._key_file]
        return argv

    def stop(self) -> None:
        """Stop the subprocess and remove the key file."""
        super().stop()
        if self._key_file is not None:
            os.unlink(self._key_file)
            self._key_file = None


try:
    import pytest
except ImportError:  # the helper works without pytest; only the fixtures need it
    pass
else:

    @pytest.fixture(scope="module")
    def fake_anthropic_server() -> Iterator[FakeAnthropic]:
        """One fake-anthropic subprocess per test module, accepting only :data:`TEST_KEY`."""
        with FakeAnthropic(api_key=TEST_KEY) as server:
            yield server

    @pytest.fixture
    def fake_anthropic(fake_anthropic_server: FakeAnthropic) -> FakeAnthropic:
        """The module's fake-anthropic, reset to its launch profile with an empty request log."""
        fake_anthropic_server.reset()
        return fake_anthropic_server
