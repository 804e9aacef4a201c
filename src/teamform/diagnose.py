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

import numpy as np
from ortools.sat.python import cp_model

from teamform.cpmodel import SubModel
from teamform.criteria import (
    CategoryTerm,
    OverlapTerm,
    ParticipationHighTerm,
    SkillCoverageTerm,
    Term,
)
from teamform.instance import SKILL_SCALE, Instance, slot_hours
from teamform.model import CoverageRule
from teamform.search.construct import construct

#: Beyond this many learner-team pairs, hard overlap is guarded as one rule.
MAX_LEARNER_GUARDS = 40_000
#: Learner ids listed in one message before "and N more".
MAX_LISTED = 8
#: Avoid pairs of a conflict tried one by one for removal.
MAX_PAIRS_TRIED = 4
#: CP-SAT workers of the feasibility solves that check a relaxation.
FEASIBILITY_WORKERS = max(1, min(8, os.cpu_count() or 1))
# Shortest useful CP-SAT call; below it a solve cannot even finish presolve.
_MIN_SOLVE = 0.05


def _ids(inst: Instance, learners: Sequence[int]) -> str:
    """``L1``, ``L1 and L2`` or ``L1, L2, L3 and 4 more``."""
    names = [inst.ids[i] for i in learners]
    if len(names) == 1:
        return names[0]
    if len(names) > MAX_LISTED:
        return ", ".join(names[:MAX_LISTED]) + f" and {len(names) - MAX_LISTED} more"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _learners(inst: Instance, learners: Sequence[int]) -> str:
    return ("learner " if len(learners) == 1 else "learners ") + _ids(inst, learners)


def _overlap_rule(term: OverlapTerm, hours: float | None = None) -> str:
    value = term.hours if hours is None else hours
    return f"overlap >= {value:g} h (blocks of {term.block_hours:g} h)"


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
        if not term.hard:
            continue
        if isinstance(term, OverlapTerm):
            out.extend(_precheck_overlap(inst, term))
        elif isinstance(term, SkillCoverageTerm) and term.bound() > 0:
            out.extend(_precheck_coverage(inst, term))
        elif isinstance(term, ParticipationHighTerm) and term.bound() > 0:
            out.extend(_precheck_participation(inst, term))
        elif isinstance(term, CategoryTerm) and term.bound() > 0:
            out.extend(_precheck_isolation(inst, term))
        elif term.bound() > 0:
            out.append(
                f"{term.name} (hard) cannot hold: at least "
                f"{term.natural(term.bound()):g} {term.unit_label} in any assignment; "
                f"make it soft (hard = false)"
            )
    return out


def _precheck_overlap(inst: Instance, term: OverlapTerm) -> list[str]:
    bounds = term.learner_bounds()
    bad = np.flatnonzero(bounds).tolist()
    if not bad:
        return []
    # learners grouped by the most common time any teammates can give them
    by_best: dict[int, list[int]] = {}
    for i in bad:
        by_best.setdefault(term.need - int(bounds[i]), []).append(i)
    out = []
    for best, group in sorted(by_best.items()):
        out.append(
            f"{_overlap_rule(term)} cannot hold for {_learners(inst, group)} "
            f"(best possible with any teammates: {slot_hours(best):g} h)"
        )
    lowest = slot_hours(min(by_best))
    if lowest > 0:
        out.append(
            f"relax to overlap >= {lowest:g} h (the most every learner above allows), "
            "or make overlap soft (hard = false)"
        )
    else:
        worst = by_best[min(by_best)]
        out.append(
            f"no overlap target above 0 h can hold for {_learners(inst, worst)}: make overlap "
            f"soft (hard = false) or ask for more availability"
        )
    return out


def _precheck_coverage(inst: Instance, term: SkillCoverageTerm) -> list[str]:
    out = []
    for r, (rule, mask) in enumerate(zip(term.rules, term.strong, strict=True)):
        j = inst.skill_names.index(rule.skill)
        for s, section in enumerate(inst.section_names):
            teams = int((inst.team_section == s).sum())
            in_sec = inst.section == s
            strong = np.flatnonzero(mask & in_sec).tolist()
            if len(strong) >= teams:
                continue
            where = f" in section '{section}'" if section else ""
            held = f"only {_ids(inst, strong)}" if strong else "nobody"
            out.append(
                f"skill_coverage (hard) cannot hold{where}: {teams} teams each need a member "
                f"with {rule.skill} >= {rule.level:g}, but {held} "
                f"reach{'es' if len(strong) == 1 else ''} it"
            )
            # the strictest level that enough learners reach: the teams-th highest
            levels = np.sort(inst.skills[in_sec, j])[::-1]
            relaxed = float(levels[teams - 1]) / SKILL_SCALE
            out.append(
                f"relax rule {r + 1} to {rule.skill} >= {relaxed:g}, "
                f"or make skill_coverage soft (hard = false)"
            )
    return out


