"""The exact strategy scores a CP-SAT solution by what it costs, not by the model's estimate."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from ortools.sat.python import cp_model

import teamform.search.cpsat as cpsat
import teamform.search.exact as exact
import teamform.search.lns as lns
from teamform import FormationModel, load_roster
from teamform.cpmodel import SubModel
from teamform.instance import Instance, build_instance
from teamform.search.params import SearchParams
from teamform.solve import solve_instance
from teamform.validate import validate
from test_solve import cohort

ROOT = Path(__file__).resolve().parents[2]


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
    # a short Python warm start, which leaves CP-SAT room to find a plan of its own
    monkeypatch.setattr(lns, "use_compiled", lambda *args, **kwargs: False)
    params = SearchParams(local_seconds=0.2, proof_max_pairs=0)
    inst = cohort(n, seed=seed)
    for run in range(3):
        found.clear()
        result = solve_instance(
            inst, time_limit=1, seed=run, strategy="exact", workers=1, deterministic=True,
            params=params,
        )  # fmt: skip
        assert result.valid and not result.defects
        assert result.search_objective == result.objective
        assert found, "CP-SAT gave no solution"
        cpsat_cost = validate(inst, found[0]).objective
        # the better of the warm start and CP-SAT's plan, by real cost
        assert result.objective <= cpsat_cost + 1e-9


def test_a_budget_spent_before_the_search_returns_the_teams_in_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the process started long ago (a slow start-up): no time is left for CP-SAT,
    # whose model alone would take longer to build than what is left
    def no_model(*args: Any, **kwargs: Any) -> SubModel:
        raise AssertionError("CP-SAT model built with no time left")

    monkeypatch.setattr(exact, "SubModel", no_model)
    inst = cohort(40, seed=2)
    result = solve_instance(
        inst, time_limit=2, seed=0, strategy="exact", started=time.perf_counter() - 60
    )
    assert result.valid and result.feasible and not result.defects


def _cpsat_limits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The time limits the exact strategy gives CP-SAT, as it gives them."""
    given: list[float] = []
    made = exact.solver_for

    def recorded(seconds: float, *args: Any, **kwargs: Any) -> cp_model.CpSolver:
        given.append(seconds)
        return made(seconds, *args, **kwargs)

    monkeypatch.setattr(exact, "solver_for", recorded)
    return given


def test_a_late_start_keeps_the_phases_lengths_and_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 3 of 5 s already spent: the annealing runs keep their own length, and CP-SAT
    # gets what remains of the 2 s left before the same deadline, not 5 s from now
    given = _cpsat_limits(monkeypatch)
    parts: list[float] = []
    part = exact.Budget.part

    def recorded_part(self: exact.Budget, seconds: float) -> exact.Budget:
        parts.append(seconds)
        return part(self, seconds)

    monkeypatch.setattr(exact.Budget, "part", recorded_part)
    # CP-SAT ending on time here, so that it starts whatever the machine's load
    on_time = cpsat.Overshoot()
    on_time.record(2, 1.0, 1.0)
    monkeypatch.setattr(exact, "OVERSHOOT", on_time)
    # the compiled annealing whatever is left (it has a floor of its own)
    monkeypatch.setattr(lns, "use_compiled", lambda *args, **kwargs: True)
    inst = cohort(40, seed=2)
    params = SearchParams(anneal_runs=2, anneal_run_seconds=0.3)
    result = solve_instance(
        inst, time_limit=5, seed=0, strategy="exact", started=time.perf_counter() - 3,
        params=params,
    )  # fmt: skip
    assert result.valid
    assert parts.count(0.3) == 2
    assert given and all(s < 2 - 0.6 for s in given)


