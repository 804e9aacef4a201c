"""The stability criterion (the ``keep`` policy), checked against hand counts.

Phase 1 had 8 learners in two teams of four: team 1 = a b c d, team 2 = e f g h.
For phase 2, c and d dropped out and i joined: 7 learners, so two teams of
sizes 4 and 3 (team 1 gets the extra seat).

* Team 2 still holds four current members but seats three, so one of e f g h
  must move to team 1; i fills the other free seat of team 1 at no cost.
  Minimum: 1 move (and the layout bound alone proves it).
* With i and a as an avoid pair, i must go to team 2, and team 1 then needs two
  of e f g h: minimum 2 moves.
"""

from __future__ import annotations

from typing import Any

import pytest

from teamform import FormationModel, Roster, Status, build_instance, form
from teamform.criteria import StabilityTerm

PREVIOUS = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 2, "f": 2, "g": 2, "h": 2}


def _roster(ids: str, avoid: tuple[tuple[str, str], ...] = ()) -> Roster:
    return Roster.from_records(
        (
            {"id": i, "timezone": "UTC", "availability": "Mon 09:00-12:00", "motivation": "imposed"}
            for i in ids
        ),
        avoid=avoid,
    )


def _model(**stability: Any) -> FormationModel:
    return FormationModel.from_dict(
        {"team": {"size": 4, "min": 3, "max": 4}, "criteria": {"stability": stability}}
    )


def _moves(assignment: dict[str, int]) -> int:
    return sum(1 for lid, t in assignment.items() if lid in PREVIOUS and PREVIOUS[lid] != t)


def test_team_penalty_and_bound() -> None:
    inst = build_instance(_roster("abefghi"), _model(), previous=PREVIOUS)
    assert inst.team_lo.tolist() == [4, 3]
    term = StabilityTerm(inst, weight=1, hard=False)
    a, b, e, f, g, h, i = range(7)
    assert term.team_penalty([a, b, e, i], 0) == 1  # e moved; i is new
    assert term.team_penalty([f, g, h], 1) == 0
    assert term.team_penalty([a, f, g], 1) == 1
    assert term.lower_bound() == 1  # team 2: four current members, three seats


def test_keep_minimum_moves_by_hand() -> None:
    res = form(_roster("abefghi"), _model(weight=10), previous=PREVIOUS, time_limit=2)
    assert res.status == Status.OPTIMAL
    assert _moves(res.assignment) == 1
    assert res.assignment["a"] == res.assignment["b"] == res.assignment["i"] == 1
    assert res.objective == pytest.approx(10)
    assert res.bound == pytest.approx(10)


def test_keep_with_avoid_pair_needs_two_moves() -> None:
    roster = _roster("abefghi", avoid=(("a", "i"),))
    res = form(roster, _model(weight=1), previous=PREVIOUS, time_limit=2)
    assert res.status == Status.OPTIMAL
    assert res.assignment["i"] == 2
    assert _moves(res.assignment) == 2
    assert res.objective == pytest.approx(2)


def test_vanished_team_forces_moves() -> None:
    # learner x was in team 3, which no longer exists with two teams
    inst = build_instance(_roster("abcdefgx"), _model(), previous={**PREVIOUS, "x": 3})
    term = StabilityTerm(inst, weight=1, hard=False)
    assert inst.previous is not None and inst.previous.tolist()[-1] == 2
    assert term.lower_bound() == 1


def test_hard_keep_impossible_is_reported() -> None:
    res = form(_roster("abefghi"), _model(hard=True), previous=PREVIOUS, time_limit=2)
    assert res.status == Status.INFEASIBLE
    assert any("stability (hard)" in line for line in res.conflicts)


def test_no_previous_costs_nothing() -> None:
    res = form(_roster("abefghi"), _model(weight=5), time_limit=2)
    assert res.feasible and res.objective == 0
