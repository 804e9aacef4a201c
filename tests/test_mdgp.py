"""MDGP instance reader, objective, bounds check and distance scaling."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from teamform.errors import InputError
from teamform.mdgp import (
    MdgpFormatError,
    check_mdgp_assignment,
    mdgp_objective,
    read_best_known,
    read_mdgp,
    read_mdgp_solution,
    scale_distances,
)

DATA = Path(__file__).resolve().parent.parent / "instances" / "mdgp"


def test_read_plain_small() -> None:
    inst = read_mdgp(DATA / "RanInt" / "RanInt_n012_ss_01.txt")
    assert inst.name == "RanInt_n012_ss_01"
    assert (inst.n, inst.m, inst.kind) == (12, 4, "ss")
    assert inst.lo.tolist() == [3, 3, 3, 3] and inst.hi.tolist() == [3, 3, 3, 3]
    assert inst.dist.shape == (12, 12) and inst.dist.dtype == np.float64
    assert np.array_equal(inst.dist, inst.dist.T)
    assert np.all(np.diag(inst.dist) == 0)


def test_read_gz_large_ds() -> None:
    inst = read_mdgp(DATA / "RanReal" / "RanReal_n240_ds_01.txt.gz")
    assert inst.name == "RanReal_n240_ds_01"
    assert (inst.n, inst.m, inst.kind) == (240, 12, "ds")
    assert inst.lo[0] == 19 and inst.hi[0] == 24
    assert np.array_equal(inst.dist, inst.dist.T)
    off = inst.dist[~np.eye(240, dtype=bool)]
    assert off.min() >= 0 and off.max() <= 100
    # The ss and ds files share the distance matrix.
    ss = read_mdgp(DATA / "RanReal" / "RanReal_n240_ss_01.txt.gz")
    assert np.array_equal(ss.dist, inst.dist)


def _write(tmp_path: Path, text: str, name: str = "bad.txt") -> Path:
    p = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(p, "wt") as fh:
            fh.write(text)
    else:
        p.write_text(text)
    return p


GOOD = "3 1 ss 3 3 \n0 1 1.5\n0 2 2\n1 2 3\n"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("3 1 xx 3 3\n0 1 1\n0 2 1\n1 2 1\n", 1, "'ss' or 'ds'"),
        ("3 1 ss 3\n0 1 1\n0 2 1\n1 2 1\n", 1, "size bounds"),
        ("3 x ss 3 3\n", 1, "non-integer"),
        ("3 1 ss 3 3\n0 1 1\n0 2\n1 2 1\n", 3, "expected 3 fields"),
        ("3 1 ss 3 3\n0 1 1\n0 2 abc\n1 2 1\n", 3, "not a number"),
        ("3 1 ss 3 3\n0 1 1\n0 3 1\n1 2 1\n", 3, "0 <= i < j < 3"),
        ("3 1 ss 3 3\n0 1 1\n1 0 1\n1 2 1\n", 3, "0 <= i < j < 3"),
        ("3 1 ss 3 3\n0 1 1\n0 1 2\n1 2 1\n", 3, "more than once"),
        ("3 2 ss 1 1 1 1\n0 1 1\n0 2 1\n1 2 1\n", 1, "admit no assignment"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(MdgpFormatError) as info:
        read_mdgp(p)
    msg = str(info.value)
    assert str(p) in msg and f"line {line}" in msg and needle in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, InputError)


def test_missing_pairs_and_gz_errors(tmp_path: Path) -> None:
    with pytest.raises(MdgpFormatError, match="expected 3 pair lines"):
        read_mdgp(_write(tmp_path, "3 1 ss 3 3\n0 1 1\n0 2 1\n"))
    with pytest.raises(MdgpFormatError, match=r"line 4: .*expected 3 fields"):
        read_mdgp(_write(tmp_path, "3 1 ss 3 3\n0 1 1\n0 2 1\n1 2 1 9\n", "bad.txt.gz"))
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(MdgpFormatError, match="cannot read"):
        read_mdgp(broken)
    ok = read_mdgp(_write(tmp_path, GOOD, "ok.txt.gz"))
    assert ok.name == "ok" and ok.dist[0, 1] == 1.5 and ok.dist[2, 1] == 3


@pytest.mark.parametrize(
    ("instance", "solution"),
    [
        ("RanInt/RanInt_n120_ds_01.txt.gz", "RanInt_n120_ds_01new.txt"),
        ("RanInt/RanInt_n240_ss_01.txt.gz", "RanInt_n240_ss_01_new.txt"),
    ],
)
def test_published_integer_solution_recomputed_exactly(instance: str, solution: str) -> None:
    inst = read_mdgp(DATA / instance)
    assignment, reported = read_mdgp_solution(DATA / "tpsdp_solutions" / solution, n=inst.n)
    check_mdgp_assignment(inst, assignment)
    assert mdgp_objective(inst.dist, assignment) == reported


@pytest.mark.parametrize(
    ("instance", "solution"),
    [
        ("RanReal/RanReal_n120_ss_01.txt.gz", "RanReal_n120_ss_01_new.txt"),
        ("Geo/Geo_n120_ds_01.txt.gz", "Geo_n120_ds_01_new.txt"),
    ],
)
def test_published_real_solution_recomputed(instance: str, solution: str) -> None:
    inst = read_mdgp(DATA / instance)
    assignment, reported = read_mdgp_solution(DATA / "tpsdp_solutions" / solution, n=inst.n)
    check_mdgp_assignment(inst, assignment)
    value = mdgp_objective(inst.dist, assignment)
    # Three-decimal data: the exact sum is a multiple of 0.001; the published value carries
    # float noise in its last digits (e.g. 47363.206898 for 47363.207).
    assert value == pytest.approx(round(value, 3), abs=1e-8)
    assert value == pytest.approx(reported, abs=1e-3)
    # The objective does not depend on how the groups are labelled.
    perm = np.random.default_rng(1).permutation(inst.m)
    assert mdgp_objective(inst.dist, perm[assignment]) == value


def test_objective_small_by_hand() -> None:
    dist = np.array([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]], dtype=float)
    assert mdgp_objective(dist, [0, 0, 1, 1]) == 1 + 6
    assert mdgp_objective(dist, [0, 1, 0, 1]) == 2 + 5
    assert mdgp_objective(dist, [0, 0, 0, 0]) == 21
    with pytest.raises(ValueError):
        mdgp_objective(dist, [0, 1])


def test_check_assignment_bounds() -> None:
    inst = read_mdgp(DATA / "RanReal" / "RanReal_n010_ds_01.txt")
    sizes_ok = np.repeat(np.arange(inst.m), [int(inst.lo[0]), inst.n - int(inst.lo[0])])
    check_mdgp_assignment(inst, sizes_ok)
    with pytest.raises(ValueError, match="group 0"):
        check_mdgp_assignment(inst, np.zeros(inst.n, dtype=np.int64))
    with pytest.raises(ValueError, match="shape"):
        check_mdgp_assignment(inst, np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="indices"):
        check_mdgp_assignment(inst, np.full(inst.n, 7, dtype=np.int64))


def test_scale_distances_three_decimals_exact() -> None:
    for path in (
        DATA / "RanReal" / "RanReal_n120_ds_02.txt.gz",
        DATA / "Geo/Geo_n120_ss_03.txt.gz",
    ):
        dist = read_mdgp(path).dist
        scaled, factor = scale_distances(dist)
        assert factor == 1000.0 and scaled.dtype == np.int64
        assert np.array_equal(scaled / factor, dist)
        a = np.arange(dist.shape[0]) % 10
        same = np.triu(a[:, None] == a[None, :], 1)
        assert int(scaled[same].sum()) == round(mdgp_objective(dist, a) * 1000)


def test_scale_distances_integers_and_lossy() -> None:
    dist = read_mdgp(DATA / "RanInt" / "RanInt_n120_ss_01.txt.gz").dist
    scaled, factor = scale_distances(dist)
    assert factor == 1.0 and np.array_equal(scaled, dist)
    rng = np.random.default_rng(0)
    raw = rng.random((50, 50)) * 7
    raw = np.triu(raw, 1) + np.triu(raw, 1).T
    scaled, factor = scale_distances(raw, max_abs=10**6)
    assert factor == 1e5 and np.abs(scaled).max() <= 10**6
    assert np.abs(scaled / factor - raw).max() <= 0.5 / factor
    big, f_big = scale_distances(raw * 1e9, max_abs=10**6)
    assert f_big < 1 and np.abs(big).max() <= 10**6
    zero, f_zero = scale_distances(np.zeros((3, 3)))
    assert f_zero == 1.0 and not zero.any()


def test_read_best_known() -> None:
    best = read_best_known(DATA / "best_known.csv")
    assert len(best) == 120
    assert best["RanInt_n120_ss_01"] == 47909.0
    exact = read_best_known(DATA / "exact_optima.csv")
    assert exact["RanInt_n012_ss_01"] == 985
