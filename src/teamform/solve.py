"""Solve a formation problem: pick a strategy, search, validate, report.

Small cohorts get the full CP-SAT model warm-started from the construction, so
optimality is proven where it is within reach; larger ones get construction,
local search and CP-SAT neighbourhoods (:mod:`teamform.search.lns`). Every
answer goes through the solver-independent validator before it is returned.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from teamform.cancel import is_set, stopping
from teamform.cpmodel import SubModel
from teamform.criteria import OBJECTIVE_SCALE, Term, build_terms
from teamform.diagnose import diagnose, precheck
from teamform.distances import model_distances
from teamform.errors import InputError
from teamform.gcpause import gc_paused
from teamform.instance import Instance, build_instance
from teamform.model import FormationModel
from teamform.pins import Pins
from teamform.result import Result, Status, teams_csv
from teamform.roster import Roster
from teamform.search.construct import construct, construct_from_previous
from teamform.search.kernels import collecting, ready_now
from teamform.search.local import LocalSearch, TeamState
from teamform.search.outcome import Outcome, Progress, ProgressFn
from teamform.search.spread import spread_assignment
from teamform.summary import criterion_scores, summarize, summarize_team
from teamform.validate import Validation, team_members, validate

log = logging.getLogger("teamform.solve")

Strategy = Literal["auto", "exact", "lns"]
#: Cohorts up to this size get the full CP-SAT model under ``auto``.
EXACT_MAX_LEARNERS = 80
#: CP-SAT takes a 32-bit seed.
MAX_SEED = 2**31 - 1
#: More threads than this only share the same cores.
MAX_WORKERS = 256


def check_search_options(seed: int, workers: int | None) -> None:
    """Raise :class:`InputError` for a seed or worker count CP-SAT cannot take."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed {seed} is outside 0-{MAX_SEED}", column="--seed")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"{workers} workers is outside 1-{MAX_WORKERS}", column="--workers")


