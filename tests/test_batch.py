"""Batches of formations: jobs files, keys, the process pool, reruns and failures."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import teamform
from teamform.batch import (
    DONE_FILE,
    Job,
    JobOptions,
    default_parallel,
    form_many,
    load_jobs,
    plan,
)
from teamform.cli import app
from teamform.errors import InputError
from teamform.generate import generate_cohort, write_cohort

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "collaborative.toml"
REF = "2026-01-12"
runner = CliRunner()

#: A model whose hard overlap cannot hold for a learner free at another time.
HARD_OVERLAP = """
[team]
size = 2
[criteria.overlap]
hours = 2
hard = true
"""


@pytest.fixture(scope="module")
def courses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three generated sections of 30-50 learners, one with sections inside, a bad roster
    and an infeasible one, laid out as a jobs directory."""
    root = tmp_path_factory.mktemp("courses")
    for i, n in enumerate((30, 40, 50), start=1):
        write_cohort(generate_cohort(n, i), root / f"course{i}")
    write_cohort(generate_cohort(60, 9, sections=3), root / "split")
    (root / "bad.csv").write_text(
        "id,timezone,availability,motivation\nx1,Mars/Base,Mon 10:00-12:00,intrinsic\n",
        encoding="utf-8",
    )
    (root / "clash.csv").write_text(
        "id,timezone,availability,motivation\n"
        "c1,UTC,Mon 10:00-12:00,intrinsic\nc2,UTC,Mon 10:00-12:00,imposed\n"
        "c3,UTC,Tue 10:00-12:00,intrinsic\nc4,UTC,Wed 10:00-12:00,imposed\n",
        encoding="utf-8",
    )
    (root / "clash.toml").write_text(HARD_OVERLAP, encoding="utf-8")
    return root


def options(**kw: object) -> JobOptions:
    base: dict[str, object] = {
        "model": str(MODEL),
        "time_limit": 1.0,
        "reference_date": REF,
        "deterministic": True,
    }
    base.update(kw)
    return JobOptions.model_validate(base)


def by_name(results: list) -> dict:
    return {r.name: r for r in results}


def test_directory_jobs_and_their_files(courses: Path) -> None:
    jobs = {j.name: j for j in load_jobs(courses, options())}
    assert set(jobs) == {"course1", "course2", "course3", "split", "bad", "clash"}
    assert jobs["course2"].avoid == courses / "course2" / "avoid.csv"
    assert jobs["course2"].prefer == courses / "course2" / "prefer.csv"
    assert jobs["bad"].avoid is None
    # a model beside the roster wins over the default
    assert jobs["clash"].model == str(courses / "clash.toml")
    assert jobs["course1"].model == str(MODEL)


def test_jobs_file_defaults_relative_paths_and_sections(courses: Path, tmp_path: Path) -> None:
    spec = tmp_path / "jobs.toml"
    spec.write_text(
        f"""
[defaults]
model = "collaborative"
time_limit = 2
seed = 7

[[jobs]]
name = "math 101"
roster = "{courses}/course1/roster.csv"
seed = 3

[[jobs]]
roster = "{courses}/split/roster.csv"
by_section = true
""",
        encoding="utf-8",
    )
    jobs = load_jobs(spec, JobOptions(time_limit=5, workers=1))
    assert jobs[0].seed == 3 and jobs[0].time_limit == 2 and jobs[0].model == "collaborative"
    assert jobs[1].seed == 7 and jobs[1].by_section
    payloads = plan(jobs)
    names = [p.name for p in payloads]
    assert names == ["math_101", "roster-A", "roster-B", "roster-C"]
    assert [p.section for p in payloads[1:]] == ["A", "B", "C"]
    assert len({p.key for p in payloads}) == 4


