"""Pairwise diversity: members of a team differ from one another.

This is the maximally diverse grouping problem's objective (sum of pairwise
distances inside teams, to maximise) written as a non-negative penalty that is
a sum over teams. Each learner ``i`` could at best sit with its ``m - 1`` most
distant peers (m: the largest team size of its section); call the sum of those
distances ``top_i``. A team's penalty is ``sum of top_i over its members``
minus twice the distances inside the team, which is never negative. Summed
over teams it equals twice "the best imaginable within-team distance minus the
achieved one", so minimising it maximises diversity, and it composes with every
other criterion. The integer unit is half a distance unit (scaled by a power of
ten, see :mod:`teamform.distances`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, model_validator

from teamform.criteria.base import Criterion, Term

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance


class Diversity(Criterion):
    """Pairwise diversity: members of a team differ from one another.

    Distances come from ``matrix`` (a CSV ``id_a,id_b,distance``; pairs not
    listed are at distance 0) or are computed from roster ``columns``: numeric
    columns (``skill_<name>`` or ``participation``) add the absolute difference
    of standardised values, other columns add 1 when the values differ.
    Penalty: per team, the pairwise distance its members fall short of each
    member's most distant possible teammates (see the criterion module).
    """

    columns: list[str] = Field(default_factory=list)
    matrix: str | None = None

    @model_validator(mode="after")
    def _source(self) -> Diversity:
        if bool(self.columns) == bool(self.matrix):
            raise ValueError("give either 'columns' or 'matrix' (a distance CSV), not both")
        if self.hard:
            raise ValueError("diversity is always soft; use hard = false")
        return self


class DiversityTerm(Term):
    """Within-team distance short of each member's ideal (see module doc)."""

    name = "diversity"
    unit_label = "distance short of the ideal"

    def __init__(
        self, inst: Instance, *, weight: float, distances: np.ndarray, factor: float
    ) -> None:
        super().__init__(inst, weight=weight, hard=False)
        self.unit = 1.0 / (2.0 * factor)
        self.dist = distances
        self.factor = factor
        cap = np.zeros(inst.n, dtype=np.int64)
        for s in range(len(inst.section_names)):
            teams = inst.teams_of_section(s)
            if len(teams):
                cap[inst.section == s] = int(inst.team_hi[teams].max()) - 1
        self.top = np.zeros(inst.n, dtype=np.int64)
        for i in range(inst.n):
            peers = np.flatnonzero(inst.section == inst.section[i])
            row = np.sort(distances[i, peers])[::-1]
            self.top[i] = int(row[: cap[i]].sum())
        self._top = self.top.tolist()

    def within(self, members: Sequence[int]) -> int:
        """Sum of distances inside a team, in scaled units."""
        idx = np.asarray(members, dtype=np.int64)
        return int(self.dist[np.ix_(idx, idx)].sum()) // 2

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return sum(self._top[i] for i in members) - 2 * self.within(members)

    def max_penalty(self) -> int:
        """No distance inside any team."""
        return int(sum(self._top))

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        model = sub.model
        for t in sub.teams:
            members = sub.members[t]
            terms: list[cp_model.LinearExprT] = [self._top[i] * v for i, v in members]
            for a in range(len(members)):
                i, vi = members[a]
                for b in range(a + 1, len(members)):
                    j, vj = members[b]
                    d = int(self.dist[i, j])
                    if d <= 0:
                        continue
                    # rewarded only when both are in the team: upper bounds suffice
                    both = model.new_bool_var(f"div[{i},{j},{t}]")
                    model.add_implication(both, vi)
                    model.add_implication(both, vj)
                    terms.append(-2 * d * both)
            out[t] = sum(terms)
        return out

    def achieved(self, assignment: Sequence[int]) -> float:
        """Total within-team distance of an assignment, in original units."""
        teams: dict[int, list[int]] = {}
        for i, t in enumerate(assignment):
            teams.setdefault(int(t), []).append(i)
        return sum(self.within(m) for m in teams.values()) / self.factor


def build(inst: Instance, spec: Diversity) -> list[Term]:
    """The terms of one ``[criteria.diversity]`` table."""
    if not spec.enabled or inst.distances is None:
        return []
    return [
        DiversityTerm(
            inst, weight=spec.weight, distances=inst.distances, factor=inst.distance_factor
        )
    ]
