"""The compiled local search agrees with the Python evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REF, learner, make_instance
from teamform.availability import SLOTS_PER_WEEK, common_block_slots
from teamform.criteria import build_terms
from teamform.search.bitset_kernels import block_slots
from teamform.search.bitsets import to_words
from teamform.search.compiled import CompiledLocalSearch, supported
from teamform.search.construct import construct
from teamform.search.local import TeamState
from teamform.validate import validate
from test_solve import cohort


def test_block_slots_matches_python_on_random_masks() -> None:
    rng = np.random.default_rng(0)
    masks = []
    for _ in range(300):
        bits = rng.random(SLOTS_PER_WEEK) < rng.choice([0.05, 0.5, 0.9, 0.995])
        masks.append(int("".join("1" if b else "0" for b in bits[::-1]), 2))
    masks += [0, (1 << SLOTS_PER_WEEK) - 1, 1 | (1 << (SLOTS_PER_WEEK - 1)), 0b111 << 62]
    words = to_words(masks)
    for m, w in zip(masks, words, strict=True):
        for block in (1, 2, 4, 8, 13):
            assert block_slots(w, block) == common_block_slots(m, block)


def preset_instance(
    n: int, seed: int, hard_overlap: bool = False, steps: bool = False, hard_spread: bool = False
):
    rng = np.random.default_rng(seed)
    zones = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]
    windows = [
        "Mon-Fri 18:00-21:00",
        "Sat-Sun 08:00-12:00",
        "Mon,Wed 12:00-15:00",
        "daily 06:00-08:00; Sun 22:00-01:00",
    ]
    records = [
        learner(
            f"c{i}",
            timezone=zones[int(rng.integers(4))],
            availability=windows[int(rng.integers(4))],
            skills={"a": int(rng.integers(1, 6)), "b": int(rng.integers(1, 6))},
            motivation="intrinsic" if rng.random() < 0.4 else "imposed",
        )
        for i in range(n)
    ]
    ids = [r["id"] for r in records]
    avoid = sorted({tuple(sorted(p)) for p in rng.choice(ids, size=(n // 8, 2)) if p[0] != p[1]})
    prefer = sorted(
        {tuple(sorted(p)) for p in rng.choice(ids, size=(n // 6, 2)) if p[0] != p[1]} - set(avoid)
    )
    crit = {
        "skill_balance": {"weight": 3},
        "motivation": {"hard": True} if hard_spread else {"weight": 7},
        "prefer": {"weight": 2},
        "overlap": {
            "weight": 11,
            "hours": 2,
            "block": 1,
            "reference_date": REF,
            "hard": hard_overlap,
            # a team below the target, or with no common time, pays more
            **({"below": 0.5, "none": 4} if steps else {}),
        },
    }
    return make_instance(
        records, crit, team={"size": 4, "min": 3, "max": 5}, avoid=avoid, prefer=prefer
    )


@pytest.mark.parametrize(("hard", "steps"), [(False, False), (True, False), (False, True)])
def test_team_costs_agree(hard: bool, steps: bool) -> None:
    inst = preset_instance(60, 1, hard_overlap=hard, steps=steps)
    terms = build_terms(inst)
    assert supported(terms)
    state = TeamState(inst, terms, construct(inst, 0))
    fast = CompiledLocalSearch(state, seed=0)
    rng = np.random.default_rng(2)
    for _ in range(300):
        members = rng.choice(inst.n, size=int(rng.integers(1, 6)), replace=False).tolist()
        team = int(rng.integers(inst.k))
        assert fast.team_cost(members, team) == state.team_cost(members, team)


@pytest.mark.parametrize("steps", [False, True])
def test_compiled_search_improves_and_stays_consistent(steps: bool) -> None:
    inst = preset_instance(120, 3, steps=steps)
    terms = build_terms(inst)
    state = TeamState(inst, terms, construct(inst, 0))
    before = state.total
    fast = CompiledLocalSearch(state, seed=5)
    fast.run(max_steps=3000)  # raises if its costs ever differ from the Python ones
    assert state.total < before
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.soft_cost


def test_unsupported_terms_are_refused() -> None:
    records = [learner(f"u{i}", skills={"a": 1 + i % 5}) for i in range(8)]
    inst = make_instance(records, {"diversity": {"columns": ["skill_a"]}}, team={"size": 4})
    terms = build_terms(inst)
    assert not supported(terms)
    with pytest.raises(ValueError):
        CompiledLocalSearch(TeamState(inst, terms, construct(inst, 0)), seed=0)


@pytest.mark.parametrize("hard", [False, True])
def test_coverage_and_category_costs_agree(hard: bool) -> None:
    inst = cohort(40, seed=9)  # every criterion of test_solve's model
    rules = [
        {"column": "lang", "rule": rule, "weight": 3, "hard": hard and rule == "no_isolation"}
        for rule in ("distribute", "cluster", "no_isolation")
    ]
    records = [
        learner(
            lr.id,
            timezone=lr.timezone,
            availability=lr.availability,
            skills=lr.skills,
            motivation=lr.motivation,
            lang=lr.attributes["lang"],
        )
        for lr in inst.roster.learners
    ]
    crit = {
        "skill_coverage": {
            "weight": 5,
            "hard": hard,
            "rules": [{"skill": "p", "level": 4}, {"skill": "w", "level": 5}],
        },
        "motivation": {"weight": 2},
        "category": rules,
    }
    inst = make_instance(records, crit, team={"size": 4, "min": 3, "max": 5})
    terms = build_terms(inst)
    assert supported(terms)
    state = TeamState(inst, terms, construct(inst, 0))
    fast = CompiledLocalSearch(state, seed=1)
    rng = np.random.default_rng(3)
    for _ in range(400):
        members = rng.choice(inst.n, size=int(rng.integers(1, 7)), replace=False).tolist()
        team = int(rng.integers(inst.k))
        assert fast.team_cost(members, team) == state.team_cost(members, team)
    fast.run(max_steps=2000)  # raises if a written-back team cost disagrees
    assert validate(inst, state.assign, terms).objective == state.soft_cost
