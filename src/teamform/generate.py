"""Seeded synthetic cohorts: a roster plus avoid/prefer pair lists.

The generator produces learners that look like a distance or blended course:
time zones spread over three world regions, evening-heavy local availability,
correlated skill levels, a working language that follows the region, and
friend/colleague pairs that mostly live in the same region.

Everything is drawn from a single ``numpy.random.default_rng(seed)`` stream, so
the same ``(n, seed, options)`` always gives byte-identical files.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np

from teamform.errors import InputError
from teamform.files import csv_text, write_atomic

_T = TypeVar("_T")

__all__ = ["COLUMNS", "REGIONS", "TIMEZONES", "Cohort", "generate_cohort", "write_cohort"]

#: Roster columns, in file order.
COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "email",
    "timezone",
    "availability",
    "skill_programming",
    "skill_writing",
    "skill_math",
    "motivation",
    "section",
    "language",
    "role",
    "participation",
)

#: World regions and their share of the cohort.
REGIONS: dict[str, float] = {"americas": 0.30, "europe_africa": 0.45, "asia_pacific": 0.25}

# Time zone -> (region, weight within region, name pool, working-language weights).
# Name pools are keys of _NAMES; weights need not sum to one.
_TZ_TABLE: tuple[tuple[str, str, float, str, dict[str, float]], ...] = (
    ("America/New_York", "americas", 30, "anglo", {"en": 85, "es": 15}),
    ("America/Chicago", "americas", 15, "anglo", {"en": 88, "es": 12}),
    ("America/Denver", "americas", 6, "anglo", {"en": 90, "es": 10}),
    ("America/Los_Angeles", "americas", 17, "anglo", {"en": 75, "es": 25}),
    ("America/Mexico_City", "americas", 10, "hispanic", {"es": 95, "en": 5}),
    ("America/Bogota", "americas", 7, "hispanic", {"es": 95, "en": 5}),
    ("America/Sao_Paulo", "americas", 10, "lusophone", {"pt": 90, "en": 7, "es": 3}),
    ("America/Toronto", "americas", 5, "anglo", {"en": 80, "fr": 20}),
    ("Europe/London", "europe_africa", 18, "anglo", {"en": 94, "fr": 3, "es": 3}),
    ("Europe/Paris", "europe_africa", 16, "french", {"fr": 92, "en": 8}),
    ("Europe/Berlin", "europe_africa", 14, "german", {"de": 88, "en": 12}),
    ("Europe/Madrid", "europe_africa", 10, "hispanic", {"es": 93, "en": 7}),
    ("Europe/Lisbon", "europe_africa", 5, "lusophone", {"pt": 88, "en": 12}),
    ("Africa/Lagos", "europe_africa", 13, "west_african", {"en": 96, "fr": 4}),
    ("Africa/Nairobi", "europe_africa", 9, "east_african", {"en": 97, "fr": 3}),
    ("Africa/Casablanca", "europe_africa", 6, "arabic", {"fr": 70, "ar": 20, "en": 10}),
    ("Europe/Istanbul", "europe_africa", 9, "turkish", {"tr": 60, "en": 40}),
    ("Asia/Kolkata", "asia_pacific", 30, "south_asian", {"en": 92, "hi": 8}),
    ("Asia/Kathmandu", "asia_pacific", 5, "south_asian", {"en": 100}),
    ("Asia/Singapore", "asia_pacific", 15, "chinese", {"en": 90, "zh": 10}),
    ("Asia/Tokyo", "asia_pacific", 12, "japanese", {"ja": 75, "en": 25}),
    ("Asia/Dubai", "asia_pacific", 10, "arabic", {"en": 70, "ar": 30}),
    ("Australia/Sydney", "asia_pacific", 14, "anglo", {"en": 100}),
    ("Asia/Manila", "asia_pacific", 10, "filipino", {"en": 100}),
    ("Pacific/Auckland", "asia_pacific", 4, "anglo", {"en": 100}),
)

#: Time zone -> region, for every zone the generator can draw.
TIMEZONES: dict[str, str] = {row[0]: row[1] for row in _TZ_TABLE}

# First and last names per pool; combinations are random, so people are fictional.
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anglo": (
        ("Emily", "James", "Olivia", "Liam", "Grace", "Noah", "Chloe", "Daniel"),
        ("Walker", "Bennett", "Clarke", "Hughes", "Foster", "Morgan", "Reid", "Turner"),
    ),
    "hispanic": (
        ("Sofía", "Mateo", "Valentina", "Santiago", "Lucía", "Diego"),
        ("García", "Rodríguez", "Hernández", "Castillo", "Vargas", "Moreno"),
    ),
    "lusophone": (
        ("João", "Beatriz", "Lucas", "Mariana", "Rafael", "Inês"),
        ("Silva", "Oliveira", "Costa", "Pereira", "Almeida", "Souza"),
    ),
    "french": (
        ("Camille", "Hugo", "Léa", "Antoine", "Manon", "Julien"),
        ("Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau"),
    ),
    "german": (
        ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Sophie"),
        ("Müller", "Schmidt", "Weber", "Fischer", "Hoffmann", "Schäfer"),
    ),
    "west_african": (
        ("Chinedu", "Amara", "Oluwaseun", "Ngozi", "Emeka", "Funmilayo"),
        ("Okafor", "Adeyemi", "Eze", "Okonkwo", "Balogun", "Nwosu"),
    ),
    "east_african": (
        ("Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri", "Baraka"),
        ("Odhiambo", "Kiprono", "Mutua", "Kariuki", "Onyango", "Chebet"),
    ),
    "arabic": (
        ("Youssef", "Fatima", "Omar", "Salma", "Karim", "Leila"),
        ("El Amrani", "Benali", "Haddad", "Mansour", "Khalil", "Bennani"),
    ),
    "turkish": (
        ("Elif", "Emre", "Zeynep", "Mehmet", "Ayşe", "Burak"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Aydın"),
    ),
    "south_asian": (
        ("Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Aarav"),
        ("Sharma", "Iyer", "Reddy", "Nair", "Shrestha", "Thapa"),
    ),
    "japanese": (
        ("Hiroshi", "Yuki", "Haruto", "Sakura", "Aoi", "Kenji"),
        ("Sato", "Tanaka", "Suzuki", "Watanabe", "Ito", "Nakamura"),
    ),
    "chinese": (
        ("Wei", "Jia Hui", "Kai", "Mei", "Jun Jie", "Xin Yi"),
        ("Tan", "Lim", "Ng", "Wong", "Chua", "Goh"),
    ),
    "filipino": (
        ("Angelica", "Paolo", "Kristine", "Mark", "Joanna", "Miguel"),
        ("Reyes", "Cruz", "Bautista", "Mendoza", "Santos", "Villanueva"),
    ),
}
_POOLS: tuple[str, ...] = tuple(_NAMES)
# Share of learners whose name comes from another region's pool (mobility, diaspora).
_NAME_MIX = 0.12

_ROLES: tuple[str, ...] = ("student", "professional", "career-changer")
_ROLE_WEIGHTS = (0.35, 0.45, 0.20)
# Career-changers chose the course themselves more often; students are often enrolled.
_INTRINSIC_BY_ROLE = (0.32, 0.42, 0.50)
# Small role effects on (programming, writing, math) on the latent scale.
_SKILL_SHIFT_BY_ROLE = ((0.0, 0.0, 0.1), (0.25, 0.15, 0.1), (-0.2, 0.2, -0.15))

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Availability archetypes (evening, daytime, night, weekend, sparse; the order of
# _BUILDERS), their catalogue sizes and their share per role (rows follow _ROLES).
# "sparse" is a single one-hour slot: the hard cases for the engine.
_CATALOGUE_SIZE = (80, 24, 14, 16, 12)
_ARCHETYPE_BY_ROLE = (
    (0.55, 0.25, 0.12, 0.06, 0.02),
    (0.74, 0.08, 0.05, 0.11, 0.02),
    (0.70, 0.10, 0.08, 0.10, 0.02),
)

_PREFER_LOCAL = 0.85  # share of preferred pairs inside one region
_PREFER_SAME_TZ = 0.45  # of those, share drawn from the same time zone


@dataclass
class Cohort:
    """A generated cohort.

    Attributes
    ----------
    rows
        One dict per learner, keyed by :data:`COLUMNS`, all values strings.
    avoid
        Pairs of ids that must not share a team.
    prefer
        Pairs of ids that asked to work together; disjoint from ``avoid``.
    """

    rows: list[dict[str, str]] = field(default_factory=list)
    avoid: list[tuple[str, str]] = field(default_factory=list)
    prefer: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _cumulative(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    return cum / cum[-1]


def _region_total(region: str) -> float:
    return sum(w for _, r, w, _, _ in _TZ_TABLE if r == region)


def _normalise(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def _draw(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    """Categorical draw by inverse CDF (plain arithmetic, so identical on every platform)."""
    idx = np.searchsorted(_cumulative(weights), rng.random(size), side="right")
    return np.minimum(idx, len(weights) - 1)


def _draw_rows(rng: np.random.Generator, table: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Draw one category per learner from the row ``table[which[i]]`` of a weight table."""
    cum = np.cumsum(table, axis=1, dtype=np.float64)
    cum /= cum[:, -1:]
    u = rng.random(len(which))
    # Count the cumulative bounds at or below u; u < 1 keeps the index in range.
    return np.minimum((cum[which] <= u[:, None]).sum(axis=1), table.shape[1] - 1)


