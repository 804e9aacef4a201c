"""Teams out to a learning-management system: Canvas, Moodle and Blackboard files.

Each LMS imports group membership from its own CSV layout:

- **Canvas**: a group-set import (one row per learner: ``name``, a user column
  ``login_id``, ``user_id`` (SIS id) or ``canvas_user_id``, and ``group_name``).
- **Moodle**: the *Upload users* file (``username, firstname, lastname, email,
  course1, group1``) that enrols learners into groups of a course, plus a group
  import file (``groupname, groupingname``) that creates the groups first.
- **Blackboard**: a *Group Members* file (``Group Code, User Name``) plus a
  *Groups* file (``Group Code, Title, Description, Group Set, Self Enroll``).

The learner's LMS account is read from a roster column (``id`` by default; an
``email``, ``lms_id`` or ``login`` column is common). Every cell is written
formula-safe. The readers turn the files back into ``{user: group}`` so that
an export can be checked against the result it came from.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from teamform.errors import InputError
from teamform.files import read_text, safe_cell, write_atomic
from teamform.result import Result
from teamform.roster import Roster

__all__ = [
    "CANVAS_USER_FIELDS",
    "LMS_FORMATS",
    "LmsRow",
    "companion_path",
    "export_lms",
    "lms_rows",
    "read_lms",
    "team_name",
]

LmsFormat = Literal["canvas", "moodle", "blackboard"]
LMS_FORMATS: tuple[str, ...] = ("canvas", "moodle", "blackboard")
CANVAS_USER_FIELDS = ("login_id", "user_id", "canvas_user_id")
DEFAULT_PATTERN = "Team {n:02}"


@dataclass(frozen=True)
class LmsRow:
    """One learner's line of an LMS file."""

    learner: str
    user: str
    name: str
    email: str
    group: str
    group_code: str
    section: str


def team_name(pattern: str, n: int, section: str | None = None) -> str:
    """A team's name from a pattern such as ``Team {n:02}`` or ``{section} - {n}``.

    Raises
    ------
    InputError
        When the pattern is not a valid format string over ``n`` and ``section``.
    """
    try:
        name = pattern.format(n=n, section=section or "")
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"bad team-name pattern '{pattern}' ({exc}); use {{n}}, {{n:02}} or {{section}}",
            column="--team-name",
        ) from None
    if not name.strip():
        raise InputError(f"team-name pattern '{pattern}' gives an empty name", column="--team-name")
    return name.strip()


def _code(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_).strip("_").lower() or "team"


def lms_rows(
    result: Result,
    roster: Roster | None = None,
    *,
    user_column: str = "id",
    pattern: str = DEFAULT_PATTERN,
) -> list[LmsRow]:
    """Every learner of ``result`` with their LMS user and group name.

    Parameters
    ----------
    result
        A feasible result (``teamform form --json``).
    roster
        The roster the result was formed from; needed when ``user_column`` is
        not ``id`` or ``name``, and for e-mail addresses.
    user_column
        Roster column holding the LMS account: ``id``, ``email``, ``name`` or
        any other roster column (e.g. ``lms_id``).
    pattern
        Team names, a format string over ``n`` (team number) and ``section``.

    Raises
    ------
    InputError
        When the result has no teams, a learner lacks an LMS user, two learners
        share one, or two teams would get the same name.
    """
    if not result.feasible or not result.teams:
        raise InputError("the result holds no teams to export (infeasible or empty)")
    by_id = {lr.id: lr for lr in roster.learners} if roster is not None else {}
    if roster is None and user_column not in ("id", "name"):
        raise InputError(
            f"the LMS user column '{user_column}' needs the roster (give --roster)",
            column="--user-column",
        )
    plain = ("id", "name", "email")
    if roster is not None and user_column not in (*plain, *roster.category_names):
        known = ", ".join([*plain, *roster.category_names])
        raise InputError(
            f"the roster has no column '{user_column}' (columns: {known})",
            file=roster.source,
            column="--user-column",
        )
    rows: list[LmsRow] = []
    names: dict[str, int] = {}
    codes: dict[str, int] = {}
    users: dict[str, str] = {}
    for team in result.teams:
        group = team_name(pattern, team.team, team.section)
        code = _code(group)
        for seen, key in ((names, group), (codes, code)):
            if key in seen and seen[key] != team.team:
                raise InputError(
                    f"teams {seen[key]} and {team.team} would both be called '{key}'; "
                    "put {n} in the team-name pattern",
                    column="--team-name",
                )
            seen[key] = team.team
        for lid, name in zip(team.members, team.names, strict=True):
            learner = by_id.get(lid)
            if roster is not None and learner is None:
                raise InputError(
                    f"learner '{lid}' of the result is not in the roster", file=roster.source
                )
            if user_column == "id":
                user = lid
            elif user_column == "name":
                user = name
            elif user_column == "email":
                user = (learner.email or "") if learner else ""
            else:
                user = learner.attributes.get(user_column, "") if learner else ""
            if not user:
                raise InputError(
                    f"learner '{lid}' has no LMS user in column '{user_column}'",
                    file=roster.source if roster is not None else None,
                    row=learner.row if learner else None,
                    column=user_column,
                )
            if user in users:
                raise InputError(
                    f"learners '{users[user]}' and '{lid}' share the LMS user '{user}'",
                    file=roster.source if roster is not None else None,
                    row=learner.row if learner else None,
                    column=user_column,
                )
            users[user] = lid
            email = (learner.email or "") if learner else ""
            rows.append(LmsRow(lid, user, name, email, group, code, team.section or ""))
    return rows


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(str(c)) for c in row])
    return buf.getvalue()


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