#: Share of the exact strategy's budget given to compiled annealing before CP-SAT.
ANNEAL_SHARE = 0.75
#: Annealing runs (the first from the construction, the others from the best so far).
ANNEAL_RUNS = 4
#: Shortest annealing run worth having.
ANNEAL_RUN_SECONDS = 2.0


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
        Also keep time back for writing the result as JSON and CSV before the
        limit (the time it takes is measured on a sample of teams).
    previous_projects
        Team number (from 1) to its project in the previous phase, kept when
        the model's ``criteria.projects.keep`` is set.
    today
        The date in whose week availability is placed when the model sets no
        ``reference_date`` (default: the current date).

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
) -> Result:
    """Solve a compiled instance (see :func:`form`)."""
    check_search_options(seed, workers)
    begin = time.perf_counter()
    t0 = begin if started is None else started
    # deterministic teams must not depend on numba's cache: those solves wait for the kernels
    with collecting(wait=deterministic) as fallback:
        result, search_end, reserve = _solve(
            inst, time_limit, seed, workers, strategy, deterministic, progress, t0, cancel,
            include_writing,
        )  # fmt: skip
    result.python_fallback = list(fallback)
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
) -> tuple[Result, float, float]:
    """The result, when the search ended and the time reserved for finishing."""
    terms = build_terms(inst)
    found = search(
        inst, terms, time_limit=time_limit, seed=seed, workers=workers, strategy=strategy,
        deterministic=deterministic, progress=progress, started=t0, cancel=cancel,
        include_writing=include_writing,
    )  # fmt: skip
    search_end = time.perf_counter()
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
) -> Search:
    """Construct, search and hand back the search's own answer, not yet validated.

    :func:`solve_instance` passes this to the validator; tests look at it
    first, so that a search returning an invalid assignment is caught as such.
    """
    t0 = time.perf_counter() if started is None else started
    report = _Monotone(progress) if progress is not None else None
    used: str = strategy
    if strategy == "auto":
        used = "exact" if inst.n <= EXACT_MAX_LEARNERS else "lns"

    conflicts = precheck(inst, terms)
    if conflicts:
        return Search(Outcome(Status.INFEASIBLE, None), used, 1, conflicts, None, 0.0)

    begin = time.perf_counter()
    start = construct(inst, seed) if inst.previous is None else construct_from_previous(inst)
    # same-availability swaps fix most of the motivation spread at no cost in common time
    spread = spread_assignment(
        inst, terms, start, None if deterministic else 0.1 * time_limit, seed, any_partner=False
    )
    if spread is not None:
        start = spread[0]
    for term in terms:
        term.decide(team_members(start, inst.k))  # e.g. the best projects for these teams
    first = time.perf_counter() - t0
    constructed = time.perf_counter()
    # bounds are needed for the report; computing them now keeps the finish quick
    for term in terms:
        term.bound()
    bounded = time.perf_counter()
    reserve = _reserve(inst, terms, start, time_limit, deterministic, include_writing)
    search_limit = max(0.01, time_limit - reserve)
    if (
        used == "lns"
        and _pure_diversity(inst, terms)
        and ready_now("diversity", "diversity by the general search")
    ):
        n_workers = 1
        used = "diversity"
        outcome = _solve_diversity(inst, start, search_limit, seed, deterministic, t0, cancel)
    elif used == "exact":
        n_workers = workers or 2
        outcome = _solve_exact(
            inst, terms, start, search_limit, seed, n_workers, deterministic, t0, report, first,
            cancel,
        )  # fmt: skip
    else:
        from teamform.search.lns import run_lns

        n_workers = workers or 1
        # the last part of the search goes to the teams out of the motivation range
        polish = min(0.05 * search_limit, 1.5)
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
            cancel=cancel,
        )
        if outcome.assignment is not None and outcome.status == Status.FEASIBLE:
            left = None if deterministic else t0 + search_limit - time.perf_counter()
            spread = spread_assignment(inst, terms, outcome.assignment, left, seed)
            if spread is not None:
                outcome.assignment, outcome.objective = spread
    stopped = "cancelled" if is_set(cancel) else None
    for term, d in zip(terms, outcome.decisions or [], strict=False):
        if d is not None:
            term.restore(d)  # the projects that go with the assignment
    if outcome.status == Status.INFEASIBLE:
        conflicts = (
            ["no assignment meets every hard rule (stopped before the conflict was narrowed down)"]
            if stopped
            else diagnose(inst, terms, max(1.0, time_limit / 4))
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


#: Teams summarised (and serialised) to measure what finishing a result costs.
_SAMPLE_TEAMS = 64
#: Safety factor on the measured finishing cost: a shared machine's speed varies.
_RESERVE_MARGIN = 1.5
#: Seconds for what the sample cannot show: file-system syncs, the printed summary.
_RESERVE_FIXED = 0.1


def _reserve(
    inst: Instance,
    terms: list[Term],
    start: list[int],
    time_limit: float,
    deterministic: bool,
    include_writing: bool,
) -> float:
    """Seconds to keep back from the search to finish (and write) inside the limit."""
    if deterministic:
        # the same work budget on every run, so the same teams: a fixed estimate
        # (about 0.17 ms per team to summarise plus 5 us per learner to validate)
        cost = 0.05 + 1.7e-4 * inst.k + 5e-6 * inst.n
    else:
        cost = _RESERVE_MARGIN * finishing_cost(inst, terms, start, include_writing)
        cost += _RESERVE_FIXED
    return min(0.5 * time_limit, cost)


def finishing_cost(
    inst: Instance, terms: list[Term], assignment: list[int], include_writing: bool = False
) -> float:
    """Seconds it takes to validate and summarise ``assignment`` (and write the result).

    Validation is timed in full; summaries (and their JSON and CSV text) are
    timed on a sample of teams spread over the cohort and scaled to every team.
    """
    begin = time.perf_counter()
    check = validate(inst, assignment, terms)
    cost = time.perf_counter() - begin
    if inst.k == 0:
        return cost
    sample = sorted(set(np.linspace(0, inst.k - 1, min(inst.k, _SAMPLE_TEAMS)).astype(int)))
    # a first call pays one-off imports and caches: not to be scaled up to every team
    summarize(inst, assignment, terms, check, only=sample[:1])
    # nor is a pause of the garbage collector, which the margin covers instead
    collecting = gc.isenabled()
    gc.disable()
    try:
        per_team, fixed = _summary_costs(inst, terms, assignment, check, sample, include_writing)
    finally:
        if collecting:
            gc.enable()
    cost += fixed
    if include_writing:
        # the learner-to-team map of the JSON: one short entry per learner
        begin = time.perf_counter()
        json.dumps({inst.ids[i]: t + 1 for i, t in enumerate(assignment)}, indent=2)
        cost += time.perf_counter() - begin
    return cost + per_team * inst.k


def _summary_costs(
    inst: Instance,
    terms: list[Term],
    assignment: list[int],
    check: Validation,
    sample: list[int],
    include_writing: bool,
) -> tuple[float, float]:
    """Seconds per team and fixed seconds per call of :func:`summarize` (and writing).

    Both parts are timed on their own, each the faster of two passes: a
    difference of two timings, or one pass caught by a pause of the machine,
    would be scaled up by thousands of teams.
    """
    fixed = per_team = math.inf
    for _ in range(2):
        # the fixed part: member lists and the per-criterion scores
        begin = time.perf_counter()
        members = team_members(assignment, inst.k)
        criterion_scores(terms, check.penalties)
        fixed = min(fixed, time.perf_counter() - begin)
        begin = time.perf_counter()
        teams = [
            summarize_team(inst, assignment, terms, check.team_penalties, t, members[t])
            for t in sample
        ]
        if include_writing:
            for team in teams:
                team.model_dump_json(indent=2)
            teams_csv(teams)
        per_team = min(per_team, (time.perf_counter() - begin) / len(sample))
    return per_team, fixed


class _Monotone:
    """Passes on a progress report only when it says something new: a better
    objective or a higher bound (CP-SAT may restart above a hint's value)."""

    def __init__(self, report: ProgressFn) -> None:
        self.report = report
        self.objective: float | None = None
        self.bound: float | None = None
        # CP-SAT reports solutions and bounds from its own threads
        self.lock = threading.Lock()

    def __call__(self, p: Progress) -> None:
        with self.lock:
            self._update(p)

    def _update(self, p: Progress) -> None:
        better = p.objective is not None and (
            self.objective is None or p.objective < self.objective
        )
        higher = p.bound is not None and (self.bound is None or p.bound > self.bound)
        if not (better or higher):
            return
        if better:
            self.objective = p.objective
        if higher:
            self.bound = p.bound
        self.report(Progress(self.objective, self.bound, p.elapsed))


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, t0: float, progress: ProgressFn | None) -> None:
        super().__init__()
        self.t0 = t0
        self.progress = progress
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.t0
        if self.first is None:
            self.first = now
        if self.progress is not None:
            self.progress(
                Progress(
                    self.objective_value / OBJECTIVE_SCALE,
                    self.best_objective_bound / OBJECTIVE_SCALE,
                    now,
                )
            )

    def on_bound(self, bound: float) -> None:
        """CP-SAT proved a better lower bound."""
        if self.progress is not None:
            elapsed = time.perf_counter() - self.t0
            self.progress(Progress(None, bound / OBJECTIVE_SCALE, elapsed))


