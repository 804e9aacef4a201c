"""Compiled local search for the criteria with a compiled evaluation (numba).

The Python local search (:mod:`teamform.search.local`) works with any
criterion through :meth:`~teamform.criteria.base.Term.team_penalty`, at about
20 microseconds per team evaluation: too slow for cohorts of thousands. When
every criterion of a model hands over its data for compiled code
(:meth:`~teamform.criteria.base.Term.compiled_data`, one record per criterion,
of a kind listed in :data:`KINDS`), this module runs the same moves and swaps
in compiled code on flat arrays, roughly twenty-five times faster.

Team costs are recomputed here from members alone, independently of the
Python evaluation; :class:`CompiledLocalSearch` checks after every burst that
both agree. Data that does not fit the instance, or costs that disagree, are
never an error in a user's solve: the search goes on in Python and says why
(:func:`teamform.search.kernels.note`, reported in the result).

Adding a criterion with a compiled evaluation: a record class below (its
fields, :meth:`empty` and :meth:`check`), its place in :data:`KINDS` and
:class:`Records`, its cost function called from :func:`_team_cost`, and the
criterion's ``compiled_data`` hook returning the record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numba import njit

from teamform.cancel import is_set
from teamform.criteria.base import Term
from teamform.search.bitsets import WORDS, block_slots, pairs_csr, popcount
from teamform.search.kernels import note
from teamform.search.local import HARD_COST, LocalSearch, TeamState

#: candidate teams added per move for holding a project the learner ranked
_WANTED = 4
#: category rules, as the kernel numbers them
CATEGORY_KIND = {"distribute": 0, "cluster": 1, "no_isolation": 2}


class CompiledDataError(RuntimeError):
    """A criterion's compiled data does not fit the instance (an internal error)."""


class NoCompiledEvaluation(ValueError):
    """A criterion of the model has no compiled evaluation."""


def cost_per_unit(term: Term) -> int:
    """The search's cost of one penalty unit of ``term``: a breach for hard terms."""
    return HARD_COST if term.hard else term.coefficient


def _expect(
    kind: str, field: str, value: np.ndarray, dtype: type, shape: tuple[int | None, ...]
) -> None:
    """Raise :class:`CompiledDataError` unless ``value`` has this dtype and shape
    (None: any length) and is contiguous, as the compiled kernels take it."""
    ok = (
        isinstance(value, np.ndarray)
        and value.dtype == dtype
        and value.ndim == len(shape)
        and all(want is None or got == want for got, want in zip(value.shape, shape, strict=False))
        and value.flags.c_contiguous
    )
    if not ok:
        got = (
            f"{value.dtype} {value.shape}"
            if isinstance(value, np.ndarray)
            else type(value).__name__
        )
        want = "x".join("*" if s is None else str(s) for s in shape)
        raise CompiledDataError(
            f"compiled data of {kind}: {field} is {got}, expected {np.dtype(dtype)} {want}"
        )


