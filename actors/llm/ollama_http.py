"""The HTTP layer beneath :class:`~actors.llm.ollama_client.OllamaChat`.

- The transport: ``http_transport(host)`` loads a CA bundle only for ``https://`` hosts, and
  ``RecordingTransport`` applies each attempt's connect timeout and records the status and
  ``Retry-After`` it saw (ollama's ``ResponseError`` drops the headers) through ``CURRENT``, a
  context variable set per attempt in the calling task.
- The stream: ``stop_reading`` ends a stream after its ``done`` line without reading on, and
  ``record_usage`` turns the final chunk's counts and nanosecond durations into ``Usage``.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import ssl
from typing import Any

import attrs
import httpx
import trio

from actors.llm.outcome import Usage

__all__ = ["CURRENT", "RecordingTransport", "RequestRecord", "http_transport", "ns_to_seconds", "record_usage",
           "stop_reading"]

logger = logging.getLogger(__name__)


@attrs.define
class RequestRecord:
    """Per-attempt state shared with the transport wrapper (lives in one task's context)."""

    connect: float
    status: int | None = None
    retry_after: str | None = None


CURRENT: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar("ollama_request", default=None)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Applies the attempt's connect timeout and records the status and Retry-After it saw."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record = CURRENT.get()
        if record is not None:
            timeout = dict(request.extensions.get("timeout") or {})
            timeout["connect"] = record.connect
            request.extensions["timeout"] = timeout
        response = await self._inner.handle_async_request(request)
        if record is not None:
            record.status = response.status_code
            record.retry_after = response.headers.get("retry-after")
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@functools.cache
def _trusting_nothing() -> ssl.SSLContext:
    """One bare TLS context per process: verification on, no trusted certificates."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def http_transport(host: str) -> httpx.AsyncHTTPTransport:
    """The default transport for ``host``: a CA bundle only for ``https://`` hosts.

    An ``http://`` host never needs one. httpx insists on some TLS context, so it gets a shared
    one that trusts no certificate (a redirect to ``https://`` fails rather than going
    unverified) instead of loading certifi's bundle (~25 ms per client).
    """
    if host.lower().startswith("https://"):
        return httpx.AsyncHTTPTransport()
    return httpx.AsyncHTTPTransport(verify=_trusting_nothing())


def ns_to_seconds(nanoseconds: int | None) -> float | None:
    """Ollama's nanosecond durations as seconds (None stays None)."""
    return None if nanoseconds is None else nanoseconds / 1e9


def record_usage(usage: Usage, part: Any) -> None:
    """The final chunk's counts and durations into ``usage``."""
    usage.input_tokens = part.prompt_eval_count
    usage.output_tokens = part.eval_count
    usage.generation_seconds = ns_to_seconds(part.eval_duration)
    usage.prompt_seconds = ns_to_seconds(part.prompt_eval_duration)
    usage.load_seconds = ns_to_seconds(part.load_duration)


async def stop_reading(chunks: Any) -> None:
    """End the stream after its ``done`` line without waiting for more bytes.

    One more read runs in an already-cancelled scope: what the client already buffered is
    consumed, and the first read that would wait is cancelled instead, which unwinds ollama's
    and httpx's stream generators and closes the response at once (closing the outer generator
    at its ``yield`` would leave httpx's inner line iterators for the garbage collector).
    """
    with trio.CancelScope() as scope:
        scope.cancel()
        while True:
            try:
                await chunks.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:  # noqa: BLE001 - whatever follows "done" cannot spoil the reply
                logger.debug("ignored after the final chunk: %s: %s", type(exc).__name__, exc)
                return
