"""Solve-time summaries: each team measured against every criterion, and its checks.

A finished result stores what this module measures, so that reports, the command
line and the web app need nothing but the result JSON.

Entry points:

* :func:`summarize` summarises every team (or some of them) of a validated
  assignment and scores each criterion;
* :func:`summarize_team` summarises one team;
* :func:`criterion_scores` gives each criterion's share of the objective;
* :func:`team_details` measures one team: per-criterion values, common time and
  the tutor's checks (:class:`~teamform.result.TeamFlag`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from teamform.availability import mask_to_utc_windows
from teamform.criteria import OBJECTIVE_SCALE, ProjectTerm, Term
from teamform.criteria.base import learner_label
from teamform.criteria.motivation import intrinsic_counts
from teamform.criteria.overlap import overlap_term, team_common, team_commons
from teamform.criteria.prefer import touching_by_team, touching_pairs
from teamform.instance import SKILL_SCALE, Instance, slot_hours
from teamform.layout import TeamLayout
from teamform.result import (
    CriterionCheck,
    CriterionScore,
    TeamFlag,
    TeamSummary,
    team_flag,
    unvalidated,
)
from teamform.validate import Validation

#: Below this participation score (0-100) a member counts as low-participation,
#: unless the model's participation criterion sets its own ``low``.
LOW_PARTICIPATION = 40.0
#: A team should hold a member at or above this score (or the model's ``high``).
HIGH_PARTICIPATION = 70.0
#: Two or more low-participation members in one team are flagged.
MAX_LOW_PARTICIPATION = 1


def summarize(
    inst: Instance,
    assignment: list[int] | TeamLayout,
    terms: list[Term],
    validation: Validation,
    only: Sequence[int] | None = None,
) -> tuple[list[TeamSummary], list[CriterionScore]]:
    """Per-team summaries and per-criterion scores of a validated assignment.

    ``only`` restricts the summaries to these team indices (to measure their cost).
    Every team is measured at once over the assignment's :class:`TeamLayout`
    (given as one, its measures are kept for the next call); each summary is
    the one :func:`summarize_team` gives that team alone.
    """
    layout = assignment if isinstance(assignment, TeamLayout) else TeamLayout(assignment, inst.k)
    teams = range(inst.k) if only is None else only
    return _summaries(inst, layout, terms, validation.team_penalties, teams), criterion_scores(
        terms, validation.penalties
    )


def _summaries(
    inst: Instance,
    layout: TeamLayout,
    terms: Sequence[Term],
    team_penalties: Mapping[str, Sequence[int]],
    teams: Sequence[int],
) -> list[TeamSummary]:
    """:func:`summarize_team` of each of ``teams``, every measure taken over all teams at once."""
    lists = _learners(inst)
    members = layout.members
    overlap = overlap_term(terms)
    project = next((term for term in terms if isinstance(term, ProjectTerm)), None)
    skill_means = _skill_means(inst, layout)
    intrinsic = intrinsic_counts(inst, layout)
    commons = team_commons(inst, layout)
    slots = overlap.team_block_slots(layout) if overlap is not None else None
    criteria = [term.measure_teams(layout, team_penalties[term.name], teams) for term in terms]
    own_checks = [term.checks_of_teams(layout, teams) for term in terms]
    touching = touching_by_team(inst, layout)
    targets = _section_skill_means(inst)
    ids, zones = inst.ids, lists.timezones
    windows: dict[int, list[tuple[int, int]]] = {}
    out = []
    for pos, t in enumerate(teams):
        mem = members[t]
        common = commons[t] if mem else 0
        window = windows.get(common)
        if window is None:
            window = windows[common] = mask_to_utc_windows(common)
        own = [checks[pos] for checks in own_checks]
        details = TeamDetails(
            common_slots=window,
            timezones={ids[i]: zones[i] for i in mem},
            participation=_participation(inst, mem),
            skill_targets=targets[int(inst.team_section[t])],
            criteria=[measured[pos] for measured in criteria],
            checks=_checks(inst, layout, mem, t, own, touching[t]),
        )
        means = dict(zip(inst.skill_names, skill_means[t], strict=True))
        hours = None if slots is None else slot_hours(slots[t])
        summary = _team_summary(
            inst, terms, team_penalties, t, mem, means, intrinsic[t], hours, details, project,
            direct=True,
        )  # fmt: skip
        out.append(summary)
    return out


def _skill_means(inst: Instance, layout: TeamLayout) -> list[list[float]]:
    """Each team's mean of each skill (points, to two decimals), as :func:`summarize_team`
    computes it: the same float operations in the same order."""

    def compute() -> list[list[float]]:
        sizes = np.maximum(layout.sizes, 1).astype(np.float64)[:, None]
        raw = (layout.team_sums(inst.skills) / sizes / SKILL_SCALE).tolist()
        # an empty team's means are 0, as one team alone gives them
        return [[round(x, 2) for x in row] for row in raw]

    return layout.memo(("skill_means", id(inst)), compute)


@dataclass
class _Learners:
    """The roster's per-learner fields as plain lists, read by every team's summary."""

    names: list[str]
    timezones: list[str]
    intrinsic: list[int]
    #: per skill, every learner's level (hundredths)
    skills: list[list[int]]


def _learners(inst: Instance) -> _Learners:
    """:class:`_Learners` of an instance, built once (summaries read a few members each)."""
    cached: _Learners | None = getattr(inst, "_summary_learners", None)
    if cached is None:
        learners = inst.roster.learners
        cached = _Learners(
            names=[lr.name for lr in learners],
            timezones=[lr.timezone for lr in learners],
            intrinsic=inst.intrinsic.astype(int).tolist(),
            skills=[inst.skills[:, j].tolist() for j in range(len(inst.skill_names))],
        )
        inst._summary_learners = cached  # type: ignore[attr-defined]
    return cached


def summarize_team(
    inst: Instance,
    assignment: Sequence[int] | np.ndarray,
    terms: Sequence[Term],
    team_penalties: Mapping[str, Sequence[int]],
    t: int,
    mem: Sequence[int],
) -> TeamSummary:
    """One team (0-based ``t``, learner indices ``mem``) as a tutor reads it.

    ``team_penalties`` holds, per criterion, the validator's penalty of every team.
    """
    mem = list(mem)
    overlap = overlap_term(terms)
    lists = _learners(inst)
    size = len(mem)
    # plain lists: numpy costs more than it saves on a handful of members
    means = {
        s: round(sum(map(col.__getitem__, mem)) / size / SKILL_SCALE, 2) if size else 0.0
        for s, col in zip(inst.skill_names, lists.skills, strict=True)
    }
    intrinsic = sum(map(lists.intrinsic.__getitem__, mem))
    common = None
    if overlap is not None:
        common = slot_hours(overlap.common_slots(mem))
    extra = team_details(inst, terms, assignment, mem, t, team_penalties)
    project = next((term for term in terms if isinstance(term, ProjectTerm)), None)
    return _team_summary(
        inst, terms, team_penalties, t, mem, means, intrinsic, common, extra, project
    )


def _team_summary(
    inst: Instance,
    terms: Sequence[Term],
    team_penalties: Mapping[str, Sequence[int]],
    t: int,
    mem: list[int],
    means: dict[str, float],
    intrinsic: int,
    common_hours: float | None,
    extra: TeamDetails,
    project: ProjectTerm | None,
    direct: bool = False,
) -> TeamSummary:
    """The summary of team ``t`` from its measures (``project``: the terms' projects).

    ``direct`` builds it from values already of its fields' types (:func:`_direct`),
    as :func:`_summaries` does for every team; without projects only.
    """
    ids, names = inst.ids, _learners(inst).names
    size = len(mem)
    if direct and project is None:
        return _direct(
            team=int(t) + 1,
            section=inst.section_names[int(inst.team_section[t])] or None,
            members=[ids[i] for i in mem],
            names=[names[i] for i in mem],
            size=size,
            skill_means=means,
            intrinsic=int(intrinsic),
            imposed=size - int(intrinsic),
            common_hours=None if common_hours is None else float(common_hours),
            penalties={
                term.name: float(term.natural(team_penalties[term.name][t])) for term in terms
            },
            flags=[c.message for c in extra.checks if not c.ok],
            common_slots=list(extra.common_slots),
            timezones=extra.timezones,
            participation=extra.participation,
            skill_targets=dict(extra.skill_targets),
            criteria=extra.criteria,
            checks=extra.checks,
            project=None,
            project_ranks={},
        )
    return TeamSummary(
        team=t + 1,
        section=inst.section_names[int(inst.team_section[t])] or None,
        members=[ids[i] for i in mem],
        names=[names[i] for i in mem],
        size=size,
        skill_means=means,
        intrinsic=intrinsic,
        imposed=size - intrinsic,
        common_hours=common_hours,
        penalties={term.name: term.natural(team_penalties[term.name][t]) for term in terms},
        # one flag system: the plain list is the messages of the checks that fail
        flags=[c.message for c in extra.checks if not c.ok],
        common_slots=extra.common_slots,
        timezones=extra.timezones,
        participation=extra.participation,
        skill_targets=extra.skill_targets,
        criteria=extra.criteria,
        checks=extra.checks,
        **_project_fields(inst, project, mem, t),
    )


def _direct(**values: Any) -> TeamSummary:
    """A :class:`TeamSummary` of ``values`` (every field, each of its declared type), set
    as they are, without validating them again.

    Validating took about a fifth of a millisecond a team, a fifth of summarising
    12 500 teams; what validation would change (integers in float fields, arrays'
    integers, tuples) is converted by the caller. The summaries are the same
    either way (tested against :func:`summarize_team`, which validates).
    """
    return unvalidated(TeamSummary, values)


def _project_fields(
    inst: Instance, term: ProjectTerm | None, members: list[int], team: int
) -> dict[str, Any]:
    if term is None:
        return {}
    data = term.data
    p = int(term.assigned[team])
    ranks = {inst.ids[i]: data.rank_of(i, p) for i in members if data.choices[i]}
    return {"project": data.names[p], "project_ranks": ranks}


def criterion_scores(terms: Sequence[Term], penalties: Mapping[str, int]) -> list[CriterionScore]:
    """Each criterion's share of the objective, from its total integer penalty."""
    return [
        CriterionScore(
            name=term.name,
            hard=term.hard,
            weight=term.weight,
            penalty=term.natural(penalties[term.name]),
            unit=term.unit_label,
            weighted=term.coefficient * penalties[term.name] / OBJECTIVE_SCALE,
            lower_bound=term.natural(term.bound()),
        )
        for term in terms
    ]


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
    assignment: Sequence[int] | np.ndarray,
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
    common = team_common(inst.masks, mem) if mem else 0
    targets = _section_skill_means(inst)[int(inst.team_section[team])]
    criteria = [term.measure(mem, team, int(team_penalties[term.name][team])) for term in terms]
    own = [term.team_checks(mem, team, assignment) for term in terms]
    return TeamDetails(
        common_slots=mask_to_utc_windows(common),
        timezones={inst.ids[i]: _learners(inst).timezones[i] for i in mem},
        participation=_participation(inst, mem),
        skill_targets=targets,
        criteria=criteria,
        checks=_checks(inst, assignment, mem, team, own, touching_pairs(inst, mem)),
    )


def _participation(inst: Instance, mem: list[int]) -> dict[str, float]:
    """Member id to participation score, where the roster gives one."""
    participation: dict[str, float] = {}
    if inst.participation is not None:
        for i in mem:
            value = float(inst.participation[i])
            if not math.isnan(value):
                participation[inst.ids[i]] = value
    return participation


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


def _checks(
    inst: Instance,
    assignment: Sequence[int] | np.ndarray,
    mem: list[int],
    team: int,
    own: Sequence[list[TeamFlag]],
    touching: list[tuple[int, int]],
) -> list[TeamFlag]:
    """Tutor-facing checks of one team; ``ok=False`` marks something to act on.

    Each criterion's own checks (``own``, one list per term: its
    :meth:`~teamform.criteria.base.Term.team_checks`) sit between the roster's:
    motivation, participation, earlier teammates and preferred partners
    (``touching``: the preferred pairs with a member in the team) are looked at
    whenever the roster or history holds them, whether or not a criterion
    weighs them.
    """
    out: list[TeamFlag] = []
    if not mem:
        return out
    flags = _learners(inst).intrinsic
    intrinsic = [inst.ids[i] for i in mem if flags[i]]
    if intrinsic:
        n = len(intrinsic)
        out.append(
            team_flag(
                code="motivation",
                ok=True,
                message=f"{n} intrinsically motivated member{'s' if n != 1 else ''}",
                learners=intrinsic,
            )
        )
    elif inst.roster.has_column("motivation"):  # without the column, nothing is known
        out.append(team_flag(code="motivation", message="no intrinsically motivated member"))

    for checks in own:
        out.extend(checks)

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
                    team_flag(
                        code="participation",
                        message="low participation concentrated: " + ", ".join(reasons),
                        learners=[inst.ids[i] for i in (low or [i for i, _ in known])],
                    )
                )
            else:
                out.append(
                    team_flag(code="participation", ok=True, message="participation mix is fine")
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
                team_flag(
                    code="repeated_pair",
                    message=(
                        f"{learner_label(inst, i)} and {learner_label(inst, j)} already worked "
                        f"together ({phases})"
                    ),
                    learners=[inst.ids[i], inst.ids[j]],
                )
            )
        if not again:
            msg = "no pair from an earlier phase repeated"
            out.append(team_flag(code="repeated_pair", ok=True, message=msg))

    inside = set(mem)
    for a, b in touching:
        pair = [inst.ids[a], inst.ids[b]]
        if a in inside and b in inside:
            msg = (
                f"{learner_label(inst, a)} and {learner_label(inst, b)} asked to work "
                "together: together"
            )
            out.append(team_flag(code="prefer", ok=True, message=msg, learners=pair))
        else:
            here, away = (a, b) if a in inside else (b, a)
            msg = (
                f"{learner_label(inst, here)} asked to work with {learner_label(inst, away)}, "
                f"who is in team {int(assignment[away]) + 1}"
            )
            out.append(team_flag(code="prefer", message=msg, learners=pair))
    return out


