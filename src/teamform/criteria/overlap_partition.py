"""A team-level lower bound on the overlap penalty: the learners bound to be short, partitioned.

Call a learner *short* when its best possible team falls short of the target
(:meth:`~teamform.criteria.overlap.OverlapTerm.learner_bounds`: ``b_i > 0``).
In any plan, the short members of a team form a *group* ``G``; the team pays at
least ``c(G)``, the penalty of the best team any plan could build around ``G``:
its members' common block time, further limited by the best partners among the
other (not short) learners, found by the same depth-first search as the
per-learner bound, and by each member's own ``b_i``. A plan thus partitions the
short learners into groups, at most one a team, and pays at least the sum of
their ``c(G)``; the least such sum over every partition is a lower bound. Groups
sharing no block time pay the penalty of no common time, ``Z``, whatever they
hold (up to ``cap`` short learners).

The partition is a small integer program over availability patterns (learners
of one pattern are interchangeable): how many groups of each kind, each short
learner in exactly one group or in a team without common time, no more groups
than teams. CP-SAT solves it within a deterministic work limit; its proven
bound is used, so a limit reached early still gives a valid (weaker) bound, and
an enumeration too large for the limit gives none (0, and the other bounds
stand). The partners are treated as unlimited (each group gets the best ones),
and avoid pairs and the other criteria are ignored, so this is a relaxation:
never above the optimum. It sees what a per-learner count cannot: short
learners who could share their rare hours pay the team's shortfall once
between them, and those who cannot pay it each.

On small one-section cohorts (up to :data:`PROOF_MAX_LEARNERS`, or
:data:`PROOF_MORE_LEARNERS` when the bound may take a second), the exact
window packing of :func:`~teamform.search.common_time.fewest_without_time`
proves how many teams must lack common time altogether, short learners or not;
the partition then has at least that many teams paying ``Z``: those among its
groups and the rest, which hold no short learner and so add to its cost.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from teamform.criteria.overlap import KERNELS, _by_pattern
from teamform.search.bitsets import to_words
from teamform.search.kernels import usable

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.criteria.overlap import OverlapTerm
else:
    from teamform.lazy import cp_model  # imported when a model is first made

#: Groups enumerated per section before the bound gives up (and the other bounds stand).
MAX_GROUPS = 20000
#: CP-SAT's deterministic work (roughly seconds) for the partition, per section.
PARTITION_WORK = 0.5
#: Wall-clock seconds the partition (and the packing) may take at most, per section,
#: unless a solve sets its own share (:func:`wall_limit`).
PARTITION_WALL = 2.0
#: Share of a solve's time limit the criteria's lower bounds may take together.
BOUND_SHARE = 0.04
#: The wall-clock deadline (``time.perf_counter()``) of the block :func:`wall_limit`
#: opened; None: no wall clock; unset: :data:`PARTITION_WALL` for each solve.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("partition_deadline")


@contextlib.contextmanager
def wall_limit(seconds: float | None) -> Iterator[None]:
    """Within the block, CP-SAT's partition and packing stop once ``seconds`` of wall
    clock have passed since it opened (their proven bounds so far are kept: valid,
    perhaps weaker), and a partition that would start later is skipped (the other
    bounds stand); None: only at their deterministic work limits, so the bound is
    the same on every run."""
    token = _DEADLINE.set(None if seconds is None else time.perf_counter() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def wall_left() -> float | None:
    """Wall-clock seconds the partition (or the packing) may still take; None: no limit."""
    deadline = _DEADLINE.get(math.nan)
    if deadline is None:
        return None
    if math.isnan(deadline):
        return PARTITION_WALL
    return deadline - time.perf_counter()


#: Cohorts up to this size also count the teams that must lack common time (the exact
#: window packing, which takes longer than a quick bound should on larger cohorts) ...
PROOF_MAX_LEARNERS = 80
#: ... and up to this size when the bound may take at least :data:`PROOF_MORE_WALL`
#: seconds (a longer solve, or no wall-clock limit at all).
PROOF_MORE_LEARNERS = 200
PROOF_MORE_WALL = 1.0
#: CP-SAT's deterministic work for that packing.
PROOF_WORK = 0.5
#: Nodes of the partner search per group before its weaker fallback is used.
_SEARCH_NODES = 20000


def partition_bound(term: OverlapTerm, section: int) -> int:
    """Least total penalty of the teams holding ``section``'s short learners (see module)."""
    inst = term.inst
    got = term.section_bounds(section)
    if got is None:
        return 0
    teams, members, b = got
    if _out_of_time():
        return 0
    zero = term.shortfall_penalty(0)
    without = _fewest_without_time(term, section, len(members))
    short = members[b[members] > 0]
    if not len(short):
        return zero * without
    if not usable(
        (KERNELS, "_enumerate_groups"), "overlap bound without the short learners' partition"
    ):
        return 0
    from teamform.criteria.overlap_kernels import _enumerate_groups

    cap = int(inst.team_hi[teams].max())
    words, counts, pattern_b = _by_pattern(inst.masks, short, b)
    partners = members[b[members] == 0]
    partner_words, partner_counts, _ = _by_pattern(inst.masks, partners, b)
    kinds, best, found = _enumerate_groups(
        words,
        counts,
        term.need - pattern_b,
        partner_words,
        partner_counts,
        int(inst.team_lo[teams].min()),
        cap,
        term.need,
        term.block,
        MAX_GROUPS,
        _SEARCH_NODES,
    )
    if found < 0 or _out_of_time():
        # too many groups for a quick bound, or no time left for it: the others stand
        return zero * without
    groups = [tuple(row[row >= 0].tolist()) for row in kinds[:found]]
    costs = [term.shortfall_penalty(int(t)) for t in best[:found].tolist()]
    return _solve(groups, costs, counts.tolist(), zero, cap, len(teams), without)


