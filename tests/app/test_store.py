"""The app's session database: transactions, migration, refusal of unknown files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from teamform.app.store import DB_NAME, SCHEMA_VERSION, Store, Upload
from teamform.errors import InputError

# the first released schema, to check that its sessions survive the upgrade
V1_SCHEMA = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, roster_name TEXT NOT NULL, roster_text TEXT NOT NULL,
    avoid_name TEXT, avoid_text TEXT, prefer_name TEXT, prefer_text TEXT,
    preset TEXT NOT NULL, model_toml TEXT NOT NULL, result_json TEXT, proven_bound REAL,
    assignment TEXT, locks TEXT NOT NULL DEFAULT '{"learners": [], "teams": []}',
    message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE moves (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, at TEXT NOT NULL, label TEXT NOT NULL, changes TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""


def test_a_version_1_workspace_is_upgraded_without_loss(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.executescript(V1_SCHEMA)
    conn.execute(
        "INSERT INTO sessions (id, name, created_at, updated_at, roster_name, roster_text,"
        " preset, model_toml, assignment) VALUES ('s1', 'r.csv', 't', 't', 'r.csv',"
        " ?, 'collaborative', ?, ?)",
        ("id\nL1\n", "[team]\nsize = 2\n", '{"L1": 1}'),
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = Store(tmp_path)
    row = store.get("s1")
    assert row is not None
    assert row.roster == Upload("r.csv", b"id\nL1\n")
    assert row.assignment == {"L1": 1} and row.survey_mapping is None and row.history is None
    store.close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_edits_and_undo_are_stored_together(tmp_path: Path) -> None:
    store = Store(tmp_path)
    sid = store.create(
        roster=Upload("r.csv", b"x"), avoid=None, prefer=None, preset="p", model_toml=""
    )
    store.save_plan(sid, "{}", {"a": 1, "b": 2}, None, "formed")
    store.record_move(sid, "move", {"a": (1, 2)}, {"a": 2, "b": 2})
    last = store.last_move(sid)
    assert last is not None and last.changes == {"a": (1, 2)}
    store.undo(sid, last.seq, {"a": 1, "b": 2})
    row = store.get(sid)
    assert row is not None and row.moves == 0 and row.assignment == {"a": 1, "b": 2}
    # a new plan clears the edits but keeps the locks
    store.set_locks(sid, ["a"], [2])
    store.record_move(sid, "move", {"b": (2, 1)}, {"a": 1, "b": 1})
    store.save_plan(sid, "{}", {"a": 2, "b": 1}, None, "again")
    row = store.get(sid)
    assert row is not None and row.moves == 0 and row.locked_learners == ["a"]
    store.close()


def test_a_newer_or_foreign_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    conn = sqlite3.connect(tmp_path / "a" / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(InputError, match="newer"):
        Store(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / DB_NAME).write_bytes(b"this is not a database, just text" * 100)
    with pytest.raises(InputError, match=r"app\.db"):
        Store(tmp_path / "b")
