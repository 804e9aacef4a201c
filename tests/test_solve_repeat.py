"""Deterministic solves repeat within one process: an earlier solve leaves nothing behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from conftest import learner, make_instance
from teamform import Pins
from teamform.instance import Instance
from teamform.search import kernels
from teamform.solve import solve_instance

#: Seconds of work: past the first annealing epoch, into the exact regroupings and on.
WORK = 1.0


def cohort(n: int, seed: int) -> Instance:
    """Teams of 4 balanced on six skills, with two intrinsic learners pinned to
    team 1: a team off the motivation spread is left for the exact regroupings,
    whose first use gets the compiled kernels ready (in a fresh process)."""
    rng = np.random.default_rng(seed)
    k = n // 4
    records = [
        learner(
            f"l{i}",
            motivation="intrinsic" if i < k else "imposed",
            **{f"skill_{c}": str(int(rng.integers(1, 6))) for c in "abcdef"},
        )
        for i in range(n)
    ]
    return make_instance(
        records,
        {"skill_balance": {"weight": 1}, "motivation": {"weight": 1}},
        team={"size": 4},
        pins=Pins(teams={"l0": 1, "l1": 1}),
    )


def teams(inst: Instance, seed: int) -> list[int]:
    result = solve_instance(inst, time_limit=WORK, seed=seed, strategy="lns", deterministic=True)
    assert result.feasible
    return [result.assignment[i] for i in inst.ids]


def as_in_a_fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels not ready yet: the next deterministic solve gets them ready in mid-search."""
    monkeypatch.setattr(kernels, "_READY", {group: threading.Event() for group in kernels.GROUPS})


def test_a_deterministic_solve_repeated_on_the_same_instance_gives_the_same_teams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = cohort(80, 0)
    as_in_a_fresh_process(monkeypatch)
    first = teams(inst, 0)
    assert kernels.kernels_ready("search")  # the path that left its mark before
    assert teams(inst, 0) == first


def test_a_deterministic_solve_after_another_gives_its_fresh_process_teams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = cohort(80, 0), cohort(100, 1)
    as_in_a_fresh_process(monkeypatch)
    alone = teams(b, 1)
    as_in_a_fresh_process(monkeypatch)
    teams(a, 0)
    assert teams(b, 1) == alone
