"""The per-host token bucket, in virtual time."""

import pytest
import trio

from actors.providers.live.ratelimit import TokenBucket


async def test_a_burst_goes_at_once_then_requests_are_spaced_by_the_rate(autojump_clock):
    """burst 3 at 2/s: three at t=0, then one every 0.5 s."""
    bucket = TokenBucket(2.0, burst=3)
    times = []
    for _ in range(7):
        await bucket.acquire()
        times.append(round(trio.current_time(), 6))
    assert times == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0]


async def test_concurrent_waiters_never_exceed_the_rate(autojump_clock):
    """40 tasks at once through 4/s, burst 1: every 1-second window holds at most 4 starts (+1 at its edge)."""
    bucket = TokenBucket(4.0, burst=1)
    times: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        times.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        for _ in range(40):
            nursery.start_soon(one)
    times.sort()
    assert times[-1] == pytest.approx(39 / 4)
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t < start + 1.0 - 1e-9]
        assert len(in_window) <= 4


async def test_an_idle_bucket_refills_only_up_to_its_burst(autojump_clock):
    """After 10 s idle, a burst of 2 gets 2 immediate tokens, not 20."""
    bucket = TokenBucket(2.0, burst=2)
    await bucket.acquire()
    await trio.sleep(10)
    start = trio.current_time()
    for _ in range(3):
        await bucket.acquire()
    assert trio.current_time() - start == pytest.approx(0.5)


def test_bad_arguments_are_refused_naming_them():
    with pytest.raises(ValueError, match="rate must be > 0"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="burst must be >= 1"):
        TokenBucket(1.0, burst=0)
