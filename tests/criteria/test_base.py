"""The term contract's bounds: ``max_penalty`` really bounds every assignment's penalty,
and the weight range keeps the objective inside its limit."""

from __future__ import annotations

import random

import pytest

from teamform import FormationModel, Roster, build_instance
from teamform.criteria import OBJECTIVE_LIMIT, build_terms, weight_range
from teamform.instance import Instance

ZONES = ["Europe/Paris", "America/New_York", "Asia/Kathmandu"]


def instance(seed: int) -> Instance:
    rng = random.Random(seed)
    n = rng.randrange(6, 15)
    records = [
        {
            "id": f"L{i}",
            "timezone": rng.choice(ZONES),
            "availability": rng.choice(
                ["Mon-Fri 09:00-12:00", "Sat 10:00-18:00", "daily 20:00-23:00"]
            ),
            "motivation": rng.choice(["intrinsic", "imposed"]),
            "skills": {"code": rng.choice([1, 2.5, 5]), "text": rng.randint(1, 5)},
            "lang": rng.choice(["en", "fr", "de"]),
            "participation": rng.randint(0, 100),
            "section": rng.choice(["A", "B"]) if seed % 2 else "",
        }
        for i in range(n)
    ]
    ids = [r["id"] for r in records]
    prefer = [tuple(rng.sample(ids, 2)) for _ in range(4)]
    criteria = {
        "skill_balance": {"weight": 1},
        "skill_coverage": {"weight": 1, "rules": [{"skill": "code", "level": 4}]},
        "motivation": {"weight": 1},
        "prefer": {"weight": 1},
        "overlap": {"weight": 1, "hours": 3, "block": 1.5, "reference_date": "2026-01-12"},
        "participation": {"weight": 1},
        "diversity": {"weight": 1, "columns": ["skill_code", "lang"]},
        "no_repeat": {"weight": 1},
        "stability": {"weight": 1},
        "category": [
            {"column": "lang", "rule": rule, "weight": 1}
            for rule in ("distribute", "cluster", "no_isolation")
        ],
    }
    model = FormationModel.from_dict(
        {"team": {"size": 3, "min": 2, "max": 4, "balanced": False}, "criteria": criteria}
    )
    roster = Roster.from_records(records, prefer=[p for p in prefer if p[0] != p[1]])
    history = {tuple(rng.sample(ids, 2)): rng.randint(1, 3) for _ in range(6)}
    previous = {lid: rng.randint(1, 4) for lid in ids}
    return build_instance(roster, model, history=history, previous=previous)  # type: ignore[arg-type]


def random_assignment(inst: Instance, rng: random.Random) -> list[int]:
    """Random teams meeting the size bounds, section by section."""
    assign = [0] * inst.n
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s).tolist()
        members = [i for i in range(inst.n) if inst.section[i] == s]
        rng.shuffle(members)
        sizes = [int(inst.team_lo[t]) for t in teams]
        spare = len(members) - sum(sizes)
        while spare > 0:
            t = rng.randrange(len(teams))
            if sizes[t] < inst.team_hi[teams[t]]:
                sizes[t] += 1
                spare -= 1
        pos = 0
        for t, size in zip(teams, sizes, strict=True):
            for i in members[pos : pos + size]:
                assign[i] = t
            pos += size
    return assign


@pytest.mark.parametrize("seed", range(6))
def test_max_penalty_bounds_every_assignment(seed: int) -> None:
    inst = instance(seed)
    terms = build_terms(inst)
    assert len(terms) >= 11
    rng = random.Random(seed)
    for _ in range(30):
        assign = random_assignment(inst, rng)
        teams: dict[int, list[int]] = {t: [] for t in range(inst.k)}
        for i, t in enumerate(assign):
            teams[t].append(i)
        for term in terms:
            total = sum(term.team_penalty(m, t) for t, m in teams.items())
            worst = term.max_penalty()
            assert worst is not None and 0 <= total <= worst, term.name


def test_largest_weights_keep_the_objective_within_its_limit() -> None:
    inst = instance(1)
    terms = build_terms(inst)
    total = 0
    for term in terms:
        _, largest = weight_range(term, len(terms))
        assert largest is not None
        term.weight = largest
        worst = term.max_penalty()
        assert worst is not None
        total += term.coefficient * worst
    assert total <= OBJECTIVE_LIMIT * 1.0001  # rounding of each coefficient


def test_soft_objective_stays_below_the_cost_of_a_hard_breach() -> None:
    # the local search reads totals at or above HARD_COST as hard-rule breaches
    from teamform.search.local import HARD_COST

    assert OBJECTIVE_LIMIT < HARD_COST