@dataclass
class Digest:
    """What the command line prints of a large result instead of every team."""

    #: team size to the number of teams of that size
    sizes: dict[int, int] = field(default_factory=dict)
    #: teams with a failing check
    flagged: int = 0
    #: check code to the number of teams failing it (``other``: a flag without a check)
    kinds: dict[str, int] = field(default_factory=dict)
    #: the costliest teams (positions in the list summarised) with their weighted penalty
    worst: list[tuple[int, float]] = field(default_factory=list)


def digest(
    teams: Sequence[TeamSummary], scores: Sequence[CriterionScore], worst: int = 5
) -> Digest:
    """Sizes, flags and the ``worst`` costliest teams (weight x natural penalty,
    summed over the soft criteria; ties: the earlier team) of ``teams``."""
    weight = [(c.name, c.weight) for c in scores if not c.hard]
    out = Digest()
    costs = []
    for pos, team in enumerate(teams):
        out.sizes[team.size] = out.sizes.get(team.size, 0) + 1
        if team.flags:
            out.flagged += 1
            for code in {c.code for c in team.checks if not c.ok} or {"other"}:
                out.kinds[code] = out.kinds.get(code, 0) + 1
        penalties = team.penalties
        costs.append((-sum(w * penalties.get(name, 0.0) for name, w in weight), pos))
    out.worst = [(pos, -cost) for cost, pos in heapq.nsmallest(worst, costs)]
    return out