def _out_of_time() -> bool:
    left = wall_left()
    return left is not None and left <= 0


def _solve(
    groups: list[tuple[int, ...]],
    costs: list[int],
    counts: list[int],
    zero: int,
    cap: int,
    n_teams: int,
    without: int = 0,
) -> int:
    """Least cost of groups covering every short learner once (the rest in teams
    without common time, ``zero`` each, up to ``cap`` to a team), in at most
    ``n_teams`` teams, with at least ``without`` teams without common time in
    all: CP-SAT's proven bound."""
    model = cp_model.CpModel()
    cover: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in counts]
    objective = []
    used = []
    for kinds, cost in zip(groups, costs, strict=True):
        most = min(counts[p] // kinds.count(p) for p in set(kinds))
        y = model.new_int_var(0, most, "")
        for p in set(kinds):
            cover[p].append((kinds.count(p), y))
        objective.append(cost * y)
        used.append(y)
    empty = model.new_int_var(0, n_teams, "empty")
    spill = []
    for p, count in enumerate(counts):
        s = model.new_int_var(0, count, "")
        model.add(sum(c * y for c, y in cover[p]) + s == count)
        spill.append(s)
    model.add(sum(spill) <= cap * empty)
    # teams without common time and without short learners: the rest of ``without``
    others = model.new_int_var(0, n_teams, "others")
    model.add(empty + others >= without)
    model.add(sum(used) + empty + others <= n_teams)
    model.minimize(sum(objective) + zero * (empty + others))
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = 1
    params.random_seed = 0
    params.max_deterministic_time = PARTITION_WORK
    wall = wall_left()
    if wall is not None:
        params.max_time_in_seconds = max(0.01, wall)
    # probing costs more wall time than it saves on these small set-partitioning models
    params.cp_model_probing_level = 0
    params.catch_sigint_signal = False
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        return 0
    bound = solver.best_objective_bound
    if not math.isfinite(bound):
        return 0
    # costs are integers, so a fractional bound rounds up
    return max(0, math.ceil(bound - 1e-6))


def _fewest_without_time(term: OverlapTerm, section: int, learners: int) -> int:
    """Teams of ``section`` that must lack common time, proven by the exact window
    packing (:func:`~teamform.search.common_time.fewest_without_time`) within a
    small limit; 0 when the cohort has several sections or is too large for that."""
    inst = term.inst
    wall = wall_left()
    roomy = wall is None or wall >= PROOF_MORE_WALL
    limit = PROOF_MORE_LEARNERS if roomy else PROOF_MAX_LEARNERS
    if len(inst.section_names) != 1 or learners > limit:
        return 0
    from teamform.search.common_time import fewest_without_time

    packing = fewest_without_time(
        inst, term, time_limit=PROOF_WORK, deterministic=True, wall_limit=wall
    )
    return packing.proven


def warm_up() -> None:
    """Compile (or load) the enumeration's kernel, on one tiny group."""
    from teamform.criteria.overlap_kernels import _enumerate_groups

    week = to_words([(1 << 8) - 1])
    one = np.ones(1, dtype=np.int64)
    _enumerate_groups(week, one, one * 4, week, one, 2, 2, 4, 4, 10, 10)
