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

A team that no swap and no chain of two brings into range is regrouped
exactly (:func:`regroup_neighbourhood`): CP-SAT re-assigns its members and
those of a few teams that could even it out, among them the teams holding
learners confined to the same hours. Such a fix often needs most of those
learners to change places, so that skill balance and common time are won
back in the same step as the motivation spread. On the clock, a team those
regroupings leave out of range gets every plan of it and the nearest teams of
its wide neighbourhood (below) in range, as an integer programme
(:func:`partition_exact` over :data:`EXACT_TEAMS` teams).

A team that still stays out of range is regrouped wide
(:func:`wide_regroup`): with up to :data:`WIDE_TEAMS` teams that a chain of
exchanges keeping common time could pass its fix through
(:func:`wide_neighbourhood`, breadth first), every one of them in range and
none more without common time, as an exact set partitioning bounded by its
linear relaxation (:func:`partition_keeping_time`). Where nothing cheaper
exists, the same solve is the answer :func:`spread_checks` gives: no such
plan at all, or how much more the cheapest costs at least. The check also asks,
exactly, whether any plan of those teams in range costs less than now, common
time kept or not (:func:`partition_exact`, an integer programme): where not, the
learners off are proven traded there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from teamform.cpmodel import SubModel
from teamform.criteria import MotivationTerm, Term
from teamform.criteria.overlap import overlap_term, team_common
from teamform.instance import Instance
from teamform.lazy import CP_MODEL_SECONDS, cp_model
from teamform.search.compiled_data import Records, build_records, supported
from teamform.search.cpsat import solver_for
from teamform.search.kernels import ready_now
from teamform.search.lns import solve_neighbourhood
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
#: Teams of an exact regrouping: the team out of range and the partners that could even it out.
REGROUP_TEAMS = 5
#: Of those, teams holding learners confined to the team's narrowest hours, at most.
_REGROUP_SIBLINGS = 2
#: CP-SAT's deterministic time for one regrouping (about a second on a quiet core).
REGROUP_WORK = 1.0
#: Regroupings tried per team and call, cheapest first: the team with two partners
#: (a few hundred subsets, a millisecond), then with all of them (thousands of subsets,
#: a tenth of a second), then with partners drawn among the best few times as many.
REGROUP_TRIES = ((3, False), (REGROUP_TEAMS, False), (REGROUP_TEAMS, True))
#: Regroupings a call makes at most (a work limit, as for chains).
_REGROUP_CALLS = 24
#: Teams of a wide regrouping (:func:`wide_neighbourhood`): the team out of range and
#: the teams a chain of exchanges that keeps common time could pass its fix through.
WIDE_TEAMS = 12
#: CP-SAT's deterministic time for one wide regrouping (a fraction of a second to prove
#: at 12 teams of 4 where no plan in range keeps common time; seconds otherwise).
WIDE_WORK = 2.0
#: Teams of the integer programme a regrouping on the clock tries last
#: (:func:`partition_exact` over :func:`wide_neighbourhood`): at 10 000 learners,
#: 0.1-1.2 s a team where 12 teams take 1-14 s, and it finds most of their savings.
EXACT_TEAMS = 8
#: Seconds such a programme is given at most.
EXACT_REGROUP_SECONDS = 2.0
#: Wide regroupings a call of :func:`spread_intrinsic` makes at most.
_WIDE_CALLS = 8
#: Wall seconds a wide regrouping is expected to take before one has been timed
#: (scoring its teams has no deadline inside, and takes longer under load): one
#: starts only with 1.5 times the longest so far left before the deadline.
WIDE_SECONDS = 1.0
#: Learners a wide regrouping partitions exactly at most (every team of their size
#: out of them is scored: 194 580 teams of 4 out of 48 learners, a fraction of a second).
WIDE_LEARNERS = 48
#: Candidate teams CP-SAT partitions at most for the plan (the bound needs none).
WIDE_COLUMNS = 20_000
#: The spread check's bound counts plans costing up to this many learners off the
#: spread more than the teams now (a cap: it says "at least that much" beyond it).
WIDE_CAP = 40


def out_of_range(state: TeamState, term: MotivationTerm) -> list[int]:
    """Teams whose count of intrinsic learners is outside their range."""
    return [t for t, m in enumerate(state.members) if term.team_penalty(m, t)]


