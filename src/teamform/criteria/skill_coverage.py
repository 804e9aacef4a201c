"""Skill coverage: at least one strong member per team in each listed skill.

Penalty: one per team and rule with no member at or above the rule's level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from teamform.criteria.base import (
    SKILL_SCALE,
    Criterion,
    Relaxation,
    Settings,
    Term,
    short_sections,
)
from teamform.result import CriterionCheck, TeamFlag, team_flag

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.search.compiled_data import CoverageRecord


class CoverageRule(Settings):
    skill: str
    level: float


class SkillCoverage(Criterion):
    """At least one member at level >= ``level`` in ``skill``, per rule and team.

    Penalty: one per team and rule without such a member.
    """

    rules: list[CoverageRule] = Field(default_factory=list)


class SkillCoverageTerm(Term):
    """Teams lacking a member at level >= L in skill S (see module doc)."""

    name = "skill_coverage"
    unit_label = "teams lacking a skill"

    def __init__(
        self, inst: Instance, *, weight: float, hard: bool, rules: Sequence[CoverageRule]
    ) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        self.rules = list(rules)
        # strong[r]: learners meeting rule r
        self.strong = [
            inst.skills[:, inst.skill_names.index(r.skill)] >= round(r.level * SKILL_SCALE)
            for r in self.rules
        ]

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        idx = list(members)
        return sum(0 if mask[idx].any() else 1 for mask in self.strong)

    def max_penalty(self) -> int:
        """Every team lacking every rule."""
        return self.inst.k * len(self.rules)

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            missing = []
            for r, mask in enumerate(self.strong):
                strong = [v for i, v in sub.members[t] if mask[i]]
                miss = sub.model.new_bool_var(f"cover_miss[{t},{r}]")
                # a team with no strong member must count as missing
                sub.model.add_bool_or([*strong, miss])
                missing.append(miss)
            out[t] = sum(missing)
        return out

    def lower_bound(self) -> int:
        """Teams that cannot all be covered: fewer strong learners than teams."""
        inst = self.inst
        total = 0
        for mask in self.strong:
            for s in range(len(inst.section_names)):
                teams = int((inst.team_section == s).sum())
                strong = int(np.count_nonzero(mask & (inst.section == s)))
                total += max(0, teams - strong)
        return total

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        mem = list(members)
        met = sum(1 for mask in self.strong if mask[mem].any())
        total = len(self.rules)
        return self.check(
            penalty,
            value=met,
            target=f"a member with {self._rules()} ({total} rule{'s' if total != 1 else ''})",
            unit="rules met",
            score=round(100.0 * met / total, 1) if total else 100.0,
        )

    def _rules(self) -> str:
        return ", ".join(f"{r.skill} >= {r.level:g}" for r in self.rules)

    def _lacking(self, members: Sequence[int]) -> list[str]:
        idx = list(members)
        return [
            f"{r.skill} >= {r.level:g}"
            for r, mask in zip(self.rules, self.strong, strict=True)
            if not mask[idx].any()
        ]

    def team_checks(
        self, members: Sequence[int], team: int, assignment: Sequence[int] | np.ndarray
    ) -> list[TeamFlag]:
        lacking = self._lacking(members)
        if lacking:
            msg = f"no member with {', '.join(lacking)}"
            return [team_flag(code="skill_coverage", message=msg)]
        msg = f"a member with {self._rules()}"
        return [team_flag(code="skill_coverage", ok=True, message=msg)]

    def precheck(self) -> list[str]:
        if self.bound() <= 0:
            return []
        inst = self.inst
        out = []
        for r, (rule, mask) in enumerate(zip(self.rules, self.strong, strict=True)):
            j = inst.skill_names.index(rule.skill)
            need = f"with {rule.skill} >= {rule.level:g}"
            for s, line in short_sections(inst, mask, "skill_coverage", need):
                out.append(line)
                teams = int((inst.team_section == s).sum())
                in_sec = inst.section == s
                # the strictest level that enough learners reach: the teams-th highest
                levels = np.sort(inst.skills[in_sec, j])[::-1]
                relaxed = float(levels[teams - 1]) / SKILL_SCALE
                out.append(
                    f"relax rule {r + 1} to {rule.skill} >= {relaxed:g}, "
                    f"or make skill_coverage soft (hard = false)"
                )
        return out

    def conflict_label(self) -> str:
        return f"skill_coverage (hard: {self._rules()})"

    def relaxations(self) -> list[Relaxation]:
        return [self._relax(r) for r in range(len(self.rules))]

    def _relax(self, r: int) -> Relaxation:
        inst, rule = self.inst, self.rules[r]
        j = inst.skill_names.index(rule.skill)
        levels = {float(v) / SKILL_SCALE for v in inst.skills[:, j].tolist()}

        def relaxed(level: float) -> Term:
            rules = list(self.rules)
            rules[r] = CoverageRule(skill=rule.skill, level=level)
            return SkillCoverageTerm(inst, weight=self.weight, hard=True, rules=rules)

        return Relaxation(
            f"skill_coverage {rule.skill} >= {rule.level:g}",
            sorted((v for v in levels if v < rule.level), reverse=True),
            relaxed,
            lambda level: f"{rule.skill} >= {level:g}",
        )

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        idx = list(members)
        lacking = [
            f"{r.skill} >= {r.level:g}"
            for r, mask in zip(self.rules, self.strong, strict=True)
            if not mask[idx].any()
        ]
        return f"skill_coverage: no member with {', '.join(lacking)}"

    def compiled_data(self) -> CoverageRecord:
        from teamform.search.compiled_data import CoverageRecord, cost_per_unit

        strong = np.array(self.strong, dtype=np.int64).reshape(len(self.strong), self.inst.n)
        return CoverageRecord(strong, cost_per_unit(self))


def build(inst: Instance, spec: SkillCoverage) -> list[Term]:
    """The terms of one ``[criteria.skill_coverage]`` table."""
    if not spec.enabled or not spec.rules:
        return []
    return [SkillCoverageTerm(inst, weight=spec.weight, hard=spec.hard, rules=spec.rules)]
