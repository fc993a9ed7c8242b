"""What fake-ollama's model does beyond the fault plan: load into memory, and run away.

``ModelMemory`` is the server's memory of loaded models: with a profile ``load_time`` a model
starts unloaded; the first request (and the first after its ``keep_alive`` ran out) starts one
load of ``load_time`` seconds that every request arriving meanwhile waits for; each answered
request restarts the ``keep_alive`` clock. Without ``load_time`` every model counts as loaded.

``send_runaway`` answers a ``runaway`` request: a model looping under its grammar. Filler
streams :data:`RUNAWAY_TOKENS_PER_CHUNK` tokens per chunk, one chunk every ``chunk_interval``,
until the request's ``options.num_predict`` (then ``done_reason: "length"`` with
``eval_count`` = the cap), or, with no cap, until the client leaves.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import trio

from actors.fakes import ollama_replies as replies
from actors.fakes.h11_server import Exchange
from actors.fakes.ollama_profile import Profile

__all__ = ["RUNAWAY_TOKENS_PER_CHUNK", "ModelMemory", "load_only", "num_predict", "send_runaway"]

logger = logging.getLogger(__name__)

#: Filler tokens per streamed chunk of a runaway reply (a chunk every ``chunk_interval``).
RUNAWAY_TOKENS_PER_CHUNK = 16
#: The shortest wait between chunks of an uncapped runaway (it never ends by itself).
_RUNAWAY_MIN_INTERVAL = 0.01


class ModelMemory:
    """Which models are loaded and until when (trio clock); one load at a time per model."""

    def __init__(self) -> None:
        self._loaded_until: dict[str, float] = {}
        self._loading: dict[str, trio.Event] = {}
        self.nursery: trio.Nursery | None = None  # loads run here, so a client leaving does not stop one

    def clear(self) -> None:
        """Every model unloaded (a reset or a new profile)."""
        self._loaded_until.clear()

    def loaded(self, profile: Profile) -> list[str]:
        """What ``/api/ps`` lists: every model without ``load_time``, else those loaded now."""
        if profile.load_time <= 0:
            return list(profile.models)
        now = trio.current_time()
        return [m for m in profile.models if self._loaded_until.get(m, -1.0) > now]

    def touch(self, model: str, keep_alive: float) -> None:
        """An answered request: a loaded ``model`` stays for ``keep_alive`` seconds from now."""
        if model in self._loaded_until:
            self._loaded_until[model] = trio.current_time() + keep_alive

    async def load(self, model: str, profile: Profile, keep_alive: float) -> float:
        """Wait until ``model`` is loaded; returns the seconds this request waited (0 when warm)."""
        if profile.load_time <= 0 or self._loaded_until.get(model, -1.0) > trio.current_time():
            return 0.0
        start = trio.current_time()
        event = self._loading.get(model)
        if event is None:
            event = self._loading[model] = trio.Event()

            async def load() -> None:
                try:
                    await trio.sleep(profile.load_time)
                    self._loaded_until[model] = trio.current_time() + keep_alive
                    logger.info("model %s loaded in %.3fs", model, profile.load_time)
                finally:
                    del self._loading[model]
                    event.set()

            if self.nursery is not None:
                self.nursery.start_soon(load)
            else:
                await load()
        await event.wait()
        return trio.current_time() - start


def load_only(request: dict[str, Any], *, chat: bool) -> bool:
    """Nothing to generate: Ollama's way of asking for the model to be loaded (or kept loaded)."""
    if chat:
        return not request.get("messages")
    return not request.get("prompt") and not request.get("system")


def num_predict(request: dict[str, Any]) -> int | None:
    """The request's output cap in tokens, or None (absent, or Ollama's -1/-2: no cap)."""
    options = request.get("options")
    value = options.get("num_predict") if isinstance(options, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


async def send_runaway(ex: Exchange, profile: Profile, request: dict[str, Any], *, prompt: str, load: float,
                       chat: bool) -> None:
    """Filler until ``options.num_predict`` tokens, then ``done_reason: "length"``; uncapped: for ever."""
    model: str = request["model"]
    cap = num_predict(request)
    opening = replies.runaway_opening(request)
    began = time.monotonic()
    final = replies.chat_final if chat else replies.generate_final
    if request.get("stream", True) is False:
        if cap is None:
            await trio.sleep_forever()  # a reply that never ends is never sent whole
        text = opening + replies.runaway_piece(max(0, cap - 1))
        await trio.sleep(profile.chunk_interval * -(-cap // RUNAWAY_TOKENS_PER_CHUNK))
        now = time.monotonic()
        payload = final(model, content=text, generated=text, prompt=prompt, total=now - ex.record.start,
                        load=load, evaluating=now - began, eval_count=cap, done_reason="length")
        await ex.json(200, payload, "runaway")
        return
    chunk = replies.chat_chunk if chat else replies.generate_chunk
    await ex.head(200, "application/x-ndjson", first=json.dumps(chunk(model, opening)).encode() + b"\n")
    sent = 1
    interval = profile.chunk_interval if cap is not None else max(profile.chunk_interval, _RUNAWAY_MIN_INTERVAL)
    while cap is None or sent < cap:
        tokens = RUNAWAY_TOKENS_PER_CHUNK if cap is None else min(RUNAWAY_TOKENS_PER_CHUNK, cap - sent)
        await trio.sleep(interval)
        await ex.data(json.dumps(chunk(model, replies.runaway_piece(tokens))).encode() + b"\n")
        sent += tokens
    await trio.sleep(profile.chunk_interval)
    now = time.monotonic()
    last = final(model, content="", generated="", prompt=prompt, total=now - ex.record.start, load=load,
                 evaluating=now - began, eval_count=sent, done_reason="length")
    await ex.data(json.dumps(last).encode() + b"\n", last="runaway")
