"""Solve-time summaries: one flag system, the plain flag list and the report agreeing."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REF, learner, make_instance, section_plan
from teamform.criteria import build_terms
from teamform.instance import Instance, build_instance
from teamform.layout import team_members
from teamform.model import FormationModel
from teamform.report import build_report, render_markdown
from teamform.report.compliance import cell_class
from teamform.result import Result, Status
from teamform.roster import Roster
from teamform.summary import summarize, summarize_team
from teamform.validate import validate


def _result(records, criteria, assignment, **kw) -> Result:
    inst = make_instance(records, criteria, **kw)
    terms = build_terms(inst)
    check = validate(inst, assignment, terms)
    teams, scores = summarize(inst, assignment, terms, check)
    return Result(
        status=Status.FEASIBLE, valid=check.ok, objective=check.objective / 10_000,
        n_learners=inst.n, n_teams=inst.k, reference_date=REF, teams=teams, breakdown=scores,
    )  # fmt: skip


def _mismatched() -> Result:
    # A and D are free on Monday, B and C on Tuesday; teams {A, C} and {B, D} share nothing;
    # only C is a strong programmer, A and B asked to work together
    records = [
        learner("A", availability="Mon 18:00-21:00", skill_programming=1, language="en"),
        learner("B", availability="Tue 18:00-21:00", skill_programming=1, language="fr"),
        learner("C", availability="Tue 18:00-21:00", skill_programming=5, language="de"),
        learner("D", availability="Mon 18:00-21:00", skill_programming=2, language="fr"),
    ]
    criteria = {
        "overlap": {"weight": 10, "hours": 3, "block": 1, "reference_date": REF},
        "skill_coverage": {"weight": 1, "rules": [{"skill": "programming", "level": 5}]},
        "category": [{"column": "language", "rule": "no_isolation", "weight": 1}],
    }
    return _result(records, criteria, [0, 1, 0, 1], team={"size": 2}, prefer=[("A", "B")])


def test_plain_flags_are_the_failing_checks() -> None:
    result = _mismatched()
    first, second = result.teams
    for team in result.teams:
        assert team.flags == [c.message for c in team.checks if not c.ok]
    # the overlap flag names who limits the team, in the plain list as in the checks
    assert any(
        f.startswith("common hours 0 below target 3; Name A (A) limits it") for f in first.flags
    )
    # a split preferred pair is a flag wherever flags are listed
    assert any("asked to work with Name B (B)" in f for f in first.flags)
    # skill coverage: team 2 has no strong programmer, team 1 has C
    assert "no member with programming >= 5" in second.flags
    assert [c.ok for c in first.checks if c.code == "skill_coverage"] == [True]
    # each member alone with their language is named
    assert "Name A (A) is the only member with language = en" in first.flags


def test_report_lists_each_flag_once_and_colours_it() -> None:
    # the report used to list the overlap flag twice: once from the checks (naming who
    # limits the team), once from the plain list (without)
    data = build_report(_mismatched())
    for view in data.teams:
        messages = [f.message for f in view.flags]
        assert len(messages) == len(set(messages))
        assert messages == view.summary.flags
        assert sum(m.startswith("common hours 0 below target 3") for m in messages) == 1
    second = data.teams[1]
    score = next(c.score for c in second.criteria if c.name == "skill_coverage")
    assert cell_class(second, "skill_coverage", score) == "poor"
    first = data.teams[0]
    score = next(c.score for c in first.criteria if c.name == "skill_coverage")
    assert cell_class(first, "skill_coverage", score) == "good"
    text = render_markdown(data)
    assert text.count("common hours 0 below target 3") == 2  # one flag in each team's section


def test_teams_that_meet_every_rule_have_no_flags() -> None:
    records = [learner(x, motivation="intrinsic") for x in "ABCD"]
    result = _result(records, {"overlap": {"hours": 2, "reference_date": REF}}, [0, 0, 1, 1])
    assert all(team.flags == [] for team in result.teams)
    assert all(c.ok for team in result.teams for c in team.checks)


ZONES = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kathmandu"]
WINDOWS = ["Mon-Fri 18:00-21:00", "Sat 09:00-12:00", "Tue,Thu 06:00-08:30", "daily 12:00-13:00", ""]


def _every_criterion(seed: int) -> Instance:
    """A small cohort in two sections under every criterion, with earlier teammates,
    current teams, projects, participation, avoid and preferred pairs."""
    rng = np.random.default_rng(seed)
    n = 30
    ids = [f"r{i}" for i in range(n)]
    records = [
        learner(
            lid,
            timezone=str(rng.choice(ZONES)),
            availability=str(rng.choice(WINDOWS)),
            skills={"a": int(rng.integers(1, 6)), "b": float(rng.integers(2, 11)) / 2},
            motivation=str(rng.choice(["intrinsic", "imposed"])),
            section="B" if i % 3 == 0 else "",
            role=str(rng.choice(["x", "y", "z"])),
            projects=";".join(rng.permutation(["P", "Q", "R", "S"])[: int(rng.integers(0, 3))]),
            participation="" if i % 7 == 0 else str(int(rng.integers(0, 101))),
        )
        for i, lid in enumerate(ids)
    ]

    def pairs(count: int) -> list[tuple[str, str]]:
        out = {tuple(sorted(rng.choice(ids, 2, replace=False).tolist())) for _ in range(count)}
        return sorted(out)  # type: ignore[arg-type]

    avoid = pairs(4)
    prefer = [p for p in pairs(12) if p not in avoid]
    criteria = {
        "skill_balance": {"weight": 2},
        "motivation": {"weight": 3},
        "prefer": {"weight": 2},
        "overlap": {"weight": 5, "hours": 2, "block": 1, "below": 1, "reference_date": REF},
        "category": [{"column": "role", "rule": "no_isolation", "weight": 1}],
        "skill_coverage": {"weight": 3, "rules": [{"skill": "a", "level": 4}]},
        "participation": {"weight": 1},
        "no_repeat": {"weight": 1},
        "stability": {"weight": 1},
        "projects": {"names": ["P", "Q", "R", "S"], "weight": 1, "capacity": 3},
    }
    model = FormationModel.from_dict(
        {"team": {"size": 3}, "criteria": criteria}, source="test-model"
    )
    roster = Roster.from_records(records, avoid=avoid, prefer=prefer)
    history = {p: int(rng.integers(1, 3)) for p in pairs(10)}
    previous = {lid: int(rng.integers(1, 5)) for lid in ids[::2]}
    return build_instance(roster, model, history=history, previous=previous)


@pytest.mark.parametrize("seed", range(4))
def test_summaries_at_once_are_byte_for_byte_each_team_alone(seed: int) -> None:
    # every team's measures taken over the whole assignment give the same JSON as
    # the same team summarised alone from a plain member list (the reference path)
    inst = _every_criterion(seed)
    terms = build_terms(inst)
    assert {"no_repeat", "stability", "projects", "participation"} <= {t.name for t in terms}
    rng = np.random.default_rng(seed)
    for plan in range(3):
        # a plan that keeps sections apart, then any plan (broken sizes, empty teams)
        plain = section_plan(inst, rng)
        if plan == 2:
            plain = rng.integers(0, inst.k - 1, inst.n).tolist()  # the last team stays empty
        for term in terms:
            term.decide(team_members(plain, inst.k))
        check = validate(inst, plain, terms)
        teams, _ = summarize(inst, plain, terms, check)
        members: list[list[int]] = [[] for _ in range(inst.k)]
        for i, t in enumerate(plain):
            members[t].append(i)
        alone = [
            summarize_team(inst, plain, terms, check.team_penalties, t, members[t])
            for t in range(inst.k)
        ]
        assert [t.model_dump_json() for t in teams] == [t.model_dump_json() for t in alone]
        assert any(not c.ok for team in teams for c in team.checks)  # flags are compared too
        picked = [inst.k - 1, 0, 2]
        assert summarize(inst, plain, terms, check, only=picked)[0] == [alone[t] for t in picked]


@pytest.mark.parametrize("preset", ["collaborative", "cooperative"])
def test_summaries_without_projects_are_those_of_each_team_alone(preset: str) -> None:
    # the bulk summaries are built without validating them again: the same objects,
    # of the same types, and the same JSON as each team validated on its own
    from teamform import FormationModel, build_instance, load_roster
    from teamform.search.construct import construct

    d = "instances/synthetic/n500_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml(f"models/{preset}.toml"))
    terms = build_terms(inst)
    rng = np.random.default_rng(3)
    for plain in (construct(inst, 0), rng.integers(0, inst.k - 1, inst.n).tolist()):
        check = validate(inst, plain, terms)
        teams, _ = summarize(inst, plain, terms, check)
        members: list[list[int]] = [[] for _ in range(inst.k)]
        for i, t in enumerate(plain):
            members[t].append(i)
        alone = [
            summarize_team(inst, plain, terms, check.team_penalties, t, members[t])
            for t in range(inst.k)
        ]
        assert teams == alone
        assert [t.model_dump_json() for t in teams] == [t.model_dump_json() for t in alone]
        for team, other in zip(teams, alone, strict=True):
            assert {k: type(v) for k, v in team.__dict__.items()} == {
                k: type(v) for k, v in other.__dict__.items()
            }


def test_criterion_checks_are_those_validation_gives() -> None:
    # each criterion's checks are set without validating them: the same values, of the
    # same types, as validating them gives
    from teamform import FormationModel, build_instance, load_roster
    from teamform.result import CriterionCheck
    from teamform.search.construct import construct

    d = "instances/synthetic/n500_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    for preset in ("collaborative", "cooperative"):
        inst = build_instance(roster, FormationModel.from_toml(f"models/{preset}.toml"))
        terms = build_terms(inst)
        plain = construct(inst, 0)
        teams, _ = summarize(inst, plain, terms, validate(inst, plain, terms))
        checks = [c for team in teams for c in team.criteria]
        assert len(checks) == len(teams) * len(terms)
        for check in checks:
            again = CriterionCheck(**check.__dict__)
            assert check == again
            assert {k: type(v) for k, v in check.__dict__.items()} == {
                k: type(v) for k, v in again.__dict__.items()
            }
            assert check.model_dump_json() == again.model_dump_json()


def test_team_flags_are_those_validation_gives() -> None:
    # every team's flags are set without validating them: the same values, of the same
    # types, as validating them gives; values of other types are validated
    from teamform import FormationModel, build_instance, load_roster
    from teamform.result import TeamFlag, team_flag
    from teamform.search.construct import construct

    d = "instances/synthetic/n500_s1"
    roster = load_roster(f"{d}/roster.csv", avoid=f"{d}/avoid.csv", prefer=f"{d}/prefer.csv")
    inst = build_instance(roster, FormationModel.from_toml("models/collaborative.toml"))
    terms = build_terms(inst)
    plain = construct(inst, 0)
    teams, _ = summarize(inst, plain, terms, validate(inst, plain, terms))
    flags = [f for team in teams for f in team.checks]
    assert {f.code for f in flags} >= {"motivation", "overlap", "prefer"}
    assert any(f.learners for f in flags) and any(not f.ok for f in flags)
    for flag in flags:
        again = TeamFlag(**flag.__dict__)
        assert flag == again and flag.model_dump_json() == again.model_dump_json()
        assert {k: type(v) for k, v in flag.__dict__.items()} == {
            k: type(v) for k, v in again.__dict__.items()
        }
    converted = team_flag("prefer", "m", learners=("a", "b"))  # type: ignore[arg-type]
    assert converted.learners == ["a", "b"] and type(converted.learners) is list
