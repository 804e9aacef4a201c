"""Course memory: the formations of earlier phases, in a SQLite database.

A course workspace keeps one file, ``teamform.db``, with two tables:

``formations``
    one row per formed phase: when, with which model (its TOML text and the
    effective model after the re-forming policy, as JSON), seed, status,
    objective, bound and the full result as JSON. ``phase`` is unique, so a
    phase can never be stored twice.
``assignments``
    the team (from 1) of every learner in a formation.

Every write is one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction in SQLite's
default rollback-journal mode with ``synchronous = FULL``: a process killed at
any point leaves either the previous state or the complete new formation, and
the next connection rolls a half-written transaction back. A file SQLite
cannot read, or one that fails ``PRAGMA integrity_check``, is reported as an
:class:`~teamform.errors.InputError` naming the file.

The module also reads a ``history`` import file (teams from before the
workspace existed) and counts how often pairs of learners shared a team.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from teamform.errors import InputError, TeamformError
from teamform.files import read_text
from teamform.roster import csv_reader, long_cell, too_long

#: Name of the database file in a course workspace.
DB_NAME = "teamform.db"
#: Stored in ``PRAGMA user_version``; a newer file is refused rather than misread.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE formations (
    id          INTEGER PRIMARY KEY,
    phase       TEXT NOT NULL UNIQUE,
    phase_index INTEGER NOT NULL,
    formed_at   TEXT NOT NULL,
    policy      TEXT NOT NULL,
    roster      TEXT NOT NULL,
    model_name  TEXT NOT NULL,
    model_toml  TEXT NOT NULL,
    model_json  TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    time_limit  REAL NOT NULL,
    status      TEXT NOT NULL,
    objective   REAL,
    bound       REAL,
    n_learners  INTEGER NOT NULL,
    n_teams     INTEGER NOT NULL,
    runtime     REAL NOT NULL,
    result_json TEXT NOT NULL
);
CREATE TABLE assignments (
    formation_id INTEGER NOT NULL REFERENCES formations (id) ON DELETE CASCADE,
    learner_id   TEXT NOT NULL,
    team         INTEGER NOT NULL CHECK (team >= 1),
    PRIMARY KEY (formation_id, learner_id)
);
"""

_FORMATION_COLUMNS = (
    "id, phase, phase_index, formed_at, policy, roster, model_name, seed, time_limit, "
    "status, objective, bound, n_learners, n_teams, runtime"
)


class PhaseAlreadyFormed(TeamformError):
    """Raised when a formation is recorded for a phase that already has one."""


@dataclass(frozen=True)
class Formation:
    """One stored formation (without its assignment and result).

    Attributes
    ----------
    id
        Row id in the database.
    phase, phase_index
        Phase name and its position in the plan when it was formed.
    formed_at
        UTC time of the formation, ISO 8601.
    policy
        ``fresh``, ``keep`` or ``mix``.
    roster
        Roster file the phase was formed from.
    model_name, seed, time_limit
        How it was formed.
    status, objective, bound
        Solver status and objective / bound in weighted units.
    n_learners, n_teams, runtime
        Size of the cohort, number of teams, seconds spent.
    """

    id: int
    phase: str
    phase_index: int
    formed_at: str
    policy: str
    roster: str
    model_name: str
    seed: int
    time_limit: float
    status: str
    objective: float | None
    bound: float | None
    n_learners: int
    n_teams: int
    runtime: float


@dataclass(frozen=True)
class NewFormation:
    """What :meth:`CourseHistory.record` stores for a phase."""

    phase: str
    phase_index: int
    formed_at: str
    policy: str
    roster: str
    model_name: str
    model_toml: str
    model_json: str
    seed: int
    time_limit: float
    status: str
    objective: float | None
    bound: float | None
    n_learners: int
    n_teams: int
    runtime: float
    result_json: str
    assignment: Mapping[str, int]


