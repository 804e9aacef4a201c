"""What a new user types first: --version, -h, choices, one-line usage errors, stdout JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform import __version__
from teamform.cli import EXIT_CODES, app

runner = CliRunner()
DEMO = Path("instances/demo")


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def test_version() -> None:
    for flag in ("--version", "-V"):
        result = run(flag)
        assert result.exit_code == 0
        assert result.stdout.strip() == f"teamform {__version__}"


@pytest.mark.parametrize("args", [["-h"], ["form", "-h"], ["plan", "run-due", "-h"]])
def test_short_help(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    assert "Usage:" in result.stdout


def test_exit_codes_in_help() -> None:
    for args in (["--help"], ["form", "--help"]):
        text = " ".join(run(*args).stdout.split())
        for code in ("0 done", "2 bad input", "3 no assignment", "4 stopped by Ctrl-C", "130"):
            assert code in text
    assert "4 stopped by Ctrl-C" in EXIT_CODES


def test_choices_are_listed_and_checked(tmp_path: Path) -> None:
    assert "auto|exact|lns" in run("form", "--help").stdout.replace(" ", "")
    one_error_line(
        run("form", DEMO / "roster.csv", "-m", "models/collaborative.toml", "--strategy", "x"),
        "--strategy",
        "'x' is not one of 'auto', 'exact', 'lns'",
    )
    assert "md|html" in run("report", "--help").stdout.replace(" ", "")
    line = one_error_line(
        run("report", tmp_path / "r.json", "--sheets", tmp_path, "--sheet-format", "pdf"),
        "--sheet-format",
        "'pdf'",
    )
    assert "Value error" not in line


def test_usage_errors_are_one_line() -> None:
    one_error_line(run("form", DEMO / "roster.csv", "-m", "x.toml", "--time-limit", "soon"),
                   "--time-limit")  # fmt: skip
    one_error_line(run("formm"), "No such command 'formm'")
    one_error_line(run("form", DEMO / "roster.csv"), "--model")


def test_option_errors_name_the_option_not_a_column(tmp_path: Path) -> None:
    line = one_error_line(run("plan", "status", tmp_path, "--now", "tomorrow"), "option --now:")
    assert "column" not in line
    line = one_error_line(
        run("check", DEMO / "roster.csv", "-m", "models/collaborative.toml",
            "--reference-date", "next week"),
        "option --reference-date:",
    )  # fmt: skip
    assert "column" not in line


def test_json_to_stdout(tmp_path: Path) -> None:
    # a real process: stdout must hold the JSON alone, so that it can be piped
    done = subprocess.run(
        [sys.executable, "-m", "teamform", "form", str(DEMO / "roster.csv"),
         "-m", "models/collaborative.toml", "--time-limit", "1", "--json", "-"],
        capture_output=True, text=True, check=False, cwd=Path.cwd(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["n_learners"] == 60 and data["valid"] is True
    assert "status" in done.stderr  # the summary went to stderr
    assert not (Path.cwd() / "-").exists()


def test_history_of_a_missing_directory(tmp_path: Path) -> None:
    one_error_line(run("history", tmp_path / "nowhere"), "nowhere", "no such directory")
    one_error_line(run("history", tmp_path), "not a course workspace", "plan init")
    one_error_line(
        run("export", tmp_path / "nowhere", "--phase", "p", "-o", tmp_path / "t.csv"),
        "no such directory",
    )
