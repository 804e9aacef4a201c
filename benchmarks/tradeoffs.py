"""Common time against skill balance, and more time against a better answer.

Run from the repository root::

    python -m benchmarks.tradeoffs pareto                # swap baseline vs a weight sweep
    python -m benchmarks.tradeoffs monotone              # 10 s vs 30 s, separate processes
    python -m benchmarks.tradeoffs coldstart --cases demo:5 120:10  # a fresh install
    python -m benchmarks.tradeoffs minzero               # fewest teams without common time
    python -m benchmarks.tradeoffs fewest                # teamform against that minimum

``pareto``: on each cohort (collaborative preset), a plain swap heuristic (the
baseline: random teams, then the best skill-balancing swap of the worst team's
members until every team's mean of every skill lies within 0.2 standard
deviations of the cohort's) against teamform with the skill-balance weight
swept (the other weights as in the preset). Each plan is scored by its hours
short of the common-time target (summed over teams), its teams without common
time, and its skill deviation: the mean over teams and skills of
``|team mean - cohort mean|`` in skill points (with the mean range of team
means, max - min, beside it). A plan dominates another when it is no worse on
both hours short and skill deviation and better on one.

``monotone``: ``teamform form`` at 10 s and 30 s on the same cohort and seed,
each in its own process, with wall-clock limits and with ``--deterministic``
(``--modes clock work``): does the longer run ever end worse?

``minzero``: the fewest teams without common time, and below the target,
each cohort allows: exact packings of learners into the windows they are free
in, and into the sets of learners sharing the target's hours, as whole teams
(``teamform.search.common_time.fewest_without_time`` and
``fewest_below_target``: the fewest each finds, and CP-SAT's proof,
``--budget`` seconds each), beside the learner bound (learners whose best
possible team has no common block, or falls short). A minimum is proven
when the fewest found equals the larger bound. Both packings at once, with no
more teams without time than the first packing found
(``fewest_below_with_time``, ``3 * --budget`` seconds), give the fewest teams
below the target a plan can have with the teams without time at that count
(``*_below_at_0h``); its bound is the largest of CP-SAT's
(``joint_bound_below_at_0h``), the target packing's and the teams the
learners in no set sharing the target's hours need with a window each
(``stranded_teams``, ``stranded_below_at_0h``). Cohorts of up to 80 learners also
get a plan from CP-SAT on the whole model (every hard rule, the count of teams
below the target first, ``3 * --budget`` seconds): its count equal to the
bound closes the minimum below the target.

``fewest``: teamform (``--limits``, ``--seeds``) against those proven minima:
teams with 0 h and below the target, per size, seed and limit.

``coldstart``: ``teamform form`` as on a fresh install, per case (``demo:5``: the
demo course at 5 s; ``120:10``: 120 learners at 10 s): from a copy of the
sources without bytecode or compiled kernels, the first run, the run right
after it, and a run once the kernels have compiled; the wall time measured
around the command and the total it reports, against the limit, and how many
parts ran in Python (``python_fallback``). ``PYTHONPATH`` set to another
checkout's ``src`` measures that version instead. ``--no-filled`` leaves out
the run on a filled cache (which waits minutes for the background compiler on
a busy machine) and ends that compiler instead.
Results go to ``benchmarks/results/tradeoffs_*.csv`` and ``.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.cohorts import MODEL, REFERENCE_DATE, cohort_dir, machine, timed_form

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
#: The baseline stops once every team mean is this many cohort SDs from the cohort mean.
TOLERANCE_SD = 0.2
#: Settings from the command line.
OPTIONS: dict[str, Any] = {"model": MODEL}


def load(
    n: int, work: Path, skill_weight: float | None = None, overlap: dict[str, float] | None = None
) -> Any:
    """The cohort's instance under the collaborative preset (skill weight and the
    overlap criterion's settings in ``overlap`` overridden)."""
    from teamform import FormationModel, load_roster
    from teamform.instance import build_instance

    directory = cohort_dir(n, work)
    data = FormationModel.from_toml(OPTIONS["model"]).model_dump()
    data["criteria"]["overlap"]["reference_date"] = date.fromisoformat(REFERENCE_DATE)
    if skill_weight is not None:
        data["criteria"]["skill_balance"]["weight"] = skill_weight
    data["criteria"]["overlap"].update(overlap or {})
    roster = load_roster(
        directory / "roster.csv", avoid=directory / "avoid.csv", prefer=directory / "prefer.csv"
    )
    return build_instance(roster, FormationModel.from_dict(data))


