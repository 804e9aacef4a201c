"""CP-SAT model over a subset of learners and teams.

The same builder serves the full model (all learners, all teams) and the small
neighbourhoods of the large-neighbourhood search (the members of a few teams,
re-assigned among those teams). Variables, structural constraints and the
objective are built here; every criterion adds its own part through
:meth:`teamform.criteria.base.Term.add_to_model`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from teamform.criteria.base import Term
from teamform.instance import Instance

if TYPE_CHECKING:
    from ortools.sat.python import cp_model
else:
    from teamform.lazy import cp_model  # imported when a model is first made


class SubModel:
    """A CP-SAT model assigning ``learners`` to ``teams``.

    Every listed learner goes to exactly one listed team of its section, every
    team meets its size bounds, no avoid pair shares a team, and pins hold
    (pinned learners in their team, fixed teams closed, keep-together groups
    in one team). Criteria then
    add their penalties; the objective is the weighted sum of all soft
    penalties of the listed teams, which for a neighbourhood equals the
    change of the global objective plus a constant.

    Parameters
    ----------
    inst
        The compiled problem.
    learners, teams
        The subset to build over; the learners must fit the teams' sizes.
    terms
        Criteria to include.
    guard_hard
        Enforce each hard term under an assumption literal, so that an
        infeasible model can name the rules in conflict.
    """

    def __init__(
        self,
        inst: Instance,
        learners: Sequence[int],
        teams: Sequence[int],
        terms: Sequence[Term],
        *,
        guard_hard: bool = False,
    ) -> None:
        self.inst = inst
        self.learners = list(learners)
        self.teams = list(teams)
        self.model = cp_model.CpModel()
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self.members: dict[int, list[tuple[int, cp_model.IntVar]]] = {t: [] for t in self.teams}
        #: assumption literal of each guarded rule, by rule name
        self.guards: dict[str, cp_model.IntVar] = {}
        self.penalties: dict[str, dict[int, cp_model.LinearExprT]] = {}
        #: variables that several terms share (e.g. each team's project), by name
        self.shared: dict[str, object] = {}
        self._build_structure(guard_hard)
        objective: list[cp_model.LinearExprT] = []
        for term in terms:
            team_pen = term.add_to_model(self)
            self.penalties[term.name] = team_pen
            if term.hard:
                guard = self._guard(term.name) if guard_hard else None
                for expr in team_pen.values():
                    ct = self.model.add(expr == 0)
                    if guard is not None:
                        ct.only_enforce_if(guard)
            elif term.coefficient:
                objective.extend(term.coefficient * e for e in team_pen.values())
        self.model.minimize(sum(objective))

    def _guard(self, name: str) -> cp_model.IntVar:
        if name not in self.guards:
            lit = self.model.new_bool_var(f"rule[{name}]")
            self.guards[name] = lit
            self.model.add_assumption(lit)
        return self.guards[name]

    def _build_structure(self, guard_hard: bool) -> None:
        inst = self.inst
        by_section: dict[int, list[int]] = {}
        for t in self.teams:
            by_section.setdefault(int(inst.team_section[t]), []).append(t)
        pins = inst.pins
        for i in self.learners:
            options = by_section.get(int(inst.section[i]), [])
            if pins is not None and not guard_hard:
                # pinned learners and fixed teams: only the allowed pairs get a variable
                options = [t for t in options if pins.allows(i, t)]
            lits = []
            for t in options:
                v = self.model.new_bool_var(f"x[{i},{t}]")
                self.x[i, t] = v
                self.members[t].append((i, v))
                lits.append(v)
            self.model.add_exactly_one(lits)
        if pins is not None:
            self._add_pins(guard_hard)
        for t in self.teams:
            size = sum(v for _, v in self.members[t])
            lo, hi = int(inst.team_lo[t]), int(inst.team_hi[t])
            if lo == hi:
                self.model.add(size == lo)
            else:
                self.model.add_linear_constraint(size, lo, hi)
        in_sub = set(self.learners)
        guard = self._guard("avoid") if guard_hard else None
        for a, b in inst.avoid.tolist():
            if a in in_sub and b in in_sub:
                for t in self.teams:
                    va, vb = self.x.get((a, t)), self.x.get((b, t))
                    if va is not None and vb is not None:
                        ct = self.model.add_bool_or([va.Not(), vb.Not()])
                        if guard is not None:
                            ct.only_enforce_if(guard)

    def _add_pins(self, guard_hard: bool) -> None:
        """Pins: the allowed teams (when guarded) and keep-together groups."""
        pins = self.inst.pins
        assert pins is not None
        guard = self._guard("pins") if guard_hard else None
        cts: list[cp_model.Constraint] = []
        if guard_hard:
            for (i, t), v in self.x.items():
                if not pins.allows(i, t):
                    cts.append(self.model.add(v == 0))
        in_sub = set(self.learners)
        for members in pins.groups:
            inside = [i for i in members if i in in_sub]
            for a, b in itertools.pairwise(inside):
                for t in self.teams:
                    va, vb = self.x.get((a, t)), self.x.get((b, t))
                    if va is not None and vb is not None:
                        cts.append(self.model.add(va == vb))
                    elif va is not None or vb is not None:
                        cts.append(self.model.add((va if va is not None else vb) == 0))
        if guard is not None:
            for ct in cts:
                ct.only_enforce_if(guard)

    def size_expr(self, team: int) -> cp_model.LinearExpr | int:
        """Number of learners in ``team`` as a linear expression."""
        lo, hi = int(self.inst.team_lo[team]), int(self.inst.team_hi[team])
        if lo == hi:
            return lo
        return cp_model.LinearExpr.sum([v for _, v in self.members[team]])

    def hint(self, assignment: Mapping[int, int] | Sequence[int]) -> None:
        """Warm-start from an assignment (learner index to team index)."""
        for (i, t), v in self.x.items():
            self.model.add_hint(v, 1 if assignment[i] == t else 0)

    def read(self, solver: cp_model.CpSolver) -> dict[int, int]:
        """The team of each learner in the solver's current solution."""
        out: dict[int, int] = {}
        for (i, t), v in self.x.items():
            if solver.boolean_value(v):
                out[i] = t
        return out
