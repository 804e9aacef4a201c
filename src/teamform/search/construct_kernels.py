"""The construction's compiled kernel (numba): the same teams as its Python path.

:func:`teamform.search.construct.construct` grows teams with :func:`_grow_kernel`
where :func:`teamform.search.kernels.usable` says it can run now (and pays),
and with its Python path otherwise; only then is this module imported.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from teamform.search.bitset_kernels import and_block_slots
from teamform.search.construct import _FAR_LOOK, _REACHES, _TIME_LOOK, _fits, _reach
from teamform.search.kernels import tie_module

#: :func:`_fits` compiled, for the kernel (the Python construction calls it as it is).
_fits_compiled = njit(cache=True)(_fits)
_reach_compiled = njit(cache=True)(_reach)


class _Cohort(NamedTuple):
    """What the search for a team's last seat reads of the cohort: learners in the
    construction's ``order``, their weekly ``words`` and ``intrinsic`` flags, avoid
    pairs (``aptr``/``aidx``, compressed rows), the common-time target ``need`` in
    slots and the ``block`` length of a common run."""

    order: np.ndarray
    words: np.ndarray
    intrinsic: np.ndarray
    aptr: np.ndarray
    aidx: np.ndarray
    need: int
    block: int


class _Growing(NamedTuple):
    """The teams being grown: which positions of ``order`` are ``free``, each
    learner's team (``stamp``), the growing team's ``common`` mask and a
    ``scratch`` mask."""

    free: np.ndarray
    stamp: np.ndarray
    common: np.ndarray
    scratch: np.ndarray


@njit(cache=True)
def _avoids_team(aptr, aidx, stamp, j, t):  # type: ignore[no-untyped-def]
    """Whether learner ``j`` has an avoid partner in team ``t`` (``stamp``: each
    learner's team)."""
    for e in range(aptr[j], aptr[j + 1]):  # noqa: SIM110 (a loop: compiled, no generator)
        if stamp[aidx[e]] == t:
            return True
    return False


@njit(cache=True)
def _far_intrinsic(cohort, growing, t, start, look):  # type: ignore[no-untyped-def]
    """For a team's last seat: the free intrinsic learner among the ``look`` positions
    of ``order`` from ``start`` who keeps the most common time (some at least, when
    time is asked for) without an avoid partner in team ``t``; -1 if none."""
    order, words, intrinsic = cohort.order, cohort.words, cohort.intrinsic
    aptr, aidx, need = cohort.aptr, cohort.aidx, cohort.need
    free, stamp = growing.free, growing.stamp
    best, best_shared = -1, -1
    end = min(order.shape[0], start + look)
    for q in range(start, end):
        j = order[q]
        if not free[q] or not intrinsic[j]:
            continue
        if _avoids_team(aptr, aidx, stamp, j, t):
            continue
        shared = min(need, and_block_slots(growing.common, words[j], cohort.block, growing.scratch))
        if (shared > 0 or need == 0) and shared > best_shared:
            best, best_shared = q, shared
    return best


@njit(cache=True)
def _far_time(cohort, growing, t, start, look, n_intr, seats, lo, hi, supply, later):  # type: ignore[no-untyped-def]
    """For a seat no learner of the window can take without the team losing its last
    common time: the free learner among the ``look`` positions of ``order`` from
    ``start`` who keeps some, without an avoid partner in team ``t``, the best by
    :func:`_reach`, then :func:`_fits`, then common time kept (the first of equals);
    -1 if none."""
    order, words, intrinsic = cohort.order, cohort.words, cohort.intrinsic
    aptr, aidx, need = cohort.aptr, cohort.aidx, cohort.need
    free, stamp = growing.free, growing.stamp
    best, best_reach, best_fits, best_shared = -1, -1, -1, -1
    end = min(order.shape[0], start + look)
    for q in range(start, end):
        j = order[q]
        if not free[q]:
            continue
        if _avoids_team(aptr, aidx, stamp, j, t):
            continue
        shared = min(need, and_block_slots(growing.common, words[j], cohort.block, growing.scratch))
        if shared == 0:
            continue
        fits = _fits_compiled(n_intr, intrinsic[j], seats, lo, hi, supply, later)
        reach = _reach_compiled(n_intr + intrinsic[j] + seats >= lo, shared, need)
        if (
            reach > best_reach
            or (reach == best_reach and fits > best_fits)
            or (reach == best_reach and fits == best_fits and shared > best_shared)
        ):
            best, best_reach, best_fits, best_shared = q, reach, fits, shared
    return best


@njit(cache=True)
def _grow_kernel(  # type: ignore[no-untyped-def]
    order,
    words,
    need,
    block,
    intrinsic,
    total,
    mean_total,
    sizes,
    lo,
    hi,
    aptr,
    aidx,
    window,
):
    """Team (index into ``sizes``) of each position of ``order``, -1 if left over.

    See :func:`_grow_teams`; a team that cannot be filled keeps its first
    member and gives the others back.
    """
    n_order = order.shape[0]
    nw = words.shape[1]
    team_at = np.full(n_order, -1, dtype=np.int64)
    free = np.ones(n_order, dtype=np.bool_)
    stamp = np.full(words.shape[0], -1, dtype=np.int64)
    common = np.empty(nw, dtype=np.uint64)
    scratch = np.empty(nw, dtype=np.uint64)
    wpos = np.empty(window, dtype=np.int64)
    mpos = np.empty(sizes.max() if sizes.shape[0] else 1, dtype=np.int64)
    supply = 0
    for p in range(n_order):
        supply += intrinsic[order[p]]
    cohort = _Cohort(order, words, intrinsic, aptr, aidx, need, block)
    growing = _Growing(free, stamp, common, scratch)
    later = np.zeros(sizes.shape[0], dtype=np.int64)
    for t in range(sizes.shape[0] - 2, -1, -1):
        later[t] = later[t + 1] + lo[t + 1]
    head = 0
    for t in range(sizes.shape[0]):
        size = sizes[t]
        while head < n_order and not free[head]:
            head += 1
        if head >= n_order:
            break
        free[head] = False
        seed = order[head]
        stamp[seed] = t
        mpos[0] = head
        count = 1
        for w in range(nw):
            common[w] = words[seed, w]
        strength = total[seed]
        n_intr = intrinsic[seed]
        supply -= n_intr
        n_win = 0
        p = head + 1
        while n_win < window and p < n_order:
            if free[p]:
                wpos[n_win] = p
                n_win += 1
            p += 1
        while count < size and n_win > 0:
            best_at = -1
            best_fits = 0
            best_reach = 0
            best_shared = 0
            best_first = 0
            best_gap = 0.0
            target = (count + 1) * mean_total
            seats = size - count - 1
            for at in range(n_win):
                j = order[wpos[at]]
                if _avoids_team(aptr, aidx, stamp, j, t):
                    continue
                fits = _fits_compiled(n_intr, intrinsic[j], seats, lo[t], hi[t], supply, later[t])
                shared = min(need, and_block_slots(common, words[j], block, scratch))
                first = 1 if intrinsic[j] and n_intr == 0 else 0
                gap = abs(strength + total[j] - target)
                # first a learner who keeps some common time and lets the team reach its
                # intrinsic range; then the most common time
                reach = _reach_compiled(n_intr + intrinsic[j] + seats >= lo[t], shared, need)
                if reach < best_reach:
                    continue
                if reach > best_reach:
                    best_at = -1
                    best_reach = reach
                if (
                    best_at < 0
                    or shared > best_shared
                    or (shared == best_shared and fits > best_fits)
                    or (shared == best_shared and fits == best_fits and first > best_first)
                    or (
                        fits == best_fits
                        and shared == best_shared
                        and first == best_first
                        and gap < best_gap
                    )
                ):
                    best_at, best_shared, best_fits = at, shared, fits
                    best_first, best_gap = first, gap
            pos = -1
            if seats == 0 and best_reach < _REACHES and n_intr < lo[t]:
                pos = _far_intrinsic(cohort, growing, t, p, _FAR_LOOK * window)
            if (
                pos < 0
                and need > 0
                and best_reach < 2
                and and_block_slots(common, common, block, scratch) > 0
            ):
                # nobody in the window keeps the team's common time: one from further on
                # who does (a team without any costs far more than a learner out of order)
                pos = _far_time(
                    cohort, growing, t, p, _TIME_LOOK * window,
                    n_intr, seats, lo[t], hi[t], supply, later[t],
                )  # fmt: skip
            if pos < 0:
                if best_at < 0:
                    break
                pos = wpos[best_at]
                for at in range(best_at, n_win - 1):
                    wpos[at] = wpos[at + 1]
                n_win -= 1
            j = order[pos]
            free[pos] = False
            stamp[j] = t
            mpos[count] = pos
            count += 1
            for w in range(nw):
                common[w] &= words[j, w]
            strength += total[j]
            n_intr += intrinsic[j]
            supply -= intrinsic[j]
        if count < size:
            # give back what could not make a full team; leftovers fill it later
            team_at[head] = t
            for m in range(1, count):
                free[mpos[m]] = True
                stamp[order[mpos[m]]] = -1
                supply += intrinsic[order[mpos[m]]]
        else:
            for m in range(count):
                team_at[mpos[m]] = t
    return team_at


# numba checks only this file: the modules compiled in count too
tie_module(globals())
