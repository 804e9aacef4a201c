"""Skill balance: every team's skill level close to the cohort's.

Penalty per team and skill: ``|team skill sum - size * cohort mean|`` in
hundredths of a skill point. The cohort mean is taken per section (teams never
mix sections) and rounded to a hundredth, so the target is an exact integer
whatever the team size.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from teamform.criteria.base import SKILL_SCALE, Criterion, Term, fraction_score
from teamform.result import CriterionCheck

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.layout import IntArray, TeamLayout
    from teamform.search.compiled_data import SkillRecord
else:
    from teamform.lazy import cp_model  # imported when a model is first made


class SkillBalance(Criterion):
    """Every team's skill total close to its size times the cohort mean.

    Penalty: per team and skill, the absolute deviation of the team's skill
    sum from ``size * cohort mean``, in skill points (a team of four whose mean
    is 0.25 off counts 1 point). ``skills`` restricts it to some skills.
    """

    skills: list[str] = Field(default_factory=list)


class SkillBalanceTerm(Term):
    """Team skill sums against size times the cohort mean (see module doc)."""

    name = "skill_balance"
    unit = 1 / SKILL_SCALE
    unit_label = "skill points"

    def __init__(
        self, inst: Instance, *, weight: float, hard: bool, skills: Sequence[str] = ()
    ) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        names = list(skills) or inst.skill_names
        self.columns = [inst.skill_names.index(s) for s in names]
        self.skill_labels = names
        sub = inst.skills[:, self.columns]
        # mean[s, j]: section s's mean of skill j, in hundredths
        n_sec = len(inst.section_names)
        self.mean = np.zeros((n_sec, len(self.columns)), dtype=np.int64)
        for s in range(n_sec):
            rows = sub[inst.section == s]
            if len(rows):
                self.mean[s] = np.rint(rows.sum(axis=0) / len(rows)).astype(np.int64)
        self.values = sub  # (n, S) hundredths
        # plain lists: team penalties are evaluated millions of times on tiny teams
        self._cols = [sub[:, j].tolist() for j in range(sub.shape[1])]
        self._means = self.mean.tolist()
        self._rows: tuple[list[list[int]], list[list[int]]] | None = None
        self._goals: dict[int, str] = {}
        self._team_section = inst.team_section.tolist()

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        size = len(members)
        mean = self._means[self._team_section[team]]
        pen = 0
        for col, mu in zip(self._cols, mean, strict=True):
            pen += abs(sum(map(col.__getitem__, members)) - size * mu)
        return pen

    def team_penalties(self, layout: TeamLayout) -> IntArray:
        sums = np.rint(layout.team_sums(self.values)).astype(np.int64)
        targets = layout.sizes[:, None] * self.mean[self.inst.team_section]
        return np.abs(sums - targets).sum(axis=1).astype(np.int64)

    def max_penalty(self) -> int:
        """Every member at most the skill's spread (plus rounding) from the mean."""
        return self.inst.n * int((np.ptp(self.values, axis=0) + 1).sum()) if self.inst.n else 0

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        model = sub.model
        for t in sub.teams:
            sec = int(self.inst.team_section[t])
            size = sub.size_expr(t)
            devs = []
            for j in range(len(self.columns)):
                total = cp_model.LinearExpr.weighted_sum(
                    [v for _, v in sub.members[t]],
                    [int(self.values[i, j]) for i, _ in sub.members[t]],
                )
                target = size * int(self.mean[sec, j])
                bound = int(self.values[:, j].max()) * int(self.inst.team_hi[t]) + int(
                    self.mean[sec, j]
                ) * int(self.inst.team_hi[t])
                d = model.new_int_var(0, bound, f"skill_dev[{t},{j}]")
                model.add(d >= total - target)
                model.add(d >= target - total)
                devs.append(d)
            out[t] = sum(devs)
        return out

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        inst = self.inst
        section = int(inst.team_section[team])
        mem = list(members)
        size = len(mem)
        # plain lists: numpy costs more than it saves on a handful of members
        if self._rows is None:
            self._rows = (self.values.tolist(), self.mean.tolist())
        rows, targets = self._rows[0], self._rows[1][section]
        sums = [sum(rows[i][j] for i in mem) for j in range(len(targets))]
        devs = [
            abs((s / size if size else 0.0) - m) / SKILL_SCALE
            for s, m in zip(sums, targets, strict=True)
        ]
        return self._measured(sum(devs) / len(devs) if devs else None, section, penalty)

    def measure_teams(
        self, layout: TeamLayout, penalties: Sequence[int], teams: Sequence[int]
    ) -> list[CriterionCheck]:
        def compute() -> list[float] | None:
            if not self.values.shape[1]:
                return None
            sizes = layout.sizes.astype(np.float64)[:, None]
            # the same float operations, in the same order, as measure(): the same values
            with np.errstate(divide="ignore", invalid="ignore"):
                means = np.where(sizes > 0, layout.team_sums(self.values) / sizes, 0.0)
            devs = np.abs(means - self.mean[self.inst.team_section]) / SKILL_SCALE
            total = devs[:, 0].copy()
            for j in range(1, devs.shape[1]):
                total += devs[:, j]
            return (total / devs.shape[1]).tolist()

        values = layout.memo(("skill_balance", id(self)), compute)
        sections = self._team_section
        return [
            self._measured(None if values is None else values[t], sections[t], int(penalties[t]))
            for t in teams
        ]

    def _measured(self, mean_dev: float | None, section: int, penalty: int) -> CriterionCheck:
        value = round(mean_dev, 2) if mean_dev is not None else 0.0
        # a quarter of the declared scale off the cohort mean scores 0
        spread = (self.inst.model.skills.max - self.inst.model.skills.min) / 4
        return self.check(
            penalty,
            value=value,
            target=self._goal(section),
            unit="points off the mean",
            score=fraction_score(value, spread),
        )

    def _goal(self, section: int) -> str:
        """The target of a section's teams, in words (built once a section)."""
        goal = self._goals.get(section)
        if goal is None:
            means = ", ".join(
                f"{s} {self.mean[section, j] / SKILL_SCALE:.2f}"
                for j, s in enumerate(self.skill_labels)
            )
            goal = self._goals[section] = f"team means at the cohort means ({means})"
        return goal

    def lower_bound(self) -> int:
        """Integrality bound: a team sum can only take values on a lattice.

        With all levels multiples of ``g`` (hundredths), a team's sum is a
        multiple of ``g``; its deviation is at least the distance from the
        target to the nearest multiple of ``g``.
        """
        inst = self.inst
        total = 0
        for j in range(len(self.columns)):
            g = 0
            for v in np.unique(self.values[:, j]).tolist():
                g = gcd(g, int(v))
            if g <= 1:
                continue
            for t in range(inst.k):
                if inst.team_lo[t] != inst.team_hi[t]:
                    continue  # variable size: the target moves, no simple bound
                target = int(inst.team_lo[t]) * int(self.mean[int(inst.team_section[t]), j])
                r = target % g
                total += min(r, g - r)
        return total

    def compiled_data(self) -> SkillRecord:
        from teamform.search.compiled_data import SkillRecord, cost_per_unit

        return SkillRecord(
            np.ascontiguousarray(self.values, dtype=np.int64),
            np.ascontiguousarray(self.mean[self.inst.team_section], dtype=np.int64),
            cost_per_unit(self),
        )


def build(inst: Instance, spec: SkillBalance) -> list[Term]:
    """The terms of one ``[criteria.skill_balance]`` table."""
    if not spec.enabled or not inst.skill_names:
        return []
    return [SkillBalanceTerm(inst, weight=spec.weight, hard=spec.hard, skills=spec.skills)]