# Letters without an NFKD decomposition to ASCII need an explicit spelling.
_SPELLING: dict[int, str] = {ord("ı"): "i", ord("ß"): "ss", ord("ø"): "o", ord("æ"): "ae"}


def _ascii_slug(text: str) -> str:
    # NFKD splits accents off their letters; dropping non-ASCII then removes them.
    text = text.translate(_SPELLING)
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(days: str, start: int, end: int) -> str:
    return f"{days} {_hhmm(start)}-{_hhmm(end)}"


def _pick(rng: np.random.Generator, options: Sequence[tuple[_T, float]]) -> tuple[_T, float]:
    """Pick one ``(value, weight)`` option; return the value and its probability."""
    weights = [w for _, w in options]
    i = int(_draw(rng, weights, 1)[0])
    return options[i][0], weights[i] / sum(weights)


def _h(hours: float) -> int:
    return round(hours * 60)


# ------------------------------------------------------------- availability patterns

_LATEST_END = _h(23.5)  # keep windows inside one local day

_WEEKEND_DAYS: tuple[tuple[str, float], ...] = (("Sat", 45), ("Sun", 30), ("Sat,Sun", 25))
_WEEKEND_START: tuple[tuple[int, float], ...] = tuple(
    (_h(h), w)
    for h, w in ((8, 5), (9, 20), (9.5, 8), (10, 20), (13, 8), (14, 20), (15, 10), (16, 9))
)
_WEEKEND_LENGTH: tuple[tuple[int, float], ...] = ((90, 15), (120, 35), (180, 35), (240, 15))


