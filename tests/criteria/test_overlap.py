"""Time-zone overlap alone, including daylight-saving time and odd offsets."""

import numpy as np
import pytest

from conftest import learner, make_instance, solve_exact, teams_of
from teamform.criteria import OBJECTIVE_SCALE, OverlapTerm, build_terms
from teamform.criteria.overlap import overlap_term


def overlap(hours: float, block: float = 1.0, ref: str = "2026-01-12", hard: bool = False):
    return {
        "overlap": {
            "weight": 1,
            "hours": hours,
            "block": block,
            "reference_date": ref,
            "hard": hard,
        }
    }


def test_optimum_and_bound_by_hand() -> None:
    records = [
        learner("a", availability="Mon 10:00-13:00"),
        learner("b", availability="Mon 10:00-13:00"),
        learner("c", availability="Mon 11:00-12:00"),
        learner("d", availability="Mon 20:00-22:00"),
    ]
    inst = make_instance(records, overlap(2))
    (term,) = build_terms(inst)
    assert isinstance(term, OverlapTerm)
    # {a,b}: 3 h (0 short), {c,d}: 0 h (2 short) = 2 h; other pairings: 1 + 2 = 3 h short
    assert term.team_penalty([0, 1], 0) == 0
    assert term.team_penalty([2, 3], 1) == 8  # quarter-hours
    assert term.team_penalty([0, 2], 0) == 4
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ab"), frozenset("cd")}
    assert objective == 2 * OBJECTIVE_SCALE
    # learner bounds: d shares nothing with anyone (2 h), c at best 1 h -> bound 2 h here
    assert term.lower_bound() == 8


def test_short_runs_do_not_count() -> None:
    records = [
        learner("a", availability="Mon 10:00-10:30; Mon 11:00-12:00"),
        learner("b", availability="Mon 09:00-13:00"),
    ]
    inst = make_instance(records, overlap(1.5, block=1))
    (term,) = build_terms(inst)
    assert term.common_slots([0, 1]) == 4  # only the 1-hour run counts
    objective, _ = solve_exact(inst)
    assert objective == OBJECTIVE_SCALE // 2  # 0.5 h short, weight 1


def test_daylight_saving_time_changes_overlap() -> None:
    # London 18-20 local and New York 14-16 local: in January New York is UTC-5
    # (19-21 UTC): 1 h common; on 16 March 2026 the US is on summer time (UTC-4)
    # but the UK is not yet: 18-20 UTC both, 2 h common
    records = [
        learner("l", timezone="Europe/London", availability="Mon 18:00-20:00"),
        learner("n", timezone="America/New_York", availability="Mon 14:00-16:00"),
    ]
    winter = make_instance(records, overlap(2, ref="2026-01-12"))
    spring = make_instance(records, overlap(2, ref="2026-03-16"))
    assert build_terms(winter)[0].team_penalty([0, 1], 0) == 4
    assert build_terms(spring)[0].team_penalty([0, 1], 0) == 0


def test_quarter_hour_offset() -> None:
    # Kathmandu (+05:45) 20:00-22:00 is 14:15-16:15 UTC; with 14:00-16:00 UTC: 1.75 h
    records = [
        learner("k", timezone="Asia/Kathmandu", availability="Mon 20:00-22:00"),
        learner("u", timezone="UTC", availability="Mon 14:00-16:00"),
    ]
    inst = make_instance(records, overlap(2, block=0.25))
    (term,) = build_terms(inst)
    assert term.common_slots([0, 1]) == 7
    assert term.team_penalty([0, 1], 0) == 1
    objective, _ = solve_exact(inst)
    assert objective == OBJECTIVE_SCALE // 4


def test_runs_wrapping_the_week_end_count_once() -> None:
    # Sunday 23:00 to Monday 01:00 UTC is one 2-hour run across the week boundary
    records = [
        learner("a", availability="Sun 23:00-24:00; Mon 00:00-01:00"),
        learner("b", availability="Sun 22:00-24:00; Mon 00:00-02:00"),
    ]
    inst = make_instance(records, overlap(2, block=2))
    objective, _ = solve_exact(inst)
    assert objective == 0


