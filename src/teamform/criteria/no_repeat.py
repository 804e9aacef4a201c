"""No repeat: learners who were teammates in earlier phases are kept apart.

The history is a pair-to-count map (``Instance.history``): how many earlier
phases each pair spent in the same team. A team's penalty is, over every pair
of its members with a history, the number of phases they already shared, so a
pair that met twice weighs twice. The penalty is zero exactly when no earlier
pair is together again, which is what the hard rule asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from teamform.criteria.base import Criterion, Term

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance


class NoRepeat(Criterion):
    """Teammates of earlier phases kept apart.

    Penalty: per team, over each pair of members who already shared a team,
    the number of earlier phases they shared (so a pair met twice weighs
    twice). Hard: no pair of earlier teammates meets again. The pair history
    comes from the course workspace (:mod:`teamform.plan`) or
    ``form(..., history=...)``.
    """


class NoRepeatTerm(Term):
    """Earlier teammates together again, weighted by the phases they shared."""

    name = "no_repeat"
    unit_label = "repeated pair-phases"

    def __init__(self, inst: Instance, *, weight: float, hard: bool) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        # adjacency with counts, so a team is scored in time linear in its history
        self.adj: list[dict[int, int]] = [{} for _ in range(inst.n)]
        for (i, j), count in inst.history.items():
            if count > 0:
                self.adj[i][j] = count
                self.adj[j][i] = count

    def repeated_pairs(self, members: Sequence[int]) -> list[tuple[int, int, int]]:
        """Pairs ``(i, j, count)`` of ``members`` (``i < j``) who shared a team before."""
        inside = set(members)
        return sorted(
            (i, j, c) for i in members for j, c in self.adj[i].items() if i < j and j in inside
        )

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return sum(c for _, _, c in self.repeated_pairs(members))

    def max_penalty(self) -> int:
        """Every earlier pair together again."""
        return sum(self.inst.history.values())

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            expr: list[cp_model.LinearExprT] = []
            for i, vi in sub.members[t]:
                for j, count in self.adj[i].items():
                    vj = sub.x.get((j, t))
                    if vj is None or j < i:
                        continue  # cannot meet in t, or counted from j's side
                    both = sub.model.new_bool_var(f"repeat[{i},{j},{t}]")
                    # only a lower bound is needed: the objective (or the hard
                    # rule's "== 0") pushes ``both`` down whenever it may be
                    sub.model.add(both >= vi + vj - 1)
                    expr.append(count * both)
            out[t] = sum(expr)
        return out

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        ids = self.inst.ids
        pairs = ", ".join(f"{ids[i]}+{ids[j]}" for i, j, _ in self.repeated_pairs(members))
        return f"no_repeat: earlier teammates together again ({pairs})"


def build(inst: Instance, spec: NoRepeat) -> list[Term]:
    """The terms of one ``[criteria.no_repeat]`` table."""
    if not spec.enabled:
        return []
    return [NoRepeatTerm(inst, weight=spec.weight, hard=spec.hard)]
