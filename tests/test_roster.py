"""Tests for teamform.roster: the CSV loader, pair lists and Roster.from_records.

Rosters are written by the tests into ``tmp_path``; the header is row 1, so the
n-th learner of a file without blank lines is on row n + 1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from teamform import FormationModel, InputError, Roster, build_instance, load_roster
from teamform import roster as roster_module
from teamform.roster import load_pairs

HEADER = ["id", "name", "timezone", "availability", "skill_code", "skill_text", "motivation"]


def rows(n: int = 6) -> list[dict[str, str]]:
    """``n`` valid learners L1..Ln, all free on weekday evenings in Paris."""
    return [
        {
            "id": f"L{i}",
            "name": f"Learner {i}",
            "timezone": "Europe/Paris",
            "availability": "Mon-Fri 18:00-21:00",
            "skill_code": str(1 + i % 5),
            "skill_text": str(1 + (2 * i) % 5),
            "motivation": "intrinsic" if i % 2 else "imposed",
        }
        for i in range(1, n + 1)
    ]


def write_roster(
    path: Path,
    records: list[dict[str, str]],
    header: list[str] | None = None,
    delimiter: str = ",",
) -> Path:
    header = header or list(records[0])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    return path


def small_model(**team: int) -> FormationModel:
    spec = team or {"size": 2}
    return FormationModel.model_validate(
        {
            "team": spec,
            "skills": {"min": 1, "max": 5},
            "criteria": {
                "skill_balance": {"weight": 1},
                "motivation": {"weight": 1},
                "overlap": {"weight": 1, "hours": 1, "reference_date": "2026-01-12"},
            },
        }
    )


def load_error(path: Path, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as info:
        load_roster(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def assert_located(exc: InputError, file: Path | str, row: int | None, column: str | None) -> None:
    assert exc.file == str(file)
    assert exc.row == row
    assert exc.column == column
    text = str(exc)
    assert "\n" not in text
    assert text.startswith(str(file))
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text


# --------------------------------------------------------------------------- loading


def test_load_plain_roster(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    roster = load_roster(path)
    assert roster.ids == ["L1", "L2", "L3", "L4", "L5", "L6"]
    assert roster.skill_names == ["code", "text"]
    assert roster.learners[0].skills == {"code": 2.0, "text": 3.0}
    assert roster.learners[0].motivation == "intrinsic"
    assert roster.learners[1].motivation == "imposed"
    assert [lr.row for lr in roster.learners] == [2, 3, 4, 5, 6, 7]
    assert roster.source == str(path)


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    plain = write_roster(tmp_path / "plain.csv", rows())
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    roster = load_roster(bom)
    assert roster.ids == load_roster(plain).ids
    assert "id" not in roster.category_names
    assert not any(name.startswith("\ufeff") for name in roster.category_names)


def test_semicolon_delimiter_and_decimal_comma(tmp_path: Path) -> None:
    records = rows()
    records[0]["availability"] = "Mon-Fri 18:00-21:00; Sat 09:00-12:00"
    records[1]["skill_code"] = "3,5"
    path = write_roster(tmp_path / "roster.csv", records, delimiter=";")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ";".join(HEADER)
    roster = load_roster(path)
    assert roster.ids == [r["id"] for r in records]
    assert roster.learners[0].availability == "Mon-Fri 18:00-21:00; Sat 09:00-12:00"
    assert roster.learners[1].skills["code"] == 3.5


def test_quoted_fields(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        ",".join(HEADER) + "\n"
        '"L1","Doe, Jane",Europe/Paris,"Mon-Fri 18:00-21:00; Sat 09:00-12:00",2,3,intrinsic\n'
        'L2,"Said ""Sam"" Ali",Europe/Paris,Mon-Fri 18:00-21:00,4,5,"imposed"\n',
        encoding="utf-8",
    )
    roster = load_roster(path)
    assert roster.ids == ["L1", "L2"]
    assert roster.learners[0].name == "Doe, Jane"
    assert roster.learners[0].availability == "Mon-Fri 18:00-21:00; Sat 09:00-12:00"
    assert roster.learners[1].name == 'Said "Sam" Ali'
    assert roster.learners[1].motivation == "imposed"


def test_blank_lines_are_skipped_and_rows_keep_their_line(tmp_path: Path) -> None:
    good = write_roster(tmp_path / "good.csv", rows(3)).read_text(encoding="utf-8")
    lines = good.splitlines()
    path = tmp_path / "roster.csv"
    # header, blank, L1, blank, blank, L2, ",,," (empty cells), L3, trailing blank
    path.write_text(
        "\n".join([lines[0], "", lines[1], "", "  ", lines[2], ",,,", lines[3], "", ""]),
        encoding="utf-8",
    )
    roster = load_roster(path)
    assert roster.ids == ["L1", "L2", "L3"]
    assert [lr.row for lr in roster.learners] == [3, 6, 8]


def test_blank_lines_do_not_shift_error_rows(tmp_path: Path) -> None:
    records = rows(3)
    records[2]["timezone"] = "Mars/Olympus_Mons"
    lines = write_roster(tmp_path / "tmp.csv", records).read_text(encoding="utf-8").splitlines()
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([lines[0], lines[1], "", "", lines[2], lines[3]]) + "\n")
    exc = load_error(path)
    assert_located(exc, path, 6, "timezone")


def test_column_mapping_renames_headers(tmp_path: Path) -> None:
    theirs = {"id": "Student ID", "timezone": "Time zone", "motivation": "Why here"}
    records = [{theirs.get(k, k): v for k, v in r.items()} for r in rows()]
    path = write_roster(tmp_path / "roster.csv", records)
    plain = load_roster(write_roster(tmp_path / "plain.csv", rows()))
    roster = load_roster(path, columns=theirs)
    assert roster.ids == plain.ids
    assert [lr.timezone for lr in roster.learners] == [lr.timezone for lr in plain.learners]
    assert [lr.motivation for lr in roster.learners] == [lr.motivation for lr in plain.learners]
    assert roster.category_names == []


def test_column_mapping_from_model_toml(tmp_path: Path) -> None:
    model = FormationModel.from_toml_text(
        '[team]\nsize = 2\n\n[roster.columns]\nid = "Student ID"\n', source="m.toml"
    )
    assert model.roster.columns == {"id": "Student ID"}
    records = [{("Student ID" if k == "id" else k): v for k, v in r.items()} for r in rows()]
    path = write_roster(tmp_path / "roster.csv", records)
    roster = load_roster(path, columns=model.roster.columns)
    assert roster.ids[:2] == ["L1", "L2"]


def test_column_mapping_naming_an_absent_header(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    exc = load_error(path, columns={"id": "Student ID"})
    assert_located(exc, path, 1, "Student ID")
    assert "[roster.columns]" in exc.message


def test_errors_after_column_mapping_name_the_files_header(tmp_path: Path) -> None:
    theirs = {"id": "Student ID", "timezone": "Time zone"}
    records = rows()
    records[1]["timezone"] = "Nowhere/Land"
    records = [{theirs.get(k, k): v for k, v in r.items()} for r in records]
    path = write_roster(tmp_path / "roster.csv", records)
    exc = load_error(path, columns=theirs)
    assert_located(exc, path, 3, "Time zone")


def test_categories_and_participation(tmp_path: Path) -> None:
    records = rows(4)
    for i, r in enumerate(records):
        r["language"] = "en" if i % 2 else "fr"
        r["participation"] = str(20 * i)
        r["section"] = ""
    path = write_roster(tmp_path / "roster.csv", records)
    roster = load_roster(path)
    assert roster.category_names == ["language"]
    assert roster.learners[1].attributes == {"language": "en"}
    assert [lr.participation for lr in roster.learners] == [0, 20, 40, 60]
    assert all(lr.section is None for lr in roster.learners)


# ------------------------------------------------------------------- pair lists


def test_pair_files_and_pair_columns(tmp_path: Path) -> None:
    records = rows()
    for r in records:
        r["avoid"] = ""
        r["prefer"] = ""
    records[0]["avoid"] = "L2"
    records[2]["prefer"] = "L4; L5"
    path = write_roster(tmp_path / "roster.csv", records)
    avoid = tmp_path / "avoid.csv"
    avoid.write_text("id_a,id_b\nL6,L3\nL2,L1\n", encoding="utf-8")
    prefer = tmp_path / "prefer.csv"
    prefer.write_text("L6,L5\n", encoding="utf-8")  # no header
    roster = load_roster(path, avoid=avoid, prefer=prefer)
    assert set(roster.avoid) == {("L1", "L2"), ("L3", "L6")}
    assert len(roster.avoid) == 2  # L1,L2 given twice, kept once
    assert set(roster.prefer) == {("L3", "L4"), ("L3", "L5"), ("L5", "L6")}


def test_load_pairs_rows(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("id_a,id_b\n\nL1,L2\nL3 , L4\n", encoding="utf-8")
    assert load_pairs(path) == [("L1", "L2", 3), ("L3", "L4", 4)]


def test_pair_row_with_one_id(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("id_a,id_b\nL1,L2\nL3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_pairs(path)
    assert_located(info.value, path, 3, None)


@pytest.mark.parametrize("kind", ["avoid", "prefer"])
def test_unknown_id_in_pair_file(tmp_path: Path, kind: str) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    pairs = tmp_path / f"{kind}.csv"
    pairs.write_text("id_a,id_b\nL1,L2\nL3,L99\n", encoding="utf-8")
    exc = load_error(path, **{kind: pairs})
    assert_located(exc, pairs, 3, "id_b")
    assert "unknown learner id 'L99'" in exc.message


@pytest.mark.parametrize("kind", ["avoid", "prefer"])
def test_unknown_id_in_pair_column(tmp_path: Path, kind: str) -> None:
    records = rows()
    for r in records:
        r[kind] = ""
    records[3][kind] = "L1;L42"
    path = write_roster(tmp_path / "roster.csv", records)
    exc = load_error(path)
    assert_located(exc, path, 5, kind)
    assert "L42" in exc.message


def test_learner_paired_with_itself_in_file(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    pairs = tmp_path / "avoid.csv"
    pairs.write_text("L1,L2\nL4,L4\n", encoding="utf-8")
    exc = load_error(path, avoid=pairs)
    assert_located(exc, pairs, 2, "id_b")
    assert "itself" in exc.message


def test_learner_paired_with_itself_in_column(tmp_path: Path) -> None:
    records = rows()
    for r in records:
        r["prefer"] = ""
    records[2]["prefer"] = "L3"
    path = write_roster(tmp_path / "roster.csv", records)
    exc = load_error(path)
    assert_located(exc, path, 4, "prefer")
    assert "itself" in exc.message


def test_preferred_pair_that_is_also_avoided(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    avoid = tmp_path / "avoid.csv"
    avoid.write_text("id_a,id_b\nL1,L2\n", encoding="utf-8")
    prefer = tmp_path / "prefer.csv"
    prefer.write_text("id_a,id_b\nL3,L4\nL2,L1\n", encoding="utf-8")
    exc = load_error(path, avoid=avoid, prefer=prefer)
    assert exc.file == str(prefer)
    assert exc.row == 3
    assert "both an avoid pair and a preferred pair" in exc.message


def test_preferred_pair_that_is_also_avoided_in_columns(tmp_path: Path) -> None:
    records = rows()
    for r in records:
        r["avoid"] = ""
        r["prefer"] = ""
    records[0]["avoid"] = "L5"
    records[4]["prefer"] = "L1"
    path = write_roster(tmp_path / "roster.csv", records)
    exc = load_error(path)
    assert_located(exc, path, 6, "prefer")
    assert "both an avoid pair and a preferred pair" in exc.message


# ------------------------------------------------------------------- cell errors


@pytest.mark.parametrize(
    ("index", "column", "value", "fragment"),
    [
        (0, "id", "", "empty id"),
        (1, "timezone", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        (2, "availability", "Funday 18:00-21:00", "unknown day 'Funday'"),
        (2, "availability", "Mon 25:00-26:00", "25:00"),
        (3, "skill_code", "high", "skill level 'high' is not a number"),
        (3, "skill_text", "", "skill level is missing"),
        (3, "skill_text", "nan", "bad skill level"),
        (4, "motivation", "bored", "unknown motivation 'bored'"),
    ],
)
def test_bad_cell(tmp_path: Path, index: int, column: str, value: str, fragment: str) -> None:
    records = rows()
    records[index][column] = value
    path = write_roster(tmp_path / "roster.csv", records)
    exc = load_error(path)
    assert_located(exc, path, index + 2, column)
    assert fragment in exc.message


def test_motivation_is_case_insensitive(tmp_path: Path) -> None:
    records = rows(2)
    records[0]["motivation"] = "Intrinsic"
    records[1]["motivation"] = "IMPOSED"
    roster = load_roster(write_roster(tmp_path / "roster.csv", records))
    assert [lr.motivation for lr in roster.learners] == ["intrinsic", "imposed"]


def test_duplicate_id(tmp_path: Path) -> None:
    records = rows()
    records[4]["id"] = "L2"
    path = write_roster(tmp_path / "roster.csv", records)
    exc = load_error(path)
    assert_located(exc, path, 6, "id")
    assert "duplicate id 'L2' (first on row 3)" in exc.message


@pytest.mark.parametrize("column", ["id"])
def test_missing_required_column(tmp_path: Path, column: str) -> None:
    header = [h for h in HEADER if h != column]
    path = write_roster(tmp_path / "roster.csv", rows(), header=header)
    exc = load_error(path)
    assert_located(exc, path, 1, column)
    assert "required column is missing" in exc.message


def test_header_column_twice(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(",".join([*HEADER, "skill_code"]) + "\n", encoding="utf-8")
    exc = load_error(path)
    assert_located(exc, path, 1, "skill_code")


def test_row_with_too_many_cells(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows(2))
    with path.open("a", encoding="utf-8") as fh:
        fh.write("L3,x,Europe/Paris,Mon 18:00-19:00,1,1,imposed,extra\n")
    exc = load_error(path)
    assert_located(exc, path, 4, None)


def test_header_only_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(",".join(HEADER) + "\n\n", encoding="utf-8")
    exc = load_error(path)
    assert exc.file == str(path)
    assert "no learners" in exc.message


def test_zero_byte_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"")
    exc = load_error(path)
    assert exc.file == str(path)
    assert "empty" in exc.message


def test_missing_roster_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    exc = load_error(path)
    assert exc.file == str(path)
    assert "not found" in exc.message


def test_missing_pair_file(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    exc = load_error(path, avoid=tmp_path / "nope.csv")
    assert exc.file == str(tmp_path / "nope.csv")
    assert "not found" in exc.message


def test_roster_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    text = write_roster(tmp_path / "tmp.csv", rows(2)).read_text(encoding="utf-8")
    path.write_bytes(text.replace("Learner 2", "Jérôme").encode("latin-1"))
    exc = load_error(path)
    assert exc.file == str(path)
    assert "UTF-8" in exc.message


def test_roster_not_utf8_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    text = write_roster(tmp_path / "tmp.csv", rows(3)).read_text(encoding="utf-8")
    path.write_bytes(text.replace("Learner 2", "Jérôme").encode("cp1252"))
    exc = load_error(path)
    assert exc.file == str(path)
    assert exc.row == 3


def test_blank_line_above_the_header_is_skipped(tmp_path: Path) -> None:
    text = write_roster(tmp_path / "tmp.csv", rows()).read_text(encoding="utf-8")
    path = tmp_path / "roster.csv"
    path.write_text("\n" + text, encoding="utf-8")
    roster = load_roster(path)
    assert roster.ids == [f"L{i}" for i in range(1, 7)]
    assert roster.learners[0].row == 3


def test_pair_file_blank_line_above_the_header(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.csv", rows())
    pairs = tmp_path / "avoid.csv"
    pairs.write_text("\nid_a,id_b\nL1,L2\n", encoding="utf-8")
    assert load_roster(path, avoid=pairs).avoid == (("L1", "L2"),)


# ---------------------------------------------------------------- instance checks


def test_skill_outside_declared_scale(tmp_path: Path) -> None:
    records = rows()
    records[3]["skill_text"] = "7"
    path = write_roster(tmp_path / "roster.csv", records)
    roster = load_roster(path)  # the scale belongs to the model
    with pytest.raises(InputError) as info:
        build_instance(roster, small_model())
    assert_located(info.value, path, 5, "skill_text")
    assert "outside the declared scale 1-5" in info.value.message


def test_team_size_impossible(tmp_path: Path) -> None:
    roster = load_roster(write_roster(tmp_path / "roster.csv", rows(5)))
    with pytest.raises(InputError) as info:
        build_instance(roster, small_model(size=4, min=4, max=4))
    assert "team size impossible" in info.value.message
    assert "5 learners" in info.value.message


# ------------------------------------------------------------------ from_records


def test_from_records_gives_the_same_instance_as_the_csv(tmp_path: Path) -> None:
    records = rows()
    path = write_roster(tmp_path / "roster.csv", records)
    pairs = tmp_path / "avoid.csv"
    pairs.write_text("id_a,id_b\nL1,L3\n", encoding="utf-8")
    prefer = tmp_path / "prefer.csv"
    prefer.write_text("id_a,id_b\nL2,L4\n", encoding="utf-8")
    from_csv = load_roster(path, avoid=pairs, prefer=prefer)

    dicts = [
        {
            "id": r["id"],
            "name": r["name"],
            "timezone": r["timezone"],
            "availability": r["availability"],
            "skills": {"code": int(r["skill_code"]), "text": float(r["skill_text"])},
            "motivation": r["motivation"],
        }
        for r in records
    ]
    from_dicts = Roster.from_records(dicts, avoid=[("L1", "L3")], prefer=[("L2", "L4")])
    assert [lr.row for lr in from_dicts.learners] == [1, 2, 3, 4, 5, 6]

    model = small_model()
    a = build_instance(from_csv, model)
    b = build_instance(from_dicts, model)
    assert a.ids == b.ids
    assert a.skill_names == b.skill_names
    assert np.array_equal(a.skills, b.skills)
    assert np.array_equal(a.intrinsic, b.intrinsic)
    assert a.masks == b.masks
    assert np.array_equal(a.avoid, b.avoid)
    assert np.array_equal(a.prefer, b.prefer)
    assert np.array_equal(a.team_lo, b.team_lo)
    assert np.array_equal(a.team_hi, b.team_hi)
    assert a.k == b.k == 3
    assert [lr.name for lr in from_csv.learners] == [lr.name for lr in from_dicts.learners]


def test_column_reading_gives_the_row_by_row_learners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every kind of cell the fast, column-wise reading handles, against row by row
    path = tmp_path / "roster.csv"
    path.write_text(
        "id;name;email;timezone;availability;skill_code;skill_text;motivation;section;"
        "participation;projects;avoid;prefer;language\n"
        ' L1 ;Ann;a@x.org;europe/paris;Mon-Fri 18:00-21:00;2,5;3;Intrinsic;A;80;"P1; P2";L3;;en\n'
        "L2;Bob;;;Sat 09:00-12:00;4;1;;A;;;;L4;fr\n"
        "\n"
        'L3;"Cy, Jr";c@x.org;America/New_York;"Tue,Thu 18:30-21:30";1;5;imposed;B;0;;L4;;\n'
        "L4;Di;;Asia/Tokyo;;3;3;IMPOSED;B\n",
        encoding="utf-8",
    )
    table = roster_module._read_table(path)
    slow = roster_module._build(
        table.header,
        table.rows(),
        source=str(path),
        avoid=[],
        prefer=[],
        pair_source=str(path),
        timezone="Europe/London",
    )

    def row_by_row(*args: object) -> None:
        raise AssertionError("a valid file is read a column at a time")

    monkeypatch.setattr(roster_module, "_learner", row_by_row)
    fast = load_roster(path, timezone="Europe/London")
    assert [lr.model_dump() for lr in fast.learners] == [lr.model_dump() for lr in slow.learners]
    assert [lr.model_fields_set for lr in fast.learners] == [
        lr.model_fields_set for lr in slow.learners
    ]
    assert (fast.avoid, fast.prefer, fast.columns) == (slow.avoid, slow.prefer, slow.columns)
    first = fast.learners[0]
    assert (first.id, first.timezone, first.skills, first.motivation) == (
        "L1",
        "Europe/Paris",
        {"code": 2.5, "text": 3.0},
        "intrinsic",
    )
    assert (first.participation, first.projects, first.attributes) == (
        80.0,
        ("P1", "P2"),
        {"language": "en"},
    )
    assert fast.learners[1].timezone == "Europe/London"
    assert fast.learners[1].email is None and fast.learners[1].participation is None
    assert [lr.row for lr in fast.learners] == [2, 3, 5, 6]
    assert fast.avoid == (("L1", "L3"), ("L3", "L4"))
    assert fast.prefer == (("L2", "L4"),)


def test_from_records_accepts_pair_lists_in_records() -> None:
    dicts = [dict(r) for r in rows()]
    dicts[0]["avoid"] = ["L2", "L3"]  # type: ignore[assignment]
    roster = Roster.from_records(dicts)
    assert set(roster.avoid) == {("L1", "L2"), ("L1", "L3")}


def test_from_records_errors_name_the_record() -> None:
    dicts = [dict(r) for r in rows()]
    dicts[2]["timezone"] = "Atlantis/Capital"
    with pytest.raises(InputError) as info:
        Roster.from_records(dicts, source="lms export")
    assert_located(info.value, "lms export", 3, "timezone")


def test_from_records_empty() -> None:
    with pytest.raises(InputError) as info:
        Roster.from_records([], source="lms export")
    assert info.value.file == "lms export"
    assert "no learners" in info.value.message


def test_from_records_checks_pairs() -> None:
    with pytest.raises(InputError) as info:
        Roster.from_records(rows(), avoid=[("L1", "L77")])
    assert "L77" in info.value.message


# ------------------------------------------------------------------ size limits


def test_long_cell_names_row_and_column(tmp_path: Path) -> None:
    records = rows()
    records[2]["name"] = "n" * 1_000_001
    exc = load_error(write_roster(tmp_path / "r.csv", records))
    assert_located(exc, tmp_path / "r.csv", 4, "name")
    assert "1000001 characters is too long (at most 1000000)" in exc.message


def test_long_cell_beyond_the_csv_modules_own_cap_is_read(tmp_path: Path) -> None:
    # the csv module stops at 128 KiB a field: a long valid cell must still load
    records = rows()
    records[0]["availability"] = "; ".join(["Mon 18:00-21:00"] * 20_000)
    roster = load_roster(write_roster(tmp_path / "r.csv", records))
    assert len(roster.learners[0].availability) > 131_072


def test_long_header_cell(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_roster(path, rows(), header=[*HEADER, "q" * 10_001])
    exc = load_error(path)
    assert_located(exc, path, 1, None)
    assert "header cell 8 has 10001 characters (at most 10000)" in exc.message


def test_file_size_is_capped(tmp_path: Path) -> None:
    from teamform.roster import read_text

    path = tmp_path / "r.csv"
    path.write_text("x" * 101, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_text(path, limit=100)
    assert "larger than 100 bytes" in info.value.message
    assert read_text(path, limit=101) == "x" * 101


def test_rows_are_where_a_record_starts(tmp_path: Path) -> None:
    records = rows()
    records[0]["name"] = "two\nlines"
    records[2]["availability"] = "Mon 25:00-26:00"
    exc = load_error(write_roster(tmp_path / "r.csv", records))
    # L1 spans lines 2-3, so L3 starts on line 5
    assert_located(exc, tmp_path / "r.csv", 5, "availability")


def test_pair_header_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("note,id_b,id_a\nx,L2,L1\n,L4,L3\n", encoding="utf-8")
    assert load_pairs(path) == [("L1", "L2", 2), ("L3", "L4", 3)]


@pytest.mark.parametrize(
    ("text", "missing"), [("id_a,other\nL1,L2\n", "id_b"), ("ID_B\nL1\n", "id_a")]
)
def test_pair_header_missing_a_column(tmp_path: Path, text: str, missing: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_pairs(path)
    assert_located(info.value, path, 1, missing)
    assert info.value.message == "required column is missing"


def test_pair_cell_too_long(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id_a,id_b\nL1,L2\n" + "x" * 1_000_001 + ",L2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_pairs(path)
    assert_located(info.value, path, 3, "id_a")


def test_column_mapped_onto_a_present_name_wins(tmp_path: Path) -> None:
    records = [{**r, "nickname": f"Nick{k}"} for k, r in enumerate(rows(3))]
    path = write_roster(tmp_path / "roster.csv", records)
    roster = load_roster(path, columns={"name": "nickname"})
    assert [lr.name for lr in roster.learners] == ["Nick0", "Nick1", "Nick2"]