def _weekend_block(rng: np.random.Generator) -> tuple[str, float]:
    days, p1 = _pick(rng, _WEEKEND_DAYS)
    start, p2 = _pick(rng, _WEEKEND_START)
    length, p3 = _pick(rng, _WEEKEND_LENGTH)
    return _window(days, start, start + length), p1 * p2 * p3


def _quarter_shift(
    rng: np.random.Generator, start: int, share: float = 0.06
) -> tuple[int, bool, float]:
    """Shift a start by 15 minutes with probability ``share``: odd times like 18:15."""
    if rng.random() < share:
        return start + 15, True, share
    return start, False, 1.0 - share


class _Pattern(NamedTuple):
    """An availability string from a builder.

    ``stratum`` names the rare-or-common branches taken (an extra block, an odd
    quarter-hour start), ``share`` is the probability of those branches and
    ``prob`` the probability of the other choices given them.
    """

    text: str
    stratum: tuple[bool, bool]
    share: float
    prob: float


def _evening(rng: np.random.Generator) -> _Pattern:
    days, p1 = _pick(
        rng,
        (
            ("Mon-Fri", 40),
            ("Mon-Thu", 18),
            ("Mon,Wed,Fri", 12),
            ("Tue,Thu", 12),
            ("Mon,Tue,Thu", 6),
            ("Tue-Fri", 6),
            ("Wed,Thu", 6),
        ),
    )
    start, p2 = _pick(
        rng,
        tuple(
            (_h(17 + k / 2), w) for k, w in enumerate((6, 10, 16, 14, 18, 14, 12, 6))
        ),  # 17:00 .. 20:30, peaking around 18:00-19:00
    )
    length, p3 = _pick(rng, ((120, 30), (150, 15), (180, 30), (210, 10), (240, 15)))
    start, shifted, p4 = _quarter_shift(rng, start)
    text = _window(days, start, min(start + length, _LATEST_END))
    prob = p1 * p2 * p3
    if rng.random() < 0.6:
        extra, p5 = _weekend_block(rng)
        return _Pattern(f"{text}; {extra}", (True, shifted), 0.6 * p4, prob * p5)
    return _Pattern(text, (False, shifted), 0.4 * p4, prob)


