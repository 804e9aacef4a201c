"""Participation: engagement measured in an earlier phase (roster column 0-100).

Two terms share one ``[criteria.participation]`` table:

* :class:`ParticipationSpreadTerm` (``participation``): learners below ``low``
  are spread so that no team concentrates them. With ``L`` low learners and
  ``k`` teams in a section, each team should hold at most ``ceil(L/k)``;
  penalty: low learners beyond that.
* :class:`ParticipationHighTerm` (``participation_high``): each team should
  have a highly engaged member (at ``high`` or above); penalty: 1 per team
  without one. With fewer such learners than teams some team must go without,
  which :meth:`~ParticipationHighTerm.lower_bound` reports.

Learners without a participation value count as neither low nor high.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from teamform.criteria.base import Criterion, Relaxation, Term, short_sections

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance


class Participation(Criterion):
    """Engagement from a ``participation`` roster column (0-100).

    Learners below ``low`` are spread: per team, those beyond ``ceil(L/k)``
    count (``L`` low learners, ``k`` teams in the section). With
    ``require_high``, each team without a member at ``high`` or above counts 1.
    Ignored when the roster has no participation column (e.g. a first phase).
    """

    low: float = Field(default=40, ge=0, le=100)
    high: float = Field(default=70, ge=0, le=100)
    require_high: bool = True

    @model_validator(mode="after")
    def _check(self) -> Participation:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


def _values(inst: Instance) -> npt.NDArray[np.float64]:
    """Participation of each learner; NaN (unknown) compares false both ways."""
    if inst.participation is None:
        return np.full(inst.n, np.nan)
    return np.asarray(inst.participation, dtype=np.float64)


class ParticipationSpreadTerm(Term):
    """Low-participation learners beyond ``ceil(L/k)`` in a team."""

    name = "participation"
    unit_label = "low-participation learners beyond the even share"

    def __init__(self, inst: Instance, *, weight: float, hard: bool, low: float) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        self.low = low
        self.is_low = _values(inst) < low
        n_sec = len(inst.section_names)
        self.cap = np.zeros(n_sec, dtype=np.int64)
        for s in range(n_sec):
            total = int(np.count_nonzero(self.is_low & (inst.section == s)))
            teams = int((inst.team_section == s).sum())
            if teams:
                self.cap[s] = -(-total // teams)

    def team_cap(self, team: int) -> int:
        """Most low-participation learners ``team`` should hold."""
        return int(self.cap[int(self.inst.team_section[team])])

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        count = int(np.count_nonzero(self.is_low[list(members)]))
        return max(0, count - self.team_cap(team))

    def max_penalty(self) -> int:
        """Every learner beyond a share."""
        return self.inst.n

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            count = sum(v for i, v in sub.members[t] if self.is_low[i])
            above = sub.model.new_int_var(0, int(self.inst.team_hi[t]), f"partic_above[{t}]")
            sub.model.add(above >= count - self.team_cap(t))
            out[t] = above
        return out

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        count = int(np.count_nonzero(self.is_low[list(members)]))
        return (
            f"participation: {count} learners below {self.low:g}, "
            f"at most {self.team_cap(team)} expected"
        )


class ParticipationHighTerm(Term):
    """Teams without a member at ``high`` participation or above."""

    name = "participation_high"
    unit_label = "teams without an engaged member"

    def __init__(self, inst: Instance, *, weight: float, hard: bool, high: float) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        self.high = high
        self.is_high = _values(inst) >= high

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return 0 if any(self.is_high[i] for i in members) else 1

    def max_penalty(self) -> int:
        """Every team without an engaged member."""
        return self.inst.k

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            engaged = [v for i, v in sub.members[t] if self.is_high[i]]
            missing = sub.model.new_bool_var(f"partic_missing[{t}]")
            sub.model.add(missing + sum(engaged) >= 1)
            out[t] = missing
        return out

    def lower_bound(self) -> int:
        """Teams beyond the number of engaged learners of their section."""
        inst = self.inst
        total = 0
        for s in range(len(inst.section_names)):
            teams = int((inst.team_section == s).sum())
            engaged = int(np.count_nonzero(self.is_high & (inst.section == s)))
            total += max(0, teams - engaged)
        return total

    def precheck(self) -> list[str]:
        if self.bound() <= 0:
            return []
        inst = self.inst
        out = []
        values = np.asarray(inst.participation, dtype=np.float64)
        need = f"at participation >= {self.high:g}"
        for s, line in short_sections(inst, self.is_high, "participation_high", need):
            out.append(line)
            teams = int((inst.team_section == s).sum())
            in_sec = inst.section == s
            known = np.sort(values[in_sec & ~np.isnan(values)])[::-1]
            if len(known) >= teams:
                out.append(
                    f"relax to participation high = {float(known[teams - 1]):g}, "
                    "or make participation soft (hard = false)"
                )
            else:
                out.append("make participation soft (hard = false): too few learners have a score")
        return out

    def relaxations(self) -> list[Relaxation]:
        values = np.asarray(self.inst.participation, dtype=np.float64)
        below = sorted({float(v) for v in values[~np.isnan(values)] if v < self.high}, reverse=True)

        def relaxed(high: float) -> Term:
            return ParticipationHighTerm(self.inst, weight=self.weight, hard=True, high=high)

        return [
            Relaxation(
                f"participation high = {self.high:g}",
                below,
                relaxed,
                lambda high: f"participation high = {high:g}",
            )
        ]

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        return f"participation_high: no member at participation {self.high:g} or above"


def build(inst: Instance, spec: Participation) -> list[Term]:
    """The terms of one ``[criteria.participation]`` table."""
    # without a participation column (e.g. a first phase) there is nothing to spread
    if not spec.enabled or inst.participation is None:
        return []
    terms: list[Term] = [
        ParticipationSpreadTerm(inst, weight=spec.weight, hard=spec.hard, low=spec.low)
    ]
    if spec.require_high:
        terms.append(
            ParticipationHighTerm(inst, weight=spec.weight, hard=spec.hard, high=spec.high)
        )
    return terms
