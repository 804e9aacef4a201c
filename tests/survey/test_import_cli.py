"""`teamform import`, and surveys given to `form`: mappings shown, bad input as one line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform.cli import app
from teamform.lms import read_lms
from teamform.survey import import_survey

REPO = Path(__file__).resolve().parents[2]
SURVEYS = REPO / "instances" / "surveys"
runner = CliRunner()


def edited(name: str, tmp: Path, changes: dict[tuple[int, str], str], drop: str = "") -> Path:
    """A copy of a fixture with some cells changed ((data row index, header) -> value)."""
    with (SURVEYS / name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for (i, col), value in changes.items():
        rows[1 + i][header.index(col)] = value
    if drop:
        k = header.index(drop)
        rows = [r[:k] + r[k + 1 :] for r in rows]
    out = tmp / name
    with out.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return out


def invoke(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line(result: object, *fragments: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stdout  # type: ignore[attr-defined]
    return lines[0]


GRUEPR_AVOID = "Please list the name(s) of people you would like NOT to have on your team"
GRUEPR_PREFER = "Please list the name(s) of people you would like to have on your team"
GRUEPR_TZ = "In which time zone will you be located during this course?"
GRUEPR_MON = "Check the times that you are UNAVAILABLE for group work. [Monday]"
GRUEPR_SKILL = "How much experience do you have writing computer programs?"


def test_import_prints_the_mapping_and_writes_the_roster(tmp_path: Path) -> None:
    out = tmp_path / "roster.csv"
    saved = tmp_path / "mapping.toml"
    res = invoke("import", SURVEYS / "gruepr.csv", "--out", out, "--save-mapping", saved)
    assert res.exit_code == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "gruepr survey, 16 learners" in text
    assert "project_choice" in text and "skill_writing_computer_programs" in text
    assert "America/New_York" in text  # the zones chosen for the labels
    assert "roster written to" in res.stdout and out.is_file() and saved.is_file()
    again = invoke(
        "import", SURVEYS / "gruepr.csv", "--out", tmp_path / "b.csv", "--mapping", saved
    )
    assert again.exit_code == 0, again.stderr
    assert (tmp_path / "b.csv").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        (
            {(5, GRUEPR_PREFER): "Zaphod Beeblebrox"},
            ["row 7", f"column '{GRUEPR_PREFER}'", "'Zaphod Beeblebrox' matches no learner"],
        ),
        (
            {(5, GRUEPR_AVOID): "Pedro Silvo; Ingrid"},  # the near miss passes, Ingrid does not
            ["row 7", f"column '{GRUEPR_AVOID}'", "'Ingrid' matches no learner"],
        ),
        (
            {
                (6, "What is your first name (or the name you prefer to be called)?"): "Ava",
                (5, GRUEPR_PREFER): "Ava",
            },
            ["row 7", "'Ava' matches several learners", "candidates: Ava Lee", "Ava Thompson"],
        ),
        (
            {(2, GRUEPR_TZ): "Middle Earth Time"},
            ["row 4", f"column '{GRUEPR_TZ}'", "cannot tell the time zone of 'Middle Earth Time'"],
        ),
        (
            {(0, GRUEPR_MON): "8AM;9XM"},
            ["row 2", f"column '{GRUEPR_MON}'", "'9XM' is not a time slot"],
        ),
        (
            {(9, GRUEPR_SKILL): "quite a lot"},
            ["row 11", f"column '{GRUEPR_SKILL}'", "'quite a lot' does not start with a number"],
        ),
        (
            {(9, GRUEPR_SKILL): ""},
            ["row 11", "no answer"],
        ),
        (
            {(4, "What is your email address?"): ""},
            ["row 6", "no e-mail address, and the survey has no id column"],
        ),
        (
            {(4, "What is your email address?"): "anonymous"},  # an anonymous Microsoft form
            ["row 6", "'anonymous' is not an e-mail address"],
        ),
    ],
)
def test_bad_cells_are_one_line_errors_and_nothing_is_written(
    tmp_path: Path, changes: dict[tuple[int, str], str], fragments: list[str]
) -> None:
    survey = edited("gruepr.csv", tmp_path, changes)
    out = tmp_path / "out" / "roster.csv"
    line = assert_one_line(invoke("import", survey, "--out", out), *fragments)
    assert line.startswith(f"error: {survey}, ")
    assert not out.parent.exists()


def test_near_misses_are_taken_with_a_warning(tmp_path: Path) -> None:
    survey = edited("gruepr.csv", tmp_path, {(6, GRUEPR_PREFER): "Ben Okafr, ben okafor"})
    out = tmp_path / "roster.csv"
    res = invoke("import", survey, "--out", out)
    assert res.exit_code == 0, res.stderr
    assert "'Ben Okafr' taken as learner 'ben.okafor@example.edu' (fuzzy)" in " ".join(
        res.stdout.split()
    )
    grace = next(r for r in csv.DictReader(out.open(encoding="utf-8")) if r["name"] == "Grace Lee")
    assert grace["prefer"] == "ben.okafor@example.edu"  # named twice, paired once


def test_a_grid_without_time_zones_needs_one(tmp_path: Path) -> None:
    survey = edited("gruepr.csv", tmp_path, {}, drop=GRUEPR_TZ)
    out = tmp_path / "roster.csv"
    assert_one_line(invoke("import", survey, "--out", out), "no time-zone column", "--timezone")
    assert not out.exists()
    res = invoke("import", survey, "--out", out, "--timezone", "America/Chicago")
    assert res.exit_code == 0, res.stderr
    assert {r["timezone"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {
        "America/Chicago"
    }
    assert_one_line(
        invoke("import", survey, "--out", out, "--timezone", "Mars/Olympus"), "unknown time zone"
    )


def test_motivation_answers_must_be_readable(tmp_path: Path) -> None:
    survey = edited(
        "team_formation.csv", tmp_path, {(3, "Course required or elective?"): "Because"}
    )
    assert_one_line(
        invoke("import", survey, "--out", tmp_path / "r.csv"),
        "row 5",
        "column 'Course required or elective?'",
        "'Because' means intrinsic or imposed",
    )


def test_unknown_avoid_id_names_the_survey_column(tmp_path: Path) -> None:
    col = "Do not team with (student IDs)"
    survey = edited("team_formation.csv", tmp_path, {(2, col): "S9999"})
    assert_one_line(
        invoke("import", survey, "--out", tmp_path / "r.csv"),
        "row 4",
        f"column '{col}'",
        "'S9999' matches no learner",
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            '[columns."No such question"]\nrole = "skill"\n',
            ["columns.No such question", "not in the survey"],
        ),
        ('[columns."Major"]\nrole = "hobby"\n', ["columns.Major.role", "Input should be"]),
        ("format = \n", ["row 1", "malformed TOML"]),
        ('colour = "blue"\n', ["colour", "Extra inputs"]),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, fragments: list[str]) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(text, encoding="utf-8")
    out = tmp_path / "r.csv"
    line = assert_one_line(
        invoke("import", SURVEYS / "team_formation.csv", "--out", out, "--mapping", mapping),
        *fragments,
    )
    assert str(mapping) in line
    assert not out.exists()


def test_a_survey_without_responses(tmp_path: Path) -> None:
    survey = tmp_path / "s.csv"
    survey.write_text("Timestamp,Email Address,Name\n", encoding="utf-8")
    assert_one_line(invoke("import", survey, "--out", tmp_path / "r.csv"), "no learners")


def test_a_damaged_workbook(tmp_path: Path) -> None:
    bad = tmp_path / "survey.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    assert_one_line(invoke("import", bad, "--out", tmp_path / "r.csv"), "not a readable Excel")


def test_form_reads_a_survey_directly(tmp_path: Path) -> None:
    res = invoke(
        "form", SURVEYS / "google_forms.csv", "--model", "collaborative", "--time-limit", "1",
        "--json", tmp_path / "result.json", "--quiet",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "read as a google_forms survey (16 learners" in " ".join(res.stderr.split())
    assert "warning: " in res.stderr  # the near-miss names are shown
    bad = edited("gruepr.csv", tmp_path, {(2, GRUEPR_TZ): "Atlantis"})
    assert_one_line(
        invoke("form", bad, "--model", "collaborative", "--time-limit", "1"),
        "row 4",
        "'Atlantis'",
    )
    assert_one_line(invoke("check", bad, "--model", "collaborative"), "row 4", "'Atlantis'")


def test_survey_to_lms_in_three_commands(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    result = tmp_path / "result.json"
    groups = tmp_path / "groups.csv"
    survey = SURVEYS / "team_formation.csv"
    steps = [
        ("import", survey, "--out", roster),
        ("form", roster, "--model", "collaborative", "--time-limit", "1", "--json", result, "-q"),
        ("export-lms", result, "--format", "canvas", "--roster", roster, "--out", groups),
    ]
    for step in steps:
        res = invoke(*step)
        assert res.exit_code == 0, (step, res.stderr)
    from teamform.report import load_report

    teams = {frozenset(t.members) for t in load_report(result).result.teams}
    lms_to_id = {r.attributes["lms_id"]: r.id for r in import_survey(survey).roster.learners}
    back: dict[str, set[str]] = {}
    for user, group in read_lms(groups, "canvas").items():
        back.setdefault(group, set()).add(lms_to_id[user])  # the lms_id column was used
    assert {frozenset(g) for g in back.values()} == teams
    # the survey itself also works as the export's roster
    moodle = tmp_path / "users.csv"
    res = invoke("export-lms", result, "-f", "moodle", "--course", "C1", "--roster", survey,
                 "--out", moodle)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert set(read_lms(moodle, "moodle")) == set(lms_to_id)


def test_several_bad_roster_cells_are_named_by_survey_column(tmp_path: Path) -> None:
    survey = edited(
        "team_formation.csv",
        tmp_path,
        {(1, "Availability"): "Mon 25:00-26:00", (4, "Availability"): "whenever"},
    )
    line = assert_one_line(invoke("import", survey, "--out", tmp_path / "r.csv"), "row 3")
    assert "column 'Availability'" in line and "1 more" in line


def test_a_roster_with_a_default_zone_stays_a_roster(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,timezone,availability,motivation\n"
        "a,,Mon 18:00-20:00,intrinsic\nb,Asia/Tokyo,Mon 09:00-11:00,imposed\n",
        encoding="utf-8",
    )
    from teamform.survey import read_learners

    ros, imported = read_learners(roster, default_timezone="Europe/Paris")
    assert imported is None
    assert [lr.timezone for lr in ros.learners] == ["Europe/Paris", "Asia/Tokyo"]
