"""Local search over moves and swaps with per-team delta evaluation.

The objective is a sum of team costs, so a move or swap only changes the two
teams involved: the delta is the new cost of those two teams minus their old
cost, each recomputed from the candidate member lists by the criteria's own
evaluation. Broken hard rules (avoid pairs, pins, hard criteria) cost
:data:`HARD_COST` each, so the search first restores feasibility and then
never gives it up. Pinned and grouped learners never move.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from teamform.cancel import is_set
from teamform.criteria import OBJECTIVE_LIMIT, Term
from teamform.criteria.overlap import team_common
from teamform.instance import Instance
from teamform.layout import TeamLayout

#: Cost of one unit of hard-rule violation; above any sum of soft costs (the weights
#: are range-checked so that the objective stays below ``OBJECTIVE_LIMIT``).
HARD_COST = 10 * OBJECTIVE_LIMIT


class TeamState:
    """An assignment with its team member lists and cached team costs.

    Parameters
    ----------
    inst
        The compiled problem.
    terms
        Criteria to score.
    assignment
        Team of each learner.
    """

    def __init__(self, inst: Instance, terms: Sequence[Term], assignment: Sequence[int]) -> None:
        self.inst = inst
        self.terms = list(terms)
        layout = TeamLayout(assignment, inst.k)
        self.assign: list[int] = layout.assign.tolist()
        self.members: list[list[int]] = layout.members
        self.lo = inst.team_lo.tolist()
        self.hi = inst.team_hi.tolist()
        self.avoid = inst.avoid_adj
        self.pins = inst.pins
        #: learners that moves and swaps leave in place (pinned or grouped)
        self.frozen: list[bool] = (
            inst.pins.frozen.tolist() if inst.pins is not None else [False] * inst.n
        )
        self._scored = [(t, HARD_COST if t.hard else t.coefficient) for t in self.terms]
        self.cost = self._costs(layout)
        self.total = sum(self.cost)

    def _costs(self, layout: TeamLayout) -> list[int]:
        """:meth:`team_cost` of every team, each criterion scoring all teams at once."""
        cost = [0] * self.inst.k
        for term, coef in self._scored:
            if coef:
                cost = [
                    c + coef * p
                    for c, p in zip(cost, term.team_penalties(layout).tolist(), strict=True)
                ]
        if self.pins is not None:
            for t, m in enumerate(self.members):
                cost[t] += HARD_COST * self.pins.team_violations(m, t)
        if self.inst.avoid.size:
            pairs = np.asarray(self.inst.avoid, dtype=np.int64).reshape(-1, 2)
            team = layout.assign
            for t in team[pairs[team[pairs[:, 0]] == team[pairs[:, 1]], 0]].tolist():
                cost[t] += 2 * HARD_COST  # counted from both ends, as team_cost does
        return cost

    def team_cost(self, members: Sequence[int], team: int) -> int:
        """Weighted soft penalty of a team plus :data:`HARD_COST` per hard breach."""
        cost = 0
        for term, coef in self._scored:
            p = term.team_penalty(members, team)
            if p:
                cost += coef * p
        if self.pins is not None:
            cost += HARD_COST * self.pins.team_violations(members, team)
        if self.inst.avoid.size:
            inside = set(members)
            for i in members:
                for j in self.avoid[i]:
                    if j in inside:
                        cost += HARD_COST  # counted from both ends: still > 0
        return cost

    @property
    def hard_violations(self) -> int:
        """Units of hard-rule violation in the current assignment."""
        return self.total // HARD_COST

    @property
    def soft_cost(self) -> int:
        """Objective (weighted soft penalties) of the current assignment."""
        return self.total % HARD_COST

    def move_delta(self, i: int, u: int) -> tuple[int, list[int], list[int], int, int] | None:
        """Cost change of moving ``i`` to team ``u`` (None if sizes forbid it)."""
        t = self.assign[i]
        if len(self.members[t]) <= self.lo[t] or len(self.members[u]) >= self.hi[u]:
            return None
        new_t = [m for m in self.members[t] if m != i]
        new_u = [*self.members[u], i]
        ct, cu = self.team_cost(new_t, t), self.team_cost(new_u, u)
        return ct + cu - self.cost[t] - self.cost[u], new_t, new_u, ct, cu

    def swap_delta(self, i: int, j: int) -> tuple[int, list[int], list[int], int, int]:
        """Cost change of swapping ``i`` and ``j`` between their teams."""
        t, u = self.assign[i], self.assign[j]
        new_t = [j if m == i else m for m in self.members[t]]
        new_u = [i if m == j else m for m in self.members[u]]
        ct, cu = self.team_cost(new_t, t), self.team_cost(new_u, u)
        return ct + cu - self.cost[t] - self.cost[u], new_t, new_u, ct, cu

    def apply(self, t: int, u: int, new_t: list[int], new_u: list[int], ct: int, cu: int) -> None:
        """Install new member lists (and their costs) for teams ``t`` and ``u``."""
        self.total += ct + cu - self.cost[t] - self.cost[u]
        self.members[t], self.members[u] = new_t, new_u
        self.cost[t], self.cost[u] = ct, cu
        for m in new_t:
            self.assign[m] = t
        for m in new_u:
            self.assign[m] = u

    @property
    def deciding(self) -> bool:
        """Whether a criterion takes its own per-team decisions (projects)."""
        return any(term.decisions() is not None for term in self.terms)

    def decisions(self) -> list[object]:
        """The criteria's per-team decisions, to restore later."""
        return [term.decisions() for term in self.terms]

    def restore(self, saved: Sequence[object]) -> None:
        """Go back to saved decisions and re-cost every team."""
        for term, d in zip(self.terms, saved, strict=True):
            if d is not None:
                term.restore(d)
        self.recost()

    def recost(self) -> None:
        """Recompute every team's cost (after decisions changed)."""
        self.cost = [self.team_cost(m, t) for t, m in enumerate(self.members)]
        self.total = sum(self.cost)

    def redecide(self) -> bool:
        """Re-optimise the criteria's per-team decisions for the current teams."""
        changed = [term.decide(self.members) for term in self.terms]
        if any(changed):
            self.recost()
        return any(changed)

    def set_teams(self, teams: Sequence[int], members: dict[int, list[int]]) -> None:
        """Replace the members of several teams at once (after a sub-solve)."""
        for t in teams:
            self.members[t] = list(members[t])
            for m in self.members[t]:
                self.assign[m] = t
        for t in teams:
            new = self.team_cost(self.members[t], t)
            self.total += new - self.cost[t]
            self.cost[t] = new


