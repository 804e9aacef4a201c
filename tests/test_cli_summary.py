"""``teamform form`` on large cohorts: a digest instead of every team, and timings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform.cli import SHOW_ALL_MAX_TEAMS, app
from teamform.generate import generate_cohort, write_cohort

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "collaborative.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 learners: 50 teams of 4, past the size that prints every team."""
    path = tmp_path_factory.mktemp("cohort")
    write_cohort(generate_cohort(200, 3), path)
    return path


def form(cohort: Path, out: Path, *extra: str) -> tuple[str, dict]:
    args = [
        "form",
        str(cohort / "roster.csv"),
        "--model",
        str(MODEL),
        "--avoid",
        str(cohort / "avoid.csv"),
        "--prefer",
        str(cohort / "prefer.csv"),
        "--reference-date",
        "2026-01-12",
        "--time-limit",
        "1",
        "--json",
        str(out / "result.json"),
        *extra,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout, json.loads((out / "result.json").read_text(encoding="utf-8"))


def team_lines(stdout: str) -> set[int]:
    """Team numbers of the plain one-line-per-team listing."""
    return {int(m.group(1)) for m in re.finditer(r"^\s*(\d+)  \S.* \| skills ", stdout, re.M)}


def test_large_result_prints_a_digest(cohort: Path, tmp_path: Path) -> None:
    stdout, data = form(cohort, tmp_path)
    assert data["n_teams"] == 50 > SHOW_ALL_MAX_TEAMS
    assert team_lines(stdout) == set()
    assert "50 teams (collaborative) of 200 learners" in stdout
    flagged = sum(1 for t in data["teams"] if t["flags"])
    assert f"{flagged} flagged" in stdout
    # the worst teams are those with the largest weighted penalty, in that order
    weights = {c["name"]: c["weight"] for c in data["breakdown"] if not c["hard"]}
    cost = {
        t["team"]: sum(weights.get(k, 0) * v for k, v in t["penalties"].items())
        for t in data["teams"]
    }
    worst = sorted(cost, key=lambda t: (-cost[t], t))[:5]
    table = stdout[stdout.index("worst 5 teams") :]
    shown = [int(m.group(1)) for m in re.finditer(r"^│\s+(\d+) │", table, re.M)]
    assert shown == worst
    assert "--show-teams all" in stdout
    assert "objective" in stdout


def test_show_teams_all_prints_every_team(cohort: Path, tmp_path: Path) -> None:
    stdout, data = form(cohort, tmp_path, "--show-teams", "all")
    assert team_lines(stdout) == set(range(1, 51))
    # each line names its members
    first = next(t for t in data["teams"] if t["team"] == 1)
    line = next(ln for ln in stdout.splitlines() if re.match(r"^\s*1  ", ln))
    assert all(f"({m})" in line for m in first["members"])


def test_quiet_prints_only_the_totals(cohort: Path, tmp_path: Path) -> None:
    stdout, _ = form(cohort, tmp_path, "--quiet")
    assert team_lines(stdout) == set()
    assert "worst" not in stdout
    assert "objective" in stdout


def test_show_teams_rejects_an_unknown_value(cohort: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["form", str(cohort / "roster.csv"), "--model", str(MODEL), "--show-teams", "x"]
    )
    assert result.exit_code == 2
    assert "--show-teams" in result.stderr


def test_json_records_where_the_time_went(cohort: Path, tmp_path: Path) -> None:
    _, data = form(cohort, tmp_path, "--out", str(tmp_path / "teams.csv"))
    tm = data["timings"]
    assert tm["limit"] == 1.0
    assert tm["startup"] is None  # in-process: no process start of its own
    for phase in ("read", "build", "search", "finish", "write", "reserve"):
        assert tm[phase] is not None and tm[phase] >= 0, phase
    assert tm["read"] + tm["build"] + tm["search"] + tm["finish"] + tm["write"] <= tm["total"]
    # construction and bounds are parts of the search phase, timed on their own
    assert tm["construction"] > 0 and tm["bounds"] >= 0
    assert tm["construction"] + tm["bounds"] <= tm["search"]


def test_real_process_counts_from_its_own_start(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "teamform",
            "form",
            str(cohort / "roster.csv"),
            "--model",
            str(MODEL),
            "--reference-date",
            "2026-01-12",
            "--time-limit",
            "2",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    tm = json.loads(out.read_text(encoding="utf-8"))["timings"]
    # start-up covers the interpreter and the imports, so it cannot be zero
    assert tm["startup"] > 0
    parts = sum(tm[p] for p in ("startup", "read", "build", "search", "finish", "write"))
    assert parts <= tm["total"] + 1e-6
    assert "wall time" in proc.stdout
