"""Availability grid cells to local intervals and teamform windows."""

from __future__ import annotations

import pytest

from teamform.availability import parse_availability
from teamform.survey.grid import (
    GridCellError,
    grid_day,
    infer_slot_minutes,
    parse_cell,
    subtract,
    windows_text,
)

H = 60


@pytest.mark.parametrize(
    ("cell", "slot", "expected"),
    [
        (
            "8AM;9AM;noon;1PM",
            60,
            [(8 * H, 9 * H), (9 * H, 10 * H), (12 * H, 13 * H), (13 * H, 14 * H)],
        ),
        ("8:30 AM;9 am", 30, [(8 * H + 30, 9 * H), (9 * H, 9 * H + 30)]),
        ("Morning, Evening", 60, [(8 * H, 12 * H), (17 * H, 21 * H)]),
        ("Morning;Evening;", 60, [(8 * H, 12 * H), (17 * H, 21 * H)]),  # Microsoft Forms
        ("9:00 AM - 10:00 AM", 60, [(9 * H, 10 * H)]),
        ("9-11am", 60, [(9 * H, 11 * H)]),
        ("11-1pm", 60, [(11 * H, 13 * H)]),
        ("10PM-1AM", 60, [(22 * H, 25 * H)]),
        ("14:00;14:30", 30, [(14 * H, 14 * H + 30), (14 * H + 30, 15 * H)]),
        ("midnight;12AM;12PM", 60, [(0, H), (0, H), (12 * H, 13 * H)]),
        ("11PM", 60, [(23 * H, 24 * H)]),
        ("", 60, []),
        ("None", 60, []),
    ],
)
def test_cells(cell: str, slot: int, expected: list[tuple[int, int]]) -> None:
    assert parse_cell(cell, slot_minutes=slot) == expected


def test_periods_can_be_redefined() -> None:
    periods = {"Morning": "09:00-11:00", "Lunch": "12:00-13:30"}
    assert parse_cell("morning; lunch", slot_minutes=60, periods=periods) == [
        (9 * H, 11 * H),
        (12 * H, 13 * H + 30),
    ]


@pytest.mark.parametrize("cell", ["8XM", "13PM", "25:00", "9AM;sometimes", "Brunch"])
def test_bad_labels_name_the_label(cell: str) -> None:
    with pytest.raises(GridCellError, match="is not a time slot"):
        parse_cell(cell, slot_minutes=60)


def test_slot_length_is_inferred_from_the_labels() -> None:
    assert infer_slot_minutes(["8AM;9AM", "10AM"]) == 60
    assert infer_slot_minutes(["8AM;8:30AM", "9AM"]) == 30
    assert infer_slot_minutes(["8AM;1:30PM"]) == 60  # far apart: still hourly
    assert infer_slot_minutes(["Morning"]) == 60


def test_grid_day_from_header() -> None:
    assert grid_day("Check the times that you are UNAVAILABLE for group work. [Monday]") == 0
    assert grid_day("When are you free to meet? - Thursday") == 3
    assert grid_day("Which times suit you on Sun?") == 6
    assert grid_day("Which time zone are you in?") is None


def test_busy_ticks_leave_the_rest_of_the_span_free() -> None:
    assert subtract([(8 * H, 23 * H)], [(9 * H, 11 * H), (12 * H, 13 * H)]) == [
        (8 * H, 9 * H),
        (11 * H, 12 * H),
        (13 * H, 23 * H),
    ]
    assert subtract([(8 * H, 10 * H)], [(7 * H, 11 * H)]) == []


def test_windows_text_is_teamform_grammar() -> None:
    text = windows_text(
        {0: [(8 * H, 9 * H), (9 * H, 10 * H), (13 * H, 14 * H)], 4: [(22 * H, 25 * H)]}
    )
    assert text == "Mon 08:00-10:00; Mon 13:00-14:00; Fri 22:00-01:00"
    windows = parse_availability(text)
    assert sum(w.end - w.start for w in windows) == 6 * H
