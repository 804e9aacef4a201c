"""Preferred pairs (soft) and avoid pairs (hard) alone."""

from conftest import learner, make_instance, solve_exact, teams_of
from teamform.criteria import OBJECTIVE_SCALE, build_terms


def test_prefer_optimum_by_hand() -> None:
    # a-b, c-d and a-c asked to work together; teams of two hold at most two of them
    records = [learner(x) for x in "abcd"]
    inst = make_instance(
        records, {"prefer": {"weight": 4}}, prefer=[("a", "b"), ("c", "d"), ("a", "c")]
    )
    (term,) = build_terms(inst)
    # {a,b}: partner c of a is outside -> 1 half-pair; {c,d}: partner a of c outside -> 1
    assert term.team_penalty([0, 1], 0) + term.team_penalty([2, 3], 1) == 2  # one pair split
    objective, assignment = solve_exact(inst)
    assert objective == 4 * OBJECTIVE_SCALE  # one pair split, weight 4
    assert teams_of(inst, assignment) in (
        {frozenset("ab"), frozenset("cd")},
        {frozenset("ac"), frozenset("bd")},
    )


def test_avoid_is_hard_even_against_preferences() -> None:
    records = [learner(x) for x in "abcd"]
    inst = make_instance(
        records,
        {"prefer": {"weight": 100}},
        avoid=[("a", "b")],
        prefer=[("a", "c"), ("b", "c"), ("a", "d")],
    )
    objective, assignment = solve_exact(inst)
    assert assignment[0] != assignment[1]
    # best: {a,c}{b,d} or {a,d}{b,c}: two of the three pairs together, one split
    assert objective == 100 * OBJECTIVE_SCALE
