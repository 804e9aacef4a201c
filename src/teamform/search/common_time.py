"""Teams without common time: how few there can be, and repairs that get there.

A team has common time when some window of ``block`` consecutive slots lies in
every member's availability. So the teams with common time of a plan are
groups of learners free in one window each, and the fewest teams without any
is a packing question over windows alone: put learners into windows they are
free in, as whole teams of the allowed sizes, as many teams as possible
(:func:`fewest_without_time`). Only the windows whose learner sets are
maximal matter, a few hundred at most, which keeps the packing small enough
for CP-SAT to solve exactly on cohorts of hundreds, far faster than the full
model.

The repair (:func:`time_repair`) works on a neighbourhood of teams: first it
asks CP-SAT for the fewest teams without common time, then the fewest below
the target, among the neighbourhood's learners with every hard rule kept;
then, with that count as a constraint, for the best objective. The
neighbourhoods (:func:`time_neighbourhood`) hold the teams without common
time of a section and, for each of their members, the teams that could take
that member in exchange for one of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from teamform.availability import SLOTS_PER_WEEK
from teamform.cancel import stopping
from teamform.cpmodel import SubModel
from teamform.criteria.overlap import OverlapTerm
from teamform.instance import Instance
from teamform.search.cpsat import solver_for
from teamform.search.lns import accept_solution
from teamform.search.local import TeamState

_WEEK = (1 << SLOTS_PER_WEEK) - 1


def window_starts(mask: int, block: int) -> int:
    """Slots ``s`` such that ``s .. s + block - 1`` (cyclic) all lie in ``mask``, as a bit set."""
    full = mask | (mask << SLOTS_PER_WEEK)
    run = full
    for shift in range(1, block):
        run &= full >> shift
    return run & _WEEK


def window_groups(inst: Instance, learners: Sequence[int], block: int) -> list[frozenset[int]]:
    """Maximal sets of ``learners`` free together in some window of ``block`` slots.

    Every group of learners sharing a window lies inside one of them, so these
    are the only windows a packing needs. Sorted, for a stable model.
    """
    by_window: dict[int, list[int]] = {}
    for i in learners:
        starts = window_starts(inst.masks[i], block)
        while starts:
            low = starts & -starts
            by_window.setdefault(low.bit_length() - 1, []).append(i)
            starts ^= low
    sets = sorted({frozenset(v) for v in by_window.values()}, key=lambda s: (-len(s), sorted(s)))
    kept: list[frozenset[int]] = []
    for s in sets:  # larger first: a set is dropped when a kept one holds it
        if not any(s <= other for other in kept):
            kept.append(s)
    return sorted(kept, key=sorted)


@dataclass(frozen=True)
class Packing:
    """Fewest teams without common time: ``found`` in a plan, ``proven`` at least.

    ``witness`` maps each learner to the group (an index into ``groups``) it
    shares a window with in the best packing found, or -1.
    """

    found: int
    proven: int
    optimal: bool
    groups: tuple[frozenset[int], ...]
    witness: tuple[int, ...]


def fewest_without_time(
    inst: Instance,
    term: OverlapTerm,
    *,
    time_limit: float,
    workers: int = 1,
    seed: int = 0,
    near: Sequence[int] | None = None,
    deterministic: bool = False,
    wall_limit: float | None = None,
) -> Packing:
    """The fewest teams without common time any plan can have, by exact packing.

    Per section, with ``c[g, z]`` teams of size ``z`` in window group ``g`` and
    each learner in at most one group: the learners placed in a group fill its
    teams exactly, there are no more teams of each size than the section has
    (team sizes as the layout fixes them, or any size in a team's bounds), and
    the learners left over fit the remaining teams. Avoid pairs, pins and the
    other criteria are ignored, so ``proven`` (CP-SAT's bound) is a lower bound
    for every plan; ``found`` is the packing's own count (a plan may need
    more when avoid pairs forbid its groups).
    """
    n = inst.n
    model = cp_model.CpModel()
    place: dict[int, list[cp_model.IntVar]] = {}
    groups: list[frozenset[int]] = []
    var_of: list[dict[int, cp_model.IntVar]] = []
    good: list[cp_model.IntVar] = []
    kept: list[cp_model.IntVar] = []
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s).tolist()
        if not teams:
            continue
        members = [i for i in range(n) if int(inst.section[i]) == s]
        # teams by size bounds: (lo, hi) -> how many
        kinds: dict[tuple[int, int], int] = {}
        for t in teams:
            key = (int(inst.team_lo[t]), int(inst.team_hi[t]))
            kinds[key] = kinds.get(key, 0) + 1
        per_kind: dict[tuple[int, int], list[cp_model.IntVar]] = {key: [] for key in kinds}
        placed_parts = []
        section_groups = window_groups(inst, members, term.block)
        home: dict[int, int] = {}  # learner -> group of its team in ``near``
        if near is not None:
            teams_of: dict[int, list[int]] = {}
            for i in members:
                teams_of.setdefault(near[i], []).append(i)
            for team in teams_of.values():
                host = next((h for h, g in enumerate(section_groups) if g.issuperset(team)), None)
                if host is not None:
                    home.update((i, host) for i in team)
        for h, g in enumerate(section_groups):
            xs = {}
            for i in sorted(g):
                v = model.new_bool_var("")
                xs[i] = v
                place.setdefault(i, []).append(v)
                if home.get(i) == h:
                    kept.append(v)
                    model.add_hint(v, 1)
            head = sum(xs.values())
            lo_sum, hi_sum = [], []
            for (lo, hi), count in kinds.items():
                c = model.new_int_var(0, min(count, len(g) // max(1, lo)), "")
                per_kind[(lo, hi)].append(c)
                good.append(c)
                lo_sum.append(lo * c)
                hi_sum.append(hi * c)
            model.add(head >= sum(lo_sum))
            model.add(head <= sum(hi_sum))
            placed_parts.append(head)
            groups.append(g)
            var_of.append(xs)
        used_lo, used_hi = [], []
        for (lo, hi), count in kinds.items():
            used = sum(per_kind[(lo, hi)])
            model.add(used <= count)
            used_lo.append(lo * (count - used))
            used_hi.append(hi * (count - used))
        # the learners left over make the remaining teams
        left = len(members) - sum(placed_parts)
        model.add(left >= sum(used_lo))
        model.add(left <= sum(used_hi))
    for vs in place.values():
        model.add_at_most_one(vs)
    model.maximize(sum(good))

    def run() -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        if deterministic:
            solver.parameters.max_deterministic_time = max(0.01, time_limit)
            if wall_limit is not None:
                solver.parameters.max_time_in_seconds = max(0.01, wall_limit)
        else:
            solver.parameters.max_time_in_seconds = max(0.01, time_limit)
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = seed
        return solver.solve(model), solver

    code, solver = run()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = 0 if code != cp_model.INFEASIBLE else inst.k
        return Packing(inst.k, bound, False, tuple(groups), (-1,) * n)
    most = sum(solver.value(c) for c in good)
    proven = inst.k - int(solver.best_objective_bound + 1e-6)
    optimal = code == cp_model.OPTIMAL
    if kept:
        # as many of the plan's teams kept as that many teams with time allow
        model.clear_hints()
        for v in [*good, *(v for xs in var_of for v in xs.values())]:
            model.add_hint(v, solver.value(v))
        model.add(sum(good) >= most)
        model.maximize(sum(kept))
        again, second = run()
        if again in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = second
    witness = [-1] * n
    for index, xs in enumerate(var_of):
        for i, v in xs.items():
            if solver.boolean_value(v):
                witness[i] = index
    found = inst.k - sum(solver.value(c) for c in good)
    return Packing(found, max(0, proven), optimal, tuple(groups), tuple(witness))


def time_neighbourhood(state: TeamState, term: OverlapTerm, team: int, size: int = 8) -> list[int]:
    """``team`` (without common time), up to ``size / 2 - 1`` of the section's
    other teams without common time, and, for each member in turn, the next of
    the teams that could take it, until there are ``size`` teams.

    Teams that could take a learner are ranked by how many of their members
    share a window of ``block`` with it: where it could join, one of them
    making room.
    """
    inst = state.inst
    section = int(inst.team_section[team])
    pool = [u for u in inst.teams_of_section(section).tolist() if u != team]
    chosen = [team]
    empty = [u for u in pool if term.common_slots(state.members[u]) == 0]
    chosen += empty[: max(0, size // 2 - 1)]
    masks = inst.masks
    ranked = []
    for i in state.members[team]:
        starts = window_starts(masks[i], term.block)
        free = {
            u: sum(1 for j in state.members[u] if window_starts(masks[j], term.block) & starts)
            for u in pool
        }
        ranked.append(sorted(pool, key=lambda u: (-free[u], u)))
    # each member's next best team in turn, until the neighbourhood is full
    depth = 0
    while len(chosen) < size and depth < len(pool):
        for order in ranked:
            if len(chosen) < size and order[depth] not in chosen:
                chosen.append(order[depth])
        depth += 1
    return chosen


def packing_neighbourhood(state: TeamState, packing: Packing) -> list[int]:
    """Teams whose members the packing does not keep together in one window
    group: those a plan as good as the packing's must regroup."""
    return [
        t
        for t, members in enumerate(state.members)
        if len({packing.witness[i] for i in members}) > 1 or packing.witness[members[0]] < 0
    ]


def time_repair(
    state: TeamState,
    term: OverlapTerm,
    teams: Sequence[int],
    *,
    work: float,
    seed: int,
    workers: int = 1,
    cancel: threading.Event | None = None,
    wall_limit: float | None = None,
) -> bool:
    """Fewer teams without common time among ``teams``, with as few learners
    moved as that allows; kept if the objective improves.

    The model knows the hard rules and, per team and window group
    (:func:`window_groups` of the neighbourhood's learners), whether the team
    lies in the group. A first solve minimises the teams in none; a second,
    from the first one's plan, the learners that change team at that count, so
    that the rest of the plan (skills, motivation) stays where it can and the
    search's later moves mend the remainder. A cheap model on purpose: the full
    neighbourhood model, with every criterion, takes seconds of CP-SAT's time
    at this size. ``work`` is CP-SAT's deterministic time for both solves
    (``wall_limit`` bounds each one's wall seconds). Returns whether the state
    improved.
    """
    if term.need == 0 or len(teams) < 2:
        return False
    inst = state.inst
    have = sum(term.common_slots(state.members[t]) == 0 for t in teams)
    if have == 0:
        return False
    learners = [i for t in teams for i in state.members[t]]
    hard = [tm for tm in state.terms if tm.hard]
    sub = SubModel(inst, learners, teams, hard)
    model = sub.model
    groups = [g for g in window_groups(inst, learners, term.block) if len(g) > 1]
    empty = []
    for t in teams:
        lo = int(inst.team_lo[t])
        inside = []
        for g in groups:
            if len(g) < lo:
                continue
            y = model.new_bool_var("")
            outside = [v for i, v in sub.members[t] if i not in g]
            if outside:
                model.add(sum(outside) == 0).only_enforce_if(y)
            inside.append(y)
        z = model.new_bool_var(f"no_time[{t}]")
        model.add_bool_or([*inside, z])
        empty.append(z)
    model.add(sum(empty) <= have - 1)
    model.minimize(sum(empty))
    sub.hint(state.assign)

    def run(work: float, seed: int) -> cp_model.CpSolver | None:
        solver = solver_for(work, seed, workers, True)
        if wall_limit is not None:
            solver.parameters.max_time_in_seconds = max(0.01, wall_limit)
        with stopping(solver, cancel):
            code = solver.solve(model)
        return solver if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None

    first = run(work / 2, seed)
    if first is None:
        return False
    # then as few learners moved as that count allows, from the count's plan
    plan = sub.read(first)
    model.add(sum(empty) <= round(first.objective_value))
    stay = [sub.x[i, state.assign[i]] for i in learners if (i, state.assign[i]) in sub.x]
    model.maximize(sum(stay))
    model.clear_hints()
    sub.hint([plan.get(i, state.assign[i]) for i in range(inst.n)])
    second = run(work / 2, seed + 1)
    if second is not None and accept_solution(state, sub, second, teams):
        return True
    return accept_solution(state, sub, first, teams)
