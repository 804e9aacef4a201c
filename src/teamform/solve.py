"""Solve a formation problem: pick a strategy, search, validate, report.

Small cohorts get the full CP-SAT model warm-started from the construction, so
optimality is proven where it is within reach (:mod:`teamform.search.exact`);
larger ones get construction, local search and CP-SAT neighbourhoods
(:mod:`teamform.search.lns`), and diversity alone its tabu search
(:mod:`teamform.search.diversity`). Strategies share one
:class:`~teamform.search.budget.Budget` and the tunables of
:class:`~teamform.search.params.SearchParams`. Every answer goes through the
solver-independent validator, and :func:`judge` decides what it has earned,
before it is returned.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pydantic_core

from teamform.cancel import Stop, is_set
from teamform.criteria import OBJECTIVE_SCALE, MotivationTerm, Term, build_terms
from teamform.criteria.overlap_partition import BOUND_SHARE, wall_limit
from teamform.diagnose import diagnose, precheck
from teamform.distances import model_distances
from teamform.errors import InputError
from teamform.gcpause import gc_paused, left_off
from teamform.instance import Instance, build_instance
from teamform.layout import TeamLayout
from teamform.model import FormationModel
from teamform.pins import Pins
from teamform.result import Result, Status, teams_csv
from teamform.roster import Roster
from teamform.search.budget import Budget
from teamform.search.construct import construct, construct_from_previous, give_intrinsic
from teamform.search.cpsat import MAX_SEED
from teamform.search.cpsat import solver_for as solver_for  # where older code imports it
from teamform.search.diversity import pure_diversity, solve_diversity
from teamform.search.kernels import collecting, ready_now
from teamform.search.lns import last_swaps_for_time, run_lns
from teamform.search.local import HARD_COST
from teamform.search.outcome import Monotone, Outcome, ProgressFn
from teamform.search.outcome import Progress as Progress  # imported from here by callers
from teamform.search.params import DEFAULT_PARAMS, SearchParams
from teamform.search.spread import spread_assignment
from teamform.summary import digest, summarize
from teamform.timing import Pace
from teamform.validate import Validation, team_members, validate

log = logging.getLogger("teamform.solve")

Strategy = Literal["auto", "exact", "lns"]
#: More threads than this only share the same cores.
MAX_WORKERS = 256


def check_search_options(seed: int, workers: int | None) -> None:
    """Raise :class:`InputError` for a seed or worker count CP-SAT cannot take."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed {seed} is outside 0-{MAX_SEED}", column="--seed")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"{workers} workers is outside 1-{MAX_WORKERS}", column="--workers")


def form(
    roster: Roster,
    model: FormationModel,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int | None = None,
    strategy: Strategy = "auto",
    deterministic: bool = False,
    progress: ProgressFn | None = None,
    history: Mapping[tuple[str, str], int] | None = None,
    previous: Mapping[str, int] | None = None,
    cancel: threading.Event | None = None,
    pins: Pins | None = None,
    started: float | None = None,
    include_writing: bool = False,
    previous_projects: Mapping[int, str] | None = None,
    today: date | None = None,
    exiting: bool = False,
) -> Result:
    """Assign every learner of ``roster`` to a team under ``model``.

    Parameters
    ----------
    roster
        The cohort (see :func:`teamform.load_roster`).
    model
        The formation model (see :class:`teamform.FormationModel`).
    time_limit
        Wall-clock budget in seconds, building the instance and finishing the
        result included; the best assignment found is returned when it runs
        out.
    seed
        Random seed for construction and search.
    workers
        CP-SAT worker threads (default: 1 for neighbourhoods, 2 for the full
        model).
    strategy
        ``exact`` (full CP-SAT model), ``lns`` (local search with CP-SAT
        neighbourhoods) or ``auto`` (by cohort size).
    deterministic
        Use work limits instead of wall-clock limits, so that the same input,
        seed and worker count always give the same teams.
    progress
        Called with a :class:`Progress` whenever the best solution improves.
    history
        Earlier teammates: learner-id pair to the number of phases shared
        (used by the ``no_repeat`` criterion).
    previous
        Current team number (from 1) of each learner (used by the
        ``stability`` criterion); see :func:`teamform.build_instance`.
    cancel
        Set this event (from another thread or a signal handler) to stop the
        search within a fraction of a second: the best assignment found so far
        is validated and returned, with ``Result.stopped == "cancelled"``.
    pins
        Hard placement rules: learners fixed to a team, keep-together groups
        and fixed teams (see :class:`teamform.Pins`). Pins that cannot hold
        give an ``INFEASIBLE`` result whose conflicts name them.
    started
        ``time.perf_counter()`` reading the budget counts from (default: now);
        :func:`teamform.timing.process_start` makes it the whole process's.
    include_writing
        Also keep time back for writing the result as JSON and CSV, and for
        the digest the command line prints of a large result, before the limit
        (the time it takes is measured on a sample of teams).
    previous_projects
        Team number (from 1) to its project in the previous phase, kept when
        the model's ``criteria.projects.keep`` is set.
    today
        The date in whose week availability is placed when the model sets no
        ``reference_date`` (default: the current date).
    exiting
        The process ends once the result is written (the command line): the
        cyclic garbage collector, paused while the result is built, stays off
        after the search, instead of walking every new object once more.

    Returns
    -------
    Result
        Validated by :func:`teamform.validate.validate`.

    Raises
    ------
    InputError
        When the roster does not fit the model.
    """
    t0 = time.perf_counter() if started is None else started
    begin = time.perf_counter()
    inst = build_instance(
        roster,
        model,
        history=history,
        previous=previous,
        pins=pins,
        previous_projects=previous_projects,
        today=date.today() if today is None else today,
        distances=model_distances(roster, model),
    )
    build = time.perf_counter() - begin
    result = solve_instance(
        inst,
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        strategy=strategy,
        deterministic=deterministic,
        progress=progress,
        started=t0,
        cancel=cancel,
        include_writing=include_writing,
        exiting=exiting,
    )
    result.timings.build = build
    return result


