"""Time-zone answers to IANA zones."""

from __future__ import annotations

import pytest

from teamform.survey.timezones import label_offset, match_timezone


@pytest.mark.parametrize(
    ("label", "zone", "how"),
    [
        ("Europe/Paris", "Europe/Paris", "iana"),
        ("europe/paris", "Europe/Paris", "iana"),
        ("America/New_York", "America/New_York", "iana"),
        ("Eastern: US and Canada [GMT-05:00]", "America/New_York", "place"),
        ("Pacific: US and Canada [GMT-08:00]", "America/Los_Angeles", "place"),
        ("Atlantic: Canada [GMT-04:00]", "America/Halifax", "place"),
        ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata", "place"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York", "place"),
        ("(UTC+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney", "place"),
        ("(GMT+01:00) Brussels, Copenhagen, Madrid, Paris", "Europe/Brussels", "place"),
        ("India Standard Time", "Asia/Kolkata", "place"),
        ("São Paulo", "America/Sao_Paulo", "place"),
        ("tokyo", "Asia/Tokyo", "place"),
        ("GMT+2", "Etc/GMT-2", "offset"),  # POSIX signs: Etc/GMT-2 is UTC+2
        ("UTC-3", "Etc/GMT+3", "offset"),
        ("UTC−07:00", "Etc/GMT+7", "offset"),  # a Unicode minus
        ("+05:45", "Asia/Kathmandu", "offset"),
        ("GMT+0", "GMT+0", "iana"),  # an IANA alias of UTC
        ("UTC+00:00", "UTC", "offset"),
        ("UTC", "UTC", "iana"),
    ],
)
def test_labels_map_to_the_zone_meant(label: str, zone: str, how: str) -> None:
    choice = match_timezone(label)
    assert choice is not None
    assert (choice.zone, choice.how) == (zone, how)


def test_fixed_offsets_are_flagged() -> None:
    choice = match_timezone("GMT+2")
    assert choice is not None and "no summer time" in choice.note
    assert match_timezone("Europe/Paris").note == ""  # type: ignore[union-attr]


def test_a_place_contradicted_by_its_offset_is_reported() -> None:
    choice = match_timezone("Eastern [GMT+03:00]")
    assert choice is not None and choice.zone == "America/New_York"
    assert "UTC+03:00" in choice.note


@pytest.mark.parametrize("label", ["Narnia", "somewhere nice", "GMT+15", "", "   "])
def test_unreadable_labels_give_none(label: str) -> None:
    assert match_timezone(label) is None


def test_overrides_come_first() -> None:
    table = {"Central": "Europe/Berlin", "Home": "Asia/Manila"}
    assert match_timezone("central", table).zone == "Europe/Berlin"  # type: ignore[union-attr]
    assert match_timezone("Home", table).zone == "Asia/Manila"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("label", "minutes"),
    [("[GMT-05:00]", -300), ("UTC+5:30", 330), ("GMT+2", 120), ("UTC", 0), ("+09", 540)],
)
def test_label_offset(label: str, minutes: int) -> None:
    assert label_offset(label) == minutes


def test_numbers_in_place_names_are_not_offsets() -> None:
    assert label_offset("Room 5-2") is None
