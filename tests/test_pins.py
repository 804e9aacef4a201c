"""Pins: learners fixed to a team, keep-together groups and fixed teams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import learner, make_instance, solve_exact, teams_of
from teamform import FormationModel, InputError, Pins, Status, form, load_roster
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.diagnose import diagnose, precheck
from teamform.search.compiled import CompiledLocalSearch
from teamform.search.construct import construct
from teamform.search.local import LocalSearch, TeamState
from teamform.solve import solve_instance
from teamform.validate import validate

PREFER = [("a", "b"), ("c", "d"), ("e", "f")]


def six(pins: Pins | None = None, team: dict | None = None):  # type: ignore[no-untyped-def]
    records = [learner(x) for x in "abcdef"]
    return make_instance(records, {"prefer": {"weight": 1}}, prefer=PREFER, team=team, pins=pins)


def test_pinned_learners_by_hand() -> None:
    # unpinned, the three preferred pairs form the three teams (objective 0);
    # with a and c both in team 1, b and d lose their partners: two pairs split
    objective, _ = solve_exact(six())
    assert objective == 0
    inst = six(Pins(teams={"a": 1, "c": 1}))
    objective, assignment = solve_exact(inst)
    assert objective == 2 * OBJECTIVE_SCALE
    assert assignment[0] == assignment[2] == 0
    assert frozenset("ef") in teams_of(inst, assignment)


def test_keep_together_group_by_hand() -> None:
    # a and c pinned together as above, and b kept with e: {a,c} {b,e} {d,f}
    # split every pair: three pairs split
    inst = six(Pins(teams={"a": 1, "c": 1}, groups=[["b", "e"]]))
    objective, assignment = solve_exact(inst)
    assert objective == 3 * OBJECTIVE_SCALE
    assert teams_of(inst, assignment) == {frozenset("ac"), frozenset("be"), frozenset("df")}


def test_a_pinned_group_takes_its_members_team() -> None:
    # b is pinned to team 3 and grouped with e: both go to team 3, so a-b and e-f split
    inst = six(Pins(teams={"b": 3}, groups=[["b", "e"]]))
    objective, assignment = solve_exact(inst)
    assert assignment[1] == assignment[4] == 2
    assert objective == 2 * OBJECTIVE_SCALE


def test_fixed_team_is_sized_to_its_pins_by_hand() -> None:
    # team 1 is fixed as {a}: the other five share teams 2 and 3 (3 + 2), so
    # b joins c-d or e-f and only a-b is split
    team = {"size": 2, "min": 1, "max": 3}
    inst = six(Pins(teams={"a": 1}, fixed=[1]), team=team)
    assert inst.team_lo.tolist() == [1, 3, 2] and inst.team_hi.tolist() == [1, 3, 2]
    objective, assignment = solve_exact(inst)
    assert objective == 1 * OBJECTIVE_SCALE
    assert [i for i, t in enumerate(assignment) if t == 0] == [0]


def test_fixed_team_without_balance_keeps_others_bounds() -> None:
    team = {"size": 2, "min": 1, "max": 4, "balanced": False}
    inst = six(Pins(teams={"a": 1, "b": 1}, fixed=[1]), team=team)
    assert (inst.team_lo[0], inst.team_hi[0]) == (2, 2)
    result = solve_instance(inst, time_limit=2, strategy="exact")
    assert result.status == Status.OPTIMAL
    assert result.teams[0].members == ["a", "b"]


def _demo(pins: Pins, strategy: str, time_limit: float = 2.0, **kw: object):  # type: ignore[no-untyped-def]
    roster = load_roster("instances/demo/roster.csv", avoid="instances/demo/avoid.csv")
    model = FormationModel.from_toml("models/collaborative.toml")
    return form(roster, model, time_limit=time_limit, strategy=strategy, pins=pins, **kw)  # type: ignore[arg-type]


DEMO_PINS = Pins(
    teams={"L00001": 3, "L00002": 3, "L00003": 3, "L00010": 5},
    groups=[["L00004", "L00005", "L00006"], ["L00011", "L00012"]],
    fixed=[3],
)


@pytest.mark.parametrize(
    ("strategy", "time_limit", "deterministic"),
    [("exact", 2.0, False), ("lns", 2.0, False), ("lns", 0.5, False), ("lns", 2.0, True)],
)
def test_every_strategy_keeps_the_pins(
    strategy: str, time_limit: float, deterministic: bool
) -> None:
    result = _demo(DEMO_PINS, strategy, time_limit, deterministic=deterministic)
    assert result.feasible and result.valid, result.violations
    a = result.assignment
    assert [a[x] for x in ("L00001", "L00002", "L00003", "L00010")] == [3, 3, 3, 5]
    assert a["L00004"] == a["L00005"] == a["L00006"]
    assert a["L00011"] == a["L00012"]
    assert sorted(result.teams[2].members) == ["L00001", "L00002", "L00003"]
    assert result.search_objective is None or result.search_objective == result.objective


def test_moves_and_swaps_never_move_frozen_learners() -> None:
    roster = load_roster("instances/demo/roster.csv", avoid="instances/demo/avoid.csv")
    model = FormationModel.from_toml("models/collaborative.toml")
    from teamform import build_instance

    inst = build_instance(roster, model, pins=DEMO_PINS)
    terms = build_terms(inst)
    start = construct(inst, 3)
    assert validate(inst, start, terms).ok
    frozen = np.flatnonzero(inst.pins.frozen).tolist()  # type: ignore[union-attr]
    state = TeamState(inst, terms, start)
    LocalSearch(state, np.random.default_rng(0)).run(max_steps=3000)
    assert [state.assign[i] for i in frozen] == [start[i] for i in frozen]
    state = TeamState(inst, terms, start)
    before = state.total
    CompiledLocalSearch(state, 0).run(max_steps=20000, temp=before / 50)
    assert [state.assign[i] for i in frozen] == [start[i] for i in frozen]
    assert validate(inst, state.assign, terms).ok


def test_validator_reports_broken_pins() -> None:
    inst = six(Pins(teams={"a": 1}, groups=[["c", "e"]], fixed=[1]))
    # a in team 2, b joined fixed team 1, c and e apart
    check = validate(inst, [1, 0, 2, 0, 1, 2])
    assert not check.ok
    text = "\n".join(check.violations)
    assert "learner a is pinned to team 1" in text
    assert "learner b joined a fixed team" in text
    assert "keep-together group c, e is split over teams 2, 3" in text


@pytest.mark.parametrize(
    ("pins", "fragment"),
    [
        (Pins(teams={"a": 1, "b": 1}), "avoid pair a,b is pinned to team 1"),
        (Pins(groups=[["a", "c", "b"]]), "avoid pair a,b is in one keep-together group"),
        (Pins(groups=[["c", "d", "e"]]), "has 3 learners, more than a team holds (2)"),
        (Pins(teams={"c": 1, "d": 1, "e": 1}), "3 learners are pinned to team 1, which holds 2"),
        (Pins(teams={"c": 1, "d": 2}, groups=[["c", "d"]]), "is pinned to teams 1, 2"),
        (Pins(teams={"c": 1}, fixed=[1]), "team 1 is fixed with 1 pinned learners"),
        (Pins(fixed=[2]), "team 2 is fixed with 0 pinned learners"),
    ],
)
def test_pin_conflicts_are_named(pins: Pins, fragment: str) -> None:
    records = [learner(x) for x in "abcdef"]
    inst = make_instance(
        records, team={"size": 2, "min": 2, "max": 2}, avoid=[("a", "b")], pins=pins
    )
    lines = precheck(inst, build_terms(inst))
    assert any(fragment in line for line in lines), lines
    result = solve_instance(inst, time_limit=1)
    assert result.status == Status.INFEASIBLE
    assert any(fragment in c for c in result.conflicts)


def test_pins_across_sections_are_named() -> None:
    records = [learner(x, section="A" if x in "abcd" else "B") for x in "abcdef"]
    inst = make_instance(records, pins=Pins(teams={"e": 1}, groups=[["a", "f"]]))
    lines = precheck(inst, build_terms(inst))
    assert any("learner e of section 'B' is pinned to team 1 of section 'A'" in x for x in lines)
    assert any("group a, f spans sections 'A', 'B'" in x for x in lines)


def test_diagnosis_names_pins_against_a_hard_rule() -> None:
    # a and b share no hour, so hard overlap keeps them apart: pinning them
    # together is the conflict, found by the solver
    records = [
        learner("a", availability="Mon 09:00-11:00"),
        learner("b", availability="Tue 09:00-11:00"),
        learner("c"),
        learner("d"),
    ]
    crit = {"overlap": {"hours": 1, "hard": True, "reference_date": "2026-01-12"}}
    inst = make_instance(records, crit, pins=Pins(teams={"a": 2, "b": 2}))
    terms = build_terms(inst)
    assert precheck(inst, terms) == []
    lines = diagnose(inst, terms, 4.0)
    assert "pins (learners pinned to teams" in lines[0]
    assert "overlap >= 1 h" in lines[0]


def test_unknown_ids_and_teams_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown learner id 'zz' in pins"):
        six(Pins(teams={"zz": 1}))
    with pytest.raises(InputError, match="team 4 does not exist: the model forms 3 teams"):
        six(Pins(teams={"a": 4}))
    with pytest.raises(InputError, match="fixed team 9 does not exist"):
        six(Pins(fixed=[9]))
    with pytest.raises(InputError, match="not a team number"):
        Pins(teams={"a": 0})


def test_from_csv_reads_both_layouts(tmp_path: Path) -> None:
    teams = tmp_path / "teams.csv"
    teams.write_text("id,team,fixed\na,1,yes\nc,1,\nd,2,no\n", encoding="utf-8")
    pins = Pins.from_csv(teams)
    assert pins.teams == {"a": 1, "c": 1, "d": 2} and pins.fixed == [1]
    groups = tmp_path / "groups.csv"
    groups.write_text("group,id\nx,b\nx,e\ny,c\ny,f\n", encoding="utf-8")
    pins = Pins.from_csv(groups)
    assert pins.groups == [["b", "e"], ["c", "f"]] and not pins.teams
    inst = six(pins)
    _, assignment = solve_exact(inst)
    assert assignment[1] == assignment[4] and assignment[2] == assignment[5]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id,team\na,x\n", "row 2, column 'team': team 'x' is not a whole number"),
        ("id,team\na,0\n", "row 2, column 'team': team 0 is not a team number"),
        ("id,team\na,1\na,2\n", "row 3, column 'team': learner 'a' is pinned to team 1 on row 2"),
        ("id,team,colour\na,1,2\n", "row 1, column 'colour': unknown column"),
        ("id\na\n", "needs a 'team' column"),
        ("team,group\n1,x\n", "column 'id': required column is missing"),
        ("id,team,group\na,,\n", "row 2: row pins nothing"),
        ("id,team,fixed\na,1,maybe\n", "row 2, column 'fixed': fixed 'maybe' is not yes or no"),
        ("id,group,fixed\na,g,yes\n", "row 2, column 'fixed': fixed needs a team"),
        ("id,team\n", "the pins file has no rows"),
    ],
)
def test_from_csv_errors_name_row_and_column(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "pins.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        Pins.from_csv(path)
    assert str(exc.value).startswith(str(path))
    assert fragment in str(exc.value)


def test_unknown_id_in_a_file_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "pins.csv"
    path.write_text("id,team\na,1\nzz,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column 'id': unknown learner id 'zz'"):
        six(Pins.from_csv(path))


def test_course_phase_pins(tmp_path: Path) -> None:
    from datetime import date

    from teamform import run_due
    from test_plan import stored, write_plan, write_roster

    ws = tmp_path / "course"
    ws.mkdir()
    write_roster(ws / "roster.csv", list("abcdefgh"))
    (ws / "tiny.toml").write_text('name = "tiny"\n\n[team]\nsize = 2\n', encoding="utf-8")
    (ws / "pins.csv").write_text("id,team,group\na,4,\nb,,g\nc,,g\n", encoding="utf-8")
    phases = [
        {"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml", "pins": "pins.csv"},
        {"name": "P2", "start": date(2026, 1, 12), "model": "tiny.toml", "policy": "mix"},
    ]
    write_plan(ws, phases, time_limit=1)
    run_due(ws, date(2026, 1, 12))
    teams = stored(ws)
    assert teams["P1"]["a"] == 4 and teams["P1"]["b"] == teams["P1"]["c"]
    # the next phase has no pins and mixes: b and c, together before, are apart
    assert teams["P2"]["b"] != teams["P2"]["c"]


def test_cli_form_and_check_with_pins(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from teamform.cli import app

    runner = CliRunner()
    demo = ["instances/demo/roster.csv", "--model", "models/collaborative.toml"]
    demo += ["--avoid", "instances/demo/avoid.csv"]
    pins = tmp_path / "pins.csv"
    pins.write_text(
        "id,team,group,fixed\nL00001,2,,yes\nL00002,2,,yes\nL00004,2,,\nL00007,,g,\nL00008,,g,\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    res = runner.invoke(
        app, ["form", *demo, "--pins", str(pins), "--time-limit", "1", "--json", str(out), "-q"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(data["teams"][1]["members"]) == ["L00001", "L00002", "L00004"]
    assert data["assignment"]["L00007"] == data["assignment"]["L00008"]
    res = runner.invoke(app, ["check", *demo, "--pins", str(pins)])
    assert res.exit_code == 0 and "3 pinned learners" in res.output
    # L00003 and L00020 are an avoid pair
    pins.write_text("id,team\nL00003,2\nL00020,2\n", encoding="utf-8")
    for cmd in (["form", *demo, "--time-limit", "1"], ["check", *demo]):
        res = runner.invoke(app, [*cmd, "--pins", str(pins)])
        assert res.exit_code == 3
        assert "avoid pair L00003,L00020 is pinned to team 2" in res.stderr
    pins.write_text("id,team\nL00003,two\n", encoding="utf-8")
    res = runner.invoke(app, ["form", *demo, "--pins", str(pins)])
    assert res.exit_code == 2
    assert res.stderr.strip().count("\n") == 0 and "row 2, column 'team'" in res.stderr
