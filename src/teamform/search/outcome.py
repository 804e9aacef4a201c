"""What a search strategy reports while it runs and hands back when it ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from teamform.result import Status


@dataclass
class Progress:
    """A progress report: best objective and bound so far (weighted units)."""

    objective: float | None
    bound: float | None
    elapsed: float


ProgressFn = Callable[[Progress], None]


class Monotone:
    """Passes on a progress report only when it says something new: a better
    objective or a higher bound (CP-SAT may restart above a hint's value)."""

    def __init__(self, report: ProgressFn) -> None:
        self.report = report
        self.objective: float | None = None
        self.bound: float | None = None
        # CP-SAT reports solutions and bounds from its own threads
        self.lock = threading.Lock()

    def __call__(self, p: Progress) -> None:
        with self.lock:
            self._update(p)

    def _update(self, p: Progress) -> None:
        better = p.objective is not None and (
            self.objective is None or p.objective < self.objective
        )
        higher = p.bound is not None and (self.bound is None or p.bound > self.bound)
        if not (better or higher):
            return
        if better:
            self.objective = p.objective
        if higher:
            self.bound = p.bound
        self.report(Progress(self.objective, self.bound, p.elapsed))


@dataclass
class Outcome:
    """What a search strategy hands back to :func:`teamform.solve.solve_instance`.

    The assignment is the search's own claim: the validator checks it before
    it becomes a result.
    """

    status: Status
    assignment: list[int] | None
    bound: int | None = None
    time_to_first: float | None = None
    #: the search's own objective value for ``assignment`` (checked against the validator)
    objective: int | None = None
    #: the criteria's per-team decisions (projects) that go with ``assignment``
    decisions: list[object] | None = None
