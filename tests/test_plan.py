"""Course plans: due phases formed once, in order, with memory, safely."""

from __future__ import annotations

import csv
import itertools
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from teamform import FormationModel, Plan, build_instance, load_roster, run_due, validate
from teamform.cli import app
from teamform.errors import InputError
from teamform.history import DB_NAME, CourseHistory, pair_counts
from teamform.plan import LOCK_NAME, export_phase, history, init_workspace, phase_model, plan_status

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

TINY_MODEL = 'name = "tiny"\n\n[team]\nsize = {size}\n'


def write_roster(path: Path, ids: list[str], names: dict[str, str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "timezone", "availability", "motivation"])
        for lid in ids:
            name = (names or {}).get(lid, f"Name {lid}")
            writer.writerow([lid, name, "UTC", "Mon-Fri 09:00-17:00", "imposed"])
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)  # numbers and dates are TOML literals as they print


def write_plan(ws: Path, phases: list[dict[str, Any]], **top: Any) -> Path:
    lines = [f"{k} = {_toml(v)}" for k, v in {"roster": "roster.csv", **top}.items()]
    for phase in phases:
        lines.append("\n[[phases]]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in phase.items())
    path = ws / "plan.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workspace(
    tmp_path: Path, ids: list[str], size: int, n_phases: int, **top: Any
) -> tuple[Path, list[str]]:
    """A workspace with a tiny roster, one model and weekly phases from 2026-01-05."""
    ws = tmp_path / "course"
    ws.mkdir()
    write_roster(ws / "roster.csv", ids)
    (ws / "tiny.toml").write_text(TINY_MODEL.format(size=size), encoding="utf-8")
    names = [f"P{p + 1}" for p in range(n_phases)]
    phases = [
        {"name": n, "start": date(2026, 1, 5) + timedelta(weeks=p), "model": "tiny.toml"}
        for p, n in enumerate(names)
    ]
    write_plan(ws, phases, time_limit=top.pop("time_limit", 2), **top)
    return ws, names


def stored(ws: Path) -> dict[str, dict[str, int]]:
    with CourseHistory.read(ws / DB_NAME) as db:
        return {f.phase: db.assignment(f.id) for f in db.formations()}


