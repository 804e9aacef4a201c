"""Every criterion's lower bound against exact optima, found by enumeration.

A bound above the least penalty any valid plan pays would let a result be
called optimal when it is not; so each criterion's bound is checked on tiny
random cohorts whose optimum is found by trying every plan (scored by the
reference penalties, not by the criteria). A stub criterion with a bound one
above its optimum shows that the check catches a wrong bound.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from exact import CRITERIA, exact_minima, random_case
from teamform.criteria import MotivationTerm, Term, build_terms
from teamform.instance import Instance

SEEDS = range(12)


def bound_violations(inst: Instance, terms: Sequence[Term]) -> list[str]:
    """Criteria whose lower bound is above the exact optimum of ``inst``."""
    minima = exact_minima(inst)
    if minima is None:
        return []  # no valid plan: every bound holds
    return [
        f"{t.name}: bound {t.bound()} > optimum {minima[t.name]}"
        for t in terms
        if t.bound() > minima[t.name]
    ]


@pytest.mark.parametrize("criterion", CRITERIA)
def test_lower_bound_never_exceeds_the_exact_optimum(criterion: str) -> None:
    positive = 0
    for seed in SEEDS:
        inst = random_case(criterion, seed)
        terms = build_terms(inst)
        assert terms, f"{criterion}: the case enables no criterion"
        assert bound_violations(inst, terms) == [], f"seed {seed}"
        positive += any(t.bound() > 0 for t in terms)
    # the bounds that can be positive on such cases are seen to be
    if criterion in ("skill_balance", "skill_coverage", "overlap", "stability", "projects"):
        assert positive > 0, f"{criterion}: no case had a positive bound"


class _TooHigh(MotivationTerm):
    """Motivation with a bound one above its true optimum."""

    optimum = 0

    def lower_bound(self) -> int:
        return self.optimum + 1


def test_a_bound_above_the_optimum_is_caught() -> None:
    inst = random_case("motivation", 0)
    (real,) = build_terms(inst)
    assert bound_violations(inst, [real]) == []
    minima = exact_minima(inst)
    assert minima is not None
    stub = _TooHigh(inst, weight=1, hard=False)
    stub.optimum = minima["motivation"]
    assert bound_violations(inst, [stub]) == [
        f"motivation: bound {stub.optimum + 1} > optimum {stub.optimum}"
    ]
