"""Iterated tabu search for maximum within-group diversity (the MDGP).

Maximise the sum of the pairwise distances inside groups, each group ``g``
holding between ``lo[g]`` and ``hi[g]`` elements. This covers both MDGPLIB
flavours: equal fixed sizes (``ss``) and per-group size ranges (``ds``).

Method
------
The search follows the iterated tabu search family that dominates the MDGP
literature (Palubeckis et al. 2011; Lai & Hao 2016, iterated maxima search;
Yang et al. 2022, three-phase search):

* State: the assignment plus an ``m x n`` matrix ``G[g, i]`` holding the sum
  of distances from element ``i`` to the members of group ``g``. Moving one
  element updates two rows of ``G`` in ``O(n)``, and every neighbour is then
  priced in ``O(1)``:

  - move ``i: A -> B`` (only when ``A`` stays ``>= lo`` and ``B`` stays
    ``<= hi``): ``G[B, i] - G[A, i]``;
  - swap ``i in A`` with ``j in B``:
    ``G[B, i] - G[A, i] + G[A, j] - G[B, j] - 2 d[i, j]``.

* Pruned swap scan: with ``maxm[B, A]`` the best gain of a member of ``B``
  for joining ``A`` and ``dmin[i]`` the smallest distance from ``i``, every
  swap of ``i`` into ``B`` is bounded by
  ``G[B, i] - G[A, i] + maxm[B, A] - 2 dmin[i]``; whole (element, group)
  blocks below the best swap found so far are skipped. The result is the
  exact best neighbour; near local optima only a few per cent of the pairs
  are priced.
* Tabu search: each iteration applies the best non-tabu neighbour (random
  tie-break), after which the element may not return to the group it left
  for a random tenure. A tabu neighbour is allowed if it beats the best value
  of the current run (aspiration). A run stops after ``depth`` iterations
  without improving its best.
* Perturbation: the best solution of the run is kicked by a random number of
  random swaps (and moves when the bounds leave room). After ``restart``
  consecutive runs that fail to beat the global best, the walk restarts from
  the global best instead of from the last local optimum.
* Size-profile kick (``ds`` bounds): with near-uniform distances the
  objective grows like ``sum_g s_g (s_g - 1) / 2``, convex in the group sizes,
  so good solutions sit at extreme size profiles that single moves reach only
  through deep valleys. The best profiles are listed exactly by a small
  dynamic programme, and a share of the kicks first reshapes the solution to
  one of them by greedy moves.

Everything inside the loop is compiled with numba. The pseudo-random
generator is a splitmix64 stream carried in the state, so a fixed seed and a
fixed iteration cap give identical results on every run; the wall-clock
limit is only read every ``_CLOCK_EVERY`` iterations.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit, objmode

from teamform.mdgp import mdgp_objective

__all__ = [
    "DiversityResult",
    "SearchParams",
    "solve_max_diversity",
    "warm_up",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Iterations between two reads of the wall clock (each read costs ~0.4 µs).
_CLOCK_EVERY = 128

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


# --------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------


@njit(cache=True)
def _clock() -> float:  # pragma: no cover - compiled
    with objmode(t="float64"):
        t = time.perf_counter()
    return t


#: The cancel event of the search running in this thread (see :func:`solve_max_diversity`).
_RUNNING = threading.local()


def _time_up(deadline: float) -> bool:
    cancel = getattr(_RUNNING, "cancel", None)
    return time.perf_counter() >= deadline or (cancel is not None and cancel.is_set())


@njit(cache=True)
def _over(deadline: float) -> bool:  # pragma: no cover - compiled
    """Whether the deadline has passed or a stop was requested."""
    with objmode(up="boolean"):
        up = _time_up(deadline)
    return up


@njit(cache=True)
def _next_u64(rng):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    # splitmix64: tiny, fast and good enough for tie-breaks and kicks.
    rng[0] += _M1
    z = rng[0]
    z = (z ^ (z >> _S30)) * _M2
    z = (z ^ (z >> _S27)) * _M3
    return z ^ (z >> _S31)


@njit(cache=True)
def _randint(rng, k):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Uniform integer in [0, k)."""
    return np.int64(_next_u64(rng) % np.uint64(k))


