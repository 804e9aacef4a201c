"""A team plan under edit: move or swap learners and re-score only the teams touched.

A :class:`Board` holds an assignment, each team's penalties and broken hard
rules, and the running totals. Every team is scored by
:func:`teamform.validate.check_team`, the validator's own per-team check, so
after any sequence of moves the board's objective and violations are exactly
what :func:`teamform.validate.validate` computes for the same assignment; a
move re-scores two teams, not the whole plan.

Locks are part of the plan: a locked learner stays in their team, a locked
team keeps exactly its members. :meth:`Board.locks` hands them to the engine
for "re-optimise the rest".

Example::

    board = Board(inst, [t - 1 for t in result.assignment.values()])
    change = board.move("L0007", 3)
    board.totals().objective
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from teamform.criteria import OBJECTIVE_SCALE, Term, build_terms
from teamform.errors import InputError
from teamform.instance import Instance
from teamform.result import CriterionScore, Result, Status, TeamSummary
from teamform.summary import criterion_scores, summarize_team
from teamform.validate import Validation, check_team, team_members


@dataclass
class Totals:
    """The whole plan's scores (weighted natural units, as in :class:`Result`)."""

    objective: float
    bound: float
    gap: float
    valid: bool
    violations: list[str]
    breakdown: list[CriterionScore]


@dataclass
class Change:
    """What one edit did.

    Attributes
    ----------
    moved
        Learner id to ``(from, to)`` team numbers (from 1).
    teams
        Team numbers whose penalties were re-scored.
    refreshed
        Team numbers whose view changed (``teams`` plus the teams of split
        preferred partners, whose flags name the team a partner is in).
    broken
        Hard rules the affected teams break after the edit.
    """

    moved: dict[str, tuple[int, int]]
    teams: list[int]
    refreshed: list[int]
    broken: list[str] = field(default_factory=list)


@dataclass
class Locks:
    """Learners held in their team and teams held as they are (team numbers from 1)."""

    learners: dict[str, int]
    teams: dict[int, list[str]]


