"""Tiny random instances, one per criterion, and their exact optima by enumeration.

Every assignment meeting team sizes and sections (and every project choice
within capacities) is tried, and scored with :mod:`reference`, so optima do
not depend on the solver, the validator or the criteria's own evaluation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from conftest import REF
from reference import reference_penalties
from teamform import FormationModel, Roster, build_instance
from teamform.instance import Instance

#: Criteria (model sections) with a random tiny case below: every one of criteria/.
CRITERIA = [
    "skill_balance",
    "skill_coverage",
    "motivation",
    "prefer",
    "overlap",
    "category:distribute",
    "category:cluster",
    "category:no_isolation",
    "diversity",
    "no_repeat",
    "stability",
    "participation",
    "projects",
    "projects:hard",
]

WINDOWS = [
    "Mon-Fri 18:00-21:00",
    "Mon,Wed 19:00-20:30",
    "Sat 09:00-12:00",
    "Tue,Thu 06:00-08:30",
    "daily 12:00-13:00",
    "Sun 23:00-24:00",
    "Mon 00:00-01:00",
    "",
]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kathmandu"]
PROJECTS = ["P", "Q", "R"]


def random_case(criterion: str, seed: int) -> Instance:
    """A cohort of 4-7 learners in 2-3 teams with ``criterion`` alone (perhaps in sections)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 8))
    sections = n >= 6 and rng.random() < 0.3
    records: list[dict[str, Any]] = []
    for i in range(n):
        records.append(
            {
                "id": f"l{i}",
                "name": f"Name {i}",
                "timezone": str(rng.choice(ZONES)),
                "availability": str(rng.choice(WINDOWS)),
                "motivation": "intrinsic" if rng.random() < 0.4 else "imposed",
                "skill_a": int(rng.integers(1, 6)),
                "skill_b": float(rng.choice([1.5, 2, 3.5, 5])) if rng.random() < 0.5 else 2,
                "role": str(rng.choice(["x", "y", "z", "w"])),
                "participation": None if rng.random() < 0.2 else float(rng.integers(0, 101)),
                "projects": ";".join(rng.permutation(PROJECTS)[: int(rng.integers(0, 3))].tolist()),
                "section": ("A" if i % 2 else "B") if sections else "",
            }
        )
    ids = [r["id"] for r in records]
    size = int(rng.choice([2, 3]))
    varied = rng.random() < 0.3
    team = {"size": size, "min": size - 1, "max": size + 1} if varied else {"size": size}
    crit = _criteria(criterion, rng)
    prefer = []
    if criterion == "prefer":
        for _ in range(int(rng.integers(1, n))):
            a, b = rng.choice(n, size=2, replace=False).tolist()
            prefer.append((ids[min(a, b)], ids[max(a, b)]))
        prefer = sorted(set(prefer))
    history = None
    if criterion == "no_repeat":
        history = {
            (ids[a], ids[b]): int(rng.integers(1, 4))
            for a, b in itertools.combinations(range(n), 2)
            if rng.random() < 0.4
        }
    previous = None
    if criterion == "stability":
        # some learners new, some from a team that no longer exists
        previous = {lid: int(rng.integers(1, 5)) for lid in ids if rng.random() < 0.8}
    model = FormationModel.from_dict({"team": team, "criteria": crit}, source="test-model")
    roster = Roster.from_records(records, prefer=prefer)
    return build_instance(roster, model, history=history, previous=previous)


def _criteria(criterion: str, rng: np.random.Generator) -> dict[str, Any]:
    name, _, variant = criterion.partition(":")
    if name == "skill_balance":
        return {name: {"skills": [] if rng.random() < 0.5 else ["a"]}}
    if name == "skill_coverage":
        return {name: {"rules": [{"skill": "a", "level": 4}, {"skill": "b", "level": 3.5}]}}
    if name == "overlap":
        return {
            name: {
                "hours": float(rng.choice([0.5, 1, 2, 3])),
                "block": float(rng.choice([0.25, 0.5, 1, 1.5])),
                "below": float(rng.choice([0, 0.5])),
                "none": float(rng.choice([0, 1])),
                "reference_date": REF,
            }
        }
    if name == "category":
        values = ["x", "y"] if rng.random() < 0.3 else []
        return {name: [{"column": "role", "rule": variant, "values": values}]}
    if name == "diversity":
        return {name: {"columns": ["skill_a", "role"]}}
    if name == "participation":
        return {name: {"low": 40, "high": 70, "require_high": bool(rng.random() < 0.8)}}
    if name == "projects":
        # capacities hold the four teams seven learners may form, some project just one
        caps = {"P": 1} if rng.random() < 0.5 else {}
        return {
            name: {"names": PROJECTS, "capacity": 2, "capacities": caps, "hard": variant == "hard"}
        }
    return {name: {}}


def assignments(inst: Instance) -> Iterator[list[int]]:
    """Every assignment meeting team sizes and sections (teams told apart)."""
    for combo in itertools.product(range(inst.k), repeat=inst.n):
        sizes = np.bincount(np.asarray(combo), minlength=inst.k)
        if np.any(sizes < inst.team_lo) or np.any(sizes > inst.team_hi):
            continue
        if any(inst.team_section[t] != inst.section[i] for i, t in enumerate(combo)):
            continue
        yield list(combo)


def project_choices(inst: Instance) -> list[list[int] | None]:
    """Every project per team within capacities and kept projects ([None] without projects)."""
    data = inst.projects
    if data is None:
        return [None]
    out: list[list[int] | None] = []
    for combo in itertools.product(range(len(data.names)), repeat=inst.k):
        used = np.bincount(np.asarray(combo), minlength=len(data.names))
        kept = all(data.keep[t] < 0 or data.keep[t] == p for t, p in enumerate(combo))
        if kept and np.all(used <= data.capacity):
            out.append(list(combo))
    return out


def exact_minima(inst: Instance) -> dict[str, int] | None:
    """Each criterion's least penalty over every valid plan (None: no valid plan).

    Hard criteria must be zero in a valid plan, so the minimum of each soft one
    is taken over the plans meeting every hard one.
    """
    hard = _hard_names(inst)
    best: dict[str, int] | None = None
    choices = project_choices(inst)
    for assignment in assignments(inst):
        for projects in choices:
            pens = reference_penalties(inst, assignment, projects)
            if any(pens[name] for name in hard):
                continue
            best = pens if best is None else {k: min(v, pens[k]) for k, v in best.items()}
    return best


def _hard_names(inst: Instance) -> set[str]:
    pr = inst.model.criteria.projects
    return {"projects_choice"} if pr is not None and pr.hard else set()
