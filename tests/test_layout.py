"""Teams of an assignment computed all at once agree with the same, one team at a time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from conftest import section_plan
from teamform.criteria import build_terms
from teamform.generate import generate_cohort, write_cohort
from teamform.instance import Instance, build_instance
from teamform.layout import TeamLayout, team_members
from teamform.model import FormationModel
from teamform.roster import load_roster
from teamform.summary import summarize, summarize_team
from teamform.validate import check_team, validate

ROOT = Path(__file__).resolve().parent.parent


def _naive_members(assignment: list[int], k: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(k)]
    for i, t in enumerate(assignment):
        out[t].append(i)
    return out


def test_layout_groups_learners_by_team() -> None:
    assignment = [2, 0, 2, 1, 0, 2]
    layout = TeamLayout(assignment, 4)
    assert layout.members == [[1, 4], [3], [0, 2, 5], []]
    assert layout.sizes.tolist() == [2, 1, 3, 0]
    assert team_members(assignment, 4) == _naive_members(assignment, 4)
    # it reads as the assignment itself
    assert list(layout) == assignment and layout[2] == 2 and len(layout) == 6
    assert np.asarray(layout).tolist() == assignment
    values = np.array([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60]])
    assert layout.team_sums(values).tolist() == [[7, 70], [4, 40], [10, 100], [0, 0]]
    assert layout.team_sums(values[:, 0]).tolist() == [7, 4, 10, 0]
    with pytest.raises(IndexError):
        TeamLayout([0, 4], 4)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """A generated cohort in sections, with avoid and preferred pairs and participation,
    under the collaborative model plus a participation and a skill-coverage rule."""
    path = tmp_path_factory.mktemp("cohort")
    write_cohort(generate_cohort(160, 5, sections=2, participation=True), path)
    model = FormationModel.from_toml(ROOT / "models" / "collaborative.toml")
    data = model.model_dump(exclude_none=True)
    data["criteria"]["participation"] = {"weight": 2}
    data["criteria"]["skill_coverage"] = {"weight": 1, "rules": [{"skill": "math", "level": 4.0}]}
    model = FormationModel.from_dict(data, source="test-model")
    roster = load_roster(path / "roster.csv", avoid=path / "avoid.csv", prefer=path / "prefer.csv")
    return build_instance(roster, model, today=date(2026, 1, 12))


def _assignments(inst: Instance) -> list[list[int]]:
    rng = np.random.default_rng(3)
    out = []
    for _ in range(4):
        # a plan that keeps sections apart, and one that does not (and breaks sizes)
        out.append(section_plan(inst, rng))
        out.append(rng.integers(0, inst.k, inst.n).tolist())
    return out


def test_every_criterion_scores_all_teams_as_it_scores_each(cohort: Instance) -> None:
    terms = build_terms(cohort)
    names = {t.name for t in terms}
    assert {"overlap", "motivation", "skill_balance", "prefer", "participation"} <= names
    for assignment in _assignments(cohort):
        layout = TeamLayout(assignment, cohort.k)
        members = _naive_members(assignment, cohort.k)
        for term in terms:
            each = [term.team_penalty(m, t) for t, m in enumerate(members)]
            assert term.team_penalties(layout).tolist() == each, term.name


def test_validator_agrees_with_its_team_by_team_check(cohort: Instance) -> None:
    terms = build_terms(cohort)
    for assignment in _assignments(cohort):
        check = validate(cohort, assignment, terms)
        members = _naive_members(assignment, cohort.k)
        teams = [check_team(cohort, terms, m, t) for t, m in enumerate(members)]
        assert check.violations == [v for team in teams for v in team.violations]
        assert check.ok == (not check.violations)
        for term in terms:
            assert check.team_penalties[term.name] == [team.penalties[term.name] for team in teams]
            assert check.penalties[term.name] == sum(check.team_penalties[term.name])


def test_summaries_of_all_teams_match_each_summarised_alone(cohort: Instance) -> None:
    terms = build_terms(cohort)
    assignment = _assignments(cohort)[0]
    check = validate(cohort, assignment, terms)
    teams, _ = summarize(cohort, assignment, terms, check)
    members = _naive_members(assignment, cohort.k)
    short = 0
    for t, team in enumerate(teams):
        # one team alone, from a plain list: no layout to look other teams up in
        alone = summarize_team(cohort, assignment, terms, check.team_penalties, t, members[t])
        assert team.model_dump() == alone.model_dump()
        short += any(c.code == "overlap" and not c.ok for c in team.checks)
    assert short  # the swap suggestions of teams short of common time are compared too
    assert summarize(cohort, assignment, terms, check, only=[3, 1])[0] == [teams[3], teams[1]]