def test_pair_aware_bound_by_hand() -> None:
    # three learners free one hour each on different days, three free Mon-Wed 9-12;
    # teams of two, 2 h needed: each lone-hour learner costs its team 1 h at best, and two
    # of them together would share nothing (2 h short). Sorting alone bounds 2 h; the pair
    # argument gives 3 h, which the optimum (each with a Mon-Wed learner) attains.
    records = [
        learner("h1", availability="Mon 10:00-11:00"),
        learner("h2", availability="Tue 10:00-11:00"),
        learner("h3", availability="Wed 10:00-11:00"),
        *(learner(f"e{k}", availability="Mon-Wed 09:00-12:00") for k in range(3)),
    ]
    inst = make_instance(records, overlap(2))
    (term,) = build_terms(inst)
    assert term.learner_bounds().tolist() == [4, 4, 4, 0, 0, 0]
    assert term.lower_bound() == 12
    objective, _ = solve_exact(inst)
    assert objective == 3 * OBJECTIVE_SCALE


def stepped(hours: float, below: float = 0.0, none: float = 0.0, block: float = 0.25):
    crit = overlap(hours, block=block)
    crit["overlap"].update(below=below, none=none)
    return crit


# a, b free Mon 10-12; c Mon 11:15-12 (45 min with a and b); d Mon 10-11 (1 h with a and
# b), nothing with c. Teams of two, 2 h needed (8 slots):
#   {a,b} 0 short + {c,d} no common time, 8 short   = 8 slots
#   {a,c} 5 short + {b,d} 4 short (or {a,d}, {b,c})  = 9 slots
STEP_RECORDS = [
    learner("a", availability="Mon 10:00-12:00"),
    learner("b", availability="Mon 10:00-12:00"),
    learner("c", availability="Mon 11:15-12:00"),
    learner("d", availability="Mon 10:00-11:00"),
]


def test_plain_shortfall_accepts_a_team_without_common_time() -> None:
    inst = make_instance(STEP_RECORDS, stepped(2))
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ab"), frozenset("cd")}
    assert objective == 2 * OBJECTIVE_SCALE


def test_none_step_keeps_every_team_some_common_time() -> None:
    inst = make_instance(STEP_RECORDS, stepped(2, none=1))
    (term,) = build_terms(inst)
    assert term.team_penalty([2, 3], 1) == 8 + 4  # no common time: 1 h more
    assert term.team_penalty([0, 2], 0) == 5  # 45 min common: the plain shortfall
    assert term.team_penalty([0, 1], 0) == 0
    objective, assignment = solve_exact(inst)
    # 9 slots now beat 8 + 4: c and d each join one of a, b
    assert frozenset("cd") not in teams_of(inst, assignment)
    assert objective == 9 * OBJECTIVE_SCALE // 4
    # nobody is forced into a team without common time, nor below the target... except
    # that c's best team has 45 min: one team must be below the target
    assert term.forced_teams() == (1, 0)
    assert term.lower_bound() <= 9


def test_below_step_gathers_the_shortfall_in_few_teams() -> None:
    # c now free Mon 10-11 too: {a,c} and {b,d} are 4 short each (8 slots, two teams
    # below the target), as is {a,b} + {c,d} (8 slots, one team below)
    records = [*STEP_RECORDS[:2], learner("c", availability="Mon 11:00-12:00"), STEP_RECORDS[3]]
    inst = make_instance(records, stepped(2, below=1))
    (term,) = build_terms(inst)
    assert term.team_penalty([0, 2], 0) == 4 + 4
    assert term.team_penalty([2, 3], 1) == 8 + 4
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ab"), frozenset("cd")}
    assert objective == 3 * OBJECTIVE_SCALE


