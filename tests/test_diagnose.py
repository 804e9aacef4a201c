"""Tests for the infeasibility diagnosis (teamform.diagnose).

Every learner is in UTC unless said otherwise, so slot arithmetic is plain
clock time. Each expected relaxation is worked out by hand in the test.
"""

from __future__ import annotations

import re
import time
from typing import Any

from teamform import FormationModel, Roster, Status, build_instance, solve_instance
from teamform.criteria import build_terms
from teamform.diagnose import diagnose, precheck
from teamform.instance import Instance

REF = "2026-01-12"


def person(lid: str, availability: str = "Mon-Fri 18:00-21:00", **kw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": lid,
        "timezone": "UTC",
        "availability": availability,
        "motivation": "imposed",
    }
    rec.update(kw)
    return rec


def instance(
    records: list[dict[str, Any]],
    criteria: dict[str, Any],
    team: dict[str, Any] | None = None,
    avoid: list[tuple[str, str]] | None = None,
) -> Instance:
    model = FormationModel.from_dict({"team": team or {"size": 2}, "criteria": criteria})
    return build_instance(Roster.from_records(records, avoid=avoid or []), model)


def overlap(hours: float, hard: bool = True) -> dict[str, Any]:
    return {"overlap": {"hours": hours, "block": 1, "hard": hard, "reference_date": REF}}


def ids_in(lines: list[str]) -> set[str]:
    return set(re.findall(r"\b[A-Z]\w*\d\b|\blonely\b|\blate\b", " ".join(lines)))


# ------------------------------------------------------------------- precheck


def test_precheck_names_the_learner_who_overlaps_no_one() -> None:
    records = [person(f"P{i}") for i in range(1, 6)]
    records.append(person("lonely", "Sun 03:00-04:00"))
    inst = instance(records, overlap(2), team={"size": 3})
    lines = precheck(inst, build_terms(inst))
    assert lines[0] == (
        "overlap >= 2 h (blocks of 1 h) cannot hold for learner lonely "
        "(best possible with any teammates: 0 h)"
    )
    assert "make overlap soft" in lines[-1] and "lonely" in lines[-1]
    assert ids_in(lines) == {"lonely"}
    result = solve_instance(inst, time_limit=2)
    assert result.status == Status.INFEASIBLE and result.conflicts == lines


def test_precheck_proposes_the_value_the_worst_learner_allows() -> None:
    # everyone else shares Mon-Fri 18:00-21:00 (15 h); "late" is free Mon 20:00-23:00,
    # so any team with late has at most Mon 20:00-21:00 in common: 1 h
    records = [person(f"P{i}") for i in range(1, 6)]
    records.append(person("late", "Mon 20:00-23:00"))
    inst = instance(records, overlap(3), team={"size": 3})
    lines = precheck(inst, build_terms(inst))
    assert lines == [
        "overlap >= 3 h (blocks of 1 h) cannot hold for learner late "
        "(best possible with any teammates: 1 h)",
        "relax to overlap >= 1 h (the most every learner above allows), "
        "or make overlap soft (hard = false)",
    ]
    # the proposal is right: 1 h holds, a quarter-hour more does not
    assert solve_instance(instance(records, overlap(1), team={"size": 3}), time_limit=5).feasible
    stricter = instance(records, overlap(1.25), team={"size": 3})
    assert solve_instance(stricter, time_limit=5).status == Status.INFEASIBLE


def test_precheck_groups_learners_with_the_same_best() -> None:
    records = [person(f"P{i}") for i in range(1, 5)]
    records += [person("L01", "Tue 06:00-07:00"), person("L02", "Wed 06:00-07:00")]
    inst = instance(records, overlap(2))
    lines = precheck(inst, build_terms(inst))
    assert lines[0].endswith("for learners L01 and L02 (best possible with any teammates: 0 h)")


def test_precheck_coverage_names_learners_and_level() -> None:
    # three teams of two need a member with code >= 5; only S1 has it.
    # Levels in decreasing order: 5, 4, 4, 3, 2, 1 -> the third highest is 4
    levels = {"S1": 5, "A2": 4, "A3": 4, "A4": 3, "A5": 2, "A6": 1}
    records = [person(lid, skill_code=v) for lid, v in levels.items()]
    inst = instance(
        records, {"skill_coverage": {"hard": True, "rules": [{"skill": "code", "level": 5}]}}
    )
    lines = precheck(inst, build_terms(inst))
    assert lines == [
        "skill_coverage (hard) cannot hold: 3 teams each need a member with code >= 5, "
        "but only S1 reaches it",
        "relax rule 1 to code >= 4, or make skill_coverage soft (hard = false)",
    ]


