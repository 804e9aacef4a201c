"""Compiled local search for the preset criteria (numba).

The Python local search (:mod:`teamform.search.local`) works with any
criterion through :meth:`~teamform.criteria.base.Term.team_penalty`, at about
20 microseconds per team evaluation: too slow for cohorts of thousands. When
every criterion of a model is one of skill balance, skill coverage,
motivation, preferred pairs, time-zone overlap, category rules (both
presets) and soft project ranks (each team's project held fixed), this
module runs the same moves and swaps in compiled code on flat arrays,
roughly twenty-five times faster. Team costs are recomputed here from
members alone, independently of the Python evaluation;
:class:`CompiledLocalSearch` checks after every burst that both agree, so a
discrepancy can never go unnoticed.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from teamform.availability import SLOTS_PER_WEEK
from teamform.cancel import is_set
from teamform.criteria import (
    CategoryTerm,
    MotivationTerm,
    OverlapTerm,
    PreferTerm,
    SkillBalanceTerm,
    SkillCoverageTerm,
    Term,
)
from teamform.criteria.project import ProjectTerm
from teamform.search.local import HARD_COST, TeamState

WORDS = (SLOTS_PER_WEEK + 63) // 64
_SUPPORTED = (
    SkillBalanceTerm,
    MotivationTerm,
    PreferTerm,
    OverlapTerm,
    SkillCoverageTerm,
    CategoryTerm,
    ProjectTerm,
)
#: candidate teams added per move for holding a project the learner ranked
_WANTED = 4
_CATEGORY_KIND = {"distribute": 0, "cluster": 1, "no_isolation": 2}


def supported(terms: Sequence[Term]) -> bool:
    """Whether every term has a compiled evaluation."""
    return all(type(t) in _SUPPORTED for t in terms)


def _words(masks: Sequence[int]) -> np.ndarray:
    nbytes = WORDS * 8
    raw = b"".join(m.to_bytes(nbytes, "little") for m in masks)
    return np.frombuffer(raw, dtype="<u8").reshape(len(masks), WORDS).astype(np.uint64)


def _csr(adj: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(adj) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(a) for a in adj])
    idx = np.array([j for a in adj for j in a], dtype=np.int64)
    return ptr, idx


@njit(cache=True)
def _block_slots(common: np.ndarray, nbits: int, block: int) -> int:
    """Set bits of ``common`` lying in cyclic runs of at least ``block`` bits."""
    total = 0
    run = 0
    head = -1  # length of the run that starts at bit 0, merged with the last run
    from_zero = False
    one = np.uint64(1)
    s = 0
    while s < nbits:
        w = common[s >> 6]
        off = s & 63
        if off == 0 and s + 64 <= nbits and w == np.uint64(0):
            if run > 0:
                if from_zero and head < 0:
                    head = run
                elif run >= block:
                    total += run
                run = 0
                from_zero = False
            s += 64
            continue
        if (w >> np.uint64(off)) & one:
            if run == 0 and s == 0:
                from_zero = True
            run += 1
        elif run > 0:
            if from_zero and head < 0:
                head = run
            elif run >= block:
                total += run
            run = 0
            from_zero = False
        s += 1
    if run == nbits:
        return nbits
    if run > 0:
        if head >= 0:
            if head + run >= block:
                total += head + run
            head = -1
        elif run >= block:
            total += run
    if head >= block:
        total += head
    return total


@njit(cache=True)
def _team_cost(
    mem: np.ndarray,
    cnt: int,
    t: int,
    q: np.ndarray,
    mean: np.ndarray,
    c_skill: int,
    intr: np.ndarray,
    mlo: np.ndarray,
    mhi: np.ndarray,
    c_mot: int,
    pptr: np.ndarray,
    pidx: np.ndarray,
    c_pref: int,
    aptr: np.ndarray,
    aidx: np.ndarray,
    words: np.ndarray,
    need: int,
    block: int,
    c_ov: int,
    ov_below: int,
    ov_none: int,
    nbits: int,
    hard: int,
    cov: np.ndarray,
    c_cov: int,
    cat_codes: np.ndarray,
    cat_kind: np.ndarray,
    cat_active: np.ndarray,
    cat_lo: np.ndarray,
    cat_hi: np.ndarray,
    cat_coef: np.ndarray,
    cbuf: np.ndarray,
    tproj: np.ndarray,
    cptr: np.ndarray,
    cproj: np.ndarray,
    crank: np.ndarray,
    unranked: int,
    c_proj: int,
) -> int:
    cost = 0
    if c_proj != 0:
        # rank of the team's project for each member who ranked projects
        p = tproj[t]
        for a in range(cnt):
            i = mem[a]
            if cptr[i] == cptr[i + 1]:
                continue
            r = unranked
            for z in range(cptr[i], cptr[i + 1]):
                if cproj[z] == p:
                    r = crank[z]
                    break
            cost += c_proj * r
    for r in range(cov.shape[0]):
        covered = False
        for a in range(cnt):
            if cov[r, mem[a]]:
                covered = True
                break
        if not covered:
            cost += c_cov
    for r in range(cat_codes.shape[0]):
        nv = cat_active.shape[1]
        for v in range(nv):
            cbuf[v] = 0
        for a in range(cnt):
            cbuf[cat_codes[r, mem[a]]] += 1
        pen = 0
        present = 0
        for v in range(nv):
            if not cat_active[r, v]:
                continue
            c = cbuf[v]
            if cat_kind[r] == 0:
                if c < cat_lo[r, t, v]:
                    pen += cat_lo[r, t, v] - c
                elif c > cat_hi[r, t, v]:
                    pen += c - cat_hi[r, t, v]
            elif cat_kind[r] == 1:
                if c > 0:
                    present += 1
            elif c == 1:
                pen += 1
        if cat_kind[r] == 1 and present > 1:
            pen += present - 1
        cost += cat_coef[r] * pen
    if c_skill != 0:
        for s in range(q.shape[1]):
            tot = 0
            for a in range(cnt):
                tot += q[mem[a], s]
            d = tot - cnt * mean[t, s]
            cost += c_skill * (d if d >= 0 else -d)
    if c_mot != 0:
        x = 0
        for a in range(cnt):
            x += intr[mem[a]]
        if x < mlo[t]:
            cost += c_mot * (mlo[t] - x)
        elif x > mhi[t]:
            cost += c_mot * (x - mhi[t])
    for a in range(cnt):
        i = mem[a]
        if c_pref != 0:
            for p in range(pptr[i], pptr[i + 1]):
                j = pidx[p]
                inside = False
                for b in range(cnt):
                    if mem[b] == j:
                        inside = True
                        break
                if not inside:
                    cost += c_pref
        for p in range(aptr[i], aptr[i + 1]):
            j = aidx[p]
            for b in range(cnt):
                if mem[b] == j:
                    cost += hard
                    break
    if c_ov != 0 and need > 0:
        common = np.empty(words.shape[1], dtype=np.uint64)
        for w in range(words.shape[1]):
            acc = ~np.uint64(0)
            for a in range(cnt):
                acc &= words[mem[a], w]
            common[w] = acc
        got = _block_slots(common, nbits, block)
        if got < need:
            cost += c_ov * (need - got + ov_below + (ov_none if got == 0 else 0))
    return cost


@njit(cache=True)
def _popcount(x: np.uint64) -> int:
    c = 0
    while x:
        x &= x - np.uint64(1)
        c += 1
    return c


@njit(cache=True)
def _overlap_score(tm, cnt_u, u, words, i):  # type: ignore[no-untyped-def]
    score = 0
    for w in range(words.shape[1]):
        acc = words[i, w]
        for a in range(cnt_u):
            acc &= words[tm[u, a], w]
        score += _popcount(acc)
    return score


@njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@njit(cache=True)
def _run(
    steps: int,
    assign: np.ndarray,
    tm: np.ndarray,
    tcnt: np.ndarray,
    tcost: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tsec: np.ndarray,
    sptr: np.ndarray,
    steams: np.ndarray,
    spos: np.ndarray,
    q: np.ndarray,
    mean: np.ndarray,
    c_skill: int,
    intr: np.ndarray,
    mlo: np.ndarray,
    mhi: np.ndarray,
    c_mot: int,
    pptr: np.ndarray,
    pidx: np.ndarray,
    c_pref: int,
    aptr: np.ndarray,
    aidx: np.ndarray,
    words: np.ndarray,
    need: int,
    block: int,
    c_ov: int,
    ov_below: int,
    ov_none: int,
    nbits: int,
    hard: int,
    cov: np.ndarray,
    c_cov: int,
    cat_codes: np.ndarray,
    cat_kind: np.ndarray,
    cat_active: np.ndarray,
    cat_lo: np.ndarray,
    cat_hi: np.ndarray,
    cat_coef: np.ndarray,
    cbuf: np.ndarray,
    tproj: np.ndarray,
    cptr: np.ndarray,
    cproj: np.ndarray,
    crank: np.ndarray,
    unranked: int,
    c_proj: int,
    n_cand: int,
    temp: float,
    frozen: np.ndarray,
    jptr: np.ndarray,
    jteams: np.ndarray,
) -> int:
    k = tcnt.shape[0]
    width = tm.shape[1]
    bt = np.empty(width + 1, dtype=np.int64)
    bu = np.empty(width + 1, dtype=np.int64)
    best_t = np.empty(width + 1, dtype=np.int64)
    best_u = np.empty(width + 1, dtype=np.int64)
    cand = np.empty(3 * n_cand + 2 + _WANTED, dtype=np.int64)
    use_ov = c_ov != 0 and need > 0
    params = (
        q,
        mean,
        c_skill,
        intr,
        mlo,
        mhi,
        c_mot,
        pptr,
        pidx,
        c_pref,
        aptr,
        aidx,
        words,
        need,
        block,
        c_ov,
        ov_below,
        ov_none,
        nbits,
        hard,
        cov,
        c_cov,
        cat_codes,
        cat_kind,
        cat_active,
        cat_lo,
        cat_hi,
        cat_coef,
        cbuf,
        tproj,
        cptr,
        cproj,
        crank,
        unranked,
        c_proj,
    )
    done = 0
    for _ in range(steps):
        done += 1
        t = np.random.randint(k)
        for _s in range(3):
            o = np.random.randint(k)
            if tcost[o] > tcost[t]:
                t = o
        if tcost[t] == 0 or tcnt[t] == 0:
            continue
        sec = tsec[t]
        p0 = sptr[sec]
        plen = sptr[sec + 1] - p0
        if plen < 2:
            continue
        ct = tcnt[t]
        if use_ov and ct > 1 and np.random.random() < 0.5:
            # the member whose absence frees the most common time
            best_a = 0
            best_free = -1
            for a in range(ct):
                f = 0
                for w in range(words.shape[1]):
                    acc = ~np.uint64(0)
                    for b in range(ct):
                        if b != a:
                            acc &= words[tm[t, b], w]
                    f += _popcount(acc)
                if f > best_free:
                    best_free = f
                    best_a = a
            ia = best_a
        else:
            ia = np.random.randint(ct)
        # pinned and grouped learners never move: retry a few picks
        for _r in range(4):
            if not frozen[tm[t, ia]]:
                break
            ia = np.random.randint(ct)
        if frozen[tm[t, ia]]:
            continue
        i = tm[t, ia]
        nc = 0
        if use_ov:
            # the best-overlapping of a sample, plus the neighbouring team numbers
            sample = min(4 * n_cand, plen)
            top = n_cand // 2
            tops = np.full(top, -1, dtype=np.int64)
            topsc = np.full(top, -1, dtype=np.int64)
            for _s in range(sample):
                u = steams[p0 + np.random.randint(plen)]
                if u == t:
                    continue
                sc = _overlap_score(tm, tcnt[u], u, words, i)
                for r in range(top):
                    if tops[r] == u:
                        break
                    if sc > topsc[r]:
                        for z in range(top - 1, r, -1):
                            tops[z] = tops[z - 1]
                            topsc[z] = topsc[z - 1]
                        tops[r] = u
                        topsc[r] = sc
                        break
            for r in range(top):
                if tops[r] >= 0:
                    cand[nc] = tops[r]
                    nc += 1
            if plen > 2:
                at = spos[t]
                cand[nc] = steams[p0 + (at + 1) % plen]
                nc += 1
                cand[nc] = steams[p0 + (at - 1 + plen) % plen]
                nc += 1
        for _s in range(n_cand - nc if n_cand > nc else n_cand // 2):
            cand[nc] = steams[p0 + np.random.randint(plen)]
            nc += 1
        if c_proj != 0:
            # teams holding a project the learner ranked
            room = _WANTED
            for z in range(cptr[i], cptr[i + 1]):
                p = cproj[z]
                for w in range(jptr[p], jptr[p + 1]):
                    u = jteams[w]
                    if room > 0 and u != t and tsec[u] == sec:
                        cand[nc] = u
                        nc += 1
                        room -= 1
        best = 0
        found = False
        best_ct = 0
        best_cu = 0
        best_c1 = 0
        best_c2 = 0
        best_uu = -1
        for c in range(nc):
            u = cand[c]
            if u == t:
                continue
            cu = tcnt[u]
            # option -1 moves i to u; option ja swaps i with u's member ja
            for ja in range(-1, cu):
                if ja < 0:
                    if ct <= lo[t] or cu >= hi[u]:
                        continue
                    nt, nu = 0, cu + 1
                    for a in range(ct):
                        if a != ia:
                            bt[nt] = tm[t, a]
                            nt += 1
                    for a in range(cu):
                        bu[a] = tm[u, a]
                    bu[cu] = i
                else:
                    nt, nu = ct, cu
                    j = tm[u, ja]
                    if frozen[j]:
                        continue
                    for a in range(ct):
                        bt[a] = j if a == ia else tm[t, a]
                    for a in range(cu):
                        bu[a] = i if a == ja else tm[u, a]
                c1 = _team_cost(bt, nt, t, *params)
                c2 = _team_cost(bu, nu, u, *params)
                d = c1 + c2 - tcost[t] - tcost[u]
                if not found or d < best:
                    found = True
                    best = d
                    best_uu = u
                    best_ct = nt
                    best_cu = nu
                    best_c1 = c1
                    best_c2 = c2
                    best_t[:nt] = bt[:nt]
                    best_u[:nu] = bu[:nu]
        if not found:
            continue
        accept = best < 0 or (best == 0 and np.random.random() < 0.2)
        if not accept and temp > 0.0 and best < hard:
            # annealing: a worse move now and then lets the search leave local optima
            accept = np.random.random() < np.exp(-best / temp)
        if accept:
            u = best_uu
            for a in range(best_ct):
                tm[t, a] = best_t[a]
                assign[best_t[a]] = t
            for a in range(best_cu):
                tm[u, a] = best_u[a]
                assign[best_u[a]] = u
            tcnt[t] = best_ct
            tcnt[u] = best_cu
            tcost[t] = best_c1
            tcost[u] = best_c2
    return done


class CompiledLocalSearch:
    """The local search of :class:`~teamform.search.local.LocalSearch`, compiled.

    Works on its own arrays and writes the result back into the
    :class:`~teamform.search.local.TeamState` after each :meth:`run`, checking
    that its team costs match the Python evaluation.
    """

    def __init__(self, state: TeamState, seed: int, candidates: int = 6) -> None:
        if not supported(state.terms):
            raise ValueError("a criterion of this model has no compiled evaluation")
        inst = state.inst
        self.state = state
        self.candidates = candidates
        self.n_sec = len(inst.section_names)
        k = inst.k
        width = int(inst.team_hi.max()) + 1
        self.tm = np.full((k, width), -1, dtype=np.int64)
        self.tcnt = np.zeros(k, dtype=np.int64)
        self.lo = inst.team_lo.astype(np.int64)
        self.hi = inst.team_hi.astype(np.int64)
        self.tsec = inst.team_section.astype(np.int64)
        pools = [inst.teams_of_section(s) for s in range(self.n_sec)]
        self.sptr = np.zeros(self.n_sec + 1, dtype=np.int64)
        self.sptr[1:] = np.cumsum([len(p) for p in pools])
        self.steams = np.concatenate(pools).astype(np.int64)
        self.spos = np.zeros(k, dtype=np.int64)
        for p in pools:
            self.spos[p] = np.arange(len(p))
        n = inst.n
        self.q = np.zeros((n, 0), dtype=np.int64)
        self.mean = np.zeros((k, 0), dtype=np.int64)
        self.c_skill = 0
        self.intr = inst.intrinsic.astype(np.int64)
        self.mlo = np.zeros(k, dtype=np.int64)
        self.mhi = np.zeros(k, dtype=np.int64)
        self.c_mot = 0
        self.pptr, self.pidx = _csr(inst.prefer_adj)
        self.c_pref = 0
        self.aptr, self.aidx = _csr(inst.avoid_adj)
        self.words = np.zeros((n, WORDS), dtype=np.uint64)
        self.need = 0
        self.block = 1
        self.c_ov = 0
        self.ov_below = 0
        self.ov_none = 0
        self.cov = np.zeros((0, n), dtype=np.int64)
        self.c_cov = 0
        cats = [t for t in state.terms if isinstance(t, CategoryTerm)]
        n_values = max([len(t.labels) for t in cats], default=1)
        self.cat_codes = np.zeros((len(cats), n), dtype=np.int64)
        self.cat_kind = np.zeros(len(cats), dtype=np.int64)
        self.cat_active = np.zeros((len(cats), n_values), dtype=np.int64)
        self.cat_lo = np.zeros((len(cats), k, n_values), dtype=np.int64)
        self.cat_hi = np.zeros((len(cats), k, n_values), dtype=np.int64)
        self.cat_coef = np.zeros(len(cats), dtype=np.int64)
        self.cbuf = np.zeros(n_values, dtype=np.int64)
        # projects: each learner's ranked choices (CSR) and each team's project
        self.project = next((t for t in state.terms if isinstance(t, ProjectTerm)), None)
        self.tproj = np.zeros(k, dtype=np.int64)
        self.cptr = np.zeros(n + 1, dtype=np.int64)
        self.cproj = np.zeros(0, dtype=np.int64)
        self.crank = np.zeros(0, dtype=np.int64)
        self.unranked = 0
        self.c_proj = 0
        self.jptr = np.zeros(1, dtype=np.int64)
        self.jteams = np.zeros(0, dtype=np.int64)
        if self.project is not None:
            choices = self.project.data.choices
            self.cptr[1:] = np.cumsum([len(c) for c in choices])
            self.cproj = np.array([p for c in choices for p, _ in c], dtype=np.int64)
            self.crank = np.array([r for c in choices for _, r in c], dtype=np.int64)
            self.unranked = self.project.data.unranked
            self.c_proj = self.project.coefficient
        for r, cat in enumerate(cats):
            self.cat_codes[r] = cat.codes
            self.cat_kind[r] = _CATEGORY_KIND[cat.rule]
            self.cat_active[r, cat.active] = 1
            self.cat_coef[r] = HARD_COST if cat.hard else cat.coefficient
            if cat.rule == "distribute":
                for t in range(k):
                    for v in cat.active:
                        self.cat_lo[r, t, v], self.cat_hi[r, t, v] = cat._range(t, v)
        for term in state.terms:
            coef = HARD_COST if term.hard else term.coefficient
            if isinstance(term, SkillBalanceTerm):
                self.q = np.ascontiguousarray(term.values, dtype=np.int64)
                self.mean = np.ascontiguousarray(term.mean[inst.team_section], dtype=np.int64)
                self.c_skill = coef
            elif isinstance(term, MotivationTerm):
                targets = np.array([term.target(t) for t in range(k)], dtype=np.int64)
                self.mlo, self.mhi = targets[:, 0].copy(), targets[:, 1].copy()
                self.c_mot = coef
            elif isinstance(term, PreferTerm):
                self.c_pref = coef
            elif isinstance(term, SkillCoverageTerm):
                self.cov = np.array(term.strong, dtype=np.int64).reshape(len(term.strong), n)
                self.c_cov = coef
            elif isinstance(term, OverlapTerm):
                self.words = _words(inst.masks)
                self.need, self.block, self.c_ov = term.need, term.block, coef
                self.ov_below, self.ov_none = term.below_step, term.none_step
        pins = inst.pins
        self.frozen = (
            pins.frozen.astype(np.bool_) if pins is not None else np.zeros(n, dtype=np.bool_)
        )
        # broken pins (left by the construction) cost the same whatever the
        # kernel does, since it never moves the learners involved
        self.pin_cost = np.zeros(k, dtype=np.int64)
        if pins is not None:
            for t, mem in enumerate(state.members):
                self.pin_cost[t] = HARD_COST * pins.team_violations(mem, t)
        self.assign = np.zeros(n, dtype=np.int64)
        self.tcost = np.zeros(k, dtype=np.int64)
        _seed(seed)
        self.load()

    def load(self) -> None:
        """Copy the state's teams (and projects) into the compiled arrays."""
        st = self.state
        if self.project is not None:
            self.tproj[:] = self.project.assigned
            # teams of each project, for the candidate teams of a move
            order = np.argsort(self.tproj, kind="stable")
            self.jteams = order.astype(np.int64)
            counts = np.bincount(self.tproj, minlength=len(self.project.data.names))
            self.jptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.tm.fill(-1)
        for t, mem in enumerate(st.members):
            self.tcnt[t] = len(mem)
            self.tm[t, : len(mem)] = mem
        self.assign[:] = st.assign
        self.tcost[:] = np.asarray(st.cost, dtype=np.int64) - self.pin_cost
        self._stored = self.tm.copy()

    def team_cost(self, members: Sequence[int], team: int) -> int:
        """The compiled cost of one team (for tests against the Python one)."""
        mem = np.asarray(members, dtype=np.int64)
        return int(_team_cost(mem, len(mem), team, *self._params()))

    def _params(self) -> tuple[Any, ...]:
        return (
            self.q,
            self.mean,
            self.c_skill,
            self.intr,
            self.mlo,
            self.mhi,
            self.c_mot,
            self.pptr,
            self.pidx,
            self.c_pref,
            self.aptr,
            self.aidx,
            self.words,
            self.need,
            self.block,
            self.c_ov,
            self.ov_below,
            self.ov_none,
            SLOTS_PER_WEEK,
            HARD_COST,
            self.cov,
            self.c_cov,
            self.cat_codes,
            self.cat_kind,
            self.cat_active,
            self.cat_lo,
            self.cat_hi,
            self.cat_coef,
            self.cbuf,
            self.tproj,
            self.cptr,
            self.cproj,
            self.crank,
            self.unranked,
            self.c_proj,
        )

    def run(
        self,
        *,
        deadline: float | None = None,
        max_steps: int | None = None,
        chunk: int = 2000,
        temp: float = 0.0,
        cancel: threading.Event | None = None,
    ) -> int:
        """Run until the deadline, step budget or a stop request, then write back
        to the state.

        With ``temp > 0`` worse moves are accepted with probability
        ``exp(-delta / temp)``; the state then holds the last, not the best,
        assignment, so callers keep their own best copy.
        """
        done = 0
        while True:
            steps = chunk if max_steps is None else min(chunk, max_steps - done)
            if steps <= 0 or (deadline is not None and time.perf_counter() >= deadline):
                break
            if is_set(cancel):
                break
            done += _run(  # type: ignore[call-arg]
                steps,
                self.assign,
                self.tm,
                self.tcnt,
                self.tcost,
                self.lo,
                self.hi,
                self.tsec,
                self.sptr,
                self.steams,
                self.spos,
                *self._params(),
                self.candidates,
                temp,
                self.frozen,
                self.jptr,
                self.jteams,
            )
            if int(self.tcost.sum()) == 0:
                break
        self._store()
        return done

    def _store(self) -> None:
        st = self.state
        # only teams whose members changed are written back (and re-checked)
        changed = np.flatnonzero((self.tm != self._stored).any(axis=1)).tolist()
        members = {t: self.tm[t, : self.tcnt[t]].tolist() for t in changed}
        st.set_teams(changed, members)
        self._stored[changed] = self.tm[changed]
        for t in changed:
            if st.cost[t] != self.tcost[t] + self.pin_cost[t]:
                raise AssertionError(
                    f"compiled team cost {self.tcost[t]} differs from {st.cost[t]} (team {t})"
                )