def swap_baseline(inst: Any, seed: int) -> list[int]:
    """Random teams, then skill-balancing swaps until every team mean is within tolerance.

    Each round takes the team whose mean is furthest (in cohort SDs) from the
    cohort mean on some skill and applies the swap of one of its members with
    any learner of another team of the section that most lowers the sum of
    squared deviations of the two teams; swaps that would join an avoid pair
    are skipped. Sizes are never changed. Stops too when the worst deviation has
    not gone down for as many rounds as there are teams (team means move in
    steps of a quarter point, so the tolerance is not always reachable).
    """
    from teamform.instance import SKILL_SCALE
    from teamform.search.construct import target_sizes

    rng = np.random.default_rng(seed)
    skills = inst.skills.astype(float) / SKILL_SCALE
    sd = skills.std(axis=0)
    sd[sd == 0] = 1.0
    z = (skills - skills.mean(axis=0)) / sd  # learners in cohort SDs
    assign = np.zeros(inst.n, dtype=np.int64)
    for s in range(len(inst.section_names)):
        teams = inst.teams_of_section(s)
        members = rng.permutation(np.flatnonzero(inst.section == s))
        sizes = target_sizes(inst, teams, len(members))
        pos = 0
        for t, size in zip(teams.tolist(), sizes, strict=True):
            assign[members[pos : pos + size]] = t
            pos += size
    avoid = [set(a) for a in inst.avoid_adj]
    sums = np.zeros((inst.k, z.shape[1]))
    np.add.at(sums, assign, z)
    size = np.bincount(assign, minlength=inst.k).astype(float)
    worst, stalled = np.inf, 0
    while stalled < inst.k:
        dev = np.abs(sums / size[:, None])
        if dev.max() <= TOLERANCE_SD:
            break
        worst, stalled = (dev.max(), 0) if dev.max() < worst - 1e-9 else (worst, stalled + 1)
        t = int(np.argmax(dev.max(axis=1)))
        mem = np.flatnonzero(assign == t)
        others = np.flatnonzero(
            (inst.section == inst.team_section[t]) & (assign != t)
        )  # every learner of another team
        u = assign[others]
        best, pick = 0.0, None
        old = (sums[t] ** 2).sum() / size[t] ** 2 + (sums[u] ** 2).sum(axis=1) / size[u] ** 2
        for i in mem.tolist():
            delta = z[others] - z[i]  # what team t gains and team u loses
            new_t = ((sums[t] + delta) ** 2).sum(axis=1) / size[t] ** 2
            new_u = ((sums[u] - delta) ** 2).sum(axis=1) / size[u] ** 2
            gain = old - new_t - new_u
            for c in np.argsort(-gain)[:8].tolist():
                if gain[c] <= best:
                    break
                j = int(others[c])
                uj = int(u[c])
                mates_t = set(mem.tolist()) - {i}
                mates_u = set(np.flatnonzero(assign == uj).tolist()) - {j}
                if avoid[j] & mates_t or avoid[i] & mates_u:
                    continue
                best, pick = float(gain[c]), (i, j)
                break
        if pick is None:
            break
        i, j = pick
        ti, tj = int(assign[i]), int(assign[j])
        sums[ti] += z[j] - z[i]
        sums[tj] += z[i] - z[j]
        assign[i], assign[j] = tj, ti
    return assign.tolist()


