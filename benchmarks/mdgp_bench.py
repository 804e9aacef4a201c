"""Benchmark the diversity search on MDGPLIB against the best-known values.

Run from the repository root::

    .venv/bin/python -m benchmarks.mdgp_bench            # default run
    .venv/bin/python -m benchmarks.mdgp_bench --quick    # smoke run, a few seconds

Writes one CSV row per (solver, instance, seed) to ``benchmarks/results/mdgp.csv`` and a
Markdown summary (mean gap per set / size / kind) to ``benchmarks/results/mdgp.md``.
The gap is ``100 * (best_known - objective) / best_known``; negative means better than
the published value. Kernel compilation happens once per worker before any timed run.
A plain CP-SAT model (``x[i, g]`` booleans, pair products linearised) runs on a few
n = 120 instances as a baseline.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:  # the package may not be installed when run from a checkout
    import teamform  # noqa: F401
except ImportError:  # pragma: no cover - environment dependent
    sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

from teamform.mdgp import (  # noqa: E402
    MdgpInstance,
    check_mdgp_assignment,
    mdgp_objective,
    read_best_known,
    read_mdgp,
    scale_distances,
)

INSTANCE_DIR = ROOT / "instances" / "mdgp"
RESULTS_DIR = ROOT / "benchmarks" / "results"
DEFAULT_CPSAT = ("RanReal_n120_ss_01", "RanInt_n120_ds_01", "Geo_n120_ss_01")


@dataclass
class Row:
    """One benchmark result."""

    solver: str
    instance: str
    set: str
    n: int
    kind: str
    seed: int
    time_limit: float
    objective: float
    best_known: float
    gap_pct: float
    time_to_best: float
    elapsed: float
    iterations: int
    compile_seconds: float


def instance_path(name: str, root: Path = INSTANCE_DIR) -> Path:
    """Path of a shipped instance, ``.txt.gz`` or ``.txt``."""
    set_name = name.split("_")[0]
    for suffix in (".txt.gz", ".txt"):
        p = root / set_name / f"{name}{suffix}"
        if p.exists():
            return p
    raise FileNotFoundError(f"instance {name} not found under {root / set_name}")


def instance_names(
    sets: Iterable[str], sizes: Iterable[int], kinds: Iterable[str], indices: Iterable[int]
) -> list[str]:
    """All instance names of the requested grid, sizes outermost."""
    return [
        f"{s}_n{n:03d}_{k}_{i:02d}" for n in sizes for s in sets for k in kinds for i in indices
    ]


def gap_pct(objective: float, best_known: float) -> float:
    """Relative gap in percent; values within 1e-7 % are reported as 0."""
    gap = 100.0 * (best_known - objective) / best_known
    return 0.0 if abs(gap) < 1e-7 else gap


# ------------------------------------------------------------------ workers


def _run_its(job: tuple[str, int, float, float]) -> Row:
    name, seed, time_limit, best_known = job
    from teamform.search.diversity_ls import solve_max_diversity, warm_up

    compile_seconds = warm_up()
    inst = read_mdgp(instance_path(name))
    res = solve_max_diversity(inst.dist, inst.lo, inst.hi, time_limit=time_limit, seed=seed)
    check_mdgp_assignment(inst, res.assignment)
    return Row(
        solver="its",
        instance=name,
        set=name.split("_")[0],
        n=inst.n,
        kind=inst.kind,
        seed=seed,
        time_limit=time_limit,
        objective=res.objective,
        best_known=best_known,
        gap_pct=gap_pct(res.objective, best_known),
        time_to_best=res.time_to_best,
        elapsed=res.elapsed,
        iterations=res.iterations,
        compile_seconds=compile_seconds,
    )


def solve_cpsat(
    inst: MdgpInstance, time_limit: float, workers: int = 1
) -> tuple[np.ndarray, float]:
    """Plain monolithic CP-SAT model of the MDGP.

    ``x[i, g]`` says element ``i`` is in group ``g``; ``y[i, j, g] <= x[i, g], x[j, g]``
    linearises the pair product (upper bounds suffice when maximising). Distances are
    scaled to integers with :func:`teamform.mdgp.scale_distances`.

    Returns the best assignment found and the seconds until it was found.
    """
    from ortools.sat.python import cp_model

    scaled, _ = scale_distances(inst.dist)
    n, m = inst.n, inst.m
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{g}") for g in range(m)] for i in range(n)]
    for i in range(n):
        model.add_exactly_one(x[i])
    for g in range(m):
        model.add_linear_constraint(
            sum(x[i][g] for i in range(n)), int(inst.lo[g]), int(inst.hi[g])
        )
    terms = []
    for i in range(n):
        for j in range(i + 1, n):
            w = int(scaled[i, j])
            if w <= 0:
                continue
            for g in range(m):
                y = model.new_bool_var("")
                model.add_implication(y, x[i][g])
                model.add_implication(y, x[j][g])
                terms.append(w * y)
    model.maximize(sum(terms))

    class _Tracker(cp_model.CpSolverSolutionCallback):
        def __init__(self) -> None:
            super().__init__()
            self.t0 = time.perf_counter()
            self.last = 0.0

        def on_solution_callback(self) -> None:
            self.last = time.perf_counter() - self.t0

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 0
    tracker = _Tracker()
    status = solver.solve(model, tracker)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.full(n, -1, dtype=np.int64), float("nan")
    assign = np.array(
        [next(g for g in range(m) if solver.boolean_value(x[i][g])) for i in range(n)],
        dtype=np.int64,
    )
    return assign, tracker.last


def _run_cpsat(job: tuple[str, float, float]) -> Row:
    name, time_limit, best_known = job
    inst = read_mdgp(instance_path(name))
    t0 = time.perf_counter()
    assign, ttb = solve_cpsat(inst, time_limit)
    elapsed = time.perf_counter() - t0
    if assign[0] < 0:
        objective = float("nan")
    else:
        check_mdgp_assignment(inst, assign)
        objective = mdgp_objective(inst.dist, assign)
    return Row(
        solver="cpsat",
        instance=name,
        set=name.split("_")[0],
        n=inst.n,
        kind=inst.kind,
        seed=0,
        time_limit=time_limit,
        objective=objective,
        best_known=best_known,
        gap_pct=gap_pct(objective, best_known),
        time_to_best=ttb,
        elapsed=elapsed,
        iterations=0,
        compile_seconds=0.0,
    )


# ------------------------------------------------------------------ reporting


def machine_summary() -> str:
    """CPU model and core count of this machine."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs (nproc)"


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """Write all rows to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0]).keys()))
        writer.writeheader()
        for r in rows:
            d = asdict(r)
            for key in ("objective", "best_known"):
                d[key] = f"{d[key]:.6f}"
            for key in ("gap_pct",):
                d[key] = f"{d[key]:.4f}"
            for key in ("time_to_best", "elapsed", "compile_seconds"):
                d[key] = f"{d[key]:.3f}"
            writer.writerow(d)


def summary_markdown(rows: Sequence[Row], jobs: int, note: str = "") -> str:
    """Markdown tables: mean gap per set / size / kind, and the CP-SAT baseline."""
    its = [r for r in rows if r.solver == "its"]
    groups: dict[tuple[str, int, str], list[Row]] = defaultdict(list)
    for r in its:
        groups[(r.set, r.n, r.kind)].append(r)
    lines = [
        "# MDGP benchmark results",
        "",
        f"Machine: {machine_summary()}; {jobs} benchmark process(es) in parallel.",
    ]
    if note:
        lines += ["", note]
    lines += [
        "",
        "Gap = 100 (best_known - objective) / best_known; negative = better than published.",
        "",
        "| set | n | kind | time limit (s) | instances | runs | mean gap % "
        "| mean best-of-seeds gap % | worst gap % | runs >= best-known "
        "| mean time to final value (s) | mean iterations/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"RanReal": 0, "RanInt": 1, "Geo": 2}
    for key in sorted(groups, key=lambda k: (k[1], order.get(k[0], 9), k[0], k[2])):
        rs = groups[key]
        per_inst: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            per_inst[r.instance].append(r.gap_pct)
        best_of = [min(v) for v in per_inst.values()]
        at_or_above = sum(1 for r in rs if r.gap_pct <= 1e-6)
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {rs[0].time_limit:g} | {len(per_inst)} "
            f"| {len(rs)} | {statistics.fmean(r.gap_pct for r in rs):.3f} "
            f"| {statistics.fmean(best_of):.3f} | {max(r.gap_pct for r in rs):.3f} "
            f"| {at_or_above}/{len(rs)} | {statistics.fmean(r.time_to_best for r in rs):.2f} "
            f"| {statistics.fmean(r.iterations / max(r.elapsed, 1e-9) for r in rs):,.0f} |"
        )
    cps = [r for r in rows if r.solver == "cpsat"]
    if cps:
        lines += [
            "",
            "## Baseline: plain CP-SAT model (1 worker)",
            "",
            "| instance | time limit (s) | CP-SAT gap % | search mean gap % (same instance) |",
            "|---|---|---|---|",
        ]
        for r in cps:
            mine = [x.gap_pct for x in its if x.instance == r.instance]
            mine_s = f"{statistics.fmean(mine):.3f}" if mine else "n/a"
            cp_s = "no solution" if math.isnan(r.gap_pct) else f"{r.gap_pct:.3f}"
            lines.append(f"| {r.instance} | {r.time_limit:g} | {cp_s} | {mine_s} |")
    return "\n".join(lines) + "\n"


def read_rows(path: Path) -> list[Row]:
    """Rows of a CSV written by :func:`write_csv`."""
    types = {f: t for f, t in Row.__annotations__.items()}
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            kw: dict[str, object] = {}
            for key, text in rec.items():
                kind = types[key]
                kw[key] = int(text) if kind == "int" else float(text) if kind == "float" else text
            rows.append(Row(**kw))  # type: ignore[arg-type]
    return rows


# ------------------------------------------------------------------ main


def _parse_indices(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def _parse_time_limits(text: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for part in text.split(","):
        n, t = part.split("=")
        out[int(n)] = float(t)
    return out


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.mdgp_bench", description=__doc__)
    p.add_argument("--sets", default="RanReal,RanInt,Geo", help="comma-separated sets")
    p.add_argument("--sizes", default="120,240", help="comma-separated n values")
    p.add_argument("--kinds", default="ss,ds", help="ss, ds or both")
    p.add_argument("--indices", default="1-10", help="instance indices, e.g. 1-5 or 1,3,7")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    p.add_argument(
        "--time-limits", default="120=10,240=30", help="seconds per run by n, e.g. 120=10,240=30"
    )
    p.add_argument("--jobs", type=int, default=1, help="parallel benchmark processes")
    p.add_argument(
        "--cpsat", default=",".join(DEFAULT_CPSAT), help="instances for the CP-SAT baseline"
    )
    p.add_argument("--cpsat-time", type=float, default=10.0, help="CP-SAT time limit (s)")
    p.add_argument("--no-cpsat", action="store_true", help="skip the CP-SAT baseline")
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--out-csv", type=Path, default=RESULTS_DIR / "mdgp.csv")
    p.add_argument("--out-md", type=Path, default=RESULTS_DIR / "mdgp.md")
    p.add_argument("--note", default="", help="free text added to the Markdown summary")
    p.add_argument(
        "--summarize",
        type=Path,
        metavar="CSV",
        help="only rewrite the Markdown summary from an existing results CSV",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the process exit status."""
    args = build_parser().parse_args(argv)
    if args.summarize is not None:
        md = summary_markdown(read_rows(args.summarize), args.jobs, args.note)
        args.out_md.write_text(md, encoding="utf-8")
        print(md)
        return 0
    if args.quick:
        args.sets, args.sizes, args.kinds, args.indices = "RanReal", "120", "ss,ds", "1"
        args.seeds, args.time_limits = "0", "120=1"
        args.cpsat, args.cpsat_time = "RanReal_n120_ss_01", 2.0
    sets = [s for s in args.sets.split(",") if s]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    limits = _parse_time_limits(args.time_limits)
    best = read_best_known(INSTANCE_DIR / "best_known.csv")
    names = instance_names(sets, sizes, kinds, _parse_indices(args.indices))
    its_jobs = [
        (name, seed, limits.get(int(name.split("_")[1][1:]), 10.0), best[name])
        for name in names
        for seed in seeds
    ]
    cps_jobs = (
        []
        if args.no_cpsat
        else [(name, args.cpsat_time, best[name]) for name in args.cpsat.split(",") if name]
    )
    budget = sum(j[2] for j in its_jobs) + sum(j[1] for j in cps_jobs)
    print(
        f"{len(its_jobs)} search runs + {len(cps_jobs)} CP-SAT runs, "
        f"~{budget / max(args.jobs, 1) / 60:.1f} min with {args.jobs} process(es)",
        flush=True,
    )
    rows: list[Row] = []
    with ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
        futures = [pool.submit(_run_its, j) for j in its_jobs]
        futures += [pool.submit(_run_cpsat, j) for j in cps_jobs]
        for fut in futures:
            r = fut.result()
            rows.append(r)
            print(
                f"{r.solver:5s} {r.instance:22s} seed={r.seed} obj={r.objective:.3f} "
                f"gap={r.gap_pct:+.3f}% ttb={r.time_to_best:.2f}s it={r.iterations}",
                flush=True,
            )
    write_csv(rows, args.out_csv)
    md = summary_markdown(rows, args.jobs, args.note)
    args.out_md.parent.mkdir(parents=True, exist_ok=True)
    args.out_md.write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