def companion_path(path: Path) -> Path:
    """The second file of a two-file export: ``teams.csv`` -> ``teams-groups.csv``."""
    return path.with_name(f"{path.stem}-groups{path.suffix or '.csv'}")


def export_lms(
    result: Result,
    roster: Roster | None,
    fmt: LmsFormat | str,
    path: str | Path,
    *,
    user_column: str = "id",
    pattern: str = DEFAULT_PATTERN,
    canvas_field: str = "login_id",
    course: str | None = None,
    group_set: str | None = None,
) -> list[Path]:
    """Write the teams of ``result`` as an LMS group import.

    Parameters
    ----------
    result, roster, user_column, pattern
        As for :func:`lms_rows`.
    fmt
        ``canvas``, ``moodle`` or ``blackboard``.
    path
        The membership file. Moodle and Blackboard also get a groups file next
        to it (``NAME-groups.csv``, see :func:`companion_path`).
    canvas_field
        Canvas user column: ``login_id``, ``user_id`` (SIS id) or ``canvas_user_id``.
    course
        Moodle course short name (``course1``), required for Moodle.
    group_set
        Moodle grouping / Blackboard group set the groups belong to, if any.

    Returns
    -------
    list of Path
        The files written (membership file first). Nothing is written when the
        export cannot be made.
    """
    if fmt not in LMS_FORMATS:
        raise InputError(
            f"unknown LMS format '{fmt}' (expected {', '.join(LMS_FORMATS)})", column="--format"
        )
    if fmt == "canvas" and canvas_field not in CANVAS_USER_FIELDS:
        raise InputError(
            f"Canvas user field must be {', '.join(CANVAS_USER_FIELDS)}, not '{canvas_field}'",
            column="--canvas-field",
        )
    if fmt == "moodle" and not course:
        raise InputError(
            "Moodle's upload-users file needs the course short name (give --course)",
            column="--course",
        )
    rows = lms_rows(result, roster, user_column=user_column, pattern=pattern)
    path = Path(path)
    groups = list(dict.fromkeys((r.group, r.group_code) for r in rows))
    files: list[tuple[Path, str]] = []
    if fmt == "canvas":
        files.append(
            (
                path,
                _csv(
                    ["name", canvas_field, "group_name"], [(r.name, r.user, r.group) for r in rows]
                ),
            )
        )
    elif fmt == "moodle":
        files.append(
            (
                path,
                _csv(
                    ["username", "firstname", "lastname", "email", "course1", "group1"],
                    [(r.user, *_split_name(r.name), r.email, course or "", r.group) for r in rows],
                ),
            )
        )
        files.append(
            (
                companion_path(path),
                _csv(["groupname", "groupingname"], [(g, group_set or "") for g, _ in groups]),
            )
        )
    else:
        files.append(
            (path, _csv(["Group Code", "User Name"], [(r.group_code, r.user) for r in rows]))
        )
        files.append(
            (
                companion_path(path),
                _csv(
                    ["Group Code", "Title", "Description", "Group Set", "Self Enroll"],
                    [(c, g, "", group_set or "", "N") for g, c in groups],
                ),
            )
        )
    written = []
    for target, text in files:
        try:
            write_atomic(target, text)
        except OSError as exc:
            raise InputError(f"cannot write ({exc.strerror or exc})", file=str(target)) from None
        written.append(target)
    return written


def _unsafe(value: str) -> str:
    if value[:1] == "'" and value[1:2] and value[1:].startswith(("=", "+", "-", "@", "\t", "\r")):
        return value[1:]
    return value


def read_lms(path: str | Path, fmt: LmsFormat | str) -> dict[str, str]:
    """Read an LMS membership file back as ``{user: group}``.

    For Blackboard the group is the group code, mapped to its title through
    the groups file next to it when that file exists.

    Raises
    ------
    InputError
        When the file lacks the columns of that format, or a user appears twice.
    """
    path = Path(path)
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if fmt == "canvas":
        user_col = next((f for f in CANVAS_USER_FIELDS if f in header), None)
        group_col = "group_name"
    elif fmt == "moodle":
        user_col, group_col = "username", "group1"
    elif fmt == "blackboard":
        user_col, group_col = "User Name", "Group Code"
    else:
        raise InputError(f"unknown LMS format '{fmt}'", column="--format")
    for col in (user_col or "login_id", group_col):
        if col not in header:
            raise InputError(f"not a {fmt} file: no '{col}' column", file=str(path), row=1)
    titles: dict[str, str] = {}
    if fmt == "blackboard" and companion_path(path).is_file():
        groups = csv.DictReader(io.StringIO(read_text(companion_path(path)), newline=""))
        titles = {_unsafe(g["Group Code"]): _unsafe(g["Title"]) for g in groups}
    out: dict[str, str] = {}
    for row in reader:
        user = _unsafe(row[user_col or ""] or "")
        group = _unsafe(row[group_col] or "")
        if user in out:
            raise InputError(f"user '{user}' appears twice", file=str(path), row=reader.line_num)
        out[user] = titles.get(group, group)
    return out
