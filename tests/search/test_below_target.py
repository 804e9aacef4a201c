"""Teams below the common-time target with the fewest teams without time, by hand."""

from __future__ import annotations

import itertools
import random

import pytest

from conftest import REF, improve_best, learner, make_instance
from teamform.criteria import OverlapTerm, build_terms
from teamform.search.common_time import (
    _complete_at_target,
    fewest_below_target,
    fewest_below_with_time,
    fewest_without_time,
    stranded_packing,
    stranded_teams,
    target_plan,
)
from teamform.search.lns import atom_steps
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


def test_the_stranded_learners_bound_the_teams_below_the_target_by_hand() -> None:
    # The c's and v share no 3 h with three others: every team holding one is below
    # the target, and a team with time holds them only where they share a window. The
    # c's share Wednesday, v only Monday: two teams, none without time, where the
    # learner bound and the target packing alone give one; the joint packing agrees
    inst = _instance()
    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    assert term.forced_teams()[0] == 1
    assert fewest_below_target(inst, term, time_limit=10).proven == 1
    assert stranded_teams(inst, term, 0) == 2
    # one team may lack time: v and the c's in it
    assert stranded_teams(inst, term, 1) == 1
    # three copies: nine c's share 3 h, so only the three v's are stranded (Monday):
    # one team, where the joint packing proves two (the a3's cost a team too)
    inst = _instance(copies=3)
    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    assert stranded_teams(inst, term, 0) == 1


def test_the_stranded_packing_meets_the_stranded_bound_by_hand() -> None:
    # The cover: v alone in a team on Monday, the c's in one on Wednesday. The c's team
    # is filled with a3, the only other learner free on Wednesday (10-11); v's with
    # three a's (Monday 10-11, the learners there in the fewest sets sharing 3 h); the
    # b's and u make the one team at the target. Two teams below it, none without time:
    # the stranded bound, met
    inst = _instance()
    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    packing = stranded_packing(inst, term, time_limit=10)
    assert packing is not None and packing.found == stranded_teams(inst, term, 0) == 2
    teams = {frozenset(inst.ids[i] for i in team) for team in packing.teams}
    assert teams == {
        frozenset({"c0x", "c1x", "c2x", "a3x"}),
        frozenset({"vx", "a0x", "a1x", "a2x"}),
        frozenset({"b0x", "b1x", "b2x", "ux"}),
    }
    plan = target_plan(inst, term, packing, [0] * inst.n)
    assert plan is not None and _counts(term, inst.k, plan) == (0, 2)
    # v may not team up with any a: no team of Monday learners holds it, no cover fills
    avoid = [(f"v{c}", f"a{j}{c}") for c in "x" for j in range(4)]
    records = [
        learner(lid, availability=text, skills={"s": 1 + p % 5})
        for p, (lid, text) in enumerate((f"{lid}x", text) for lid, text in ROWS)
    ]
    crit: dict = {
        "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 6, "none": 12,
                    "reference_date": REF},
    }  # fmt: skip
    apart = make_instance(records, crit, team={"size": 4, "min": 4, "max": 4}, avoid=avoid)
    term = next(t for t in build_terms(apart) if isinstance(t, OverlapTerm))
    assert stranded_packing(apart, term, time_limit=10) is None


def test_a_chain_of_swaps_packs_the_learners_a_target_packing_left() -> None:
    # Teams of 2, 3 h. The packing holds a1 (Monday and Tuesday) with a2 (Monday) and
    # leaves x (Monday) and y (Tuesday), who share no time: one team short of the
    # target. x takes a1's place (Monday with a2), a1 joins y on Tuesday: both teams
    # at the target. With x and a2 apart, x takes a2's place and a2 shares nothing
    # with y: no chain (x stays where it went, a1 keeps its only partner)
    rows = [
        ("a1", "Mon 10:00-13:00; Tue 10:00-13:00"),
        ("a2", "Mon 10:00-13:00"),
        ("x", "Mon 10:00-13:00"),
        ("y", "Tue 10:00-13:00"),
    ]
    records = [learner(lid, availability=text) for lid, text in rows]
    crit: dict = {
        "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 6, "none": 12,
                    "reference_date": REF},
    }  # fmt: skip
    for avoid, placed in (((), True), ((("x", "a2"),), False)):
        inst = make_instance(records, crit, team={"size": 2, "min": 2, "max": 2}, avoid=avoid)
        term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
        ix = {lid: i for i, lid in enumerate(inst.ids)}
        teams = [[ix["a1"], ix["a2"]]]
        left = [ix["x"], ix["y"]]
        done = _complete_at_target(inst, term, teams, left, {(2, 2): 1}, random.Random(0))
        assert (done is not None) == placed
        if done is None:
            assert teams == [[ix["a1"], ix["a2"]]]  # the packing as it was
            continue
        made = [*teams, *(team for _, _, team in done)]
        assert sorted(sorted(inst.ids[i] for i in team) for team in made) == [
            ["a1", "y"],
            ["a2", "x"],
        ]
        assert all(term.common_slots(team) >= term.need for team in made)