class CourseHistory:
    """The formations database of a course workspace.

    Use :meth:`open` (or :meth:`read` for a read-only look) as a context
    manager; the connection runs in autocommit mode and every write opens its
    own ``BEGIN IMMEDIATE`` transaction.

    Parameters
    ----------
    path
        The database file.
    create
        Create the file and its tables when missing. Without it a missing
        file reads as an empty history and nothing is created.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        if not self.path.exists() and not create:
            return
        try:
            mode = "rwc" if create else "rw"
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={mode}",
                uri=True,
                isolation_level=None,  # transactions are explicit
                timeout=30.0,
            )
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        self._conn = conn
        try:
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._check()
            if create:
                self._create_schema()
        except sqlite3.Error as exc:
            conn.close()
            self._conn = None
            raise self._error(exc) from None
        except InputError:
            conn.close()
            self._conn = None
            raise

    @classmethod
    def open(cls, path: str | Path) -> CourseHistory:
        """Open (creating if needed) the database for reading and writing."""
        return cls(path, create=True)

    @classmethod
    def read(cls, path: str | Path) -> CourseHistory:
        """Open an existing database, or an empty history when there is no file."""
        return cls(path, create=False)

    def __enter__(self) -> CourseHistory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _error(self, exc: sqlite3.Error) -> InputError:
        return InputError(f"corrupt or unreadable database ({exc})", file=str(self.path))

    def _check(self) -> None:
        conn = self._require()
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if rows != ["ok"]:
            raise InputError(
                f"corrupt database (integrity check: {rows[0] if rows else 'no answer'})",
                file=str(self.path),
            )
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(
                f"database schema {version} is newer than this teamform ({SCHEMA_VERSION})",
                file=str(self.path),
            )
        if version == SCHEMA_VERSION:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if not {"formations", "assignments"} <= tables:
                raise InputError(
                    "corrupt database (formations or assignments table missing)",
                    file=str(self.path),
                )

    def _create_schema(self) -> None:
        with self._write() as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the history database is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        conn = self._require()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        if self._conn is None:
            return []
        try:
            if self._conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                return []  # an empty file: nothing stored yet
            return list(self._conn.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def formations(self) -> list[Formation]:
        """All stored formations, in plan order."""
        rows = self._query(f"SELECT {_FORMATION_COLUMNS} FROM formations ORDER BY phase_index, id")
        return [Formation(*row) for row in rows]  # type: ignore[arg-type]

    def formation(self, phase: str) -> Formation | None:
        """The formation of ``phase``, if stored."""
        rows = self._query(f"SELECT {_FORMATION_COLUMNS} FROM formations WHERE phase = ?", (phase,))
        return Formation(*rows[0]) if rows else None  # type: ignore[arg-type]

    def assignment(self, formation_id: int) -> dict[str, int]:
        """Learner id to team number (from 1) of a stored formation."""
        rows = self._query(
            "SELECT learner_id, team FROM assignments WHERE formation_id = ? ORDER BY team, rowid",
            (formation_id,),
        )
        return {str(lid): int(team) for lid, team in rows}  # type: ignore[call-overload]

    def result_json(self, formation_id: int) -> str:
        """The full result of a stored formation, as JSON text."""
        rows = self._query("SELECT result_json FROM formations WHERE id = ?", (formation_id,))
        return str(rows[0][0]) if rows else "{}"

    def model_toml(self, formation_id: int) -> str:
        """The formation model file of a stored formation, as it was read."""
        rows = self._query("SELECT model_toml FROM formations WHERE id = ?", (formation_id,))
        return str(rows[0][0]) if rows else ""

    def record(self, new: NewFormation) -> Formation:
        """Store a formation and its assignment in one transaction.

        Raises
        ------
        PhaseAlreadyFormed
            When the phase already has a formation (another run stored it
            first); nothing is written then.
        """
        try:
            with self._write() as conn:
                if conn.execute(
                    "SELECT 1 FROM formations WHERE phase = ?", (new.phase,)
                ).fetchone():
                    raise PhaseAlreadyFormed(f"phase '{new.phase}' is already formed")
                cur = conn.execute(
                    "INSERT INTO formations (phase, phase_index, formed_at, policy, roster, "
                    "model_name, model_toml, model_json, seed, time_limit, status, objective, "
                    "bound, n_learners, n_teams, runtime, result_json) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new.phase,
                        new.phase_index,
                        new.formed_at,
                        new.policy,
                        new.roster,
                        new.model_name,
                        new.model_toml,
                        new.model_json,
                        new.seed,
                        new.time_limit,
                        new.status,
                        new.objective,
                        new.bound,
                        new.n_learners,
                        new.n_teams,
                        new.runtime,
                        new.result_json,
                    ),
                )
                fid = cur.lastrowid
                self._insert_assignment(conn, fid, new.assignment)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        stored = self.formation(new.phase)
        assert stored is not None
        return stored

    def _insert_assignment(
        self, conn: sqlite3.Connection, formation_id: int | None, assignment: Mapping[str, int]
    ) -> None:
        conn.executemany(
            "INSERT INTO assignments (formation_id, learner_id, team) VALUES (?, ?, ?)",
            [(formation_id, lid, int(team)) for lid, team in assignment.items()],
        )


def check_database(path: str | Path) -> None:
    """Raise :class:`InputError` if ``path`` exists and is not a sound database."""
    with CourseHistory.read(path):
        pass


def pair_counts(assignments: Iterable[Mapping[str, int]]) -> dict[tuple[str, str], int]:
    """How many of the given formations each pair of learners spent in one team.

    Parameters
    ----------
    assignments
        One learner-id-to-team mapping per earlier phase.

    Returns
    -------
    dict
        ``(id_a, id_b)`` with ``id_a < id_b`` to the number of phases shared.
    """
    counts: dict[tuple[str, str], int] = {}
    for assignment in assignments:
        teams: dict[int, list[str]] = {}
        for lid, team in assignment.items():
            teams.setdefault(team, []).append(lid)
        for members in teams.values():
            members.sort()
            for x, a in enumerate(members):
                for b in members[x + 1 :]:
                    counts[a, b] = counts.get((a, b), 0) + 1
    return counts


def load_history_csv(path: str | Path, known: Iterable[str]) -> list[tuple[str, dict[str, int]]]:
    """Read teams of earlier phases from a CSV with columns ``phase,id,team``.

    Parameters
    ----------
    path
        The import file; ``team`` is a team number from 1.
    known
        Learner ids of the roster: any other id is an error.

    Returns
    -------
    list
        ``(phase, assignment)`` in the order phases first appear in the file.

    Raises
    ------
    InputError
        On the first bad row, naming file, row and column.
    """
    path = Path(path)
    file = str(path)
    reader = csv_reader(read_text(path))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=file, row=1) from None
    for col in ("phase", "id", "team"):
        if col not in header:
            raise InputError("required column is missing", file=file, row=1, column=col)
    at = {col: header.index(col) for col in ("phase", "id", "team")}
    ids = set(known)
    phases: dict[str, dict[str, int]] = {}
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            line = reader.line_num
            wide = long_cell(cells)
            if wide is not None:
                column = header[wide] if wide < len(header) else None
                raise InputError(too_long(len(cells[wide])), file=file, row=line, column=column)
            cells = [c.strip() for c in cells] + [""] * len(header)
            phase, lid, raw = cells[at["phase"]], cells[at["id"]], cells[at["team"]]
            if not phase:
                raise InputError("empty phase", file=file, row=line, column="phase")
            if lid not in ids:
                raise InputError(
                    f"unknown learner id '{lid}' (not in the roster)",
                    file=file,
                    row=line,
                    column="id",
                )
            try:
                team = int(raw)
            except ValueError:
                team = 0
            if team < 1:
                raise InputError(
                    f"team '{raw}' is not a team number from 1", file=file, row=line, column="team"
                )
            teams = phases.setdefault(phase, {})
            if lid in teams:
                raise InputError(
                    f"learner '{lid}' appears twice in phase '{phase}'",
                    file=file,
                    row=line,
                    column="id",
                )
            teams[lid] = team
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=file, row=reader.line_num) from None
    return list(phases.items())
