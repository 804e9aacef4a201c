"""The formations database: round trips, one transaction per write, corrupt files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from teamform.errors import InputError
from teamform.history import (
    SCHEMA_VERSION,
    CourseHistory,
    NewFormation,
    PhaseAlreadyFormed,
    check_database,
    load_history_csv,
    pair_counts,
)


def _new(phase: str, assignment: dict[str, int], index: int = 0) -> NewFormation:
    return NewFormation(
        phase=phase,
        phase_index=index,
        formed_at="2026-01-12T06:00:00+00:00",
        policy="fresh",
        roster="roster.csv",
        model_name="m",
        model_toml='name = "m"\n[team]\nsize = 2\n',
        model_json="{}",
        seed=0,
        time_limit=1.0,
        status="optimal",
        objective=1.5,
        bound=1.5,
        n_learners=len(assignment),
        n_teams=len(set(assignment.values())),
        runtime=0.1,
        result_json='{"status": "optimal"}',
        assignment=assignment,
    )


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_round_trip(tmp_path: Path) -> None:
    db_path = tmp_path / "teamform.db"
    with CourseHistory.open(db_path) as db:
        first = db.record(_new("P1", {"a": 1, "b": 1, "c": 2, "d": 2}, 0))
        db.record(_new("P2", {"a": 1, "c": 1, "b": 2, "d": 2}, 1))
    with CourseHistory.read(db_path) as db:
        formations = db.formations()
        assert [f.phase for f in formations] == ["P1", "P2"]
        assert formations[0] == first
        assert (first.status, first.objective, first.n_teams) == ("optimal", 1.5, 2)
        assert db.assignment(first.id) == {"a": 1, "b": 1, "c": 2, "d": 2}
        assert db.result_json(first.id) == '{"status": "optimal"}'
        assert "size = 2" in db.model_toml(first.id)
        assert db.formation("P3") is None
    assert _integrity(db_path) == "ok"
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_phase_is_stored_once(tmp_path: Path) -> None:
    db_path = tmp_path / "teamform.db"
    with CourseHistory.open(db_path) as db:
        db.record(_new("P1", {"a": 1, "b": 1}))
        with pytest.raises(PhaseAlreadyFormed):
            db.record(_new("P1", {"a": 1, "b": 2}))
        assert len(db.formations()) == 1
    assert _count(db_path, "assignments") == 2


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = tmp_path / "teamform.db"
    with CourseHistory.open(db_path) as db:
        db.record(_new("P1", {"a": 1, "b": 1}))

        def broken(*args: object) -> None:
            raise OSError("disk full")

        # the formation row is inserted before the assignments: both must go
        monkeypatch.setattr(CourseHistory, "_insert_assignment", broken)
        with pytest.raises(OSError):
            db.record(_new("P2", {"a": 1, "b": 2}, 1))
        monkeypatch.undo()
        assert [f.phase for f in db.formations()] == ["P1"]
        db.record(_new("P2", {"a": 1, "b": 2}, 1))
    assert _count(db_path, "formations") == 2
    assert _count(db_path, "assignments") == 4


def test_killed_inside_a_write_rolls_back(tmp_path: Path) -> None:
    """SIGKILL between the two inserts of one transaction: the next open rolls it back."""
    db_path = tmp_path / "teamform.db"
    with CourseHistory.open(db_path) as db:
        db.record(_new("P1", {"a": 1, "b": 1}))
    child = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_history import _new
        from teamform.history import CourseHistory

        def stall(self, conn, fid, assignment):
            print("inside", flush=True)
            time.sleep(60)

        CourseHistory._insert_assignment = stall
        with CourseHistory.open({str(db_path)!r}) as db:
            db.record(_new("P2", {{"a": 1, "b": 2}}, 1))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "inside", proc.stderr.read() if proc.stderr else ""
        assert Path(f"{db_path}-journal").exists()  # a hot journal is left behind
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    with CourseHistory.read(db_path) as db:
        assert [f.phase for f in db.formations()] == ["P1"]
    assert _integrity(db_path) == "ok"
    with CourseHistory.open(db_path) as db:
        db.record(_new("P2", {"a": 1, "b": 2}, 1))
        assert [f.phase for f in db.formations()] == ["P1", "P2"]


def test_missing_file_reads_empty_and_is_not_created(tmp_path: Path) -> None:
    db_path = tmp_path / "teamform.db"
    with CourseHistory.read(db_path) as db:
        assert db.formations() == []
    check_database(db_path)
    assert not db_path.exists()


def test_garbage_file_is_one_line_error(tmp_path: Path) -> None:
    db_path = tmp_path / "teamform.db"
    db_path.write_bytes(b"this is not a database, just some text\n" * 200)
    before = db_path.read_bytes()
    with pytest.raises(InputError) as info:
        check_database(db_path)
    message = str(info.value)
    assert str(db_path) in message and "corrupt" in message and "\n" not in message
    with pytest.raises(InputError):
        CourseHistory.open(db_path)
    assert db_path.read_bytes() == before


def test_damaged_pages_are_detected(tmp_path: Path) -> None:
    db_path = tmp_path / "teamform.db"
    with CourseHistory.open(db_path) as db:
        for p in range(30):
            db.record(_new(f"P{p}", {f"learner{i}": 1 + i % 5 for i in range(40)}, p))
    data = bytearray(db_path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : 4 * page] = b"\xa5" * (2 * page)  # scribble over two b-tree pages
    db_path.write_bytes(bytes(data))
    with pytest.raises(InputError) as info:
        check_database(db_path)
    assert str(db_path) in str(info.value) and "\n" not in str(info.value)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db_path = tmp_path / "teamform.db"
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(InputError, match="newer"):
        check_database(db_path)


def test_pair_counts() -> None:
    counts = pair_counts([{"a": 1, "b": 1, "c": 2}, {"b": 1, "a": 1, "c": 1}])
    assert counts == {("a", "b"): 2, ("a", "c"): 1, ("b", "c"): 1}


def test_history_import(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("phase,id,team\nT0,a,1\nT0,b,1\nT0,c,2\nT1,a,2\nT1,c,2\n", encoding="utf-8")
    phases = load_history_csv(path, ["a", "b", "c"])
    assert phases == [("T0", {"a": 1, "b": 1, "c": 2}), ("T1", {"a": 2, "c": 2})]


@pytest.mark.parametrize(
    ("text", "row", "column", "fragment"),
    [
        ("phase,id,team\nT0,a,1\nT0,zz,1\n", 3, "id", "unknown learner id 'zz'"),
        ("phase,id,team\nT0,a,x\n", 2, "team", "not a team number"),
        ("phase,id,team\nT0,a,1\nT0,a,2\n", 3, "id", "twice"),
        ("phase,id\nT0,a\n", 1, "team", "missing"),
    ],
)
def test_history_import_errors(
    tmp_path: Path, text: str, row: int, column: str, fragment: str
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_history_csv(path, ["a", "b"])
    err = info.value
    assert (err.file, err.row, err.column) == (str(path), row, column)
    assert fragment in err.message


def test_history_csv_with_a_huge_cell_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "earlier.csv"
    path.write_text("phase,id,team\nP1,a,1\nP1," + "b" * 1_000_001 + ",2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_history_csv(path, ["a", "b"])
    assert (info.value.row, info.value.column) == (3, "id")
    path.write_text("phase,id,team," + "h" * 200_000 + "\nP1,a,1\n", encoding="utf-8")
    assert load_history_csv(path, ["a"]) == [("P1", {"a": 1})]
