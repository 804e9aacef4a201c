"""Construction: a first assignment meeting sizes, sections and avoid pairs.

Learners are ordered so that those free at similar hours (in UTC) sit next to
each other. With a time-zone criterion, teams are then grown one at a time
from the next free learner, each new member chosen among the next few dozen
for common time first, then motivation and skills (from further on where
none of them leaves the team any common time); without one, consecutive
blocks of learners are dealt out over blocks of teams to balance skills and
motivation. Avoid partners never join the same team; learners left over are
placed by swaps, and pinned learners and keep-together groups are swapped
into place (sizes leave room for every pin). The cost is one sort plus
linear work (about half a second for ten thousand learners).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from teamform.availability import (
    FULL_WEEK_MASK,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    SLOTS_PER_WEEK,
    common_block_slots,
)
from teamform.criteria.motivation import spread_ranges
from teamform.criteria.overlap import mask_matrix
from teamform.instance import Instance
from teamform.search.bitsets import pairs_csr
from teamform.search.kernels import seconds_left, usable

#: The Python construction's time per learner (0.34 ms at 2 000 learners under a
#: load of 4.5 on 2 cores; less on smaller cohorts), rounded up.
_PYTHON_SECONDS_PER_LEARNER = 4e-4
#: Largest share of the solve's time left that growing teams in Python may take, the
#: window it is estimated for (the default of :func:`_grow_teams`), and the narrowest
#: window a short time left gives it (the teams' cost grows by half at 12 learners).
_PYTHON_SHARE = 0.25
_WINDOW = 48
_NARROWEST = 12


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
    if inst.pins is not None:
        # a team gets at least room for the learners pinned to it
        pinned = np.bincount(inst.pins.team[inst.pins.team >= 0], minlength=inst.k)
        sizes = np.minimum(np.maximum(lo, pinned[teams]), hi)
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


def intrinsic_ranges(inst: Instance, teams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The intrinsic learners each of ``teams`` should hold, ``[lo, hi]``.

    With a motivation criterion, its even spread (see
    :class:`~teamform.criteria.MotivationTerm`); without one, any count.
    """
    spec = inst.model.criteria.motivation
    hi_size = inst.team_hi[teams].astype(np.int64)
    if spec is None or not spec.enabled or not (spec.hard or spec.weight > 0):
        return np.zeros(len(teams), dtype=np.int64), hi_size
    lo, hi = spread_ranges(inst)
    return np.ascontiguousarray(lo[teams]), np.ascontiguousarray(hi[teams])


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
    total = inst.skills.sum(axis=1).tolist()
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
        team_list = teams.tolist()
        if _overlap_target(inst)[0]:
            pending = _grow_teams(inst, assignment, order.tolist(), team_list, sizes, total)
            _place_leftovers(inst, assignment, pending, teams, sizes)
            continue
        # a block of consecutive teams shares learners of similar hours; inside
        # a block, learners are dealt out to balance skills and motivation
        block = max(1, min(8, len(team_list) // 8))
        order_list = order.tolist()
        pos = 0
        pending = []
        for b0 in range(0, len(team_list), block):
            bteams = team_list[b0 : b0 + block]
            need = sum(sizes[b0 : b0 + block])
            take = max(0, need - len(pending))
            chunk = pending + order_list[pos : pos + take]
            pos += take
            pending = _deal(inst, assignment, chunk, bteams, sizes[b0 : b0 + block], total, rng)
        pending.extend(order_list[pos:])
        _place_leftovers(inst, assignment, pending, teams, sizes)
    place_pinned(inst, assignment)
    _repair_avoid(inst, assignment, rng)
    give_intrinsic(inst, assignment)
    return assignment


#: Learners of teams with intrinsic members to spare looked at, per member of a team
#: without one, when none of them is free at exactly that member's hours.
_INTRINSIC_LOOK = 24
#: Further candidates scanned, per member of a team without one, for swaps that take
#: no team's common time (after a search, see ``keep_time``).
_KEEP_SCAN = 2048


def give_intrinsic(
    inst: Instance,
    assignment: list[int],
    team_cost: Callable[[list[int], int], int] | None = None,
    ceiling: int = 0,
    *,
    keep_time: bool = False,
) -> tuple[int, int]:
    """Swap an intrinsic learner into every team without one, where the cohort allows.

    A team without an intrinsically motivated member takes one from a team of
    its section holding two or more, in exchange for one of its own members
    (neither pinned nor grouped, no avoid partner in the new team), so sizes
    never change and no team is left without one: teams stay without only
    when no team of their section has one to spare. The partner is free at
    the same hours where possible (the common time of both teams is then
    unchanged), else the one that leaves both teams short of the least common
    time, then the closest in skills.

    With ``team_cost`` (a team's cost from its members, as the search counts
    it) each swap is the cheapest one found and is made only if it changes the
    two teams' cost by less than ``ceiling`` (0: only swaps that lower it, so
    the plan never gets worse). Without it (the construction) every such team
    gets its intrinsic member. With ``keep_time`` (and ``team_cost``) no swap
    that raises the cost leaves either team further short of its common-time
    target: a team that cannot meet, or meets less than the course needs, is a
    worse outcome than one made only of imposed learners, and the search, which
    weighs both, left the team so for its time. Changes
    ``assignment`` in place; returns the swaps made and, with ``team_cost``,
    the change of the cost they made (0 without it).
    """
    if not len(assignment) or inst.k == 0:
        return 0, 0
    intrinsic = inst.intrinsic.astype(bool)
    assign = np.asarray(assignment, dtype=np.int64)
    counts = np.bincount(assign, weights=intrinsic, minlength=inst.k).astype(np.int64)
    sizes = np.bincount(assign, minlength=inst.k)
    empty = np.flatnonzero((counts == 0) & (sizes > 0))
    if not len(empty):
        return 0, 0
    team_section = inst.team_section
    spare_sections = set(team_section[counts >= 2].tolist())
    lacking: list[int] = [t for t in empty.tolist() if int(team_section[t]) in spare_sections]
    if not lacking:
        return 0, 0
    frozen = inst.pins.frozen if inst.pins is not None else np.zeros(inst.n, dtype=bool)
    need, block = _overlap_target(inst)
    masks = inst.masks
    avoid = inst.avoid_adj
    total = inst.skills.sum(axis=1).tolist()
    order = np.argsort(assign, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes))).tolist()
    members: dict[int, list[int]] = {}

    def team(u: int) -> list[int]:
        if u not in members:
            members[u] = order[starts[u] : starts[u + 1]].tolist()
        return members[u]

    # the intrinsic learners who may move, by section; by hours for those of the teams
    movable = intrinsic & ~frozen
    donors = np.flatnonzero(movable & (counts[assign] >= 2))
    wanted = {(int(team_section[t]), masks[j]) for t in lacking for j in team(t)}
    by_hours: dict[tuple[int, int], list[int]] = {}
    for i, s in zip(donors.tolist(), inst.section[donors].tolist(), strict=True):
        if (s, masks[i]) in wanted:
            by_hours.setdefault((s, masks[i]), []).append(i)
    words = inst.mask_words
    count = counts.tolist()
    assign_list = assign.tolist()

    def short(team: list[int]) -> int:
        if not need:
            return 0
        common = FULL_WEEK_MASK
        for x in team:
            common &= masks[x]
        return max(0, need - common_block_slots(common, block))

    def clash(i: int, team: list[int], out: int) -> bool:
        return any(j in team and j != out for j in avoid[i])

    guard = keep_time and bool(need)
    # every team's common hours (as the plan came in: stale after swaps, only an order)
    team_common = (
        np.bitwise_and.reduceat(words[order], np.minimum(starts[:-1], inst.n - 1), axis=0)
        if guard
        else words[:0]
    )

    def _keeping(ranked: np.ndarray, t: int, j: int, rest: list[int]) -> list[int]:
        # candidates past the nearest, in their order, whose swap for j takes neither
        # team's common time: at most _INTRINSIC_LOOK, out of _KEEP_SCAN
        found: list[int] = []
        t_short = short(team(t))
        further = ranked[_INTRINSIC_LOOK:]
        # first the candidates whose team (as it was) shares hours with j: those
        # sharing the most of team t's are often in teams meeting elsewhere
        near_j = np.bitwise_count(team_common[assign[further]] & words[j]).sum(axis=1) > 0
        further = np.concatenate((further[near_j], further[~near_j]))
        for i in further[:_KEEP_SCAN].tolist():
            u = assign_list[i]
            if count[u] < 2 or short([*rest, i]) > t_short:
                continue
            if short([j if x == i else x for x in team(u)]) > short(team(u)):
                continue
            found.append(i)
            if len(found) >= _INTRINSIC_LOOK:
                break
        return found

    def _best(
        t: int, pool: list[tuple[int, int]], best: tuple[tuple[int, ...], int, int] | None
    ) -> tuple[tuple[int, ...], int, int] | None:
        # the cheapest swap of the pool for team t (better than ``best``)
        for j, i in dict.fromkeys(pool):
            u = assign_list[i]
            if count[u] < 2 or clash(i, team(t), j) or clash(j, team(u), i):
                continue
            new_t = [i if x == j else x for x in team(t)]
            new_u = [j if x == i else x for x in team(u)]
            if team_cost is not None:
                delta = (
                    team_cost(new_t, t)
                    + team_cost(new_u, u)
                    - team_cost(team(t), t)
                    - team_cost(team(u), u)
                )
                if (
                    guard
                    and delta > 0
                    and (short(new_t) > short(team(t)) or short(new_u) > short(team(u)))
                ):
                    continue  # paid for with common time
                key: tuple[int, ...] = (delta, i, j)
            else:
                key = (short(new_t) + short(new_u), abs(total[i] - total[j]), i, j)
            if best is None or key < best[0]:
                best = (key, i, j)
        return best

    swaps = change = 0
    for t in lacking:
        section = int(team_section[t])
        mine = [j for j in team(t) if not frozen[j]]
        pool: list[tuple[int, int]] = []  # (imposed member, intrinsic candidate)
        further: list[tuple[int, np.ndarray, list[int]]] = []
        for j in mine:
            same = (i for i in by_hours.get((section, masks[j]), ()) if count[assign_list[i]] >= 2)
            pool.extend((j, i) for i in itertools.islice(same, _INTRINSIC_LOOK))
        if not pool or team_cost is not None:
            # the candidates sharing the most of the team's hours (without the member out)
            cands = donors[
                (inst.section[donors] == section) & (np.asarray(count)[assign[donors]] >= 2)
            ]
            if len(cands):
                for j in mine:
                    rest = [x for x in team(t) if x != j]
                    common = np.bitwise_and.reduce(words[rest], axis=0) if rest else None
                    if common is None:
                        ranked = cands
                    else:
                        shared = np.bitwise_count(words[cands] & common).sum(axis=1)
                        ranked = cands[np.argsort(-shared, kind="stable")]
                    pool.extend((j, int(i)) for i in ranked[:_INTRINSIC_LOOK].tolist())
                    if guard:
                        further.append((j, ranked, rest))
        best = _best(t, pool, None)
        if further and (best is None or (team_cost is not None and best[0][0] >= ceiling)):
            # the nearest may each take their own team's last common block (at 50 000
            # learners all of them did, for one team): further on, the first that leave
            # both teams as short of their target as they were
            more = [(j, i) for j, ranked, rest in further for i in _keeping(ranked, t, j, rest)]
            best = _best(t, more, best)
        if best is None or (team_cost is not None and best[0][0] >= ceiling):
            continue
        _, i, j = best
        u = assign_list[i]
        members[t] = [i if x == j else x for x in team(t)]
        members[u] = [j if x == i else x for x in team(u)]
        assign_list[i], assign_list[j] = t, u
        assign[i], assign[j] = t, u
        assignment[i], assignment[j] = t, u
        count[t] += 1
        count[u] -= 1
        swaps += 1
        change += best[0][0] if team_cost is not None else 0
    return swaps, change


