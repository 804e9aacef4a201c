"""Benchmark smoke run: the runner works end to end on a small cohort."""

import csv
import subprocess
import sys
from pathlib import Path


def test_quick_benchmark_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.cohorts", "--quick", "--results", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "cohort_n30.csv", encoding="utf-8") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"teamform", "random", "monolithic"}
    ours = rows["teamform"]
    assert ours["status"] in ("feasible", "optimal")
    assert float(ours["first_feasible_s"]) < 2.0
    # the search must beat a random split of the same cohort
    assert float(ours["obj_end"]) < float(rows["random"]["obj_end"])
    assert float(ours["bound"]) <= float(ours["obj_end"])
    assert float(ours["peak_mb"]) > 0
    assert (tmp_path / "cohort_n30.md").read_text().startswith("### n = 30")


def test_quick_wallclock_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.wallclock", "--quick", "--results", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "wallclock.csv", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["n"] == "120" and row["status"] in ("feasible", "optimal")
    # the phases the command reports fit inside the wall time measured around it
    phases = ("startup", "read", "build", "search", "finish", "write")
    assert sum(float(row[f"{p}_s"]) for p in phases) <= float(row["wall_s"])
    assert "wall/limit" in (tmp_path / "wallclock.md").read_text()