@njit(cache=True)
def _full_state(dist, assign, gsum, own, sizes, members, pos):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Rebuild every derived array from ``assign``; return the objective.

    ``gsum[g, i]`` is the distance sum from ``i`` to group ``g``, ``own[i] = gsum[assign[i], i]``,
    ``members[g, :sizes[g]]`` lists group ``g`` and ``pos[i]`` is ``i``'s slot in that list.
    """
    n = dist.shape[0]
    gsum[:, :] = 0.0
    sizes[:] = 0
    for j in range(n):
        g = assign[j]
        members[g, sizes[g]] = j
        pos[j] = sizes[g]
        sizes[g] += 1
        row = dist[j]
        col = gsum[g]
        for i in range(n):
            col[i] += row[i]
    f = 0.0
    for i in range(n):
        own[i] = gsum[assign[i], i]
        f += own[i]
    return 0.5 * f


@njit(cache=True)
def _apply_move(dist, assign, gsum, own, sizes, members, pos, i, b):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Move element ``i`` to group ``b``, updating the derived arrays in O(n)."""
    a = assign[i]
    n = dist.shape[0]
    row = dist[i]
    col_a = gsum[a]
    col_b = gsum[b]
    for k in range(n):
        col_a[k] -= row[k]
        col_b[k] += row[k]
    last = members[a, sizes[a] - 1]
    members[a, pos[i]] = last
    pos[last] = pos[i]
    members[b, sizes[b]] = i
    pos[i] = sizes[b]
    sizes[a] -= 1
    sizes[b] += 1
    assign[i] = b
    for k in range(n):
        own[k] = gsum[assign[k], k]


@njit(cache=True)
def _perturb(dist, assign, gsum, own, sizes, members, pos, lo, hi, movable, strength, rng):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Apply ``strength`` random swaps or bound-respecting moves; return the objective change."""
    nm = movable.shape[0]
    m = sizes.shape[0]
    delta = 0.0
    for _ in range(strength):
        i = movable[_randint(rng, nm)]
        a = assign[i]
        # A move half of the time when the bounds allow one, a swap otherwise.
        if sizes[a] > lo[a] and _randint(rng, 2) == 0:
            b = _randint(rng, m)
            if b != a and sizes[b] < hi[b]:
                delta += gsum[b, i] - own[i]
                _apply_move(dist, assign, gsum, own, sizes, members, pos, i, b)
                continue
        for _try in range(16):
            j = movable[_randint(rng, nm)]
            b = assign[j]
            if b != a:
                delta += (gsum[b, i] - own[i]) + (gsum[a, j] - own[j]) - 2.0 * dist[i, j]
                _apply_move(dist, assign, gsum, own, sizes, members, pos, i, b)
                _apply_move(dist, assign, gsum, own, sizes, members, pos, j, a)
                break
    return delta


@njit(cache=True)
def _reshape(dist, assign, gsum, own, sizes, members, pos, target, is_movable):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Greedily move elements until the group sizes equal ``target``; return the objective change.

    Each step takes an over-full group and an under-full one and moves the element whose
    transfer loses least. Sizes only travel towards ``target``, so bounds hold throughout.
    """
    m = sizes.shape[0]
    delta = 0.0
    while True:
        x = -1
        y = -1
        for g in range(m):
            if x < 0 and sizes[g] > target[g]:
                x = g
            if y < 0 and sizes[g] < target[g]:
                y = g
        if x < 0 or y < 0:
            break
        best = -np.inf
        bi = -1
        for k in range(sizes[x]):
            i = members[x, k]
            if is_movable[i]:
                dv = gsum[y, i] - own[i]
                if dv > best or (dv == best and i < bi):
                    best = dv
                    bi = i
        if bi < 0:
            break
        delta += best
        _apply_move(dist, assign, gsum, own, sizes, members, pos, bi, y)
    return delta


