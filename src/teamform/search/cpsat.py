"""CP-SAT as the search uses it: teamform's solver parameters and its overshoot."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model
else:
    from teamform.lazy import cp_model  # imported when a model is first made

#: CP-SAT takes a 32-bit seed.
MAX_SEED = 2**31 - 1


class Overshoot:
    """How far past its wall-clock limit CP-SAT ends, measured on this process's solves.

    CP-SAT stops its workers at ``max_time_in_seconds`` and then joins them and
    hands back the answer: with 2 workers on a loaded 2-core machine that took
    0.1-0.2 s more (the prior, until a solve of this process that ran to its
    limit was measured; then a running mean of those). A solve that must end by
    a deadline is given its limit less this (:meth:`limit`).
    """

    #: seconds past the limit before any is measured: one worker, and several
    PRIOR = (0.05, 0.2)
    #: weight of the latest measurement in the running mean
    WEIGHT = 0.5

    def __init__(self) -> None:
        self._seconds: dict[bool, float] = {}

    def seconds(self, workers: int) -> float:
        """Expected seconds past the limit with ``workers`` workers."""
        several = workers > 1
        return self._seconds.get(several, self.PRIOR[several])

    def limit(self, left: float, workers: int) -> float:
        """CP-SAT's limit for a solve that must end ``left`` seconds from now."""
        return max(0.01, left - self.seconds(workers))

    def record(self, workers: int, limit: float, took: float) -> None:
        """A solve given ``limit`` seconds that ran to it took ``took`` seconds."""
        several = workers > 1
        late = max(0.0, took - limit)
        before = self._seconds.get(several)
        self._seconds[several] = (
            late if before is None else self.WEIGHT * late + (1 - self.WEIGHT) * before
        )


#: This process's measurements.
OVERSHOOT = Overshoot()


def solver_for(
    time_limit: float,
    seed: int,
    workers: int,
    deterministic: bool,
    *,
    ends_in: float | None = None,
) -> cp_model.CpSolver:
    """A CP-SAT solver with teamform's parameters.

    ``time_limit`` is in seconds, of CP-SAT's deterministic time (its own work
    measure, roughly seconds) when ``deterministic`` is set. ``ends_in``: the
    solve must also be over that many seconds from now (a deadline), so its
    wall-clock limit is that less the overshoot measured (:data:`OVERSHOOT`).
    """
    solver = cp_model.CpSolver()
    params = solver.parameters
    if deterministic:
        # deterministic time is CP-SAT's own work measure, roughly seconds
        params.max_deterministic_time = max(0.01, time_limit)
        params.interleave_search = workers > 1
    else:
        params.max_time_in_seconds = max(0.01, time_limit)
    if ends_in is not None:
        cap = OVERSHOOT.limit(ends_in, workers)
        params.max_time_in_seconds = cap if deterministic else min(cap, time_limit)
    params.random_seed = seed
    params.num_workers = max(1, workers)
    # Ctrl-C belongs to the caller (it sets the cancel event), not to the solver
    params.catch_sigint_signal = False
    return solver
