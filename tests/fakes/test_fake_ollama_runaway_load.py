"""fake-ollama's runaway replies, cold model loads and usage counts, over real loopback sockets.

Real (short) time like the other fake-ollama tests: load times of 0.2-0.3 s.
"""

import json
import time

import httpx
import pytest

from actors.errors import ConfigError
from actors.fakes.ollama import _parser
from actors.fakes.ollama_model import RUNAWAY_TOKENS_PER_CHUNK
from actors.fakes.ollama_profile import Profile, plan_outcome
from actors.llm.keep_alive import keep_alive_seconds

from .test_fake_ollama import MODEL, chat_body, wait_for_log

TIMEOUT = httpx.Timeout(5.0)


def capped(body, num_predict):
    return {**body, "options": {"num_predict": num_predict}}


def stream_lines(client, body):
    with client.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200
        return [json.loads(line) for line in response.iter_lines() if line]


def test_runaway_streams_filler_until_num_predict_then_says_length(fake_ollama):
    """A runaway reply sends exactly num_predict tokens of filler, ends with done_reason 'length'."""
    fake_ollama.configure(script="runaway")
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        lines = stream_lines(client, capped(chat_body(), 100))
    *parts, final = lines
    assert not any(p["done"] for p in parts) and final["done"] is True
    assert final["done_reason"] == "length" and final["eval_count"] == 100
    text = "".join(p["message"]["content"] for p in parts)
    assert text.startswith('{"summary": "') and text.count(" and") == 99  # opening token + 99 fillers
    assert len(parts) == 1 + -(-99 // RUNAWAY_TOKENS_PER_CHUNK)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # cut off inside a string: never a valid reply
    assert [r.outcome for r in fake_ollama.requests()] == ["runaway"]


def test_runaway_without_a_cap_streams_until_the_client_leaves(fake_ollama):
    """With no num_predict, filler keeps coming (no final chunk); the log keeps 'runaway' with an end."""
    fake_ollama.configure(runaway=1.0)
    seen = 0
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        with client.stream("POST", "/api/chat", json=chat_body()) as response:
            started = time.monotonic()
            for line in response.iter_lines():
                if not line:
                    continue
                assert json.loads(line)["done"] is False
                seen += 1
                if time.monotonic() - started > 0.3:
                    break
    assert seen >= 10
    (record,) = wait_for_log(fake_ollama, lambda rs: rs and rs[0].end is not None)
    assert record.outcome == "runaway" and record.end is not None


def test_non_streaming_runaway_is_one_capped_object(fake_ollama):
    """stream: false with a cap answers one object: the filler, done_reason 'length', eval_count = cap."""
    fake_ollama.configure(script="runaway")
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        body = client.post("/api/chat", json=capped(chat_body(stream=False), 30)).json()
    assert (body["done_reason"], body["eval_count"]) == ("length", 30)
    assert body["message"]["content"].count(" and") == 29


def test_final_chunk_reports_usage_like_ollama(fake_ollama):
    """An ok reply's final chunk counts prompt and reply tokens and says done_reason 'stop'."""
    prompt = "Make the bull case for $AAPL." * 10
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        *parts, final = stream_lines(client, chat_body(prompt=prompt))
    content = "".join(p["message"]["content"] for p in parts)
    assert final["done_reason"] == "stop"
    assert final["prompt_eval_count"] == len(prompt) // 4 and final["eval_count"] == len(content) // 4
    assert final["eval_duration"] > 0 and final["load_duration"] == 0


def test_cold_load_is_waited_once_reported_and_listed_by_ps(fake_ollama):
    """With load_time, /api/ps is empty until the first request loads the model; only that one waits."""
    fake_ollama.configure(load_time=0.3)
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        assert client.get("/api/ps").json()["models"] == []
        started = time.monotonic()
        first = client.post("/api/chat", json=chat_body(stream=False)).json()
        first_took = time.monotonic() - started
        assert [m["name"] for m in client.get("/api/ps").json()["models"]] == [MODEL]
        second = client.post("/api/chat", json=chat_body(stream=False)).json()
    assert first_took >= 0.3 and first["load_duration"] >= 300_000_000
    assert second["load_duration"] == 0


def test_load_only_request_loads_without_using_a_script_entry(fake_ollama):
    """A generate with no prompt answers done_reason 'load' after the load; the script starts after it."""
    fake_ollama.configure(load_time=0.2, script="http_500,ok*")
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        load = client.post("/api/generate", json={"model": MODEL, "prompt": "", "keep_alive": "10m"}).json()
        chat = client.post("/api/chat", json=chat_body(stream=False))
    assert load["done_reason"] == "load" and load["load_duration"] >= 200_000_000
    assert chat.status_code == 500
    assert [r.outcome for r in fake_ollama.requests()] == ["load", "http_500"]


def test_keep_alive_zero_unloads_after_the_request(fake_ollama):
    """A request with keep_alive 0 leaves the model unloaded: the next request loads it again."""
    fake_ollama.configure(load_time=0.2)
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as client:
        client.post("/api/chat", json={**chat_body(stream=False), "keep_alive": 0})
        assert client.get("/api/ps").json()["models"] == []
        again = client.post("/api/chat", json=chat_body(stream=False)).json()
    assert again["load_duration"] >= 200_000_000


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 300.0), ("5m", 300.0), ("1h30m", 5400.0), ("300ms", 0.3), ("45", 45.0), (10, 10.0),
     (0, 0.0), ("-1", float("inf")), (-1, float("inf")), ("soon", 300.0)],
)
def test_keep_alive_reads_like_ollama(value, seconds):
    """keep_alive: seconds, Go durations, negative = for ever, unreadable = Ollama's five minutes."""
    assert keep_alive_seconds(value) == pytest.approx(seconds)


def test_runaway_is_a_scriptable_fault_drawn_last():
    """'runaway*3,ok*' scripts it; as a probability it is drawn after the older faults (seeds keep them)."""
    profile = Profile(script="runaway*3,ok*")
    assert [plan_outcome(profile, n) for n in range(5)] == ["runaway"] * 3 + ["ok"] * 2
    older = Profile(seed=7, http_500=0.2)
    newer = Profile(seed=7, http_500=0.2, runaway=0.3)
    outcomes = [plan_outcome(newer, n) for n in range(300)]
    assert all(plan_outcome(older, n) == "http_500" for n, o in enumerate(outcomes) if o == "http_500")
    assert 60 <= outcomes.count("runaway") <= 120
    with pytest.raises(ConfigError, match="add up to"):
        Profile(http_500=0.8, runaway=0.3)


def test_profile_flags_round_trip_runaway_and_load_time():
    """The new keys travel as --runaway / --load-time flags (what FakeOllama hands the subprocess)."""
    profile = Profile(runaway=0.25, load_time=1.5)
    argv = profile.to_argv()
    assert argv == ["--load-time", "1.5", "--runaway", "0.25"]
    args = vars(_parser().parse_args(argv))
    assert (args["load_time"], args["runaway"]) == (1.5, 0.25)