def regroup_neighbourhood(
    state: TeamState,
    term: MotivationTerm,
    team: int,
    rng: np.random.Generator,
    size: int = REGROUP_TEAMS,
    shuffle: bool = False,
) -> list[int]:
    """``team`` (out of its intrinsic range) with teams that could even it out.

    First, up to :data:`_REGROUP_SIBLINGS` teams of its section holding
    learners whose hours lie within those of the team's narrowest member:
    such learners can only sit with it or in teams short of the same hours,
    so they are the ones a fix trades places with (those that could even it
    out first, then those holding most such learners). Then teams that can give
    a learner of the missing kind (or take one of the surplus), ranked by
    the common time the team would keep with that learner in place of one
    of its own (``shuffle``: a random choice among the siblings and among
    the best partners, for another try). Siblings only for a team short of
    common time. Partners have the team's size; teams holding frozen
    learners are left out.
    """
    inst = state.inst
    masks = inst.masks
    intrinsic = inst.intrinsic
    frozen = state.frozen
    section = inst.team_section
    members = state.members[team]
    lo = term.target(team)[0]
    count = int(intrinsic[members].sum())
    kind = count < lo  # the kind the team lacks: intrinsic when below its range
    if any(frozen[i] for i in members):
        return [team]  # its pinned learners stay: nothing to regroup
    assign = np.asarray(state.assign)
    counts = np.bincount(assign, weights=intrinsic, minlength=inst.k)
    # teams that may join: of its section and size, without frozen learners
    movable = (section == section[team]) & (np.bincount(assign, minlength=inst.k) == len(members))
    movable &= (
        np.bincount(assign, weights=np.asarray(frozen, dtype=np.float64), minlength=inst.k) == 0
    )
    movable[team] = False
    # teams that can give a learner of the kind (or take one) and stay in range
    can = movable & ((counts > term.lo) if kind else (counts < term.hi))
    overlap = overlap_term(state.terms)
    siblings: list[int] = []
    if overlap is not None and overlap.team_penalty(members, team):
        # short of common time: its narrowest member's hours confine it
        narrow = min((masks[i] for i in members), key=lambda m: (m.bit_count(), m))
        held: dict[int, int] = {}
        for i in range(inst.n):
            if masks[i] & ~narrow == 0 and movable[assign[i]]:
                held[int(assign[i])] = held.get(int(assign[i]), 0) + 1
        # those that can even it out first (a learner of the kind to give, or room
        # for one of the surplus), then those holding most such learners
        siblings = sorted(held, key=lambda u: (not can[u], -held[u], u))
    if len(siblings) > _REGROUP_SIBLINGS:
        if shuffle:
            picks = rng.choice(len(siblings), size=_REGROUP_SIBLINGS, replace=False)
            siblings = [siblings[p] for p in sorted(picks.tolist())]
        else:
            siblings = siblings[:_REGROUP_SIBLINGS]
    # common time the team keeps without each member of the surplus kind
    rest = [
        team_common(masks, [m for m in members if m != y])
        for y in members
        if bool(intrinsic[y]) != kind and not frozen[y]
    ]
    fit: dict[int, int] = {}
    scores: dict[int, int] = {}
    for z in np.flatnonzero((intrinsic == kind) & can[assign]).tolist():
        u = int(assign[z])
        mask = masks[z]
        score = scores.get(mask)
        if score is None:
            score = scores[mask] = max(((c & mask).bit_count() for c in rest), default=0)
        if score > fit.get(u, -1):
            fit[u] = score
    want = max(0, size - 1 - len(siblings))
    # ties: teams with more common time first, whose members fit in more places;
    # their common time is needed only for the teams that can rank among the first
    open_fit = sorted((fit[u] for u in fit if u not in siblings), reverse=True)
    least = open_fit[min(len(open_fit), 3 * want) - 1] if open_fit and want else None
    near = [u for u in fit if u not in siblings and least is not None and fit[u] >= least]
    wide = {u: team_common(masks, state.members[u]).bit_count() for u in near}
    ranked = sorted(near, key=lambda u: (-fit[u], -wide[u], u))
    if shuffle and len(ranked) > want:
        pool = ranked[: 3 * want]
        ranked = [pool[p] for p in sorted(rng.choice(len(pool), size=want, replace=False).tolist())]
    return [team, *siblings, *ranked[:want]]


def _most_learners() -> int:
    """Learners the compiled exact regrouping takes at most (once its kernels can run)."""
    from teamform.search.regroup import MAX_LEARNERS

    return MAX_LEARNERS


def regroup(
    state: TeamState,
    teams: Sequence[int],
    records: Records | None,
    *,
    seed: int,
    workers: int = 1,
    wall_limit: float | None = None,
) -> bool:
    """Re-assign the members of ``teams`` exactly; keep the result if the objective falls.

    With compiled criteria data (``records``) the exact partition of
    :func:`~teamform.search.regroup.regroup_exact`; where that declines (sizes
    differ, costs depend on team numbers) or without compiled data, CP-SAT
    (deterministic work :data:`REGROUP_WORK`).
    """
    if records is not None:
        from teamform.search.regroup import regroup_exact  # compiled: records exist

        done = regroup_exact(state, records, teams)
        if done is not None:
            return done
    return solve_neighbourhood(
        state,
        teams,
        time_limit=REGROUP_WORK,
        seed=seed,
        workers=workers,
        deterministic=True,
        wall_limit=wall_limit,
    )


