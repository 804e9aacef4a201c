"""Hostile and careless values in models, rosters and pair files, through the command line.

Every case ends either in a clean solve that the validator accepts, or with
exit status 2, one ``error: ...`` line naming the file and the key, row or
column at fault, and no output written; never a traceback.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from typer.testing import Result as CliResult

from teamform import FormationModel, build_instance, load_roster
from teamform.cli import app
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.validate import validate

HEADER = ["id", "name", "timezone", "availability", "skill_code", "motivation", "lang"]
runner = CliRunner()


def rows(n: int = 6, availability: str = "Mon-Fri 09:00-17:00") -> list[list[str]]:
    return [
        [
            f"L{i}",
            f"Learner {i}",
            "Europe/Paris" if i % 2 else "America/New_York",
            availability,
            str(1 + i % 5),
            "intrinsic" if i % 2 else "imposed",
            "en" if i % 3 else "fr",
        ]
        for i in range(1, n + 1)
    ]


def write_csv(path: Path, header: list[str], body: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(body)
    return path


MODEL = """\
[team]
size = 2
min = 2

[skills]
min = 1
max = 5
"""

#: Every criterion with a numeric key, so each key's value is used by `form`.
FULL_MODEL = """\
[team]
size = {size}
min = {min}
max = {max}

[skills]
min = {skills_min}
max = {skills_max}

[criteria.skill_balance]
weight = {skill_balance}

[criteria.skill_coverage]
weight = {skill_coverage}
rules = [{{ skill = "code", level = {level} }}]

[criteria.motivation]
weight = {motivation}

[criteria.prefer]
weight = {prefer}

[criteria.overlap]
weight = {overlap}
hours = {hours}
block = {block}

[criteria.participation]
weight = {participation}
low = {low}
high = {high}

[criteria.diversity]
weight = {diversity}
columns = ["skill_code", "lang"]

[[criteria.category]]
column = "lang"
rule = "distribute"
weight = {category}
"""

DEFAULTS: dict[str, object] = {
    "size": 2,
    "min": 2,
    "max": 3,
    "skills_min": 1,
    "skills_max": 5,
    "skill_balance": 1,
    "skill_coverage": 1,
    "level": 4,
    "motivation": 1,
    "prefer": 1,
    "overlap": 1,
    "hours": 2,
    "block": 1,
    "participation": 1,
    "low": 40,
    "high": 70,
    "diversity": 1,
    "category": 1,
}
#: The TOML key each placeholder fills, as errors name it.
KEYS = {
    "size": "team.size",
    "min": "team.min",
    "max": "team.max",
    "skills_min": "skills.min",
    "skills_max": "skills.max",
    "level": "criteria.skill_coverage.rules.0.level",
    "hours": "criteria.overlap.hours",
    "block": "criteria.overlap.block",
    "low": "criteria.participation.low",
    "high": "criteria.participation.high",
    **{
        k: f"criteria.{k}.weight"
        for k in (
            "skill_balance",
            "skill_coverage",
            "motivation",
            "prefer",
            "overlap",
            "participation",
            "diversity",
        )
    },
    "category": "criteria.category.0.weight",
}


def toml_value(value: object) -> str:
    """A Python number (or string) as a TOML literal."""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def full_model(**values: object) -> str:
    merged = {**DEFAULTS, **values}
    return FULL_MODEL.format(**{k: toml_value(v) for k, v in merged.items()})


class Case:
    """The files of one run and the outputs that must not appear on error."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self.out = tmp / "out" / "teams.csv"
        self.json = tmp / "out" / "result.json"
        self.roster = write_csv(tmp / "roster.csv", HEADER, rows())

    def model(self, text: str = MODEL) -> Path:
        path = self.dir / "model.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, command: str, roster: Path, model: Path, *extra: object) -> CliResult:
        args: list[object] = [command, roster, "--model", model, *extra]
        if command == "form":
            args += ["--time-limit", "1", "--out", self.out, "--json", self.json]
        return runner.invoke(app, [str(a) for a in args])

    def assert_error(self, result: CliResult, *fragments: str) -> str:
        """Exit 2, one stderr line holding every fragment, no traceback, nothing written."""
        assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.stdout + result.stderr
        lines = result.stderr.strip("\n").splitlines()
        assert len(lines) == 1, result.stderr
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        assert not self.out.exists() and not self.json.exists()
        return lines[0]


