"""Teams below the common-time target with the fewest teams without time, by hand."""

from __future__ import annotations

from conftest import REF, learner, make_instance
from teamform.criteria import OverlapTerm, build_terms
from teamform.search.common_time import (
    fewest_below_target,
    fewest_below_with_time,
    fewest_without_time,
    target_plan,
)
from teamform.search.lns import LnsStats, atom_steps, improve
from teamform.search.local import TeamState
from teamform.validate import validate

# Teams of 4, 3 h needed in runs of 1 h. The a's share Monday 10-13, a3 also Wednesday
# 10-11; the b's and u Tuesday 10-13; the c's Wednesday 10-13; v only Monday 10-11.
# v's team must hold Monday learners, so a's, and has 1 h at most. Four a's, the b's
# with u: two teams at the target, and v's team with the c's has no common time. With
# every team given time, v takes three a's (1 h), a3 joins the c's (Wednesday 10-11,
# 1 h): two teams below the target
ROWS = [
    *((f"a{j}", "Mon 10:00-13:00") for j in range(3)),
    ("a3", "Mon 10:00-13:00; Wed 10:00-11:00"),
    *((f"b{j}", "Tue 10:00-13:00") for j in range(3)),
    ("u", "Tue 10:00-13:00"),
    *((f"c{j}", "Wed 10:00-13:00") for j in range(3)),
    ("v", "Mon 10:00-11:00"),
]


def _instance(copies: int = 1, skills: bool = False):  # type: ignore[no-untyped-def]
    rows = [(f"{lid}{c}", text) for c in "xyz"[:copies] for lid, text in ROWS]
    records = [
        learner(lid, availability=text, skills={"s": 1 + p % 5})
        for p, (lid, text) in enumerate(rows)
    ]
    crit: dict = {
        "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 6, "none": 12,
                    "reference_date": REF},
    }  # fmt: skip
    if skills:
        crit["skill_balance"] = {"weight": 10}
    return make_instance(records, crit, team={"size": 4, "min": 4, "max": 4})


def _counts(term: OverlapTerm, k: int, plan: list[int]) -> tuple[int, int]:
    members: list[list[int]] = [[] for _ in range(k)]
    for i, t in enumerate(plan):
        members[t].append(i)
    common = [term.common_slots(m) for m in members]
    return sum(c == 0 for c in common), sum(c < term.need for c in common)


def test_fewest_below_the_target_with_every_team_given_time_by_hand() -> None:
    inst = _instance()
    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    assert fewest_without_time(inst, term, time_limit=10).proven == 0
    # alone, the target packing allows one team below it (the one without time)
    assert fewest_below_target(inst, term, time_limit=10).proven == 1
    joint = fewest_below_with_time(inst, term, 0, time_limit=10)
    assert (joint.found, joint.proven, joint.optimal) == (2, 2, True)
    plan = target_plan(inst, term, joint, [0] * inst.n)
    assert plan is not None and _counts(term, inst.k, plan) == (0, 2)
    # one team allowed without time: one below the target again
    assert fewest_below_with_time(inst, term, 1, time_limit=10).proven == 1


def test_the_search_reaches_the_fewest_below_the_target_with_time_for_every_team() -> None:
    # three copies, skills too, from a plan that mixes the days. Across copies the
    # three v's can share one team with an a (1 h); of the a's left, eight make two
    # teams at the target and the three a3's one team with a c (Wednesday 10-11, 1 h),
    # the other eight c's two more: two teams below the target, none without time,
    # and no fewer (each team holding a v has 1 h, and so has any holding an a and a c).
    # The rounds must find such a plan
    inst = _instance(copies=3, skills=True)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    joint = fewest_below_with_time(inst, term, 0, time_limit=10)
    assert (joint.proven, joint.optimal) == (2, True)
    state = TeamState(inst, terms, [p % inst.k for p in range(inst.n)])
    assert _counts(term, inst.k, state.assign)[1] > 2
    best = [list(state.assign), state.total]

    def keep_best() -> list[int]:
        if state.total < best[1]:
            best[:] = [list(state.assign), state.total]
        return best[0]

    improve(state, terms, 0, deadline=float("inf"), units=40 * atom_steps(inst),
            stats=LnsStats(), keep_best=keep_best)  # fmt: skip
    assert validate(inst, best[0], terms).ok
    assert _counts(term, inst.k, best[0]) == (0, 2)