@njit(cache=True)
def _best_neighbour(  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    dist, assign, gsum, own, sizes, members, lo, hi, is_movable, movable, dmin, maxm,
    tabu, it, f, run_best, eps, can_move, rng,
):  # fmt: skip
    """Best admissible move or swap: returns (i, j, g, delta); j < 0 means "move i to g".

    Swaps are pruned with an upper bound: for ``i`` in ``A`` and any ``j`` in ``B``,
    ``delta(i, j) <= (gsum[B, i] - own[i]) + maxm[B, A] - 2 * dmin[i]`` where ``maxm[B, A]``
    is the best gain of a movable member of ``B`` for joining ``A``. Near a local optimum only
    a few per cent of the pairs survive the bound. Ties are broken uniformly at random; every
    pair is priced once, from its smaller index, so each tie has the same chance.
    """
    m = sizes.shape[0]
    best = -np.inf
    bi = -1
    bj = -1
    bg = -1
    ties = 0
    # Move neighbourhood, O(n m).
    if can_move:
        for i in movable:
            a = assign[i]
            if sizes[a] <= lo[a]:
                continue
            oi = own[i]
            for g in range(m):
                if g == a or sizes[g] >= hi[g]:
                    continue
                delta = gsum[g, i] - oi
                if delta < best - eps:
                    continue
                if tabu[i, g] > it and f + delta <= run_best + eps:
                    continue
                if delta > best + eps:
                    best = delta
                    ties = 1
                    bi = i
                    bj = -1
                    bg = g
                else:
                    ties += 1
                    if _randint(rng, ties) == 0:
                        bi = i
                        bj = -1
                        bg = g
    # Best gain of each group's movable members for joining each other group.
    maxm[:, :] = -np.inf
    for g in range(m):
        col = gsum[g]
        for j in movable:
            v = col[j] - own[j]
            b = assign[j]
            if v > maxm[b, g]:
                maxm[b, g] = v
    # Seed the threshold with the most promising (i, B) so that pruning bites at once.
    top = -np.inf
    ti = -1
    tb = -1
    for i in movable:
        a = assign[i]
        oi = own[i]
        for g in range(m):
            # Skip tabu targets: the element that just moved always tops this list.
            if g != a and tabu[i, g] <= it:
                ub = gsum[g, i] - oi + maxm[g, a] - 2.0 * dmin[i]
                if ub > top:
                    top = ub
                    ti = i
                    tb = g
    if ti >= 0:
        a = assign[ti]
        gain_i = gsum[tb, ti] - own[ti]
        for k in range(sizes[tb]):
            j = members[tb, k]
            if not is_movable[j]:
                continue
            delta = (gain_i + (gsum[a, j] - own[j])) - 2.0 * dist[ti, j]
            if (tabu[ti, tb] > it or tabu[j, a] > it) and f + delta <= run_best + eps:
                continue
            if delta > best + eps:
                # Only a threshold: the pair is found again (and counted) below.
                best = delta
                ties = 0
                bi = -1
    # Swap neighbourhood with pruning.
    for i in movable:
        a = assign[i]
        oi = own[i]
        di = dist[i]
        slack = 2.0 * dmin[i]
        for g in range(m):
            if g == a:
                continue
            gain_i = gsum[g, i] - oi
            if gain_i + maxm[g, a] - slack < best - eps:
                continue
            col_a = gsum[a]
            for k in range(sizes[g]):
                j = members[g, k]
                if j <= i or not is_movable[j]:
                    continue
                delta = (gain_i + (col_a[j] - own[j])) - 2.0 * di[j]
                if delta < best - eps:
                    continue
                if (tabu[i, g] > it or tabu[j, a] > it) and f + delta <= run_best + eps:
                    continue
                if delta > best + eps:
                    best = delta
                    ties = 1
                    bi = i
                    bj = j
                    bg = g
                else:
                    ties += 1
                    if _randint(rng, ties) == 0:
                        bi = i
                        bj = j
                        bg = g
    return bi, bj, bg, best


