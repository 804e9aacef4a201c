"""Benchmark project preferences: teams and projects in one model vs. teams first.

Run from the repository root (needs scipy: ``pip install -e ".[bench]"``)::

    python -m benchmarks.projects_bench                 # 120 and 2 000 learners
    python -m benchmarks.projects_bench --quick         # smoke run, a few seconds
    python -m benchmarks.projects_bench --sizes 120 --seeds 0 1 --budget 10

Cohorts are the committed synthetic ones (``instances/synthetic/n<N>_s1``) under
the collaborative preset; each learner ranks 3 projects (of 30 for 120
learners, of 500 for 2 000), drawn with a popularity skew so that some
projects are wanted by many. In the same run, for each cohort and seed:

* **teamform**: the collaborative preset plus the ``projects`` criterion,
  teams and projects optimised together;
* **Hungarian baseline**: the collaborative preset alone with the same budget,
  then projects assigned to the finished teams by the Hungarian method
  (``scipy.optimize.linear_sum_assignment``) on the same rank costs.

Reported: mean rank obtained (1 = first choice; a project outside the
learner's choices counts as rank 4), share of learners whose team got one of
their top-3 choices, share with their first choice, and the collaborative
objective of the teams (their quality on every other criterion), so the price
of honouring choices is visible, and the joint objective (team objective plus
10 per rank step, a project outside the choices counting as rank 4), which is
what teamform minimises. Results go to ``benchmarks/results/projects.csv``
and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODEL = ROOT / "models" / "collaborative.toml"
REFERENCE_DATE = "2026-01-12"
PROJECTS_FOR = {30: 30, 120: 30, 2000: 500}
CHOICES = 3
#: weight per rank step, and rank steps for a project outside the choices (as rank 4)
WEIGHT = 10.0
UNRANKED = CHOICES


def with_choices(roster: Any, n_projects: int, seed: int) -> Any:
    """The roster with 3 ranked choices per learner, skewed towards popular projects."""
    rng = np.random.default_rng(1000 + seed)
    popularity = 1.0 / np.arange(1, n_projects + 1) ** 0.7
    popularity = rng.permutation(popularity / popularity.sum())
    names = [f"T{p:03d}" for p in range(n_projects)]
    learners = []
    for lr in roster.learners:
        picks = rng.choice(n_projects, size=CHOICES, replace=False, p=popularity)
        learners.append(lr.model_copy(update={"projects": tuple(names[p] for p in picks)}))
    return roster.model_copy(update={"learners": tuple(learners)}), names


def models(names: list[str]) -> tuple[Any, Any]:
    """The collaborative preset, and the same with the projects criterion."""
    from teamform import FormationModel

    base = FormationModel.from_toml(MODEL)
    data = base.model_dump()
    data["criteria"]["overlap"]["reference_date"] = REFERENCE_DATE
    plain = FormationModel.from_dict(data, source=str(MODEL))
    data["criteria"]["projects"] = {"weight": WEIGHT, "unranked": UNRANKED, "names": names}
    return plain, FormationModel.from_dict(data, source=str(MODEL))


def rank_figures(ranks: list[int | None]) -> dict[str, float]:
    """Mean rank (outside the choices = CHOICES + 1), top-3 and first-choice shares."""
    got = [CHOICES + 1 if r is None else r for r in ranks]
    return {
        "mean_rank": float(np.mean(got)),
        "top3": float(np.mean([r <= CHOICES for r in got])),
        "first": float(np.mean([r == 1 for r in got])),
    }


def hungarian(roster: Any, result: Any, names: list[str]) -> list[int | None]:
    """Projects for finished teams by linear_sum_assignment; each learner's rank."""
    from scipy.optimize import linear_sum_assignment

    index = {name: p for p, name in enumerate(names)}
    choices = {lr.id: [index[p] for p in lr.projects] for lr in roster.learners}
    cost = np.zeros((len(result.teams), len(names)), dtype=np.int64)
    for t, team in enumerate(result.teams):
        for lid in team.members:
            row = np.full(len(names), UNRANKED, dtype=np.int64)
            for r, p in enumerate(choices[lid]):
                row[p] = r
            cost[t] += row
    rows, cols = linear_sum_assignment(cost)
    project = dict(zip(rows.tolist(), cols.tolist(), strict=True))
    ranks: list[int | None] = []
    for t, team in enumerate(result.teams):
        for lid in team.members:
            ch = choices[lid]
            ranks.append(ch.index(project[t]) + 1 if project[t] in ch else None)
    return ranks


