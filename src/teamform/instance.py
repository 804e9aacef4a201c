"""Compile a roster and a formation model into the arrays the search works on.

An :class:`Instance` is everything the engine needs, in flat numpy arrays and
plain Python ints, with memory linear in the number of learners (pair lists are
explicit). It also fixes the team layout: how many teams, their size bounds and
their section.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from teamform.availability import (
    SLOT_MINUTES,
    IndexedAvailabilityError,
    availability_masks,
)
from teamform.criteria.base import SKILL_SCALE as SKILL_SCALE  # skills in hundredths
from teamform.errors import InputError, raise_problems
from teamform.gcpause import gc_paused
from teamform.model import FormationModel
from teamform.pins import PinData, Pins, compile_pins
from teamform.roster import NEEDED_BY, Roster

if TYPE_CHECKING:
    from teamform.criteria.project import ProjectData

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The week availability is placed in when neither the model nor the caller
#: gives a date: a January Monday (standard time in the northern hemisphere).
DEFAULT_REFERENCE_DATE = date(2026, 1, 5)


@dataclass
class Categories:
    """One categorical column, encoded: ``codes[i]`` indexes ``values``."""

    column: str
    codes: IntArray
    values: list[str]


@dataclass
class Instance:
    """A compiled problem: learners, teams and data, ready for the search.

    Attributes
    ----------
    n, k
        Number of learners and of teams.
    ids
        Learner ids, in roster order (learner ``i`` is ``ids[i]``).
    team_lo, team_hi
        Size bounds of each team.
    team_section, section
        Section code of each team and of each learner (0 when there are none).
    skills
        ``(n, S)`` skill levels in hundredths of a point.
    intrinsic
        Whether each learner is intrinsically motivated.
    masks
        Weekly UTC availability of each learner as a bit set (one bit per slot).
    avoid, prefer
        ``(E, 2)`` arrays of learner-index pairs.
    """

    roster: Roster
    model: FormationModel
    n: int
    k: int
    ids: list[str]
    team_lo: IntArray
    team_hi: IntArray
    team_section: IntArray
    section: IntArray
    section_names: list[str]
    skill_names: list[str]
    skills: IntArray
    intrinsic: BoolArray
    masks: list[int]
    reference_date: date
    categories: dict[str, Categories]
    avoid: IntArray
    prefer: IntArray
    participation: npt.NDArray[np.float64] | None = None
    #: earlier teammates: ``(i, j)`` with ``i < j`` to the number of phases they shared
    history: dict[tuple[int, int], int] = field(default_factory=dict)
    #: current team index of each learner, -1 for none (late joiners)
    previous: IntArray | None = None
    #: integer pairwise distances for the diversity criterion, and their scale
    distances: IntArray | None = None
    distance_factor: float = 1.0
    #: compiled pins (learners fixed to teams, keep-together groups, fixed teams)
    pins: PinData | None = None
    #: the projects on offer and each learner's ranked choices
    projects: ProjectData | None = None
    _avoid_adj: list[list[int]] | None = field(default=None, repr=False)
    _prefer_adj: list[list[int]] | None = field(default=None, repr=False)
    _mask_words: npt.NDArray[np.uint64] | None = field(default=None, repr=False)

    @property
    def avoid_adj(self) -> list[list[int]]:
        """For each learner, the learners it must not share a team with."""
        if self._avoid_adj is None:
            self._avoid_adj = _adjacency(self.n, self.avoid)
        return self._avoid_adj

    @property
    def prefer_adj(self) -> list[list[int]]:
        """For each learner, the learners it asked to work with."""
        if self._prefer_adj is None:
            self._prefer_adj = _adjacency(self.n, self.prefer)
        return self._prefer_adj

    @property
    def mask_words(self) -> npt.NDArray[np.uint64]:
        """``masks`` as an ``(n, words)`` array of 64-bit words, for compiled code."""
        if self._mask_words is None:
            from teamform.search.bitsets import to_words

            self._mask_words = to_words(self.masks)
        return self._mask_words

    def teams_of_section(self, s: int) -> IntArray:
        """Team indices reserved for section ``s``."""
        return np.flatnonzero(self.team_section == s)


def _adjacency(n: int, pairs: IntArray) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in pairs.tolist():
        adj[a].append(b)
        adj[b].append(a)
    return adj


@gc_paused()
def build_instance(
    roster: Roster,
    model: FormationModel,
    *,
    history: Mapping[tuple[str, str], int] | None = None,
    previous: Mapping[str, int] | None = None,
    pins: Pins | None = None,
    previous_projects: Mapping[int, str] | None = None,
    today: date | None = None,
    distances: npt.ArrayLike | None = None,
) -> Instance:
    """Check a roster against a model and compile both into an :class:`Instance`.

    A pure function of its arguments: it reads no file and no clock.

    Parameters
    ----------
    roster, model
        The cohort and the formation model.
    history
        Earlier teammates: learner-id pair to the number of phases they
        shared (for the ``no_repeat`` criterion). Pairs naming learners not in
        the roster (dropouts) are ignored.
    previous
        Current team number (from 1) of each learner, for the ``stability``
        criterion; learners not listed have no current team, ids not in the
        roster are ignored.
    pins
        Learners fixed to teams, keep-together groups and fixed teams (see
        :class:`teamform.Pins`). Pins that cannot hold are not raised but
        listed on ``Instance.pins.conflicts`` (the solver reports them).
    previous_projects
        Team number (from 1) to its project in the previous phase, kept when
        the model's ``criteria.projects.keep`` is set.
    today
        The date of the formation: availability is placed in its week (so
        daylight-saving time is right) unless the model's
        ``criteria.overlap.reference_date`` names another week; without
        either, :data:`DEFAULT_REFERENCE_DATE`. :func:`teamform.form` passes
        the current date.
    distances
        ``(n, n)`` pairwise distances between the learners, in roster order,
        for the diversity criterion. Needed when the model reads them from a
        file (``criteria.diversity.matrix``):
        :func:`teamform.distances.model_distances` reads it. Computed from the
        roster when the model names columns.

    Raises
    ------
    InputError
        When the roster does not fit the model: skills outside the declared
        scale, a criterion naming a skill or column the roster lacks, or team
        sizes that the roster size makes impossible.
    """
    learners = roster.learners
    n = len(learners)
    if n == 0:
        raise InputError("the roster has no learners", file=roster.source)
    ids = [lr.id for lr in learners]
    index = {lid: i for i, lid in enumerate(ids)}

    skill_names = roster.skill_names
    lo, hi = model.skills.min, model.skills.max
    skills = np.zeros((n, len(skill_names)), dtype=np.int64)
    for i, lr in enumerate(learners):
        for s, name in enumerate(skill_names):
            value = lr.skills.get(name)
            if value is None:
                raise InputError(
                    "skill level is missing", file=roster.source, row=lr.row, column=f"skill_{name}"
                )
            if not lo <= value <= hi:
                raise InputError(
                    f"skill level {value:g} is outside the declared scale {lo:g}-{hi:g}",
                    file=roster.source,
                    row=lr.row,
                    column=f"skill_{name}",
                )
            skills[i, s] = round(value * SKILL_SCALE)
    _check_model_references(roster, model, skill_names)
    zones = _check_needed_columns(roster, model)

    def pair_array(pairs: tuple[tuple[str, str], ...]) -> IntArray:
        arr = np.array([(index[a], index[b]) for a, b in pairs], dtype=np.int64)
        return arr.reshape(-1, 2)

    section_names = sorted({lr.section or "" for lr in learners})
    sec_code = {name: c for c, name in enumerate(section_names)}
    section = np.array([sec_code[lr.section or ""] for lr in learners], dtype=np.int64)
    team_lo, team_hi, team_section = team_layout(
        np.bincount(section, minlength=len(section_names)), model, section_names
    )
    avoid = pair_array(roster.avoid)
    pin_data = None
    if pins is not None and not pins.is_empty:
        spec = model.team
        pin_data, team_lo, team_hi = compile_pins(
            pins,
            ids,
            section,
            section_names,
            avoid,
            (team_lo, team_hi, team_section),
            (spec.min if spec.min is not None else 1, spec.max if spec.max is not None else n),
            spec.balanced,
        )

    ref = _reference_date(model, today)
    try:
        masks = availability_masks(zones, [lr.availability for lr in learners], ref)
    except IndexedAvailabilityError as exc:
        lr = learners[exc.index]
        raise InputError(str(exc), file=roster.source, row=lr.row, column=exc.column) from None

    categories: dict[str, Categories] = {}
    for column in roster.category_names:
        raw = [lr.attributes.get(column, "") for lr in learners]
        values = sorted(set(raw))
        code = {v: c for c, v in enumerate(values)}
        categories[column] = Categories(column, np.array([code[v] for v in raw]), values)

    participation = None
    if any(lr.participation is not None for lr in learners):
        participation = np.array(
            [lr.participation if lr.participation is not None else np.nan for lr in learners]
        )

    from teamform.criteria.project import compile_projects

    projects = compile_projects(roster, model, len(team_lo), previous_projects)
    return Instance(
        roster=roster,
        model=model,
        n=n,
        k=len(team_lo),
        ids=ids,
        team_lo=team_lo,
        team_hi=team_hi,
        team_section=team_section,
        section=section,
        section_names=section_names,
        skill_names=skill_names,
        skills=skills,
        intrinsic=np.array([lr.motivation == "intrinsic" for lr in learners], dtype=np.bool_),
        masks=masks,
        reference_date=ref,
        categories=categories,
        avoid=avoid,
        prefer=pair_array(roster.prefer),
        participation=participation,
        history=_history_pairs(index, history or {}),
        previous=_previous_teams(ids, previous) if previous is not None else None,
        pins=pin_data,
        projects=projects,
        **_diversity_data(roster, model, distances),
    )


def _diversity_data(
    roster: Roster, model: FormationModel, given: npt.ArrayLike | None
) -> dict[str, Any]:
    div = model.criteria.diversity
    if div is None or not div.enabled:
        return {}
    from teamform.distances import distances_from_columns, integer_distances

    n = len(roster.learners)
    if given is not None:
        dist = np.asarray(given, dtype=np.float64)
        if dist.shape != (n, n):
            raise InputError(
                f"distances of shape {dist.shape} given for {n} learners: expected ({n}, {n})",
                file=model.source,
                column="criteria.diversity",
            )
        if not (np.isfinite(dist).all() and (dist >= 0).all() and (dist == dist.T).all()):
            raise InputError(
                "distances must be symmetric, finite and >= 0",
                file=model.source,
                column="criteria.diversity",
            )
    elif div.matrix:
        raise InputError(
            f"the distances of '{div.matrix}' were not given: read them with "
            "teamform.distances.model_distances and pass distances=",
            file=model.source,
            column="criteria.diversity.matrix",
        )
    else:
        dist = distances_from_columns(roster, div.columns, model.source)
    scaled, factor = integer_distances(dist)
    return {"distances": scaled, "distance_factor": factor}


def _history_pairs(
    index: Mapping[str, int], history: Mapping[tuple[str, str], int]
) -> dict[tuple[int, int], int]:
    out: dict[tuple[int, int], int] = {}
    for (a, b), count in history.items():
        i, j = index.get(a), index.get(b)
        if i is None or j is None or i == j or count <= 0:
            continue  # a dropout, or no shared phase
        key = (i, j) if i < j else (j, i)
        out[key] = out.get(key, 0) + int(count)
    return out


def _previous_teams(ids: list[str], previous: Mapping[str, int]) -> IntArray:
    prev = np.full(len(ids), -1, dtype=np.int64)
    for i, lid in enumerate(ids):
        team = previous.get(lid)
        if team is not None:
            if team < 1:
                raise InputError(f"previous team {team} of learner '{lid}' is not a team number")
            prev[i] = team - 1
    return prev


def _reference_date(model: FormationModel, today: date | None) -> date:
    ov = model.criteria.overlap
    if ov is not None and ov.reference_date is not None:
        return ov.reference_date
    return today if today is not None else DEFAULT_REFERENCE_DATE


def _check_needed_columns(roster: Roster, model: FormationModel) -> list[str]:
    """Check that the roster holds what the model's criteria read; returns each
    learner's time zone (the model's default, or UTC, standing in for none).

    Time zones and availability matter to the overlap criterion only, and
    motivation to the motivation criterion only: a model without them runs on
    a roster without those columns.
    """
    crit = model.criteria
    used = {
        "overlap": crit.overlap is not None and crit.overlap.enabled,
        "motivation": crit.motivation is not None and crit.motivation.enabled,
    }
    default = model.roster.timezone
    problems: list[InputError] = []
    for criterion, columns in NEEDED_BY.items():
        if not used[criterion]:
            continue
        for column in columns:
            # learners may have a zone without the column (a default given to the loader)
            zoned = column == "timezone" and (
                default is not None or all(lr.timezone for lr in roster.learners)
            )
            if not roster.has_column(column) and not zoned:
                hint = "; or set a default: timezone under [roster] or --timezone"
                problems.append(
                    InputError(
                        f"required column is missing: the model's {criterion} criterion needs it"
                        + (hint if column == "timezone" and default is None else ""),
                        file=roster.source,
                        row=1,
                        column=column,
                    )
                )
    missing_columns = {p.column for p in problems}
    for lr in roster.learners:
        if (
            used["overlap"]
            and not lr.timezone
            and not default
            and "timezone" not in missing_columns
        ):
            problems.append(
                InputError(
                    "empty time zone: the overlap criterion needs one (or a default: "
                    "timezone under [roster] in the model, or --timezone)",
                    file=roster.source,
                    row=lr.row,
                    column="timezone",
                )
            )
        if used["motivation"] and lr.motivation is None and "motivation" not in missing_columns:
            problems.append(
                InputError(
                    "empty motivation: the motivation criterion needs intrinsic or imposed",
                    file=roster.source,
                    row=lr.row,
                    column="motivation",
                )
            )
    raise_problems(problems)
    return [lr.timezone or default or "UTC" for lr in roster.learners]


def _check_model_references(roster: Roster, model: FormationModel, skills: list[str]) -> None:
    crit = model.criteria
    known = set(skills)
    if crit.skill_balance is not None:
        for s in crit.skill_balance.skills:
            if s not in known:
                raise InputError(
                    f"skill '{s}' has no skill_{s} column in the roster",
                    file=model.source,
                    column="criteria.skill_balance.skills",
                )
    if crit.skill_coverage is not None:
        for rule in crit.skill_coverage.rules:
            if rule.skill not in known:
                raise InputError(
                    f"skill '{rule.skill}' has no skill_{rule.skill} column in the roster",
                    file=model.source,
                    column="criteria.skill_coverage.rules",
                )
    columns = set(roster.category_names)
    for cat in crit.category:
        if cat.column not in columns:
            raise InputError(
                f"column '{cat.column}' is not in the roster",
                file=model.source,
                column="criteria.category.column",
            )


def team_layout(
    section_sizes: npt.ArrayLike, model: FormationModel, section_names: list[str] | None = None
) -> tuple[IntArray, IntArray, IntArray]:
    """Decide the number of teams, their size bounds and their section.

    Teams never mix sections, so each section gets its own teams. With
    ``balanced`` sizes (the default) the sizes within a section differ by at
    most one and are fixed per team; otherwise each team may hold between
    ``min`` and ``max`` learners.

    Returns
    -------
    team_lo, team_hi, team_section
        One entry per team.

    Raises
    ------
    InputError
        When no number of teams fits the sizes asked for.
    """
    sizes = np.asarray(section_sizes, dtype=np.int64)
    spec = model.team
    names = section_names or [str(s) for s in range(len(sizes))]
    total = int(sizes.sum())
    lo_b = spec.min if spec.min is not None else 1
    hi_b = spec.max if spec.max is not None else total
    span = f"{lo_b}" if lo_b == hi_b else f"{lo_b}-{hi_b}"

    if spec.teams is not None:
        if spec.teams > total:
            raise InputError(
                f"{spec.teams} teams asked for but the roster has only {total} learners",
                file=model.source,
                column="team.teams",
            )
        counts = _apportion(sizes, spec.teams)
    else:
        assert spec.size is not None
        counts = np.array([_teams_for(int(m), spec.size, lo_b, hi_b) for m in sizes])

    lo_l: list[int] = []
    hi_l: list[int] = []
    sec_l: list[int] = []
    for s, (m, kk) in enumerate(zip(sizes.tolist(), counts.tolist(), strict=True)):
        label = f"section '{names[s]}' has" if len(sizes) > 1 else "the roster has"
        if kk <= 0 or not kk * lo_b <= m <= kk * hi_b:
            raise InputError(
                f"team size impossible: {label} {m} learners, which cannot form teams of "
                f"{span}" + (f" ({spec.teams} teams)" if spec.teams else ""),
                file=model.source,
                column="team",
            )
        if spec.balanced:
            base, extra = divmod(m, kk)
            if base < lo_b or base + (extra > 0) > hi_b:
                raise InputError(
                    f"team size impossible: {label} {m} learners, which cannot form "
                    f"{kk} balanced teams of {span}",
                    file=model.source,
                    column="team",
                )
            for t in range(kk):
                size = base + (1 if t < extra else 0)
                lo_l.append(size)
                hi_l.append(size)
                sec_l.append(s)
        else:
            for _ in range(kk):
                lo_l.append(lo_b)
                hi_l.append(min(hi_b, m))
                sec_l.append(s)
    return (
        np.array(lo_l, dtype=np.int64),
        np.array(hi_l, dtype=np.int64),
        np.array(sec_l, dtype=np.int64),
    )


def _teams_for(m: int, target: int, lo: int, hi: int) -> int:
    """Number of teams for ``m`` learners: sizes within [lo, hi], closest to target."""
    best, best_key = 0, (math.inf, math.inf)
    for kk in range(max(1, -(-m // hi)), max(1, m // lo) + 1):
        base, extra = divmod(m, kk)
        if base < lo or base + (extra > 0) > hi:
            continue
        key = (abs(m / kk - target), kk)
        if key < best_key:
            best, best_key = kk, key
    return best


def _apportion(sizes: IntArray, k: int) -> IntArray:
    """Split ``k`` teams over sections in proportion to their sizes (largest remainder)."""
    total = sizes.sum()
    quota = sizes * k / total
    counts = np.maximum(np.floor(quota).astype(np.int64), 1)
    while counts.sum() < k:
        counts[np.argmax(quota - counts)] += 1
    while counts.sum() > k:
        counts[np.argmax(np.where(counts > 1, counts - quota, -np.inf))] -= 1
    return counts


def slot_hours(slots: int) -> float:
    """Hours in a number of availability slots."""
    return slots * SLOT_MINUTES / 60