def solve_instance(
    inst: Instance,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int | None = None,
    strategy: Strategy = "auto",
    deterministic: bool = False,
    progress: ProgressFn | None = None,
    started: float | None = None,
    cancel: threading.Event | None = None,
    include_writing: bool = False,
    params: SearchParams | None = None,
    exiting: bool = False,
) -> Result:
    """Solve a compiled instance (see :func:`form`).

    ``params`` sets the search's tunables (default: the measured ones); the
    result records them.
    """
    check_search_options(seed, workers)
    begin = time.perf_counter()
    t0 = begin if started is None else started
    params = DEFAULT_PARAMS if params is None else params
    # deterministic teams must not depend on numba's cache: those solves wait for the kernels
    deadline = None if deterministic else t0 + time_limit
    with collecting(wait=deterministic, deadline=deadline) as fallback:
        result, search_end, reserve = _solve(
            inst, time_limit, seed, workers, strategy, deterministic, progress, t0, cancel,
            include_writing, params, exiting,
        )  # fmt: skip
    result.python_fallback = list(fallback)
    result.params = params
    result.timings.search = search_end - begin
    result.timings.finish = time.perf_counter() - search_end
    result.timings.reserve = reserve
    result.timings.limit = time_limit
    return result


def _solve(
    inst: Instance,
    time_limit: float,
    seed: int,
    workers: int | None,
    strategy: Strategy,
    deterministic: bool,
    progress: ProgressFn | None,
    t0: float,
    cancel: threading.Event | None,
    include_writing: bool,
    params: SearchParams,
    exiting: bool = False,
) -> tuple[Result, float, float]:
    """The result, when the search ended and the time reserved for finishing."""
    terms = build_terms(inst)
    found = search(
        inst, terms, time_limit=time_limit, seed=seed, workers=workers, strategy=strategy,
        deterministic=deterministic, progress=progress, started=t0, cancel=cancel,
        include_writing=include_writing, params=params,
    )  # fmt: skip
    search_end = time.perf_counter()
    if exiting:
        left_off()
    outcome = found.outcome
    result = _finish(
        inst,
        terms,
        outcome.assignment,
        outcome.status,
        t0,
        seed,
        found.workers,
        found.strategy,
        found.conflicts,
        solver_bound=outcome.bound,
        time_to_first=outcome.time_to_first,
        search_objective=outcome.objective,
        stopped=found.stopped,
    )
    result.timings.construction = found.construction
    result.timings.bounds = found.bounds
    return result, search_end, found.reserve


