"""Categorical rules alone: distribute, cluster, no_isolation."""

import pytest

from conftest import learner, make_instance, solve_exact, teams_of
from teamform.criteria import OBJECTIVE_SCALE, build_terms


def lang_instance(rule: str, langs: str, size: int = 2):
    records = [learner(f"p{i}", language=v) for i, v in enumerate(langs)]
    crit = {"category": [{"column": "language", "rule": rule, "weight": 1}]}
    return make_instance(records, crit, team={"size": size})


def test_distribute_by_hand() -> None:
    inst = lang_instance("distribute", "eeff")
    (term,) = build_terms(inst)
    # each team should hold one e and one f; {e,e}: e above by 1, f below by 1
    assert term.team_penalty([0, 1], 0) == 2
    objective, assignment = solve_exact(inst)
    assert objective == 0
    assert assignment[0] != assignment[1]


def test_cluster_by_hand() -> None:
    inst = lang_instance("cluster", "eeff")
    (term,) = build_terms(inst)
    assert term.team_penalty([0, 2], 0) == 1  # two languages in one team
    objective, assignment = solve_exact(inst)
    assert objective == 0
    assert teams_of(inst, assignment) == {frozenset({"p0", "p1"}), frozenset({"p2", "p3"})}


@pytest.mark.parametrize("langs, best", [("aabbcc", 2), ("aaabbb", 0)])
def test_no_isolation_by_hand(langs: str, best: int) -> None:
    # aabbcc in two teams of three: any split isolates at least two learners
    # ({a,a,b}{b,c,c}); aaabbb splits cleanly
    inst = lang_instance("no_isolation", langs, size=3)
    objective, _ = solve_exact(inst)
    assert objective == best * OBJECTIVE_SCALE


def test_no_isolation_singleton_is_bound() -> None:
    inst = lang_instance("no_isolation", "aaab", size=2)
    (term,) = build_terms(inst)
    assert term.lower_bound() == 1  # the only b is alone wherever it goes
