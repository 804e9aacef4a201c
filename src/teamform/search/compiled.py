"""Compiled local search for the criteria with a compiled evaluation (numba).

The Python local search (:mod:`teamform.search.local`) works with any
criterion through :meth:`~teamform.criteria.base.Term.team_penalty`, at about
20 microseconds per team evaluation: too slow for cohorts of thousands. When
every criterion of a model hands over its data for compiled code
(:meth:`~teamform.criteria.base.Term.compiled_data`, one record per criterion,
of a kind listed in ``KINDS`` of :mod:`teamform.search.compiled_data`), this
module runs the same moves and swaps in compiled code on flat arrays, roughly
twenty-five times faster.

Team costs are recomputed here from members alone, independently of the
Python evaluation; :class:`CompiledLocalSearch` checks after every burst that
both agree. Data that does not fit the instance, or costs that disagree, are
never an error in a user's solve: the search goes on in Python and says why
(:func:`teamform.search.kernels.note`, reported in the result).

Adding a criterion with a compiled evaluation: a record class in
:mod:`teamform.search.compiled_data` (its fields, ``empty`` and ``check``), its
place in ``KINDS`` and ``Records`` there, its cost function called from
:func:`_team_cost` here, and the criterion's ``compiled_data`` hook returning
the record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
from numba import njit

from teamform.cancel import is_set
from teamform.search.bitset_kernels import block_slots, popcount
from teamform.search.compiled_data import (
    CompiledDataError,
    Layout,
    NoCompiledEvaluation,
    Teams,
    build_records,
    supported,
)
from teamform.search.kernels import note, tie_module
from teamform.search.local import HARD_COST, LocalSearch, TeamState

#: candidate teams added per move for holding a project the learner ranked
_WANTED = 4


@njit(cache=True)
def _project_cost(d, mem, cnt, t):  # type: ignore[no-untyped-def]
    """Each member who ranked projects pays the rank of the team's project."""
    cost = 0
    if d.coef != 0:
        p = d.team_project[t]
        for a in range(cnt):
            i = mem[a]
            if d.ptr[i] == d.ptr[i + 1]:
                continue
            r = d.unranked
            for z in range(d.ptr[i], d.ptr[i + 1]):
                if d.project[z] == p:
                    r = d.rank[z]
                    break
            cost += d.coef * r
    return cost


@njit(cache=True)
def _coverage_cost(d, mem, cnt):  # type: ignore[no-untyped-def]
    cost = 0
    for r in range(d.strong.shape[0]):
        covered = False
        for a in range(cnt):
            if d.strong[r, mem[a]]:
                covered = True
                break
        if not covered:
            cost += d.coef
    return cost


@njit(cache=True)
def _category_cost(d, mem, cnt, t):  # type: ignore[no-untyped-def]
    cost = 0
    buf = d.scratch
    nv = d.active.shape[1]
    for r in range(d.codes.shape[0]):
        for v in range(nv):
            buf[v] = 0
        for a in range(cnt):
            buf[d.codes[r, mem[a]]] += 1
        pen = 0
        present = 0
        for v in range(nv):
            if not d.active[r, v]:
                continue
            c = buf[v]
            if d.kind[r] == 0:
                if c < d.lo[r, t, v]:
                    pen += d.lo[r, t, v] - c
                elif c > d.hi[r, t, v]:
                    pen += c - d.hi[r, t, v]
            elif d.kind[r] == 1:
                if c > 0:
                    present += 1
            elif c == 1:
                pen += 1
        if d.kind[r] == 1 and present > 1:
            pen += present - 1
        cost += d.coef[r] * pen
    return cost


@njit(cache=True)
def _skill_cost(d, mem, cnt, t):  # type: ignore[no-untyped-def]
    cost = 0
    if d.coef != 0:
        for s in range(d.values.shape[1]):
            tot = 0
            for a in range(cnt):
                tot += d.values[mem[a], s]
            dev = tot - cnt * d.mean[t, s]
            cost += d.coef * (dev if dev >= 0 else -dev)
    return cost


@njit(cache=True)
def _motivation_cost(d, mem, cnt, t):  # type: ignore[no-untyped-def]
    if d.coef == 0:
        return 0
    x = 0
    for a in range(cnt):
        x += d.intrinsic[mem[a]]
    if x < d.lo[t]:
        return d.coef * (d.lo[t] - x)
    if x > d.hi[t]:
        return d.coef * (x - d.hi[t])
    return 0


