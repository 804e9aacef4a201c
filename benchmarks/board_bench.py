"""Re-scoring one move on the plan board against validating the whole plan.

Run from the repository root::

    python -m benchmarks.board_bench                  # 2 000 learners, 300 moves
    python -m benchmarks.board_bench --n 500 --moves 100

On a cohort of ``instances/synthetic/n<N>_s1`` under the collaborative preset,
each timed step is what the app does for a drag: :meth:`Board.move` (the two
affected teams re-checked by the validator's per-team check), the refreshed
team cards' summaries (compliance, windows, flags) and the plan's totals. The
baseline, in the same process, is :func:`teamform.validate.validate` on the
whole assignment, which a board without incremental scoring would need per
move. Every 50 moves the board's objective is checked against the validator.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from teamform import FormationModel, build_instance, load_roster
from teamform.board import Board
from teamform.criteria import build_terms
from teamform.search.construct import construct
from teamform.validate import validate

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="cohort size (120, 500 or 2000)")
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--http", action="store_true", help="also time the app's move endpoint")
    args = parser.parse_args(argv)

    folder = ROOT / "instances" / "synthetic" / f"n{args.n}_s1"
    model = FormationModel.from_toml(ROOT / "models" / "collaborative.toml")
    roster = load_roster(
        folder / "roster.csv", avoid=folder / "avoid.csv", prefer=folder / "prefer.csv"
    )
    inst = build_instance(roster, model)
    terms = build_terms(inst)
    board = Board(inst, construct(inst, args.seed), terms=terms)
    rng = random.Random(args.seed)

    moves: list[float] = []
    full: list[float] = []
    for step in range(args.moves):
        learner = rng.choice(inst.ids)
        team = rng.randint(1, inst.k)
        t0 = time.perf_counter()
        change = board.move(learner, team)
        for t in change.refreshed:
            board.team(t)
        totals = board.totals()
        moves.append(time.perf_counter() - t0)

        assign = [board.assign[i] for i in range(inst.n)]
        t0 = time.perf_counter()
        check = validate(inst, assign, terms)
        full.append(time.perf_counter() - t0)
        if step % 50 == 0:
            assert check.objective == board.objective, "board and validator disagree"
            assert totals.valid == check.ok

    def ms(values: list[float], q: float) -> float:
        return 1000 * (statistics.quantiles(values, n=100)[int(q) - 1] if q < 100 else max(values))

    med_move, med_full = statistics.median(moves) * 1000, statistics.median(full) * 1000
    print(f"{inst.n} learners, {inst.k} teams, {args.moves} moves (seed {args.seed})")
    print(
        f"move + cards + totals: median {med_move:.2f} ms, p95 {ms(moves, 95):.2f} ms, "
        f"max {ms(moves, 100):.2f} ms"
    )
    print(f"full validation (baseline): median {med_full:.2f} ms, p95 {ms(full, 95):.2f} ms")
    print(f"ratio (full / move, medians): {med_full / med_move:.1f}x")
    if args.http:
        _http(folder, args.moves // 3, rng)
    return 0


def _http(folder: Path, count: int, rng: random.Random) -> None:
    """The app's move endpoint end to end: re-score, render two cards and totals, commit."""
    import tempfile

    from fastapi.testclient import TestClient

    from teamform.app import create_app

    with (
        tempfile.TemporaryDirectory() as tmp,
        TestClient(create_app(Path(tmp)), base_url="http://127.0.0.1") as client,
    ):
        ws = client.app.state.workspace  # type: ignore[attr-defined]
        sid = ws.open_files(
            folder / "roster.csv", folder / "avoid.csv", folder / "prefer.csv", "collaborative"
        )
        loaded = ws.load(sid)
        # a plan without a solve: the construction, stored as a solve would store it
        from teamform.result import Result, Status

        start = construct(loaded.inst, 0)
        assignment = {lid: start[i] + 1 for i, lid in enumerate(loaded.inst.ids)}
        solved = Result(status=Status.FEASIBLE, assignment=assignment)
        ws.save_result(sid, solved, None)
        page = client.get(f"/sessions/{sid}")
        print(f"board page: {len(page.content) / 1e6:.2f} MB HTML")
        ids = loaded.inst.ids
        k = loaded.inst.k
        times = []
        for _ in range(count):
            body = {"learner": rng.choice(ids), "team": rng.randint(1, k)}
            t0 = time.perf_counter()
            r = client.post(f"/api/sessions/{sid}/move", json=body)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        print(
            f"POST /move end to end ({count}): median {statistics.median(times) * 1000:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    raise SystemExit(main())
