"""Availability grids: one survey column per day, cells listing time slots.

A Google or Microsoft Forms checkbox grid exports one column per day (``When
are you available? [Monday]``) whose cells list the ticked options:
``8AM;9AM;noon;1PM``, ``9:00 AM - 10:00 AM``, ``14:00`` or named periods such
as ``Morning, Evening``. The question says whether ticks mark free or busy
times (``UNAVAILABLE`` in gruepr's survey). A single hour label stands for a
slot starting then; the slot length (30 or 60 minutes) is inferred from the
labels of the whole grid. In a busy grid, a learner is free in the rest of the
grid's span (first to last slot any learner ticked).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence

from teamform.availability import _merge_intervals

__all__ = [
    "DAY_NAMES",
    "DEFAULT_PERIODS",
    "GridCellError",
    "cell_hours",
    "grid_day",
    "infer_slot_minutes",
    "parse_cell",
    "subtract",
    "windows_text",
]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Named periods and the local hours they cover (a mapping file may redefine them).
DEFAULT_PERIODS: dict[str, str] = {
    "early morning": "06:00-08:00",
    "morning": "08:00-12:00",
    "midday": "12:00-14:00",
    "lunchtime": "12:00-14:00",
    "afternoon": "12:00-17:00",
    "evening": "17:00-21:00",
    "night": "21:00-24:00",
    "late night": "21:00-24:00",
}
_NONE = frozenset({"none", "n/a", "na", "-", "no", "never", "not available", "nothing"})

_DAY = re.compile(
    r"\b(mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?)\b",
    re.IGNORECASE,
)
_HOUR = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?"
_LABEL = re.compile(rf"^{_HOUR}$", re.IGNORECASE)
_RANGE = re.compile(rf"^{_HOUR}\s*(?:-|\u2013|to|until)\s*{_HOUR}$", re.IGNORECASE)


class GridCellError(ValueError):
    """A grid cell that cannot be read; the message names the offending label."""


def grid_day(header: str) -> int | None:
    """The day (0 = Monday) a grid column is about, from its header, if it names one."""
    bracket = re.findall(r"\[([^\]]*)\]", header)
    for text in [*reversed(bracket), header]:
        m = _DAY.search(text)
        if m:
            return DAY_NAMES.index(m.group(1)[:3].title())
    return None


def _clock(hour: int, minute: int, meridiem: str | None) -> int | None:
    if minute >= 60:
        return None
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        pm = meridiem.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    elif hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def _hour(text: str) -> int | None:
    word = text.strip().lower()
    if word in ("noon", "midday", "12 noon"):
        return 12 * 60
    if word == "midnight":
        return 0
    m = _LABEL.match(word)
    if not m:
        return None
    return _clock(int(m.group(1)), int(m.group(2) or 0), m.group(3))


def _range(text: str) -> tuple[int, int] | None:
    m = _RANGE.match(text.strip())
    if not m:
        return None
    h1, m1, ap1, h2, m2, ap2 = m.groups()
    end = _clock(int(h2), int(m2 or 0), ap2 or ap1)
    # "9-11am": the meridiem written once applies to both ends, unless that
    # would put the start after the end ("11-1pm" is 11am to 1pm)
    start = _clock(int(h1), int(m1 or 0), ap1 or ap2)
    if ap1 is None and ap2 and start is not None and end is not None and start >= end:
        start = _clock(int(h1), int(m1 or 0), "am" if ap2.lower().startswith("p") else "pm")
    if start is None or end is None or start >= 24 * 60:
        return None
    if end <= start:
        end += 24 * 60  # runs past midnight: 10PM-1AM
    return start, end


def _labels(cell: str) -> list[str]:
    # Google and Microsoft Forms join ticked options with ';', Qualtrics with ','
    return [p.strip() for p in re.split(r"[;,\n]", cell) if p.strip()]


def cell_hours(cell: str) -> list[int]:
    """Start minutes of the single-hour labels of a cell (for slot inference)."""
    return [h for h in (_hour(p) for p in _labels(cell)) if h is not None]


def infer_slot_minutes(cells: Iterable[str]) -> int:
    """The smallest step between the grid's single-hour labels: 15, 30 or (default) 60."""
    starts = sorted({h for cell in cells for h in cell_hours(cell)})
    step = min((b - a for a, b in itertools.pairwise(starts)), default=60)
    return step if step in (15, 30) else 60


def _period(text: str, periods: Mapping[str, str]) -> tuple[int, int] | None:
    key = text.strip().casefold()
    for name, span in periods.items():
        if name.casefold() == key:
            parsed = _range(span)
            if parsed is None:
                raise GridCellError(
                    f"period '{name}' = '{span}' is not a range such as 08:00-12:00"
                )
            return parsed
    return None


def parse_cell(
    cell: str, *, slot_minutes: int, periods: Mapping[str, str] = DEFAULT_PERIODS
) -> list[tuple[int, int]]:
    """The local ``(start, end)`` minute intervals a grid cell ticks.

    Raises
    ------
    GridCellError
        On a label that is neither an hour, a range nor a known period.
    """
    out: list[tuple[int, int]] = []
    for label in _labels(cell):
        if label.casefold() in _NONE:
            continue
        start = _hour(label)
        if start is not None and start < 24 * 60:
            out.append((start, min(start + slot_minutes, 24 * 60)))
            continue
        span = _range(label) or _period(label, periods)
        if span is None:
            names = ", ".join(p.title() for p in list(periods)[:3])
            raise GridCellError(
                f"'{label}' is not a time slot (expected e.g. 8AM, 1:30PM, noon, 14:00, "
                f"9-10am or a period: {names} ...)"
            )
        out.append(span)
    return out


def subtract(
    span: Sequence[tuple[int, int]], busy: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The parts of ``span`` outside every ``busy`` interval."""
    free = []
    for start, end in _merge_intervals(list(span)):
        cursor = start
        for b0, b1 in _merge_intervals(list(busy)):
            if b1 <= cursor or b0 >= end:
                continue
            if b0 > cursor:
                free.append((cursor, b0))
            cursor = max(cursor, b1)
        if cursor < end:
            free.append((cursor, end))
    return free


def windows_text(by_day: Mapping[int, Sequence[tuple[int, int]]]) -> str:
    """Free intervals per day as a teamform availability statement."""
    parts = []
    for day in sorted(by_day):
        for start, end in _merge_intervals(list(by_day[day])):
            if end > 24 * 60:  # a range past midnight, e.g. 10PM-1AM
                parts.append(f"{DAY_NAMES[day]} {_fmt(start)}-{_fmt(end - 24 * 60)}")
            else:
                parts.append(f"{DAY_NAMES[day]} {_fmt(start)}-{_fmt(end)}")
    return "; ".join(parts)


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02}:{minutes % 60:02}"
