"""Plan quality in work units: the same search on any machine, under any load.

Run from the repository root::

    python -m benchmarks.work --sizes 2000 10000 --budgets 10 60 --seeds 0 1 2
    python -m benchmarks.work --hard-spread --baseline /path/to/earlier/src --name hard_spread
    python -m benchmarks.work --quick                           # smoke run, a few seconds

Each run is a deterministic solve (``deterministic=True``: the budget counts
local-search steps and CP-SAT's deterministic time, not seconds) in a fresh
process, so the plans do not depend on how busy the machine is, and two
versions can be compared while other work runs beside them. Per run: the
objective at the model's weights, the criteria's penalties (motivation:
learners off the even spread; overlap: hours short, steps included; skill
balance; split preferred pairs), and the wall time (which does depend on the
load).

With ``--hard-spread`` the collaborative preset's motivation spread is a hard
rule (``hard = true``): every plan is at its bound, and the objective says what
that costs. The objective column is then the preset's own: learners off the
spread (none) would weigh what the preset gives them. With ``--baseline``,
every run is made twice, first with the given source tree, then with this
checkout's. Results go to ``benchmarks/results/<name>.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.cohorts import RESULTS, ROOT, cohort_dir, cohort_instance

MODEL = ROOT / "models" / "collaborative.toml"


def hard_spread_model(work: Path, model: Path = MODEL) -> Path:
    """``model`` with its motivation spread a hard rule."""
    text = model.read_text(encoding="utf-8")
    head, sep, tail = text.partition("[criteria.motivation]")
    tail, count = re.subn(r"(?m)^hard = false", "hard = true", tail, count=1)
    if not sep or count != 1:
        raise RuntimeError(f"{model}: no motivation rule to make hard")
    path = work / "hard_spread.toml"
    path.write_text(head + sep + tail, encoding="utf-8")
    return path


def one_run(directory: Path, model: Path, budget: float, seed: int) -> dict[str, Any]:
    """One deterministic solve in this process; its row."""
    import time

    from teamform.solve import solve_instance

    inst = cohort_instance(directory, model)
    began = time.perf_counter()
    result = solve_instance(inst, time_limit=budget, seed=seed, workers=1, deterministic=True)
    wall = time.perf_counter() - began
    scores = {c.name: c for c in result.breakdown}
    # a hard rule keeps the preset's weight: the spread scored as the preset would
    objective = sum(c.weighted if not c.hard else c.weight * c.penalty for c in scores.values())
    return {
        "n": inst.n,
        "budget": budget,
        "seed": seed,
        "valid": result.valid,
        "objective": round(objective, 2),
        "motivation": scores["motivation"].penalty,
        "motivation_hard": scores["motivation"].hard,
        "overlap": scores["overlap"].penalty,
        "skill_balance": round(scores["skill_balance"].penalty, 2),
        "prefer": scores["prefer"].penalty,
        "wall_s": round(wall, 2),
    }


def run(
    n: int, budget: float, seed: int, work: Path, model: Path, src: Path | None, version: str
) -> dict[str, Any]:
    """:func:`one_run` in a fresh process of ``src`` (default: this checkout's)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src or ROOT / "src"), str(ROOT)])}
    code = (
        "import json, sys; from pathlib import Path; from benchmarks.work import one_run; "
        f"print(json.dumps(one_run(Path({str(cohort_dir(n, work))!r}), Path({str(model)!r}), "
        f"{budget!r}, {seed!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"run n={n} budget={budget} seed={seed} failed:\n{done.stderr}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    row["version"] = version
    return row


def write(rows: list[dict[str, Any]], name: str, results: Path) -> None:
    """The rows as CSV and as a Markdown table."""
    results.mkdir(parents=True, exist_ok=True)
    with (results / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    head = "| learners | budget | seed | version | objective | off | overlap h | skill | prefer |"
    lines = [head, "|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['budget']:g} | {r['seed']} | {r['version']} | {r['objective']:g} "
            f"| {r['motivation']:g} | {r['overlap']:g} | {r['skill_balance']:g} | {r['prefer']:g} |"
        )
    (results / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--budgets", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--hard-spread", action="store_true", help="the spread a hard rule")
    parser.add_argument("--baseline", type=Path, help="source tree of the version to compare to")
    parser.add_argument("--quick", action="store_true", help="120 learners, budget 1, seed 0")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--name", default="work", help="results file name (without suffix)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.budgets, args.seeds = [120], [1.0], [0]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="teamform-work-") as tmp:
        work = Path(tmp)
        model = hard_spread_model(work) if args.hard_spread else MODEL
        for n in args.sizes:
            for budget in args.budgets:
                for seed in args.seeds:
                    versions = [("baseline", args.baseline)] if args.baseline else []
                    for version, src in [*versions, ("this", None)]:
                        row = run(n, budget, seed, work, model, src, version)
                        print(json.dumps(row), flush=True)
                        rows.append(row)
    write(rows, args.name, args.results)


if __name__ == "__main__":
    main()
