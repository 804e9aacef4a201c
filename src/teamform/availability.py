"""Weekly availability: local time windows to UTC slot bitmasks.

Learners state when they are free in their own time zone, e.g.
``Mon-Fri 18:00-21:00; Sat 09:00-12:00``. To compare learners across time zones,
each statement is converted into a set of UTC slots of one reference week, stored
as a Python ``int`` used as a bit set: bit ``s`` is set when the learner is free
for the whole of slot ``s``, which covers minutes ``[15 * s, 15 * (s + 1))`` after
Monday 00:00 UTC of the reference week.

The week is cyclic: time that falls past Sunday 24:00 UTC (or before Monday 00:00
UTC) wraps to the other end of the same week, so a Sunday evening in Los Angeles
lands on Monday morning UTC of the reference week.

Daylight-saving time is applied as on the actual dates of the reference week, so
the result depends on the reference date: in the weeks when only one of the US
and the EU has switched, New York and London are 4 hours apart instead of 5.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "ACCEPTED_FORM",
    "FULL_WEEK_MASK",
    "SLOTS_PER_DAY",
    "SLOTS_PER_WEEK",
    "SLOT_MINUTES",
    "AvailabilityError",
    "IndexedAvailabilityError",
    "Window",
    "availability_masks",
    "block_mask",
    "canonical_timezone",
    "common_block_slots",
    "format_local_windows",
    "is_valid_timezone",
    "mask_to_utc_windows",
    "parse_availability",
    "reference_week_start",
    "slots_to_hours",
    "weekly_mask",
]

# 15 minutes is the coarsest grid on which every current UTC offset falls
# (Asia/Kathmandu is +05:45, Asia/Kolkata +05:30).
SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
SLOTS_PER_WEEK = 7 * 24 * 60 // SLOT_MINUTES
#: A week has 168 hours: no overlap target or block can be longer.
HOURS_PER_WEEK = 168
#: Reference weeks the time-zone conversion supports.
REFERENCE_DATE_RANGE = (date(1900, 1, 1), date(2199, 12, 31))
FULL_WEEK_MASK = (1 << SLOTS_PER_WEEK) - 1

_MINUTES_PER_DAY = 24 * 60
_SLOT = timedelta(minutes=SLOT_MINUTES)
_WEEK = timedelta(days=7)

_DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS: dict[str, int] = {
    **{abbr.lower(): i for i, abbr in enumerate(_DAY_ABBREVIATIONS)},
    **{name: i for i, name in enumerate(_DAY_NAMES)},
}
_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "daily": (0, 1, 2, 3, 4, 5, 6),
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
}

_FIRST_DIGIT = re.compile(r"[0-9]")
# An en dash is accepted too: ranges are often pasted from word processors.
_RANGE_DASH = re.compile(r"\s*[-\u2013]\s*")
# 18:00, 18.00, 18h, 18h30, 18, 6pm, 6:30 pm, 6 p.m.
_TIME = re.compile(
    r"(?P<h>[0-9]{1,2})(?:(?::|\.|h)(?P<m>[0-9]{2})?)?\s*(?P<half>[ap])?(?:\.?\s*m\.?)?",
    re.IGNORECASE,
)
# A comma after a time and before a letter starts a new window ("Mon 9-12, Wed 18-20").
_WINDOW_COMMA = re.compile(r"(?<=[0-9mMhH.])\s*,\s*(?=[A-Za-z])")
#: The accepted form, quoted in errors.
ACCEPTED_FORM = (
    "write windows like 'Mon-Fri 18:00-21:00; Sat 9am-12pm' "
    "(times also as 18-21 or 18h-21h; windows separated by ';' or ',')"
)

# "localtime" names whatever zone the host machine is set to, so it would make
# the same roster mean different things on different machines.
_HOST_DEPENDENT_ZONES = frozenset({"localtime"})


class AvailabilityError(ValueError):
    """An availability statement or time zone that cannot be used.

    The message is one short line saying what is wrong; the caller adds the
    file, row and column.
    """


class IndexedAvailabilityError(AvailabilityError):
    """An :class:`AvailabilityError` tied to one learner of a list.

    Parameters
    ----------
    message
        What is wrong, as one short line.
    index
        0-based position of the learner in the lists given to
        :func:`availability_masks`.
    column
        ``"timezone"`` or ``"availability"``: which of the two values is at fault.
    """

    def __init__(self, message: str, *, index: int, column: str) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.column = column


class Window(NamedTuple):
    """A window of local time on one day of the week.

    ``day`` is 0 for Monday to 6 for Sunday; ``start`` and ``end`` are minutes
    after local midnight with ``0 <= start < end <= 1440``.
    """

    day: int
    start: int
    end: int


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def parse_availability(text: str) -> list[Window]:
    """Parse a weekly availability statement written in local time.

    Parameters
    ----------
    text
        Windows separated by ``;``. Each window is ``DAYS HH:MM-HH:MM`` where
        ``DAYS`` is a day (``Mon`` or ``Monday``, any case), a range such as
        ``Mon-Fri`` (``Sat-Mon`` wraps over the weekend), a comma-separated list
        of days and ranges such as ``Mon,Wed-Fri``, or one of ``daily``,
        ``weekdays`` and ``weekends``. Times are ``H:MM`` or ``HH:MM``; ``24:00``
        may end a window. An end at or before the start means the window runs
        past midnight into the next day, so ``Fri 22:00-01:00`` is three hours
        and ``Mon 09:00-09:00`` is twenty-four. Blank text means no availability.

    Returns
    -------
    list of Window
        Windows sorted by day and start, without duplicates. Windows that run
        past midnight are split at midnight (Sunday continues on Monday).
        Overlapping windows are kept as given.

    Raises
    ------
    AvailabilityError
        If a window cannot be read; the message quotes the window and the token
        at fault, e.g. ``cannot read 'Mon-Fry 18:00-21:00': unknown day 'Fry'``.

    Examples
    --------
    >>> parse_availability("Fri 22:00-01:00")
    [Window(day=4, start=1320, end=1440), Window(day=5, start=0, end=60)]
    """
    windows: set[Window] = set()
    # Empty pieces are skipped so that a trailing ";" is harmless; a statement
    # repeated (a form pasting the same window many times) is read once.
    pieces = (piece.strip() for part in text.split(";") for piece in _WINDOW_COMMA.split(part))
    for statement in dict.fromkeys(pieces):
        if statement:
            windows.update(_parse_statement(statement))
    return sorted(windows)


def _parse_statement(statement: str) -> list[Window]:
    """Parse one ``DAYS HH:MM-HH:MM`` statement into windows."""
    # Day names never contain digits, so the time range starts at the first digit.
    found = _FIRST_DIGIT.search(statement)
    if found is None:
        raise _unreadable(statement, "missing time range such as 18:00-21:00")
    days_text = statement[: found.start()].strip()
    range_text = statement[found.start() :].strip()
    if not days_text:
        raise _unreadable(statement, "missing days before the time range")
    days = _parse_days(statement, days_text)
    windows: list[Window] = []
    # several ranges may follow the days: "Sat 9-12, 14-17"
    for one_range in range_text.split(","):
        start, end = _parse_range(statement, one_range.strip())
        for day in days:
            if end > start:
                windows.append(Window(day, start, end))
            else:
                windows.append(Window(day, start, _MINUTES_PER_DAY))
                if end > 0:
                    windows.append(Window((day + 1) % 7, 0, end))
    return windows


def _parse_range(statement: str, range_text: str) -> tuple[int, int]:
    """Start and end minutes of ``18:00-21:00``, ``6pm-9pm``, ``6-9pm``, ``18h-21h``."""
    ends = _RANGE_DASH.split(range_text)
    if len(ends) != 2 or not all(ends):
        raise _unreadable(statement, f"bad time range '{range_text}', expected HH:MM-HH:MM")
    start, start_half = _parse_time(statement, ends[0])
    end, end_half = _parse_time(statement, ends[1])
    if start_half is None and end_half is not None and 1 <= start // 60 <= 12:
        # the end's am/pm covers a bare start ("6-9pm"), unless that would wrap
        # past midnight: "11-1pm" is 11am to 1pm
        same, _ = _parse_time(statement, ends[0], end_half)
        other, _ = _parse_time(statement, ends[0], "a" if end_half == "p" else "p")
        start = same if same < end else other
    if start == _MINUTES_PER_DAY:
        raise _unreadable(statement, f"a window cannot start at '{ends[0]}'")
    return start, end


def _parse_days(statement: str, days_text: str) -> list[int]:
    """Return the days named by ``days_text`` in Monday-first order."""
    days: set[int] = set()
    for raw_item in days_text.split(","):
        item = raw_item.strip()
        if not item:
            raise _unreadable(statement, f"missing day in '{days_text}'")
        group = _DAY_GROUPS.get(item.lower())
        if group is not None:
            days.update(group)
        elif "-" in item:
            first_text, last_text = item.split("-", 1)
            if not first_text.strip() or not last_text.strip():
                raise _unreadable(statement, f"incomplete day range '{item}'")
            first = _parse_day(statement, first_text)
            last = _parse_day(statement, last_text)
            days.update((first + k) % 7 for k in range((last - first) % 7 + 1))
        else:
            days.add(_parse_day(statement, item))
    return sorted(days)


def _parse_day(statement: str, token: str) -> int:
    """Return 0 (Monday) to 6 (Sunday) for one day name."""
    name = token.strip()
    day = _DAY_NUMBERS.get(name.lower())
    if day is None:
        raise _unreadable(statement, f"unknown day '{name}'")
    return day


def _parse_time(
    statement: str, token: str, default_half: str | None = None
) -> tuple[int, str | None]:
    """Minutes after midnight of one time, and its ``a``/``p`` half-day marker if any.

    ``default_half`` applies to a bare hour (the ``6`` of ``6-9pm``).
    """
    match = _TIME.fullmatch(token.strip())
    if match is None:
        raise _unreadable(statement, f"bad time '{token}', expected HH:MM, 6pm or 18h")
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    half = match["half"].lower() if match["half"] else None
    applied = half or default_half
    if applied is not None:
        if not 1 <= hours <= 12:
            raise _unreadable(statement, f"time out of range '{token}' (1-12 before am/pm)")
        hours = hours % 12 + (12 if applied == "p" else 0)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes > 0):
        raise _unreadable(statement, f"time out of range '{token}'")
    return hours * 60 + minutes, half


def _unreadable(statement: str, reason: str) -> AvailabilityError:
    return AvailabilityError(f"cannot read '{statement}': {reason}; {ACCEPTED_FORM}")


# ---------------------------------------------------------------------------
# Time zones and the reference week
# ---------------------------------------------------------------------------


def is_valid_timezone(name: str) -> bool:
    """Tell whether ``name`` is a usable IANA time zone such as ``Europe/Paris``.

    Parameters
    ----------
    name
        Time zone key. Surrounding whitespace is ignored; case matters.

    Returns
    -------
    bool
        ``True`` if the zone exists in the time zone database. Empty names and
        ``localtime`` (which depends on the host machine) are rejected.
    """
    try:
        _load_zone(name)
    except AvailabilityError:
        return False
    return True


def canonical_timezone(name: str) -> str:
    """The database's own spelling of a zone name given in any case.

    ``europe/paris`` and ``EUROPE/PARIS`` give ``Europe/Paris``; a name the
    database knows as it is comes back unchanged (``US/Eastern`` included).

    Raises
    ------
    AvailabilityError
        If no zone has that name, whatever the case.
    """
    key = name.strip()
    try:
        _load_zone(key)
        return key
    except AvailabilityError:
        found = _zones_by_folded_name().get(key.casefold())
        if found is None:
            raise
        return found


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    return {zone.casefold(): zone for zone in zoneinfo.available_timezones()}


def _load_zone(name: str) -> ZoneInfo:
    """Load a time zone, raising :class:`AvailabilityError` if it is unusable."""
    key = name.strip()
    if not key:
        raise AvailabilityError("missing time zone")
    if key in _HOST_DEPENDENT_ZONES:
        raise AvailabilityError(f"time zone '{key}' depends on the machine; name a zone")
    try:
        return _zone(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError covers keys naming a directory of the database, e.g. "America".
        raise AvailabilityError(f"unknown time zone '{key}'") from None


@functools.lru_cache(maxsize=1024)
def _zone(key: str) -> ZoneInfo:
    # ZoneInfo's own cache holds only the last few zones strongly: a cohort in
    # dozens of zones would read their files again for every statement
    return ZoneInfo(key)


def reference_week_start(reference_date: date) -> date:
    """Return the Monday on or before ``reference_date``.

    Parameters
    ----------
    reference_date
        Any date in the reference week. A ``datetime`` is reduced to its date.

    Returns
    -------
    datetime.date
        The Monday that starts the reference week.
    """
    if isinstance(reference_date, datetime):
        reference_date = reference_date.date()
    return reference_date - timedelta(days=reference_date.weekday())


def _utc_week_origin(reference_date: date) -> tuple[date, datetime]:
    """Return the reference Monday and Monday 00:00 UTC of that week."""
    monday = reference_week_start(reference_date)
    return monday, datetime.combine(monday, time(), tzinfo=UTC)


# ---------------------------------------------------------------------------
# Conversion to UTC slot masks
# ---------------------------------------------------------------------------


def weekly_mask(timezone: str, windows: Sequence[Window], reference_date: date) -> int:
    """Convert local windows to the set of UTC slots of the reference week.

    Parameters
    ----------
    timezone
        IANA time zone the windows are written in.
    windows
        Local windows, e.g. from :func:`parse_availability`.
    reference_date
        Any date of the reference week; daylight-saving time applies as on the
        dates of that week.

    Returns
    -------
    int
        Bit set of ``SLOTS_PER_WEEK`` bits; bit ``s`` is set when the learner is
        free for the whole of UTC slot ``s``. A window start is rounded up and its
        end rounded down to slot boundaries, so a window shorter than a slot may
        contribute nothing.

    Raises
    ------
    AvailabilityError
        If the time zone is unknown or a window is out of range.

    Notes
    -----
    On days when the clocks change, a window covers the time that really
    elapses between its start and end (``00:00-04:00`` lasts 3 hours when the
    clocks go forward). A wall time that occurs twice means its first
    occurrence. A wall time skipped by the clocks going forward is read, for a
    start, as after the jump and, for an end, as before it, so a window never
    claims time the learner did not give.
    """
    zone = _load_zone(timezone)
    monday = reference_week_start(reference_date)
    mask = 0
    for window in windows:
        day, start, end = window
        if not (0 <= day <= 6 and 0 <= start < end <= _MINUTES_PER_DAY):
            raise AvailabilityError(f"invalid window {tuple(window)}")
        mask |= _window_slots(zone, day, start, end, monday)
    return mask


@functools.lru_cache(maxsize=1 << 14)
def _window_slots(zone: ZoneInfo, day: int, start: int, end: int, monday: date) -> int:
    """The UTC slots of one valid local window in ``zone`` in the week of ``monday``
    (see :func:`weekly_mask`). Cohorts repeat the same windows in the same few zones
    (50 000 learners: 12 867 windows in distinct statements, 6 124 distinct)."""
    _, origin = _utc_week_origin(monday)
    midnight = datetime.combine(monday + timedelta(days=day), time())
    start_utc = _start_to_utc(midnight + timedelta(minutes=start), zone)
    end_utc = _end_to_utc(midnight + timedelta(minutes=end), zone)
    # timedelta // timedelta floors, which gives exact slot rounding both ways.
    first = -((origin - start_utc) // _SLOT)
    last = (end_utc - origin) // _SLOT
    return _cyclic_slot_range(first, last) if last > first else 0


def _start_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 reads a repeated wall time as its first occurrence and a skipped
    # one with the offset from before the jump, i.e. as the later instant.
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _end_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    # The earlier reading differs from fold=0 only for skipped wall times,
    # where it is the instant before the jump.
    first = wall.replace(tzinfo=zone).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return min(first, second)


def _cyclic_slot_range(first: int, last: int) -> int:
    """Bits ``first`` (inclusive) to ``last`` (exclusive), wrapped onto the week."""
    length = last - first
    if length >= SLOTS_PER_WEEK:
        return FULL_WEEK_MASK
    bits = ((1 << length) - 1) << (first % SLOTS_PER_WEEK)
    return (bits | (bits >> SLOTS_PER_WEEK)) & FULL_WEEK_MASK


def availability_masks(
    timezones: Sequence[str], texts: Sequence[str], reference_date: date
) -> list[int]:
    """Parse and convert the availability of many learners.

    Parameters
    ----------
    timezones
        Time zone of each learner.
    texts
        Availability statement of each learner, in the grammar of
        :func:`parse_availability`.
    reference_date
        Any date of the reference week.

    Returns
    -------
    list of int
        One UTC slot mask per learner, in input order (see :func:`weekly_mask`).

    Raises
    ------
    IndexedAvailabilityError
        For the first learner whose time zone (checked first) or statement
        cannot be used; ``index`` and ``column`` say which.
    ValueError
        If the two sequences differ in length.
    """
    if len(timezones) != len(texts):
        raise ValueError(
            f"got {len(timezones)} time zones but {len(texts)} availability statements"
        )
    # Cohorts repeat the same few (zone, statement) pairs, so each distinct pair
    # is converted once.
    cache: dict[tuple[str, str], int] = {}
    # and each distinct statement is parsed once, whatever its zones
    parsed: dict[str, list[Window]] = {}
    masks: list[int] = []
    for index, key in enumerate(zip(timezones, texts, strict=True)):
        mask = cache.get(key)
        if mask is None:
            mask = cache[key] = _learner_mask(index, key[0], key[1], reference_date, parsed)
        masks.append(mask)
    return masks


def _learner_mask(
    index: int, timezone: str, text: str, reference_date: date, parsed: dict[str, list[Window]]
) -> int:
    try:
        _load_zone(timezone)
    except AvailabilityError as error:
        raise IndexedAvailabilityError(str(error), index=index, column="timezone") from None
    windows = parsed.get(text)
    if windows is None:
        try:
            windows = parsed[text] = parse_availability(text)
        except AvailabilityError as error:
            raise IndexedAvailabilityError(str(error), index=index, column="availability") from None
    return weekly_mask(timezone, windows, reference_date)


# ---------------------------------------------------------------------------
# Operations on masks
# ---------------------------------------------------------------------------


def block_mask(mask: int, min_block_slots: int) -> int:
    """Keep the slots that lie in long enough runs of consecutive free slots.

    Parameters
    ----------
    mask
        UTC slot mask; bits above ``SLOTS_PER_WEEK - 1`` are ignored.
    min_block_slots
        Minimum run length in slots. Runs are cyclic: a run may cross from
        Sunday into Monday.

    Returns
    -------
    int
        The bits of ``mask`` lying in runs of at least ``min_block_slots``
        consecutive set bits. ``mask`` itself if ``min_block_slots <= 1`` or if
        every slot is set.
    """
    mask &= FULL_WEEK_MASK
    if min_block_slots <= 1 or mask == FULL_WEEK_MASK:
        return mask
    # A mask with a gap has runs of at most SLOTS_PER_WEEK - 1 slots, and each
    # cyclic run appears unbroken in two copies of the week laid end to end.
    doubled = mask | (mask << SLOTS_PER_WEEK)

    # starts: bit p set iff bits p .. p + min_block_slots - 1 are all set,
    # built with doubling strides so the cost grows with log(min_block_slots).
    starts = doubled
    span = 1
    while span * 2 <= min_block_slots:
        starts &= starts >> span
        span *= 2
    if span < min_block_slots:
        starts &= starts >> (min_block_slots - span)

    # Spread each start over the min_block_slots bits it begins.
    covered = starts
    span = 1
    while span * 2 <= min_block_slots:
        covered |= covered << span
        span *= 2
    if span < min_block_slots:
        covered |= covered << (min_block_slots - span)

    return (covered | (covered >> SLOTS_PER_WEEK)) & FULL_WEEK_MASK


def common_block_slots(mask: int, min_block_slots: int) -> int:
    """Count the slots of ``mask`` lying in runs of at least ``min_block_slots``.

    Parameters
    ----------
    mask
        UTC slot mask, typically the AND of several learners' masks.
    min_block_slots
        Minimum run length in slots, as in :func:`block_mask`.

    Returns
    -------
    int
        Number of set bits of ``block_mask(mask, min_block_slots)``.
    """
    return block_mask(mask, min_block_slots).bit_count()


def mask_to_utc_windows(mask: int) -> list[tuple[int, int]]:
    """List the runs of consecutive set slots of a mask.

    Parameters
    ----------
    mask
        UTC slot mask; bits above ``SLOTS_PER_WEEK - 1`` are ignored.

    Returns
    -------
    list of tuple of int
        ``(start, end)`` slot pairs, ``end`` exclusive, sorted by ``start``, with
        ``0 <= start < SLOTS_PER_WEEK``. A run that crosses the end of the week
        is reported once, with ``end > SLOTS_PER_WEEK`` (take it modulo
        ``SLOTS_PER_WEEK`` for the slot index). A full mask gives
        ``[(0, SLOTS_PER_WEEK)]``.
    """
    remaining = mask & FULL_WEEK_MASK
    if remaining == FULL_WEEK_MASK:
        return [(0, SLOTS_PER_WEEK)]
    runs: list[tuple[int, int]] = []
    while remaining:
        start = (remaining & -remaining).bit_length() - 1
        shifted = remaining >> start
        # x ^ (x + 1) has one more bit than x has trailing ones.
        length = (shifted ^ (shifted + 1)).bit_length() - 1
        runs.append((start, start + length))
        remaining &= ~(((1 << length) - 1) << start)
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == SLOTS_PER_WEEK:
        first_end = runs.pop(0)[1]
        last_start = runs.pop()[0]
        runs.append((last_start, SLOTS_PER_WEEK + first_end))
    return runs


def format_local_windows(mask: int, timezone: str, reference_date: date) -> list[str]:
    """Describe a UTC slot mask as windows of local time.

    Parameters
    ----------
    mask
        UTC slot mask of the reference week.
    timezone
        IANA time zone to describe the windows in.
    reference_date
        Any date of the reference week; use the one the mask was built with.

    Returns
    -------
    list of str
        Windows such as ``"Mon 18:00-21:00"``, Monday first and by start time
        within a day. A window running past local midnight for less than a day
        is written on its starting day, e.g. ``"Fri 22:00-01:00"``; longer runs
        are split at midnight, with ``24:00`` ending a day. Joining the result
        with ``"; "`` gives text that :func:`parse_availability` reads back.

    Raises
    ------
    AvailabilityError
        If the time zone is unknown.
    """
    zone = _load_zone(timezone)
    monday, origin = _utc_week_origin(reference_date)
    next_monday = monday + _WEEK
    by_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]

    for first, last in mask_to_utc_windows(mask):
        start = origin + first * _SLOT
        # weekly_mask placed every window in the local reference week and then
        # wrapped, so undo the wrap the same way to get the same UTC offsets.
        local_day = start.astimezone(zone).date()
        if local_day < monday:
            start += _WEEK
        elif local_day >= next_monday:
            start -= _WEEK
        local_start = start.astimezone(zone)
        local_end = (start + (last - first) * _SLOT).astimezone(zone)
        _add_wall_pieces(by_day, local_start, local_end)

    merged = [_merge_intervals(intervals) for intervals in by_day]

    # Join "D hh:mm-24:00" with "D+1 00:00-hh:mm" when the result reads back
    # unambiguously, i.e. when it ends before the time it starts.
    joined_end: dict[int, int] = {}
    consumed: set[int] = set()
    for day in range(7):
        following = (day + 1) % 7
        if not merged[day] or not merged[following]:
            continue
        late_start, late_end = merged[day][-1]
        early_start, early_end = merged[following][0]
        if (
            late_end == _MINUTES_PER_DAY
            and late_start > 0
            and early_start == 0
            and early_end < late_start
        ):
            joined_end[day] = early_end
            consumed.add(following)

    lines: list[str] = []
    for day in range(7):
        for position, (begin, finish) in enumerate(merged[day]):
            if position == 0 and day in consumed:
                continue
            if position == len(merged[day]) - 1 and day in joined_end:
                finish = joined_end[day]
            lines.append(f"{_DAY_ABBREVIATIONS[day]} {_clock(begin)}-{_clock(finish)}")
    return lines


def _add_wall_pieces(
    by_day: list[list[tuple[int, int]]], local_start: datetime, local_end: datetime
) -> None:
    """Split a local stretch of time at wall-clock midnights into day pieces."""
    first_date = local_start.date()
    last_date = local_end.date()
    current = first_date
    while current <= last_date:
        start = _wall_minutes(local_start) if current == first_date else 0
        end = _wall_minutes(local_end) if current == last_date else _MINUTES_PER_DAY
        if end > start:
            by_day[current.weekday()].append((start, end))
        current += timedelta(days=1)


def _merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _wall_minutes(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slots_to_hours(slots: int) -> float:
    """Convert a number of slots to hours.

    Parameters
    ----------
    slots
        Number of ``SLOT_MINUTES``-minute slots.

    Returns
    -------
    float
        The same duration in hours, e.g. ``6`` slots give ``1.5``.
    """
    return slots * SLOT_MINUTES / 60


def check_reference_date(value: date) -> None:
    """Raise ``ValueError`` unless ``value`` lies in :data:`REFERENCE_DATE_RANGE`."""
    first, last = REFERENCE_DATE_RANGE
    if not first <= value <= last:
        raise ValueError(
            f"reference date {value.isoformat()} is outside {first.isoformat()} to "
            f"{last.isoformat()}"
        )
