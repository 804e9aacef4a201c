"""Per-team compliance: what each criterion asks of a team, what the team has, and flags.

The module has two halves that share vocabulary:

* :func:`team_details` measures one team of a solved instance. The result
  stores its output (:func:`teamform.result.summarize` calls it), so a report
  needs nothing but the result JSON.
* :func:`build_report` turns a result into what the HTML, Markdown and
  team-sheet renderers draw. It also accepts results written before those
  fields existed, and reads ``repeated_pairs`` (pairs of learners who already
  worked together in an earlier phase) when a result carries them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from teamform.availability import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    SLOTS_PER_WEEK,
    AvailabilityError,
    canonical_timezone,
    format_local_windows,
    mask_to_utc_windows,
    reference_week_start,
)
from teamform.criteria import (
    CategoryTerm,
    MotivationTerm,
    OverlapTerm,
    PreferTerm,
    SkillBalanceTerm,
    SkillCoverageTerm,
    Term,
)
from teamform.criteria.overlap import team_common
from teamform.errors import InputError
from teamform.instance import SKILL_SCALE, Instance, slot_hours
from teamform.result import CriterionCheck, Result, TeamFlag, TeamSummary

#: Below this participation score (0-100) a member counts as low-participation,
#: unless the model's participation criterion sets its own ``low``.
LOW_PARTICIPATION = 40.0
#: A team should hold a member at or above this score (or the model's ``high``).
HIGH_PARTICIPATION = 70.0
#: Two or more low-participation members in one team are flagged.
MAX_LOW_PARTICIPATION = 1

SLOTS_PER_HOUR = 60 // SLOT_MINUTES
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ---------------------------------------------------------------------------
# Measuring a team of a solved instance
# ---------------------------------------------------------------------------


@dataclass
class TeamDetails:
    """What :func:`team_details` measures for one team (see :class:`TeamSummary`)."""

    common_slots: list[tuple[int, int]]
    timezones: dict[str, str]
    participation: dict[str, float]
    skill_targets: dict[str, float]
    criteria: list[CriterionCheck]
    checks: list[TeamFlag]


def team_details(
    inst: Instance,
    terms: Sequence[Term],
    assignment: Sequence[int],
    members: Sequence[int],
    team: int,
    team_penalties: Mapping[str, Sequence[int]],
) -> TeamDetails:
    """Measure one team against every criterion and run the tutor's checks.

    Parameters
    ----------
    inst
        The compiled problem.
    terms
        The criteria the team was formed under.
    assignment
        Team index (0-based) of every learner, to say where a split partner went.
    members
        Learner indices of the team.
    team
        Team index (0-based).
    team_penalties
        Per criterion name, the integer penalty of every team (from the validator).

    Returns
    -------
    TeamDetails
    """
    mem = list(members)
    learners = inst.roster.learners
    common = team_common(inst.masks, mem) if mem else 0
    targets = _section_skill_means(inst)[int(inst.team_section[team])]
    participation: dict[str, float] = {}
    if inst.participation is not None:
        for i in mem:
            value = float(inst.participation[i])
            if not math.isnan(value):
                participation[inst.ids[i]] = value
    criteria = [
        _measure(inst, term, mem, team, int(team_penalties[term.name][team])) for term in terms
    ]
    return TeamDetails(
        common_slots=mask_to_utc_windows(common),
        timezones={inst.ids[i]: learners[i].timezone for i in mem},
        participation=participation,
        skill_targets=targets,
        criteria=criteria,
        checks=_checks(inst, terms, assignment, mem),
    )


#: Learners of other teams looked at for a swap that gives a team its common time.
SWAP_POOL = 600
#: Of those, the ones sharing most time with the team that are tried in full.
SWAP_TRIES = 12


def _limiting_member(
    inst: Instance, term: OverlapTerm, assignment: Sequence[int], mem: list[int]
) -> tuple[str, list[str]] | None:
    """Who limits a team's common time, and a swap that would give it more.

    The limiting member is the one whose absence leaves the most common time;
    the swap trades them for a learner of another team of the section (neither
    pinned nor in an avoid pair with the new teammates) so that the two teams
    together fall least short of the target. Returns the sentence and the ids
    named, or None when no single member limits the team.
    """
    if len(mem) < 2:
        return None
    have = term.common_slots(mem)
    m, without = max(
        ((i, term.common_slots([x for x in mem if x != i])) for i in mem),
        key=lambda pair: (pair[1], -pair[0]),
    )
    if without <= have:
        return None
    text = f"{_label(inst, m)} limits it (without them: {slot_hours(without):g} h)"
    named = [inst.ids[m]]
    swap = _swap(inst, term, assignment, mem, m)
    if swap is not None:
        j, u, ht, hu, hu_before = swap
        text += (
            f"; swapping them with {_label(inst, j)} of team {u + 1} gives this team "
            f"{ht:g} h and team {u + 1} {hu:g} h (now {hu_before:g} h)"
        )
        named.append(inst.ids[j])
    return text, named


def _swap(
    inst: Instance, term: OverlapTerm, assignment: Sequence[int], mem: list[int], m: int
) -> tuple[int, int, float, float, float] | None:
    assign = np.asarray(assignment)
    team = int(assign[m])
    rest = [i for i in mem if i != m]
    pinned = inst.pins.team >= 0 if inst.pins is not None else None
    if pinned is not None and pinned[m]:
        return None
    pool = np.flatnonzero((inst.section == inst.section[m]) & (assign != team))
    if pinned is not None:
        pool = pool[~pinned[pool]]
    base = team_common(inst.masks, rest)
    masks = inst.masks
    tried = sorted(pool[:SWAP_POOL].tolist(), key=lambda j: (-(base & masks[j]).bit_count(), j))
    avoid = inst.avoid_adj
    need = term.hours

    def short(hours: float) -> float:
        return max(0.0, need - hours)

    before = slot_hours(term.common_slots(mem))
    best: tuple[float, int, int, float, float, float] | None = None
    for j in tried[:SWAP_TRIES]:
        u = int(assign[j])
        other = np.flatnonzero(assign == u).tolist()
        moved_in = [x for x in other if x != j]
        if any(x in rest for x in avoid[j]) or any(x in moved_in for x in avoid[m]):
            continue
        ht = slot_hours(term.common_slots([*rest, j]))
        hu_before = slot_hours(term.common_slots(other))
        hu = slot_hours(term.common_slots([*moved_in, m]))
        change = short(ht) + short(hu) - short(before) - short(hu_before)
        if change < 0 and (best is None or (change, j) < (best[0], best[1])):
            best = (change, j, u, ht, hu, hu_before)
    if best is None:
        return None
    return best[1], best[2], best[3], best[4], best[5]


def _label(inst: Instance, i: int) -> str:
    name = inst.roster.learners[i].name
    return f"{name} ({inst.ids[i]})" if name else inst.ids[i]


def _fraction_score(bad: float, scale: float) -> float:
    """100 when ``bad`` is 0, falling linearly to 0 at ``scale``."""
    if bad <= 0:
        return 100.0
    if scale <= 0:
        return 0.0
    return round(100.0 * max(0.0, 1.0 - bad / scale), 1)


def _section_skill_means(inst: Instance) -> dict[int, dict[str, float]]:
    """Mean of each skill per section, computed once per instance."""
    cached: dict[int, dict[str, float]] | None = getattr(inst, "_section_skill_means", None)
    if cached is None:
        cached = {}
        for sec in range(len(inst.section_names)):
            rows = inst.section == sec
            cached[sec] = {
                s: round(float(inst.skills[rows, j].mean()) / SKILL_SCALE, 2) if rows.any() else 0.0
                for j, s in enumerate(inst.skill_names)
            }
        inst._section_skill_means = cached  # type: ignore[attr-defined]
    return cached


def _touching_pairs(inst: Instance, mem: list[int]) -> list[tuple[int, int]]:
    """Preferred pairs with at least one member in ``mem``, each once, in pair order."""
    adj = inst.prefer_adj
    pairs = {(min(i, j), max(i, j)) for i in mem for j in adj[i]}
    return sorted(pairs)


def _measure(inst: Instance, term: Term, mem: list[int], team: int, pen: int) -> CriterionCheck:
    """One criterion's value for one team, its target in words and a 0-100 score."""
    size = len(mem)
    base: dict[str, Any] = {
        "name": term.name,
        "hard": term.hard,
        "penalty": term.natural(pen),
    }
    if isinstance(term, OverlapTerm):
        have = slot_hours(term.common_slots(mem)) if mem else 0.0
        score = 100.0 if term.hours <= 0 else round(100.0 * min(1.0, have / term.hours), 1)
        return CriterionCheck(
            **base,
            value=have,
            target=f">= {term.hours:g} h a week in blocks of >= {term.block_hours:g} h",
            unit="h",
            score=score,
        )
    if isinstance(term, SkillBalanceTerm):
        section = int(inst.team_section[team])
        means = term.values[mem].mean(axis=0) if size else np.zeros(len(term.columns))
        devs = np.abs(means - term.mean[section]) / SKILL_SCALE
        value = round(float(devs.mean()), 2) if len(devs) else 0.0
        goal = ", ".join(
            f"{s} {term.mean[section, j] / SKILL_SCALE:.2f}"
            for j, s in enumerate(term.skill_labels)
        )
        # a quarter of the declared scale off the cohort mean scores 0
        spread = (inst.model.skills.max - inst.model.skills.min) / 4
        return CriterionCheck(
            **base,
            value=value,
            target=f"team means at the cohort means ({goal})",
            unit="points off the mean",
            score=_fraction_score(value, spread),
        )
    if isinstance(term, SkillCoverageTerm):
        met = sum(1 for mask in term.strong if mask[mem].any())
        rules = ", ".join(f"{r.skill} >= {r.level:g}" for r in term.rules)
        total = len(term.rules)
        return CriterionCheck(
            **base,
            value=met,
            target=f"a member with {rules} ({total} rule{'s' if total != 1 else ''})",
            unit="rules met",
            score=round(100.0 * met / total, 1) if total else 100.0,
        )
    if isinstance(term, MotivationTerm):
        count = int(np.count_nonzero(inst.intrinsic[mem])) if size else 0
        lo, hi = term.target(team)
        return CriterionCheck(
            **base,
            value=count,
            target=f"{lo} intrinsic" if lo == hi else f"{lo}-{hi} intrinsic",
            unit="intrinsic members",
            score=_fraction_score(pen, max(hi, 1)),
        )
    if isinstance(term, PreferTerm):
        inside = set(mem)
        touching = _touching_pairs(inst, mem)
        kept = sum(1 for a, b in touching if a in inside and b in inside)
        return CriterionCheck(
            **base,
            value=kept,
            target=(
                f"{len(touching)} preferred pair{'s' if len(touching) != 1 else ''} together"
                if touching
                else "no preferred pair involves this team"
            ),
            unit="pairs together",
            score=round(100.0 * kept / len(touching), 1) if touching else 100.0,
        )
    if isinstance(term, CategoryTerm):
        if term.rule == "cluster":
            counts = np.bincount(term.codes[mem], minlength=len(term.labels))
            present = sum(1 for v in term.active if counts[v] > 0)
            return CriterionCheck(
                **base,
                value=present,
                target=f"one {term.column} value",
                unit="values",
                score=_fraction_score(pen, max(size - 1, 1)),
            )
        target = (
            f"each {term.column} value spread evenly"
            if term.rule == "distribute"
            else f"no {term.column} value held by a single member"
        )
        unit = "members off the spread" if term.rule == "distribute" else "isolated members"
        return CriterionCheck(
            **base,
            value=term.natural(pen),
            target=target,
            unit=unit,
            score=_fraction_score(pen, max(size, 1)),
        )
    # any other criterion: its penalty against zero, scored per member
    return CriterionCheck(
        **base,
        value=term.natural(pen),
        target=f"0 {term.unit_label}",
        unit=term.unit_label,
        score=_fraction_score(pen, max(size, 1)),
    )


