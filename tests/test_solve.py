"""Solving: validator agreement, term order, neighbourhood objective, determinism."""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
import pytest
from ortools.sat.python import cp_model

from conftest import REF, learner, make_instance, solve_exact
from teamform import Status, form, load_roster
from teamform.cpmodel import SubModel
from teamform.criteria import OBJECTIVE_SCALE, Term, build_terms
from teamform.instance import Instance, build_instance
from teamform.model import FormationModel
from teamform.search.construct import construct
from teamform.search.lns import solve_neighbourhood
from teamform.search.local import LocalSearch, TeamState
from teamform.search.outcome import Outcome
from teamform.solve import solve_instance
from teamform.validate import validate

ZONES = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC", "Asia/Tokyo"]
WINDOWS = [
    "Mon-Fri 18:00-21:00",
    "Mon-Thu 12:00-14:00; Sat 09:00-12:00",
    "Sat-Sun 08:00-12:00",
    "Mon-Fri 07:00-09:00; Sun 14:00-15:30",
    "Tue,Thu 19:00-23:00",
]
ALL = {
    "skill_balance": {"weight": 2},
    "skill_coverage": {"weight": 5, "rules": [{"skill": "p", "level": 4}]},
    "motivation": {"weight": 10},
    "prefer": {"weight": 3},
    "overlap": {"weight": 20, "hours": 2, "block": 1, "reference_date": REF},
    "category": [{"column": "lang", "rule": "no_isolation", "weight": 4}],
}