def _precheck_participation(inst: Instance, term: ParticipationHighTerm) -> list[str]:
    out = []
    values = np.asarray(inst.participation, dtype=np.float64)
    for s, section in enumerate(inst.section_names):
        teams = int((inst.team_section == s).sum())
        in_sec = inst.section == s
        engaged = np.flatnonzero(term.is_high & in_sec).tolist()
        if len(engaged) >= teams:
            continue
        where = f" in section '{section}'" if section else ""
        held = f"only {_ids(inst, engaged)}" if engaged else "nobody"
        out.append(
            f"participation_high (hard) cannot hold{where}: {teams} teams each need a member "
            f"at participation >= {term.high:g}, but {held} "
            f"reach{'es' if len(engaged) == 1 else ''} it"
        )
        known = np.sort(values[in_sec & ~np.isnan(values)])[::-1]
        if len(known) >= teams:
            out.append(
                f"relax to participation high = {float(known[teams - 1]):g}, "
                "or make participation soft (hard = false)"
            )
        else:
            out.append("make participation soft (hard = false): too few learners have a score")
    return out


def _precheck_isolation(inst: Instance, term: CategoryTerm) -> list[str]:
    out = []
    for v in term.active:
        for s, section in enumerate(inst.section_names):
            if int(term.counts[s, v]) != 1:
                continue
            i = int(np.flatnonzero((term.codes == v) & (inst.section == s))[0])
            where = f" of section '{section}'" if section else ""
            out.append(
                f"{term.name} (hard) cannot hold: learner {inst.ids[i]} is the only one{where} "
                f"with {term.column} = {term.labels[v]}; leave '{term.labels[v]}' out of the "
                f"rule's values or make it soft (hard = false)"
            )
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
    overlap = next((t for t in hard if isinstance(t, OverlapTerm)), None)
    per_learner = overlap is not None and inst.n * inst.k <= MAX_LEARNER_GUARDS
    others = [t for t in hard if not (per_learner and t is overlap)]
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
    if per_learner and overlap is not None:
        short = overlap.add_to_model(sub)
        for i in range(inst.n):
            g = model.new_bool_var(f"overlap_of[{i}]")
            model.add_assumption(g)
            out.guards[g.index] = _Guard(g, overlap.name, (i,))
            for t in sub.teams:
                v = sub.x.get((i, t))
                if v is not None:
                    # learner i's team, whichever it is, has the common time
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


def _relax_overlap(
    inst: Instance, hard: list[Term], term: OverlapTerm, clock: _Clock
) -> tuple[float | None, bool]:
    slots = list(range(term.need - 1, -1, -1))
    hours = [slot_hours(s) for s in slots]

    def check(value: float, limit: float) -> bool | None:
        relaxed = OverlapTerm(
            inst, weight=term.weight, hard=True, hours=value, block=term.block_hours
        )
        return _feasible(inst, _replace(hard, term, relaxed), limit)

    return _loosest_first(hours, check, clock)


def _relax_coverage(
    inst: Instance, hard: list[Term], term: SkillCoverageTerm, r: int, clock: _Clock
) -> tuple[float | None, bool]:
    rule = term.rules[r]
    j = inst.skill_names.index(rule.skill)
    levels = {float(v) / SKILL_SCALE for v in inst.skills[:, j].tolist()}
    below = sorted((v for v in levels if v < rule.level), reverse=True)

    def check(value: float, limit: float) -> bool | None:
        rules = list(term.rules)
        rules[r] = CoverageRule(skill=rule.skill, level=value)
        relaxed = SkillCoverageTerm(inst, weight=term.weight, hard=True, rules=rules)
        return _feasible(inst, _replace(hard, term, relaxed), limit)

    return _loosest_first(below, check, clock)


def _relax_participation(
    inst: Instance, hard: list[Term], term: ParticipationHighTerm, clock: _Clock
) -> tuple[float | None, bool]:
    values = np.asarray(inst.participation, dtype=np.float64)
    below = sorted({float(v) for v in values[~np.isnan(values)] if v < term.high}, reverse=True)

    def check(value: float, limit: float) -> bool | None:
        relaxed = ParticipationHighTerm(inst, weight=term.weight, hard=True, high=value)
        return _feasible(inst, _replace(hard, term, relaxed), limit)

    return _loosest_first(below, check, clock)


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
        if isinstance(term, OverlapTerm):
            labels.append(_overlap_rule(term))
            if members:
                learners = sorted(i for (i,) in members)
                together = " together" if len(learners) > 1 else ""
                details.append(
                    f"{_overlap_rule(term)} cannot hold for {_learners(inst, learners)}{together}"
                )
        elif isinstance(term, SkillCoverageTerm):
            rules = ", ".join(f"{r.skill} >= {r.level:g}" for r in term.rules)
            labels.append(f"skill_coverage (hard: {rules})")
        else:
            labels.append(f"{name} (hard)")
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
        if isinstance(term, OverlapTerm):
            value, decided = _relax_overlap(inst, hard, term, clock)
            out.append(
                _relax_line(
                    f"overlap >= {term.hours:g} h",
                    None if value is None else f"overlap >= {value:g} h",
                    decided,
                )
            )
        elif isinstance(term, SkillCoverageTerm):
            for r, rule in enumerate(term.rules):
                value, decided = _relax_coverage(inst, hard, term, r, clock)
                out.append(
                    _relax_line(
                        f"skill_coverage {rule.skill} >= {rule.level:g}",
                        None if value is None else f"{rule.skill} >= {value:g}",
                        decided,
                    )
                )
        elif isinstance(term, ParticipationHighTerm):
            value, decided = _relax_participation(inst, hard, term, clock)
            out.append(
                _relax_line(
                    f"participation high = {term.high:g}",
                    None if value is None else f"participation high = {value:g}",
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
