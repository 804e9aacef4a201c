"""Explain infeasibility: which hard rules clash, for which learners, and what would fix it.

Two stages, both returning one line per finding:

* :func:`precheck` (before any search) finds hard rules that single learners
  or plain counts already make impossible, e.g. a learner whose availability
  meets nobody's, and proposes the relaxed value that those learners allow
  ("relax to overlap >= 1 h").
* :func:`diagnose` (after the solver proves infeasibility) switches each rule
  group on with a CP-SAT assumption literal. Hard overlap gets one literal per
  learner and avoid pairs one per pair, so the conflict CP-SAT reports names
  learners, not just rules. The conflict is shrunk by deletion, then each
  numeric rule in it (overlap hours, skill-coverage level, participation
  level) is relaxed by bisection, with short feasibility solves, to the
  strictest value at which teams meeting every hard rule exist.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from teamform.cpmodel import SubModel
from teamform.criteria import Term
from teamform.criteria.base import MAX_LISTED as MAX_LISTED
from teamform.criteria.base import Relaxation, learners_named
from teamform.instance import Instance
from teamform.search.construct import construct

if TYPE_CHECKING:
    from ortools.sat.python import cp_model
else:
    from teamform.lazy import cp_model  # imported when a model is first made

#: Beyond this many learner-team pairs, a rule guarded per learner is guarded as one rule.
MAX_LEARNER_GUARDS = 40_000
#: Avoid pairs of a conflict tried one by one for removal.
MAX_PAIRS_TRIED = 4
#: CP-SAT workers of the feasibility solves that check a relaxation.
FEASIBILITY_WORKERS = max(1, min(8, os.cpu_count() or 1))
# Shortest useful CP-SAT call; below it a solve cannot even finish presolve.
_MIN_SOLVE = 0.05


# ---------------------------------------------------------------------------
# Before the search
# ---------------------------------------------------------------------------


def precheck(inst: Instance, terms: list[Term]) -> list[str]:
    """Hard rules that single learners or simple counts already make impossible.

    Parameters
    ----------
    inst
        The compiled problem.
    terms
        Its criteria; only hard ones are looked at.

    Returns
    -------
    list of str
        One line per finding, each naming the rule and the learners involved,
        followed by the relaxation those learners allow. Empty when nothing is
        impossible at a glance (the search may still find a conflict).
    """
    out: list[str] = list(inst.pins.conflicts) if inst.pins is not None else []
    for term in terms:
        if term.hard:
            out.extend(term.precheck())
    return out


# ---------------------------------------------------------------------------
# After the search: CP-SAT assumptions
# ---------------------------------------------------------------------------


@dataclass
class _Guard:
    """One switchable hard rule (or one learner's or pair's share of a rule)."""

    literal: cp_model.IntVar
    group: str
    learners: tuple[int, ...] = ()


@dataclass
class _Clock:
    end: float

    def left(self) -> float:
        return self.end - time.perf_counter()


@dataclass
class _Guarded:
    sub: SubModel
    guards: dict[int, _Guard] = field(default_factory=dict)


def _build_guarded(inst: Instance, hard: list[Term]) -> _Guarded:
    """The full model with every hard rule under assumption literals."""
    # hard rules guarded learner by learner, while the literals stay few enough
    by_learner = [t for t in hard if t.guard_per_learner][:1]
    if inst.n * inst.k > MAX_LEARNER_GUARDS:
        by_learner = []
    others = [t for t in hard if t not in by_learner]
    # avoid pairs are guarded one by one below, so the structure gets none
    bare = dataclasses.replace(inst, avoid=np.zeros((0, 2), dtype=np.int64), _avoid_adj=None)
    sub = SubModel(bare, range(inst.n), range(inst.k), others, guard_hard=True)
    sub.model.minimize(0)
    out = _Guarded(sub)
    for name, lit in sub.guards.items():
        if name != "avoid":
            out.guards[lit.index] = _Guard(lit, name)
    model = sub.model
    for a, b in inst.avoid.tolist():
        g = model.new_bool_var(f"avoid[{a},{b}]")
        model.add_assumption(g)
        out.guards[g.index] = _Guard(g, "avoid", (a, b))
        for t in sub.teams:
            va, vb = sub.x.get((a, t)), sub.x.get((b, t))
            if va is not None and vb is not None:
                model.add_bool_or([va.Not(), vb.Not()]).only_enforce_if(g)
    for term in by_learner:
        short = term.add_to_model(sub)
        for i in range(inst.n):
            g = model.new_bool_var(f"{term.name}_of[{i}]")
            model.add_assumption(g)
            out.guards[g.index] = _Guard(g, term.name, (i,))
            for t in sub.teams:
                v = sub.x.get((i, t))
                if v is not None:
                    # learner i's team, whichever it is, meets the rule
                    model.add(short[t] == 0).only_enforce_if([v, g])
    return out


def _solve(
    model: cp_model.CpModel, limit: float, workers: int = 1
) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(_MIN_SOLVE, limit)
    # assumption cores come from the sequential search, so those solves use one worker
    solver.parameters.num_workers = workers
    return solver.solve(model), solver


def _shrink(g: _Guarded, core: list[int], clock: _Clock) -> list[int]:
    """Drop assumptions from a core while the rest stays infeasible (deletion)."""
    model = g.sub.model
    kept = list(core)
    for lit in list(core):
        if len(kept) <= 1 or clock.left() <= _MIN_SOLVE:
            break
        trial = [x for x in kept if x != lit]
        model.clear_assumptions()
        model.add_assumptions([g.guards[x].literal for x in trial])
        code, solver = _solve(model, min(clock.left(), max(0.2, clock.left() / len(kept))))
        if code == cp_model.INFEASIBLE:
            # CP-SAT may name an even smaller core for the trial set
            smaller = set(solver.sufficient_assumptions_for_infeasibility())
            kept = [x for x in trial if x in smaller] or trial
    return kept


def _feasible(inst: Instance, hard: list[Term], limit: float) -> bool | None:
    """Whether some assignment meets every rule of ``hard`` (None: not decided in time)."""
    sub = SubModel(inst, range(inst.n), range(inst.k), hard)
    sub.model.minimize(0)
    # a start with the right team sizes spares CP-SAT most of the search on large cohorts
    sub.hint(construct(inst, 0))
    code, _ = _solve(sub.model, limit, FEASIBILITY_WORKERS)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if code == cp_model.INFEASIBLE:
        return False
    return None


def _loosest_first(
    candidates: Sequence[float], check: Callable[[float, float], bool | None], clock: _Clock
) -> tuple[float | None, bool]:
    """Strictest feasible candidate by bisection; ``candidates`` go strict to loose.

    Feasibility only grows as a rule loosens, so the answer is the first
    feasible candidate. The loosest is tried first: if even it fails, relaxing
    this rule alone cannot help. Returns the value (None when none was shown
    feasible) and whether every check was decided in time.
    """
    if not candidates:
        return None, True

    steps = max(1, int(np.ceil(np.log2(len(candidates)))))

    def run(value: float, share: float) -> bool | None:
        return check(value, clock.left() * share) if clock.left() > _MIN_SOLVE else None

    # the loosest value decides whether this rule can help at all: give it more time
    first = run(candidates[-1], 0.5)
    if first is not True:
        return None, first is not None
    lo, hi = -1, len(candidates) - 1  # candidates[hi] is feasible; lo is not (or the original)
    decided = True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        answer = run(candidates[mid], 1 / steps)
        steps = max(1, steps - 1)
        if answer is True:
            hi = mid
        else:
            decided = decided and answer is not None
            lo = mid
    return candidates[hi], decided


def _replace(hard: list[Term], old: Term, new: Term) -> list[Term]:
    return [new if t is old else t for t in hard]


def _relax(
    inst: Instance, hard: list[Term], term: Term, relaxation: Relaxation, clock: _Clock
) -> tuple[float | None, bool]:
    """The strictest value of one setting at which the hard rules can hold together."""

    def check(value: float, limit: float) -> bool | None:
        return _feasible(inst, _replace(hard, term, relaxation.relaxed(value)), limit)

    return _loosest_first(relaxation.candidates, check, clock)


def diagnose(inst: Instance, terms: list[Term], time_limit: float) -> list[str]:
    """Name a small set of hard rules that cannot hold together, and a fix.

    Parameters
    ----------
    inst
        The compiled problem, known (or suspected) to be infeasible.
    terms
        Its criteria; only hard ones are looked at.
    time_limit
        Seconds for the whole diagnosis: the conflict, its shrinking and the
        relaxation searches share it.

    Returns
    -------
    list of str
        First the rules in conflict (team sizes and sections are always on),
        then the learners each rule fails for, then relaxations, each checked
        by a feasibility solve: the strictest value of a numeric rule at which
        teams exist, or an avoid pair whose removal is enough.
    """
    clock = _Clock(time.perf_counter() + max(time_limit, 4 * _MIN_SOLVE))
    hard = [t for t in terms if t.hard]
    guarded = _build_guarded(inst, hard)
    code, solver = _solve(guarded.sub.model, 0.4 * clock.left())
    if code != cp_model.INFEASIBLE:
        return ["no assignment meets every hard rule (the conflict could not be narrowed down)"]
    core = [i for i in solver.sufficient_assumptions_for_infeasibility() if i in guarded.guards]
    core = _shrink(guarded, core, _Clock(time.perf_counter() + 0.5 * clock.left()))

    # group the core: rule name -> learners (or pairs) it holds for
    groups: dict[str, list[tuple[int, ...]]] = {}
    for lit in core:
        guard = guarded.guards[lit]
        groups.setdefault(guard.group, []).append(guard.learners)
    by_name = {t.name: t for t in hard}
    labels = ["team sizes and sections"]
    details: list[str] = []
    for name in sorted(groups):
        members = [m for m in groups[name] if m]
        if name == "avoid":
            pairs = ", ".join(f"{inst.ids[a]}-{inst.ids[b]}" for a, b in members)
            labels.append(f"avoid pairs ({len(members)} of {len(inst.avoid)}: {pairs})")
            continue
        if name == "pins":
            labels.append("pins (learners pinned to teams, keep-together groups, fixed teams)")
            continue
        term = by_name.get(name)
        if term is None:
            labels.append(f"{name} (hard)")
            continue
        labels.append(term.conflict_label())
        if members:
            learners = sorted(i for (i,) in members)
            together = " together" if len(learners) > 1 else ""
            details.append(
                f"{term.conflict_label()} cannot hold for "
                f"{learners_named(inst, learners)}{together}"
            )
    out = ["hard rules that cannot hold together: " + "; ".join(labels), *details]
    out.extend(_relaxations(inst, hard, groups, by_name, clock))
    return out


def _relaxations(
    inst: Instance,
    hard: list[Term],
    groups: dict[str, list[tuple[int, ...]]],
    by_name: dict[str, Term],
    clock: _Clock,
) -> list[str]:
    """Relaxations of the rules in a conflict that are shown to restore feasibility."""
    out: list[str] = []
    numeric = [by_name[n] for n in sorted(groups) if n in by_name]
    for term in numeric:
        if clock.left() <= _MIN_SOLVE:
            break
        for relaxation in term.relaxations():
            value, decided = _relax(inst, hard, term, relaxation, clock)
            out.append(
                _relax_line(
                    relaxation.rule,
                    None if value is None else relaxation.describe(value),
                    decided,
                )
            )
    pairs = [p for p in groups.get("avoid", []) if p]
    if 0 < len(pairs) <= MAX_PAIRS_TRIED:
        answers = []
        for n, (a, b) in enumerate(pairs):
            if clock.left() <= _MIN_SOLVE:
                break
            keep = np.array([p for p in inst.avoid.tolist() if p != [a, b]], dtype=np.int64)
            fewer = dataclasses.replace(inst, avoid=keep.reshape(-1, 2), _avoid_adj=None)
            answer = _feasible(fewer, hard, clock.left() / (len(pairs) - n))
            answers.append(answer)
            if answer:
                out.append(
                    f"dropping avoid pair {inst.ids[a]},{inst.ids[b]} alone restores feasibility"
                )
        if len(answers) == len(pairs) and all(a is False for a in answers):
            out.append("dropping any one of these avoid pairs alone is not enough")
    return out


def _relax_line(rule: str, relaxed: str | None, decided: bool) -> str:
    if relaxed is not None:
        return f"relax to {relaxed} (checked: teams meeting every other hard rule then exist)"
    if decided:
        return f"relaxing {rule} alone does not restore feasibility"
    return f"no relaxation of {rule} could be checked in the time given"