@dataclass
class Search:
    """A search's raw answer, before the validator judges it (see :func:`search`)."""

    outcome: Outcome
    #: the strategy that ran (``exact``, ``lns``, ``diversity``) and its CP-SAT workers
    strategy: str
    workers: int
    #: the rules that conflict, when there is no assignment meeting them all
    conflicts: list[str]
    #: ``cancelled`` when a stop was requested, else None
    stopped: str | None
    #: seconds kept back for finishing, and spent on construction and bounds
    reserve: float
    construction: float | None = None
    bounds: float | None = None


def search(
    inst: Instance,
    terms: list[Term],
    *,
    time_limit: float,
    seed: int = 0,
    workers: int | None = None,
    strategy: Strategy = "auto",
    deterministic: bool = False,
    progress: ProgressFn | None = None,
    started: float | None = None,
    cancel: threading.Event | None = None,
    include_writing: bool = False,
    params: SearchParams = DEFAULT_PARAMS,
) -> Search:
    """Construct, search and hand back the search's own answer, not yet validated.

    :func:`solve_instance` passes this to the validator; tests look at it
    first, so that a search returning an invalid assignment is caught as such.
    """
    t0 = time.perf_counter() if started is None else started
    report = Monotone(progress) if progress is not None else None
    used: str = strategy
    if strategy == "auto":
        used = "exact" if inst.n <= params.exact_max_learners else "lns"

    conflicts = precheck(inst, terms)
    if conflicts:
        return Search(Outcome(Status.INFEASIBLE, None), used, 1, conflicts, None, 0.0)

    begin = time.perf_counter()
    since = Since.now()
    # the collector paused: numba's loading of the first kernels and the teams' lists
    # would set off full collections over every object since the roster (a sixth of the
    # construction at 50 000 learners)
    with gc_paused():
        start = construct(inst, seed) if inst.previous is None else construct_from_previous(inst)
        # same-availability swaps fix most of the motivation spread at no cost in common time;
        # a hard spread must hold before the search (its steep moves and time repairs wait
        # for a plan that breaks no hard rule), so partners of any availability too
        spread = spread_assignment(
            inst,
            terms,
            start,
            # its share of the limit, and no more than is left of it (a late start)
            None
            if deterministic
            else min(params.spread_share * time_limit, t0 + time_limit - time.perf_counter()),
            seed,
            any_partner=_hard_spread(terms),
        )
        if spread is not None:
            start = spread[0]
        for term in terms:
            term.decide(team_members(start, inst.k))  # e.g. the best projects for these teams
    first = time.perf_counter() - t0
    constructed = time.perf_counter()
    # bounds are needed for the report; computing them now keeps the finish quick. Their
    # share of the limit, and on a loaded machine late in it no more than leaves the
    # finish its estimated time at the slowdown so far (a weaker bound, still valid)
    bound_wall = max(
        0.0,
        min(
            BOUND_SHARE * time_limit,
            t0
            + time_limit
            - time.perf_counter()
            - since.slowdown() * _fixed_reserve(inst, time_limit),
        ),
    )
    with wall_limit(None if deterministic else bound_wall), gc_paused():
        for term in terms:
            term.bound()
    bounded = time.perf_counter()
    reserve, work = _reserve(inst, terms, start, time_limit, deterministic, include_writing, since)
    search_limit = max(0.01, time_limit - reserve)
    budget = Budget(search_limit, deterministic, t0)
    if (
        used == "lns"
        and pure_diversity(inst, terms)
        and ready_now("diversity", "diversity by the general search")
    ):
        n_workers = 1
        used = "diversity"
        outcome = solve_diversity(inst, start, budget, seed, cancel, params)
    elif used == "exact":
        # the full model's module subclasses CP-SAT's callback: imported only where it runs
        from teamform.search.exact import solve_exact

        n_workers = workers or 2
        outcome = solve_exact(
            inst, terms, start, budget, seed, n_workers, report, first, cancel, params
        )
    else:
        n_workers = workers or 1
        # the last part of the search goes to the teams out of the motivation range;
        # not in deterministic runs, whose answer is the best plan of a search that a
        # longer budget only extends, so never worse: a polish of the best plan at
        # the end could leave a longer run worse (their rounds regroup those teams)
        polish = (
            0.0
            if deterministic
            else min(params.polish_share * search_limit, params.polish_max_seconds)
        )
        searching = Since.now()

        def finish_slowdown(pace: Pace, cpu: float | None = None) -> float:
            # the finish runs at the load the search just ran at, not at the one seen
            # before it (load here changes within seconds): the search's own slowdown
            # (a search too short to say, the whole solve's, the search included), or
            # the last second's when that is higher
            average = (
                searching.slowdown(cpu)
                if time.perf_counter() - searching.wall >= _SEARCH_SPAN
                else since.slowdown(cpu)
            )
            return max(average, pace.recent() or 1.0)

        def time_up(pace: Pace) -> None:
            # read from the helper thread: once the finish, at this slowdown, needs
            # the time that is left after the polish, the search stops there. It sees
            # the stop only between bursts of compiled work, and this thread reads
            # only between them too: the longest burst so far is asked for ahead
            kept = _kept(work, finish_slowdown(pace, pace.cpu()), time_limit)
            if time.perf_counter() + pace.longest_hold >= t0 + time_limit - kept - polish:
                stop.set()

        # the caller's stop, or the search's own when its time is up early
        stop = Stop(cancel)
        with Pace(active=not deterministic and n_workers == 1, watch=time_up) as pace:
            outcome = run_lns(
                inst,
                terms,
                start,
                time_limit=max(0.01, search_limit - polish),
                seed=seed,
                workers=n_workers,
                deterministic=deterministic,
                started=t0,
                progress=report,
                first=first,
                cancel=stop,
                params=params,
            )
            if (
                outcome.assignment is not None
                and outcome.status == Status.FEASIBLE
                and not deterministic
            ):
                # what to keep back, counted again at that slowdown, moves the steps' end
                reserve = _kept(work, finish_slowdown(pace), time_limit)
                # the best plan may come from annealing after the last swaps toward a
                # window (not in deterministic runs, whose rounds end with them); half
                # of what is left at most, the rest for the motivation spread
                now = time.perf_counter()
                end = t0 + time_limit - reserve
                swapped = last_swaps_for_time(inst, terms, outcome.assignment, (now + end) / 2)
                if swapped is not None:
                    outcome.assignment, outcome.objective = swapped
                # and again after the swaps, at the last second's, never to less
                reserve = max(reserve, _kept(work, pace.recent() or 1.0, time_limit))
                end = t0 + time_limit - reserve
                # set-up included: past the end the finish would eat into its time
                spread = spread_assignment(
                    inst, terms, outcome.assignment, end - time.perf_counter(), seed, until=end
                )
                if spread is not None:
                    outcome.assignment, outcome.objective = spread
        if outcome.assignment is not None and outcome.status == Status.FEASIBLE:
            # a promise of the motivation criterion, kept in deterministic runs too: the
            # swaps depend on the plan alone, never on the clock
            _intrinsic_everywhere(inst, terms, outcome)
    stopped = "cancelled" if is_set(cancel) else None
    for term, d in zip(terms, outcome.decisions or [], strict=False):
        if d is not None:
            term.restore(d)  # the projects that go with the assignment
    if outcome.status == Status.INFEASIBLE:
        conflicts = (
            ["no assignment meets every hard rule (stopped before the conflict was narrowed down)"]
            if stopped
            else diagnose(
                inst, terms, max(params.diagnose_min_seconds, params.diagnose_share * time_limit)
            )
        )
    return Search(
        outcome,
        used,
        n_workers,
        conflicts,
        stopped,
        reserve,
        constructed - begin,
        bounded - constructed,
    )


