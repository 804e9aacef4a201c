"""The participation criteria on six learners in two teams of three.

Participation: a 10, b 20, c 30 (low, below 40), d 80 (high, 70 or above),
e 50, f unknown. Three low learners over two teams: at most ceil(3/2) = 2 per
team, so only a team holding a, b and c pays (1). Only d is highly engaged, so
one of the two teams has nobody at 70+: the optimum is exactly 1, from the
``participation_high`` part, and that is also the lower bound. With e at 90
instead, both parts reach 0.
"""

from __future__ import annotations

from typing import Any

import pytest

from teamform import FormationModel, Roster, Status, build_instance, form
from teamform.criteria import ParticipationHighTerm, ParticipationSpreadTerm, build_terms

LEVELS: dict[str, float | None] = {"a": 10, "b": 20, "c": 30, "d": 80, "e": 50, "f": None}


def _roster(levels: dict[str, float | None]) -> Roster:
    return Roster.from_records(
        {
            "id": i,
            "timezone": "UTC",
            "availability": "Mon 09:00-12:00",
            "motivation": "imposed",
            "participation": p,
        }
        for i, p in levels.items()
    )


def _model(**participation: Any) -> FormationModel:
    return FormationModel.from_dict(
        {"team": {"size": 3}, "criteria": {"participation": participation}}
    )


def test_team_penalties() -> None:
    inst = build_instance(_roster(LEVELS), _model())
    spread = ParticipationSpreadTerm(inst, weight=1, hard=False, low=40)
    high = ParticipationHighTerm(inst, weight=1, hard=False, high=70)
    a, b, c, d, e, f = range(6)
    assert spread.team_cap(0) == 2
    assert spread.team_penalty([a, b, c], 0) == 1
    assert spread.team_penalty([a, b, d], 0) == 0
    assert spread.team_penalty([d, e, f], 1) == 0  # unknown f is not low
    assert high.team_penalty([a, b, d], 0) == 0
    assert high.team_penalty([c, e, f], 1) == 1
    assert high.lower_bound() == 1


def test_optimum_by_hand() -> None:
    res = form(_roster(LEVELS), _model(weight=3), time_limit=2)
    assert res.status == Status.OPTIMAL
    assert res.objective == pytest.approx(3 * 1)
    scores = {s.name: s.penalty for s in res.breakdown}
    assert scores == {"participation": 0, "participation_high": 1}
    teams: dict[int, set[str]] = {}
    for lid, t in res.assignment.items():
        teams.setdefault(t, set()).add(lid)
    assert all(not {"a", "b", "c"} <= m for m in teams.values())


def test_two_engaged_learners_reach_zero() -> None:
    res = form(_roster({**LEVELS, "e": 90}), _model(hard=True), time_limit=2)
    assert res.feasible and res.objective == 0
    assert res.assignment["d"] != res.assignment["e"]


def test_hard_high_impossible_is_reported() -> None:
    res = form(_roster(LEVELS), _model(hard=True), time_limit=2)
    assert res.status == Status.INFEASIBLE
    assert any("participation_high (hard)" in line for line in res.conflicts)


def test_switches_and_missing_column() -> None:
    inst = build_instance(_roster(LEVELS), _model(require_high=False, low=25))
    (term,) = build_terms(inst)
    assert isinstance(term, ParticipationSpreadTerm)
    assert int(term.is_low.sum()) == 2  # a and b are below 25
    no_column = _roster(dict.fromkeys(LEVELS))
    assert build_terms(build_instance(no_column, _model())) == []


def test_low_above_high_is_rejected() -> None:
    from teamform import InputError

    with pytest.raises(InputError, match="low"):
        _model(low=80, high=70)
