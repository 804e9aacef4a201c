"""The app's sessions, kept in ``app.db`` in the workspace (SQLite).

A session is one course being formed: the uploaded files (as text), the
formation model (TOML), the plan the last solve produced, the plan as the
tutor has edited it, the locks, and the edits themselves so that they can be
undone. Every write is one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction with
``synchronous = FULL``, as in :mod:`teamform.history`, in write-ahead-log mode
(one fsync per commit, which keeps a drag quick): a closed browser, a killed
server or a power cut leaves the previous state or the new one, never half of
an edit.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from teamform.errors import InputError
from teamform.files import decode_text

DB_NAME = "app.db"
SCHEMA_VERSION = 2

#: Version 2: the roster upload as bytes (survey exports may be Excel files), the
#: survey mapping of sessions made from a survey, and teams of earlier phases.
_MIGRATE_1_2 = (
    "ALTER TABLE sessions ADD COLUMN roster_data BLOB",
    "ALTER TABLE sessions ADD COLUMN survey_mapping TEXT",
    "ALTER TABLE sessions ADD COLUMN history_name TEXT",
    "ALTER TABLE sessions ADD COLUMN history_text TEXT",
)

_SCHEMA = """
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    roster_name TEXT NOT NULL,
    roster_text TEXT NOT NULL,
    avoid_name  TEXT,
    avoid_text  TEXT,
    prefer_name TEXT,
    prefer_text TEXT,
    preset      TEXT NOT NULL,
    model_toml  TEXT NOT NULL,
    result_json TEXT,
    proven_bound REAL,
    assignment  TEXT,
    locks       TEXT NOT NULL DEFAULT '{"learners": [], "teams": []}',
    message     TEXT NOT NULL DEFAULT '',
    roster_data BLOB,
    survey_mapping TEXT,
    history_name TEXT,
    history_text TEXT
);
CREATE TABLE moves (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    label      TEXT NOT NULL,
    changes    TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the tutor sent it and its content."""

    name: str
    data: bytes

    @property
    def text(self) -> str:
        """The content as text (checked to be UTF-8 on upload, except for Excel files)."""
        return decode_text(self.data, self.name)


@dataclass(frozen=True)
class SessionRow:
    """A stored session (see the module docstring)."""

    id: str
    name: str
    created_at: str
    updated_at: str
    roster: Upload
    avoid: Upload | None
    prefer: Upload | None
    preset: str
    model_toml: str
    result_json: str | None
    proven_bound: float | None
    assignment: dict[str, int] | None
    locked_learners: list[str]
    locked_teams: list[int]
    message: str
    moves: int
    survey_mapping: str | None = None
    history: Upload | None = None


@dataclass(frozen=True)
class Move:
    """One stored edit: learner id to ``(from, to)`` team numbers."""

    seq: int
    label: str
    changes: dict[str, tuple[int, int]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """The sessions database of an app workspace; safe to share between threads."""

    def __init__(self, workspace: Path) -> None:
        workspace.mkdir(parents=True, exist_ok=True)
        self.path = workspace / DB_NAME
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            # WAL: a commit is one append and one fsync, and stays durable with FULL
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            rows = [r[0] for r in self._conn.execute("PRAGMA integrity_check").fetchall()]
            if rows != ["ok"]:
                raise InputError(f"corrupt database ({rows[0]})", file=str(self.path))
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"database schema {version} is newer than this teamform", file=str(self.path)
                )
            if version == 0:
                with self._write() as conn:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version == 1:
                with self._write() as conn:
                    for statement in _MIGRATE_1_2:
                        conn.execute(statement)
                    conn.execute("PRAGMA user_version = 2")
        except sqlite3.Error as exc:
            raise InputError(
                f"corrupt or unreadable database ({exc})", file=str(self.path)
            ) from None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.execute(sql, args)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    # -- sessions --------------------------------------------------------

    def create(
        self,
        *,
        roster: Upload,
        avoid: Upload | None,
        prefer: Upload | None,
        preset: str,
        model_toml: str,
        survey_mapping: str | None = None,
        history: Upload | None = None,
    ) -> str:
        """Store a new session and return its id."""
        sid = secrets.token_hex(6)
        now = _now()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sessions (id, name, created_at, updated_at, roster_name, roster_text,"
                " roster_data, avoid_name, avoid_text, prefer_name, prefer_text, preset,"
                " model_toml, survey_mapping, history_name, history_text)"
                " VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    roster.name,
                    now,
                    now,
                    roster.name,
                    roster.data,
                    avoid.name if avoid else None,
                    avoid.text if avoid else None,
                    prefer.name if prefer else None,
                    prefer.text if prefer else None,
                    preset,
                    model_toml,
                    survey_mapping,
                    history.name if history else None,
                    history.text if history else None,
                ),
            )
        return sid

    def sessions(self) -> list[tuple[str, str, str, bool]]:
        """``(id, name, updated_at, has_plan)`` of every session, newest first."""
        rows = self._read(
            "SELECT id, name, updated_at, assignment IS NOT NULL AS planned FROM sessions"
            " ORDER BY updated_at DESC, id"
        )
        return [(r["id"], r["name"], r["updated_at"], bool(r["planned"])) for r in rows]

    def get(self, sid: str) -> SessionRow | None:
        """One session, or None."""
        rows = self._read("SELECT * FROM sessions WHERE id = ?", (sid,))
        if not rows:
            return None
        r = rows[0]
        count = self._read("SELECT COUNT(*) AS n FROM moves WHERE session_id = ?", (sid,))[0]["n"]
        locks = json.loads(r["locks"])

        def upload(kind: str) -> Upload | None:
            name = r[f"{kind}_name"]
            return None if name is None else Upload(name, r[f"{kind}_text"].encode())

        return SessionRow(
            id=r["id"],
            name=r["name"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            roster=Upload(
                r["roster_name"],
                r["roster_text"].encode() if r["roster_data"] is None else bytes(r["roster_data"]),
            ),
            avoid=upload("avoid"),
            prefer=upload("prefer"),
            preset=r["preset"],
            model_toml=r["model_toml"],
            result_json=r["result_json"],
            proven_bound=r["proven_bound"],
            assignment=None if r["assignment"] is None else json.loads(r["assignment"]),
            locked_learners=list(locks.get("learners", [])),
            locked_teams=[int(t) for t in locks.get("teams", [])],
            message=r["message"],
            moves=int(count),
            survey_mapping=r["survey_mapping"],
            history=upload("history"),
        )

    def delete(self, sid: str) -> None:
        """Remove a session and its edits."""
        with self._write() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (sid,))

    def set_model(self, sid: str, model_toml: str, *, keep_plan: bool) -> None:
        """Replace the model; without ``keep_plan`` the plan, locks and edits go too."""
        with self._write() as conn:
            conn.execute(
                "UPDATE sessions SET model_toml = ?, updated_at = ? WHERE id = ?",
                (model_toml, _now(), sid),
            )
            if not keep_plan:
                self._clear_plan(conn, sid)

    def set_survey_mapping(self, sid: str, mapping_toml: str, *, keep_plan: bool) -> None:
        """Replace the survey mapping; without ``keep_plan`` the plan, locks and edits go."""
        with self._write() as conn:
            conn.execute(
                "UPDATE sessions SET survey_mapping = ?, updated_at = ? WHERE id = ?",
                (mapping_toml, _now(), sid),
            )
            if not keep_plan:
                self._clear_plan(conn, sid)

    def set_message(self, sid: str, message: str) -> None:
        """The last solve's outcome in words, shown with the session."""
        with self._write() as conn:
            conn.execute("UPDATE sessions SET message = ? WHERE id = ?", (message, sid))

    def _clear_plan(self, conn: sqlite3.Connection, sid: str) -> None:
        conn.execute(
            "UPDATE sessions SET result_json = NULL, proven_bound = NULL, assignment = NULL,"
            ' locks = \'{"learners": [], "teams": []}\' WHERE id = ?',
            (sid,),
        )
        conn.execute("DELETE FROM moves WHERE session_id = ?", (sid,))

    # -- plans and edits -------------------------------------------------

    def save_plan(
        self,
        sid: str,
        result_json: str,
        assignment: Mapping[str, int],
        proven_bound: float | None,
        message: str,
    ) -> None:
        """A new plan from a solve: it replaces the old one and clears the edits (locks stay)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE sessions SET result_json = ?, proven_bound = ?, assignment = ?,"
                " message = ?, updated_at = ? WHERE id = ?",
                (result_json, proven_bound, json.dumps(dict(assignment)), message, _now(), sid),
            )
            conn.execute("DELETE FROM moves WHERE session_id = ?", (sid,))

    def record_move(
        self,
        sid: str,
        label: str,
        changes: Mapping[str, tuple[int, int]],
        assignment: Mapping[str, int],
    ) -> None:
        """Store an edit and the assignment it leads to, together."""
        with self._write() as conn:
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM moves WHERE session_id = ?", (sid,)
            ).fetchone()
            conn.execute(
                "INSERT INTO moves (session_id, seq, at, label, changes) VALUES (?, ?, ?, ?, ?)",
                (sid, seq, _now(), label, json.dumps({k: list(v) for k, v in changes.items()})),
            )
            conn.execute(
                "UPDATE sessions SET assignment = ?, updated_at = ? WHERE id = ?",
                (json.dumps(dict(assignment)), _now(), sid),
            )

    def last_move(self, sid: str) -> Move | None:
        """The most recent edit still in the undo history."""
        rows = self._read(
            "SELECT seq, label, changes FROM moves WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
            (sid,),
        )
        if not rows:
            return None
        changes = {k: (int(v[0]), int(v[1])) for k, v in json.loads(rows[0]["changes"]).items()}
        return Move(int(rows[0]["seq"]), rows[0]["label"], changes)

    def history(self, sid: str, limit: int = 20) -> list[Move]:
        """The latest edits, newest first."""
        rows = self._read(
            "SELECT seq, label, changes FROM moves WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
            (sid, limit),
        )
        return [
            Move(
                int(r["seq"]),
                r["label"],
                {k: (int(v[0]), int(v[1])) for k, v in json.loads(r["changes"]).items()},
            )
            for r in rows
        ]

    def undo(self, sid: str, seq: int, assignment: Mapping[str, int]) -> None:
        """Drop edit ``seq`` and store the assignment without it, together."""
        with self._write() as conn:
            conn.execute("DELETE FROM moves WHERE session_id = ? AND seq = ?", (sid, seq))
            conn.execute(
                "UPDATE sessions SET assignment = ?, updated_at = ? WHERE id = ?",
                (json.dumps(dict(assignment)), _now(), sid),
            )

    def set_locks(self, sid: str, learners: list[str], teams: list[int]) -> None:
        """Store the locks."""
        locks = json.dumps({"learners": sorted(learners), "teams": sorted(teams)})
        with self._write() as conn:
            conn.execute(
                "UPDATE sessions SET locks = ?, updated_at = ? WHERE id = ?", (locks, _now(), sid)
            )
