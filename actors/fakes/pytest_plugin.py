"""The pytest plugin of the shipped fakes: every fixture of ``ollama_testing`` and ``anthropic_testing``,
and the guard that keeps every test off the internet.

Load it with ``pytest_plugins = ["actors.fakes.pytest_plugin"]`` in the root conftest. The
fixtures start real servers (subprocesses on 127.0.0.1): ``fake_ollama`` / ``fake_ollama_server``
and ``fake_anthropic`` / ``fake_anthropic_server``. ``no_internet`` (autouse) points the live
sources at a closed local port, keeps the HTTP cache in the test's tmp folder, and refuses to
resolve non-local host names (see :mod:`actors.fakes.offline`); subprocesses get
``OFFLINE_ENV`` from the test that builds their environment.
"""

import socket

import pytest

from actors.fakes.anthropic_testing import fake_anthropic, fake_anthropic_server
from actors.fakes.offline import OFFLINE_ENV, local_only_getaddrinfo
from actors.fakes.ollama_testing import fake_ollama, fake_ollama_server

__all__ = ["fake_anthropic", "fake_anthropic_server", "fake_ollama", "fake_ollama_server", "no_internet"]


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reaches Cboe, Nasdaq, Yahoo or any other non-local host (see the module docstring)."""
    for name, value in OFFLINE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", local_only_getaddrinfo(socket.getaddrinfo))
