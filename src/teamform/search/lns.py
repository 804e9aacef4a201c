"""Large-neighbourhood search: local search around small exact CP-SAT sub-models.

Loop until the budget runs out: a burst of cheap moves and swaps
(:mod:`teamform.search.local`), then a few neighbourhoods in which the members
of 2-4 teams are freed and re-assigned exactly by CP-SAT. Teams for a
neighbourhood are the costliest of a sample plus teams whose common time
overlaps it (so time-zone repairs are possible) or random ones. Since every
penalty is a sum over teams measured against cohort-wide targets, the
sub-model's objective is exactly the freed teams' share of the global
objective, and an improvement there is an improvement of the whole.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from teamform.cancel import is_set, stopping
from teamform.cpmodel import SubModel
from teamform.criteria import OBJECTIVE_SCALE, MotivationTerm, Term
from teamform.criteria.overlap import OverlapTerm, overlap_term, team_common
from teamform.criteria.project import ProjectChoiceTerm, ProjectTerm
from teamform.instance import Instance
from teamform.layout import team_members
from teamform.search.budget import Budget
from teamform.search.cpsat import solver_for
from teamform.search.local import HARD_COST, LocalSearch, TeamState
from teamform.search.params import DEFAULT_PARAMS, SearchParams

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.search.common_time import Packing
    from teamform.search.outcome import Outcome
else:
    from teamform.lazy import cp_model  # imported when a model is first made

#: Work units per second of budget in deterministic mode (one unit ~ one LS step).
DETERMINISTIC_UNITS_PER_SECOND = DEFAULT_PARAMS.lns_units_per_second
#: Work units charged for one CP-SAT neighbourhood in deterministic mode.
NEIGHBOURHOOD_UNITS = DEFAULT_PARAMS.neighbourhood_units


@dataclass
class LnsStats:
    """Counters of a search run."""

    ls_steps: int = 0
    neighbourhoods: int = 0
    improved: int = 0
    time_to_first: float | None = None


def solve_neighbourhood(
    state: TeamState,
    teams: Sequence[int],
    *,
    time_limit: float,
    seed: int,
    workers: int = 1,
    deterministic: bool = False,
    cancel: threading.Event | None = None,
    wall_limit: float | None = None,
) -> bool:
    """Re-assign the members of ``teams`` exactly; keep the result if it is better.

    ``wall_limit``: seconds until the solve must be over (a deadline; CP-SAT's
    measured overshoot is kept back from it). Returns whether the state improved.
    """
    learners = [i for t in teams for i in state.members[t]]
    sub = SubModel(state.inst, learners, teams, state.terms)
    sub.hint(state.assign)
    solver = solver_for(time_limit, seed, workers, deterministic, ends_in=wall_limit)
    with stopping(solver, cancel):
        code = solver.solve(sub.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    return accept_solution(state, sub, solver, teams)


def accept_solution(
    state: TeamState, sub: SubModel, solver: cp_model.CpSolver, teams: Sequence[int]
) -> bool:
    """Install the solver's teams (and decisions) if they cost less than the current ones."""
    before = sum(state.cost[t] for t in teams)
    found = sub.read(solver)
    members: dict[int, list[int]] = {t: [] for t in teams}
    for i, t in found.items():
        members[t].append(i)
    saved = state.decisions() if state.deciding else None
    for term in state.terms:
        term.read_decisions(sub, solver)
    after = sum(state.team_cost(members[t], t) for t in teams)
    if after >= before:
        if saved is not None:
            for term, d in zip(state.terms, saved, strict=True):
                if d is not None:
                    term.restore(d)
        return False
    state.set_teams(teams, members)
    return True


def pick_neighbourhood(state: TeamState, rng: np.random.Generator, size: int) -> list[int]:
    """A costly team plus teams of its section sharing time with it (or random)."""
    inst = state.inst
    k = inst.k
    sample = rng.integers(0, k, size=min(k, 8)).tolist()
    first = max(sample, key=lambda t: state.cost[t])
    pool = inst.teams_of_section(int(inst.team_section[first])).tolist()
    pool = [t for t in pool if t != first]
    if not pool:
        return [first]
    if len(pool) > 40:
        pool = [pool[p] for p in rng.choice(len(pool), size=40, replace=False).tolist()]
    project = next((t for t in state.terms if isinstance(t, ProjectTerm)), None)
    if project is not None and rng.random() < 0.5:
        # teams holding projects this team's members ranked
        section = int(inst.team_section[first])
        wanted = {
            u
            for i in state.members[first]
            for u in project.teams_wanted_by(i)
            if u != first and inst.team_section[u] == section
        }
        if wanted:
            picks = sorted(wanted)
            chosen = [
                picks[p]
                for p in rng.choice(len(picks), size=min(size - 1, len(picks)), replace=False)
            ]
            return [first, *chosen]
    if rng.random() < 0.7:
        # teams whose members are free when this team's members are
        masks = inst.masks
        union = 0
        for i in state.members[first]:
            union |= masks[i]
        scored = sorted(
            pool,
            key=lambda t: (-(team_common(masks, state.members[t]) & union).bit_count(), t),
        )
        chosen = scored[: size - 1]
    else:
        chosen = [
            pool[p]
            for p in rng.choice(len(pool), size=min(size - 1, len(pool)), replace=False).tolist()
        ]
    return [first, *chosen]


#: Steps of compiled local search per second of budget in deterministic mode.
COMPILED_STEPS_PER_SECOND = DEFAULT_PARAMS.compiled_steps_per_second


def use_compiled(
    inst: Instance,
    terms: Sequence[Term],
    time_limit: float,
    params: SearchParams = DEFAULT_PARAMS,
    *,
    deterministic: bool = False,
) -> bool:
    """Whether the compiled search can run: every criterion supported, and on
    the clock a budget of at least ``params.compiled_min_seconds`` (its very
    first use on a machine compiles it). In deterministic mode the budget plays
    no part: those solves wait for the kernels anyway, and a choice that
    changed with the budget would make a larger budget search otherwise, and
    possibly end worse, than a smaller one."""
    from teamform.search.compiled_data import supported

    long_enough = deterministic or time_limit >= params.compiled_min_seconds
    return inst.k >= 2 and long_enough and supported(terms)


#: Compiled steps between two looks at the plan (a new temperature, the best so far).
ANNEAL_CHUNK = 5000