def _daytime(rng: np.random.Generator) -> _Pattern:
    days, p1 = _pick(
        rng,
        (("Tue,Thu", 30), ("Mon,Wed,Fri", 20), ("Mon-Fri", 25), ("Wed", 10), ("Mon-Thu", 15)),
    )
    slot, p2 = _pick(
        rng,
        (
            ((_h(12), _h(14)), 35),  # lunch break
            ((_h(11.5), _h(13.5)), 10),
            ((_h(9), _h(12)), 20),
            ((_h(10), _h(12)), 10),
            ((_h(13), _h(16)), 12),
            ((_h(14), _h(17)), 8),
            ((_h(6.5), _h(8)), 5),  # early birds before work
        ),
    )
    start, shifted, p3 = _quarter_shift(rng, slot[0], 0.04)
    text = _window(days, start, slot[1])
    prob = p1 * p2
    if rng.random() < 0.3:
        extra, p4 = _weekend_block(rng)
        return _Pattern(f"{text}; {extra}", (True, shifted), 0.3 * p3, prob * p4)
    return _Pattern(text, (False, shifted), 0.7 * p3, prob)


def _night(rng: np.random.Generator) -> _Pattern:
    days, p1 = _pick(
        rng,
        (("Mon-Thu", 40), ("Mon-Fri", 25), ("Tue,Thu", 15), ("Mon,Wed,Thu", 10), ("Tue-Fri", 10)),
    )
    start, p2 = _pick(rng, ((_h(21), 45), (_h(21.5), 30), (_h(22), 25)))
    end, p3 = _pick(rng, ((_h(23), 35), (_h(23.5), 55), (_h(23.75), 10)))
    text = _window(days, start, end)
    prob = p1 * p2 * p3
    if rng.random() < 0.4:
        sat, p4 = _pick(rng, (((_h(20), _h(23)), 60), ((_h(21), _h(23.5)), 40)))
        return _Pattern(f"{text}; {_window('Sat', sat[0], sat[1])}", (True, False), 0.4, prob * p4)
    return _Pattern(text, (False, False), 0.6, prob)


def _weekend(rng: np.random.Generator) -> _Pattern:
    parts: list[str] = []
    pattern, prob = _pick(rng, (("Sat", 35), ("Sun", 20), ("both", 45)))
    # One weekday evening often comes on top of the weekend study time.
    weekday = bool(rng.random() < 0.5)
    if weekday:
        day, p = _pick(rng, (("Wed", 40), ("Tue", 30), ("Thu", 30)))
        start, q = _pick(rng, ((_h(19), 50), (_h(20), 50)))
        parts.append(_window(day, start, start + 120))
        prob *= p * q
    for day in ("Sat", "Sun"):
        if pattern in (day, "both"):
            slot, p = _pick(
                rng,
                (
                    ((_h(9), _h(13)), 30),
                    ((_h(10), _h(12)), 20),
                    ((_h(14), _h(18)), 30),
                    ((_h(15), _h(17)), 20),
                ),
            )
            parts.append(_window(day, slot[0], slot[1]))
            prob *= p
    return _Pattern("; ".join(parts), (weekday, False), 0.5, prob)


def _sparse(rng: np.random.Generator) -> _Pattern:
    day, p1 = _pick(rng, tuple((d, 1.0) for d in _DAYS))
    start, p2 = _pick(rng, tuple((_h(h), 1.0) for h in (7, 10, 12, 18, 19, 20, 21)))
    return _Pattern(_window(day, start, start + 60), (False, False), 1.0, p1 * p2)