def test_cpsat_is_given_its_limit_less_what_it_runs_past_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    given = _cpsat_limits(monkeypatch)
    monkeypatch.setattr(exact, "OVERSHOOT", cpsat.Overshoot())
    left: list[float] = []
    rest = exact.Budget.rest

    def recorded_rest(self: exact.Budget, spent: float) -> exact.Budget:
        got = rest(self, spent)
        left.append(got.seconds)
        return got

    monkeypatch.setattr(exact.Budget, "rest", recorded_rest)
    monkeypatch.setattr(exact, "_no_time", lambda budget, needs: False)  # CP-SAT starts
    inst = cohort(40, seed=2)
    params = SearchParams(anneal_runs=1, anneal_run_seconds=0.5, cpsat_seconds=10)
    result = solve_instance(inst, time_limit=3, seed=0, strategy="exact", workers=2, params=params)
    assert result.valid and result.feasible
    # what was left before the deadline, less the expected overshoot of 2 workers
    assert given and given[0] == pytest.approx(left[-1] - cpsat.Overshoot.PRIOR[1])
    # and the solve, run to its limit, measured it for the next one
    if result.status.value != "optimal":
        assert exact.OVERSHOOT._seconds


def test_with_no_time_for_cpsat_past_its_overshoot_the_warm_start_is_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_solver(*args: Any, **kwargs: Any) -> cp_model.CpSolver:
        raise AssertionError("CP-SAT started with no time to end before the limit")

    late = cpsat.Overshoot()
    late.record(2, 0.0, 60.0)  # a machine where CP-SAT ends a minute late
    monkeypatch.setattr(exact, "OVERSHOOT", late)
    monkeypatch.setattr(exact, "solver_for", no_solver)
    inst = cohort(40, seed=2)
    result = solve_instance(inst, time_limit=2, seed=0, strategy="exact", workers=2)
    assert result.valid and result.feasible and not result.defects


def test_deterministic_solves_do_not_depend_on_the_measured_overshoot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = cohort(28, seed=7)
    first = solve_instance(inst, time_limit=1, seed=0, strategy="exact", deterministic=True)
    late = cpsat.Overshoot()
    late.record(2, 0.0, 0.9)
    monkeypatch.setattr(exact, "OVERSHOOT", late)
    again = solve_instance(inst, time_limit=1, seed=0, strategy="exact", deterministic=True)
    assert again.assignment == first.assignment


def test_the_overshoot_is_a_running_mean_of_the_measured_ones() -> None:
    over = cpsat.Overshoot()
    assert over.seconds(1) == cpsat.Overshoot.PRIOR[0]
    assert over.seconds(2) == cpsat.Overshoot.PRIOR[1]
    over.record(2, 1.0, 1.4)
    assert over.seconds(2) == pytest.approx(0.4) and over.seconds(8) == pytest.approx(0.4)
    over.record(2, 1.0, 1.0)
    assert over.seconds(2) == pytest.approx(0.2)
    assert over.seconds(1) == cpsat.Overshoot.PRIOR[0]  # one worker: its own
    assert over.limit(1.0, 2) == pytest.approx(0.8)
    assert over.limit(0.1, 2) == 0.01  # never nothing


def _preset_cohort(directory: Path) -> Instance:
    """A committed cohort under the collaborative preset."""
    model = FormationModel.from_toml(ROOT / "models" / "collaborative.toml")
    roster = load_roster(
        directory / "roster.csv", avoid=directory / "avoid.csv", prefer=directory / "prefer.csv"
    )
    return build_instance(roster, model)


@pytest.mark.parametrize(("cohort_dir", "seeds"), [("demo", (2,)), ("synthetic/n30_s1", (0, 1, 2))])
def test_a_larger_work_budget_never_ends_worse(cohort_dir: str, seeds: tuple[int, ...]) -> None:
    # short phases, so that the budgets end inside the first annealing run, inside the
    # second, inside CP-SAT and inside the next round's annealing: a larger budget
    # runs a smaller one's phases, then more
    inst = _preset_cohort(ROOT / "instances" / cohort_dir)
    params = SearchParams(anneal_runs=2, anneal_run_seconds=0.3, cpsat_seconds=0.2)
    for seed in seeds:
        found = []
        for limit in (0.25, 0.5, 0.75, 1.0):
            result = solve_instance(
                inst, time_limit=limit, seed=seed, strategy="exact", deterministic=True,
                params=params,
            )  # fmt: skip
            assert result.valid and result.feasible
            found.append(result.objective)
        assert found == sorted(found, reverse=True), (seed, found)
