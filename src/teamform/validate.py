"""Independent validator: check an assignment from the assignment alone.

Nothing here looks at a solver. Hard rules (everyone in exactly one team, team
sizes, sections, avoid pairs, pins, hard criteria) are checked directly, and every
criterion's penalty is recomputed from each team's member list with the
criterion's own evaluation. The objective is rebuilt from those penalties, so
a result whose reported objective differs from :attr:`Validation.objective`
is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from teamform.criteria import Term, build_terms
from teamform.instance import Instance


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


def team_members(assignment: Sequence[int], k: int) -> list[list[int]]:
    """Members of each team, from a learner-to-team array."""
    members: list[list[int]] = [[] for _ in range(k)]
    for i, t in enumerate(assignment):
        members[int(t)].append(i)
    return members


def validate(
    inst: Instance, assignment: Sequence[int], terms: Sequence[Term] | None = None
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

    members = team_members(arr.tolist(), inst.k)
    for t, mem in enumerate(members):
        size = len(mem)
        if not inst.team_lo[t] <= size <= inst.team_hi[t]:
            violations.append(
                f"team {t + 1}: {size} members, allowed {inst.team_lo[t]}-{inst.team_hi[t]}"
            )
        secs = {int(inst.section[i]) for i in mem}
        if secs - {int(inst.team_section[t])}:
            names = sorted(inst.section_names[s] or "(none)" for s in secs)
            violations.append(f"team {t + 1}: mixes sections {', '.join(names)}")
    for a, b in inst.avoid.tolist():
        if arr[a] == arr[b]:
            violations.append(
                f"team {arr[a] + 1}: avoid pair {inst.ids[a]},{inst.ids[b]} share the team"
            )
    if inst.pins is not None:
        violations.extend(inst.pins.violations(arr.tolist(), inst.ids))

    penalties: dict[str, int] = {}
    per_team: dict[str, list[int]] = {}
    objective = 0
    for term in terms:
        pens = [term.team_penalty(mem, t) for t, mem in enumerate(members)]
        per_team[term.name] = pens
        penalties[term.name] = sum(pens)
        if term.hard:
            for t, p in enumerate(pens):
                if p:
                    violations.append(
                        f"team {t + 1}: {term.describe_violation(members[t], t, p)} (hard)"
                    )
        else:
            objective += term.coefficient * penalties[term.name]
    return Validation(not violations, violations, penalties, per_team, objective)