def _fewest_below_by_brute_force(inst, term: OverlapTerm, without_time: int) -> int:  # type: ignore[no-untyped-def]
    """The fewest teams below the target over every split of the cohort into teams of
    four with at most ``without_time`` teams without common time."""
    best = inst.k + 1

    def split(left: list[int], teams: list[list[int]]) -> None:
        nonlocal best
        if not left:
            common = [term.common_slots(team) for team in teams]
            if sum(c == 0 for c in common) <= without_time:
                best = min(best, sum(c < term.need for c in common))
            return
        first, rest = left[0], left[1:]
        for mates in itertools.combinations(rest, 3):
            split([i for i in rest if i not in mates], [*teams, [first, *mates]])

    split(list(range(inst.n)), [])
    return best


def test_the_stranded_bound_never_exceeds_the_fewest_below_the_target() -> None:
    # twelve learners, each free in one or two of six stretches of the week (1-3 h
    # each): the bound against every split into teams of four, for each number of
    # teams allowed without time; on some it must be reached, and on some pass the
    # learner bound
    stretches = [
        "Mon 10:00-13:00", "Mon 12:00-13:00", "Tue 09:00-11:00", "Tue 10:00-13:00",
        "Wed 10:00-11:00", "Thu 10:00-13:00",
    ]  # fmt: skip
    rng = random.Random(7)
    reached = above = 0
    for _ in range(12):
        rows = []
        for j in range(12):
            chosen = rng.sample(stretches, rng.randint(1, 2))
            rows.append((f"l{j}", "; ".join(sorted(chosen))))
        records = [learner(lid, availability=text) for lid, text in rows]
        crit: dict = {"overlap": {"weight": 40, "hours": 3, "block": 1, "reference_date": REF}}
        inst = make_instance(records, crit, team={"size": 4, "min": 4, "max": 4})
        term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
        for allowed in range(inst.k + 1):
            exact = _fewest_below_by_brute_force(inst, term, allowed)
            bound = stranded_teams(inst, term, allowed)
            assert bound <= exact
            reached += bound == exact
            above += bound > term.forced_teams()[0]
    assert reached > 0 and above > 0


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
    best = improve_best(state, terms, 0, deadline=float("inf"), units=40 * atom_steps(inst))
    assert validate(inst, best, terms).ok
    assert _counts(term, inst.k, best) == (0, 2)


def test_the_packing_near_a_plan_keeps_its_teams_at_the_target() -> None:
    inst = _instance()
    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    home = {"a": 0, "b": 1, "u": 1, "c": 2, "v": 2}
    plan = [home[lid[0]] for lid in inst.ids]
    assert _counts(term, inst.k, plan) == (1, 1)
    # one team may lack time: the plan is a fewest packing already, and stays as it is
    joint = fewest_below_with_time(inst, term, 1, time_limit=10, near=plan)
    assert joint.found == 1
    assert target_plan(inst, term, joint, plan) == plan
    # none may: v and three a's, a3 with the c's; the b's and u stay whole in team 1
    joint = fewest_below_with_time(inst, term, 0, time_limit=10, near=plan)
    moved = target_plan(inst, term, joint, plan)
    assert moved is not None and _counts(term, inst.k, moved) == (0, 2)
    assert [inst.ids[i] for i in range(inst.n) if moved[i] == 1] == ["b0x", "b1x", "b2x", "ux"]
    a3, v = inst.ids.index("a3x"), inst.ids.index("vx")
    assert moved[a3] == moved[inst.ids.index("c0x")] and moved[v] == moved[0]
    # the same within a neighbourhood of teams 0 and 2 alone: team 1 is not touched
    hood = fewest_below_with_time(inst, term, 0, time_limit=10, near=plan, teams=[0, 2])
    assert (hood.found, hood.proven) == (2, 2)
    local = target_plan(inst, term, hood, plan, teams=[0, 2])
    assert local is not None and _counts(term, inst.k, local) == (0, 2)
    assert all(local[i] == 1 for i in range(inst.n) if plan[i] == 1)


