"""Benchmark smoke run: the runner works end to end on a small cohort."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest


def run_quick(suite: str, results: Path, timeout: float = 120) -> list[dict[str, str]]:
    """``python -m benchmarks.<suite> --quick``; the rows of its CSV."""
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{suite}", "--quick", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    name = {"cohorts": "cohort_n30"}.get(suite, suite)
    with open(results / f"{name}.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_quick_benchmark_run(tmp_path: Path) -> None:
    rows = {r["method"]: r for r in run_quick("cohorts", tmp_path)}
    assert set(rows) == {"teamform", "random", "monolithic"}
    ours = rows["teamform"]
    assert ours["status"] in ("feasible", "optimal")
    assert float(ours["first_feasible_s"]) >= 0  # measured; how fast belongs to benchmarks
    # the search must beat a random split of the same cohort
    assert float(ours["obj_end"]) < float(rows["random"]["obj_end"])
    assert float(ours["bound"]) <= float(ours["obj_end"])
    assert float(ours["peak_mb"]) > 0
    assert (tmp_path / "cohort_n30.md").read_text().startswith("### n = 30")


def test_quick_wallclock_run(tmp_path: Path) -> None:
    (row,) = run_quick("wallclock", tmp_path)
    assert row["n"] == "120" and row["status"] in ("feasible", "optimal")
    # the phases the command reports fit inside the wall time measured around it
    phases = ("startup", "read", "build", "search", "finish", "write")
    assert sum(float(row[f"{p}_s"]) for p in phases) <= float(row["wall_s"])
    assert "wall/limit" in (tmp_path / "wallclock.md").read_text()


def test_quick_work_run_with_a_hard_spread(tmp_path: Path) -> None:
    command = ["-m", "benchmarks.work", "--quick", "--hard-spread", "--results", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, *command],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "work.csv", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    # a hard spread: every plan at its bound, scored at the preset's own weights
    assert row["n"] == "120" and row["valid"] == "True" and row["motivation_hard"] == "True"
    assert float(row["motivation"]) == 0 and float(row["objective"]) > 0
    assert "| 120 | 1 | 0 | this |" in (tmp_path / "work.md").read_text()


def test_the_hard_spread_model_needs_a_motivation_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    from benchmarks.work import hard_spread_model

    made = hard_spread_model(tmp_path)
    assert "[criteria.motivation]" in made.read_text() and "hard = true" in made.read_text()
    plain = tmp_path / "plain.toml"
    plain.write_text("[team]\nsize = 4\n[criteria.overlap]\nhard = false\n")
    with pytest.raises(RuntimeError, match="no motivation rule"):
        hard_spread_model(tmp_path, plain)


def test_quick_batch_run(tmp_path: Path) -> None:
    rows = {r["engine"]: r for r in run_quick("batch", tmp_path, timeout=180)}
    assert set(rows) == {"serial", "process"}
    for row in rows.values():
        assert row["jobs"] == row["ok"] == "6"
        assert float(row["jobs_per_s"]) > 0
    assert "Throughput ratio" in (tmp_path / "batch.md").read_text()


def test_quick_projects_benchmark_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.projects_bench",
            "--quick",
            "--out",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "p.csv", encoding="utf-8") as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    ours = rows["teamform (teams and projects together)"]
    baseline = rows["teams first, then Hungarian"]
    # what teamform minimises: no worse than forming teams first (slack for a 2 s budget)
    assert float(ours["joint_objective"]) <= 1.1 * float(baseline["joint_objective"])
    assert 1.0 <= float(ours["mean_rank"]) <= 4.0
    assert 0.0 <= float(ours["top3"]) <= 1.0


def test_demo_benchmark_reports_objective_and_empty_teams() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.demo", "--limits", "2.5", "--seeds", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "limit,seed,objective,teams_with_0_h,teams_short,strategy,runtime"
    limit, seed, objective, zero, short, strategy, _ = lines[1].split(",")
    assert (limit, seed, strategy) == ("2.5", "0", "exact")
    assert 0 <= int(zero) <= int(short) <= 15 and float(objective) > 0


def test_quick_scale_run(tmp_path: Path) -> None:
    (row,) = run_quick("scale", tmp_path)
    assert row["n"] == "120" and row["version"] == "this"
    # penalties never below their bounds; the counts come from the teams
    assert float(row["motivation"]) >= float(row["motivation_bound"])
    assert float(row["overlap"]) >= float(row["overlap_bound"])
    assert int(row["teams_0h"]) >= 0 and int(row["no_intrinsic"]) >= 0
    # the command's own total, never more than the wall time around its process
    assert 0 < float(row["reported_s"]) <= float(row["wall_s"]) and float(row["load"]) >= 0
    assert "motivation (bound)" in (tmp_path / "scale.md").read_text()
    assert "wall/reported" in (tmp_path / "scale.md").read_text()


def test_spread_check_prices_every_team_off_the_spread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    from benchmarks.cohorts import ROOT, cohort_instance
    from benchmarks.scale import spread_check

    from teamform.criteria import build_terms
    from teamform.validate import validate

    directory = ROOT / "instances" / "synthetic" / "n120_s1"
    inst = cohort_instance(directory)
    # intrinsic learners packed into the first teams: many teams out of range
    order = sorted(range(inst.n), key=lambda i: (not inst.intrinsic[i], i))
    assignment = [0] * inst.n
    for pos, i in enumerate(order):
        assignment[i] = pos * inst.k // inst.n
    check = validate(inst, assignment, build_terms(inst))
    off = check.penalties["motivation"]
    assert off > 0
    result = {
        "assignment": {inst.ids[i]: t + 1 for i, t in enumerate(assignment)},
        "breakdown": [{"name": "motivation", "penalty": off}],
    }
    row = spread_check(directory, result, wide_work=0.2)
    assert row["off_traded"] + row["off_missed"] + row["off_unpriced"] == off
    # such a plan is far from the best near any of its teams
    assert row["off_missed"] > 0 and row["fix_cost_min"] < 0
    result["breakdown"][0]["penalty"] = off + 1
    with pytest.raises(RuntimeError, match="re-scored"):
        spread_check(directory, result, wide_work=0.2)


def _two_day_cohort(directory: Path) -> None:
    """Eight learners, two teams of four: both intrinsic learners and two imposed ones
    free only on Monday morning, four imposed ones only on Tuesday morning."""
    directory.mkdir()
    rows = ["id,name,timezone,availability,skill_programming,motivation"]
    for lid, day, kind in [("i1", "Mon", "intrinsic"), ("i2", "Mon", "intrinsic"),
                           ("m1", "Mon", "imposed"), ("m2", "Mon", "imposed"),
                           ("t1", "Tue", "imposed"), ("t2", "Tue", "imposed"),
                           ("t3", "Tue", "imposed"), ("t4", "Tue", "imposed")]:  # fmt: skip
        rows.append(f"{lid},Name {lid},UTC,{day} 10:00-13:00,3,{kind}")
    (directory / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name in ("avoid.csv", "prefer.csv"):
        (directory / name).write_text("id_a,id_b\n", encoding="utf-8")


def test_motivation_first_says_what_the_bound_costs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    import tomllib
    from itertools import combinations

    from benchmarks.cohorts import cohort_instance
    from benchmarks.scale import MOTIVATION_FIRST, first_model, motivation_first, verdict

    from teamform.criteria import OBJECTIVE_SCALE, build_terms
    from teamform.validate import validate

    directory = tmp_path / "cohort"
    _two_day_cohort(directory)
    inst = cohort_instance(directory)
    terms = build_terms(inst)

    def result(team_of: dict[str, int]) -> dict[str, object]:
        assignment = [team_of[lid] for lid in inst.ids]
        check = validate(inst, assignment, terms)
        assert check.ok
        return {
            "assignment": {lid: t + 1 for lid, t in team_of.items()},
            "objective": check.objective / OBJECTIVE_SCALE,
            "motivation": check.penalties["motivation"],
        }

    # each team with one intrinsic learner (the range is 1-1) puts a Tuesday learner
    # with a Monday one in both teams: no common hour, the target short plus the steps
    # for a team below it and without any, at the preset's weight, in each team; both
    # intrinsic learners together cost 2 x 30 points
    by_day = result({"i1": 0, "i2": 0, "m1": 0, "m2": 0, "t1": 1, "t2": 1, "t3": 1, "t4": 1})
    in_range = result({"i1": 0, "i2": 1, "m1": 0, "m2": 0, "t1": 0, "t2": 1, "t3": 1, "t4": 1})
    assert (by_day["objective"], by_day["motivation"]) == (60, 2)
    preset_path = Path(__file__).parent.parent / "models/collaborative.toml"
    overlap = tomllib.loads(preset_path.read_text())["criteria"]["overlap"]
    short = sum(overlap[k] for k in ("hours", "below", "none"))
    weight = overlap["weight"]
    assert (in_range["objective"], in_range["motivation"]) == (2 * short * weight, 0)
    # and no plan in range is cheaper: every one of them, enumerated
    ids = list(inst.ids)
    cheapest = min(
        result({lid: int(lid not in four) for lid in ids})["objective"]
        for four in map(set, combinations(ids, 4))
        if len(four & {"i1", "i2"}) == 1
    )
    assert cheapest == in_range["objective"]
    row = {"off_missed": 0, "motivation_bound": 0}
    row.update(motivation_first(directory, by_day, in_range))
    assert row == {**row, "first_off": 0, "first_cost": cheapest - 60}
    assert verdict(row) == f"traded: the bound costs +{cheapest - 60:g} in the plan found at it"
    # where the fix near the teams off leaves a team without common time, it says so
    row["off_emptying"] = 2
    assert verdict(row).endswith("; for 2 the cheapest fix near them leaves a team without time")
    # the other way round the run with motivation first finds a cheaper plan, but off
    # the bound: that says nothing of the bound, the verdict names it apart
    row.update(motivation_first(directory, in_range, by_day))
    assert row["first_cost"] == 60 - cheapest and row["first_off"] == 2
    assert verdict(row).startswith("traded near each team; no plan at the bound found")
    assert verdict(row).endswith(
        f"; the run with motivation first found a plan at {60 - cheapest:+g} points against this"
        " one, 2 off"
    )
    # a cheaper plan at the bound: the run missed it
    assert verdict(row | {"first_off": 0}) == "missed"
    # the run that puts motivation first weighs it ten times, everything else as it was
    model = tomllib.loads(first_model(tmp_path).read_text(encoding="utf-8"))
    preset = tomllib.loads((Path(__file__).parent.parent / "models/collaborative.toml").read_text())
    assert model["criteria"]["motivation"]["weight"] == (
        MOTIVATION_FIRST * preset["criteria"]["motivation"]["weight"]
    )
    model["criteria"]["motivation"].pop("weight")
    preset["criteria"]["motivation"].pop("weight")
    assert model == preset


def test_verdict_gives_the_wide_check_and_the_count_as_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    from benchmarks.scale import verdict

    row = {"off_missed": 0, "off_unpriced": 0, "motivation_bound": 0, "wide_teams": 12}
    row |= {"off_wide_none": 1, "off_wide_dearer": 2, "wide_bound_min": 12.9}
    row |= {"off_wide_missed": 0, "off_group": 2, "group_more": 1}
    assert verdict(row) == (
        "traded near each team (no run with motivation first)"
        "; for 2 their confined learners need 1 more teams below the target in range"
        " (counted over the cohort)"
        "; for 1 no plan of the 12 teams sharing their hours is in range without a team"
        " losing its common time (proven)"
        "; for 2 every plan of them in range keeping common time costs more"
        " (at least +12.9 points, proven)"
    )
    # a cheaper plan in range among the teams sharing their hours: the search missed it
    assert verdict(row | {"off_wide_missed": 1}) == "missed"


def test_quick_overlap_bound_run(tmp_path: Path) -> None:
    (row,) = run_quick("overlap_bound", tmp_path)
    # the partition only adds to the bound, and neither is above the plan found; the
    # command's own bound may be weaker (with 2 s it loads no bound kernels)
    assert float(row["before_h"]) <= float(row["after_h"]) <= float(row["found_h"])
    assert float(row["reported_h"]) <= float(row["found_h"])
    # nor above the plan found with common time first; the 30-learner cohort must have
    # 3 teams without common time (the exact packing), and a split with only 3 exists
    assert float(row["after_h"]) <= float(row["alone_h"])
    assert row["packed_0h"] == "3"
    # the plan's hours short are the short learners' teams' and the others', and the
    # learner bound's teams without common time are at most the plan's
    parts = float(row["short_teams_h"]) + float(row["other_h"])
    assert parts == pytest.approx(float(row["found_h"]))
    assert float(row["short_excess_h"]) == pytest.approx(
        float(row["short_teams_h"]) - float(row["after_h"])
    )
    assert int(row["forced_0h"]) <= min(int(row["packed_0h"]), int(row["teams_0h"]))


def test_least_bound_counts_only_bounds_that_prove_a_dearer_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    from benchmarks.scale import least_bound

    from teamform.criteria import OBJECTIVE_SCALE
    from teamform.search.spread import SpreadCheck, WideFix

    def check(bound: int | None, wide: bool = True) -> SpreadCheck:
        fix = WideFix((0, 1), "dearer", bound=bound) if wide else None
        return SpreadCheck(0, 1, None, (0,), 0, 0, wide=fix)

    # a relaxation that is not tight gives a negative bound, a cheaper fix one of 0:
    # neither proves anything dearer, so the least is over the positive ones
    checks = [check(-3 * OBJECTIVE_SCALE), check(0), check(None), check(None, wide=False)]
    checks += [check(250 * OBJECTIVE_SCALE), check(101 * OBJECTIVE_SCALE + 5000)]
    assert least_bound(checks) == 101.5
    assert least_bound(checks[:4]) is None


def test_verdict_gives_the_exact_check_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    from benchmarks.scale import verdict

    row = {"off_missed": 0, "off_unpriced": 0, "motivation_bound": 0, "wide_teams": 12}
    row |= {"off_exact_dearer": 2, "off_exact_missed": 0, "off_exact_open": 1}
    assert verdict(row) == (
        "traded near each team (no run with motivation first)"
        "; for 2 no plan of the 12 teams sharing their hours in range costs less than now,"
        " common time kept or not (proven exactly)"
        "; for 1 the exact check decided nothing"
    )
    # a cheaper plan there: missed, whatever the other checks say
    missed = row | {"off_exact_missed": 1, "exact_saving_max": 18.0}
    assert verdict(missed) == (
        "missed: for 1 a plan of the teams sharing their hours in range costs less than"
        " now (up to 18 points, exact)"
    )