@njit(cache=True)
def _pairs_cost(prefer, rules, mem, cnt):  # type: ignore[no-untyped-def]
    """Preferred partners outside the team, and avoid partners inside it (a breach each)."""
    cost = 0
    for a in range(cnt):
        i = mem[a]
        if prefer.coef != 0:
            for p in range(prefer.ptr[i], prefer.ptr[i + 1]):
                j = prefer.idx[p]
                inside = False
                for b in range(cnt):
                    if mem[b] == j:
                        inside = True
                        break
                if not inside:
                    cost += prefer.coef
        for p in range(rules.avoid_ptr[i], rules.avoid_ptr[i + 1]):
            j = rules.avoid_idx[p]
            for b in range(cnt):
                if mem[b] == j:
                    cost += rules.hard
                    break
    return cost


@njit(cache=True)
def _overlap_cost(d, mem, cnt):  # type: ignore[no-untyped-def]
    if d.coef == 0 or d.need <= 0:
        return 0
    common = np.empty(d.words.shape[1], dtype=np.uint64)
    for w in range(d.words.shape[1]):
        acc = ~np.uint64(0)
        for a in range(cnt):
            acc &= d.words[mem[a], w]
        common[w] = acc
    got = block_slots(common, d.block)
    if got >= d.need:
        return 0
    return d.coef * (d.need - got + d.below + (d.none if got == 0 else 0))


@njit(cache=True)
def _team_cost(mem, cnt, t, d):  # type: ignore[no-untyped-def]
    """Cost of team ``t`` of the first ``cnt`` learners of ``mem`` (``d``: the
    :class:`~teamform.search.compiled_data.Records`)."""
    return (
        _project_cost(d.project, mem, cnt, t)
        + _coverage_cost(d.coverage, mem, cnt)
        + _category_cost(d.category, mem, cnt, t)
        + _skill_cost(d.skill, mem, cnt, t)
        + _motivation_cost(d.motivation, mem, cnt, t)
        + _pairs_cost(d.prefer, d.rules, mem, cnt)
        + _overlap_cost(d.overlap, mem, cnt)
    )


@njit(cache=True)
def _overlap_score(tm, cnt_u, u, words, i):  # type: ignore[no-untyped-def]
    score = 0
    for w in range(words.shape[1]):
        acc = words[i, w]
        for a in range(cnt_u):
            acc &= words[tm[u, a], w]
        score += popcount(acc)
    return score


@njit(cache=True)
def _seed(seed: int) -> None:
    np.random.seed(seed)


