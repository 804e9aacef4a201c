"""Wall time of the whole ``teamform form`` command against its ``--time-limit``.

Run from the repository root::

    python -m benchmarks.wallclock                    # 2 000 and 10 000 learners
    python -m benchmarks.wallclock --quick            # smoke run, a few seconds
    python -m benchmarks.wallclock --sizes 10000 --limits 10 30 --repeats 3

Each run is the real command in a fresh process (``python -m teamform form``
with ``--out`` and ``--json``, stdout to a pipe): the wall time is measured
around the process, from before it is spawned to after it has exited, and
the result JSON's ``timings`` say where the time went (start-up, read, build,
search, finish, write). The promise measured: wall time <= limit + 1 s.
Results go to ``benchmarks/results/wallclock.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.cohorts import cohort_dir, timed_form

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODEL = ROOT / "models" / "collaborative.toml"
#: Seconds over the limit the whole command may take.
SLACK = 1.0
PHASES = ("startup", "read", "build", "construction", "bounds", "search", "finish", "write")


def run_form(
    directory: Path,
    limit: float,
    seed: int,
    work: Path,
    src: Path | None = None,
    model: Path = MODEL,
) -> dict[str, Any]:
    """One ``teamform form`` process on a cohort; its wall time and timings.

    ``src`` is the source tree to run (default: this checkout's), e.g. an
    earlier version's for a baseline in the same session; ``model`` the
    formation model (default: the collaborative preset).
    """
    out_csv, out_json = work / "teams.csv", work / "result.json"
    env = None if src is None else {"PYTHONPATH": str(src)}
    result, wall, proc = timed_form(
        directory, model, limit, seed, out_json, "--out", str(out_csv), env=env, timeout=limit + 120
    )
    timings = result["timings"]
    row: dict[str, Any] = {
        "n": result["n_learners"],
        "teams": result["n_teams"],
        "limit_s": limit,
        "seed": seed,
        "wall_s": round(wall, 3),
        "wall_over_limit": round(wall / limit, 3),
        "within": wall <= limit + SLACK,
        "objective": result["objective"],
        "status": result["status"],
        "reserve_s": round(timings["reserve"], 3),
        # the command's own account of its time, and the machine's load as it ended
        "reported_s": None if timings.get("total") is None else round(timings["total"], 3),
        "load": round(os.getloadavg()[0], 2),
        "printed_lines": proc.stdout.count("\n"),
    }
    for phase in PHASES:
        value = timings.get(phase)
        row[f"{phase}_s"] = None if value is None else round(value, 3)
    row["result"] = result
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    lines = [
        f"### teamform form: wall time against --time-limit ({platform.python_version()}, "
        f"{os.cpu_count()} CPUs)",
        "",
        "| learners | limit | wall | wall/limit | start-up | read | build | construction "
        "| bounds | search | finish "
        "| write | reserve | objective |",
        "|" + "---:|" * (6 + len(PHASES)),
    ]
    for r in rows:
        phases = " | ".join("-" if r[f"{p}_s"] is None else f"{r[f'{p}_s']:.2f}" for p in PHASES)
        lines.append(
            f"| {r['n']} | {r['limit_s']:g} s | {r['wall_s']:.2f} s | {r['wall_over_limit']:.3f} "
            f"| {phases} | {r['reserve_s']:.2f} | {r['objective']:.0f} |"
        )
    worst = max(rows, key=lambda r: r["wall_s"] - r["limit_s"])
    lines += [
        "",
        f"Largest overrun: {worst['wall_s'] - worst['limit_s']:+.2f} s at {worst['n']} learners "
        f"and {worst['limit_s']:g} s; every run within limit + {SLACK:g} s: "
        f"{'yes' if all(r['within'] for r in rows) else 'no'}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--limits", type=float, nargs="+", default=[5.0, 10.0, 30.0])
    parser.add_argument("--repeats", type=int, default=2, help="seeds 0.. per size and limit")
    parser.add_argument("--quick", action="store_true", help="120 learners, 2 s, once")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.limits, args.repeats = [120], [2.0], 1
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in args.sizes:
            directory = cohort_dir(n, work)
            for limit in args.limits:
                for seed in range(args.repeats):
                    row = run_form(directory, limit, seed, work)
                    rows.append(row)
                    print(
                        f"n={n} limit={limit:g} seed={seed}: wall {row['wall_s']:.2f} s "
                        f"({row['wall_over_limit']:.3f} x limit)",
                        flush=True,
                    )
    args.results.mkdir(parents=True, exist_ok=True)
    with open(args.results / "wallclock.csv", "w", newline="", encoding="utf-8") as fh:
        rows = [{k: v for k, v in r.items() if k != "result"} for r in rows]
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (args.results / "wallclock.md").write_text(markdown(rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
