"""Stopping a search on request: every strategy returns its best, validated plan."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from conftest import mdgp_as_roster
from teamform import FormationModel, Status, form, load_roster
from teamform.cancel import stopping
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.solve import solve_instance
from teamform.validate import validate

# Limits far above what the tests wait: a run that ignored the request would take this long.
LONG = 120.0


def demo():
    roster = load_roster(
        "instances/demo/roster.csv",
        avoid="instances/demo/avoid.csv",
        prefer="instances/demo/prefer.csv",
    )
    return roster, FormationModel.from_toml("models/collaborative.toml")


def set_after(seconds: float) -> threading.Event:
    cancel = threading.Event()
    timer = threading.Timer(seconds, cancel.set)
    timer.daemon = True
    timer.start()
    return cancel


def assert_best_so_far(result, started: float) -> None:
    assert result.stopped == "cancelled"
    assert time.perf_counter() - started < LONG / 4
    assert result.valid and result.feasible
    # a stopped run is optimal only if its bound proves it
    if result.status == Status.OPTIMAL:
        assert result.bound == pytest.approx(result.objective)
    else:
        assert result.status == Status.FEASIBLE
    assert len(result.assignment) == result.n_learners


@pytest.mark.parametrize("strategy", ["exact", "lns"])
def test_form_stops_when_asked_and_returns_a_valid_plan(strategy: str) -> None:
    roster, model = demo()
    started = time.perf_counter()
    result = form(roster, model, time_limit=LONG, strategy=strategy, cancel=set_after(0.5))  # type: ignore[arg-type]
    assert_best_so_far(result, started)
    assert result.strategy == strategy


def test_cancel_already_set_still_gives_teams() -> None:
    roster, model = demo()
    cancel = threading.Event()
    cancel.set()
    started = time.perf_counter()
    result = form(roster, model, time_limit=LONG, cancel=cancel)
    assert_best_so_far(result, started)


def test_a_run_not_cancelled_says_so() -> None:
    roster, model = demo()
    result = form(roster, model, time_limit=0.5, cancel=threading.Event())
    assert result.stopped is None and result.feasible


def test_diversity_search_stops_when_asked(tmp_path: Path) -> None:
    inst = mdgp_as_roster(Path("instances/mdgp/RanReal/RanReal_n010_ss_01.txt"), tmp_path)
    started = time.perf_counter()
    result = solve_instance(inst, time_limit=LONG, strategy="lns", cancel=set_after(0.5))
    assert result.strategy == "diversity"
    assert_best_so_far(result, started)


def test_stopping_interrupts_a_running_cp_sat_solve() -> None:
    # a hard feasibility search: 14 pigeons into 13 holes, proven only by exhaustion
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{p}_{h}") for h in range(13)] for p in range(14)]
    for row in x:
        model.add_exactly_one(row)
    for h in range(13):
        model.add_at_most_one(row[h] for row in x)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = LONG
    solver.parameters.num_workers = 1
    solver.parameters.symmetry_level = 0
    solver.parameters.catch_sigint_signal = False
    started = time.perf_counter()
    with stopping(solver, set_after(0.3)):
        code = solver.solve(model)
    assert code == cp_model.UNKNOWN
    assert time.perf_counter() - started < LONG / 4


def test_stopping_without_a_request_does_not_delay_the_solve() -> None:
    model = cp_model.CpModel()
    v = model.new_int_var(0, 10, "v")
    model.maximize(v)
    solver = cp_model.CpSolver()
    with stopping(solver, threading.Event()):
        assert solver.solve(model) == cp_model.OPTIMAL
    assert solver.value(v) == 10


def test_cancelled_exact_result_matches_the_validator() -> None:
    from teamform.instance import build_instance

    roster, model = demo()
    inst = build_instance(roster, model)
    result = solve_instance(inst, time_limit=LONG, strategy="exact", cancel=set_after(1.0))
    terms = build_terms(inst)
    check = validate(inst, [result.assignment[i] - 1 for i in inst.ids], terms)
    assert check.ok
    assert result.objective is not None
    assert check.objective == pytest.approx(result.objective * OBJECTIVE_SCALE, abs=1)


def test_a_search_stop_counts_the_callers_and_never_sets_it() -> None:
    from teamform.cancel import Stop

    caller = threading.Event()
    stop = Stop(caller)
    assert not stop.is_set()
    caller.set()
    assert stop.is_set()  # at once: no watcher between the two
    caller.clear()
    stop.set()  # the search's own reason (its time is up early)
    assert stop.is_set() and not caller.is_set()
    assert Stop(None).is_set() is False