def test_jobs_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    spec = tmp_path / "jobs.toml"
    spec.write_text('[[jobs]]\nroster = "a.csv"\ntime_limt = 3\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_jobs(spec)
    assert str(spec) in str(err.value) and "time_limt" in str(err.value)
    spec.write_text('[[jobs]]\nroster = "a.csv"\n[[jobs]]\nroster = "b/a.csv"\n', "utf-8")
    with pytest.raises(InputError, match="two jobs are named 'a'"):
        plan(load_jobs(spec, options()))


def test_key_follows_every_input(courses: Path, tmp_path: Path, monkeypatch) -> None:
    roster = tmp_path / "r.csv"
    roster.write_bytes((courses / "course1" / "roster.csv").read_bytes())
    job = Job(roster=roster, avoid=courses / "course1" / "avoid.csv", **options().model_dump())

    def key(j: Job = job) -> str:
        return plan([j])[0].key

    base = key()
    assert key() == base
    assert key(job.model_copy(update={"seed": 1})) != base
    assert key(job.model_copy(update={"time_limit": 2.0})) != base
    assert key(job.model_copy(update={"model": "cooperative"})) != base
    assert key(job.model_copy(update={"avoid": None})) != base
    monkeypatch.setattr(teamform, "__version__", "0.0.0-other")
    assert key() != base
    monkeypatch.undo()
    roster.write_bytes(roster.read_bytes() + b"\n")
    assert key() != base


def test_default_parallel_leaves_room_for_solver_threads() -> None:
    cores = len(os.sched_getaffinity(0))
    assert default_parallel(1) == cores
    assert default_parallel(cores) == 1
    assert default_parallel(4 * cores) == 1


def test_pool_batch_failures_reruns_and_outputs(courses: Path, tmp_path: Path) -> None:
    jobs = load_jobs(courses, options())
    out = tmp_path / "out"
    seen: list[str] = []
    results = by_name(form_many(jobs, out, parallel=2, on_result=lambda r: seen.append(r.name)))
    assert sorted(seen) == sorted(results)
    for name in ("course1", "course2", "course3", "split"):
        res = results[name]
        assert res.ok and not res.cached, (name, res.error)
        data = json.loads((out / name / "result.json").read_text(encoding="utf-8"))
        assert data["valid"] is True and data["batch"]["key"] == res.key
        with open(out / name / "teams.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert {r["id"]: int(r["team"]) for r in rows} == data["assignment"]
        with open(courses / name / "roster.csv", encoding="utf-8", newline="") as fh:
            assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in csv.DictReader(fh))
    # bad input: reported with the user's file name, not marked done
    assert results["bad"].status == "error"
    assert str(courses / "bad.csv") in results["bad"].error
    assert "Mars/Base" in results["bad"].error
    assert not (out / "bad" / DONE_FILE).exists()
    # infeasible: an answer, with the conflict, done (its JSON says why; no teams CSV)
    assert results["clash"].status == "infeasible"
    assert "overlap" in results["clash"].error
    assert (out / "clash" / DONE_FILE).exists() and not (out / "clash" / "teams.csv").exists()
    with open(out / "summary.csv", encoding="utf-8", newline="") as fh:
        summary = {r["name"]: r for r in csv.DictReader(fh)}
    assert summary["course2"]["status"] == results["course2"].status
    assert summary["bad"]["status"] == "error"

    # a rerun skips what is done and changes nothing there
    stamp = (out / "course1" / "teams.csv").stat().st_mtime_ns
    again = by_name(form_many(jobs, out, engine="serial"))
    assert all(again[n].cached for n in ("course1", "course2", "course3", "split", "clash"))
    assert again["bad"].status == "error" and not again["bad"].cached
    assert (out / "course1" / "teams.csv").stat().st_mtime_ns == stamp
    assert again["course2"].objective == results["course2"].objective

    # a job killed before its marker, or done with other inputs, runs again
    (out / "course1" / DONE_FILE).unlink()
    marker = json.loads((out / "course2" / DONE_FILE).read_text(encoding="utf-8"))
    marker["key"] = "0" * 64
    (out / "course2" / DONE_FILE).write_text(json.dumps(marker), encoding="utf-8")
    third = by_name(form_many(jobs, out, engine="serial"))
    assert not third["course1"].cached and not third["course2"].cached
    assert third["course3"].cached
    # deterministic mode: the same teams as the first (pool) run
    for name in ("course1", "course2"):
        assert third[name].objective == results[name].objective
    assert not list(out.rglob("*.tmp"))


def test_cli_batch_exit_codes_and_summary(courses: Path, tmp_path: Path) -> None:
    spec = tmp_path / "jobs.toml"
    spec.write_text(
        f'[[jobs]]\nroster = "{courses}/course1/roster.csv"\n'
        f'[[jobs]]\nname = "second"\nroster = "{courses}/course2/roster.csv"\n',
        encoding="utf-8",
    )
    args = ["batch", str(spec), "--out", str(tmp_path / "out"), "--model", "collaborative"]
    args += ["--time-limit", "1", "--reference-date", REF, "--engine", "serial"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "roster: feasible" in result.stdout or "roster: optimal" in result.stdout
    assert "2 jobs: 2 formed teams, 0 did not; 0 done earlier" in result.stdout
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert "2 done earlier" in again.stdout

    result = runner.invoke(
        app, ["batch", str(courses), "--out", str(tmp_path / "all"), "--model", str(MODEL),
              "--time-limit", "1", "--reference-date", REF, "--engine", "serial"],
    )  # fmt: skip
    assert result.exit_code == 2  # bad input in one job
    assert "bad: error:" in result.stdout
    assert "clash: infeasible" in result.stdout
    assert "6 jobs: 4 formed teams, 2 did not" in result.stdout


def test_cli_batch_bad_jobs_file_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "jobs.toml"
    spec.write_text("[[jobs]\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(spec) in result.stderr


def test_by_section_forms_each_section_alone(courses: Path, tmp_path: Path) -> None:
    roster = courses / "split" / "roster.csv"
    job = Job(roster=roster, by_section=True, **options().model_dump())
    results = form_many([job], tmp_path, engine="serial")
    with open(roster, encoding="utf-8", newline="") as fh:
        section_of = {r["id"]: r["section"] for r in csv.DictReader(fh)}
    assert [r.name for r in results] == ["roster-A", "roster-B", "roster-C"]
    for res, name in zip(results, "ABC", strict=True):
        assert res.ok, res.error
        data = json.loads((tmp_path / res.result).read_text(encoding="utf-8"))
        assert set(data["assignment"]) == {i for i, s in section_of.items() if s == name}
        assert res.n_learners == len(data["assignment"])


def test_killed_batch_leaves_only_complete_results(courses: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    args = [sys.executable, "-m", "teamform", "batch", str(courses), "--out", str(out)]
    args += ["--model", str(MODEL), "--time-limit", "1", "--reference-date", REF]
    args += ["--engine", "serial"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # kill it hard once a job or two are done, whatever it is writing at that moment
    while time.monotonic() < deadline and len(list(out.glob(f"*/{DONE_FILE}"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = {p.parent.name for p in out.glob(f"*/{DONE_FILE}")}
    for name in done:
        marker = json.loads((out / name / DONE_FILE).read_text(encoding="utf-8"))
        data = json.loads((out / name / "result.json").read_text(encoding="utf-8"))
        assert data["batch"]["key"] == marker["key"]
    # the rerun keeps what was done and forms the rest
    results = by_name(form_many(load_jobs(courses, options(deterministic=False)), out))
    assert {n for n, r in results.items() if r.cached} == done
    assert all(r.status != "error" for n, r in results.items() if n != "bad")


def test_by_section_reads_the_section_column_the_model_maps(courses: Path, tmp_path: Path) -> None:
    text = (courses / "split" / "roster.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    roster = tmp_path / "renamed.csv"
    roster.write_text(header.replace("section", "Group") + "\n" + rest, encoding="utf-8")
    model = tmp_path / "model.toml"
    model.write_text(
        MODEL.read_text(encoding="utf-8") + '\n[roster.columns]\nsection = "Group"\n',
        encoding="utf-8",
    )
    job = Job(roster=roster, by_section=True, **options(model=str(model)).model_dump())
    results = form_many([job], tmp_path / "out", engine="serial")
    assert [r.name for r in results] == ["renamed-A", "renamed-B", "renamed-C"]
    assert all(r.ok for r in results), [r.error for r in results]