def _hard_spread(terms: Sequence[Term]) -> bool:
    """Whether the model makes the motivation spread a hard rule."""
    return any(isinstance(t, MotivationTerm) and t.hard for t in terms)


def _intrinsic_everywhere(inst: Instance, terms: list[Term], outcome: Outcome) -> None:
    """Give every team of the search's plan an intrinsic member where the cohort allows
    (:func:`~teamform.search.construct.give_intrinsic`), by the cheapest swap that
    breaks no hard rule and leaves no team further short of its common-time target.

    The motivation criterion promises no team made only of imposed learners when
    there are enough intrinsic ones; a search may still trade one for common
    time, or run out of time first (at 50 000 learners in seconds). The few such
    teams are cheap to look at; the swap's cost (usually a fraction of what the
    team saves on the spread, sometimes a little more) is counted in the
    objective. Plans with per-team decisions (projects) are left as they are: a
    swap would make those stale.
    """
    assert outcome.assignment is not None
    if outcome.objective is None or any(t.decisions() is not None for t in terms):
        return
    scored = [(t, HARD_COST if t.hard else t.coefficient) for t in terms]
    avoid = inst.avoid_adj

    def team_cost(members: list[int], team: int) -> int:
        # as the search counts a team (TeamState.team_cost)
        cost = sum(coef * term.team_penalty(members, team) for term, coef in scored if coef)
        if inst.pins is not None:
            cost += HARD_COST * inst.pins.team_violations(members, team)
        inside = set(members)
        return cost + HARD_COST * sum(1 for i in members for j in avoid[i] if j in inside)

    assignment = list(outcome.assignment)
    swaps, change = give_intrinsic(inst, assignment, team_cost, ceiling=HARD_COST, keep_time=True)
    if swaps:
        outcome.assignment = assignment
        outcome.objective += change


