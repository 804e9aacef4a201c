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

A term may also depend on a decision taken per team (see
:mod:`teamform.criteria.project`); it then keeps the current decisions and
exposes them through :meth:`Term.decide`, :meth:`Term.decisions`,
:meth:`Term.restore` and :meth:`Term.read_decisions`, so the penalty stays a
sum over teams given those decisions.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.search.compiled import CompiledData

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
        :data:`teamform.search.compiled.KINDS`; None (the default) when it has no
        compiled evaluation, and the search then runs in Python."""
        return None

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
