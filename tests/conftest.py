"""Shared helpers: tiny instances built from records, solved exactly."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from ortools.sat.python import cp_model

from teamform import FormationModel, Pins, Roster, build_instance
from teamform.cpmodel import SubModel
from teamform.criteria import Term, build_terms
from teamform.distances import model_distances
from teamform.instance import Instance
from teamform.validate import validate

if TYPE_CHECKING:
    from teamform.search.local import TeamState

REF = "2026-01-12"  # a winter Monday: every zone on standard time


def learner(lid: str, **kw: Any) -> dict[str, Any]:
    """A roster record with harmless defaults."""
    rec: dict[str, Any] = {
        "id": lid,
        "name": f"Name {lid}",
        "timezone": "UTC",
        "availability": "Mon-Sun 00:00-24:00",
        "motivation": "imposed",
    }
    rec.update(kw)
    return rec


def make_instance(
    records: Sequence[dict[str, Any]],
    criteria: dict[str, Any] | None = None,
    *,
    team: dict[str, Any] | None = None,
    avoid: Sequence[tuple[str, str]] = (),
    prefer: Sequence[tuple[str, str]] = (),
    pins: Pins | None = None,
) -> Instance:
    """Compile records and a criteria table into an instance."""
    model = FormationModel.from_dict(
        {"team": team or {"size": 2}, "criteria": criteria or {}}, source="test-model"
    )
    roster = Roster.from_records(records, avoid=avoid, prefer=prefer)
    return build_instance(roster, model, pins=pins)


def solve_exact(inst: Instance, terms: Sequence[Term] | None = None) -> tuple[int, list[int]]:
    """Optimal objective and assignment of the full CP-SAT model."""
    terms = build_terms(inst) if terms is None else terms
    sub = SubModel(inst, range(inst.n), range(inst.k), terms)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    status = solver.solve(sub.model)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    found = sub.read(solver)
    assignment = [found[i] for i in range(inst.n)]
    for term in terms:
        term.read_decisions(sub, solver)  # per-team decisions such as projects
    objective = round(solver.objective_value)
    # the validator must agree with the solver on every solve
    check = validate(inst, assignment, terms)
    assert check.ok, check.violations
    assert check.objective == objective
    return objective, assignment


def teams_of(inst: Instance, assignment: Sequence[int]) -> set[frozenset[str]]:
    """Teams as sets of ids, independent of team numbering."""
    groups: dict[int, set[str]] = {}
    for i, t in enumerate(assignment):
        groups.setdefault(t, set()).add(inst.ids[i])
    return {frozenset(g) for g in groups.values()}


def improve_best(
    state: TeamState,
    terms: Sequence[Term],
    seed: int,
    *,
    deadline: float,
    units: int | None,
    cancel: threading.Event | None = None,
) -> list[int]:
    """The cheapest plan :func:`teamform.search.lns.improve` keeps from ``state``."""
    from teamform.search.lns import LnsStats, improve

    best = [list(state.assign), state.total]

    def keep_best() -> list[int]:
        if state.total < best[1]:
            best[:] = [list(state.assign), state.total]
        return best[0]

    improve(
        state, terms, seed, deadline=deadline, units=units, stats=LnsStats(), keep_best=keep_best,
        cancel=cancel,
    )  # fmt: skip
    return best[0]


def mdgp_as_roster(path: Path, tmp_path: Path) -> Instance:
    """An MDGPLIB instance as a roster plus a distance file and a diversity-only model."""
    from teamform.mdgp import read_mdgp

    inst = read_mdgp(path)
    ids = [f"e{i:02d}" for i in range(inst.n)]
    lines = ["id_a,id_b,distance"]
    for i in range(inst.n):
        for j in range(i + 1, inst.n):
            lines.append(f"{ids[i]},{ids[j]},{inst.dist[i, j]:.3f}")
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    model = FormationModel.from_dict(
        {
            "team": {"teams": int(inst.m)},
            "criteria": {"diversity": {"matrix": str(tmp_path / "d.csv")}},
        }
    )
    roster = Roster.from_records(
        [{"id": x, "timezone": "UTC", "availability": "", "motivation": "imposed"} for x in ids]
    )
    return build_instance(roster, model, distances=model_distances(roster, model))


@pytest.fixture
def demo_paths() -> dict[str, str]:
    return {
        "roster": "instances/demo/roster.csv",
        "avoid": "instances/demo/avoid.csv",
        "prefer": "instances/demo/prefer.csv",
        "model": "models/collaborative.toml",
    }


@pytest.fixture(scope="session", autouse=True)
def _kernels_ready() -> None:
    """Every compiled kernel ready before the tests: which path a solve takes must
    not depend on numba's cache (the Python paths are tested by making them not ready)."""
    from teamform.search.kernels import warm_up

    warm_up()


def section_plan(inst: Instance, rng: np.random.Generator) -> list[int]:
    """A random plan that keeps sections apart, their learners dealt round their teams."""
    plan = np.empty(inst.n, dtype=np.int64)
    for s in range(len(inst.section_names)):
        learners = rng.permutation(np.flatnonzero(inst.section == s))
        teams = inst.teams_of_section(s)
        plan[learners] = teams[np.arange(len(learners)) % len(teams)]
    return list(plan.tolist())
