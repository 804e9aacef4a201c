"""Construction: a first assignment meeting sizes, sections and avoid pairs.

Learners are ordered so that those free at similar hours (in UTC) sit next to
each other, then cut into consecutive teams; a learner that would join an
avoid partner is held back and placed in a later team. What remains is
repaired by swaps. The cost is one sort plus linear work, so ten thousand
learners take a fraction of a second.
"""

from __future__ import annotations

import math

import numpy as np

from teamform.availability import SLOTS_PER_DAY, SLOTS_PER_WEEK
from teamform.criteria.overlap import mask_matrix
from teamform.instance import Instance


def availability_angle(masks: list[int]) -> np.ndarray:
    """Circular mean of each learner's free time of day (UTC), in radians.

    Evening windows repeat daily, so the time of day, not the weekday, is what
    makes two learners compatible. Learners with no availability get ``nan``.
    """
    unique: dict[int, int] = {}
    codes = np.fromiter((unique.setdefault(m, len(unique)) for m in masks), dtype=np.int64)
    mat = mask_matrix(list(unique))
    daily = mat.reshape(len(unique), SLOTS_PER_WEEK // SLOTS_PER_DAY, SLOTS_PER_DAY).sum(axis=1)
    theta = 2 * np.pi * (np.arange(SLOTS_PER_DAY) + 0.5) / SLOTS_PER_DAY
    x = daily @ np.cos(theta)
    y = daily @ np.sin(theta)
    angle = np.where(daily.sum(axis=1) > 0, np.arctan2(y, x), np.nan)
    return angle[codes]


def target_sizes(inst: Instance, teams: np.ndarray, count: int) -> list[int]:
    """Sizes for ``teams`` summing to ``count``, within bounds and as even as possible."""
    lo = inst.team_lo[teams].astype(np.int64)
    hi = inst.team_hi[teams].astype(np.int64)
    sizes = lo.copy()
    rest = count - int(sizes.sum())
    # raise the smallest teams first so sizes stay even
    while rest > 0:
        room = np.flatnonzero(sizes < hi)
        if not len(room):
            break
        pick = room[np.argsort(sizes[room], kind="stable")][: max(1, min(rest, len(room)))]
        sizes[pick] += 1
        rest -= len(pick)
    return sizes.tolist()


def construct(inst: Instance, seed: int = 0) -> list[int]:
    """A first assignment honouring sizes, sections and avoid pairs.

    Parameters
    ----------
    inst
        The compiled problem.
    seed
        Breaks ties among learners with the same availability.

    Returns
    -------
    list of int
        Team index of each learner. Avoid pairs that no swap could separate
        (only possible with very dense avoid lists) are left for the search to
        repair; the validator reports them.
    """
    rng = np.random.default_rng(seed)
    angle = availability_angle(inst.masks)
    # learners with no usable window go last: they fit anywhere equally badly
    key = np.where(np.isnan(angle), 10.0, angle)
    assignment = [-1] * inst.n
    avoid = inst.avoid_adj
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s)
        learners = np.flatnonzero(inst.section == s)
        if not len(teams):
            continue
        # start the circle at its widest gap so one team does not straddle it
        ks = key[learners]
        tie = rng.random(len(learners))
        order = learners[np.lexsort((tie, ks))]
        finite = np.sort(ks[ks < 10.0])
        if len(finite) > 1:
            gaps = np.diff(np.append(finite, finite[0] + 2 * math.pi))
            cut = finite[(int(np.argmax(gaps)) + 1) % len(finite)]
            rank = (key[order] - cut) % (2 * math.pi)
            rank[key[order] >= 10.0] = 10.0
            order = order[np.argsort(rank, kind="stable")]
        sizes = target_sizes(inst, teams, len(learners))
        pending: list[int] = []
        queue = iter(order.tolist())
        for t, size in zip(teams.tolist(), sizes, strict=True):
            members: set[int] = set()
            still: list[int] = []
            for i in pending:
                if len(members) < size and not any(j in members for j in avoid[i]):
                    members.add(i)
                    assignment[i] = t
                else:
                    still.append(i)
            pending = still
            while len(members) < size:
                i = next(queue, None)
                if i is None:
                    break
                if any(j in members for j in avoid[i]):
                    pending.append(i)
                    continue
                members.add(i)
                assignment[i] = t
        pending.extend(queue)
        _place_leftovers(inst, assignment, pending, teams, sizes)
    return assignment


def _place_leftovers(
    inst: Instance,
    assignment: list[int],
    pending: list[int],
    teams: np.ndarray,
    sizes: list[int],
) -> None:
    """Put held-back learners into teams with room, swapping where needed."""
    avoid = inst.avoid_adj
    team_list = teams.tolist()
    members: dict[int, set[int]] = {t: set() for t in team_list}
    for i, t in enumerate(assignment):
        if t in members:
            members[t].add(i)
    target = dict(zip(team_list, sizes, strict=True))

    def clash(i: int, t: int, ignore: int = -1) -> bool:
        return any(j in members[t] and j != ignore for j in avoid[i])

    for i in pending:
        free = [t for t in team_list if len(members[t]) < target[t]]
        ok = [t for t in free if not clash(i, t)]
        if ok:
            t = ok[0]
            members[t].add(i)
            assignment[i] = t
            continue
        # swap: i takes j's place in team u, j moves to a free team f
        placed = False
        for f in free:
            for u in team_list:
                if u == f:
                    continue
                for j in sorted(members[u]):
                    if not clash(i, u, ignore=j) and not clash(j, f):
                        members[u].discard(j)
                        members[u].add(i)
                        members[f].add(j)
                        assignment[i], assignment[j] = u, f
                        placed = True
                        break
                if placed:
                    break
            if placed:
                break
        if not placed:
            t = free[0] if free else team_list[0]
            members[t].add(i)
            assignment[i] = t
