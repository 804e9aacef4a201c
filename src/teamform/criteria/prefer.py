"""Preferred pairs: learners who asked to work together.

Each team counts, for each of its members, the preferred partners who are in
another team; a split pair is thus counted once by each of its two teams, so
the penalty unit is half a pair. This keeps the penalty a sum over teams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import model_validator

from teamform.criteria.base import Criterion, Term
from teamform.result import CriterionCheck

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.layout import IntArray, TeamLayout
    from teamform.search.compiled_data import PreferRecord


class Prefer(Criterion):
    """Preferred pairs: one penalty point (times the weight) per pair split up.

    Preferred pairs are wishes, never hard rules.
    """

    @model_validator(mode="after")
    def _soft(self) -> Prefer:
        if self.hard:
            raise ValueError("preferred pairs are always soft; use hard = false")
        return self


def touching_pairs(inst: Instance, members: Sequence[int]) -> list[tuple[int, int]]:
    """Preferred pairs with at least one member in ``members``, each once, in pair order."""
    adj = inst.prefer_adj
    pairs = {(min(i, j), max(i, j)) for i in members for j in adj[i]}
    return sorted(pairs)


def touching_by_team(inst: Instance, layout: TeamLayout) -> list[list[tuple[int, int]]]:
    """:func:`touching_pairs` of every team of ``layout``, all at once."""

    def compute() -> list[list[tuple[int, int]]]:
        out: list[list[tuple[int, int]]] = [[] for _ in range(layout.k)]
        pairs = np.asarray(inst.prefer, dtype=np.int64).reshape(-1, 2)
        if not len(pairs):
            return out
        lo, hi = pairs.min(axis=1), pairs.max(axis=1)
        team = layout.assign
        ta, tb = team[lo], team[hi]
        apart = ta != tb
        # each pair once for each team it touches, in (team, pair) order, repeats dropped
        rows = np.stack(
            (np.concatenate((ta, tb[apart])), np.concatenate((lo, lo[apart])),
             np.concatenate((hi, hi[apart]))),
            axis=1,
        )  # fmt: skip
        rows = np.unique(rows, axis=0)
        for t, a, b in rows.tolist():
            out[t].append((a, b))
        return out

    return layout.memo(("touching_by_team", id(inst)), compute)


class PreferTerm(Term):
    """Preferred pairs split across teams (half a pair per team side)."""

    name = "prefer"
    unit = 0.5
    unit_label = "preferred pairs split"

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        inside = set(members)
        adj = self.inst.prefer_adj
        return sum(1 for i in members for j in adj[i] if j not in inside)

    def team_penalties(self, layout: TeamLayout) -> IntArray:
        # each listed pair as two directed edges, as team_penalty counts it from both ends
        pairs = np.asarray(self.inst.prefer, dtype=np.int64).reshape(-1, 2)
        ends = np.concatenate((pairs, pairs[:, ::-1]))
        team = layout.assign
        split = ends[team[ends[:, 0]] != team[ends[:, 1]], 0]
        return np.bincount(team[split], minlength=layout.k).astype(np.int64)

    def max_penalty(self) -> int:
        """Every pair split, counted by both teams."""
        return 2 * len(self.inst.prefer)

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        adj = self.inst.prefer_adj
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            expr: list[cp_model.LinearExprT] = []
            for i, v in sub.members[t]:
                for j in adj[i]:
                    w = sub.x.get((j, t))
                    if w is None:
                        expr.append(v)  # partner cannot be in this team
                    elif i < j:
                        # both in t: together, no penalty; exactly one: 1 for t
                        together = sub.model.new_bool_var(f"pref[{i},{j},{t}]")
                        sub.model.add_implication(together, v)
                        sub.model.add_implication(together, w)
                        expr.append(v + w - 2 * together)
            out[t] = sum(expr)
        return out

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        inside = set(members)
        touching = touching_pairs(self.inst, members)
        kept = sum(1 for a, b in touching if a in inside and b in inside)
        return self._measured(touching, kept, penalty)

    def measure_teams(
        self, layout: TeamLayout, penalties: Sequence[int], teams: Sequence[int]
    ) -> list[CriterionCheck]:
        touching, team = touching_by_team(self.inst, layout), layout.teams
        out = []
        for t in teams:
            kept = sum(1 for a, b in touching[t] if team[a] == t and team[b] == t)
            out.append(self._measured(touching[t], kept, int(penalties[t])))
        return out

    def _measured(self, touching: list[tuple[int, int]], kept: int, penalty: int) -> CriterionCheck:
        return self.check(
            penalty,
            value=kept,
            target=(
                f"{len(touching)} preferred pair{'s' if len(touching) != 1 else ''} together"
                if touching
                else "no preferred pair involves this team"
            ),
            unit="pairs together",
            score=round(100.0 * kept / len(touching), 1) if touching else 100.0,
        )

    def lower_bound(self) -> int:
        """Pairs across sections are split in every assignment."""
        sec = self.inst.section
        return 2 * sum(1 for a, b in self.inst.prefer.tolist() if sec[a] != sec[b])

    def compiled_data(self) -> PreferRecord:
        from teamform.search.bitsets import pairs_csr
        from teamform.search.compiled_data import PreferRecord, cost_per_unit

        ptr, idx = pairs_csr(self.inst.n, self.inst.prefer)
        return PreferRecord(ptr, idx, cost_per_unit(self))


def build(inst: Instance, spec: Prefer) -> list[Term]:
    """The terms of one ``[criteria.prefer]`` table."""
    if not spec.enabled or not len(inst.prefer):
        return []
    return [PreferTerm(inst, weight=spec.weight, hard=False)]