def _checks(
    inst: Instance, terms: Sequence[Term], assignment: Sequence[int], mem: list[int]
) -> list[TeamFlag]:
    """Tutor-facing checks of one team; ``ok=False`` marks something to act on."""
    out: list[TeamFlag] = []
    if not mem:
        return out
    intrinsic = [inst.ids[i] for i in mem if inst.intrinsic[i]]
    if intrinsic:
        n = len(intrinsic)
        out.append(
            TeamFlag(
                code="motivation",
                ok=True,
                message=f"{n} intrinsically motivated member{'s' if n != 1 else ''}",
                learners=intrinsic,
            )
        )
    elif inst.roster.has_column("motivation"):  # without the column, nothing is known
        out.append(TeamFlag(code="motivation", message="no intrinsically motivated member"))

    for term in terms:
        if isinstance(term, OverlapTerm):
            have = slot_hours(term.common_slots(mem))
            if have < term.hours:
                msg = f"common hours {have:g} below target {term.hours:g}"
                who: list[str] = []
                limit = _limiting_member(inst, term, assignment, mem)
                if limit is not None:
                    msg, who = f"{msg}; {limit[0]}", limit[1]
                out.append(TeamFlag(code="overlap", message=msg, learners=who))
            else:
                msg = f"common hours {have:g} meet target {term.hours:g}"
                out.append(TeamFlag(code="overlap", ok=True, message=msg))
        elif isinstance(term, CategoryTerm) and term.rule == "no_isolation":
            counts = np.bincount(term.codes[mem], minlength=len(term.labels))
            lonely = [v for v in term.active if counts[v] == 1]
            for v in lonely:
                i = next(i for i in mem if term.codes[i] == v)
                out.append(
                    TeamFlag(
                        code="isolation",
                        message=(
                            f"{_label(inst, i)} is the only member with "
                            f"{term.column} = {term.labels[v]}"
                        ),
                        learners=[inst.ids[i]],
                    )
                )
            if not lonely:
                msg = f"no member alone with their {term.column}"
                out.append(TeamFlag(code="isolation", ok=True, message=msg))

    if inst.participation is not None:
        # the model's thresholds when it has a participation criterion
        rule = getattr(inst.model.criteria, "participation", None)
        low_at = float(getattr(rule, "low", LOW_PARTICIPATION))
        high_at = float(getattr(rule, "high", HIGH_PARTICIPATION))
        known = [(i, float(inst.participation[i])) for i in mem]
        known = [(i, p) for i, p in known if not math.isnan(p)]
        if known:
            low = [i for i, p in known if p < low_at]
            strong = any(p >= high_at for _, p in known)
            if len(low) > MAX_LOW_PARTICIPATION or not strong:
                reasons = []
                if len(low) > MAX_LOW_PARTICIPATION:
                    reasons.append(f"{len(low)} members below {low_at:g}")
                if not strong:
                    reasons.append(f"no member at {high_at:g} or above")
                out.append(
                    TeamFlag(
                        code="participation",
                        message="low participation concentrated: " + ", ".join(reasons),
                        learners=[inst.ids[i] for i in (low or [i for i, _ in known])],
                    )
                )
            else:
                out.append(
                    TeamFlag(code="participation", ok=True, message="participation mix is fine")
                )

    history = getattr(inst, "history", None) or {}
    if history:
        shared = [
            (i, j, history.get((i, j), 0) or history.get((j, i), 0))
            for p, i in enumerate(mem)
            for j in mem[p + 1 :]
        ]
        again = [(i, j, c) for i, j, c in shared if c > 0]
        for i, j, c in again:
            phases = f"{c} earlier phase{'s' if c != 1 else ''}"
            out.append(
                TeamFlag(
                    code="repeated_pair",
                    message=(
                        f"{_label(inst, i)} and {_label(inst, j)} already worked together "
                        f"({phases})"
                    ),
                    learners=[inst.ids[i], inst.ids[j]],
                )
            )
        if not again:
            msg = "no pair from an earlier phase repeated"
            out.append(TeamFlag(code="repeated_pair", ok=True, message=msg))

    inside = set(mem)
    for a, b in _touching_pairs(inst, mem):
        pair = [inst.ids[a], inst.ids[b]]
        if a in inside and b in inside:
            msg = f"{_label(inst, a)} and {_label(inst, b)} asked to work together: together"
            out.append(TeamFlag(code="prefer", ok=True, message=msg, learners=pair))
        else:
            here, away = (a, b) if a in inside else (b, a)
            msg = (
                f"{_label(inst, here)} asked to work with {_label(inst, away)}, "
                f"who is in team {int(assignment[away]) + 1}"
            )
            out.append(TeamFlag(code="prefer", message=msg, learners=pair))
    return out