class LocalSearch:
    """Improve a :class:`TeamState` by moves and swaps.

    Each step picks a costly team (the worst of a few sampled), one of its
    members, and a handful of candidate teams of the same section; it applies
    the best improving move or swap, and sometimes a sideways one to cross
    plateaus.
    """

    def __init__(self, state: TeamState, rng: np.random.Generator, candidates: int = 6) -> None:
        self.state = state
        self.rng = rng
        self.candidates = candidates
        inst = state.inst
        self.section_teams = [
            inst.teams_of_section(s).tolist() for s in range(len(inst.section_names))
        ]
        self.team_section = inst.team_section.tolist()
        self.pool_pos = {t: p for pool in self.section_teams for p, t in enumerate(pool)}
        self.iterations = 0
        # with a time-zone criterion, candidate teams are chosen among those
        # whose common time the learner shares: random teams rarely fit
        self.masks = inst.masks if any(t.name == "overlap" for t in state.terms) else None
        # with projects, teams holding a project the learner ranked are candidates too
        from teamform.criteria.project import ProjectTerm

        self.project = next((t for t in state.terms if isinstance(t, ProjectTerm)), None)

    def _pick_team(self) -> int:
        st = self.state
        k = len(st.cost)
        sample = self.rng.integers(0, k, size=min(k, 4)).tolist()
        return max(sample, key=lambda t: st.cost[t])

    def step(self) -> bool:
        """One step; returns whether the cost went down."""
        st = self.state
        rng = self.rng
        self.iterations += 1
        t = self._pick_team()
        if st.cost[t] == 0 or not st.members[t]:
            return False
        mem_t = st.members[t]
        pool = self.section_teams[self.team_section[t]]
        if len(pool) < 2:
            return False
        masks = self.masks
        frozen = st.frozen
        if st.pins is not None:
            mem_t = [m for m in mem_t if not frozen[m]]
            if not mem_t:
                return False
        if masks is not None and len(mem_t) > 1 and rng.random() < 0.5:
            # the member whose absence frees the most common time
            whole = st.members[t]
            i = max(
                mem_t, key=lambda m: team_common(masks, [x for x in whole if x != m]).bit_count()
            )
        else:
            i = mem_t[int(rng.integers(len(mem_t)))]
        picks = rng.integers(0, len(pool), size=min(self.candidates, len(pool) - 1)).tolist()
        candidates = [pool[p] for p in picks]
        if masks is not None:
            sample = rng.integers(0, len(pool), size=min(4 * self.candidates, len(pool))).tolist()
            mask_i = masks[i]
            scored = sorted(
                {pool[p] for p in sample},
                key=lambda u: -(team_common(masks, st.members[u]) & mask_i).bit_count(),
            )
            # neighbouring team numbers were built from learners of similar hours
            at = self.pool_pos[t]
            near = [pool[(at + d) % len(pool)] for d in (-1, 1)] if len(pool) > 2 else []
            candidates = scored[: self.candidates // 2] + near + candidates[: self.candidates // 2]
        if self.project is not None:
            wanted = self.project.teams_wanted_by(i)
            section = self.team_section[t]
            candidates += [u for u in wanted if self.team_section[u] == section][:4]
        best: tuple[int, list[int], list[int], int, int, int] | None = None
        for u in candidates:
            if u == t:
                continue
            mv = st.move_delta(i, u)
            if mv is not None and (best is None or mv[0] < best[0]):
                best = (mv[0], mv[1], mv[2], mv[3], mv[4], u)
            for j in st.members[u]:
                if frozen[j]:
                    continue
                sw = st.swap_delta(i, j)
                if best is None or sw[0] < best[0]:
                    best = (sw[0], sw[1], sw[2], sw[3], sw[4], u)
        if best is None:
            return False
        delta, new_t, new_u, ct, cu, u = best
        if delta < 0 or (delta == 0 and rng.random() < 0.2):
            st.apply(t, u, new_t, new_u, ct, cu)
            return delta < 0
        return False

    def run(
        self,
        *,
        deadline: float | None = None,
        max_steps: int | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Run until the deadline (``time.perf_counter()``), step budget or a stop
        request; returns steps."""
        steps = 0
        while True:
            if max_steps is not None and steps >= max_steps:
                break
            if steps % 32 == 0 and (
                (deadline is not None and time.perf_counter() >= deadline) or is_set(cancel)
            ):
                break
            self.step()
            steps += 1
            if self.state.total == 0:
                break
        return steps
