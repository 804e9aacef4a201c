"""Honest status and bounds: a result is optimal only when that is proven.

A lower bound above the objective of a valid plan, or a search handing back an
invalid plan as feasible, is a bug: it is recorded in ``Result.defects`` and
logged (with no learner data), never reported as optimality. Stub criteria and
a stub search show that these checks catch such bugs.
"""

from __future__ import annotations

import logging

import pytest

from conftest import learner, make_instance
from reference import assert_valid_search
from teamform import Status, solve
from teamform.criteria import OBJECTIVE_SCALE, SkillBalanceTerm, build_terms
from teamform.instance import Instance
from teamform.search.outcome import Outcome
from teamform.solve import Search, judge, search, solve_instance
from teamform.validate import validate


def four() -> Instance:
    """Skills 1, 2, 3, 5 in two pairs: the best split {1,5},{2,3} is 0.5 + 0.5 points
    off the target 5.5 per pair, which the integrality bound proves."""
    records = [learner(f"L0{k}", skills={"x": v}) for k, v in enumerate((1, 2, 3, 5))]
    return make_instance(records, {"skill_balance": {"weight": 1}})


class _BoundTooHigh(SkillBalanceTerm):
    """Skill balance claiming one hundredth more than any plan can reach."""

    def lower_bound(self) -> int:
        return super().lower_bound() + 1


def test_a_proven_optimum_is_reported_as_such() -> None:
    inst = four()
    (term,) = build_terms(inst)
    assert term.bound() == 100  # 50 hundredths per pair
    result = solve_instance(inst, time_limit=2, seed=0, strategy="lns")
    assert result.objective == 1.0 and result.bound == 1.0
    assert result.status == Status.OPTIMAL and result.defects == []


def test_a_bound_above_the_objective_is_a_defect_not_optimality(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inst = four()
    stub = _BoundTooHigh(inst, weight=1, hard=False)
    monkeypatch.setattr(solve, "build_terms", lambda _: [stub])
    with caplog.at_level(logging.WARNING, logger="teamform.solve"):
        result = solve_instance(inst, time_limit=2, seed=0, strategy="lns")
    assert result.valid and result.objective == 1.0
    # the wrong bound is neither believed nor clamped to the objective
    assert result.status == Status.FEASIBLE
    assert result.bound == 0.0 and result.gap == 1.0
    assert result.defects == [
        "skill_balance: lower bound 101 above the penalty 100 of a valid plan"
    ]
    (record,) = caplog.records
    assert "lower bound 101" in record.getMessage()
    names = [lr.name for lr in inst.roster.learners]
    assert not any(x in record.getMessage() for x in [*inst.ids, *names])


def test_a_proof_by_cpsat_stands_whatever_the_criteria_claim(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = four()
    monkeypatch.setattr(solve, "build_terms", lambda _: [_BoundTooHigh(inst, weight=1, hard=False)])
    result = solve_instance(inst, time_limit=5, seed=0, strategy="exact")
    assert result.status == Status.OPTIMAL and result.objective == 1.0
    assert len(result.defects) == 1 and result.bound == 1.0


def test_judge_rejects_bounds_and_scores_the_validator_does_not_confirm() -> None:
    inst = four()
    terms = build_terms(inst)
    check = validate(inst, [0, 1, 1, 0], terms)  # {a,d},{b,c}: the optimum
    assert check.objective == OBJECTIVE_SCALE
    fine = judge(terms, check, Status.FEASIBLE, solver_bound=check.objective)
    assert (fine.status, fine.bound, fine.defects) == (Status.OPTIMAL, check.objective, [])
    above = judge(terms, check, Status.FEASIBLE, solver_bound=check.objective + 1)
    assert above.status == Status.OPTIMAL  # the criteria's own bound still proves it
    assert above.bound == check.objective and len(above.defects) == 1
    worse = validate(inst, [0, 0, 1, 1], terms)  # {a,b},{c,d}: 5 points off
    lied = judge(terms, worse, Status.OPTIMAL, search_objective=check.objective)
    assert lied.status == Status.FEASIBLE and len(lied.defects) == 1
    alone = judge(terms, worse, Status.FEASIBLE, solver_bound=worse.objective + 1)
    assert alone.status == Status.FEASIBLE and alone.bound == OBJECTIVE_SCALE


def _invalid_search(inst: Instance, terms, **_: object) -> Search:  # type: ignore[no-untyped-def]
    """A search that returns everyone in team 1 as a feasible plan."""
    return Search(Outcome(Status.FEASIBLE, [0] * inst.n, None, 0.0, 0), "lns", 1, [], None, 0.0)


def test_an_invalid_plan_returned_as_feasible_is_caught(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inst = four()
    terms = build_terms(inst)
    # the raw outcome check of the property tests fails on it
    with pytest.raises(AssertionError, match="breaks"):
        assert_valid_search(inst, terms, _invalid_search(inst, terms))
    assert_valid_search(inst, terms, search(inst, terms, time_limit=1, strategy="lns"))
    monkeypatch.setattr(solve, "search", _invalid_search)
    with caplog.at_level(logging.WARNING, logger="teamform.solve"):
        result = solve_instance(inst, time_limit=1)
    assert result.status == Status.UNKNOWN and not result.valid and not result.feasible
    assert result.violations and any("breaks" in d for d in result.defects)
    assert any("breaks" in r.getMessage() for r in caplog.records)


def test_search_params_are_recorded_and_steer_the_search(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from teamform import Result
    from teamform.search.params import DEFAULT_PARAMS, SearchParams

    inst = four()
    result = solve_instance(inst, time_limit=1, seed=0)
    assert result.strategy == "exact" and result.params == DEFAULT_PARAMS
    result.to_json(tmp_path / "r.json")
    assert Result.from_json(tmp_path / "r.json").params == DEFAULT_PARAMS
    # no cohort small enough for the full model: auto takes the neighbourhood search
    params = SearchParams(exact_max_learners=0)
    other = solve_instance(inst, time_limit=1, seed=0, params=params)
    assert other.strategy == "lns" and other.params == params
    with pytest.raises(ValueError):
        SearchParams(anneal_run_seconds=-1.0)
