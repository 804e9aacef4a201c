"""Teams without common time: the exact packing bound and the repairs, by hand."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import improve_best, learner, make_instance, teams_of
from teamform.criteria import OverlapTerm, build_terms
from teamform.search import common_time
from teamform.search.common_time import (
    _split,
    block_part,
    fewest_below_target,
    fewest_without_time,
    greedy_packing,
    packing_neighbourhood,
    packing_neighbourhoods,
    packing_plan,
    pattern_packing,
    regroup,
    start_words,
    swap_repair,
    target_groups,
    time_neighbourhood,
    time_repair,
    window_groups,
    window_starts,
)
from teamform.search.construct import target_sizes
from teamform.search.lns import atom_steps, steep_overlap, time_worth_it
from teamform.search.local import TeamState
from teamform.validate import validate

MON, TUE, WED, THU = (f"{d} 10:00-11:00" for d in ("Mon", "Tue", "Wed", "Thu"))


def _instance(rows: list[tuple[str, str]], *, weights: bool = False, **team: int):
    records = [learner(lid, availability=text, skills={"s": 1 + p % 5}) for p, (lid, text) in
               enumerate(rows)]  # fmt: skip
    crit: dict = {"overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1, "none": 12}}
    crit["overlap"]["reference_date"] = "2026-01-12"
    if weights:
        crit["skill_balance"] = {"weight": 10}
    return make_instance(records, crit, team=team or {"size": 4})


# a*, b*, c* free one hour on Monday, Tuesday, Wednesday; p on Monday and Tuesday, q on
# Tuesday and Wednesday, r on Wednesday only. Teams of 4: r must join the c's, then q the
# b's and p the a's: exactly one regrouping gives every team common time.
ONE_WAY = [
    *((f"a{j}", MON) for j in range(3)),
    *((f"b{j}", TUE) for j in range(3)),
    *((f"c{j}", WED) for j in range(3)),
    ("p", f"{MON}; {TUE}"),
    ("q", f"{TUE}; {WED}"),
    ("r", WED),
]
ONE_WAY_TEAMS = {
    frozenset({"a0", "a1", "a2", "p"}),
    frozenset({"b0", "b1", "b2", "q"}),
    frozenset({"c0", "c1", "c2", "r"}),
}


def _overlap(inst) -> OverlapTerm:  # type: ignore[no-untyped-def]
    return next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))


def test_window_starts_are_the_starts_of_whole_blocks() -> None:
    # slots 2..7 free: blocks of 4 start at 2, 3 and 4
    assert window_starts(0b1111_1100, 4) == 0b1_1100
    # a run over the week's end wraps: slots 670, 671, 0, 1 make one block
    wrap = (1 << 671) | (1 << 670) | 0b11
    assert window_starts(wrap, 4) == 1 << 670


def test_window_groups_are_the_maximal_sets() -> None:
    inst = make_instance([learner(lid, availability=t) for lid, t in ONE_WAY])
    groups = {frozenset(inst.ids[i] for i in g) for g in window_groups(inst, range(inst.n), 4)}
    assert groups == {
        frozenset({"a0", "a1", "a2", "p"}),
        frozenset({"b0", "b1", "b2", "p", "q"}),
        frozenset({"c0", "c1", "c2", "q", "r"}),
    }


def test_fewest_without_time_by_hand() -> None:
    inst = _instance(ONE_WAY)
    packing = fewest_without_time(inst, _overlap(inst), time_limit=10)
    assert (packing.found, packing.proven, packing.optimal) == (0, 0, True)
    # r free on Thursday alone shares no hour with anyone: its team has no common time,
    # and one such team is enough (a's with p, b's with q or c's with q)
    lonely = [*ONE_WAY[:-1], ("r", THU)]
    inst = _instance(lonely)
    packing = fewest_without_time(inst, _overlap(inst), time_limit=10)
    assert (packing.found, packing.proven) == (1, 1)
    assert packing.witness[inst.ids.index("r")] == -1


def test_fewest_without_time_respects_team_sizes() -> None:
    # 7 learners in teams of 4 and 3: 2 free on Monday, 5 on Tuesday. Four of the Tuesday
    # learners make a team; the two Monday learners and the fifth have no hour in common
    rows = [("m0", MON), ("m1", MON), *((f"t{j}", TUE) for j in range(5))]
    inst = _instance(rows, size=4, min=3, max=5)
    packing = fewest_without_time(inst, _overlap(inst), time_limit=10)
    assert (packing.found, packing.proven) == (1, 1)
    # one more Monday learner: a team of 3 on Monday and of 4 on Tuesday
    rows = [*rows, ("m2", MON)]
    inst = _instance([r for r in rows if r[0] != "t4"], size=4, min=3, max=5)
    packing = fewest_without_time(inst, _overlap(inst), time_limit=10)
    assert (packing.found, packing.proven) == (0, 0)


def _mixed(inst) -> list[int]:  # type: ignore[no-untyped-def]
    # every team a mix of days: none has common time
    order = ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2", "p", "q", "r"]
    return [order.index(lid) // 4 for lid in inst.ids]


def test_time_repair_finds_the_one_regrouping() -> None:
    inst = _instance(ONE_WAY)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    state = TeamState(inst, terms, _mixed(inst))
    assert all(term.common_slots(m) == 0 for m in state.members)
    teams = time_neighbourhood(state, term, 0)
    assert sorted(teams) == [0, 1, 2]
    assert time_repair(state, term, teams, work=1.0, seed=0)
    assert teams_of(inst, state.assign) == ONE_WAY_TEAMS
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total
    # nothing left to repair: no second improvement
    assert not time_repair(state, term, teams, work=1.0, seed=0)


def test_time_repair_keeps_avoid_pairs() -> None:
    # a0 and p may not share a team: then no plan gives every team common time, and the
    # repair must not break the rule to get there
    records = [learner(lid, availability=t) for lid, t in ONE_WAY]
    crit = {"overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1, "none": 12}}
    inst = make_instance(records, crit, team={"size": 4}, avoid=[("a0", "p")])
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    state = TeamState(inst, terms, _mixed(inst))
    time_repair(state, term, [0, 1, 2], work=1.0, seed=0)
    assert validate(inst, state.assign, terms).ok
    assert sum(term.common_slots(m) == 0 for m in state.members) >= 1


def test_improvement_rounds_reach_the_fewest_and_are_deterministic() -> None:
    # three copies of the one-way cohort, skills too: the rounds must find a plan in
    # which every team has common time, and the same plan again from the same seed
    rows = [(f"{lid}{c}", text) for c in "xyz" for lid, text in ONE_WAY]
    inst = _instance(rows, weights=True)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    assert fewest_without_time(inst, term, time_limit=10).proven == 0
    found = []
    for _ in range(2):
        state = TeamState(inst, terms, [p % inst.k for p in range(inst.n)])  # days mixed
        assert all(term.common_slots(m) == 0 for m in state.members)
        best = improve_best(state, terms, 3, deadline=float("inf"), units=8 * atom_steps(inst))
        assert validate(inst, best, terms).ok
        members: list[list[int]] = [[] for _ in range(inst.k)]
        for i, t in enumerate(best):
            members[t].append(i)
        assert all(term.common_slots(m) > 0 for m in members)
        found.append(best)
    assert found[0] == found[1]


def test_packing_near_a_plan_shows_the_teams_to_regroup() -> None:
    inst = _instance(ONE_WAY)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    best = {"a": 0, "p": 0, "b": 1, "q": 1, "c": 2, "r": 2}
    plan = [best[lid[0]] for lid in inst.ids]
    packing = fewest_without_time(inst, term, time_limit=10, near=plan)
    assert packing.found == 0
    assert packing_neighbourhood(TeamState(inst, terms, plan), packing) == []
    # a0 and b0 trade places: both teams lose their hour, and only they need regrouping
    a0, b0 = inst.ids.index("a0"), inst.ids.index("b0")
    plan[a0], plan[b0] = 1, 0
    state = TeamState(inst, terms, plan)
    assert [term.common_slots(m) for m in state.members][:2] == [0, 0]
    packing = fewest_without_time(inst, term, time_limit=10, near=plan)
    assert packing.found == 0
    teams = packing_neighbourhood(state, packing)
    assert teams == [0, 1]
    assert time_repair(state, term, teams, work=1.0, seed=0)
    assert teams_of(inst, state.assign) == ONE_WAY_TEAMS


def test_greedy_packing_places_the_rarest_first() -> None:
    # a's, b's, c's and r have one window each, p and q two: taking the rarest learner
    # first (a0), then the rarest mates, gives the one plan where every team has time
    inst = _instance(ONE_WAY)
    groups = window_groups(inst, range(inst.n), 4)
    packed = greedy_packing(range(inst.n), groups, {(4, 4): 3}, inst.avoid_adj, random.Random(0))
    assert packed is not None
    assert {frozenset(inst.ids[i] for i in team) for _, _, team in packed} == ONE_WAY_TEAMS
    for g, _, team in packed:
        assert set(team) <= groups[g]
    # and the packing needs no CP-SAT: 0 teams without time is its own proof
    packing = fewest_without_time(inst, _overlap(inst), time_limit=10, exact=False)
    assert (packing.found, packing.proven, packing.optimal) == (0, 0, True)
    assert {frozenset(inst.ids[i] for i in t) for t in packing.teams} == ONE_WAY_TEAMS


def test_greedy_packing_keeps_avoid_pairs() -> None:
    # a0 may not join p, the only other learner free on Monday: no team of a0 has time,
    # so one team without time is the fewest, and the greedy packing finds it
    records = [learner(lid, availability=t) for lid, t in ONE_WAY]
    inst = make_instance(records, team={"size": 4}, avoid=[("a0", "p")])
    groups = window_groups(inst, range(inst.n), 4)
    packed = greedy_packing(range(inst.n), groups, {(4, 4): 3}, inst.avoid_adj, random.Random(0))
    assert packed is not None and len(packed) == 2
    a0, p = inst.ids.index("a0"), inst.ids.index("p")
    assert not any(a0 in team and p in team for _, _, team in packed)


def _two_weeks(days: tuple[str, str, str], tag: str) -> list[tuple[str, str]]:
    one, two, three = (f"{d} 10:00-11:00" for d in days)
    return [
        *((f"a{j}{tag}", one) for j in range(3)),
        *((f"b{j}{tag}", two) for j in range(3)),
        *((f"c{j}{tag}", three) for j in range(3)),
        (f"p{tag}", f"{one}; {two}"),
        (f"q{tag}", f"{two}; {three}"),
        (f"r{tag}", three),
    ]


def test_packing_near_a_plan_splits_its_repairs_into_parts() -> None:
    # two one-way cohorts on different days, each with a0 and b0 traded: two repairs of
    # two teams each, apart, and regrouping each as the packing says leaves no team
    # without common time
    rows = _two_weeks(("Mon", "Tue", "Wed"), "x") + _two_weeks(("Thu", "Fri", "Sat"), "y")
    inst = _instance(rows, weights=True)
    terms = build_terms(inst)
    term = _overlap(inst)
    home = {"a": 0, "p": 0, "b": 1, "q": 1, "c": 2, "r": 2}
    plan = [home[lid[0]] + (3 if lid.endswith("y") else 0) for lid in inst.ids]
    for tag in "xy":
        a0, b0 = inst.ids.index(f"a0{tag}"), inst.ids.index(f"b0{tag}")
        plan[a0], plan[b0] = plan[b0], plan[a0]
    state = TeamState(inst, terms, plan)
    assert sum(term.common_slots(m) == 0 for m in state.members) == 4
    packing = fewest_without_time(inst, term, time_limit=10, near=plan, exact=False)
    assert packing.found == 0
    parts = packing_neighbourhoods(state, packing)
    assert sorted(parts) == [[0, 1], [3, 4]]
    for teams in parts:
        regrouped = packing_plan(state, packing, teams)
        assert regrouped is not None
        assert regroup(state, teams, regrouped)
    assert all(term.common_slots(m) > 0 for m in state.members)
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total


def test_regroup_keeps_a_worse_plan_only_when_forced() -> None:
    # from the one plan with time for all, the mixed plan costs more: refused, unless
    # forced (no hard rule at stake); the state's costs stay the validator's
    inst = _instance(ONE_WAY)
    terms = build_terms(inst)
    best = {"a": 0, "p": 0, "b": 1, "q": 1, "c": 2, "r": 2}
    state = TeamState(inst, terms, [best[lid[0]] for lid in inst.ids])
    before = state.total
    assert not regroup(state, [0, 1, 2], _mixed(inst))
    assert state.total == before
    assert regroup(state, [0, 1, 2], _mixed(inst), force=True)
    assert state.total > before
    assert validate(inst, state.assign, terms).objective == state.total


def test_split_keeps_the_plan_teams_whole() -> None:
    # CP-SAT put 8 learners in one window for two teams of 4: the plan's team
    # {0, 1, 2, 3} stays whole, the others make the second team
    near = [0, 0, 0, 0, 1, 1, 2, 2]
    got = _split(list(range(8)), {(4, 4): 2}, near)
    assert sorted(sorted(team) for _, team in got) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # teams of 3 to 5 holding 7: a team of 4 whole leaves 3, which still fits
    got = _split(list(range(7)), {(3, 5): 2}, near[:7])
    assert sorted(len(team) for _, team in got) == [3, 4]
    assert any(sorted(team) == [0, 1, 2, 3] for _, team in got)


def test_the_steep_search_never_swaps_away_a_last_common_hour() -> None:
    # two one-way cohorts, skill 1 in one and 5 in the other, skills weighing so much
    # that the objective would trade common time for them: from the plan where every team
    # has time (and all-1 or all-5 skills), some swaps leave a team without any and cost
    # less; under the moves' own, steep criterion every such swap costs more than it gains
    rows = [(f"{lid}{c}", text) for c in "xy" for lid, text in ONE_WAY]
    records = [learner(lid, availability=text, skills={"s": 1 if lid.endswith("x") else 5})
               for lid, text in rows]  # fmt: skip
    crit: dict = {"overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1, "none": 12}}
    crit["overlap"]["reference_date"] = "2026-01-12"
    crit["skill_balance"] = {"weight": 400}
    inst = make_instance(records, crit, team={"size": 4})
    terms = build_terms(inst)
    overlap = next(t for t in terms if isinstance(t, OverlapTerm))
    home = {"a": 0, "p": 0, "b": 1, "q": 1, "c": 2, "r": 2}
    state = TeamState(inst, terms, [home[lid[0]] + 3 * lid.endswith("y") for lid in inst.ids])
    assert all(overlap.common_slots(m) > 0 for m in state.members)
    plain = overlap.none_step
    steep = steep_overlap(state, overlap)
    assert steep is not None and steep.none_step > plain == overlap.none_step
    moving = TeamState(inst, [steep if t is overlap else t for t in terms], state.assign)
    plain_takes = steep_takes = 0
    for i in range(inst.n):
        for j in range(i + 1, inst.n):
            t, u = state.assign[i], state.assign[j]
            if t == u:
                continue
            delta, new_t, new_u, _, _ = moving.swap_delta(i, j)
            if any(overlap.common_slots(new) == 0 for new in (new_t, new_u)):
                steep_takes += delta < 0
                plain_takes += state.swap_delta(i, j)[0] < 0
    assert plain_takes > 0 and steep_takes == 0
    # the objective itself is untouched: the state's costs are the validator's
    assert validate(inst, state.assign, terms).objective == state.total


def test_fewest_below_target_by_hand() -> None:
    # 3 h needed in runs of 1 h. The a's share Monday 10-13, the c's two runs on Wednesday
    # (2 h and 1 h): both teams meet the target. b3 has one Tuesday hour: the b's fall
    # short, and so would any team of b3's. So one team below the target is the fewest
    rows = [
        *((f"a{j}", "Mon 10:00-13:00") for j in range(4)),
        *((f"b{j}", "Tue 10:00-13:00") for j in range(3)),
        ("b3", "Tue 10:00-11:00"),
        *((f"c{j}", "Wed 10:00-12:00; Wed 14:00-15:00") for j in range(4)),
    ]
    inst = _instance(rows)
    term = _overlap(inst)
    groups = {frozenset(inst.ids[i] for i in g) for g in target_groups(inst, range(inst.n), term)}
    assert groups == {frozenset(f"a{j}" for j in range(4)), frozenset(f"c{j}" for j in range(4))}
    packing = fewest_below_target(inst, term, time_limit=10)
    assert (packing.found, packing.proven, packing.optimal) == (1, 1, True)
    # b3 free on Wednesday too, 10-12 and 14-15: it can join the c's, but then a c is
    # left with the b's and that team is short instead; still one
    rows[7] = ("b3", "Tue 10:00-11:00; Wed 10:00-12:00; Wed 14:00-15:00")
    inst = _instance(rows)
    assert fewest_below_target(inst, _overlap(inst), time_limit=10).proven == 1


def test_block_part_keeps_only_long_runs() -> None:
    # slots 0-3 (a whole hour) and 8-9 (half an hour): only the hour counts
    assert block_part(0b11_0000_1111, 4) == 0b1111
    # a run across the week's end counts whole
    wrap = (1 << 671) | (1 << 670) | 0b11
    assert block_part(wrap, 4) == wrap


def _check_pattern_packing(inst, term: OverlapTerm) -> list[list[int]]:  # type: ignore[no-untyped-def]
    """The pattern packing's teams, checked from the masks alone: distinct learners of
    one section each, of the sizes of a split of the section, sharing a window."""
    teams = pattern_packing(inst, term)
    placed = [i for team in teams for i in team]
    assert len(placed) == len(set(placed))
    for team in teams:
        assert len({int(inst.section[i]) for i in team}) == 1
        common = (1 << 672) - 1
        for i in team:
            common &= inst.masks[i]
        assert window_starts(common, term.block) != 0
    for s in range(len(inst.section_names)):
        sizes = target_sizes(inst, inst.teams_of_section(s), int((inst.section == s).sum()))
        got = sorted(len(t) for t in teams if int(inst.section[t[0]]) == s)
        # the packed teams take some of the section's sizes; the rest fill the others
        left = list(sizes)
        for z in got:
            left.remove(z)
    return teams


def test_pattern_packing_by_hand() -> None:
    # the one regrouping that gives every team common time is found over patterns too
    inst = _instance(ONE_WAY)
    teams = _check_pattern_packing(inst, _overlap(inst))
    assert {frozenset(inst.ids[i] for i in t) for t in teams} == ONE_WAY_TEAMS
    # r free on Thursday alone: two teams at most share a window
    inst = _instance([*ONE_WAY[:-1], ("r", THU)])
    assert len(_check_pattern_packing(inst, _overlap(inst))) == 2


@pytest.mark.parametrize("seed", range(24))
def test_pattern_packing_never_beats_the_exact_packing(seed: int) -> None:
    rng = np.random.default_rng(900 + seed)
    days = [MON, TUE, WED, THU, f"{MON}; {TUE}", f"{TUE}; {WED}", "Mon-Fri 09:00-21:00"]
    rows = [(f"x{j}", days[int(rng.integers(len(days)))]) for j in range(int(rng.integers(6, 14)))]
    size = int(rng.integers(2, 5))
    inst = _instance(rows, size=size, min=max(2, size - 1), max=size + 1)
    term = _overlap(inst)
    teams = _check_pattern_packing(inst, term)
    packing = fewest_without_time(inst, term, time_limit=10)
    assert packing.optimal
    # a split with that many teams sharing a window exists: never more than the most
    assert inst.k - len(teams) >= packing.proven


# a's free Monday 10-13 and Tuesday 10-11, b's the other way round: an a and a b share
# 2 h (Monday and Tuesday 10-11), four a's or four b's 4 h
SHORT_ROWS = [
    *((f"a{j}", "Mon 10:00-13:00; Tue 10:00-11:00") for j in range(4)),
    *((f"b{j}", "Tue 10:00-13:00; Mon 10:00-11:00") for j in range(4)),
]


def test_target_repair_brings_teams_to_the_target_by_hand() -> None:
    inst = _instance(SHORT_ROWS)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    # each team three of one kind and one of the other: 2 h each, both below 3 h
    mixed = {"a0": 0, "a1": 0, "a2": 0, "b3": 0, "b0": 1, "b1": 1, "b2": 1, "a3": 1}
    state = TeamState(inst, terms, [mixed[lid] for lid in inst.ids])
    assert [term.common_slots(m) for m in state.members] == [8, 8]
    # no team lacks common time: a repair for that has nothing to do
    assert not time_repair(state, term, [0, 1], work=1.0, seed=0)
    assert time_repair(state, term, [0, 1], work=1.0, seed=0, target=True)
    assert teams_of(inst, state.assign) == {
        frozenset(f"a{j}" for j in range(4)),
        frozenset(f"b{j}" for j in range(4)),
    }
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total == 0
    assert not time_repair(state, term, [0, 1], work=1.0, seed=0, target=True)


def test_target_repair_never_leaves_a_team_without_time() -> None:
    # c0 shares only Monday 12-13 with the a's and nothing with the b's. Plan: the a's
    # with c0 (1 h), the b's with a3 (2 h). Putting a3 back with the a's (4 h) would
    # leave c0 with the b's and no common hour: fewer teams below the target, but one
    # without time, which the repair may not make. Without a step for teams without
    # time the objective would take it (2 h + 1 h short and two steps, 200, against
    # 3 h and one step, 160)
    rows = [*SHORT_ROWS[:7], ("c0", "Mon 12:00-13:00")]
    records = [learner(lid, availability=text) for lid, text in rows]
    crit = {"overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1,
                        "reference_date": "2026-01-12"}}  # fmt: skip
    inst = make_instance(records, crit, team={"size": 4})
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    plan = {"a0": 0, "a1": 0, "a2": 0, "c0": 0, "b0": 1, "b1": 1, "b2": 1, "a3": 1}
    state = TeamState(inst, terms, [plan[lid] for lid in inst.ids])
    assert sorted(term.common_slots(m) for m in state.members) == [4, 8]
    time_repair(state, term, [0, 1], work=1.0, seed=0, target=True)
    assert all(term.common_slots(m) > 0 for m in state.members)
    assert validate(inst, state.assign, terms).ok


def test_a_bound_known_already_spares_the_proof(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # r alone on Thursday: one team without common time, which the learner bound proves
    lonely = [*ONE_WAY[:-1], ("r", THU)]
    inst = _instance(lonely)
    term = _overlap(inst)
    assert term.forced_teams()[1] == 1

    class NoSolver:
        def __init__(self) -> None:
            raise AssertionError("CP-SAT asked for a proof the caller has")

    import teamform.search.common_time as common_time

    monkeypatch.setattr(common_time.cp_model, "CpSolver", NoSolver)
    packing = fewest_without_time(inst, term, time_limit=10, known=1)
    assert (packing.found, packing.proven, packing.optimal) == (1, 1, True)
    assert packing.witness[inst.ids.index("r")] == -1


def test_time_repairs_run_while_a_team_without_time_outweighs_two_teams() -> None:
    # a team without time costs 16 h x 40 = 640 here; the plan's teams cost 0 in skills
    # under weight 0, and far more than 320 each under a huge skill weight
    rows = [(f"{lid}{c}", text) for c in "xy" for lid, text in ONE_WAY]
    for weight, expected in ((10, True), (1_000_000, False)):
        records = [learner(lid, availability=text, skills={"s": 1 + 4 * (p % 2)})
                   for p, (lid, text) in enumerate(rows)]  # fmt: skip
        crit: dict = {
            "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1, "none": 12,
                        "reference_date": "2026-01-12"},
            "skill_balance": {"weight": weight},
        }  # fmt: skip
        inst = make_instance(records, crit, team={"size": 4})
        terms = build_terms(inst)
        term = next(t for t in terms if isinstance(t, OverlapTerm))
        state = TeamState(inst, terms, [p % inst.k for p in range(inst.n)])
        assert time_worth_it(state, term) is expected


def _empty(term: OverlapTerm, state: TeamState) -> int:
    return sum(term.common_slots(m) == 0 for m in state.members)


def test_swap_repair_reaches_the_forced_number_by_hand() -> None:
    # every team a mix of days: the one regrouping that gives every team a window takes
    # more than one swap per team, and no swap alone helps the first team
    inst = _instance(ONE_WAY)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    state = TeamState(inst, terms, _mixed(inst))
    assert _empty(term, state) == 3
    assert swap_repair(state, term) == 3
    assert teams_of(inst, state.assign) == ONE_WAY_TEAMS
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total
    # r free on Thursday alone: one team must lack common time (the packing proves it),
    # and the repair leaves exactly that one
    inst = _instance([*ONE_WAY[:-1], ("r", THU)])
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    assert fewest_without_time(inst, term, time_limit=10).proven == 1
    state = TeamState(inst, terms, _mixed(inst))
    assert swap_repair(state, term) == 2
    assert _empty(term, state) == 1
    assert term.common_slots(state.members[state.assign[inst.ids.index("r")]]) == 0


def test_swap_repair_past_its_deadline_sets_nothing_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # a deadline already past: no windows are built (their set-up is the costly part)
    # and the plan stays as it is
    inst = _instance(ONE_WAY)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    state = TeamState(inst, terms, _mixed(inst))
    before = list(state.assign)

    def refused(*_: object) -> None:
        raise AssertionError("windows set up past the deadline")

    monkeypatch.setattr(common_time, "_Windows", refused)
    assert swap_repair(state, term, deadline=time.perf_counter() - 1.0) == 0
    assert state.assign == before


@pytest.mark.parametrize("how", ["deadline", "stop"])
def test_improvement_rounds_on_the_clock_stop_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # the clock passes the deadline during the first annealing run, or a stop is set
    # then (the caller's, or the search's own when the finish needs the time): the
    # round's repairs (which look for the short teams first) no longer start, the
    # best plan is kept
    import threading

    from teamform.search import compiled, lns

    rows = [(f"{lid}{c}", text) for c in "xyz" for lid, text in ONE_WAY]
    inst = _instance(rows, weights=True)
    terms = build_terms(inst)
    state = TeamState(inst, terms, [p % inst.k for p in range(inst.n)])
    deadline = time.perf_counter() + 1000.0
    passed = [False]
    stop = threading.Event()
    real = time.perf_counter
    if how == "deadline":
        monkeypatch.setattr(
            lns,
            "time",
            SimpleNamespace(perf_counter=lambda: deadline + 1.0 if passed[0] else real()),
        )
    run = compiled.CompiledLocalSearch.run
    runs: list[int] = []

    def annealing(self: compiled.CompiledLocalSearch, *args: object, **kwargs: object) -> int:
        steps: int = run(self, *args, **kwargs)  # type: ignore[arg-type]
        runs.append(steps)
        passed[0] = True
        if how == "stop":
            stop.set()
        return steps

    monkeypatch.setattr(compiled.CompiledLocalSearch, "run", annealing)
    late: list[str] = []
    short_teams = lns._short_teams

    def counted(*args: object, **kwargs: object) -> object:
        if passed[0]:
            late.append("short teams")
        return short_teams(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lns, "_short_teams", counted)
    best = improve_best(state, terms, 3, deadline=deadline, units=None, cancel=stop)
    assert len(runs) == 1  # the annealing ran, once
    assert late == []
    assert validate(inst, best, terms).ok


def test_annealing_on_the_clock_keeps_the_time_its_atoms_take_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an atom whose teams took 5 s to write back: the next annealing run stops 5 s
    # (and what keeping the best plan took) before the deadline, so that its own
    # writing back ends by it
    from teamform.search import compiled, lns

    rows = [(f"{lid}{c}", text) for c in "xyz" for lid, text in ONE_WAY]
    inst = _instance(rows, weights=True)
    terms = build_terms(inst)
    state = TeamState(inst, terms, [p % inst.k for p in range(inst.n)])
    deadline = time.perf_counter() + 1000.0
    deadlines: list[float] = []
    real = time.perf_counter
    monkeypatch.setattr(
        lns,
        "time",
        SimpleNamespace(perf_counter=lambda: deadline + 1.0 if len(deadlines) > 1 else real()),
    )
    run = compiled.CompiledLocalSearch.run

    def annealing(
        self: compiled.CompiledLocalSearch, *, deadline: float | None = None, **kwargs: object
    ) -> int:
        assert deadline is not None
        deadlines.append(deadline)
        steps: int = run(self, deadline=deadline, **kwargs)  # type: ignore[arg-type]
        self.store_seconds = 5.0
        return steps

    monkeypatch.setattr(compiled.CompiledLocalSearch, "run", annealing)
    best = improve_best(state, terms, 3, deadline=deadline, units=None)
    assert len(deadlines) == 2
    assert deadlines[0] == deadline
    assert deadlines[1] <= deadline - 5.0
    assert validate(inst, best, terms).ok


def test_swap_repair_moves_a_member_where_sizes_allow() -> None:
    # teams of 3 to 5: the team of the a's and b0 has no common time, b0 joins the b's
    rows = [*((f"a{j}", MON) for j in range(3)), *((f"b{j}", TUE) for j in range(4))]
    inst = _instance(rows, size=4, min=3, max=5, balanced=False)
    assert list(inst.team_lo) == [3, 3] and list(inst.team_hi) == [5, 5]
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    plan = [0 if lid[0] == "a" or lid == "b0" else 1 for lid in inst.ids]
    state = TeamState(inst, terms, plan)
    assert _empty(term, state) == 1
    assert swap_repair(state, term) == 1
    assert teams_of(inst, state.assign) == {
        frozenset({"a0", "a1", "a2"}),
        frozenset({"b0", "b1", "b2", "b3"}),
    }


def test_start_words_tell_the_teams_without_common_time() -> None:
    rng = random.Random(5)
    days = [MON, TUE, WED, THU, "Mon 10:30-11:30", "Tue 09:00-10:15"]
    rows = [(f"l{i}", "; ".join(rng.sample(days, rng.randint(1, 3)))) for i in range(40)]
    inst = _instance(rows)
    term = _overlap(inst)
    patterns, pattern = start_words(inst, term.block)
    for _ in range(200):
        team = rng.sample(range(inst.n), rng.randint(1, 5))
        common = np.bitwise_and.reduce(patterns[pattern[team]], axis=0)
        assert bool(common.any()) == (term.common_slots(team) > 0)


@pytest.mark.parametrize("seed", range(6))
def test_swap_repair_never_adds_teams_without_time_nor_cost(seed: int) -> None:
    # random cohorts with skills, motivation, avoid pairs and uneven team sizes, from a
    # random plan: fewer or as many teams without common time, a lower or equal cost, no
    # hard rule broken, the motivation guard kept where no team got time, and the same
    # plan again
    rng = random.Random(seed)
    days = [MON, TUE, WED, THU, "Fri 10:00-11:00", "Mon 10:30-11:30", "Sat 08:00-10:00"]
    n = rng.randint(14, 26)
    records = [
        learner(
            f"l{i}",
            availability="; ".join(rng.sample(days, rng.randint(1, 3))),
            skills={"s": rng.randint(1, 5)},
            motivation=rng.choice(["intrinsic", "imposed"]),
        )
        for i in range(n)
    ]
    crit: dict = {"overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1, "none": 12}}
    crit["overlap"]["reference_date"] = "2026-01-12"
    crit["skill_balance"] = {"weight": 10}
    crit["motivation"] = {"weight": 30}
    avoid = [(f"l{a}", f"l{b}") for a, b in (rng.sample(range(n), 2) for _ in range(3))]
    team = {"size": 4, "min": 3, "max": 5, "balanced": False} if seed % 2 else {"size": 4}
    if not seed % 2:
        n -= n % 4
        records = records[:n]
        avoid = [(a, b) for a, b in avoid if int(a[1:]) < n and int(b[1:]) < n]
    inst = make_instance(records, crit, team=team, avoid=avoid)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    motivation = [t for t in terms if t.name == "motivation"]
    plans = []
    for _ in range(2):
        plan = list(range(inst.n))
        random.Random(seed).shuffle(plan)
        sizes = [
            len(m) for m in TeamState(inst, terms, [p % inst.k for p in range(inst.n)]).members
        ]
        assign = [0] * inst.n
        at = 0
        for t, size in enumerate(sizes):
            for i in plan[at : at + size]:
                assign[i] = t
            at += size
        state = TeamState(inst, terms, assign)
        before, cost, hard = _empty(term, state), state.total, state.hard_violations
        was = {t: motivation[0].team_penalty(m, t) for t, m in enumerate(state.members)}
        intrinsic = inst.intrinsic.tolist()
        had = [any(intrinsic[i] for i in m) for m in state.members]
        fewer = swap_repair(state, term, guard=motivation, keep=intrinsic)
        # no team loses its last intrinsic member
        assert all(any(intrinsic[i] for i in m) for t, m in enumerate(state.members) if had[t])
        assert fewer == before - _empty(term, state) >= 0
        assert state.total <= cost and state.hard_violations <= hard
        # the guard holds team by team, save in the ejection chains, which give a team
        # its first window (the objective alone accepts them)
        spread = sum(motivation[0].team_penalty(m, t) for t, m in enumerate(state.members))
        assert spread <= sum(was.values()) or fewer > 0
        assert validate(inst, state.assign, terms).objective == state.soft_cost
        plans.append(list(state.assign))
    assert plans[0] == plans[1]


def test_the_python_search_swaps_for_time_first(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # below the compiled search's budget the Python search runs: the swaps toward a
    # window come first, once, and their plan is kept
    from teamform.search import common_time, lns

    inst = _instance(ONE_WAY)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    calls = []

    def counted(state, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(_empty(term, state))
        return swap_repair(state, *args, **kwargs)

    monkeypatch.setattr(common_time, "swap_repair", counted)
    out = lns.run_lns(inst, terms, _mixed(inst), time_limit=0.5, seed=0, deterministic=True)
    assert calls == [3]
    assert out.assignment is not None and teams_of(inst, out.assignment) == ONE_WAY_TEAMS


# Teams of 3. t = {d1, d2, a}: d1 free Monday only, d2 Friday only, a Tuesday only, so no
# swap of one member gives t a window, and gathering it on Monday, Tuesday or Friday swaps
# out two members for learners free there whose teams keep no window with them. The one
# way: t on Tuesday with y1 and y2; d2 takes y2's place (the z's share Friday with it), and
# d1 takes x1's place among the u's (Monday), x1 going on to y1's place among the v's
# (Wednesday), an ejection chain through a third team.
EJECT = [
    ("d1", MON), ("d2", "Fri 10:00-11:00"), ("a", TUE),
    *((f"u{j}", f"{MON}; {WED}") for j in range(2)), ("x1", WED),
    *((f"v{j}", f"{WED}; {THU}") for j in range(2)), ("y1", f"{TUE}; {THU}"),
    *((f"z{j}", "Fri 10:00-11:00; Sat 10:00-11:00") for j in range(2)),
    ("y2", f"{TUE}; Sat 10:00-11:00"),
]  # fmt: skip
EJECT_TEAMS = {
    frozenset({"a", "y1", "y2"}),
    frozenset({"u0", "u1", "d1"}),
    frozenset({"v0", "v1", "x1"}),
    frozenset({"z0", "z1", "d2"}),
}


def _eject_plan(inst) -> list[int]:  # type: ignore[no-untyped-def]
    teams = {"d": 0, "a": 0, "u": 1, "x": 1, "v": 2, "y1": 2, "z": 3, "y2": 3}
    return [teams.get(lid, teams.get(lid[0], -1)) for lid in inst.ids]


def test_swap_repair_gives_time_by_an_ejection_chain() -> None:
    inst = _instance(EJECT, size=3)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    assert fewest_without_time(inst, term, time_limit=10).proven == 0
    state = TeamState(inst, terms, _eject_plan(inst))
    assert _empty(term, state) == 1
    cost = state.total
    assert swap_repair(state, term) == 1
    assert teams_of(inst, state.assign) == EJECT_TEAMS
    assert state.total < cost
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total


def test_an_ejection_chain_may_cost_motivation_the_objective_outweighs() -> None:
    # the same cohort with a, y1, y2, u0, v0 and z0 intrinsic (1-2 a team on the even
    # spread): the chain puts three in t, one learner off the spread (30), for a team's
    # only common hour (40 x (3 h short + 1 h below + 12 h without any) = 640). The
    # guarded search swaps take it; no team loses its last intrinsic member
    from teamform.criteria import MotivationTerm
    from teamform.search.lns import _swaps_for_time

    intrinsic = {"a", "y1", "y2", "u0", "v0", "z0"}
    records = [
        learner(lid, availability=text, motivation="intrinsic" if lid in intrinsic else "imposed")
        for lid, text in EJECT
    ]
    crit: dict = {"overlap": {"weight": 40, "hours": 3, "block": 1, "below": 1, "none": 12}}
    crit["overlap"]["reference_date"] = "2026-01-12"
    crit["motivation"] = {"weight": 30}
    inst = make_instance(records, crit, team={"size": 3})
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    spread = next(t for t in terms if isinstance(t, MotivationTerm))
    state = TeamState(inst, terms, _eject_plan(inst))
    assert _empty(term, state) == 1
    assert sum(spread.team_penalty(m, t) for t, m in enumerate(state.members)) == 0
    cost = state.total
    _swaps_for_time(state, terms, None)
    assert teams_of(inst, state.assign) == EJECT_TEAMS
    assert sum(spread.team_penalty(m, t) for t, m in enumerate(state.members)) == 1
    assert state.total < cost
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total


def test_a_finished_plan_gets_the_swaps_toward_a_window_once_more() -> None:
    # the plan a search ends with, the team without time given one by the chain; with
    # too little time left (a microsecond a learner is not enough), left as it is
    import time

    from teamform.search.lns import last_swaps_for_time

    inst = _instance(EJECT, size=3)
    terms = build_terms(inst)
    plan = _eject_plan(inst)
    got = last_swaps_for_time(inst, terms, plan, time.perf_counter() + 10)
    assert got is not None
    assert teams_of(inst, got[0]) == EJECT_TEAMS
    assert validate(inst, got[0], terms).objective == got[1] < TeamState(inst, terms, plan).total
    assert last_swaps_for_time(inst, terms, plan, time.perf_counter()) is None
    assert last_swaps_for_time(inst, terms, got[0], time.perf_counter() + 10) is None
