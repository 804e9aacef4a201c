"""Survey exports end to end: detected, converted, validated, solved."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from teamform import FormationModel, Roster, form, load_roster
from teamform.errors import InputError
from teamform.presets import preset_path
from teamform.survey import (
    SurveyImport,
    SurveyMapping,
    detect_mapping,
    import_survey,
    read_learners,
)
from teamform.survey.mapping import ColumnSpec

REPO = Path(__file__).resolve().parents[2]
SURVEYS = REPO / "instances" / "surveys"
MODEL = FormationModel.from_toml(preset_path("collaborative"))


def ms_forms_xlsx(path: Path, rows: list[list[object]] | None = None) -> Path:
    """A Microsoft Forms export: ID, start and completion times, then the questions."""
    from openpyxl import Workbook

    header = [
        "ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
        "Which time zone are you in?", "Which times suit you on Monday?",
        "Which times suit you on Wednesday?", "Which times suit you on Friday?",
        "Rate your Python skills", "Rate your teamwork skills",
        "Did you choose this course yourself?", "Preferred teammates (e-mail)",
        "Rank the projects in order of preference",
    ]  # fmt: skip
    zones = [
        "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi",
        "(UTC-05:00) Eastern Time (US & Canada)",
        "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
    ]
    slots = ["Morning;Evening;", "Afternoon;", "Evening;", "Morning;Afternoon;Evening;", ""]
    names = ["Ana Ribeiro", "Björn Holm", "Chiara Bianchi", "Deepak Rao", "Eva Novak",
             "Finn Murphy", "Gita Sharma", "Henrik Berg", "Irene Costa", "Jakub Kowalski",
             "Kofi Boateng", "Laura Meyer"]  # fmt: skip
    projects = ["Weather station", "Recipe planner", "Quiz bot"]
    start = datetime(2026, 1, 5, 9, 0)
    if rows is None:
        rows = []
        for i, name in enumerate(names):
            email = name.lower().replace(" ", ".").replace("ö", "o") + "@school.example"
            rows.append(
                [
                    i + 1, start + timedelta(minutes=7 * i), start + timedelta(minutes=7 * i + 4),
                    email, name, None, zones[i % 4], slots[i % 5], slots[(i + 1) % 5],
                    slots[(i + 3) % 5], 1 + i % 5, 1 + (i * 2) % 5, "Yes" if i % 3 else "No",
                    "bjorn.holm@school.example" if i == 0 else None,
                    ";".join(projects[i % 3 :] + projects[: i % 3]) + ";",
                ]
            )  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def solve_valid(roster: Roster) -> None:
    result = form(roster, MODEL, time_limit=1, seed=0, workers=1)
    assert result.feasible and result.valid, result.violations
    assert set(result.assignment) == set(roster.ids)


def assert_roster_round_trip(imported: SurveyImport, tmp_path: Path) -> None:
    out = tmp_path / "roster.csv"
    imported.write_roster(out)
    again = load_roster(out)
    keys = ("id", "name", "email", "timezone", "availability", "skills", "motivation", "section")
    for a, b in zip(imported.roster.learners, again.learners, strict=True):
        assert a.model_dump(include=set(keys)) == b.model_dump(include=set(keys))
        assert a.attributes == b.attributes
    assert set(imported.roster.avoid) == set(again.avoid)
    assert set(imported.roster.prefer) == set(again.prefer)


# --- each format, end to end -----------------------------------------------------------


def test_google_forms(tmp_path: Path) -> None:
    imported = import_survey(SURVEYS / "google_forms.csv")
    assert imported.format == "google_forms"
    roles = {h: s.role for h, s in imported.mapping.columns.items()}
    assert roles["Timestamp"] == "ignore"
    assert roles["Anything else we should know?"] == "ignore"
    assert roles["When are you available for team meetings? [Saturday]"] == "grid"
    roster = imported.roster
    assert len(roster) == 16  # 17 responses, one learner answered twice
    by_id = {lr.id: lr for lr in roster.learners}
    liam = by_id["liam.oconnor@example.org"]
    assert liam.availability == "Mon 18:00-21:00; Tue 18:00-21:00; Thu 19:00-21:00"
    assert any("both learner 'liam.oconnor@example.org'" in w for w in imported.warnings)
    assert by_id["sofia.rossi@example.org"].timezone == "Etc/GMT-1"
    assert imported.timezones["GMT+1"] == "Etc/GMT-1"
    assert by_id["jonas.becker@example.org"].motivation == "imposed"  # "required by my employer"
    assert by_id["amelie.durand@example.org"].skills == {"programming": 5.0, "writing_reports": 2.0}
    assert by_id["amelie.durand@example.org"].attributes["preferred_working_language"] == "English"
    # "Emma Jonson" (a typo) and "Hannah" (first name only) resolved, with a warning each
    assert ("emma.johnson@example.org", "noah.williams@example.org") in roster.prefer
    assert ("hannah.schmidt@example.org", "oskar.nilsson@example.org") in roster.prefer
    assert sum("(fuzzy)" in w or "(first name)" in w for w in imported.warnings) == 2
    assert ("jonas.becker@example.org", "oskar.nilsson@example.org") in roster.avoid
    assert_roster_round_trip(imported, tmp_path)
    solve_valid(roster)


def test_microsoft_forms_xlsx(tmp_path: Path) -> None:
    imported = import_survey(ms_forms_xlsx(tmp_path / "survey.xlsx"))
    assert imported.format == "ms_forms"
    roles = {h: s.role for h, s in imported.mapping.columns.items()}
    assert roles["ID"] == roles["Start time"] == roles["Completion time"] == "ignore"
    assert roles["Rate your Python skills"] == "skill"
    by_id = {lr.id: lr for lr in imported.roster.learners}
    ana = by_id["ana.ribeiro@school.example"]
    assert ana.timezone == "Europe/Amsterdam"
    assert ana.availability == "Mon 08:00-12:00; Mon 17:00-21:00; Wed 12:00-17:00; Fri 08:00-21:00"
    assert ana.motivation == "imposed"  # "No": not chosen
    assert ana.skills == {"python": 1.0, "teamwork": 1.0}
    assert by_id["bjorn.holm@school.example"].timezone == "Asia/Kolkata"
    assert by_id["chiara.bianchi@school.example"].timezone == "America/New_York"
    assert ("ana.ribeiro@school.example", "bjorn.holm@school.example") in imported.roster.prefer
    # a Microsoft Forms ranking: one cell, best first, trailing ';'
    assert ana.projects == ("Weather station", "Recipe planner", "Quiz bot")
    assert by_id["bjorn.holm@school.example"].projects == (
        "Recipe planner",
        "Quiz bot",
        "Weather station",
    )
    assert_roster_round_trip(imported, tmp_path)
    solve_valid(imported.roster)


def test_qualtrics_three_header_rows(tmp_path: Path) -> None:
    imported = import_survey(SURVEYS / "qualtrics.csv")
    assert imported.format == "qualtrics"
    roster = imported.roster
    assert len(roster) == 12
    first = roster.learners[0]
    assert first.row == 4  # short names, question text, ImportId, then responses
    assert (first.id, first.name, first.timezone) == ("20261000", "Aiko Sato", "Asia/Tokyo")
    assert set(roster.skill_names) == {"statistics", "programming"}
    assert imported.timezones["(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi"] == "Asia/Kolkata"
    # the short Qualtrics name works in a mapping too
    again = import_survey(
        SURVEYS / "qualtrics.csv",
        SurveyMapping(columns={"Q4_1": ColumnSpec(role="skill", name="stats")}),
    )
    assert set(again.roster.skill_names) == {"stats", "programming"}
    assert_roster_round_trip(imported, tmp_path)
    solve_valid(roster)


def test_gruepr_busy_grid_sections_and_projects(tmp_path: Path) -> None:
    imported = import_survey(SURVEYS / "gruepr.csv")
    assert imported.format == "gruepr"
    roster = imported.roster
    assert {lr.section for lr in roster.learners} == {"Section 1", "Section 2"}
    with (SURVEYS / "gruepr.csv").open(encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    by_email = {lr.email: lr for lr in roster.learners}
    for row in raw:
        learner = by_email[row["What is your email address?"]]
        top = [row[f"Which project would you like to work on? [{c}]"] for c in
               ("Top choice", "Choice 2", "Choice 3")]  # fmt: skip
        # ranked choices land in the roster's projects column, best first
        assert list(learner.projects) == [p for p in top if p]
    zones = {lr.timezone for lr in roster.learners}
    assert zones <= {"America/New_York", "America/Chicago", "America/Denver",
                     "America/Los_Angeles", "America/Halifax"}  # fmt: skip
    assert any("no motivation" in w for w in imported.warnings)
    assert_roster_round_trip(imported, tmp_path)
    solve_valid(roster)


def test_busy_grid_frees_the_rest_of_the_span(tmp_path: Path) -> None:
    path = tmp_path / "busy.csv"
    path.write_text(
        "Timestamp,First name,Last name,Time zone,"
        "Check the times that you are UNAVAILABLE for group work. [Monday],"
        "Check the times that you are UNAVAILABLE for group work. [Tuesday]\n"
        "t,Ann,Lee,Europe/Paris,8AM;9AM,\n"
        "t,Bo,Chan,Europe/Paris,noon;5PM,8AM;9AM;10AM;11AM;noon;1PM;2PM;3PM;4PM;5PM\n",
        encoding="utf-8",
    )
    imported = import_survey(path)
    ann, bo = imported.roster.learners
    # the grid offered 8AM-5PM (first to last slot anyone ticked)
    assert ann.availability == "Mon 10:00-18:00; Tue 08:00-18:00"
    assert bo.availability == "Mon 08:00-12:00; Mon 13:00-17:00"
    assert ann.id == "R0002"  # no id or e-mail column: ids from the row


def test_team_formation_roster(tmp_path: Path) -> None:
    imported = import_survey(SURVEYS / "team_formation.csv")
    assert imported.format == "roster"
    roster = imported.roster
    first = roster.learners[0]
    assert (first.id, first.name, first.section) == ("S2400", "Arjun Mehta", "A")
    assert first.attributes["lms_id"] == "amehta"
    assert first.attributes["major"] == "Computer Science"
    assert ("S2401", "S2403") in roster.avoid
    assert_roster_round_trip(imported, tmp_path)
    solve_valid(roster)


def test_a_teamform_roster_is_read_as_it_is() -> None:
    roster, imported = read_learners(REPO / "instances" / "demo" / "roster.csv")
    assert imported is None and len(roster) == 60
    roster, imported = read_learners(SURVEYS / "gruepr.csv")
    assert imported is not None and len(roster) == 16


# --- the mapping ---------------------------------------------------------------------


def test_mapping_round_trips_through_toml(tmp_path: Path) -> None:
    imported = import_survey(SURVEYS / "google_forms.csv")
    path = tmp_path / "mapping.toml"
    path.write_text(imported.mapping.to_toml(), encoding="utf-8")
    loaded = SurveyMapping.from_toml(path)
    assert loaded.columns.keys() == imported.mapping.columns.keys()
    assert {h: s.role for h, s in loaded.columns.items()} == {
        h: s.role for h, s in imported.mapping.columns.items()
    }
    again = import_survey(SURVEYS / "google_forms.csv", loaded)
    assert again.records == imported.records
    # saved again, it reads the same (the "(mapping)" note is not stacked)
    assert import_survey(SURVEYS / "google_forms.csv", again.mapping).mapping == again.mapping


def test_mapping_overrides_roles_zones_and_teammates(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(
        """
