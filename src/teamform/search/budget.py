"""A search budget: wall-clock seconds, or work units that repeat on any machine.

One :class:`Budget` is handed down from :func:`teamform.solve.solve_instance`
to every strategy. In wall-clock mode it is a deadline; in work mode (the
``deterministic`` option) it is a number of seconds converted into each
searcher's own work units (local-search steps, compiled steps, CP-SAT's
deterministic time), so that the same seed gives the same teams however fast
the machine is. A :class:`Meter` counts one searcher's use of it, so the code
that searches reads the same in both modes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Budget:
    """``seconds`` of search from ``start`` (a ``time.perf_counter()`` reading).

    With ``work`` set the seconds are a measure of work, never of the clock.
    """

    seconds: float
    work: bool = False
    start: float = field(default_factory=time.perf_counter)

    @property
    def deadline(self) -> float | None:
        """When the budget runs out (None: counted in work, not time)."""
        return None if self.work else self.start + self.seconds

    def left(self) -> float:
        """Seconds left: on the clock, or all of them in work mode (so a choice
        made on what is left never varies between runs)."""
        if self.work:
            return self.seconds
        return self.start + self.seconds - time.perf_counter()

    def part(self, seconds: float) -> Budget:
        """A budget of ``seconds`` from now, in the same mode."""
        return Budget(seconds, self.work, time.perf_counter())

    def rest(self, spent: float) -> Budget:
        """What is left after a phase given ``spent`` seconds of this budget: up to
        the same deadline on the clock, or the seconds not given out in work mode
        (never the clock's reading, so that the same work repeats)."""
        now = time.perf_counter()
        if self.work:
            return Budget(max(0.0, self.seconds - spent), True, now)
        return Budget(self.start + self.seconds - now, False, now)

    def slice(self, index: int, count: int) -> Budget:
        """Run ``index`` of ``count`` runs sharing this budget: an equal share of
        what is left on the clock, or of the whole in work mode."""
        if self.work:
            return Budget(self.seconds / count, True, time.perf_counter())
        now = time.perf_counter()
        return Budget((self.start + self.seconds - now) / (count - index), False, now)

    def meter(self, units_per_second: float) -> Meter:
        """A counter of this budget in a searcher's units (e.g. steps per second)."""
        return Meter(self, None if not self.work else int(self.seconds * units_per_second))


@dataclass
class Meter:
    """One searcher's use of a :class:`Budget`: ``total`` units in work mode."""

    budget: Budget
    total: int | None
    used: int = 0

    def spend(self, units: int) -> None:
        """Count ``units`` of work done."""
        self.used += units

    def done(self) -> bool:
        """Whether the budget is spent."""
        if self.total is not None:
            return self.used >= self.total
        deadline = self.budget.deadline
        return deadline is not None and time.perf_counter() >= deadline

    def cap(self, units: int) -> int:
        """At most ``units`` for the next burst, and no more than is left."""
        return units if self.total is None else max(0, min(units, self.total - self.used))

    def fraction(self) -> float:
        """Share of the budget spent, from 0 to 1 (and beyond once it is out)."""
        if self.total is not None:
            return self.used / self.total if self.total else 1.0
        b = self.budget
        return (time.perf_counter() - b.start) / b.seconds if b.seconds > 0 else 1.0

    def until(self, seconds: float | None = None) -> float | None:
        """Deadline of a burst of at most ``seconds`` (None in work mode: no clock)."""
        deadline = self.budget.deadline
        if deadline is None or seconds is None:
            return deadline
        return min(deadline, time.perf_counter() + seconds)

    def solver_time(self, wall: float, work: float, least: float = 0.005) -> float | None:
        """CP-SAT's limit for a sub-problem: ``work`` deterministic seconds in work
        mode, else at most ``wall`` seconds and what is left; None when less than
        ``least`` is left."""
        if self.total is not None:
            return work
        remaining = self.budget.left()
        return None if remaining <= least else min(wall, remaining)
