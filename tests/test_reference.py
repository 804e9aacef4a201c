"""The validator against reference penalties written from each criterion's definition.

The validator scores plans with the criteria's own evaluation
(:meth:`~teamform.criteria.base.Term.team_penalty`); :mod:`reference` computes
the same penalties without it. They must agree, team by team, on random plans
of random tiny cohorts for every criterion.
"""

from __future__ import annotations

import numpy as np
import pytest

from exact import CRITERIA, assignments, project_choices, random_case
from reference import block_slots, reference_team_penalties
from teamform.availability import SLOTS_PER_WEEK, common_block_slots
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.validate import validate


@pytest.mark.parametrize("criterion", CRITERIA)
def test_validator_agrees_with_the_reference(criterion: str) -> None:
    compared = 0
    for seed in range(8):
        inst = random_case(criterion, seed)
        terms = build_terms(inst)
        rng = np.random.default_rng(seed)
        plans = list(assignments(inst))
        projects = project_choices(inst)
        for p in rng.choice(len(plans), size=min(6, len(plans)), replace=False).tolist():
            chosen = projects[int(rng.integers(len(projects)))]
            check = validate(inst, plans[p], terms, projects=chosen)
            reference = reference_team_penalties(inst, plans[p], chosen)
            assert check.team_penalties == reference, f"seed {seed}, plan {plans[p]}"
            soft = sum(t.coefficient * sum(reference[t.name]) for t in terms if not t.hard)
            assert check.objective == soft
            compared += 1
    assert compared >= 20


def test_reference_penalties_catch_a_wrong_score() -> None:
    inst = random_case("skill_balance", 3)
    (term,) = build_terms(inst)
    plan = next(iter(assignments(inst)))
    reference = reference_team_penalties(inst, plan)["skill_balance"]
    assert validate(inst, plan, [term]).team_penalties["skill_balance"] == reference
    assert reference != [p + 1 for p in reference]  # an off-by-one score would differ


def test_block_runs_by_hand() -> None:
    full = (1 << SLOTS_PER_WEEK) - 1
    # a run of 3 slots, one of 1, and one crossing the end of the week (2 + 2)
    mask = 0b111 << 10 | 1 << 20 | 0b11 | 0b11 << (SLOTS_PER_WEEK - 2)
    assert block_slots(mask, 3) == 3 + 4
    assert block_slots(mask, 1) == 3 + 1 + 4
    assert block_slots(full, 4) == SLOTS_PER_WEEK
    for block in (1, 2, 4, 5):
        assert block_slots(mask, block) == common_block_slots(mask, block)
    assert OBJECTIVE_SCALE > 0
