"""The fake Ollama server over real loopback sockets: endpoints, formats, faults, script, log, control.

These talk to a real subprocess, so they use real (short) time: latencies of 0.01-0.05 s and
client timeouts of 0.3 s.
"""

import contextlib
import json
import time

import h11
import httpx
import ollama
import pytest
import trio

from actors.errors import ConfigError
from actors.fakes.ollama_schema import violations

from .test_fake_ollama_schema import THESIS

SCHEMA = {
    "type": "object",
    "properties": {
        "stance": {"type": "string", "enum": ["bullish", "bearish", "neutral"]},
        "conviction": {"type": "number", "minimum": 0, "maximum": 1},
        "key_points": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["stance", "conviction", "key_points"],
}
MODEL = "llama3.1:8b"
SHORT = httpx.Timeout(0.3)


def chat_body(*, stream=True, fmt=SCHEMA, model=MODEL, prompt="Make the bull case for $AAPL."):
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream}
    if fmt is not None:
        body["format"] = fmt
    return body


async def stream_chat(url, body=None, timeout=SHORT):
    """POST /api/chat and return (status, headers, parsed NDJSON lines)."""
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        async with client.stream("POST", "/api/chat", json=body or chat_body()) as response:
            lines = [json.loads(line) async for line in response.aiter_lines() if line]
            return response.status_code, response.headers, lines


def wait_for_log(fake, predicate, timeout=3.0):
    """The request log once ``predicate(records)`` holds (the server notes a client leaving a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        records = fake.requests()
        if predicate(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def test_root_version_tags_and_ps(fake_ollama):
    """The read-only endpoints answer like Ollama and list the configured model."""
    with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
        assert client.get("/").text == "Ollama is running"
        assert "version" in client.get("/api/version").json()
        (tag,) = client.get("/api/tags").json()["models"]
        assert tag["name"] == MODEL and tag["model"] == MODEL
        assert {"modified_at", "size", "digest", "details"} <= set(tag)
        (loaded,) = client.get("/api/ps").json()["models"]
        assert loaded["name"] == MODEL and "expires_at" in loaded


def test_tags_lists_models_set_at_runtime(fake_ollama):
    """configure(models=...) changes what /api/tags lists."""
    fake_ollama.configure(models=["qwen2.5:7b", "phi3"])
    names = [m["name"] for m in httpx.get(fake_ollama.url + "/api/tags", timeout=SHORT).json()["models"]]
    assert names == ["qwen2.5:7b", "phi3"]


async def test_streamed_chat_is_ndjson_whose_content_fits_the_schema(fake_ollama):
    """Several done:false chunks, then done:true; the joined content parses and fits the schema."""
    status, headers, lines = await stream_chat(fake_ollama.url)
    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    *chunks, final = lines
    assert len(chunks) == 4 and all(c["done"] is False and c["model"] == MODEL for c in chunks)
    assert all(c["message"]["role"] == "assistant" for c in chunks)
    assert final["done"] is True and final["done_reason"] == "stop"
    assert {"total_duration", "load_duration", "prompt_eval_count", "eval_count", "eval_duration"} <= set(final)
    document = json.loads("".join(c["message"]["content"] for c in chunks))
    assert violations(document, SCHEMA) == []
    assert document["key_points"][0] == "Synthetic key point 1 about AAPL"


def test_non_streaming_chat_is_one_object(fake_ollama):
    """stream:false gives one JSON object with the whole content and the done fields."""
    response = httpx.post(fake_ollama.url + "/api/chat", json=chat_body(stream=False), timeout=SHORT)
    body = response.json()
    assert response.headers["content-length"] == str(len(response.content))
    assert body["done"] is True and body["message"]["role"] == "assistant"
    assert violations(json.loads(body["message"]["content"]), SCHEMA) == []


def test_generate_answers_with_response_text(fake_ollama):
    """/api/generate streams 'response' pieces of plain text about the prompt's ticker."""
    with httpx.stream("POST", fake_ollama.url + "/api/generate", timeout=SHORT,
                      json={"model": MODEL, "prompt": "Thoughts on MSFT?"}) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert "".join(line["response"] for line in lines).startswith("Synthetic reply 1 about MSFT.")
    assert lines[-1]["done"] is True and "context" in lines[-1]