#: Teams summarised (and serialised) to measure what finishing a result costs: enough
#: that teams that cost more (below their common-time target) are sampled as often as
#: they occur.
_SAMPLE_TEAMS = 256
#: The sample is this many runs of consecutive teams spread over the cohort: teams
#: made one after another share more of their measures (common time, its windows) as
#: all teams do; teams taken one by one far apart cost a third more each.
_SAMPLE_RUNS = 8
#: Passes over the sample of teams, whose mean is taken.
_SAMPLE_PASSES = 2
#: Safety factor on the measured finishing cost: a machine's speed varies between the
#: measurement and the finish. Small, since the sample already errs high: its teams,
#: summarised apart, cost 10-20 % more each than they do among all teams. (At 50 000
#: learners, loads of 1.4-4.7, what came after the search's end took 0.7-1.7 times the
#: work at the slowdown counted, 1.1 at the median; margins of 1.2 and 1.3 were tried:
#: about as many runs over the limit, 0.1-0.4 s less search.)
_RESERVE_MARGIN = 1.1
#: Seconds for what the sample cannot show: file-system syncs, the printed summary.
_RESERVE_FIXED = 0.1
#: CPU seconds per learner of the process's exit after its own clock stops (0.04-0.05 s
#: of wall time at 50 000 learners on a quiet machine, 0.07-0.16 s at a load of 3-4.7;
#: 0.01-0.02 s at 2 000 and 10 000), counted with the finish's work.
_EXIT_PER_LEARNER = 1e-6
#: Seconds of search below which the finish is counted at the slowdown of the whole
#: solve (construction included), not at the search's own: over a few tenths of a
#: second another process's burst can double or halve it.
_SEARCH_SPAN = 1.0
#: Seconds of the solve before the reserve is measured below which the wall time per
#: second of CPU time is not measured on them (taken as 1): too short to say.
_SLOWDOWN_SPAN = 0.2


@dataclass(frozen=True)
class Since:
    """Wall clock and this thread's CPU time at a moment (``time.perf_counter()``,
    ``time.thread_time()``): from it, how much wall time a second of this thread's
    work has taken on this machine (:meth:`slowdown`)."""

    wall: float
    cpu: float

    @classmethod
    def now(cls) -> Since:
        """The current readings of both clocks."""
        return cls(time.perf_counter(), time.thread_time())

    def slowdown(self, cpu_now: float | None = None) -> float:
        """Wall seconds per second of this thread's CPU time since then (at least 1).

        On a machine whose cores other processes share, each second of work takes
        longer than a second: measured over the whole solve so far, not over a
        short measurement that a moment of another process's work can double.
        ``cpu_now`` is that thread's CPU time now, when read from another thread
        (default: this thread's clock).
        """
        wall = time.perf_counter() - self.wall
        cpu = (time.thread_time() if cpu_now is None else cpu_now) - self.cpu
        if wall < _SLOWDOWN_SPAN or cpu <= 0:
            return 1.0
        return max(1.0, wall / cpu)


def _reserve(
    inst: Instance,
    terms: list[Term],
    start: list[int],
    time_limit: float,
    deterministic: bool,
    include_writing: bool,
    since: Since | None = None,
) -> tuple[float, float]:
    """Seconds to keep back from the search to finish (and write) inside the limit,
    and the CPU seconds of that work (0 in deterministic runs: not measured).

    Measured on the first assignment, never capped: when finishing takes more
    than the time left, the search gets almost nothing and the result's
    timings show the limit was not met, rather than a reserve that pretends.
    The work is measured in this thread's CPU time and counted in wall time at
    the slowdown measured since ``since`` (the solve's start; default: none).
    """
    if deterministic:
        return _fixed_reserve(inst, time_limit), 0.0
    slowdown = 1.0 if since is None else since.slowdown()
    work = finishing_cost(inst, terms, start, include_writing) + _EXIT_PER_LEARNER * inst.n
    return _kept(work, slowdown, time_limit), work


