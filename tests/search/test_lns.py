"""The improvement rounds: more work never ends worse; the search runs before the kernels."""

from __future__ import annotations

import itertools
import threading

import pytest
from test_compiled import preset_instance

from conftest import learner, make_instance
from teamform.criteria import MotivationTerm, OverlapTerm, Term, build_terms
from teamform.instance import Instance
from teamform.search import kernels
from teamform.search.compiled import CompiledLocalSearch
from teamform.search.construct import construct
from teamform.search.lns import (
    _restore,
    epoch_steps,
    repair_neighbourhood,
    run_lns,
    steep_motivation,
    steep_overlap,
)
from teamform.search.local import TeamState
from teamform.validate import validate


@pytest.mark.parametrize("seed", [0, 1])
def test_a_larger_work_budget_never_ends_worse(seed: int) -> None:
    inst = preset_instance(80, 4, steps=True)
    terms = build_terms(inst)
    start = construct(inst, seed)
    found = []
    for limit in (0.5, 0.8, 1.2):
        out = run_lns(inst, terms, start, time_limit=limit, seed=seed, deterministic=True)
        assert out.assignment is not None and out.objective is not None
        check = validate(inst, out.assignment, terms)
        assert check.ok and check.objective == out.objective
        found.append(out.objective)
    assert found == sorted(found, reverse=True), found
    # and the same budget gives the same teams again
    again = run_lns(inst, terms, start, time_limit=0.8, seed=seed, deterministic=True)
    assert again.objective == found[1]


def test_a_longer_deterministic_solve_never_ends_worse() -> None:
    # the whole solve, not only its search: nothing after the search may undo it
    from teamform.solve import solve_instance

    inst = preset_instance(60, 1, steps=True)
    # short budgets and long ones get the compiled search's rounds alike: the choice
    # of search does not depend on a deterministic budget
    found = []
    for limit in (0.6, 0.9, 1.3, 2.5):
        result = solve_instance(
            inst, time_limit=limit, seed=0, workers=1, deterministic=True, strategy="lns"
        )
        assert result.valid and result.feasible
        found.append(result.objective)
    assert found == sorted(found, reverse=True), found


def test_epochs_depend_on_the_cohort_not_the_budget() -> None:
    inst = preset_instance(80, 4)
    lengths = [epoch_steps(inst, j) for j in range(6)]
    assert lengths[1] == 2 * lengths[0] and lengths[4] == lengths[5] == 8 * lengths[0]


def test_repair_neighbourhood_holds_the_team_and_where_its_members_fit() -> None:
    inst = preset_instance(60, 2, steps=True)
    terms = build_terms(inst)
    state = TeamState(inst, terms, construct(inst, 0))
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    worst = min(range(inst.k), key=lambda t: term.common_slots(state.members[t]))
    teams = repair_neighbourhood(state, worst)
    assert teams[0] == worst and len(set(teams)) == len(teams) <= 5
    assert {int(inst.team_section[t]) for t in teams} == {int(inst.team_section[worst])}


def _not_ready(monkeypatch: pytest.MonkeyPatch, ready: threading.Event) -> None:
    monkeypatch.setattr(kernels, "_READY", {group: ready for group in kernels.GROUPS})
    monkeypatch.setattr(kernels, "get_ready", lambda *_: None if ready.is_set() else ready)


def test_kernels_not_ready_the_python_search_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # kernels that never get ready: the whole budget goes to the Python search
    _not_ready(monkeypatch, threading.Event())
    inst = preset_instance(60, 5, steps=True)
    terms = build_terms(inst)
    start = construct(inst, 0)
    before = TeamState(inst, terms, start).total
    out = run_lns(inst, terms, start, time_limit=2.5, seed=0)
    assert out.assignment is not None and out.objective is not None
    check = validate(inst, out.assignment, terms)
    assert check.ok and check.objective == out.objective < before


def test_kernels_ready_midway_the_compiled_search_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ready = threading.Event()
    _not_ready(monkeypatch, ready)
    timer = threading.Timer(0.5, ready.set)
    timer.start()
    inst = preset_instance(60, 5, steps=True)
    terms = build_terms(inst)
    start = construct(inst, 0)
    try:
        out = run_lns(inst, terms, start, time_limit=2.5, seed=0)
    finally:
        timer.cancel()
    assert out.assignment is not None
    check = validate(inst, out.assignment, terms)
    assert check.ok and check.objective == out.objective


def test_no_steep_step_without_a_step_for_teams_without_time() -> None:
    inst = preset_instance(40, 2)
    terms = build_terms(inst)
    overlap = next(t for t in terms if isinstance(t, OverlapTerm))
    state = TeamState(inst, terms, construct(inst, 2))
    assert overlap.none_step == 0 and steep_overlap(state, overlap) is None


