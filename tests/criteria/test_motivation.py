"""Motivation mix alone: six learners, three teams of two, three intrinsic."""

from conftest import learner, make_instance, solve_exact
from teamform.criteria import build_terms


def instance():
    records = [learner(f"m{i}", motivation="intrinsic" if i < 3 else "imposed") for i in range(6)]
    return make_instance(records, {"motivation": {"weight": 1}})


def test_penalty_by_hand() -> None:
    inst = instance()
    (term,) = build_terms(inst)
    # I = 3 intrinsic over k = 3 teams: exactly one each
    assert term.target(0) == (1, 1)
    assert term.team_penalty([0, 1], 0) == 1  # two intrinsic: one above
    assert term.team_penalty([3, 4], 1) == 1  # none: one below
    assert term.team_penalty([2, 5], 2) == 0


def test_optimum_spreads_intrinsic_learners() -> None:
    inst = instance()
    objective, assignment = solve_exact(inst)
    assert objective == 0
    assert len({assignment[0], assignment[1], assignment[2]}) == 3


def test_fewer_intrinsic_than_teams() -> None:
    records = [learner(f"m{i}", motivation="intrinsic" if i < 2 else "imposed") for i in range(6)]
    inst = make_instance(records, {"motivation": {"weight": 1}})
    (term,) = build_terms(inst)
    assert term.target(0) == (0, 1)  # floor(2/3) = 0, ceil = 1: one team must go without
    objective, assignment = solve_exact(inst)
    assert objective == 0
    assert assignment[0] != assignment[1]
