"""Throughput of ``teamform batch``: the local process pool against one job at a time.

Run from the repository root::

    python -m benchmarks.batch                  # 200 sections of 30-300 learners, 0.5 s each
    python -m benchmarks.batch --quick          # smoke run, 6 small sections
    python -m benchmarks.batch --sections 100 --time-limit 1

Sections are generated cohorts (``teamform generate``) of sizes drawn uniformly
from 30-300 learners (seeded), under the collaborative preset with a per-job
time limit. Both engines run the same jobs in the same invocation, the serial
engine first, each into its own output directory; throughput is jobs per
second of wall time, including the pool's worker start-up. Results go to
``benchmarks/results/batch.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
REFERENCE_DATE = "2026-01-12"


def make_sections(root: Path, count: int, lo: int, hi: int, seed: int) -> list[int]:
    """Write ``count`` generated sections under ``root``; their sizes."""
    import numpy as np

    from teamform.generate import generate_cohort, write_cohort

    sizes = np.random.default_rng(seed).integers(lo, hi + 1, size=count).tolist()
    for i, n in enumerate(sizes):
        write_cohort(generate_cohort(int(n), seed + i), root / f"section{i:03d}")
    return [int(n) for n in sizes]


def run(engine: str, root: Path, out: Path, time_limit: float) -> dict[str, Any]:
    """Every section as one job on ``engine``; wall time and what came of the jobs."""
    from teamform.batch import JobOptions, default_parallel, form_many, load_jobs

    jobs = load_jobs(
        root,
        JobOptions(model="collaborative", time_limit=time_limit, reference_date=REFERENCE_DATE),
    )
    start = time.perf_counter()
    results = form_many(jobs, out, engine=engine)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    ok = [r for r in results if r.ok]
    return {
        "engine": engine,
        "parallel": default_parallel(1) if engine == "process" else 1,
        "jobs": len(results),
        "ok": len(ok),
        "wall_s": round(wall, 2),
        "jobs_per_s": round(len(results) / wall, 3),
        "job_time_mean_s": round(sum(r.runtime for r in results) / len(results), 3),
        "objective_sum": round(sum(r.objective or 0 for r in ok), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=200)
    parser.add_argument("--min", type=int, default=30, help="smallest section")
    parser.add_argument("--max", type=int, default=300, help="largest section")
    parser.add_argument("--time-limit", type=float, default=0.5, help="seconds per job")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="6 sections of 30-60, 0.2 s")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sections, args.min, args.max, args.time_limit = 6, 30, 60, 0.2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sections"
        sizes = make_sections(root, args.sections, args.min, args.max, args.seed)
        rows = []
        for engine in ("serial", "process"):
            row = run(engine, root, Path(tmp) / f"out-{engine}", args.time_limit)
            row.update(sections=args.sections, learners=sum(sizes), time_limit_s=args.time_limit)
            rows.append(row)
            print(
                f"{engine}: {row['jobs']} jobs in {row['wall_s']:.1f} s "
                f"({row['jobs_per_s']:.2f} jobs/s)",
                flush=True,
            )
    ratio = rows[1]["jobs_per_s"] / rows[0]["jobs_per_s"]
    args.results.mkdir(parents=True, exist_ok=True)
    with open(args.results / "batch.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"### teamform batch: {args.sections} sections of {args.min}-{args.max} learners "
        f"({sum(sizes)} in all), {args.time_limit:g} s a job",
        "",
        f"Python {platform.python_version()} on {os.cpu_count()} CPUs ({sys.platform}).",
        "",
        "| engine | jobs at once | jobs | formed teams | wall | jobs/s | mean job time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['parallel']} | {r['jobs']} | {r['ok']} | {r['wall_s']:.1f} s "
            f"| {r['jobs_per_s']:.2f} | {r['job_time_mean_s']:.2f} s |"
        )
    lines += ["", f"Throughput ratio, process pool / serial: {ratio:.2f}."]
    (args.results / "batch.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"throughput ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
