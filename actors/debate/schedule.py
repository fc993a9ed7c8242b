"""Which agent step of which debate runs next: the debate phase's schedule (pure: no trio, no I/O).

A debate is a chain of ``steps`` agent calls (bull → bear → risk); a step is *ready* when the
previous step of its ticker has finished. The pool asks :meth:`DebateSchedule.next_step` each
time it holds a free LLM slot, and reports back with :meth:`~DebateSchedule.step_finished` /
:meth:`~DebateSchedule.close`. The rule, in terms of remaining steps and slots only:

1. *Plan the current round.* Steps in flight that started before now are counted as done (their
   slot is about to come back); steps started at this very instant are this round's picks.
   ``W`` is the number of steps left, ``r_max`` the longest chain left, ``c`` the slot count
   (the concurrency limiter's current limit). The remaining work ends no sooner than
   ``T = max(r_max, ceil(W / c))`` step times from now.
2. *Latest start.* A chain whose remaining steps equal ``T`` is critical: were it to wait one
   more step, the end would move. That happens only when the remaining work can no longer fill
   every slot to the end (``W <= c * r_max``); critical chains go first — this is when a
   not-yet-started ticker is promoted over finishing a started one.
3. *Finish what was started first.* The other slots go depth-first: started debates by rank,
   then new tickers by rank.
4. *Deadline.* Once step latency is known (median of finished steps) and the phase deadline
   leaves ``R < T`` step times, the plan is to finish as many debates as fit by the deadline:
   it targets the set ``K`` of chains with the fewest remaining steps (started ones first, then
   by rank) such that every chain of ``K`` fits in ``R`` steps and ``K``'s work fits in ``c * R``
   slots; rule 2 runs with ``T = R`` over ``K``. Slots that ``K`` cannot use still take work.

Guarantee, with a healthy LLM whose calls all take the same time ``L``, ``n`` debates on ``c``
slots and a phase deadline ``D`` (whatever the order in which simultaneous completions are
reported; checked for n = 1..30, c = 1..8 and many deadlines in ``tests/debate``):

- every slot is busy while a step is ready (work-conserving);
- when ``D`` allows it, the phase ends after exactly ``max(3, ceil(3n / c))`` step times — the
  lower bound (depth-first needs ``3 * ceil(n / c)``);
- by ``D``, at least ``min(n, c * floor(D / 3L))`` debates have completed: never fewer than
  depth-first (one worker per debate, bull → bear → risk), and often more.

A schedule that ignores the deadline cannot give both: for 10 tickers on 3 slots, finishing in
10 step times leaves at most 7 debates done after 9, where depth-first has 9. With varying
latencies the rule is a heuristic: it never idles a slot that has a ready step, and it never
reorders a started debate behind a new one unless the end (or the deadline) requires it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
import statistics

import attrs

__all__ = ["DebateSchedule"]

#: Rounding slack when turning time left into whole step times (virtual time is exact).
_EPSILON = 1e-9


@attrs.define
class _Chain:
    """One debate's progress (mutable, owned by the schedule)."""

    rank: int
    done: int = 0
    in_flight_since: float | None = None
    closed: bool = False


