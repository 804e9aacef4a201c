"""The exact strategy: the full CP-SAT model, warm-started by local search.

For cohorts small enough to prove optimality: compiled annealing (or the
Python local search, or neighbourhoods when teams also take projects) finds
very good teams first, and CP-SAT, hinted with them, improves or proves them.

The budget goes through phases of fixed lengths (:class:`SearchParams`: seconds
on the clock, work in deterministic mode), never shares of it: on the
smallest cohorts CP-SAT first (``proof_seconds``), then rounds of
``anneal_runs`` annealing runs of ``anneal_run_seconds`` each, every one from
the best plan so far, each round followed by CP-SAT for ``cpsat_seconds`` when
more than that is left; the last CP-SAT solve has what is left. A budget that
ends inside a phase ends where a larger one passes, so in deterministic mode a
larger budget runs a smaller one's phases and then searches on, keeping the best
plan, so it ends no worse: by construction for the annealing phases; for a budget
that ends inside a CP-SAT solve, as far as CP-SAT's own solves to a larger
deterministic limit end no worse, which with interleaved workers they did in every
case measured (one worker's default search did not).
"""

from __future__ import annotations

import threading
import time

import numpy as np
from ortools.sat.python import cp_model

from teamform.cancel import is_set, stopping
from teamform.cpmodel import SubModel
from teamform.criteria import OBJECTIVE_SCALE, Term
from teamform.instance import Instance
from teamform.result import Status
from teamform.search.budget import Budget
from teamform.search.cpsat import MAX_SEED, OVERSHOOT, solver_for
from teamform.search.local import LocalSearch, TeamState
from teamform.search.outcome import Outcome, Progress, ProgressFn
from teamform.search.params import DEFAULT_PARAMS, SearchParams
from teamform.validate import validate

#: Seconds of a wall-clock budget below which CP-SAT is not started, its model built.
_LEAST_FOR_CPSAT = 0.05
#: Seconds building the full model takes per learner and team (0.9 s for the demo's
#: 60 learners in 15 teams on 2 cores under a load of 5); CP-SAT is started only
#: with twice that left, to search as long as it took to build.
_MODEL_SECONDS_PER_PAIR = 1e-3


class SolutionCallback(cp_model.CpSolverSolutionCallback):
    """Records when the first solution came and reports each one (and each bound)."""

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