# ---------------------------------------------------------------------------
# Preparing a result for the renderers
# ---------------------------------------------------------------------------


@dataclass
class MemberView:
    """One member as the report shows them."""

    id: str
    name: str
    timezone: str | None
    participation: float | None
    #: common meeting windows in this member's own time zone (None: unknown)
    windows: list[str] | None
    #: the team's project among this member's choices ("choice 2", "not chosen"); None: n/a
    choice: str | None = None

    @property
    def label(self) -> str:
        """The name, or the id when the roster gave no name."""
        return self.name or self.id


@dataclass
class CriterionView:
    """One criterion row of a team card; ``score`` is None for old results."""

    name: str
    hard: bool
    value: str
    target: str
    score: float | None


@dataclass
class TeamView:
    """Everything a team card, a Markdown section or a team sheet shows."""

    summary: TeamSummary
    members: list[MemberView]
    #: ``heat[day][hour]``: common quarter-hours (0-4) in that UTC hour; None: unknown
    heat: list[list[int]] | None
    utc_windows: list[str] | None
    criteria: list[CriterionView]
    flags: list[TeamFlag]
    met: list[TeamFlag]

    @property
    def number(self) -> int:
        """Team number, from 1."""
        return self.summary.team


@dataclass
class ReportData:
    """A result prepared for rendering."""

    result: Result
    teams: list[TeamView]
    week_start: date | None
    #: upper end of the skill axis of the charts
    skill_max: float
    criterion_names: list[str] = field(default_factory=list)
    #: the zone of the heat maps (None: UTC)
    zone: str | None = None

    @property
    def infeasible(self) -> bool:
        """Whether the result holds no usable assignment."""
        return not self.result.feasible


