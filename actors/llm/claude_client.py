"""The Claude backend: ``anthropic.AsyncAnthropic`` streaming ``/v1/messages`` under trio.

The SDK's own retries are off (``max_retries=0``): retries follow our :class:`RetryPolicy` on
trio's clock. Structured output is a forced tool call: one tool whose ``input_schema`` is the
reply type's JSON schema, and ``tool_choice`` naming it, so the model must answer with a
``tool_use`` block; its input arrives as ``input_json_delta`` pieces, which are joined and
validated with :func:`~actors.llm.structured.parse_reply`, exactly as Ollama's replies (same
parse retries with the stricter instruction). A plain text reply (a gateway that drops tools) is
validated the same way. ``stop_reason: "max_tokens"`` is ``truncated``. What is sent:
``model``, ``max_tokens`` (``ollama_num_predict``), ``system``, ``messages``, ``tools``,
``tool_choice``, ``stream``; no ``temperature`` (the SDK's ``messages.create`` has no sampling
parameters). The stream is read as raw
server-sent events (``AsyncStream.raw_events``) inside ``aclosing``, so every chunk (pings
included) resets the stall timer and cancellation closes the stream and its connection.

anthropic 2.x is built on ``httpx2`` (not ``httpx``): an injected ``http_client`` must be an
``httpx2.AsyncClient`` (tests pass one with ``httpx2.MockTransport``). ``aclose()`` closes it.

Mapping (most specific first): 401/403 → unauthorized (never retried), 404 → model_missing,
408/429/5xx/529 ``overloaded_error`` → http_status retried (``retry-after-ms``/``Retry-After``
honoured), other 4xx → http_status, ``APITimeoutError`` → timeout_connect,
``APIConnectionError``/``httpx2.TransportError`` → unreachable, undecodable events →
protocol_error. The API key is read from the :class:`~actors.secrets.Secret` only when the SDK
client is built, and is scrubbed, in every encoding, from every detail string.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack, aclosing
from typing import Any, TypeVar

import anthropic
import httpx2
import trio
from anthropic import AsyncStream

from actors.llm.budget import END, ChunkTimer, Timeouts
from actors.llm.protocol import ChatMessage, Observer, check_messages
from actors.llm.outcome import AttemptFailed, CallOutcome, FailureKind, Usage
from actors.llm.retry import RetryPolicy, parse_retry_after, retryable_status, run_call
from actors.llm.structured import json_schema
from actors.secrets import Secret, SecretFormatError, check_token
from messages.health import HealthStatus, LLMHealth

__all__ = ["ClaudeChat"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Error event types inside a 200 stream, with the status they stand for.
_STREAM_ERRORS = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429,
                  "authentication_error": 401, "permission_error": 403, "not_found_error": 404,
                  "invalid_request_error": 400, "request_too_large": 413}


class ClaudeChat:
    """A streaming Claude client with typed outcomes (implements ``ChatClient``).

    Keyword-only settings: ``model`` and ``api_key`` (a :class:`Secret`) required; ``timeouts``,
    ``retry``, ``max_tokens`` (1024), ``base_url``, ``observer``, ``http_client`` (an
    ``httpx2.AsyncClient``; closed by :meth:`aclose`). No ``temperature``: the installed SDK's
    ``messages.create`` no longer takes sampling parameters.

    Raises:
        ValueError / TypeError: a setting is missing or out of range (never shows the key).
    """

    backend = "claude"

    def __init__(
        self,
        *,
        model: str,
        api_key: Secret,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_tokens: int = 1024,
        base_url: str | None = None,
        observer: Observer | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be a non-empty model name, got {model!r}")
        if not isinstance(api_key, Secret):
            raise TypeError("api_key must be an actors.secrets.Secret (never a plain string)")
        if not api_key:
            raise ValueError("api_key is empty: set the Anthropic API key (a file or the environment)")
        try:
            check_token(api_key.reveal(), "api_key")
        except SecretFormatError as exc:
            raise ValueError(str(exc)) from None
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be an integer >= 1, got {max_tokens!r}")
        self._model = model
        self._secret = api_key
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.max_tokens = max_tokens
        self._observer = observer
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key.reveal(),
            base_url=base_url,
            max_retries=0,
            timeout=_http_timeout(self.timeouts.connect),
            http_client=http_client,
        )
        _resolve_platform_now(self._client)

    def __repr__(self) -> str:
        return f"ClaudeChat(model={self._model!r}, api_key=Secret('***'))"

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        """Close the SDK client and its HTTP client (also an injected one)."""
        await self._client.close()

    def _scrub(self, text: str) -> str:
        return self._secret.scrub(text)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        reply_type: type[T],
        *,
        timeouts: Timeouts | None = None,
    ) -> CallOutcome[T]:
        """Send ``messages``, expect a ``reply_type`` JSON reply, within ``timeouts`` (see ``client``)."""
        check_messages(messages)
        json_schema(reply_type)  # fail fast on a reply type with no JSON schema
        return await run_call(
            self._attempt,
            messages,
            reply_type,
            timeouts=timeouts or self.timeouts,
            policy=self.retry,
            model=self._model,
            backend=self.backend,
            observer=self._observer,
        )

    def _request(self, messages: Sequence[ChatMessage], reply_type: type) -> dict[str, Any]:
        name = tool_name(reply_type)
        system = [m.content for m in messages if m.role == "system"]
        system.append(f"Give your answer by calling the {name} tool, once, with every required field.")
        return {
            "model": self._model,
            "max_tokens": self.max_tokens,
            "system": "\n\n".join(system),
            "messages": [{"role": m.role, "content": m.content} for m in messages if m.role != "system"],
            "tools": [{"name": name, "description": f"Record the {reply_type.__name__} reply.",
                       "input_schema": json_schema(reply_type)}],
            "tool_choice": {"type": "tool", "name": name},
        }

    async def _attempt(
        self, messages: Sequence[ChatMessage], reply_type: type, timeouts: Timeouts, usage: Usage
    ) -> str:
        reply = _Reply()
        try:
            timer = ChunkTimer(first_chunk=timeouts.first_chunk, stall=timeouts.stall)
            async with AsyncExitStack() as stack:
                manager = self._client.messages.with_streaming_response.create(
                    **self._request(messages, reply_type), stream=True, timeout=_http_timeout(timeouts.connect)
                )
                response = await timer.call(stack.enter_async_context, manager)
                events = await stack.enter_async_context(aclosing(AsyncStream.raw_events(response.http_response)))
                # Read to the end even after message_stop or an error event: abandoning the SSE
                # decoder mid-way leaves async generators for the garbage collector.
                stopped = False
                failure: AttemptFailed | None = None
                while True:
                    try:
                        sse = await timer.next(events)
                    except AttemptFailed:
                        if stopped or failure is not None:
                            break  # the server kept the stream open after its last event
                        raise
                    if sse is END:
                        break
                    if not stopped and failure is None:
                        try:
                            stopped = self._handle(sse.event, sse.data, reply, usage)
                        except AttemptFailed as exc:
                            failure = exc
            if failure is not None:
                raise failure
            if stopped:
                return reply.text()
            raise AttemptFailed(FailureKind.PROTOCOL_ERROR,
                                f"the stream ended without message_stop after {timer.chunks} event(s)", retryable=True)
        except AttemptFailed:
            raise
        except Exception as exc:
            failure = self._map(exc)
            if failure is None:
                self._raise_scrubbed(exc)
            raise failure from None  # the SDK's exception text may echo request data: not chained

    def _handle(self, event: str | None, data: str, reply: "_Reply", usage: Usage) -> bool:
        """Fold one SSE event into ``reply``/``usage``; True at ``message_stop``.

        Raises:
            AttemptFailed: an error event, an undecodable event, or a reply cut off by ``max_tokens``.
        """
        if event in (None, "ping") or not data:
            return False
        try:
            body = json.loads(data)
        except json.JSONDecodeError as exc:
            raise AttemptFailed(FailureKind.PROTOCOL_ERROR, f"undecodable {event} event: {exc.msg}",
                                retryable=True) from None
        if not isinstance(body, dict):
            raise AttemptFailed(FailureKind.PROTOCOL_ERROR, f"{event} event is not a JSON object", retryable=True)
        if event == "error":
            error = body.get("error") or {}
            kind = str(error.get("type", "error"))
            status = _STREAM_ERRORS.get(kind, 500)
            raise self._status_failure(status, f"{kind}: {error.get('message', '')}", None)
        if event == "message_start":
            usage.input_tokens = ((body.get("message") or {}).get("usage") or {}).get("input_tokens")
        elif event == "content_block_start":
            block = body.get("content_block") or {}
            if block.get("type") == "tool_use":
                reply.tool_blocks.add(body.get("index"))
        elif event == "content_block_delta":
            delta = body.get("delta") or {}
            if delta.get("type") == "input_json_delta" and body.get("index") in reply.tool_blocks:
                reply.tool_json.append(str(delta.get("partial_json", "")))
            elif delta.get("type") == "text_delta":
                reply.text_parts.append(str(delta.get("text", "")))
        elif event == "message_delta":
            usage.output_tokens = (body.get("usage") or {}).get("output_tokens", usage.output_tokens)
            reply.stop_reason = (body.get("delta") or {}).get("stop_reason") or reply.stop_reason
        elif event == "message_stop":
            if reply.stop_reason == "max_tokens":
                raise AttemptFailed(FailureKind.TRUNCATED,
                                    f"the reply was cut off at max_tokens={self.max_tokens} (ollama_num_predict)",
                                    retryable=False)
            return True
        return False

    def _raise_scrubbed(self, exc: Exception) -> None:
        """Re-raise an exception we do not map (a bug), unless its text holds the key: then a scrubbed copy."""
        text = str(exc)
        scrubbed = self._scrub(text)
        if scrubbed == text:
            raise exc
        raise RuntimeError(f"{type(exc).__name__} in the Claude client: {scrubbed}") from None

    def _map(self, exc: Exception) -> AttemptFailed | None:
        if isinstance(exc, anthropic.APIStatusError):
            message = _error_message(exc)
            return self._status_failure(exc.status_code, message, exc.response.headers)
        if isinstance(exc, anthropic.APITimeoutError):
            return AttemptFailed(FailureKind.TIMEOUT_CONNECT, "connecting to the Anthropic API timed out",
                                 retryable=True)
        if isinstance(exc, anthropic.APIConnectionError):
            cause = exc.__cause__
            why = f"{type(cause).__name__}: {cause}" if cause else str(exc)
            return AttemptFailed(FailureKind.UNREACHABLE, self._scrub(f"cannot reach the Anthropic API: {why}"),
                                 retryable=True)
        if isinstance(exc, httpx2.TimeoutException):
            return AttemptFailed(FailureKind.STALL, f"{type(exc).__name__} reading the stream", retryable=True)
        if isinstance(exc, (httpx2.TransportError, OSError)):
            return AttemptFailed(FailureKind.UNREACHABLE,
                                 self._scrub(f"connection dropped mid-stream: {type(exc).__name__}: {exc}"),
                                 retryable=True)
        if isinstance(exc, httpx2.DecodingError):
            return AttemptFailed(FailureKind.PROTOCOL_ERROR, f"undecodable stream: {exc}", retryable=True)
        return None

    def _status_failure(self, status: int, message: str, headers: Any) -> AttemptFailed:
        message = self._scrub(message.strip()[:300])
        if status in (401, 403):
            return AttemptFailed(FailureKind.UNAUTHORIZED,
                                 f"the Anthropic API refused the key ({status}): {message}",
                                 retryable=False, http_status=status)
        if status == 404:
            return AttemptFailed(FailureKind.MODEL_MISSING,
                                 f"model '{self._model}' is not available to this key (404): {message}",
                                 retryable=False, http_status=404)
        retryable = retryable_status(status)
        retry_after = _retry_after(headers) if retryable and headers is not None else None
        return AttemptFailed(FailureKind.HTTP_STATUS, f"the Anthropic API answered {status}: {message}",
                             retryable=retryable, http_status=status, retry_after=retry_after)

    async def probe(self, *, timeout: float = 5.0) -> LLMHealth:
        """``GET /v1/models/{model}`` within ``timeout``: authenticated and free (no tokens billed).

        Never raises for backend trouble: healthy / unauthorized / model_missing / unreachable /
        timeout / error, with latency on trio's clock.
        """
        start = trio.current_time()
        status, detail = HealthStatus.TIMEOUT, f"the Anthropic API did not answer within {timeout:g}s"
        with trio.move_on_after(timeout):
            try:
                await self._client.models.retrieve(self._model, timeout=_http_timeout(timeout))
            except Exception as exc:
                failure = self._map(exc)
                if failure is None:
                    self._raise_scrubbed(exc)
                status = {
                    FailureKind.UNAUTHORIZED: HealthStatus.UNAUTHORIZED,
                    FailureKind.MODEL_MISSING: HealthStatus.MODEL_MISSING,
                    FailureKind.UNREACHABLE: HealthStatus.UNREACHABLE,
                    FailureKind.TIMEOUT_CONNECT: HealthStatus.TIMEOUT,
                }.get(failure.kind, HealthStatus.ERROR)
                detail = failure.detail
            else:
                status, detail = HealthStatus.HEALTHY, f"model '{self._model}' is available"
        now = trio.current_time()
        return LLMHealth(backend=self.backend, status=status, latency=now - start, detail=detail, checked_at=now)


class _Reply:
    """What one streamed reply has said so far: the forced tool call's JSON, or plain text."""

    def __init__(self) -> None:
        self.tool_blocks: set[Any] = set()
        self.tool_json: list[str] = []
        self.text_parts: list[str] = []
        self.stop_reason: str | None = None

    def text(self) -> str:
        """The tool call's input JSON when there was one, else the text (validated the same way)."""
        return "".join(self.tool_json) if self.tool_blocks else "".join(self.text_parts)


def tool_name(reply_type: type) -> str:
    """The forced tool's name for a reply type: ``record_<name>`` (``[a-zA-Z0-9_-]{1,64}``)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in reply_type.__name__.lower())
    return f"record_{cleaned}"[:64]


def _resolve_platform_now(client: anthropic.AsyncAnthropic) -> None:
    """Fill the SDK's platform headers now, not in a worker thread on the first request.

    The thread is uncancellable, and under a virtual clock (tests, simulations) trio's autojump
    moves time past our deadlines while it runs. Private SDK attribute: skipped if it changes.
    """
    try:
        from anthropic._base_client import get_platform

        if getattr(client, "_platform", "missing") is None:
            client._platform = get_platform()
    except (ImportError, AttributeError):  # pragma: no cover - a future SDK layout
        logger.debug("anthropic platform pre-resolution unavailable")


def _http_timeout(connect: float) -> httpx2.Timeout:
    # Reads are timed by ChunkTimer on trio's clock; httpx2 only bounds the connect.
    return httpx2.Timeout(connect=connect, read=None, write=None, pool=None)


def _error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return f"{error.get('type', 'error')}: {error.get('message', '')}"
    return str(exc.message)


def _retry_after(headers: Any) -> float | None:
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))
