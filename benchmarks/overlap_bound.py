"""The overlap lower bound against the best plans found, before and after the partition bound.

Run from the repository root::

    python -m benchmarks.overlap_bound                        # 30 to 10 000 learners
    python -m benchmarks.overlap_bound --sizes 2000 --seeds 0 1 2
    python -m benchmarks.overlap_bound --quick                # smoke run, a few seconds

Per cohort (the committed ones, 10 000 learners generated from seed 1) under the
collaborative preset: the overlap bound (hours short, steps included) without
the partition of the short learners (``before``: the per-learner, layer and
share bounds) and with it (``after``), computed back to back in one process with
the compiled kernels loaded, and the seconds each took; then the real ``teamform
form`` command (fresh process, fixed seeds) for the best plan found: its hours
short, teams without common time, the bound it reported and the time its
bounds phase took. The gaps are ``(found - bound) / found`` for the overlap
criterion alone. Two more figures say how much of a gap any overlap bound could
close: ``alone_h``, the overlap of the best plan found (seed 0) when the other
criteria weigh 1 instead of their preset weights, so that the search puts common
time first (an upper bound on the least overlap penalty, which no valid bound
exceeds), and ``packed_0h``, the teams without common time that a split
sharing windows (:func:`~teamform.search.common_time.pattern_packing`, or the
greedy packing per learner where it does better) leaves:
no bound that counts teams lacking a window can prove more of them;
``forced_0h``, the teams without common time the learner bound proves. Per plan,
where its hours short lie (:func:`gap_parts`): ``short_teams_h`` in the teams
holding a short learner (``short_excess_h`` of it above the bound, which
charges only those teams), ``other_h`` in the ``other_below`` teams below the
target without one (charged by no bound here).
Results: ``results/overlap_bound.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.cohorts import MODEL, RESULTS, cohort_dir, machine, timed_form
from benchmarks.tradeoffs import load

#: (learners, time limit of the command) by default.
PLAN = {30: 10.0, 120: 10.0, 500: 10.0, 2000: 60.0, 10000: 60.0}
#: Cohorts up to this size also try the greedy packing per learner (minutes at 10 000).
GREEDY_MAX = 2000


def bounds(inst: Any, limit: float) -> dict[str, Any]:
    """The overlap bound without and with the partition, back to back, and their cost,
    with the wall-clock share a solve of ``limit`` seconds gives the partition."""
    from teamform.criteria import OverlapTerm, build_terms
    from teamform.criteria.overlap_partition import BOUND_SHARE, wall_limit
    from teamform.search.kernels import warm_up

    warm_up()

    def fresh() -> OverlapTerm:
        term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
        term.learner_bounds()  # shared by both: timed apart
        return term

    row: dict[str, Any] = {}
    for name in ("before", "after"):
        begin = time.perf_counter()
        learners = fresh()
        row["learner_s"] = round(time.perf_counter() - begin, 3)
        if name == "before":  # the bound as it was: no partition, no packing
            learners.partition_bound = lambda section: 0  # type: ignore[method-assign]
        begin = time.perf_counter()
        with wall_limit(BOUND_SHARE * limit):
            value = learners.lower_bound()
        row[f"{name}_s"] = round(time.perf_counter() - begin, 3)
        row[f"{name}_h"] = learners.natural(value)
    term = fresh()
    begin = time.perf_counter()
    with wall_limit(BOUND_SHARE * limit):
        term.partition_bound(0)
    row["partition_s"] = round(time.perf_counter() - begin, 3)
    row["short_learners"] = int((term.learner_bounds() > 0).sum())
    row["forced_0h"] = term.forced_teams()[1]
    from teamform.search.common_time import fewest_without_time, pattern_packing

    begin = time.perf_counter()
    packed = inst.k - len(pattern_packing(inst, term))
    if inst.n <= GREEDY_MAX:  # the greedy packing per learner, better where it is quick
        greedy = fewest_without_time(inst, term, time_limit=0.0, exact=False)
        packed = min(packed, greedy.found)
    row["packed_0h"] = packed
    row["packing_s"] = round(time.perf_counter() - begin, 3)
    return row


def overlap_first(work: Path) -> Path:
    """The preset with every criterion but overlap weighing 1."""
    text = MODEL.read_text(encoding="utf-8")
    out = []
    table = ""
    for line in text.splitlines():
        if line.startswith("["):
            table = line.strip()
        elif table != "[criteria.overlap]" and table.startswith("[criteria."):
            line = re.sub(r"^weight = [0-9.]+", "weight = 1", line)
        out.append(line)
    path = work / "overlap_first.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def gap_parts(inst: Any, assignment: dict[str, int]) -> dict[str, Any]:
    """Where a plan's hours short lie: in teams holding a short learner (a learner
    whose best possible team falls short), which are all the partition bound
    charges, and in the other teams below the target, which no bound here charges."""
    from teamform.criteria import OverlapTerm, build_terms

    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    short = term.learner_bounds() > 0
    index = {lid: i for i, lid in enumerate(inst.ids)}
    teams: dict[int, list[int]] = {}
    for lid, t in assignment.items():
        teams.setdefault(t, []).append(index[lid])
    with_short = other = other_teams = 0
    for t, members in teams.items():
        penalty = term.team_penalty(members, t)
        if short[members].any():
            with_short += penalty
        else:
            other += penalty
            other_teams += penalty > 0
    return {
        "short_teams_h": term.natural(with_short),
        "other_below": other_teams,
        "other_h": term.natural(other),
    }


def found(
    n: int, limit: float, seed: int, work: Path, model: Path = MODEL, inst: Any = None
) -> dict[str, Any]:
    """The best plan of one run of the real command (with ``inst``, where its hours
    short lie: :func:`gap_parts`)."""
    out = work / f"n{n}_s{seed}_{model.stem}.json"
    result, wall, _ = timed_form(
        cohort_dir(n, work), model, limit, seed, out, timeout=limit * 4 + 120
    )
    overlap = next(c for c in result["breakdown"] if c["name"] == "overlap")
    return {
        "found_h": overlap["penalty"],
        "reported_h": overlap["lower_bound"],
        "teams_0h": sum(1 for t in result["teams"] if t["common_hours"] == 0),
        **({} if inst is None else gap_parts(inst, result["assignment"])),
        "bounds_phase_s": round(float(result["timings"].get("bounds", 0.0)), 3),
        "wall_s": round(wall, 2),
    }


def run(sizes: list[int], seeds: list[int], limits: dict[int, float]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in sizes:
            inst = load(n, work)
            base = {"n": n, **bounds(inst, limits[n])}
            alone = found(n, limits[n], 0, work, overlap_first(work))
            base["alone_h"], base["alone_0h"] = alone["found_h"], alone["teams_0h"]
            for seed in seeds:
                plan = found(n, limits[n], seed, work, inst=inst)
                row = {**base, "seed": seed, "limit_s": limits[n], **plan}
                for name in ("before", "after"):
                    gap = (row["found_h"] - row[f"{name}_h"]) / max(row["found_h"], 1e-9)
                    row[f"gap_{name}"] = round(gap, 3)
                # the part of the gap left beside the best plan found with overlap first
                alone = (row["alone_h"] - row["after_h"]) / max(row["alone_h"], 1e-9)
                row["gap_alone"] = round(alone, 3)
                # the gap in hours: the short learners' teams above the bound, and the
                # other teams below the target, which the bound charges nothing
                row["short_excess_h"] = row["short_teams_h"] - row["after_h"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def write(rows: list[dict[str, Any]], results: Path) -> None:
    """CSV and Markdown table of ``rows``."""
    results.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(results / "overlap_bound.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = [f"### overlap bound ({machine()})", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(str(row.get(c, "-")) for c in columns) + " |" for row in rows]
    (results / "overlap_bound.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(PLAN))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--limit", type=float, help="time limit of every run (default: per size)")
    parser.add_argument("--quick", action="store_true", help="30 learners, 2 s, one seed")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes, seeds = ([30], [0]) if args.quick else (args.sizes, args.seeds)
    limit = 2.0 if args.quick else args.limit
    limits = {n: limit if limit is not None else PLAN.get(n, 60.0) for n in sizes}
    print(f"machine: {machine()}, load {os.getloadavg()[0]:.1f}", flush=True)
    write(run(sizes, seeds, limits), args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
