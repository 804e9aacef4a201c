"""The partition bound of the overlap criterion: hand-worked cases and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import learner, make_instance
from reference import block_slots
from teamform.availability import SLOTS_PER_WEEK
from teamform.criteria import OverlapTerm, build_terms
from teamform.criteria.overlap_partition import partition_bound
from teamform.instance import Instance


def overlap(hours: float, *, block: float = 1.0, below: float = 0.0, none: float = 0.0):
    return {
        "overlap": {
            "weight": 1,
            "hours": hours,
            "block": block,
            "below": below,
            "none": none,
            "reference_date": "2026-01-12",
        }
    }


def term_of(inst: Instance) -> OverlapTerm:
    (term,) = build_terms(inst)
    assert isinstance(term, OverlapTerm)
    return term


def team_penalty(inst: Instance, members: tuple[int, ...]) -> int:
    """The overlap penalty of one team from the model alone (not the criterion's code)."""
    spec = inst.model.criteria.overlap
    assert spec is not None
    need = round(spec.hours * 4)
    common = (1 << SLOTS_PER_WEEK) - 1
    for i in members:
        common &= inst.masks[i]
    got = block_slots(common, max(1, round(spec.block * 4)))
    if got >= need:
        return 0
    return need - got + round(spec.below * 4) + (round(spec.none * 4) if got == 0 else 0)


def optimum(inst: Instance) -> int:
    """Least overlap penalty over every split of a one-section cohort into its teams."""
    lo, hi, k = int(inst.team_lo.min()), int(inst.team_hi.max()), inst.k
    cost: dict[tuple[int, ...], int] = {}
    best = [np.inf]

    def place(rest: tuple[int, ...], teams: int, so_far: int) -> None:
        if so_far >= best[0]:
            return
        if not rest:
            if teams == k:
                best[0] = so_far
            return
        if teams == k or len(rest) < lo:
            return
        first, others = rest[0], rest[1:]
        # the team of the first learner left: every choice of its partners
        for size in range(lo, min(hi, len(rest)) + 1):
            for partners in itertools.combinations(others, size - 1):
                team = (first, *partners)
                if team not in cost:
                    cost[team] = team_penalty(inst, team)
                left = tuple(i for i in others if i not in partners)
                place(left, teams + 1, so_far + cost[team])

    place(tuple(range(inst.n)), 0, 0)
    assert np.isfinite(best[0])
    return int(best[0])


def test_a_chain_of_rare_hours_by_hand() -> None:
    # a, b, c free two hours each, a and b sharing one, b and c another, a and c none;
    # three free all week. Two teams of three, 3 h needed. Some team holds two of a, b, c:
    # {a, b} or {b, c} with one hour (2 h short), the third with two hours (1 h short): 3 h.
    # The share bound lets b share its team's cost three ways (it shares an hour with both
    # others, but a, b and c share none together); the partition sees that they cannot.
    records = [
        learner("a", availability="Mon 10:00-12:00"),
        learner("b", availability="Mon 11:00-13:00"),
        learner("c", availability="Mon 12:00-14:00"),
        *(learner(f"e{k}") for k in range(3)),
    ]
    inst = make_instance(records, overlap(3), team={"size": 3})
    term = term_of(inst)
    assert term.learner_bounds().tolist() == [4, 4, 4, 0, 0, 0]
    assert optimum(inst) == 12
    assert term.share_bound(0) == 11  # 4 + 8 / 3 + 4, rounded up
    assert term.layer_bound(0) < 12
    assert partition_bound(term, 0) == 12
    assert term.lower_bound() == 12


def test_rare_hours_shared_once_by_hand() -> None:
    # four learners free Mon 10-11 only, four free all week; teams of two, 2 h needed,
    # 1 h more below the target. Each rare learner is at best 1 h short (+1 h): alone with
    # a partner from the week it pays 2 h; two of them together pay 2 h between them.
    # The best plan pairs them up (two teams, 4 h); the share bound sees that too. With a
    # fifth rare learner on Tuesday, who shares nothing with them, the bound must charge
    # it its own 2 h, and a fifth all-week learner keeps the team count even.
    records = [
        *(learner(f"m{k}", availability="Mon 10:00-11:00") for k in range(4)),
        learner("t", availability="Tue 10:00-11:00"),
        *(learner(f"e{k}") for k in range(5)),
    ]
    inst = make_instance(records, overlap(2, below=1, none=2), team={"size": 2})
    term = term_of(inst)
    assert optimum(inst) == 24  # two Monday pairs and t with a partner: 3 x (4 + 4)
    assert partition_bound(term, 0) == 24
    assert term.lower_bound() == 24


def test_too_few_teams_for_every_rare_learner_apart() -> None:
    # three learners free one hour each on different days, one free all week: teams of
    # two, so two of the rare learners share a team with no common time at all
    records = [
        *(learner(f"h{d}", availability=f"{d} 10:00-11:00") for d in ("Mon", "Tue", "Wed")),
        learner("e"),
    ]
    inst = make_instance(records, overlap(2, below=1, none=3), team={"size": 2})
    term = term_of(inst)
    # {hMon, e}: 1 h short + 1 step = 8 slots; {hTue, hWed}: 2 h short + 1 + 3 = 24 slots
    assert optimum(inst) == 32
    assert partition_bound(term, 0) == 32
    assert term.lower_bound() == 32


def test_teams_that_must_lack_common_time_pay_every_step() -> None:
    # two groups of three, free on different days; teams of exactly two. No learner is
    # short alone, but each group leaves one learner over, and those two share a team with
    # nothing in common: 2 h short, 1 h below the target and 2 h without any common time.
    # The layer bound sees the 2 h; the window packing proves the team, and every step.
    records = [
        *(learner(f"m{k}", availability="Mon 10:00-13:00") for k in range(3)),
        *(learner(f"t{k}", availability="Tue 10:00-13:00") for k in range(3)),
    ]
    inst = make_instance(records, overlap(2, below=1, none=2), team={"size": 2})
    term = term_of(inst)
    assert term.learner_bounds().tolist() == [0] * 6
    assert optimum(inst) == 20
    assert term.layer_bound(0) == 8 and term.share_bound(0) == 0
    assert partition_bound(term, 0) == 20
    assert term.lower_bound() == 20


def test_the_packing_on_larger_cohorts_only_with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import teamform.criteria.overlap_partition as module

    records = [
        *(learner(f"m{k}", availability="Mon 10:00-13:00") for k in range(3)),
        *(learner(f"t{k}", availability="Tue 10:00-13:00") for k in range(3)),
    ]
    inst = make_instance(records, overlap(2, below=1, none=2), team={"size": 2})
    monkeypatch.setattr(module, "PROOF_MAX_LEARNERS", 4)  # this cohort counts as larger
    with module.wall_limit(0.5):
        assert partition_bound(term_of(inst), 0) == 0  # a short solve: no packing
    with module.wall_limit(None):
        assert partition_bound(term_of(inst), 0) == 20  # work limits only: the packing runs
    monkeypatch.setattr(module, "PROOF_MORE_LEARNERS", 5)
    with module.wall_limit(None):
        assert partition_bound(term_of(inst), 0) == 0


def test_a_partition_past_the_bounds_deadline_is_skipped() -> None:
    import teamform.criteria.overlap_partition as module

    records = [
        *(learner(f"m{k}", availability="Mon 10:00-13:00") for k in range(3)),
        *(learner(f"t{k}", availability="Tue 10:00-13:00") for k in range(3)),
    ]
    inst = make_instance(records, overlap(2, below=1, none=2), team={"size": 2})
    with module.wall_limit(0.0):
        # the phase's share is used up before the partition starts: it gives nothing
        assert partition_bound(term_of(inst), 0) == 0
        # and the bound is still a valid one: the per-learner layers stand
        assert term_of(inst).lower_bound() == 8
    with module.wall_limit(5.0):
        assert 0 < module.wall_left() <= 5.0  # type: ignore[operator]
        assert partition_bound(term_of(inst), 0) == 20
    assert module.wall_left() == module.PARTITION_WALL  # outside a block: each solve its own


WINDOWS = [
    "Mon 10:00-11:00",
    "Mon 10:30-12:00",
    "Mon 11:00-13:00",
    "Mon 12:00-14:00",
    "Tue 18:00-19:00",
    "Tue 18:00-20:00",
    "Wed 07:00-07:30",
    "Sat 10:00-12:00, Tue 18:00-19:00",
    "Mon 09:00-12:00",
    "Mon-Fri 09:00-21:00",
    "Mon-Sun 00:00-24:00",
]


def random_cohort(seed: int) -> Instance:
    """Rare windows (some chained, some nested) beside wide ones, steps or not, teams of 2-4."""
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(6, 10))
    records = [
        learner(f"r{i}", availability=WINDOWS[int(rng.integers(len(WINDOWS)))]) for i in range(n)
    ]
    size = int(rng.integers(2, 4))
    team = {"size": size, "min": max(2, size - 1), "max": size + 1}
    steps = seed % 2 == 0
    crit = overlap(
        float(rng.choice([1.0, 2.0, 3.0])),
        block=float(rng.choice([0.5, 1.0])),
        below=float(rng.integers(0, 2)) if steps else 0.0,
        none=float(rng.integers(1, 4)) if steps else 0.0,
    )
    return make_instance(records, crit, team=team)