def _fixed_reserve(inst: Instance, time_limit: float) -> float:
    """Seconds to finish a result, estimated from the cohort's size alone (about
    0.17 ms per team to summarise plus 5 us per learner to validate): the same on
    every run, for deterministic runs, and before the finish can be measured."""
    return min(0.5 * time_limit, 0.05 + 1.7e-4 * inst.k + 5e-6 * inst.n)


def _kept(work: float, slowdown: float, time_limit: float) -> float:
    """Wall seconds kept back for ``work`` CPU seconds of finishing at ``slowdown``
    wall seconds per CPU second (never more than the limit)."""
    return min(time_limit, _RESERVE_MARGIN * slowdown * work + _RESERVE_FIXED)


def finishing_cost(
    inst: Instance, terms: list[Term], assignment: list[int], include_writing: bool = False
) -> float:
    """Seconds of CPU time it takes this thread to validate and summarise ``assignment``
    (and write the result).

    Validation is timed in full; summaries (and their JSON and CSV text) are
    timed on a sample of teams spread over the cohort and scaled to every team.
    CPU time, not wall time: a measurement of a tenth of a second in wall time
    on a busy machine is as much the other processes' as this one's.
    """
    clock = time.thread_time
    begin = clock()
    check = validate(inst, assignment, terms)
    cost = clock() - begin
    if inst.k == 0:
        return cost
    sample = _sample(inst.k)
    # a pause of the garbage collector is not to be scaled up: the margin covers it
    collecting = gc.isenabled()
    gc.disable()
    try:
        per_team, fixed = _summary_costs(inst, terms, assignment, check, sample, include_writing)
    finally:
        if collecting:
            gc.enable()
    cost += fixed
    if include_writing:
        # the learner-to-team map of the JSON, one short entry per learner, as the
        # result's serialiser writes it
        begin = clock()
        pydantic_core.to_json({inst.ids[i]: t + 1 for i, t in enumerate(assignment)}, indent=2)
        cost += clock() - begin
    return cost + per_team * inst.k


def _sample(k: int) -> list[int]:
    """The teams :func:`finishing_cost` summarises: :data:`_SAMPLE_RUNS` runs of
    consecutive teams, evenly spread, :data:`_SAMPLE_TEAMS` in all (every team of
    fewer)."""
    if k <= _SAMPLE_TEAMS:
        return list(range(k))
    length = _SAMPLE_TEAMS // _SAMPLE_RUNS
    firsts = np.linspace(0, k - length, _SAMPLE_RUNS).astype(int).tolist()
    return sorted({first + i for first in firsts for i in range(length)})


def _summary_costs(
    inst: Instance,
    terms: list[Term],
    assignment: list[int],
    check: Validation,
    sample: list[int],
    include_writing: bool,
) -> tuple[float, float]:
    """CPU seconds per team and fixed CPU seconds per call of :func:`summarize` (and
    writing).

    The fixed part (member lists, every team's measures at once, which the
    layout keeps for the calls on the sample, and the per-criterion scores) is
    timed once; the sample twice, on that layout, and the mean taken.
    Measuring costs what it measures: at 50 000 learners these passes take a
    fifth of a second of CPU time.
    """
    clock = time.thread_time
    begin = clock()
    layout = TeamLayout(assignment, inst.k)
    summarize(inst, layout, terms, check, only=[])
    fixed = clock() - begin
    # a first team pays one-off imports and caches: not to be scaled up to every team
    summarize(inst, layout, terms, check, only=sample[:1])
    begin = clock()
    for _ in range(_SAMPLE_PASSES):
        teams, scores = summarize(inst, layout, terms, check, only=sample)
        if include_writing:
            for team in teams:
                team.model_dump_json(indent=2)
            teams_csv(teams)
            digest(teams, scores)  # what the command line prints of a large result
    return (clock() - begin) / (_SAMPLE_PASSES * len(sample)), fixed


@dataclass
class Judgement:
    """The status and bound an assignment has earned, and what did not add up."""

    status: Status
    #: the best lower bound that held (integer objective units)
    bound: int
    #: one line per inconsistency found: each is a bug, never a property of the input
    defects: list[str]


