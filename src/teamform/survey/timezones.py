"""Time-zone answers of a survey to IANA zones.

Surveys rarely ask for an IANA name. Answers look like ``Eastern: US and Canada
[GMT-05:00]`` (gruepr), ``(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi``
(Windows' list, used by Microsoft Forms templates), ``GMT+2`` or a city. The
label is read in this order: an IANA name; a region or city named in it (a zone
whose last component is that city, or a region such as ``Eastern`` or
``India``); else the UTC offset alone, as a fixed-offset zone. When a label
names both a place and an offset that the place never has, the place wins and
the mismatch is reported.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from teamform.availability import is_valid_timezone

__all__ = ["ZoneChoice", "label_offset", "match_timezone"]

# Region names of survey and Windows time-zone lists that are not IANA city names.
_REGIONS: dict[str, str] = {
    "eastern": "America/New_York",
    "us eastern": "America/New_York",
    "central": "America/Chicago",
    "us central": "America/Chicago",
    "mountain": "America/Denver",
    "us mountain": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific": "America/Los_Angeles",
    "us pacific": "America/Los_Angeles",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "atlantic": "America/Halifax",
    "newfoundland": "America/St_Johns",
    "saskatchewan": "America/Regina",
    "utc": "UTC",
    "coordinated universal": "UTC",
    "greenwich mean": "Europe/London",
    "british": "Europe/London",
    "uk": "Europe/London",
    "united kingdom": "Europe/London",
    "edinburgh": "Europe/London",
    "ireland": "Europe/Dublin",
    "western europe": "Europe/Lisbon",
    "west europe": "Europe/Berlin",
    "central europe": "Europe/Berlin",
    "central european": "Europe/Berlin",
    "romance": "Europe/Paris",
    "bern": "Europe/Zurich",
    "eastern europe": "Europe/Bucharest",
    "eastern european": "Europe/Bucharest",
    "india": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "sri jayawardenepura": "Asia/Colombo",
    "nepal": "Asia/Kathmandu",
    "china": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "chongqing": "Asia/Shanghai",
    "japan": "Asia/Tokyo",
    "osaka": "Asia/Tokyo",
    "sapporo": "Asia/Tokyo",
    "korea": "Asia/Seoul",
    "singapore": "Asia/Singapore",
    "philippines": "Asia/Manila",
    "indonesia": "Asia/Jakarta",
    "vietnam": "Asia/Ho_Chi_Minh",
    "hanoi": "Asia/Bangkok",
    "arabian": "Asia/Dubai",
    "abu dhabi": "Asia/Dubai",
    "muscat": "Asia/Muscat",
    "israel": "Asia/Jerusalem",
    "iran": "Asia/Tehran",
    "afghanistan": "Asia/Kabul",
    "pakistan": "Asia/Karachi",
    "islamabad": "Asia/Karachi",
    "myanmar": "Asia/Yangon",
    "turkey": "Europe/Istanbul",
    "south africa": "Africa/Johannesburg",
    "pretoria": "Africa/Johannesburg",
    "east africa": "Africa/Nairobi",
    "west central africa": "Africa/Lagos",
    "egypt": "Africa/Cairo",
    "morocco": "Africa/Casablanca",
    "brazil": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo",
    "argentina": "America/Argentina/Buenos_Aires",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "mexico": "America/Mexico_City",
    "guadalajara": "America/Mexico_City",
    "monterrey": "America/Monterrey",
    "quito": "America/Bogota",
    "colombia": "America/Bogota",
    "aus eastern": "Australia/Sydney",
    "australia eastern": "Australia/Sydney",
    "canberra": "Australia/Sydney",
    "aus central": "Australia/Darwin",
    "cen australia": "Australia/Adelaide",
    "w australia": "Australia/Perth",
    "western australia": "Australia/Perth",
    "new zealand": "Pacific/Auckland",
    "wellington": "Pacific/Auckland",
    "samoa": "Pacific/Apia",
}

# Offsets that no "Etc/GMT" zone covers, to the zone most people mean by them.
_HALF_HOUR_ZONES: dict[int, str] = {
    -570: "Pacific/Marquesas",
    -210: "America/St_Johns",
    210: "Asia/Tehran",
    270: "Asia/Kabul",
    330: "Asia/Kolkata",
    345: "Asia/Kathmandu",
    390: "Asia/Yangon",
    525: "Australia/Eucla",
    570: "Australia/Darwin",
    630: "Australia/Lord_Howe",
    765: "Pacific/Chatham",
}

_OFFSET = re.compile(
    r"(?:\b(?:utc|gmt)\s*)?([+\-\u2212])\s*(\d{1,2})(?:[:.h]?(\d{2}))?\b", re.IGNORECASE
)
_OFFSET_NEEDS_PREFIX = re.compile(r"\b(?:utc|gmt)\s*[+\-\u2212]\s*\d", re.IGNORECASE)
_SUFFIXES = (" standard time", " daylight time", " time", " standard")


class ZoneChoice:
    """The zone chosen for one label, and how.

    Attributes
    ----------
    zone
        IANA name.
    how
        ``iana``, ``place`` (a region or city in the label) or ``offset``
        (a fixed UTC offset, no daylight-saving time).
    note
        Anything the tutor should check (an offset that contradicts the
        place), else ``""``.
    """

    __slots__ = ("how", "note", "zone")

    def __init__(self, zone: str, how: str, note: str = "") -> None:
        self.zone = zone
        self.how = how
        self.note = note

    def __repr__(self) -> str:
        return f"ZoneChoice({self.zone!r}, {self.how!r})"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain.replace("_", " ")).strip().casefold()


@cache
def _iana_by_fold() -> dict[str, str]:
    return {_fold(z): z for z in available_timezones()}


@cache
def _cities() -> dict[str, str]:
    """Last component of every regional zone (``kolkata``, ``new york``) to the zone."""
    out: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        area, _, city = zone.rpartition("/")
        if not area or area.split("/")[0] in ("Etc", "SystemV", "US", "Canada", "Brazil", "Chile"):
            continue
        out.setdefault(_fold(city), zone)
    return out


def label_offset(label: str) -> int | None:
    """The UTC offset in minutes written in a label (``[GMT-05:00]``, ``UTC+5:30``), if any."""
    text = label.replace("\u2212", "-")
    bare = text.strip().lower()
    if bare in ("utc", "gmt", "z"):
        return 0
    m = None
    for candidate in _OFFSET.finditer(text):
        start = candidate.start()
        prefixed = _OFFSET_NEEDS_PREFIX.match(text, start) is not None
        # a bare "+2" counts only when the whole label is an offset
        if prefixed or text.strip() == candidate.group(0).strip():
            m = candidate
            break
    if m is None:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes >= 60:
        return None
    sign = -1 if m.group(1) in "-\u2212" else 1
    return sign * (hours * 60 + minutes)


#: Years whose winter and summer offsets count as a zone's (fixed, so that an
#: import does not depend on the day it runs; recent rule changes included).
OFFSET_YEARS = range(2015, 2036)


@cache
def _zone_offsets(zone: str) -> frozenset[int]:
    tz = ZoneInfo(zone)
    out = set()
    for year in OFFSET_YEARS:
        for month in (1, 7):
            off = datetime(year, month, 15, 12, tzinfo=tz).utcoffset() or timedelta()
            out.add(int(off.total_seconds() // 60))
    return frozenset(out)


def _places(label: str) -> list[str]:
    # "Eastern: US and Canada [GMT-05:00]" -> ["eastern", "us and canada"]
    text = re.sub(r"[\[(](?:utc|gmt)[^\])]*[\])]", " ", label, flags=re.IGNORECASE)
    text = _OFFSET.sub(" ", text)
    parts = re.split(r"[,:;/()\[\]&]| - | and ", text)
    out = []
    for part in parts:
        name = _fold(part)
        if not name:
            continue
        out.append(name)
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                out.append(name[: -len(suffix)].strip())
    return out


def _fixed(offset: int) -> str:
    if offset == 0:
        return "UTC"
    if offset % 60 == 0:
        # POSIX sign convention: Etc/GMT-2 is two hours ahead of UTC
        return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset) // 60}"
    return _HALF_HOUR_ZONES.get(offset, "")


def _fmt_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02}:{abs(minutes) % 60:02}"


def match_timezone(label: str, overrides: dict[str, str] | None = None) -> ZoneChoice | None:
    """The IANA zone a time-zone answer means, or ``None`` when it cannot be told.

    Parameters
    ----------
    label
        The answer as written.
    overrides
        Label to IANA name, from the mapping file's ``[timezones]`` table;
        checked first (labels compared case- and accent-insensitively).
    """
    text = label.strip()
    if not text:
        return None
    for key, zone in (overrides or {}).items():
        if _fold(key) == _fold(text):
            return ZoneChoice(zone, "mapping")
    if is_valid_timezone(text):
        return ZoneChoice(text, "iana")
    folded = _fold(text)
    if folded in _iana_by_fold():
        return ZoneChoice(_iana_by_fold()[folded], "iana")
    offset = label_offset(text)
    cities = _cities()
    for place in _places(text):
        found = _REGIONS.get(place) or cities.get(place)
        if found is None:
            continue
        zone = found
        note = ""
        if offset is not None and offset not in _zone_offsets(zone):
            note = f"the label says {_fmt_offset(offset)}, which {zone} never is"
        return ZoneChoice(zone, "place", note)
    if offset is not None:
        fixed = _fixed(offset)
        if fixed.startswith(("Etc/", "UTC")):
            return ZoneChoice(
                fixed, "offset", f"fixed offset {_fmt_offset(offset)}, no summer time"
            )
        if fixed:
            return ZoneChoice(fixed, "offset", f"{_fmt_offset(offset)} taken as {fixed}")
    return None
