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
from dataclasses import dataclass
from typing import Any

import numpy as np

from teamform.availability import mask_to_utc_windows
from teamform.criteria import (
    OBJECTIVE_SCALE,
    CategoryTerm,
    MotivationTerm,
    OverlapTerm,
    PreferTerm,
    ProjectTerm,
    SkillBalanceTerm,
    SkillCoverageTerm,
    Term,
)
from teamform.criteria.overlap import team_common
from teamform.instance import SKILL_SCALE, Instance, slot_hours
from teamform.result import CriterionCheck, CriterionScore, TeamFlag, TeamSummary
from teamform.validate import Validation, team_members

#: Below this participation score (0-100) a member counts as low-participation,
#: unless the model's participation criterion sets its own ``low``.
LOW_PARTICIPATION = 40.0
#: A team should hold a member at or above this score (or the model's ``high``).
HIGH_PARTICIPATION = 70.0
#: Two or more low-participation members in one team are flagged.
MAX_LOW_PARTICIPATION = 1


def summarize(
    inst: Instance,
    assignment: list[int],
    terms: list[Term],
    validation: Validation,
    only: Sequence[int] | None = None,
) -> tuple[list[TeamSummary], list[CriterionScore]]:
    """Per-team summaries and per-criterion scores of a validated assignment.

    ``only`` restricts the summaries to these team indices (to measure their cost).
    """
    members = team_members(assignment, inst.k)
    # once, not for every team whose checks look at other teams
    assign = np.asarray(assignment)
    teams = [
        summarize_team(inst, assign, terms, validation.team_penalties, t, members[t])
        for t in (range(inst.k) if only is None else only)
    ]
    return teams, criterion_scores(terms, validation.penalties)


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
    overlap = next((term for term in terms if isinstance(term, OverlapTerm)), None)
    learners = inst.roster.learners
    size = len(mem)
    # one sum over the members for every skill: the same values as a mean per skill
    sums = inst.skills[mem].sum(axis=0).tolist() if size else []
    means = {
        s: round(sums[j] / size / SKILL_SCALE, 2) if size else 0.0
        for j, s in enumerate(inst.skill_names)
    }
    intrinsic = int(inst.intrinsic[mem].sum()) if size else 0
    pens = {term.name: term.natural(team_penalties[term.name][t]) for term in terms}
    common = None
    if overlap is not None:
        common = slot_hours(overlap.common_slots(mem))
    extra = team_details(inst, terms, assignment, mem, t, team_penalties)
    return TeamSummary(
        team=t + 1,
        section=inst.section_names[int(inst.team_section[t])] or None,
        members=[inst.ids[i] for i in mem],
        names=[learners[i].name for i in mem],
        size=size,
        skill_means=means,
        intrinsic=intrinsic,
        imposed=size - intrinsic,
        common_hours=common,
        penalties=pens,
        # one flag system: the plain list is the messages of the checks that fail
        flags=[c.message for c in extra.checks if not c.ok],
        common_slots=extra.common_slots,
        timezones=extra.timezones,
        participation=extra.participation,
        skill_targets=extra.skill_targets,
        criteria=extra.criteria,
        checks=extra.checks,
        **_project_fields(inst, terms, mem, t),
    )


def _project_fields(
    inst: Instance, terms: Sequence[Term], members: list[int], team: int
) -> dict[str, Any]:
    term = next((x for x in terms if isinstance(x, ProjectTerm)), None)
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
    inst: Instance, term: OverlapTerm, assignment: Sequence[int] | np.ndarray, mem: list[int]
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
    inst: Instance,
    term: OverlapTerm,
    assignment: Sequence[int] | np.ndarray,
    mem: list[int],
    m: int,
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
    pool_ids = pool[:SWAP_POOL].tolist()
    # the most time shared with the team first (ties: lower index); only the first few count
    keys = [-(base & masks[j]).bit_count() for j in pool_ids]
    tried = [j for _, j in heapq.nsmallest(SWAP_TRIES, zip(keys, pool_ids, strict=True))]
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


def _rows_of(owner: Any, name: str) -> list[Any]:
    """``owner.name`` (an array) as nested lists, converted once per owner."""
    key = f"_{name}_rows"
    rows: list[Any] | None = getattr(owner, key, None)
    if rows is None:
        rows = getattr(owner, name).tolist()
        setattr(owner, key, rows)
    return rows


def _balance_goal(term: SkillBalanceTerm, section: int) -> str:
    """The skill-balance target of a section's teams, in words (built once a section)."""
    goals: dict[int, str] | None = getattr(term, "_goals", None)
    if goals is None:
        goals = term._goals = {}  # type: ignore[attr-defined]
    goal = goals.get(section)
    if goal is None:
        means = ", ".join(
            f"{s} {term.mean[section, j] / SKILL_SCALE:.2f}"
            for j, s in enumerate(term.skill_labels)
        )
        goal = goals[section] = f"team means at the cohort means ({means})"
    return goal


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
        # plain lists: numpy costs more than it saves on a handful of members
        rows, targets = _rows_of(term, "values"), _rows_of(term, "mean")[section]
        sums = [sum(rows[i][j] for i in mem) for j in range(len(targets))]
        devs = [
            abs((s / size if size else 0.0) - m) / SKILL_SCALE
            for s, m in zip(sums, targets, strict=True)
        ]
        value = round(sum(devs) / len(devs), 2) if devs else 0.0
        # a quarter of the declared scale off the cohort mean scores 0
        spread = (inst.model.skills.max - inst.model.skills.min) / 4
        return CriterionCheck(
            **base,
            value=value,
            target=_balance_goal(term, section),
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
        intrinsic = _rows_of(inst, "intrinsic")
        count = sum(1 for i in mem if intrinsic[i])
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
    inst: Instance, terms: Sequence[Term], assignment: Sequence[int] | np.ndarray, mem: list[int]
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
        elif isinstance(term, SkillCoverageTerm):
            lacking = [
                f"{r.skill} >= {r.level:g}"
                for r, mask in zip(term.rules, term.strong, strict=True)
                if not mask[mem].any()
            ]
            if lacking:
                msg = f"no member with {', '.join(lacking)}"
                out.append(TeamFlag(code="skill_coverage", message=msg))
            else:
                rules = ", ".join(f"{r.skill} >= {r.level:g}" for r in term.rules)
                msg = f"a member with {rules}"
                out.append(TeamFlag(code="skill_coverage", ok=True, message=msg))
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