def test_steps_in_the_bound_by_hand() -> None:
    # the first test's instance: d shares nothing with anyone, c has 1 h at best; with
    # steps of 1 h each, one team must be below the target and one must have no common
    # time: 8 slots plain + 4 + 4 = 16, which {a,b} + {c,d} attains
    records = [
        learner("a", availability="Mon 10:00-13:00"),
        learner("b", availability="Mon 10:00-13:00"),
        learner("c", availability="Mon 11:00-12:00"),
        learner("d", availability="Mon 20:00-22:00"),
    ]
    inst = make_instance(records, stepped(2, below=1, none=1, block=1))
    (term,) = build_terms(inst)
    assert term.forced_teams() == (1, 1)
    assert term.lower_bound() == 16
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ab"), frozenset("cd")}
    assert objective == 4 * OBJECTIVE_SCALE


def test_steps_need_a_target() -> None:
    inst = make_instance(STEP_RECORDS, stepped(0, below=1, none=1))
    (term,) = build_terms(inst)
    assert term.team_penalty([2, 3], 1) == 0 and term.lower_bound() == 0


def test_team_bound_sees_groups_too_small_for_whole_teams() -> None:
    # two groups of three, free on different days; teams of exactly two. Every learner has
    # a partner with the full 2 h, so no learner alone is bound to be short; but each group
    # of three leaves one learner over, and those two share a team with nothing in common.
    records = [
        *(learner(f"m{k}", availability="Mon 10:00-13:00") for k in range(3)),
        *(learner(f"t{k}", availability="Tue 10:00-13:00") for k in range(3)),
    ]
    inst = make_instance(records, overlap(2), team={"size": 2, "min": 2, "max": 2})
    (term,) = build_terms(inst)
    assert isinstance(term, OverlapTerm)
    assert term.learner_bounds().tolist() == [0] * 6
    assert term.layer_bound(0) == 8  # one team 2 h (8 quarter-hours) short
    assert term.lower_bound() == 8
    objective, _ = solve_exact(inst)
    assert objective == 2 * OBJECTIVE_SCALE


def test_team_bound_counts_levels_of_shortfall() -> None:
    # a lone learner overlapping the others by one hour: teams short by more than 1 h
    # are avoidable, short by more than 0 are not, and the level argument adds them up
    records = [
        *(learner(f"a{k}", availability="Mon 10:00-13:00") for k in range(2)),
        learner("x", availability="Mon 12:00-14:00"),
        learner("y", availability="Mon 12:00-14:00"),
        learner("z", availability="Wed 10:00-13:00"),
        learner("w", availability="Wed 10:00-13:00"),
        learner("v", availability="Wed 10:00-13:00"),
        learner("u", availability="Mon 12:30-13:00, Wed 12:30-13:00"),
    ]
    inst = make_instance(records, overlap(2), team={"size": 2, "min": 2, "max": 2})
    (term,) = build_terms(inst)
    objective, _ = solve_exact(inst)
    assert term.coefficient * term.lower_bound() <= objective


@pytest.mark.parametrize("seed", range(12))
def test_bound_never_exceeds_the_exact_optimum(seed: int) -> None:
    # random tiny cohorts from a few windows (some rare, some wide), teams of two to four
    rng = np.random.default_rng(seed)
    windows = [
        "Mon 09:00-12:00",
        "Mon 10:00-11:30",
        "Mon 11:00-14:00",
        "Tue 18:00-21:00",
        "Tue 19:00-20:00",
        "Sat 10:00-12:00, Tue 18:00-19:00",
        "Mon-Tue 09:00-21:00",
        "Sun 23:00-24:00, Mon 00:00-01:00",
    ]
    n = int(rng.integers(6, 10))
    records = [
        learner(f"r{i}", availability=windows[int(rng.integers(len(windows)))]) for i in range(n)
    ]
    size = int(rng.integers(2, 4))
    team = {"size": size, "min": max(2, size - 1), "max": size + 1}
    inst = make_instance(records, overlap(float(rng.choice([1.0, 2.0, 3.0]))), team=team)
    (term,) = build_terms(inst)
    objective, _ = solve_exact(inst)
    assert term.coefficient * term.lower_bound() <= objective
    assert term.coefficient * term.layer_bound(0) <= objective