def cohort(n: int, seed: int, size: int = 4):
    rng = np.random.default_rng(seed)
    records = [
        learner(
            f"x{i}",
            timezone=ZONES[int(rng.integers(len(ZONES)))],
            availability=WINDOWS[int(rng.integers(len(WINDOWS)))],
            skills={"p": int(rng.integers(1, 6)), "w": int(rng.integers(1, 6))},
            motivation="intrinsic" if rng.random() < 0.4 else "imposed",
            lang=str(rng.choice(["en", "fr", "es"])),
        )
        for i in range(n)
    ]
    pairs = rng.choice(n, size=(max(1, n // 6), 2))
    avoid = {(f"x{a}", f"x{b}") for a, b in pairs.tolist() if a != b}
    pairs = rng.choice(n, size=(max(1, n // 5), 2))
    prefer = {
        (f"x{a}", f"x{b}")
        for a, b in pairs.tolist()
        if a != b and (f"x{a}", f"x{b}") not in avoid and (f"x{b}", f"x{a}") not in avoid
    }
    return make_instance(
        records, ALL, team={"size": size}, avoid=sorted(avoid), prefer=sorted(prefer)
    )


def test_term_order_does_not_change_the_optimum() -> None:
    inst = cohort(8, seed=3, size=2)
    terms = build_terms(inst)
    forward, _ = solve_exact(inst, terms)
    backward, _ = solve_exact(inst, list(reversed(terms)))
    assert forward == backward


def test_neighbourhood_objective_equals_global_change() -> None:
    inst = cohort(24, seed=5)
    terms = build_terms(inst)
    start = construct(inst, 0)
    before = validate(inst, start, terms)
    teams = [0, 2, 4]
    learners = [i for i, t in enumerate(start) if t in teams]
    sub = SubModel(inst, learners, teams, terms)
    # the sub-model's value at the current assignment
    for (i, t), v in sub.x.items():
        sub.model.add(v == int(start[i] == t)).only_enforce_if(sub.model.new_constant(1))
    solver = cp_model.CpSolver()
    assert solver.solve(sub.model) == cp_model.OPTIMAL
    at_start = round(solver.objective_value)
    free = SubModel(inst, learners, teams, terms)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(free.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    found = free.read(solver)
    after = list(start)
    for i, t in found.items():
        after[i] = t
    delta_sub = round(solver.objective_value) - at_start
    delta_global = validate(inst, after, terms).objective - before.objective
    assert delta_sub == delta_global


def test_neighbourhood_keeps_state_consistent() -> None:
    inst = cohort(40, seed=11)
    terms = build_terms(inst)
    state = TeamState(inst, terms, construct(inst, 1))
    LocalSearch(state, np.random.default_rng(0)).run(max_steps=200)
    for teams in ([0, 1, 2], [3, 5], [1, 4, 7, 9]):
        solve_neighbourhood(state, teams, time_limit=2, seed=0)
        check = validate(inst, state.assign, terms)
        assert state.soft_cost == check.objective
        assert state.hard_violations == 0 and check.ok


def test_local_search_deltas_match_recomputation() -> None:
    inst = cohort(30, seed=2)
    terms = build_terms(inst)
    state = TeamState(inst, terms, construct(inst, 0))
    ls = LocalSearch(state, np.random.default_rng(4))
    for _ in range(20):
        ls.run(max_steps=25)
        assert state.total == sum(state.team_cost(m, t) for t, m in enumerate(state.members))
        assert state.soft_cost == validate(inst, state.assign, terms).objective


def test_exact_and_lns_results_validate() -> None:
    inst = cohort(28, seed=7)
    for strategy in ("exact", "lns"):
        result = solve_instance(inst, time_limit=2, seed=0, strategy=strategy)  # type: ignore[arg-type]
        assert result.status in (Status.OPTIMAL, Status.FEASIBLE)
        assert result.valid
        assert result.search_objective == result.objective
        assert result.bound is not None and result.bound <= result.objective + 1e-9
        assert sorted(result.assignment) == sorted(inst.ids)


def test_deterministic_mode_repeats() -> None:
    roster = load_roster(
        "instances/synthetic/n120_s1/roster.csv", avoid="instances/synthetic/n120_s1/avoid.csv"
    )
    model = FormationModel.from_toml("models/collaborative.toml")
    runs = [
        form(
            roster, model, time_limit=0.5, seed=3, workers=1, deterministic=True, strategy="lns"
        ).assignment
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_infeasible_hard_overlap_names_the_learner() -> None:
    records = [learner(f"p{i}", availability="Mon-Fri 18:00-21:00") for i in range(5)]
    records.append(learner("lonely", availability="Sun 03:00-04:00"))
    inst = make_instance(
        records, {"overlap": {"hours": 2, "hard": True, "reference_date": REF}}, team={"size": 3}
    )
    result = solve_instance(inst, time_limit=2)
    assert result.status == Status.INFEASIBLE
    assert any("lonely" in c for c in result.conflicts)


def test_infeasible_combination_names_rules() -> None:
    # four intrinsic learners, two teams of three: hard motivation wants two per team,
    # but q0 must avoid the other three; each rule alone can hold, together they cannot
    records = [learner(f"q{i}", motivation="intrinsic" if i < 4 else "imposed") for i in range(6)]
    inst = make_instance(
        records,
        {"motivation": {"hard": True}},
        team={"teams": 2},
        avoid=[("q0", "q1"), ("q0", "q2"), ("q0", "q3")],
    )
    result = solve_instance(inst, time_limit=2, strategy="exact")
    assert result.status == Status.INFEASIBLE
    text = " ".join(result.conflicts)
    assert "avoid" in text and "motivation" in text


def test_sections_never_mix() -> None:
    records = [learner(f"s{i}", section="A" if i < 6 else "B") for i in range(12)]
    inst = make_instance(records, {"motivation": {"weight": 1}}, team={"size": 3})
    result = solve_instance(inst, time_limit=1)
    assert result.valid
    for team in result.teams:
        assert len({m[1:] and ("A" if int(m[1:]) < 6 else "B") for m in team.members}) == 1


def test_demo_solves_and_validates(demo_paths: dict[str, str]) -> None:
    roster = load_roster(
        demo_paths["roster"], avoid=demo_paths["avoid"], prefer=demo_paths["prefer"]
    )
    model = FormationModel.from_toml(demo_paths["model"])
    inst = build_instance(roster, model)
    result = solve_instance(inst, time_limit=5, seed=0)
    assert result.feasible
    check = validate(inst, [result.assignment[i] - 1 for i in inst.ids])
    assert check.ok and check.objective == round(result.objective * OBJECTIVE_SCALE)


def test_deterministic_compiled_search_repeats() -> None:
    d = "instances/synthetic/n120_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    model = FormationModel.from_toml("models/collaborative.toml")
    results = [
        form(roster, model, time_limit=2, seed=5, workers=1, deterministic=True, strategy="lns")
        for _ in range(2)
    ]
    assert results[0].assignment == results[1].assignment
    assert results[0].valid and results[0].objective == results[1].objective


def test_exact_strategy_reports_progress() -> None:
    # small cohorts run the exact strategy; its progress feeds the live line
    roster = load_roster("instances/demo/roster.csv", avoid="instances/demo/avoid.csv")
    model = FormationModel.from_toml("models/collaborative.toml")
    seen: list = []
    result = form(roster, model, time_limit=3, progress=seen.append)
    assert result.strategy == "exact"
    assert seen, "no progress reported"
    assert seen[0].objective is not None
    objectives = [p.objective for p in seen if p.objective is not None]
    assert objectives == sorted(objectives, reverse=True)  # only improvements are reported
    bounds = [p.bound for p in seen if p.bound is not None]
    assert bounds == sorted(bounds)
    assert min(objectives) == pytest.approx(result.objective, abs=1e-6)


def test_search_plan_gets_an_intrinsic_member_in_every_team_it_can() -> None:
    # 24 learners in teams of 4, 6 intrinsic: a plan with two teams holding two each
    # and two teams without; the swaps keep the objective the validator's
    from teamform.search.outcome import Outcome
    from teamform.solve import _intrinsic_everywhere

    records = [
        learner(
            f"q{i:02d}",
            motivation="intrinsic" if i in (0, 1, 4, 5, 8, 12) else "imposed",
            availability=WINDOWS[i % 2],
            skills={"p": 1 + i % 5},
        )
        for i in range(24)
    ]
    inst = make_instance(records, dict(ALL, category=[]), team={"size": 4})
    terms = build_terms(inst)
    plan = [i // 4 for i in range(24)]  # teams 0, 1 hold two, 4 and 5 none
    check = validate(inst, plan, terms)
    outcome = Outcome(Status.FEASIBLE, list(plan), objective=check.objective)
    _intrinsic_everywhere(inst, terms, outcome)
    assert outcome.assignment is not None
    counts = np.bincount(outcome.assignment, weights=inst.intrinsic, minlength=inst.k)
    assert counts.min() >= 1
    after = validate(inst, outcome.assignment, terms)
    assert after.ok
    assert outcome.objective == after.objective < check.objective


def test_deterministic_search_gives_every_team_an_intrinsic_member() -> None:
    # 96 learners, 24 teams, 24 intrinsic with skills 5 or 1 among imposed 3s: skill
    # balance (weighed 50 to motivation's 1) pairs a 5 with a 1 and leaves teams of
    # imposed learners; the deterministic run must still end with one in every team
    records = [
        learner(
            f"d{i:02d}",
            motivation="intrinsic" if i < 24 else "imposed",
            availability=WINDOWS[0],
            skills={"p": (5 if i % 2 else 1) if i < 24 else 3},
        )
        for i in range(96)
    ]
    criteria = {"skill_balance": {"weight": 50}, "motivation": {"weight": 1}}
    inst = make_instance(records, criteria, team={"size": 4})
    result = solve_instance(inst, time_limit=1.0, seed=0, strategy="lns", deterministic=True)
    assert result.feasible
    plan = [result.assignment[i] - 1 for i in inst.ids]
    counts = np.bincount(plan, weights=inst.intrinsic, minlength=inst.k)
    assert counts.min() >= 1
    check = validate(inst, plan)
    assert check.ok and check.objective == round(result.objective * OBJECTIVE_SCALE)


def test_finishing_cost_counts_each_part_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # on a clock that moves only when a part of the finish runs: validation 1 s, the
    # layout-wide measures 2 s, each team summarised 10 ms; warming up is not counted
    import types

    import teamform.solve as solve

    inst = cohort(120, seed=5)
    terms = build_terms(inst)
    start = construct(inst, 0)
    now = [0.0]
    clock = types.SimpleNamespace(perf_counter=lambda: now[0], thread_time=lambda: now[0])
    monkeypatch.setattr(solve, "time", clock)
    real_validate, real_summarize = solve.validate, solve.summarize

    def validate_(*args: object, **kw: object) -> object:
        now[0] += 1.0
        return real_validate(*args, **kw)  # type: ignore[arg-type]

    summarised: list[int] = []

    def summarize_(*args: object, only: list[int], **kw: object) -> object:
        summarised.append(len(only))
        now[0] += 2.0 if not only else 0.01 * len(only)
        return real_summarize(*args, only=only, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(solve, "validate", validate_)
    monkeypatch.setattr(solve, "summarize", summarize_)
    for writing in (False, True):
        summarised.clear()
        cost = solve.finishing_cost(inst, terms, start, include_writing=writing)
        assert cost == pytest.approx(1.0 + 2.0 + 0.01 * inst.k)
        # the fixed part, one team to warm up, then the sample (every team of 30), twice
        assert summarised == [0, 1, inst.k, inst.k]
    reserve, work = solve._reserve(inst, terms, start, 60.0, False, True)
    # with the process's exit after the command's own clock stops
    exit_ = solve._EXIT_PER_LEARNER * inst.n
    assert work == pytest.approx(3.0 + 0.01 * inst.k + exit_)
    assert reserve == pytest.approx(
        solve._RESERVE_MARGIN * (3.0 + 0.01 * inst.k + exit_) + solve._RESERVE_FIXED
    )
    assert solve._reserve(inst, terms, start, 2.0, False, True)[0] == 2.0  # never past the limit
    # a second of this thread's work took 3 s of wall time since the solve began: the
    # finish, measured in work, is counted at that rate
    wall = [0.0]
    clock.perf_counter = lambda: wall[0]
    since = solve.Since.now()
    wall[0], now[0] = 3.0, now[0] + 1.0
    assert since.slowdown() == pytest.approx(3.0)
    reserve, _ = solve._reserve(inst, terms, start, 60.0, False, True, since)
    assert reserve == pytest.approx(
        solve._RESERVE_MARGIN * 3.0 * (3.0 + 0.01 * inst.k + exit_) + solve._RESERVE_FIXED
    )


def _fake_clock(
    monkeypatch: pytest.MonkeyPatch, wall: float, cpu: float
) -> tuple[list[float], list[float]]:
    """The solve's wall clock and this thread's CPU clock, read from the two lists
    returned (a test moves them by hand)."""
    import types

    import teamform.solve as solve

    walls, cpus = [wall], [cpu]
    clock = types.SimpleNamespace(perf_counter=lambda: walls[0], thread_time=lambda: cpus[0])
    monkeypatch.setattr(solve, "time", clock)
    return walls, cpus


def _found(inst: Instance, terms: list[Term], start: list[int]) -> Outcome:
    """What a search stood in for by a test hands back: its start, as a feasible
    plan with the validator's objective."""
    plan = list(start)
    return Outcome(Status.FEASIBLE, plan, objective=validate(inst, plan, terms).objective)


def test_a_hard_spread_holds_before_the_search_where_only_other_hours_mend_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # intrinsic learners free on Monday only, imposed ones on Wednesday only, and a
    # start with both intrinsic learners of a pair together: no swap within the same
    # hours mends a team, so the hard spread needs partners of other hours before the
    # search (whose steep moves and time repairs wait for a plan breaking no hard rule)
    import teamform.solve as solve

    records = [learner(f"a{i}", motivation="intrinsic", availability="Mon 10:00-13:00")
               for i in range(4)]  # fmt: skip
    records += [learner(f"b{i}", availability="Wed 18:00-21:00") for i in range(4)]
    overlap = {"weight": 40, "hours": 2, "block": 1, "reference_date": REF}
    inst = make_instance(records, {"motivation": {"hard": True}, "overlap": overlap})
    terms = build_terms(inst)
    starts: list[list[int]] = []

    def run_lns(inst: Instance, terms: list[Term], start: list[int], **_: object) -> Outcome:
        starts.append(list(start))
        return _found(inst, terms, start)

    monkeypatch.setattr(solve, "construct", lambda *_: [0, 0, 1, 1, 2, 2, 3, 3])
    monkeypatch.setattr(solve, "run_lns", run_lns)
    solve.search(inst, terms, time_limit=5.0, strategy="lns", deterministic=True)
    assert len(starts) == 1
    assert validate(inst, starts[0], terms).violations == []


class _FakePace:
    """Stands in for :class:`teamform.timing.Pace` in a solve on fake clocks: the
    test sets what the last second's slowdown reads, and calls ``watch`` as the
    helper thread would."""

    made: ClassVar[list[_FakePace]] = []

    def __init__(self, *, active: bool = True, watch: object = None) -> None:
        self.active, self.watch = active, watch
        self.slowdown: float | None = None
        self.longest_hold = 0.0
        _FakePace.made.append(self)

    def __enter__(self) -> _FakePace:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def recent(self) -> float | None:
        return self.slowdown

    def cpu(self) -> float | None:
        return None  # the watcher then reads the (fake) thread clock


@pytest.fixture
def fake_pace(monkeypatch: pytest.MonkeyPatch) -> list[_FakePace]:
    import teamform.solve as solve

    _FakePace.made = []
    monkeypatch.setattr(solve, "Pace", _FakePace)
    return _FakePace.made


def test_the_search_stops_early_once_the_finish_needs_the_time_left(
    monkeypatch: pytest.MonkeyPatch, fake_pace: list[_FakePace]
) -> None:
    # the helper thread looks at the pace while the search runs: at the slowdown
    # the reserve was measured at, the search goes on; once the last second says
    # the finish needs what is left after the polish (or the longest burst of work
    # so far would end past that), the search's stop is set, and the result is not
    # one the caller cancelled
    import teamform.solve as solve

    inst = cohort(120, seed=5)
    terms = build_terms(inst)
    wall, cpu = _fake_clock(monkeypatch, 100.0, 50.0)
    monkeypatch.setattr(solve, "finishing_cost", lambda *_, **__: 1.0)
    seen: list[tuple[str, bool]] = []

    def run_lns(
        inst_: object, terms_: object, start: list[int], *, cancel: object, time_limit: float,
        **_: object,
    ) -> Outcome:  # fmt: skip
        pace = fake_pace[0]
        assert pace.active and callable(pace.watch)
        wall[0], cpu[0] = wall[0] + 20.0, cpu[0] + 20.0  # 20 s in, 40 s left
        pace.watch(pace)
        seen.append(("as measured", cancel.is_set()))  # type: ignore[attr-defined]
        pace.longest_hold = 45.0  # a burst that long would end past the polish
        pace.watch(pace)
        seen.append(("long bursts", cancel.is_set()))  # type: ignore[attr-defined]
        cancel.clear()  # type: ignore[attr-defined]
        pace.longest_hold = 0.0
        pace.slowdown = 40.0  # 1 s of finishing work now takes 44 s
        pace.watch(pace)
        seen.append(("busy", cancel.is_set()))  # type: ignore[attr-defined]
        return _found(inst, terms, start)

    monkeypatch.setattr(solve, "run_lns", run_lns)
    monkeypatch.setattr(solve, "last_swaps_for_time", lambda *_: None)
    monkeypatch.setattr(solve, "spread_assignment", lambda *_, **__: None)
    found = solve.search(inst, terms, time_limit=60.0, strategy="lns", started=100.0)
    assert seen == [("as measured", False), ("long bursts", True), ("busy", True)]
    assert found.stopped is None


def test_a_deterministic_search_starts_no_pace(
    monkeypatch: pytest.MonkeyPatch, fake_pace: list[_FakePace]
) -> None:
    import teamform.solve as solve

    inst = cohort(120, seed=5)
    terms = build_terms(inst)
    solve.search(inst, terms, time_limit=0.2, strategy="lns", deterministic=True)
    assert [p.active for p in fake_pace] == [False]


@pytest.mark.parametrize(
    ("work", "last_second", "counted"),
    [
        (1.0, None, 3.0),  # busy over the whole search: 3 s of wall time per second of work
        (3.0, 2.5, 2.5),  # unhindered on average, but its last second took 2.5 s per second
        (1.0, 2.0, 3.0),  # the last second less busy than the whole: the whole counts
    ],
)
def test_steps_after_the_search_end_by_the_reserve_at_the_search_slowdown(
    monkeypatch: pytest.MonkeyPatch,
    fake_pace: list[_FakePace],
    work: float,
    last_second: float | None,
    counted: float,
) -> None:
    # finishing measured at 1 s of work, on a machine that turns busy during the
    # search (3 s of wall time for ``work`` seconds of this thread's work, and the
    # last second's pace as the helper thread read it): the swaps and the spread
    # after it end where the finish, counted at the higher slowdown, still fits
    import teamform.solve as solve

    inst = cohort(120, seed=5)
    terms = build_terms(inst)
    wall, cpu = _fake_clock(monkeypatch, 100.0, 50.0)
    monkeypatch.setattr(solve, "finishing_cost", lambda *_, **__: 1.0)

    def run_lns(inst_: object, terms_: object, start: list[int], **_: object) -> Outcome:
        wall[0], cpu[0] = wall[0] + 3.0, cpu[0] + work
        fake_pace[0].slowdown = last_second
        return _found(inst, terms, start)

    ends: dict[str, float] = {}

    def last_swaps(inst_: object, terms_: object, plan: object, deadline: float) -> None:
        ends["swaps"] = deadline

    def spread(*_: object, until: float | None = None, **__: object) -> None:
        if until is not None:  # the repair after the search (the construction's has none)
            ends["spread"] = until

    monkeypatch.setattr(solve, "run_lns", run_lns)
    monkeypatch.setattr(solve, "last_swaps_for_time", last_swaps)
    monkeypatch.setattr(solve, "spread_assignment", spread)
    found = solve.search(inst, terms, time_limit=60.0, strategy="lns", started=100.0)
    kept = (
        solve._RESERVE_MARGIN * counted * (1.0 + solve._EXIT_PER_LEARNER * inst.n)
        + solve._RESERVE_FIXED
    )
    assert found.reserve == pytest.approx(kept)
    assert ends["spread"] == pytest.approx(160.0 - kept)
    # the swaps toward a window have half of what is left from the search's end
    assert ends["swaps"] == pytest.approx((wall[0] + 160.0 - kept) / 2)


def test_a_search_too_short_to_measure_keeps_the_solve_slowdown(
    monkeypatch: pytest.MonkeyPatch, fake_pace: list[_FakePace]
) -> None:
    # the machine is busy from the start (3 s of wall time per second of this thread's
    # work while the finish is measured) and the search gets a tenth of a second, too
    # short to say how busy: the reserve after it is counted at the solve's slowdown,
    # not at none
    import teamform.solve as solve

    inst = cohort(120, seed=5)
    terms = build_terms(inst)
    wall, cpu = _fake_clock(monkeypatch, 100.0, 50.0)

    def finishing_cost(*_: object, **__: object) -> float:
        wall[0], cpu[0] = wall[0] + 3.0, cpu[0] + 1.0
        return 1.0

    def run_lns(inst_: object, terms_: object, start: list[int], **_: object) -> Outcome:
        wall[0], cpu[0] = wall[0] + 0.1, cpu[0] + 0.1
        return _found(inst, terms, start)

    monkeypatch.setattr(solve, "finishing_cost", finishing_cost)
    monkeypatch.setattr(solve, "run_lns", run_lns)
    monkeypatch.setattr(solve, "last_swaps_for_time", lambda *_: None)
    monkeypatch.setattr(solve, "spread_assignment", lambda *_, **__: None)
    found = solve.search(inst, terms, time_limit=60.0, strategy="lns", started=100.0)
    slowdown = (wall[0] - 100.0) / (cpu[0] - 50.0)
    assert slowdown > 2.5
    assert found.reserve == pytest.approx(
        solve._RESERVE_MARGIN * slowdown * (1.0 + solve._EXIT_PER_LEARNER * inst.n)
        + solve._RESERVE_FIXED
    )


def test_bounds_late_in_the_limit_leave_the_finish_its_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a solve that reaches the bounds 59 s into a 60 s limit (a loaded machine): the
    # bounds get what is left once the finish's estimate is kept, not their 4 % share
    import contextlib

    import teamform.solve as solve
    from teamform.criteria.overlap_partition import BOUND_SHARE
    from teamform.search.outcome import Outcome

    inst = cohort(120, seed=5)
    terms = build_terms(inst)
    _fake_clock(monkeypatch, 100.0, 0.0)  # a wall clock standing at 100 s
    given: list[float | None] = []

    @contextlib.contextmanager
    def wall_limit(seconds: float | None):  # type: ignore[no-untyped-def]
        given.append(seconds)
        yield

    def run_lns(inst_: object, terms_: object, start: list[int], **_: object) -> Outcome:
        return Outcome(Status.UNKNOWN, list(start))

    monkeypatch.setattr(solve, "wall_limit", wall_limit)
    monkeypatch.setattr(solve, "run_lns", run_lns)
    monkeypatch.setattr(solve, "finishing_cost", lambda *_, **__: 0.01)
    monkeypatch.setattr(solve, "last_swaps_for_time", lambda *_: None)
    for started in (100.0, 41.0):  # at the start of the limit, and 59 s into it
        solve.search(inst, terms, time_limit=60.0, strategy="lns", started=started)
    finish = solve._fixed_reserve(inst, 60.0)
    assert given == [pytest.approx(BOUND_SHARE * 60.0), pytest.approx(1.0 - finish)]


def test_finishing_sample_is_runs_of_consecutive_teams_over_the_cohort() -> None:
    import teamform.solve as solve

    assert solve._sample(30) == list(range(30))
    sample = solve._sample(12_500)
    assert len(sample) == solve._SAMPLE_TEAMS and sample == sorted(set(sample))
    assert sample[0] == 0 and sample[-1] == 12_499
    starts = [t for t in sample if t - 1 not in sample]
    assert len(starts) == solve._SAMPLE_RUNS
    assert all(b - a > 1000 for a, b in itertools.pairwise(starts))