def anneal(
    state: TeamState,
    terms: Sequence[Term],
    seed: int,
    budget: Budget,
    stats: LnsStats,
    keep_best: Callable[[], None],
    cancel: threading.Event | None = None,
    params: SearchParams = DEFAULT_PARAMS,
    *,
    until: float = 1.0,
) -> None:
    """Compiled moves and swaps under simulated annealing, cooling geometrically.

    The temperature starts at a sixth of the largest soft coefficient (a worse
    move of that size is taken with probability e^-6) and ends a hundred times
    lower, where the search is plain descent, over ``budget``; the run stops
    after ``until`` of it (a budget that ends inside the run: the cooling is
    the whole run's, so a longer budget repeats a shorter one's steps). In work
    mode it stops at the last look at the plan before that point, a multiple
    of :data:`ANNEAL_CHUNK` steps, where a longer run looks too.
    """
    from teamform.search.compiled import CompiledLocalSearch

    coefs = [t.coefficient for t in terms if not t.hard and t.coefficient]
    hot = max(coefs) / 6 if coefs else 0.0
    cold = hot / 100
    search = CompiledLocalSearch(state, seed)
    deciding = state.deciding
    meter = budget.meter(params.compiled_steps_per_second)
    stop: int | None = None
    if meter.total is not None:
        stop = int(until * meter.total) // ANNEAL_CHUNK * ANNEAL_CHUNK
    deadline = None if budget.deadline is None else budget.start + until * budget.seconds
    while state.total and not is_set(cancel) and not meter.done():
        if stop is not None and meter.used >= stop:
            break
        frac = meter.fraction()
        steps = search.run(
            deadline=deadline,
            max_steps=meter.cap(ANNEAL_CHUNK),
            temp=hot * (cold / hot) ** frac if hot else 0.0,
            cancel=cancel,
        )
        meter.spend(steps)
        stats.ls_steps += steps
        if deciding and state.redecide():
            # moves keep projects fixed: choose them again for the new teams
            search.load()
        keep_best()
        if steps == 0 or (deadline is not None and time.perf_counter() >= deadline):
            break


def _teams_first(
    inst: Instance,
    terms: Sequence[Term],
    state: TeamState,
    seed: int,
    budget: Budget,
    stats: LnsStats,
    cancel: threading.Event | None,
    params: SearchParams = DEFAULT_PARAMS,
    until: float = 1.0,
) -> TeamState | None:
    """A warm start for criteria with per-team decisions (projects).

    The compiled search forms teams under every other criterion, then the
    decisions are taken exactly for those teams: the plan a tutor would get by
    forming teams first and assigning projects afterwards. The joint search
    then starts from it. None when the other criteria have no compiled search.
    ``budget`` is the phase's length, of which ``until`` is run (see :func:`anneal`).
    """
    others = [t for t in terms if not isinstance(t, ProjectTerm | ProjectChoiceTerm)]
    from teamform.search.compiled_data import supported
    from teamform.search.kernels import get_ready

    if not others or inst.k < 2 or not supported(others):
        return None
    if not budget.work:
        python_path = "teams and projects searched together (no teams-first start)"
        if get_ready("search", python_path) is not None:
            return None  # the kernels are compiling, or no time to load them: not in this budget
    first = TeamState(inst, others, state.assign)
    best_total, best_assign = first.total, list(first.assign)

    def keep() -> None:
        nonlocal best_total, best_assign
        if first.total < best_total:
            best_total, best_assign = first.total, list(first.assign)

    anneal(first, others, seed, budget, stats, keep, cancel, params, until=until)
    keep()
    warm = TeamState(inst, terms, best_assign)
    warm.redecide()
    return warm


#: Work units (compiled steps) of one atom of the improvement rounds: an anneal
#: burst or a repair neighbourhood. Every check for a better plan falls between atoms.
ATOM_STEPS = 5000
#: The first annealing epoch lasts this many steps per learner (within the bounds
#: below); each later epoch twice the one before, up to :data:`EPOCH_GROWTH` times it.
EPOCH_STEPS_PER_LEARNER = 200
EPOCH_MIN, EPOCH_MAX, EPOCH_GROWTH = 20_000, 400_000, 8
#: Repair neighbourhoods per round, and CP-SAT's deterministic time for each.
REPAIRS_PER_ROUND = 8
REPAIR_WORK = 0.1
#: Full-model repairs of teams short of the target per round (seconds each at 120 learners).
SHORT_REPAIRS_PER_ROUND = 3
#: Largest share of the search the exact regroupings of teams out of the motivation
#: range take (wall time; work in deterministic runs): every such team is regrouped
#: each round while the share allows, teams furthest off first.
MOTIVATION_SHARE = 0.25
#: Of the whole budget, at most this much is kept at the end for a last round of
#: those regroupings on the best plan (as much as the last round took, per team off).
MOTIVATION_RESERVE = 0.1
#: Where the time repairs before the first annealing epoch gave teams common time, the
#: moves keep the motivation spread (:func:`steep_motivation`) from this epoch on:
#: the first moves freely, for the teams still without common time, which weigh more
#: than the spread. Elsewhere they keep it from the first epoch.
SPREAD_EPOCH = 1
#: Teams of a time repair's neighbourhood, and CP-SAT's deterministic time for its solves.
TIME_REPAIR_TEAMS = 8
TIME_REPAIR_WORK = 0.2
#: Teams below the target regrouped for it per round (time repairs of their own).
TARGET_REPAIRS_PER_ROUND = 4
#: Largest share of the work time repairs take after their first pass.
TIME_REPAIR_SHARE = 0.3
#: CP-SAT's deterministic time for each solve of the packing that guides time repairs.
PACKING_WORK = 1.0
#: Wall seconds at most for each such packing on the clock (under load its proof can
#: take a whole budget): a constant, never a share of the budget, so that a longer run
#: goes through the same packings as a shorter one before going further.
PACKING_WALL = 3.0
#: CP-SAT's deterministic time for the packing that guides target repairs (on the
#: clock at most PACKING_WALL seconds of it, and no more than is left).
TARGET_PACKING_WORK = 2.0
#: Teams of each such packing's neighbourhood on cohorts of more than TARGET_WHOLE_TEAMS.
TARGET_PACKING_TEAMS = 16
#: Cohorts of up to this many teams get that packing of the whole plan: at 120 learners
#: (30 teams) the 16-team neighbourhoods around the teams below the target held them
#: all and proved no fewer there, where the whole plan's packing gives the minimum.
TARGET_WHOLE_TEAMS = 32
#: Cohorts of up to this many learners (and more than TARGET_WHOLE_TEAMS teams) get a
#: start around the stranded learners' cover (its sets sharing the target's hours take
#: 0.4 s at 500 learners, 3 s at 2 000).
TARGET_START_MAX_LEARNERS = 1000
#: Above this many teams CP-SAT's packing takes longer than a search budget: no proof.
PACKING_MAX_TEAMS = 64
#: Above this many learners even the greedy packing near the plan does (about 1 s at
#: 2 000 learners, 11 s at 10 000): no packing start and no guided repairs.
PACKING_MAX_LEARNERS = 2000