def slots_to_mask(runs: Sequence[Sequence[int]]) -> int:
    """Rebuild a UTC slot mask from ``(start, end)`` runs (end may pass the week end)."""
    mask = 0
    for start, end in runs:
        for s in range(int(start), int(end)):
            mask |= 1 << (s % SLOTS_PER_WEEK)
    return mask


def heat_grid(
    runs: Sequence[Sequence[int]], zone: str | None = None, reference: date | None = None
) -> list[list[int]]:
    """Common quarter-hours per day (Monday first) and hour, from UTC slot runs.

    In UTC by default; with ``zone`` (and the reference date that fixes the
    week, so daylight-saving time is right), in that zone's local time.
    """
    grid = [[0] * 24 for _ in range(7)]
    mask = slots_to_mask(runs)
    local = zone is not None and zone not in ("UTC", "Etc/UTC") and reference is not None
    if local:
        assert zone is not None and reference is not None
        tz = ZoneInfo(zone)
        origin = datetime.combine(reference_week_start(reference), time(), tzinfo=UTC)
    for s in range(SLOTS_PER_WEEK):
        if mask >> s & 1:
            if local:
                at = (origin + timedelta(minutes=SLOT_MINUTES * s)).astimezone(tz)
                grid[at.weekday()][at.hour] += 1
            else:
                grid[s // SLOTS_PER_DAY][(s % SLOTS_PER_DAY) // SLOTS_PER_HOUR] += 1
    # a daylight-saving change can fold two UTC quarter-hours onto one local one
    return [[min(c, SLOTS_PER_HOUR) for c in row] for row in grid]


def local_windows(
    runs: Sequence[Sequence[int]], timezone: str, reference: date | None
) -> list[str] | None:
    """Common windows in a time zone's local time, or None when they cannot be placed."""
    if reference is None and timezone not in ("UTC", "Etc/UTC"):
        return None
    try:
        return format_local_windows(slots_to_mask(runs), timezone, reference or date(2024, 1, 1))
    except AvailabilityError:
        return None


def _pair_of(item: Any) -> tuple[str, str] | None:
    """Read one repeated pair: ``[a, b, ...]`` or a mapping naming two learners."""
    if isinstance(item, Mapping):
        for key in ("learners", "pair", "ids", "members"):
            value = item.get(key)
            if isinstance(value, Sequence) and not isinstance(value, str) and len(value) >= 2:
                return str(value[0]), str(value[1])
        for a_key, b_key in (("a", "b"), ("id_a", "id_b")):
            if a_key in item and b_key in item:
                return str(item[a_key]), str(item[b_key])
        return None
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) >= 2:
        return str(item[0]), str(item[1])
    return None