class Board:
    """An editable plan with incremental, validator-exact scoring.

    Parameters
    ----------
    inst
        The compiled problem.
    assignment
        Team index (0-based) of every learner.
    terms
        The criteria (default: those of ``inst.model``).
    solver_bound
        A lower bound on the objective proven by a solve of this very problem
        (weighted units); the criteria's own bounds are used otherwise.
    """

    def __init__(
        self,
        inst: Instance,
        assignment: Sequence[int],
        *,
        terms: Sequence[Term] | None = None,
        solver_bound: float | None = None,
    ) -> None:
        if len(assignment) != inst.n:
            raise ValueError(f"assignment has {len(assignment)} entries for {inst.n} learners")
        if any(not 0 <= int(t) < inst.k for t in assignment):
            raise ValueError("assignment names a team outside the plan")
        self.inst = inst
        self.terms = list(build_terms(inst) if terms is None else terms)
        self.index = {lid: i for i, lid in enumerate(inst.ids)}
        self.assign = [int(t) for t in assignment]
        self.members = team_members(self.assign, inst.k)
        self.team_penalties: dict[str, list[int]] = {term.name: [0] * inst.k for term in self.terms}
        self.team_violations: list[list[str]] = [[] for _ in range(inst.k)]
        self.penalties = {term.name: 0 for term in self.terms}
        self.objective = 0
        self._soft = [term for term in self.terms if not term.hard]
        for t in range(inst.k):
            self._score(t)
        term_bound = sum(term.coefficient * term.bound() for term in self.terms)
        proven = 0 if solver_bound is None else round(solver_bound * OBJECTIVE_SCALE)
        self.bound = max(term_bound, proven)
        self.locked_learners: set[int] = set()
        self.locked_teams: set[int] = set()

    # -- scoring ---------------------------------------------------------

    def _score(self, t: int) -> None:
        """Re-score team ``t`` with the validator's check, updating the totals."""
        check = check_team(self.inst, self.terms, self.members[t], t)
        for term in self.terms:
            old = self.team_penalties[term.name][t]
            new = check.penalties[term.name]
            self.team_penalties[term.name][t] = new
            self.penalties[term.name] += new - old
            if not term.hard:
                self.objective += term.coefficient * (new - old)
        self.team_violations[t] = check.violations

    def team_objective(self, team: int) -> float:
        """The weighted soft penalty of one team (number from 1)."""
        t = self._team_index(team)
        total = sum(term.coefficient * self.team_penalties[term.name][t] for term in self._soft)
        return total / OBJECTIVE_SCALE

    def totals(self) -> Totals:
        """Objective, bound, gap, hard-rule breaches and per-criterion scores."""
        objective = self.objective / OBJECTIVE_SCALE
        bound = min(self.bound, self.objective) / OBJECTIVE_SCALE
        violations = [v for vs in self.team_violations for v in vs]
        return Totals(
            objective=objective,
            bound=bound,
            gap=(objective - bound) / max(objective, 1.0),
            valid=not violations,
            violations=violations,
            breakdown=criterion_scores(self.terms, self.penalties),
        )

    def validation(self) -> Validation:
        """The board's state in the validator's terms (equal to ``validate`` on it)."""
        violations = [v for vs in self.team_violations for v in vs]
        return Validation(
            not violations,
            violations,
            dict(self.penalties),
            {name: list(p) for name, p in self.team_penalties.items()},
            self.objective,
        )

    # -- reading ---------------------------------------------------------

    @property
    def assignment(self) -> dict[str, int]:
        """Learner id to team number (from 1)."""
        return {lid: self.assign[i] + 1 for i, lid in enumerate(self.inst.ids)}

    def team_of(self, learner_id: str) -> int:
        """Team number (from 1) of a learner."""
        return self.assign[self._learner(learner_id)] + 1

    def team(self, team: int) -> TeamSummary:
        """One team (number from 1) as a tutor reads it, with its compliance and flags."""
        t = self._team_index(team)
        return summarize_team(
            self.inst, self.assign, self.terms, self.team_penalties, t, self.members[t]
        )

    def teams(self) -> list[TeamSummary]:
        """Every team, in order."""
        return [self.team(t + 1) for t in range(self.inst.k)]

    def violations_of(self, team: int) -> list[str]:
        """Hard rules one team (number from 1) breaks."""
        return list(self.team_violations[self._team_index(team)])

    def result(self, solved: Result) -> Result:
        """A full :class:`Result` for the plan as it stands, based on the solve it came from."""
        totals = self.totals()
        status = solved.status
        if self.assign != [solved.assignment.get(lid, 0) - 1 for lid in self.inst.ids]:
            status = Status.FEASIBLE
        if totals.valid and self.objective <= self.bound:
            status = Status.OPTIMAL
        return solved.model_copy(
            update={
                "status": status if totals.valid else Status.UNKNOWN,
                "objective": totals.objective,
                "bound": totals.bound,
                "gap": totals.gap,
                "excess_per_team": (totals.objective - totals.bound) / max(self.inst.k, 1),
                "assignment": self.assignment,
                "teams": self.teams(),
                "breakdown": totals.breakdown,
                "valid": totals.valid,
                "violations": totals.violations,
                "search_objective": totals.objective,
                "n_learners": self.inst.n,
                "n_teams": self.inst.k,
            }
        )

    # -- editing ---------------------------------------------------------

    def move(self, learner_id: str, team: int) -> Change:
        """Move a learner to another team (number from 1).

        Raises
        ------
        InputError
            When the learner or the team is unknown, or a lock forbids the move.
        """
        return self.place({learner_id: team})

    def swap(self, learner_a: str, learner_b: str) -> Change:
        """Exchange two learners' teams."""
        return self.place({learner_a: self.team_of(learner_b), learner_b: self.team_of(learner_a)})

    def place(self, moves: Mapping[str, int], *, respect_locks: bool = True) -> Change:
        """Put learners into teams (numbers from 1) at once, re-scoring the teams touched.

        ``respect_locks=False`` is for undoing earlier edits.
        """
        target = {self._learner(lid): self._team_index(team) for lid, team in moves.items()}
        if respect_locks:
            for i, t in target.items():
                self._check_locks(i, t)
        moved: dict[str, tuple[int, int]] = {}
        touched: set[int] = set()
        for i, t in target.items():
            old = self.assign[i]
            if old == t:
                continue
            self.members[old].remove(i)
            bisect.insort(self.members[t], i)
            self.assign[i] = t
            touched.update((old, t))
            moved[self.inst.ids[i]] = (old + 1, t + 1)
        for t in sorted(touched):
            self._score(t)
        refreshed = set(touched)
        adj = self.inst.prefer_adj
        for lid in moved:
            refreshed.update(self.assign[j] for j in adj[self.index[lid]])
        return Change(
            moved=moved,
            teams=[t + 1 for t in sorted(touched)],
            refreshed=[t + 1 for t in sorted(refreshed)],
            broken=[v for t in sorted(touched) for v in self.team_violations[t]],
        )

    # -- locks -----------------------------------------------------------

    def lock_learner(self, learner_id: str, locked: bool = True) -> None:
        """Hold a learner in their current team (or release them)."""
        i = self._learner(learner_id)
        if locked:
            self.locked_learners.add(i)
        else:
            self.locked_learners.discard(i)

    def lock_team(self, team: int, locked: bool = True) -> None:
        """Hold a team (number from 1) as it is: nobody leaves, nobody joins."""
        t = self._team_index(team)
        if locked:
            self.locked_teams.add(t)
        else:
            self.locked_teams.discard(t)

    def is_locked(self, learner_id: str) -> bool:
        """Whether a learner is held in place (alone or with their team)."""
        i = self._learner(learner_id)
        return i in self.locked_learners or self.assign[i] in self.locked_teams

    def locks(self) -> Locks:
        """The locks, in ids and team numbers: what a re-optimisation must keep."""
        held = set(self.locked_learners)
        for t in self.locked_teams:
            held.update(self.members[t])
        return Locks(
            learners={self.inst.ids[i]: self.assign[i] + 1 for i in sorted(held)},
            teams={
                t + 1: [self.inst.ids[i] for i in self.members[t]]
                for t in sorted(self.locked_teams)
            },
        )

    def _check_locks(self, i: int, t: int) -> None:
        old = self.assign[i]
        if old == t:
            return
        who = self.inst.ids[i]
        if i in self.locked_learners:
            raise InputError(f"learner {who} is locked in team {old + 1}; unlock them first")
        if old in self.locked_teams:
            raise InputError(f"team {old + 1} is locked; unlock it to move {who} out")
        if t in self.locked_teams:
            raise InputError(f"team {t + 1} is locked; unlock it to move {who} in")

    # -- lookups ---------------------------------------------------------

    def _learner(self, learner_id: str) -> int:
        try:
            return self.index[learner_id]
        except KeyError:
            raise InputError(f"no learner with id '{learner_id}' in this plan") from None

    def _team_index(self, team: int) -> int:
        if not 1 <= team <= self.inst.k:
            raise InputError(f"no team {team}: the plan has teams 1-{self.inst.k}")
        return team - 1
