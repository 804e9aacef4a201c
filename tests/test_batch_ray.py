"""The ray engine on a local Ray instance started here: the same teams as the pool."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform.batch import JobOptions, form_many, load_jobs
from teamform.cli import app
from teamform.generate import generate_cohort, write_cohort

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parent.parent
REF = "2026-01-12"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One small local Ray instance for the module (its start-up is the slow part)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def courses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ray-courses")
    for i, n in enumerate((90, 100, 120), start=1):
        write_cohort(generate_cohort(n, 20 + i), root / f"course{i}")
    (root / "bad.csv").write_text("id,timezone\nx,Nowhere/Land\n", encoding="utf-8")
    return root


def assignments(out: Path, names: list[str]) -> dict[str, dict[str, int]]:
    return {
        n: json.loads((out / n / "result.json").read_text(encoding="utf-8"))["assignment"]
        for n in names
    }


def test_ray_results_equal_process_pool_results(
    local_ray: None, courses: Path, tmp_path: Path
) -> None:
    jobs = load_jobs(
        courses,
        JobOptions(
            model="collaborative", time_limit=1, seed=5, deterministic=True, reference_date=REF
        ),
    )
    on_ray = {r.name: r for r in form_many(jobs, tmp_path / "ray", engine="ray")}
    on_pool = {r.name: r for r in form_many(jobs, tmp_path / "pool", engine="process")}
    names = ["course1", "course2", "course3"]
    for name in names:
        assert on_ray[name].ok, on_ray[name].error
        assert on_ray[name].key == on_pool[name].key
        assert on_ray[name].objective == on_pool[name].objective
    assert assignments(tmp_path / "ray", names) == assignments(tmp_path / "pool", names)
    # a failing job on the cluster is reported like anywhere else, with the user's file name
    assert on_ray["bad"].status == "error"
    assert str(courses / "bad.csv") in on_ray["bad"].error


def test_cli_ray_engine_reuses_the_running_instance(
    local_ray: None, courses: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "jobs.toml"
    spec.write_text(f'[[jobs]]\nroster = "{courses}/course1/roster.csv"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["batch", str(spec), "--out", str(tmp_path / "out"), "--model", "collaborative",
         "--time-limit", "1", "--reference-date", REF, "--engine", "ray"],
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "1 jobs: 1 formed teams" in result.stdout
    assert ray.is_initialized()  # the instance the test started is left running for it
