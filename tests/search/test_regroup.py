"""Exact regrouping: the cheapest partition of a few teams' members."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from conftest import learner, make_instance
from teamform.criteria import build_terms
from teamform.search import spread
from teamform.search.compiled_data import build_records
from teamform.search.local import TeamState
from teamform.search.regroup import cheapest_partition, regroup_exact
from teamform.validate import validate

MOTIVATION_AND_SKILL = {"motivation": {"weight": 1}, "skill_balance": {"weight": 1}}


def test_finds_the_hand_worked_optimum() -> None:
    # three teams of two, one intrinsic learner each at the optimum; skills 1..5
    # around the mean 3, so each pair must sum to 6: the only plan costing nothing
    # pairs i1 with p1, i2 with p2, i3 with p3
    cells = [("i1", "intrinsic", 1), ("i2", "intrinsic", 5), ("i3", "intrinsic", 3),
             ("p1", "imposed", 5), ("p2", "imposed", 1), ("p3", "imposed", 3)]  # fmt: skip
    records = [learner(lid, motivation=m, skill_a=str(s)) for lid, m, s in cells]
    inst = make_instance(records, MOTIVATION_AND_SKILL)
    terms = build_terms(inst)
    start = [0, 0, 2, 1, 1, 2]
    assert validate(inst, start, terms).penalties["motivation"] == 2
    state = TeamState(inst, terms, start)
    assert regroup_exact(state, build_records(state), [0, 1, 2]) is True
    pairs = {frozenset(inst.ids[i] for i in m) for m in state.members}
    assert pairs == {frozenset(p) for p in (("i1", "p1"), ("i2", "p2"), ("i3", "p3"))}
    after = validate(inst, state.assign, terms)
    assert after.ok and after.objective == state.soft_cost == 0
    # at the optimum there is nothing left to gain
    assert regroup_exact(state, build_records(state), [0, 1, 2]) is False


def _brute_force(state: TeamState, teams: list[int]) -> int:
    """Cheapest partition of the teams' members into teams of the same size, by enumeration."""
    learners = [i for t in teams for i in state.members[t]]
    size = len(state.members[teams[0]])

    def best(left: list[int], slots: list[int]) -> int:
        if not left:
            return 0
        first, rest = left[0], left[1:]
        return min(
            state.team_cost([first, *group], slots[0])
            + best([i for i in rest if i not in group], slots[1:])
            for group in combinations(rest, size - 1)
        )

    return best(learners, teams)


def test_matches_enumeration_with_common_time_and_avoid_pairs() -> None:
    rng = np.random.default_rng(7)
    windows = ["Mon 10:00-13:00", "Mon 11:00-14:00", "Tue 18:00-21:00", "Mon-Tue 09:00-22:00"]
    records = [
        learner(
            f"r{i:02d}",
            motivation="intrinsic" if rng.random() < 0.4 else "imposed",
            availability=windows[int(rng.integers(len(windows)))],
            skill_a=str(int(rng.integers(1, 6))),
        )
        for i in range(12)
    ]
    criteria = {
        **MOTIVATION_AND_SKILL,
        "overlap": {"weight": 2, "hours": 2, "block": 1, "reference_date": "2026-01-12"},
    }
    inst = make_instance(records, criteria, team={"size": 3}, avoid=[("r00", "r05")])
    terms = build_terms(inst)
    for seed in range(3):
        start = np.random.default_rng(seed).permutation(12) % 4
        state = TeamState(inst, terms, start.tolist())
        before = state.total
        optimum = _brute_force(state, [0, 1, 2, 3])
        improved = regroup_exact(state, build_records(state), [0, 1, 2, 3])
        assert improved is (optimum < before)
        assert state.total == min(before, optimum)
        check = validate(inst, state.assign, terms)
        assert check.ok and check.objective == state.soft_cost


def test_declines_teams_of_different_sizes() -> None:
    records = [learner(f"m{i}", motivation="intrinsic" if i < 2 else "imposed") for i in range(7)]
    inst = make_instance(records, {"motivation": {"weight": 1}}, team={"size": 2, "max": 3})
    terms = build_terms(inst)
    state = TeamState(inst, terms, [0, 0, 0, 1, 1, 2, 2])
    assert regroup_exact(state, build_records(state), [0, 1]) is None  # sizes 3 and 2


def test_nothing_cheaper_is_an_answer_not_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    # at the optimum the pruned regrouping says "nothing cheaper" (an empty plan and
    # the teams' cost), so the motivation repair does not hand the teams to CP-SAT
    cells = [("i1", "intrinsic", 1), ("i2", "intrinsic", 5), ("i3", "intrinsic", 3),
             ("p1", "imposed", 5), ("p2", "imposed", 1), ("p3", "imposed", 3)]  # fmt: skip
    records = [learner(lid, motivation=m, skill_a=str(s)) for lid, m, s in cells]
    inst = make_instance(records, MOTIVATION_AND_SKILL)
    terms = build_terms(inst)
    state = TeamState(inst, terms, [0, 1, 2, 0, 1, 2])
    assert state.total == 0
    records_ = build_records(state)
    assert cheapest_partition(state, records_, [0, 1, 2], below_current=True) == ({}, 0)
    # without the pruning: the optimum itself
    found = cheapest_partition(state, records_, [0, 1, 2])
    assert found is not None and found[1] == 0

    def no_cpsat(*args: object, **kwargs: object) -> bool:
        raise AssertionError("CP-SAT called")

    monkeypatch.setattr(spread, "solve_neighbourhood", no_cpsat)
    assert spread.regroup(state, [0, 1, 2], records_, seed=0) is False


def test_pruning_keeps_the_cheapest_partition() -> None:
    # the subsets left out can be in no partition cheaper than the teams as they are:
    # with and without the pruning, the same cost whenever one is cheaper
    rng = np.random.default_rng(11)
    records = [
        learner(
            f"r{i:02d}",
            motivation="intrinsic" if rng.random() < 0.4 else "imposed",
            skill_a=str(int(rng.integers(1, 6))),
        )
        for i in range(12)
    ]
    inst = make_instance(records, MOTIVATION_AND_SKILL, team={"size": 4})
    terms = build_terms(inst)
    for seed in range(4):
        state = TeamState(inst, terms, (np.random.default_rng(seed).permutation(12) % 3).tolist())
        data = build_records(state)
        full = cheapest_partition(state, data, [0, 1, 2])
        pruned = cheapest_partition(state, data, [0, 1, 2], below_current=True)
        assert full is not None and pruned is not None
        now = sum(state.cost[t] for t in range(3))
        if full[1] < now:
            assert pruned[1] == full[1] and pruned[0]
        else:
            assert pruned == ({}, now)
