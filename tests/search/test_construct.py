"""Construction: every hard rule met from the start, on real-sized cohorts."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conftest import learner
from teamform import FormationModel, build_instance, load_roster
from teamform.availability import FULL_WEEK_MASK, common_block_slots
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.criteria.base import Term
from teamform.instance import Instance
from teamform.pins import Pins
from teamform.roster import Roster
from teamform.search.construct import construct, construct_from_previous, give_intrinsic
from teamform.validate import validate


@pytest.mark.parametrize("n", [30, 120, 500, 2000])
@pytest.mark.parametrize("preset", ["collaborative", "cooperative"])
def test_construction_meets_hard_rules(n: int, preset: str) -> None:
    d = f"instances/synthetic/n{n}_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml(f"models/{preset}.toml"))
    check = validate(inst, construct(inst, seed=4), build_terms(inst))
    assert check.ok, check.violations[:3]


def test_sections_and_dense_avoid_lists() -> None:
    records = [learner(f"s{i:02d}", section="AB"[i % 2]) for i in range(24)]
    # every learner avoids the next two of its section: construction must still separate them
    avoid = [(f"s{i:02d}", f"s{(i + k) % 24:02d}") for i in range(24) for k in (2, 4)]
    roster = Roster.from_records(records, avoid=avoid)
    inst = build_instance(roster, FormationModel.from_dict({"team": {"size": 3}}))
    check = validate(inst, construct(inst, seed=0), [])
    assert check.ok, check.violations


def previous_instance(previous: dict[str, int]) -> Instance:
    records = [learner(f"k{i}") for i in range(8)]
    roster = Roster.from_records(records, avoid=[("k0", "k5")])
    model = FormationModel.from_dict({"team": {"size": 4}})
    return build_instance(roster, model, previous=previous)


def test_previous_teams_are_kept_when_they_still_fit() -> None:
    previous = {f"k{i}": 1 + i // 4 for i in range(8)}  # teams 1 and 2, from 1
    inst = previous_instance(previous)
    start = construct_from_previous(inst)
    assert start == [0, 0, 0, 0, 1, 1, 1, 1]


def test_late_joiner_and_overflow_are_placed() -> None:
    # k0..k4 were in team 1 (five, one too many), k5 and k6 in team 2, k7 is new
    previous = {f"k{i}": 1 for i in range(5)} | {"k5": 2, "k6": 2}
    inst = previous_instance(previous)
    start = construct_from_previous(inst)
    assert validate(inst, start, []).ok
    assert sum(1 for i in range(5) if start[i] == 0) == 4  # only the overflow moved
    assert start[5] == start[6] == 1


def _intrinsic_per_team(inst: Instance, assignment: list[int]) -> list[int]:
    counts = [0] * inst.k
    for i, t in enumerate(assignment):
        counts[t] += int(inst.intrinsic[i])
    return counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_team_gets_an_intrinsic_member_when_there_are_enough(seed: int) -> None:
    # 40 learners in teams of 4, 12 intrinsic (the even spread: 1-2 a team), free at
    # overlapping hours; some intrinsic learners must avoid each other
    records = [
        learner(
            f"m{i:02d}",
            motivation="intrinsic" if i % 4 in (0, 1) and i < 24 else "imposed",
            availability="Mon-Fri 16:00-22:00" if i % 2 else "Mon-Fri 14:00-20:00",
            skills={"x": 1 + i % 5},
        )
        for i in range(40)
    ]
    avoid = [("m00", "m04"), ("m01", "m05"), ("m08", "m12")]
    roster = Roster.from_records(records, avoid=avoid)
    model = FormationModel.from_dict(
        {
            "team": {"size": 4},
            "criteria": {
                "motivation": {"weight": 30},
                "overlap": {"weight": 40, "hours": 3, "reference_date": "2026-01-12"},
            },
        }
    )
    inst = build_instance(roster, model)
    start = construct(inst, seed)
    assert validate(inst, start, build_terms(inst)).ok  # sizes and avoid pairs hold
    assert sorted(_intrinsic_per_team(inst, start)) == [1] * 8 + [2] * 2


def test_construction_spreads_intrinsic_learners_on_a_cohort() -> None:
    d = "instances/synthetic/n2000_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml("models/collaborative.toml"))
    assert int(inst.intrinsic.sum()) >= inst.k  # enough for every team
    counts = _intrinsic_per_team(inst, construct(inst, seed=0))
    # the even spread is 1-2 a team: none is left without one
    assert min(counts) >= 1
    assert sum(1 for c in counts if c > 2) <= inst.k // 25


def _lacking_instance(pins: Pins | None = None) -> tuple[Instance, list[int]]:
    """Four teams of four: teams 0 and 1 hold two intrinsic learners each, teams 2
    and 3 none; every learner's hours are one of two patterns."""
    records = [
        learner(
            f"g{i:02d}",
            motivation="intrinsic" if i in (0, 1, 4, 5) else "imposed",
            availability="Mon 10:00-14:00" if i % 2 else "Tue 10:00-14:00",
            skills={"x": 1 + i % 5},
        )
        for i in range(16)
    ]
    # g00 may not join g08 (team 2): its partner there must be another
    roster = Roster.from_records(records, avoid=[("g00", "g08"), ("g00", "g10")])
    model = FormationModel.from_dict(
        {
            "team": {"size": 4},
            "criteria": {
                "motivation": {"weight": 30},
                "overlap": {"weight": 40, "hours": 1, "reference_date": "2026-01-12"},
            },
        }
    )
    inst = build_instance(roster, model, pins=pins)
    return inst, [i // 4 for i in range(16)]


def test_give_intrinsic_fills_every_team_at_the_same_hours() -> None:
    inst, assignment = _lacking_instance()
    before = list(assignment)
    swaps, change = give_intrinsic(inst, assignment)
    assert (swaps, change) == (2, 0)
    assert _intrinsic_per_team(inst, assignment) == [1, 1, 1, 1]
    assert sorted(collections.Counter(assignment).values()) == [4, 4, 4, 4]
    moved = [i for i in range(16) if assignment[i] != before[i]]
    assert len(moved) == 4
    for i in moved:
        # each swap partner has the hours of the learner it replaces: common time unchanged
        (j,) = [j for j in moved if before[j] == assignment[i] and assignment[j] == before[i]]
        assert inst.masks[i] == inst.masks[j]
    assert assignment[0] != 2  # g00 avoids g08 and g10
    assert validate(inst, assignment, build_terms(inst)).ok


def test_give_intrinsic_leaves_pinned_learners_and_full_cohorts() -> None:
    # g00, g01 and g04 pinned where they are: only g05 of team 1 can move
    pins = Pins(teams={f"g{i:02d}": 1 + i // 4 for i in (0, 1, 4)})
    inst, assignment = _lacking_instance(pins)
    swaps, _ = give_intrinsic(inst, assignment)
    assert swaps == 1
    assert _intrinsic_per_team(inst, assignment).count(0) == 1
    assert [assignment[i] for i in (0, 1, 4)] == [0, 0, 1]
    # no team holds two any more: nothing left to give
    assert give_intrinsic(inst, assignment) == (0, 0)


def _team_cost(terms: list[Term]) -> Callable[[list[int], int], int]:
    """A team's cost as the search counts it: the weighted penalties of ``terms``."""

    def cost(members: list[int], team: int) -> int:
        return sum(t.coefficient * t.team_penalty(members, team) for t in terms)

    return cost


def _pairs(records: list[dict[str, Any]], none_step: float) -> tuple[Instance, list[Term]]:
    """Teams of two under motivation (30) and 1 h of overlap (40/h, ``none_step`` h)."""
    overlap = {"weight": 40, "hours": 1, "none": none_step, "reference_date": "2026-01-12"}
    model = FormationModel.from_dict(
        {"team": {"size": 2}, "criteria": {"motivation": {"weight": 30}, "overlap": overlap}}
    )
    inst = build_instance(Roster.from_records(records), model)
    return inst, build_terms(inst)


def test_give_intrinsic_with_costs_only_lowers_them() -> None:
    inst, assignment = _lacking_instance()
    terms = build_terms(inst)
    cost = _team_cost(terms)
    before = validate(inst, assignment, terms).objective
    swaps, change = give_intrinsic(inst, assignment, cost)
    assert swaps == 2 and change < 0
    assert validate(inst, assignment, terms).objective == before + change
    # a cost that no swap lowers: nothing changes, unless a higher ceiling allows it
    _, fresh = _lacking_instance()

    def flat(members: list[int], team: int) -> int:
        return 5 - int(sum(inst.intrinsic[members]))  # a swap changes the sum by 0

    assert give_intrinsic(inst, fresh, flat) == (0, 0)
    assert fresh == [i // 4 for i in range(16)]

    def dearer(members: list[int], team: int) -> int:
        return 7 * int(team in (2, 3) and inst.intrinsic[members].any())  # 7 a team

    assert give_intrinsic(inst, fresh, dearer, ceiling=7) == (0, 0)  # not below 7
    assert give_intrinsic(inst, fresh, dearer, ceiling=8) == (2, 14)
    assert _intrinsic_per_team(inst, fresh) == [1, 1, 1, 1]


def test_give_intrinsic_after_a_search_takes_no_team_s_last_common_block() -> None:
    # team 0: two intrinsic learners, one free Monday and Tuesday, one Monday only;
    # team 1: two imposed learners free Tuesday only. Each swap giving team 1 an
    # intrinsic member leaves one of the teams with no common hour.
    records = [
        learner("a", motivation="intrinsic", availability="Mon 10:00-12:00; Tue 10:00-12:00"),
        learner("b", motivation="intrinsic", availability="Mon 10:00-12:00"),
        learner("c", availability="Tue 10:00-12:00"),
        learner("d", availability="Tue 10:00-12:00"),
    ]

    def swaps(none_step: float, keep_time: bool) -> tuple[list[int], int, int]:
        inst, terms = _pairs(records, none_step)
        plan = [0, 0, 1, 1]
        made, change = give_intrinsic(inst, plan, _team_cost(terms), 10**9, keep_time=keep_time)
        return plan, made, change

    # the team without time costs 1 h + 2 h (120) against the 2 learners off the
    # spread (60): with the guard the teams stay, without it the ceiling lets it by
    assert swaps(2, keep_time=True) == ([0, 0, 1, 1], 0, 0)
    plan, made, change = swaps(2, keep_time=False)
    assert made == 1 and change == 60 * OBJECTIVE_SCALE and sorted(plan) == [0, 0, 1, 1]
    # without the step the swap lowers the cost (40 against 60): it is made either way
    plan, made, change = swaps(0, keep_time=True)
    assert made == 1 and change < 0


def test_give_intrinsic_after_a_search_leaves_no_team_further_below_its_target() -> None:
    # teams of two needing 2 common hours. Team 0: two intrinsic learners sharing
    # 3 h (Monday 2 h, Tuesday 1 h); team 1: two imposed learners sharing Tuesday's
    # 2 h. Any swap giving team 1 an intrinsic member leaves both teams 1 h short
    # (neither without time): worth it only where it costs less than the spread
    # it mends (2 learners off, 60)
    both = "Mon 10:00-12:00; Tue 10:00-11:00"
    records = [
        learner("a", motivation="intrinsic", availability=both),
        learner("b", motivation="intrinsic", availability=both),
        learner("c", availability="Tue 10:00-12:00"),
        learner("d", availability="Tue 10:00-12:00"),
    ]

    def swaps(weight: int) -> tuple[list[int], int, int]:
        overlap = {"weight": weight, "hours": 2, "reference_date": "2026-01-12"}
        criteria = {"motivation": {"weight": 30}, "overlap": overlap}
        model = FormationModel.from_dict({"team": {"size": 2}, "criteria": criteria})
        inst = build_instance(Roster.from_records(records), model)
        plan = [0, 0, 1, 1]
        cost = _team_cost(build_terms(inst))
        made, change = give_intrinsic(inst, plan, cost, 10**9, keep_time=True)
        return plan, made, change

    # 2 h short at 40 (80) against 60: the search's plan stays as it is
    assert swaps(40) == ([0, 0, 1, 1], 0, 0)
    # at 20 an hour (40 against 60) the swap lowers the cost and is made
    plan, made, change = swaps(20)
    assert made == 1 and change == -20 * OBJECTIVE_SCALE and sorted(plan) == [0, 0, 1, 1]


def test_python_construction_narrows_its_window_to_the_time_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the kernel not ready: growing teams in Python (about 0.2 s here by the estimate)
    # would take more than a quarter of a 0.5 s budget, so each pick looks at fewer
    import time

    from teamform.search import construct as construction
    from teamform.search.kernels import collecting

    monkeypatch.setattr(construction, "usable", lambda *args, **kw: False)
    d = "instances/synthetic/n500_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml("models/collaborative.toml"))
    windows: list[int] = []
    original = construction._grow_python

    def grow(*args: Any) -> Any:
        windows.append(args[-1])
        return original(*args)

    monkeypatch.setattr(construction, "_grow_python", grow)
    for budget, narrower in ((0.5, True), (100.0, False)):
        windows.clear()
        with collecting(deadline=time.perf_counter() + budget):
            start = construct(inst, seed=0)
        (window,) = windows
        assert (construction._NARROWEST <= window < 48) if narrower else window == 48
        assert validate(inst, start, build_terms(inst)).ok  # sizes and avoid pairs
        assert min(_intrinsic_per_team(inst, start)) >= 1


def test_intrinsic_ranges_are_the_criterion_s_targets() -> None:
    # two sections of different sizes and intrinsic shares, teams of 2-3
    from teamform.criteria.motivation import MotivationTerm
    from teamform.search.construct import intrinsic_ranges

    records = [
        learner(
            f"r{i:02d}",
            section="A" if i < 17 else "B",
            motivation="intrinsic" if (i < 17 and i % 2) or (i >= 17 and i % 5 == 0) else "imposed",
        )
        for i in range(29)
    ]
    model = FormationModel.from_dict(
        {"team": {"size": 3, "min": 2, "max": 3}, "criteria": {"motivation": {"weight": 5}}}
    )
    inst = build_instance(Roster.from_records(records), model)
    teams = np.arange(inst.k)
    lo, hi = intrinsic_ranges(inst, teams)
    term = MotivationTerm(inst, weight=5, hard=False)
    assert [(int(a), int(b)) for a, b in zip(lo, hi, strict=True)] == [
        term.target(int(t)) for t in teams
    ]
    assert len(set(zip(lo.tolist(), hi.tolist(), strict=True))) > 1  # the sections differ


def test_give_intrinsic_after_a_search_looks_past_the_nearest_for_a_swap_keeping_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # team 2 (two imposed learners free Tuesday) has no intrinsic member. The nearest
    # candidates by its hours are a and c, free Tuesday too, but their teams meet on
    # Monday and Wednesday: taking e there leaves that team without a common hour.
    # g's team meets on Tuesday: the swap of g for e keeps every team's time.
    from teamform.search import construct as construction

    monkeypatch.setattr(construction, "_INTRINSIC_LOOK", 1)
    tue, thu = "Tue 10:00-12:00", "Thu 10:00-12:00"
    records = [
        learner("a", motivation="intrinsic", availability=f"Mon 10:00-12:00; {tue}"),
        learner("b", motivation="intrinsic", availability="Mon 10:00-12:00"),
        learner("c", motivation="intrinsic", availability=f"Wed 10:00-12:00; {tue}"),
        learner("d", motivation="intrinsic", availability="Wed 10:00-12:00"),
        learner("e", availability=tue),
        learner("f", availability=tue),
        learner("g", motivation="intrinsic", availability=f"{thu}; {tue}"),
        learner("h", motivation="intrinsic", availability=f"{tue}; {thu}"),
    ]
    inst, terms = _pairs(records, 2)
    plan = [i // 2 for i in range(8)]
    made, _ = give_intrinsic(inst, plan, _team_cost(terms), 10**9, keep_time=True)
    assert made == 1
    assert _intrinsic_per_team(inst, plan).count(0) == 0
    assert plan[6] == 2 and plan[4] == 3  # g for e
    assert validate(inst, plan, terms).ok
    _, block = construction._overlap_target(inst)
    for team in range(4):
        common = FULL_WEEK_MASK
        for i in np.flatnonzero(np.asarray(plan) == team).tolist():
            common &= inst.masks[i]
        assert common_block_slots(common, block) > 0, team


def _teams_without_time(inst: Instance, assignment: list[int]) -> int:
    from teamform.criteria.overlap import OverlapTerm

    (term,) = (t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    teams: dict[int, list[int]] = collections.defaultdict(list)
    for i, t in enumerate(assignment):
        teams[t].append(i)
    return sum(1 for m in teams.values() if term.common_slots(m) == 0)


@pytest.mark.parametrize("kernel", [False, True])
def test_construction_looks_further_on_before_a_team_loses_its_last_common_time(
    monkeypatch: pytest.MonkeyPatch, kernel: bool
) -> None:
    # where no learner of the window keeps a team's common time, one further on who
    # does takes the seat: 11, 12 and 11 teams without common time (of 125) before
    from teamform.search import construct as construction

    if not kernel:
        monkeypatch.setattr(construction, "usable", lambda *args, **kw: False)
    d = "instances/synthetic/n500_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml("models/collaborative.toml"))
    for seed, at_most in ((0, 8), (1, 7), (2, 11)):
        start = construct(inst, seed)
        assert validate(inst, start, build_terms(inst)).ok
        assert _teams_without_time(inst, start) <= at_most
        assert start == construct(inst, seed)  # the same plan again
