"""Tests for the command line (teamform.cli) and the public Python API end to end.

Bad input must end with exit status 2 and a single ``error: ...`` line on stderr
naming the file, row and column at fault, with no traceback and no output file;
an infeasible model ends with status 3 and names the rules in conflict.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from typer.testing import Result as CliResult

from teamform import FormationModel, build_instance, form, load_roster
from teamform.cli import app
from teamform.criteria import OBJECTIVE_SCALE
from teamform.validate import validate

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "instances" / "demo"
COLLABORATIVE = ROOT / "models" / "collaborative.toml"

HEADER = ["id", "name", "timezone", "availability", "skill_code", "skill_text", "motivation"]

SMALL_MODEL = """\
name = "small"

[team]
size = 2
min = 2

[skills]
min = 1
max = 5

[criteria.skill_balance]
weight = 1

[criteria.motivation]
weight = 1

[criteria.prefer]
weight = 1
"""


def learners(n: int = 6) -> list[dict[str, str]]:
    """``n`` valid learners L1..Ln; row of learner Li is i + 1."""
    return [
        {
            "id": f"L{i}",
            "name": f"Learner {i}",
            "timezone": "Europe/Paris",
            "availability": "Mon-Fri 18:00-21:00",
            "skill_code": str(1 + i % 5),  # L4 is the only 5
            "skill_text": str(1 + (2 * i) % 5),
            "motivation": "intrinsic" if i % 2 else "imposed",  # L1, L3, L5 intrinsic
        }
        for i in range(1, n + 1)
    ]


@dataclass
class Files:
    """Input files of one test, and the output files that must not appear on error."""

    dir: Path
    extra: list[str] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.dir / "out" / "teams.csv"

    @property
    def json(self) -> Path:
        return self.dir / "out" / "result.json"

    def roster(
        self,
        records: list[dict[str, str]] | None = None,
        header: list[str] | None = None,
        name: str = "roster.csv",
    ) -> Path:
        records = learners() if records is None else records
        header = header or (list(records[0]) if records else HEADER)
        path = self.dir / name
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, header, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(records)
        return path

    def text(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def model(self, text: str = SMALL_MODEL, name: str = "model.toml") -> Path:
        return self.text(name, text)


runner = CliRunner()


def invoke(*args: object) -> CliResult:
    return runner.invoke(app, [str(a) for a in args])


def form_args(files: Files, roster: Path, model: Path, *extra: object) -> list[object]:
    return [
        "form",
        roster,
        "--model",
        model,
        *extra,
        "--time-limit",
        "1",
        "--out",
        files.out,
        "--json",
        files.json,
    ]


def assert_input_error(result: CliResult, files: Files, fragments: list[str]) -> str:
    """Exit 2, one stderr line holding every fragment, no traceback, no output file."""
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip("\n").splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not files.out.exists()
    assert not files.json.exists()
    return line


def words(text: str) -> str:
    """Text with line wrapping undone, for messages a console may wrap."""
    return " ".join(text.split())


# ------------------------------------------------------------------ bad input

Case = Callable[[Files], tuple[Path, Path, list[object], list[str]]]


def missing_column(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    # the small model weighs motivation, so it needs the column (it has no overlap criterion,
    # so time zones are not needed)
    roster = f.roster(header=[h for h in HEADER if h != "motivation"])
    return roster, f.model(), [], ["row 1", "column 'motivation'", "required column is missing"]


def duplicate_id(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    records[3]["id"] = "L2"
    return f.roster(records), f.model(), [], ["row 5", "column 'id'", "duplicate id 'L2'"]


def unknown_timezone(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    records[1]["timezone"] = "Mars/Olympus_Mons"
    return (
        f.roster(records),
        f.model(),
        [],
        ["row 3", "column 'timezone'", "unknown time zone 'Mars/Olympus_Mons'"],
    )


def bad_availability(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    records[2]["availability"] = "Funday 18:00-21:00"
    return f.roster(records), f.model(), [], ["row 4", "column 'availability'", "Funday"]


def skill_outside_scale(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    records[4]["skill_text"] = "7"
    return (
        f.roster(records),
        f.model(),
        [],
        ["row 6", "column 'skill_text'", "outside the declared scale 1-5"],
    )


def skill_not_a_number(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    records[0]["skill_code"] = "high"
    return f.roster(records), f.model(), [], ["row 2", "column 'skill_code'", "not a number"]


def unknown_motivation(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    records[5]["motivation"] = "bored"
    return (
        f.roster(records),
        f.model(),
        [],
        ["row 7", "column 'motivation'", "unknown motivation 'bored'"],
    )


def unknown_id_avoid_file(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    pairs = f.text("avoid.csv", "id_a,id_b\nL1,L2\nL99,L3\n")
    return (
        f.roster(),
        f.model(),
        ["--avoid", pairs],
        [str(pairs), "row 3", "column 'id_a'", "unknown learner id 'L99'"],
    )


def unknown_id_prefer_file(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    pairs = f.text("prefer.csv", "id_a,id_b\nL1,L2\n\nL3,L77\n")
    return (
        f.roster(),
        f.model(),
        ["--prefer", pairs],
        [str(pairs), "row 4", "column 'id_b'", "unknown learner id 'L77'"],
    )


def unknown_id_avoid_column(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    for r in records:
        r["avoid"] = ""
    records[2]["avoid"] = "L1; L42"
    return f.roster(records), f.model(), [], ["row 4", "column 'avoid'", "L42"]


def unknown_id_prefer_column(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    for r in records:
        r["prefer"] = ""
    records[5]["prefer"] = "L404"
    return f.roster(records), f.model(), [], ["row 7", "column 'prefer'", "L404"]


def self_pair_file(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    pairs = f.text("avoid.csv", "id_a,id_b\nL5,L5\n")
    return (
        f.roster(),
        f.model(),
        ["--avoid", pairs],
        [str(pairs), "row 2", "column 'id_b'", "'L5' is paired with itself"],
    )


def self_pair_column(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    for r in records:
        r["prefer"] = ""
    records[1]["prefer"] = "L2"
    return f.roster(records), f.model(), [], ["row 3", "column 'prefer'", "paired with itself"]


def header_only(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    return f.text("roster.csv", ",".join(HEADER) + "\n"), f.model(), [], ["no learners"]


def zero_bytes(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    return f.text("roster.csv", ""), f.model(), [], ["empty"]


def team_size_impossible(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    model = f.model("[team]\nsize = 4\nmin = 4\nmax = 4\n")
    return (
        f.roster(learners(5)),
        model,
        [],
        [str(model), "column 'team'", "team size impossible", "5 learners"],
    )


def malformed_toml(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    model = f.model('name = "broken"\n\n[team]\nsize = \n')
    return f.roster(), model, [], [str(model), "row 4", "malformed TOML"]


def unknown_criterion(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    model = f.model(SMALL_MODEL + "\n[criteria.overlapp]\nweight = 3\n")
    row = SMALL_MODEL.count("\n") + 2
    return (
        f.roster(),
        model,
        [],
        [str(model), f"row {row}", "column 'criteria.overlapp'", "unknown criterion 'overlapp'"],
    )


def missing_roster(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    return f.dir / "no_such_roster.csv", f.model(), [], ["file not found"]


def missing_model(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    model = f.dir / "no_such_model.toml"
    return f.roster(), model, [], [str(model), "file not found"]


def prefer_also_avoid_files(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    avoid = f.text("avoid.csv", "id_a,id_b\nL1,L2\n")
    prefer = f.text("prefer.csv", "id_a,id_b\nL3,L4\nL2,L1\n")
    return (
        f.roster(),
        f.model(),
        ["--avoid", avoid, "--prefer", prefer],
        [str(prefer), "row 3", "column 'id_a'", "both an avoid pair and a preferred pair"],
    )


def prefer_also_avoid_columns(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    records = learners()
    for r in records:
        r["avoid"] = ""
        r["prefer"] = ""
    records[0]["avoid"] = "L6"
    records[5]["prefer"] = "L1"
    return (
        f.roster(records),
        f.model(),
        [],
        ["row 7", "column 'prefer'", "both an avoid pair and a preferred pair"],
    )


def coverage_of_absent_skill(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    model = f.model(
        SMALL_MODEL + '\n[criteria.skill_coverage]\nrules = [{ skill = "art", level = 3 }]\n'
    )
    return f.roster(), model, [], [str(model), "skill_coverage", "'art'"]


def bad_reference_date(f: Files) -> tuple[Path, Path, list[object], list[str]]:
    return (
        f.roster(),
        f.model(),
        ["--reference-date", "2026-13-45"],
        ["option --reference-date:", "not a date"],
    )


CASES: dict[str, Case] = {
    "missing required column": missing_column,
    "duplicate id": duplicate_id,
    "unknown time zone": unknown_timezone,
    "unparseable availability": bad_availability,
    "skill outside the scale": skill_outside_scale,
    "skill not a number": skill_not_a_number,
    "unknown motivation": unknown_motivation,
    "unknown id in --avoid file": unknown_id_avoid_file,
    "unknown id in --prefer file": unknown_id_prefer_file,
    "unknown id in avoid column": unknown_id_avoid_column,
    "unknown id in prefer column": unknown_id_prefer_column,
    "learner paired with itself in a file": self_pair_file,
    "learner paired with itself in a column": self_pair_column,
    "header-only roster": header_only,
    "zero-byte roster": zero_bytes,
    "team size impossible": team_size_impossible,
    "malformed TOML": malformed_toml,
    "unknown criterion": unknown_criterion,
    "roster file missing": missing_roster,
    "model file missing": missing_model,
    "preferred pair also avoided (files)": prefer_also_avoid_files,
    "preferred pair also avoided (columns)": prefer_also_avoid_columns,
    "coverage rule on an absent skill": coverage_of_absent_skill,
    "bad --reference-date": bad_reference_date,
}

#: Cases whose error is about the roster file, which the message must then name.
ROSTER_FILE_CASES = {
    "missing required column",
    "duplicate id",
    "unknown time zone",
    "unparseable availability",
    "skill outside the scale",
    "skill not a number",
    "unknown motivation",
    "unknown id in avoid column",
    "unknown id in prefer column",
    "learner paired with itself in a column",
    "header-only roster",
    "zero-byte roster",
    "roster file missing",
    "preferred pair also avoided (columns)",
}


@pytest.mark.parametrize("command", ["form", "check"])
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(tmp_path: Path, name: str, command: str) -> None:
    files = Files(tmp_path)
    roster, model, extra, fragments = CASES[name](files)
    if name in ROSTER_FILE_CASES:
        fragments = [str(roster), *fragments]
    if command == "form":
        result = invoke(*form_args(files, roster, model, *extra))
    else:
        result = invoke("check", roster, "--model", model, *extra)
    assert_input_error(result, files, fragments)


def test_error_names_the_mapped_roster_column(tmp_path: Path) -> None:
    files = Files(tmp_path)
    model = files.model(SMALL_MODEL + '\n[roster.columns]\nid = "Student ID"\n')
    roster = files.roster()  # has "id", not "Student ID"
    result = invoke(*form_args(files, roster, model))
    assert_input_error(result, files, [str(roster), "row 1", "column 'Student ID'"])


def test_bad_strategy(tmp_path: Path) -> None:
    files = Files(tmp_path)
    result = invoke(*form_args(files, files.roster(), files.model(), "--strategy", "fast"))
    assert_input_error(result, files, ["--strategy", "'fast'"])


def test_unwritable_output_path(tmp_path: Path) -> None:
    files = Files(tmp_path)
    target = tmp_path / "a_directory"
    target.mkdir()
    result = invoke(
        "form", files.roster(), "--model", files.model(), "--time-limit", "1", "--out", target
    )
    assert result.exit_code == 2, repr(result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip("\n").splitlines()
    assert len(lines) == 1
    assert str(target) in lines[0]


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    files = Files(tmp_path)
    records = learners()
    records[3]["skill_code"] = "9"
    roster = files.roster(records)
    model = files.model()
    proc = subprocess.run(
        [sys.executable, "-m", "teamform.cli", *map(str, form_args(files, roster, model))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip("\n").splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in (str(roster), "row 5", "column 'skill_code'", "outside the declared scale"):
        assert fragment in lines[0]
    assert not files.out.exists()
    assert not files.json.exists()


# ----------------------------------------------------------------- infeasible


def assert_infeasible(result: CliResult, files: Files) -> str:
    assert result.exit_code == 3, (result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stdout + result.stderr
    assert not files.out.exists()  # no teams to hand out
    # the JSON records the verdict and the conflicts, for `teamform report`
    saved = json.loads(files.json.read_text(encoding="utf-8"))
    assert saved["status"] == "infeasible" and saved["conflicts"]
    assert not saved["assignment"]
    assert result.stderr.strip()
    return words(result.stderr)


def test_hard_overlap_names_the_isolated_learner(tmp_path: Path) -> None:
    files = Files(tmp_path)
    records = learners()
    records[5]["availability"] = "Sun 06:00-07:00"  # L6 shares no hour with anyone
    model = files.model(
        SMALL_MODEL
        + '\n[criteria.overlap]\nhours = 1\nblock = 1\nhard = true\nreference_date = "2026-01-12"\n'
    )
    result = invoke(*form_args(files, files.roster(records), model))
    message = assert_infeasible(result, files)
    assert "overlap" in message
    assert re.search(r"\bL6\b", message)
    assert not re.search(r"\bL[1-5]\b", message)


def test_hard_coverage_that_cannot_hold_names_the_criterion(tmp_path: Path) -> None:
    files = Files(tmp_path)
    # three teams of two, but only L4 has level 5 in code
    model = files.model(
        SMALL_MODEL
        + '\n[criteria.skill_coverage]\nhard = true\nrules = [{ skill = "code", level = 5 }]\n'
    )
    result = invoke(*form_args(files, files.roster(), model))
    message = assert_infeasible(result, files)
    assert "skill_coverage" in message


def test_hard_motivation_against_avoid_pairs_names_both(tmp_path: Path) -> None:
    files = Files(tmp_path)
    # 3 intrinsic learners in 3 teams of 2: one each, so L1 must team up with an
    # imposed learner, but L1 must avoid every imposed learner.
    model = files.model(
        SMALL_MODEL.replace("[criteria.motivation]\n", "[criteria.motivation]\nhard = true\n")
    )
    avoid = files.text("avoid.csv", "id_a,id_b\nL1,L2\nL1,L4\nL1,L6\n")
    result = invoke(*form_args(files, files.roster(), model, "--avoid", avoid))
    message = assert_infeasible(result, files)
    assert "motivation" in message
    assert "avoid" in message


# ---------------------------------------------------------------- successful runs


def test_check_demo() -> None:
    result = invoke(
        "check",
        DEMO / "roster.csv",
        "--model",
        COLLABORATIVE,
        "--avoid",
        DEMO / "avoid.csv",
        "--prefer",
        DEMO / "prefer.csv",
        "--reference-date",
        "2026-01-12",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = words(result.stdout)
    assert out.startswith("ok: 60 learners")
    assert "15 teams" in out
    assert "6 avoid pairs" in out
    assert "8 preferred pairs" in out


def test_form_demo(tmp_path: Path) -> None:
    files = Files(tmp_path)
    result = invoke(
        "form",
        DEMO / "roster.csv",
        "--model",
        COLLABORATIVE,
        "--avoid",
        DEMO / "avoid.csv",
        "--prefer",
        DEMO / "prefer.csv",
        "--reference-date",
        "2026-01-12",
        "--time-limit",
        "3",
        "--out",
        files.out,
        "--json",
        files.json,
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stdout + result.stderr

    with (DEMO / "roster.csv").open(encoding="utf-8-sig", newline="") as fh:
        demo_ids = [row["id"] for row in csv.DictReader(fh)]
    assert len(demo_ids) == 60

    with files.out.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["id", "name", "team"]
    ids = [row[0] for row in table[1:]]
    assert sorted(ids) == sorted(demo_ids)
    assert len(set(ids)) == 60
    teams = {int(row[2]) for row in table[1:]}
    assert teams == set(range(1, 16))

    data = json.loads(files.json.read_text(encoding="utf-8"))
    assert data["valid"] is True
    assert data["status"] in ("optimal", "feasible")
    assert data["n_learners"] == 60
    assert data["reference_date"] == "2026-01-12"
    assert data["objective"] == pytest.approx(
        sum(c["weighted"] for c in data["breakdown"]), abs=1e-6
    )
    assert {lid: int(t) for lid, _, t in table[1:]} == data["assignment"]

    shown = {int(m.group(1)) for m in re.finditer(r"^\S\s+(\d+)\s+\S", result.stdout, re.M)}
    assert shown == set(range(1, 16))
    assert str(files.out) in words(result.stdout)
    assert str(files.json) in words(result.stdout)


def test_form_output_is_formula_safe(tmp_path: Path) -> None:
    files = Files(tmp_path)
    records = learners()
    names = ['=HYPERLINK("x")', "+41 22", "@SUM(A1)", "-1", "Plain Name", "a=b"]
    for r, name in zip(records, names, strict=True):
        r["name"] = name
    roster = files.roster(records)
    result = invoke(
        "form", roster, "--model", files.model(), "--time-limit", "1", "--out", files.out
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    with files.out.open(encoding="utf-8", newline="") as fh:
        written = {row["id"]: row["name"] for row in csv.DictReader(fh)}
    assert written == {
        "L1": '\'=HYPERLINK("x")',
        "L2": "'+41 22",
        "L3": "'@SUM(A1)",
        "L4": "'-1",
        "L5": "Plain Name",
        "L6": "a=b",
    }
    assert '\'=HYPERLINK(""x"")' in files.out.read_text(encoding="utf-8")


def test_form_with_roster_columns_mapping_bom_and_semicolons(tmp_path: Path) -> None:
    files = Files(tmp_path)
    records = learners()
    records[0]["availability"] = "Mon-Fri 18:00-21:00; Sat 09:00-12:00"
    header = ["Student ID" if h == "id" else h for h in HEADER]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(header)
        writer.writerows([[r[h] for h in HEADER] for r in records])
    assert path.read_bytes().startswith(b"\xef\xbb\xbfStudent ID;")
    model = files.model(SMALL_MODEL + '\n[roster.columns]\nid = "Student ID"\n')
    result = invoke(*form_args(files, path, model))
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    with files.out.open(encoding="utf-8", newline="") as fh:
        assert sorted(row["id"] for row in csv.DictReader(fh)) == [f"L{i}" for i in range(1, 7)]
    check = invoke("check", path, "--model", model)
    assert check.exit_code == 0
    assert words(check.stdout).startswith("ok: 6 learners, 3 teams of 2")


# ------------------------------------------------------------------ Python API


def test_python_api_on_the_demo() -> None:
    roster = load_roster(DEMO / "roster.csv", avoid=DEMO / "avoid.csv", prefer=DEMO / "prefer.csv")
    base = FormationModel.from_toml(COLLABORATIVE)
    data = base.model_dump()
    data["criteria"]["overlap"]["reference_date"] = date(2026, 1, 12)
    model = FormationModel.from_dict(data, source=base.source)

    result = form(roster, model, time_limit=3, seed=0)
    assert result.feasible
    assert result.valid
    assert sorted(result.assignment) == sorted(roster.ids)
    assert result.n_teams == 15

    inst = build_instance(roster, model)
    check = validate(inst, [result.assignment[lid] - 1 for lid in inst.ids])
    assert check.ok, check.violations
    assert check.objective / OBJECTIVE_SCALE == pytest.approx(result.objective, abs=1e-6)
    assert result.objective == pytest.approx(sum(c.weighted for c in result.breakdown), abs=1e-6)


def test_progress_line_with_and_without_bound() -> None:
    from teamform.cli import progress_line
    from teamform.solve import Progress

    assert progress_line(Progress(12.5, 3.0, 1.25)) == "searching: best 12.50  bound 3.00  1.2 s"
    assert progress_line(Progress(12.5, None, 2.0)) == "searching: best 12.50  2.0 s"


def test_warmup_compiles_the_kernels() -> None:
    from teamform.search.kernels import kernels_ready

    res = invoke("warmup")
    assert res.exit_code == 0, res.output
    assert "search kernels ready" in res.output
    assert kernels_ready()


def test_form_prints_the_teams_inside_its_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the timings in the JSON end once the teams are printed: the files come last
    import teamform.cli as cli

    calls: list[str] = []
    for name in ("print_teams", "print_digest", "_write_outputs"):
        original = getattr(cli, name)

        def wrapped(*args: Any, _f: Any = original, _n: str = name, **kw: Any) -> Any:
            calls.append(_n)
            return _f(*args, **kw)

        monkeypatch.setattr(cli, name, wrapped)
    files = Files(tmp_path)
    for show, printer in (("all", "print_teams"), ("summary", "print_digest")):
        calls.clear()
        result = invoke(
            "form", DEMO / "roster.csv", "--model", COLLABORATIVE, "--reference-date",
            "2026-01-12", "--time-limit", "1", "--json", files.json, "--show-teams", show,
        )  # fmt: skip
        assert result.exit_code == 0, (result.stdout, result.exception)
        assert calls == [printer, "_write_outputs"]
