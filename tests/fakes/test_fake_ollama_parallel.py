"""``parallel`` (like ``OLLAMA_NUM_PARALLEL``): N generation requests served at once, the rest queue.

The server runs in process under virtual time (``FakeOllamaServer.serve`` on a loopback port),
except one test through the ``bin/fake-ollama`` subprocess and its ``--parallel`` flag.
"""

import functools
import subprocess
import sys

import httpx
import pytest
import trio

from actors.errors import ConfigError
from actors.fakes.ollama import FakeOllamaServer
from actors.fakes.ollama_profile import Profile
from actors.fakes.ollama_testing import FakeOllama

from .test_fake_ollama import chat_body


async def _first_chunk_times(url: str, n: int, *, path="/api/chat", timeout=60.0) -> list[float]:
    """Send ``n`` streamed chats at once; when (trio clock) each one's first line arrived."""
    start = trio.current_time()
    times: list[float] = [0.0] * n

    async def one(i: int, client: httpx.AsyncClient) -> None:
        async with client.stream("POST", path, json=chat_body()) as response:
            async for line in response.aiter_lines():
                if line and not times[i]:
                    times[i] = trio.current_time() - start

    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        async with trio.open_nursery() as nursery:
            for i in range(n):
                nursery.start_soon(one, i, client)
                await trio.sleep(0.001)  # a fixed arrival order
    return times



@pytest.mark.parametrize("parallel, expected", [(1, [1, 2, 3, 4]), (2, [1, 1, 2, 2]), (0, [1, 1, 1, 1])])
async def test_parallel_serves_n_at_once_and_queues_the_rest(autojump_clock, parallel, expected):
    """With 1 s per reply, the k-th queued request's first byte comes k rounds later; 0 means no limit."""
    server = FakeOllamaServer(Profile(latency_first=1.0, parallel=parallel))
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve)
        times = await _first_chunk_times(f"http://127.0.0.1:{port}", 4)
        nursery.cancel_scope.cancel()
    assert [round(t) for t in times] == expected
    queued = [round(r["queued"]) for r in server.request_log()]
    assert queued == [e - 1 for e in expected]


async def test_a_client_leaving_the_queue_frees_its_place(autojump_clock):
    """A queued request whose client gives up never takes a slot; the next one is served in its turn."""
    server = FakeOllamaServer(Profile(latency_first=1.0, parallel=1))
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            async with trio.open_nursery() as inner:
                inner.start_soon(functools.partial(client.post, "/api/chat", json=chat_body(stream=False)))
                await trio.sleep(0.001)
                with trio.move_on_after(0.5):  # leaves while queued
                    await client.post("/api/chat", json=chat_body(stream=False))
                started = trio.current_time()
                third = await client.post("/api/chat", json=chat_body(stream=False))
                assert third.status_code == 200
                assert trio.current_time() - started == pytest.approx(1.5, abs=0.01)  # waits 0.5, serves 1
        nursery.cancel_scope.cancel()
    outcomes = [r["outcome"] for r in server.request_log()]
    assert outcomes == ["ok", "cancelled_by_client", "ok"]


async def test_raising_parallel_at_runtime_admits_the_waiting(autojump_clock):
    """POST /_fake/config with a larger ``parallel`` lets queued requests start at once."""
    server = FakeOllamaServer(Profile(latency_first=1.0, parallel=1))
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve)
        url = f"http://127.0.0.1:{port}"

        async def widen() -> None:
            await trio.sleep(0.5)
            server.configure({"latency_first": 1.0, "parallel": 4})

        nursery.start_soon(widen)
        times = await _first_chunk_times(url, 4)
        nursery.cancel_scope.cancel()
    assert [round(t, 1) for t in times] == [1.0, 1.5, 1.5, 1.5]


async def test_tags_and_missing_models_never_queue(autojump_clock):
    """/api/tags and a 404 for an unknown model answer while every slot is busy."""
    server = FakeOllamaServer(Profile(latency_first=0.0, parallel=1, script="hang*"))
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            async with trio.open_nursery() as inner:
                inner.start_soon(functools.partial(client.post, "/api/chat", json=chat_body(stream=False)))  # hangs
                await trio.sleep(0.01)
                assert (await client.get("/api/tags")).status_code == 200
                missing = await client.post("/api/chat", json=chat_body(stream=False, model="nope:1b"))
                assert missing.status_code == 404
                inner.cancel_scope.cancel()
        nursery.cancel_scope.cancel()


def test_parallel_must_not_be_negative():
    """A negative ``parallel`` is refused, naming the key."""
    with pytest.raises(ConfigError, match="parallel must be an integer >= 0"):
        Profile.from_mapping({"parallel": -1})


def test_cli_flag_reaches_the_subprocess():
    """``bin/fake-ollama --parallel 2`` (through ``FakeOllama(parallel=2)``) serves two at once."""
    with FakeOllama(parallel=2, latency_first=0.2) as fake:
        async def main() -> list[float]:
            return await _first_chunk_times(fake.url, 3, timeout=5)

        trio.run(main)
        assert fake.current_profile()["parallel"] == 2
        queued = sorted(r.queued for r in fake.requests())
    assert queued[0] < 0.05 and queued[1] < 0.05
    assert 0.1 < queued[2] < 0.5


def test_help_mentions_parallel():
    """``--help`` documents the flag."""
    out = subprocess.run([sys.executable, "-m", "actors.fakes.ollama", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "--parallel N" in out and "OLLAMA_NUM_PARALLEL" in out
