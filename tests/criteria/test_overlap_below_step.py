"""The collaborative preset's step for a team below the common-time target, by hand."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from conftest import REF, learner, make_instance, solve_exact, teams_of
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.presets import preset_path
from teamform.validate import validate

# Everyone is free Monday 10-12; the a's also 12-13. Four a's make the only team
# with the 3 h target; every team holding a b has 2 h. Skills: a's 5, b's 1 (mean 3)
ROWS = [
    *((f"a{j}", "Mon 10:00-13:00", 5) for j in range(4)),
    *((f"b{j}", "Mon 10:00-12:00", 1) for j in range(4)),
]
BY_TIME = {frozenset(f"a{j}" for j in range(4)), frozenset(f"b{j}" for j in range(4))}


def _preset() -> dict[str, Any]:
    with open(preset_path("collaborative"), "rb") as fh:
        return tomllib.load(fh)


def _instance(below: float):  # type: ignore[no-untyped-def]
    preset = _preset()["criteria"]
    overlap = {k: preset["overlap"][k] for k in ("weight", "hours", "block", "none")}
    crit = {
        "overlap": {**overlap, "below": below, "reference_date": REF},
        "skill_balance": {"weight": preset["skill_balance"]["weight"]},
    }
    records = [learner(lid, availability=text, skills={"s": s}) for lid, text, s in ROWS]
    return make_instance(records, crit, team={"size": 4, "min": 4, "max": 4})


def _objective(inst, teams: list[set[str]]) -> float:  # type: ignore[no-untyped-def]
    plan = [next(t for t, team in enumerate(teams) if lid in team) for lid in inst.ids]
    check = validate(inst, plan, build_terms(inst))
    assert check.ok
    return check.objective / OBJECTIVE_SCALE


def test_the_preset_puts_few_teams_below_the_target_before_balanced_skills() -> None:
    # a's together, b's together: one team below the target (1 h short), skill sums 20
    # and 4 against 12, 16 points off. Two a's and two b's a team: both teams 1 h short,
    # skills even. Under steps of 1 h the objective takes the mixed teams: 2 x 2 h x 40
    # = 160 against 2 h x 40 + 16 x 10 = 240. The preset's step must reverse that:
    # 2 x (1 + below) x 40 against (1 + below) x 40 + 160, so below > 3 h
    below = float(_preset()["criteria"]["overlap"]["below"])
    assert below > 3
    one_h = _instance(1.0)
    mixed = [{"a0", "a1", "b0", "b1"}, {"a2", "a3", "b2", "b3"}]
    assert _objective(one_h, mixed) == 160
    assert _objective(one_h, [set(t) for t in BY_TIME]) == 240
    _, plan = solve_exact(one_h)
    assert teams_of(one_h, plan) != BY_TIME  # two teams below the target
    inst = _instance(below)
    assert _objective(inst, [set(t) for t in BY_TIME]) == 40 * (1 + below) + 160
    assert _objective(inst, mixed) == 80 * (1 + below)
    objective, plan = solve_exact(inst)
    assert teams_of(inst, plan) == BY_TIME
    assert objective / OBJECTIVE_SCALE == pytest.approx(40 * (1 + below) + 160)
