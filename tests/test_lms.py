"""LMS exports: Canvas, Moodle and Blackboard files read back give the result's teams."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform import FormationModel, Result, Roster, form
from teamform.cli import app
from teamform.errors import InputError
from teamform.lms import companion_path, export_lms, lms_rows, read_lms, team_name

runner = CliRunner()


def _roster() -> Roster:
    recs = []
    for i in range(1, 13):
        recs.append(
            {
                "id": f"s{i:02}",
                "name": f"Learner Number{i}",
                "email": f"l{i}@example.org",
                "timezone": "Europe/Paris" if i % 2 else "America/New_York",
                "availability": "Mon-Fri 14:00-22:00",
                "motivation": "intrinsic" if i % 3 == 0 else "imposed",
                "skill_math": 1 + i % 5,
                # LMS accounts that a spreadsheet would run as formulas
                "lms_id": f"=u{i}" if i == 1 else (f"-u{i}" if i == 2 else f"user{i}"),
            }
        )
    recs[4]["name"] = '=HYPERLINK("http://x")'
    return Roster.from_records(recs, avoid=[("s01", "s02")], source="roster.csv")


MODEL = FormationModel.from_dict(
    {
        "team": {"size": 4},
        "criteria": {"motivation": {"weight": 3}, "skill_balance": {"weight": 1}},
    },
    source="m.toml",
)


@pytest.fixture(scope="module")
def solved() -> tuple[Roster, Result]:
    roster = _roster()
    result = form(roster, MODEL, time_limit=2, seed=0, workers=1, deterministic=True)
    assert result.feasible and result.valid
    return roster, result


def _teams(result: Result) -> set[frozenset[str]]:
    return {frozenset(t.members) for t in result.teams}


def _regroup(users: dict[str, str], user_to_id: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for user, group in users.items():
        groups.setdefault(group, set()).add(user_to_id[user])
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "blackboard"])
@pytest.mark.parametrize("column", ["id", "email", "lms_id"])
def test_round_trip_gives_exactly_the_teams(
    solved: tuple[Roster, Result], tmp_path: Path, fmt: str, column: str
) -> None:
    roster, result = solved
    out = tmp_path / f"{fmt}.csv"
    written = export_lms(result, roster, fmt, out, user_column=column, course="ALG101")
    assert written[0] == out
    assert len(written) == (1 if fmt == "canvas" else 2)
    back = read_lms(out, fmt)
    user_to_id = {
        (
            lr.id if column == "id" else lr.email if column == "email" else lr.attributes[column]
        ): lr.id
        for lr in roster.learners
    }
    assert set(back) == set(user_to_id)
    assert _regroup(back, user_to_id) == _teams(result)
    # group names follow the pattern and the result's numbering
    for team in result.teams:
        for lid in team.members:
            user = next(u for u, i in user_to_id.items() if i == lid)
            assert back[user] == f"Team {team.team:02}"


def test_cells_are_formula_safe(solved: tuple[Roster, Result], tmp_path: Path) -> None:
    roster, result = solved
    for fmt in ("canvas", "moodle", "blackboard"):
        out = tmp_path / f"{fmt}.csv"
        export_lms(result, roster, fmt, out, user_column="lms_id", course="=SUM(A1)")
        for path in (out, companion_path(out)):
            if not path.exists():
                continue
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.reader(fh):
                    for cell in row:
                        assert not cell.startswith(("=", "+", "-", "@")), (path.name, cell)
    text = (tmp_path / "canvas.csv").read_text(encoding="utf-8")
    assert "'=u1" in text and "'-u2" in text and "'=HYPERLINK" in text


def test_canvas_layout(solved: tuple[Roster, Result], tmp_path: Path) -> None:
    roster, result = solved
    out = tmp_path / "c.csv"
    export_lms(result, roster, "canvas", out, canvas_field="user_id", pattern="{n}. Gruppe")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert list(rows[0]) == ["name", "user_id", "group_name"]
    assert len(rows) == 12
    assert {r["group_name"] for r in rows} == {"1. Gruppe", "2. Gruppe", "3. Gruppe"}


def test_moodle_files(solved: tuple[Roster, Result], tmp_path: Path) -> None:
    roster, result = solved
    out = tmp_path / "users.csv"
    export_lms(result, roster, "moodle", out, user_column="email", course="ALG101", group_set="P1")
    users = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert list(users[0]) == ["username", "firstname", "lastname", "email", "course1", "group1"]
    first = next(u for u in users if u["username"] == "l3@example.org")
    assert (first["firstname"], first["lastname"], first["course1"]) == (
        "Learner",
        "Number3",
        "ALG101",
    )
    groups = list(csv.DictReader(companion_path(out).open(encoding="utf-8", newline="")))
    assert [g["groupname"] for g in groups] == ["Team 01", "Team 02", "Team 03"]
    assert {g["groupingname"] for g in groups} == {"P1"}


def test_blackboard_codes_map_to_titles(solved: tuple[Roster, Result], tmp_path: Path) -> None:
    roster, result = solved
    out = tmp_path / "members.csv"
    export_lms(result, roster, "blackboard", out, pattern="Équipe {n}")
    members = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert {m["Group Code"] for m in members} == {"equipe_1", "equipe_2", "equipe_3"}
    assert set(read_lms(out, "blackboard").values()) == {"Équipe 1", "Équipe 2", "Équipe 3"}


def test_team_name_pattern_errors() -> None:
    assert team_name("Team {n:02}", 3) == "Team 03"
    assert team_name("{section} {n}", 2, "B") == "B 2"
    with pytest.raises(InputError, match="bad team-name pattern"):
        team_name("Team {m}", 1)
    with pytest.raises(InputError, match="bad team-name pattern"):
        team_name("Team {n", 1)


def test_rows_need_distinct_names_and_users(solved: tuple[Roster, Result]) -> None:
    roster, result = solved
    with pytest.raises(InputError, match="would both be called 'Team'"):
        lms_rows(result, roster, pattern="Team")
    with pytest.raises(InputError, match="no column 'login'"):
        lms_rows(result, roster, user_column="login")
    with pytest.raises(InputError, match="needs the roster"):
        lms_rows(result, None, user_column="email")
    same = Roster.from_records(
        [
            {**lr.model_dump(exclude={"row", "attributes", "skills"}), "email": "same@x.org"}
            for lr in roster.learners
        ]
    )
    with pytest.raises(InputError, match=r"share the LMS user 'same@x\.org'"):
        lms_rows(result, same, user_column="email")


# --- command line ----------------------------------------------------------------------


def _write_inputs(solved: tuple[Roster, Result], tmp_path: Path) -> tuple[Path, Path]:
    roster, result = solved
    result_path = tmp_path / "result.json"
    result.to_json(result_path)
    roster_path = tmp_path / "roster.csv"
    cols = ["id", "name", "email", "timezone", "availability", "motivation", "lms_id"]
    with roster_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for lr in roster.learners:
            row = [lr.id, lr.name, lr.email, lr.timezone, lr.availability, lr.motivation]
            w.writerow([*row, lr.attributes["lms_id"]])
    return result_path, roster_path


def test_cli_canvas_round_trip(solved: tuple[Roster, Result], tmp_path: Path) -> None:
    roster, result = solved
    result_path, roster_path = _write_inputs(solved, tmp_path)
    out = tmp_path / "canvas.csv"
    res = runner.invoke(
        app,
        ["export-lms", str(result_path), "--format", "canvas", "--out", str(out),
         "--roster", str(roster_path)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    back = read_lms(out, "canvas")  # lms_id was picked up without --user-column
    ids = {lr.attributes["lms_id"]: lr.id for lr in roster.learners}
    assert _regroup(back, ids) == _teams(result)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--format", "moodle"], "--course"),
        (["--format", "sakai"], "unknown LMS format 'sakai'"),
        (["--format", "canvas", "--team-name", "T{x}"], "bad team-name pattern"),
        (["--format", "canvas", "--user-column", "phone"], "no column 'phone'"),
        (["--format", "canvas", "--canvas-field", "email"], "Canvas user field"),
    ],
)
def test_cli_errors_are_one_line_and_write_nothing(
    solved: tuple[Roster, Result], tmp_path: Path, extra: list[str], fragment: str
) -> None:
    result_path, roster_path = _write_inputs(solved, tmp_path)
    out = tmp_path / "out" / "x.csv"
    res = runner.invoke(
        app,
        ["export-lms", str(result_path), "--out", str(out), "--roster", str(roster_path), *extra],
    )
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], res.stderr
    assert not out.parent.exists()


def test_cli_rejects_a_file_that_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{}", encoding="utf-8")
    res = runner.invoke(
        app, ["export-lms", str(bad), "-f", "canvas", "-o", str(tmp_path / "o.csv")]
    )
    assert res.exit_code == 2
    assert "r.json" in res.stderr and len(res.stderr.strip().splitlines()) == 1
