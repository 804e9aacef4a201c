"""Construction: every hard rule met from the start, on real-sized cohorts."""

from __future__ import annotations

import pytest

from conftest import learner
from teamform import FormationModel, build_instance, load_roster
from teamform.criteria import build_terms
from teamform.instance import Instance
from teamform.roster import Roster
from teamform.search.construct import construct, construct_from_previous
from teamform.validate import validate


@pytest.mark.parametrize("n", [30, 120, 500, 2000])
@pytest.mark.parametrize("preset", ["collaborative", "cooperative"])
def test_construction_meets_hard_rules(n: int, preset: str) -> None:
    d = f"instances/synthetic/n{n}_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml(f"models/{preset}.toml"))
    check = validate(inst, construct(inst, seed=4), build_terms(inst))
    assert check.ok, check.violations[:3]


def test_sections_and_dense_avoid_lists() -> None:
    records = [learner(f"s{i:02d}", section="AB"[i % 2]) for i in range(24)]
    # every learner avoids the next two of its section: construction must still separate them
    avoid = [(f"s{i:02d}", f"s{(i + k) % 24:02d}") for i in range(24) for k in (2, 4)]
    roster = Roster.from_records(records, avoid=avoid)
    inst = build_instance(roster, FormationModel.from_dict({"team": {"size": 3}}))
    check = validate(inst, construct(inst, seed=0), [])
    assert check.ok, check.violations


def previous_instance(previous: dict[str, int]) -> Instance:
    records = [learner(f"k{i}") for i in range(8)]
    roster = Roster.from_records(records, avoid=[("k0", "k5")])
    model = FormationModel.from_dict({"team": {"size": 4}})
    return build_instance(roster, model, previous=previous)


def test_previous_teams_are_kept_when_they_still_fit() -> None:
    previous = {f"k{i}": 1 + i // 4 for i in range(8)}  # teams 1 and 2, from 1
    inst = previous_instance(previous)
    start = construct_from_previous(inst)
    assert start == [0, 0, 0, 0, 1, 1, 1, 1]


def test_late_joiner_and_overflow_are_placed() -> None:
    # k0..k4 were in team 1 (five, one too many), k5 and k6 in team 2, k7 is new
    previous = {f"k{i}": 1 for i in range(5)} | {"k5": 2, "k6": 2}
    inst = previous_instance(previous)
    start = construct_from_previous(inst)
    assert validate(inst, start, []).ok
    assert sum(1 for i in range(5) if start[i] == 0) == 4  # only the overflow moved
    assert start[5] == start[6] == 1