class Regroups:
    """Exact regroupings of teams out of their intrinsic range, within a work limit.

    Each team gets up to the neighbourhoods of :data:`REGROUP_TRIES`
    (:func:`regroup_neighbourhood`), smallest first, then, on the clock, the
    integer programme over :data:`EXACT_TEAMS` teams of :func:`wide_neighbourhood`
    (:func:`partition_exact`: every plan of them in range, common time kept or
    not, which finds cheaper plans the smaller regroupings cannot reach); a set
    of learners that found nothing is never tried again, by this object. The compiled
    criteria data is built at the first regrouping. ``seconds`` adds up the
    wall time regroupings took, for a caller sharing its budget.
    """

    def __init__(
        self, state: TeamState, term: MotivationTerm, rng: np.random.Generator, calls: int
    ) -> None:
        self.state = state
        self.term = term
        self.rng = rng
        #: regroupings left
        self.calls = calls
        #: teams the last successful regrouping changed
        self.changed: list[int] = []
        #: wall seconds spent regrouping, over every call
        self.seconds = 0.0
        self._tried: set[frozenset[int]] = set()
        self._records: list[Records | None] = []
        # the longest integer programme so far: the next starts only with 1.5 times it left
        self._exact_longest = WIDE_SECONDS / 2

    def records(self, deadline: float = float("inf")) -> Records | None:
        """Compiled criteria data, or None where the exact partition cannot run now
        (its kernels would not load before ``deadline``)."""
        if not self._records:
            state = self.state
            ends = None if deadline == float("inf") else deadline
            fast = supported(state.terms) and ready_now("search", "regrouping by CP-SAT", ends)
            self._records.append(build_records(state) if fast else None)
        return self._records[0]

    def team(self, team: int, deadline: float = float("inf")) -> bool:
        """Regroup ``team`` with partners that could even it out; whether the plan improved."""
        began = time.perf_counter()
        try:
            return self._team(team, deadline)
        finally:
            self.seconds += time.perf_counter() - began

    def _team(self, team: int, deadline: float) -> bool:
        state = self.state
        for width, shuffle in REGROUP_TRIES:
            if self.calls <= 0 or time.perf_counter() >= deadline:
                return False
            records = self.records(deadline)
            size = len(state.members[team])
            if records is not None:
                width = min(width, _most_learners() // size)
            elif width < REGROUP_TEAMS:
                continue  # CP-SAT: one solve over all partners rather than two
            elif not cp_model.loaded() and deadline - time.perf_counter() < CP_MODEL_SECONDS:
                return False  # importing CP-SAT would take the time the repair has left
            teams = regroup_neighbourhood(state, self.term, team, self.rng, width, shuffle)
            key = frozenset(i for u in teams for i in state.members[u])
            if len(teams) < 2 or key in self._tried:
                continue  # the same learners found nothing before
            self._tried.add(key)
            self.calls -= 1
            wall = None if deadline == float("inf") else deadline - time.perf_counter()
            seed = int(self.rng.integers(1 << 30))
            if regroup(state, teams, records, seed=seed, wall_limit=wall):
                self.changed = list(teams)
                return True
        return self._exact(team, deadline)

    def _exact(self, team: int, deadline: float) -> bool:
        # on the clock only: SCIP's time limit would make deterministic runs differ
        state = self.state
        if deadline == float("inf") or self.calls <= 0 or state.deciding:
            return False
        if deadline - time.perf_counter() < 1.5 * self._exact_longest:
            return False
        overlap = overlap_term(state.terms, with_target=True)
        if overlap is not None and overlap.common_slots(state.members[team]) < overlap.need:
            # short of common time: such teams were proven dearer to bring into range
            # in every measured run (their learners' hours confine them)
            return False
        records = self.records(deadline)
        if records is None:
            return False
        teams = wide_neighbourhood(state, self.term, team, EXACT_TEAMS)
        key = frozenset(i for u in teams for i in state.members[u])
        if len(teams) < 2 or key in self._tried:
            return False
        self._tried.add(key)
        self.calls -= 1
        began = time.perf_counter()
        try:
            seconds = min(EXACT_REGROUP_SECONDS, deadline - began)
            fix = partition_exact(state, records, teams, seconds=seconds)
        finally:
            self._exact_longest = max(self._exact_longest, time.perf_counter() - began)
        if fix is None or fix.members is None or fix.extra is None or fix.extra >= 0:
            return False
        state.set_teams(teams, fix.members)
        self.changed = list(teams)
        return True


def wide_neighbourhood(
    state: TeamState, term: MotivationTerm, team: int, size: int = WIDE_TEAMS
) -> list[int]:
    """``team`` (out of its intrinsic range) with the teams a fix that keeps common
    time could pass through, breadth first: at most ``size`` teams.

    A fix brings a learner of the kind the team lacks (intrinsic when below its
    range, imposed when above) in for one of the other kind. The team that gives it
    may then lack one itself, and the fix goes on from there: an ejection chain.
    So from each team reached, the next are the teams of its section holding a
    learner of that kind who could take the place of one of its members of the
    other kind, where (1) the newcomer is free in the team's common hours without
    that member (at least as many of them as the team has now, up to its target)
    and (2) the member leaving is free in the giving team's common hours without
    the newcomer: teams where both hold first, then those where one does, most
    common hours kept first; three of them from each team, which starts with the
    team and the partners of :func:`regroup_neighbourhood`. Without a common-time
    criterion every team holding a learner of the kind qualifies.
    """
    inst = state.inst
    masks = inst.masks
    intrinsic = inst.intrinsic
    section = inst.team_section
    members = state.members[team]
    lo = term.target(team)[0]
    kind = int(intrinsic[members].sum()) < lo
    overlap = overlap_term(state.terms, with_target=True)
    assign = state.assign
    # every learner of the kind: its team, and that team's common hours without it
    pool = [
        j for j in np.flatnonzero(intrinsic == kind).tolist() if section[assign[j]] == section[team]
    ]
    without = {j: team_common(masks, [m for m in state.members[assign[j]] if m != j]) for j in pool}

    def kept(mask: int, common: int, need: int) -> int:
        # common hours (slots) a team keeps with ``mask`` in: -1 below what it needs
        got = (mask & common).bit_count()
        return got if got >= need else -1

    needed: dict[int, int] = {}

    def needs(u: int) -> int:
        # what a team keeps at least: its common slots now, up to the target
        got = needed.get(u)
        if got is None:
            slots = 0 if overlap is None else overlap.common_slots(state.members[u])
            got = needed[u] = max(1, min(overlap.need, slots)) if overlap is not None else 0
        return got

    # the partners of the exact regrouping first (same size), so that the wide
    # neighbourhood holds every plan that regrouping could find
    hood = regroup_neighbourhood(state, term, team, np.random.default_rng(0))[:size]
    queue = list(hood)
    while queue and len(hood) < size:
        x = queue.pop(0)
        leaving = [s for s in state.members[x] if bool(intrinsic[s]) != kind]
        rest = {s: team_common(masks, [m for m in state.members[x] if m != s]) for s in leaving}
        need_x = needs(x)
        score: dict[int, tuple[int, int]] = {}
        for j in pool:
            u = assign[j]
            if u in hood:
                continue
            if overlap is None:
                best = (2, 0)
            else:
                need_u = needs(u)
                best = (0, -1)
                for s in leaving:
                    into_x = kept(masks[j], rest[s], need_x)
                    into_u = kept(masks[s], without[j], need_u)
                    both = (into_x >= 0) + (into_u >= 0)
                    if both:
                        best = max(best, (both, max(into_x, 0) + max(into_u, 0)))
            if best[0] and best > score.get(u, (0, -1)):
                score[u] = best
        ranked = sorted(score, key=lambda u: (-score[u][0], -score[u][1], u))
        for u in ranked[: min(3, size - len(hood))]:
            hood.append(u)
            queue.append(u)
    return hood


@dataclass(frozen=True)
class WideFix:
    """The cheapest plan of a few teams with every one of them in its intrinsic range
    and no more of them without common time than now (:func:`fix_keeping_time`)."""

    #: the teams re-assigned (the team out of range first)
    teams: tuple[int, ...]
    #: the answer: "infeasible" (proven: no such plan of these teams), "dearer" (proven:
    #: none costs less than ``bound`` more), "optimal", "feasible" (found, not proven
    #: the cheapest) or "unknown" (nothing found in time)
    status: str
    #: the plan found minus what the teams cost now, in objective units (None: no plan)
    extra: int | None = None
    #: the least that any such plan can cost more than the teams now (CP-SAT's bound)
    bound: int | None = None
    #: the plan found, by team
    members: dict[int, list[int]] | None = None


def fix_keeping_time(
    state: TeamState,
    teams: Sequence[int],
    *,
    work: float = WIDE_WORK,
    seed: int = 0,
    workers: int = 1,
    wall_limit: float | None = None,
) -> WideFix:
    """The cheapest re-assignment of the members of ``teams`` that puts every one of them
    in its intrinsic range and leaves no more of them without common time (CP-SAT, the
    full model of those teams; ``work`` of deterministic time, ``wall_limit`` seconds).

    Never trading a team's common time for the spread: where CP-SAT proves there is
    no such plan, the spread cannot be reached there without a team losing its last
    common hour; where it finds one, what it costs more (and at least) than the teams
    cost now says whether reaching it is worth it under the model's weights.
    """
    inst = state.inst
    teams = list(teams)
    learners = [i for u in teams for i in state.members[u]]
    sub = SubModel(inst, learners, teams, state.terms)
    sub.hint(state.assign)
    penalties = sub.penalties
    model = sub.model
    motivation = next(t for t in state.terms if isinstance(t, MotivationTerm))
    for u in teams:
        model.add(penalties[motivation.name][u] == 0)
    overlap = overlap_term(state.terms, with_target=True)
    if overlap is not None:
        # a team has a common block exactly when its shortfall is below the target,
        # which keeps its penalty (shortfall and the step below it) under need + step
        cap = overlap.need - 1 + overlap.below_step
        empty = []
        for u in teams:
            none = model.new_bool_var(f"wide_none[{u}]")
            model.add(penalties[overlap.name][u] <= cap).only_enforce_if(~none)
            empty.append(none)
        model.add(sum(empty) <= sum(overlap.common_slots(state.members[u]) == 0 for u in teams))
    solver = solver_for(work, seed, workers, True, ends_in=wall_limit)
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        return WideFix(tuple(teams), "infeasible")
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return WideFix(tuple(teams), "unknown")
    found: dict[int, list[int]] = {u: [] for u in teams}
    for i, u in sub.read(solver).items():
        found[u].append(i)
    before = sum(state.cost[u] for u in teams)
    extra = sum(state.team_cost(found[u], u) for u in teams) - before
    # the model's objective is the teams' soft cost: its bound, less theirs now
    bound = None if state.hard_violations else int(np.ceil(solver.best_objective_bound)) - before
    status = "optimal" if code == cp_model.OPTIMAL else "feasible"
    return WideFix(tuple(teams), status, extra, bound, found)


class _WideSubsets(NamedTuple):
    """Every team of the teams' size out of their members: the ``learners`` (in
    team order), the ``subsets`` (rows of positions into ``learners``) and the
    intrinsic range ``lo``-``hi`` the teams share."""

    learners: np.ndarray
    subsets: np.ndarray
    lo: int
    hi: int


def _wide_subsets(state: TeamState, teams: list[int]) -> _WideSubsets | None:
    """The candidates of a set partitioning of ``teams`` (:func:`partition_keeping_time`,
    :func:`partition_exact`); None when the teams do not fit: fewer than two, sizes
    or ranges that differ, or more than :data:`WIDE_LEARNERS` learners."""
    from itertools import combinations

    sizes = {len(state.members[t]) for t in teams}
    term = next(t for t in state.terms if isinstance(t, MotivationTerm))
    if len(sizes) != 1 or len({term.target(t) for t in teams}) != 1 or len(teams) < 2:
        return None
    learners = np.asarray([i for t in teams for i in state.members[t]], dtype=np.int64)
    size = sizes.pop()
    if len(learners) > WIDE_LEARNERS:
        return None
    subsets = np.array(list(combinations(range(len(learners)), size)), dtype=np.int64)
    lo, hi = term.target(teams[0])
    return _WideSubsets(learners, subsets.reshape(-1, size), lo, hi)


def partition_keeping_time(
    state: TeamState,
    records: Records,
    teams: Sequence[int],
    cap: int,
    *,
    work: float = WIDE_WORK,
    seed: int = 0,
    wall_limit: float | None = None,
    exists: bool = False,
) -> WideFix | None:
    """:func:`fix_keeping_time` as a set partitioning of the members of ``teams``
    (compiled team costs), with a bound from its linear relaxation.

    Every team of the teams' size out of their members is scored once; those in
    the intrinsic range are the candidates (none without common time if no team
    is without it now), less those that, with the cheapest candidate in every
    other team, cost at least ``cap`` more than the teams now: no plan below
    that uses them. The relaxation (GLOP) of covering every learner once by
    candidates, with no more of them without common time than now, bounds every
    plan: its value, at most ``cap``, is the bound; infeasible, no plan costs
    less than ``cap`` more ("dearer"), and with ``exists`` a second relaxation
    over every candidate tells whether any plan in range keeps the teams' common
    time at all ("infeasible" if not). The relaxation's reduced costs leave out
    candidates no plan below ``cap`` more can use; CP-SAT partitions the rest
    (``work`` of deterministic time) when they are few enough, and the plan is
    scored by the criteria. Common time counts raw slots here, a relaxation
    where it must come in longer stretches (a plan with fewer is not returned).
    None when the teams do not fit: sizes or ranges that differ, more than
    :data:`WIDE_LEARNERS` learners, or subsets costing differently in different
    teams (checked on a sample).
    """
    from ortools.linear_solver import pywraplp

    from teamform.search.regroup import _subset_costs

    inst = state.inst
    teams = list(teams)
    wide = _wide_subsets(state, teams)
    if wide is None:
        return None
    learners, subsets, lo, hi = wide
    n = len(learners)
    costs = _subset_costs(subsets, learners, np.asarray(teams[:1], dtype=np.int64), records)[0]
    sample = subsets[:: max(1, len(subsets) // 2000)]
    alike = _subset_costs(sample, learners, np.asarray(teams, dtype=np.int64), records)
    if (alike != alike[0]).any():
        return None  # a subset costs differently in different teams: not interchangeable
    count = inst.intrinsic[learners[subsets]].sum(axis=1)
    allowed = (count >= lo) & (count <= hi)
    # raw common slots (a relaxation where stretches must be long: a plan found is scored)
    empty = ~np.bitwise_and.reduce(inst.mask_words[learners][subsets], axis=1).any(axis=1)
    overlap = overlap_term(state.terms, with_target=True)
    empty_now = (
        sum(overlap.common_slots(state.members[t]) == 0 for t in teams) if overlap else len(teams)
    )
    if empty_now == 0:
        allowed &= ~empty
    now = sum(state.cost[t] for t in teams)
    if not allowed.any():
        return WideFix(tuple(teams), "infeasible")
    least = int(costs[allowed].min())

    def relaxation(rows: np.ndarray) -> tuple[float, np.ndarray] | None:
        # the linear relaxation over candidate rows: its value and every row's reduced
        # cost (None: infeasible)
        lp = pywraplp.Solver.CreateSolver("GLOP")
        x = [lp.NumVar(0.0, 1.0, "") for _ in rows]
        cover = [lp.Constraint(1.0, 1.0) for _ in range(n)]
        few = lp.Constraint(0.0, float(empty_now)) if 0 < empty_now < len(teams) else None
        objective = lp.Objective()
        for var, r in zip(x, rows.tolist(), strict=True):
            for a in subsets[r].tolist():
                cover[a].SetCoefficient(var, 1.0)
            if few is not None and empty[r]:
                few.SetCoefficient(var, 1.0)
            objective.SetCoefficient(var, float(costs[r]))
        objective.SetMinimization()
        if lp.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        duals = np.array([c.dual_value() for c in cover])
        reduced = costs[rows] - duals[subsets[rows]].sum(axis=1)
        if few is not None:
            reduced = reduced - few.dual_value() * empty[rows]
        return objective.Value(), reduced

    # no plan below ``cap`` more uses a candidate that costs that much with the
    # cheapest candidate in every other team
    keep = allowed & (costs + (len(teams) - 1) * least < now + cap)
    rows = np.flatnonzero(keep)
    relaxed = relaxation(rows) if len(rows) else None
    if relaxed is None:
        # none that cheap: is there any plan in range keeping common time at all?
        if keep.sum() < allowed.sum() and (
            not exists or relaxation(np.flatnonzero(allowed)) is not None
        ):
            return WideFix(tuple(teams), "dearer", bound=cap)
        return WideFix(tuple(teams), "infeasible")
    value, reduced = relaxed
    bound = min(int(np.ceil(value - 1e-6)) - now, cap)
    # reduced costs: a plan below ``cap`` more holds only rows whose reduced cost
    # added to the relaxation's value stays below that
    rows = rows[value + reduced < now + cap + 1e-6]
    if len(rows) > WIDE_COLUMNS:
        return WideFix(tuple(teams), "unknown", bound=bound)
    # the plan: CP-SAT over the same candidates
    model = cp_model.CpModel()
    pick = [model.new_bool_var("") for _ in rows]
    holding: list[list[cp_model.IntVar]] = [[] for _ in range(n)]
    for var, r in zip(pick, rows.tolist(), strict=True):
        for a in subsets[r].tolist():
            holding[a].append(var)
    for vars_ in holding:
        model.add_exactly_one(vars_)
    if 0 < empty_now < len(teams):
        model.add(sum(v for v, r in zip(pick, rows.tolist(), strict=True) if empty[r]) <= empty_now)
    model.minimize(sum(int(costs[r]) * v for v, r in zip(pick, rows.tolist(), strict=True)))
    solver = solver_for(work, seed, 1, True, ends_in=wall_limit)
    found = solver.solve(model)
    if found == cp_model.INFEASIBLE:
        return WideFix(tuple(teams), "dearer", bound=cap)
    if found not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return WideFix(tuple(teams), "unknown", bound=bound)
    chosen = [r for v, r in zip(pick, rows.tolist(), strict=True) if solver.boolean_value(v)]
    members = {t: learners[subsets[r]].tolist() for t, r in zip(teams, chosen, strict=True)}
    if (
        overlap is not None
        and sum(overlap.common_slots(m) == 0 for m in members.values()) > empty_now
    ):
        return WideFix(tuple(teams), "unknown", bound=bound)  # short stretches: not kept
    extra = sum(state.team_cost(members[t], t) for t in teams) - now
    if found == cp_model.OPTIMAL:
        # the cheapest plan of the candidates; any other uses a team costing ``cap`` more
        return WideFix(tuple(teams), "optimal", extra, max(bound, min(extra, cap)), members)
    return WideFix(tuple(teams), "feasible", extra, bound, members)


def wide_fix(
    state: TeamState,
    records: Records | None,
    teams: Sequence[int],
    cap: int,
    *,
    work: float = WIDE_WORK,
    seed: int = 0,
    wall_limit: float | None = None,
    exists: bool = False,
) -> WideFix:
    """The cheapest plan of ``teams`` in range keeping their common time: the set
    partitioning of :func:`partition_keeping_time` where the teams fit it (its bound
    counts plans up to ``cap`` more than now; ``exists`` as there), else CP-SAT's
    full model (:func:`fix_keeping_time`)."""
    if records is not None:
        fix = partition_keeping_time(
            state, records, teams, cap, work=work, seed=seed, wall_limit=wall_limit, exists=exists
        )
        if fix is not None:
            return fix
    return fix_keeping_time(state, teams, work=work, seed=seed, wall_limit=wall_limit)


def wide_regroup(
    state: TeamState,
    term: MotivationTerm,
    team: int,
    records: Records | None = None,
    *,
    seed: int = 0,
    wall_limit: float | None = None,
) -> list[int] | None:
    """Bring ``team`` into range with the teams of :func:`wide_neighbourhood`, by the
    plan of :func:`wide_fix` (``records``: compiled criteria data, for the set
    partitioning), if that lowers the objective; the teams changed, or None."""
    teams = wide_neighbourhood(state, term, team)
    if len(teams) < 2 or state.deciding:
        return None
    fix = wide_fix(state, records, teams, 0, seed=seed, wall_limit=wall_limit)
    if fix.members is None or fix.extra is None or fix.extra >= 0:
        return None
    state.set_teams(teams, fix.members)
    return teams


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

    regroups = Regroups(state, term, rng, _REGROUP_CALLS)

    def try_regroup(t: int) -> bool:
        nonlocal swaps
        if not regroups.team(t, deadline):
            return False
        for u in regroups.changed:
            count[u] = sum(intrinsic[i] for i in state.members[u])
        swaps += 1
        return True

    wide_calls = _WIDE_CALLS
    wide_longest = WIDE_SECONDS
    wide_tried: set[frozenset[int]] = set()

    def try_wide(t: int) -> bool:
        nonlocal swaps, wide_calls, wide_longest
        if wide_calls <= 0 or deadline - time.perf_counter() < 1.5 * wide_longest:
            return False
        key = frozenset(i for u in wide_neighbourhood(state, term, t) for i in state.members[u])
        if key in wide_tried:
            return False  # the same learners found nothing before
        wide_tried.add(key)
        wide_calls -= 1
        wall = None if deadline == float("inf") else deadline - time.perf_counter()
        seed = int(rng.integers(1 << 30))
        began = time.perf_counter()
        try:
            changed = wide_regroup(state, term, t, regroups.records(), seed=seed, wall_limit=wall)
        finally:
            wide_longest = max(wide_longest, time.perf_counter() - began)
        if changed is None:
            return False
        for u in changed:
            count[u] = sum(intrinsic[i] for i in state.members[u])
        swaps += 1
        return True

    # same-availability swaps everywhere first (cheap, common time unchanged), then
    # others, then chains of two swaps for the teams no single swap helps, then
    # exact regroupings for the teams no chain helps, then wide regroupings (chains
    # of exchanges through teams sharing hours, solved by CP-SAT) for the rest
    for stage in (0, 1, 2, 3, 4) if any_partner else (0,):
        progress = True
        while progress and time.perf_counter() < deadline:
            progress = False
            for t in range(inst.k):
                if time.perf_counter() >= deadline:
                    break
                lo, hi = ranges[t]
                if stage >= 3:
                    if not lo <= count[t] <= hi and (try_regroup(t) if stage == 3 else try_wide(t)):
                        progress = True
                    continue
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
    until: float | None = None,
) -> tuple[list[int], int] | None:
    """:func:`spread_intrinsic` on a plain assignment: the new one and its objective.

    ``seconds`` bounds the repair (``None``: until no swap helps, for
    deterministic runs; every swap lowers the objective, so it ends).
    ``until`` (a ``time.perf_counter()`` reading) bounds it with its set-up:
    nothing starts past it, and the repair stops there.

    None when there is nothing to do: no motivation criterion, every team
    already in range, or criteria taking per-team decisions (projects), which
    swaps alone would leave stale; and when what the repair found costs no less
    than the plan it was given, hard rules included.
    """
    term = next((t for t in terms if isinstance(t, MotivationTerm)), None)
    if term is None or not (term.coefficient or term.hard):
        return None
    intrinsic = inst.intrinsic.astype(np.int64)
    per_team = np.bincount(np.asarray(assignment), weights=intrinsic, minlength=inst.k)
    ranges = np.array([term.target(t) for t in range(inst.k)]).reshape(-1, 2)
    if not ((per_team < ranges[:, 0]) | (per_team > ranges[:, 1])).any():
        return None
    if any(t.decisions() is not None for t in terms):
        return None
    if until is not None and time.perf_counter() >= until:
        return None
    state = TeamState(inst, terms, assignment)
    # counted from here: scoring every team first is part of the set-up, not the repair
    deadline = float("inf") if seconds is None else time.perf_counter() + max(0.0, seconds)
    if until is not None:
        deadline = min(deadline, until)
    before = state.total
    spread_intrinsic(state, term, deadline, seed, any_partner=any_partner)
    if state.total >= before:
        # no swap made, or never worse, hard rules included: a regrouping scored without
        # a rule (pins are left out of the compiled costs) must not reach the plan
        return None
    return list(state.assign), state.soft_cost


@dataclass(frozen=True)
class SpreadCheck:
    """What bringing one team into its intrinsic range would cost, checked exactly near it.

    ``extra`` is the cheapest plan of ``teams`` (the team and the partners of
    :func:`regroup_neighbourhood`, both tries) in which every one of them is
    in range, minus what those teams cost now, in objective units: at least 0
    means that there the fix costs the other criteria more than the
    motivation spread gains. None: no such plan among these teams. ``group``
    and ``group_intrinsic`` count the learners whose hours lie within the
    team's narrowest member's (with it), when the team is short of common
    time: teams holding them are all short of it too. ``emptied``: how many
    more of ``teams`` that cheapest plan in range leaves without any common time.
    """

    team: int
    off: int
    extra: int | None
    teams: tuple[int, ...]
    group: int
    group_intrinsic: int
    #: teams without common time in that cheapest plan in range, minus those among
    #: ``teams`` now (None: no such plan): above 0, the fix costs teams their last hour
    emptied: int | None = None
    #: the exact answer over the teams a fix keeping common time could pass through
    #: (:func:`wide_neighbourhood`, :func:`fix_keeping_time`); None when not computed
    wide: WideFix | None = None
    #: teams holding the learners of ``group`` now, and the fewest teams that can hold
    #: its intrinsic learners within the range (0: not counted): every one of them is
    #: confined to hours short of the target, so above ``hosts`` a plan in range has
    #: that many more teams below the target, whatever the other teams do
    hosts: int = 0
    needed: int = 0
    #: the exact answer over the same teams as ``wide``, common time or not
    #: (:func:`partition_exact`): "dearer" proves that no plan of them in range costs
    #: less than now; None when not computed or the teams do not fit it
    exact: WideFix | None = None


def spread_checks(
    state: TeamState,
    term: MotivationTerm,
    seed: int = 0,
    wide_work: float | None = None,
    wide_most: int = 16,
    exact_seconds: float | None = None,
) -> list[SpreadCheck]:
    """:class:`SpreadCheck` of every team out of range (compiled criteria data needed);
    with ``wide_work``, the first ``wide_most`` of them also with the answer of
    :func:`fix_keeping_time` over their :func:`wide_neighbourhood` (that much CP-SAT
    deterministic time each), and with ``exact_seconds`` too with the answer of
    :func:`partition_exact` over the same teams (that many seconds each at most)."""
    from teamform.search.regroup import MAX_LEARNERS, cheapest_partition

    inst = state.inst
    intrinsic = inst.intrinsic
    masks = inst.masks
    rng = np.random.default_rng(seed)
    records = build_records(state)
    overlap = overlap_term(state.terms)
    checks: list[SpreadCheck] = []
    for team in out_of_range(state, term):
        members = state.members[team]
        lo, hi = term.target(team)
        size = len(members)
        best: tuple[int | None, tuple[int, ...]] = (None, (team,))
        emptied: int | None = None

        def in_range(rows: np.ndarray, lo: int = lo, hi: int = hi) -> np.ndarray:
            count = intrinsic[rows].sum(axis=1)
            return np.asarray((count >= lo) & (count <= hi))

        for shuffle in (False, True):
            teams = regroup_neighbourhood(
                state, term, team, rng, min(REGROUP_TEAMS, MAX_LEARNERS // size), shuffle
            )
            if len(teams) < 2 or any(term.target(u) != (lo, hi) for u in teams):
                continue

            found = cheapest_partition(state, records, teams, in_range)
            if found is None:
                continue
            extra = found[1] - sum(state.cost[u] for u in teams)
            if best[0] is None or extra < best[0]:
                best = (extra, tuple(teams))
                if overlap is not None:
                    emptied = sum(
                        int(overlap.common_slots(found[0][u]) == 0)
                        - int(overlap.common_slots(state.members[u]) == 0)
                        for u in teams
                    )
        group, group_intrinsic, hosts, needed = 0, 0, 0, 0
        if overlap is not None and overlap.team_penalty(members, team):
            narrow = min((masks[i] for i in members), key=lambda m: (m.bit_count(), m))
            inside = [i for i in range(inst.n) if masks[i] & ~narrow == 0]
            group, group_intrinsic = len(inside), int(intrinsic[inside].sum())
            if narrow.bit_count() < overlap.need and hi > 0:
                # every team holding one of them has at most those hours, short of the
                # target; in range, each holds at most ``hi`` of their intrinsic ones
                hosts = len({state.assign[i] for i in inside})
                needed = -(-group_intrinsic // hi)
        wide = exact = None
        if wide_work is not None and len(checks) < wide_most:
            hood = wide_neighbourhood(state, term, team)
            if exact_seconds is not None and len(hood) > 1:
                exact = partition_exact(state, records, hood, seconds=exact_seconds)
                if exact is not None:
                    exact = WideFix(exact.teams, exact.status, exact.extra, exact.bound)
            wide = WideFix(tuple(hood), "unknown")
            if len(hood) > 1:
                cap = WIDE_CAP * term.coefficient
                if best[0] is not None and not emptied and set(best[1]) <= set(hood):
                    # that plan is one of these teams': the bound need not look above it
                    cap = min(cap, best[0] + 1)
                wide = wide_fix(state, records, hood, cap, work=wide_work, seed=seed, exists=True)
                wide = WideFix(wide.teams, wide.status, wide.extra, wide.bound)  # no plan
        checks.append(
            SpreadCheck(
                team,
                term.team_penalty(members, team),
                best[0],
                best[1],
                group,
                group_intrinsic,
                emptied,
                wide,
                hosts,
                needed,
                exact,
            )
        )
    return checks


#: Seconds the exact set partitioning (:func:`partition_exact`) gets at most by default.
EXACT_SECONDS = 60.0


def partition_exact(
    state: TeamState,
    records: Records,
    teams: Sequence[int],
    *,
    seconds: float = EXACT_SECONDS,
) -> WideFix | None:
    """Whether any plan of ``teams`` with every one of them in range costs less than now.

    Exact over the members of ``teams``: every team of their size out of them is
    scored by the compiled team cost (in every one of the teams: they must cost
    alike, else None), and an integer programme (SCIP: branch and bound on the
    linear relaxation, with its cuts) partitions the learners into candidates in
    the intrinsic range at the least total cost, below what the teams cost now.
    Nothing else is asked of the plan (a team that loses its common time pays
    for it in its cost), so the answer is over every re-assignment of those
    learners to those teams:

    - "dearer", ``bound`` 0: proven, no plan of them in range costs less than now
      (the programme is infeasible below that cost);
    - "optimal", with ``members`` and ``extra`` (below 0): the cheapest plan in
      range, which costs less than now (proven optimal, ``bound == extra``);
    - "feasible": a plan in range costing less than now, not proven the cheapest;
    - "unknown": nothing decided in ``seconds``.

    A candidate that costs, with the cheapest candidate in every other team, at
    least what the teams cost now is in no cheaper plan and is left out; so is
    one whose reduced cost in the linear relaxation lifts the relaxation to that
    (neither changes the answer). None when the teams do not fit: sizes or
    ranges that differ, more than :data:`WIDE_LEARNERS` learners, compiled costs
    that differ between teams or from the teams' cost now (pinned learners).
    """
    from ortools.linear_solver import pywraplp

    from teamform.search.regroup import _subset_costs

    inst = state.inst
    teams = list(teams)
    wide = _wide_subsets(state, teams)
    if wide is None:
        return None
    learners, subsets, lo, hi = wide
    n, size = len(learners), subsets.shape[1]
    count = inst.intrinsic[learners[subsets]].sum(axis=1)
    rows = np.flatnonzero((count >= lo) & (count <= hi))
    labels = np.asarray(teams, dtype=np.int64)
    # every team's cost of every candidate: the teams must be interchangeable
    every = _subset_costs(subsets[rows], learners, labels, records)
    if (every != every[0]).any():
        return None
    costs = every[0]
    # the teams as they are: learners in team order, team j holds j*size..j*size+size-1
    current = _subset_costs(
        np.arange(n, dtype=np.int64).reshape(len(teams), size), learners, labels, records
    )
    now = sum(state.cost[t] for t in teams)
    if int(np.trace(current)) != now:
        return None  # compiled costs differ from the criteria's here (pinned learners)
    if not len(rows):
        return WideFix(tuple(teams), "infeasible")
    # no plan cheaper than now uses a candidate that costs that much with the
    # cheapest candidate in every other team
    keep = costs + (len(teams) - 1) * int(costs.min()) < now
    rows, costs = rows[keep], costs[keep]
    if not len(rows):
        return WideFix(tuple(teams), "dearer", bound=0)

    def program(kind: str, cols: np.ndarray) -> tuple[pywraplp.Solver, list[pywraplp.Variable]]:
        lp = pywraplp.Solver.CreateSolver(kind)
        if lp is None:
            raise RuntimeError(f"OR-Tools has no {kind} solver")
        # no upper bounds in the relaxation (covering once implies them), so that every
        # reduced cost is at least 0 and bounds what a candidate adds to any plan
        x = [lp.BoolVar("") if kind == "SCIP" else lp.NumVar(0.0, lp.infinity(), "") for _ in cols]
        cover = [lp.Constraint(1.0, 1.0) for _ in range(n)]
        objective = lp.Objective()
        # below now, in whole objective units (team costs are integers)
        cheaper = lp.Constraint(-lp.infinity(), float(now - 1))
        for var, c in zip(x, cols.tolist(), strict=True):
            for a in subsets[rows[c]].tolist():
                cover[a].SetCoefficient(var, 1.0)
            objective.SetCoefficient(var, float(costs[c]))
            cheaper.SetCoefficient(var, float(costs[c]))
        objective.SetMinimization()
        return lp, x

    began = time.perf_counter()
    cols = np.arange(len(rows))
    lp, x = program("GLOP", cols)
    code = lp.Solve()
    if code == pywraplp.Solver.INFEASIBLE:
        # the relaxation has no solution below now: neither has the programme
        return WideFix(tuple(teams), "dearer", bound=0)
    if code == pywraplp.Solver.OPTIMAL:
        # any plan below now holding a candidate costs at least the relaxation's value
        # plus its reduced cost (the cost constraint's dual priced in): leave out those
        # that lift it to now (a margin for the relaxation's tolerances)
        value = lp.Objective().Value()
        reduced = np.array([var.reduced_cost() for var in x])
        cols = np.flatnonzero(value + reduced < now - 1 + 1e-6 * max(1.0, abs(now)))
    mip, x = program("SCIP", cols)
    mip.SetTimeLimit(int(max(0.1, seconds - (time.perf_counter() - began)) * 1000))
    code = mip.Solve()
    if code == pywraplp.Solver.INFEASIBLE:
        return WideFix(tuple(teams), "dearer", bound=0)
    if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return WideFix(tuple(teams), "unknown")
    chosen = [
        int(rows[c]) for var, c in zip(x, cols.tolist(), strict=True) if var.solution_value() > 0.5
    ]
    members = {t: learners[subsets[r]].tolist() for t, r in zip(teams, chosen, strict=True)}
    extra = sum(state.team_cost(members[t], t) for t in teams) - now
    if code == pywraplp.Solver.OPTIMAL:
        return WideFix(tuple(teams), "optimal", extra, extra, members)
    return WideFix(tuple(teams), "feasible", extra, None, members)