@njit(cache=True)
def _run(steps, st, lay, d, n_cand, temp):  # type: ignore[no-untyped-def]
    """``steps`` moves or swaps on ``st`` (:class:`Teams`) within ``lay`` (:class:`Layout`)."""
    assign, tm, tcnt, tcost = st.assign, st.members, st.size, st.cost
    lo, hi, tsec, sptr, steams, spos, frozen = lay
    words = d.overlap.words
    proj = d.project
    hard = d.rules.hard
    k = tcnt.shape[0]
    width = tm.shape[1]
    bt = np.empty(width + 1, dtype=np.int64)
    bu = np.empty(width + 1, dtype=np.int64)
    best_t = np.empty(width + 1, dtype=np.int64)
    best_u = np.empty(width + 1, dtype=np.int64)
    cand = np.empty(3 * n_cand + 2 + _WANTED, dtype=np.int64)
    use_ov = d.overlap.coef != 0 and d.overlap.need > 0
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
                    f += popcount(acc)
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
        if proj.coef != 0:
            # teams holding a project the learner ranked
            room = _WANTED
            for z in range(proj.ptr[i], proj.ptr[i + 1]):
                p = proj.project[z]
                for w in range(proj.holders_ptr[p], proj.holders_ptr[p + 1]):
                    u = proj.holders[w]
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
                c1 = _team_cost(bt, nt, t, d)
                c2 = _team_cost(bu, nu, u, d)
                delta = c1 + c2 - tcost[t] - tcost[u]
                if not found or delta < best:
                    found = True
                    best = delta
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
    that its team costs match the Python evaluation. Should the criteria's
    data not fit the instance, or a cost disagree, it notes why and goes on
    with the Python local search on the same state (:attr:`fallback`).

    Raises :class:`NoCompiledEvaluation` for a criterion without compiled
    evaluation (callers check :func:`supported` first).
    """

    def __init__(self, state: TeamState, seed: int, candidates: int = 6) -> None:
        if not supported(state.terms):
            raise NoCompiledEvaluation("a criterion of this model has no compiled evaluation")
        inst = state.inst
        self.state = state
        self.candidates = candidates
        #: why the Python search took over (None: the compiled search runs)
        self.fallback: str | None = None
        #: wall seconds the last :meth:`run` took to write its teams back to the state
        self.store_seconds = 0.0
        self._python: LocalSearch | None = None
        self._seed = seed
        k, n = inst.k, inst.n
        width = int(inst.team_hi.max()) + 1
        n_sec = len(inst.section_names)
        pools = [inst.teams_of_section(s) for s in range(n_sec)]
        sec_ptr = np.zeros(n_sec + 1, dtype=np.int64)
        sec_ptr[1:] = np.cumsum([len(p) for p in pools])
        sec_pos = np.zeros(k, dtype=np.int64)
        for p in pools:
            sec_pos[p] = np.arange(len(p))
        pins = inst.pins
        self.layout = Layout(
            inst.team_lo.astype(np.int64),
            inst.team_hi.astype(np.int64),
            inst.team_section.astype(np.int64),
            sec_ptr,
            np.concatenate(pools).astype(np.int64),
            sec_pos,
            pins.frozen.astype(np.bool_) if pins is not None else np.zeros(n, dtype=np.bool_),
        )
        self.teams = Teams(
            np.zeros(n, dtype=np.int64),
            np.full((k, width), -1, dtype=np.int64),
            np.zeros(k, dtype=np.int64),
            np.zeros(k, dtype=np.int64),
        )
        # broken pins (left by the construction) cost the same whatever the
        # kernel does, since it never moves the learners involved
        self.pin_cost = np.zeros(k, dtype=np.int64)
        if pins is not None:
            for t, mem in enumerate(state.members):
                self.pin_cost[t] = HARD_COST * pins.team_violations(mem, t)
        self._stored = self.teams.members.copy()
        try:
            self.records = build_records(state)
        except CompiledDataError as exc:
            self._fall_back(str(exc))
            return
        _seed(seed)
        self.load()

    def _fall_back(self, why: str) -> None:
        self.fallback = f"compiled search stopped ({why}); the Python search went on"
        note(self.fallback)
        self._python = LocalSearch(self.state, np.random.default_rng(self._seed))

    def load(self) -> None:
        """Copy the state's teams (and per-team decisions, such as projects) into the arrays."""
        if self._python is not None:
            return
        st = self.state
        if any(t.decisions() is not None for t in st.terms):
            # the decisions may have changed since: take them again
            try:
                self.records = build_records(st)
            except CompiledDataError as exc:
                self._fall_back(str(exc))
                return
        if self.records.project.coef != 0:
            self.records = self.records._replace(project=self.records.project.holding())
        tm = self.teams.members
        tm.fill(-1)
        for t, mem in enumerate(st.members):
            self.teams.size[t] = len(mem)
            tm[t, : len(mem)] = mem
        self.teams.assign[:] = st.assign
        self.teams.cost[:] = np.asarray(st.cost, dtype=np.int64) - self.pin_cost
        self._stored = tm.copy()

    def team_cost(self, members: Sequence[int], team: int) -> int:
        """The compiled cost of one team (for tests against the Python one)."""
        if self._python is not None:
            raise CompiledDataError(f"no compiled costs: {self.fallback}")
        mem = np.asarray(members, dtype=np.int64)
        return int(_team_cost(mem, len(mem), team, self.records))

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
        assignment, so callers keep their own best copy. After a fallback the
        Python local search runs instead (plain descent).
        """
        if self._python is not None:
            return self._python.run(deadline=deadline, max_steps=max_steps, cancel=cancel)
        done = 0
        while True:
            steps = chunk if max_steps is None else min(chunk, max_steps - done)
            if steps <= 0 or (deadline is not None and time.perf_counter() >= deadline):
                break
            if is_set(cancel):
                break
            done += _run(steps, self.teams, self.layout, self.records, self.candidates, temp)
            if int(self.teams.cost.sum()) == 0:
                break
        began = time.perf_counter()
        self._store()
        self.store_seconds = time.perf_counter() - began
        return done

    def _store(self) -> None:
        st = self.state
        tm, count, cost = self.teams.members, self.teams.size, self.teams.cost
        # only teams whose members changed are written back (and re-checked)
        changed = np.flatnonzero((tm != self._stored).any(axis=1)).tolist()
        members = {t: tm[t, : count[t]].tolist() for t in changed}
        st.set_teams(changed, members)
        self._stored[changed] = tm[changed]
        for t in changed:
            if st.cost[t] != cost[t] + self.pin_cost[t]:
                # the state holds the Python costs of these teams: it stays right
                self._fall_back(
                    f"team {t + 1} costs {cost[t] + self.pin_cost[t]} in compiled code "
                    f"but {st.cost[t]} by the criteria"
                )
                return


# numba checks only this file: the modules compiled in count too
tie_module(globals())