def judge(
    terms: Sequence[Term],
    check: Validation,
    status: Status,
    solver_bound: int | None = None,
    search_objective: int | None = None,
) -> Judgement:
    """The status and bound a search's answer has earned, by the validator's measure.

    ``status`` is what the search claims: ``OPTIMAL`` only when CP-SAT proved
    it. Otherwise the answer is optimal when a lower bound known before the
    search (the criteria's own :meth:`~teamform.criteria.base.Term.lower_bound`,
    or CP-SAT's proven bound) meets the validated objective. A bound above the
    objective of a valid assignment, a claim of feasibility for an assignment
    that breaks a hard rule, or a search objective that differs from the
    validator's is a bug: it is recorded in ``defects`` and never turned into
    optimality.
    """
    defects: list[str] = []
    objective = check.objective
    if search_objective is not None and search_objective != objective:
        defects.append(
            f"the search scored its assignment {search_objective}, the validator {objective}"
        )
    if not check.ok:
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            defects.append(
                f"the search returned as {status.value} an assignment that breaks "
                f"{len(check.violations)} hard rule(s)"
            )
        # no bound to check against: an invalid assignment is not a solution
        term_bound = sum(t.coefficient * t.bound() for t in terms)
        bound = max(term_bound, solver_bound if solver_bound is not None else 0)
        return Judgement(Status.UNKNOWN, bound, defects)
    if status == Status.UNKNOWN:
        defects.append("the search found no feasible assignment, but the validator accepts it")
    term_bound = 0
    for t in terms:
        b, penalty = t.bound(), check.penalties[t.name]
        if b > penalty:
            # every valid assignment pays at least the bound: this one does not
            defects.append(f"{t.name}: lower bound {b} above the penalty {penalty} of a valid plan")
        else:
            term_bound += t.coefficient * b
    bound = term_bound
    if solver_bound is not None:
        if solver_bound > objective:
            defects.append(
                f"CP-SAT's bound {solver_bound} above the validated objective {objective}"
            )
        else:
            bound = max(bound, solver_bound)
    if status == Status.OPTIMAL and search_objective is not None and search_objective != objective:
        status = Status.FEASIBLE  # CP-SAT proved the optimum of another objective
    if status == Status.FEASIBLE and bound >= objective:
        status = Status.OPTIMAL
    return Judgement(status, bound, defects)


@gc_paused()
def _finish(
    inst: Instance,
    terms: list[Term],
    assignment: list[int] | None,
    status: Status,
    t0: float,
    seed: int,
    workers: int,
    strategy: str,
    conflicts: list[str],
    *,
    solver_bound: int | None = None,
    time_to_first: float | None = None,
    search_objective: int | None = None,
    stopped: str | None = None,
) -> Result:
    base = dict(
        seed=seed,
        workers=workers,
        strategy=strategy,
        model_name=inst.model.name,
        reference_date=inst.reference_date.isoformat(),
        n_learners=inst.n,
        n_teams=inst.k,
        conflicts=conflicts,
        stopped=stopped,
    )
    if assignment is None:
        return Result(status=status, runtime=time.perf_counter() - t0, **base)  # type: ignore[arg-type]
    check = validate(inst, assignment, terms)
    teams, scores = summarize(inst, assignment, terms, check)
    honest = judge(terms, check, status, solver_bound, search_objective)
    objective = check.objective / OBJECTIVE_SCALE
    bound_f = honest.bound / OBJECTIVE_SCALE
    for defect in honest.defects:
        # criterion names and numbers only: never a learner
        log.warning("inconsistent result (%s): %s", inst.model.name or "model", defect)
    return Result(
        status=honest.status,
        objective=objective,
        bound=bound_f,
        gap=(objective - bound_f) / max(objective, 1.0),
        excess_per_team=(objective - bound_f) / max(inst.k, 1),
        runtime=time.perf_counter() - t0,
        time_to_first=time_to_first,
        assignment={inst.ids[i]: t + 1 for i, t in enumerate(assignment)},
        teams=teams,
        breakdown=scores,
        valid=check.ok,
        violations=check.violations,
        search_objective=None if search_objective is None else search_objective / OBJECTIVE_SCALE,
        defects=honest.defects,
        **base,  # type: ignore[arg-type]
    )