def _pure_diversity(inst: Instance, terms: list[Term]) -> bool:
    """Diversity alone, with only sizes and sections as hard rules: the MDGP."""
    from teamform.criteria import DiversityTerm

    # pins are not known to the tabu search: the general search handles them
    return (
        len(terms) == 1
        and isinstance(terms[0], DiversityTerm)
        and not len(inst.avoid)
        and inst.pins is None
    )


def _solve_diversity(
    inst: Instance,
    start: list[int],
    time_limit: float,
    seed: int,
    deterministic: bool,
    t0: float,
    cancel: threading.Event | None = None,
) -> Outcome:
    """The compiled iterated tabu search for maximally diverse grouping, per section."""
    from teamform.search.diversity_ls import solve_max_diversity

    assert inst.distances is not None
    assignment = list(start)
    sections = range(len(inst.section_names))
    for s in sections:
        learners = np.flatnonzero(inst.section == s)
        teams = inst.teams_of_section(s)
        if len(teams) < 2 or is_set(cancel):
            continue
        remaining = t0 + time_limit - time.perf_counter()
        share = max(0.01, remaining * len(learners) / max(1, inst.n))
        sub = inst.distances[np.ix_(learners, learners)].astype(np.float64)
        local = {t: g for g, t in enumerate(teams.tolist())}
        found = solve_max_diversity(
            sub,
            inst.team_lo[teams],
            inst.team_hi[teams],
            time_limit=share if not deterministic else 10 * share + 60,
            seed=seed,
            initial=np.array([local[start[i]] for i in learners.tolist()]),
            max_iterations=int(2000 * time_limit) if deterministic else None,
            cancel=cancel,
        )
        for i, g in zip(learners.tolist(), found.assignment.tolist(), strict=True):
            assignment[i] = int(teams[g])
    return Outcome(Status.FEASIBLE, assignment, None, time.perf_counter() - t0)