def brute_force_optimum(term: OverlapTerm) -> int:
    """Least total penalty over every split of the cohort into the instance's teams."""
    inst = term.inst
    lo, hi = int(inst.team_lo.min()), int(inst.team_hi.max())
    best = [np.inf]

    def place(i: int, teams: list[list[int]], cost_so_far: int) -> None:
        if cost_so_far >= best[0]:
            return
        if i == inst.n:
            if len(teams) == inst.k and all(lo <= len(t) <= hi for t in teams):
                best[0] = sum(term.team_penalty(t, 0) for t in teams)
            return
        left = inst.n - i
        for team in teams:
            if len(team) < hi:
                team.append(i)
                place(i + 1, teams, cost_so_far)
                team.pop()
        if len(teams) < inst.k and left >= lo:
            teams.append([i])
            place(i + 1, teams, cost_so_far)
            teams.pop()

    place(0, [], 0)
    return int(best[0])


def test_share_bound_by_hand() -> None:
    # four learners free one hour each on different days, four free all week; teams of
    # two, 2 h needed, 1 h more below the target and 3 h more without common time. Each
    # lone-hour learner either has its own team, 1 h short (2 h with the step), or shares
    # one with another, with nothing in common (6 h for the two): 2 h each at best
    records = [
        *(learner(f"h{d}", availability=f"{d} 10:00-11:00") for d in ("Mon", "Tue", "Wed", "Thu")),
        *(learner(f"e{k}", availability="Mon-Sun 00:00-24:00") for k in range(4)),
    ]
    inst = make_instance(records, stepped(2, below=1, none=3, block=1))
    (term,) = build_terms(inst)
    assert term.learner_bounds().tolist() == [4] * 4 + [0] * 4
    assert term.share_bound(0) == 32
    assert term.lower_bound() == 32 == brute_force_optimum(term)


@pytest.mark.parametrize("seed", range(16))
def test_share_bound_never_exceeds_the_brute_force_optimum(seed: int) -> None:
    # rare windows (some overlapping each other) beside wide ones, with and without steps
    rng = np.random.default_rng(100 + seed)
    windows = [
        "Mon 10:00-11:00",
        "Mon 10:30-12:00",
        "Tue 18:00-19:00",
        "Wed 07:00-07:30",
        "Sat 10:00-12:00, Tue 18:00-19:00",
        "Mon 09:00-12:00",
        "Mon-Fri 09:00-21:00",
        "Mon-Sun 00:00-24:00",
    ]
    n = int(rng.integers(6, 9))
    records = [
        learner(f"r{i}", availability=windows[int(rng.integers(len(windows)))]) for i in range(n)
    ]
    size = int(rng.integers(2, 4))
    team = {"size": size, "min": max(2, size - 1), "max": size + 1}
    below, none = (0.0, 0.0) if seed % 2 else (1.0, float(rng.integers(1, 4)))
    hours = float(rng.choice([1.0, 2.0]))
    inst = make_instance(records, stepped(hours, below=below, none=none, block=1), team=team)
    (term,) = build_terms(inst)
    optimum = brute_force_optimum(term)
    assert term.share_bound(0) <= optimum
    assert term.lower_bound() <= optimum


def test_overlap_term_is_found_among_the_terms_and_with_a_target_only_when_asked() -> None:
    records = [learner(x, availability="Mon 10:00-13:00") for x in "abcd"]
    both = {**overlap(2), "motivation": {"weight": 1}}
    terms = build_terms(make_instance(records, both))
    (term,) = [t for t in terms if isinstance(t, OverlapTerm)]
    assert overlap_term(terms) is term
    assert overlap_term(reversed(terms), with_target=True) is term
    no_target = build_terms(make_instance(records, overlap(0)))
    assert no_target and overlap_term(no_target) is no_target[0]
    assert overlap_term(no_target, with_target=True) is None
    assert overlap_term(build_terms(make_instance(records, {"motivation": {"weight": 1}}))) is None
