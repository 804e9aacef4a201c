"""Compiling a roster and a model: a pure function of its inputs."""

from __future__ import annotations

from datetime import date

import pytest

from teamform import FormationModel, Roster, build_instance
from teamform.availability import SLOT_MINUTES
from teamform.instance import DEFAULT_REFERENCE_DATE

WINTER, SUMMER = date(2026, 1, 12), date(2026, 7, 13)


def _roster() -> Roster:
    # 09:00-10:00 in Paris: 08:00 UTC in winter, 07:00 UTC in summer
    return Roster.from_records(
        [
            {"id": x, "timezone": "Europe/Paris", "availability": "Mon 09:00-10:00"}
            for x in ("a", "b")
        ]
    )


def _model(reference_date: date | None = None) -> FormationModel:
    overlap: dict[str, object] = {"weight": 1}
    if reference_date is not None:
        overlap["reference_date"] = reference_date
    return FormationModel.from_dict({"team": {"size": 2}, "criteria": {"overlap": overlap}})


def test_the_week_is_an_input_not_the_clock() -> None:
    winter = build_instance(_roster(), _model(), today=WINTER)
    summer = build_instance(_roster(), _model(), today=SUMMER)
    assert (winter.reference_date, summer.reference_date) == (WINTER, SUMMER)
    assert winter.masks[0] != summer.masks[0]  # daylight-saving time moved the hour
    assert winter.masks[0] == summer.masks[0] << (60 // SLOT_MINUTES)  # by one hour


def test_the_model_week_wins_and_a_fixed_week_stands_in_for_none() -> None:
    fixed = build_instance(_roster(), _model(WINTER), today=SUMMER)
    assert fixed.reference_date == WINTER
    undated = build_instance(_roster(), _model())
    assert undated.reference_date == DEFAULT_REFERENCE_DATE
    assert undated.masks == build_instance(_roster(), _model(), today=DEFAULT_REFERENCE_DATE).masks


@pytest.mark.parametrize("today", [WINTER, SUMMER])
def test_same_inputs_same_instance(today: date) -> None:
    a = build_instance(_roster(), _model(), today=today)
    b = build_instance(_roster(), _model(), today=today)
    assert a.masks == b.masks and a.reference_date == b.reference_date
