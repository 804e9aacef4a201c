"""Projects: one project per team, learners' ranked choices, capacities."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import learner, make_instance, solve_exact, teams_of
from teamform import FormationModel, InputError, Roster, Status, build_instance
from teamform.cpmodel import SubModel
from teamform.criteria import OBJECTIVE_SCALE, ProjectChoiceTerm, ProjectTerm, build_terms
from teamform.criteria.project import best_projects
from teamform.diagnose import precheck
from teamform.search.lns import solve_neighbourhood
from teamform.search.local import TeamState
from teamform.solve import solve_instance
from teamform.validate import validate


def cohort(choices: dict[str, str], **projects: object):  # type: ignore[no-untyped-def]
    records = [learner(lid, projects=c) for lid, c in choices.items()]
    return make_instance(records, {"projects": {"weight": 2, "unranked": 5, **projects}})


def test_optimum_by_hand() -> None:
    # a and b want X, c wants Y, d wants Z; two teams, one project each.
    # {a,b} take X (0); {c,d} take Y or Z: one of them is unranked, 5 steps.
    # {a,c}/{b,d} or {a,d}/{b,c}: only one team can take X, so 10 steps.
    inst = cohort({"a": "X", "b": "X", "c": "Y", "d": "Z"})
    objective, assignment = solve_exact(inst)
    assert objective == 2 * 5 * OBJECTIVE_SCALE
    assert teams_of(inst, assignment) == {frozenset("ab"), frozenset("cd")}


def test_capacity_by_hand() -> None:
    # everyone's first choice is X. With one team per project, one team takes Y:
    # best is {a,b} on X and {c,d} on Y, their second choice: 2 steps.
    choices = {"a": "X", "b": "X", "c": "X;Y", "d": "X;Y"}
    objective, assignment = solve_exact(cohort(choices))
    assert objective == 2 * 2 * OBJECTIVE_SCALE
    assert teams_of(cohort(choices), assignment) == {frozenset("ab"), frozenset("cd")}
    # with room for two teams on X, nobody pays
    objective, _ = solve_exact(cohort(choices, capacities={"X": 2}))
    assert objective == 0


def test_learners_without_choices_cost_nothing() -> None:
    inst = cohort({"a": "X", "b": "", "c": "Y", "d": ""})
    objective, _ = solve_exact(inst)
    assert objective == 0


def test_required_choices_by_hand() -> None:
    # a, b and c only want X, d only Y: X holds one team of two, so someone
    # of a, b, c goes without a choice; the hard rule makes that infeasible
    choices = {"a": "X", "b": "X", "c": "X", "d": "Y"}
    inst = cohort(choices, hard=True)
    terms = build_terms(inst)
    assert [type(t) for t in terms] == [ProjectTerm, ProjectChoiceTerm]
    assert terms[1].bound() == 1
    assert any("projects_choice (hard) cannot hold" in line for line in precheck(inst, terms))
    assert solve_instance(inst, time_limit=2).status == Status.INFEASIBLE
    # as a soft rule the unlucky learner pays 5 steps
    objective, _ = solve_exact(cohort(choices))
    assert objective == 2 * 5 * OBJECTIVE_SCALE
    # if c also accepts Y, only {a,b} on X and {c,d} on Y meets the rule: 1 step
    relaxed = cohort({"a": "X", "b": "X", "c": "X;Y", "d": "Y"}, hard=True)
    result = solve_instance(relaxed, time_limit=2)
    assert result.status == Status.OPTIMAL
    assert result.objective == 2 * 1  # c takes Y, its second choice
    assert {(tuple(t.members), t.project) for t in result.teams} == {
        (("a", "b"), "X"),
        (("c", "d"), "Y"),
    }


def test_min_cost_flow_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    for _ in range(40):
        n_p = int(rng.integers(2, 5))
        names = [f"P{p}" for p in range(n_p)]
        records = []
        for i in range(6):
            picks = rng.permutation(n_p)[: int(rng.integers(0, 3))]
            records.append(learner(f"l{i}", projects=";".join(names[p] for p in picks)))
        caps = {name: int(rng.integers(1, 3)) for name in names}
        if sum(caps.values()) < 3:
            continue
        inst = make_instance(
            records,
            {"projects": {"names": names, "capacities": caps, "unranked": 4}},
            team={"teams": 3},
        )
        (term,) = build_terms(inst)
        assert isinstance(term, ProjectTerm)
        members = [list(range(0, 2)), list(range(2, 4)), list(range(4, 6))]
        best = min(
            sum(term.penalty_with(m, p) for m, p in zip(members, combo, strict=True))
            for combo in itertools.product(range(n_p), repeat=3)
            if all(combo.count(p) <= caps[names[p]] for p in range(n_p))
        )
        found = best_projects(term.data, members)
        assert found is not None
        assert (
            sum(term.penalty_with(m, int(p)) for m, p in zip(members, found, strict=True)) == best
        )
        assert term.bound() <= best


def test_neighbourhood_counts_capacity_left_by_other_teams() -> None:
    # team 3 holds X (capacity 1): a neighbourhood over teams 1 and 2 cannot take
    # X, and its objective is the exact change of the global one
    choices = {"a": "X;Y", "b": "X;Y", "c": "X;Z", "d": "X;Z", "e": "Y", "f": "Z"}
    inst = cohort(choices)
    terms = build_terms(inst)
    (term,) = terms
    assert isinstance(term, ProjectTerm)
    names = term.data.names
    term.assigned = np.array([names.index("Y"), names.index("Z"), names.index("X")])
    start = [0, 1, 2, 0, 1, 2]  # {a,d} Y, {b,e} Z, {c,f} X
    state = TeamState(inst, terms, start)
    before = state.total
    assert solve_neighbourhood(state, [0, 1], time_limit=5, seed=0)
    assert int(term.assigned[2]) == names.index("X")
    assert names.index("X") not in term.assigned[:2].tolist()
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total < before
    # the full model over all teams agrees with this being locally optimal for teams 1-2
    sub = SubModel(inst, [i for t in (0, 1) for i in state.members[t]], [0, 1], terms)
    assert sub.penalties["projects"].keys() == {0, 1}


def test_every_strategy_is_validated() -> None:
    rng = np.random.default_rng(1)
    names = [f"P{p:02d}" for p in range(12)]
    records = [
        learner(
            f"l{i:02d}",
            skills={"a": int(rng.integers(1, 6))},
            projects=";".join(names[p] for p in rng.permutation(12)[:3]),
        )
        for i in range(24)
    ]
    model = FormationModel.from_dict(
        {
            "team": {"size": 4},
            "criteria": {"skill_balance": {"weight": 1}, "projects": {"weight": 1}},
        }
    )
    inst = build_instance(Roster.from_records(records), model)
    for strategy in ("exact", "lns"):
        result = solve_instance(inst, time_limit=1.5, strategy=strategy)  # type: ignore[arg-type]
        assert result.feasible, result.violations
        assert result.search_objective == result.objective
        projects = [names.index(t.project) for t in result.teams]  # type: ignore[arg-type]
        assignment = [result.assignment[i] - 1 for i in inst.ids]
        check = validate(inst, assignment, projects=projects)
        assert check.ok and check.objective == round(result.objective * OBJECTIVE_SCALE)
        assert len(set(projects)) == len(projects)  # capacity 1: 12 projects, 6 teams
        for team in result.teams:
            for lid, rank in team.project_ranks.items():
                i = inst.ids.index(lid)
                assert rank == inst.projects.rank_of(i, names.index(team.project))  # type: ignore[union-attr, arg-type]


def test_validator_checks_capacities_and_kept_projects() -> None:
    inst = cohort({"a": "X", "b": "X", "c": "Y", "d": "Z"})
    names = inst.projects.names  # type: ignore[union-attr]
    x = names.index("X")
    check = validate(inst, [0, 0, 1, 1], projects=[x, x])
    assert not check.ok
    assert "project 'X' is taken by 2 teams, capacity 1" in check.violations
    kept = build_instance(
        inst.roster,
        FormationModel.from_dict(
            {"team": {"size": 2}, "criteria": {"projects": {"keep": True}}}, source="m"
        ),
        previous_projects={2: "Y"},
    )
    assert kept.projects.keep.tolist() == [-1, names.index("Y")]  # type: ignore[union-attr]
    check = validate(kept, [0, 0, 1, 1], projects=[x, names.index("Z")])
    assert "team 2: must keep project 'Y'" in check.violations
    result = solve_instance(kept, time_limit=1)
    assert result.teams[1].project == "Y"


@pytest.mark.parametrize(
    ("choices", "spec", "fragment"),
    [
        ({"a": "X;X"}, {}, "row 1, column 'projects': project 'X' is ranked twice"),
        ({"a": "X", "b": "Q"}, {"names": ["X", "Y"]}, "row 2, column 'projects': project 'Q'"),
        ({"a": "X", "b": "X"}, {"capacity": 1, "names": ["X"]}, "the capacities hold only 1"),
        ({"a": "", "b": ""}, {}, "no projects"),
    ],
)
def test_bad_projects_are_input_errors(choices: dict[str, str], spec: dict, fragment: str) -> None:
    records = [learner(lid, projects=c) for lid, c in choices.items()]
    records += [learner(f"z{i}") for i in range(2)]
    with pytest.raises(InputError, match=fragment):
        make_instance(records, {"projects": spec})


def test_result_report_and_sheets_show_projects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from teamform.report import build_report, render_html, render_markdown, render_sheets

    inst = cohort({"a": "X", "b": "X", "c": "Y", "d": "Z"})
    result = solve_instance(inst, time_limit=1)
    team = next(t for t in result.teams if "a" in t.members)
    other = next(t for t in result.teams if "c" in t.members)
    assert team.project == "X" and team.project_ranks == {"a": 1, "b": 1}
    assert other.project in ("Y", "Z")
    assert sorted(other.project_ranks.values(), key=str) == [1, None]
    data = build_report(result)
    page = render_html(data)
    assert "Project: <strong>X</strong>" in page and "not chosen" in page
    text = render_markdown(data)
    assert "Project: **X**" in text and "| choice 1 |" in text
    sheets = render_sheets(data)
    assert any("## Your project\n\nX" in s for s in sheets.values())
    result.to_csv(tmp_path / "teams.csv")
    rows = (tmp_path / "teams.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "id,name,team,project,project_rank"
    assert any(r.startswith("a,Name a,") and r.endswith(",X,1") for r in rows)


def test_projects_kept_across_phases(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    from datetime import date

    from teamform import run_due
    from teamform.history import DB_NAME, CourseHistory
    from test_plan import write_plan

    ws = tmp_path / "course"
    ws.mkdir()

    def roster(name: str, shift: int) -> None:
        lines = ["id,timezone,availability,motivation,projects"]
        lines += [
            f"l{i},UTC,Mon 09:00-17:00,imposed,{'XYZW'[(i + shift) % 4]};{'XYZW'[(i + 1) % 4]}"
            for i in range(8)
        ]
        (ws / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    # in phase 2 everybody's first choice moves on: kept projects ignore that
    roster("roster.csv", 0)
    roster("later.csv", 2)
    model = 'name = "p"\n\n[team]\nsize = 2\n\n[criteria.projects]\nkeep = true\n'
    (ws / "p.toml").write_text(model, encoding="utf-8")
    phases = [
        {"name": "P1", "start": date(2026, 1, 5), "model": "p.toml"},
        {
            "name": "P2",
            "start": date(2026, 1, 12),
            "model": "p.toml",
            "policy": "keep",
            "roster": "later.csv",
        },
    ]
    write_plan(ws, phases, time_limit=1)
    run_due(ws, date(2026, 1, 12))
    with CourseHistory.read(ws / DB_NAME) as db:
        results = {f.phase: json.loads(db.result_json(f.id)) for f in db.formations()}
    first = {t["team"]: t["project"] for t in results["P1"]["teams"]}
    second = {t["team"]: t["project"] for t in results["P2"]["teams"]}
    assert second == first and len(set(first.values())) == 4


def test_diagnosis_names_required_choices_against_avoid_pairs() -> None:
    from teamform.diagnose import diagnose

    # a, b want X and c, d want Y, but a-b and c-d must be apart: every team
    # mixes an X and a Y learner, so someone misses their only choice (either
    # avoid pair alone already forces that)
    records = [learner(lid, projects=c) for lid, c in zip("abcd", "XXYY", strict=True)]
    inst = make_instance(records, {"projects": {"hard": True}}, avoid=[("a", "b"), ("c", "d")])
    terms = build_terms(inst)
    assert precheck(inst, terms) == []
    lines = diagnose(inst, terms, 4.0)
    assert "avoid pairs (1 of 2: " in lines[0]
    assert "projects_choice (hard)" in lines[0]
    result = solve_instance(inst, time_limit=2)
    assert result.status == Status.INFEASIBLE and result.conflicts


def test_compiled_costs_agree_and_search_keeps_projects_consistent() -> None:
    from teamform.search.budget import Budget
    from teamform.search.compiled import CompiledLocalSearch, supported
    from teamform.search.lns import LnsStats, anneal

    rng = np.random.default_rng(3)
    names = [f"P{p}" for p in range(9)]
    records = [
        learner(
            f"l{i:02d}",
            skills={"a": int(rng.integers(1, 6))},
            projects=";".join(names[p] for p in rng.permutation(9)[: int(rng.integers(0, 4))]),
        )
        for i in range(24)
    ]
    inst = make_instance(
        records,
        {"skill_balance": {"weight": 1}, "projects": {"weight": 3, "unranked": 4}},
        team={"size": 4},
    )
    terms = build_terms(inst)
    assert supported(terms)
    state = TeamState(inst, terms, [i % inst.k for i in range(inst.n)])
    state.redecide()
    search = CompiledLocalSearch(state, 0)
    for t, mem in enumerate(state.members):
        assert search.team_cost(mem, t) == state.cost[t]
    before = state.total
    anneal(state, terms, 0, Budget(1.0, work=True), LnsStats(), lambda: None)
    check = validate(inst, state.assign, terms)
    assert check.ok and check.objective == state.total < before
