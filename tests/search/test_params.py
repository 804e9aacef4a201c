"""Search tunables: one object, whose settings decide what the search does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import learner, make_instance
from teamform.criteria import build_terms
from teamform.search.lns import use_compiled
from teamform.search.params import DEFAULT_PARAMS, SearchParams


def test_the_budget_that_affords_the_compiled_search_is_a_setting() -> None:
    records = [learner(f"L{i:02d}", skills={"x": 1 + i % 5}) for i in range(12)]
    inst = make_instance(records, {"skill_balance": {"weight": 1}}, team={"size": 3})
    terms = build_terms(inst)
    assert DEFAULT_PARAMS.compiled_min_seconds == 2.0
    assert use_compiled(inst, terms, 2.0) and not use_compiled(inst, terms, 1.5)
    quick = SearchParams(compiled_min_seconds=1.0)
    assert use_compiled(inst, terms, 1.5, quick)


def test_deterministic_runs_choose_the_compiled_search_whatever_the_budget() -> None:
    # a choice made on the budget would search a larger work budget otherwise
    records = [learner(f"L{i:02d}", skills={"x": 1 + i % 5}) for i in range(12)]
    inst = make_instance(records, {"skill_balance": {"weight": 1}}, team={"size": 3})
    terms = build_terms(inst)
    assert all(use_compiled(inst, terms, t, deterministic=True) for t in (0.1, 1.5, 2.0, 30.0))
    assert not use_compiled(inst, terms, 1.5, deterministic=False)


def test_params_are_frozen_and_named() -> None:
    params = SearchParams(anneal_runs=2)
    assert params.model_dump()["anneal_runs"] == 2
    assert SearchParams.model_validate(params.model_dump()) == params
    assert hash(params) == hash(SearchParams(anneal_runs=2))


def test_settings_of_earlier_versions_still_load_and_others_do_not() -> None:
    # results saved before the phases had lengths of their own carry their shares
    old = {**DEFAULT_PARAMS.model_dump(), "anneal_share": 0.75, "warm_share": 0.5}
    old.update(local_share=0.2, local_max_seconds=2.0, teams_first_share=0.4)
    assert SearchParams.model_validate(old) == DEFAULT_PARAMS
    with pytest.raises(ValueError):
        SearchParams.model_validate({"anneal_shares": 0.75})  # not a retired name


def test_a_saved_result_with_earlier_settings_loads(tmp_path: Path) -> None:
    from teamform.result import Result
    from teamform.solve import solve_instance

    records = [learner(f"L{i:02d}", skills={"x": 1 + i % 5}) for i in range(6)]
    inst = make_instance(records, {"skill_balance": {"weight": 1}}, team={"size": 3})
    path = tmp_path / "r.json"
    solve_instance(inst, time_limit=1, seed=0).to_json(path)
    data = json.loads(path.read_text())
    data["params"].update(anneal_share=0.75, warm_max_seconds=10.0, local_max_work_seconds=5.0)
    path.write_text(json.dumps(data))
    assert Result.from_json(path).params == DEFAULT_PARAMS