[columns."How much programming experience do you have?"]
role = "skill"
name = "coding"

[columns."Preferred working language"]
role = "ignore"

[columns."Why are you taking this course?"]
role = "motivation"
values = { "I chose it out of personal interest" = "imposed" }

[timezones]
"GMT+1" = "Europe/Rome"

[teammates]
"Emma Jonson" = ""
""",
        encoding="utf-8",
    )
    imported = import_survey(SURVEYS / "google_forms.csv", path)
    by_id = {lr.id: lr for lr in imported.roster.learners}
    assert "coding" in by_id["amelie.durand@example.org"].skills
    assert "preferred_working_language" not in by_id["amelie.durand@example.org"].attributes
    assert by_id["amelie.durand@example.org"].motivation == "imposed"
    assert by_id["sofia.rossi@example.org"].timezone == "Europe/Rome"
    noah = next(r for r in imported.records if r["id"] == "noah.williams@example.org")
    assert noah["prefer"] == ""  # "Emma Jonson" dropped on purpose
    spec = imported.mapping.columns["How much programming experience do you have?"]
    assert spec.how.endswith("(mapping)")


def test_default_timezone_for_a_grid_without_zones(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "Timestamp,Email,When are you available? [Monday]\nt,a@x.org,6PM;7PM\nt,b@x.org,7PM;8PM\n",
        encoding="utf-8",
    )
    imported = import_survey(path, default_timezone="Europe/Lisbon")
    assert {lr.timezone for lr in imported.roster.learners} == {"Europe/Lisbon"}
    assert imported.mapping.default_timezone == "Europe/Lisbon"
    assert [lr.availability for lr in imported.roster.learners] == [
        "Mon 18:00-20:00",
        "Mon 19:00-21:00",
    ]


def test_the_mapping_is_detected_even_when_answers_are_wrong(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "Timestamp,Email,Time zone,When are you available? [Friday]\n"
        "t,a@x.org,Atlantis,6PM\nt,b@x.org,Europe/Oslo,7PM\n",
        encoding="utf-8",
    )
    mapping = detect_mapping(path)
    assert mapping.format == "google_forms"
    assert {h: s.role for h, s in mapping.columns.items()} == {
        "Timestamp": "ignore",
        "Email": "email",
        "Time zone": "timezone",
        "When are you available? [Friday]": "grid",
    }
    with pytest.raises(InputError, match="'Atlantis'"):
        import_survey(path, mapping)
    # the tutor fixes it in the mapping (a web page would send the edited model back)
    fixed = mapping.model_copy(update={"timezones": {"Atlantis": "Atlantic/Azores"}})
    imported = import_survey(path, SurveyMapping.model_validate(fixed.model_dump()))
    assert imported.roster.learners[0].timezone == "Atlantic/Azores"


def test_a_bad_default_zone_in_the_mapping_names_the_key(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('default_timezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'") as exc:
        import_survey(SURVEYS / "gruepr.csv", mapping)
    assert (exc.value.file, exc.value.column) == (str(mapping), "default_timezone")
