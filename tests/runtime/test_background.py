"""open_background: a task beside a block, started before it and cancelled after it."""

import pytest
import trio

from actors.runtime import open_background


async def test_task_runs_during_the_block_and_is_cancelled_after(autojump_clock):
    """The block sees the started value; leaving it cancels the task with no time passing."""
    ticks = []

    async def ticker(*, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started("ready")
        while True:
            await trio.sleep(1)
            ticks.append(trio.current_time())

    async with open_background(ticker, reason="done") as value:
        assert value == "ready"
        await trio.sleep(3.5)
    assert ticks == [1.0, 2.0, 3.0]
    assert trio.current_time() == 3.5


async def test_block_error_comes_out_as_itself(autojump_clock):
    """An exception from the block is not wrapped in an ExceptionGroup."""
    async def idle(*, task_status=trio.TASK_STATUS_IGNORED):
        task_status.started()
        await trio.sleep_forever()

    with pytest.raises(KeyError, match="boom"):
        async with open_background(idle, reason="done"):
            raise KeyError("boom")