def test_the_steep_moves_come_once_a_broken_hard_spread_is_mended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the start breaks the hard spread (intrinsic learners packed together): the steep
    # moves cannot be set up then, and come once the moves have mended it
    import teamform.search.lns as lns

    inst = preset_instance(40, 2, steps=True, hard_spread=True)
    terms = build_terms(inst)
    order = sorted(range(inst.n), key=lambda i: (not inst.intrinsic[i], i))
    start = [0] * inst.n
    for pos, i in enumerate(order):
        start[i] = pos // 4
    assert TeamState(inst, terms, start).hard_violations > 0
    seen: list[int] = []
    steep = lns.steep_overlap

    def recording(state: TeamState, *args: object, **kwargs: object) -> OverlapTerm | None:
        seen.append(state.hard_violations)
        return steep(state, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lns, "steep_overlap", recording)
    found = run_lns(inst, terms, start, time_limit=1.0, seed=0, deterministic=True)
    assert seen[0] > 0 and 0 in seen
    assert validate(inst, found.assignment, terms).violations == []


def test_time_repairs_share_is_of_seconds_on_the_clock() -> None:
    from teamform.search.lns import TIME_REPAIR_SHARE, RepairShare

    clock = [0.0]
    atom = 10
    on_clock = RepairShare(8 * 2 * atom, clock=True, now=lambda: clock[0])
    in_work = RepairShare(8 * 2 * atom, clock=False)
    used = 0
    # annealing did 1 000 atoms in a second; then each repair took a second for its 2 atoms
    used += 1000 * atom
    clock[0] += 1.0
    for _ in range(8):  # the first pass: never over its share
        assert not on_clock.over(used) and not in_work.over(used)
        used += 2 * atom
        clock[0] += 1.0
        on_clock.charge(2 * atom, 1.0)
        in_work.charge(2 * atom, 1.0)
    # 8 of the 9 s went to repairs: on the clock that is over the share, while
    # the 16 atoms they were charged are a sliver of the work
    assert on_clock.over(used)
    assert not in_work.over(used)
    # annealing that takes the time back gives repairs their turn again
    clock[0] += 8.0 / TIME_REPAIR_SHARE
    assert not on_clock.over(used)
    # in work mode the share counts the atoms, as before
    assert in_work.units == 16 * atom and in_work.over(int(in_work.units / TIME_REPAIR_SHARE) - 1)


@pytest.mark.parametrize("deterministic", [False, True])
def test_a_neighbourhood_ends_its_overshoot_before_the_deadline(
    monkeypatch: pytest.MonkeyPatch, deterministic: bool
) -> None:
    from teamform.search import cpsat, lns

    late = cpsat.Overshoot()
    late.record(1, 0.0, 0.3)  # this machine's solves end 0.3 s past their limit
    monkeypatch.setattr(cpsat, "OVERSHOOT", late)
    limits: list[float] = []
    made = lns.solver_for

    def recorded(*args: object, **kwargs: object) -> object:
        solver = made(*args, **kwargs)  # type: ignore[arg-type]
        limits.append(solver.parameters.max_time_in_seconds)
        return solver

    monkeypatch.setattr(lns, "solver_for", recorded)
    inst = preset_instance(40, 3)
    state = TeamState(inst, build_terms(inst), construct(inst, 0))
    for wall in (1.0, 0.1):
        lns.solve_neighbourhood(
            state, [0, 1], time_limit=0.5, seed=0, deterministic=deterministic, wall_limit=wall
        )
    # the deadline less the overshoot, and never past the solve's own wall limit
    first = 0.7 if deterministic else 0.5
    assert limits == [pytest.approx(first), pytest.approx(0.01)]
    assert validate(inst, state.assign, state.terms).ok


class _Stop(Exception):
    """Ends a search at its first packing."""


def test_the_packing_s_wall_limit_does_not_depend_on_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a longer run must go through the same packings as a shorter one: their wall
    # limit is a constant (and what is left), never a share of the budget
    from teamform import FormationModel, build_instance, load_roster
    from teamform.search import common_time, lns

    d = "instances/synthetic/n120_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml("models/collaborative.toml"))
    terms = build_terms(inst)
    start = construct(inst, 0)
    overlap = next(t for t in terms if isinstance(t, OverlapTerm))
    assert len(lns._empty_teams(TeamState(inst, terms, start), overlap)) > 0
    walls: list[float | None] = []

    def first_packing(*args: object, wall_limit: float | None = None, **kwargs: object) -> None:
        walls.append(wall_limit)
        raise _Stop

    monkeypatch.setattr(common_time, "fewest_without_time", first_packing)
    for limit in (8.0, 60.0):
        with pytest.raises(_Stop):
            run_lns(inst, terms, start, time_limit=limit, seed=0)
    assert walls == [lns.PACKING_WALL, lns.PACKING_WALL]


