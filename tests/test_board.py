"""The plan board: incremental re-scoring equals the validator after every edit."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from conftest import learner, make_instance
from teamform import FormationModel, build_instance, load_roster
from teamform.board import Board
from teamform.criteria import OBJECTIVE_SCALE, build_terms
from teamform.errors import InputError
from teamform.result import Result, Status
from teamform.search.construct import construct
from teamform.summary import summarize
from teamform.validate import validate

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "instances" / "demo"


@pytest.fixture(scope="module")
def demo():
    model = FormationModel.from_toml(ROOT / "models" / "collaborative.toml")
    roster = load_roster(DEMO / "roster.csv", avoid=DEMO / "avoid.csv", prefer=DEMO / "prefer.csv")
    return build_instance(roster, model)


def test_random_moves_and_swaps_match_the_validator(demo) -> None:
    terms = build_terms(demo)
    board = Board(demo, construct(demo, 0), terms=terms)
    rng = random.Random(3)
    ids = demo.ids
    for step in range(60):
        if step % 3:
            board.move(rng.choice(ids), rng.randint(1, demo.k))
        else:
            board.swap(*rng.sample(ids, 2))
        assign = [board.team_of(i) - 1 for i in ids]
        check = validate(demo, assign, terms)
        got = board.validation()
        assert got.objective == check.objective
        assert got.penalties == check.penalties
        assert got.team_penalties == check.team_penalties
        assert sorted(got.violations) == sorted(check.violations)
        assert board.totals().objective == check.objective / OBJECTIVE_SCALE
        assert board.totals().valid == check.ok


def test_team_views_equal_the_full_summary(demo) -> None:
    terms = build_terms(demo)
    board = Board(demo, construct(demo, 1), terms=terms)
    ids = demo.ids
    board.swap(ids[0], ids[30])
    assign = [board.team_of(i) - 1 for i in ids]
    teams, scores = summarize(demo, assign, terms, validate(demo, assign, terms))
    assert board.teams() == teams
    assert board.totals().breakdown == scores
    one = teams[0]
    weighted = sum(t.weight * one.penalties[t.name] for t in terms if not t.hard)
    assert board.team_objective(1) == pytest.approx(weighted)


def test_a_move_reports_the_teams_it_touched_and_hard_breaches() -> None:
    records = [learner(k) for k in "abcd"]
    inst = make_instance(records, {"motivation": {"weight": 1}}, avoid=[("a", "c")])
    board = Board(inst, [0, 0, 1, 1])
    assert board.totals().valid
    change = board.move("c", 1)
    assert change.moved == {"c": (2, 1)}
    assert change.teams == [1, 2]
    assert any("avoid pair a,c" in v for v in change.broken)
    assert any("3 members" in v for v in change.broken)
    assert not board.totals().valid
    # putting it back restores a valid plan
    board.place({"c": 2}, respect_locks=False)
    assert board.totals().valid and board.violations_of(1) == []


def test_locks_refuse_moves_and_name_what_to_keep() -> None:
    inst = make_instance([learner(k) for k in "abcdef"], team={"size": 2})
    board = Board(inst, [0, 0, 1, 1, 2, 2])
    board.lock_learner("a")
    with pytest.raises(InputError, match="learner a is locked in team 1"):
        board.move("a", 2)
    board.lock_team(3)
    with pytest.raises(InputError, match="team 3 is locked"):
        board.swap("c", "e")
    with pytest.raises(InputError, match="team 3 is locked"):
        board.move("b", 3)
    assert board.is_locked("e") and not board.is_locked("b")
    locks = board.locks()
    assert locks.learners == {"a": 1, "e": 3, "f": 3}
    assert locks.teams == {3: ["e", "f"]}
    board.lock_team(3, False)
    board.lock_learner("a", False)
    board.swap("a", "e")
    assert board.team_of("a") == 3
    with pytest.raises(InputError, match="no team 9"):
        board.move("a", 9)
    with pytest.raises(InputError, match="no learner with id 'zz'"):
        board.move("zz", 1)


def test_result_of_an_edited_plan_is_what_validation_says(demo) -> None:
    terms = build_terms(demo)
    start = construct(demo, 0)
    check = validate(demo, start, terms)
    solved = Result(
        status=Status.OPTIMAL,
        objective=check.objective / OBJECTIVE_SCALE,
        assignment={lid: start[i] + 1 for i, lid in enumerate(demo.ids)},
        valid=check.ok,
    )
    board = Board(demo, start, terms=terms)
    # unedited: the solve's own status stands
    assert board.result(solved).status == (Status.OPTIMAL if check.ok else Status.UNKNOWN)
    board.swap(demo.ids[0], demo.ids[-1])
    edited = board.result(solved)
    assert edited.assignment[demo.ids[0]] == start[-1] + 1
    assert edited.objective == board.totals().objective
    assert len(edited.teams) == demo.k
    assert edited.valid == board.totals().valid
    assert edited.status == (Status.UNKNOWN if not edited.valid else edited.status)
    assert edited.status != Status.OPTIMAL or board.objective <= board.bound