class DebateSchedule:
    """The step order of one debate phase (see the module docstring).

    ``count`` debates of ``steps`` steps each, in rank order (index 0 is the best-ranked);
    ``deadline`` is the phase's end on the caller's clock, or None.

    Raises:
        ValueError: ``count`` < 0 or ``steps`` < 1.
    """

    def __init__(
        self, count: int, *, steps: int = 3, deadline: float | None = None, done: Sequence[int] | None = None
    ) -> None:
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        done = [0] * count if done is None else list(done)
        if len(done) != count or any(not 0 <= d <= steps for d in done):
            raise ValueError(f"done must give 0..{steps} finished steps for each of the {count} debates, got {done}")
        self.steps = steps
        self.deadline = deadline
        # A resumed debate starts after its saved steps; one with every step saved is closed.
        self._chains = [_Chain(rank=i, done=d, closed=d >= steps) for i, d in enumerate(done)]
        self._latencies: list[float] = []

    # -- reading ------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True when every debate has ended (all steps done, failed or closed)."""
        return all(c.closed for c in self._chains)

    @property
    def in_flight(self) -> int:
        return sum(1 for c in self._chains if c.in_flight_since is not None)

    def started(self, index: int) -> bool:
        """True once debate ``index`` has had a step start."""
        chain = self._chains[index]
        return chain.done > 0 or chain.in_flight_since is not None

    def step_of(self, index: int) -> int:
        """The step debate ``index`` runs next (or is running): 0 for the first."""
        return self._chains[index].done

    def unstarted(self) -> int:
        """Debates not started and not closed."""
        return sum(1 for c in self._chains if not c.closed and not self.started(c.rank))

    def step_latency(self) -> float | None:
        """The median duration of finished steps, or None before the first one."""
        return statistics.median(self._latencies) if self._latencies else None

    # -- changing -----------------------------------------------------------------------------

    def next_step(self, now: float, slots: int) -> int | None:
        """The debate whose next step should take a free slot now (marked in flight), or None.

        None means no step is ready: every open debate has a step in flight.
        """
        slots = max(1, slots)
        ready = [c for c in self._chains if not c.closed and c.in_flight_since is None]
        if not ready:
            return None
        plan = self._plan(now, slots)
        picked = next((c for c in plan if c in ready), None)
        if picked is None:  # the plan's chains are all in flight: never idle a slot with a ready step
            picked = min(ready, key=self._depth_first)
        picked.in_flight_since = now
        return picked.rank

    def step_finished(self, index: int, now: float, *, more: bool = True) -> None:
        """Debate ``index``'s step in flight ended at ``now``; ``more=False`` ends the debate.

        A debate also ends by itself after its last step.
        """
        chain = self._chains[index]
        if chain.in_flight_since is None:
            raise ValueError(f"debate {index} has no step in flight")
        self._latencies.append(now - chain.in_flight_since)
        chain.in_flight_since = None
        chain.done += 1
        if not more or chain.done >= self.steps:
            chain.closed = True

    def close(self, index: int) -> None:
        """End debate ``index`` now (cut off, skipped or failed), whatever it was doing."""
        chain = self._chains[index]
        chain.in_flight_since = None
        chain.closed = True

    # -- the rule -----------------------------------------------------------------------------

    def _remaining(self, chain: _Chain, now: float) -> int:
        """Steps left for planning: a step in flight since before now counts as done."""
        left = self.steps - chain.done
        if chain.in_flight_since is not None and chain.in_flight_since < now:
            left -= 1
        return left

    def _depth_first(self, chain: _Chain) -> tuple[int, int]:
        return (0 if self.started(chain.rank) else 1, chain.rank)

    def _plan(self, now: float, slots: int) -> list[_Chain]:
        """This round's chains, most urgent first: picks made now, critical chains, depth-first."""
        open_ = [(c, self._remaining(c, now)) for c in self._chains if not c.closed]
        open_ = [(c, r) for c, r in open_ if r > 0]
        if not open_:
            return []
        target = max(max(r for _, r in open_), math.ceil(sum(r for _, r in open_) / slots))
        members = open_
        rounds_left = self._rounds_to_deadline(now)
        if rounds_left is not None and rounds_left < target:
            members = self._fitting(open_, rounds_left, slots)
            target = rounds_left
        now_picks = [c for c, _ in open_ if c.in_flight_since == now]  # their slots are taken this round
        critical = [c for c, r in members if r >= target and c.in_flight_since != now]
        rest = sorted((c for c, r in members if r < target and c.in_flight_since != now), key=self._depth_first)
        plan = now_picks + sorted(critical, key=self._depth_first) + rest
        return plan[:slots]

    def _rounds_to_deadline(self, now: float) -> int | None:
        latency = self.step_latency()
        if self.deadline is None or latency is None or latency <= 0:
            return None
        return max(0, math.floor((self.deadline - now) / latency + _EPSILON))

    def _fitting(self, open_: list[tuple[_Chain, int]], rounds: int, slots: int) -> list[tuple[_Chain, int]]:
        """The most debates that can still finish within ``rounds`` step times on ``slots`` slots."""
        members: list[tuple[_Chain, int]] = []
        work = 0
        for chain, left in sorted(open_, key=lambda item: (item[1], self._depth_first(item[0]))):
            if left <= rounds and work + left <= slots * rounds:
                members.append((chain, left))
                work += left
        return members

