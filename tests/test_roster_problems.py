"""Every problem of a roster at once; columns needed only by the criteria that read them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform import FormationModel, InputError, build_instance, load_roster
from teamform.cli import MAX_LISTED_PROBLEMS, app
from teamform.errors import InputErrors, problems_of
from test_roster import HEADER, rows, small_model, write_roster


def model(**criteria: object) -> FormationModel:
    return FormationModel.model_validate(
        {"team": {"size": 2}, "skills": {"min": 1, "max": 5}, "criteria": criteria}
    )


def test_all_bad_cells_are_reported_in_file_order(tmp_path: Path) -> None:
    records = rows(8)
    records[1]["timezone"] = "Mars/Base"
    records[3]["availability"] = "Funday 9-10"
    records[3]["motivation"] = "bored"  # same row, second problem: the row's first is kept
    records[5]["skill_code"] = "high"
    records[6]["id"] = "L1"
    path = write_roster(tmp_path / "r.csv", records)
    with pytest.raises(InputErrors) as caught:
        load_roster(path)
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [(3, "timezone"), (5, "availability"), (7, "skill_code"), (8, "id")]
    # it still reads as its first problem, with a count of the others
    assert caught.value.row == 3 and caught.value.column == "timezone"
    assert "(and 3 more: 'teamform check' lists them all)" in str(caught.value)


def test_bad_pairs_are_collected_with_bad_cells(tmp_path: Path) -> None:
    records = rows(4)
    records[0]["skill_code"] = "x"
    path = write_roster(tmp_path / "r.csv", records)
    avoid = tmp_path / "avoid.csv"
    avoid.write_text("id_a,id_b\nL2,L9\nL3,L3\n", encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        load_roster(path, avoid=avoid)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 3
    assert "skill level 'x'" in messages[0]
    assert "unknown learner id 'L9'" in messages[1] and str(avoid) in messages[1]
    assert "paired with itself" in messages[2]


def test_one_problem_is_a_plain_input_error(tmp_path: Path) -> None:
    records = rows(4)
    records[2]["motivation"] = "bored"
    with pytest.raises(InputError) as caught:
        load_roster(write_roster(tmp_path / "r.csv", records))
    assert not isinstance(caught.value, InputErrors)
    assert problems_of(caught.value) == [caught.value]


def test_check_lists_every_problem_up_to_a_cap(tmp_path: Path) -> None:
    records = rows(70)
    for r in records:
        r["skill_code"] = "lots"
    path = write_roster(tmp_path / "r.csv", records)
    m = tmp_path / "m.toml"
    m.write_text("[team]\nsize = 2\n[skills]\nmin = 1\nmax = 5\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path), "--model", str(m)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == MAX_LISTED_PROBLEMS + 1
    assert all(f"row {i + 2}, column 'skill_code'" in lines[i] for i in range(MAX_LISTED_PROBLEMS))
    assert lines[-1] == f"... and {70 - MAX_LISTED_PROBLEMS} more"


# ------------------------------------------------------- columns the model needs


def test_roster_without_timezone_availability_motivation(tmp_path: Path) -> None:
    header = [h for h in HEADER if h not in ("timezone", "availability", "motivation")]
    path = write_roster(tmp_path / "r.csv", rows(6), header=header)
    roster = load_roster(path)
    inst = build_instance(roster, model(skill_balance={"weight": 1}))
    assert inst.n == 6
    assert all(lr.motivation is None and lr.timezone == "" for lr in roster.learners)


@pytest.mark.parametrize(
    ("dropped", "criteria", "column"),
    [
        ("timezone", {"overlap": {"weight": 1, "hours": 1}}, "timezone"),
        ("availability", {"overlap": {"weight": 1, "hours": 1}}, "availability"),
        ("motivation", {"motivation": {"weight": 1}}, "motivation"),
    ],
)
def test_a_criterion_needs_its_columns(
    tmp_path: Path, dropped: str, criteria: dict[str, object], column: str
) -> None:
    path = write_roster(tmp_path / "r.csv", rows(6), header=[h for h in HEADER if h != dropped])
    roster = load_roster(path)
    with pytest.raises(InputError) as caught:
        build_instance(roster, model(**criteria))
    assert caught.value.column == column and caught.value.row == 1
    assert "required column is missing" in caught.value.message
    assert "criterion needs it" in caught.value.message


def test_empty_cells_are_named_when_needed(tmp_path: Path) -> None:
    records = rows(6)
    records[1]["timezone"] = ""
    records[4]["motivation"] = ""
    roster = load_roster(write_roster(tmp_path / "r.csv", records))
    build_instance(roster, model(skill_balance={"weight": 1}))  # not needed: fine
    with pytest.raises(InputErrors) as caught:
        build_instance(roster, small_model())
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [(3, "timezone"), (6, "motivation")]


def test_default_time_zone_from_the_model_or_the_loader(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "timezone"]
    path = write_roster(tmp_path / "r.csv", rows(6), header=header)
    overlap = {"overlap": {"weight": 1, "hours": 1, "reference_date": "2026-01-12"}}
    with_default = FormationModel.model_validate(
        {"team": {"size": 2}, "criteria": overlap, "roster": {"timezone": "america/new_york"}}
    )
    assert with_default.roster.timezone == "America/New_York"
    inst = build_instance(load_roster(path), with_default)
    # Mon-Fri 18:00-21:00 in New York (UTC-5 in January) is 23:00-02:00 UTC
    monday_23_utc = 23 * 4
    assert inst.masks[0] >> monday_23_utc & 1
    roster = load_roster(path, timezone="Asia/Tokyo")
    assert {lr.timezone for lr in roster.learners} == {"Asia/Tokyo"}
    with pytest.raises(InputError, match="option --timezone"):
        load_roster(path, timezone="Mars/Base")


def test_unknown_default_zone_in_the_model() -> None:
    with pytest.raises(InputError, match="unknown time zone 'Mars/Base'"):
        FormationModel.from_dict({"team": {"size": 2}, "roster": {"timezone": "Mars/Base"}})


def test_zone_cells_in_any_case(tmp_path: Path) -> None:
    records = rows(4)
    records[0]["timezone"] = "europe/paris"
    roster = load_roster(write_roster(tmp_path / "r.csv", records))
    assert roster.learners[0].timezone == "Europe/Paris"


def test_cli_timezone_option(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "timezone"]
    path = write_roster(tmp_path / "r.csv", rows(6), header=header)
    m = tmp_path / "m.toml"
    m.write_text("[team]\nsize = 2\n[criteria.overlap]\nweight = 1\nhours = 1\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(app, ["check", str(path), "-m", str(m)])
    assert refused.exit_code == 2 and "--timezone" in refused.stderr
    ok = runner.invoke(app, ["check", str(path), "-m", str(m), "--timezone", "Europe/Paris"])
    assert ok.exit_code == 0, ok.stderr