@njit(cache=True)
def _its(  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    dist,
    lo,
    hi,
    assign,
    movable,
    rng,
    max_iter,
    deadline,
    t_start,
    depth,
    tenure_min,
    tenure_max,
    kick_min,
    kick_max,
    restart,
    profiles,
    reshape_prob,
    best_assign,
    stats,
):
    """Iterated tabu search. ``assign`` is the (feasible) start and is overwritten.

    ``stats`` receives [best objective, time to best, iterations, runs].
    """
    n = dist.shape[0]
    m = lo.shape[0]
    nm = movable.shape[0]
    gsum = np.zeros((m, n))
    own = np.zeros(n)
    sizes = np.zeros(m, dtype=np.int64)
    members = np.zeros((m, n), dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    tabu = np.zeros((n, m), dtype=np.int64)
    maxm = np.zeros((m, m))
    run_assign = assign.copy()
    is_movable = np.zeros(n, dtype=np.bool_)
    for i in movable:
        is_movable[i] = True
    # Smallest distance from each element to a movable partner: the swap bound's slack.
    dmin = np.full(n, np.inf)
    peak = 0.0
    for i in range(n):
        for j in movable:
            if j != i and dist[i, j] < dmin[i]:
                dmin[i] = dist[i, j]
            if abs(dist[i, j]) > peak:
                peak = abs(dist[i, j])
        if dmin[i] == np.inf:
            dmin[i] = 0.0
    eps = 1e-9 * max(peak, 1.0)
    n_prof = profiles.shape[0]
    prob_scaled = np.uint64(reshape_prob * 1e6)
    span = tenure_max - tenure_min + 1

    f = _full_state(dist, assign, gsum, own, sizes, members, pos)
    best_assign[:] = assign
    f_best = f
    t_best = _clock() - t_start
    it = 0
    runs = 0
    fails = 0
    stop = nm < 2 or m < 2
    can_move = False
    for g in range(m):
        if lo[g] < hi[g]:
            can_move = True

    while not stop and it < max_iter:
        # ---- one tabu search run from the current solution ----
        run_best = f
        run_assign[:] = assign
        idle = 0
        it_start = it
        run_time = 0.0
        while idle < depth and it < max_iter:
            bi, bj, bg, delta = _best_neighbour(
                dist, assign, gsum, own, sizes, members, lo, hi, is_movable, movable, dmin,
                maxm, tabu, it, f, run_best, eps, can_move, rng,
            )  # fmt: skip
            if bi < 0:
                break
            a = assign[bi]
            _apply_move(dist, assign, gsum, own, sizes, members, pos, bi, bg)
            tabu[bi, a] = it + tenure_min + _randint(rng, span)
            if bj >= 0:
                _apply_move(dist, assign, gsum, own, sizes, members, pos, bj, a)
                tabu[bj, bg] = it + tenure_min + _randint(rng, span)
            f += delta
            it += 1
            if f > run_best + eps:
                run_best = f
                run_assign[:] = assign
                idle = 0
                if f > f_best + eps:
                    run_time = _clock() - t_start
            else:
                idle += 1
            if it % _CLOCK_EVERY == 0 and _over(deadline):
                stop = True
                break
        runs += 1
        # A run blocked at once (every neighbour tabu, tiny instances) still counts as one
        # iteration, so the iteration cap and the clock always end the search.
        if it == it_start:
            it += 1
        if _over(deadline):
            stop = True

        # ---- acceptance ----
        if run_best > f_best + eps:
            f_best = run_best
            best_assign[:] = run_assign
            t_best = run_time
            fails = 0
        else:
            fails += 1
        if stop or it >= max_iter:
            break
        # Continue from the run's best, or from the global best after a streak of failures.
        if fails >= restart:
            assign[:] = best_assign
            fails = 0
        else:
            assign[:] = run_assign
        f = _full_state(dist, assign, gsum, own, sizes, members, pos)
        # Size-profile kick: jump to one of the best size profiles (ds instances).
        if n_prof > 0 and (_next_u64(rng) % np.uint64(1000000)) < prob_scaled:
            k = min(_randint(rng, n_prof), _randint(rng, n_prof))
            f += _reshape(dist, assign, gsum, own, sizes, members, pos, profiles[k], is_movable)
        strength = kick_min + _randint(rng, kick_max - kick_min + 1)
        f += _perturb(dist, assign, gsum, own, sizes, members, pos, lo, hi, movable, strength, rng)

    stats[0] = f_best
    stats[1] = t_best
    stats[2] = it
    stats[3] = runs


@njit(cache=True)
def _random_walk_check(dist, lo, hi, assign, steps, seed):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Random moves/swaps through the incremental updates; returns (gsum, members, sizes, f).

    Lets tests compare the bookkeeping with a from-scratch recomputation.
    """
    n = dist.shape[0]
    m = lo.shape[0]
    gsum = np.zeros((m, n))
    own = np.zeros(n)
    sizes = np.zeros(m, dtype=np.int64)
    members = np.zeros((m, n), dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    rng = np.zeros(1, dtype=np.uint64)
    rng[0] = np.uint64(seed)
    f = _full_state(dist, assign, gsum, own, sizes, members, pos)
    movable = np.arange(n)
    for _ in range(steps):
        f += _perturb(dist, assign, gsum, own, sizes, members, pos, lo, hi, movable, 1, rng)
    return gsum, members, sizes, f


# --------------------------------------------------------------------------
# Python API
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchParams:
    """Tuning knobs of the iterated tabu search.

    Values ``<= 0`` for the size-dependent fields mean "derive from ``n``".

    Attributes
    ----------
    depth
        Non-improving iterations that end one tabu search run.
    tenure_min, tenure_max
        Range of the random tabu tenure (iterations).
    kick_min, kick_max
        Range of the random number of perturbation steps.
    restart
        Failed runs in a row before restarting from the global best.
    profiles
        Number of best group-size profiles offered to the size-profile kick.
    reshape_prob
        Probability that a perturbation first reshapes the group sizes to one
        of those profiles (only when the bounds leave a choice of sizes).
    """

    depth: int = 0
    tenure_min: int = 0
    tenure_max: int = 0
    kick_min: int = 0
    kick_max: int = 0
    restart: int = 10
    profiles: int = 1
    reshape_prob: float = 0.3

    def resolved(self, n: int, m: int) -> tuple[int, int, int, int, int, int]:
        """Concrete values for an instance with ``n`` elements and ``m`` groups."""
        # Defaults tuned on MDGPLIB n = 120 / 240 (10 s / 30 s budgets): long runs and a
        # short tenure growing with n did best.
        depth = self.depth if self.depth > 0 else max(100, 32 * n)
        t_lo = self.tenure_min if self.tenure_min > 0 else max(2, n // 40)
        t_hi = self.tenure_max if self.tenure_max > 0 else max(t_lo + 2, n // 10)
        k_lo = self.kick_min if self.kick_min > 0 else max(1, n // 20)
        k_hi = self.kick_max if self.kick_max > 0 else max(k_lo, n // 8)
        return depth, t_lo, t_hi, k_lo, k_hi, max(1, self.restart)


@dataclass(frozen=True)
class DiversityResult:
    """Outcome of :func:`solve_max_diversity`.

    Attributes
    ----------
    assignment
        Group of each element (int64 array of length ``n``).
    objective
        Sum of within-group distances of ``assignment``, recomputed exactly.
    time_to_best
        Seconds from the start of the search (compile time excluded) until
        the final value was first reached.
    iterations
        Tabu search iterations performed.
    runs
        Tabu search runs (perturbation cycles) performed.
    elapsed
        Seconds spent searching (compile time excluded).
    compile_seconds
        Seconds spent compiling/loading the kernels during this call (0 once
        they are warm).
    """

    assignment: IntArray
    objective: float
    time_to_best: float
    iterations: int
    runs: int
    elapsed: float
    compile_seconds: float


_compiled = False


def warm_up() -> float:
    """Compile (or load from cache) the kernels on a tiny instance.

    Returns
    -------
    float
        Seconds spent; ``0.0`` if the kernels were already warm.
    """
    global _compiled
    if _compiled:
        return 0.0
    t0 = time.perf_counter()
    dist = np.array(
        [[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 4.0, 5.0], [2.0, 4.0, 0.0, 6.0], [3.0, 5.0, 6.0, 0.0]]
    )
    lo = np.array([1, 1], dtype=np.int64)
    hi = np.array([3, 3], dtype=np.int64)
    solve_max_diversity(dist, lo, hi, time_limit=1.0, seed=0, max_iterations=20, _warm=True)
    _random_walk_check(dist, lo, hi, np.array([0, 0, 1, 1], dtype=np.int64), 3, 1)
    _compiled = True
    return time.perf_counter() - t0


def top_size_profiles(lo: IntArray, hi: IntArray, n: int, k: int) -> IntArray:
    """The ``k`` group-size vectors with the largest number of within-group pairs.

    With roughly uniform distances the objective grows like
    ``sum_g s_g (s_g - 1) / 2``, which is convex in the sizes, so good
    solutions of ``ds`` instances sit at extreme size profiles that local
    moves reach only through deep valleys. A K-best dynamic programme over
    the groups' extra sizes ``s_g - lo_g`` lists them exactly.

    Parameters
    ----------
    lo, hi
        Per-group size bounds.
    n
        Number of elements.
    k
        How many profiles to return at most.

    Returns
    -------
    numpy.ndarray
        ``(K, m)`` int64 array of sizes, best first (``K <= k``).
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    m = len(lo)
    extra = n - int(lo.sum())
    if k <= 0 or extra < 0 or hi.sum() < n:
        return np.zeros((0, m), dtype=np.int64)
    # vals[t, r]: r-th best pair count with t extra elements placed in the groups so far;
    # back[g][t, r] = (extra given to group g, rank of the predecessor). Arrays, not
    # tuples, keep this O(m * extra * range * k) for large cohorts.
    vals = np.full((extra + 1, k), -1, dtype=np.int64)
    vals[0, 0] = 0
    back_e: list[npt.NDArray[np.int64]] = []
    back_r: list[npt.NDArray[np.int64]] = []
    for g in range(m):
        span = int(min(hi[g] - lo[g], extra))
        cand = np.full((extra + 1, (span + 1) * k), -1, dtype=np.int64)
        for e in range(span + 1):
            size = int(lo[g]) + e
            shifted = vals[: extra + 1 - e]
            ok = shifted >= 0
            cand[e:, e * k : (e + 1) * k] = np.where(ok, shifted + size * (size - 1) // 2, -1)
        order = np.argsort(-cand, axis=1, kind="stable")[:, :k]
        vals = np.take_along_axis(cand, order, axis=1)
        back_e.append(order // k)
        back_r.append(order % k)
    out = []
    for r in range(k):
        if vals[extra, r] < 0:
            break
        sizes = np.zeros(m, dtype=np.int64)
        t, rank = extra, r
        for g in range(m - 1, -1, -1):
            e = int(back_e[g][t, rank])
            rank = int(back_r[g][t, rank])
            sizes[g] = lo[g] + e
            t -= e
        out.append(sizes)
    return np.array(out, dtype=np.int64).reshape(-1, m)


def random_feasible_assignment(
    lo: IntArray, hi: IntArray, n: int, rng: np.random.Generator
) -> IntArray:
    """A random assignment honouring the size bounds.

    Every group is first filled to ``lo[g]``; the remaining elements go to
    random groups that still have room.

    Parameters
    ----------
    lo, hi
        Per-group size bounds.
    n
        Number of elements.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        Group of each element.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    if lo.sum() > n or hi.sum() < n:
        raise ValueError(
            f"no assignment of {n} elements fits sum(lo)={lo.sum()}, sum(hi)={hi.sum()}"
        )
    labels: list[int] = [int(g) for g in np.repeat(np.arange(len(lo)), lo)]
    room = (hi - lo).astype(np.int64)
    for _ in range(n - int(lo.sum())):
        open_groups = np.flatnonzero(room > 0)
        g = int(rng.choice(open_groups, p=room[open_groups] / room[open_groups].sum()))
        labels.append(g)
        room[g] -= 1
    out = np.array(labels, dtype=np.int64)
    rng.shuffle(out)
    return out


def _validate(
    dist: FloatArray, lo: IntArray, hi: IntArray, assignment: IntArray | None, n: int
) -> None:
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1]:
        raise ValueError(f"dist must be square, got shape {dist.shape}")
    if lo.shape != hi.shape or lo.ndim != 1:
        raise ValueError("lo and hi must be 1-D arrays of the same length")
    if np.any(lo < 0) or np.any(lo > hi):
        raise ValueError("size bounds must satisfy 0 <= lo <= hi")
    if lo.sum() > n or hi.sum() < n:
        raise ValueError(
            f"no assignment of {n} elements fits sum(lo)={lo.sum()}, sum(hi)={hi.sum()}"
        )
    if assignment is not None:
        if assignment.shape != (n,):
            raise ValueError(f"initial assignment has shape {assignment.shape}, expected ({n},)")
        if assignment.min() < 0 or assignment.max() >= len(lo):
            raise ValueError("initial assignment has a group index out of range")
        sizes = np.bincount(assignment, minlength=len(lo))
        if np.any(sizes < lo) or np.any(sizes > hi):
            raise ValueError("initial assignment violates the group size bounds")


def solve_max_diversity(
    dist: FloatArray,
    lo: npt.ArrayLike,
    hi: npt.ArrayLike,
    *,
    time_limit: float,
    seed: int,
    initial: npt.ArrayLike | None = None,
    fixed_mask: npt.ArrayLike | None = None,
    max_iterations: int | None = None,
    params: SearchParams | None = None,
    cancel: threading.Event | None = None,
    _warm: bool = False,
) -> DiversityResult:
    """Maximise the sum of within-group distances under group size bounds.

    Parameters
    ----------
    dist
        Symmetric ``n x n`` distance matrix (zero diagonal).
    lo, hi
        Per-group minimum and maximum sizes (length ``m``).
    time_limit
        Wall-clock budget in seconds, compile time excluded. It is checked
        every 128 iterations.
    seed
        Seed of the search's random stream.
    initial
        Feasible starting assignment; a random feasible one if omitted.
    fixed_mask
        Boolean mask of elements that must keep their ``initial`` group.
        Requires ``initial``.
    max_iterations
        Iteration cap. With a cap and a generous ``time_limit`` the result
        depends only on ``seed`` (useful for tests).
    params
        Search tuning; defaults scale with ``n``.
    cancel
        Setting this event stops the search (checked with the clock); the best
        assignment found so far is returned.

    Returns
    -------
    DiversityResult
        Best assignment found and statistics.
    """
    compile_seconds = 0.0 if _warm else warm_up()
    d = np.ascontiguousarray(dist, dtype=np.float64)
    lo_a = np.ascontiguousarray(lo, dtype=np.int64)
    hi_a = np.ascontiguousarray(hi, dtype=np.int64)
    n = d.shape[0]
    init = None if initial is None else np.ascontiguousarray(initial, dtype=np.int64)
    _validate(d, lo_a, hi_a, init, n)
    if fixed_mask is not None:
        if init is None:
            raise ValueError("fixed_mask needs an initial assignment")
        fixed = np.asarray(fixed_mask, dtype=bool)
        if fixed.shape != (n,):
            raise ValueError(f"fixed_mask has shape {fixed.shape}, expected ({n},)")
        movable = np.flatnonzero(~fixed).astype(np.int64)
    else:
        movable = np.arange(n, dtype=np.int64)
    start = (
        init.copy()
        if init is not None
        else random_feasible_assignment(lo_a, hi_a, n, np.random.default_rng(seed))
    )
    prm = params or SearchParams()
    depth, t_lo, t_hi, k_lo, k_hi, restart = prm.resolved(n, len(lo_a))
    profiles = (
        top_size_profiles(lo_a, hi_a, n, prm.profiles)
        if np.any(lo_a < hi_a)
        else np.zeros((0, len(lo_a)), dtype=np.int64)
    )
    cap = np.iinfo(np.int64).max if max_iterations is None else int(max_iterations)
    rng = np.array([np.uint64(seed & 0xFFFFFFFFFFFFFFFF) ^ np.uint64(0x5DEECE66D)], dtype=np.uint64)
    best = np.empty(n, dtype=np.int64)
    stats = np.zeros(4)
    t0 = time.perf_counter()
    outer = getattr(_RUNNING, "cancel", None)
    _RUNNING.cancel = cancel
    try:
        _its(
            d, lo_a, hi_a, start, movable, rng, cap, t0 + float(time_limit), t0,
            depth, t_lo, t_hi, k_lo, k_hi, restart, profiles, float(prm.reshape_prob), best, stats,
        )  # fmt: skip
    finally:
        _RUNNING.cancel = outer
    elapsed = time.perf_counter() - t0
    objective = mdgp_objective(d, best)
    return DiversityResult(
        assignment=best,
        objective=objective,
        time_to_best=float(stats[1]),
        iterations=int(stats[2]),
        runs=int(stats[3]),
        elapsed=elapsed,
        compile_seconds=compile_seconds,
    )