class RepairShare:
    """Time repairs' (and their packings') share of an improvement run.

    Past the first pass (``first_pass`` work units: the first round of repairs),
    repairs stop once they have taken :data:`TIME_REPAIR_SHARE` of all the run
    has done. In work mode that is counted in work units, the atoms each is
    charged; on the clock in seconds, since a repair's CP-SAT solves take far
    longer than the atoms of annealing they are charged as.
    """

    def __init__(
        self, first_pass: int, *, clock: bool, now: Callable[[], float] = time.perf_counter
    ) -> None:
        self.first_pass = first_pass
        self.clock = clock
        self.now = now
        self.begun = now()
        self.units = 0
        self.seconds: list[float] = []  # of each repair, in turn
        self._first: float | None = None  # seconds of the first pass

    def charge(self, units: int, seconds: float) -> None:
        """One repair (or packing): ``units`` charged, ``seconds`` taken."""
        self.units += units
        self.seconds.append(seconds)
        if self._first is None and self.units >= self.first_pass:
            self._first = sum(self.seconds)

    def over(self, used: int) -> bool:
        """Whether repairs have had their share, ``used`` units of work done in all."""
        if not self.clock:
            return self.units >= max(self.first_pass, TIME_REPAIR_SHARE * used)
        if self._first is None:
            return False  # the first pass
        elapsed = self.now() - self.begun
        return sum(self.seconds) >= max(self._first, TIME_REPAIR_SHARE * elapsed)


