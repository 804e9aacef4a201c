"""Iterated tabu search for maximum within-group diversity."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from teamform.mdgp import check_mdgp_assignment, mdgp_objective, read_best_known, read_mdgp
from teamform.search import diversity_ls as ls
from teamform.search.diversity_ls import (
    SearchParams,
    random_feasible_assignment,
    solve_max_diversity,
    top_size_profiles,
)

DATA = Path(__file__).resolve().parent.parent / "instances" / "mdgp"
OPTIMA = read_best_known(DATA / "exact_optima.csv")


def _load(name: str) -> object:
    set_name = name.split("_")[0]
    for suffix in (".txt", ".txt.gz"):
        p = DATA / set_name / f"{name}{suffix}"
        if p.exists():
            return read_mdgp(p)
    raise FileNotFoundError(name)


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_reaches_exact_optimum(name: str) -> None:
    inst = _load(name)
    res = solve_max_diversity(
        inst.dist, inst.lo, inst.hi, time_limit=60.0, seed=0, max_iterations=3000
    )
    check_mdgp_assignment(inst, res.assignment)
    assert res.objective == pytest.approx(OPTIMA[name], abs=1e-6)
    assert res.objective == pytest.approx(mdgp_objective(inst.dist, res.assignment), abs=0)


def _scratch(dist: np.ndarray, assign: np.ndarray, m: int) -> np.ndarray:
    return np.stack([dist[:, assign == g].sum(axis=1) for g in range(m)])


@pytest.mark.parametrize("name", ["RanReal_n120_ds_03", "Geo_n120_ss_02"])
def test_incremental_bookkeeping_matches_recomputation(name: str) -> None:
    inst = _load(name)
    assign = random_feasible_assignment(inst.lo, inst.hi, inst.n, np.random.default_rng(3))
    gsum, members, sizes, f = ls._random_walk_check(inst.dist, inst.lo, inst.hi, assign, 400, 11)
    check_mdgp_assignment(inst, assign)
    np.testing.assert_allclose(gsum, _scratch(inst.dist, assign, inst.m), atol=1e-8)
    assert f == pytest.approx(mdgp_objective(inst.dist, assign), rel=1e-12)
    assert np.array_equal(sizes, np.bincount(assign, minlength=inst.m))
    for g in range(inst.m):
        assert sorted(members[g, : sizes[g]]) == np.flatnonzero(assign == g).tolist()


def _brute_best(inst: object, assign: np.ndarray) -> float:
    gs = _scratch(inst.dist, assign, inst.m)
    own = gs[assign, np.arange(inst.n)]
    gain = gs - own  # gain[g, i]: change when i alone joins g
    sizes = np.bincount(assign, minlength=inst.m)
    best = -np.inf
    for i, j in itertools.combinations(range(inst.n), 2):
        a, b = assign[i], assign[j]
        if a != b:
            best = max(best, gain[b, i] + gain[a, j] - 2 * inst.dist[i, j])
    for i in range(inst.n):
        a = assign[i]
        for g in range(inst.m):
            if g != a and sizes[a] > inst.lo[a] and sizes[g] < inst.hi[g]:
                best = max(best, gain[g, i])
    return float(best)


@pytest.mark.parametrize("name", ["RanInt_n120_ds_02", "RanReal_n120_ss_04"])
def test_pruned_neighbourhood_scan_finds_true_best(name: str) -> None:
    inst = _load(name)
    n, m = inst.n, inst.m
    rng = np.random.default_rng(5)
    for trial in range(4):
        # Random starts and near-local-optima both exercise the bound.
        if trial % 2:
            assign = solve_max_diversity(
                inst.dist, inst.lo, inst.hi, time_limit=60, seed=trial, max_iterations=50 * trial
            ).assignment.copy()
        else:
            assign = random_feasible_assignment(inst.lo, inst.hi, n, rng)
        gsum = np.zeros((m, n))
        own = np.zeros(n)
        sizes = np.zeros(m, dtype=np.int64)
        members = np.zeros((m, n), dtype=np.int64)
        pos = np.zeros(n, dtype=np.int64)
        f = ls._full_state(inst.dist, assign, gsum, own, sizes, members, pos)
        off = inst.dist + np.diag(np.full(n, np.inf))
        out = ls._best_neighbour(
            inst.dist, assign, gsum, own, sizes, members, inst.lo, inst.hi,
            np.ones(n, dtype=np.bool_), np.arange(n), off.min(axis=1), np.zeros((m, m)),
            np.zeros((n, m), dtype=np.int64), 0, f, f, 1e-7, bool(np.any(inst.lo < inst.hi)),
            np.array([trial + 1], dtype=np.uint64),
        )  # fmt: skip
        assert out[3] == pytest.approx(_brute_best(inst, assign), abs=1e-7)


@pytest.mark.parametrize("name", ["RanReal_n120_ds_05", "Geo_n120_ds_07"])
def test_bounds_respected_and_deterministic(name: str) -> None:
    inst = _load(name)
    runs = [
        solve_max_diversity(inst.dist, inst.lo, inst.hi, time_limit=60, seed=7, max_iterations=800)
        for _ in range(2)
    ]
    for r in runs:
        check_mdgp_assignment(inst, r.assignment)
        assert r.iterations == 800
    assert np.array_equal(runs[0].assignment, runs[1].assignment)
    assert runs[0].objective == runs[1].objective
    for seed in range(3):
        r = solve_max_diversity(
            inst.dist, inst.lo, inst.hi, time_limit=60, seed=seed, max_iterations=300,
            params=SearchParams(depth=20, kick_min=30, kick_max=60, reshape_prob=1.0),
        )  # fmt: skip
        check_mdgp_assignment(inst, r.assignment)


def test_fixed_elements_stay_and_initial_is_used() -> None:
    inst = _load("RanInt_n120_ds_04")
    rng = np.random.default_rng(2)
    initial = random_feasible_assignment(inst.lo, inst.hi, inst.n, rng)
    fixed = np.zeros(inst.n, dtype=bool)
    fixed[rng.choice(inst.n, 30, replace=False)] = True
    r = solve_max_diversity(
        inst.dist, inst.lo, inst.hi, time_limit=60, seed=1, initial=initial,
        fixed_mask=fixed, max_iterations=500,
    )  # fmt: skip
    check_mdgp_assignment(inst, r.assignment)
    assert np.array_equal(r.assignment[fixed], initial[fixed])
    assert r.objective > mdgp_objective(inst.dist, initial)


def test_time_limit_stops_search() -> None:
    inst = _load("RanReal_n120_ss_01")
    r = solve_max_diversity(inst.dist, inst.lo, inst.hi, time_limit=0.3, seed=0)
    assert r.elapsed < 1.0 and r.iterations > 0
    assert 0 <= r.time_to_best <= r.elapsed
    check_mdgp_assignment(inst, r.assignment)


def test_input_validation() -> None:
    dist = np.ones((4, 4)) - np.eye(4)
    with pytest.raises(ValueError, match="no assignment"):
        solve_max_diversity(dist, [3, 3], [3, 3], time_limit=1, seed=0)
    with pytest.raises(ValueError, match="needs an initial"):
        solve_max_diversity(dist, [2, 2], [2, 2], time_limit=1, seed=0, fixed_mask=[True] * 4)
    with pytest.raises(ValueError, match="violates"):
        solve_max_diversity(dist, [2, 2], [2, 2], time_limit=1, seed=0, initial=[0, 0, 0, 1])
    one = solve_max_diversity(dist, [4], [4], time_limit=1, seed=0)
    assert one.assignment.tolist() == [0, 0, 0, 0] and one.objective == 6


def test_size_profiles_match_enumeration() -> None:
    lo = np.array([2, 3, 1, 2])
    hi = np.array([5, 4, 4, 3])
    n = 12
    best = top_size_profiles(lo, hi, n, 5)
    space = [
        s
        for s in itertools.product(*(range(a, b + 1) for a, b in zip(lo, hi, strict=True)))
        if sum(s) == n
    ]
    scores = sorted((sum(x * (x - 1) // 2 for x in s) for s in space), reverse=True)
    got = [int((p * (p - 1) // 2).sum()) for p in best]
    assert got == scores[:5]
    assert all(p.sum() == n and np.all(p >= lo) and np.all(p <= hi) for p in best)


def test_random_feasible_assignment_bounds() -> None:
    lo = np.array([1, 0, 4])
    hi = np.array([2, 5, 6])
    for seed in range(20):
        a = random_feasible_assignment(lo, hi, 9, np.random.default_rng(seed))
        sizes = np.bincount(a, minlength=3)
        assert np.all(sizes >= lo) and np.all(sizes <= hi) and sizes.sum() == 9