@pytest.fixture
def case(tmp_path: Path) -> Case:
    return Case(tmp_path)


COMMANDS = ["check", "form"]


# ------------------------------------------------------------------ model values


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("inf", "finite"),
        ("-inf", "finite"),
        ("nan", "finite"),
        ("1e15", "out of range"),
        ("1e30", "out of range"),
        ("1e308", "out of range"),
        ("1e-30", "out of range"),
    ],
)
def test_weights_outside_the_usable_range(
    case: Case, command: str, value: str, fragment: str
) -> None:
    model = case.model(MODEL + f"[criteria.skill_balance]\nweight = {value}\n")
    line = case.assert_error(
        case.run(command, case.roster, model),
        "model.toml",
        "column 'criteria.skill_balance.weight'",
        fragment,
    )
    if fragment == "out of range":
        assert re.search(r"use 0 \(off\) or [0-9.e+-]+ to [0-9.e+-]+", line), line


@pytest.mark.parametrize("strategy", ["exact", "lns"])
def test_the_stated_weight_range_is_the_real_one(case: Case, strategy: str) -> None:
    """Just inside the range the error states, `form` solves; just outside, it refuses."""
    model = case.model(MODEL + "[criteria.skill_balance]\nweight = 1e30\n")
    line = case.assert_error(case.run("check", case.roster, model))
    low, high = (float(x) for x in re.findall(r"or ([0-9.e+-]+) to ([0-9.e+-]+)", line)[0])
    for weight, ok in (
        (high * 0.9, True),
        (high * 1.2, False),
        (low * 1.1, True),
        (low / 3, False),
    ):
        model = case.model(MODEL + f"[criteria.skill_balance]\nweight = {weight!r}\n")
        for command in COMMANDS:
            extra = ["--strategy", strategy] if command == "form" else []
            result = case.run(command, case.roster, model, *extra)
            assert result.exit_code == (0 if ok else 2), (weight, result.stdout, result.stderr)
            if ok and command == "form":
                data = json.loads(case.json.read_text(encoding="utf-8"))
                assert data["valid"] and data["status"] in ("optimal", "feasible")
        case.out.unlink(missing_ok=True)
        case.json.unlink(missing_ok=True)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("table", "text", "key", "fragment"),
    [
        ("overlap", "hours = inf", "criteria.overlap.hours", "finite"),
        ("overlap", "hours = 1e30", "criteria.overlap.hours", "less than or equal to 168"),
        ("overlap", "block = inf", "criteria.overlap.block", "finite"),
        ("overlap", "block = 1e30", "criteria.overlap.block", "less than or equal to 168"),
        (
            "skill_coverage",
            'rules = [{skill = "code", level = inf}]',
            "criteria.skill_coverage.rules.0.level",
            "finite",
        ),
        (
            "skill_coverage",
            'rules = [{skill = "code", level = nan}]',
            "criteria.skill_coverage.rules.0.level",
            "finite",
        ),
        (
            "skill_coverage",
            'rules = [{skill = "code", level = 3}, {skill = "code", level = 1e30}]',
            "criteria.skill_coverage.rules.1.level",
            "outside the skill scale 1-5",
        ),
        (
            "overlap",
            "reference_date = 9999-12-31",
            "criteria.overlap.reference_date",
            "outside 1900-01-01 to 2199-12-31",
        ),
    ],
)
def test_overlap_coverage_and_dates_are_bounded(
    case: Case, command: str, table: str, text: str, key: str, fragment: str
) -> None:
    model = case.model(MODEL + f"[criteria.{table}]\n{text}\n")
    case.assert_error(case.run(command, case.roster, model), "model.toml", f"'{key}'", fragment)


@pytest.mark.parametrize("command", COMMANDS)
def test_reference_date_option_is_bounded(case: Case, command: str) -> None:
    model = case.model(MODEL + "[criteria.overlap]\n")
    result = case.run(command, case.roster, model, "--reference-date", "9999-12-31")
    case.assert_error(result, "--reference-date", "outside 1900-01-01 to 2199-12-31")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (str(2**70), "less than or equal to 1000000"),
        ("1000000000000", "less than or equal to 1000000"),
        ('"4"', "valid integer"),
        ("true", "valid integer"),
        ("0", "greater than or equal to 1"),
    ],
)
def test_team_size_is_a_whole_number_in_range(
    case: Case, command: str, value: str, fragment: str
) -> None:
    model = case.model(f"[team]\nsize = {value}\n")
    case.assert_error(case.run(command, case.roster, model), "'team.size'", fragment)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "bomb", ["[" * 100_000 + "]" * 100_000, "{a=" * 20_000 + "1" + "}" * 20_000]
)
def test_deeply_nested_toml(case: Case, command: str, bomb: str) -> None:
    model = case.model(MODEL + f"x = {bomb}\n")
    case.assert_error(case.run(command, case.roster, model), "model.toml", "nested")


