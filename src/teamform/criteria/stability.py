"""Stability: keep learners in their current team (the ``keep`` policy).

``Instance.previous`` gives each learner's current team index, or -1 for a
late joiner. A team's penalty is the number of its members who come from
another team. Teams keep their number across phases, so a learner whose team
no longer exists (fewer teams now) or now belongs to another section moves
whatever happens; late joiners cost nothing wherever they go.

Minimised under the hard rules and team sizes, this restores sizes and rules
after dropouts and late joiners while moving as few learners as possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from teamform.criteria.base import Criterion, Term

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance


class Stability(Criterion):
    """Learners kept in their current team (the ``keep`` re-forming policy).

    Penalty: learners placed in a team other than the one they are in now
    (teams keep their number across phases); learners without a current team
    cost nothing. Hard: nobody moves.
    """


class StabilityTerm(Term):
    """Members placed in a team other than their current one."""

    name = "stability"
    unit_label = "learners moved"

    def __init__(self, inst: Instance, *, weight: float, hard: bool) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        prev = inst.previous
        self.prev: list[int] = [-1] * inst.n if prev is None else [int(t) for t in prev]

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        prev = self.prev
        return sum(1 for i in members if prev[i] >= 0 and prev[i] != team)

    def max_penalty(self) -> int:
        """Everybody moved."""
        return self.inst.n

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        prev = self.prev
        return {
            t: sum(v for i, v in sub.members[t] if prev[i] >= 0 and prev[i] != t) for t in sub.teams
        }

    def lower_bound(self) -> int:
        """Moves forced by the layout alone.

        A learner whose team is gone or now in another section must move, and
        a team holding more of its current members than its maximum size must
        let the excess go.
        """
        inst = self.inst
        forced = 0
        staying = np.zeros(inst.k, dtype=np.int64)
        for i, t in enumerate(self.prev):
            if t < 0:
                continue
            if t >= inst.k or inst.team_section[t] != inst.section[i]:
                forced += 1
            else:
                staying[t] += 1
        return forced + int(np.maximum(staying - inst.team_hi, 0).sum())

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        moved = [self.inst.ids[i] for i in members if self.prev[i] not in (-1, team)]
        return f"stability: {penalty} learners moved into team {team + 1} ({', '.join(moved)})"


def build(inst: Instance, spec: Stability) -> list[Term]:
    """The terms of one ``[criteria.stability]`` table."""
    if not spec.enabled:
        return []
    return [StabilityTerm(inst, weight=spec.weight, hard=spec.hard)]