def solver_for(
    time_limit: float, seed: int, workers: int, deterministic: bool
) -> cp_model.CpSolver:
    """A CP-SAT solver with teamform's parameters."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    if deterministic:
        # deterministic time is CP-SAT's own work measure, roughly seconds
        params.max_deterministic_time = max(0.01, time_limit)
        params.interleave_search = workers > 1
    else:
        params.max_time_in_seconds = max(0.01, time_limit)
    params.random_seed = seed
    params.num_workers = max(1, workers)
    # Ctrl-C belongs to the caller (it sets the cancel event), not to the solver
    params.catch_sigint_signal = False
    return solver


def _solve_exact(
    inst: Instance,
    terms: list[Term],
    start: list[int],
    time_limit: float,
    seed: int,
    workers: int,
    deterministic: bool,
    t0: float,
    progress: ProgressFn | None,
    first: float,
    cancel: threading.Event | None = None,
) -> Outcome:
    # local search first gives CP-SAT a good hint to start from
    from teamform.search.lns import LnsStats, anneal, use_compiled

    state = TeamState(inst, terms, start)
    best_total, best_assign = state.total, list(state.assign)
    deciding = state.deciding
    best_decisions = state.decisions() if deciding else None
    # the first assignment meeting every hard rule: the construction's, or later
    found_at: float | None = first if state.hard_violations == 0 else None

    def keep_best() -> None:
        nonlocal best_total, best_assign, found_at, best_decisions
        if state.total < best_total:
            best_total, best_assign = state.total, list(state.assign)
            if deciding:
                best_decisions = state.decisions()
            if found_at is None and state.hard_violations == 0:
                found_at = time.perf_counter() - t0
            if progress is not None and state.hard_violations == 0:
                progress(Progress(best_total / OBJECTIVE_SCALE, None, time.perf_counter() - t0))

    if progress is not None and state.hard_violations == 0:
        progress(Progress(best_total / OBJECTIVE_SCALE, None, first))

    left = time_limit if deterministic else time_limit - (time.perf_counter() - t0)
    compiled = use_compiled(inst, terms, left)
    if compiled and not deterministic:
        from teamform.search.kernels import get_ready

        # compiling would eat the budget: the Python search runs this time, and
        # the kernels compile in the background for the next solve
        compiled = get_ready() is None
    if compiled:
        # Annealing finds very good teams fast, and re-annealing from the best so far
        # leaves the basin one cooling settles in (measured on the demo course: see
        # benchmarks/README.md); CP-SAT then improves or proves them with what is left.
        pre = ANNEAL_SHARE * time_limit
        runs = max(1, min(ANNEAL_RUNS, int(pre // ANNEAL_RUN_SECONDS)))
        budget = 1 if deterministic else None
        end = time.perf_counter() + pre
        for r in range(runs):
            if is_set(cancel) or best_total == 0:
                break
            if r:
                state = TeamState(inst, terms, best_assign)
            begin = time.perf_counter()
            span = pre / runs if deterministic else (end - begin) / (runs - r)
            if span <= 0:
                break
            run_seed = (seed + r) % (MAX_SEED + 1)
            anneal(state, terms, run_seed, begin, span, budget, LnsStats(), keep_best, cancel)
    elif deciding:
        # per-team decisions (projects) are best searched together with the
        # members: CP-SAT neighbourhoods between bursts of moves
        from teamform.search.lns import run_lns

        warm = run_lns(
            inst,
            terms,
            state.assign,
            time_limit=min(0.5 * time_limit, 10.0),
            seed=seed,
            deterministic=deterministic,
            cancel=cancel,
        )
        if warm.assignment is not None:
            for term, d in zip(terms, warm.decisions or [], strict=False):
                if d is not None:
                    term.restore(d)
            state = TeamState(inst, terms, warm.assignment)
            keep_best()
    else:
        ls = LocalSearch(state, np.random.default_rng(seed))
        if deterministic:
            ls.run(max_steps=int(200 * min(time_limit, 5.0)) * inst.k, cancel=cancel)
        else:
            ls.run(deadline=t0 + min(0.2 * time_limit, 2.0), cancel=cancel)
        keep_best()
    if best_decisions is not None:
        for term, d in zip(terms, best_decisions, strict=True):
            if d is not None:
                term.restore(d)
    state = TeamState(inst, terms, best_assign)
    if state.hard_violations == 0:
        start = list(state.assign)
    if is_set(cancel):
        return _fallback(inst, terms, start, found_at, best_decisions, state)
    sub = SubModel(inst, range(inst.n), range(inst.k), terms)
    sub.hint(start)
    remaining = time_limit - (time.perf_counter() - t0)
    solver = solver_for(remaining, seed, workers, deterministic)
    callback = _Callback(t0, progress)
    if progress is not None:
        solver.best_bound_callback = callback.on_bound
    with stopping(solver, cancel):
        code = solver.solve(sub.model, callback)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = sub.read(solver)
        assignment = [found[i] for i in range(inst.n)]
        status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
        if state.hard_violations == 0 and state.soft_cost < round(solver.objective_value):
            # CP-SAT did not get back to its hint in time: keep the better answer
            return Outcome(
                Status.FEASIBLE,
                list(state.assign),
                round(solver.best_objective_bound),
                callback.first if found_at is None else found_at,
                state.soft_cost,
                decisions=best_decisions,
            )
        for term in terms:
            term.read_decisions(sub, solver)
        return Outcome(
            status,
            assignment,
            round(solver.best_objective_bound),
            callback.first if found_at is None else found_at,
            round(solver.objective_value),
            decisions=[term.decisions() for term in terms] if deciding else None,
        )
    if code == cp_model.INFEASIBLE:
        return Outcome(Status.INFEASIBLE, None)
    if code == cp_model.MODEL_INVALID:
        return Outcome(Status.MODEL_INVALID, None)
    # no solution in time: fall back on the local search's best if it is valid
    return _fallback(inst, terms, start, found_at, best_decisions, state)


def _fallback(
    inst: Instance,
    terms: list[Term],
    start: list[int],
    found_at: float | None,
    decisions: list[object] | None = None,
    state: TeamState | None = None,
) -> Outcome:
    """The local search's best, when CP-SAT gave none: valid, or no answer at all."""
    if validate(inst, start, terms).ok:
        # the search's own score of it, for the validator to confirm
        own = state.soft_cost if state is not None and state.assign == start else None
        return Outcome(Status.FEASIBLE, start, None, found_at, own, decisions)
    return Outcome(Status.UNKNOWN, None)


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
