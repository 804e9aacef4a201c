"""Exact regrouping of a few teams: the cheapest partition of their members.

The members of ``m`` teams of one size ``s`` (at most :data:`MAX_LEARNERS`
learners in all) are partitioned anew into ``m`` teams of size ``s`` at the
least total cost. Every ``s``-subset of them is scored once by the compiled
team cost (:func:`teamform.search.compiled._team_cost`); a dynamic programme
over subsets of the learners then finds the optimum: the state is the set of
learners placed so far, and the next team always holds the lowest learner
not yet placed, so each partition is reached exactly once. With 20 learners
that is at most 2^20 states, a fraction of a second in compiled code, where
CP-SAT takes seconds on the same teams (their common time is costly to model).

Teams are interchangeable only when a subset costs the same in each of them
(a criterion tied to team numbers, such as stability, makes them differ):
:func:`cheapest_partition` checks that on every subset when asked, and
:func:`regroup_exact` scores the partition it takes by the criteria.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
from numba import njit

from teamform.search.compiled import _team_cost
from teamform.search.compiled_data import Records
from teamform.search.kernels import tie_module
from teamform.search.local import TeamState

#: Learners a regrouping takes at most (2^this states).
MAX_LEARNERS = 20
#: Larger than any sum of team costs (hard breaches cost 10^15 each).
_INFINITY = np.int64(2**62)


@njit(cache=True)
def _subset_costs(subsets, learners, teams, d):  # type: ignore[no-untyped-def]
    """Cost of each subset (rows of local indices into ``learners``) in each team."""
    m, s = subsets.shape
    out = np.empty((teams.shape[0], m), dtype=np.int64)
    mem = np.empty(s, dtype=np.int64)
    for r in range(m):
        for a in range(s):
            mem[a] = learners[subsets[r, a]]
        for c in range(teams.shape[0]):
            out[c, r] = _team_cost(mem, s, teams[c], d)
    return out


@njit(cache=True)
def _best_partition(bits, costs, lowest, n_learners):  # type: ignore[no-untyped-def]
    """Cheapest set of subsets (bit masks ``bits``) covering all learners exactly once.

    ``lowest`` holds each subset's lowest learner; subsets are sorted by it.
    Returns the chosen subsets' rows and the total cost (-1 rows if none).
    """
    full = (1 << n_learners) - 1
    best = np.full(full + 1, _INFINITY, dtype=np.int64)
    came = np.full(full + 1, -1, dtype=np.int64)
    start = np.searchsorted(lowest, np.arange(n_learners + 1))
    best[0] = 0
    for state in range(full):
        here = best[state]
        if here == _INFINITY:
            continue
        low = 0
        while (state >> low) & 1:
            low += 1
        for r in range(start[low], start[low + 1]):
            b = bits[r]
            if b & state:
                continue
            nxt = state | b
            cost = here + costs[r]
            if cost < best[nxt]:
                best[nxt] = cost
                came[nxt] = r
    rows = np.full(n_learners, -1, dtype=np.int64)
    used = 0
    state = full
    while state and came[state] >= 0:
        r = came[state]
        rows[used] = r
        used += 1
        state ^= bits[r]
    return rows[:used], best[full]


def cheapest_partition(
    state: TeamState,
    records: Records,
    teams: Sequence[int],
    allow: Callable[[np.ndarray], np.ndarray] | None = None,
    every_team: bool = True,
    below_current: bool = False,
) -> tuple[dict[int, list[int]], int] | None:
    """The cheapest re-partition of the members of ``teams`` and its cost (compiled costs).

    ``allow`` takes the candidate teams (rows of learner indices) and says
    which may be used: e.g. only those within the motivation range, for the
    cheapest plan of these teams that meets it. None when the teams do not
    fit (sizes that differ, more than :data:`MAX_LEARNERS` learners, subsets
    costing differently in different teams) or no allowed partition exists.
    Without ``every_team`` subsets are scored in the first team only (five
    times less work for five teams): the partition is then the cheapest only
    if the teams are interchangeable, which the caller checks by scoring it.
    With ``below_current`` only partitions cheaper than the teams as they are
    count (an empty plan and the teams' cost now when there is none): a
    subset that costs, with the cheapest subset in each other team, at least
    as much as the teams do now can be in none of them, and is left out
    before the dynamic programme (most are: four to ten times less work).
    """
    sizes = {len(state.members[t]) for t in teams}
    learners = np.asarray([i for t in teams for i in state.members[t]], dtype=np.int64)
    if len(sizes) != 1 or len(learners) > MAX_LEARNERS or len(teams) < 2:
        return None
    size = sizes.pop()
    n = len(learners)
    subsets = np.array(list(combinations(range(n), size)), dtype=np.int64).reshape(-1, size)
    # every team's costs, to know that the teams are interchangeable; or the first's
    # alone, when the caller scores the partition found exactly anyway
    labels = np.asarray(teams if every_team else teams[:1], dtype=np.int64)
    costs = _subset_costs(subsets, learners, labels, records)
    if (costs != costs[0]).any():
        return None  # a subset costs differently in different teams: not interchangeable
    keep = np.ones(len(subsets), dtype=bool) if allow is None else allow(learners[subsets])
    bits = (1 << subsets).sum(axis=1)
    if below_current:
        # the learners are in team order: team j is the subset of bits j*size..j*size+size-1
        whole = (1 << size) - 1
        now = sum(int(costs[0][bits == whole << (j * size)][0]) for j in range(len(teams)))
        keep &= costs[0] + (len(teams) - 1) * costs[0].min() < now
    else:
        now = 0
    subsets, cost, bits = subsets[keep], costs[0][keep], bits[keep]
    rows, total = _best_partition(bits, cost, subsets[:, 0].copy(), n)
    if len(rows) != len(teams):
        return ({}, now) if below_current else None
    chosen = zip(teams, rows.tolist(), strict=True)
    return {t: learners[subsets[r]].tolist() for t, r in chosen}, int(total)


def regroup_exact(state: TeamState, records: Records, teams: Sequence[int]) -> bool | None:
    """Re-partition the members of ``teams`` at the least cost; keep it if cheaper.

    ``records`` are the compiled criteria data
    (:func:`teamform.search.compiled_data.build_records` of ``state``). Returns
    whether the state improved, or None when the teams do not fit (see
    :func:`cheapest_partition`). The partition found is scored by the
    criteria themselves before it is taken, so the plan never gets worse.
    """
    found = cheapest_partition(state, records, teams, every_team=False, below_current=True)
    if found is None:
        return None
    members, total = found
    if not members:
        return False  # no partition of them is cheaper than theirs
    # the compiled costs leave out broken pins, which no regrouping here changes
    before = sum(state.cost[t] for t in teams)
    if total >= before:
        return False
    after = sum(state.team_cost(members[t], t) for t in teams)
    if after >= before:
        return False
    state.set_teams(teams, members)
    return True


# numba checks only this file: the modules compiled in count too
tie_module(globals())