def test_the_steep_moves_never_swap_away_a_team_at_the_target() -> None:
    # The a's (skill 5) share Monday 10-13, the b's (skill 1) only 10-12, sixteen
    # learners of skill 3 make four more teams at the target. From the a's and the b's
    # apart (skills 8 points off each, at weight 40 320 a team), a swap of an a and a b
    # evens both teams out (320 gained) and takes the a's below the target: 1 h short
    # and the 6 h step, 280. The objective takes it; the moves' steep step, twice the
    # costliest team (640, 16 h) since a team just below the target outweighs two
    # average teams, does not
    from teamform.search.lns import steep_overlap, time_worth_it

    rows = [
        *((f"a{j}", "Mon 10:00-13:00", 5) for j in range(4)),
        *((f"b{j}", "Mon 10:00-12:00", 1) for j in range(4)),
        *((f"m{j}", "Mon 10:00-13:00", 3) for j in range(16)),
    ]
    records = [learner(lid, availability=text, skills={"s": s}) for lid, text, s in rows]
    crit = {
        "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 6, "none": 12,
                    "reference_date": REF},
        "skill_balance": {"weight": 40},
    }  # fmt: skip
    inst = make_instance(records, crit, team={"size": 4, "min": 4, "max": 4})
    terms = build_terms(inst)
    overlap = next(t for t in terms if isinstance(t, OverlapTerm))
    home = {"a": 0, "b": 1}
    state = TeamState(inst, terms, [home.get(lid[0], 2 + int(lid[1:]) // 4) for lid in inst.ids])
    assert time_worth_it(state, overlap, overlap.need - 1)
    steep = steep_overlap(state, overlap)
    assert steep is not None and steep.below_step == 64 > overlap.below_step
    moving = TeamState(inst, [steep if t is overlap else t for t in terms], state.assign)
    plain_takes = steep_takes = 0
    for i in range(inst.n):
        for j in range(i + 1, inst.n):
            if state.assign[i] == state.assign[j]:
                continue
            was = [overlap.common_slots(state.members[state.assign[x]]) for x in (i, j)]
            delta, new_t, new_u, _, _ = moving.swap_delta(i, j)
            now = [overlap.common_slots(new) for new in (new_t, new_u)]
            if any(w >= overlap.need > c for w, c in zip(was, now, strict=True)):
                steep_takes += delta < 0
                plain_takes += state.swap_delta(i, j)[0] < 0
    assert plain_takes > 0 and steep_takes == 0
    assert validate(inst, state.assign, terms).objective == state.total


def test_the_search_starts_from_the_stranded_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on cohorts of more than TARGET_WHOLE_TEAMS teams (no packing of the whole plan
    # for the target), three copies, each copy's v with three a's and its a3 with the
    # c's: six teams below the target, every team with time. The stranded learners are
    # the three v's (Monday 10-11, nine c's share Wednesday 10-13), one team; the start
    # regroups the plan around it before any move: two teams below the target, none
    # without time, the fewest (see above), with a budget of one step (no annealing to
    # find it move by move)
    import teamform.search.lns as lns

    monkeypatch.setattr(lns, "TARGET_WHOLE_TEAMS", 0)
    monkeypatch.setattr(lns, "ATOM_STEPS", 1)
    inst = _instance(copies=3, skills=True)
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    home = {"a": 0, "v": 0, "b": 1, "u": 1, "c": 2}
    plan = [3 * "xyz".index(lid[-1]) + home[lid[0]] for lid in inst.ids]
    for c in "xyz":  # a3 joins the c's of its copy
        plan[inst.ids.index(f"a3{c}")] = 3 * "xyz".index(c) + 2
    state = TeamState(inst, terms, plan)
    assert _counts(term, inst.k, state.assign) == (0, 6)
    best = improve_best(state, terms, 0, deadline=float("inf"), units=1)
    assert validate(inst, best, terms).ok
    assert _counts(term, inst.k, best) == (0, 2)


def test_the_whole_plan_is_packed_in_the_round_a_team_repair_gained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two parts. The x's share Monday 10-13, the y's 11-14: teams of two x's and two
    # y's have 2 h, and the repair of one of them with the other (a neighbourhood of
    # two teams) makes both whole, at the target. Four kinds share a day's 3 h each and
    # Friday 10-11: four teams holding one of each have 1 h, and no two of them make a
    # team at the target; the packing of the whole plan regroups them all. After the
    # repair that gained, the round goes on to that packing before annealing again: at
    # 120 learners, seed 1, the rounds after it had used the repairs' share, and 9 teams
    # stayed below the target where the packing finds the proven 8
    import teamform.search.common_time as ct
    import teamform.search.lns as lns
    from teamform.search.compiled import CompiledLocalSearch

    monkeypatch.setattr(lns, "TIME_REPAIR_TEAMS", 2)
    monkeypatch.setattr(lns, "ATOM_STEPS", 1)
    monkeypatch.setattr(lns, "EPOCH_MAX", 1)
    days = ["Wed 10:00-13:00", "Wed 14:00-17:00", "Thu 10:00-13:00", "Thu 14:00-17:00"]
    rows = [
        *((f"x{j}", "Mon 10:00-13:00") for j in range(4)),
        *((f"y{j}", "Mon 11:00-14:00") for j in range(4)),
        *((f"{'abcd'[d]}{j}", f"{days[d]}; Fri 10:00-11:00") for d in range(4) for j in range(4)),
    ]
    records = [learner(lid, availability=text) for lid, text in rows]
    crit = {
        "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 6, "none": 12,
                    "reference_date": REF},
    }  # fmt: skip
    inst = make_instance(records, crit, team={"size": 4, "min": 4, "max": 4})
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    home = {"x0": 0, "x1": 0, "y0": 0, "y1": 0, "x2": 1, "x3": 1, "y2": 1, "y3": 1}
    plan = [home.get(lid, 2 + int(lid[1:])) for lid in inst.ids]
    state = TeamState(inst, terms, plan)
    assert _counts(term, inst.k, state.assign) == (0, 6)
    events: list[str] = []

    def repair(*args, **kwargs):  # type: ignore[no-untyped-def]
        gained = ct_repair(*args, **kwargs)
        events.append("gained" if gained and kwargs.get("target") else "repair")
        return gained

    def packing(*args, **kwargs):  # type: ignore[no-untyped-def]
        events.append("whole" if kwargs.get("teams") is None else "part")
        return ct_packing(*args, **kwargs)

    def run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        events.append("anneal")
        return ct_run(self, *args, **kwargs)

    ct_repair, ct_packing = ct.time_repair, ct.fewest_below_with_time
    ct_run = CompiledLocalSearch.run
    monkeypatch.setattr(ct, "time_repair", repair)
    monkeypatch.setattr(ct, "fewest_below_with_time", packing)
    monkeypatch.setattr(CompiledLocalSearch, "run", run)
    best = improve_best(state, terms, 0, deadline=float("inf"), units=40)
    assert "gained" in events
    after = events[events.index("gained") :]
    assert "whole" in after and "anneal" not in after[: after.index("whole")]
    assert validate(inst, best, terms).ok
    assert _counts(term, inst.k, best) == (0, 0)


def test_the_target_plan_parts_avoid_pairs_inside_packed_teams() -> None:
    # Eight learners sharing Monday 10-13, teams of 4, s0 and s1 must not meet. The
    # packing ignores avoid pairs: its teams may hold both. The plan swaps one of them
    # with a member of the other team packed in the same set: every team at the target
    # and no rule broken
    from teamform.search.common_time import Packing

    records = [learner(f"s{j}", availability="Mon 10:00-13:00") for j in range(8)]
    crit = {
        "overlap": {"weight": 40, "hours": 3, "block": 1, "below": 6, "none": 12,
                    "reference_date": REF},
    }  # fmt: skip
    inst = make_instance(records, crit, team={"size": 4, "min": 4, "max": 4}, avoid=[("s0", "s1")])
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    s0, s1 = inst.ids.index("s0"), inst.ids.index("s1")
    together = [s0, s1, *(i for i in range(inst.n) if i not in (s0, s1))]
    packing = Packing(
        0, 0, True, (frozenset(range(inst.n)),), (0,) * inst.n,
        (tuple(together[:4]), tuple(together[4:])),
    )  # fmt: skip
    plan = target_plan(inst, term, packing, [0] * 4 + [1] * 4)
    assert plan is not None and plan[s0] != plan[s1]
    assert validate(inst, plan, terms).ok
    assert _counts(term, inst.k, plan) == (0, 0)
