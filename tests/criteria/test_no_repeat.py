"""The no_repeat criterion on four learners in two teams of two.

The three ways to split {a, b, c, d} into pairs, with the history below
(pair -> phases already shared):

    history: ab 3, cd 1, ac 1, bd 2, ad 2, bc 2
    ab | cd -> 3 + 1 = 4
    ac | bd -> 1 + 2 = 3   <- unique optimum (counting pairs only would tie all three at 2)
    ad | bc -> 2 + 2 = 4
"""

from __future__ import annotations

from typing import Any

import pytest

from teamform import FormationModel, Roster, Status, build_instance, form, validate
from teamform.cpmodel import SubModel
from teamform.criteria import OBJECTIVE_SCALE, NoRepeatTerm, build_terms

HISTORY = {("a", "b"): 3, ("c", "d"): 1, ("a", "c"): 1, ("b", "d"): 2, ("a", "d"): 2, ("b", "c"): 2}


def _roster(ids: str = "abcd") -> Roster:
    return Roster.from_records(
        {"id": i, "timezone": "UTC", "availability": "Mon 09:00-12:00", "motivation": "imposed"}
        for i in ids
    )


def _model(**no_repeat: Any) -> FormationModel:
    return FormationModel.from_dict({"team": {"size": 2}, "criteria": {"no_repeat": no_repeat}})


def _split(result_assignment: dict[str, int]) -> set[frozenset[str]]:
    teams: dict[int, set[str]] = {}
    for lid, t in result_assignment.items():
        teams.setdefault(t, set()).add(lid)
    return {frozenset(m) for m in teams.values()}


def test_team_penalty_counts_phases_shared() -> None:
    inst = build_instance(_roster(), _model(weight=2), history=HISTORY)
    term = NoRepeatTerm(inst, weight=2, hard=False)
    a, b, c, d = range(4)
    assert term.team_penalty([a, b], 0) == 3
    assert term.team_penalty([a, c], 0) == 1
    assert term.team_penalty([a, b, c, d], 0) == 3 + 1 + 1 + 2 + 2 + 2
    assert term.team_penalty([d], 0) == 0
    assert term.coefficient == 2 * OBJECTIVE_SCALE  # weight 2 per pair-phase


def test_soft_optimum_by_hand() -> None:
    res = form(_roster(), _model(weight=2), history=HISTORY, time_limit=2)
    assert res.status == Status.OPTIMAL
    assert _split(res.assignment) == {frozenset("ac"), frozenset("bd")}
    assert res.objective == pytest.approx(2 * 3)
    (score,) = res.breakdown
    assert (score.name, score.penalty) == ("no_repeat", 3)


def test_hard_only_unseen_pairs() -> None:
    history = {("a", "b"): 1, ("c", "d"): 1, ("a", "c"): 1, ("b", "d"): 1}
    res = form(_roster(), _model(hard=True), history=history, time_limit=2)
    assert res.feasible
    assert _split(res.assignment) == {frozenset("ad"), frozenset("bc")}


def test_hard_impossible_is_named() -> None:
    # a has met everyone: no partner is left
    history = {("a", "b"): 1, ("a", "c"): 1, ("a", "d"): 1}
    res = form(_roster(), _model(hard=True), history=history, time_limit=2)
    assert res.status == Status.INFEASIBLE
    assert any("no_repeat" in line for line in res.conflicts)


def test_dropouts_in_history_are_ignored() -> None:
    inst = build_instance(_roster(), _model(), history={("a", "zz"): 4, ("b", "c"): 1})
    assert inst.history == {(1, 2): 1}


def test_validator_flags_repeat_and_model_agrees() -> None:
    inst = build_instance(_roster(), _model(hard=True), history=HISTORY)
    terms = build_terms(inst)
    check = validate(inst, [0, 0, 1, 1], terms)  # ab | cd
    assert not check.ok
    assert any("a+b" in v for v in check.violations)
    assert check.team_penalties["no_repeat"] == [3, 1]
    # the CP-SAT expression of each team equals team_penalty on a fixed assignment
    soft = build_instance(_roster(), _model(weight=1), history=HISTORY)
    sub = SubModel(soft, range(4), range(2), build_terms(soft))
    for i, t in enumerate([0, 1, 1, 0]):  # ad | bc
        sub.model.add(sub.x[i, t] == 1)
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    assert solver.solve(sub.model) == cp_model.OPTIMAL
    assert solver.objective_value == OBJECTIVE_SCALE * (2 + 2)
