"""The report as a tutor reads it: a verdict first, labels, colours that agree with the
flags, the heat map in the tutor's zone, who limits a team's common time, large cohorts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REF, learner, make_instance
from teamform import Result
from teamform.cli import app
from teamform.criteria import build_terms
from teamform.report import build_report, load_report, render_html, render_markdown
from teamform.report.compliance import (
    MAX_CARDS,
    cell_class,
    criterion_label,
    heat_grid,
)
from teamform.result import CriterionCheck, TeamFlag, TeamSummary
from teamform.summary import team_details
from teamform.validate import validate
from test_report import result, result_file  # noqa: F401  (fixtures)

OVERLAP = {"overlap": {"weight": 10, "hours": 3, "block": 1, "reference_date": REF}}


def test_labels_for_internal_names() -> None:
    assert criterion_label("skill_balance") == "Skill balance"
    assert criterion_label("overlap") == "Common time"
    assert criterion_label("category:language:no_isolation") == "Language: nobody alone"
    assert criterion_label("category:role:distribute") == "Role: spread evenly"
    assert criterion_label("something_new") == "Something new"


def test_verdict_comes_first_in_plain_words(result_file: Path) -> None:  # noqa: F811
    data = load_report(result_file)
    page = render_html(data)
    assert page.index('id="verdict"') < page.index('id="summary"')
    verdict = page[
        page.index('id="verdict"') : page.index("</section>", page.index('id="verdict"'))
    ]
    assert "2 teams of 2 were formed for 4 learners" in verdict
    for word in ("objective", "bound", "gap", "excess"):
        assert word not in verdict
    # solver terms stay available, folded away
    assert "<summary>Solver details</summary>" in page
    assert page.index("Solver details") > page.index('id="verdict"')
    text = render_markdown(data)
    assert text.splitlines()[2].startswith("> 2 teams of 2 were formed")
    # internal names are not shown as headers
    assert "<th>skill_balance</th>" not in page and "<th>Skill balance</th>" in page
    assert "category:language:no_isolation" not in page


def test_colours_agree_with_flags(result_file: Path) -> None:  # noqa: F811
    data = load_report(result_file)
    page = render_html(data)
    for view in data.teams:
        has_overlap_flag = any(f.code == "overlap" for f in view.flags)
        score = next(c.score for c in view.criteria if c.name == "overlap")
        assert (cell_class(view, "overlap", score) == "poor") == has_overlap_flag
    # in the compliance table, a team without flags has no red cell
    table = page[page.index('id="overview"') : page.index('id="teams"')]
    for view in data.teams:
        row = re.search(rf'<tr><td><a href="#team-{view.number}">.*?</tr>', table)
        assert row is not None
        if not view.flags:
            assert "poor" not in row.group(0)
        else:
            assert 'class="num poor"' in row.group(0)


def test_cell_colours_by_hand() -> None:
    team = TeamSummary(
        team=1, section=None, members=["a", "b"], names=["", ""], size=2, skill_means={},
        intrinsic=1, imposed=1, common_hours=1.0, penalties={}, flags=[],
        criteria=[CriterionCheck(name="overlap", value=1, target="3 h", score=95.0)],
        checks=[TeamFlag(code="overlap", message="common hours 1 below target 3")],
    )  # fmt: skip
    view = build_report(Result(status="feasible", teams=[team], valid=True)).teams[0]
    # a high score cannot hide a flag
    assert cell_class(view, "overlap", 95.0) == "poor"
    assert cell_class(view, "skill_balance", 100.0) == "good"
    assert cell_class(view, "skill_balance", 80.0) == "fair"
    assert cell_class(view, "skill_balance", None) == "na"


def test_heat_map_in_the_tutors_zone() -> None:
    from datetime import date

    runs = [(4 * 17, 4 * 18)]  # Monday 17:00-18:00 UTC
    assert heat_grid(runs)[0][17] == 4
    winter = heat_grid(runs, "Europe/Paris", date(2026, 1, 12))
    assert winter[0][18] == 4 and sum(map(sum, winter)) == 4
    summer = heat_grid(runs, "Europe/Paris", date(2026, 7, 13))
    assert summer[0][19] == 4
    # a run late on Sunday UTC is Monday morning in Tokyo
    late = heat_grid([(6 * 96 + 4 * 23, 7 * 96)], "Asia/Tokyo", date(2026, 1, 12))
    assert late[0][8] == 4


def test_cli_report_heat_map_timezone(result_file: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "r.html"
    done = CliRunner().invoke(
        app, ["report", str(result_file), "--out", str(out), "--timezone", "europe/paris"]
    )
    assert done.exit_code == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "Common availability (Europe/Paris, week of 12 January 2026)" in page
    bad = CliRunner().invoke(
        app, ["report", str(result_file), "--out", str(out), "--timezone", "Mars/Base"]
    )
    assert bad.exit_code == 2 and "option --timezone" in bad.stderr


def _two_mismatched_teams():
    # A and D are free on Monday, B and C on Tuesday; teams {A, C} and {B, D} share nothing
    records = [
        learner("A", availability="Mon 18:00-21:00"),
        learner("B", availability="Tue 18:00-21:00"),
        learner("C", availability="Tue 18:00-21:00"),
        learner("D", availability="Mon 18:00-21:00"),
    ]
    inst = make_instance(records, OVERLAP, team={"size": 2})
    return inst, build_terms(inst), [0, 1, 0, 1]


def test_limiting_member_and_a_swap_are_named() -> None:
    inst, terms, assignment = _two_mismatched_teams()
    check = validate(inst, assignment, terms)
    details = team_details(inst, terms, assignment, [0, 2], 0, check.team_penalties)
    (flag,) = [c for c in details.checks if c.code == "overlap" and not c.ok]
    assert "common hours 0 below target 3" in flag.message
    assert "Name A (A) limits it (without them: 3 h)" in flag.message
    assert "swapping them with Name B (B) of team 2 gives this team 3 h and team 2 3 h" in (
        flag.message
    )
    assert "(now 0 h)" in flag.message
    assert flag.learners == ["A", "B"]


def test_no_swap_suggested_across_an_avoid_pair() -> None:
    records = [
        learner("A", availability="Mon 18:00-21:00"),
        learner("B", availability="Tue 18:00-21:00"),
        learner("C", availability="Tue 18:00-21:00"),
        learner("D", availability="Mon 18:00-21:00"),
    ]
    # B may not join C, and A may not join D: no swap helps
    inst = make_instance(records, OVERLAP, team={"size": 2}, avoid=[("B", "C"), ("A", "D")])
    terms = build_terms(inst)
    assignment = [0, 1, 0, 1]
    check = validate(inst, assignment, terms)
    details = team_details(inst, terms, assignment, [0, 2], 0, check.team_penalties)
    (flag,) = [c for c in details.checks if c.code == "overlap" and not c.ok]
    assert "limits it" in flag.message and "swapping" not in flag.message


def _many_teams(n_teams: int) -> Result:
    teams = []
    for t in range(n_teams):
        short = t % 7 == 0
        teams.append(
            TeamSummary(
                team=t + 1, section=None, members=[f"L{4 * t + j}" for j in range(4)],
                names=[f"Learner {4 * t + j}" for j in range(4)], size=4,
                skill_means={"math": 3.0}, intrinsic=2, imposed=2,
                common_hours=0.0 if short else 4.0, penalties={"overlap": 3.0 if short else 0.0},
                flags=[], common_slots=[] if short else [(72, 88)],
                timezones={f"L{4 * t + j}": "Europe/Paris" for j in range(4)},
                skill_targets={"math": 3.0},
                criteria=[CriterionCheck(name="overlap", value=0, target="3 h",
                                         score=0.0 if short else 100.0)],
                checks=[TeamFlag(code="overlap", ok=not short,
                                 message="common hours 0 below target 3" if short else "ok")],
            )
        )  # fmt: skip
    return Result(
        status="feasible", n_learners=4 * n_teams, n_teams=n_teams, teams=teams, valid=True,
        objective=1.0, bound=0.0, gap=1.0, reference_date=REF,
    )  # fmt: skip


def test_a_large_cohort_gets_a_summarised_page() -> None:
    data = build_report(_many_teams(2500))
    page = render_html(data)
    cards = page.count('<article class="team"')
    flagged = sum(1 for v in data.teams if v.flags)
    assert cards == min(MAX_CARDS, flagged) == MAX_CARDS
    # every team is still listed, with its members, in the compliance table
    assert all(f"<td>Team {n}</td>" in page or f">Team {n}</a>" in page for n in (1, 2, 2500))
    assert "Learner 9999" in page
    assert "every team is in the table above" in page
    assert len(page.encode()) < 3_000_000
    text = render_markdown(data)
    assert text.count("\n### Team ") == MAX_CARDS
    # a small cohort keeps a card for every team
    small = build_report(_many_teams(20))
    assert render_html(small).count('<article class="team"') == 20


@pytest.mark.parametrize("n_teams", [MAX_CARDS, MAX_CARDS + 1])
def test_cards_limit_boundary(n_teams: int) -> None:
    page = render_html(build_report(_many_teams(n_teams)))
    flagged = sum(1 for t in range(n_teams) if t % 7 == 0)
    expected = n_teams if n_teams <= MAX_CARDS else flagged
    assert page.count('<article class="team"') == expected