def _repeated_pairs(source: Any) -> list[tuple[str, str]] | None:
    if not isinstance(source, Sequence) or isinstance(source, str):
        return None
    return [p for p in (_pair_of(item) for item in source) if p is not None]


def build_report(
    result: Result, raw: Mapping[str, Any] | None = None, zone: str | None = None
) -> ReportData:
    """Prepare a result for the renderers.

    Parameters
    ----------
    result
        The result, e.g. from :meth:`teamform.result.Result.from_json`.
    raw
        The JSON object the result was read from, if any; fields the result
        model does not declare (``repeated_pairs``) are read from it.
    zone
        Time zone in which to draw the heat maps (the tutor's), e.g.
        ``Europe/Paris``; UTC when None or when the result has no reference date.

    Returns
    -------
    ReportData
    """
    reference: date | None = None
    if result.reference_date:
        try:
            reference = date.fromisoformat(result.reference_date)
        except ValueError:
            reference = None
    if zone is not None:
        try:
            zone = canonical_timezone(zone)
        except AvailabilityError as exc:
            raise InputError(f"{exc} (expected an IANA name)", column="--timezone") from None
        if reference is None or zone in ("UTC", "Etc/UTC"):
            zone = None
    raw = raw or {}
    repeated = _repeated_pairs(raw.get("repeated_pairs", getattr(result, "repeated_pairs", None)))
    raw_teams: list[Any] = raw["teams"] if isinstance(raw.get("teams"), list) else []
    units = {c.name: c.unit for c in result.breakdown}
    names: dict[str, None] = {c.name: None for c in result.breakdown}

    views: list[TeamView] = []
    skill_max = 1.0
    for pos, team in enumerate(result.teams):
        raw_team = raw_teams[pos] if pos < len(raw_teams) else {}
        team_repeated = repeated
        if isinstance(raw_team, Mapping) and "repeated_pairs" in raw_team:
            team_repeated = _repeated_pairs(raw_team["repeated_pairs"])
        views.append(_team_view(team, reference, units, team_repeated, zone))
        for name in team.penalties:
            names.setdefault(name, None)
        for value in [*team.skill_means.values(), *team.skill_targets.values()]:
            skill_max = max(skill_max, float(value))
    return ReportData(
        result=result,
        teams=views,
        week_start=reference_week_start(reference) if reference else None,
        skill_max=float(math.ceil(skill_max)),
        criterion_names=list(names),
        zone=zone,
    )