# ---------------------------------------------------------- CP-SAT assumptions


def _hub_cohort() -> list[dict[str, Any]]:
    """Four learners in teams of two whose good partners all go through C.

    Common hours (UTC Mondays and Tuesdays): A-C 3 h (Mon 00-03), B-C 3 h
    (Mon 03-06), D-C 3 h (Mon 06-09), B-D 2 h (Tue 00-02); A-B and A-D none.
    Each learner has a 3-hour partner, so the precheck passes; but B and D both
    need C. The pairings give min(AC, BD) = 2 h, min(AB, CD) = 0, min(AD, BC) = 0:
    the best target that can hold is 2 h.
    """
    return [
        person("A", "Mon 00:00-03:00"),
        person("B", "Mon 03:00-06:00; Tue 00:00-02:00"),
        person("C", "Mon 00:00-09:00"),
        person("D", "Mon 06:00-09:00; Tue 00:00-02:00"),
    ]


def test_diagnose_names_learners_and_finds_the_relaxed_hours() -> None:
    inst = instance(_hub_cohort(), overlap(3))
    terms = build_terms(inst)
    assert precheck(inst, terms) == []
    lines = diagnose(inst, terms, 5.0)
    assert lines == [
        "hard rules that cannot hold together: team sizes and sections; "
        "overlap >= 3 h (blocks of 1 h)",
        "overlap >= 3 h (blocks of 1 h) cannot hold for learners B and D together",
        "relax to overlap >= 2 h (checked: teams meeting every other hard rule then exist)",
    ]
    assert solve_instance(instance(_hub_cohort(), overlap(2)), time_limit=5).feasible
    strict = instance(_hub_cohort(), overlap(2.25))
    assert solve_instance(strict, time_limit=5).status == Status.INFEASIBLE


def test_solve_reports_the_diagnosis() -> None:
    result = solve_instance(instance(_hub_cohort(), overlap(3)), time_limit=4, strategy="exact")
    assert result.status == Status.INFEASIBLE
    assert any("learners B and D" in c for c in result.conflicts)
    assert any(c.startswith("relax to overlap >= 2 h") for c in result.conflicts)


def test_diagnose_relaxes_a_coverage_level() -> None:
    # two teams of two; S1 and S2 are the only ones with code 5, and S1 must avoid
    # both X1 and X2, so S1 pairs with S2 and the other team has no 5. With the
    # rule at 4, X1 (level 4) covers the other team: {S1, S2}, {X1, X2}.
    records = [
        person("S1", skill_code=5),
        person("S2", skill_code=5),
        person("X1", skill_code=4),
        person("X2", skill_code=3),
    ]
    inst = instance(
        records,
        {"skill_coverage": {"hard": True, "rules": [{"skill": "code", "level": 5}]}},
        avoid=[("S1", "X1"), ("S1", "X2")],
    )
    terms = build_terms(inst)
    assert precheck(inst, terms) == []
    lines = diagnose(inst, terms, 5.0)
    assert lines[0] == (
        "hard rules that cannot hold together: team sizes and sections; "
        "avoid pairs (2 of 2: S1-X1, S1-X2); skill_coverage (hard: code >= 5)"
    )
    assert "relax to code >= 4 (checked: teams meeting every other hard rule then exist)" in lines
    assert "dropping avoid pair S1,X1 alone restores feasibility" in lines
    assert "dropping avoid pair S1,X2 alone restores feasibility" in lines


def test_diagnose_avoid_pairs_alone() -> None:
    # three learners who must all avoid each other cannot fit two teams
    records = [person(f"Q{i}") for i in range(1, 7)]
    inst = instance(
        records,
        {"motivation": {"hard": True}},
        team={"teams": 2},
        avoid=[("Q1", "Q2"), ("Q1", "Q3"), ("Q2", "Q3")],
    )
    lines = diagnose(inst, build_terms(inst), 5.0)
    assert lines[0] == (
        "hard rules that cannot hold together: team sizes and sections; "
        "avoid pairs (3 of 3: Q1-Q2, Q1-Q3, Q2-Q3)"
    )
    assert "dropping avoid pair Q1,Q2 alone restores feasibility" in lines


def test_diagnose_keeps_to_its_time_budget() -> None:
    inst = instance(_hub_cohort(), overlap(3))
    start = time.perf_counter()
    diagnose(inst, build_terms(inst), 0.5)
    assert time.perf_counter() - start < 3.0


def test_solve_module_still_exports_the_checks() -> None:
    from teamform import solve

    assert solve.precheck is precheck and solve.diagnose is diagnose
