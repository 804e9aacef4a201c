"""The contract every criterion ("term") follows.

A term looks at one team at a time. Its penalty is a non-negative integer per
team, so the objective is a sum over teams; this is what lets a sub-model over a
few teams measure exactly the change in the global objective. A hard term is one
whose penalty must be zero in every team.

Each term does three things, kept side by side so they cannot drift apart:

* :meth:`Term.add_to_model` adds its variables and constraints to a CP-SAT
  sub-model and returns each team's penalty as a linear expression;
* :meth:`Term.team_penalty` evaluates the same penalty from a list of members,
  without a solver (used by the validator and the local search);
* :meth:`Term.lower_bound` gives a bound on the penalty any assignment must pay.

Optional hooks tell the rest of the engine about the criterion, so that no
other module needs to know it by type:

* :meth:`Term.measure` and :meth:`Term.team_checks`: what a finished result
  records per team (:mod:`teamform.summary`), for reports;
* :meth:`Term.precheck`, :meth:`Term.relaxations`, :meth:`Term.conflict_label`
  and :attr:`Term.guard_per_learner`: how :mod:`teamform.diagnose` explains
  an infeasible model.

Each criterion module also holds its settings (a :class:`Criterion`) and a
``build`` function; :mod:`teamform.criteria.registry` lists them.

A term may also depend on a decision taken per team (see
:mod:`teamform.criteria.project`); it then keeps the current decisions and
exposes them through :meth:`Term.decide`, :meth:`Term.decisions`,
:meth:`Term.restore` and :meth:`Term.read_decisions`, so the penalty stays a
sum over teams given those decisions.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from teamform.result import CriterionCheck, TeamFlag, criterion_check

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.layout import IntArray, TeamLayout
    from teamform.search.compiled_data import CompiledData

#: Objective values are integers in ten-thousandths of a weighted natural unit.
OBJECTIVE_SCALE = 10_000
#: Largest objective any assignment may reach: exact as a float, below the local
#: search's cost of one hard-rule breach (ten times this), and far enough below CP-SAT's
#: 64-bit limit (2**62 over the variables' domains) for its own checks.
OBJECTIVE_LIMIT = 10**14
#: Skill levels are stored in hundredths of a point, so decimals such as 3.5 are exact.
SKILL_SCALE = 100


class Settings(BaseModel):
    """Base of every formation-model table: unknown keys and loose types are errors."""

    # strict: a string "4" or a 1 for true is a typo, not a value; finite: inf and
    # nan have no meaning as weights, hours or levels
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Criterion(Settings):
    """Common switches of a criterion: its weight, and hard vs soft."""

    enabled: bool = True
    weight: float = Field(default=1.0, ge=0)
    hard: bool = False


#: Learner ids named in one message before "and N more".
MAX_LISTED = 8


def learner_ids(inst: Instance, learners: Sequence[int]) -> str:
    """``L1``, ``L1 and L2`` or ``L1, L2, L3 and 4 more``."""
    names = [inst.ids[i] for i in learners]
    if len(names) == 1:
        return names[0]
    if len(names) > MAX_LISTED:
        return ", ".join(names[:MAX_LISTED]) + f" and {len(names) - MAX_LISTED} more"
    return ", ".join(names[:-1]) + " and " + names[-1]


def learners_named(inst: Instance, learners: Sequence[int]) -> str:
    """``learner L1`` or ``learners L1 and L2`` (see :func:`learner_ids`)."""
    return ("learner " if len(learners) == 1 else "learners ") + learner_ids(inst, learners)


def short_sections(
    inst: Instance, able: np.ndarray, rule: str, need: str
) -> Iterator[tuple[int, str]]:
    """Sections with fewer ``able`` learners than teams, when every team needs one.

    Yields each such section's index with the line that says so (``rule`` cannot
    hold: N teams each need a member ``need``, but nobody reaches it).
    """
    for s, section in enumerate(inst.section_names):
        teams = int((inst.team_section == s).sum())
        found = np.flatnonzero(able & (inst.section == s)).tolist()
        if len(found) >= teams:
            continue
        where = f" in section '{section}'" if section else ""
        held = f"only {learner_ids(inst, found)}" if found else "nobody"
        yield (
            s,
            (
                f"{rule} (hard) cannot hold{where}: {teams} teams each need a member {need}, "
                f"but {held} reach{'es' if len(found) == 1 else ''} it"
            ),
        )


def learner_label(inst: Instance, i: int) -> str:
    """A learner as a tutor reads them: ``Name (id)``, or the id without a name."""
    name = inst.roster.learners[i].name
    return f"{name} ({inst.ids[i]})" if name else inst.ids[i]


def fraction_score(bad: float, scale: float) -> float:
    """100 when ``bad`` is 0, falling linearly to 0 at ``scale``."""
    if bad <= 0:
        return 100.0
    if scale <= 0:
        return 0.0
    return round(100.0 * max(0.0, 1.0 - bad / scale), 1)


@dataclass(frozen=True)
class Relaxation:
    """One numeric setting of a hard rule that a diagnosis may loosen.

    Attributes
    ----------
    rule
        The rule as it stands, in words (``overlap >= 3 h``).
    candidates
        Looser values to try, from the strictest to the loosest.
    relaxed
        A copy of the term with the setting at a candidate value.
    describe
        A candidate value in words (``overlap >= 2 h``).
    """

    rule: str
    candidates: Sequence[float]
    relaxed: Callable[[float], Term]
    describe: Callable[[float], str]


class Term(ABC):
    """One criterion: constraints, penalty and its own evaluation.

    Subclasses set :attr:`name`, :attr:`unit` and :attr:`unit_label` and
    implement the abstract methods.

    Attributes
    ----------
    name
        Criterion name as used in the formation model and in results.
    weight
        User weight per natural unit (hour short, skill point, pair ...).
    hard
        Whether the penalty must be zero in every team.
    unit
        Natural units per integer penalty unit (a 15-minute slot is 0.25 h).
    """

    name: str = "term"
    unit: float = 1.0
    unit_label: str = "points"
    #: A diagnosis guards each learner's share of this hard rule (their team meets
    #: it) with its own literal, so a conflict names learners, not just the rule.
    guard_per_learner: bool = False

    def __init__(self, inst: Instance, *, weight: float, hard: bool) -> None:
        self.inst = inst
        self.weight = weight
        self.hard = hard

    @property
    def coefficient(self) -> int:
        """Objective coefficient per integer penalty unit (0 for hard terms)."""
        if self.hard:
            return 0
        scaled = OBJECTIVE_SCALE * self.weight * self.unit
        if not math.isfinite(scaled):
            raise ValueError(f"{self.name}: weight {self.weight:g} has no integer coefficient")
        return round(scaled)

    @abstractmethod
    def team_penalty(self, members: Sequence[int], team: int) -> int:
        """Penalty of one team, in integer units, from its members alone."""

    def team_penalties(self, layout: TeamLayout) -> IntArray:
        """:meth:`team_penalty` of every team of ``layout``, in one call.

        The default evaluates each team in turn; a criterion whose penalty is a
        plain sum over members computes them all at once instead (the same
        values: tests compare the two).
        """
        return np.fromiter(
            (self.team_penalty(m, t) for t, m in enumerate(layout.members)),
            dtype=np.int64,
            count=layout.k,
        )

    @abstractmethod
    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        """Add this term to ``sub`` and return each team's penalty expression."""

    def lower_bound(self) -> int:
        """A lower bound on the total penalty over all teams (integer units)."""
        return 0

    def max_penalty(self) -> int | None:
        """An upper bound on the total penalty over all teams (integer units).

        Used to keep ``coefficient * max_penalty`` inside :data:`OBJECTIVE_LIMIT`;
        ``None`` when a term cannot tell (its weight is then not range-checked).
        """
        return None

    def bound(self) -> int:
        """:meth:`lower_bound`, computed once: the instance does not change."""
        cached: int | None = getattr(self, "_bound", None)
        if cached is None:
            cached = self._bound = self.lower_bound()
        return cached

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        """A one-line account of a hard-rule breach, for messages."""
        return f"{self.name}: penalty {penalty * self.unit:g} {self.unit_label} (must be 0)"

    def natural(self, penalty: int) -> float:
        """A penalty in natural units (hours, points, pairs ...)."""
        return penalty * self.unit

    def compiled_data(self) -> CompiledData | None:
        """This term's data for the compiled search, a record of one of the kinds of
        :data:`teamform.search.compiled_data.KINDS`; None (the default) when it has no
        compiled evaluation, and the search then runs in Python."""
        return None

    # Reports: what a finished result records of each team.

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        """This criterion measured on one team: its value, the target in words, a score.

        ``penalty`` is the team's penalty (integer units) as the validator found it.
        The default is the penalty against zero, scored per member; a criterion
        with a natural measure (hours, members, pairs) gives that instead.
        """
        return self.check(
            penalty,
            value=self.natural(penalty),
            target=f"0 {self.unit_label}",
            unit=self.unit_label,
            score=fraction_score(penalty, max(len(members), 1)),
        )

    def measure_teams(
        self, layout: TeamLayout, penalties: Sequence[int], teams: Sequence[int]
    ) -> list[CriterionCheck]:
        """:meth:`measure` of each of ``teams`` of ``layout`` (``penalties``: every team's).

        The default measures each team in turn; a criterion whose measure is a sum
        over members computes every team's at once instead (the same checks: tests
        compare the two).
        """
        members = layout.members
        return [self.measure(members[t], t, int(penalties[t])) for t in teams]

    def check(self, penalty: int, **fields: Any) -> CriterionCheck:
        """A :class:`~teamform.result.CriterionCheck` of this term (name, hard, penalty set)."""
        return criterion_check(self.name, self.hard, self.natural(penalty), **fields)

    def team_checks(
        self, members: Sequence[int], team: int, assignment: Sequence[int] | np.ndarray
    ) -> list[TeamFlag]:
        """Tutor-facing checks of one team, ``ok=False`` marking something to act on.

        ``assignment`` gives every learner's team, to say where a partner went.
        None by default: the criterion's score says enough.
        """
        return []

    def checks_of_teams(self, layout: TeamLayout, teams: Sequence[int]) -> list[list[TeamFlag]]:
        """:meth:`team_checks` of each of ``teams`` of ``layout`` (the default: in turn)."""
        members = layout.members
        return [self.team_checks(members[t], t, layout) for t in teams]

    # Diagnosis of an infeasible model (hard terms only).

    def precheck(self) -> list[str]:
        """Before any search: what single learners or plain counts make impossible.

        One line per finding, naming the learners, then the relaxation they
        allow. The default speaks from :meth:`lower_bound` alone.
        """
        if self.bound() <= 0:
            return []
        return [
            f"{self.name} (hard) cannot hold: at least "
            f"{self.natural(self.bound()):g} {self.unit_label} in any assignment; "
            f"make it soft (hard = false)"
        ]

    def conflict_label(self) -> str:
        """The rule as a diagnosis names it among the rules in conflict."""
        return f"{self.name} (hard)"

    def relaxations(self) -> list[Relaxation]:
        """The numeric settings a diagnosis may loosen (each checked by a solve)."""
        return []

    # Per-team decisions. A term whose penalty also depends on a choice made
    # per team (the team's project) holds the current choices itself; its
    # sub-model makes them variables. Terms without such choices keep these
    # no-ops.

    def decide(self, members: Sequence[Sequence[int]]) -> bool:
        """Re-optimise this term's per-team decisions for these teams (all of
        them), exactly; returns whether any changed."""
        return False

    def decisions(self) -> object:
        """A copy of the current per-team decisions (None: the term has none)."""
        return None

    def restore(self, saved: object) -> None:
        """Go back to decisions returned by :meth:`decisions`."""
        return None

    def read_decisions(self, sub: SubModel, solver: cp_model.CpSolver) -> None:
        """Take the decisions of ``sub``'s teams from the solver's solution."""
        return None
