"""Solver-independent validator: check an assignment from the assignment alone.

Nothing here looks at a solver or a search. Hard rules (everyone in exactly one team, team
sizes, sections, avoid pairs, pins, project capacities, hard criteria) are
checked directly, and every criterion's penalty is recomputed from each team's
member list (and, for projects, the team's project) with the criterion's own
evaluation. The objective is rebuilt from those penalties, so
a result whose reported objective differs from :attr:`Validation.objective`
is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from teamform.criteria import ProjectChoiceTerm, ProjectTerm, Term, build_terms
from teamform.criteria.project import ProjectData
from teamform.instance import Instance
from teamform.layout import TeamLayout
from teamform.layout import team_members as team_members  # where older code imports it


@dataclass
class Validation:
    """What the validator found.

    Attributes
    ----------
    ok
        True when every hard rule holds.
    violations
        One line per broken hard rule.
    penalties
        Total integer penalty per criterion name.
    team_penalties
        Per criterion, the integer penalty of each team.
    objective
        Weighted sum of soft penalties, in hundredths of a weighted unit.
    """

    ok: bool
    violations: list[str] = field(default_factory=list)
    penalties: dict[str, int] = field(default_factory=dict)
    team_penalties: dict[str, list[int]] = field(default_factory=dict)
    objective: int = 0


def validate(
    inst: Instance,
    assignment: Sequence[int],
    terms: Sequence[Term] | None = None,
    projects: Sequence[int] | None = None,
) -> Validation:
    """Check ``assignment`` (team index of each learner) against ``inst``.

    Parameters
    ----------
    inst
        The compiled problem.
    assignment
        ``assignment[i]`` is the team (0-based) of learner ``i``.
    terms
        The criteria to score; by default those of ``inst.model``.
    projects
        With the ``projects`` criterion: ``projects[t]`` is the project index
        of team ``t`` (default: the projects the criterion holds). Capacities
        and kept projects are checked, and penalties recomputed from it.

    Returns
    -------
    Validation
    """
    terms = build_terms(inst) if terms is None else terms
    violations: list[str] = []
    arr = np.asarray(assignment, dtype=np.int64)
    if arr.shape != (inst.n,):
        return Validation(False, [f"assignment has {arr.size} entries for {inst.n} learners"])
    bad = np.flatnonzero((arr < 0) | (arr >= inst.k))
    if len(bad):
        return Validation(False, [f"learner {inst.ids[bad[0]]} is not in any team"])

    project_term = next((t for t in terms if isinstance(t, ProjectTerm)), None)
    chosen: list[int | None] = [None] * inst.k
    if project_term is not None:
        picked = [int(p) for p in (project_term.assigned if projects is None else projects)]
        violations.extend(_project_violations(project_term.data, picked))
        if violations:
            return Validation(False, violations)
        chosen = list(picked)

    layout = TeamLayout(arr, inst.k)
    members = layout.members
    penalties: dict[str, int] = {}
    per_team: dict[str, list[int]] = {}
    suspect = np.zeros(inst.k, dtype=bool)
    for term in terms:
        if project_term is not None and isinstance(term, ProjectTerm | ProjectChoiceTerm):
            values = [_penalty(term, m, t, chosen[t]) for t, m in enumerate(members)]
        else:
            # every team at once: the criterion's own evaluation (see Term.team_penalties)
            values = term.team_penalties(layout).tolist()
        per_team[term.name] = values
        penalties[term.name] = sum(values)
        if term.hard:
            suspect |= np.asarray(values, dtype=np.int64) > 0
    # teams that may break a hard rule are checked one by one, for their messages
    sizes = layout.sizes
    suspect |= (sizes < inst.team_lo) | (sizes > inst.team_hi)
    suspect[arr[inst.section != inst.team_section[arr]]] = True
    if len(inst.avoid):
        pairs = np.asarray(inst.avoid, dtype=np.int64).reshape(-1, 2)
        suspect[arr[pairs[arr[pairs[:, 0]] == arr[pairs[:, 1]], 0]]] = True
    for t in np.flatnonzero(suspect).tolist():
        violations.extend(check_team(inst, terms, members[t], t, chosen[t]).violations)
    if inst.pins is not None:
        violations.extend(inst.pins.violations(arr.tolist(), inst.ids))
    objective = sum(term.coefficient * penalties[term.name] for term in terms if not term.hard)
    return Validation(not violations, violations, penalties, per_team, objective)


@dataclass
class TeamCheck:
    """What the validator finds in one team: its broken hard rules and its penalties."""

    violations: list[str]
    penalties: dict[str, int]


def check_team(
    inst: Instance,
    terms: Sequence[Term],
    members: Sequence[int],
    t: int,
    project: int | None = None,
) -> TeamCheck:
    """Check one team (0-based ``t`` with learner indices ``members``) from its members alone.

    :func:`validate` is this over every team; a plan edited one move at a time
    re-checks only the teams the move touched. ``project`` is the team's
    project index with the ``projects`` criterion (default: the one the
    criterion holds).
    """
    violations: list[str] = []
    size = len(members)
    if not inst.team_lo[t] <= size <= inst.team_hi[t]:
        violations.append(
            f"team {t + 1}: {size} members, allowed {inst.team_lo[t]}-{inst.team_hi[t]}"
        )
    secs = {int(inst.section[i]) for i in members}
    if secs - {int(inst.team_section[t])}:
        names = sorted(inst.section_names[s] or "(none)" for s in secs)
        violations.append(f"team {t + 1}: mixes sections {', '.join(names)}")
    if len(inst.avoid):
        inside = set(members)
        adj = inst.avoid_adj
        for a in sorted(members):
            for b in adj[a]:
                if b > a and b in inside:
                    violations.append(
                        f"team {t + 1}: avoid pair {inst.ids[a]},{inst.ids[b]} share the team"
                    )
    penalties: dict[str, int] = {}
    for term in terms:
        p = _penalty(term, members, t, project)
        penalties[term.name] = p
        if term.hard and p:
            violations.append(f"team {t + 1}: {term.describe_violation(members, t, p)} (hard)")
    return TeamCheck(violations, penalties)


def _penalty(term: Term, members: Sequence[int], t: int, project: int | None) -> int:
    """A team's penalty under ``term``, with the team's ``project`` where one is given."""
    if project is not None and isinstance(term, ProjectTerm):
        return term.penalty_with(members, project)
    if project is not None and isinstance(term, ProjectChoiceTerm):
        return term.owner.misses_with(members, project)
    return term.team_penalty(members, t)


def _project_violations(data: ProjectData, chosen: Sequence[int]) -> list[str]:
    """Every team has a project on offer, within capacities, kept where it must be."""
    out: list[str] = []
    if len(chosen) != len(data.keep):
        return [f"{len(chosen)} team projects for {len(data.keep)} teams"]
    count: dict[int, int] = {}
    for t, p in enumerate(chosen):
        if not 0 <= p < len(data.names):
            out.append(f"team {t + 1}: has no project")
            continue
        count[p] = count.get(p, 0) + 1
        if data.keep[t] >= 0 and data.keep[t] != p:
            out.append(f"team {t + 1}: must keep project '{data.names[data.keep[t]]}'")
    for p, c in sorted(count.items()):
        if c > data.capacity[p]:
            out.append(
                f"project '{data.names[p]}' is taken by {c} teams, capacity {data.capacity[p]}"
            )
    return out
