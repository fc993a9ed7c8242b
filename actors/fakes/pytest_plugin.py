"""The pytest plugin of the shipped fakes: every fixture of ``ollama_testing`` and ``anthropic_testing``.

Load it with ``pytest_plugins = ["actors.fakes.pytest_plugin"]`` in the root conftest. The
fixtures start real servers (subprocesses on 127.0.0.1): ``fake_ollama`` / ``fake_ollama_server``
and ``fake_anthropic`` / ``fake_anthropic_server``.
"""

from actors.fakes.anthropic_testing import fake_anthropic, fake_anthropic_server
from actors.fakes.ollama_testing import fake_ollama, fake_ollama_server

__all__ = ["fake_anthropic", "fake_anthropic_server", "fake_ollama", "fake_ollama_server"]