def test_model_from_a_device_is_refused(case: Case) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    case.assert_error(case.run("check", case.roster, Path("/dev/zero")), "larger than")


# ------------------------------------------------------------------ roster and pair files


@pytest.mark.parametrize("command", COMMANDS)
def test_fifty_megabyte_header_field(case: Case, command: str) -> None:
    roster = write_csv(case.dir / "wide.csv", [*HEADER, "q" * 50_000_000], rows())
    case.assert_error(case.run(command, roster, case.model()), "wide.csv", "row 1", "header cell 8")


@pytest.mark.parametrize("command", COMMANDS)
def test_ten_megabyte_field_names_its_column(case: Case, command: str) -> None:
    body = rows()
    body[2][1] = "n" * 10_000_000
    roster = write_csv(case.dir / "long.csv", HEADER, body)
    case.assert_error(
        case.run(command, roster, case.model()), "long.csv", "row 4", "column 'name'", "too long"
    )


def test_ten_megabyte_field_in_a_pair_file_names_its_column(case: Case) -> None:
    pairs = case.dir / "prefer.csv"
    pairs.write_text("id_a,id_b\nL1," + "p" * 10_000_000 + "\n", encoding="utf-8")
    result = case.run("form", case.roster, case.model(), "--prefer", pairs)
    case.assert_error(result, "prefer.csv", "row 2", "column 'id_b'", "too long")


def test_ten_thousand_repeated_windows_are_one(case: Case) -> None:
    """A pasted-many-times window is accepted and counts once (the common hours are the same)."""
    many = "; ".join(["Mon 09:00-13:00"] * 10_000)
    results = []
    for availability in (many, "Mon 09:00-13:00"):
        case.roster = write_csv(case.dir / "roster.csv", HEADER, rows(availability=availability))
        model = case.model(MODEL + "[criteria.overlap]\nhours = 3\nreference_date = 2026-01-12\n")
        assert case.run("check", case.roster, model).exit_code == 0
        result = case.run("form", case.roster, model)
        assert result.exit_code == 0, result.stderr
        results.append(json.loads(case.json.read_text(encoding="utf-8")))
    hours = [sorted(t["common_hours"] for t in r["teams"]) for r in results]
    assert hours[0] == hours[1]
    assert hours[0][-1] == 4  # a team in one zone shares the whole window
    assert results[0]["objective"] == results[1]["objective"]


@pytest.mark.parametrize("command", COMMANDS)
def test_quoted_newline_in_an_availability_cell(case: Case, command: str) -> None:
    body = rows()
    body[1][3] = "Mon 09:00-10:00\nTue 10:00-11:00"
    roster = write_csv(case.dir / "nl.csv", HEADER, body)
    line = case.assert_error(
        case.run(command, roster, case.model()), "nl.csv", "row 3", "column 'availability'"
    )
    assert "\\n" in line  # the newline is shown, not printed


def test_newline_in_an_id_or_section_stays_on_one_line(case: Case) -> None:
    pairs = case.dir / "avoid.csv"
    pairs.write_text('id_a,id_b\n"L1\nL2",L3\n', encoding="utf-8")
    case.assert_error(case.run("check", case.roster, case.model(), "--avoid", pairs), "avoid.csv")


@pytest.mark.parametrize("kind", ["avoid", "prefer"])
def test_self_pair_is_the_same_error_for_avoid_and_prefer(case: Case, kind: str) -> None:
    pairs = case.dir / "pairs.csv"
    pairs.write_text("id_a,id_b\nL1,L2\nL3,L3\n", encoding="utf-8")
    model = case.model(MODEL + "[criteria.prefer]\nweight = 1\n")
    line = case.assert_error(case.run("form", case.roster, model, f"--{kind}", pairs))
    assert line.endswith("pairs.csv, row 3, column 'id_b': learner 'L3' is paired with itself")


