"""FailureKind semantics and the CallOutcome invariant."""

from __future__ import annotations

import pytest

from actors.llm import CallOutcome, FailureKind


def test_timeout_kinds():
    """Exactly the four budget kinds are timeouts."""
    assert {k.value for k in FailureKind if k.is_timeout} == {"timeout_connect", "timeout_first_chunk", "stall",
                                                             "deadline"}


def test_values_are_the_stored_strings():
    """The enum values are the strings persisted in AgentOutcome.failure."""
    assert FailureKind("model_missing") is FailureKind.MODEL_MISSING
    assert [k.value for k in FailureKind][:4] == ["timeout_connect", "timeout_first_chunk", "stall", "deadline"]


@pytest.mark.parametrize(("value", "failure"), [(None, None), ("x", FailureKind.STALL)])
def test_outcome_needs_exactly_one_of_value_and_failure(value, failure):
    """Both or neither of value/failure is a programming error."""
    with pytest.raises(ValueError, match="exactly one of value and failure"):
        CallOutcome(value=value, failure=failure, attempts=1, parse_failures=0, latency=0.0, model="m", backend="b")


def test_ok_outcome():
    """A value makes the outcome ok and frozen."""
    outcome = CallOutcome(value=1, failure=None, attempts=1, parse_failures=0, latency=0.5, model="m", backend="b")
    assert outcome.ok
    with pytest.raises(AttributeError):
        outcome.value = 2  # type: ignore[misc]