def solve_exact(
    inst: Instance,
    terms: list[Term],
    start: list[int],
    budget: Budget,
    seed: int,
    workers: int,
    progress: ProgressFn | None,
    first: float,
    cancel: threading.Event | None = None,
    params: SearchParams = DEFAULT_PARAMS,
) -> Outcome:
    """Search from ``start`` within ``budget`` (which counts from the solve's start)."""
    from teamform.search.lns import LnsStats, anneal, run_lns, use_compiled

    t0 = budget.start
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

    compiled = use_compiled(inst, terms, budget.left(), params, deterministic=budget.work)
    if compiled and not budget.work:
        from teamform.search.kernels import get_ready

        # compiling would eat the budget: the Python search runs this time, and
        # the kernels compile in the background for the next solve; loading them
        # from the cache is done only with the time for it
        compiled = get_ready("search", "local search in Python") is None
    # The model first, where it does not depend on the warm start (no per-team
    # decisions): building it takes up to a second or two at this size on a busy
    # machine, which then comes before the phases rather than out of CP-SAT's time.
    # With too little left to build it and then search it, CP-SAT is not started.
    needs = _LEAST_FOR_CPSAT + OVERSHOOT.seconds(workers)
    needs += 2 * _MODEL_SECONDS_PER_PAIR * inst.n * inst.k
    alone = not deciding and _no_time(budget, needs)  # no CP-SAT after the warm start
    sub = _model(inst, terms) if not deciding and not alone else None
    # Every phase before CP-SAT has a length of its own (seconds on the clock, work
    # in work mode), never a share of the budget: a budget that ends inside a phase
    # ends where a larger one passes, so in work mode a larger budget runs a smaller
    # one's phases and then searches on, keeping the best plan: never worse.
    spent = 0.0  # work-mode seconds of the budget the phases have had

    def phase(length: float) -> tuple[Budget, float]:
        """The next phase's budget (its whole length) and the share of it to run."""
        have = budget.seconds - spent if budget.work else budget.left()
        return budget.part(length), (min(1.0, max(0.0, have) / length) if length > 0 else 0.0)

    bound: int | None = None  # the best bound CP-SAT's phases proved

    def cpsat_phase(length: float, model: SubModel) -> Outcome | None:
        """CP-SAT from the best plan so far for ``length`` seconds (of work in work
        mode): the answer when it proves the optimum, else None (its plan kept when
        it is the best so far)."""
        nonlocal state, bound, spent
        found = _cpsat(inst, terms, model, best_assign, length, seed, workers, budget, cancel)
        spent += length
        if found is None:
            return None
        status, assignment, proved, own = found
        bound = proved if bound is None else max(bound, proved)
        if status == Status.OPTIMAL:
            at = time.perf_counter() - t0 if found_at is None else found_at
            return Outcome(status, assignment, proved, at, own)
        better = TeamState(inst, terms, assignment)
        if better.total < best_total:
            state = better
            keep_best()
        return None

    if sub is not None and inst.n * inst.k <= params.proof_max_pairs and params.proof_seconds:
        # a cohort this small: CP-SAT may prove the optimum within a second, which
        # annealing never does; its first phase, so that a short budget gets the proof
        run, until = phase(params.proof_seconds)
        if until > 0 and (proof := cpsat_phase(until * run.seconds, sub)) is not None:
            return proof
    if compiled:
        # Annealing finds very good teams fast, and re-annealing from the best so far
        # leaves the basin one cooling settles in (measured on the demo course: see
        # benchmarks/README.md); CP-SAT then improves or proves them. In cycles: runs
        # of annealing, then CP-SAT for a while when more than that is left, then
        # annealing again; the last CP-SAT solve (below) has what is left.
        r = 0
        while not is_set(cancel) and best_total:
            for _ in range(params.anneal_runs):
                if is_set(cancel) or best_total == 0:
                    break
                run, until = phase(params.anneal_run_seconds)
                if until <= 0:
                    break
                if r:
                    state = TeamState(inst, terms, best_assign)
                run_seed = (seed + r) % (MAX_SEED + 1)
                anneal(
                    state, terms, run_seed, run, LnsStats(), keep_best, cancel, params, until=until
                )
                spent += until * run.seconds
                r += 1
            run, until = phase(params.cpsat_seconds)
            if sub is None or until < 1 or params.cpsat_seconds <= 0:
                break  # the budget is out, or what is left goes to the last solve
            if (proof := cpsat_phase(run.seconds, sub)) is not None:
                return proof
    elif deciding:
        # per-team decisions (projects) are best searched together with the
        # members: CP-SAT neighbourhoods between bursts of moves
        run, until = phase(params.warm_seconds)
        if until > 0:
            warm = run_lns(
                inst,
                terms,
                state.assign,
                time_limit=until * run.seconds,
                seed=seed,
                deterministic=budget.work,
                cancel=cancel,
                params=params,
            )
            spent += until * run.seconds
            if warm.assignment is not None:
                for term, d in zip(terms, warm.decisions or [], strict=False):
                    if d is not None:
                        term.restore(d)
                state = TeamState(inst, terms, warm.assignment)
                keep_best()
    else:
        ls = LocalSearch(state, np.random.default_rng(seed))
        run, until = phase(params.local_seconds)
        if budget.work:
            # plain descent: a budget that ends inside the phase ends on its way
            steps = int(params.local_steps_per_team_second * until * run.seconds) * inst.k
            ls.run(max_steps=steps, cancel=cancel)
        else:
            ls.run(deadline=time.perf_counter() + until * run.seconds, cancel=cancel)
        spent += until * run.seconds
        keep_best()
    if best_decisions is not None:
        for term, d in zip(terms, best_decisions, strict=True):
            if d is not None:
                term.restore(d)
    state = TeamState(inst, terms, best_assign)
    if state.hard_violations == 0:
        start = list(state.assign)
    if sub is not None:
        needs = _LEAST_FOR_CPSAT + OVERSHOOT.seconds(workers)
    # in work mode a budget that ended inside a phase ends with that phase's best,
    # where a larger budget passes: a CP-SAT solve of its own could end below it
    used_up = budget.work and spent >= budget.seconds
    no_time = used_up or _no_time(budget, needs)
    if is_set(cancel) or (no_time and state.hard_violations == 0):
        # stopped, or no time left for CP-SAT: the teams in hand
        return fallback(inst, terms, start, found_at, best_decisions, state, bound)
    if sub is None:
        sub = _model(inst, terms)
    solver, limit = _solver(sub, start, budget.rest(spent).seconds, seed, workers, budget.work)
    callback = SolutionCallback(t0, progress)
    if progress is not None:
        solver.best_bound_callback = callback.on_bound
    began = time.perf_counter()
    with stopping(solver, cancel):
        code = solver.solve(sub.model, callback)
    if not budget.work and code in (cp_model.FEASIBLE, cp_model.UNKNOWN) and not is_set(cancel):
        OVERSHOOT.record(workers, limit, time.perf_counter() - began)  # it ran to its limit
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = sub.read(solver)
        assignment = [found[i] for i in range(inst.n)]
        status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
        kept = list(state.assign), state.soft_cost, state.hard_violations
        for term in terms:
            term.read_decisions(sub, solver)
        # The model's penalty variables are only bounded from below, so a
        # solution CP-SAT has not proved optimal may carry slack: its objective
        # is an upper estimate of what the assignment really costs. Score it.
        own = round(solver.objective_value)
        if status != Status.OPTIMAL:
            own = TeamState(inst, terms, assignment).soft_cost
        if kept[2] == 0 and kept[1] < own:
            # CP-SAT did not get back to its hint in time: keep the better answer
            if best_decisions is not None:
                for term, d in zip(terms, best_decisions, strict=True):
                    if d is not None:
                        term.restore(d)
            return Outcome(
                Status.FEASIBLE,
                kept[0],
                _best_bound(solver, bound),
                callback.first if found_at is None else found_at,
                kept[1],
                decisions=best_decisions,
            )
        return Outcome(
            status,
            assignment,
            _best_bound(solver, bound),
            callback.first if found_at is None else found_at,
            own,
            decisions=[term.decisions() for term in terms] if deciding else None,
        )
    if code == cp_model.INFEASIBLE:
        return Outcome(Status.INFEASIBLE, None)
    if code == cp_model.MODEL_INVALID:
        return Outcome(Status.MODEL_INVALID, None)
    # no solution in time: fall back on the local search's best if it is valid
    return fallback(inst, terms, start, found_at, best_decisions, state, bound)


