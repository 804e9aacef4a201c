"""Tests for the synthetic cohort generator."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from teamform.errors import InputError
from teamform.generate import COLUMNS, TIMEZONES, Cohort, generate_cohort, write_cohort

REPO = Path(__file__).resolve().parents[1]

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAYS = rf"(?:{_DAY}-{_DAY}|{_DAY}(?:,{_DAY})*)"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d"
_WINDOW = rf"{_DAYS} {_TIME}-{_TIME}"
AVAILABILITY = re.compile(rf"^{_WINDOW}(?:; {_WINDOW})*$")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

REGION_SHARES = {"americas": 0.30, "europe_africa": 0.45, "asia_pacific": 0.25}


@pytest.fixture(scope="module")
def cohort2000() -> Cohort:
    return generate_cohort(2000, 1)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _windows(text: str) -> list[tuple[list[int], int, int]]:
    """Parse a (grammar-checked) availability string into (days, start, end) windows."""
    out = []
    for window in text.split("; "):
        days_part, times = window.split(" ")
        start, end = times.split("-")
        if "-" in days_part:
            first, last = days_part.split("-")
            days = list(range(DAY_NAMES.index(first), DAY_NAMES.index(last) + 1))
        else:
            days = [DAY_NAMES.index(d) for d in days_part.split(",")]
        out.append((days, _minutes(start), _minutes(end)))
    return out


def _pair_ok(cohort: Cohort) -> None:
    ids = {row["id"] for row in cohort.rows}
    seen: dict[str, set[frozenset[str]]] = {"avoid": set(), "prefer": set()}
    for kind, pairs in (("avoid", cohort.avoid), ("prefer", cohort.prefer)):
        for a, b in pairs:
            assert a in ids and b in ids
            assert a != b
            key = frozenset((a, b))
            assert key not in seen[kind], f"duplicate {kind} pair {a},{b}"
            seen[kind].add(key)
    assert not seen["avoid"] & seen["prefer"]


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_cohort() -> None:
    a = generate_cohort(300, 7, sections=3, participation=True)
    b = generate_cohort(300, 7, sections=3, participation=True)
    assert a == b


def test_different_seed_gives_different_cohort() -> None:
    a = generate_cohort(300, 7)
    b = generate_cohort(300, 8)
    assert a.rows != b.rows
    assert a.prefer != b.prefer


def test_written_files_are_byte_identical(tmp_path: Path) -> None:
    first = write_cohort(generate_cohort(200, 3), tmp_path / "one")
    second = write_cohort(generate_cohort(200, 3), tmp_path / "two")
    for key in ("roster", "avoid", "prefer"):
        assert first[key].read_bytes() == second[key].read_bytes()


# ---------------------------------------------------------------- roster shape


def test_columns_and_ids(cohort2000: Cohort) -> None:
    assert len(cohort2000.rows) == 2000
    for row in cohort2000.rows:
        assert tuple(row) == COLUMNS
        assert all(isinstance(v, str) for v in row.values())
    ids = [row["id"] for row in cohort2000.rows]
    assert ids[0] == "L00001" and ids[-1] == "L02000"
    assert len(set(ids)) == len(ids)


def test_id_width_grows_with_n() -> None:
    assert generate_cohort(3, 1).rows[0]["id"] == "L00001"
    rows = generate_cohort(100_000, 1).rows
    assert rows[0]["id"] == "L000001" and rows[-1]["id"] == "L100000"


def test_names_and_emails(cohort2000: Cohort) -> None:
    email = re.compile(r"^[a-z]+\.[a-z]+(\d+)@example\.org$")
    emails = []
    for i, row in enumerate(cohort2000.rows, start=1):
        assert len(row["name"].split(" ")) >= 2
        match = email.match(row["email"])
        assert match, row["email"]
        assert int(match.group(1)) == i
        emails.append(row["email"])
    assert len(set(emails)) == len(emails)
    # Varied names, several regions.
    assert len({row["name"].split(" ")[0] for row in cohort2000.rows}) >= 40


def test_small_cohort_has_no_repeated_full_names() -> None:
    names = [row["name"] for row in generate_cohort(60, 5).rows]
    assert len(set(names)) == len(names)


def test_value_domains(cohort2000: Cohort) -> None:
    languages = {"en", "fr", "es", "pt", "de", "tr", "ar", "hi", "ja", "zh"}
    for row in cohort2000.rows:
        assert row["timezone"] in TIMEZONES
        for skill in ("skill_programming", "skill_writing", "skill_math"):
            assert row[skill] in {"1", "2", "3", "4", "5"}
        assert row["motivation"] in {"intrinsic", "imposed"}
        assert row["section"] == ""
        assert row["language"] in languages
        assert row["role"] in {"student", "professional", "career-changer"}
        assert row["participation"] == ""
    for tz in {row["timezone"] for row in cohort2000.rows}:
        ZoneInfo(tz)  # a real IANA name
    for skill in ("skill_programming", "skill_writing", "skill_math"):
        assert {row[skill] for row in cohort2000.rows} == {"1", "2", "3", "4", "5"}


def test_sections_are_uneven_and_all_used() -> None:
    cohort = generate_cohort(600, 2, sections=4)
    sizes = Counter(row["section"] for row in cohort.rows)
    assert set(sizes) == {"A", "B", "C", "D"}
    assert len(set(sizes.values())) > 1
    assert sum(sizes.values()) == 600


def test_many_sections_get_spreadsheet_labels() -> None:
    labels = {row["section"] for row in generate_cohort(40, 2, sections=28).rows}
    assert {"A", "Z", "AA", "AB"} <= labels and len(labels) == 28


def test_participation_scores_skew_high() -> None:
    rows = generate_cohort(2000, 4, participation=True).rows
    scores = np.array([int(row["participation"]) for row in rows])
    assert scores.min() >= 0 and scores.max() <= 100
    assert np.median(scores) > 60
    intrinsic = np.array([row["motivation"] == "intrinsic" for row in rows])
    assert scores[intrinsic].mean() > scores[~intrinsic].mean()


@pytest.mark.parametrize(
    ("n", "seed", "sections"), [(0, 1, 0), (-5, 1, 0), (10, 1, -1), (10, 1, 11), (10, -1, 0)]
)
def test_bad_arguments_raise_input_error(n: int, seed: int, sections: int) -> None:
    with pytest.raises(InputError):
        generate_cohort(n, seed, sections=sections)


def test_tiny_cohorts() -> None:
    one = generate_cohort(1, 1, sections=1)
    assert len(one.rows) == 1 and one.avoid == [] and one.prefer == []
    assert one.rows[0]["section"] == "A"
    _pair_ok(generate_cohort(2, 1))
    _pair_ok(generate_cohort(5, 1))


# ---------------------------------------------------------------- availability


def test_availability_matches_grammar(cohort2000: Cohort) -> None:
    for row in cohort2000.rows:
        text = row["availability"]
        assert AVAILABILITY.match(text), text
        used: set[int] = set()
        for days, start, end in _windows(text):
            assert days == sorted(set(days)) and days
            assert start < end
            assert start % 15 == 0 and end % 15 == 0
            # No day listed in two windows: windows never overlap.
            assert not used & set(days), text
            used |= set(days)


def test_availability_is_realistic(cohort2000: Cohort) -> None:
    texts = [row["availability"] for row in cohort2000.rows]
    counts = Counter(texts)
    # A moderate pattern set that many learners share.
    assert len(counts) < 250
    assert counts.most_common(1)[0][1] >= 40
    windows = [_windows(t) for t in texts]
    evening = sum(any(d[0] < 5 and 17 * 60 <= s <= 20 * 60 + 45 for d, s, _ in w) for w in windows)
    weekend = sum(any(5 in d or 6 in d for d, _, _ in w) for w in windows)
    sparse = sum(len(w) == 1 and len(w[0][0]) == 1 and w[0][2] - w[0][1] == 60 for w in windows)
    odd = sum(any(s % 30 or e % 30 for _, s, e in w) for w in windows)
    assert 0.5 < evening / 2000 < 0.8
    assert 0.35 < weekend / 2000 < 0.75
    assert 0.005 < sparse / 2000 < 0.04
    assert 0 < odd / 2000 < 0.1


# ---------------------------------------------------------------- proportions


def test_proportions(cohort2000: Cohort) -> None:
    rows = cohort2000.rows
    intrinsic = sum(row["motivation"] == "intrinsic" for row in rows) / len(rows)
    assert 0.35 <= intrinsic <= 0.45
    regions = Counter(TIMEZONES[row["timezone"]] for row in rows)
    for region, share in REGION_SHARES.items():
        assert abs(regions[region] / len(rows) - share) < 0.04, region
    roles = Counter(row["role"] for row in rows)
    assert set(roles) == {"student", "professional", "career-changer"}


def test_timezones_uneven_within_region(cohort2000: Cohort) -> None:
    counts = Counter(row["timezone"] for row in cohort2000.rows)
    assert counts["America/New_York"] > 3 * counts["America/Denver"]
    assert counts["Asia/Kolkata"] > 3 * counts["Asia/Kathmandu"]


def test_language_follows_region(cohort2000: Cohort) -> None:
    def main_language(tz: str) -> str:
        langs = Counter(row["language"] for row in cohort2000.rows if row["timezone"] == tz)
        return langs.most_common(1)[0][0]

    assert main_language("America/Sao_Paulo") == "pt"
    assert main_language("Europe/Paris") == "fr"
    assert main_language("Europe/Berlin") == "de"
    assert main_language("America/Mexico_City") == "es"
    assert main_language("Asia/Kolkata") == "en"


def test_skills_correlated(cohort2000: Cohort) -> None:
    skills = np.array(
        [
            [int(row[c]) for c in ("skill_programming", "skill_writing", "skill_math")]
            for row in cohort2000.rows
        ]
    )
    corr = np.corrcoef(skills.T)
    prog_math, prog_writing, math_writing = corr[0, 2], corr[0, 1], corr[2, 1]
    assert prog_writing > 0.2 and math_writing > 0.2
    assert prog_math > prog_writing + 0.1
    assert prog_math > math_writing + 0.1


# ---------------------------------------------------------------- pairs


def test_pairs_valid_and_sized(cohort2000: Cohort) -> None:
    _pair_ok(cohort2000)
    assert abs(len(cohort2000.avoid) - 200) <= 10
    assert abs(len(cohort2000.prefer) - 250) <= 10


def test_preferred_pairs_mostly_same_region(cohort2000: Cohort) -> None:
    tz = {row["id"]: row["timezone"] for row in cohort2000.rows}
    same = sum(TIMEZONES[tz[a]] == TIMEZONES[tz[b]] for a, b in cohort2000.prefer)
    assert same / len(cohort2000.prefer) > 0.75


@pytest.mark.parametrize("seed", range(5))
def test_pairs_valid_small(seed: int) -> None:
    _pair_ok(generate_cohort(30, seed))


# ---------------------------------------------------------------- writing


def test_write_cohort_round_trip(tmp_path: Path) -> None:
    cohort = generate_cohort(150, 9, sections=2, participation=True)
    out = tmp_path / "nested" / "dir"
    paths = write_cohort(cohort, out)
    assert set(paths) == {"roster", "avoid", "prefer"}
    assert sorted(p.name for p in out.iterdir()) == ["avoid.csv", "prefer.csv", "roster.csv"]
    with paths["roster"].open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        assert list(reader) == cohort.rows
    for key, pairs in (("avoid", cohort.avoid), ("prefer", cohort.prefer)):
        lines = paths[key].read_text(encoding="utf-8").splitlines()
        assert lines[0] == "id_a,id_b"
        assert [tuple(line.split(",")) for line in lines[1:]] == pairs


def test_write_cohort_replaces_existing_files(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("old\n", encoding="utf-8")
    write_cohort(generate_cohort(20, 1), tmp_path)
    assert (tmp_path / "roster.csv").read_text(encoding="utf-8").startswith("id,name,")
    assert len(list(tmp_path.iterdir())) == 3  # no temporary files left behind


# ---------------------------------------------------------------- committed data


@pytest.mark.parametrize(
    ("folder", "n", "seed", "participation"),
    [
        ("synthetic/n30_s1", 30, 1, False),
        ("synthetic/n120_s1", 120, 1, False),
        ("demo", 60, 33, True),
    ],
)
def test_committed_instances_are_reproducible(
    tmp_path: Path, folder: str, n: int, seed: int, participation: bool
) -> None:
    paths = write_cohort(generate_cohort(n, seed, participation=participation), tmp_path)
    for key, path in paths.items():
        committed = REPO / "instances" / folder / path.name
        assert committed.read_bytes() == path.read_bytes(), key


# ---------------------------------------------------------------- scale


def test_fifty_thousand_learners() -> None:
    start = time.perf_counter()
    cohort = generate_cohort(50_000, 1)
    elapsed = time.perf_counter() - start
    assert len(cohort.rows) == 50_000
    assert len({row["id"] for row in cohort.rows}) == 50_000
    assert abs(len(cohort.avoid) - 5000) <= 50 and abs(len(cohort.prefer) - 6250) <= 50
    assert elapsed < 10  # generous: typically well under a second