def construct_from_previous(inst: Instance) -> list[int]:
    """Start from the teams of the previous phase (the ``keep`` policy).

    Learners stay in their previous team while it has room in this phase's
    layout and no avoid partner is already in it; late joiners and learners
    whose team shrank or vanished are placed like leftovers.
    """
    assert inst.previous is not None
    assignment = [-1] * inst.n
    pending: list[int] = []
    avoid = inst.avoid_adj
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s)
        learners = np.flatnonzero(inst.section == s).tolist()
        if not len(teams):
            continue
        sizes = target_sizes(inst, teams, len(learners))
        room = dict(zip(teams.tolist(), sizes, strict=True))
        members: dict[int, set[int]] = {t: set() for t in room}
        pending = []
        for i in learners:
            t = int(inst.previous[i])
            if (
                t in room
                and len(members[t]) < room[t]
                and not any(j in members[t] for j in avoid[i])
            ):
                members[t].add(i)
                assignment[i] = t
            else:
                pending.append(i)
        _place_leftovers(inst, assignment, pending, teams, sizes)
    place_pinned(inst, assignment)
    _repair_avoid(inst, assignment, np.random.default_rng(0))
    return assignment


def place_pinned(inst: Instance, assignment: list[int]) -> None:
    """Bring pinned learners and keep-together groups into place by swaps.

    Team sizes never change. Each pinned learner missing from its team swaps
    with a member not pinned there (the team has room for all its pins, see
    :func:`target_sizes`); then each group without a team, largest first,
    gathers in the team already holding most of it among those with room for
    the whole group, swapping with members that are neither pinned nor in a
    placed group. A group that fits nowhere is left for the search (the
    validator would report it).
    """
    pins = inst.pins
    if pins is None:
        return
    members: list[set[int]] = [set() for _ in range(inst.k)]
    for i, t in enumerate(assignment):
        members[t].add(i)
    settled = [False] * inst.n
    frozen = pins.frozen
    avoid = inst.avoid_adj

    def swap(i: int, j: int) -> None:
        t, u = assignment[i], assignment[j]
        members[t].discard(i)
        members[u].discard(j)
        members[u].add(i)
        members[t].add(j)
        assignment[i], assignment[j] = u, t

    def clash(i: int, team: set[int], ignore: int = -1) -> bool:
        return any(j in team and j != ignore for j in avoid[i])

    for i in np.flatnonzero(pins.team >= 0).tolist():
        p = int(pins.team[i])
        if assignment[i] != p:
            out = [j for j in members[p] if pins.team[j] != p]
            if out:
                # free learners first, then those without an avoid clash after the swap
                j = min(
                    out,
                    key=lambda j: (bool(frozen[j]), clash(i, members[p], j), j),
                )
                swap(i, j)
        settled[i] = True
    for grp in sorted(pins.free_groups, key=len, reverse=True):
        want = set(grp)
        best: tuple[int, int] | None = None
        for u in inst.teams_of_section(int(inst.section[grp[0]])).tolist():
            if pins.closed[u]:
                continue
            room = sum(1 for j in members[u] if not settled[j] and j not in want)
            have = len(members[u] & want)
            if room + have >= len(grp) and (best is None or have > best[0]):
                best = (have, u)
        if best is None:
            continue
        u = best[1]
        for g in grp:
            if assignment[g] == u:
                continue
            pool = [j for j in members[u] if not settled[j] and j not in want]
            j = min(pool, key=lambda j: (bool(frozen[j]), j))
            swap(g, j)
        for g in grp:
            settled[g] = True


