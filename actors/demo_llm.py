"""The built-in demo LLM: ``bin/fake-ollama`` in a subprocess on 127.0.0.1, for ``bin/scan --demo``.

With no LLM configured (no ``--ai-backend``, ``ai_backend`` left at ``ollama`` and
``ollama_host`` at its default), ``--demo`` debates against this server instead of a local
Ollama that is probably not running, so a newcomer sees every phase work in seconds. Its
replies are synthetic, written from the facts in each prompt (the ticker, its score, the
contract's numbers: ``actors/fakes/debate_replies.py``), and its model is named
:data:`~actors.report.DEMO_MODEL`, so the table and the panel label the debates SYNTHETIC.

The server runs as a subprocess (production code never imports the fakes) in its own session,
so a Ctrl-C aimed at the scan does not stop it under the debates; it stops when the scan ends,
and also when this process dies any other way: it exits when its stdin, a pipe only we hold,
reaches end of file.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from actors.config import Settings
from actors.errors import OptionAlphaError
from actors.report import DEMO_MODEL

__all__ = ["DemoLLMError", "open_demo_llm", "wants_demo_llm"]

logger = logging.getLogger(__name__)

_READY = "fake-ollama listening on "
#: The demo server's pace: a short wait before the first chunk, a few chunks a little apart.
_PACE = ("--latency-first", "0.05", "--chunk-interval", "0.01", "--chunks", "4")
START_TIMEOUT = 20.0


class DemoLLMError(OptionAlphaError):
    """The demo LLM server did not start (its address never came); exit 1."""


def wants_demo_llm(settings: Settings, *, demo: bool, backend_flag: str | None, debates_off: bool) -> bool:
    """True for ``--demo`` with no LLM configured: see the module docstring."""
    default_host = attrs.fields(Settings).ollama_host.default
    return (demo and backend_flag is None and not debates_off and settings.ai_backend == "ollama"
            and settings.ollama_host == default_host)


@asynccontextmanager
async def open_demo_llm(settings: Settings) -> AsyncIterator[Settings]:
    """Start the demo server; yield ``settings`` pointed at it; stop it on exit.

    Raises:
        DemoLLMError: the server did not say where it listens within :data:`START_TIMEOUT`.
    """
    argv = [sys.executable, "-m", "actors.fakes.ollama", "--port", "0", "--log-level", "WARNING",
            "--model", DEMO_MODEL, "--seed", str(settings.seed), "--exit-on-stdin-close", *_PACE]
    # stdin is a pipe we hold: if this process dies (even by SIGKILL) the server sees EOF and stops.
    process = await trio.lowlevel.open_process(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                               start_new_session=True)
    try:
        url = await _address(process)
        logger.info("demo LLM (synthetic replies) listening on %s", url)
        yield attrs.evolve(settings, ollama_host=url, ollama_model=DEMO_MODEL)
    finally:
        with trio.CancelScope(shield=True):
            if process.stdin is not None:
                await process.stdin.aclose()  # the server's cue to stop
            if process.returncode is None:
                process.terminate()
                with trio.move_on_after(5):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()


async def _address(process: trio.Process) -> str:
    assert process.stdout is not None
    buffer = b""
    with trio.move_on_after(START_TIMEOUT):
        while b"\n" not in buffer:
            chunk = await process.stdout.receive_some(4096)
            if not chunk:
                raise DemoLLMError(f"the demo LLM server exited (code {await process.wait()}) before listening")
            buffer += chunk
        line = buffer.split(b"\n", 1)[0].decode(errors="replace")
        if not line.startswith(_READY):
            raise DemoLLMError(f"the demo LLM server printed {line!r} instead of its address")
        return line[len(_READY):].strip()
    raise DemoLLMError(f"the demo LLM server did not start within {START_TIMEOUT:.0f}s")