def _best_bound(solver: cp_model.CpSolver, earlier: int | None) -> int:
    """The better of the last solve's bound and one an earlier phase proved."""
    last = round(solver.best_objective_bound)
    return last if earlier is None else max(last, earlier)


def _solver(
    sub: SubModel, start: list[int], limit: float, seed: int, workers: int, work: bool
) -> tuple[cp_model.CpSolver, float]:
    """CP-SAT for the full model ``sub``, hinted with ``start`` (each solve from its
    phase's best), and its limit: on the clock less how far past it CP-SAT runs. In
    work mode with interleaved workers, also with one: a solve to a larger
    deterministic limit then goes through a smaller one's search first (never worse
    in every budget measured, where one worker's default search is not: 30
    learners, seed 1, 5 931.8 at 2 s of work and 6 183.0 at 4 s)."""
    sub.model.clear_hints()
    sub.hint(start)
    if not work:
        limit = OVERSHOOT.limit(limit, workers)
    solver = solver_for(limit, seed, workers, work)
    if work:
        solver.parameters.interleave_search = True
    return solver, limit


def _cpsat(
    inst: Instance,
    terms: list[Term],
    sub: SubModel,
    start: list[int],
    limit: float,
    seed: int,
    workers: int,
    budget: Budget,
    cancel: threading.Event | None,
) -> tuple[Status, list[int], int, int] | None:
    """CP-SAT on the full model from ``start`` for ``limit`` seconds (of work in work
    mode): its status, plan, bound and the plan's real cost; None without a plan."""
    solver, _ = _solver(sub, start, limit, seed, workers, budget.work)
    with stopping(solver, cancel):
        code = solver.solve(sub.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    found = sub.read(solver)
    assignment = [found[i] for i in range(inst.n)]
    own = TeamState(inst, terms, assignment).soft_cost
    status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
    return status, assignment, round(solver.best_objective_bound), own


def _model(inst: Instance, terms: list[Term]) -> SubModel:
    """The full CP-SAT model: every learner, every team."""
    return SubModel(inst, range(inst.n), range(inst.k), terms)


def _no_time(budget: Budget, needs: float) -> bool:
    """Whether less than ``needs`` seconds of a wall-clock budget are left."""
    return not budget.work and budget.left() <= needs


def fallback(
    inst: Instance,
    terms: list[Term],
    start: list[int],
    found_at: float | None,
    decisions: list[object] | None = None,
    state: TeamState | None = None,
    bound: int | None = None,
) -> Outcome:
    """The local search's best, when CP-SAT gave none: valid, or no answer at all
    (``bound``: one an earlier CP-SAT phase proved)."""
    if validate(inst, start, terms).ok:
        # the search's own score of it, for the validator to confirm
        own = state.soft_cost if state is not None and state.assign == start else None
        return Outcome(Status.FEASIBLE, start, bound, found_at, own, decisions)
    return Outcome(Status.UNKNOWN, None)