def _i64(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


class Rules(NamedTuple):
    """The instance's own hard rules (not a criterion): avoid pairs, and a breach's cost."""

    avoid_ptr: np.ndarray  #: (n + 1,) row pointers of each learner's avoid partners
    avoid_idx: np.ndarray  #: the partners
    hard: int


class SkillRecord(NamedTuple):
    """Skill balance: per team and skill, ``|sum - size * mean|``."""

    values: np.ndarray  #: (n, S) skill values
    mean: np.ndarray  #: (k, S) the mean of each team's section
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> SkillRecord:
        return cls(np.zeros((n, 0), dtype=np.int64), np.zeros((k, 0), dtype=np.int64), 0)

    def check(self, n: int, k: int) -> None:
        _expect("skill_balance", "values", self.values, np.int64, (n, None))
        _expect("skill_balance", "mean", self.mean, np.int64, (k, self.values.shape[1]))


class MotivationRecord(NamedTuple):
    """Motivation: intrinsic learners outside each team's range."""

    intrinsic: np.ndarray  #: (n,) 1 for intrinsic learners
    lo: np.ndarray  #: (k,)
    hi: np.ndarray  #: (k,)
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> MotivationRecord:
        return cls(_i64(n), _i64(k), _i64(k), 0)

    def check(self, n: int, k: int) -> None:
        _expect("motivation", "intrinsic", self.intrinsic, np.int64, (n,))
        _expect("motivation", "lo", self.lo, np.int64, (k,))
        _expect("motivation", "hi", self.hi, np.int64, (k,))


class PreferRecord(NamedTuple):
    """Preferred pairs: each member's preferred partner outside the team."""

    ptr: np.ndarray  #: (n + 1,) row pointers
    idx: np.ndarray  #: partners
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> PreferRecord:
        return cls(_i64(n + 1), _i64(0), 0)

    def check(self, n: int, k: int) -> None:
        _expect("prefer", "ptr", self.ptr, np.int64, (n + 1,))
        _expect("prefer", "idx", self.idx, np.int64, (int(self.ptr[-1]),))


class OverlapRecord(NamedTuple):
    """Time-zone overlap: slots short of ``need`` in runs of ``block``, plus steps."""

    words: np.ndarray  #: (n, WORDS) weekly masks as 64-bit words
    need: int
    block: int
    coef: int
    below: int  #: step for a team short at all
    none: int  #: further step for a team without any common block

    @classmethod
    def empty(cls, n: int, k: int) -> OverlapRecord:
        return cls(np.zeros((n, WORDS), dtype=np.uint64), 0, 1, 0, 0, 0)

    def check(self, n: int, k: int) -> None:
        _expect("overlap", "words", self.words, np.uint64, (n, WORDS))
        if self.block < 1 or self.need < 0:
            raise CompiledDataError(
                f"compiled data of overlap: need {self.need}, block {self.block}"
            )


class CoverageRecord(NamedTuple):
    """Skill coverage: rules no member of the team meets."""

    strong: np.ndarray  #: (R, n) 1 where a learner meets rule r
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> CoverageRecord:
        return cls(np.zeros((0, n), dtype=np.int64), 0)

    def check(self, n: int, k: int) -> None:
        _expect("skill_coverage", "strong", self.strong, np.int64, (None, n))


class CategoryRecord(NamedTuple):
    """Category rules, one row each (every rule of the model in one record)."""

    codes: np.ndarray  #: (R, n) each learner's value
    kind: np.ndarray  #: (R,) :data:`CATEGORY_KIND`
    active: np.ndarray  #: (R, V) 1 for the values a rule looks at
    lo: np.ndarray  #: (R, k, V) distribute: the even range per team and value
    hi: np.ndarray  #: (R, k, V)
    coef: np.ndarray  #: (R,)
    scratch: np.ndarray  #: (V,) counts, reused

    @classmethod
    def empty(cls, n: int, k: int) -> CategoryRecord:
        return cls.rows(n, k, 0, 1)

    @classmethod
    def rows(cls, n: int, k: int, count: int, values: int) -> CategoryRecord:
        """Zeroed arrays for ``count`` rules over at most ``values`` values."""
        return cls(
            np.zeros((count, n), dtype=np.int64),
            _i64(count),
            np.zeros((count, values), dtype=np.int64),
            np.zeros((count, k, values), dtype=np.int64),
            np.zeros((count, k, values), dtype=np.int64),
            _i64(count),
            _i64(values),
        )

    def check(self, n: int, k: int) -> None:
        rules, values = self.active.shape if self.active.ndim == 2 else (-1, -1)
        _expect("category", "codes", self.codes, np.int64, (rules, n))
        _expect("category", "kind", self.kind, np.int64, (rules,))
        _expect("category", "active", self.active, np.int64, (rules, values))
        _expect("category", "lo", self.lo, np.int64, (rules, k, values))
        _expect("category", "hi", self.hi, np.int64, (rules, k, values))
        _expect("category", "coef", self.coef, np.int64, (rules,))
        _expect("category", "scratch", self.scratch, np.int64, (values,))
        if rules and (self.codes.min() < 0 or self.codes.max() >= values):
            raise CompiledDataError("compiled data of category: a value code out of range")


class ProjectRecord(NamedTuple):
    """Project ranks, each team's project held fixed during the moves."""

    team_project: np.ndarray  #: (k,) each team's project
    ptr: np.ndarray  #: (n + 1,) row pointers of each learner's ranked choices
    project: np.ndarray  #: the projects ranked
    rank: np.ndarray  #: their 0-based ranks
    unranked: int  #: cost of a project not among a learner's choices
    coef: int
    holders_ptr: np.ndarray  #: (P + 1,) row pointers of the teams holding each project
    holders: np.ndarray  #: (k,) those teams

    @classmethod
    def empty(cls, n: int, k: int) -> ProjectRecord:
        return cls(_i64(k), _i64(n + 1), _i64(0), _i64(0), 0, 0, _i64(1), _i64(0))

    def check(self, n: int, k: int) -> None:
        _expect("project", "team_project", self.team_project, np.int64, (k,))
        _expect("project", "ptr", self.ptr, np.int64, (n + 1,))
        _expect("project", "project", self.project, np.int64, (int(self.ptr[-1]),))
        _expect("project", "rank", self.rank, np.int64, self.project.shape)
        _expect("project", "holders_ptr", self.holders_ptr, np.int64, (None,))
        _expect("project", "holders", self.holders, np.int64, (None,))
        projects = len(self.holders_ptr) - 1
        if len(self.project) and (self.project.min() < 0 or self.project.max() >= projects):
            raise CompiledDataError("compiled data of project: a project number out of range")
        if self.coef and k and (self.team_project.min() < 0 or self.team_project.max() >= projects):
            raise CompiledDataError("compiled data of project: a team's project out of range")

    def holding(self) -> ProjectRecord:
        """The same record with the teams of each project recomputed."""
        order = np.argsort(self.team_project, kind="stable").astype(np.int64)
        counts = np.bincount(self.team_project, minlength=len(self.holders_ptr) - 1)
        ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return self._replace(holders_ptr=ptr, holders=order)


CompiledData = (
    SkillRecord
    | MotivationRecord
    | PreferRecord
    | OverlapRecord
    | CoverageRecord
    | CategoryRecord
    | ProjectRecord
)
#: The kinds of criterion data the kernels take, in the order of :class:`Records`.
KINDS: tuple[type[CompiledData], ...] = (
    SkillRecord,
    MotivationRecord,
    PreferRecord,
    OverlapRecord,
    CoverageRecord,
    CategoryRecord,
    ProjectRecord,
)


class Records(NamedTuple):
    """Everything the kernels evaluate a team with: one record per kind of :data:`KINDS`."""

    rules: Rules
    skill: SkillRecord
    motivation: MotivationRecord
    prefer: PreferRecord
    overlap: OverlapRecord
    coverage: CoverageRecord
    category: CategoryRecord
    project: ProjectRecord


class Layout(NamedTuple):
    """Team sizes, sections and frozen learners: what moves must respect."""

    lo: np.ndarray
    hi: np.ndarray
    section: np.ndarray  #: (k,) each team's section
    sec_ptr: np.ndarray  #: (sections + 1,) row pointers into ``sec_teams``
    sec_teams: np.ndarray  #: the teams of each section
    sec_pos: np.ndarray  #: (k,) each team's place among its section's
    frozen: np.ndarray  #: (n,) learners that never move


class Teams(NamedTuple):
    """The search's assignment: team of each learner, members and costs of each team."""

    assign: np.ndarray
    members: np.ndarray  #: (k, width), -1 past each team's size
    size: np.ndarray
    cost: np.ndarray


def unsupported(terms: Sequence[Term]) -> list[str]:
    """Names of the terms without a compiled evaluation."""
    return [t.name for t in terms if t.compiled_data() is None]


def supported(terms: Sequence[Term]) -> bool:
    """Whether every term has a compiled evaluation; when not, the reason is
    noted for the result (the Python search runs instead)."""
    missing = unsupported(terms)
    if missing:
        which = ", ".join(missing)
        note(f"{which}: no compiled evaluation, so the search runs in Python")
    return not missing


def _combine(kind: type[CompiledData], found: list[CompiledData], n: int, k: int) -> CompiledData:
    """One record of ``kind`` from those the terms gave (rows of category rules stack)."""
    if len(found) == 1:
        return found[0]
    if kind is CategoryRecord:
        cats = [r for r in found if isinstance(r, CategoryRecord)]
        values = max(r.active.shape[1] for r in cats)
        out = CategoryRecord.rows(n, k, sum(len(r.kind) for r in cats), values)
        row = 0
        for r in cats:
            rows, v = r.active.shape
            span = slice(row, row + rows)
            out.codes[span] = r.codes
            out.kind[span] = r.kind
            out.active[span, :v] = r.active
            out.lo[span, :, :v] = r.lo
            out.hi[span, :, :v] = r.hi
            out.coef[span] = r.coef
            row += rows
        return out
    raise CompiledDataError(f"{len(found)} criteria gave compiled data of kind {kind.__name__}")


def build_records(state: TeamState) -> Records:
    """The kernels' data for ``state``'s criteria, checked against the instance.

    Raises :class:`NoCompiledEvaluation` when a criterion has none, and
    :class:`CompiledDataError` when its data does not fit.
    """
    inst = state.inst
    n, k = inst.n, inst.k
    by_kind: dict[type[CompiledData], list[CompiledData]] = {kind: [] for kind in KINDS}
    for term in state.terms:
        rec = term.compiled_data()
        if rec is None:
            raise NoCompiledEvaluation(f"{term.name} has no compiled evaluation")
        if type(rec) not in by_kind:
            raise CompiledDataError(f"{term.name}: compiled data of unknown kind {type(rec)}")
        rec.check(n, k)
        by_kind[type(rec)].append(rec)
    parts = [
        _combine(kind, found, n, k) if found else kind.empty(n, k)
        for kind, found in by_kind.items()
    ]
    aptr, aidx = pairs_csr(n, inst.avoid)
    records = Records(Rules(aptr, aidx, HARD_COST), *parts)  # type: ignore[arg-type]
    for part in parts:
        part.check(n, k)
    return records


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
    """Cost of team ``t`` of the first ``cnt`` learners of ``mem`` (``d``: :class:`Records`)."""
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
        self._store()
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