def team_quality(roster: Any, plain: Any, result: Any) -> float:
    """Collaborative objective (every criterion but projects) of a result's teams."""
    from teamform import build_instance, validate
    from teamform.criteria import OBJECTIVE_SCALE

    inst = build_instance(roster, plain)
    check = validate(inst, [result.assignment[i] - 1 for i in inst.ids])
    assert check.ok, check.violations
    return check.objective / OBJECTIVE_SCALE


def run(n: int, seed: int, budget: float) -> list[dict[str, Any]]:
    from teamform import form, load_roster
    from teamform.lazy import cp_model

    # CP-SAT is imported at its first model: here, before either method's budget starts
    cp_model.module()

    cohort = ROOT / "instances" / "synthetic" / f"n{n}_s1"
    base = load_roster(cohort / "roster.csv", avoid=cohort / "avoid.csv")
    roster, names = with_choices(base, PROJECTS_FOR[n], seed)
    plain, joint = models(names)
    rows = []

    t0 = time.perf_counter()
    together = form(roster, joint, time_limit=budget, seed=seed)
    wall = time.perf_counter() - t0
    assert together.feasible, together.violations
    ranks = [r for team in together.teams for r in team.project_ranks.values()]
    rows.append(
        {
            "learners": n,
            "projects": len(names),
            "seed": seed,
            "method": "teamform (teams and projects together)",
            **rank_figures(ranks),
            "team_objective": team_quality(roster, plain, together),
            "joint_objective": together.objective,
            "seconds": round(wall, 1),
        }
    )
    # the joint objective is the team objective plus the weighted rank steps
    steps = sum(CHOICES if r is None else r - 1 for r in ranks)
    assert abs(rows[-1]["team_objective"] + WEIGHT * steps - together.objective) < 1e-6

    t0 = time.perf_counter()
    first = form(roster, plain, time_limit=budget, seed=seed)
    ranks = hungarian(roster, first, names)
    wall = time.perf_counter() - t0
    assert first.feasible, first.violations
    quality = team_quality(roster, plain, first)
    steps = sum(CHOICES if r is None else r - 1 for r in ranks)
    rows.append(
        {
            "learners": n,
            "projects": len(names),
            "seed": seed,
            "method": "teams first, then Hungarian",
            **rank_figures(ranks),
            "team_objective": quality,
            "joint_objective": quality + WEIGHT * steps,
            "seconds": round(wall, 1),
        }
    )
    return rows


def write(rows: list[dict[str, Any]], out: Path, budget: float) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with (out.with_suffix(".csv")).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "Projects benchmark, budget "
        + (f"{budget:g} s" if budget else "10 s (120 learners) or 30 s (2 000)")
        + f" per method, Python {platform.python_version()}",
        "",
        "| learners | projects | method | mean rank | top-3 share | first choice | "
        "team objective | joint objective |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    keys = list(dict.fromkeys((r["learners"], r["method"]) for r in rows))
    keys.sort(key=lambda k: k[0])
    for n, method in keys:
        sel = [r for r in rows if r["learners"] == n and r["method"] == method]
        lines.append(
            f"| {n} | {sel[0]['projects']} | {method} | "
            f"{np.mean([r['mean_rank'] for r in sel]):.2f} | "
            f"{100 * np.mean([r['top3'] for r in sel]):.1f} % | "
            f"{100 * np.mean([r['first'] for r in sel]):.1f} % | "
            + f"{np.mean([r['team_objective'] for r in sel]):,.0f} | ".replace(",", " ")
            + f"{np.mean([r['joint_objective'] for r in sel]):,.0f} |".replace(",", " ")
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[120, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--budget", type=float, default=None, help="seconds per method")
    parser.add_argument("--quick", action="store_true", help="30 learners, 2 s, one seed")
    parser.add_argument("--out", type=Path, default=RESULTS / "projects")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.seeds = [30], [0]
        args.budget = args.budget or 2.0
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        budget = args.budget or (10.0 if n <= 120 else 30.0)
        for seed in args.seeds:
            rows.extend(run(n, seed, budget))
    write(rows, args.out, args.budget or 0.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