def _deal(
    inst: Instance,
    assignment: list[int],
    chunk: list[int],
    teams: list[int],
    sizes: list[int],
    total: list[int],
    rng: np.random.Generator,
) -> list[int]:
    """Deal ``chunk`` over ``teams``: intrinsic learners round-robin, then the
    rest strongest first to the weakest team with room (avoid pairs kept apart).

    Returns the learners that fit nowhere without breaking an avoid pair.
    """
    avoid = inst.avoid_adj
    intrinsic = inst.intrinsic
    masks = inst.masks
    need, block = _overlap_target(inst)
    cap = dict(zip(teams, sizes, strict=True))
    members: dict[int, set[int]] = {t: set() for t in teams}
    common = dict.fromkeys(teams, FULL_WEEK_MASK)
    strength = dict.fromkeys(teams, 0)
    n_intr = dict.fromkeys(teams, 0)
    tie = rng.random(len(chunk)).tolist()
    ranked = sorted(
        range(len(chunk)),
        key=lambda p: (not intrinsic[chunk[p]], -total[chunk[p]], tie[p]),
    )
    left: list[int] = []
    for p in ranked:
        i = chunk[p]
        room = [
            t
            for t in teams
            if len(members[t]) < cap[t] and not any(j in members[t] for j in avoid[i])
        ]
        if not room:
            left.append(i)
            continue

        def short(u: int, i: int = i) -> int:
            if not need:
                return 0
            return max(0, need - common_block_slots(common[u] & masks[i], block))

        if intrinsic[i]:
            t = min(
                room,
                key=lambda u: (
                    short(u),
                    n_intr[u],
                    strength[u] / max(1, len(members[u])),
                ),
            )
            n_intr[t] += 1
        else:
            # weakest per remaining seat, so sizes and strength even out together
            t = min(room, key=lambda u: (short(u), (strength[u] + total[i]) / cap[u]))
        members[t].add(i)
        common[t] &= masks[i]
        strength[t] += total[i]
        assignment[i] = t
    return left


