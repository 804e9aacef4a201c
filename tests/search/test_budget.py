"""Budgets: work units repeat on any machine, wall-clock budgets end on time."""

from __future__ import annotations

import time

import pytest

from teamform.search.budget import Budget


def test_work_budget_counts_units_never_the_clock() -> None:
    budget = Budget(2.0, work=True, start=time.perf_counter() - 100)  # long past any deadline
    assert budget.deadline is None and budget.left() == 2.0
    meter = budget.meter(1000)
    assert meter.total == 2000 and not meter.done()
    assert meter.cap(1500) == 1500 and meter.fraction() == 0.0
    meter.spend(1500)
    assert meter.cap(1500) == 500 and meter.fraction() == 0.75 and not meter.done()
    meter.spend(500)
    assert meter.done() and meter.cap(10) == 0
    assert meter.until(0.5) is None
    assert meter.solver_time(wall=0.2, work=0.05) == 0.05


def test_work_budget_shares_are_fixed() -> None:
    budget = Budget(3.0, work=True)
    assert [budget.slice(r, 3).seconds for r in range(3)] == [1.0, 1.0, 1.0]
    assert budget.rest(1.0).seconds == 2.0 and budget.rest(5.0).seconds == 0.0
    assert budget.part(0.5).seconds == 0.5 and budget.part(0.5).work


def test_wall_budget_ends_at_its_deadline() -> None:
    start = time.perf_counter()
    budget = Budget(10.0, start=start)
    assert budget.deadline == start + 10.0
    meter = budget.meter(1000)
    assert meter.total is None and not meter.done() and meter.cap(7) == 7
    burst = meter.until(0.5)
    assert burst is not None and burst <= time.perf_counter() + 0.5
    assert 0 <= meter.fraction() < 0.5
    wall = meter.solver_time(wall=0.2, work=0.05)
    assert wall == 0.2
    # what is left is shared by the runs still to come
    assert budget.slice(1, 3).seconds == pytest.approx(budget.left() / 2, abs=0.05)
    assert budget.rest(3.0).seconds == pytest.approx(budget.left(), abs=0.05)
    spent = Budget(1.0, start=start - 5.0)
    assert spent.meter(1).done() and spent.meter(1).solver_time(wall=0.2, work=0.05) is None