def team_view(team: TeamSummary, reference: date | None) -> TeamView:
    """One team prepared for a card (as :func:`build_report` prepares every team)."""
    return _team_view(team, reference, {}, None)


def _team_view(
    team: TeamSummary,
    reference: date | None,
    units: Mapping[str, str],
    repeated: list[tuple[str, str]] | None,
    zone: str | None = None,
) -> TeamView:
    runs = team.common_slots
    members = []
    for lid, name in zip(team.members, team.names, strict=False):
        tz = team.timezones.get(lid)
        members.append(
            MemberView(
                id=lid,
                name=name,
                timezone=tz,
                participation=team.participation.get(lid),
                windows=local_windows(runs, tz, reference) if runs is not None and tz else None,
                choice=_choice(team, lid),
            )
        )
    if team.criteria:
        criteria = [
            CriterionView(
                name=c.name,
                hard=c.hard,
                value=f"{c.value:g} {c.unit}".strip(),
                target=c.target,
                score=c.score,
            )
            for c in team.criteria
        ]
    else:
        # results written before per-criterion values existed: penalties only
        criteria = [
            CriterionView(
                name=name,
                hard=False,
                value=f"penalty {pen:g} {units.get(name, '')}".strip(),
                target="penalty 0",
                score=None,
            )
            for name, pen in team.penalties.items()
        ]

    flags = [c for c in team.checks if not c.ok]
    met = [c for c in team.checks if c.ok]
    known = {c.message for c in team.checks}
    isolated = any(c.code == "isolation" for c in flags)
    for text in team.flags:
        if text in known or (isolated and ":no_isolation:" in text):
            continue
        flags.append(TeamFlag(code="rule", message=_labelled(text)))

    recorded = any(c.code == "repeated_pair" for c in team.checks)
    if repeated is not None and not recorded:
        inside = set(team.members)
        label = dict(zip(team.members, team.names, strict=False))
        again = [(a, b) for a, b in repeated if a in inside and b in inside]
        for a, b in again:
            who = " and ".join(f"{label[x]} ({x})" if label.get(x) else x for x in (a, b))
            flags.append(
                TeamFlag(
                    code="repeated_pair",
                    message=f"{who} already worked together in an earlier phase",
                    learners=[a, b],
                )
            )
        if not again:
            met.append(
                TeamFlag(
                    code="repeated_pair", ok=True, message="no pair from an earlier phase repeated"
                )
            )

    return TeamView(
        summary=team,
        members=members,
        heat=heat_grid(runs, zone, reference) if runs is not None else None,
        utc_windows=local_windows(runs, "UTC", reference) if runs is not None else None,
        criteria=criteria,
        flags=flags,
        met=met,
    )