def test_self_pair_in_the_roster_prefer_column(case: Case) -> None:
    roster = write_csv(
        case.dir / "self.csv",
        [*HEADER, "prefer"],
        [[*r, "L1" if r[0] == "L1" else ""] for r in rows()],
    )
    case.assert_error(
        case.run("check", roster, case.model()),
        "self.csv, row 2, column 'prefer'",
        "learner 'L1' is paired with itself",
    )


@pytest.mark.parametrize(
    ("text", "missing"),
    [("id_a,partner\nL1,L2\n", "id_b"), ("id_a\nL1\n", "id_b"), ("id_b,x\nL1,L2\n", "id_a")],
)
def test_pair_header_without_an_id_column_names_it(case: Case, text: str, missing: str) -> None:
    pairs = case.dir / "prefer.csv"
    pairs.write_text(text, encoding="utf-8")
    case.assert_error(
        case.run("check", case.roster, case.model(), "--prefer", pairs),
        "prefer.csv, row 1",
        f"column '{missing}'",
        "required column is missing",
    )


def test_pair_header_in_any_order_with_extra_columns(case: Case) -> None:
    pairs = case.dir / "prefer.csv"
    pairs.write_text("note,id_b,id_a\nfriends,L2,L1\n", encoding="utf-8")
    result = case.run("check", case.roster, case.model(), "--prefer", pairs)
    assert result.exit_code == 0, result.stderr
    assert "1 preferred pairs" in result.stdout


# ------------------------------------------------------------------ property


def _number(key: str) -> st.SearchStrategy[object]:
    floats = st.floats(allow_nan=True, allow_infinity=True)
    ints = st.integers(min_value=-(2**70), max_value=2**70)
    small = st.integers(min_value=0, max_value=8)
    if key in ("size", "min", "max"):
        return st.one_of(small, ints, floats)
    return st.one_of(floats, ints, small, st.floats(min_value=0, max_value=200))


@st.composite
def model_values(draw: st.DrawFn) -> dict[str, object]:
    keys = draw(st.lists(st.sampled_from(sorted(KEYS)), min_size=1, max_size=3, unique=True))
    return {k: draw(_number(k)) for k in keys}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(values=model_values())
def test_any_number_in_any_model_key_is_an_error_or_a_valid_solve(
    tmp_path: Path, values: dict[str, object]
) -> None:
    case = Case(tmp_path)
    case.out.unlink(missing_ok=True)
    case.json.unlink(missing_ok=True)
    body = [[*r, str(10 * i)] for i, r in enumerate(rows(), start=1)]
    case.roster = write_csv(tmp_path / "roster.csv", [*HEADER, "participation"], body)
    pairs = tmp_path / "prefer.csv"
    pairs.write_text("id_a,id_b\nL1,L2\nL3,L6\n", encoding="utf-8")
    model = case.model(full_model(**values))

    checked = case.run("check", case.roster, model, "--prefer", pairs)
    formed = case.run("form", case.roster, model, "--prefer", pairs)
    for result in (checked, formed):
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    assert checked.exit_code == formed.exit_code, (checked.stderr, formed.stderr)
    if formed.exit_code == 2:
        line = case.assert_error(formed)
        assert "model.toml" in line or "roster.csv" in line, line
        return
    # a solve: the independent validator must agree with what was reported
    data = json.loads(case.json.read_text(encoding="utf-8"))
    mod = FormationModel.from_toml(model)
    inst = build_instance(load_roster(case.roster, prefer=pairs), mod)
    terms = build_terms(inst)
    assignment = [data["assignment"][lid] - 1 for lid in inst.ids]
    check = validate(inst, assignment, terms)
    assert check.ok and data["valid"], check.violations
    assert check.objective == round(data["objective"] * OBJECTIVE_SCALE)


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--seed", str(2**70), "outside 0-2147483647"),
        ("--seed", "-1", "outside 0-2147483647"),
        ("--workers", str(10**12), "outside 1-256"),
        ("--workers", "100000", "outside 1-256"),
    ],
)
def test_seed_and_workers_cp_sat_cannot_take(
    case: Case, option: str, value: str, fragment: str
) -> None:
    result = case.run("form", case.roster, case.model(), option, value)
    case.assert_error(result, option, fragment)
