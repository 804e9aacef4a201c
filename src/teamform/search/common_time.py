"""Teams without common time: how few there can be, and repairs that get there.

A team has common time when some window of ``block`` consecutive slots lies in
every member's availability. So the teams with common time of a plan are
groups of learners free in one window each, and the fewest teams without any
is a packing question over windows alone: put learners into windows they are
free in, as whole teams of the allowed sizes, as many teams as possible
(:func:`fewest_without_time`). Only the windows whose learner sets are
maximal matter, a few hundred at most, which keeps the packing small enough
for CP-SAT to solve exactly on cohorts of hundreds, far faster than the full
model. A greedy packing that places the learners with the fewest windows
first (:func:`greedy_packing`), with repairs that free a few teams at a time
and pack them again (:func:`near_packing`), comes first: when it leaves no
team without a window, that is its own proof, in a second on 500 learners.
Near a plan, the same repairs show which teams to regroup, in independent
parts (:func:`packing_neighbourhoods`), and how (:func:`packing_plan`).

The repair (:func:`time_repair`) works on a neighbourhood of teams: first it
asks CP-SAT for the fewest teams without common time, then the fewest below
the target, among the neighbourhood's learners with every hard rule kept;
then, with that count as a constraint, for the best objective. The
neighbourhoods (:func:`time_neighbourhood`) hold the teams without common
time of a section and, for each of their members, the teams that could take
that member in exchange for one of their own. The same repair over the
sets of learners sharing the target's hours (:func:`target_groups`) gives
fewer teams below the target, with no more teams without common time.
Both packings at once (:func:`fewest_below_with_time`) give the fewest teams
below the target with no more teams without time than allowed, which can be
more than the target packing allows alone; near a plan, its plan
(:func:`target_plan`) guides the target repairs. Its bound stays near the
learner bound on hundreds of learners; the learners in no set sharing the
target's hours, covered by teams in the windows they share
(:func:`stranded_teams`), bound it far closer, in milliseconds; that cover,
filled from the learners sharing its windows, with the others packed at the
target (:func:`stranded_packing`), is a plan that often meets the bound.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from teamform.availability import SLOTS_PER_WEEK, common_block_slots
from teamform.cancel import stopping
from teamform.cpmodel import SubModel
from teamform.criteria.base import SKILL_SCALE, Term
from teamform.criteria.overlap import OverlapTerm
from teamform.instance import Instance
from teamform.search.bitsets import to_words
from teamform.search.cpsat import solver_for
from teamform.search.lns import accept_solution
from teamform.search.local import HARD_COST, TeamState

if TYPE_CHECKING:
    from ortools.sat.python import cp_model
else:
    from teamform.lazy import cp_model  # imported when a model is first made

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
    shares a window with in the best packing found, or -1; ``teams`` holds that
    packing's teams with common time, as learner tuples, when a greedy packing
    found it (empty when CP-SAT did: its groups are not split into teams).
    """

    found: int
    proven: int
    optimal: bool
    groups: tuple[frozenset[int], ...]
    witness: tuple[int, ...]
    teams: tuple[tuple[int, ...], ...] = ()


#: A team's size bounds, ``(lo, hi)``: teams of one kind are interchangeable in a packing.
Kind = tuple[int, int]
#: A packed team: its window group, its kind and its learners.
Packed = tuple[int, Kind, list[int]]
#: Randomised runs of the greedy packing from scratch, per section.
GREEDY_TRIES = 8
#: Rounds of the repair of a packing near a plan, the teams freed at first and at
#: most beside a team without a window, and greedy runs per round.
NEAR_ROUNDS = 40
NEAR_TEAMS, NEAR_MAX_TEAMS = 2, 16
NEAR_TRIES = 3
#: CP-SAT's linearization level for the joint packing near a plan (:func:`fewest_below_with_time`).
JOINT_LINEARIZATION = 2
#: The learners a greedy packing at the target leaves, completed into the teams left
#: (:func:`_complete_at_target`) when they make at most this many: attempts of a chain
#: of swaps, steps per attempt, and the steps a learner swapped in stays put.
COMPLETE_TEAMS = 2
COMPLETE_ATTEMPTS = 8
COMPLETE_STEPS = 32
COMPLETE_TENURE = 6


def _kinds(inst: Instance, teams: Iterable[int]) -> dict[Kind, int]:
    """How many of ``teams`` there are of each kind."""
    kinds: dict[Kind, int] = {}
    for t in teams:
        key = (int(inst.team_lo[t]), int(inst.team_hi[t]))
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


