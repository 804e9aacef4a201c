"""Solve-time summaries: one flag system, the plain flag list and the report agreeing."""

from __future__ import annotations

from conftest import REF, learner, make_instance
from teamform.criteria import build_terms
from teamform.report import build_report, render_markdown
from teamform.report.compliance import cell_class
from teamform.result import Result, Status
from teamform.summary import summarize
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