async def test_ollama_client_streams_a_schema_reply_under_trio(fake_ollama):
    """The real ollama.AsyncClient parses the stream; the content fits the schema."""
    client = ollama.AsyncClient(host=fake_ollama.url, timeout=2.0)
    try:
        parts = []
        stream = await client.chat(model=MODEL, messages=[{"role": "user", "content": "Bear case for $TSLA"}],
                                   format=THESIS, stream=True)
        async with contextlib.aclosing(stream):
            async for part in stream:
                parts.append(part)
        whole = await client.chat(model=MODEL, messages=[{"role": "user", "content": "TSLA"}], format="json")
    finally:
        await client.close()
    assert parts[-1].done and parts[-1].done_reason == "stop" and parts[-1].eval_count > 0
    document = json.loads("".join(p.message.content for p in parts))
    assert violations(document, THESIS) == [] and "TSLA" in document["summary"]
    assert json.loads(whole.message.content)["subject"] == "TSLA"


async def test_ollama_client_reports_missing_model(fake_ollama):
    """A model that is not listed gives 404 with Ollama's message, as ollama.ResponseError."""
    client = ollama.AsyncClient(host=fake_ollama.url, timeout=2.0)
    try:
        with pytest.raises(ollama.ResponseError) as caught:
            await client.chat(model="mistral:7b", messages=[{"role": "user", "content": "hi"}])
    finally:
        await client.close()
    assert caught.value.status_code == 404
    assert caught.value.error == 'model "mistral:7b" not found, try pulling it first'


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [("http_500", 500, None), ("http_503", 503, "7"), ("http_429", 429, "7"), ("model_missing", 404, None)],
)
def test_http_faults_answer_with_status_error_and_retry_after(fake_ollama, fault, status, retry_after):
    """Each HTTP fault gives its status, an {'error'} body and Retry-After where it belongs."""
    fake_ollama.configure(**{fault: 1.0}, retry_after=7)
    response = httpx.post(fake_ollama.url + "/api/chat", json=chat_body(), timeout=SHORT)
    assert response.status_code == status
    assert response.json()["error"]
    assert response.headers.get("retry-after") == retry_after
    assert fake_ollama.requests()[-1].outcome == fault


async def test_malformed_replies_do_not_fit_the_schema(fake_ollama):
    """With malformed=1 every reply is invalid JSON or breaks the schema."""
    fake_ollama.configure(malformed=1.0)
    for _ in range(6):
        status, _, lines = await stream_chat(fake_ollama.url)
        content = "".join(line["message"]["content"] for line in lines)
        assert status == 200 and lines[-1]["done"] is True
        try:
            problems = violations(json.loads(content), SCHEMA)
        except ValueError:
            continue
        assert problems, content


