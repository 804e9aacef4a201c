"""Motivation mix: intrinsically motivated learners spread evenly over teams.

With ``I`` intrinsic learners and ``k`` teams in a section, each team should
hold between ``floor(I/k)`` and ``ceil(I/k)`` of them (never more than its
size). Penalty: learners below the floor plus learners above the ceiling. So
whenever ``I >= k`` no team is left made only of imposed learners.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from teamform.criteria.base import Criterion, Term, fraction_score
from teamform.result import CriterionCheck

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.layout import IntArray, TeamLayout
    from teamform.search.compiled_data import MotivationRecord


class Motivation(Criterion):
    """Intrinsically motivated learners spread evenly.

    Each team should hold between floor(I/k) and ceil(I/k) of the I intrinsic
    learners (k teams, per section); penalty: learners outside that range.
    With fewer intrinsic learners than teams, ``min_intrinsic`` (default 1) is
    still required where possible: no team made only of imposed learners.
    """


def intrinsic_counts(inst: Instance, layout: TeamLayout) -> list[int]:
    """Intrinsically motivated members of every team of ``layout``."""

    def compute() -> list[int]:
        counts = np.bincount(layout.assign, weights=inst.intrinsic, minlength=layout.k)
        return [int(c) for c in counts.tolist()]

    return layout.memo(("intrinsic_counts", id(inst)), compute)


def spread_ranges(inst: Instance) -> tuple[IntArray, IntArray]:
    """The even spread's range of intrinsic learners for every team, ``[lo, hi]``:
    the floor and ceiling of its section's intrinsic learners per team, never
    above the team's size."""
    n_sec = len(inst.section_names)
    total = np.bincount(inst.section[inst.intrinsic.astype(bool)], minlength=n_sec)
    count = np.bincount(inst.team_section, minlength=n_sec)
    per = np.maximum(count, 1)
    lo_sec = np.where(count > 0, total // per, 0).astype(np.int64)
    hi_sec = np.where(count > 0, -(-total // per), 0).astype(np.int64)
    section = inst.team_section
    hi_size = inst.team_hi.astype(np.int64)
    lo = np.minimum(lo_sec[section], hi_size)
    hi = np.minimum(hi_sec[section], hi_size)
    return np.ascontiguousarray(lo, dtype=np.int64), np.ascontiguousarray(hi, dtype=np.int64)


class MotivationTerm(Term):
    """Intrinsic learners per team outside [floor(I/k), ceil(I/k)]."""

    name = "motivation"
    unit_label = "learners off the even spread"

    def __init__(self, inst: Instance, *, weight: float, hard: bool) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        self._intrinsic = inst.intrinsic.astype(int).tolist()
        self._weights = inst.intrinsic.astype(np.float64)
        #: the range of intrinsic learners of every team (:func:`spread_ranges`)
        self.lo, self.hi = spread_ranges(inst)
        self._targets = list(zip(self.lo.tolist(), self.hi.tolist(), strict=True))

    def target(self, team: int) -> tuple[int, int]:
        """Allowed range of intrinsic learners in ``team``."""
        return self._targets[team]

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        count = sum(map(self._intrinsic.__getitem__, members))
        lo, hi = self._targets[team]
        return max(0, lo - count) + max(0, count - hi)

    def team_penalties(self, layout: TeamLayout) -> IntArray:
        count = np.bincount(layout.assign, weights=self._weights, minlength=layout.k)
        ranges = np.asarray(self._targets, dtype=np.int64).reshape(-1, 2)
        count = count.astype(np.int64)
        return np.maximum(0, ranges[:, 0] - count) + np.maximum(0, count - ranges[:, 1])

    def max_penalty(self) -> int:
        """At most every member of every team off the spread."""
        return self.inst.n

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            lo, hi = self.target(t)
            count = sum(v for i, v in sub.members[t] if self.inst.intrinsic[i])
            size = int(self.inst.team_hi[t])
            below = sub.model.new_int_var(0, size, f"motiv_below[{t}]")
            above = sub.model.new_int_var(0, size, f"motiv_above[{t}]")
            sub.model.add(below >= lo - count)
            sub.model.add(above >= count - hi)
            out[t] = below + above
        return out

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        # plain list: numpy costs more than it saves on a handful of members
        return self._measured(sum(map(self._intrinsic.__getitem__, members)), team, penalty)

    def measure_teams(
        self, layout: TeamLayout, penalties: Sequence[int], teams: Sequence[int]
    ) -> list[CriterionCheck]:
        counts = intrinsic_counts(self.inst, layout)
        return [self._measured(counts[t], t, int(penalties[t])) for t in teams]

    def _measured(self, count: int, team: int, penalty: int) -> CriterionCheck:
        lo, hi = self._targets[team]
        return self.check(
            penalty,
            value=count,
            target=f"{lo} intrinsic" if lo == hi else f"{lo}-{hi} intrinsic",
            unit="intrinsic members",
            score=fraction_score(penalty, max(hi, 1)),
        )

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        count = int(np.count_nonzero(self.inst.intrinsic[list(members)]))
        lo, hi = self.target(team)
        return f"motivation: {count} intrinsic learners, expected {lo}-{hi}"

    def compiled_data(self) -> MotivationRecord:
        from teamform.search.compiled_data import MotivationRecord, cost_per_unit

        targets = np.array(self._targets, dtype=np.int64).reshape(-1, 2)
        return MotivationRecord(
            self.inst.intrinsic.astype(np.int64),
            np.ascontiguousarray(targets[:, 0]),
            np.ascontiguousarray(targets[:, 1]),
            cost_per_unit(self),
        )


def build(inst: Instance, spec: Motivation) -> list[Term]:
    """The terms of one ``[criteria.motivation]`` table."""
    if not spec.enabled:
        return []
    return [MotivationTerm(inst, weight=spec.weight, hard=spec.hard)]
