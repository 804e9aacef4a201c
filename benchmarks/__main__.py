"""``python -m benchmarks [cohorts|mdgp] [options]``: run a benchmark suite.

``cohorts`` (the default) runs the synthetic cohorts against the random and
monolithic CP-SAT baselines; ``mdgp`` runs the MDGPLIB diversity benchmark.
"""

import sys

from benchmarks import cohorts


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] == "mdgp":
        from benchmarks import mdgp_bench

        return int(mdgp_bench.main(args[1:]) or 0)
    if args and args[0] == "cohorts":
        args = args[1:]
    return cohorts.main(args)


if __name__ == "__main__":
    raise SystemExit(main())