def score(inst: Any, assignment: list[int]) -> dict[str, Any]:
    """Hours short, teams without common time, skill deviation and range of a plan."""
    from teamform.criteria import OverlapTerm, build_terms
    from teamform.instance import SKILL_SCALE
    from teamform.validate import validate

    terms = build_terms(inst)
    overlap = next(t for t in terms if isinstance(t, OverlapTerm))
    members: list[list[int]] = [[] for _ in range(inst.k)]
    for i, t in enumerate(assignment):
        members[t].append(i)
    common = [overlap.common_slots(m) for m in members]
    skills = inst.skills.astype(float) / SKILL_SCALE
    means = np.array([skills[m].mean(axis=0) for m in members])
    check = validate(inst, assignment, terms)
    return {
        "hours_short": sum(max(0, overlap.need - c) for c in common) * overlap.unit,
        "teams_0h": sum(c == 0 for c in common),
        "teams_below": sum(c < overlap.need for c in common),
        "skill_dev": round(float(np.abs(means - skills.mean(axis=0)).mean()), 6),
        "skill_range": round(float((means.max(axis=0) - means.min(axis=0)).mean()), 4),
        "valid": check.ok,
    }


def pareto(sizes: list[int], weights: list[float], budget: float, seed: int) -> list[dict]:
    """The swap baseline and teamform's weight sweep, scored alike."""
    from teamform.solve import solve_instance

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            inst = load(n, Path(tmp))
            begin = time.perf_counter()
            plan = swap_baseline(inst, seed)
            row = {"n": n, "method": "swap baseline", "skill_weight": None, "seed": seed}
            row["runtime_s"] = round(time.perf_counter() - begin, 3)
            rows.append({**row, **score(inst, plan)})
            print(json.dumps(rows[-1]), flush=True)
            for w in weights:
                inst = load(n, Path(tmp), skill_weight=w)
                result = solve_instance(inst, time_limit=budget, seed=seed, strategy="lns")
                plan = [result.assignment[i] - 1 for i in inst.ids]
                row = {"n": n, "method": "teamform", "skill_weight": w, "seed": seed}
                row["runtime_s"] = round(result.runtime, 2)
                rows.append({**row, **score(inst, plan)})
                print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        row["dominates_baseline"] = None
        if row["method"] == "teamform":
            base = next(r for r in rows if r["n"] == row["n"] and r["method"] != "teamform")
            row["dominates_baseline"] = _dominates(row, base)
    return rows


def _dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
    no_worse = a["hours_short"] <= b["hours_short"] and a["skill_dev"] <= b["skill_dev"]
    better = a["hours_short"] < b["hours_short"] or a["skill_dev"] < b["skill_dev"]
    return no_worse and better


def form_process(
    n: int,
    limit: float,
    seed: int,
    work: Path,
    env: dict[str, str] | None = None,
    deterministic: bool = False,
) -> dict[str, Any]:
    """``teamform form`` in a fresh process: wall time, reported runtime and objective."""
    directory = cohort_dir(n, work)
    out = work / f"result-{n}-{limit:g}-{seed}.json"
    extra = ("--quiet", "--deterministic") if deterministic else ("--quiet",)
    result, wall, _ = timed_form(
        directory, OPTIONS["model"], limit, seed, out, *extra, env=env, timeout=4 * limit + 300
    )
    return {
        "n": n,
        "mode": "work" if deterministic else "clock",
        "limit_s": limit,
        "seed": seed,
        "objective": result["objective"],
        "runtime_s": round(result["runtime"], 2),
        "wall_s": round(wall, 2),
        "python_fallback": len(result.get("python_fallback", [])),
    }