async def test_stall_sends_some_chunks_then_goes_silent_on_an_open_socket(fake_ollama):
    """After stall_after chunks no byte arrives for longer than the client waits, and no EOF either."""
    fake_ollama.configure(stall=1.0, stall_after=2, chunk_interval=0.01)
    host, port = fake_ollama.url.rsplit("/", 1)[1].split(":")
    conn = h11.Connection(h11.CLIENT)
    body = json.dumps(chat_body()).encode()
    headers = [("Host", host), ("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    received = b""
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(conn.send(h11.Request(method="POST", target="/api/chat", headers=headers))
                              + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
        with trio.move_on_after(2.0):
            while received.count(b"\n") < 2:
                conn.receive_data(await stream.receive_some(65536))
                while isinstance(event := conn.next_event(), (h11.Response, h11.Data)):
                    received += bytes(event.data) if isinstance(event, h11.Data) else b""
        with trio.move_on_after(0.3) as quiet:
            more = await stream.receive_some(65536)  # b"" would mean the server closed
        assert quiet.cancelled_caught, f"got {more!r} during the stall"
        (record,) = fake_ollama.requests()
        assert record.outcome == "stall" and record.end is None
    lines = [json.loads(line) for line in received.splitlines()]
    assert [line["done"] for line in lines] == [False, False]
    (record,) = wait_for_log(fake_ollama, lambda rs: rs[0].end is not None)
    assert record.outcome == "stall" and record.duration >= 0.3


async def test_drop_closes_the_socket_mid_stream(fake_ollama):
    """After stall_after chunks the server closes the connection: the client sees a broken stream."""
    fake_ollama.configure(drop=1.0, stall_after=1)
    got = []
    async with httpx.AsyncClient(base_url=fake_ollama.url, timeout=SHORT) as client:
        async with client.stream("POST", "/api/chat", json=chat_body()) as response:
            with pytest.raises(httpx.RemoteProtocolError):
                async for line in response.aiter_lines():
                    got.append(json.loads(line))
    assert len(got) == 1 and got[0]["done"] is False
    (record,) = fake_ollama.requests()
    assert record.outcome == "drop" and record.end is not None


def test_dropped_non_streaming_reply_is_cut_short(fake_ollama):
    """stream:false with drop sends half of the declared body, then closes."""
    fake_ollama.configure(drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(fake_ollama.url + "/api/chat", json=chat_body(stream=False), timeout=SHORT)


async def test_hang_reads_the_request_and_never_answers(fake_ollama):
    """No response head arrives; the log shows the hang, ended when the client gives up."""
    fake_ollama.configure(hang=1.0)
    started = trio.current_time()
    with pytest.raises(httpx.ReadTimeout):
        await stream_chat(fake_ollama.url)
    assert trio.current_time() - started >= 0.3
    (record,) = wait_for_log(fake_ollama, lambda rs: rs[0].end is not None)
    assert (record.outcome, record.status, record.model) == ("hang", None, MODEL)


def test_script_decides_outcomes_in_request_order(fake_ollama):
    """ok*2,http_500,http_429,ok* gives 200,200,500,429,200,200 and restarts after configure."""
    fake_ollama.configure(script="ok*2,http_500,http_429,ok*")
    with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
        statuses = [client.post("/api/chat", json=chat_body(stream=False)).status_code for _ in range(6)]
        fake_ollama.configure(script="http_503,ok*")
        restarted = client.post("/api/chat", json=chat_body(stream=False)).status_code
    assert statuses == [200, 200, 500, 429, 200, 200]
    assert restarted == 503
    assert [r.outcome for r in fake_ollama.requests()][:4] == ["ok", "ok", "http_500", "http_429"]


def test_same_seed_gives_same_outcomes_and_content(fake_ollama):
    """After a reset the same seed replays the same outcomes and the same replies."""

    def run():
        fake_ollama.configure(seed=42, http_500=0.3, malformed=0.3)
        with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
            return [(r.status_code, r.text.split('"created_at"')[0], r.json().get("message", {}).get("content"))
                    for r in (client.post("/api/chat", json=chat_body(stream=False)) for _ in range(8))]

    first, second = run(), run()
    assert first == second
    assert {status for status, _, _ in first} == {200, 500}
    fake_ollama.configure(seed=43, http_500=0.3, malformed=0.3)
    with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
        other = [client.post("/api/chat", json=chat_body(stream=False)) for _ in range(8)]
    assert [(r.status_code, r.json().get("message", {}).get("content")) for r in other] != [
        (s, c) for s, _, c in first
    ]


def test_request_log_records_outcomes_and_timings(fake_ollama):
    """Each request has id, path, model, status, outcome and monotonic start/end spanning its latency."""
    fake_ollama.configure(latency_first=0.05, chunk_interval=0.01, script="ok,http_500")
    before = time.monotonic()
    with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
        client.get("/api/tags")
        client.post("/api/chat", json=chat_body())
        client.post("/api/chat", json=chat_body())
    after = time.monotonic()
    tags, ok, failed = fake_ollama.requests()
    assert [r.id for r in (tags, ok, failed)] == [0, 1, 2]
    assert (tags.path, tags.model, tags.outcome) == ("/api/tags", None, "ok")
    assert (ok.path, ok.model, ok.status, ok.outcome) == ("/api/chat", MODEL, 200, "ok")
    assert (failed.status, failed.outcome) == (500, "http_500")
    assert before <= tags.start <= ok.start <= failed.start <= after
    assert ok.duration >= 0.05 + 4 * 0.01
    assert failed.duration >= 0.05


async def test_client_leaving_early_is_logged_as_cancelled(fake_ollama):
    """A client that times out before the answer is logged cancelled_by_client, with an end time."""
    fake_ollama.configure(latency_first=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await stream_chat(fake_ollama.url, timeout=httpx.Timeout(0.1))
    (record,) = wait_for_log(fake_ollama, lambda rs: rs[0].end is not None)
    assert record.outcome == "cancelled_by_client"
    assert 0.05 <= record.duration < 1.0


async def test_control_endpoints_answer_during_hang_all(fake_ollama):
    """With hang_all, /api/tags and / hang but the log, config and reset still answer."""
    fake_ollama.configure(hang_all=True)
    async with httpx.AsyncClient(base_url=fake_ollama.url, timeout=SHORT) as client:
        for path in ("/api/tags", "/"):
            with pytest.raises(httpx.ReadTimeout):
                await client.get(path)
    records = fake_ollama.requests()
    assert [r.outcome for r in records] == ["hang", "hang"]
    fake_ollama.reset()
    assert httpx.get(fake_ollama.url + "/api/tags", timeout=SHORT).status_code == 200


def test_tags_hang_leaves_other_endpoints_alone(fake_ollama):
    """tags_hang makes /api/tags hang while chat still answers."""
    fake_ollama.configure(tags_hang=True)
    with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/api/tags")
        assert client.post("/api/chat", json=chat_body(stream=False)).status_code == 200


def test_keep_alive_serves_several_requests_on_one_connection(fake_ollama):
    """Three requests on one socket get three answers (h11 client over a raw connection)."""
    import socket

    host, port = fake_ollama.url.rsplit("/", 1)[1].split(":")
    conn = h11.Connection(h11.CLIENT)
    statuses = []
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        for path in ("/api/version", "/api/tags", "/"):
            sock.sendall(conn.send(h11.Request(method="GET", target=path, headers=[("Host", host)])))
            sock.sendall(conn.send(h11.EndOfMessage()))
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(sock.recv(65536))
                elif isinstance(event, h11.Response):
                    statuses.append(event.status_code)
                elif isinstance(event, h11.EndOfMessage):
                    break
            conn.start_next_cycle()
    assert statuses == [200, 200, 200]


def test_bad_requests_get_400_and_unknown_paths_404(fake_ollama):
    """A body that is not a chat request is refused with a message; unknown paths are 404."""
    with httpx.Client(base_url=fake_ollama.url, timeout=SHORT) as client:
        bad = client.post("/api/chat", content=b"{not json")
        no_model = client.post("/api/chat", json={"messages": []})
        bad_schema = client.post("/api/chat", json=chat_body(fmt={"$ref": "#/$defs/Missing"}))
        missing = client.get("/api/nothing")
    assert bad.status_code == 400 and "invalid request" in bad.json()["error"]
    assert no_model.status_code == 400 and "'model'" in no_model.json()["error"]
    assert bad_schema.status_code == 400 and "points at nothing" in bad_schema.json()["error"]
    assert missing.status_code == 404


def test_bad_runtime_config_is_refused_and_keeps_the_profile(fake_ollama):
    """POST /_fake/config with a bad value answers 400 naming the key; the old profile stays."""
    fake_ollama.configure(latency_first=0.02)
    with pytest.raises(ConfigError, match="http_503 must be a probability"):
        fake_ollama.configure(http_503=3)
    assert fake_ollama.current_profile()["latency_first"] == 0.02


async def test_server_runs_in_process_and_counts_outcomes():
    """FakeOllamaServer.serve reports its port; statistics() counts requests by outcome."""
    from actors.fakes.ollama import FakeOllamaServer
    from actors.fakes.ollama_profile import Profile

    server = FakeOllamaServer(Profile(script="ok,http_500"))
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=SHORT) as client:
            statuses = [(await client.post("/api/chat", json=chat_body(stream=False))).status_code for _ in range(2)]
        nursery.cancel_scope.cancel()
    stats = server.statistics()
    assert statuses == [200, 500]
    assert (stats.requests, stats.in_flight, stats.outcomes) == (2, 0, (("http_500", 1), ("ok", 1)))