SEEDS = range(48)


@pytest.mark.parametrize("seed", SEEDS)
def test_never_above_the_brute_force_optimum(seed: int) -> None:
    inst = random_cohort(seed)
    term = term_of(inst)
    best = optimum(inst)
    assert partition_bound(term, 0) <= best
    assert term.lower_bound() <= best


def test_above_the_other_bounds_on_many_cohorts(monkeypatch: pytest.MonkeyPatch) -> None:
    import teamform.criteria.overlap_partition as module

    higher = alone = exact = 0
    for seed in SEEDS:
        inst = random_cohort(seed)
        new = term_of(inst).lower_bound()
        with monkeypatch.context() as patch:
            # the bound as it was without the partition; the partition without the packing
            patch.setattr(OverlapTerm, "partition_bound", lambda self, section: 0)
            old = term_of(inst).lower_bound()
            patch.setattr(module, "PROOF_MAX_LEARNERS", 0)
            patch.setattr(module, "PROOF_MORE_LEARNERS", 0)
            alone += partition_bound(term_of(inst), 0) > old
        higher += new > old
        exact += new == optimum(inst)
    # measured: higher on 12 of the 48 (on 9 without the packing), the optimum on 46
    assert higher >= 9 and alone >= 6 and exact >= 40, (higher, alone, exact)


def test_too_many_groups_leave_the_other_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    import teamform.criteria.overlap_partition as module

    inst = random_cohort(46)
    assert term_of(inst).lower_bound() == 36 == optimum(inst)
    monkeypatch.setattr(module, "PROOF_MAX_LEARNERS", 0)
    monkeypatch.setattr(module, "PROOF_MORE_LEARNERS", 0)
    assert term_of(inst).lower_bound() == 36  # the partition alone
    monkeypatch.setattr(module, "MAX_GROUPS", 1)
    term = term_of(inst)
    assert partition_bound(term, 0) == 0
    assert term.lower_bound() == 20  # the share and layer bounds' own