def _grow_teams(
    inst: Instance,
    assignment: list[int],
    order: list[int],
    teams: list[int],
    sizes: list[int],
    total: list[int],
    window: int = 48,
) -> list[int]:
    """Grow one team at a time from the next free learner in time-of-day order.

    Each new member is the one, among the next ``window`` free learners, that
    keeps the most common time (up to the target), then that keeps the team's
    intrinsic count able to end inside its range (see :func:`intrinsic_ranges`)
    without taking an intrinsic learner the teams still to grow need, then
    that brings the team its first intrinsic learner, then that keeps its
    skill total closest to the cohort's average. A seat that none of the
    window can take without the team losing its last common time goes to a
    learner further on who keeps some (:func:`_far_time_python`, within
    :data:`_TIME_LOOK` window places). Returns learners left without a team.
    (Common time first: an hour short costs a team more than a learner off
    the spread, which same-availability swaps repair after.)
    """
    need, block = _overlap_target(inst)
    order_arr = np.asarray(order, dtype=np.int64)
    totals = np.asarray(total, dtype=np.float64)
    mean_total = float(totals[order_arr].mean()) if len(order_arr) else 0.0
    lo, hi = intrinsic_ranges(inst, np.asarray(teams, dtype=np.int64))
    # the Python construction makes the same teams; below a few thousand learners
    # it takes less than loading the kernel from the cache
    kernel = ("teamform.search.construct_kernels", "_grow_kernel")
    python_seconds = _PYTHON_SECONDS_PER_LEARNER * inst.n * window / _WINDOW
    left = seconds_left()
    # where the kernel is not ready and growing teams in Python would take much of the
    # time left (seconds at 50 000 learners), each pick looks at fewer learners: its
    # cost is in proportion to the window, the teams a little worse
    narrow = window
    if left is not None and python_seconds > _PYTHON_SHARE * left:
        narrow = max(_NARROWEST, min(window, int(window * _PYTHON_SHARE * left / python_seconds)))
    path = "construction in Python" + (
        f" (window {narrow}, not {window})" if narrow < window else ""
    )
    if usable(kernel, path, python_seconds):
        from teamform.search.construct_kernels import _grow_kernel

        aptr, aidx = pairs_csr(inst.n, inst.avoid)
        team_at = _grow_kernel(
            order_arr,
            inst.mask_words,
            need,
            block,
            inst.intrinsic.astype(np.int64),
            totals,
            mean_total,
            np.asarray(sizes, dtype=np.int64),
            lo,
            hi,
            aptr,
            aidx,
            window,
        )
    else:
        team_at = _grow_python(
            inst,
            order,
            need,
            block,
            total,
            mean_total,
            sizes,
            lo.tolist(),
            hi.tolist(),
            narrow,
        )
    team_ids = np.asarray(teams, dtype=np.int64)
    placed = team_at >= 0
    for i, t in zip(order_arr[placed].tolist(), team_ids[team_at[placed]].tolist(), strict=True):
        assignment[i] = t
    return order_arr[~placed].tolist()


