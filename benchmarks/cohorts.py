"""Benchmark teamform on synthetic cohorts against two baselines.

Run from the repository root::

    python -m benchmarks.cohorts                 # full suite (about half an hour)
    python -m benchmarks.cohorts --quick         # smoke run, a few seconds
    python -m benchmarks.cohorts --sizes 2000 --seeds 0 --budget 60

Each run happens in a fresh subprocess so that peak memory (max RSS) belongs to
that run alone. Per cohort and seed it records, for teamform under the
collaborative preset: time to the first assignment meeting every hard rule
(counting the time to read the roster), the objective at 10 s and at the end
of the budget, the bound, the gap, the excess per team and the per-criterion
penalties against their lower bounds; and, in the same invocation, the same
figures for a random assignment and for the plain monolithic CP-SAT model.
Results go to ``benchmarks/results/cohort_n<N>.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teamform.instance import Instance

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODEL = ROOT / "models" / "collaborative.toml"
REFERENCE_DATE = "2026-01-12"
COMMITTED = {30, 120, 500, 2000}


def cohort_dir(n: int, workdir: Path) -> Path:
    """Committed cohort for n, or one generated on demand from seed 1."""
    if n in COMMITTED:
        return ROOT / "instances" / "synthetic" / f"n{n}_s1"
    path = workdir / f"n{n}_s1"
    if not (path / "roster.csv").exists():
        from teamform.generate import generate_cohort, write_cohort

        write_cohort(generate_cohort(n, 1), path)
    return path


def cohort_instance(directory: Path, model_path: Path = MODEL) -> Instance:
    """The compiled instance of a cohort directory, as ``teamform form`` builds it here."""
    from datetime import date

    from teamform import FormationModel, load_roster
    from teamform.instance import build_instance

    model = FormationModel.from_toml(model_path)
    data = model.model_dump()
    data["criteria"]["overlap"]["reference_date"] = date.fromisoformat(REFERENCE_DATE)
    model = FormationModel.from_dict(data)
    roster = load_roster(
        directory / "roster.csv", avoid=directory / "avoid.csv", prefer=directory / "prefer.csv"
    )
    return build_instance(roster, model)


def timed_form(
    directory: Path,
    model: Path,
    limit: float,
    seed: int,
    out_json: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: float,
) -> tuple[dict[str, Any], float, subprocess.CompletedProcess[str]]:
    """``teamform form`` on a cohort in a fresh process, timed from outside.

    Runs the sources of this checkout, unless ``PYTHONPATH`` is set already
    (that is how an older version is measured beside this one). Returns the
    result JSON the command wrote, its wall time and the finished process.
    """
    cmd = [
        sys.executable, "-m", "teamform", "form", str(directory / "roster.csv"),
        "--model", str(model), "--avoid", str(directory / "avoid.csv"),
        "--prefer", str(directory / "prefer.csv"), "--reference-date", REFERENCE_DATE,
        "--time-limit", str(limit), "--seed", str(seed), "--json", str(out_json), *extra,
    ]  # fmt: skip
    src = os.environ.get("PYTHONPATH") or str(ROOT / "src")
    full_env = {**os.environ, "PYTHONPATH": src, **(env or {})}
    begin = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout)
    wall = time.perf_counter() - begin
    if proc.returncode != 0:
        raise RuntimeError(f"teamform form failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(out_json.read_text(encoding="utf-8")), wall, proc


def run_one(
    method: str, directory: Path, budget: float, seed: int, mark: float, model_path: Path = MODEL
) -> dict[str, Any]:
    """One run in this process (called in a subprocess by :func:`main`)."""
    import numpy as np

    from teamform.criteria import OBJECTIVE_SCALE, build_terms
    from teamform.result import Status
    from teamform.search.construct import target_sizes
    from teamform.solve import Progress, solve_instance
    from teamform.validate import validate

    t0 = time.perf_counter()
    inst = cohort_instance(directory, model_path)
    read_time = time.perf_counter() - t0
    terms = build_terms(inst)
    row: dict[str, Any] = {"method": method, "n": inst.n, "teams": inst.k, "seed": seed}
    row["read_s"] = round(read_time, 3)

    if method == "random":
        rng = np.random.default_rng(seed)
        assignment = [0] * inst.n
        for s in range(len(inst.section_names)):
            teams = inst.teams_of_section(s)
            members = rng.permutation(np.flatnonzero(inst.section == s)).tolist()
            sizes = target_sizes(inst, teams, len(members))
            pos = 0
            for t, size in zip(teams.tolist(), sizes, strict=True):
                for i in members[pos : pos + size]:
                    assignment[i] = t
                pos += size
        check = validate(inst, assignment, terms)
        elapsed = time.perf_counter() - t0
        row.update(
            first_feasible_s=round(elapsed, 3) if check.ok else None,
            obj_10s=check.objective / OBJECTIVE_SCALE,
            obj_end=check.objective / OBJECTIVE_SCALE,
            hard_violations=len(check.violations),
            status="feasible" if check.ok else "violates hard rules",
        )
        _penalties(row, terms, check.penalties)
        _time_counts(row, inst, terms, assignment)
        return row

    trail: list[tuple[float, float]] = []

    def progress(p: Progress) -> None:
        if p.objective is not None:
            trail.append((p.elapsed, p.objective))

    if method == "monolithic":
        result = _monolithic(inst, terms, budget, seed, t0, trail)
    else:
        result = solve_instance(
            inst, time_limit=budget, seed=seed, strategy="lns", progress=progress, started=t0
        )
    at10 = [obj for when, obj in trail if when <= 10.0]
    row.update(
        status=result.status.value,
        first_feasible_s=None if result.time_to_first is None else round(result.time_to_first, 3),
        obj_10s=(at10[-1] if at10 else None),
        obj_end=result.objective,
        bound=result.bound,
        gap=None if result.gap is None else round(result.gap, 4),
        excess_per_team=None
        if result.excess_per_team is None
        else round(result.excess_per_team, 3),
        runtime_s=round(result.runtime, 2),
        valid=result.valid,
    )
    if result.status in (Status.OPTIMAL, Status.FEASIBLE):
        assignment = [result.assignment[i] - 1 for i in inst.ids]
        _penalties(row, terms, validate(inst, assignment, terms).penalties)
        _time_counts(row, inst, terms, assignment)
    return row


def _monolithic(inst: Any, terms: Any, budget: float, seed: int, t0: float, trail: list) -> Any:
    """The plain full CP-SAT model: no construction, no hint, no local search."""
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.criteria import OBJECTIVE_SCALE
    from teamform.result import Status
    from teamform.search.cpsat import solver_for
    from teamform.solve import _finish

    class Cb(cp_model.CpSolverSolutionCallback):
        first: float | None = None

        def on_solution_callback(self) -> None:
            now = time.perf_counter() - t0
            if self.first is None:
                self.first = now
            trail.append((now, self.objective_value / OBJECTIVE_SCALE))

    sub = SubModel(inst, range(inst.n), range(inst.k), terms)
    remaining = max(0.1, budget - (time.perf_counter() - t0))
    solver = solver_for(remaining, seed, 2, False)
    cb = Cb()
    code = solver.solve(sub.model, cb)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = sub.read(solver)
        status = Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE
        return _finish(
            inst,
            terms,
            [found[i] for i in range(inst.n)],
            status,
            t0,
            seed,
            2,
            "monolithic",
            [],
            solver_bound=round(solver.best_objective_bound),
            time_to_first=cb.first,
        )
    status = Status.INFEASIBLE if code == cp_model.INFEASIBLE else Status.UNKNOWN
    return _finish(inst, terms, None, status, t0, seed, 2, "monolithic", [])


def _penalties(row: dict[str, Any], terms: Any, penalties: dict[str, int]) -> None:
    for term in terms:
        row[f"{term.name}"] = round(term.natural(penalties[term.name]), 3)
        row[f"{term.name}_lb"] = round(term.natural(term.lower_bound()), 3)


def _time_counts(row: dict[str, Any], inst: Any, terms: Any, assignment: list[int]) -> None:
    """Teams with no common block and teams below the target, against the proven minimum."""
    from teamform.criteria import OverlapTerm

    term = next((t for t in terms if isinstance(t, OverlapTerm)), None)
    if term is None:
        return
    members: list[list[int]] = [[] for _ in range(inst.k)]
    for i, t in enumerate(assignment):
        members[t].append(i)
    common = [term.common_slots(m) for m in members]
    row["hours_short"] = sum(max(0, term.need - c) for c in common) * term.unit
    row["teams_0h"] = sum(c == 0 for c in common)
    row["teams_below"] = sum(c < term.need for c in common)
    if hasattr(term, "forced_teams"):  # older versions cannot tell
        row["teams_below_min"], row["teams_0h_min"] = term.forced_teams()


def spawn(
    method: str,
    directory: Path,
    budget: float,
    seed: int,
    timeout: float,
    model_path: Path = MODEL,
) -> dict[str, Any]:
    """Run :func:`run_one` in a fresh interpreter and collect its row and peak memory."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.cohorts",
        "--one",
        method,
        "--dir",
        str(directory),
        "--budget",
        str(budget),
        "--seed",
        str(seed),
        "--model",
        str(model_path),
    ]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"method": method, "seed": seed, "status": f"timeout after {timeout:.0f} s"}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"method": method, "seed": seed, "status": f"failed: {tail[:120]}"}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["process_wall_s"] = round(wall, 2)
    return row


