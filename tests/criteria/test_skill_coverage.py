"""Skill coverage alone: six learners, two teams of three."""

from conftest import learner, make_instance, solve_exact
from teamform.criteria import OBJECTIVE_SCALE, build_terms


def instance(strong: int, hard: bool = False):
    records = [
        learner(f"s{i}", skills={"prog": 5 if i < strong else 2, "math": 3}) for i in range(6)
    ]
    crit = {"skill_coverage": {"weight": 2, "hard": hard, "rules": [{"skill": "prog", "level": 4}]}}
    return make_instance(records, crit, team={"size": 3})


def test_two_strong_learners_cover_both_teams() -> None:
    inst = instance(strong=2)
    objective, assignment = solve_exact(inst)
    assert objective == 0
    assert assignment[0] != assignment[1]  # the two strong learners are split


def test_one_strong_learner_leaves_one_team_uncovered() -> None:
    inst = instance(strong=1)
    (term,) = build_terms(inst)
    assert term.team_penalty([1, 2, 3], 0) == 1
    assert term.team_penalty([0, 2, 3], 0) == 0
    assert term.lower_bound() == 1
    objective, _ = solve_exact(inst)
    assert objective == 2 * OBJECTIVE_SCALE  # one team uncovered, weight 2