def _grow_python(
    inst: Instance,
    order: list[int],
    need: int,
    block: int,
    total: list[int],
    mean_total: float,
    sizes: list[int],
    lo: list[int],
    hi: list[int],
    window: int,
) -> np.ndarray:
    """:func:`_grow_kernel` on Python integers, step for step (the same teams), for
    when the kernel is not compiled yet."""
    masks = [inst.masks[i] for i in order]
    intrinsic = inst.intrinsic.tolist()
    avoid = inst.avoid_adj
    team_at = [-1] * len(order)
    free = [True] * len(order)
    # intrinsic learners still free, and what the teams after each one need at least
    supply = sum(1 for i in order if intrinsic[i])
    later = _later_needs(lo)
    head = 0
    for t, size in enumerate(sizes):
        while head < len(order) and not free[head]:
            head += 1
        if head >= len(order):
            break
        free[head] = False
        members = {order[head]}
        taken = [head]
        common = masks[head]
        strength = float(total[order[head]])
        n_intr = intrinsic[order[head]]
        supply -= n_intr
        wpos: list[int] = []
        p = head + 1
        while len(wpos) < window and p < len(order):
            if free[p]:
                wpos.append(p)
            p += 1
        while len(taken) < size and wpos:
            best_at = -1
            best = (0, 0, 0, 0, 0.0)  # reach, shared, fits, first, gap
            target = (len(taken) + 1) * mean_total
            seats = size - len(taken) - 1
            for at, pos in enumerate(wpos):
                j = order[pos]
                if any(m in members for m in avoid[j]):
                    continue
                fits = _fits(n_intr, intrinsic[j], seats, lo[t], hi[t], supply, later[t])
                shared = min(need, common_block_slots(common & masks[pos], block))
                first = 1 if intrinsic[j] and n_intr == 0 else 0
                gap = abs(strength + total[j] - target)
                reach = _reach(n_intr + intrinsic[j] + seats >= lo[t], shared, need)
                key = (reach, shared, fits, first)
                if best_at < 0 or key > best[:4] or (key == best[:4] and gap < best[4]):
                    best_at, best = at, (reach, shared, fits, first, gap)
            pos = -1
            if seats == 0 and (best_at < 0 or best[0] < _REACHES) and n_intr < lo[t]:
                pos = _far_python(
                    order, masks, need, block, intrinsic, free, members, avoid, common, p,
                    _FAR_LOOK * window,
                )  # fmt: skip
            if (
                pos < 0
                and need > 0
                and (best_at < 0 or best[0] < 2)
                and common_block_slots(common, block) > 0
            ):
                # nobody in the window keeps the team's common time: one from further on
                # who does (a team without any costs far more than a learner out of order)
                pos = _far_time_python(
                    order, masks, need, block, intrinsic, free, members, avoid, common, p,
                    _TIME_LOOK * window, (n_intr, seats, lo[t], hi[t], supply, later[t]),
                )  # fmt: skip
            if pos < 0:
                if best_at < 0:
                    break
                pos = wpos.pop(best_at)
            j = order[pos]
            free[pos] = False
            members.add(j)
            taken.append(pos)
            common &= masks[pos]
            strength += total[j]
            n_intr += intrinsic[j]
            supply -= intrinsic[j]
        if len(taken) < size:
            # give back what could not make a full team; leftovers fill it later
            team_at[head] = t
            for pos in taken[1:]:
                free[pos] = True
                supply += intrinsic[order[pos]]
        else:
            for pos in taken:
                team_at[pos] = t
    return np.asarray(team_at, dtype=np.int64)