def _group_teams(
    model: cp_model.CpModel,
    kinds: dict[Kind, int],
    h: int,
    size: int,
    head: cp_model.LinearExprT,
    per_kind: dict[Kind, list[cp_model.IntVar]],
    count_of: dict[tuple[int, Kind], cp_model.IntVar],
    counted: list[cp_model.IntVar],
) -> None:
    """Split the ``head`` learners placed in group ``h`` (of ``size``) into whole teams.

    One count of teams per kind, noted in ``per_kind``, ``count_of`` and
    ``counted``; the learners placed must fill those teams within their bounds.
    """
    lo_sum, hi_sum = [], []
    for (lo, hi), count in kinds.items():
        c = model.new_int_var(0, min(count, size // max(1, lo)), "")
        per_kind[(lo, hi)].append(c)
        count_of[h, (lo, hi)] = c
        counted.append(c)
        lo_sum.append(lo * c)
        hi_sum.append(hi * c)
    model.add(head >= sum(lo_sum))
    model.add(head <= sum(hi_sum))


def _rest_teams(
    model: cp_model.CpModel,
    kinds: dict[Kind, int],
    per_kind: dict[Kind, list[cp_model.IntVar]],
    left: cp_model.LinearExprT,
) -> None:
    """The teams the groups leave, of each kind, must hold the ``left`` learners."""
    used_lo, used_hi = [], []
    for (lo, hi), count in kinds.items():
        used = sum(per_kind[(lo, hi)])
        model.add(used <= count)
        used_lo.append(lo * (count - used))
        used_hi.append(hi * (count - used))
    model.add(left >= sum(used_lo))
    model.add(left <= sum(used_hi))


def greedy_packing(
    learners: Iterable[int],
    groups: Sequence[frozenset[int]],
    kinds: dict[Kind, int],
    avoid: Sequence[Sequence[int]],
    rng: random.Random,
    noise: float = 0.0,
) -> list[Packed] | None:
    """Teams of ``learners`` sharing a window each, the hardest to place first.

    A learner's *options* are the window groups that can still hold a team
    with it. The learner with the fewest goes first, into the group whose mates
    for it (the group's unplaced learners with the fewest options, no avoid
    pair among them) have the fewest options in all, as a team of the largest
    kind that fits; ``noise`` adds a random amount below it to every count, for
    restarts. The learners left over must fill the teams left over: teams are
    grown up to their kind's ``hi`` from their group when too many are left,
    and None is returned when that does not suffice.
    """
    pool = set(learners)
    options: dict[int, list[int]] = {i: [] for i in pool}
    free: list[set[int]] = []
    for g, group in enumerate(groups):
        inside = set(group & pool)
        free.append(inside)
        for i in inside:
            options[i].append(g)
    left = {key: c for key, c in kinds.items() if c > 0}

    def smallest() -> int:
        return min((lo for (lo, _), c in left.items() if c > 0), default=0)

    need = smallest()
    live = {i: sum(len(free[g]) >= need for g in options[i]) for i in pool}
    unplaced = set(pool)
    stuck: set[int] = set()
    packed: list[Packed] = []

    def rank(i: int) -> tuple[float, int]:
        return live[i] + noise * rng.random(), i

    while need:
        waiting = [i for i in unplaced if i not in stuck]
        if not waiting:
            break
        i = min(waiting, key=rank)
        best: tuple[float, int, Kind, list[int]] | None = None
        for g in options[i]:
            if len(free[g]) < need:
                continue
            key = max((kk for kk, c in left.items() if c > 0 and kk[0] <= len(free[g])))
            mates: list[int] = []
            for x in sorted((x for x in free[g] if x != i), key=rank):
                if len(mates) == key[0] - 1:
                    break
                if not any(y in avoid[x] for y in (i, *mates)):
                    mates.append(x)
            if len(mates) < key[0] - 1:
                continue
            score = sum(live[x] for x in mates) + noise * rng.random()
            if best is None or score < best[0]:
                best = (score, g, key, mates)
        if best is None:
            stuck.add(i)
            continue
        _, g, key, mates = best
        team = [i, *mates]
        for j in team:
            unplaced.discard(j)
            for h in options[j]:
                before = len(free[h])
                free[h].discard(j)
                if before >= need > len(free[h]):
                    for x in free[h]:
                        live[x] -= 1
        packed.append((g, key, team))
        left[key] -= 1
        if smallest() != need:
            need = smallest()
            live = {x: sum(len(free[h]) >= need for h in options[x]) for x in pool}
    # the learners left over make the teams left over: grow teams if too many are left
    room = sum(hi * c for (_, hi), c in left.items())
    for g, (_, hi), team in packed:
        for x in sorted(free[g] & unplaced):
            if len(unplaced) <= room or len(team) >= hi:
                break
            if not any(y in avoid[x] for y in team):
                team.append(x)
                unplaced.discard(x)
    return packed if len(unplaced) <= room else None


def _best_greedy(
    learners: Sequence[int],
    groups: Sequence[frozenset[int]],
    kinds: dict[Kind, int],
    avoid: Sequence[Sequence[int]],
    rng: random.Random,
    tries: int,
) -> list[Packed] | None:
    """The most teams of ``tries`` greedy packings (the first without noise)."""
    best: list[Packed] | None = None
    target = sum(kinds.values())
    for r in range(tries):
        got = greedy_packing(learners, groups, kinds, avoid, rng, 0.0 if r == 0 else 2.0)
        if got is not None and (best is None or len(got) > len(best)):
            best = got
        if best is not None and len(best) == target:
            break
    return best


def _as_plan(
    inst: Instance, learners: Sequence[int], teams: Sequence[int], packing: Sequence[Packed]
) -> list[int]:
    """A plan of ``learners`` into ``teams`` holding the teams of ``packing`` (the
    learners left over fill the other teams, up to their lower bounds first); -1
    for every other learner."""
    plan = [-1] * inst.n
    spare: dict[Kind, list[int]] = {}
    for t in teams:
        spare.setdefault((int(inst.team_lo[t]), int(inst.team_hi[t])), []).append(t)
    for _, key, team in packing:
        t = spare[key].pop(0)
        for i in team:
            plan[i] = t
    rest = [i for i in learners if plan[i] < 0]
    for t, team in _fill(inst, [t for ts in spare.values() for t in ts], rest).items():
        for i in team:
            plan[i] = t
    return plan


def _fill(inst: Instance, teams: Sequence[int], rest: list[int]) -> dict[int, list[int]]:
    """``rest`` (emptied) into ``teams``, each up to its lower bound first, then its upper."""
    members: dict[int, list[int]] = {t: [] for t in teams}
    for bound in (inst.team_lo, inst.team_hi):
        for t in teams:
            while rest and len(members[t]) < int(bound[t]):
                members[t].append(rest.pop())
    return members


def near_packing(
    inst: Instance,
    learners: Sequence[int],
    groups: Sequence[frozenset[int]],
    near: Sequence[int],
    block: int,
    rng: random.Random,
    rounds: int = NEAR_ROUNDS,
    most: int = NEAR_MAX_TEAMS,
    apart: bool = True,
) -> list[Packed]:
    """A packing that keeps the teams of plan ``near`` that share a window, and
    gives as many of the others one as repairs find.

    Each round frees one of the plan's teams without a window and, for each of
    its members in turn, the next kept team whose members share most windows
    with it, and packs the freed learners again (:func:`greedy_packing`); the
    result is kept when every freed team has a window. A round that fails is
    tried again with twice as many teams freed, up to ``most``; then the next
    team. With ``apart``, teams a repair regrouped are not freed again, so the
    repairs stay apart and each regroups few teams (see
    :func:`packing_neighbourhoods`). Only the teams of ``learners`` (one
    section) count.
    """
    avoid = inst.avoid_adj
    members: dict[int, list[int]] = {}
    for i in learners:
        members.setdefault(near[i], []).append(i)
    hosted: dict[int, Packed] = {}  # plan team -> its packed team
    loose: list[int] = []  # plan teams without a window
    holding: dict[int, list[int]] = {}  # learner -> the groups holding it
    for g, grp in enumerate(groups):
        for i in grp:
            holding.setdefault(i, []).append(g)
    for t in sorted(members):
        key = (int(inst.team_lo[t]), int(inst.team_hi[t]))
        first = holding.get(members[t][0], [])
        host = next((g for g in first if groups[g].issuperset(members[t])), None)
        if host is None:
            loose.append(t)
        else:
            hosted[t] = (host, key, members[t])
    starts = {i: window_starts(inst.masks[i], block) for i in learners}
    width = NEAR_TEAMS
    turn = 0
    changed: set[int] = set()  # teams a repair regrouped: never freed again
    for _ in range(rounds):
        if turn >= len(loose):
            break
        # one team without a window at a time, so that each repair stays small;
        # the other such teams may help it
        team = loose[turn]
        ranked = []
        for i in members[team]:
            share = {
                t: sum(1 for j in members[t] if starts[j] & starts[i])
                for t in members
                if t != team and t not in changed and members[t]
            }
            ranked.append(sorted(share, key=lambda t: (-share[t], rng.random())))
        chosen = [team]
        depth = 0
        while len(chosen) < 1 + width and depth < max(map(len, ranked), default=0):
            for order in ranked:
                if len(chosen) < 1 + width and order[depth] not in chosen:
                    chosen.append(order[depth])
            depth += 1
        freed = [i for t in chosen for i in members[t]]
        kinds = _kinds(inst, chosen)
        had = sum(t in hosted for t in chosen)
        got = _best_greedy(freed, groups, kinds, avoid, rng, NEAR_TRIES)
        if got is None or len(got) <= had:
            if width >= min(len(members) - 1 - len(changed), most):
                turn += 1  # this team cannot be helped: the next one
                width = NEAR_TEAMS
            else:
                width = min(len(members) - 1, most, 2 * width)
            continue
        # more of the freed teams with a window now; the rest stay without
        spare = {key: [t for t in chosen if (int(inst.team_lo[t]), int(inst.team_hi[t])) == key]
                 for key in kinds}  # fmt: skip
        for t in chosen:
            hosted.pop(t, None)
        placed: set[int] = set()
        for packed in got:
            t = spare[packed[1]].pop(0)
            hosted[t] = packed
            members[t] = packed[2]
            placed.update(packed[2])
        still = [t for ts in spare.values() for t in ts]
        members.update(_fill(inst, still, [i for i in freed if i not in placed]))
        loose = [t for t in loose if t not in chosen] + still
        if apart:
            changed.update(chosen)
        width = NEAR_TEAMS
    return [hosted[t] for t in sorted(hosted)]


def block_part(mask: int, block: int) -> int:
    """The slots of ``mask`` in runs of at least ``block`` (cyclic), as a bit set."""
    starts = window_starts(mask, block)
    out = starts
    for shift in range(1, block):
        out |= ((starts << shift) | (starts >> (SLOTS_PER_WEEK - shift))) & _WEEK
    return out


def target_groups(
    inst: Instance, learners: Sequence[int], term: OverlapTerm
) -> list[frozenset[int]]:
    """Maximal sets of ``learners`` sharing at least the target's block time.

    A team meets the target when the block time of its members' common mask
    reaches ``need``: that mask is the intersection of at most ``hi`` (the
    largest team) availability patterns, and the team lies in the set of
    learners free in all of it. So the intersections of up to ``hi`` patterns
    that reach the target (cut down to their block time, which changes no
    team's count), level by level, give every set a team at the target lies
    in; the maximal ones are kept, as in :func:`window_groups`.
    """
    if term.need == 0 or not learners:
        return []
    block, need = term.block, term.need
    patterns = sorted({block_part(inst.masks[i], block) for i in learners})
    level = {m for m in patterns if m.bit_count() >= need}
    seen = set(level)
    most = int(inst.team_hi.max())
    # the same intersections recur across levels and patterns
    parts: dict[int, int] = {}
    for _ in range(most - 1):
        nxt = set()
        for common in level:
            for m in patterns:
                key = common & m
                both = parts.get(key)
                if both is None:
                    both = parts[key] = block_part(key, block)
                if both != common and both not in seen and both.bit_count() >= need:
                    nxt.add(both)
        seen |= nxt
        level = nxt
    smallest = int(inst.team_lo.min())
    sets = {frozenset(i for i in learners if inst.masks[i] & common == common) for common in seen}
    ordered = sorted((g for g in sets if len(g) >= smallest), key=lambda g: (-len(g), sorted(g)))
    kept: list[frozenset[int]] = []
    for g in ordered:
        if not any(g <= other for other in kept):
            kept.append(g)
    return sorted(kept, key=sorted)


def fewest_below_target(
    inst: Instance,
    term: OverlapTerm,
    *,
    time_limit: float,
    workers: int = 1,
    seed: int = 0,
    exact: bool = True,
) -> Packing:
    """The fewest teams below the common-time target any plan can have.

    The packing of :func:`fewest_without_time` over :func:`target_groups`
    instead of window groups: a team placed in a group meets the target, and
    every team that meets it lies in a group. So ``proven`` bounds the teams
    below the target of every plan (avoid pairs and pins ignored) and
    ``found`` is a packing's own count.
    """
    return _fewest_outside(
        inst, term, lambda members: target_groups(inst, members, term),
        time_limit=time_limit, workers=workers, seed=seed, exact=exact,
    )  # fmt: skip


def fewest_below_with_time(
    inst: Instance,
    term: OverlapTerm,
    without_time: int,
    *,
    time_limit: float,
    workers: int = 1,
    seed: int = 0,
    deterministic: bool = False,
    wall_limit: float | None = None,
    near: Sequence[int] | None = None,
    teams: Sequence[int] | None = None,
) -> Packing:
    """The fewest teams below the target any plan with at most ``without_time``
    teams without common time can have.

    The two packings at once: per section, teams of each size in the sets of
    learners sharing the target's hours (:func:`target_groups`) and in the
    window groups (:func:`window_groups`), each learner in at most one set, the
    learners left over fitting the remaining teams, and at most
    ``without_time`` teams in neither; CP-SAT maximises the teams at the
    target. With ``without_time`` the proven fewest teams without time, this
    is the fewest below the target that keeps them there, which can be more
    than :func:`fewest_below_target` allows alone: regrouping for the target
    may leave learners without any window in common. Avoid pairs and pins are
    ignored, so ``proven`` bounds every plan with that many teams without time;
    ``found`` is CP-SAT's packing (every team when it found none), and its
    teams (``teams``) are split out of the sets as in :func:`fewest_without_time`
    (target sets first in ``groups``). ``time_limit`` is in CP-SAT's
    deterministic time when ``deterministic`` is set (``wall_limit`` then bounds
    the wall clock). CP-SAT starts from plan ``near`` when given: each of its
    teams in the first set that holds it, target sets first. With ``teams``
    (and ``near``), only those teams of ``near`` and their learners are packed:
    a neighbourhood, the rest of the plan as it is; the counts are then those
    teams' (``found`` is the neighbourhood's teams below the target).
    """
    chosen = None if teams is None or near is None else set(teams)
    k = inst.k if chosen is None else len(chosen)
    n = inst.n
    model = cp_model.CpModel()
    place: dict[int, list[cp_model.IntVar]] = {}
    groups: list[frozenset[int]] = []
    var_of: list[dict[int, cp_model.IntVar]] = []
    count_of: dict[tuple[int, Kind], cp_model.IntVar] = {}
    at_target: list[cp_model.IntVar] = []
    timed: list[cp_model.IntVar] = []
    for s in range(len(inst.section_names)):
        section = inst.teams_of_section(s).tolist()
        if chosen is None:
            members = [i for i in range(n) if int(inst.section[i]) == s]
        else:
            assert near is not None
            section = [t for t in section if t in chosen]
            members = [i for i in range(n) if near[i] in chosen and int(inst.section[i]) == s]
        if not section or not members:
            continue
        kinds = _kinds(inst, section)
        per_kind: dict[Kind, list[cp_model.IntVar]] = {key: [] for key in kinds}
        heads = []
        families = (
            (target_groups(inst, members, term), at_target),
            (window_groups(inst, members, term.block), timed),
        )
        for family, counted in families:
            for g in family:
                h = len(groups)
                groups.append(g)
                xs = {i: model.new_bool_var("") for i in sorted(g)}
                var_of.append(xs)
                for i, v in xs.items():
                    place.setdefault(i, []).append(v)
                head = sum(xs.values())
                _group_teams(model, kinds, h, len(g), head, per_kind, count_of, counted)
                heads.append(head)
        _rest_teams(model, kinds, per_kind, len(members) - sum(heads))
    for vs in place.values():
        model.add_at_most_one(vs)
    model.add(k - sum(at_target) - sum(timed) <= without_time)
    model.maximize(sum(at_target))
    home: list[cp_model.IntVar] = []
    if near is not None:
        home = _hint_packing(inst, model, near, groups, var_of, count_of)
    wall_end = None if wall_limit is None else time.perf_counter() + wall_limit

    def run(limit: float, seed: int) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        # both solves together keep within ``wall_limit``
        left = None if wall_end is None else wall_end - time.perf_counter()
        solver = solver_for(limit, seed, workers, deterministic, ends_in=left)
        if near is not None:
            # the cuts of the full linear relaxation: at 120 learners, from a plan one
            # team above the minimum, CP-SAT finds and proves it in 3 s where without
            # them it finds nothing better in 12 s (from no plan they find worse)
            solver.parameters.linearization_level = JOINT_LINEARIZATION
        return solver.solve(model), solver

    code, solver = run(time_limit / 2 if home else time_limit, seed)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        proven = k if code == cp_model.INFEASIBLE else 0
        return Packing(k, proven, False, tuple(groups), tuple([-1] * n))
    proven = max(0, k - int(solver.best_objective_bound + 1e-6))
    optimal = code == cp_model.OPTIMAL
    if home:
        # as many learners in their team's set as that count allows: the plan's
        # teams stay whole where they can
        most = sum(solver.value(c) for c in at_target)
        model.clear_hints()
        for xs in var_of:
            for v in xs.values():
                model.add_hint(v, solver.value(v))
        for c in count_of.values():
            model.add_hint(c, solver.value(c))
        model.add(sum(at_target) >= most)
        model.maximize(sum(home))
        again, second = run(time_limit / 2, seed + 1)
        if again in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = second
    witness, split = _solved(solver, n, var_of, count_of, near)
    found = k - sum(solver.value(c) for c in at_target)
    return Packing(found, proven, optimal, tuple(groups), witness, split)


def stranded_teams(
    inst: Instance,
    term: OverlapTerm,
    without_time: int,
    *,
    time_limit: float = 10.0,
    workers: int = 1,
    seed: int = 0,
) -> int:
    """A lower bound on the teams below the target of every plan with at most
    ``without_time`` teams without common time: the fewest teams the
    *stranded* learners need.

    A learner in none of its section's :func:`target_groups` is stranded: every
    team holding one falls short of the target. A team with common time lies in
    a window, so the stranded learners it holds share one, at most its size
    bound of them: per section, CP-SAT covers the stranded learners with teams
    in their :func:`window_groups` (their own, maximal sets sharing a window),
    at most ``without_time`` teams in all in none, and the fewest teams it needs
    (its proven bound) bound the teams below the target. The other members those
    teams need, and every other learner, are left out, as are avoid pairs and
    pins: a few dozen stranded learners, solved in milliseconds where the joint
    packing (:func:`fewest_below_with_time`) of hundreds of learners leaves its
    bound near the learner bound. ``inst.k`` when no such cover exists.
    """
    if not term.need:
        return 0
    model = cp_model.CpModel()
    used: list[cp_model.IntVar] = []
    outside: list[cp_model.IntVar] = []
    for s in range(len(inst.section_names)):
        cover = _stranded_cover(model, inst, term, s)
        if cover is not None:
            used += cover.used
            outside += cover.outside
    if not used:
        return 0
    model.add(sum(outside) <= without_time)
    model.minimize(sum(used))
    solver = solver_for(time_limit, seed, workers, False)
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        return inst.k
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0
    return int(np.ceil(solver.best_objective_bound - 1e-6))


#: One window group of a cover (None: the teams in none), its learners, whether each is
#: placed there, and its teams per kind.
_Placed = tuple[
    frozenset[int] | None, list[int], list["cp_model.IntVar"], dict[Kind, "cp_model.IntVar"]
]


@dataclass
class _Cover:
    """One section's cover of its stranded learners by teams in the windows they
    share (:func:`stranded_teams`): its learners, the stranded ones, its sets
    sharing the target's hours, each window group's placements, every team count
    and those of the teams in no window."""

    members: list[int]
    stranded: list[int]
    targets: list[frozenset[int]]
    placed: list[_Placed]
    used: list[cp_model.IntVar]
    outside: list[cp_model.IntVar]


def _stranded_cover(
    model: cp_model.CpModel, inst: Instance, term: OverlapTerm, s: int
) -> _Cover | None:
    """Section ``s``'s cover model of :func:`stranded_teams`, added to ``model``;
    None when the section has no teams, no learners or none stranded."""
    teams = inst.teams_of_section(s).tolist()
    members = [i for i in range(inst.n) if int(inst.section[i]) == s]
    if not teams or not members:
        return None
    targets = target_groups(inst, members, term)
    inside = set().union(*targets)
    stranded = [i for i in members if i not in inside]
    if not stranded:
        return None
    cover = _Cover(members, stranded, targets, [], [], [])
    kinds = _kinds(inst, teams)
    per_kind: dict[Kind, list[cp_model.IntVar]] = {key: [] for key in kinds}
    ways: dict[int, list[cp_model.IntVar]] = {i: [] for i in stranded}
    # each window the stranded learners share, then the teams in none
    for group in [*window_groups(inst, stranded, term.block), None]:
        inner = stranded if group is None else sorted(group)
        xs = [model.new_bool_var("") for _ in inner]
        for i, x in zip(inner, xs, strict=True):
            ways[i].append(x)
        room = []
        counts: dict[Kind, cp_model.IntVar] = {}
        for (lo, hi), count in kinds.items():
            c = model.new_int_var(0, min(count, len(inner)), "")
            per_kind[(lo, hi)].append(c)
            counts[(lo, hi)] = c
            cover.used.append(c)
            room.append(hi * c)
            if group is None:
                cover.outside.append(c)
        model.add(sum(xs) <= sum(room))
        cover.placed.append((group, inner, xs, counts))
    for i in stranded:
        model.add_exactly_one(ways[i])
    for key, count in kinds.items():
        model.add(sum(per_kind[key]) <= count)
    return cover


def _fill_window(
    inst: Instance,
    term: OverlapTerm,
    team: list[int],
    free: Sequence[int],
    taken: set[int],
    size: int,
) -> bool:
    """Grow ``team`` to ``size`` with learners of ``free`` (in order) not in
    ``taken``, keeping a window in common and no avoid pair; those added join
    ``taken``. Whether it reached ``size``."""
    common = _WEEK
    for i in team:
        common &= window_starts(inst.masks[i], term.block)
        if any(j in inst.avoid_adj[i] for j in team):
            return False
    for j in free:
        if len(team) >= size:
            break
        both = common & window_starts(inst.masks[j], term.block)
        if j in taken or not both or any(j in inst.avoid_adj[i] for i in team):
            continue
        team.append(j)
        taken.add(j)
        common = both
    return len(team) >= size and common != 0


def stranded_packing(
    inst: Instance, term: OverlapTerm, *, time_limit: float, seed: int = 0, tries: int = NEAR_TRIES
) -> Packing | None:
    """Teams at the target around the fewest teams the stranded learners need.

    Per section, the stranded learners' cover of :func:`stranded_teams` with
    no team outside a window (CP-SAT, ``time_limit`` of its deterministic
    time): each of its teams is filled up to its kind's lower bound with
    learners sharing its window, those in the fewest :func:`target_groups`
    first (no avoid pair, a window kept in common), and the learners left are
    packed into the sets sharing the target's hours (:func:`greedy_packing`,
    ``tries`` runs). The teams below the target are then the cover's and the
    target teams the greedy packing misses: on the 500-learner benchmark cohort
    17 of 125, the stranded bound, where a search from balanced teams ends with
    21-25. The learners a greedy packing leaves for its last teams are swapped
    into them at the target where a chain of swaps finds how
    (:func:`_complete_at_target`), else packed into the windows they share
    (:func:`_target_then_windows`). ``teams`` holds every packed team
    (``found`` counts the teams not at the target); None when no cover is
    found or one of its teams cannot be filled.
    """
    rng = random.Random(seed)
    packed: list[tuple[int, ...]] = []
    found = 0
    for s in range(len(inst.section_names)):
        section = inst.teams_of_section(s).tolist()
        kinds = _kinds(inst, section)
        model = cp_model.CpModel()
        cover = _stranded_cover(model, inst, term, s)
        teams: list[list[int]] = []
        if cover is None:
            members = [i for i in range(inst.n) if int(inst.section[i]) == s]
            targets = target_groups(inst, members, term)
        else:
            model.add(sum(cover.outside) == 0)
            model.minimize(sum(cover.used))
            solver = solver_for(time_limit, seed, 1, True)
            if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return None
            options = {i: sum(i in g for g in cover.targets) for i in cover.members}
            stranded = set(cover.stranded)
            free = sorted(
                (i for i in cover.members if i not in stranded), key=lambda i: (options[i], i)
            )
            taken: set[int] = set()
            for _, inner, xs, counts in cover.placed:
                got = [i for i, x in zip(inner, xs, strict=True) if solver.boolean_value(x)]
                slots = [key for key, c in counts.items() for _ in range(solver.value(c))]
                for j, key in enumerate(slots):
                    team = got[j :: len(slots)]
                    if len(team) > key[1] or not _fill_window(
                        inst, term, team, free, taken, key[0]
                    ):
                        return None
                    teams.append(team)
                    kinds[key] -= 1
            members = [i for i in cover.members if i not in taken and i not in stranded]
            # a team at the target of these learners lies in one of the section's sets
            rest, smallest = set(members), int(inst.team_lo.min())
            targets = sorted(
                {g & rest for g in cover.targets if len(g & rest) >= smallest}, key=sorted
            )
        at_target, in_windows = _target_then_windows(
            inst, term, members, targets, kinds, rng, tries
        )
        packed += [tuple(team) for team in [*teams, *at_target, *in_windows]]
        found += len(section) - len(at_target)
    return Packing(found, 0, False, (), tuple([-1] * inst.n), tuple(packed))


def _exchange(inst: Instance, term: OverlapTerm, left: list[int], teams: list[list[int]]) -> None:
    """Each learner of ``left``, fewest windows first, swapped with the member of
    one of ``teams`` free in the most windows whose team keeps the target (and
    no avoid pair) with it, where that member has more windows; in place."""
    count = {i: window_starts(inst.masks[i], term.block).bit_count() for t in teams for i in t}
    count.update({i: window_starts(inst.masks[i], term.block).bit_count() for i in left})
    for x in sorted(left, key=lambda i: (count[i], i)):
        pick: tuple[int, int, int] | None = None
        for t, team in enumerate(teams):
            for y in team:
                if count[y] <= count[x] or (pick is not None and count[y] <= pick[0]):
                    continue
                rest = [j for j in team if j != y]
                if any(j in inst.avoid_adj[x] for j in rest):
                    continue
                if term.common_slots([*rest, x]) >= term.need:
                    pick = (count[y], t, y)
        if pick is not None:
            _, t, y = pick
            teams[t][teams[t].index(y)] = x
            left[left.index(x)] = y


def _complete_at_target(
    inst: Instance,
    term: OverlapTerm,
    teams: list[list[int]],
    left: list[int],
    spare: dict[Kind, int],
    rng: random.Random,
) -> list[Packed] | None:
    """The learners ``left`` by a packing of ``teams`` at the target made into the
    ``spare`` teams at the target too, by a chain of swaps; ``teams`` in place.

    Each step swaps a learner of ``left`` with a member of a team that keeps the
    target with it (and no avoid pair), the swap that leaves ``left`` with the
    most common time pair by pair (each pair's block time up to ``need``, ties
    broken by ``rng``); a learner swapped in stays for :data:`COMPLETE_TENURE`
    steps. Done once ``left`` packs into the spare teams at the target
    (:func:`greedy_packing` over its :func:`target_groups`), else tried again
    from the start, :data:`COMPLETE_ATTEMPTS` attempts of :data:`COMPLETE_STEPS`
    steps. On the 500-learner benchmark cohort the greedy packings around the
    stranded cover leave four learners sharing no 3 h; CP-SAT proves no packing
    of them at the target with up to 32 of the teams near them, and the whole
    packing of 432 learners finds no more teams in 5 s of its work, where a chain
    of 6-8 swaps places them. The spare teams packed, or None (``teams`` as given).
    """
    masks, avoid, need = inst.masks, inst.avoid_adj, term.need
    slots: dict[int, int] = {}

    def block(mask: int) -> int:
        got = slots.get(mask)
        if got is None:
            got = slots[mask] = common_block_slots(mask, term.block)
        return got

    def common(xs: Sequence[int]) -> int:
        mask = _WEEK
        for i in xs:
            mask &= masks[i]
        return mask

    def packs(free: list[int]) -> list[Packed] | None:
        got = greedy_packing(free, target_groups(inst, free, term), spare, avoid, rng)
        if got is None or len(got) < sum(spare.values()):
            return None
        return got if sum(len(team) for _, _, team in got) == len(free) else None

    def score(free: list[int]) -> int:
        return sum(min(need, block(masks[i] & masks[j])) for a, i in enumerate(free)
                   for j in free[a + 1 :])  # fmt: skip

    if len(left) > sum(hi * c for (_, hi), c in spare.items()):
        return None
    start = [list(team) for team in teams]
    for _ in range(COMPLETE_ATTEMPTS):
        work, free = [list(team) for team in start], list(left)
        until: dict[int, int] = {}
        for step in range(COMPLETE_STEPS):
            done = packs(free)
            if done is not None:
                for team, now in zip(teams, work, strict=True):
                    team[:] = now  # the packing's own lists hold the teams
                return [(-1, key, team) for _, key, team in done]
            best: tuple[float, int, int, int] | None = None
            for a, x in enumerate(free):
                others = free[:a] + free[a + 1 :]
                for t, team in enumerate(work):
                    for b, y in enumerate(team):
                        if until.get(y, -1) >= step:
                            continue
                        rest = team[:b] + team[b + 1 :]
                        if any(j in avoid[x] for j in rest):
                            continue
                        if block(common(rest) & masks[x]) < need:
                            continue
                        value = score([*others, y]) + rng.random()
                        if best is None or value > best[0]:
                            best = (value, a, t, b)
            if best is None:
                break
            _, a, t, b = best
            x = free[a]
            free[a], work[t][b] = work[t][b], x
            until[x] = step + COMPLETE_TENURE
    return None


def _target_then_windows(
    inst: Instance,
    term: OverlapTerm,
    members: Sequence[int],
    targets: Sequence[frozenset[int]],
    kinds: dict[Kind, int],
    rng: random.Random,
    tries: int,
) -> tuple[list[list[int]], list[list[int]]]:
    """``members`` as teams of ``kinds``: greedy packings into the sets sharing the
    target's hours (``tries`` runs, the first without noise), the learners each
    leaves made into its last teams at the target by swaps where they fill at most
    :data:`COMPLETE_TEAMS` (:func:`_complete_at_target`), else packed into the
    windows they share. The run whose leftovers all get a
    window comes first, then the one with the most teams at the target: a team
    left without time would cost more than a team at the target gains."""
    best: tuple[tuple[bool, int], list[list[int]], list[list[int]]] | None = None
    for r in range(tries):
        got = greedy_packing(members, targets, kinds, inst.avoid_adj, rng, 0.0 if r == 0 else 2.0)
        if got is None:
            continue
        placed = {i for _, _, team in got for i in team}
        left = [i for i in members if i not in placed]
        spare = dict(kinds)
        for _, key, _ in got:
            spare[key] -= 1
        full = [team for _, _, team in got]
        if left and sum(spare.values()) <= COMPLETE_TEAMS:
            done = _complete_at_target(inst, term, full, left, spare, rng)
            if done is not None:
                got += done
                left, spare = [], dict.fromkeys(spare, 0)
                full = [team for _, _, team in got]
        timed = _best_greedy(
            left, window_groups(inst, left, term.block), spare, inst.avoid_adj, rng, NEAR_TRIES
        )
        if timed is None or len(timed) < sum(spare.values()):
            # the learners left with the fewest windows swapped into teams that keep
            # the target with them, for members with more
            _exchange(inst, term, left, full)
            timed = _best_greedy(
                left, window_groups(inst, left, term.block), spare, inst.avoid_adj, rng, NEAR_TRIES
            )
        timed = timed or []
        key = (len(timed) == sum(spare.values()), len(got))
        if best is None or key > best[0]:
            best = (key, full, [team for _, _, team in timed])
        if key == (True, sum(kinds.values())):
            break
    return ([], []) if best is None else (best[1], best[2])


def _solved(
    solver: cp_model.CpSolver,
    n: int,
    var_of: Sequence[dict[int, cp_model.IntVar]],
    count_of: dict[tuple[int, Kind], cp_model.IntVar],
    near: Sequence[int] | None,
) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """A solved packing model read back: each learner's group (-1 for none), and
    the teams each group's learners make (:func:`_split`, near plan ``near``)."""
    witness = [-1] * n
    for h, xs in enumerate(var_of):
        for i, v in xs.items():
            if solver.boolean_value(v):
                witness[i] = h
    split: list[tuple[int, ...]] = []
    for h in range(len(var_of)):
        sizes = {key: solver.value(c) for (g, key), c in count_of.items() if g == h}
        inside = [i for i in var_of[h] if witness[i] == h]
        split += [tuple(team) for _, team in _split(inside, sizes, near)]
    return tuple(witness), tuple(split)


def _hint_packing(
    inst: Instance,
    model: cp_model.CpModel,
    near: Sequence[int],
    groups: Sequence[frozenset[int]],
    var_of: Sequence[dict[int, cp_model.IntVar]],
    count_of: dict[tuple[int, Kind], cp_model.IntVar],
) -> list[cp_model.IntVar]:
    """Hint a packing model with plan ``near``: each team in the first group
    holding it (in the order of ``groups``), as a team of its kind. Returns the
    variables placing learners there."""
    teams: dict[int, list[int]] = {}
    for i, t in enumerate(near):
        teams.setdefault(t, []).append(i)
    holding: dict[int, list[int]] = {}
    for h, g in enumerate(groups):
        for i in g:
            holding.setdefault(i, []).append(h)
    where = [-1] * inst.n
    counts: dict[tuple[int, Kind], int] = {}
    for t, members in teams.items():
        host = next((h for h in holding.get(members[0], []) if groups[h] >= set(members)), None)
        if host is None:
            continue
        for i in members:
            where[i] = host
        key = (host, (int(inst.team_lo[t]), int(inst.team_hi[t])))
        counts[key] = counts.get(key, 0) + 1
    home = []
    for h, xs in enumerate(var_of):
        for i, v in xs.items():
            model.add_hint(v, int(where[i] == h))
            if where[i] == h:
                home.append(v)
    for key, c in count_of.items():
        model.add_hint(c, counts.get(key, 0))
    return home


def _part_avoid_pairs(inst: Instance, packing: Packing, teams: list[list[int]]) -> None:
    """Avoid pairs inside packed ``teams`` (the packing ignores them) swapped apart,
    in place: a member of such a pair with a member of another packed team, where
    each then lies in the set its new team was packed in and no avoid pair is
    made. Each team keeps the time its set shares."""
    avoid = inst.avoid_adj
    if not any(avoid[i] for team in teams for i in team):
        return
    sets = [packing.witness[team[0]] for team in teams]

    def clash(i: int, team: list[int], leaving: int) -> bool:
        # ``i`` in ``team`` once ``leaving`` has left it
        return any(j in avoid[i] for j in team if j not in (i, leaving))

    for a, team in enumerate(teams):
        if sets[a] < 0:
            continue
        for i in list(team):
            if i not in team or not clash(i, team, -1):
                continue  # swapped out already, or no pair
            for b, other in enumerate(teams):
                if b == a or sets[b] < 0 or i not in packing.groups[sets[b]]:
                    continue
                m = next(
                    (
                        m for m in other
                        if m in packing.groups[sets[a]]
                        and not clash(m, team, i) and not clash(i, other, m)
                    ),
                    None,
                )  # fmt: skip
                if m is not None:
                    team[team.index(i)], other[other.index(m)] = m, i
                    break


def target_plan(
    inst: Instance,
    term: OverlapTerm,
    packing: Packing,
    near: Sequence[int],
    seed: int = 0,
    teams: Sequence[int] | None = None,
) -> list[int] | None:
    """A whole plan holding the teams of ``packing`` (e.g. :func:`fewest_below_target`'s),
    the other learners of each section packed into windows for the teams left.

    Avoid pairs inside packed teams are first swapped apart within the sets
    they were packed in (:func:`_part_avoid_pairs`). Each packed team takes the
    team of ``near`` (a plan) it shares most learners with among those whose
    size bounds it fits, largest packed teams first; the
    learners left over are packed into the windows they share
    (:func:`greedy_packing` over their :func:`window_groups`), so that teams
    outside the packing keep common time where they can, and fill the teams
    left. With ``teams``, only those teams of ``near`` are regrouped (the
    packing's teams must lie in them), the others kept. None when the packing
    has no teams or they do not fit the teams' sizes.
    """
    if not packing.teams:
        return None
    rng = random.Random(seed)
    chosen = None if teams is None else set(teams)
    plan = [-1 if chosen is None or near[i] in chosen else near[i] for i in range(inst.n)]
    for s in range(len(inst.section_names)):
        section = inst.teams_of_section(s).tolist()
        if chosen is not None:
            section = [t for t in section if t in chosen]
        members = [i for i in range(inst.n) if int(inst.section[i]) == s and plan[i] < 0]
        if not section or not members:
            continue
        free = set(section)
        packed = sorted(
            (list(team) for team in packing.teams if int(inst.section[team[0]]) == s),
            key=lambda team: (-len(team), team),
        )
        _part_avoid_pairs(inst, packing, packed)
        for team in packed:
            shared: dict[int, int] = {}
            for i in team:
                shared[near[i]] = shared.get(near[i], 0) + 1
            fits = [t for t in free if int(inst.team_lo[t]) <= len(team) <= int(inst.team_hi[t])]
            if not fits:
                return None
            t = max(fits, key=lambda u: (shared.get(u, 0), -u))
            free.discard(t)
            for i in team:
                plan[i] = t
        rest = [i for i in members if plan[i] < 0]
        spare = sorted(free)
        room_lo = sum(int(inst.team_lo[t]) for t in spare)
        room_hi = sum(int(inst.team_hi[t]) for t in spare)
        if not room_lo <= len(rest) <= room_hi:
            return None
        groups = window_groups(inst, rest, term.block)
        got = _best_greedy(rest, groups, _kinds(inst, spare), inst.avoid_adj, rng, NEAR_TRIES)
        for i, t in enumerate(_as_plan(inst, rest, spare, got or [])):
            if t >= 0:
                plan[i] = t
    return plan if all(t >= 0 for t in plan) else None


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
    exact: bool = True,
    known: int = 0,
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

    Greedy packings come first (:func:`greedy_packing`, which keeps avoid
    pairs): CP-SAT starts from the best, and is not needed when it leaves no
    team without a window. With ``near`` (a plan), the packing returned keeps
    as many of the plan's teams as possible: by repairs of the plan's packing
    (:func:`near_packing`), or, when CP-SAT packs more teams than those, by a
    second solve that keeps the most at CP-SAT's count. ``exact=False`` skips
    CP-SAT: ``proven`` is then 0 unless a packing without such teams is found.
    ``known`` is a lower bound proven already (e.g. the learner bound,
    :meth:`~teamform.criteria.overlap.OverlapTerm.forced_teams`): a packing
    that reaches it needs no CP-SAT.
    """
    return _fewest_outside(
        inst, term, lambda members: window_groups(inst, members, term.block),
        time_limit=time_limit, workers=workers, seed=seed, near=near,
        deterministic=deterministic, wall_limit=wall_limit, exact=exact, known=known,
    )  # fmt: skip


def pattern_packing(inst: Instance, term: OverlapTerm) -> list[list[int]]:
    """Teams sharing a window each, packed over availability patterns: a quick witness.

    Per section, teams of the sizes construction would give them
    (:func:`~teamform.search.construct.target_sizes`) are packed one at a time:
    the pattern with the fewest windows still able to hold a team goes first,
    into its window with the most free learners, with the learners of that
    window who have the fewest such windows. Learners of one pattern are
    interchangeable, so the work is per pattern and window, not per learner:
    under a minute at 10 000 learners, where :func:`greedy_packing` takes several.
    Every other learner fills the teams left over, at their sizes, so the
    teams returned and those make a split of the cohort (avoid pairs and pins
    ignored): at most ``inst.k - len(result)`` teams need lack common time,
    which shows how much of a plan's count of such teams no packing argument
    can force.
    """
    from teamform.search.construct import target_sizes

    out: list[list[int]] = []
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s)
        members = np.flatnonzero(inst.section == s)
        if not len(teams) or not len(members):
            continue
        of_pattern: dict[int, list[int]] = {}
        for i in members.tolist():
            of_pattern.setdefault(inst.masks[i], []).append(i)
        masks = list(of_pattern)
        left = np.array([len(of_pattern[m]) for m in masks], dtype=np.float64)
        every = np.zeros((len(masks), SLOTS_PER_WEEK), dtype=np.float64)
        for p, mask in enumerate(masks):
            bits = window_starts(mask, term.block)
            every[p] = [(bits >> j) & 1 for j in range(SLOTS_PER_WEEK)]
        # windows free to the same patterns are one; floats, for a fast product
        starts = np.unique(every[:, every.any(axis=0)], axis=1)
        free = left @ starts  # learners free in each window
        for size in sorted(target_sizes(inst, teams, len(members)), reverse=True):
            room = (free >= size).astype(np.float64)
            options = starts @ room
            ready = np.flatnonzero((left > 0) & (options > 0))
            if not len(ready):
                break
            first = int(ready[np.argmin(options[ready])])  # the lowest index among ties
            windows = np.flatnonzero(starts[first] * room)
            window = int(windows[np.argmax(free[windows])])
            team = [first]
            left[first] -= 1
            inside = np.flatnonzero((starts[:, window] > 0) & (left > 0))
            for q in inside[np.argsort(options[inside], kind="stable")].tolist():
                take = min(int(left[q]), size - len(team))
                left[q] -= take
                team += [q] * take
                if len(team) == size:
                    break
            for q in team:
                free -= starts[q]
            out.append([of_pattern[masks[p]].pop() for p in team])
    return out


def _fewest_outside(
    inst: Instance,
    term: OverlapTerm,
    grouping: Callable[[list[int]], list[frozenset[int]]],
    *,
    time_limit: float,
    workers: int = 1,
    seed: int = 0,
    near: Sequence[int] | None = None,
    deterministic: bool = False,
    wall_limit: float | None = None,
    exact: bool = True,
    known: int = 0,
) -> Packing:
    """The packing of :func:`fewest_without_time` over the groups ``grouping``
    gives each section's learners."""
    n = inst.n
    rng = random.Random(seed)
    avoid = inst.avoid_adj
    model = cp_model.CpModel()
    place: dict[int, list[cp_model.IntVar]] = {}
    groups: list[frozenset[int]] = []
    var_of: list[dict[int, cp_model.IntVar]] = []
    count_of: dict[tuple[int, Kind], cp_model.IntVar] = {}
    good: list[cp_model.IntVar] = []
    kept: list[cp_model.IntVar] = []
    greedy: list[Packed] = []  # best greedy packing, groups indexed globally
    close: list[Packed] = []  # the one near the plan
    sections: list[tuple[list[int], dict[Kind, int], int]] = []  # members, kinds, offset
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s).tolist()
        if not teams:
            continue
        members = [i for i in range(n) if int(inst.section[i]) == s]
        kinds = _kinds(inst, teams)
        section_groups = grouping(members)
        offset = len(groups)
        groups += section_groups
        sections.append((members, kinds, offset))
        # from scratch: the packing to return without a plan, or CP-SAT's start
        fresh: list[Packed] = []
        if near is None or exact:
            fresh = _best_greedy(members, section_groups, kinds, avoid, rng, GREEDY_TRIES) or []
        if fresh and len(fresh) < len(teams):
            # teams left without a window: repaired as if the packing were a plan
            plan = _as_plan(inst, members, teams, fresh)
            fresh = near_packing(
                inst, members, section_groups, plan, term.block, rng,
                most=len(teams), apart=False,
            )  # fmt: skip
        greedy += [(offset + g, key, team) for g, key, team in fresh]
        if near is not None:
            mine = near_packing(inst, members, section_groups, near, term.block, rng)
            close += [(offset + g, key, team) for g, key, team in mine]

    def packed(best: list[Packed], proven: int, optimal: bool) -> Packing:
        witness = [-1] * n
        for g, _, team in best:
            for i in team:
                witness[i] = g
        found = inst.k - len(best)
        teams = tuple(tuple(team) for _, _, team in best)
        return Packing(found, proven, optimal, tuple(groups), tuple(witness), teams)

    # the packing to return when CP-SAT does no better: near the plan if one is given
    mine = close if near is not None else greedy
    if inst.k - len(mine) <= known:
        # the packing returned reaches a bound proven already
        return packed(mine, known, True)
    if len(greedy) == inst.k or len(close) == inst.k or not exact:
        # no team without a window, or no proof asked for: 0 is the bound
        return packed(mine, 0, len(mine) == inst.k)
    # the exact packing (built only now: at tens of thousands of learners it is large)
    home: dict[int, int] = {}  # learner -> group of its team in ``near``
    if near is not None:
        teams_of: dict[int, list[int]] = {}
        for i in range(n):
            teams_of.setdefault(near[i], []).append(i)
        for team in teams_of.values():
            host = next((h for h, g in enumerate(groups) if g.issuperset(team)), None)
            if host is not None:
                home.update((i, host) for i in team)
    for members, kinds, offset in sections:
        per_kind: dict[Kind, list[cp_model.IntVar]] = {key: [] for key in kinds}
        placed_parts = []
        end = next((o for _, _, o in sections if o > offset), len(groups))
        for h in range(offset, end):
            g = groups[h]
            xs = {}
            for i in sorted(g):
                v = model.new_bool_var("")
                xs[i] = v
                place.setdefault(i, []).append(v)
                if home.get(i) == h:
                    kept.append(v)
            head = sum(xs.values())
            _group_teams(model, kinds, h, len(g), head, per_kind, count_of, good)
            placed_parts.append(head)
            var_of.append(xs)
        # the learners left over make the remaining teams
        _rest_teams(model, kinds, per_kind, len(members) - sum(placed_parts))
    for vs in place.values():
        model.add_at_most_one(vs)
    model.maximize(sum(good))
    start = max(greedy, close, key=len)
    hinted: set[cp_model.IntVar] = set()
    counts: dict[tuple[int, Kind], int] = {}
    for at, key, team in start:
        for i in team:
            model.add_hint(var_of[at][i], 1)
            hinted.add(var_of[at][i])
        counts[at, key] = counts.get((at, key), 0) + 1
    for where, c in count_of.items():
        model.add_hint(c, counts.get(where, 0))
    for xs in var_of:
        for v in xs.values():
            if v not in hinted:
                model.add_hint(v, 0)

    # both solves together keep within ``wall_limit``
    wall_end = None if wall_limit is None else time.perf_counter() + wall_limit

    def run() -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        if deterministic:
            solver.parameters.max_deterministic_time = max(0.01, time_limit)
            if wall_end is not None:
                solver.parameters.max_time_in_seconds = max(0.01, wall_end - time.perf_counter())
        else:
            solver.parameters.max_time_in_seconds = max(0.01, time_limit)
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = seed
        # Ctrl-C belongs to the caller (it sets the cancel event), not to the solver
        solver.parameters.catch_sigint_signal = False
        return solver.solve(model), solver

    code, solver = run()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = 0 if code != cp_model.INFEASIBLE else inst.k
        return packed(mine, bound, False)
    most = sum(solver.value(c) for c in good)
    proven = max(0, inst.k - int(solver.best_objective_bound + 1e-6))
    optimal = code == cp_model.OPTIMAL
    if most <= len(mine):
        return packed(mine, proven, optimal and len(mine) == most)
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
    witness, teams = _solved(solver, n, var_of, count_of, near)
    found = inst.k - sum(solver.value(c) for c in good)
    return Packing(found, proven, optimal, tuple(groups), witness, teams)


def _split(
    learners: list[int], sizes: dict[Kind, int], near: Sequence[int] | None
) -> list[tuple[Kind, list[int]]]:
    """The learners CP-SAT placed in one window group as teams of the kinds it
    counted there (each of its size bounds, the sum between): a team of
    ``near`` lying whole in the group first stays whole, where its size fits."""
    slots = sorted((key for key, c in sizes.items() for _ in range(c)), reverse=True)
    if not slots:
        return []
    by_team: dict[int, list[int]] = {}
    for i in learners:
        by_team.setdefault(near[i] if near is not None else -1 - i, []).append(i)
    whole = [ts for ts in by_team.values() if len(ts) > 1]
    out: list[tuple[Kind, list[int]]] = []
    left = len(learners)
    for team in sorted(whole, key=lambda ts: (-len(ts), ts)):
        fit = next((key for key in slots if key[0] <= len(team) <= key[1]), None)
        if fit is None:
            continue
        others = list(slots)
        others.remove(fit)
        # the learners left must still fill the other teams
        rest_lo, rest_hi = sum(lo for lo, _ in others), sum(hi for _, hi in others)
        if not rest_lo <= left - len(team) <= rest_hi:
            continue
        slots, left = others, left - len(team)
        out.append((fit, team))
    taken = {i for _, team in out for i in team}
    rest = [i for i in learners if i not in taken]
    # the others fill the kinds left, each to its lower bound, then up to its upper one
    made = [(key, [rest.pop() for _ in range(min(key[0], len(rest)))]) for key in slots]
    for key, team in made:
        while rest and len(team) < key[1]:
            team.append(rest.pop())
    if rest:  # the counts did not hold these: no teams, CP-SAT's witness alone
        return []
    return out + [(key, team) for key, team in made if len(team) >= key[0]]


def time_neighbourhood(
    state: TeamState, term: OverlapTerm, team: int, size: int = 8, *, target: bool = False
) -> list[int]:
    """``team`` (without common time), up to ``size / 2 - 1`` of the section's
    other teams without common time, and, for each member in turn, the next of
    the teams that could take it, until there are ``size`` teams.

    Teams that could take a learner are ranked by how many of their members
    share a window of ``block`` with it: where it could join, one of them
    making room. With ``target``, teams below the target take the place of
    teams without common time.
    """
    inst = state.inst
    section = int(inst.team_section[team])
    pool = [u for u in inst.teams_of_section(section).tolist() if u != team]
    chosen = [team]
    limit = term.need if target else 1
    empty = [u for u in pool if term.common_slots(state.members[u]) < limit]
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


def packing_neighbourhoods(state: TeamState, packing: Packing) -> list[list[int]]:
    """The teams a plan as good as ``packing`` must regroup, in independent parts.

    With the packing's teams known, those are the plan's teams that are not
    one of them, and two are in one part when a team of the packing takes
    learners from both; each part can be regrouped alone. Otherwise, one part:
    :func:`packing_neighbourhood`. Largest first.
    """
    if not packing.teams:
        teams = packing_neighbourhood(state, packing)
        return [teams] if teams else []
    same = {frozenset(team) for team in packing.teams}
    teams = [t for t, members in enumerate(state.members) if frozenset(members) not in same]
    parent = {t: t for t in teams}

    def root(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for team in packing.teams:
        owners = sorted({state.assign[i] for i in team} & parent.keys())
        for t in owners[1:]:
            parent[root(t)] = root(owners[0])
    parts: dict[int, list[int]] = {}
    for t in teams:
        parts.setdefault(root(t), []).append(t)
    return sorted(parts.values(), key=lambda part: (-len(part), part))


def packing_plan(state: TeamState, packing: Packing, teams: Sequence[int]) -> list[int] | None:
    """The current plan with ``teams`` regrouped as ``packing`` groups their
    learners: each of its teams lying in ``teams`` takes the team of its size
    it shares most learners with, the learners left over the others. None when
    the packing has no teams (CP-SAT's) or its teams do not fit those sizes."""
    if not packing.teams:
        return None
    chosen = set(teams)
    learners = [i for t in teams for i in state.members[t]]
    inside = [team for team in packing.teams if all(state.assign[i] in chosen for i in team)]
    spare = {t: len(state.members[t]) for t in teams}
    plan = list(state.assign)
    placed: set[int] = set()
    for team in inside:
        shared: dict[int, int] = {}
        for i in team:
            shared[state.assign[i]] = shared.get(state.assign[i], 0) + 1
        fits = [t for t, size in spare.items() if size == len(team)]
        if not fits:
            continue  # a team grown past its old size: left to CP-SAT
        t = max(fits, key=lambda u: (shared.get(u, 0), -u))
        del spare[t]
        for i in team:
            plan[i] = t
        placed.update(team)
    rest = [i for i in learners if i not in placed]
    for t, size in spare.items():
        for _ in range(size):
            plan[rest.pop()] = t
    return plan


def regroup(
    state: TeamState, teams: Sequence[int], plan: Sequence[int], *, force: bool = False
) -> bool:
    """Give ``teams`` their members in ``plan`` if that costs less, or with
    ``force`` if it breaks no more hard rules; returns whether it did."""
    members: dict[int, list[int]] = {t: [] for t in teams}
    for t in teams:
        for i in state.members[t]:
            members[plan[i]].append(i)
    before = sum(state.cost[t] for t in teams)
    after = sum(state.team_cost(members[t], t) for t in teams)
    if after >= before and not (force and after // HARD_COST <= before // HARD_COST):
        return False
    state.set_teams(teams, members)
    return True


def _outside(sub: SubModel, teams: Sequence[int], groups: Sequence[frozenset[int]]) -> list:
    """Per team of ``teams``, a literal true when the team lies in none of ``groups``."""
    inst = sub.inst
    model = sub.model
    out = []
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
        z = model.new_bool_var("")
        model.add_bool_or([*inside, z])
        out.append(z)
    return out


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
    hint: Sequence[int] | None = None,
    target: bool = False,
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
    (``wall_limit`` bounds both together). Returns whether the state
    improved. ``hint`` (a plan, e.g. :func:`packing_plan`) is where the first
    solve starts from, instead of the current plan.

    With ``target``, fewer teams below the target instead: the groups are the
    neighbourhood's :func:`target_groups`, and the teams without common time
    may not grow in number.
    """
    if term.need == 0 or len(teams) < 2:
        return False
    inst = state.inst
    common = [term.common_slots(state.members[t]) for t in teams]
    empty_now = sum(c == 0 for c in common)
    have = sum(c < term.need for c in common) if target else empty_now
    if have == 0:
        return False
    learners = [i for t in teams for i in state.members[t]]
    hard = [tm for tm in state.terms if tm.hard]
    sub = SubModel(inst, learners, teams, hard)
    model = sub.model
    windows = [g for g in window_groups(inst, learners, term.block) if len(g) > 1]
    if target:
        bad = _outside(sub, teams, target_groups(inst, learners, term))
        model.add(sum(_outside(sub, teams, windows)) <= empty_now)
    else:
        bad = _outside(sub, teams, windows)
    model.add(sum(bad) <= have - 1)
    model.minimize(sum(bad))
    sub.hint(state.assign if hint is None else hint)

    wall_end = None if wall_limit is None else time.perf_counter() + wall_limit

    def run(work: float, seed: int) -> cp_model.CpSolver | None:
        # both solves together keep within ``wall_limit``
        left = None if wall_end is None else wall_end - time.perf_counter()
        solver = solver_for(work, seed, workers, True, ends_in=left)
        with stopping(solver, cancel):
            code = solver.solve(model)
        return solver if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None

    first = run(work / 2, seed)
    if first is None:
        return False
    # then as few learners moved as that count allows, from the count's plan
    plan = sub.read(first)
    model.add(sum(bad) <= round(first.objective_value))
    stay = [sub.x[i, state.assign[i]] for i in learners if (i, state.assign[i]) in sub.x]
    model.maximize(sum(stay))
    model.clear_hints()
    sub.hint([plan.get(i, state.assign[i]) for i in range(inst.n)])
    second = run(work / 2, seed + 1)
    if second is not None and accept_solution(state, sub, second, teams):
        return True
    return accept_solution(state, sub, first, teams)


#: Partners evaluated exactly per member of a team without common time by
#: :func:`swap_repair` (the ones sharing most windows first), and first swaps of a
#: chain tried per member when no single swap or move helps.
SWAP_CANDIDATES = 24
CHAIN_FIRSTS = 6
#: Windows :meth:`_Windows.regather` tries for a team, of each of its two orders.
REGATHER_WINDOWS = 8
#: Partners priced per member swapped out by :meth:`_Windows.regather`.
REGATHER_CANDIDATES = 12
#: Partners the guard is checked on, per partner priced, before pricing stops.
GUARD_SCAN = 8
#: Learners :meth:`_Windows._ejection` tries to move a member into the place of
#: (those closest to it first), and chains it prices.
EJECT_HOSTS = 48
EJECT_CANDIDATES = 32
#: Passes of :func:`swap_repair` over the teams still without common time.
SWAP_PASSES = 4


def start_words(inst: Instance, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The :func:`window_starts` of every availability pattern as words (one row
    per pattern), and each learner's pattern.

    A team has common time exactly when the AND of its members' rows is not
    zero: a window lies in every member's availability when it starts in each.
    """
    index: dict[int, int] = {}
    rows = np.empty(inst.n, dtype=np.int64)
    for i, mask in enumerate(inst.masks):
        rows[i] = index.setdefault(mask, len(index))
    return to_words([window_starts(mask, block) for mask in index]), rows


class _Windows:
    """Window starts of every team of ``state``, and of every team without each
    of its members, kept up to date as :func:`swap_repair` changes teams."""

    def __init__(
        self,
        state: TeamState,
        block: int,
        guard: Sequence[Term],
        keep: Sequence[bool] | None = None,
    ) -> None:
        inst = state.inst
        self.state = state
        self.guard = guard
        #: learners a team keeps at least one of, once it has one
        self.keep = None if keep is None else list(map(bool, keep))
        # learners of one pattern are alike here: tests over every learner run per pattern
        self.patterns, self.pattern = start_words(inst, block)
        self.w = self.patterns[self.pattern]
        ones = np.full((1, self.w.shape[1]), ~np.uint64(0), dtype=np.uint64)
        self._padded = np.concatenate([self.w, ones])
        self.team = np.zeros((inst.k, self.w.shape[1]), dtype=np.uint64)
        self.rest = np.zeros_like(self.w)  # per learner: its team's others
        self.section = np.asarray(inst.section, dtype=np.int64)
        self.movable = ~np.asarray(state.frozen, dtype=np.bool_)
        self.assign = np.asarray(state.assign, dtype=np.int64)
        self._popular: np.ndarray | None = None
        #: whether a team without a window may take the member swapped out
        self.lenient = False
        # every team at once: members in team order, each at its place in its team
        order = np.argsort(self.assign, kind="stable")
        sizes = np.bincount(self.assign, minlength=inst.k)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        table = np.full((inst.k, max(1, int(sizes.max(initial=0)))), inst.n, dtype=np.int64)
        table[self.assign[order], np.arange(inst.n) - first[self.assign[order]]] = order
        self._rows(np.arange(inst.k), table)

    def refresh(self, teams: Iterable[int]) -> None:
        """Recompute the rows of ``teams`` from their members."""
        teams = list(teams)
        if not teams:
            return
        st, n = self.state, self.state.inst.n
        width = max(1, max(len(st.members[t]) for t in teams))
        table = np.full((len(teams), width), n, dtype=np.int64)
        for r, t in enumerate(teams):
            table[r, : len(st.members[t])] = st.members[t]
            self.assign[st.members[t]] = t
        self._rows(np.asarray(teams, dtype=np.int64), table)

    def _rows(self, teams: np.ndarray, table: np.ndarray) -> None:
        """The rows of ``teams``, whose members ``table`` lists (``n`` past the last)."""
        n, width = self.state.inst.n, table.shape[1]
        rows = self._padded[table]
        before = np.bitwise_and.accumulate(rows, axis=1)
        after = np.bitwise_and.accumulate(rows[:, ::-1], axis=1)[:, ::-1]
        self.team[teams] = before[:, -1]
        ones = self._padded[n]
        for a in range(width):
            left = before[:, a - 1] if a else ones
            right = after[:, a + 1] if a + 1 < width else ones
            real = table[:, a] < n
            self.rest[table[real, a]] = (left & right)[real]

    def sharing(self, starts: np.ndarray) -> np.ndarray:
        """Per learner, whether it is free in one of the windows ``starts``."""
        return (self.patterns & starts).any(axis=1)[self.pattern]

    def empty(self) -> list[int]:
        """Teams without common time."""
        sizes = np.fromiter((len(m) for m in self.state.members), dtype=np.int64)
        return np.flatnonzero(~self.team.any(axis=1) & (sizes > 0)).tolist()

    def _keeps(self, near: np.ndarray, d: int) -> np.ndarray:
        """Of learners ``near``, those whose team has a window with ``d`` in their
        place, or, when :attr:`lenient`, has none now (it loses nothing)."""
        keeps = (self.rest[near] & self.w[d]).any(axis=1)
        if self.lenient:
            keeps |= ~self.team[self.assign[near]].any(axis=1)
        return keeps

    def _best_swap(self, t: int, d: int, ranked: np.ndarray, limit: int) -> tuple[int, int] | None:
        """The cheapest swap of ``d`` (in team ``t``) with one of the first
        ``limit`` learners of ``ranked`` the guard allows (the guard is checked
        first, on at most :data:`GUARD_SCAN` times as many): (cost change,
        learner), or None."""
        st = self.state
        best: tuple[int, int] | None = None
        priced = 0
        for x in ranked[: GUARD_SCAN * limit].tolist():
            u = st.assign[x]
            new_t = [x if m == d else m for m in st.members[t]]
            new_u = [d if m == x else m for m in st.members[u]]
            if not self._kept(t, u, new_t, new_u):
                continue
            change = st.swap_delta(d, x)[0]
            if best is None or change < best[0]:
                best = (change, x)
            priced += 1
            if priced >= limit:
                break
        return best

    def _kept(self, t: int, u: int, new_t: list[int], new_u: list[int]) -> bool:
        """Whether the guarded criteria are no worse in teams ``t`` and ``u``, and
        neither loses its last learner of :attr:`keep`."""
        st = self.state
        if not self._keeps_intrinsic(((t, new_t), (u, new_u))):
            return False
        for term in self.guard:
            was = term.team_penalty(st.members[t], t) + term.team_penalty(st.members[u], u)
            if term.team_penalty(new_t, t) + term.team_penalty(new_u, u) > was:
                return False
        return True

    def best_fix(self, t: int, avoid: int = -1) -> tuple[int, int, int, bool] | None:
        """The cheapest swap or move that gives team ``t`` a window and leaves
        the other team one (or none, when it has none now and :attr:`lenient`).

        Returns (cost change, member of ``t``, partner learner or team,
        whether a move), only for a change that lowers the cost, never with
        team ``avoid``.
        """
        st = self.state
        inst = st.inst
        w, rest = self.w, self.rest
        pool = (self.section == int(inst.team_section[t])) & self.movable
        pool &= (self.assign != t) & (self.assign != avoid)
        best: tuple[int, int, int, bool] | None = None
        for d in st.members[t]:
            others = rest[d]
            if st.frozen[d] or not others.any():
                continue
            # swaps: x gives t's others a window, and d one to x's others
            near = np.flatnonzero(pool & self.sharing(others))
            near = near[self._keeps(near, d)]
            shared = np.bitwise_count(w[near] & others).sum(axis=1) + np.bitwise_count(
                rest[near] & w[d]
            ).sum(axis=1)
            got = self._best_swap(t, d, near[np.argsort(-shared, kind="stable")], SWAP_CANDIDATES)
            if got is not None and (best is None or got[0] < best[0]):
                best = (got[0], d, got[1], False)
            if len(st.members[t]) <= st.lo[t]:
                continue
            # moves: d into a team with room that keeps a window with it
            sizes = np.fromiter((len(m) for m in st.members), dtype=np.int64)
            room = np.flatnonzero(
                (np.asarray(inst.team_section) == inst.team_section[t])
                & (sizes < np.asarray(st.hi))
                & (self.team & w[d]).any(axis=1)
            )
            for u in room.tolist()[:SWAP_CANDIDATES]:
                if u in (t, avoid):
                    continue
                moved = st.move_delta(d, u)
                if moved is None:
                    continue
                delta, new_t, new_u, _, _ = moved
                if (best is None or delta < best[0]) and self._kept(t, u, new_t, new_u):
                    best = (delta, d, u, True)
        return best if best is not None and best[0] < 0 else None

    def apply(self, fix: tuple[int, int, int, bool]) -> None:
        """Make the change :meth:`best_fix` found."""
        st = self.state
        _, d, other, move = fix
        t = st.assign[d]
        got = st.move_delta(d, other) if move else st.swap_delta(d, other)
        assert got is not None
        u = other if move else st.assign[other]
        st.apply(t, u, *got[1:])
        self.refresh((t, u))

    def _free_counts(self) -> np.ndarray:
        """Per window start, how many learners are free in it (computed once)."""
        if self._popular is None:
            bits = np.unpackbits(self.patterns.view(np.uint8), axis=1, bitorder="little")
            weight = np.bincount(self.pattern, minlength=len(self.patterns))
            self._popular = weight @ bits.astype(np.int64)
        return self._popular

    def _gather_order(self, t: int, tries: int) -> list[int]:
        """Window starts to gather team ``t`` in: those most of its members are
        free in, the ones most learners are free in first, and as many of those
        of the member with the fewest windows (the one hardest to swap out)."""
        members = list(self.state.members[t])
        bits = np.unpackbits(self.w[members].view(np.uint8), axis=1, bitorder="little")
        count = bits.sum(axis=0, dtype=np.int64)
        ranked = np.lexsort((-self._free_counts(), -count))
        hardest = bits[int(np.argmin(bits.sum(axis=1)))].astype(np.bool_)
        order = np.concatenate([ranked[:tries], ranked[hardest[ranked]][:tries]])
        order = order[np.sort(np.unique(order, return_index=True)[1])]
        return [s for s in order.tolist() if count[s]]

    def _free_in(self, start: int) -> np.ndarray:
        """Per learner, whether it is free in the window at ``start``."""
        word, bit = divmod(start, 64)
        column = self.patterns[:, word] >> np.uint64(bit)
        return (column & np.uint64(1)).astype(np.bool_)[self.pattern]

    def regather(self, t: int, tries: int = REGATHER_WINDOWS) -> bool:
        """Team ``t`` gathered in one window: its members free there stay, each
        of the others is swapped for a learner free there whose team keeps a
        window with the member. The windows tried are those most of ``t``'s
        members are free in, the ones most learners are free in first, and
        as many of those of the member with the fewest windows; kept when the
        swaps together lower the cost."""
        st = self.state
        inst = st.inst
        w, rest = self.w, self.rest
        members = list(st.members[t])
        pool = (self.section == int(inst.team_section[t])) & self.movable
        for start in self._gather_order(t, tries):
            free = self._free_in(start)
            out = [d for d in members if not free[d]]
            if any(st.frozen[d] for d in out):
                continue
            takers = pool & free & (self.assign != t)
            if not all(self._keeps(np.flatnonzero(takers), d).any() for d in out):
                continue  # a member no one free there can be swapped for: priced never
            done: list[tuple[int, int]] = []
            delta = 0
            for d in sorted(out, key=lambda d: (int(np.bitwise_count(w[d]).sum()), d)):
                near = np.flatnonzero(pool & free & (self.assign != t))
                near = near[self._keeps(near, d)]
                shared = np.bitwise_count(rest[near] & w[d]).sum(axis=1)
                ranked = near[np.argsort(-shared, kind="stable")]
                best = self._best_swap(t, d, ranked, REGATHER_CANDIDATES)
                if best is None:
                    break
                self.apply((best[0], d, best[1], False))
                done.append((d, best[1]))
                delta += best[0]
            if len(done) == len(out) and delta < 0:
                return True
            for d, x in reversed(done):  # back as it was
                self.apply((0, x, d, False))
        return False

    def chain(self, t: int) -> bool:
        """Two swaps: a member of ``t`` for a learner that gives ``t`` a window but
        leaves its own team without one, which then gets one by :meth:`best_fix`;
        kept when both together lower the cost."""
        st = self.state
        inst = st.inst
        w, rest = self.w, self.rest
        pool = (self.section == int(inst.team_section[t])) & self.movable & (self.assign != t)
        for d in list(st.members[t]):
            others = rest[d]
            if st.frozen[d] or not others.any():
                continue
            near = np.flatnonzero(pool & self.sharing(others))
            near = near[~(rest[near] & w[d]).any(axis=1)]
            shared = np.bitwise_count(w[near] & others).sum(axis=1)
            for x in near[np.argsort(-shared, kind="stable")[:CHAIN_FIRSTS]].tolist():
                u = st.assign[x]
                delta, new_t, new_u, ct, cu = st.swap_delta(d, x)
                if not self._kept(t, u, new_t, new_u):
                    continue
                st.apply(t, u, new_t, new_u, ct, cu)
                self.refresh((t, u))
                then = self.best_fix(u, avoid=t)
                if then is not None and delta + then[0] < 0:
                    self.apply(then)
                    return True
                back = st.swap_delta(x, d)
                st.apply(t, u, *back[1:])
                self.refresh((t, u))
        return False

    def _keeps_intrinsic(self, changed: Sequence[tuple[int, list[int]]]) -> bool:
        """Whether no team of ``changed`` (team, new members) loses its last
        learner of :attr:`keep`."""
        if self.keep is None:
            return True
        st, keep = self.state, self.keep
        return all(
            any(keep[i] for i in new) or not any(keep[i] for i in st.members[team])
            for team, new in changed
        )

    def _ejection(
        self, t: int, d: int, takers: np.ndarray
    ) -> tuple[int, list[tuple[int, int]]] | None:
        """The cheapest way out of team ``t`` for member ``d``, by which a learner
        of ``takers`` (free in the window ``t`` gathers in) takes its place.

        Either ``d`` swapped with such a learner ``y`` whose team keeps a window
        with ``d``, or a chain through a third team: ``d`` takes the place of a
        learner ``x`` in a team that keeps a window with ``d``, ``x`` the place
        of ``y`` in a team that keeps one with ``x``, and ``y`` the place of
        ``d``. Every team it touches but ``t`` keeps (or gains) a window.
        Priced by the full objective, team by team: what ``t`` gains with each
        ``y`` and what ``x``'s team gains with ``d`` (of the :data:`EJECT_HOSTS`
        learners of each kind closest in skills and motivation to the one they
        replace), then ``y``'s team with ``x`` for the :data:`EJECT_CANDIDATES`
        pairs cheapest in the other two. Returns (cost change, the swaps in
        order), or None.
        """
        st = self.state
        inst = st.inst
        w, rest = self.w, self.rest
        skills, intrinsic = inst.skills, np.asarray(inst.intrinsic, dtype=np.int64)

        def closest(learners: np.ndarray, to: int) -> list[int]:
            # skill points apart, a learner off the spread counted as three (the
            # preset's ratio): the ones likeliest to keep the other criteria
            gap = np.abs(skills[learners] - skills[to]).sum(axis=1)
            gap += 3 * SKILL_SCALE * (intrinsic[learners] != intrinsic[to])
            return learners[np.argsort(gap, kind="stable")[:EJECT_HOSTS]].tolist()

        def change(team: int, out: int, into: int) -> int:
            new = [into if m == out else m for m in st.members[team]]
            return st.team_cost(new, team) - st.cost[team]

        pool = (self.section == int(inst.team_section[t])) & self.movable & (self.assign != t)
        hosts = closest(np.flatnonzero(pool & (rest & w[d]).any(axis=1)), d)
        ys = np.asarray(closest(np.flatnonzero(takers & pool), d), dtype=np.int64)
        if not hosts or not len(ys):
            return None
        into_t = {y: change(t, d, y) for y in ys.tolist()}
        # (the cost change known so far, x, y): x = -1 for d swapped with y
        found: list[tuple[int, int, int]] = []
        for y in ys[(rest[ys] & w[d]).any(axis=1)].tolist():
            found.append((into_t[y] + change(st.assign[y], y, d), -1, y))
        for x in hosts:
            gain = change(st.assign[x], x, d)
            fit = ys[(self.assign[ys] != self.assign[x]) & (rest[ys] & w[x]).any(axis=1)]
            found += ((gain + into_t[y], x, y) for y in fit.tolist())
        found.sort()
        best: tuple[int, list[tuple[int, int]]] | None = None
        for known, x, y in found[:EJECT_CANDIDATES]:
            v = st.assign[y]
            new_t = [y if m == d else m for m in st.members[t]]
            if x < 0:
                changed = [(t, new_t), (v, [d if m == y else m for m in st.members[v]])]
                cost, swaps = known, [(d, y)]
            else:
                u = st.assign[x]
                changed = [
                    (t, new_t),
                    (u, [d if m == x else m for m in st.members[u]]),
                    (v, [x if m == y else m for m in st.members[v]]),
                ]
                cost, swaps = known + change(v, y, x), [(d, x), (x, y)]
            if (best is None or cost < best[0]) and self._keeps_intrinsic(changed):
                best = (cost, swaps)
        return best

    def eject(self, t: int, tries: int = REGATHER_WINDOWS) -> bool:
        """Team ``t`` gathered in one window by ejection chains: its members free
        there stay, each of the others leaves by :meth:`_ejection` (into a team
        that keeps a window with it, whose learner it replaces goes on to a third
        team when no one free there can be swapped for it directly), and learners
        free there take their places. The windows of :meth:`regather`; kept
        when the whole lowers the cost, by the full objective: a member hard to
        place may cost some motivation or skill balance where the objective
        says the team's time is worth it."""
        st = self.state
        members = list(st.members[t])
        for start in self._gather_order(t, tries):
            free = self._free_in(start)
            out = [d for d in members if not free[d]]
            if not out or any(st.frozen[d] for d in out):
                continue
            done: list[tuple[int, int]] = []
            delta = 0
            for d in sorted(out, key=lambda d: (int(np.bitwise_count(self.w[d]).sum()), d)):
                way = self._ejection(t, d, free)
                if way is None:
                    delta = 0
                    break
                delta += way[0]
                for a, b in way[1]:
                    self.apply((0, a, b, False))
                    done.append((a, b))
            if delta < 0:
                return True
            for a, b in reversed(done):  # back as it was
                self.apply((0, a, b, False))
        return False


def swap_repair(
    state: TeamState,
    term: OverlapTerm,
    *,
    deadline: float | None = None,
    guard: Sequence[Term] = (),
    keep: Sequence[bool] | None = None,
) -> int:
    """Teams without common time given a window by swaps and moves; returns how
    many fewer such teams there are.

    For each team without common time in turn, the first of these that
    lowers the cost: the cheapest swap of a member with a learner of another
    team, or move of a member to a team with room, that gives it a window
    and leaves the other team one (:meth:`_Windows.best_fix`; the
    :data:`SWAP_CANDIDATES` partners per member sharing most windows are
    priced); the team gathered in one window, each member not free there
    swapped for a learner who is (:meth:`_Windows.regather`); two swaps, the
    first leaving the partner's team without a window and the second giving
    it one (:meth:`_Windows.chain`); the team gathered in one window by
    ejection chains, each member not free there taking a place in a team that
    keeps a window with it, the learner it replaces going on to a third team
    where no direct swap fits (:meth:`_Windows.eject`: several members of
    rare windows at once, which the single changes above cannot move). The
    first pass over the teams tries single swaps and moves alone; then passes
    over the teams still without a window try all of them, up to
    :data:`SWAP_PASSES` passes in all, and from the third on a team without a
    window may also take the member swapped out (it has nothing to lose).

    Every change lowers the cost, no team that has a window loses it, no
    criterion of ``guard`` gets worse in the teams a change touches (save in
    the ejection chains, which the full objective alone accepts: a team's
    first window is worth some of the guarded criteria there), and no
    team with a learner of ``keep`` (a flag per learner, e.g. intrinsically
    motivated) loses the last one. The work is a few AND-reductions over the
    window starts of the availability patterns per member (milliseconds a team
    at 50 000 learners), against CP-SAT's fraction of a second per
    :func:`time_repair`. ``deadline`` (wall
    clock) is checked between teams.
    """
    if term.need == 0 or state.deciding or state.inst.k < 2:
        return 0
    if deadline is not None and time.perf_counter() >= deadline:
        return 0  # setting up the windows costs a tenth of a second at 50 000 learners
    windows = _Windows(state, term.block, guard, keep)
    empty = windows.empty()
    before = len(empty)
    for turn in range(SWAP_PASSES):
        # the cheap single swaps for every team first, so that a short deadline still
        # sees most teams helped; teams without a window take members swapped out only
        # once the others are done: such a member may be the one that team cannot have
        windows.lenient = turn > 1
        for t in empty:
            if deadline is not None and time.perf_counter() >= deadline:
                return before - len(windows.empty())
            if windows.team[t].any():
                continue  # a change for another team gave it a window
            fix = windows.best_fix(t)
            if fix is not None:
                windows.apply(fix)
            elif turn and not windows.regather(t) and not windows.chain(t):
                windows.eject(t)
        empty = windows.empty()
        if not empty:
            break
    return before - len(windows.empty())