def _choice(team: TeamSummary, lid: str) -> str | None:
    if team.project is None or lid not in team.project_ranks:
        return None
    rank = team.project_ranks[lid]
    return "not chosen" if rank is None else f"choice {rank}"


_LABELS = {
    "skill_balance": "Skill balance",
    "skill_coverage": "Skill coverage",
    "motivation": "Motivation mix",
    "prefer": "Preferred partners",
    "overlap": "Common time",
    "diversity": "Diversity",
    "no_repeat": "New teammates",
    "stability": "Same team as before",
    "participation": "Participation mix",
}
_CATEGORY_RULES = {
    "distribute": "spread evenly",
    "cluster": "kept together",
    "no_isolation": "nobody alone",
}
#: The flag codes that speak of each criterion (category rules: by their rule).
_FLAG_CODES = {
    "motivation": ("motivation",),
    "overlap": ("overlap",),
    "prefer": ("prefer",),
    "participation": ("participation",),
    "no_repeat": ("repeated_pair",),
    "no_isolation": ("isolation",),
}


def criterion_label(name: str) -> str:
    """A criterion's name as a tutor reads it: ``Language: nobody alone``."""
    if name.startswith("category:"):
        parts = name.split(":")
        column = parts[1] if len(parts) > 1 else ""
        rule = _CATEGORY_RULES.get(parts[2], parts[2]) if len(parts) > 2 else ""
        return f"{column.replace('_', ' ').capitalize()}: {rule}".rstrip(": ")
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def _labelled(message: str) -> str:
    """A rule's message with the criterion's internal name replaced by its label."""
    name, sep, rest = message.partition(": ")
    if sep and (name in _LABELS or name.startswith("category:")):
        return f"{criterion_label(name)}: {rest}"
    return message


def flagged(view: TeamView, name: str) -> bool:
    """Whether a flag of the team speaks of criterion ``name``."""
    key = name.split(":")[2] if name.startswith("category:") and name.count(":") >= 2 else name
    codes = _FLAG_CODES.get(key, ())
    label = f"{criterion_label(name)}: "
    return any(f.code in codes or f.message.startswith(label) for f in view.flags)


def cell_class(view: TeamView, name: str, score: float | None) -> str:
    """The colour of a team's criterion cell, in agreement with its flags.

    Red when a flag speaks of the criterion, green when the team meets the
    target (score 100), amber in between; grey when not measured.
    """
    if flagged(view, name):
        return "poor"
    if score is None:
        return "na"
    return "good" if score >= 99.95 else "fair"


def verdict(data: ReportData) -> list[str]:
    """The report's opening: what was formed and what needs the tutor, in plain words."""
    r = data.result
    if data.infeasible:
        if r.stopped:
            return ["The search was stopped before any teams meeting every rule were found."]
        return [
            "No teams could be formed: the rules below cannot all hold. "
            "Relax one of them and form the teams again."
        ]
    sizes = sorted({t.size for t in r.teams})
    size_text = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]}"
    lines = [
        f"{r.n_teams} teams of {size_text} were formed for {r.n_learners} learners, "
        "and every hard rule holds."
    ]
    attention = [v for v in data.teams if v.flags]
    if not attention:
        lines.append("No team has anything to act on.")
    else:
        worst = sorted(attention, key=lambda v: (-len(v.flags), v.number))[:3]
        named = "; ".join(f"team {v.number}: {v.flags[0].message}" for v in worst)
        more = len(attention) - len(worst)
        lines.append(
            f"{len(attention)} of {r.n_teams} teams need a look ({named}"
            + (f"; and {more} more" if more > 0 else "")
            + ")."
        )
        short = [v for v in data.teams if any(f.code == "overlap" for f in v.flags)]
        none = [v for v in short if (v.summary.common_hours or 0) == 0]
        if short:
            lines.append(
                f"{len(short)} team{'s have' if len(short) != 1 else ' has'} less common time "
                f"than asked, {len(none)} with none at all."
            )
    if r.stopped:
        lines.append("The search was stopped early: these are the best teams found until then.")
    elif r.status.value == "optimal":
        lines.append("No better teams exist under this model: the search proved it.")
    elif r.gap is not None and r.gap > 0:
        lines.append(
            "Better teams may exist: the search used its whole time limit without proving "
            "these the best (a longer --time-limit may improve them)."
        )
    return lines