def _far_python(
    order: list[int],
    masks: list[int],
    need: int,
    block: int,
    intrinsic: list[int],
    free: list[bool],
    members: set[int],
    avoid: list[list[int]],
    common: int,
    start: int,
    look: int,
) -> int:
    """:func:`_far_intrinsic` on Python integers (``masks`` in ``order``)."""
    best, best_shared = -1, -1
    for q in range(start, min(len(order), start + look)):
        j = order[q]
        if not free[q] or not intrinsic[j] or any(m in members for m in avoid[j]):
            continue
        shared = min(need, common_block_slots(common & masks[q], block))
        if (shared > 0 or need == 0) and shared > best_shared:
            best, best_shared = q, shared
    return best


def _far_time_python(
    order: list[int],
    masks: list[int],
    need: int,
    block: int,
    intrinsic: list[int],
    free: list[bool],
    members: set[int],
    avoid: list[list[int]],
    common: int,
    start: int,
    look: int,
    counts: tuple[int, int, int, int, int, int],
) -> int:
    """:func:`_far_time` on Python integers (``masks`` in ``order``); ``counts`` are
    the team's intrinsic count, its seats left, its range and the supply and later
    needs of :func:`_fits`."""
    n_intr, seats, lo, hi, supply, later = counts
    best, best_key = -1, (-1, -1, -1)
    for q in range(start, min(len(order), start + look)):
        j = order[q]
        if not free[q] or any(m in members for m in avoid[j]):
            continue
        shared = min(need, common_block_slots(common & masks[q], block))
        if shared == 0:
            continue
        fits = _fits(n_intr, intrinsic[j], seats, lo, hi, supply, later)
        key = (_reach(n_intr + intrinsic[j] + seats >= lo, shared, need), fits, shared)
        if key > best_key:
            best, best_key = q, key
    return best


