"""The Ollama backend: ``ollama.AsyncClient`` streaming ``/api/chat`` with a JSON-schema ``format``.

Runs under trio: ollama uses httpx, which reaches trio through anyio. The client is opened once
(``OllamaChat(...)``) and closed explicitly (``await chat.aclose()``); every stream is closed with
``contextlib.aclosing``, also on cancellation, and the response is closed as soon as the
``done`` line arrives (nothing after it is read). ``num_ctx``, ``num_predict`` and
``keep_alive`` are always sent: Ollama's defaults silently truncate long debate prompts and put
no cap on output, so a looping model would otherwise write until the deadline. A reply the cap
stopped (``done_reason: "length"``) is a ``truncated`` attempt, retried once by ``run_call``.
The final chunk's counts and durations (``prompt_eval_count``, ``eval_count``,
``prompt_eval_duration``, ``eval_duration``, ``load_duration``) become the call's usage.

Cold loads: with ``load_timeout`` set, the first call (and the first after the model's
``keep_alive`` may have run out) asks ``/api/ps`` whether the model is loaded and, if not, loads
it with Ollama's empty ``/api/generate`` request under ``load_timeout`` before any call starts,
so no call's first-chunk budget is spent on the load. Calls arriving meanwhile wait for that one
load. The load is logged at INFO and its seconds are added to the waiting call's
``load_seconds``. A failed load ends the call with its failure kind (reported to the observer).

For ``http://`` hosts no CA bundle is loaded (~25 ms per client): the transport gets one shared
bare TLS context that trusts nothing, so a redirect to ``https://`` fails instead of going
unverified.

Exceptions are mapped to :class:`~actors.llm.outcome.FailureKind` at this boundary (most
specific first): ``ollama.ResponseError`` by status (404 → model_missing, 401/403 →
unauthorized, 408/429/5xx and in-stream errors → http_status retried, other 4xx → http_status),
``httpx.ConnectTimeout`` → timeout_connect, ``httpx.ConnectError``/``ReadError``/
``RemoteProtocolError``/``OSError`` → unreachable, a broken NDJSON line → protocol_error.

ollama's ``ResponseError`` drops the response headers, so a thin transport wrapper
(:mod:`actors.llm.ollama_http`) reads ``Retry-After`` (and applies a per-call connect timeout)
through a context variable that is set per attempt in the calling task.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from contextlib import aclosing
from typing import Any, TypeVar

import attrs
import httpx
import ollama
import pydantic
import trio

from actors.llm.budget import END, ChunkTimer, Timeouts
from actors.llm.protocol import ChatMessage, Observer, check_messages
from actors.llm.keep_alive import keep_alive_seconds
from actors.llm.ollama_http import (
    CURRENT,
    RecordingTransport,
    RequestRecord,
    http_transport,
    ns_to_seconds,
    record_usage,
    stop_reading,
)
from actors.llm.outcome import AttemptFailed, CallOutcome, FailureKind, Usage, attempt_outcome
from actors.llm.retry import RetryPolicy, parse_retry_after, retryable_status, run_call
from actors.llm.structured import json_schema
from messages.health import HealthStatus, LLMHealth

__all__ = ["OllamaChat"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_HOST = "http://127.0.0.1:11434"


def _same_model(configured: str, listed: str) -> bool:
    def norm(name: str) -> str:
        return name[: -len(":latest")] if name.endswith(":latest") else name

    return norm(configured) == norm(listed)


class OllamaChat:
    """A streaming Ollama chat client with typed outcomes (implements ``ChatClient``).

    Keyword-only settings: ``model`` (required), ``host``, ``timeouts`` (default
    :class:`Timeouts`), ``retry`` (default :class:`RetryPolicy`), ``temperature`` (0),
    ``num_ctx`` (8192), ``num_predict`` (the output cap in tokens, 1280; None sends no cap),
    ``keep_alive`` ("5m"), ``load_timeout`` (seconds a cold model load may take before the first
    call; None: no load check), ``observer`` (called per attempt), ``transport`` (an
    ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport`` in tests).

    Raises:
        ValueError: a setting is out of range (the message names it).
    """

    backend = "ollama"

    def __init__(
        self,
        *,
        model: str,
        host: str = DEFAULT_HOST,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        temperature: float = 0.0,
        num_ctx: int = 8192,
        num_predict: int | None = 1280,
        keep_alive: str | float = "5m",
        load_timeout: float | None = None,
        observer: Observer | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be a non-empty model name, got {model!r}")
        if isinstance(num_ctx, bool) or not isinstance(num_ctx, int) or num_ctx < 256:
            raise ValueError(f"num_ctx must be an integer >= 256, got {num_ctx!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise ValueError(f"temperature must be a number in [0, 2], got {temperature!r}")
        if not isinstance(keep_alive, (str, int, float)) or isinstance(keep_alive, bool):
            raise ValueError(f"keep_alive must be a duration like '5m' or seconds, got {keep_alive!r}")
        if num_predict is not None and (isinstance(num_predict, bool) or not isinstance(num_predict, int)
                                        or num_predict < 1):
            raise ValueError(f"num_predict must be a positive number of tokens or None, got {num_predict!r}")
        if load_timeout is not None and (isinstance(load_timeout, bool) or not isinstance(load_timeout, (int, float))
                                         or not math.isfinite(load_timeout) or load_timeout <= 0):
            raise ValueError(f"load_timeout must be a finite number of seconds > 0 or None, got {load_timeout!r}")
        self._model = model
        self.host = host.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.temperature = float(temperature)
        self.num_ctx = num_ctx
        self.num_predict = num_predict
        self.keep_alive = keep_alive
        self.load_timeout = None if load_timeout is None else float(load_timeout)
        self._observer = observer
        self._schemas: dict[type, dict[str, Any]] = {}
        self._loaded_until = -math.inf  # trio time until which the model is known to be loaded
        self._load_lock = trio.Lock()
        self._client = ollama.AsyncClient(
            host=self.host,
            timeout=httpx.Timeout(connect=self.timeouts.connect, read=None, write=None, pool=None),
            transport=RecordingTransport(transport or http_transport(self.host)),
        )

    def __repr__(self) -> str:
        return f"OllamaChat(model={self._model!r}, host={self.host!r})"

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        """Close the HTTP client (idempotent)."""
        await self._client.close()

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        reply_type: type[T],
        *,
        timeouts: Timeouts | None = None,
    ) -> CallOutcome[T]:
        """Send ``messages``, expect a ``reply_type`` JSON reply, within ``timeouts`` (see ``client``)."""
        check_messages(messages)
        if reply_type not in self._schemas:
            self._schemas[reply_type] = json_schema(reply_type)
        waited_load = 0.0
        if self.load_timeout is not None:
            loaded = await self._ensure_loaded()
            if isinstance(loaded, CallOutcome):
                return loaded
            waited_load = loaded
        outcome = await run_call(
            self._attempt,
            messages,
            reply_type,
            timeouts=timeouts or self.timeouts,
            policy=self.retry,
            model=self._model,
            backend=self.backend,
            observer=self._observer,
        )
        if outcome.output_tokens is not None:  # the model answered: it stays loaded for keep_alive
            self._loaded_until = trio.current_time() + keep_alive_seconds(self.keep_alive)
        if waited_load:
            outcome = attrs.evolve(outcome, load_seconds=(outcome.load_seconds or 0.0) + waited_load)
        return outcome

    async def _ensure_loaded(self) -> float | CallOutcome[Any]:
        """Load the model if ``/api/ps`` does not list it; the load's seconds, or the failed outcome.

        One caller loads while the others wait on the lock. ``/api/ps`` failing or not answering
        within the first-chunk budget (an old server, a proxy) is not an error: the call goes
        ahead and is judged by its own budgets.
        """
        async with self._load_lock:
            start = trio.current_time()
            if start < self._loaded_until:
                return 0.0
            assert self.load_timeout is not None
            record = RequestRecord(connect=min(self.timeouts.connect, self.load_timeout))
            token = CURRENT.set(record)
            try:
                listing = None
                with trio.move_on_after(self.timeouts.first_chunk):  # /api/ps answers at once, even mid-load
                    try:
                        listing = await self._client.ps()
                    except Exception as exc:  # noqa: BLE001 - any answer but a listing: let the call decide
                        logger.debug("%s/api/ps failed (%s: %s)", self.host, type(exc).__name__, exc)
                if listing is None:
                    logger.debug("%s/api/ps did not list loaded models; calling without a load check", self.host)
                    return 0.0
                if any(_same_model(self._model, m.model or "") for m in listing.models):
                    self._loaded_until = start + keep_alive_seconds(self.keep_alive)
                    return 0.0
                with trio.move_on_after(self.load_timeout) as scope:
                    logger.info("model %s is not loaded on %s; loading it (up to %gs)", self._model, self.host,
                                self.load_timeout)
                    response = await self._client.generate(model=self._model, keep_alive=self.keep_alive)
                if scope.cancelled_caught:
                    failure = AttemptFailed(FailureKind.TIMEOUT_FIRST_CHUNK,
                                            f"loading model '{self._model}' took over {self.load_timeout:g}s "
                                            f"(ai_load_timeout)", retryable=False)
                    return self._load_failed(failure, start)
            except Exception as exc:
                failure = self._map(exc, record)
                if failure is None:
                    raise
                return self._load_failed(failure, start)
            finally:
                CURRENT.reset(token)
            waited = trio.current_time() - start
            reported = ns_to_seconds(response.load_duration)
            logger.info("model %s loaded on %s in %.1fs (load_duration %s)", self._model, self.host, waited,
                        "not reported" if reported is None else f"{reported:.1f}s")
            self._loaded_until = trio.current_time() + keep_alive_seconds(self.keep_alive)
            return waited

    def _load_failed(self, failure: AttemptFailed, start: float) -> CallOutcome[Any]:
        """The outcome of a call whose model load failed (the observer hears of it like an attempt)."""
        if self._observer is not None:
            try:
                self._observer(attempt_outcome(failure.kind, http_status=failure.http_status, detail=failure.detail))
            except Exception:  # an observer's bug must not turn into an LLM failure
                logger.exception("LLM attempt observer failed")
        latency = trio.current_time() - start
        logger.info("%s %s call failed: %s while loading the model, %.1fs: %s", self.backend, self._model,
                    failure.kind.value, latency, failure.detail)
        return CallOutcome(value=None, failure=failure.kind, attempts=1, parse_failures=0, latency=latency,
                           model=self._model, backend=self.backend, detail=failure.detail,
                           http_status=failure.http_status, load_seconds=latency)

    async def _attempt(
        self, messages: Sequence[ChatMessage], reply_type: type, timeouts: Timeouts, usage: Usage
    ) -> str:
        record = RequestRecord(connect=timeouts.connect)
        token = CURRENT.set(record)
        parts: list[str] = []
        try:
            timer = ChunkTimer(first_chunk=timeouts.first_chunk, stall=timeouts.stall)
            options: dict[str, Any] = {"temperature": self.temperature, "num_ctx": self.num_ctx}
            if self.num_predict is not None:
                options["num_predict"] = self.num_predict
            stream = await self._client.chat(
                model=self._model,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                stream=True,
                format=self._schemas[reply_type],
                options=options,
                keep_alive=self.keep_alive,
            )
            async with aclosing(stream) as chunks:
                while True:
                    part = await timer.next(chunks)
                    if part is END:
                        break
                    parts.append(part.message.content or "")
                    if part.done:
                        await stop_reading(chunks)
                        record_usage(usage, part)
                        if part.done_reason == "length":
                            raise AttemptFailed(
                                FailureKind.TRUNCATED,
                                f"the reply hit the output cap of {self._cap_text()} "
                                f"(done_reason length, {part.eval_count} tokens written)",
                                retryable=False,
                            )
                        return "".join(parts)
            raise AttemptFailed(
                FailureKind.PROTOCOL_ERROR,
                f"the stream from {self.host} ended without its final chunk after {timer.chunks} chunk(s)",
                retryable=True,
            )
        except AttemptFailed:
            raise
        except Exception as exc:
            failure = self._map(exc, record)
            if failure is None:
                raise
            raise failure from exc
        finally:
            CURRENT.reset(token)

    def _cap_text(self) -> str:
        return "the server's context" if self.num_predict is None else f"{self.num_predict} tokens (num_predict)"

    def _map(self, exc: Exception, record: RequestRecord) -> AttemptFailed | None:
        """The FailureKind of a dependency's exception (most specific first), or None: not ours."""
        if isinstance(exc, ollama.ResponseError):
            return self._status_failure(exc.status_code, str(exc.error), record)
        if isinstance(exc, httpx.ConnectTimeout):
            return AttemptFailed(FailureKind.TIMEOUT_CONNECT,
                                 f"connect to {self.host} took over {record.connect:g}s", retryable=True)
        if isinstance(exc, httpx.ConnectError):
            return AttemptFailed(FailureKind.UNREACHABLE, f"cannot connect to {self.host}: {exc}", retryable=True)
        if isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError, httpx.CloseError)):
            return AttemptFailed(FailureKind.UNREACHABLE,
                                 f"connection to {self.host} dropped: {type(exc).__name__}: {exc}", retryable=True)
        if isinstance(exc, httpx.TimeoutException):
            return AttemptFailed(FailureKind.TIMEOUT_CONNECT,
                                 f"{type(exc).__name__} talking to {self.host}", retryable=True)
        if isinstance(exc, (json.JSONDecodeError, pydantic.ValidationError, httpx.DecodingError)):
            return AttemptFailed(FailureKind.PROTOCOL_ERROR,
                                 f"bad stream line from {self.host}: {str(exc)[:200]}", retryable=True)
        if isinstance(exc, (httpx.TransportError, OSError)):
            return AttemptFailed(FailureKind.UNREACHABLE, f"{self.host}: {type(exc).__name__}: {exc}", retryable=True)
        return None

    def _status_failure(self, status: int, error: str, record: RequestRecord) -> AttemptFailed:
        error = error.strip()[:300]
        if status == 404:
            return AttemptFailed(
                FailureKind.MODEL_MISSING,
                f"model '{self._model}' is not pulled on {self.host}; run `ollama pull {self._model}`",
                retryable=False, http_status=404,
            )
        if status in (401, 403):
            return AttemptFailed(FailureKind.UNAUTHORIZED, f"{self.host} refused access ({status}): {error}",
                                 retryable=False, http_status=status)
        if status == -1:  # an {"error": ...} line inside a 200 stream: the runner failed mid-reply
            return AttemptFailed(FailureKind.HTTP_STATUS, f"{self.host} failed mid-stream: {error}",
                                 retryable=True, http_status=record.status)
        retry_after = parse_retry_after(record.retry_after) if status in (429, 503) else None
        retryable = retryable_status(status)
        return AttemptFailed(FailureKind.HTTP_STATUS, f"{self.host} answered {status}: {error}",
                             retryable=retryable, http_status=status, retry_after=retry_after)

    async def probe(self, *, timeout: float = 5.0) -> LLMHealth:
        """GET /api/tags within ``timeout`` and check that the configured model is pulled.

        Never raises for backend trouble: healthy / unreachable / timeout / model_missing /
        unauthorized / error, with latency on trio's clock.
        """
        start = trio.current_time()
        status, detail = HealthStatus.TIMEOUT, f"{self.host} did not answer /api/tags within {timeout:g}s"
        record = RequestRecord(connect=min(timeout, self.timeouts.connect))
        token = CURRENT.set(record)
        try:
            with trio.move_on_after(timeout):
                try:
                    listing = await self._client.list()
                except ollama.ResponseError as exc:
                    failure = self._status_failure(exc.status_code, str(exc.error), record)
                    status = (HealthStatus.UNAUTHORIZED if failure.kind is FailureKind.UNAUTHORIZED
                              else HealthStatus.ERROR)
                    detail = failure.detail
                except (httpx.TimeoutException,) as exc:
                    status, detail = HealthStatus.TIMEOUT, f"{self.host}: {type(exc).__name__}"
                except (httpx.TransportError, OSError) as exc:  # ollama turns ConnectError into ConnectionError
                    status, detail = HealthStatus.UNREACHABLE, f"cannot reach {self.host}: {type(exc).__name__}"
                except (json.JSONDecodeError, pydantic.ValidationError) as exc:
                    status, detail = HealthStatus.ERROR, f"{self.host}/api/tags is not a model list: {str(exc)[:200]}"
                else:
                    names = [m.model or "" for m in listing.models]
                    if any(_same_model(self._model, name) for name in names):
                        status, detail = HealthStatus.HEALTHY, f"model '{self._model}' is pulled on {self.host}"
                    else:
                        status = HealthStatus.MODEL_MISSING
                        detail = (f"model '{self._model}' is not pulled on {self.host}; "
                                  f"run `ollama pull {self._model}`")
        finally:
            CURRENT.reset(token)
        now = trio.current_time()
        return LLMHealth(backend=self.backend, status=status, latency=now - start, detail=detail, checked_at=now)

