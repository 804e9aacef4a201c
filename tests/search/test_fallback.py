"""Compiled data that does not fit, criteria without it, kernels not compiled yet:
the search goes on in Python and the result says why."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_compiled import preset_instance

from teamform import solve
from teamform.criteria import DiversityTerm, SkillBalanceTerm, Term, build_terms
from teamform.criteria.overlap import OverlapTerm
from teamform.search import construct as construct_module
from teamform.search import construct_kernels, kernels
from teamform.search.compiled import CompiledLocalSearch
from teamform.search.compiled_data import (
    KINDS,
    CompiledDataError,
    Records,
    SkillRecord,
    build_records,
)
from teamform.search.construct import construct
from teamform.search.local import TeamState
from teamform.solve import solve_instance
from teamform.validate import validate


def test_records_follow_the_one_list_of_kinds() -> None:
    # every kind of KINDS has its field in Records, in the same order
    assert len(Records._fields) == len(KINDS) + 1
    inst = preset_instance(24, 1)
    rec = build_records(TeamState(inst, build_terms(inst), construct(inst, 0)))
    assert [type(r) for r in rec[1:]] == list(KINDS)


class _OffByOne(SkillBalanceTerm):
    """Compiled data one point away from its own evaluation, as a bug would be."""

    def compiled_data(self) -> SkillRecord:
        rec = super().compiled_data()
        return rec._replace(mean=rec.mean + 1)


class _WrongShape(SkillBalanceTerm):
    def compiled_data(self) -> SkillRecord:
        rec = super().compiled_data()
        return rec._replace(mean=rec.mean[:-1])


def _with(inst, cls: type[SkillBalanceTerm]) -> list[Term]:
    terms = build_terms(inst)
    return [cls(inst, weight=t.weight, hard=t.hard) if type(t) is SkillBalanceTerm else t
            for t in terms]  # fmt: skip


def test_data_of_the_wrong_shape_is_a_clear_error_and_the_python_search_goes_on() -> None:
    inst = preset_instance(60, 2)
    terms = _with(inst, _WrongShape)
    state = TeamState(inst, terms, construct(inst, 0))
    with pytest.raises(CompiledDataError, match="skill_balance: mean is int64"):
        build_records(state)
    before = state.total
    with kernels.collecting() as notes:
        search = CompiledLocalSearch(state, seed=0)
        search.run(max_steps=500)
    assert search.fallback is not None and "mean" in search.fallback
    assert notes == [search.fallback]
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.soft_cost < before


def test_costs_at_odds_with_the_criteria_hand_over_to_python_without_an_error() -> None:
    inst = preset_instance(60, 3)
    terms = _with(inst, _OffByOne)
    state = TeamState(inst, terms, construct(inst, 0))
    with kernels.collecting() as notes:
        search = CompiledLocalSearch(state, seed=1)
        search.run(max_steps=2000)
        search.run(max_steps=200)  # now the Python local search
    assert search.fallback is not None and "by the criteria" in search.fallback
    assert len(notes) == 1
    # the state holds the criteria's own costs throughout
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.soft_cost


def test_a_solve_with_bad_compiled_data_reports_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = preset_instance(100, 4)
    monkeypatch.setattr(solve, "build_terms", lambda i: _with(i, _OffByOne))
    result = solve_instance(inst, time_limit=4.0, seed=0, strategy="lns")
    assert result.valid and result.status.value in ("feasible", "optimal")
    assert any("by the criteria" in why for why in result.python_fallback)
    assert "python_fallback" in result.model_dump_json()


def test_a_criterion_without_compiled_data_is_reported() -> None:
    inst = preset_instance(40, 5)
    data = inst.model.model_dump()
    data["criteria"]["diversity"] = {"weight": 1, "columns": ["skill_a"]}
    from teamform import FormationModel, build_instance

    inst = build_instance(inst.roster, FormationModel.model_validate(data))
    assert any(isinstance(t, DiversityTerm) for t in build_terms(inst))
    result = solve_instance(inst, time_limit=3.0, seed=0)
    assert result.valid
    assert result.python_fallback == [
        "diversity: no compiled evaluation, so the search runs in Python"
    ]


def _not_compiled(monkeypatch: pytest.MonkeyPatch) -> dict[str, threading.Event]:
    """Kernels that never get ready: nothing cached, and nothing compiles."""
    events = {group: threading.Event() for group in kernels.GROUPS}
    monkeypatch.setattr(kernels, "_READY", events)
    monkeypatch.setattr(kernels, "_cached", lambda group: False)
    monkeypatch.setattr(kernels, "_marked", lambda group: False)
    monkeypatch.setattr(kernels, "_loadable", lambda kernel: False)
    monkeypatch.setattr(kernels, "_loaded", lambda kernel: False)
    monkeypatch.setattr(kernels, "warm_up_in_background", lambda: events)
    return events


def test_with_kernels_not_compiled_a_solve_takes_the_python_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = preset_instance(120, 6, steps=True)
    compiled_start = construct(inst, 3)  # kernels ready (the session warmed them)
    compiled_bounds = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    full = compiled_bounds.learner_bounds().copy()
    _not_compiled(monkeypatch)
    kernel = construct_kernels._grow_kernel
    monkeypatch.setattr(construct_kernels, "_grow_kernel", None)  # never called now
    # the Python construction makes the same teams as the kernel
    assert construct(inst, 3) == compiled_start
    weak = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm)).learner_bounds()
    assert (weak <= full).all()  # a weaker bound, never a wrong one
    result = solve_instance(inst, time_limit=4.0, seed=0, strategy="lns")
    monkeypatch.setattr(construct_kernels, "_grow_kernel", kernel)
    assert result.valid and result.status.value in ("feasible", "optimal")
    assert result.objective is not None and result.bound is not None
    assert result.bound <= result.objective
    joined = " | ".join(result.python_fallback)
    for part in ("construction in Python", "overlap bound", "local search in Python"):
        assert part in joined, joined


def test_a_deterministic_solve_does_not_depend_on_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = preset_instance(100, 7)
    warm = solve_instance(inst, time_limit=1.0, seed=2, deterministic=True)
    _not_compiled(monkeypatch)
    # a deterministic solve compiles what it needs at once (here: it is loaded)
    cold = solve_instance(inst, time_limit=1.0, seed=2, deterministic=True)
    assert cold.assignment == warm.assignment and cold.python_fallback == []


def test_the_python_construction_matches_the_kernel_on_random_cohorts() -> None:
    for seed in range(4):
        inst = preset_instance(50 + 17 * seed, 10 + seed)
        team_of = construct(inst, seed)
        order = list(range(inst.n))
        total = inst.skills.sum(axis=1).tolist()
        mean = float(np.asarray(total, dtype=np.float64).mean())
        sizes = [4] * (inst.n // 4)
        need, block = construct_module._overlap_target(inst)
        lo, hi = construct_module.intrinsic_ranges(inst, np.arange(len(sizes)))
        py = construct_module._grow_python(
            inst, order, need, block, total, mean, sizes, lo.tolist(), hi.tolist(), 48
        )
        from teamform.search.bitsets import pairs_csr

        aptr, aidx = pairs_csr(inst.n, inst.avoid)
        kern = construct_kernels._grow_kernel(
            np.asarray(order, dtype=np.int64), inst.mask_words, need, block,
            inst.intrinsic.astype(np.int64), np.asarray(total, dtype=np.float64), mean,
            np.asarray(sizes, dtype=np.int64), lo, hi, aptr, aidx, 48,
        )  # fmt: skip
        assert py.tolist() == kern.tolist()
        assert len(team_of) == inst.n


def test_the_summary_says_what_ran_in_python(
    monkeypatch: pytest.MonkeyPatch, demo_paths: dict[str, str], tmp_path
) -> None:
    from typer.testing import CliRunner

    from teamform.cli import app

    _not_compiled(monkeypatch)
    out = tmp_path / "result.json"
    args = ["form", demo_paths["roster"], "--model", demo_paths["model"], "--avoid",
            demo_paths["avoid"], "--prefer", demo_paths["prefer"], "--time-limit", "1",
            "--quiet", "--json", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "in Python" in res.output and "construction in Python" in res.output
    assert "construction in Python" in out.read_text(encoding="utf-8")