def _skills_against_spread() -> tuple[Instance, list[Term]]:
    """Two teams of four, two intrinsic learners (one each in range), skills weighing
    far more than the spread. Skills 2 and 5 for the intrinsic learners, 1, 3, 1, 4, 4, 4
    for the others: target 12 a team; both intrinsic learners together make 12 with 1 and
    4 (skills even), apart the least skill penalty is 2 (13 and 11)."""
    skill = {"i0": 2, "i1": 5, "a": 1, "b": 3, "c": 1, "d": 4, "e": 4, "f": 4}
    records = [
        learner(lid, skills={"s": s}, motivation="intrinsic" if lid[0] == "i" else "imposed")
        for lid, s in skill.items()
    ]
    crit = {"motivation": {"weight": 30}, "skill_balance": {"weight": 400}}
    inst = make_instance(records, crit, team={"size": 4})
    return inst, build_terms(inst)


def _least_skill_at_bound(inst: Instance, terms: list[Term]) -> int:
    """The least skill penalty of a plan with one intrinsic learner in each team."""
    splits = (
        [0 if i in team else 1 for i in range(inst.n)]
        for team in itertools.combinations(range(inst.n), 4)
        if (0 in team) != (1 in team)
    )
    return min(validate(inst, a, terms).penalties["skill_balance"] for a in splits)


def _spread_off(state: TeamState) -> int:
    term = next(t for t in state.terms if isinstance(t, MotivationTerm))
    return sum(term.team_penalty(m, t) for t, m in enumerate(state.members))


def test_the_steep_moves_keep_the_spread_and_improve_inside_it() -> None:
    # teams {i0, a, b, c} (skills 7) and {i1, d, e, f} (17): swapping i0 for a 4 evens
    # the skills more than the spread costs, which the objective takes; swapping a 1 for
    # a 4 evens them as well, and keeps one intrinsic learner in each team
    inst, terms = _skills_against_spread()
    motivation = next(t for t in terms if isinstance(t, MotivationTerm))
    state = TeamState(inst, terms, [0, 1, 0, 0, 0, 1, 1, 1])
    assert _spread_off(state) == 0
    steep = steep_motivation(state, motivation)
    assert steep is not None and steep.coefficient > motivation.coefficient
    moving = TeamState(inst, [steep if t is motivation else t for t in terms], state.assign)
    plain_out = steep_out = inside = 0
    for i in range(inst.n):
        for j in range(i + 1, inst.n):
            if state.assign[i] == state.assign[j]:
                continue
            delta, new_t, new_u, _, _ = moving.swap_delta(i, j)
            if any(motivation.team_penalty(m, 0) for m in (new_t, new_u)):
                plain_out += state.swap_delta(i, j)[0] < 0
                steep_out += delta < 0
            else:
                inside += delta < 0
    assert plain_out > 0 and steep_out == 0 and inside > 0
    # the compiled search on the steep criterion: skills as even as the bound allows
    search = CompiledLocalSearch(moving, seed=0)
    search.run(max_steps=2000, temp=0.0)
    _restore(state, moving.assign)
    assert _spread_off(state) == 0
    check = validate(inst, state.assign, terms)
    assert check.ok and check.penalties["skill_balance"] == _least_skill_at_bound(inst, terms)
    assert check.objective == state.total


def test_the_steep_moves_reach_the_bound_the_objective_would_trade() -> None:
    # teams {i0, i1, a, b} (skills 11) and {c, d, e, f} (13): plain descent evens the
    # skills (b for d) and keeps both intrinsic learners together, which the objective
    # prefers; the steep moves bring the spread to its bound, at the least skill penalty
    # there. That costs more: plans are still compared by the objective, so the search
    # keeps whichever is cheaper
    inst, terms = _skills_against_spread()
    motivation = next(t for t in terms if isinstance(t, MotivationTerm))
    start = [0, 0, 0, 0, 1, 1, 1, 1]
    plain = TeamState(inst, terms, start)
    CompiledLocalSearch(plain, seed=0).run(max_steps=2000, temp=0.0)
    assert _spread_off(plain) == 2
    assert validate(inst, plain.assign, terms).penalties["skill_balance"] == 0
    state = TeamState(inst, terms, start)
    steep = steep_motivation(state, motivation)
    assert steep is not None
    moving = TeamState(inst, [steep if t is motivation else t for t in terms], start)
    CompiledLocalSearch(moving, seed=0).run(max_steps=2000, temp=0.0)
    _restore(state, moving.assign)
    assert _spread_off(state) == 0
    check = validate(inst, state.assign, terms)
    assert check.ok and check.penalties["skill_balance"] == _least_skill_at_bound(inst, terms)
    assert check.objective > validate(inst, plain.assign, terms).objective