def epoch_steps(inst: Instance, index: int) -> int:
    """Length of annealing epoch ``index``: a function of the cohort alone, never
    of the budget, so that a longer run repeats a shorter one before going on."""
    atom = atom_steps(inst)
    first = min(EPOCH_MAX, max(EPOCH_MIN, EPOCH_STEPS_PER_LEARNER * inst.n))
    length = first * min(EPOCH_GROWTH, 2**index)
    return -(-length // atom) * atom


def atom_steps(inst: Instance) -> int:
    """Steps per atom: larger cohorts write back more teams per burst, so take longer ones."""
    return ATOM_STEPS if inst.n <= 2000 else 4 * ATOM_STEPS


def repair_neighbourhood(state: TeamState, team: int, size: int = 5) -> list[int]:
    """A team short of common time with, for each member, the team of its section
    sharing most of that member's hours: where the member could go instead."""
    inst = state.inst
    masks = inst.masks
    pool = [u for u in inst.teams_of_section(int(inst.team_section[team])).tolist() if u != team]
    common = {u: team_common(masks, state.members[u]) for u in pool}
    chosen = [team]
    for i in state.members[team]:
        left = [u for u in pool if u not in chosen]
        if not left or len(chosen) >= size:
            break
        chosen.append(max(left, key=lambda u: ((common[u] & masks[i]).bit_count(), -u)))
    return chosen


def _empty_teams(state: TeamState, term: OverlapTerm) -> list[int]:
    """Teams without any common block."""
    return [t for t, m in enumerate(state.members) if term.common_slots(m) == 0]


def _short_teams(state: TeamState, terms: Sequence[Term]) -> tuple[list[int], list[int]]:
    """Teams below the common-time target (least common time first), and those
    without any common block."""
    term = overlap_term(terms)
    if term is None or term.need == 0:
        return [], []
    have = sorted((term.common_slots(m), t) for t, m in enumerate(state.members))
    return [t for c, t in have if c < term.need], [t for c, t in have if c == 0]


def steep_overlap(
    state: TeamState, overlap: OverlapTerm | None, above: int = 0
) -> OverlapTerm | None:
    """The overlap criterion with a step for a team without common time so steep
    that no move or swap trades a team's last common hour for the other criteria.

    A move or swap changes two teams and gains at most what they cost in the
    other criteria; so a step worth twice the most any team of ``state`` costs
    in them (or the criterion's own step, if larger) makes losing a team's last
    hour a loss in every case that plan knows. The step for a team below the
    target is raised to the same, so that no move trades a team's target for
    them either, while a team just below it outweighs two average teams
    (:func:`time_worth_it` at ``need - 1`` slots): then the criterion itself
    puts few teams below the target first. The search uses it for its moves
    only: plans are still compared by the objective. ``above``: what else a
    move may gain at most (objective units), which both steps outweigh too
    (:func:`steep_motivation`'s two learners). None when the criterion has no
    such step, the plan breaks a hard rule, or projects are chosen per team
    (the copy would share their decisions).
    """
    if overlap is None or not overlap.none_step or not overlap.coefficient:
        return None
    if state.hard_violations or state.deciding:
        return None
    others = max(
        state.cost[t] - overlap.coefficient * overlap.team_penalty(m, t)
        for t, m in enumerate(state.members)
    )
    step = -(-(2 * others + above) // overlap.coefficient)
    # the same for a team falling below the target, where its step says few teams
    # below it come first (a team below it outweighs two average teams)
    below = (
        step
        if overlap.below_step and time_worth_it(state, overlap, overlap.need - 1)
        else overlap.below_step
    )
    if step <= overlap.none_step and below <= overlap.below_step:
        return None
    steep = copy.copy(overlap)
    steep.below_step = max(below, overlap.below_step)
    # a swap that takes a team's last hour can bring the other team to the target:
    # the loss outweighs that gain, whatever the two teams' hours
    steep.none_step = max(step, overlap.none_step) + steep.below_step - overlap.below_step
    return steep


def steep_motivation(
    state: TeamState, motivation: MotivationTerm | None, overlap: OverlapTerm | None = None
) -> MotivationTerm | None:
    """The motivation criterion with a cost per learner off the even spread so
    steep that no move or swap takes a team out of its intrinsic range for the
    other criteria, and every move that brings one into it is worth it, save
    a team's first common hour.

    As for :func:`steep_overlap`: a move or swap changes two teams and gains at
    most what they cost in the other criteria, so twice the most any team of
    ``state`` costs in them is more than any move can gain there. Left out of
    that: the step of ``overlap`` for a team without common time, which stays
    dearer than the spread (the caller makes it steeper still). Once every team
    is in range the moves then stay at the bound and improve the other criteria
    inside it (a swap of like for like, or of an intrinsic learner for an
    imposed one between teams that both stay in range). The search uses it
    for its moves only: plans are still compared by the objective. None when
    the criterion has no weight, the plan breaks a hard rule, or projects are
    chosen per team.
    """
    if motivation is None or not motivation.coefficient or motivation.hard:
        return None
    if state.hard_violations or state.deciding:
        return None
    empty = 0 if overlap is None else overlap.coefficient * overlap.none_step
    others = max(
        state.cost[t]
        - motivation.coefficient * motivation.team_penalty(m, t)
        - (empty if empty and overlap is not None and overlap.common_slots(m) == 0 else 0)
        for t, m in enumerate(state.members)
    )
    per_learner = 2 * others
    if per_learner <= motivation.coefficient:
        return None
    steep = copy.copy(motivation)
    # the coefficient follows the weight (per natural unit, scaled): one more
    # than needed, so that rounding never leaves it below ``per_learner``
    steep.weight = (per_learner + 1) / (OBJECTIVE_SCALE * motivation.unit)
    return steep


def time_worth_it(state: TeamState, overlap: OverlapTerm, common: int = 0) -> bool:
    """Whether a team without common time (with ``common`` slots of it) costs, in
    the objective, at least what two teams cost on average in the other criteria.

    The least change that gives such a team common time is a swap, which
    rebuilds two teams; a plan's average team is what a rebuilt team costs in
    the other criteria when nothing better is known. So time repairs, the
    packing start and the steep moves (:func:`steep_overlap`) run while the
    criterion's own step for a team without common time outweighs that: where
    the other criteria weigh more, the moves must stay free to trade common
    time for them. With ``common = need - 1``, the same for a team just below
    the target: the target start and the steep step for teams below it.
    """
    k = len(state.members)
    if not k or not overlap.coefficient:
        return False
    mine = sum(overlap.team_penalty(m, t) for t, m in enumerate(state.members))
    others = state.soft_cost - overlap.coefficient * mine
    return overlap.coefficient * overlap.shortfall_penalty(common) * k >= 2 * others


def improve(
    state: TeamState,
    terms: Sequence[Term],
    seed: int,
    *,
    deadline: float,
    units: int | None,
    stats: LnsStats,
    keep_best: Callable[[], list[int]],
    workers: int = 1,
    cancel: threading.Event | None = None,
) -> None:
    """Rounds of compiled annealing and CP-SAT repairs, each from the best plan so far.

    First, when teams of the starting plan have no common time, the plan is
    regrouped as a packing of learners into windows near it groups them
    (:func:`teamform.search.common_time.fewest_without_time`), whatever that
    costs in the other criteria: annealing mends those, and the starting plan
    stays the best one until it does. On cohorts of more than
    :data:`TARGET_WHOLE_TEAMS` teams and up to :data:`TARGET_START_MAX_LEARNERS`
    learners the plan is then regrouped the same way around the fewest teams
    the learners sharing the target's hours with too few others need
    (:func:`teamform.search.common_time.stranded_packing`) when that has fewer
    teams below the target and, after swaps toward a window, no more without
    common time. Time repairs follow. Round ``j`` then
    anneals for :func:`epoch_steps` ``(j)`` steps, cooling from a sixth of the
    largest soft coefficient to a hundredth of that; the moves see a team's last
    common hour as dearer than anything two teams can gain in the other criteria
    (:func:`steep_overlap`), while plans are compared by the objective. From the
    best plan, teams without common time first get a window by swaps and moves
    where one lowers the cost (:func:`teamform.search.common_time.swap_repair`,
    milliseconds a team, motivation no worse in any team it touches); each
    team still without common time is regrouped with the teams that
    could take its members, for fewer such teams
    (:func:`teamform.search.common_time.time_repair`; a neighbourhood that
    found nothing is tried once more twice as large, and never again as it was;
    when none helps, the parts of the regrouping a packing near the plan asks
    for, each from the packing's plan; packings run on cohorts of up to
    :data:`PACKING_MAX_LEARNERS` learners, and on cohorts of up to
    :data:`PACKING_MAX_TEAMS` teams CP-SAT also proves when no fewer are
    possible); then a few teams below the target, closest to it first, are
    regrouped the same way for fewer teams below it, with no more teams without
    common time (:func:`~teamform.search.common_time.time_repair` with
    ``target``; kept only when the objective improves, which it may not: a team
    reaching the target gains one step and the hours it lacked, and the other
    criteria may lose more); when none of those is kept (on cohorts of up to
    :data:`TARGET_WHOLE_TEAMS` teams, also when one is), a packing into the
    sets sharing the target's hours and the windows at once, near the plan,
    with no more teams without common time
    (:func:`~teamform.search.common_time.fewest_below_with_time`, at most
    :data:`PACKING_WALL` seconds on the clock), of the whole plan on cohorts of
    up to :data:`TARGET_WHOLE_TEAMS` teams and else of up to
    :data:`TARGET_REPAIRS_PER_ROUND` neighbourhoods of
    :data:`TARGET_PACKING_TEAMS` teams around teams below the target, gives
    the plan to try (kept if the objective improves; the whole plan's is taken
    anyway when it has fewer teams below the target, as the packing start is:
    the annealing's steep moves keep its teams at the target while they mend the
    other criteria, and the best plan stays the best until they do), else the
    parts of its regrouping are repaired in turn from it; then a few teams short of common
    time are re-assigned exactly with the teams their members could join
    (:func:`repair_neighbourhood`; the same learners never twice); then the
    teams out of the motivation range, furthest off first, are regrouped
    exactly with partners that could even them out
    (:class:`teamform.search.spread.Regroups`), all of them while those
    regroupings have had less than :data:`MOTIVATION_SHARE` of the search;
    runs on the clock end their annealing early enough (at most
    :data:`MOTIVATION_RESERVE` of the budget) for a last round of them all on
    the best plan. The schedule depends on step counts, never on
    the budget or the clock, and repairs are bounded by CP-SAT's deterministic
    time; so a longer run with the same seed goes through the same plans as a
    shorter one before going further, and, since ``keep_best`` is called after
    every atom, never ends worse. ``units`` is the deterministic budget (steps;
    a repair or a regrouping costs one atom, a time repair two, a packing
    four); ``deadline`` bounds the wall clock. Time repairs, the packing start
    and the steep moves run only while a team without common time outweighs two
    average teams in the other criteria (:func:`time_worth_it`); the packing's
    proof, when the learner bound does not give it, takes at most
    :data:`PACKING_WALL` seconds on the clock (and no more than is left).
    """
    from teamform.search.common_time import (
        GREEDY_TRIES,
        fewest_below_with_time,
        fewest_without_time,
        packing_neighbourhoods,
        packing_plan,
        regroup,
        stranded_packing,
        target_plan,
        time_neighbourhood,
        time_repair,
    )
    from teamform.search.compiled import CompiledLocalSearch
    from teamform.search.spread import Regroups, out_of_range

    inst = state.inst
    coefs = [t.coefficient for t in terms if not t.hard and t.coefficient]
    hot = max(coefs) / 6 if coefs else 0.0
    cold = hot / 100
    atom = atom_steps(inst)
    used = 0
    rng = np.random.default_rng(seed)

    def out_of_budget() -> bool:
        if is_set(cancel) or state.total == 0:
            return True
        if units is not None:
            return used >= units
        return time.perf_counter() >= deadline

    best = keep_best()
    overlap = overlap_term(terms, with_target=True)
    # neighbourhoods (by their learners) tried: found nothing, or changed since
    tried: set[frozenset[int]] = set()
    # teams below the target, and without common time, proven unavoidable (the
    # learner bound first: a packing may prove more)
    below_floor, floor = overlap.forced_teams() if overlap is not None else (0, 0)
    # time repairs' share: past the first pass, at most a share of all work, so
    # that annealing keeps time for the other criteria
    share = RepairShare(REPAIRS_PER_ROUND * 2 * atom, clock=units is None)

    # plans the guided target repair packed already, and per count of teams without
    # common time the fewest below the target its packing proved
    packed: set[int] = set()
    target_floor: dict[int, int] = {}

    def over_share() -> bool:
        return share.over(used)

    def worth_it() -> bool:
        # a team's last hour must outweigh what the least regrouping puts at stake:
        # a swap, which rebuilds two teams, on average worth what two teams cost in
        # the other criteria. Below that, regrouping for time locks teams that
        # annealing would rather balance, and costs more than it gains
        assert overlap is not None
        return time_worth_it(state, overlap)

    def time_repairs() -> None:
        # teams without common time, each regrouped with the teams that could take
        # its members: by their count first, then by the objective
        nonlocal used, best
        assert overlap is not None
        seen: set[int] = set()
        gained = False
        if state.hard_violations or len(_empty_teams(state, overlap)) <= floor:
            return  # hard rules first; or no fewer are possible
        if not worth_it():
            return
        swaps()
        for _ in range(REPAIRS_PER_ROUND):
            # the teams without common time now: a repair may have given some
            left = [t for t in _empty_teams(state, overlap) if t not in seen]
            if not left or out_of_budget() or over_share():
                break
            team = left[0]
            seen.add(team)
            # a neighbourhood that found nothing, now or before: one twice as large
            for size in (TIME_REPAIR_TEAMS, 2 * TIME_REPAIR_TEAMS):
                if out_of_budget():
                    break
                teams = time_neighbourhood(state, overlap, team, size)
                key = frozenset(i for t in teams for i in state.members[t])
                if key in tried:
                    continue
                tried.add(key)
                improved = repair(teams, TIME_REPAIR_WORK, 2 * atom)
                gained |= improved
                if improved:
                    break
        if not gained:
            guided_repair()
        reload()

    def swaps() -> None:
        # swaps toward a window first: milliseconds a team, where CP-SAT takes a
        # fraction of a second; the repairs below take the teams they leave
        nonlocal used, best
        began = time.perf_counter()
        _swaps_for_time(state, terms, None if units is not None else deadline)
        used += atom
        share.charge(atom, time.perf_counter() - began)
        best = keep_best()

    def target_repairs() -> None:
        # teams below the target (with some common time: those without had their
        # own repairs), closest to it first, each regrouped with the teams that
        # could take its members, for fewer such teams; kept if the objective
        # improves, and never with more teams without common time
        assert overlap is not None
        if state.hard_violations:
            return
        short, _ = _short_teams(state, terms)
        if len(short) <= below_floor:
            return
        done, gained = 0, False
        for team in reversed(short):
            if done >= TARGET_REPAIRS_PER_ROUND or out_of_budget() or over_share():
                break
            if overlap.common_slots(state.members[team]) in (0, overlap.need):
                continue  # none at all (time repairs), or a repair already helped it
            teams = time_neighbourhood(state, overlap, team, TIME_REPAIR_TEAMS, target=True)
            key = frozenset(i for t in teams for i in state.members[t])
            if key in tried:
                continue
            tried.add(key)
            done += 1
            gained |= repair(teams, TIME_REPAIR_WORK, 2 * atom, target=True)
        if gained and inst.k <= TARGET_WHOLE_TEAMS:
            # the whole plan's packing too: it reaches the fewest the plan allows, where
            # a per-team repair that gained leaves the plan short of it (at 120 learners
            # seed 1 it gave 9 teams below the target, where the packing, blocked by the
            # repairs' share in the rounds after, finds 8)
            short, _ = _short_teams(state, terms)
            gained = guided_target_repair(short) or gained
        elif not gained:
            gained = guided_target_repair(short)
        if done or gained:
            reload()

    def packing_wall() -> float | None:
        # at most PACKING_WALL of wall clock for a packing: under load CP-SAT's proof
        # could take a whole budget; not a share of what is left, which would make the
        # packings (and all that follows them) depend on the budget
        return (
            None if units is not None
            else min(PACKING_WALL, max(0.0, deadline - time.perf_counter()))
        )  # fmt: skip

    def guided_target_repair(short: list[int]) -> bool:
        # a packing into the sets sharing the target's hours and the windows at
        # once, with no more teams without common time, near the plan (CP-SAT keeps
        # the learners of its teams in their sets where it can): of the whole plan
        # on cohorts of up to TARGET_WHOLE_TEAMS teams, else of neighbourhoods around
        # teams below the target, closest to it first. The plan it gives is kept if
        # the objective improves (the whole plan's if it has fewer teams below the
        # target), else each part of its regrouping is repaired in turn from it
        assert overlap is not None
        if inst.k <= TARGET_WHOLE_TEAMS:
            empty = len(_empty_teams(state, overlap))
            if target_floor.get(empty, 0) >= len(short):
                return False
            return packed_repair(list(range(inst.k)), hash(tuple(state.assign)), whole=True)
        gained, done = False, 0
        for team in reversed(short):
            if done >= TARGET_REPAIRS_PER_ROUND or out_of_budget() or over_share():
                break
            if overlap.common_slots(state.members[team]) in (0, overlap.need):
                continue
            hood = time_neighbourhood(state, overlap, team, TARGET_PACKING_TEAMS, target=True)
            key = hash(frozenset(i for t in hood for i in state.members[t]))
            if key in packed:
                continue
            done += 1
            gained |= packed_repair(hood, key, whole=False)
        return gained

    def packed_repair(teams: list[int], key: int, *, whole: bool) -> bool:
        # one packing of ``teams`` (all of them when ``whole``) and its regrouping
        nonlocal used, best
        assert overlap is not None
        if key in packed or out_of_budget() or over_share():
            return False
        packed.add(key)
        empty, below_now = without_and_below([state.members[t] for t in teams])
        hood = None if whole else teams
        began = time.perf_counter()
        packing = fewest_below_with_time(
            inst, overlap, empty, time_limit=TARGET_PACKING_WORK, workers=workers, seed=seed,
            deterministic=True, near=state.assign, teams=hood,
            wall_limit=packing_wall(),
        )  # fmt: skip
        used += 4 * atom
        share.charge(4 * atom, time.perf_counter() - began)
        if whole and packing.optimal:
            target_floor[empty] = packing.found
        if packing.found >= below_now:
            return False
        plan = target_plan(inst, overlap, packing, state.assign, seed, teams=hood)
        if plan is not None and regroup(state, teams, plan):
            # kept now: the search may end before the next atom would keep it
            best = keep_best()
            return True
        if whole and plan is not None and below_fewer(plan, below_now, empty):
            # whatever that costs in the other criteria, as the packing start: the
            # steep moves hold its teams at the target while they mend the rest, and
            # the best plan stays the best until they do (the same plan is never
            # packed again)
            forced = regroup(state, teams, plan, force=True)
            best = keep_best()
            return forced
        gained = False
        for part in packing_neighbourhoods(state, packing):
            if out_of_budget() or over_share():
                break
            part = [t for t in part if t in teams]
            if 1 < len(part) <= 4 * TIME_REPAIR_TEAMS:
                hint = packing_plan(state, packing, part)
                gained |= repair(part, TIME_REPAIR_WORK * 2, 4 * atom, hint, target=True)
        return gained

    def without_and_below(teams: Sequence[Sequence[int]]) -> tuple[int, int]:
        # of these teams (their members), those without common time and those below the target
        assert overlap is not None
        common = [overlap.common_slots(m) for m in teams]
        return sum(c == 0 for c in common), sum(c < overlap.need for c in common)

    def below_fewer(plan: Sequence[int], below_now: int, empty: int) -> bool:
        # whether ``plan`` has fewer teams below the target than ``below_now``, and
        # no more than ``empty`` without common time (the packing ignores avoid pairs)
        without, below = without_and_below(team_members(plan, inst.k))
        return below < below_now and without <= empty

    def near_packing() -> Packing | None:
        # a packing of learners into windows near the plan: which teams to regroup
        # for fewer teams without common time, and (up to PACKING_MAX_TEAMS teams,
        # by CP-SAT) a proof of how few there can be
        nonlocal used, floor
        assert overlap is not None
        have = len(_empty_teams(state, overlap))
        if have <= floor or inst.n > PACKING_MAX_LEARNERS or out_of_budget() or over_share():
            return None
        began = time.perf_counter()
        packing = fewest_without_time(
            inst, overlap, time_limit=PACKING_WORK, workers=workers, seed=seed,
            near=state.assign, deterministic=True, exact=inst.k <= PACKING_MAX_TEAMS,
            known=floor,
            wall_limit=packing_wall(),
        )  # fmt: skip
        used += 4 * atom
        share.charge(4 * atom, time.perf_counter() - began)
        floor = max(floor, packing.proven)
        return packing if packing.found < have else None

    def packing_start() -> None:
        # the starting plan regrouped as that packing groups its learners, whatever
        # that costs in the other criteria: annealing mends those, and the best plan
        # is kept anyway
        nonlocal best
        if state.hard_violations or not worth_it():
            return
        packing = near_packing()
        if packing is None:
            return
        for teams in packing_neighbourhoods(state, packing):
            plan = packing_plan(state, packing, teams)
            if plan is not None and len(teams) > 1:
                regroup(state, teams, plan, force=True)
        best = keep_best()

    def target_start() -> None:
        # the plan regrouped around the fewest teams the stranded learners need, the
        # others packed at the target (stranded_packing), when that has fewer teams
        # below it and no more without time: whatever it costs in the other criteria,
        # as the packing start (the steep moves hold the teams at the target while
        # annealing mends the rest; the best plan stays the best until it does). The
        # per-team repairs reach few such regroupings: at 500 learners their
        # neighbourhoods of 8 teams are proven to hold no fewer
        nonlocal best, used
        assert overlap is not None
        if state.hard_violations or inst.k <= TARGET_WHOLE_TEAMS:
            return
        if inst.n > TARGET_START_MAX_LEARNERS or out_of_budget():
            return
        if not (worth_it() and time_worth_it(state, overlap, overlap.need - 1)):
            return
        empty, below_now = without_and_below(state.members)
        if below_now <= below_floor:
            return
        began = time.perf_counter()
        packing = stranded_packing(
            inst, overlap, time_limit=TARGET_PACKING_WORK, seed=seed, tries=GREEDY_TRIES
        )
        plan = None if packing is None else target_plan(inst, overlap, packing, state.assign, seed)
        used += 4 * atom
        share.charge(4 * atom, time.perf_counter() - began)
        if plan is None:
            return
        plan_empty, plan_below = without_and_below(team_members(plan, inst.k))
        if plan_below >= below_now:
            return
        before = list(state.assign)
        regroup(state, list(range(inst.k)), plan, force=True)
        if plan_empty > empty:
            # the learners the greedy packings left may share no window: swaps toward
            # one first, and the plan is not taken if a team stays without time
            _swaps_for_time(state, terms, None if units is not None else deadline)
        now_empty, now_below = without_and_below(state.members)
        if now_empty > empty or now_below >= below_now:
            _restore(state, before)
        best = keep_best()

    def guided_repair() -> None:
        # teams without common time left: each part of the packing's regrouping
        # in turn, from the packing's plan, kept if the objective improves
        packing = near_packing()
        if packing is None:
            return
        for teams in packing_neighbourhoods(state, packing):
            if out_of_budget() or over_share():
                break
            if 1 < len(teams) <= 4 * TIME_REPAIR_TEAMS:
                plan = packing_plan(state, packing, teams)
                repair(teams, TIME_REPAIR_WORK * 2, 4 * atom, plan)

    def repair(
        teams: list[int],
        work: float,
        charge: int,
        hint: Sequence[int] | None = None,
        *,
        target: bool = False,
    ) -> bool:
        # one regrouping of ``teams`` for time, charged to the budget
        nonlocal used, best
        assert overlap is not None
        began = time.perf_counter()
        improved = time_repair(
            state,
            overlap,
            teams,
            work=work,
            seed=int(rng.integers(1 << 30)),
            workers=workers,
            cancel=cancel,
            wall_limit=None if units is not None else deadline - time.perf_counter(),
            hint=hint,
            target=target,
        )
        used += charge
        share.charge(charge, time.perf_counter() - began)
        stats.neighbourhoods += 1
        stats.improved += int(improved)
        best = keep_best()
        return improved

    motivation = next(
        (t for t in terms if isinstance(t, MotivationTerm) and t.coefficient and not t.hard), None
    )
    regroups = (
        Regroups(state, motivation, np.random.default_rng(seed), calls=1 << 30)
        if motivation is not None and not state.deciding
        else None
    )
    began = time.perf_counter()
    # wall seconds per team off in the last round of regroupings, for the reserve
    # at the end; whether that last round has come
    per_team = 0.0
    closing = False
    # teams out of range after the last round of regroupings
    pending = 0 if regroups is None else len(out_of_range(state, regroups.term))

    def regroup_share_left() -> bool:
        assert regroups is not None
        if units is not None:
            return regroup_used < MOTIVATION_SHARE * used
        return regroups.seconds < MOTIVATION_SHARE * (time.perf_counter() - began)

    def last_round() -> bool:
        # the best plan's teams out of range get their regroupings before the end;
        # not in deterministic runs, whose rounds must not depend on the budget (a
        # longer run repeats a shorter one): their final pass regroups instead
        if regroups is None or closing or units is not None:
            return False
        left = deadline - time.perf_counter()
        return left <= min(MOTIVATION_RESERVE * (deadline - began), pending * per_team)

    regroup_used = 0
    if overlap is not None:
        # the swaps first: a packing near the plan takes about 1 s at 2 000 learners,
        # and may not be needed after them
        if not state.hard_violations and len(_empty_teams(state, overlap)) > floor:
            swaps()
        packing_start()
        target_start()
    empty_at_start = 0 if overlap is None else len(_empty_teams(state, overlap))
    # the moves see a team's last common hour as dearer than anything else two
    # teams could gain (steep_overlap); plans are still judged by the objective.
    # Only where time repairs run too: where skills weigh more, the moves must be
    # free to trade common time for them
    steep_on = overlap is not None and worth_it()

    def moves(spread: MotivationTerm | None) -> TeamState:
        # the plan as the moves see it: with ``spread`` (steep_motivation), a learner
        # off the even spread dearer than anything two teams could gain in the
        # other criteria, and a team's last common hour dearer still
        seen = state
        if spread is not None:
            seen = TeamState(inst, [spread if t is motivation else t for t in terms], state.assign)
        # a move changes the spread of two teams by one learner each at most (the
        # plan's own costs, at the objective's weights, bound the rest of a gain)
        above = 0 if spread is None else 2 * spread.coefficient
        steep = steep_overlap(state, overlap, above) if steep_on else None
        if steep is not None:
            seen = TeamState(inst, [steep if t is overlap else t for t in seen.terms], state.assign)
        return seen

    moving = moves(None)
    search = CompiledLocalSearch(moving, seed)
    # the steep moves need a plan that breaks no hard rule: where the start breaks
    # one (a hard spread, say), they come as soon as the moves have mended it
    built_broken = bool(state.hard_violations)
    spread: MotivationTerm | None = None

    def build_moves(now: bool = False) -> None:
        # the moves set up again: ``now``, or once the plan they were set up on, which
        # broke a hard rule, is mended
        nonlocal moving, search, built_broken
        if now or (built_broken and not state.hard_violations):
            built_broken = bool(state.hard_violations)
            moving = moves(spread)
            search = CompiledLocalSearch(moving, seed)

    def reload() -> None:
        # after repairs: the search's state (and arrays) follow the plan
        if moving is not state:
            _restore(moving, state.assign)
        search.load()

    if overlap is not None:
        time_repairs()
    epoch = 0
    # the moves keep the motivation spread once they reach it (steep_motivation): from
    # the first epoch, or, when the time repairs gave teams common time, from the
    # second, after one epoch of free moves for the teams still without it
    mended = overlap is not None and len(_empty_teams(state, overlap)) < empty_at_start
    spread_from = SPREAD_EPOCH if mended else 0
    # wall seconds the last atom took after its annealing (its teams written back, the
    # best plan kept): on the clock the annealing stops that much before the deadline,
    # so that this work ends by it (it ran 0.1-0.4 s past it at 50 000 learners)
    tail = 0.0

    def tail_past_deadline() -> bool:
        return units is None and time.perf_counter() >= deadline - tail

    while not out_of_budget():
        if epoch == spread_from and motivation is not None:
            spread = steep_motivation(state, motivation, overlap)
            if spread is not None:
                build_moves(now=True)
        build_moves()
        length = epoch_steps(inst, epoch)
        done = 0
        while done < length and not out_of_budget() and not last_round():
            frac = done / length
            steps = search.run(
                deadline=None if units is not None else deadline - tail,
                max_steps=atom,
                temp=hot * (cold / hot) ** frac if hot else 0.0,
                cancel=cancel,
            )
            after = time.perf_counter()
            if moving is not state:
                _restore(state, moving.assign)
            done += atom
            used += atom
            stats.ls_steps += steps
            best = keep_best()
            tail = search.store_seconds + time.perf_counter() - after
            if tail_past_deadline():
                break  # another atom's tail would end past the deadline
            build_moves()
        if tail_past_deadline() or is_set(cancel):
            # on the clock (or when stopped) the best plan is kept already: the
            # repairs and the reload below check the deadline only between their
            # steps, past it they would take up to a second at 50 000 learners
            # under load
            break
        # the next epoch (and the repairs) start from the best plan
        _restore(state, best)
        if overlap is not None:
            time_repairs()
            target_repairs()
        short, _ = _short_teams(state, terms)
        # each short team with the teams its members could join (those without
        # common time had their own repairs)
        tries = [repair_neighbourhood(state, t) for t in short[:SHORT_REPAIRS_PER_ROUND]]
        for teams in tries:
            if out_of_budget():
                break
            key = frozenset(i for t in teams for i in state.members[t])
            if len(teams) < 2 or key in tried:
                continue  # the same learners found nothing before
            tried.add(key)
            improved = solve_neighbourhood(
                state,
                teams,
                time_limit=REPAIR_WORK * len(teams),
                seed=int(rng.integers(1 << 30)),
                workers=workers,
                deterministic=True,
                cancel=cancel,
                wall_limit=None if units is not None else deadline - time.perf_counter(),
            )
            used += atom
            stats.neighbourhoods += 1
            stats.improved += int(improved)
            best = keep_best()
        if regroups is not None:
            # teams out of the motivation range, furthest off first, each regrouped
            # exactly with partners that could even it out, within their share of the
            # search (the last round: all of them, in the time kept for it)
            closing = closing or last_round()
            term = regroups.term
            off = sorted(
                out_of_range(state, term), key=lambda t: -term.team_penalty(state.members[t], t)
            )
            seconds, done = regroups.seconds, 0
            for team in off:
                if out_of_budget() or not (closing or regroup_share_left()):
                    break
                done += 1
                calls = regroups.calls
                improved = regroups.team(team, float("inf") if units is not None else deadline)
                used += atom * (calls - regroups.calls)
                regroup_used += atom * (calls - regroups.calls)
                stats.neighbourhoods += calls - regroups.calls
                stats.improved += int(improved)
                best = keep_best()
            if done:
                per_team = (regroups.seconds - seconds) / done
            pending = len(out_of_range(state, term))
        reload()
        epoch += 1


def _restore(state: TeamState, assignment: Sequence[int]) -> None:
    """Put ``state`` back to ``assignment``, re-scoring only the teams that differ."""
    changed = sorted(
        {state.assign[i] for i, t in enumerate(assignment) if state.assign[i] != t}
        | {t for i, t in enumerate(assignment) if state.assign[i] != t}
    )
    if not changed:
        return
    members: dict[int, list[int]] = {t: [] for t in changed}
    for i, t in enumerate(assignment):
        if t in members:
            members[t].append(i)
    state.set_teams(changed, members)


#: Least wall time left, per learner, for the swaps toward a window before the
#: Python search: setting them up takes 0.1-0.2 s at 50 000 learners under load,
#: and the deadline is checked after that, between teams.
SWAP_SECONDS_PER_LEARNER = 1e-5


def _swaps_for_time(state: TeamState, terms: Sequence[Term], deadline: float | None) -> None:
    """:func:`~teamform.search.common_time.swap_repair` on ``state`` where time
    repairs would run (:func:`time_worth_it`), motivation guarded: no team's
    spread worse, and no team without its last intrinsic member."""
    from teamform.search.common_time import swap_repair

    overlap = overlap_term(terms, with_target=True)
    if overlap is None or state.hard_violations or not time_worth_it(state, overlap):
        return
    guard = [t for t in terms if isinstance(t, MotivationTerm) and t.coefficient and not t.hard]
    # nor any team its last intrinsic member, which the motivation range may allow
    keep = state.inst.intrinsic.tolist() if guard else None
    swap_repair(state, overlap, deadline=deadline, guard=guard, keep=keep)


def last_swaps_for_time(
    inst: Instance, terms: Sequence[Term], assignment: Sequence[int], deadline: float
) -> tuple[list[int], int] | None:
    """The swaps toward a window (:func:`_swaps_for_time`) on a finished search's
    plan: (plan, total) when they lower its cost, else None.

    On the clock the last round of annealing may find the best plan after the
    last repairs, or with too little time left for them; a team without common
    time it leaves is given a window here when one lowers the cost (the
    ejection chains of :func:`~teamform.search.common_time.swap_repair` take a
    tenth of a second a team at 2 000 learners). Only with at least
    :data:`SWAP_SECONDS_PER_LEARNER` a learner left before ``deadline`` (wall
    clock), which is checked between teams.
    """
    overlap = overlap_term(terms, with_target=True)
    if overlap is None or deadline - time.perf_counter() < SWAP_SECONDS_PER_LEARNER * inst.n:
        return None
    members: list[list[int]] = [[] for _ in range(inst.k)]
    for i, t in enumerate(assignment):
        members[t].append(i)
    if all(overlap.common_slots(m) for m in members if m):
        return None
    state = TeamState(inst, terms, assignment)
    total = state.total
    _swaps_for_time(state, terms, deadline)
    return (list(state.assign), state.total) if state.total < total else None


def run_lns(
    inst: Instance,
    terms: Sequence[Term],
    start: Sequence[int],
    *,
    time_limit: float,
    seed: int,
    workers: int = 1,
    deterministic: bool = False,
    started: float | None = None,
    progress: object = None,
    stats: LnsStats | None = None,
    first: float | None = None,
    cancel: threading.Event | None = None,
    params: SearchParams = DEFAULT_PARAMS,
) -> Outcome:
    """Search from ``start`` until the budget runs out; returns an ``Outcome``.

    In deterministic mode the budget is counted in work units (local-search
    steps and neighbourhoods, with CP-SAT's deterministic time) instead of
    seconds, so the same seed gives the same teams on any machine. Setting
    ``cancel`` ends the search at the next burst or neighbourhood. ``params``
    holds the tunables (see :class:`~teamform.search.params.SearchParams`).
    """
    from teamform.result import Status
    from teamform.search.outcome import Outcome, Progress

    t0 = time.perf_counter() if started is None else started
    deadline = t0 + time_limit
    budget = Budget(time_limit, deterministic, t0)
    stats = stats if stats is not None else LnsStats()
    rng = np.random.default_rng(seed)
    state = TeamState(inst, terms, start)
    best_total = state.total
    best_assign = list(state.assign)
    deciding = state.deciding
    best_decisions = state.decisions() if deciding else None
    if state.hard_violations == 0:
        # the construction already meets every hard rule: that was the first answer
        stats.time_to_first = first if first is not None else time.perf_counter() - t0

    def keep_best() -> list[int]:
        nonlocal best_total, best_assign, best_decisions
        if state.total < best_total:
            best_total = state.total
            best_assign = list(state.assign)
            if deciding:
                best_decisions = state.decisions()
            if stats.time_to_first is None and state.hard_violations == 0:
                stats.time_to_first = time.perf_counter() - t0
            if callable(progress) and best_total < HARD_COST:
                progress(Progress(best_total / OBJECTIVE_SCALE, None, time.perf_counter() - t0))
        return best_assign

    # keep-together groups without a team move only in CP-SAT neighbourhoods
    free_groups = inst.pins is not None and bool(inst.pins.free_groups)
    # what is left of the budget decides (a run that started late has little);
    # in deterministic mode the whole budget does, so that the choice never varies
    compiled = (
        use_compiled(inst, terms, budget.left(), params, deterministic=deterministic)
        and not free_groups
    )
    ready: threading.Event | None = None
    if compiled and not deterministic:
        from teamform.search.kernels import get_ready

        # the first use on an install compiles the kernels: in the background,
        # while the Python search below works, so that compiling spends the
        # budget instead of adding to it; loading them takes time too
        ready = get_ready()

    def compiled_search() -> None:
        units = None
        if deterministic:
            # whole atoms, so that every budget ends where a longer run checks its best
            atom = atom_steps(inst)
            units = -(-int(time_limit * params.compiled_steps_per_second) // atom) * atom
        improve(
            state, terms, seed, deadline=deadline, units=units, stats=stats,
            keep_best=keep_best, workers=workers, cancel=cancel,
        )  # fmt: skip

    if compiled and ready is None:
        compiled_search()
    else:
        rest = budget
        if deciding and not free_groups:
            saved = state.decisions()
            # a phase of its own length (of what is left on the clock, as a late start
            # may have little), never a share of the budget: a larger budget then goes
            # through a smaller one's phase before searching further
            length = params.teams_first_seconds
            have = time_limit if deterministic else budget.left()
            part = budget.part(length)
            until = min(1.0, have / length) if length > 0 else 0.0
            warm = _teams_first(inst, terms, state, seed, part, stats, cancel, params, until)
            if warm is not None:  # the phase ran: the search after it has the rest
                rest = budget.rest(min(length, have))
            if warm is not None and warm.total < state.total:
                state = warm
                keep_best()
            else:
                # the criteria hold the warm start's decisions now: back to this state's
                for term, d in zip(state.terms, saved, strict=True):
                    if d is not None:
                        term.restore(d)
        if deterministic or deadline - time.perf_counter() >= SWAP_SECONDS_PER_LEARNER * inst.n:
            _swaps_for_time(state, terms, None if deterministic else deadline)
            keep_best()
        ls = LocalSearch(state, rng)
        meter = rest.meter(params.lns_units_per_second)
        burst = max(200, 20 * inst.k)
        nb_size = 3
        while state.total and not is_set(cancel):
            if (ready is not None and ready.is_set()) or meter.done():
                break
            steps = ls.run(
                deadline=meter.until(params.burst_seconds),
                max_steps=meter.cap(burst),
                cancel=cancel,
            )
            meter.spend(steps)
            stats.ls_steps += steps
            if deciding:
                # moves keep projects fixed: now choose them again for the new teams
                state.redecide()
                keep_best()
            for _ in range(3):
                if state.total == 0 or is_set(cancel) or meter.done():
                    break
                cap = meter.solver_time(params.neighbourhood_seconds, params.neighbourhood_work)
                if cap is None:
                    break
                teams = pick_neighbourhood(state, rng, nb_size)
                improved = solve_neighbourhood(
                    state,
                    teams,
                    time_limit=cap,
                    seed=int(rng.integers(1 << 30)),
                    workers=workers,
                    deterministic=deterministic,
                    cancel=cancel,
                    wall_limit=None if deterministic else budget.left(),
                )
                meter.spend(params.neighbourhood_units)
                stats.neighbourhoods += 1
                stats.improved += int(improved)
                # grow neighbourhoods while they pay off, shrink when they stall
                nb_size = min(4, nb_size + 1) if improved else max(2, nb_size - 1)
            keep_best()
        if ready is not None and ready.is_set() and time.perf_counter() < deadline:
            _restore(state, best_assign)
            compiled_search()
    if best_total >= HARD_COST:
        return Outcome(Status.UNKNOWN, best_assign, None, None, decisions=best_decisions)
    return Outcome(
        Status.FEASIBLE,
        best_assign,
        None,
        stats.time_to_first,
        best_total,
        decisions=best_decisions,
    )