#: Set once every kernel is compiled (or loaded from numba's cache) in this process.
_READY = threading.Event()
_WARMING = threading.Lock()
_STARTING = threading.Lock()
_THREAD: list[threading.Thread] = []


def kernels_ready() -> bool:
    """Whether the compiled kernels can run now without compiling first."""
    return _READY.is_set()


def warm_up() -> float:
    """Compile every kernel (or load it from numba's cache) on a tiny cohort.

    The kernels' argument types do not depend on the cohort or the criteria
    (absent criteria pass empty arrays of the same types), so one tiny run
    compiles exactly what every later search uses. Returns the seconds it took.
    """
    from teamform.criteria import build_terms
    from teamform.instance import build_instance
    from teamform.model import FormationModel
    from teamform.roster import Roster

    begin = time.perf_counter()
    with _WARMING:
        if _READY.is_set():
            return 0.0
        records = [
            {
                "id": f"w{i}",
                "timezone": "UTC",
                "availability": "Mon 10:00-12:00" if i % 3 else "Tue 10:00-12:00",
                "motivation": "intrinsic" if i % 2 else "imposed",
                "skill_a": str(1 + i % 5),
            }
            for i in range(8)
        ]
        model = FormationModel.from_dict(
            {
                "team": {"size": 4},
                "criteria": {
                    "skill_balance": {"weight": 1},
                    "motivation": {"weight": 1},
                    "prefer": {"weight": 1},
                    "overlap": {"weight": 1, "hours": 1, "reference_date": "2026-01-12"},
                },
            },
            source="warm-up",
        )
        roster = Roster.from_records(records, prefer=[("w0", "w1")])
        inst = build_instance(roster, model)
        terms = build_terms(inst)
        # the construction and the overlap bound have kernels of their own
        from teamform.search.construct import construct

        construct(inst, 0)
        for term in terms:
            term.lower_bound()
        state = TeamState(inst, terms, [i % 2 for i in range(inst.n)])
        search = CompiledLocalSearch(state, seed=0)
        search.run(max_steps=20, temp=1.0)
        search.team_cost([0, 1], 0)
        _READY.set()
    return time.perf_counter() - begin


