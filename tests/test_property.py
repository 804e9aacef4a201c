"""Property: every assignment the search returns passes the independent validator.

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