def _later_needs(lo: list[int] | np.ndarray) -> np.ndarray:
    """For each team, the intrinsic learners the teams grown after it need at least."""
    need = np.asarray(lo, dtype=np.int64)
    return np.concatenate((np.cumsum(need[::-1])[::-1][1:], [0])).astype(np.int64)


def _fits(count: int, intrinsic: int, seats: int, lo: int, hi: int, supply: int, later: int) -> int:
    """1 when a learner (``intrinsic`` 0/1) keeps a team's intrinsic count able to end
    in ``[lo, hi]`` with ``seats`` left after them, and takes no intrinsic learner
    beyond the team's ``lo`` from the ``supply`` the teams after it need (``later``)."""
    after = count + intrinsic
    if after > hi or after + seats < lo:
        return 0
    if intrinsic and after > lo and supply - 1 < later:
        return 0
    return 1


#: The best :func:`_reach`: keeps common time and lets the team reach its range.
_REACHES = 3
#: Learners after the window looked at for a team's last seat, per window place.
_FAR_LOOK = 16
#: Learners after the window looked at, per window place, for a seat that no learner
#: of the window can take without the team losing its last common time.
_TIME_LOOK = 64


def _reach(reaches: bool, shared: int, need: int) -> int:
    """2 for a learner who keeps some common time (or no time is asked for), plus 1
    when the team can still reach its intrinsic range with them."""
    return 2 * (1 if shared > 0 or need == 0 else 0) + (1 if reaches else 0)


def _overlap_target(inst: Instance) -> tuple[int, int]:
    """Common slots wanted per team and minimum run length, from the model."""
    ov = inst.model.criteria.overlap
    if ov is None or not ov.enabled:
        return 0, 1
    return round(ov.hours * 60 / SLOT_MINUTES), max(1, round(ov.block * 60 / SLOT_MINUTES))


def _repair_avoid(
    inst: Instance, assignment: list[int], rng: np.random.Generator, passes: int = 5
) -> None:
    """Separate avoid pairs left together, by swaps that create no new clash.

    For a learner ``i`` sharing a team with an avoid partner, any learner ``k``
    of another team of the section may take its place if ``i`` clashes with no
    one in ``k``'s team and ``k`` with no one in ``i``'s. Sizes never change.
    """
    if not len(inst.avoid):
        return
    avoid = inst.avoid_adj
    frozen = inst.pins.frozen.tolist() if inst.pins is not None else [False] * inst.n
    members: dict[int, set[int]] = {}
    for i, t in enumerate(assignment):
        members.setdefault(t, set()).add(i)

    def clashes(i: int, team: set[int], ignore: int) -> bool:
        return any(j in team and j != ignore for j in avoid[i])

    pairs = np.asarray(inst.avoid, dtype=np.int64).reshape(-1, 2)
    for _ in range(passes):
        team = np.asarray(assignment)
        together = pairs[team[pairs[:, 0]] == team[pairs[:, 1]]]
        broken = [i for i in np.unique(together).tolist() if not frozen[i]]
        if not broken:
            return
        for i in broken:
            t = assignment[i]
            if not clashes(i, members[t], -1):
                continue  # fixed by an earlier swap
            pool = inst.teams_of_section(int(inst.section[i])).tolist()
            for u in rng.permutation(pool).tolist():
                if u == t:
                    continue
                k = next(
                    (
                        k
                        for k in sorted(members[u])
                        if not frozen[k]
                        and not clashes(i, members[u], k)
                        and not clashes(k, members[t], i)
                    ),
                    None,
                )
                if k is not None:
                    members[t].discard(i)
                    members[u].discard(k)
                    members[t].add(k)
                    members[u].add(i)
                    assignment[i], assignment[k] = u, t
                    break


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
