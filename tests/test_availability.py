"""Tests for teamform.availability.

Slot arithmetic used throughout: slot = day * 96 + hour * 4 + minute // 15,
counted in UTC from Monday 00:00 of the reference week (672 slots a week).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import date, datetime

import pytest

from teamform import availability
from teamform.availability import (
    ACCEPTED_FORM,
    FULL_WEEK_MASK,
    SLOT_MINUTES,
    SLOTS_PER_WEEK,
    AvailabilityError,
    IndexedAvailabilityError,
    Window,
    availability_masks,
    block_mask,
    canonical_timezone,
    common_block_slots,
    format_local_windows,
    is_valid_timezone,
    mask_to_utc_windows,
    parse_availability,
    reference_week_start,
    slots_to_hours,
    weekly_mask,
)

# Reference weeks of 2026 (the date given is a Wednesday unless said otherwise).
WINTER = date(2026, 1, 14)  # week of Mon 12 Jan: Paris UTC+1, New York UTC-5
SUMMER = date(2026, 7, 15)  # week of Mon 13 Jul: Paris UTC+2
US_ONLY_DST = date(2026, 3, 9)  # Monday; US switched on 8 Mar, EU switches on 29 Mar
BOTH_DST = date(2026, 3, 30)  # Monday after the EU switch
US_SPRING_WEEK = date(2026, 3, 2)  # Monday; week ends Sun 8 Mar, when New York springs forward
US_FALL_WEEK = date(2026, 10, 26)  # Monday; week ends Sun 1 Nov, when New York falls back


def slots(first: int, last: int) -> int:
    """Mask with slots first .. last - 1 set (no wrap)."""
    return ((1 << (last - first)) - 1) << first


def mask_for(timezone: str, text: str, reference_date: date) -> int:
    return weekly_mask(timezone, parse_availability(text), reference_date)


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------


def test_slot_constants() -> None:
    assert SLOT_MINUTES == 15
    assert SLOTS_PER_WEEK == 672
    assert FULL_WEEK_MASK.bit_count() == 672
    assert FULL_WEEK_MASK.bit_length() == 672


# ---------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------


def test_single_day_and_times() -> None:
    assert parse_availability("Mon 18:00-21:00") == [Window(0, 1080, 1260)]
    assert parse_availability("Sun 9:05-9:50") == [Window(6, 545, 590)]


def test_day_names_are_case_insensitive_and_may_be_full() -> None:
    expected = [Window(2, 600, 660)]
    for text in (
        "wed 10:00-11:00",
        "WED 10:00-11:00",
        "Wednesday 10:00-11:00",
        "wEdNeSdAy 10:00-11:00",
    ):
        assert parse_availability(text) == expected


def test_day_range() -> None:
    assert parse_availability("Tue-Thu 08:00-09:00") == [
        Window(1, 480, 540),
        Window(2, 480, 540),
        Window(3, 480, 540),
    ]


def test_day_range_wraps_over_the_weekend() -> None:
    assert parse_availability("Sat-Mon 10:00-11:00") == [
        Window(0, 600, 660),
        Window(5, 600, 660),
        Window(6, 600, 660),
    ]


def test_day_list_may_mix_days_and_ranges() -> None:
    assert parse_availability("Mon, Wed-Thu ,Sunday 07:00-07:30") == [
        Window(0, 420, 450),
        Window(2, 420, 450),
        Window(3, 420, 450),
        Window(6, 420, 450),
    ]


@pytest.mark.parametrize(
    ("keyword", "days"),
    [("daily", [0, 1, 2, 3, 4, 5, 6]), ("weekdays", [0, 1, 2, 3, 4]), ("Weekends", [5, 6])],
)
def test_day_keywords(keyword: str, days: list[int]) -> None:
    assert parse_availability(f"{keyword} 12:00-13:00") == [Window(d, 720, 780) for d in days]


def test_several_windows_sorted_and_deduplicated() -> None:
    text = "Sun 14:00-15:30; Mon-Fri 18:00-21:00 ; Sat 09:00-12:00; Mon 18:00-21:00"
    assert parse_availability(text) == [
        Window(0, 1080, 1260),
        Window(1, 1080, 1260),
        Window(2, 1080, 1260),
        Window(3, 1080, 1260),
        Window(4, 1080, 1260),
        Window(5, 540, 720),
        Window(6, 840, 930),
    ]


def test_window_crossing_midnight_is_split() -> None:
    # Fri 22:00 to Sat 01:00: 120 minutes on Friday, 60 on Saturday.
    assert parse_availability("Fri 22:00-01:00") == [Window(4, 1320, 1440), Window(5, 0, 60)]


def test_sunday_night_continues_on_monday() -> None:
    assert parse_availability("Sun 23:30-00:45") == [Window(0, 0, 45), Window(6, 1410, 1440)]


def test_end_at_midnight() -> None:
    # 24:00 and 00:00 both end the window at midnight; nothing spills over.
    assert parse_availability("Sat 22:00-24:00") == [Window(5, 1320, 1440)]
    assert parse_availability("Sat 22:00-00:00") == [Window(5, 1320, 1440)]
    assert parse_availability("Tue 00:00-24:00") == [Window(1, 0, 1440)]


def test_end_equal_to_start_means_a_whole_day() -> None:
    assert parse_availability("Mon 09:00-09:00") == [Window(0, 540, 1440), Window(1, 0, 540)]


def test_whitespace_and_en_dash_are_tolerated() -> None:
    assert parse_availability("  mon - wed   9:00 - 9:30 ;  ") == [
        Window(0, 540, 570),
        Window(1, 540, 570),
        Window(2, 540, 570),
    ]
    assert parse_availability("Mon 9:00\u201310:00") == [Window(0, 540, 600)]


@pytest.mark.parametrize("text", ["", "   ", "\t\n", ";", " ; ; "])
def test_blank_means_no_availability(text: str) -> None:
    assert parse_availability(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mon-Fry 18:00-21:00", "cannot read 'Mon-Fry 18:00-21:00': unknown day 'Fry'"),
        ("Mo 18:00-21:00", "cannot read 'Mo 18:00-21:00': unknown day 'Mo'"),
        ("Mon", "cannot read 'Mon': missing time range such as 18:00-21:00"),
        ("18:00-21:00", "cannot read '18:00-21:00': missing days before the time range"),
        ("Mon,,Tue 9:00-10:00", "cannot read 'Mon,,Tue 9:00-10:00': missing day in 'Mon,,Tue'"),
        ("Mon- 9:00-10:00", "cannot read 'Mon- 9:00-10:00': incomplete day range 'Mon-'"),
        (
            "Mon 9am-13pm",
            "cannot read 'Mon 9am-13pm': time out of range '13pm' (1-12 before am/pm)",
        ),
        ("Mon 9:00", "cannot read 'Mon 9:00': bad time range '9:00', expected HH:MM-HH:MM"),
        (
            "Mon 9:00-10:00-11:00",
            "cannot read 'Mon 9:00-10:00-11:00': "
            "bad time range '9:00-10:00-11:00', expected HH:MM-HH:MM",
        ),
        (
            "Mon 9:5-10:00",
            "cannot read 'Mon 9:5-10:00': bad time '9:5', expected HH:MM, 6pm or 18h",
        ),
        ("Mon 25:00-26:00", "cannot read 'Mon 25:00-26:00': time out of range '25:00'"),
        ("Mon 9:60-10:00", "cannot read 'Mon 9:60-10:00': time out of range '9:60'"),
        ("Mon 9:00-24:30", "cannot read 'Mon 9:00-24:30': time out of range '24:30'"),
        ("Mon 24:00-01:00", "cannot read 'Mon 24:00-01:00': a window cannot start at '24:00'"),
    ],
)
def test_errors_name_the_bad_token(text: str, message: str) -> None:
    with pytest.raises(AvailabilityError) as caught:
        parse_availability(text)
    # every error ends with the form that is accepted
    assert str(caught.value) == f"{message}; {ACCEPTED_FORM}"
    assert "\n" not in str(caught.value)


def test_error_names_only_the_bad_window() -> None:
    with pytest.raises(AvailabilityError, match=r"^cannot read 'Sat 9:00-1200': "):
        parse_availability("Mon 18:00-21:00; Sat 9:00-1200")


def test_availability_error_is_a_value_error() -> None:
    assert issubclass(AvailabilityError, ValueError)
    assert issubclass(IndexedAvailabilityError, AvailabilityError)


# ---------------------------------------------------------------------------
# Time zones and the reference week
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Paris", "Asia/Kathmandu", "America/Los_Angeles", " Asia/Kolkata "]
)
def test_valid_timezones(name: str) -> None:
    assert is_valid_timezone(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "Mars/Olympus_Mons",
        "europe/paris_",
        "America",
        "../etc/passwd",
        "/etc/localtime",
        "localtime",
        "Europe/Paris\0",
    ],
)
def test_invalid_timezones(name: str) -> None:
    assert not is_valid_timezone(name)


def test_reference_week_start_is_the_monday_on_or_before() -> None:
    assert reference_week_start(date(2026, 1, 14)) == date(2026, 1, 12)  # Wednesday
    assert reference_week_start(date(2026, 1, 12)) == date(2026, 1, 12)  # Monday
    assert reference_week_start(date(2026, 1, 18)) == date(2026, 1, 12)  # Sunday
    assert reference_week_start(date(2026, 1, 1)) == date(2025, 12, 29)  # across a year
    assert reference_week_start(datetime(2026, 1, 14, 23, 59)) == date(2026, 1, 12)


# ---------------------------------------------------------------------------
# Local windows to UTC slots
# ---------------------------------------------------------------------------


def test_utc_windows_map_directly_to_slots() -> None:
    # Tue 18:00-21:00 UTC: 96 + 72 = 168 up to 96 + 84 = 180.
    assert mask_for("UTC", "Tue 18:00-21:00", WINTER) == slots(168, 180)
    assert mask_for("UTC", "", WINTER) == 0


def test_paris_winter_and_summer() -> None:
    # Mon 09:00 Paris is 08:00 UTC in winter (slot 32) and 07:00 UTC in summer (slot 28).
    assert mask_for("Europe/Paris", "Mon 09:00-10:00", WINTER) == slots(32, 36)
    assert mask_for("Europe/Paris", "Mon 09:00-10:00", SUMMER) == slots(28, 32)


def test_quarter_hour_offsets() -> None:
    # Kathmandu +05:45: Mon 09:00-10:00 is 03:15-04:15 UTC, slots 13 to 17.
    assert mask_for("Asia/Kathmandu", "Mon 09:00-10:00", WINTER) == slots(13, 17)
    # Kolkata +05:30: Mon 09:00-10:00 is 03:30-04:30 UTC, slots 14 to 18.
    assert mask_for("Asia/Kolkata", "Mon 09:00-10:00", WINTER) == slots(14, 18)


def test_monday_morning_in_kathmandu_wraps_to_sunday_evening_utc() -> None:
    # Mon 00:00-01:00 +05:45 is Sun 18:15-19:15 UTC of the week before, which the
    # cyclic week places at 6 * 96 + 73 = 649 up to 653.
    assert mask_for("Asia/Kathmandu", "Mon 00:00-01:00", WINTER) == slots(649, 653)


def test_los_angeles_sunday_evening_wraps_to_monday_utc() -> None:
    # Sun 18:00-20:00 PST (UTC-8) is Mon 02:00-04:00 UTC: slots 8 to 16.
    assert mask_for("America/Los_Angeles", "Sun 18:00-20:00", WINTER) == slots(8, 16)
    # Sun 14:00-18:00 PST is Sun 22:00 - Mon 02:00 UTC: slots 664-671 and 0-7.
    expected = slots(664, 672) | slots(0, 8)
    assert mask_for("America/Los_Angeles", "Sun 14:00-18:00", WINTER) == expected


def test_rounding_is_conservative() -> None:
    # 09:05 rounds up to 09:15 (slot 37) and 09:40 down to 09:30 (slot 38).
    assert mask_for("UTC", "Mon 09:05-09:40", WINTER) == slots(37, 38)
    # 09:05-09:20 holds no whole slot.
    assert mask_for("UTC", "Mon 09:05-09:20", WINTER) == 0
    # Kathmandu 09:00-09:20 is 03:15-03:35 UTC: slot 13 only.
    assert mask_for("Asia/Kathmandu", "Mon 09:00-09:20", WINTER) == slots(13, 14)


def test_window_crossing_midnight_is_one_run() -> None:
    # Fri 22:00 - Sat 01:00 UTC: 4 * 96 + 88 = 472 up to 5 * 96 + 4 = 484.
    assert mask_for("UTC", "Fri 22:00-01:00", WINTER) == slots(472, 484)


def test_spring_forward_day_uses_elapsed_time() -> None:
    # New York, Sun 8 Mar 2026: 00:00 EST is 05:00 UTC, 04:00 EDT is 08:00 UTC,
    # so the window lasts 3 hours: slots 576 + 20 = 596 up to 576 + 32 = 608.
    assert mask_for("America/New_York", "Sun 00:00-04:00", US_SPRING_WEEK) == slots(596, 608)


def test_fall_back_day_uses_elapsed_time() -> None:
    # New York, Sun 1 Nov 2026: 00:00 EDT is 04:00 UTC, 04:00 EST is 09:00 UTC,
    # so the window lasts 5 hours: slots 576 + 16 = 592 up to 576 + 36 = 612.
    assert mask_for("America/New_York", "Sun 00:00-04:00", US_FALL_WEEK) == slots(592, 612)


def test_repeated_wall_time_means_its_first_occurrence() -> None:
    # 01:00-01:30 on 1 Nov happens twice; the first time is 05:00-05:30 UTC (EDT).
    assert mask_for("America/New_York", "Sun 01:00-01:30", US_FALL_WEEK) == slots(596, 598)


def test_skipped_wall_time_never_adds_time() -> None:
    # 02:00-03:00 does not exist on 8 Mar in New York (07:00 UTC jumps to 03:00 EDT).
    # A start at 02:30 counts from after the jump: 03:30 EDT, 07:30 UTC (slot 606).
    assert mask_for("America/New_York", "Sun 02:30-04:00", US_SPRING_WEEK) == slots(606, 608)
    # An end at 02:30 counts up to before the jump: 01:30 EST, 06:30 UTC (slot 602).
    assert mask_for("America/New_York", "Sun 01:00-02:30", US_SPRING_WEEK) == slots(600, 602)


def common_hours_new_york_london(reference_date: date) -> float:
    new_york = mask_for("America/New_York", "weekdays 12:00-14:00", reference_date)
    london = mask_for("Europe/London", "weekdays 17:00-19:00", reference_date)
    return slots_to_hours((new_york & london).bit_count())


def test_new_york_and_london_in_the_weeks_between_dst_switches() -> None:
    # January: New York 12:00-14:00 EST is 17:00-19:00 UTC, London GMT 17:00-19:00:
    # 2 common hours on each of 5 weekdays.
    assert common_hours_new_york_london(WINTER) == 10.0
    # Week of 9 Mar: New York is on EDT (16:00-18:00 UTC), London still on GMT:
    # only 17:00-18:00 UTC is shared, 1 hour a day.
    assert common_hours_new_york_london(US_ONLY_DST) == 5.0
    # After 29 Mar both are on summer time and 5 hours apart again.
    assert common_hours_new_york_london(BOTH_DST) == 10.0


def test_unknown_timezone_is_an_availability_error() -> None:
    with pytest.raises(AvailabilityError, match=r"^unknown time zone 'Mars/Base'$"):
        weekly_mask("Mars/Base", [Window(0, 0, 60)], WINTER)
    with pytest.raises(AvailabilityError, match=r"^missing time zone$"):
        weekly_mask(" ", [], WINTER)


@pytest.mark.parametrize("window", [Window(7, 0, 60), Window(0, 60, 60), Window(0, 0, 1441)])
def test_out_of_range_window_is_rejected(window: Window) -> None:
    with pytest.raises(AvailabilityError, match=r"^invalid window"):
        weekly_mask("UTC", [window], WINTER)


# ---------------------------------------------------------------------------
# Many learners
# ---------------------------------------------------------------------------


def test_availability_masks_match_one_by_one_conversion() -> None:
    timezones = ["Europe/Paris", "UTC", "Europe/Paris", "Asia/Kathmandu", "UTC"]
    texts = ["Mon 09:00-10:00", "Mon 09:00-10:00", "Mon 09:00-10:00", "", "Mon 09:00-10:00"]
    # Same statement in different zones must not share a cache entry.
    assert availability_masks(timezones, texts, WINTER) == [
        slots(32, 36),
        slots(36, 40),
        slots(32, 36),
        0,
        slots(36, 40),
    ]


def test_availability_masks_convert_each_distinct_pair_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    original = availability.weekly_mask

    def counting_weekly_mask(timezone: str, windows: Sequence[Window], reference: date) -> int:
        calls.append(timezone)
        return original(timezone, windows, reference)

    monkeypatch.setattr(availability, "weekly_mask", counting_weekly_mask)
    timezones = ["UTC", "Asia/Kolkata", "UTC", "Asia/Kolkata", "UTC"]
    texts = [
        "Tue 18:00-21:00",
        "Mon 09:00-10:00",
        "Tue 18:00-21:00",
        "Mon 09:00-10:00",
        "daily 0:00-0:15",
    ]
    masks = availability_masks(timezones, texts, WINTER)
    assert len(calls) == 3
    daily_first_slot = sum(1 << (96 * day) for day in range(7))
    assert masks == [
        slots(168, 180),
        slots(14, 18),
        slots(168, 180),
        slots(14, 18),
        daily_first_slot,
    ]


def test_availability_masks_are_fast_for_a_large_cohort() -> None:
    pairs = [
        ("Europe/Paris", "Mon-Fri 18:00-21:00; Sat 09:00-12:00"),
        ("America/Los_Angeles", "weekdays 17:00-20:00; Sun 18:00-22:00"),
        ("Asia/Kathmandu", "daily 06:00-08:00"),
        ("UTC", ""),
    ]
    timezones = [pairs[i % 4][0] for i in range(50_000)]
    texts = [pairs[i % 4][1] for i in range(50_000)]
    started = time.perf_counter()
    masks = availability_masks(timezones, texts, WINTER)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert len(masks) == 50_000
    assert masks[4] == masks[0] == mask_for(*pairs[0], WINTER)


def test_indexed_error_names_the_timezone_column() -> None:
    with pytest.raises(IndexedAvailabilityError) as caught:
        availability_masks(["UTC", "UTC", "Mars/Base"], ["Mon 9:00-10:00"] * 3, WINTER)
    assert caught.value.index == 2
    assert caught.value.column == "timezone"
    assert str(caught.value) == "unknown time zone 'Mars/Base'"


def test_indexed_error_names_the_availability_column() -> None:
    with pytest.raises(IndexedAvailabilityError) as caught:
        availability_masks(["UTC", "UTC"], ["Mon 9:00-10:00", "Mon-Fry 18:00-21:00"], WINTER)
    assert caught.value.index == 1
    assert caught.value.column == "availability"
    assert str(caught.value).startswith("cannot read 'Mon-Fry 18:00-21:00': unknown day 'Fry'; ")


def test_indexed_error_reports_the_timezone_first() -> None:
    with pytest.raises(IndexedAvailabilityError) as caught:
        availability_masks(["Nowhere"], ["Someday 9:00-10:00"], WINTER)
    assert (caught.value.index, caught.value.column) == (0, "timezone")


def test_availability_masks_reject_lists_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="2 time zones but 1 availability"):
        availability_masks(["UTC", "UTC"], ["Mon 9:00-10:00"], WINTER)


# ---------------------------------------------------------------------------
# Blocks of consecutive slots
# ---------------------------------------------------------------------------


def slow_block_mask(mask: int, min_block_slots: int) -> int:
    """Reference implementation: walk the week bit by bit from a free slot."""
    bits = [(mask >> i) & 1 for i in range(SLOTS_PER_WEEK)]
    if min_block_slots <= 1 or all(bits):
        return mask & FULL_WEEK_MASK
    gap = bits.index(0)
    result = 0
    run: list[int] = []
    # Start just after a free slot and end on it, so every run is seen whole.
    for step in range(1, SLOTS_PER_WEEK + 1):
        position = (gap + step) % SLOTS_PER_WEEK
        if bits[position]:
            run.append(position)
            continue
        if len(run) >= min_block_slots:
            for member in run:
                result |= 1 << member
        run = []
    return result


def test_block_mask_drops_short_runs() -> None:
    mask = slots(10, 12) | slots(20, 24) | slots(30, 33)
    assert block_mask(mask, 3) == slots(20, 24) | slots(30, 33)
    assert block_mask(mask, 4) == slots(20, 24)
    assert block_mask(mask, 5) == 0
    assert common_block_slots(mask, 3) == 7


def test_block_mask_keeps_a_run_across_the_end_of_the_week() -> None:
    # Slots 670, 671, 0, 1 form one run of 4; slot 5 stands alone.
    wrapped = slots(670, 672) | slots(0, 2)
    mask = wrapped | slots(5, 6)
    assert block_mask(mask, 4) == wrapped
    assert block_mask(mask, 5) == 0
    assert common_block_slots(mask, 2) == 4


def test_block_mask_small_block_returns_mask() -> None:
    mask = slots(3, 4) | slots(100, 110)
    assert block_mask(mask, 1) == mask
    assert block_mask(mask, 0) == mask
    assert block_mask(mask, -3) == mask


def test_block_mask_full_and_empty() -> None:
    assert block_mask(FULL_WEEK_MASK, 8) == FULL_WEEK_MASK
    assert block_mask(FULL_WEEK_MASK, 1000) == FULL_WEEK_MASK
    assert block_mask(0, 8) == 0
    # One free slot leaves a run of 671, too short for 672.
    almost_full = FULL_WEEK_MASK & ~(1 << 300)
    assert block_mask(almost_full, 671) == almost_full
    assert block_mask(almost_full, 672) == 0


def test_block_mask_matches_slow_reference_on_random_masks() -> None:
    rng = random.Random(20260114)
    for _ in range(300):
        kind = rng.randrange(3)
        if kind == 0:
            mask = rng.getrandbits(SLOTS_PER_WEEK)
        elif kind == 1:
            # Mostly set: long runs, often wrapping past the end of the week.
            mask = FULL_WEEK_MASK
            for _ in range(rng.randrange(1, 6)):
                mask &= ~(1 << rng.randrange(SLOTS_PER_WEEK))
        else:
            mask = 0
            for _ in range(rng.randrange(1, 12)):
                start = rng.randrange(SLOTS_PER_WEEK)
                length = rng.randrange(1, 40)
                for offset in range(length):
                    mask |= 1 << ((start + offset) % SLOTS_PER_WEEK)
        min_block = rng.choice([1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 31, 64, 200, 500, 671, 672])
        assert block_mask(mask, min_block) == slow_block_mask(mask, min_block), (mask, min_block)


# ---------------------------------------------------------------------------
# Back from masks to windows
# ---------------------------------------------------------------------------


def test_mask_to_utc_windows() -> None:
    assert mask_to_utc_windows(0) == []
    assert mask_to_utc_windows(slots(5, 9) | slots(20, 21)) == [(5, 9), (20, 21)]
    # A run crossing the end of the week is one run ending past 672.
    assert mask_to_utc_windows(slots(0, 3) | slots(40, 44) | slots(668, 672)) == [
        (40, 44),
        (668, 675),
    ]
    assert mask_to_utc_windows(slots(668, 672)) == [(668, 672)]
    assert mask_to_utc_windows(FULL_WEEK_MASK) == [(0, 672)]


def test_format_local_windows_in_utc() -> None:
    mask = slots(168, 180) | slots(472, 484) | slots(600, 606)
    assert format_local_windows(mask, "UTC", WINTER) == [
        "Tue 18:00-21:00",
        "Fri 22:00-01:00",
        "Sun 06:00-07:30",
    ]


def test_format_local_windows_in_another_zone() -> None:
    # Tue 18:00-21:00 UTC is Tue 23:45 - Wed 02:45 in Kathmandu.
    assert format_local_windows(slots(168, 180), "Asia/Kathmandu", WINTER) == ["Tue 23:45-02:45"]
    # Mon 02:00-04:00 UTC is Sunday evening in Los Angeles.
    assert format_local_windows(slots(8, 16), "America/Los_Angeles", WINTER) == ["Sun 18:00-20:00"]


def test_format_local_windows_splits_runs_of_a_day_or_more() -> None:
    # Fri 10:00 - Sat 12:00 lasts 26 hours; "Fri 10:00-12:00" would mean 2 hours.
    mask = mask_for("UTC", "Fri 10:00-24:00; Sat 00:00-12:00", WINTER)
    assert format_local_windows(mask, "UTC", WINTER) == ["Fri 10:00-24:00", "Sat 00:00-12:00"]
    assert format_local_windows(FULL_WEEK_MASK, "Europe/Paris", WINTER) == [
        f"{day} 00:00-24:00" for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    ]


@pytest.mark.parametrize(
    "timezone", ["UTC", "Europe/Paris", "Asia/Kathmandu", "Asia/Kolkata", "America/Los_Angeles"]
)
@pytest.mark.parametrize("reference_date", [WINTER, SUMMER, US_SPRING_WEEK, US_ONLY_DST])
@pytest.mark.parametrize(
    "text",
    [
        "Mon-Fri 18:00-21:00; Sat 09:00-12:00; Sun 14:00-15:30",
        "Fri 22:00-01:00; Tue 07:15-08:45",
        "Sun 18:00-20:00; Mon 06:00-07:00",
        "Sun 22:00-02:00",
        "weekends 00:00-24:00",
    ],
)
def test_format_local_windows_round_trip(timezone: str, reference_date: date, text: str) -> None:
    windows = parse_availability(text)
    mask = weekly_mask(timezone, windows, reference_date)
    formatted = format_local_windows(mask, timezone, reference_date)
    assert parse_availability("; ".join(formatted)) == windows


def test_format_local_windows_round_trip_text() -> None:
    text = "Mon-Fri 18:00-21:00; Sat 09:00-12:00; Sun 22:00-02:00"
    mask = mask_for("America/Los_Angeles", text, WINTER)
    assert format_local_windows(mask, "America/Los_Angeles", WINTER) == [
        "Mon 18:00-21:00",
        "Tue 18:00-21:00",
        "Wed 18:00-21:00",
        "Thu 18:00-21:00",
        "Fri 18:00-21:00",
        "Sat 09:00-12:00",
        "Sun 22:00-02:00",
    ]


def test_slots_to_hours() -> None:
    assert slots_to_hours(0) == 0.0
    assert slots_to_hours(4) == 1.0
    assert slots_to_hours(6) == 1.5
    assert slots_to_hours(SLOTS_PER_WEEK) == 168.0


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("Mon 6pm-9pm", "Mon 18:00-21:00"),
        ("Mon 6-9pm", "Mon 18:00-21:00"),
        ("Mon 6 p.m. - 9 p.m.", "Mon 18:00-21:00"),
        ("Mon 11-1pm", "Mon 11:00-13:00"),
        ("Mon 12am-6am", "Mon 00:00-06:00"),
        ("Mon 9am-12pm", "Mon 09:00-12:00"),
        ("Mon-Fri 18-21", "Mon-Fri 18:00-21:00"),
        ("Sat 18h-21h", "Sat 18:00-21:00"),
        ("Sat 18h30-21h", "Sat 18:30-21:00"),
        ("Sat 18.30-21.00", "Sat 18:30-21:00"),
        ("Mon 9:00-12:00, Wed 18-20", "Mon 09:00-12:00; Wed 18:00-20:00"),
        ("Sat 9-12, 14-17", "Sat 09:00-12:00; Sat 14:00-17:00"),
        ("Mon,Wed 18-21", "Mon 18:00-21:00; Wed 18:00-21:00"),
        ("Fri 10pm-1am", "Fri 22:00-01:00"),
    ],
)
def test_forms_people_type(text: str, same_as: str) -> None:
    assert parse_availability(text) == parse_availability(same_as)


def test_time_without_days_names_the_accepted_form() -> None:
    with pytest.raises(AvailabilityError) as caught:
        parse_availability("6pm-9pm")
    assert "missing days" in str(caught.value)
    assert "Mon-Fri 18:00-21:00" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("europe/paris", "Europe/Paris"), ("ASIA/KOLKATA", "Asia/Kolkata"), ("UTC", "UTC")],
)
def test_zone_names_in_any_case(name: str, canonical: str) -> None:
    assert canonical_timezone(name) == canonical


def test_unknown_zone_in_any_case_is_an_error() -> None:
    with pytest.raises(AvailabilityError, match="unknown time zone 'europe/pariss'"):
        canonical_timezone("europe/pariss")


def test_repeated_statements_are_read_once() -> None:
    one = parse_availability("Mon 09:00-10:00; Tue 22:00-01:00")
    many = parse_availability("; ".join(["Mon 09:00-10:00", "Tue 22:00-01:00"] * 5_000))
    assert many == one


def test_a_window_shared_by_statements_is_converted_once_per_zone() -> None:
    availability._window_slots.cache_clear()
    texts = ["Tue 18:00-21:00", "Tue 18:00-21:00; Wed 09:00-10:00", "Tue 18:00-21:00"]
    zones = ["UTC", "UTC", "Asia/Kolkata"]
    masks = availability_masks(zones, texts, WINTER)
    info = availability._window_slots.cache_info()
    # Tue and Wed in UTC, Tue in Kolkata; the second statement's Tue from the first
    assert (info.misses, info.hits) == (3, 1)
    availability._window_slots.cache_clear()  # each statement's windows converted anew
    assert masks == [mask_for(z, t, WINTER) for z, t in zip(zones, texts, strict=True)]
