"""The diversity strategy: maximally diverse grouping (MDGP) by compiled tabu search.

Taken when diversity is the only criterion and sizes and sections the only
hard rules (see :func:`pure_diversity`); :mod:`teamform.search.diversity_ls`
does the search, section by section.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from teamform.cancel import is_set
from teamform.criteria import DiversityTerm, Term
from teamform.instance import Instance
from teamform.result import Status
from teamform.search.budget import Budget
from teamform.search.outcome import Outcome
from teamform.search.params import DEFAULT_PARAMS, SearchParams


def pure_diversity(inst: Instance, terms: list[Term]) -> bool:
    """Diversity alone, with only sizes and sections as hard rules: the MDGP."""
    # pins are not known to the tabu search: the general search handles them
    return (
        len(terms) == 1
        and isinstance(terms[0], DiversityTerm)
        and not len(inst.avoid)
        and inst.pins is None
    )


def solve_diversity(
    inst: Instance,
    start: list[int],
    budget: Budget,
    seed: int,
    cancel: threading.Event | None = None,
    params: SearchParams = DEFAULT_PARAMS,
) -> Outcome:
    """The compiled iterated tabu search for maximally diverse grouping, per section.

    In work mode each section gets iterations in proportion to the budget (the
    clock only caps a run that would hang); on the clock, its share of what is left.
    """
    from teamform.search.diversity_ls import solve_max_diversity

    assert inst.distances is not None
    assignment = list(start)
    iterations = (
        int(params.diversity_iterations_per_second * budget.seconds) if budget.work else None
    )
    for s in range(len(inst.section_names)):
        learners = np.flatnonzero(inst.section == s)
        teams = inst.teams_of_section(s)
        if len(teams) < 2 or is_set(cancel):
            continue
        remaining = budget.start + budget.seconds - time.perf_counter()
        share = max(0.01, remaining * len(learners) / max(1, inst.n))
        sub = inst.distances[np.ix_(learners, learners)].astype(np.float64)
        local = {t: g for g, t in enumerate(teams.tolist())}
        found = solve_max_diversity(
            sub,
            inst.team_lo[teams],
            inst.team_hi[teams],
            time_limit=10 * share + 60 if budget.work else share,
            seed=seed,
            initial=np.array([local[start[i]] for i in learners.tolist()]),
            max_iterations=iterations,
            cancel=cancel,
        )
        for i, g in zip(learners.tolist(), found.assignment.tolist(), strict=True):
            assignment[i] = int(teams[g])
    return Outcome(Status.FEASIBLE, assignment, None, time.perf_counter() - budget.start)
