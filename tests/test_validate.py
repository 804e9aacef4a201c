"""The solver-independent validator: hard rules and objective from an assignment alone."""

from conftest import learner, make_instance
from teamform.criteria import OBJECTIVE_SCALE
from teamform.validate import validate


def base():
    records = [
        learner("a", skills={"x": 1}, motivation="intrinsic", section="S1"),
        learner("b", skills={"x": 5}, section="S1"),
        learner("c", skills={"x": 3}, motivation="intrinsic", section="S2"),
        learner("d", skills={"x": 3}, section="S2"),
    ]
    return make_instance(
        records,
        {"skill_balance": {"weight": 1}, "motivation": {"weight": 2, "hard": True}},
        avoid=[("c", "d")],
    )


def test_sections_sizes_and_avoid_are_checked() -> None:
    inst = base()
    # team 0 belongs to section S1, team 1 to S2
    assert inst.team_section.tolist() == [0, 1]
    ok = validate(inst, [0, 0, 1, 1])
    assert not ok.ok and any("avoid pair c,d" in v for v in ok.violations)
    mixed = validate(inst, [0, 1, 0, 1])
    assert any("mixes sections" in v for v in mixed.violations)
    sizes = validate(inst, [0, 0, 0, 1])
    assert any("4 members" not in v and "3 members" in v for v in sizes.violations)
    assert not validate(inst, [0, 0, 1]).ok
    assert not validate(inst, [0, 0, 1, 7]).ok


def test_objective_rebuilt_from_penalties() -> None:
    records = [
        learner(k, skills={"x": v}, motivation="intrinsic" if k in "ab" else "imposed")
        for k, v in zip("abcd", (1, 2, 3, 5), strict=True)
    ]
    inst = make_instance(records, {"skill_balance": {"weight": 2}, "motivation": {"weight": 3}})
    check = validate(inst, [0, 0, 1, 1])
    assert check.ok
    # skill: |3 - 5.5| + |8 - 5.5| = 5 points -> 500 hundredths x 2
    # motivation: team 0 has 2 intrinsic (range 1-1): 1 above; team 1: 1 below -> 2 x 3 x 100
    assert check.penalties == {"skill_balance": 500, "motivation": 2}
    assert check.objective == 5 * 2 * OBJECTIVE_SCALE + 2 * 3 * OBJECTIVE_SCALE


def test_hard_criterion_breach_is_a_violation() -> None:
    inst = base()
    # a (intrinsic) and b in S1: fine; c (intrinsic), d in S2 would break avoid anyway
    check = validate(inst, [0, 0, 1, 1])
    assert not check.ok
    records = [learner(k, motivation="intrinsic" if k in "ab" else "imposed") for k in "abcd"]
    inst2 = make_instance(records, {"motivation": {"hard": True}})
    bad = validate(inst2, [0, 0, 1, 1])
    assert any("motivation" in v and "(hard)" in v for v in bad.violations)
    assert validate(inst2, [0, 1, 0, 1]).ok
