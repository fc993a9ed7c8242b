"""ReasonedCancelScope records why it was cancelled."""

from __future__ import annotations

import pytest
import trio

from actors.runtime import ReasonedCancelScope


async def test_cancel_records_the_reason(autojump_clock):
    """cancel(reason) cancels the block and keeps the reason for later reading."""
    with ReasonedCancelScope() as scope:
        scope.cancel("breaker opened")
        await trio.sleep(10)
    assert scope.cancelled_caught
    assert scope.reason == "breaker opened"
    assert trio.current_time() == 0.0


async def test_first_reason_wins():
    """A later cancel() does not overwrite the first reason."""
    with ReasonedCancelScope() as scope:
        scope.cancel("phase deadline")
        scope.cancel("shutdown")
        await trio.sleep(1)
    assert scope.reason == "phase deadline"


async def test_deadline_expiry_reads_as_deadline_passed(autojump_clock):
    """A scope cancelled by its deadline reports 'deadline passed'."""
    with ReasonedCancelScope(deadline=trio.current_time() + 3) as scope:
        await trio.sleep(10)
    assert scope.cancelled_caught and scope.reason == "deadline passed"
    assert trio.current_time() == 3.0


async def test_uncancelled_scope_has_no_reason():
    """A block that ends normally has no reason."""
    with ReasonedCancelScope() as scope:
        await trio.sleep(0)
    assert (scope.cancel_called, scope.cancelled_caught, scope.reason) == (False, False, None)


@pytest.mark.skipif(not hasattr(trio.Cancelled, "reason"), reason="trio < 0.31 has no Cancelled.reason")
async def test_cancelled_code_sees_the_reason_on_the_exception():
    """The code being cancelled can read the reason from trio.Cancelled."""
    seen = []
    with ReasonedCancelScope() as scope:
        scope.cancel("circuit open")
        try:
            await trio.sleep(1)
        except trio.Cancelled as exc:
            seen.append(exc.reason)
            raise
    assert seen == ["circuit open"]


def test_cancel_requires_a_reason():
    """An empty reason is refused: the point is to say why."""
    with pytest.raises(ValueError, match="cancel reason must be a non-empty string"):
        ReasonedCancelScope().cancel("")