def monotone(
    sizes: list[int], limits: list[float], seeds: list[int], modes: list[str]
) -> list[dict[str, Any]]:
    """Each limit in its own process, per size, mode (``clock``: wall-clock
    limits; ``work``: ``--deterministic``) and seed; flags a longer run ending worse."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for mode in modes:
                for seed in seeds:
                    previous: float | None = None
                    for limit in sorted(limits):
                        row = form_process(n, limit, seed, Path(tmp), deterministic=mode == "work")
                        row["worse_than_shorter"] = (
                            previous is not None and row["objective"] > previous
                        )
                        previous = row["objective"]
                        row["load"] = round(os.getloadavg()[0], 1)
                        rows.append(row)
                        print(json.dumps(row), flush=True)
    return rows


def _wait_for_compilers(marker: str, timeout: float = 900) -> float:
    """Until the background compilation a first run started has ended (it fills the
    cache after that run's end); returns the seconds waited. ``marker`` is a string
    of its command line (the copy of the sources it compiles)."""
    begin = time.monotonic()
    while time.monotonic() < begin + timeout:
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True)
        if found.returncode != 0:
            break
        time.sleep(2)
    return time.monotonic() - begin


#: The runs of one case, in order: a fresh install's first run, the run right after
#: it (its background compiler may still be at work), and a run once that has ended.
COLD_RUNS = ("first run", "second run", "cache filled")


def _end_compilers(marker: str) -> None:
    """End the background compilers of the copy of the sources ``marker`` names."""
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    for pid in found.stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGTERM)
    _wait_for_compilers(marker, timeout=30)


def coldstart(cases: list[str], seed: int = 0, filled: bool = True) -> list[dict[str, Any]]:
    """Each case (``demo:5``, ``120:10``: cohort and limit) as on a fresh install.

    The package's sources are copied to an empty directory first, so that the
    first run has neither bytecode nor compiled kernels (numba caches them
    beside the sources, as for an editable install); then the three runs of
    :data:`COLD_RUNS`, back to back: wall time measured around the command and
    the total it reports, against the limit.
    """
    import shutil

    src = Path((os.environ.get("PYTHONPATH") or str(ROOT / "src")).split(os.pathsep)[0])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            cohort, _, limit_text = case.partition(":")
            limit = float(limit_text or 10)
            directory = ROOT / "instances" / "demo" if cohort == "demo" else None
            fresh = Path(tmp) / f"src-{cohort}-{limit:g}"
            shutil.copytree(
                src / "teamform", fresh / "teamform", ignore=shutil.ignore_patterns("__pycache__")
            )
            # the compiled kernels go beside the fresh copy, not to a cache set outside
            env = {"PYTHONPATH": str(fresh), "NUMBA_CACHE_DIR": ""}
            for label in COLD_RUNS if filled else COLD_RUNS[:2]:
                waited = _wait_for_compilers(str(fresh)) if label == "cache filled" else 0.0
                if directory is None:
                    directory = cohort_dir(int(cohort), Path(tmp))
                out = Path(tmp) / f"result-{cohort}-{limit:g}-{label.replace(' ', '-')}.json"
                result, wall, _ = timed_form(
                    directory, OPTIONS["model"], limit, seed, out, "--quiet",
                    "--out", str(out.with_suffix(".csv")), env=env, timeout=limit + 300,
                )  # fmt: skip
                tm = result["timings"]
                row = {
                    "cohort": cohort,
                    "limit_s": limit,
                    "run": label,
                    "wall_s": round(wall, 2),
                    "wall_over_limit": round(wall / limit, 3),
                    "total_s": round(tm["total"], 2),
                    "total_over_limit": round(tm["total"] / limit, 3),
                    # the JSON's file write, the printed summary, the interpreter's exit
                    "after_total_s": round(wall - tm["total"], 2),
                    "startup_s": round(tm["startup"], 2),
                    "search_s": round(tm["search"], 2),
                    "over_limit_s": None if tm.get("over_limit") is None
                    else round(tm["over_limit"], 2),
                    "python_fallback": len(result.get("python_fallback", [])),
                    "objective": result["objective"],
                    "waited_for_compiler_s": round(waited, 1),
                    "load": round(os.getloadavg()[0], 1),
                }  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
            # before the next case's first run
            if filled:
                _wait_for_compilers(str(fresh))
            else:
                _end_compilers(str(fresh))
    return rows


def proven_minimum(inst: Any, budget: float) -> dict[str, Any]:
    """The fewest teams without common time and below the target: the exact
    packings over window groups and over target groups
    (:func:`teamform.search.common_time.fewest_without_time`,
    :func:`~teamform.search.common_time.fewest_below_target`; the fewest each
    finds and CP-SAT's proof, ``budget`` seconds each), beside the learner bound
    (learners whose best possible team has no common block, or falls short)."""
    from teamform.criteria import OverlapTerm, build_terms
    from teamform.search.common_time import (
        fewest_below_target,
        fewest_below_with_time,
        fewest_without_time,
        stranded_teams,
    )

    term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
    below, empty = term.forced_teams()
    begin = time.perf_counter()
    packing = fewest_without_time(inst, term, time_limit=budget, workers=1)
    middle = time.perf_counter()
    short = fewest_below_target(inst, term, time_limit=budget, workers=1)
    proven_below = max(short.proven, below)
    joint_begin = time.perf_counter()
    # with no more teams without time than the packing found; one solve, for the bound
    joint = fewest_below_with_time(inst, term, packing.found, time_limit=3 * budget, workers=1)
    joint_end = time.perf_counter()
    # the learners no team at the target can hold, in teams with a window each
    stranded = stranded_teams(inst, term, packing.found, time_limit=budget)
    proven_at_0h = max(joint.proven, proven_below, stranded)
    return {
        "learner_bound_0h": empty,
        "packing_found_0h": packing.found,
        "proven_0h": max(packing.proven, empty),
        "packing_optimal": packing.optimal or packing.found == empty,
        "packing_s": round(middle - begin, 2),
        "learner_bound_below": below,
        "packing_found_below": short.found,
        "proven_below": proven_below,
        "below_optimal": short.found == proven_below,
        "below_packing_s": round(joint_begin - middle, 2),
        # the fewest below the target with the fewest teams without time found
        "found_below_at_0h": joint.found,
        "joint_bound_below_at_0h": joint.proven,
        "stranded_below_at_0h": stranded,
        "proven_below_at_0h": proven_at_0h,
        "below_at_0h_optimal": joint.optimal or joint.found == proven_at_0h,
        "below_at_0h_s": round(joint_end - joint_begin, 2),
        "stranded_s": round(time.perf_counter() - joint_end, 2),
    }


#: Cohorts up to this many learners get a plan with the fewest teams below the target
#: from CP-SAT on the whole model (the packing's bound ignores avoid pairs).
PLAN_MAX_LEARNERS = 80


def fewest_below_plan(n: int, work: Path, budget: float) -> dict[str, Any]:
    """A plan with as few teams below the target as CP-SAT finds in ``budget``
    seconds: the whole model with every hard rule, minimising the overlap
    criterion with a step for a team below the target larger than all the hours
    short together, so that their count comes first. A plan's count bounds the
    minimum from above: equal to the packing's bound, it is the minimum."""
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.criteria import OverlapTerm, build_terms

    inst = load(n, work, overlap={"below": 100.0, "none": 0.0})
    terms = build_terms(inst)
    term = next(t for t in terms if isinstance(t, OverlapTerm))
    assert term.below_step > inst.k * term.need
    sub = SubModel(inst, list(range(inst.n)), list(range(inst.k)), [t for t in terms if t.hard])
    sub.model.minimize(sum(term.add_to_model(sub).values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = budget
    solver.parameters.num_workers = 1
    begin = time.perf_counter()
    code = solver.solve(sub.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"plan_below": None, "plan_s": round(time.perf_counter() - begin, 2)}
    found = sub.read(solver)
    got = score(load(n, work), [found[i] for i in range(inst.n)])
    return {
        "plan_below": got["teams_below"], "plan_0h": got["teams_0h"], "plan_valid": got["valid"],
        "plan_s": round(time.perf_counter() - begin, 2),
    }  # fmt: skip


def minzero(sizes: list[int], budget: float) -> list[dict[str, Any]]:
    """The fewest teams without common time each cohort allows, and the proof."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            row = {"n": n, **proven_minimum(load(n, Path(tmp)), budget)}
            if n <= PLAN_MAX_LEARNERS:
                row.update(fewest_below_plan(n, Path(tmp), 3 * budget))
                row["below_exact"] = row["plan_below"] == row["proven_below"]
            rows.append(row)
            print(json.dumps(rows[-1]), flush=True)
    return rows


def fewest(
    sizes: list[int],
    limits: list[float],
    seeds: list[int],
    proof: float,
    below_step: float | None = None,
) -> list[dict]:
    """teamform's teams without common time and below the target against the proven minimum.

    With ``below_step``, each seed also runs once at the longest limit with the
    overlap criterion's step for a team below the target raised to that many
    hours (and the step for a team without time by as much): a search that puts
    the count of teams below the target first. Its plan is scored under the
    preset: its count is a plan's, so an upper bound on the minimum, and its
    objective against the preset run's says whether the preset's objective
    itself prefers more teams below the target.
    """
    from teamform.criteria import OBJECTIVE_SCALE, OverlapTerm, build_terms
    from teamform.solve import solve_instance
    from teamform.validate import validate

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            inst = load(n, Path(tmp))
            floor = proven_minimum(inst, proof)
            print(json.dumps({"n": n, **floor}), flush=True)
            runs: list[tuple[str, Any, float]] = [("preset", inst, limit) for limit in limits]
            if below_step is not None:
                term = next(t for t in build_terms(inst) if isinstance(t, OverlapTerm))
                steps = {"below": below_step, "none": term.none_step * term.unit + below_step}
                runs.append(("below_first", load(n, Path(tmp), overlap=steps), max(limits)))
            for seed in seeds:
                for mode, model_inst, limit in runs:
                    result = solve_instance(model_inst, time_limit=limit, seed=seed, strategy="lns")
                    plan = [result.assignment[i] - 1 for i in inst.ids]
                    got = score(inst, plan)
                    check = validate(inst, plan, build_terms(inst))
                    rows.append(
                        {
                            "n": n, "seed": seed, "mode": mode, "limit_s": limit,
                            "teams_0h": got["teams_0h"], "proven_0h": floor["proven_0h"],
                            "packing_found_0h": floor["packing_found_0h"],
                            "teams_below": got["teams_below"],
                            "proven_below": floor["proven_below"],
                            "packing_found_below": floor["packing_found_below"],
                            "proven_below_at_0h": floor["proven_below_at_0h"],
                            "stranded_below_at_0h": floor["stranded_below_at_0h"],
                            "found_below_at_0h": floor["found_below_at_0h"],
                            "hours_short": got["hours_short"],
                            "objective": round(check.objective / OBJECTIVE_SCALE, 2),
                            "skill_dev": got["skill_dev"],
                            "runtime_s": round(result.runtime, 2), "valid": got["valid"],
                        }
                    )  # fmt: skip
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def write(name: str, rows: list[dict[str, Any]], results: Path) -> None:
    """CSV and Markdown table of ``rows``."""
    results.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(results / f"tradeoffs_{name}.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = [f"### {name} ({machine()})", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append(
            "| " + " | ".join("-" if row.get(c) is None else str(row[c]) for c in columns) + " |"
        )
    (results / f"tradeoffs_{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=["pareto", "monotone", "coldstart", "minzero", "fewest"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[120, 500])
    parser.add_argument("--weights", type=float, nargs="+", default=[10, 40, 160, 2560, 10240])
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--limits", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--cases", nargs="+", default=["demo:5", "120:10"], help="coldstart: COHORT:LIMIT"
    )
    parser.add_argument(
        "--no-filled", action="store_true", help="coldstart: no run on a filled cache"
    )
    parser.add_argument(
        "--below-step",
        type=float,
        default=None,
        help="fewest: also a run that puts teams below the target first, with this step (hours)",
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=["clock", "work"],
        default=["clock", "work"],
        help="monotone: wall-clock limits, and --deterministic (work) ones",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--model", type=Path, default=MODEL, help="formation model (TOML)")
    args = parser.parse_args(argv)
    OPTIONS["model"] = args.model
    print(f"machine: {machine()}, load {os.getloadavg()[0]:.1f}", flush=True)
    if args.suite == "pareto":
        rows = pareto(args.sizes, args.weights, args.budget, args.seeds[0])
    elif args.suite == "monotone":
        rows = monotone(args.sizes, args.limits, args.seeds, args.modes)
    elif args.suite == "minzero":
        rows = minzero(args.sizes, args.budget)
    elif args.suite == "fewest":
        rows = fewest(args.sizes, args.limits, args.seeds, args.budget, args.below_step)
    else:
        rows = coldstart(args.cases, args.seeds[0], filled=not args.no_filled)
    write(args.suite, rows, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
