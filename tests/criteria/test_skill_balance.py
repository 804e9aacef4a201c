"""Skill balance alone: four learners, two teams of two."""

from conftest import learner, make_instance, solve_exact, teams_of
from teamform.criteria import OBJECTIVE_SCALE, SkillBalanceTerm, build_terms


def instance(weight: float = 1.0):
    levels = {"a": 1, "b": 2, "c": 3, "d": 5}
    records = [learner(k, skills={"x": v}) for k, v in levels.items()]
    return make_instance(records, {"skill_balance": {"weight": weight}})


def test_penalty_by_hand() -> None:
    inst = instance()
    (term,) = build_terms(inst)
    assert isinstance(term, SkillBalanceTerm)
    # cohort mean 11/4 = 2.75, so a pair should sum to 5.50 points (550 hundredths)
    assert term.team_penalty([0, 1], 0) == abs(300 - 550)  # a+b = 3
    assert term.team_penalty([0, 3], 0) == abs(600 - 550)  # a+d = 6


def test_optimum_by_hand() -> None:
    # pairings: {a,d}{b,c}: 0.5+0.5; {a,b}{c,d}: 2.5+2.5; {a,c}{b,d}: 1.5+1.5 points
    inst = instance(weight=3)
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ad"), frozenset("bc")}
    assert objective == 3 * OBJECTIVE_SCALE  # weight 3 x 1.0 point


def test_integrality_bound() -> None:
    # target 5.50 is reachable on the integer lattice only up to 0.5: bound 0.5 per team
    (term,) = build_terms(instance())
    assert term.lower_bound() == 100
