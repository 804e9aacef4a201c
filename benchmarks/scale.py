"""Large cohorts: the whole ``teamform form`` command at 2 000, 10 000 and 50 000 learners.

Run from the repository root::

    python -m benchmarks.scale                                  # the default plan
    python -m benchmarks.scale --sizes 50000 --limits 10 --seeds 0
    python -m benchmarks.scale --baseline /path/to/earlier/src  # before/after, back to back
    python -m benchmarks.scale --quick                          # smoke run, a few seconds
    python -m benchmarks.scale --motivation --name motivation   # the spread at 2 000 / 10 000
    python -m benchmarks.scale --sizes 50000 --limits 10 --burst 5  # a machine busy late

Each run is the real command in a fresh process (see :mod:`benchmarks.wallclock`):
wall time around the process, the phases (start-up, read, build, construction,
bounds, search, finish, write) from the result JSON's ``timings``, and per run
the motivation penalty (learners off the even spread) and the overlap penalty
(hours short, steps included) against their lower bounds, the teams without an
intrinsically motivated member and the teams without any common hour.

With ``--baseline``, every run is made twice, back to back: first with the
given source tree (an earlier version), then with this checkout's; the Markdown
table gives this version's wall time and phases as ratios of the baseline's.
Cohorts: ``instances/synthetic/n2000_s1``; 10 000 and 50 000 learners generated
from seed 1. Results go to ``benchmarks/results/scale.csv`` and ``.md``.

With ``--motivation`` the plan is 2 000 and 10 000 learners at 10 s and 60 s,
and every run whose motivation spread is off its bound is checked twice.
Near each team out of range: what the cheapest plan of it and its partners
in range costs against the plan's (:func:`spread_check`, exact over those
teams), so the table says whether the learners left off are traded for
other criteria there or missed. Over the whole cohort: the same command
again with motivation weighing :data:`MOTIVATION_FIRST` times as much, its
plan scored at the model's own weights (:func:`motivation_first`); where
that plan is at the bound and costs more, reaching the bound costs at least
what the search could find, and the table says how much. Over the team and
the teams sharing its hours, exactly: whether any plan of them in range costs
less than now (:func:`teamform.search.spread.partition_exact`, an integer
programme): none is a proof that the learners off are traded there, one is a
plan the search missed. ``--plans DIR`` keeps each run's result JSON.

With ``--burst AT``, :data:`BURST_PROCESSES` CPU-bound processes start ``AT``
seconds after each run's command and keep the cores busy for
:data:`BURST_SECONDS`: a machine that turns busy late in the search, which
its average slowdown does not show (the time limit must still hold).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.cohorts import cohort_dir, cohort_instance
from benchmarks.wallclock import MODEL, PHASES, RESULTS, run_form

if TYPE_CHECKING:
    from teamform.search.spread import SpreadCheck

#: (learners, time limit) pairs run by default.
PLAN = ((2000, 10.0), (2000, 60.0), (10000, 10.0), (10000, 60.0), (50000, 10.0))
#: The motivation plan (``--motivation``): the spread against its bound at these sizes.
MOTIVATION_PLAN = ((2000, 10.0), (2000, 60.0), (10000, 10.0), (10000, 60.0))
#: How many times its weight motivation gets in the run that puts it first.
MOTIVATION_FIRST = 10
#: CP-SAT's deterministic time for the exact answer over the teams sharing the hours of
#: each team out of range (:func:`teamform.search.spread.fix_keeping_time`).
WIDE_CHECK_WORK = 10.0
#: Seconds the exact set partitioning over the same teams gets at most, per team
#: (:func:`teamform.search.spread.partition_exact`).
EXACT_CHECK_SECONDS = 120.0
#: CPU-bound processes a ``--burst`` starts (the machines measured have 2 cores).
BURST_PROCESSES = 2
#: Seconds each of them runs.
BURST_SECONDS = 8.0


@contextmanager
def load_burst(at: float | None) -> Iterator[None]:
    """While in this block, :data:`BURST_PROCESSES` busy processes from ``at`` seconds
    on, for :data:`BURST_SECONDS` each (``None``: none)."""
    if at is None:
        yield
        return
    spin = f"import time\nend = time.time() + {BURST_SECONDS}\nwhile time.time() < end: pass"
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.extend(subprocess.Popen([sys.executable, "-c", spin]) for _ in range(BURST_PROCESSES))

    timer = threading.Timer(at, start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        for proc in procs:
            proc.kill()
            proc.wait()


def first_model(work: Path, factor: int = MOTIVATION_FIRST) -> Path:
    """The collaborative preset with motivation weighing ``factor`` times as much."""
    import re
    import tomllib

    text = MODEL.read_text(encoding="utf-8")
    weight = tomllib.loads(text)["criteria"]["motivation"]["weight"]
    head, sep, tail = text.partition("[criteria.motivation]")
    tail, count = re.subn(r"(?m)^weight = \S+", f"weight = {weight * factor}", tail, count=1)
    path = work / "motivation_first.toml"
    path.write_text(head + sep + tail, encoding="utf-8")
    if not sep or count != 1:
        raise RuntimeError(f"{MODEL}: no motivation weight to raise")
    return path


def motivation_first(
    directory: Path, result: dict[str, Any], first: dict[str, Any]
) -> dict[str, Any]:
    """The run with motivation put first (``first``) against the run (``result``).

    Both assignments are scored by the validator at the model's own weights:
    ``first_cost`` is what the plan with motivation first costs more (in
    points; negative: it is cheaper, so the run missed a better plan), and
    ``first_off`` how many learners it leaves off the spread.
    """
    from teamform.criteria import OBJECTIVE_SCALE, build_terms
    from teamform.validate import validate

    inst = cohort_instance(directory)
    terms = build_terms(inst)
    index = {lid: i for i, lid in enumerate(inst.ids)}
    scored = []
    for run_result in (result, first):
        assignment = [0] * inst.n
        for lid, team in run_result["assignment"].items():
            assignment[index[lid]] = int(team) - 1
        check = validate(inst, assignment, terms)
        if not check.ok:
            raise RuntimeError(f"a plan breaks hard rules: {check.violations[:3]}")
        scored.append(check)
    plan, other = (c.objective / OBJECTIVE_SCALE for c in scored)
    if abs(plan - result["objective"]) > 0.01:
        raise RuntimeError(f"re-scored {plan}, the run said {result['objective']}")
    return {
        "first_off": scored[1].penalties["motivation"],
        "first_cost": round(other - plan, 2),
        "first_objective": round(other, 2),
    }


def least_bound(checks: Sequence[SpreadCheck]) -> float | None:
    """The least proven extra cost (points) of a plan in range over the wide checks.

    Only positive bounds count: a bound of 0 or below (a relaxation that is not
    tight, or a team whose fix is cheaper) proves nothing dearer, so the least of
    them would make "at least" print a negative figure where some team's bound
    is a proof. None when no wide check proved a positive bound.
    """
    from teamform.criteria import OBJECTIVE_SCALE

    bounds = [c.wide.bound for c in checks if c.wide is not None and (c.wide.bound or 0) > 0]
    return round(min(bounds) / OBJECTIVE_SCALE, 2) if bounds else None


def spread_check(
    directory: Path,
    result: dict[str, Any],
    wide_work: float = WIDE_CHECK_WORK,
    exact_seconds: float | None = EXACT_CHECK_SECONDS,
) -> dict[str, Any]:
    """For the teams out of the motivation range: what bringing them in costs near them.

    The cohort is rebuilt here and the run's assignment re-scored (the
    motivation penalty must match the run's); then, for each team out of
    range, the cheapest plan of it and its partner teams with every one of
    them in range (:func:`teamform.search.spread.spread_checks`, exact over
    those teams) against what they cost now.
    """
    from teamform.criteria import OBJECTIVE_SCALE, MotivationTerm, build_terms
    from teamform.search.local import TeamState
    from teamform.search.spread import spread_checks

    inst = cohort_instance(directory)
    terms = build_terms(inst)
    index = {lid: i for i, lid in enumerate(inst.ids)}
    assignment = [0] * inst.n
    for lid, team in result["assignment"].items():
        assignment[index[lid]] = int(team) - 1
    state = TeamState(inst, terms, assignment)
    term = next(t for t in terms if isinstance(t, MotivationTerm))
    checks = spread_checks(state, term, wide_work=wide_work, exact_seconds=exact_seconds)
    off = sum(c.off for c in checks)
    score = next(c for c in result["breakdown"] if c["name"] == "motivation")
    if off != score["penalty"]:
        raise RuntimeError(
            f"re-scored {off} learners off the spread, the run said {score['penalty']}"
        )
    priced = [c for c in checks if c.extra is not None]
    wide = [c for c in checks if c.wide is not None]
    exact = [c for c in checks if c.exact is not None]
    return {
        "off_teams": len(checks),
        # learners off whose fix costs more than it gains, exactly over their teams' partners
        "off_traded": sum(c.off for c in priced if c.extra >= 0),
        # learners off where a cheaper plan in range exists near them (the search missed it)
        "off_missed": sum(c.off for c in priced if c.extra < 0),
        "off_unpriced": off - sum(c.off for c in priced),
        "fix_cost_min": (
            round(min(c.extra for c in priced) / OBJECTIVE_SCALE, 2) if priced else None
        ),
        # off learners in teams short of common time whose narrowest hours hold
        # more intrinsic learners than the teams they fill can take in range
        "off_confined": sum(c.off for c in checks if c.group),
        # off learners whose cheapest fix near them leaves a team without common time
        "off_emptying": sum(c.off for c in priced if c.emptied),
        # the exact answer over the teams sharing their hours (fix_keeping_time): off
        # learners for whom no plan of them in range keeps every team's common time...
        "off_wide_none": sum(c.off for c in wide if c.wide.status == "infeasible"),
        # ... for whom every such plan costs more than the teams now (CP-SAT's bound) ...
        "off_wide_dearer": sum(c.off for c in wide if (c.wide.bound or 0) > 0),
        # ... for whom a cheaper one exists there (the search missed it) ...
        "off_wide_missed": sum(c.off for c in wide if (c.wide.extra or 0) < 0),
        "wide_teams": max((len(c.wide.teams) for c in wide), default=0),
        "wide_bound_min": least_bound(wide),
        # off learners whose confined group needs more teams below the target, in range,
        # than hold it now (a count over the whole cohort)
        "off_group": sum(c.off for c in checks if c.needed > c.hosts),
        "group_more": sum(max(0, c.needed - c.hosts) for c in checks),
        # the exact set partitioning over the same teams, common time kept or not
        # (partition_exact): off learners for whom no plan of those teams in range costs
        # less than they do now (proven) ...
        "off_exact_dearer": sum(c.off for c in exact if c.exact.status in ("dearer", "infeasible")),
        # ... for whom one costing less exists (the search missed it), and its saving ...
        "off_exact_missed": sum(c.off for c in exact if (c.exact.extra or 0) < 0),
        "exact_saving_max": max(
            (-c.exact.extra / OBJECTIVE_SCALE for c in exact if (c.exact.extra or 0) < 0),
            default=None,
        ),
        # ... and for whom it decided nothing in its time, or did not run
        "off_exact_open": off
        - sum(
            c.off
            for c in exact
            if c.exact.status in ("dearer", "infeasible") or (c.exact.extra or 0) < 0
        ),
    }


def _criteria(result: dict[str, Any]) -> dict[str, Any]:
    """Motivation and overlap against their bounds, and the teams that miss them."""
    scores = {c["name"]: c for c in result["breakdown"]}
    teams = result["teams"]
    row: dict[str, Any] = {}
    for name in ("motivation", "overlap"):
        score = scores.get(name)
        row[name] = None if score is None else score["penalty"]
        row[f"{name}_bound"] = None if score is None else score["lower_bound"]
    # the other criteria, to see that reaching one bound did not cost them
    for name in ("skill_balance", "prefer"):
        score = scores.get(name)
        row[name] = None if score is None else score["penalty"]
    row["no_intrinsic"] = sum(1 for t in teams if t["size"] and t["intrinsic"] == 0)
    row["teams_0h"] = sum(1 for t in teams if t["common_hours"] == 0)
    row["bound"] = result["bound"]
    return row


def run(
    n: int,
    limit: float,
    seed: int,
    work: Path,
    src: Path | None,
    version: str,
    motivation: bool = False,
    first: bool = True,
    plans: Path | None = None,
    burst: float | None = None,
) -> dict[str, Any]:
    """One run of one version; its row (``motivation``: with :func:`spread_check`
    where the spread is off its bound, and with ``first`` the run putting
    motivation first, :func:`motivation_first`). With ``plans``, the run's result
    JSON is kept there, for checking its plan again; with ``burst``, the machine
    turns busy that many seconds into the run (:func:`load_burst`)."""
    cohort = cohort_dir(n, work)  # generated before the run's clock starts
    with load_burst(burst):
        row = run_form(cohort, limit, seed, work, src)
    row["burst_s"] = burst
    result = row.pop("result")
    if plans is not None:
        plans.mkdir(parents=True, exist_ok=True)
        path = plans / f"n{n}_t{limit:g}_s{seed}_{version}.json"
        path.write_text(json.dumps(result), encoding="utf-8")
    row.update(_criteria(result))
    row["version"] = version
    row["at_bound"] = row["motivation"] is not None and row["motivation"] <= row["motivation_bound"]
    if motivation and not row["at_bound"]:
        row.update(spread_check(cohort_dir(n, work), result))
    if motivation and not row["at_bound"] and first:
        first_run = run_form(cohort_dir(n, work), limit, seed, work, src, first_model(work))
        row.update(motivation_first(cohort_dir(n, work), result, first_run["result"]))
    return row


def verdict(row: dict[str, Any]) -> str:
    """What a run off the motivation bound says about the bound, from the checks,
    and why it is not reached: missed by the search, or traded (the reasons)."""
    # the run with motivation first says something of the bound only with a plan at it
    first_at = "first_cost" in row and row["first_off"] <= row["motivation_bound"]
    if row.get("off_exact_missed"):
        return (
            f"missed: for {row['off_exact_missed']} a plan of the teams sharing their hours "
            f"in range costs less than now (up to {row['exact_saving_max']:g} points, exact)"
        )
    if row["off_missed"] or row.get("off_wide_missed") or (first_at and row["first_cost"] < 0):
        return "missed"  # a cheaper plan in range exists, near a team or over the cohort
    reasons = []
    if row.get("off_exact_dearer"):
        reasons.append(
            f"for {row['off_exact_dearer']} no plan of the {row['wide_teams']} teams sharing "
            "their hours in range costs less than now, common time kept or not (proven "
            "exactly)"
        )
    if row.get("off_exact_open"):
        reasons.append(f"for {row['off_exact_open']} the exact check decided nothing")
    if row.get("off_group"):
        reasons.append(
            f"for {row['off_group']} their confined learners need {row['group_more']} more "
            "teams below the target in range (counted over the cohort)"
        )
    if row.get("off_wide_none"):
        reasons.append(
            f"for {row['off_wide_none']} no plan of the {row['wide_teams']} teams sharing "
            "their hours is in range without a team losing its common time (proven)"
        )
    if row.get("off_wide_dearer"):
        reasons.append(
            f"for {row['off_wide_dearer']} every plan of them in range keeping common time "
            f"costs more (at least {row['wide_bound_min']:+g} points, proven)"
        )
    if row.get("off_emptying"):
        reasons.append(
            f"for {row['off_emptying']} the cheapest fix near them leaves a team without time"
        )
    elif row.get("off_unpriced"):
        reasons.append(f"{row['off_unpriced']} with no plan in range near them")
    why = "".join(f"; {r}" for r in reasons)
    if "first_cost" not in row:
        return "traded near each team (no run with motivation first)" + why
    if first_at:
        return f"traded: the bound costs {row['first_cost']:+g} in the plan found at it" + why
    if row["first_cost"] < 0:
        # a better plan, but off the bound as well: the run missed that, not the bound
        why += (
            f"; the run with motivation first found a plan at {row['first_cost']:+g} points "
            f"against this one, {row['first_off']:g} off"
        )
    return "traded near each team; no plan at the bound found" + why


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base <= 0:
        return "-"
    return f"{value / base:.2f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    """Rows as Markdown: per run, phases, criteria; with a baseline, this version's ratios."""
    lines = [
        f"### teamform form on large cohorts ({platform.python_version()}, {os.cpu_count()} CPUs)",
        "",
        "| learners | limit | seed | version | load | wall | reported | wall/reported | "
        + " | ".join(PHASES)
        + " | objective | bound | motivation (bound) | no intrinsic | overlap h (bound) | 0 h |",
        "|" + "---:|" * 3 + "---|" + "---:|" * (len(PHASES) + 10),
    ]
    for r in rows:
        phases = " | ".join("-" if r[f"{p}_s"] is None else f"{r[f'{p}_s']:.2f}" for p in PHASES)
        lines.append(
            f"| {r['n']} | {r['limit_s']:g} s | {r['seed']} | {r['version']} | {r['load']:.1f} "
            f"| {r['wall_s']:.2f} s | {_seconds(r['reported_s'])} "
            f"| {_ratio(r['wall_s'], r['reported_s'])} | {phases} "
            f"| {r['objective']:.0f} | {r['bound']:.0f} "
            f"| {r['motivation']:g} ({r['motivation_bound']:g}) | {r['no_intrinsic']} "
            f"| {r['overlap']:g} ({r['overlap_bound']:g}) | {r['teams_0h']} |"
        )
    pairs = [
        (b, a)
        for b, a in itertools.pairwise(rows)
        if b["version"] == "baseline" and a["version"] == "this"
    ]
    if pairs:
        lines += [
            "",
            "This version against the baseline run just before it (ratio after / before):",
            "",
            "| learners | limit | seed | wall | " + " | ".join(PHASES) + " |",
            "|" + "---:|" * (4 + len(PHASES)),
        ]
        for b, a in pairs:
            ratios = " | ".join(_ratio(a[f"{p}_s"], b[f"{p}_s"]) for p in PHASES)
            lines.append(
                f"| {a['n']} | {a['limit_s']:g} s | {a['seed']} "
                f"| {_ratio(a['wall_s'], b['wall_s'])} | {ratios} |"
            )
    checked = [r for r in rows if "off_traded" in r]
    if checked:
        lines += [
            "",
            "Runs off the motivation bound: for each team out of range, the cheapest plan of it",
            "and its partner teams with every one of them in range, exact over those teams",
            "(`spread_checks`), against what they cost now. Traded: learners off whose fix there",
            "costs the other criteria more than it gains; missed: a cheaper plan in range exists",
            "there; confined: off in a team short of common time, among learners whose hours lie",
            "within its narrowest member's; fix empties a team: off learners whose cheapest fix",
            "there leaves a team without common time. Over the whole cohort: the same run with",
            f"motivation weighing {MOTIVATION_FIRST} times as much, its plan scored at the model's",
            "weights:",
            "learners it leaves off and what it costs more than the run's plan (negative: less,",
            "so the run missed it). Bound: reaching it costs at least the least of that cost and",
            "the local fix costs, as far as the search can tell; missed where either is negative.",
            "Wide: CP-SAT over the team and the teams sharing its hours (`fix_keeping_time`,",
            "up to 12 teams), every one of them in range and none more without common time:",
            "learners off where it proves no such plan (none), proves every such plan dearer",
            "than the teams now (dearer; the least of those bounds in points, positive ones",
            "only), or finds a cheaper one (missed).",
            "Group: learners off whose confined learners need more teams below the target in",
            "range than hold them now (a count over the cohort).",
            "",
            "| learners | limit | seed | version | motivation (bound) | teams off | traded "
            "| missed | not priced | least fix cost (points) | confined | fix empties a team "
            "| wide: none | dearer | missed | least bound | group "
            "| motivation first: off | its cost (points) | verdict |",
            "|" + "---:|" * 3 + "---|" + "---:|" * 15 + "---|",
        ]
        for r in checked:
            cost = "-" if r["fix_cost_min"] is None else f"{r['fix_cost_min']:+g}"
            first = f"{r['first_off']} | {r['first_cost']:+g}" if "first_cost" in r else "- | -"
            least = r.get("wide_bound_min")
            wide = (
                f"{r.get('off_wide_none', '-')} | {r.get('off_wide_dearer', '-')} "
                f"| {r.get('off_wide_missed', '-')} | {'-' if least is None else f'{least:+g}'} "
                f"| {r.get('off_group', '-')}"
            )
            lines.append(
                f"| {r['n']} | {r['limit_s']:g} s | {r['seed']} | {r['version']} "
                f"| {r['motivation']:g} ({r['motivation_bound']:g}) | {r['off_teams']} "
                f"| {r['off_traded']} | {r['off_missed']} | {r['off_unpriced']} | {cost} "
                f"| {r['off_confined']} | {r.get('off_emptying', '-')} | {wide} | {first} "
                f"| {verdict(r)} |"
            )
    mine = [r for r in rows if r["version"] == "this"]
    off = [r for r in mine if not r["at_bound"]]
    lines += [
        "",
        f"Motivation at its bound in {len(mine) - len(off)} of {len(mine)} runs"
        + (
            "; not reached: "
            + ", ".join(
                f"{r['n']} learners at {r['limit_s']:g} s, seed {r['seed']} "
                f"({r['motivation']:g} off" + (f": {verdict(r)}" if "off_traded" in r else "") + ")"
                for r in off
            )
            if off
            else ""
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="only these cohort sizes")
    parser.add_argument("--limits", type=float, nargs="+", help="only these time limits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--baseline", type=Path, help="source tree of the version to compare to")
    parser.add_argument("--quick", action="store_true", help="120 learners, 2 s, seed 0")
    parser.add_argument(
        "--motivation",
        action="store_true",
        help="2 000 and 10 000 learners at 10 s and 60 s, teams off the spread checked",
    )
    parser.add_argument(
        "--no-first",
        action="store_true",
        help="with --motivation: no second run with motivation first (the local check only)",
    )
    parser.add_argument(
        "--burst",
        type=float,
        metavar="AT",
        help=f"{BURST_PROCESSES} busy processes from AT s into each run, for {BURST_SECONDS:g} s",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--plans", type=Path, help="keep each run's result JSON here")
    parser.add_argument("--name", default="scale", help="results file name (without suffix)")
    args = parser.parse_args(argv)
    plan = [
        (n, limit)
        for n, limit in (MOTIVATION_PLAN if args.motivation else PLAN)
        if (not args.sizes or n in args.sizes) and (not args.limits or limit in args.limits)
    ]
    if args.quick:
        plan, args.seeds = [(120, 2.0)], [0]
    versions: list[tuple[str, Path | None]] = [("this", None)]
    if args.baseline is not None:
        versions.insert(0, ("baseline", args.baseline.resolve()))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n, limit in plan:
            for seed in args.seeds:
                for version, src in versions:
                    row = run(
                        n,
                        limit,
                        seed,
                        work,
                        src,
                        version,
                        args.motivation,
                        not args.no_first,
                        args.plans,
                        args.burst,
                    )
                    rows.append(row)
                    print(
                        f"n={n} limit={limit:g} seed={seed} {version}: wall {row['wall_s']:.2f} s, "
                        f"motivation {row['motivation']:g} ({row['motivation_bound']:g}), "
                        f"overlap {row['overlap']:g} ({row['overlap_bound']:g})",
                        flush=True,
                    )
    args.results.mkdir(parents=True, exist_ok=True)
    with open(args.results / f"{args.name}.csv", "w", newline="", encoding="utf-8") as fh:
        # runs off the motivation bound have the checks' columns too
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
    (args.results / f"{args.name}.md").write_text(markdown(rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
