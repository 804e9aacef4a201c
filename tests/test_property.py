"""Property: every assignment the search returns passes the solver-independent validator.

Cohorts come with every criterion (projects included), avoid and preferred pairs,
and pins.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REF, learner, make_instance
from teamform import InputError, Pins, Status
from teamform.criteria import OBJECTIVE_SCALE
from teamform.solve import solve_instance
from teamform.validate import validate

ZONES = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kathmandu", "Australia/Sydney"]
PROJECTS = ["P", "Q", "R", "S", "T", "U"]
WINDOWS = ["Mon-Fri 18:00-21:00", "Sat 09:00-12:00", "Tue,Thu 06:00-08:30", "daily 12:00-13:00", ""]


@st.composite
def cohorts(draw: st.DrawFn):
    n = draw(st.integers(4, 16))
    records = [
        learner(
            f"r{i}",
            timezone=draw(st.sampled_from(ZONES)),
            availability=draw(st.sampled_from(WINDOWS)),
            skills={"a": draw(st.integers(1, 5)), "b": draw(st.integers(1, 5))},
            motivation=draw(st.sampled_from(["intrinsic", "imposed"])),
            section=draw(st.sampled_from(["", "", "", "B"])) if n >= 10 else "",
            role=draw(st.sampled_from(["x", "y", "z"])),
            projects=";".join(draw(st.lists(st.sampled_from(PROJECTS), max_size=3, unique=True))),
        )
        for i in range(n)
    ]
    ids = [r["id"] for r in records]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=n // 3))
    avoid = sorted({(a, b) if a < b else (b, a) for a, b in pairs if a != b})
    more = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=n // 3))
    prefer = sorted({(a, b) if a < b else (b, a) for a, b in more if a != b} - set(avoid))
    crit = {
        "skill_balance": {"weight": draw(st.integers(0, 5))},
        "motivation": {"weight": draw(st.integers(0, 5))},
        "prefer": {"weight": 2},
        "overlap": {
            "weight": 5,
            "hours": draw(st.sampled_from([0.5, 1, 2])),
            "reference_date": REF,
        },
        "category": [
            {
                "column": "role",
                "rule": draw(st.sampled_from(["distribute", "cluster", "no_isolation"])),
                "weight": 1,
            }
        ],
        "skill_coverage": {"weight": 3, "rules": [{"skill": "a", "level": 4}]},
        "projects": {
            "names": PROJECTS,
            "weight": draw(st.integers(0, 3)),
            "capacity": draw(st.integers(1, 3)),
            "hard": draw(st.sampled_from([False, False, True])),
        },
    }
    size = draw(st.integers(2, 4))
    balanced = draw(st.booleans())
    team = {"size": size, "balanced": balanced, "min": max(1, size - 1), "max": size + 1}
    strategy = draw(st.sampled_from(["exact", "lns"]))
    # pins: a few learners fixed to teams that exist whatever the layout, a
    # keep-together pair, perhaps a fixed team
    k_min = -(-n // (size + 1))
    pinned = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
    teams = {lid: draw(st.integers(1, k_min)) for lid in pinned}
    group = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
    fixed = [teams[pinned[0]]] if pinned and draw(st.booleans()) else []
    pins = Pins(teams=teams, groups=[group] if len(group) == 2 else [], fixed=fixed)
    return records, avoid, prefer, crit, team, strategy, pins


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_returned_assignments_pass_the_validator(case) -> None:  # type: ignore[no-untyped-def]
    records, avoid, prefer, crit, team, strategy, pins = case
    try:
        inst = make_instance(records, crit, team=team, avoid=avoid, prefer=prefer, pins=pins)
    except InputError as exc:  # sizes the roster cannot meet are an input error, not a solve
        assert "team size impossible" in str(exc) or "capacities hold only" in str(exc)
        return
    result = solve_instance(inst, time_limit=0.5, seed=1, strategy=strategy)
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        assignment = [result.assignment[i] - 1 for i in inst.ids]
        assert inst.projects is not None
        projects = [inst.projects.names.index(t.project or "") for t in result.teams]
        check = validate(inst, assignment, projects=projects)
        assert check.ok, check.violations
        assert round(result.objective * OBJECTIVE_SCALE) == check.objective
        assert result.search_objective is None or result.search_objective == result.objective
    else:
        # not solved: dense avoid lists can make a tiny cohort infeasible; say so
        assert result.status in (Status.INFEASIBLE, Status.UNKNOWN)
        assert result.conflicts or result.violations or result.status == Status.UNKNOWN


def _planted(inst, rng):  # type: ignore[no-untyped-def]
    """A plan meeting team sizes and sections, drawn at random (not by the search)."""
    plan = [-1] * inst.n
    for s in range(len(inst.section_names)):
        learners = [i for i in range(inst.n) if inst.section[i] == s]
        teams = [t for t in range(inst.k) if inst.team_section[t] == s]
        rng.shuffle(learners)
        room = {t: int(inst.team_lo[t]) for t in teams}
        extra = len(learners) - sum(room.values())
        while extra > 0:
            t = rng.choice([t for t in teams if room[t] < inst.team_hi[t]])
            room[t] += 1
            extra -= 1
        for t in teams:
            for _ in range(room[t]):
                plan[learners.pop()] = t
    return plan


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(), st.randoms(use_true_random=False))
def test_cohorts_built_feasible_come_back_valid(case, rng) -> None:  # type: ignore[no-untyped-def]
    """Hard rules drawn to hold for a plan planted at random: the search must find a
    valid plan (its raw answer, before the validator finishes it), never UNKNOWN."""
    from reference import assert_valid_search, reference_team_penalties
    from teamform.criteria import build_terms
    from teamform.solve import search

    records, _, prefer, crit, team, strategy, _ = case
    crit["projects"]["hard"] = False
    try:
        plain = make_instance(records, crit, team=team)
    except InputError:
        return
    plan = _planted(plain, rng)
    # each team a project, within capacities
    assert plain.projects is not None
    left = plain.projects.capacity.tolist()
    projects = []
    for _ in range(plain.k):
        p = rng.choice([p for p, c in enumerate(left) if c > 0])
        left[p] -= 1
        projects.append(p)
    penalties = reference_team_penalties(plain, plan, projects)
    # criteria the planted plan meets become hard rules, half of the time
    for name in ("motivation", "overlap", "skill_coverage"):
        if rng.random() < 0.5 and not sum(penalties[name]):
            crit[name]["hard"] = True
    rule = crit["category"][0]
    if rng.random() < 0.5 and not sum(penalties[f"category:role:{rule['rule']}"]):
        rule["hard"] = True
    ids = plain.ids
    pairs = [
        (a, b)
        for a in range(plain.n)
        for b in range(a + 1, plain.n)
        if plan[a] != plan[b] and not {(ids[a], ids[b]), (ids[b], ids[a])} & set(prefer)
    ]
    avoid = [(ids[a], ids[b]) for a, b in rng.sample(pairs, min(len(pairs), plain.n // 2))]
    pinned = rng.sample(range(plain.n), min(2, plain.n))
    together = [
        [ids[a], ids[b]]
        for a in range(plain.n)
        for b in range(a + 1, plain.n)
        if plan[a] == plan[b]
    ][:1]
    pins = Pins(teams={ids[i]: plan[i] + 1 for i in pinned}, groups=together)
    inst = make_instance(records, crit, team=team, avoid=avoid, prefer=prefer, pins=pins)
    if inst.team_lo.tolist() != plain.team_lo.tolist():
        # pins may give the smaller teams' sizes to other teams: then without pins
        inst = make_instance(records, crit, team=team, avoid=avoid, prefer=prefer)
    assert (inst.k, inst.team_lo.tolist()) == (plain.k, plain.team_lo.tolist())
    terms = build_terms(inst)
    planted = validate(inst, plan, terms, projects=projects)
    assert planted.ok, planted.violations  # so the cohort is feasible
    found = search(inst, terms, time_limit=0.5, seed=1, strategy=strategy)
    assert_valid_search(inst, terms, found)
    result = solve_instance(inst, time_limit=0.5, seed=1, strategy=strategy)
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE) and result.valid
    assert result.defects == []
