"""Motivation repair: teams out of range get an intrinsic learner by exact, improving swaps."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import learner, make_instance
from teamform.criteria import OBJECTIVE_SCALE, MotivationTerm, build_terms
from teamform.criteria.overlap import overlap_term
from teamform.instance import Instance
from teamform.search import spread
from teamform.search.local import TeamState
from teamform.search.spread import spread_assignment, spread_checks
from teamform.validate import validate

MOTIVATION_AND_OVERLAP = {
    "motivation": {"weight": 30},
    "overlap": {"weight": 40, "hours": 2, "block": 1, "reference_date": "2026-01-12"},
}


def test_swaps_fill_a_team_without_intrinsic_learners_keeping_common_time() -> None:
    # two availability groups, each with one team of two intrinsic and one of none:
    # swapping inside a group fixes both teams without losing common hours
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a3", availability="Mon 10:00-13:00"),
        learner("a4", availability="Mon 10:00-13:00"),
        learner("b1", motivation="intrinsic", availability="Wed 18:00-21:00"),
        learner("b2", motivation="intrinsic", availability="Wed 18:00-21:00"),
        learner("b3", availability="Wed 18:00-21:00"),
        learner("b4", availability="Wed 18:00-21:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    start = [0, 0, 1, 1, 2, 2, 3, 3]
    before = validate(inst, start, terms)
    assert before.penalties["motivation"] == 4
    found = spread_assignment(inst, terms, start, 10.0)
    assert found is not None
    assignment, objective = found
    after = validate(inst, assignment, terms)
    assert after.ok and after.objective == objective
    assert after.penalties == {"motivation": 0, "overlap": 0}
    # nobody crossed to the other availability group
    assert {assignment[i] for i in range(4)} == {0, 1}


def _two_groups_hard_spread(avoid: tuple[tuple[str, str], ...] = ()) -> Instance:
    """Two groups of four, free on Monday and on Wednesday, two intrinsic learners
    each; the spread a hard rule."""
    records = [
        learner(f"{g}{i}", motivation="intrinsic" if i < 2 else "imposed", availability=hours)
        for g, hours in (("a", "Mon 10:00-13:00"), ("b", "Wed 18:00-21:00"))
        for i in range(4)
    ]
    criteria = {**MOTIVATION_AND_OVERLAP, "motivation": {"hard": True}}
    return make_instance(records, criteria, avoid=avoid)


def test_a_hard_spread_is_repaired_too() -> None:
    # the same two groups with the spread a hard rule (no weight): every swap that
    # mends a breach lowers the plan's cost, so the repair runs for it as well
    inst = _two_groups_hard_spread()
    terms = build_terms(inst)
    start = [0, 0, 1, 1, 2, 2, 3, 3]
    assert len(validate(inst, start, terms).violations) == 4
    found = spread_assignment(inst, terms, start, 10.0)
    assert found is not None
    after = validate(inst, found[0], terms)
    assert after.ok and not after.violations
    assert after.penalties == {"motivation": 0, "overlap": 0}


def test_a_repair_that_breaks_a_hard_rule_never_reaches_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a repair that mends the spread (four teams off) but puts two avoid pairs together
    # (as a regrouping scored without some rule could): breaches as many as before, so
    # the plan it was given stays as it was
    inst = _two_groups_hard_spread(avoid=(("a0", "a2"), ("b0", "b2")))
    terms = build_terms(inst)
    start = [0, 0, 1, 1, 2, 2, 3, 3]

    def breaking(state: TeamState, *_: object, **__: object) -> int:
        mended = [0, 1, 0, 1, 2, 3, 2, 3]  # a0 with a2, b0 with b2
        state.set_teams(list(range(inst.k)), {t: [i for i in range(8) if mended[i] == t]
                                              for t in range(inst.k)})  # fmt: skip
        return 2

    monkeypatch.setattr(spread, "spread_intrinsic", breaking)
    assert len(validate(inst, start, terms).violations) == 4  # the spread
    assert len(validate(inst, [0, 1, 0, 1, 2, 3, 2, 3], terms).violations) == 2  # the pairs
    assert spread_assignment(inst, terms, start, 10.0) is None


def test_never_worse_and_respects_avoid_pairs() -> None:
    rng = np.random.default_rng(3)
    windows = ["Mon 10:00-13:00", "Tue 18:00-21:00", "Mon-Tue 09:00-22:00"]
    records = [
        learner(
            f"r{i:02d}",
            motivation="intrinsic" if rng.random() < 0.4 else "imposed",
            availability=windows[int(rng.integers(3))],
        )
        for i in range(24)
    ]
    avoid = [(f"r{i:02d}", f"r{i + 1:02d}") for i in range(0, 24, 3)]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP, team={"size": 4}, avoid=avoid)
    terms = build_terms(inst)
    # intrinsic learners packed together: most teams out of range
    order = sorted(range(24), key=lambda i: (not inst.intrinsic[i], i))
    start = [0] * 24
    for pos, i in enumerate(order):
        start[i] = pos // 4
    before = validate(inst, start, terms)
    found = spread_assignment(inst, terms, start, 10.0, seed=1)
    assert found is not None
    after = validate(inst, found[0], terms)
    assert after.objective < before.objective
    assert after.penalties["motivation"] < before.penalties["motivation"]
    assert len(after.violations) <= len(before.violations)


def test_nothing_to_do_when_every_team_is_in_range() -> None:
    records = [learner(f"m{i}", motivation="intrinsic" if i % 2 else "imposed") for i in range(8)]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    assert spread_assignment(inst, terms, [0, 0, 1, 1, 2, 2, 3, 3], 1.0) is None


def test_two_swaps_where_no_single_swap_helps(monkeypatch: pytest.MonkeyPatch) -> None:
    # teams of two, one intrinsic learner each: team 1 has none, team 3 two. Bringing an
    # intrinsic learner into team 1 costs more common time or balance than it saves, and
    # so does every single swap; a second swap between learners of one kind wins it back
    cells = [
        ("Wed", "imposed", 5),
        ("Mon-Tue", "imposed", 2),
        ("Wed", "imposed", 3),
        ("Wed", "intrinsic", 2),
        ("Tue", "intrinsic", 5),
        ("Wed", "intrinsic", 3),
        ("Mon-Tue", "intrinsic", 5),
        ("Mon", "imposed", 1),
    ]
    records = [
        learner(f"l{i}", availability=f"{d} 10:00-12:00", motivation=m, skill_a=str(s))
        for i, (d, m, s) in enumerate(cells)
    ]
    criteria = {
        "overlap": {"weight": 2, "hours": 2, "block": 1, "reference_date": "2026-01-12"},
        "motivation": {"weight": 3},
        "skill_balance": {"weight": 1},
    }
    inst = make_instance(records, criteria)
    terms = build_terms(inst)
    start = [0, 1, 0, 3, 2, 1, 2, 3]
    before = validate(inst, start, terms)
    assert before.penalties["motivation"] == 2
    # single swaps alone find nothing
    monkeypatch.setattr(spread, "_CHAIN_TEAMS", 0)
    monkeypatch.setattr(spread, "_WIDE_CALLS", 0)
    assert spread_assignment(inst, terms, start, None) is None
    monkeypatch.undo()
    found = spread_assignment(inst, terms, start, None)
    assert found is not None
    assignment, objective = found
    after = validate(inst, assignment, terms)
    assert after.ok and after.objective == objective < before.objective
    assert after.penalties["motivation"] < before.penalties["motivation"]


def test_exact_regrouping_where_swaps_and_chains_are_not_tried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the hand-worked case of the regrouping tests: pairs must sum to 6 skill points
    # and hold one intrinsic learner each; with swaps and chains switched off, the
    # exact regrouping of the team out of range with its partners finds that plan
    cells = [("i1", "intrinsic", 1), ("i2", "intrinsic", 5), ("i3", "intrinsic", 3),
             ("p1", "imposed", 5), ("p2", "imposed", 1), ("p3", "imposed", 3)]  # fmt: skip
    records = [learner(lid, motivation=m, skill_a=str(s)) for lid, m, s in cells]
    inst = make_instance(records, {"motivation": {"weight": 1}, "skill_balance": {"weight": 1}})
    terms = build_terms(inst)
    start = [0, 0, 2, 1, 1, 2]
    names = ("_SAME_MASK_TRIES", "_OTHER_TRIES", "_CHAIN_TEAMS", "_REGROUP_CALLS", "_WIDE_CALLS")
    for name in names:
        monkeypatch.setattr(spread, name, 0)
    assert spread_assignment(inst, terms, start, None) is None
    monkeypatch.setattr(spread, "_REGROUP_CALLS", 4)
    found = spread_assignment(inst, terms, start, None)
    assert found is not None
    after = validate(inst, found[0], terms)
    assert after.ok and after.objective == found[1] == 0
    teams = {frozenset(inst.ids[i] for i, t in enumerate(found[0]) if t == u) for u in range(3)}
    assert teams == {frozenset(p) for p in (("i1", "p1"), ("i2", "p2"), ("i3", "p3"))}


def test_check_prices_the_fix_where_common_time_forbids_it() -> None:
    # two intrinsic learners free only on Monday, two imposed ones only on Tuesday:
    # one intrinsic learner a team means teams without any common hour
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("b1", availability="Tue 10:00-13:00"),
        learner("b2", availability="Tue 10:00-13:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    start = [0, 0, 1, 1]
    state = TeamState(inst, terms, start)
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    (first, second) = spread_checks(state, term)
    assert {first.team, second.team} == {0, 1} and first.off == second.off == 1
    # the only plan in range pairs each Monday learner with a Tuesday one
    fixed = validate(inst, [0, 1, 0, 1], terms).objective - validate(inst, start, terms).objective
    assert first.extra == second.extra == fixed > 0
    # and that plan leaves both teams without common time, where both have some now
    assert first.emptied == second.emptied == 2
    assert spread_assignment(inst, terms, start, None) is None  # so the search keeps it


def test_confined_siblings_that_can_even_the_team_out_come_first() -> None:
    # team 0 (two imposed learners free Monday 10-11 only: short of common time) lacks
    # an intrinsic learner; teams 1-3 hold learners confined to that hour too, and only
    # team 1 has an intrinsic learner to spare; team 2 holds the most confined learners
    narrow, wide = "Mon 10:00-11:00", "Mon-Fri 09:00-18:00"
    cells = [("a1", "imposed", narrow), ("a2", "imposed", narrow),
             ("b1", "intrinsic", narrow), ("b2", "intrinsic", wide),
             ("c1", "intrinsic", narrow), ("c2", "imposed", narrow),
             ("d1", "intrinsic", narrow), ("d2", "imposed", wide),
             ("e1", "intrinsic", wide), ("e2", "intrinsic", wide)]  # fmt: skip
    records = [learner(lid, motivation=m, availability=a) for lid, m, a in cells]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    state = TeamState(inst, terms, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    assert term.target(0) == (1, 2) and term.team_penalty(state.members[0], 0) == 1
    rng = np.random.default_rng(0)
    # two siblings at most: the one that can give, then the one holding most of them;
    # then the team with an intrinsic learner to spare
    assert spread.regroup_neighbourhood(state, term, 0, rng, size=4) == [0, 1, 2, 4]
    # another try draws among all three siblings
    tries = {
        tuple(spread.regroup_neighbourhood(state, term, 0, rng, 4, True)[1:3]) for _ in range(40)
    }
    assert tries == {(1, 2), (1, 3), (2, 3)}


def _ring() -> tuple[list[dict[str, str]], list[int]]:
    # six teams of two on one Monday, windows d0..d7 of 2 h from 08:00: learner A_k is
    # free in d_k and d_k+1, B_k in d_k+1 and d_k+2, and team k is {A_k, B_k} (common
    # time d_k+1, the 2 h target). Six intrinsic learners (A_0 and every B_k but B_5)
    # make the range 1-1: team 0 has two, team 5 none
    records = []
    for k in range(6):
        for name, first in (("a", k), ("b", k + 1)):
            begin = 8 + 2 * first
            intrinsic = (name == "a" and k == 0) or (name == "b" and k < 5)
            records.append(
                learner(
                    f"{name}{k}",
                    availability=f"Mon {begin:02d}:00-{begin + 4:02d}:00",
                    motivation="intrinsic" if intrinsic else "imposed",
                )
            )
    return records, [k for k in range(6) for _ in range(2)]


def test_wide_regrouping_passes_the_fix_round_a_ring_of_teams() -> None:
    # a learner can only join a team sharing one of its windows, and a team in range
    # holds one intrinsic learner: A_0 must pair with A_1, B_0 with A_2, ..., B_4 with
    # B_5. Every team changes, so no swap, no chain of two and no regrouping of five
    # teams reaches the spread; every plan that breaks a pair leaves a team without
    # common time (1 920 points against the 60 the spread gains)
    records, start = _ring()
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    before = validate(inst, start, terms)
    assert before.ok and before.penalties == {"motivation": 2, "overlap": 0}
    state = TeamState(inst, terms, start)
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    # the ring, breadth first from team 0
    assert sorted(spread.wide_neighbourhood(state, term, 0)) == list(range(6))
    found = spread_assignment(inst, terms, start, None)
    assert found is not None
    assignment, objective = found
    after = validate(inst, assignment, terms)
    assert after.ok and after.objective == objective < before.objective
    assert after.penalties == {"motivation": 0, "overlap": 0}
    teams = {frozenset(inst.ids[i] for i, t in enumerate(assignment) if t == u) for u in range(6)}
    pairs = [("a0", "a1"), ("b0", "a2"), ("b1", "a3"), ("b2", "a4"), ("b3", "a5"), ("b4", "b5")]
    assert teams == {frozenset(p) for p in pairs}


def test_regroupings_on_the_clock_end_with_the_integer_programme() -> None:
    # the ring: the regroupings of three and five teams cannot reach the spread, the
    # integer programme over the wide neighbourhood (all six teams) can; on the clock
    # only, so that deterministic runs do not depend on SCIP's time limit
    records, start = _ring()
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    state = TeamState(inst, terms, start)
    regroups = spread.Regroups(state, term, np.random.default_rng(0), calls=8)
    assert not regroups.team(0)  # no deadline: the regroupings alone
    assert state.assign == start
    state = TeamState(inst, terms, start)
    regroups = spread.Regroups(state, term, np.random.default_rng(0), calls=8)
    assert regroups.team(0, time.perf_counter() + 60.0)
    assert sorted(regroups.changed) == list(range(6))
    after = validate(inst, state.assign, terms)
    assert after.ok and after.objective == state.total
    assert after.penalties == {"motivation": 0, "overlap": 0}


def test_no_integer_programme_for_a_team_short_of_common_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the ring with team 0 short of its 2 h: its learners confine it, and such teams
    # were proven dearer to bring into range; the programme is not run for it
    records, start = _ring()
    records[0]["availability"] = "Mon 09:00-11:00"  # a0 now shares 1 h with b0
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    state = TeamState(inst, terms, start)
    overlap = overlap_term(terms)
    assert overlap is not None
    assert 0 < overlap.common_slots(state.members[0]) < overlap.need
    runs: list[list[int]] = []

    def counted(state_: TeamState, records_: object, teams: list[int], **kw: float) -> None:
        runs.append(list(teams))

    monkeypatch.setattr(spread, "partition_exact", counted)
    regroups = spread.Regroups(state, term, np.random.default_rng(0), calls=8)
    regroups.team(0, time.perf_counter() + 60.0)
    assert runs == []


def test_wide_check_proves_no_plan_in_range_keeps_common_time() -> None:
    # the Monday and Tuesday learners of the check above: every team in range pairs
    # one of each, without a common hour, where both teams have one now
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("b1", availability="Tue 10:00-13:00"),
        learner("b2", availability="Tue 10:00-13:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    state = TeamState(inst, terms, [0, 0, 1, 1])
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    checks = spread_checks(state, term, wide_work=1.0)
    assert [c.wide.status for c in checks if c.wide is not None] == ["infeasible", "infeasible"]
    # CP-SAT's full model gives the same answer
    assert spread.fix_keeping_time(state, [0, 1], work=1.0).status == "infeasible"


def test_wide_fix_is_exact_with_its_bound() -> None:
    # two intrinsic learners together (one off), the imposed pair 1 h short of the 2 h
    # target (40): in range, the narrow imposed learner still leaves its team 1 h short,
    # and the spread gains 2 x 30, so the cheapest plan in range costs 60 less
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("b1", availability="Mon 10:00-11:00"),
        learner("b2", availability="Mon 10:00-13:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    start = [0, 0, 1, 1]
    state = TeamState(inst, terms, start)
    records_ = spread.build_records(state)
    fix = spread.partition_keeping_time(state, records_, [0, 1], 0)
    assert fix is not None and fix.status == "optimal" and fix.members is not None
    # now 30 + 30 + 40 points, in range 40 (either pairing)
    assert validate(inst, start, terms).objective == 100 * OBJECTIVE_SCALE
    assert fix.extra == fix.bound == -60 * OBJECTIVE_SCALE
    assert {frozenset(m) for m in fix.members.values()} in (
        {frozenset((0, 2)), frozenset((1, 3))},
        {frozenset((0, 3)), frozenset((1, 2))},
    )


def test_check_counts_the_teams_confined_learners_need_in_range() -> None:
    # three intrinsic learners free Monday 10-11 only (1 h, the target is 2 h), the
    # range 1-1: in range they need three teams, each short of the target, where two
    # hold them now
    narrow, wide = "Mon 10:00-11:00", "Mon-Fri 09:00-18:00"
    cells = [("c1", "intrinsic", narrow), ("c2", "intrinsic", narrow),
             ("c3", "intrinsic", narrow), ("w1", "imposed", wide),
             ("e1", "intrinsic", wide), ("w2", "imposed", wide),
             ("w3", "imposed", wide), ("w4", "imposed", wide)]  # fmt: skip
    records = [learner(lid, motivation=m, availability=a) for lid, m, a in cells]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    state = TeamState(inst, terms, [0, 0, 1, 1, 2, 2, 3, 3])
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    (confined, other) = spread_checks(state, term)
    assert (confined.team, confined.group, confined.group_intrinsic) == (0, 3, 3)
    assert (confined.hosts, confined.needed) == (2, 3)
    # team 3 (no intrinsic learner, full week) is not short of common time: not counted
    assert (other.team, other.hosts, other.needed) == (3, 0, 0)


def test_spread_assignment_stops_at_its_wall_clock_end() -> None:
    # ``until`` bounds the set-up too: past it nothing starts; before it, the same repair
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a3", availability="Mon 10:00-13:00"),
        learner("a4", availability="Mon 10:00-13:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    terms = build_terms(inst)
    start = [0, 0, 1, 1]
    assert validate(inst, start, terms).penalties["motivation"] == 2
    assert spread_assignment(inst, terms, start, 10.0, until=time.perf_counter() - 1.0) is None
    found = spread_assignment(inst, terms, start, 10.0, until=time.perf_counter() + 60.0)
    assert found is not None
    assert found == spread_assignment(inst, terms, start, 10.0)
    assert validate(inst, found[0], terms).penalties["motivation"] == 0


def test_exact_partition_finds_the_cheaper_plan_or_proves_there_is_none() -> None:
    # the instance of the check above: in range, the pairs cost 60 less than now
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("b1", availability="Mon 10:00-11:00"),
        learner("b2", availability="Mon 10:00-13:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    state = TeamState(inst, build_terms(inst), [0, 0, 1, 1])
    fix = spread.partition_exact(state, spread.build_records(state), [0, 1])
    assert fix is not None and fix.status == "optimal" and fix.members is not None
    assert fix.extra == fix.bound == -60 * OBJECTIVE_SCALE
    assert all(sum(inst.intrinsic[m]) == 1 for m in fix.members.values())
    # Monday and Tuesday learners: in range every team pairs one of each, without a
    # common hour (2 h short and the step below the target: 160 each, against the 60
    # the two teams off cost now), so no plan in range is cheaper
    records = [
        learner("a1", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("a2", motivation="intrinsic", availability="Mon 10:00-13:00"),
        learner("b1", availability="Tue 10:00-13:00"),
        learner("b2", availability="Tue 10:00-13:00"),
    ]
    inst = make_instance(records, MOTIVATION_AND_OVERLAP)
    state = TeamState(inst, build_terms(inst), [0, 0, 1, 1])
    fix = spread.partition_exact(state, spread.build_records(state), [0, 1])
    assert fix is not None and (fix.status, fix.bound, fix.members) == ("dearer", 0, None)


def test_exact_partition_matches_the_dynamic_programme() -> None:
    # 18 learners in six teams of three: the cheapest plan in range by enumeration
    # (the exact dynamic programme over subsets) against the integer programme, from
    # random plans (a cheaper plan in range exists) and from the cheapest plan of all
    # (whose teams, where out of range, traded the spread: none in range is cheaper)
    from teamform.search.regroup import cheapest_partition

    rng = np.random.default_rng(11)
    windows = ["Mon 10:00-13:00", "Mon 11:00-14:00", "Tue 18:00-21:00", "Mon-Tue 09:00-22:00"]
    records = [
        learner(
            f"r{i:02d}",
            motivation="intrinsic" if rng.random() < 0.45 else "imposed",
            availability=windows[int(rng.integers(len(windows)))],
            skill_a=str(int(rng.integers(1, 6))),
        )
        for i in range(18)
    ]
    criteria = {
        "motivation": {"weight": 1},
        "skill_balance": {"weight": 1},
        "overlap": {"weight": 2, "hours": 2, "block": 1, "reference_date": "2026-01-12"},
    }
    inst = make_instance(records, criteria, team={"size": 3})
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    teams = list(range(6))
    starts = [(np.random.default_rng(seed).permutation(18) % 6).tolist() for seed in range(3)]
    state = TeamState(inst, terms, starts[0])
    best = cheapest_partition(state, spread.build_records(state), teams)
    assert best is not None
    starts.append([next(t for t, m in best[0].items() if i in m) for i in range(18)])
    lo, hi = term.target(0)

    def in_range(rows: np.ndarray) -> np.ndarray:
        count = inst.intrinsic[rows].sum(axis=1)
        return np.asarray((count >= lo) & (count <= hi))

    statuses = []
    for start in starts:
        state = TeamState(inst, terms, start)
        records_ = spread.build_records(state)
        found = cheapest_partition(state, records_, teams, in_range)
        assert found is not None
        cheapest = found[1] - state.total
        fix = spread.partition_exact(state, records_, teams)
        assert fix is not None
        statuses.append(fix.status)
        if cheapest < 0:
            assert fix.status == "optimal" and fix.extra == fix.bound == cheapest
            assert fix.members is not None
            plan = list(start)
            for u, m in fix.members.items():
                for i in m:
                    plan[i] = u
            check = validate(inst, plan, terms)
            assert check.ok and check.penalties["motivation"] == 0
            assert check.objective == validate(inst, start, terms).objective + cheapest
        else:
            assert fix.status == "dearer" and fix.bound == 0
    assert set(statuses) == {"optimal", "dearer"}
