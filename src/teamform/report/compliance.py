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
from datetime import date
from typing import Any

import numpy as np

from teamform.availability import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    SLOTS_PER_WEEK,
    AvailabilityError,
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
                out.append(TeamFlag(code="overlap", message=msg))
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


def heat_grid(runs: Sequence[Sequence[int]]) -> list[list[int]]:
    """Common quarter-hours per UTC day (Monday first) and hour, from slot runs."""
    grid = [[0] * 24 for _ in range(7)]
    mask = slots_to_mask(runs)
    for s in range(SLOTS_PER_WEEK):
        if mask >> s & 1:
            grid[s // SLOTS_PER_DAY][(s % SLOTS_PER_DAY) // SLOTS_PER_HOUR] += 1
    return grid


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


def build_report(result: Result, raw: Mapping[str, Any] | None = None) -> ReportData:
    """Prepare a result for the renderers.

    Parameters
    ----------
    result
        The result, e.g. from :meth:`teamform.result.Result.from_json`.
    raw
        The JSON object the result was read from, if any; fields the result
        model does not declare (``repeated_pairs``) are read from it.

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
        views.append(_team_view(team, reference, units, team_repeated))
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
    )


def team_view(team: TeamSummary, reference: date | None) -> TeamView:
    """One team prepared for a card (as :func:`build_report` prepares every team)."""
    return _team_view(team, reference, {}, None)


def _team_view(
    team: TeamSummary,
    reference: date | None,
    units: Mapping[str, str],
    repeated: list[tuple[str, str]] | None,
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
        flags.append(TeamFlag(code="rule", message=text))

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
        heat=heat_grid(runs) if runs is not None else None,
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


def summary_rows(data: ReportData) -> list[tuple[str, str]]:
    """The summary block as (label, value) rows, shared by every renderer."""
    r = data.result
    rows = [("status", r.status.value + ("" if r.valid or r.objective is None else " (invalid)"))]
    if r.objective is not None:
        rows.append(("objective", f"{r.objective:.2f}"))
    if r.bound is not None:
        rows.append(("bound", f"{r.bound:.2f}"))
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
    rows.append(("learners", str(r.n_learners)))
    rows.append(("teams", str(r.n_teams)))
    if r.model_name:
        rows.append(("model", r.model_name))
    if data.week_start is not None:
        rows.append(("time zones compared in", week_label(data.week_start)))
    return rows


def breakdown_rows(data: ReportData) -> list[tuple[str, str, str, str, str]]:
    """Per-criterion rows: name, kind, penalty, weighted penalty, bound."""
    return [
        (
            c.name,
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
