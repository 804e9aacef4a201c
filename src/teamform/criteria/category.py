"""Rules on a categorical roster column (language, role, background ...).

* ``distribute``: each value spread evenly; per team, members of a value below
  ``floor(N_v / k)`` or above ``ceil(N_v / k)`` (k teams in the section) count.
* ``cluster``: teams share one value; per team, each value beyond the first counts.
* ``no_isolation``: never a single member of a value alone in a team; per team,
  each value held by exactly one member counts.

``values`` restricts a rule to some values of the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from teamform.criteria.base import Criterion, Term, fraction_score, learner_label
from teamform.result import CriterionCheck, TeamFlag, team_flag

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.search.compiled_data import CategoryRecord


class CategoryRule(Criterion):
    """A rule on a categorical roster column.

    ``distribute``: each value spread evenly (per team between floor and ceil
    of its share); ``cluster``: teams share one value (penalty: extra values per
    team); ``no_isolation``: never a single member of a value alone in a team
    (penalty: isolated members). ``values`` limits the rule to some values.
    """

    column: str
    rule: Literal["distribute", "cluster", "no_isolation"]
    values: list[str] = Field(default_factory=list)


class CategoryTerm(Term):
    """One categorical rule (see module doc)."""

    #: each rule's own name is ``category:<column>:<rule>``
    name = "category"
    unit_label = "members"

    def __init__(self, inst: Instance, rule: CategoryRule) -> None:
        super().__init__(inst, weight=rule.weight, hard=rule.hard)
        self.rule = rule.rule
        self.column = rule.column
        self.name = f"category:{rule.column}:{rule.rule}"
        cat = inst.categories[rule.column]
        self.codes = cat.codes
        self.labels = cat.values
        wanted = set(rule.values) if rule.values else set(cat.values)
        self.active = [c for c, v in enumerate(cat.values) if v in wanted]
        n_sec = len(inst.section_names)
        # counts[s, v]: learners of section s holding value v
        self.counts = np.zeros((n_sec, len(cat.values)), dtype=np.int64)
        np.add.at(self.counts, (inst.section, self.codes), 1)
        self.teams_per_section = np.bincount(inst.team_section, minlength=n_sec)

    def _value_counts(self, members: Sequence[int]) -> np.ndarray:
        return np.bincount(self.codes[list(members)], minlength=len(self.labels))

    def _range(self, team: int, value: int) -> tuple[int, int]:
        s = int(self.inst.team_section[team])
        total, teams = int(self.counts[s, value]), int(self.teams_per_section[s])
        return total // teams, -(-total // teams)

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        counts = self._value_counts(members)
        if self.rule == "distribute":
            pen = 0
            for v in self.active:
                lo, hi = self._range(team, v)
                c = int(counts[v])
                pen += max(0, lo - c) + max(0, c - hi)
            return pen
        if self.rule == "cluster":
            present = sum(1 for v in self.active if counts[v] > 0)
            return max(0, present - 1)
        return sum(1 for v in self.active if counts[v] == 1)

    def max_penalty(self) -> int:
        """Each member counted at most twice (below a floor, above a ceiling)."""
        return 2 * self.inst.n

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        model = sub.model
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            by_value: dict[int, list[cp_model.IntVar]] = {v: [] for v in self.active}
            for i, var in sub.members[t]:
                c = int(self.codes[i])
                if c in by_value:
                    by_value[c].append(var)
            size = int(self.inst.team_hi[t])
            terms: list[cp_model.LinearExprT] = []
            present_lits = []
            for v, lits in by_value.items():
                count = sum(lits)
                if self.rule == "distribute":
                    lo, hi = self._range(t, v)
                    below = model.new_int_var(0, size, f"cat_below[{t},{v}]")
                    above = model.new_int_var(0, size, f"cat_above[{t},{v}]")
                    model.add(below >= lo - count)
                    model.add(above >= count - hi)
                    terms.extend([below, above])
                elif not lits:
                    continue
                elif self.rule == "cluster":
                    present = model.new_bool_var(f"cat_present[{t},{v}]")
                    for lit in lits:
                        model.add_implication(lit, present)
                    present_lits.append(present)
                else:
                    # isolated >= any - many: "any" forces count 0 when false,
                    # "many" may be true only when count >= 2
                    some = model.new_bool_var(f"cat_some[{t},{v}]")
                    many = model.new_bool_var(f"cat_many[{t},{v}]")
                    for lit in lits:
                        model.add_implication(lit, some)
                    model.add(count >= 2).only_enforce_if(many)
                    isolated = model.new_bool_var(f"cat_isolated[{t},{v}]")
                    model.add(isolated >= some - many)
                    terms.append(isolated)
            if self.rule == "cluster":
                extra = model.new_int_var(0, len(self.active), f"cat_extra[{t}]")
                model.add(extra >= sum(present_lits) - 1)
                terms.append(extra)
            out[t] = sum(terms)
        return out

    def lower_bound(self) -> int:
        """Values held by a single learner of a section are isolated wherever they go."""
        if self.rule != "no_isolation":
            return 0
        return int(sum(int((self.counts[:, v] == 1).sum()) for v in self.active))

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        size = len(members)
        if self.rule == "cluster":
            counts = self._value_counts(members)
            present = sum(1 for v in self.active if counts[v] > 0)
            return self.check(
                penalty,
                value=present,
                target=f"one {self.column} value",
                unit="values",
                score=fraction_score(penalty, max(size - 1, 1)),
            )
        target = (
            f"each {self.column} value spread evenly"
            if self.rule == "distribute"
            else f"no {self.column} value held by a single member"
        )
        unit = "members off the spread" if self.rule == "distribute" else "isolated members"
        return self.check(
            penalty,
            value=self.natural(penalty),
            target=target,
            unit=unit,
            score=fraction_score(penalty, max(size, 1)),
        )

    def team_checks(
        self, members: Sequence[int], team: int, assignment: Sequence[int] | np.ndarray
    ) -> list[TeamFlag]:
        if self.rule != "no_isolation":
            return []
        inst = self.inst
        counts = self._value_counts(members)
        lonely = [v for v in self.active if counts[v] == 1]
        out = []
        for v in lonely:
            i = next(i for i in members if self.codes[i] == v)
            out.append(
                team_flag(
                    code="isolation",
                    message=(
                        f"{learner_label(inst, i)} is the only member with "
                        f"{self.column} = {self.labels[v]}"
                    ),
                    learners=[inst.ids[i]],
                )
            )
        if not lonely:
            msg = f"no member alone with their {self.column}"
            out.append(team_flag(code="isolation", ok=True, message=msg))
        return out

    def precheck(self) -> list[str]:
        if self.bound() <= 0:
            return []
        inst = self.inst
        out = []
        for v in self.active:
            for s, section in enumerate(inst.section_names):
                if int(self.counts[s, v]) != 1:
                    continue
                i = int(np.flatnonzero((self.codes == v) & (inst.section == s))[0])
                where = f" of section '{section}'" if section else ""
                out.append(
                    f"{self.name} (hard) cannot hold: learner {inst.ids[i]} is the only "
                    f"one{where} with {self.column} = {self.labels[v]}; leave "
                    f"'{self.labels[v]}' out of the rule's values or make it soft (hard = false)"
                )
        return out

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        counts = self._value_counts(members)
        shown = ", ".join(f"{self.labels[v]}={int(counts[v])}" for v in self.active if counts[v])
        return f"{self.name}: {shown}"

    def compiled_data(self) -> CategoryRecord:
        from teamform.search.compiled_data import CATEGORY_KIND, CategoryRecord, cost_per_unit

        k = self.inst.k
        rec = CategoryRecord.rows(self.inst.n, k, 1, max(1, len(self.labels)))
        rec.codes[0] = self.codes
        rec.kind[0] = CATEGORY_KIND[self.rule]
        rec.active[0, self.active] = 1
        rec.coef[0] = cost_per_unit(self)
        if self.rule == "distribute":
            for t in range(k):
                for v in self.active:
                    rec.lo[0, t, v], rec.hi[0, t, v] = self._range(t, v)
        return rec


def build(inst: Instance, spec: CategoryRule) -> list[Term]:
    """The terms of one ``[criteria.category]`` table."""
    return [CategoryTerm(inst, spec)] if spec.enabled else []
