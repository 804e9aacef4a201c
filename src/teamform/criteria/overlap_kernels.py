"""The overlap bound's compiled kernels (numba), on patterns of weekly masks.

:mod:`teamform.criteria.overlap` and :mod:`teamform.criteria.overlap_partition`
compute the bound; they import this module only once
:func:`teamform.search.kernels.usable` says a kernel can run now, so that a
solve that takes the Python paths never imports numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from teamform.search.bitset_kernels import and_block_slots, block_slots
from teamform.search.kernels import tie_module

#: Patterns tried by the greedy witness before the exact search.
_QUICK_LOOK = 64
#: Nodes of the exact search per pattern before falling back on the weaker bound.
_SEARCH_NODES = 20000


@njit(cache=True)
def _pattern_best_times(words, counts, need, block, partners):  # type: ignore[no-untyped-def]
    """Most block time (capped at ``need``) a team of ``partners`` others can share
    with each pattern (rows of ``words``, ``counts`` learners each, most common first).

    A greedy team from the most common patterns that meets the target is a
    witness for most patterns. Otherwise partners are candidate patterns in
    decreasing order of their common time with the pattern, each value
    bounding every team containing it, which prunes a depth-first search;
    past a node budget, the ``partners``-th best single partner is used.
    """
    n_pat = words.shape[0]
    nw = words.shape[1]
    out = np.zeros(n_pat, dtype=np.int64)
    scratch = np.empty(nw, dtype=np.uint64)
    cur = np.empty(nw, dtype=np.uint64)
    value = np.empty(n_pat, dtype=np.int64)
    for p in range(n_pat):
        if partners <= 0:
            out[p] = min(need, block_slots(words[p], block))
            continue
        # greedy witness among the most common patterns
        for w in range(nw):
            cur[w] = words[p, w]
        left = partners
        found = False
        for q in range(min(n_pat, _QUICK_LOOK)):
            count = counts[q] - (1 if q == p else 0)
            if count <= 0:
                continue
            for w in range(nw):
                scratch[w] = cur[w] & words[q, w]
            if block_slots(scratch, block) >= need:
                for w in range(nw):
                    cur[w] = scratch[w]
                left -= count
                if left <= 0:
                    found = True
                    break
        if found:
            out[p] = need
            continue
        # candidates: patterns sharing some block time with p, best first
        n_c = 0
        available = 0
        for q in range(n_pat):
            count = counts[q] - (1 if q == p else 0)
            value[q] = 0
            if count > 0:
                value[q] = and_block_slots(words[p], words[q], block, scratch)
                if value[q] > 0:
                    n_c += 1
                    available += count
        if available < partners:
            out[p] = 0
            continue
        cand = np.argsort(-value, kind="mergesort")[:n_c]
        fallback = 0
        left = partners
        for c in cand:
            left -= counts[c] - (1 if c == p else 0)
            if left <= 0:
                fallback = value[c]
                break
        cand_count = counts[cand] - (cand == p).astype(np.int64)
        best, complete = _search(
            words[p], partners, words[cand], value[cand], cand_count, need, block, _SEARCH_NODES
        )
        out[p] = min(need, best if complete else fallback)
    return out


@njit(cache=True)
def _search(cur0, partners, cand_words, cand_value, cand_count, need, block, nodes):  # type: ignore[no-untyped-def]
    """Depth-first search of :func:`_pattern_best_times`: the best block time of a
    team of ``cur0`` and ``partners`` candidates, and whether ``nodes`` sufficed.

    Iterative (one frame per partner pattern taken), since compiled recursion
    cannot be cached.
    """
    nw = cur0.shape[0]
    n_c = cand_words.shape[0]
    depth_max = partners + 1
    cur = np.empty((depth_max, nw), dtype=np.uint64)
    nxt = np.empty((depth_max, nw), dtype=np.uint64)
    idx = np.zeros(depth_max, dtype=np.int64)  # candidate being expanded
    use = np.zeros(depth_max, dtype=np.int64)  # learners of it to take next (-1: none yet)
    left = np.zeros(depth_max, dtype=np.int64)
    cur[0] = cur0
    left[0] = partners
    best = 0
    d = 0
    entering = True
    while d >= 0:
        if entering:
            entering = False
            nodes -= 1
            if left[d] == 0:
                got = block_slots(cur[d], block)
                if got > best:
                    best = got
                d -= 1
                continue
            use[d] = -1
        if use[d] <= 0:
            # the next candidate worth expanding (the first one on entry)
            i = idx[d] if use[d] < 0 else idx[d] + 1
            done = True
            while i < n_c:
                if cand_value[i] <= best or nodes <= 0 or best >= need:
                    break
                for w in range(nw):
                    nxt[d, w] = cur[d, w] & cand_words[i, w]
                if block_slots(nxt[d], block) > best:
                    done = False
                    break
                i += 1
            if done:
                d -= 1
                continue
            idx[d] = i
            use[d] = min(cand_count[i], left[d])
        # take ``use`` learners of candidate idx, then one fewer next time
        taken = use[d]
        use[d] -= 1
        child = d + 1
        cur[child] = nxt[d]
        left[child] = left[d] - taken
        idx[child] = idx[d] + 1
        d = child
        entering = True
    return best, nodes > 0


@njit(cache=True)
def _forced_per_level(words, counts, pattern_b, need, block, leftover):  # type: ignore[no-untyped-def]
    """Learners that must be in teams short by more than ``tau``, for each ``tau``.

    See :meth:`OverlapTerm.layer_bound`; patterns stand for their learners.
    """
    n_pat = words.shape[0]
    scratch = np.empty(words.shape[1], dtype=np.uint64)
    pair = np.zeros((n_pat, n_pat), dtype=np.int64)
    for p in range(n_pat):
        for q in range(p + 1, n_pat):
            pair[p, q] = and_block_slots(words[p], words[q], block, scratch)
    forced = np.zeros(need, dtype=np.int64)
    parent = np.empty(n_pat, dtype=np.int64)
    size = np.zeros(n_pat, dtype=np.int64)
    for tau in range(need):
        for p in range(n_pat):
            parent[p] = p
        lone = 0
        for p in range(n_pat):
            if pattern_b[p] > tau:
                lone += counts[p]
                continue
            for q in range(p + 1, n_pat):
                if pattern_b[q] <= tau and pair[p, q] >= need - tau:
                    # union by path halving
                    a, c = p, q
                    while parent[a] != a:
                        parent[a] = parent[parent[a]]
                        a = parent[a]
                    while parent[c] != c:
                        parent[c] = parent[parent[c]]
                        c = parent[c]
                    if a != c:
                        parent[c] = a
        size[:] = 0
        for p in range(n_pat):
            if pattern_b[p] <= tau:
                a = p
                while parent[a] != a:
                    a = parent[a]
                size[a] += counts[p]
        for p in range(n_pat):
            if size[p] > 0:
                lone += leftover[size[p]]
        forced[tau] = lone
    return forced


@njit(cache=True)
def _short_shares(words, counts, pattern_b, need, block, below, zero, cap):  # type: ignore[no-untyped-def]
    """Penalty each learner of every short pattern accounts for (see
    :meth:`OverlapTerm.share_bound`)."""
    n_pat = words.shape[0]
    scratch = np.empty(words.shape[1], dtype=np.uint64)
    out = np.zeros(n_pat, dtype=np.float64)
    for p in range(n_pat):
        share = zero / cap
        if pattern_b[p] < need:
            share = min(share, float(pattern_b[p] + below))
            # the others of its own pattern share all of its block time
            others = counts[p] - 1
            best = block_slots(words[p], block) if others > 0 else 0
            for q in range(n_pat):
                if q != p:
                    got = and_block_slots(words[p], words[q], block, scratch)
                    if got > 0:
                        others += counts[q]
                        best = max(best, got)
            if others > 0:
                width = min(cap, 1 + others)
                share = min(share, (max(pattern_b[p], need - best) + below) / width)
        out[p] = share
    return out


@njit(cache=True)
def _enumerate_groups(  # type: ignore[no-untyped-def]
    words, counts, most, partner_words, partner_counts, lo, cap, need, block, max_groups, nodes
):
    """Every group of up to ``cap`` short learners sharing block time, as multisets of
    the patterns ``words`` (``counts`` learners each; at most ``most`` block time in
    any team), and the most block time a team can have around each.

    Returns the groups (rows of pattern indices, -1 padded), that time (capped at
    ``need``) and their number, or -1 when there are more than ``max_groups``.
    Patterns are taken in nondecreasing order, so each multiset comes once.
    """
    n_pat = words.shape[0]
    nw = words.shape[1]
    kinds = np.full((max_groups, cap), -1, dtype=np.int64)
    best = np.zeros(max_groups, dtype=np.int64)
    common = np.empty((cap + 1, nw), dtype=np.uint64)
    for w in range(nw):
        common[0, w] = ~np.uint64(0)
    scratch = np.empty(nw, dtype=np.uint64)
    value = np.zeros(partner_words.shape[0], dtype=np.int64)
    choice = np.full(cap, -1, dtype=np.int64)
    start = np.zeros(cap + 1, dtype=np.int64)  # the next pattern to try at each depth
    found = 0
    d = 0
    while d >= 0:
        q = start[d]
        ok = False
        while q < n_pat:
            taken = 0
            for e in range(d):
                if choice[e] == q:
                    taken += 1
            if taken < counts[q]:
                for w in range(nw):
                    scratch[w] = common[d, w] & words[q, w]
                if block_slots(scratch, block) > 0:
                    ok = True
                    break
            q += 1
        if not ok:
            d -= 1
            continue
        start[d] = q + 1
        choice[d] = q
        for w in range(nw):
            common[d + 1, w] = scratch[w]
        if found == max_groups:
            return kinds, best, -1
        limit = need
        for e in range(d + 1):
            kinds[found, e] = choice[e]
            limit = min(limit, most[choice[e]])
        time = _best_around(
            common[d + 1], lo - d - 1, partner_words, partner_counts, need, block, nodes, value
        )
        best[found] = min(limit, time)
        found += 1
        if d + 1 < cap:
            d += 1
            start[d] = q  # the same pattern again, or a later one
    return kinds, best, found


@njit(cache=True)
def _best_around(common, partners, words, counts, need, block, nodes, value):  # type: ignore[no-untyped-def]
    """Most block time (capped at ``need``) a team can have around a group with
    ``common`` availability and ``partners`` more learners from the patterns
    ``words`` (``counts`` learners each); ``value`` is scratch, one per pattern.

    Partners are tried in decreasing order of their common time with the group
    (:func:`_search`); past ``nodes``, the group's own
    block time is used, which no team around it exceeds.
    """
    own = block_slots(common, block)
    if partners <= 0 or own == 0:
        return min(need, own)
    scratch = np.empty(common.shape[0], dtype=np.uint64)
    n_c = 0
    available = 0
    for q in range(words.shape[0]):
        value[q] = and_block_slots(common, words[q], block, scratch)
        if value[q] > 0:
            n_c += 1
            available += counts[q]
    if available < partners:
        return 0
    cand = np.argsort(-value, kind="mergesort")[:n_c]
    best, complete = _search(
        common, partners, words[cand], value[cand], counts[cand], need, block, nodes
    )
    return min(need, best if complete else own)


# numba checks only this file: the modules compiled in count too
tie_module(globals())
