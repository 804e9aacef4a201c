"""What a search strategy reports while it runs and hands back when it ends."""

from __future__ import annotations

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