def warm_up_in_background() -> threading.Event:
    """Get the kernels ready in a daemon thread (started once); the event is set when done."""
    with _STARTING:
        if not _READY.is_set() and not _THREAD:
            thread = threading.Thread(target=_get_ready, name="teamform-compile", daemon=True)
            _THREAD.append(thread)
            thread.start()
    return _READY


def get_ready() -> threading.Event | None:
    """Make the kernels ready now if that is quick, else start getting them ready.

    Loading them from numba's cache takes about a second: that is done at once,
    so that every run with a filled cache searches alike. Compiling takes tens
    of seconds: it starts in the background (:func:`warm_up_in_background`),
    whose event is returned; None means the kernels are ready.
    """
    if not _READY.is_set() and _cached():
        with contextlib.suppress(Exception):
            warm_up()
    return None if _READY.is_set() else warm_up_in_background()


def _cached() -> bool:
    """Whether numba's cache holds the search kernel for the current source."""
    try:
        return bool(_run._cache._cache_file._load_index())  # type: ignore[attr-defined]
    except Exception:  # numba's cache layout is its own: when in doubt, compile
        return False


def _get_ready() -> None:
    if not _cached():
        # compile in a child process: it fills numba's cache even if this process
        # ends first (a short run), and leaves this process's interpreter to the
        # Python search meanwhile; loading from the cache then takes a second
        package = str(Path(__file__).resolve().parents[2])
        code = (
            f"import sys; sys.path.insert(0, {package!r}); "
            "from teamform.search.compiled import warm_up; warm_up()"
        )
        with contextlib.suppress(Exception):
            subprocess.run(
                [sys.executable, "-c", code],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                check=False,
            )
    # should this fail too, the Python search simply goes on without the kernels
    with contextlib.suppress(Exception):
        warm_up()
