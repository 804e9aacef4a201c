"""Targeted repair of the motivation spread: swaps that bring each team into range.

The annealing samples moves at random; with thousands of teams, the few
teams left without an intrinsic learner (or with too many) are rarely the
ones it tries. This pass goes to them directly. For a team below its range it
looks for an intrinsic learner in a team that can spare one and an imposed
member to trade places with, and for a team above its range the reverse.
Partners with the same availability come first: such a swap leaves both
teams' common time exactly as it was. Every swap is scored by the exact team
costs of :class:`~teamform.search.local.TeamState` and taken only if it lowers
the objective, so the pass never makes a plan worse; hard rules (avoid
pairs, pins) count there as well.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from teamform.criteria import MotivationTerm, Term
from teamform.instance import Instance
from teamform.search.local import TeamState

#: Same-availability partners tried per member of a team out of range.
_SAME_MASK_TRIES = 12
#: Improving same-availability swaps found before the best of them is taken.
_SAME_MASK_GOOD = 3
#: Other partners tried per team out of range once same-availability ones fail.
_OTHER_TRIES = 4000
#: Learners of the missing kind tried as the first swap of a chain.
_CHAIN_FIRST = 400
#: Cheapest first swaps a second swap is looked for after.
_CHAIN_KEEP = 12
#: Partners (of the same availability, and others) tried per learner in the second swap.
_CHAIN_SECOND = 48
#: Teams a call tries chains for at most (a work limit: deterministic runs have no clock).
_CHAIN_TEAMS = 64


def spread_intrinsic(
    state: TeamState,
    term: MotivationTerm,
    deadline: float,
    seed: int = 0,
    *,
    any_partner: bool = True,
) -> int:
    """Swap learners until every team's intrinsic count is in range, or no swap helps.

    Parameters
    ----------
    state
        The assignment to improve, in place.
    term
        The motivation criterion (its per-team ranges).
    deadline
        ``time.perf_counter()`` reading at which to stop.
    seed
        Order in which partners are tried.
    any_partner
        Also try partners whose availability differs (scored exactly; slower).

    Returns
    -------
    int
        Swaps made.
    """
    inst = state.inst
    rng = np.random.default_rng(seed)
    intrinsic = inst.intrinsic.tolist()
    masks = inst.masks
    section = inst.team_section.tolist()
    frozen = state.frozen
    ranges = [term.target(t) for t in range(inst.k)]
    count = [sum(intrinsic[i] for i in m) for m in state.members]
    by_mask: dict[tuple[int, bool], list[int]] = {}
    kinds: dict[bool, list[int]] = {True: [], False: []}
    for i in range(inst.n):
        if not frozen[i]:
            by_mask.setdefault((masks[i], bool(intrinsic[i])), []).append(i)
            kinds[bool(intrinsic[i])].append(i)
    others = [i for i in range(inst.n) if not frozen[i]]
    chains = _CHAIN_TEAMS
    swaps = 0

    def can_give(t: int, kind: bool) -> bool:
        # a team gives up one learner of this kind without falling out of range
        lo, hi = ranges[t]
        return count[t] > lo if kind else count[t] < hi

    def try_team(t: int, kind: bool, wide: bool) -> bool:
        """Bring a learner of ``kind`` (intrinsic or not) into team ``t`` by a swap."""
        nonlocal swaps
        out = [i for i in state.members[t] if intrinsic[i] != kind and not frozen[i]]
        best: tuple[int, int, int] | None = None
        found = 0
        for i in out:
            pool = by_mask.get((masks[i], kind), [])
            if not pool:
                continue
            start = int(rng.integers(len(pool)))
            for step in range(min(len(pool), _SAME_MASK_TRIES)):
                j = pool[(start + step) % len(pool)]
                u = state.assign[j]
                if u == t or section[u] != section[t] or not can_give(u, kind):
                    continue
                delta = state.swap_delta(i, j)[0]
                if delta < 0:
                    found += 1
                    if best is None or delta < best[0]:
                        best = (delta, i, j)
                    if found >= _SAME_MASK_GOOD:
                        break
            if found >= _SAME_MASK_GOOD:
                # enough to choose from: teams waiting for a swap are many on large cohorts
                break
        if best is None and wide and out:
            # every learner of the kind, in random order, as far as time allows
            pool = kinds[kind]
            start = int(rng.integers(len(pool))) if pool else 0
            for step in range(min(len(pool), _OTHER_TRIES)):
                if step % 64 == 0 and time.perf_counter() >= deadline:
                    break
                j = pool[(start + step) % len(pool)]
                u = state.assign[j]
                if u == t or section[u] != section[t] or not can_give(u, kind):
                    continue
                for i in out:
                    delta = state.swap_delta(i, j)[0]
                    if delta < 0 and (best is None or delta < best[0]):
                        best = (delta, i, j)
        if best is None:
            return False
        _, i, j = best
        u = state.assign[j]
        _, new_t, new_u, ct, cu = state.swap_delta(i, j)
        state.apply(t, u, new_t, new_u, ct, cu)
        step = 1 if kind else -1
        count[t] += step
        count[u] -= step
        swaps += 1
        return True

    def try_chain(t: int, kind: bool) -> bool:
        """Two swaps: one brings a learner of ``kind`` into ``t`` at a cost, a second
        between learners of one kind (every count unchanged) earns more than that back."""
        nonlocal swaps, chains
        out = [i for i in state.members[t] if intrinsic[i] != kind and not frozen[i]]
        pool = kinds[kind]
        if not out or not pool or chains <= 0:
            return False
        chains -= 1
        firsts: list[tuple[int, int, int]] = []
        start = int(rng.integers(len(pool)))
        for step in range(min(len(pool), _CHAIN_FIRST)):
            if step % 64 == 0 and time.perf_counter() >= deadline:
                return False
            j = pool[(start + step) % len(pool)]
            u = state.assign[j]
            if u == t or section[u] != section[t] or not can_give(u, kind):
                continue
            firsts.extend((state.swap_delta(i, j)[0], i, j) for i in out)
        firsts.sort()
        for delta, i, j in firsts[:_CHAIN_KEEP]:
            if time.perf_counter() >= deadline:
                return False
            u = state.assign[j]
            first = state.swap_delta(i, j)
            state.apply(t, u, *first[1:])
            best: tuple[int, int, int] | None = None
            # the second swap trades a learner of t or u for one of its kind: one with
            # its own availability, or that of i or j (what t or u has just lost), or any
            for a in (*state.members[t], *state.members[u]):
                if frozen[a]:
                    continue
                partners: list[int] = []
                for mask in dict.fromkeys((masks[a], masks[i], masks[j])):
                    same = by_mask.get((mask, bool(intrinsic[a])), [])
                    begin = int(rng.integers(len(same))) if same else 0
                    steps = min(len(same), _CHAIN_SECOND)
                    partners.extend(same[(begin + k) % len(same)] for k in range(steps))
                begin = int(rng.integers(len(others)))
                partners.extend(others[(begin + k) % len(others)] for k in range(_CHAIN_SECOND))
                for b in partners:
                    v = state.assign[b]
                    if v in (t, u) or intrinsic[b] != intrinsic[a] or section[v] != section[t]:
                        continue
                    d2 = state.swap_delta(a, b)[0]
                    if delta + d2 < 0 and (best is None or d2 < best[0]):
                        best = (d2, a, b)
            if best is not None:
                _, a, b = best
                second = state.swap_delta(a, b)
                state.apply(state.assign[a], state.assign[b], *second[1:])
                step = 1 if kind else -1
                count[t] += step
                count[u] -= step
                swaps += 2
                return True
            # undo the first swap: the plan is exactly as it was
            back = state.swap_delta(j, i)
            state.apply(t, u, *back[1:])
        return False

    # same-availability swaps everywhere first (cheap, common time unchanged), then
    # others, then chains of two swaps for the teams no single swap helps
    for stage in (0, 1, 2) if any_partner else (0,):
        progress = True
        while progress and time.perf_counter() < deadline:
            progress = False
            for t in range(inst.k):
                if time.perf_counter() >= deadline:
                    break
                lo, hi = ranges[t]
                for kind in (True, False):
                    while (count[t] < lo if kind else count[t] > hi) and (
                        try_chain(t, kind) if stage == 2 else try_team(t, kind, stage == 1)
                    ):
                        progress = True
    return swaps


def spread_assignment(
    inst: Instance,
    terms: Sequence[Term],
    assignment: Sequence[int],
    seconds: float | None,
    seed: int = 0,
    *,
    any_partner: bool = True,
) -> tuple[list[int], int] | None:
    """:func:`spread_intrinsic` on a plain assignment: the new one and its objective.

    ``seconds`` bounds the repair (``None``: until no swap helps, for
    deterministic runs; every swap lowers the objective, so it ends).

    None when there is nothing to do: no motivation criterion, every team
    already in range, or criteria taking per-team decisions (projects), which
    swaps alone would leave stale.
    """
    term = next((t for t in terms if isinstance(t, MotivationTerm)), None)
    if term is None or not any(t.coefficient for t in terms if t is term):
        return None
    intrinsic = inst.intrinsic.astype(np.int64)
    per_team = np.bincount(np.asarray(assignment), weights=intrinsic, minlength=inst.k)
    ranges = np.array([term.target(t) for t in range(inst.k)]).reshape(-1, 2)
    if not ((per_team < ranges[:, 0]) | (per_team > ranges[:, 1])).any():
        return None
    if any(t.decisions() is not None for t in terms):
        return None
    state = TeamState(inst, terms, assignment)
    # counted from here: scoring every team first is part of the set-up, not the repair
    deadline = float("inf") if seconds is None else time.perf_counter() + max(0.0, seconds)
    if spread_intrinsic(state, term, deadline, seed, any_partner=any_partner) == 0:
        return None
    return list(state.assign), state.soft_cost