_BUILDERS: tuple[Callable[[np.random.Generator], _Pattern], ...] = (
    _evening,
    _daytime,
    _night,
    _weekend,
    _sparse,
)


def _catalogue(rng: np.random.Generator) -> list[tuple[list[str], np.ndarray]]:
    """Per archetype, a bounded list of availability strings and their popularity.

    Learners draw from this catalogue rather than from the open pattern space so
    that many of them share a string, as real sign-up forms do. Each string keeps
    the probability of the choices that built it, so common patterns stay common;
    weights are rescaled per stratum because the catalogue covers more of the
    probability of common branches than of rare ones (extra blocks, odd times),
    which would otherwise make those rarer than intended.
    """
    out: list[tuple[list[str], np.ndarray]] = []
    for build, size in zip(_BUILDERS, _CATALOGUE_SIZE, strict=True):
        found: dict[str, _Pattern] = {}
        for _ in range(size * 40):
            pattern = build(rng)
            found.setdefault(pattern.text, pattern)
            if len(found) == size:
                break
        patterns = list(found.values())
        totals: dict[tuple[bool, bool], float] = {}
        for pat in patterns:
            totals[pat.stratum] = totals.get(pat.stratum, 0.0) + pat.prob
        weights = np.array([pat.share * pat.prob / totals[pat.stratum] for pat in patterns])
        out.append((list(found), weights))
    return out


# ------------------------------------------------------------------------ pairs


