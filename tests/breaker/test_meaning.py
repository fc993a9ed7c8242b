"""What each failure kind means for the breaker (the LLM layer's one source of truth), and the
per-attempt message the retry loop sends."""

from __future__ import annotations

import pytest
import trio

from actors.llm import ChatMessage
from actors.llm.outcome import FailureKind, attempt_outcome
from messages.debate import Thesis
from messages.llm import AttemptOutcome, BreakerMeaning
from tests.debate.fakes import MockOllama, ollama_client, settings

K, M = FailureKind, BreakerMeaning

EXPECTED = {
    K.TIMEOUT_CONNECT: M.NOT_RESPONDING,
    K.TIMEOUT_FIRST_CHUNK: M.NOT_RESPONDING,
    K.STALL: M.NOT_RESPONDING,
    K.DEADLINE: M.NOT_RESPONDING,
    K.UNREACHABLE: M.NOT_RESPONDING,
    K.PROTOCOL_ERROR: M.NOT_RESPONDING,
    K.HTTP_STATUS: M.ANSWERED_ERROR,
    K.MODEL_MISSING: M.FATAL,
    K.UNAUTHORIZED: M.FATAL,
    K.INVALID_OUTPUT: M.ANSWERED_INVALID,
    K.TRUNCATED: M.ANSWERED_INVALID,
    K.CANCELLED: M.NEUTRAL,
}


class TestBreakerMeaning:
    def test_every_kind_has_its_meaning(self):
        """Each FailureKind (a new one included: the table must list it) maps to its meaning."""
        assert set(EXPECTED) == set(FailureKind)
        assert {kind: kind.breaker_meaning() for kind in FailureKind} == EXPECTED

    @pytest.mark.parametrize(
        ("status", "meaning"),
        [(500, M.ANSWERED_ERROR), (502, M.ANSWERED_ERROR), (503, M.ANSWERED_ERROR), (529, M.ANSWERED_ERROR),
         (429, M.ANSWERED_ERROR), (408, M.ANSWERED_ERROR), (None, M.ANSWERED_ERROR), (200, M.ANSWERED_ERROR),
         (400, M.REQUEST_WRONG), (404, M.REQUEST_WRONG), (413, M.REQUEST_WRONG), (422, M.REQUEST_WRONG)],
    )
    def test_http_status_meaning_follows_the_status(self, status, meaning):
        """5xx, 529, 429, 408, unknown or mid-stream (200): answered error; any other 4xx: request wrong."""
        assert K.HTTP_STATUS.breaker_meaning(status) is meaning

    def test_which_meanings_are_answers(self):
        """Answered, answered error, answered invalid and request wrong are answers; the rest are not."""
        assert {m for m in BreakerMeaning if m.server_answered} == {
            M.ANSWERED, M.ANSWERED_ERROR, M.ANSWERED_INVALID, M.REQUEST_WRONG
        }


class TestAttemptOutcome:
    def test_a_valid_reply_is_answered(self):
        """attempt_outcome(None) is the success message: no kind, meaning answered."""
        assert attempt_outcome(None) == AttemptOutcome(kind=None, meaning=M.ANSWERED)
        assert attempt_outcome(None).label == "answered"

    def test_a_failure_carries_kind_status_meaning_and_detail(self):
        """A 503 attempt carries its status and says answered_error; its label shows the code."""
        outcome = attempt_outcome(K.HTTP_STATUS, http_status=503, detail="overloaded")
        assert (outcome.kind, outcome.http_status, outcome.meaning, outcome.detail) == (
            "http_status", 503, M.ANSWERED_ERROR, "overloaded"
        )
        assert outcome.label == "http_status 503"

    def test_a_status_outside_http_range_is_unknown(self):
        """ollama's -1 (an error line mid-stream) is reported without a status."""
        assert attempt_outcome(K.HTTP_STATUS, http_status=-1).http_status is None

    def test_bad_fields_name_themselves(self):
        """A wrong meaning type or an impossible status is refused, naming the field."""
        with pytest.raises(TypeError, match="meaning"):
            AttemptOutcome(kind="stall", meaning="not_responding")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"AttemptOutcome.http_status must be an HTTP status \(100-599\)"):
            AttemptOutcome(kind="http_status", meaning=M.ANSWERED_ERROR, http_status=1000)
        with pytest.raises(TypeError):
            AttemptOutcome("stall", M.NOT_RESPONDING)  # type: ignore[misc]  # keyword-only


async def test_the_retry_loop_reports_every_attempt_as_it_ends(autojump_clock):
    """500, then a reply that does not parse, then a valid one: three messages, in order, each at its end."""
    server = MockOllama(latency_first=0.2, plan=lambda n: ("http_500", "prose", "ok")[n])
    seen: list[tuple[float, AttemptOutcome]] = []
    client = ollama_client(settings(ai_retry_delays=(0.2,)), lambda o: seen.append((trio.current_time(), o)), server)
    try:
        outcome = await client.complete([ChatMessage("user", "Ticker: AAPL")], Thesis)
    finally:
        await client.aclose()
    assert outcome.ok and outcome.attempts == 3
    assert [(o.kind, o.http_status, o.meaning) for _, o in seen] == [
        ("http_status", 500, M.ANSWERED_ERROR),
        ("invalid_output", None, M.ANSWERED_INVALID),
        (None, None, M.ANSWERED),
    ]
    # 0.2 s reply, 0.2 s backoff, 0.2 s reply, an immediate parse retry, 0.2 s reply (jitter within 10 %)
    times = [t for t, _ in seen]
    assert times[0] == pytest.approx(0.2) and times[1] == pytest.approx(0.6, abs=0.021)
    assert times[2] - times[1] == pytest.approx(0.2)
