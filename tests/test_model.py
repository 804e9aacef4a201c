"""Tests for teamform.model (FormationModel from TOML) and the team layout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from teamform import FormationModel, InputError
from teamform.instance import team_layout

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def parse_error(text: str, source: str = "model.toml") -> InputError:
    with pytest.raises(InputError) as info:
        FormationModel.from_toml_text(text, source=source)
    exc = info.value
    assert exc.file == source
    assert "\n" not in str(exc)
    assert str(exc).startswith(source)
    return exc


# -------------------------------------------------------------- shipped models


def test_collaborative_model() -> None:
    model = FormationModel.from_toml(MODELS / "collaborative.toml")
    assert model.name == "collaborative"
    assert model.source == str(MODELS / "collaborative.toml")
    assert (model.team.size, model.team.min, model.team.max) == (4, 3, 5)
    assert model.team.balanced
    assert (model.skills.min, model.skills.max) == (1, 5)
    crit = model.criteria
    assert crit.overlap is not None and crit.overlap.hours == 3 and not crit.overlap.hard
    assert crit.overlap.reference_date is None
    assert crit.motivation is not None and crit.motivation.weight == 30
    assert crit.skill_balance is not None and crit.skill_balance.skills == []
    assert crit.prefer is not None and crit.prefer.weight == 5
    assert crit.skill_coverage is None
    assert crit.category == []
    assert model.roster.columns == {}


def test_cooperative_model() -> None:
    model = FormationModel.from_toml(MODELS / "cooperative.toml")
    assert model.name == "cooperative"
    assert model.team.size == 5
    cov = model.criteria.skill_coverage
    assert cov is not None
    assert [(r.skill, r.level) for r in cov.rules] == [("programming", 4), ("writing", 4)]
    assert [(c.column, c.rule) for c in model.criteria.category] == [("language", "no_isolation")]


def test_minimal_model_has_no_criteria() -> None:
    model = FormationModel.from_toml_text("[team]\nsize = 3\n")
    assert model.name == "custom"
    assert model.criteria.overlap is None
    assert model.criteria.motivation is None
    assert model.source == "model"


def test_from_dict_matches_from_toml() -> None:
    text = (
        "[team]\nsize = 4\nmin = 3\nmax = 5\n\n"
        '[criteria.overlap]\nhours = 2\nreference_date = "2026-01-12"\n'
    )
    a = FormationModel.from_toml_text(text)
    b = FormationModel.from_dict(
        {
            "team": {"size": 4, "min": 3, "max": 5},
            "criteria": {"overlap": {"hours": 2, "reference_date": date(2026, 1, 12)}},
        }
    )
    assert a == b
    assert a.criteria.overlap is not None
    assert a.criteria.overlap.reference_date == date(2026, 1, 12)


def test_byte_order_mark_in_model_file(tmp_path: Path) -> None:
    path = tmp_path / "model.toml"
    path.write_bytes(b"\xef\xbb\xbf[team]\nsize = 3\n")
    assert FormationModel.from_toml(path).team.size == 3


def test_roster_columns_table() -> None:
    model = FormationModel.from_toml_text(
        '[team]\nsize = 4\n\n[roster.columns]\nid = "Student ID"\ntimezone = "TZ"\n'
    )
    assert model.roster.columns == {"id": "Student ID", "timezone": "TZ"}


# --------------------------------------------------------------------- errors


def test_missing_model_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(InputError) as info:
        FormationModel.from_toml(path)
    assert info.value.file == str(path)
    assert "not found" in info.value.message


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ('name = "x"\n[team]\nsize = \n', 3),
        ("[team\nsize = 2\n", 1),
        ("[team]\nsize = 2\nsize = 3\n", 3),
        ('[team]\nsize = 2\nname = "unterminated\n', 3),
    ],
)
def test_malformed_toml_names_the_row(text: str, row: int) -> None:
    exc = parse_error(text)
    assert exc.row == row
    assert f"row {row}" in str(exc)
    assert exc.message.startswith("malformed TOML")


def test_malformed_toml_from_file(tmp_path: Path) -> None:
    path = tmp_path / "model.toml"
    path.write_text("[team]\nsize = 4\n\n[criteria.overlap\nhours = 2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        FormationModel.from_toml(path)
    assert info.value.file == str(path)
    assert info.value.row == 4


def test_unknown_criterion_names_row_and_key() -> None:
    exc = parse_error(
        "[team]\nsize = 4\n\n[criteria.overlap]\nhours = 2\n\n[criteria.overlapp]\nweight = 3\n"
    )
    assert exc.row == 7
    assert exc.column == "criteria.overlapp"
    assert exc.message == "unknown criterion 'overlapp'"


def test_unknown_top_level_key() -> None:
    exc = parse_error('nmae = "x"\n[team]\nsize = 4\n')
    assert exc.row == 1
    assert exc.message == "unknown key 'nmae'"


def test_unknown_option_of_a_criterion_is_not_called_a_criterion() -> None:
    exc = parse_error("[team]\nsize = 4\n[criteria.overlap]\nhourz = 2\n")
    assert exc.row == 4
    assert exc.column == "criteria.overlap.hourz"
    assert exc.message == "unknown key 'hourz'"


def test_error_row_of_a_key_repeated_in_several_tables() -> None:
    exc = parse_error(
        "[team]\nsize = 4\n\n[criteria.motivation]\nweight = 30\n\n"
        "[criteria.overlap]\nweight = -1\n"
    )
    assert exc.column == "criteria.overlap.weight"
    assert exc.row == 8


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("[team]\nsize = 4\nmin = 5\nmax = 6\n", "team", "size 4 lies outside"),
        ("[team]\nsize = 4\nmin = 5\nmax = 3\n", "team", "min (5) is larger than max (3)"),
        ("[team]\nmin = 3\n", "team", "give either 'size'"),
        ("[team]\nteams = 0\n", "team.teams", "greater than or equal to 1"),
        ('[team]\nsize = "four"\n', "team.size", "valid integer"),
        ("[team]\nsize = 4\n[skills]\nmin = 5\nmax = 1\n", "skills", "skills.min"),
        (
            "[team]\nsize = 4\n[criteria.prefer]\nweight = 1\nhard = true\n",
            "criteria.prefer",
            "always soft",
        ),
        (
            "[team]\nsize = 4\n[criteria.motivation]\nweight = -2\n",
            "criteria.motivation.weight",
            "greater than or equal to 0",
        ),
        (
            '[team]\nsize = 4\n[[criteria.category]]\ncolumn = "role"\nrule = "spread"\n',
            "criteria.category.0.rule",
            "'distribute', 'cluster' or 'no_isolation'",
        ),
        (
            '[team]\nsize = 4\n[criteria.overlap]\nreference_date = "someday"\n',
            "criteria.overlap.reference_date",
            "date",
        ),
        (
            "[team]\nsize = 4\n[criteria.participation]\nlow = 80\nhigh = 20\n",
            "criteria.participation",
            "low (80) is above high (20)",
        ),
    ],
)
def test_invalid_values(text: str, column: str, fragment: str) -> None:
    exc = parse_error(text)
    assert exc.column == column
    assert fragment in exc.message
    assert exc.row is not None


def test_missing_team_table() -> None:
    exc = parse_error('name = "x"\n')
    assert exc.column == "team"
    assert "required" in exc.message.lower()


# ----------------------------------------------------------------- team layout


def layout(sizes: list[int], **team: object) -> tuple[list[int], list[int], list[int]]:
    model = FormationModel.model_validate({"team": team})
    lo, hi, sec = team_layout(np.array(sizes), model)
    return lo.tolist(), hi.tolist(), sec.tolist()


def test_layout_balanced_closest_to_target() -> None:
    assert layout([10], size=4, min=3, max=5) == ([4, 3, 3], [4, 3, 3], [0, 0, 0])
    assert layout([60], size=4, min=3, max=5) == ([4] * 15, [4] * 15, [0] * 15)
    assert layout([7], size=2, min=2) == ([3, 2, 2], [3, 2, 2], [0, 0, 0])
    # without a minimum, sizes 2,2,2,1 (mean 1.75) are closer to 2 than 3,2,2 (mean 2.33)
    assert layout([7], size=2) == ([2, 2, 2, 1], [2, 2, 2, 1], [0, 0, 0, 0])


def test_layout_number_of_teams() -> None:
    assert layout([10], teams=3) == ([4, 3, 3], [4, 3, 3], [0, 0, 0])


def test_layout_unbalanced() -> None:
    lo, hi, _ = layout([10], size=4, min=3, max=5, balanced=False)
    assert len(lo) == 3
    assert lo == [3, 3, 3]
    assert hi == [5, 5, 5]


def test_layout_sections_get_their_own_teams() -> None:
    lo, hi, sec = layout([6, 4], size=2)
    assert sec == [0, 0, 0, 1, 1]
    assert lo == hi == [2, 2, 2, 2, 2]


@pytest.mark.parametrize(
    ("sizes", "team", "fragment"),
    [
        ([5], {"size": 4, "min": 4, "max": 4}, "5 learners"),
        ([7], {"size": 3, "min": 3, "max": 3}, "7 learners"),
        ([3], {"teams": 4}, "4 teams"),
        ([2], {"size": 3, "min": 3}, "2 learners"),
    ],
)
def test_layout_impossible(sizes: list[int], team: dict[str, int], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        layout(sizes, **team)
    assert fragment in info.value.message
    assert info.value.column in ("team", "team.teams")


def test_layout_impossible_names_the_section() -> None:
    model = FormationModel.model_validate({"team": {"size": 2, "min": 2}})
    with pytest.raises(InputError) as info:
        team_layout(np.array([4, 1]), model, ["A", "B"])
    assert "section 'B'" in info.value.message


# -------------------------------------------------------------- bounds on values


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            "[team]\nsize = 4\n[criteria.motivation]\nweight = nan\n",
            "criteria.motivation.weight",
            "finite",
        ),
        ("[team]\nsize = 4\n[skills]\nmax = inf\n", "skills.max", "finite"),
        ("[team]\nsize = 4\n[skills]\nmin = -1e300\n", "skills.min", "greater than or equal"),
        (
            "[team]\nsize = 4\n[criteria.participation]\nlow = nan\n",
            "criteria.participation.low",
            "finite",
        ),
        ("[team]\nsize = 4\n[criteria.overlap]\nhours = 168.5\n", "criteria.overlap.hours", "168"),
        ("[team]\nteams = 1000001\n", "team.teams", "1000000"),
        ('[team]\nsize = 4\nbalanced = "yes"\n', "team.balanced", "valid boolean"),
        (
            "[team]\nsize = 4\n[criteria.overlap]\nhard = 1\n",
            "criteria.overlap.hard",
            "valid boolean",
        ),
        (
            '[team]\nsize = 4\n[criteria.overlap]\nweight = "3"\n',
            "criteria.overlap.weight",
            "valid number",
        ),
    ],
)
def test_values_out_of_bounds(text: str, key: str, fragment: str) -> None:
    exc = parse_error(text)
    assert exc.column == key
    assert fragment in exc.message
    assert exc.row is not None


def test_coverage_level_must_lie_on_the_skill_scale() -> None:
    exc = parse_error(
        "[team]\nsize = 4\n[skills]\nmin = 0\nmax = 10\n[criteria.skill_coverage]\n"
        'rules = [{skill = "a", level = 10}, {skill = "b", level = 11}]\n'
    )
    assert exc.column == "criteria.skill_coverage.rules.1.level"
    assert exc.message == "level 11 is outside the skill scale 0-10"


@pytest.mark.parametrize("when", ["1899-12-31", "2200-01-01", "9999-12-31", "0001-01-01"])
def test_reference_date_outside_the_supported_weeks(when: str) -> None:
    exc = parse_error(f"[team]\nsize = 4\n[criteria.overlap]\nreference_date = {when}\n")
    assert exc.column == "criteria.overlap.reference_date"
    assert exc.row == 4
    assert "outside 1900-01-01 to 2199-12-31" in exc.message


def test_reference_date_at_the_ends_of_the_range_and_as_a_string() -> None:
    for when in ("1900-01-01", "2199-12-31", '"2026-03-30"'):
        model = FormationModel.from_toml_text(
            f"[team]\nsize = 4\n[criteria.overlap]\nreference_date = {when}\n"
        )
        assert model.criteria.overlap is not None
        assert model.criteria.overlap.reference_date is not None


def test_nesting_is_measured_outside_strings_and_comments() -> None:
    brackets = "[" * 200
    model = FormationModel.from_toml_text(
        f"description = \"\\\"{brackets}\"\n# {brackets}\nname = '''{brackets}'''\n"
        '[team]\nsize = 4\n[[criteria.category]]\ncolumn = "role"\nrule = "cluster"\n'
        'values = ["a", "b"]\n'
    )
    assert model.description == '"' + brackets
    assert model.name == brackets


@pytest.mark.parametrize(
    "bomb", ["x = " + "[" * 40 + "]" * 40, "x = " + "{a = " * 40 + "1" + "}" * 40]
)
def test_nesting_beyond_the_limit(bomb: str) -> None:
    exc = parse_error(f"{bomb}\n[team]\nsize = 4\n")
    assert "nested 40 deep (at most 32)" in exc.message


def test_model_file_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("[team]\nsize = 4\n" + "#" * 1_000_001 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        FormationModel.from_toml(path)
    assert info.value.file == str(path)
    assert "larger than 1000000 bytes" in info.value.message