COLUMNS = [
    "method",
    "seed",
    "n",
    "teams",
    "status",
    "read_s",
    "first_feasible_s",
    "obj_10s",
    "obj_end",
    "bound",
    "gap",
    "excess_per_team",
    "peak_mb",
    "overlap",
    "overlap_lb",
    "motivation",
    "motivation_lb",
    "skill_balance",
    "skill_balance_lb",
    "prefer",
    "prefer_lb",
    "hours_short",
    "teams_0h",
    "teams_0h_min",
    "teams_below",
    "teams_below_min",
    "hard_violations",
    "runtime_s",
    "process_wall_s",
]


def write_tables(n: int, rows: list[dict[str, Any]], budget: float, results: Path) -> None:
    """CSV and Markdown table of one cohort's runs."""
    results.mkdir(parents=True, exist_ok=True)
    with open(results / f"cohort_n{n}.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    shown = [
        "method",
        "seed",
        "status",
        "first_feasible_s",
        "obj_10s",
        "obj_end",
        "bound",
        "gap",
        "excess_per_team",
        "peak_mb",
        "overlap",
        "overlap_lb",
        "motivation",
        "skill_balance",
        "skill_balance_lb",
        "hours_short",
        "teams_0h",
        "teams_0h_min",
        "teams_below",
        "teams_below_min",
    ]
    lines = [
        f"### n = {n} (budget {budget:g} s)",
        "",
        "| " + " | ".join(shown) + " |",
        "|" + "---|" * len(shown),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in shown) + " |")
    (results / f"cohort_n{n}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def machine() -> str:
    """One line describing this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[120, 500, 2000, 10000])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--methods", nargs="*", default=["teamform", "random", "monolithic"])
    parser.add_argument(
        "--monolithic-max",
        type=int,
        default=2000,
        help="skip the monolithic baseline above this many learners",
    )
    parser.add_argument("--quick", action="store_true", help="n=30, one seed, 2 s budget")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/teamform-bench"))
    parser.add_argument("--results", type=Path, default=RESULTS, help="where tables go")
    parser.add_argument("--model", type=Path, default=MODEL, help="formation model (TOML)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:
        row = run_one(args.one, args.dir, args.budget, args.seed, 0.0, args.model)
        row["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(row))
        return 0

    if args.quick:
        args.sizes, args.seeds, args.budget = [30], [0], 2.0
    print(f"machine: {machine()}", flush=True)
    for n in args.sizes:
        directory = cohort_dir(n, args.workdir)
        rows = []
        for seed in args.seeds:
            for method in args.methods:
                if method == "monolithic" and n > args.monolithic_max:
                    continue
                row = spawn(method, directory, args.budget, seed, args.budget * 3 + 120, args.model)
                rows.append(row)
                print(json.dumps(row), flush=True)
        write_tables(n, rows, args.budget, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
