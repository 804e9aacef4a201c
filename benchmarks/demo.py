"""The demo course under the collaborative preset: how good the teams are at a time limit.

``python -m benchmarks.demo [--limits 10 30] [--seeds 0 1 2]`` forms the demo's teams
(60 learners, 15 teams of 4) at each limit and seed, in this one process, and prints the
objective, the teams with no common time at all and the teams short of the 3 h target.
The compiled search is loaded once before the first timed run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from teamform import FormationModel, form, load_roster

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "instances" / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    roster = load_roster(DEMO / "roster.csv", avoid=DEMO / "avoid.csv", prefer=DEMO / "prefer.csv")
    model = FormationModel.from_toml(ROOT / "models" / "collaborative.toml")
    overlap = model.criteria.overlap
    target = overlap.hours if overlap is not None else 0.0
    form(roster, model, time_limit=3, seed=0)  # loads the compiled search
    print("limit,seed,objective,teams_with_0_h,teams_short,strategy,runtime")
    for limit in args.limits:
        for seed in args.seeds:
            result = form(roster, model, time_limit=limit, seed=seed)
            hours = [t.common_hours or 0.0 for t in result.teams]
            print(
                f"{limit:g},{seed},{result.objective:.1f},{sum(h == 0 for h in hours)},"
                f"{sum(h < target for h in hours)},{result.strategy},{result.runtime:.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
