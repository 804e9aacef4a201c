"""The exact strategy scores a CP-SAT solution by what it costs, not by the model's estimate."""

from __future__ import annotations

from typing import Any

import pytest
from ortools.sat.python import cp_model

import teamform.search.exact as exact
from teamform.cpmodel import SubModel
from teamform.solve import solve_instance
from teamform.validate import validate
from test_solve import cohort


@pytest.mark.parametrize(("n", "seed"), [(28, 7), (40, 1), (40, 3)])
def test_an_unproved_cpsat_solution_is_scored_by_its_real_cost(
    monkeypatch: pytest.MonkeyPatch, n: int, seed: int
) -> None:
    # CP-SAT's first solution: its penalty variables, bounded from below only,
    # may still carry slack, so the model's objective overstates the plan's cost
    made = exact.solver_for
    found: list[list[int]] = []

    def first_solution(*args: Any, **kwargs: Any) -> cp_model.CpSolver:
        solver = made(*args, **kwargs)
        solver.parameters.stop_after_first_solution = True
        solver.parameters.num_workers = 1
        return solver

    class Recorded(SubModel):
        def read(self, solver: cp_model.CpSolver) -> dict[int, int]:
            got = super().read(solver)
            found.append([got[i] for i in range(len(got))])
            return got

    monkeypatch.setattr(exact, "solver_for", first_solution)
    monkeypatch.setattr(exact, "SubModel", Recorded)
    inst = cohort(n, seed=seed)
    for run in range(3):
        found.clear()
        result = solve_instance(
            inst, time_limit=1, seed=run, strategy="exact", workers=1, deterministic=True
        )
        assert result.valid and not result.defects
        assert result.search_objective == result.objective
        assert found, "CP-SAT gave no solution"
        cpsat_cost = validate(inst, found[0]).objective
        # the better of the warm start and CP-SAT's plan, by real cost
        assert result.objective <= cpsat_cost + 1e-9
