"""CP-SAT as the search uses it: teamform's solver parameters and progress reports."""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from teamform.criteria import OBJECTIVE_SCALE
from teamform.search.outcome import Progress, ProgressFn

#: CP-SAT takes a 32-bit seed.
MAX_SEED = 2**31 - 1


def solver_for(
    time_limit: float, seed: int, workers: int, deterministic: bool
) -> cp_model.CpSolver:
    """A CP-SAT solver with teamform's parameters.

    ``time_limit`` is in seconds, of CP-SAT's deterministic time (its own work
    measure, roughly seconds) when ``deterministic`` is set.
    """
    solver = cp_model.CpSolver()
    params = solver.parameters
    if deterministic:
        # deterministic time is CP-SAT's own work measure, roughly seconds
        params.max_deterministic_time = max(0.01, time_limit)
        params.interleave_search = workers > 1
    else:
        params.max_time_in_seconds = max(0.01, time_limit)
    params.random_seed = seed
    params.num_workers = max(1, workers)
    # Ctrl-C belongs to the caller (it sets the cancel event), not to the solver
    params.catch_sigint_signal = False
    return solver


class SolutionCallback(cp_model.CpSolverSolutionCallback):
    """Records when the first solution came and reports each one (and each bound)."""

    def __init__(self, t0: float, progress: ProgressFn | None) -> None:
        super().__init__()
        self.t0 = t0
        self.progress = progress
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.t0
        if self.first is None:
            self.first = now
        if self.progress is not None:
            self.progress(
                Progress(
                    self.objective_value / OBJECTIVE_SCALE,
                    self.best_objective_bound / OBJECTIVE_SCALE,
                    now,
                )
            )

    def on_bound(self, bound: float) -> None:
        """CP-SAT proved a better lower bound."""
        if self.progress is not None:
            elapsed = time.perf_counter() - self.t0
            self.progress(Progress(None, bound / OBJECTIVE_SCALE, elapsed))
