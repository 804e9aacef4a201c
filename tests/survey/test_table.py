"""Tests for teamform.survey.table: survey exports are held to the roster's cell limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamform.errors import InputError
from teamform.survey.table import read_table


def test_a_long_survey_answer_names_its_column(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(
        "Timestamp,Your name,Comments\n2026-01-05 10:00,Ana,ok\n2026-01-05 10:01,Ben,"
        + "c" * 1_000_001
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_table(path)
    assert (info.value.row, info.value.column) == (3, "Comments")
    assert "too long" in info.value.message


def test_a_long_answer_beyond_the_csv_modules_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text("Your name,Comments\nAna," + "c" * 200_000 + "\n", encoding="utf-8")
    table = read_table(path)
    assert len(table.rows[0][1][1]) == 200_000


def test_a_long_header_cell(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text("Your name," + "q" * 10_001 + "\nAna,x\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.row == 1
    assert "header cell 2 has 10001 characters" in info.value.message