#: Beyond this many teams, reports give a card only to the teams that need a look most
#: (every team stays in the compliance table): 2500 cards of charts make a page of
#: tens of megabytes that no browser opens comfortably.
MAX_CARDS = 100


def carded_teams(data: ReportData) -> list[TeamView]:
    """The teams that get a card: all of them, or the most flagged when there are many."""
    if len(data.teams) <= MAX_CARDS:
        return data.teams
    flagged = sorted((v for v in data.teams if v.flags), key=lambda v: (-len(v.flags), v.number))
    return sorted(flagged[:MAX_CARDS], key=lambda v: v.number)


def score_class(score: float | None) -> str:
    """A traffic-light class name for a 0-100 score."""
    if score is None:
        return "na"
    if score >= 90:
        return "good"
    if score >= 60:
        return "fair"
    return "poor"


def week_label(week_start: date | None) -> str:
    """``week of 12 January 2026``, or an empty string."""
    if week_start is None:
        return ""
    return f"week of {week_start.day} {week_start:%B %Y}"


_STATUS_WORDS = {
    "optimal": "teams formed, proven the best under this model",
    "feasible": "teams formed; every hard rule holds",
    "infeasible": "no teams: the hard rules conflict",
    "unknown": "no teams found in the time given",
    "model_invalid": "no teams: the model is invalid",
}


def summary_rows(data: ReportData) -> list[tuple[str, str]]:
    """The summary block as (label, value) rows in plain words, shared by every renderer."""
    r = data.result
    status = _STATUS_WORDS.get(r.status.value, r.status.value)
    if r.objective is not None and not r.valid:
        status += " (the check of the teams failed)"
    if r.stopped:
        status += "; stopped early"
    rows = [("result", status), ("learners", str(r.n_learners)), ("teams", str(r.n_teams))]
    if r.model_name:
        rows.append(("model", r.model_name))
    if data.week_start is not None:
        rows.append(("time zones compared in", week_label(data.week_start)))
    if data.zone is not None:
        rows.append(("times shown in", data.zone))
    return rows


def solver_rows(data: ReportData) -> list[tuple[str, str]]:
    """The search's own figures (objective, bound, gap), for whoever wants them."""
    r = data.result
    rows = [("status", r.status.value + ("" if r.valid or r.objective is None else " (invalid)"))]
    if r.objective is not None:
        rows.append(("objective (total weighted penalty)", f"{r.objective:.2f}"))
    if r.bound is not None:
        rows.append(("bound (no teams can do better)", f"{r.bound:.2f}"))
    if r.gap is not None:
        rows.append(("gap", f"{100 * r.gap:.1f} %"))
    if r.excess_per_team is not None:
        rows.append(("excess per team", f"{r.excess_per_team:.2f}"))
    run = f"{r.runtime:.2f} s"
    if r.strategy:
        run += f" ({r.strategy}, seed {r.seed}, {r.workers} worker{'s' if r.workers != 1 else ''})"
    rows.append(("runtime", run))
    if r.time_to_first is not None:
        rows.append(("first solution after", f"{r.time_to_first:.2f} s"))
    return rows


def breakdown_rows(data: ReportData) -> list[tuple[str, str, str, str, str]]:
    """Per-criterion rows: name, kind, penalty, weighted penalty, bound."""
    return [
        (
            criterion_label(c.name),
            "hard" if c.hard else f"weight {c.weight:g}",
            f"{c.penalty:g} {c.unit}",
            f"{c.weighted:g}",
            f"{c.lower_bound:g} {c.unit}",
        )
        for c in data.result.breakdown
    ]


def team_scores(view: TeamView, names: Sequence[str]) -> list[float | None]:
    """The team's score for each named criterion (None when absent or unknown)."""
    by_name = {c.name: c.score for c in view.criteria}
    return [by_name.get(n) for n in names]