def integrity(ws: Path) -> str:
    conn = sqlite3.connect(ws / DB_NAME)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def invoke(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result: Any, *fragments: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# --- scheduling and idempotence -------------------------------------------------------


def test_run_due_forms_each_due_phase_once(tmp_path: Path) -> None:
    ws, names = workspace(tmp_path, list("abcdefgh"), 4, 3)
    report = run_due(ws, date(2026, 1, 12))  # P1 and P2 have started
    assert report.due == ["P1", "P2"]
    assert [f.phase for f in report.formed] == ["P1", "P2"]
    first = history(ws)
    again = run_due(ws, date(2026, 1, 12))
    assert again.formed == [] and again.already == ["P1", "P2"]
    assert history(ws) == first  # untouched
    later = run_due(ws, datetime(2026, 1, 19, 6, 0))
    assert [f.phase for f in later.formed] == ["P3"]
    assert list(stored(ws)) == names
    assert integrity(ws) == "ok"


def test_nothing_due_writes_nothing(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 2)
    report = run_due(ws, date(2025, 12, 31))
    assert report.due == [] and report.formed == []
    assert not (ws / DB_NAME).exists() and not (ws / LOCK_NAME).exists()


def test_status_and_history_listing(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 3)
    run_due(ws, date(2026, 1, 5))
    status = plan_status(ws, date(2026, 1, 12))
    assert [(s.name, s.due, s.formation is not None) for s in status] == [
        ("P1", True, True),
        ("P2", True, False),
        ("P3", False, False),
    ]
    result = invoke("plan", "status", ws, "--now", "2026-01-12")
    assert result.exit_code == 0, result.stderr
    assert "due now: P2" in result.stdout and "upcoming" in result.stdout
    result = invoke("history", ws)
    assert result.exit_code == 0 and "P1" in result.stdout and "fresh" in result.stdout


def test_concurrent_runs_form_each_phase_once(tmp_path: Path) -> None:
    ws, names = workspace(tmp_path, list("abcdefghijkl"), 3, 3, time_limit=1)
    cmd = [sys.executable, "-m", "teamform.cli", "plan", "run-due", str(ws), "--now", "2026-02-01"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert list(stored(ws)) == names
    text = "".join(o for o, _ in outputs)
    assert text.count("formed phase") == len(names)
    assert text.count("already formed") == 2 * len(names)


# --- crash safety -----------------------------------------------------------------------


def test_killed_run_keeps_finished_phases_and_rerun_completes(tmp_path: Path) -> None:
    """SIGKILL while phase 2 is solving; the rerun forms phase 2 only."""
    ws = tmp_path / "course"
    ws.mkdir()
    shutil.copyfile(REPO / "instances/demo/roster.csv", ws / "roster.csv")
    shutil.copyfile(REPO / "models/collaborative.toml", ws / "collaborative.toml")
    (ws / "quick.toml").write_text(TINY_MODEL.format(size=4), encoding="utf-8")
    phases = [
        {"name": "P1", "start": date(2026, 1, 5), "model": "quick.toml", "time_limit": 1},
        # a 60-learner collaborative model runs to its time limit: long enough to kill
        {"name": "P2", "start": date(2026, 2, 2), "model": "collaborative.toml", "time_limit": 60},
    ]
    write_plan(ws, phases)
    cmd = [sys.executable, "-m", "teamform.cli", "plan", "run-due", str(ws), "--now", "2026-03-01"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "P1" not in stored_or_empty(ws):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "phase 1 was not stored in time"
            time.sleep(0.1)
        time.sleep(1.0)  # well inside phase 2's 60-second search
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert integrity(ws) == "ok"
    before = history(ws)
    assert [f.phase for f in before] == ["P1"]

    phases[1]["time_limit"] = 2  # the rerun need not search as long
    write_plan(ws, phases)
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    after = history(ws)
    assert [f.phase for f in after] == ["P1", "P2"]
    assert after[0] == before[0]  # phase 1 kept as it was
    assert integrity(ws) == "ok"
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and history(ws) == after


def stored_or_empty(ws: Path) -> dict[str, dict[str, int]]:
    try:
        return stored(ws)
    except InputError:
        return {}  # the database may be created and filled while we look


# --- memory: no_repeat, keep, mix -----------------------------------------------------


def test_no_repeat_hard_over_four_phases_is_validated(tmp_path: Path) -> None:
    """Nine learners in teams of three meet eight others in four phases, never twice.

    Any two rounds of three triples without a repeated pair lay the nine
    learners out on a 3x3 grid; the two ways left to cut the grid into
    transversals are exactly the third and fourth rounds, so four phases are
    always possible and a fifth never is.
    """
    ids = [f"s{i}" for i in range(9)]
    ws, names = workspace(
        tmp_path, ids, 3, 5, no_repeat={"enabled": True, "hard": True, "weight": 1}
    )
    report = run_due(ws, date(2026, 1, 26))  # P1..P4
    assert [f.phase for f in report.formed] == names[:4]
    assignments = list(stored(ws).values())
    pairs = [pair_counts([a]) for a in assignments]
    assert all(len(p) == 9 for p in pairs)  # three triples: nine pairs each
    assert max(pair_counts(assignments).values()) == 1  # 36 pairs, each met once

    # the independent validator agrees, phase by phase, with the history before it
    roster = load_roster(ws / "roster.csv")
    hard = FormationModel.from_dict(
        {"team": {"size": 3}, "criteria": {"no_repeat": {"hard": True}}}
    )
    for p, assignment in enumerate(assignments):
        inst = build_instance(roster, hard, history=pair_counts(assignments[:p]))
        check = validate(inst, [assignment[lid] - 1 for lid in inst.ids])
        assert check.ok, check.violations
        assert check.penalties["no_repeat"] == 0
    # and it flags a repeat: phase 2 checked against a history that includes it
    inst = build_instance(roster, hard, history=pair_counts(assignments[:2]))
    check = validate(inst, [assignments[1][lid] - 1 for lid in inst.ids])
    assert not check.ok and all("no_repeat" in v for v in check.violations)

    # a fifth phase cannot meet the rule: reported, not stored, exit 3 on the CLI
    fifth = run_due(ws, date(2026, 2, 2))
    assert fifth.failed == "P5" and fifth.formed == []
    assert any("no_repeat" in line for line in fifth.problems)
    assert "P5" not in stored(ws)
    result = invoke("plan", "run-due", ws, "--now", "2026-02-02")
    assert result.exit_code == 3 and "no_repeat" in result.stderr


def test_lookback_limits_memory(tmp_path: Path) -> None:
    # four learners in pairs have only three pairings: a hard rule over all
    # phases fails in phase 4, over the last phase only it never does
    ws, _ = workspace(tmp_path, list("abcd"), 2, 5, no_repeat={"hard": True, "lookback": 1})
    report = run_due(ws, date(2026, 2, 2))
    assert report.failed is None and len(report.formed) == 5
    assignments = list(stored(ws).values())
    for before, after in itertools.pairwise(assignments):
        assert not set(pair_counts([before])) & set(pair_counts([after]))


def test_keep_moves_fewest_after_dropouts_and_late_joiner(tmp_path: Path) -> None:
    """Eight learners in two teams of four; two members of team 1 drop out, i joins.

    Seven learners make teams of 4 and 3, team 1 holding the extra seat. Team 1
    keeps its two members and takes i (free) plus one learner from team 2,
    which has four members for three seats: exactly one move, no fewer.
    """
    ws = tmp_path / "course"
    ws.mkdir()
    first_ids = list("abcdefgh")
    write_roster(ws / "roster.csv", first_ids)
    (ws / "tiny.toml").write_text(
        'name = "tiny"\n\n[team]\nsize = 4\nmin = 3\nmax = 4\n', encoding="utf-8"
    )
    phases = [
        {"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml"},
        {"name": "P2", "start": date(2026, 2, 2), "model": "tiny.toml", "policy": "keep"},
    ]
    write_plan(ws, phases, time_limit=2)
    run_due(ws, date(2026, 1, 5))
    p1 = stored(ws)["P1"]
    team1 = sorted(lid for lid, t in p1.items() if t == 1)
    dropouts = team1[:2]
    # the roster file is edited between phases: dropouts removed, a late joiner added
    write_roster(ws / "roster.csv", [x for x in first_ids if x not in dropouts] + ["i"])
    report = run_due(ws, date(2026, 2, 2))
    (formed,) = report.formed
    p2 = stored(ws)["P2"]
    moved = [lid for lid, t in p2.items() if lid in p1 and p1[lid] != t]
    assert len(moved) == 1 and p1[moved[0]] == 2 and p2[moved[0]] == 1
    assert p2["i"] == 1 and all(p2[lid] == 1 for lid in team1[2:])
    assert formed.status == "optimal"
    assert formed.objective == pytest.approx(1000)  # keep_weight per learner moved


def test_mix_avoids_earlier_pairs(tmp_path: Path) -> None:
    ws = tmp_path / "course"
    ws.mkdir()
    write_roster(ws / "roster.csv", [f"s{i}" for i in range(9)])
    (ws / "tiny.toml").write_text(TINY_MODEL.format(size=3), encoding="utf-8")
    phases = [
        {"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml"},
        {"name": "P2", "start": date(2026, 2, 2), "model": "tiny.toml", "policy": "mix"},
    ]
    write_plan(ws, phases, time_limit=2, no_repeat={"enabled": False})
    run_due(ws, date(2026, 2, 2))
    p1, p2 = stored(ws).values()
    assert not set(pair_counts([p1])) & set(pair_counts([p2]))


def test_policies_set_the_memory_criteria(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1, no_repeat={"weight": 7, "hard": False})
    plan = Plan.load(ws)
    base = FormationModel.from_dict({"team": {"size": 2}, "criteria": {"stability": {"weight": 3}}})
    fresh, keep, mix = (
        phase_model(plan, plan.phases[0].model_copy(update={"policy": p}), base)
        for p in ("fresh", "keep", "mix")
    )
    assert fresh.criteria.no_repeat is not None and fresh.criteria.no_repeat.weight == 7
    assert fresh.criteria.stability is None
    assert keep.criteria.no_repeat is None
    assert keep.criteria.stability is not None and keep.criteria.stability.weight == 1000
    assert mix.criteria.no_repeat is not None and mix.criteria.no_repeat.weight == 100
    assert not mix.criteria.no_repeat.hard


def test_history_import_counts_as_earlier_phase(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1, history="history.csv")
    (ws / "history.csv").write_text(
        "phase,id,team\nbefore,a,1\nbefore,b,1\nbefore,c,2\nbefore,d,2\n", encoding="utf-8"
    )
    write_plan(
        ws,
        [{"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml"}],
        history="history.csv",
        no_repeat={"hard": True},
    )
    run_due(ws, date(2026, 1, 5))
    p1 = stored(ws)["P1"]
    assert p1["a"] != p1["b"] and p1["c"] != p1["d"]


# --- bad input: one line, exit 2, nothing written -----------------------------------------


def _assert_untouched(ws: Path) -> None:
    assert not (ws / DB_NAME).exists() and not (ws / LOCK_NAME).exists()


def test_phases_out_of_order_exit_2(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    write_plan(
        ws,
        [
            {"name": "A", "start": date(2026, 2, 1), "model": "tiny.toml"},
            {"name": "B", "start": date(2026, 1, 1), "model": "tiny.toml"},
        ],
    )
    result = invoke("plan", "run-due", ws, "--now", "2026-03-01")
    assert_one_line_error(result, "plan.toml", "out of order", "'B'", "phases.1.start", "row")
    _assert_untouched(ws)


def test_phases_on_the_same_day_overlap(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    write_plan(
        ws,
        [
            {"name": "A", "start": date(2026, 2, 1), "model": "tiny.toml"},
            {"name": "B", "start": date(2026, 2, 1), "model": "tiny.toml"},
        ],
    )
    result = invoke("plan", "run-due", ws)
    assert_one_line_error(result, "overlap", "'A'", "'B'")
    _assert_untouched(ws)


@pytest.mark.parametrize(
    ("phase_key", "top_key", "fragment"),
    [
        ("model", None, "model file not found"),
        ("roster", None, "roster file not found"),
        (None, "avoid", "avoid file not found"),
    ],
)
def test_missing_files_exit_2(
    tmp_path: Path, phase_key: str | None, top_key: str | None, fragment: str
) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    phase: dict[str, Any] = {"name": "A", "start": date(2026, 1, 5), "model": "tiny.toml"}
    top: dict[str, Any] = {}
    if phase_key:
        phase[phase_key] = "nowhere.file"
    if top_key:
        top[top_key] = "nowhere.file"
    write_plan(ws, [phase], **top)
    result = invoke("plan", "run-due", ws, "--now", "2026-01-05")
    assert_one_line_error(result, fragment, "nowhere.file")
    _assert_untouched(ws)


def test_bad_model_or_misfit_roster_forms_nothing(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 2)
    (ws / "big.toml").write_text(TINY_MODEL.format(size=8) + "min = 8\n", encoding="utf-8")
    write_plan(
        ws,
        [
            {"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml"},
            {"name": "P2", "start": date(2026, 1, 12), "model": "big.toml"},
        ],
    )
    # phase 2's model cannot hold four learners: neither phase is formed
    result = invoke("plan", "run-due", ws, "--now", "2026-01-12")
    assert_one_line_error(result, "big.toml", "team size impossible")
    assert not (ws / DB_NAME).exists()
    (ws / "big.toml").write_text("[team]\nsize = 2\nsizes = 3\n", encoding="utf-8")
    result = invoke("plan", "run-due", ws, "--now", "2026-01-12")
    assert_one_line_error(result, "big.toml", "unknown key 'sizes'")


def test_history_file_with_unknown_learner_exit_2(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    (ws / "history.csv").write_text("phase,id,team\nT0,a,1\nT0,ghost,1\n", encoding="utf-8")
    write_plan(
        ws,
        [{"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml"}],
        history="history.csv",
    )
    result = invoke("plan", "run-due", ws, "--now", "2026-01-05")
    assert_one_line_error(result, "history.csv", "row 3", "'ghost'")
    _assert_untouched(ws)


def test_dropout_in_stored_history_is_fine(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcdef"), 2, 2)
    run_due(ws, date(2026, 1, 5))
    write_roster(ws / "roster.csv", list("abcd"))  # e and f dropped out
    report = run_due(ws, date(2026, 1, 12))
    assert [f.phase for f in report.formed] == ["P2"]
    assert set(stored(ws)["P2"]) == set("abcd")


def test_corrupt_database_exit_2(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    junk = b"not sqlite at all " * 100
    (ws / DB_NAME).write_bytes(junk)
    for args in (("plan", "run-due", ws, "--now", "2026-01-05"), ("plan", "status", ws)):
        result = invoke(*args)
        assert_one_line_error(result, DB_NAME, "corrupt")
    result = invoke("history", ws)
    assert_one_line_error(result, DB_NAME, "corrupt")
    assert (ws / DB_NAME).read_bytes() == junk
    assert not (ws / LOCK_NAME).exists()


def test_bad_now_and_bad_plan_keys(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    assert_one_line_error(invoke("plan", "run-due", ws, "--now", "soon"), "--now", "'soon'")
    write_plan(
        ws,
        [{"name": "A", "start": date(2026, 1, 5), "model": "tiny.toml", "policy": "shuffle"}],
    )
    assert_one_line_error(invoke("plan", "status", ws), "plan.toml", "policy")
    assert_one_line_error(invoke("plan", "status", tmp_path / "nowhere"), "plan file not found")


def test_plan_files_are_bounded_like_models(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 1)
    (ws / "plan.toml").write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    assert_one_line_error(invoke("plan", "status", ws), "plan.toml", "nested 50000 deep")
    (ws / "plan.toml").write_text("x = 1\n" + "#" * 1_000_001, encoding="utf-8")
    assert_one_line_error(invoke("plan", "status", ws), "plan.toml", "larger than")


# --- export and init --------------------------------------------------------------------


def test_export_is_formula_safe(tmp_path: Path) -> None:
    ws, _ = workspace(tmp_path, list("abcd"), 2, 2)
    write_roster(ws / "roster.csv", list("abcd"), names={"a": "=HYPERLINK(1)", "b": "+1"})
    run_due(ws, date(2026, 1, 5))
    out = tmp_path / "teams.csv"
    result = invoke("export", ws, "--phase", "P1", "--out", out)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["id", "name", "team"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["a"][1] == "'=HYPERLINK(1)" and by_id["b"][1] == "'+1"
    assert {int(r[2]) for r in rows[1:]} == {1, 2}
    assert {r[0]: int(r[2]) for r in rows[1:]} == stored(ws)["P1"]
    assert_one_line_error(invoke("export", ws, "--phase", "P2", "--out", out), "not formed")
    assert_one_line_error(invoke("export", ws, "--phase", "P9", "--out", out), "no phase named")
    assert export_phase(ws, "P1", tmp_path / "again.csv").read_text() == out.read_text()


def test_init_writes_a_loadable_plan(tmp_path: Path) -> None:
    ws = tmp_path / "course"
    result = invoke("plan", "init", ws, "--start", "2026-01-12")
    assert result.exit_code == 0, result.stderr
    plan = Plan.load(ws)
    assert [p.policy for p in plan.phases] == ["fresh", "mix", "keep"]
    assert plan.start_of(plan.phases[1]) == datetime(2026, 2, 9)
    roster = load_roster(plan.resolve(plan.roster))
    assert len(roster) == 60
    assert (ws / "models" / "cooperative.toml").is_file()
    status = plan_status(ws, date(2026, 1, 12))
    assert [s.due for s in status] == [True, False, False]
    assert_one_line_error(invoke("plan", "init", ws), "already exists")
    with pytest.raises(InputError):
        init_workspace(ws, start=date(2026, 1, 12))


def test_team_size_may_change_between_phases(tmp_path: Path) -> None:
    # phases may change the team size: the model file per phase decides
    ws, _ = workspace(tmp_path, [f"s{i}" for i in range(12)], 3, 2)
    (ws / "fours.toml").write_text(TINY_MODEL.format(size=4), encoding="utf-8")
    write_plan(
        ws,
        [
            {"name": "P1", "start": date(2026, 1, 5), "model": "tiny.toml"},
            {"name": "P2", "start": date(2026, 1, 12), "model": "fours.toml", "policy": "mix"},
        ],
    )
    run_due(ws, date(2026, 1, 12))
    teams = [f.n_teams for f in history(ws)]
    assert teams == [4, 3]