def _pairs(
    rng: np.random.Generator,
    n: int,
    target: int,
    partner: Callable[[np.ndarray], np.ndarray],
    exclude: np.ndarray,
) -> np.ndarray:
    """Draw ``target`` distinct unordered pairs as keys ``a * n + b`` with ``a < b``."""
    target = min(target, n * (n - 1) // 2 - len(exclude))
    chosen = np.empty(0, dtype=np.int64)
    for _ in range(64):
        if len(chosen) >= target:
            break
        a = rng.integers(0, n, size=max(2 * target, 16))
        b = partner(a)
        keep = a != b
        a, b = a[keep], b[keep]
        keys = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
        keys = np.concatenate([chosen, keys[~np.isin(keys, exclude)]])
        _, first = np.unique(keys, return_index=True)
        chosen = keys[np.sort(first)][:target]  # first occurrences, in draw order
    return np.sort(chosen)


def _same_group_partner(
    rng: np.random.Generator, groups: np.ndarray, anchors: np.ndarray
) -> np.ndarray:
    """For each anchor, a uniformly drawn learner of the anchor's group (maybe itself)."""
    order = np.argsort(groups, kind="stable")
    counts = np.bincount(groups)
    starts = np.cumsum(counts) - counts
    g = groups[anchors]
    offset = np.floor(rng.random(len(anchors)) * counts[g]).astype(np.int64)
    return order[starts[g] + offset]


def _key_pairs(keys: np.ndarray, n: int, ids: Sequence[str]) -> list[tuple[str, str]]:
    return [(ids[k // n], ids[k % n]) for k in keys.tolist()]


# ------------------------------------------------------------ names and sections


def _name_indices(rng: np.random.Generator, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First- and last-name indices per learner, given each learner's name pool.

    Within a pool, learners walk through shuffled (first, last) combinations, so
    full names only repeat once a pool's combinations are used up.
    """
    first = np.zeros(len(pool), dtype=np.int64)
    last = np.zeros(len(pool), dtype=np.int64)
    for p, key in enumerate(_POOLS):
        members = np.flatnonzero(pool == p)
        if not len(members):
            continue
        n_first, n_last = len(_NAMES[key][0]), len(_NAMES[key][1])
        combos = n_first * n_last
        rounds = -(-len(members) // combos)
        # One fresh shuffle of all combinations per round, flattened in order.
        order = np.argsort(rng.random((rounds, combos)), axis=1, kind="stable").ravel()[
            : len(members)
        ]
        first[members], last[members] = np.divmod(order, n_last)
    return first, last


def _section_label(k: int) -> str:
    # Spreadsheet-style labels: A..Z, then AA, AB, ...
    label = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        label = chr(ord("A") + r) + label
    return label


# ------------------------------------------------------------------- public API


def generate_cohort(n: int, seed: int, *, sections: int = 0, participation: bool = False) -> Cohort:
    """Generate a synthetic cohort of ``n`` learners.

    Parameters
    ----------
    n
        Number of learners (at least 1).
    seed
        Seed of the ``numpy.random.default_rng`` stream; the same ``n``, seed
        and options give the same cohort on every run and platform.
    sections
        Number of sections (``A``, ``B``, ...) of uneven sizes; 0 leaves the
        ``section`` column empty. At most ``n``, so every section is used.
    participation
        Fill the ``participation`` column with 0-100 scores skewed high.

    Returns
    -------
    Cohort
        Roster rows (columns :data:`COLUMNS`), about ``n / 10`` avoid pairs and
        about ``n / 8`` prefer pairs, mostly within one region.

    Raises
    ------
    InputError
        If ``n``, ``seed`` or ``sections`` is out of range.

    Notes
    -----
    Ids are ``L`` plus the 1-based row number, zero-padded to at least five
    digits (``L00001``) and to more when ``n`` needs them, so they sort in
    roster order.
    """
    if seed < 0:
        raise InputError(f"the seed must be a non-negative integer (got {seed})")
    if n < 1:
        raise InputError(f"the number of learners must be at least 1 (got {n})")
    if not 0 <= sections <= n:
        raise InputError(f"sections must be between 0 and the number of learners (got {sections})")
    rng = np.random.default_rng(seed)
    catalogue = _catalogue(rng)

    # Time zone (joint region x zone weight), then what follows from it.
    tz_weights = [REGIONS[region] * w / _region_total(region) for _, region, w, _, _ in _TZ_TABLE]
    tz = _draw(rng, tz_weights, n)
    region_names = list(REGIONS)
    region = np.array([region_names.index(r[1]) for r in _TZ_TABLE])[tz]

    languages = sorted({lang for row in _TZ_TABLE for lang in row[4]})
    lang_table = np.array([[row[4].get(lang, 0.0) for lang in languages] for row in _TZ_TABLE])
    language = _draw_rows(rng, lang_table, tz)

    local_pool = np.array([_POOLS.index(row[3]) for row in _TZ_TABLE])[tz]
    mixed = rng.random(n) < _NAME_MIX
    pool = np.where(mixed, rng.integers(0, len(_POOLS), n), local_pool)
    first, last = _name_indices(rng, pool)

    role = _draw(rng, _ROLE_WEIGHTS, n)
    intrinsic = rng.random(n) < np.asarray(_INTRINSIC_BY_ROLE)[role]

    # Skills: a general ability plus a quantitative factor shared by programming
    # and math, so those two correlate more with each other than with writing.
    ability = rng.standard_normal(n)
    quant = rng.standard_normal(n)
    noise = rng.standard_normal((3, n))
    latent = (
        np.stack(
            [
                0.60 * ability + 0.55 * quant + 0.58 * noise[0],
                0.65 * ability + 0.76 * noise[1],
                0.60 * ability + 0.55 * quant + 0.58 * noise[2],
            ]
        )
        + np.asarray(_SKILL_SHIFT_BY_ROLE).T[:, role]
    )
    skills = np.clip(np.floor(latent + 3.5), 1, 5).astype(np.int64)

    archetype = _draw_rows(rng, np.asarray(_ARCHETYPE_BY_ROLE), role)
    avail: list[str] = [""] * n
    u = rng.random(n)
    for a, (texts, weights) in enumerate(catalogue):
        members = np.flatnonzero(archetype == a)
        picks = np.minimum(
            np.searchsorted(_cumulative(weights), u[members], side="right"), len(texts) - 1
        )
        for i, p in zip(members.tolist(), picks.tolist(), strict=True):
            avail[i] = texts[p]

    section_col = [""] * n
    if sections:
        # One learner per section first, the rest spread by uneven weights.
        sizes = 1 + rng.multinomial(n - sections, _normalise(rng.uniform(0.5, 1.5, sections)))
        sizes = np.sort(sizes)[::-1]
        labels = np.repeat(np.arange(sections), sizes)[rng.permutation(n)]
        section_col = [_section_label(k) for k in labels.tolist()]

    part_col = [""] * n
    if participation:
        # Max of k uniforms skews high; motivated learners get one more draw.
        draws = rng.random((3, n))
        score = np.where(intrinsic, draws.max(axis=0), draws[:2].max(axis=0))
        dropped = rng.random(n) < 0.03  # a few stopped taking part
        score = np.where(dropped, 0.15 * rng.random(n), score)
        part_col = [str(v) for v in np.floor(100 * score + 0.5).astype(np.int64).tolist()]

    width = max(5, len(str(n)))
    ids = [f"L{i:0{width}d}" for i in range(1, n + 1)]

    avoid_keys = _pairs(
        rng, n, int(n / 10 + 0.5), lambda a: rng.integers(0, n, len(a)), np.empty(0, np.int64)
    )

    def friend(a: np.ndarray) -> np.ndarray:
        # Friends and colleagues: mostly the same region, often the same city.
        u = rng.random(len(a))
        same_tz = _same_group_partner(rng, tz, a)
        same_region = _same_group_partner(rng, region, a)
        anyone = rng.integers(0, n, len(a))
        local = np.where(u < _PREFER_LOCAL * _PREFER_SAME_TZ, same_tz, same_region)
        return np.where(u < _PREFER_LOCAL, local, anyone)

    prefer_keys = _pairs(rng, n, int(n / 8 + 0.5), friend, avoid_keys)

    tz_names = [row[0] for row in _TZ_TABLE]
    motivation = np.where(intrinsic, "intrinsic", "imposed").tolist()
    rows: list[dict[str, str]] = []
    for i, (t, lg, pl, f, la, r, mot, sp, sw, sm) in enumerate(
        zip(
            tz.tolist(),
            language.tolist(),
            pool.tolist(),
            first.tolist(),
            last.tolist(),
            role.tolist(),
            motivation,
            skills[0].tolist(),
            skills[1].tolist(),
            skills[2].tolist(),
            strict=True,
        )
    ):
        given, family = _NAMES[_POOLS[pl]][0][f], _NAMES[_POOLS[pl]][1][la]
        rows.append(
            {
                "id": ids[i],
                "name": f"{given} {family}",
                "email": f"{_ascii_slug(given)}.{_ascii_slug(family)}{i + 1}@example.org",
                "timezone": tz_names[t],
                "availability": avail[i],
                "skill_programming": str(sp),
                "skill_writing": str(sw),
                "skill_math": str(sm),
                "motivation": mot,
                "section": section_col[i],
                "language": languages[lg],
                "role": _ROLES[r],
                "participation": part_col[i],
            }
        )
    return Cohort(
        rows=rows,
        avoid=_key_pairs(avoid_keys, n, ids),
        prefer=_key_pairs(prefer_keys, n, ids),
    )


def write_cohort(cohort: Cohort, out_dir: Path) -> dict[str, Path]:
    """Write ``roster.csv``, ``avoid.csv`` and ``prefer.csv`` into ``out_dir``.

    Each file is written to a temporary file in ``out_dir`` and renamed into
    place, so an interrupted run never leaves a truncated file.

    Parameters
    ----------
    cohort
        The cohort to write, e.g. from :func:`generate_cohort`.
    out_dir
        Target directory; created (with parents) if missing.

    Returns
    -------
    dict[str, Path]
        Paths keyed by ``"roster"``, ``"avoid"`` and ``"prefer"``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "roster": out_dir / "roster.csv",
        "avoid": out_dir / "avoid.csv",
        "prefer": out_dir / "prefer.csv",
    }
    # synthetic inputs, written exactly as generated (no formula neutralising)
    roster = [[row.get(col, "") for col in COLUMNS] for row in cohort.rows]
    write_atomic(paths["roster"], csv_text(COLUMNS, roster, safe=False))
    write_atomic(paths["avoid"], csv_text(("id_a", "id_b"), cohort.avoid, safe=False))
    write_atomic(paths["prefer"], csv_text(("id_a", "id_b"), cohort.prefer, safe=False))
    return paths
