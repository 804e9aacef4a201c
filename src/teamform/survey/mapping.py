"""How survey columns become roster columns: a plain, editable, serialisable mapping.

:func:`teamform.import_survey` detects a mapping from the headers and returns
it; a tutor (or a web page) edits it and passes it back in. On disk it is a
small TOML file; only the columns to override need to be listed::

    default_timezone = "Europe/Paris"     # for a grid with no time-zone question

    [columns."How many years have you programmed?"]
    role = "skill"
    name = "programming"

    [columns."Comments"]
    role = "ignore"

    [timezones]                           # answer -> IANA zone
    "Central" = "America/Chicago"

    [teammates]                           # answer -> learner id, e-mail or name ("" drops it)
    "Alex" = "alex.kim@example.org"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teamform.errors import InputError
from teamform.files import MAX_TOML_CHARS, parse_toml, read_text, toml_line

__all__ = ["ROLES", "ColumnSpec", "SurveyFormat", "SurveyMapping"]

Role = Literal[
    "id",
    "name",
    "first_name",
    "last_name",
    "email",
    "lms_id",
    "section",
    "timezone",
    "availability",
    "grid",
    "motivation",
    "skill",
    "category",
    "prefer",
    "avoid",
    "project_choice",
    "participation",
    "ignore",
]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

SurveyFormat = Literal["google_forms", "ms_forms", "qualtrics", "gruepr", "roster"]


class ColumnSpec(BaseModel):
    """What one survey column means.

    Attributes
    ----------
    role
        ``id``, ``name``, ``first_name``, ``last_name``, ``email``, ``lms_id``
        (the account used by the LMS export), ``section``, ``timezone``,
        ``availability`` (text in teamform's grammar, ``Mon-Fri 18:00-21:00``),
        ``grid`` (one day of an availability grid), ``motivation``, ``skill``,
        ``category``, ``prefer`` / ``avoid`` (teammates by name or e-mail),
        ``project_choice`` (one rank of a ranked choice), ``participation``
        or ``ignore``.
    name
        Roster column for a skill (``programming`` -> ``skill_programming``)
        or a category.
    day
        Grid day, ``Mon`` .. ``Sun``.
    marks
        Grid ticks mark ``free`` or ``busy`` times.
    rank
        Project-choice rank, 1 for the top choice; ``None`` for a ranking
        answered in one cell (``B;A;C``, best first).
    values
        Motivation answers to ``intrinsic`` / ``imposed``.
    how
        How the column is read, in words (filled in by detection; informational).
    """

    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str | None = None
    day: Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] | None = None
    marks: Literal["free", "busy"] | None = None
    rank: int | None = Field(default=None, ge=1)
    values: dict[str, Literal["intrinsic", "imposed"]] = Field(default_factory=dict)
    how: str = ""


class SurveyMapping(BaseModel):
    """The whole mapping: the survey format, every column, and the answer tables.

    Attributes
    ----------
    format
        Survey format; detected when ``None``.
    columns
        Header (as the file spells it; for Qualtrics the question text or the
        short ``Q1`` name) to its :class:`ColumnSpec`. Columns not listed are
        detected.
    default_timezone
        IANA zone of every learner when the survey has no time-zone column
        (or a learner left it blank).
    timezones
        Time-zone answer to IANA zone, checked before automatic matching.
    teammates
        Teammate answer to learner id, e-mail or name; ``""`` drops that answer.
    periods
        Named grid periods to local hours, e.g. ``Morning = "09:00-12:00"``
        (added to, and overriding, the defaults).
    slot_minutes
        Length of a grid slot written as a single hour; inferred when ``None``.
    default_motivation
        Motivation of every learner when the survey does not ask for it.
    """

    model_config = ConfigDict(extra="forbid")

    format: SurveyFormat | None = None
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    default_timezone: str | None = None
    timezones: dict[str, str] = Field(default_factory=dict)
    teammates: dict[str, str] = Field(default_factory=dict)
    periods: dict[str, str] = Field(default_factory=dict)
    slot_minutes: Literal[15, 30, 60] | None = None
    default_motivation: Literal["intrinsic", "imposed"] = "intrinsic"

    @classmethod
    def from_toml(cls, path: str | Path) -> SurveyMapping:
        """Read a mapping file; errors name the file, line or key."""
        path = Path(path)
        text = read_text(path, MAX_TOML_CHARS)
        data = parse_toml(text, str(path))
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = [str(p) for p in err["loc"]]
            raise InputError(
                err["msg"], file=str(path), row=toml_line(text, loc), column=".".join(loc)
            ) from None

    def to_toml(self) -> str:
        """The mapping as TOML that :meth:`from_toml` reads back unchanged."""
        lines = ["# Survey mapping: edit a role, then pass it back with --mapping.", ""]
        if self.format is not None:
            lines.append(f"format = {_q(self.format)}")
        if self.default_timezone is not None:
            lines.append(f"default_timezone = {_q(self.default_timezone)}")
        if self.slot_minutes is not None:
            lines.append(f"slot_minutes = {self.slot_minutes}")
        lines.append(f"default_motivation = {_q(self.default_motivation)}")
        for table in ("timezones", "teammates", "periods"):
            entries: dict[str, str] = getattr(self, table)
            if entries:
                lines += ["", f"[{table}]"]
                lines += [f"{_q(k)} = {_q(v)}" for k, v in entries.items()]
        for header, spec in self.columns.items():
            lines += ["", f"[columns.{_q(header)}]", f"role = {_q(spec.role)}"]
            for key in ("name", "day", "marks", "rank"):
                value = getattr(spec, key)
                if value is not None:
                    lines.append(f"{key} = {value if isinstance(value, int) else _q(value)}")
            if spec.values:
                inner = ", ".join(f"{_q(k)} = {_q(v)}" for k, v in spec.values.items())
                lines.append(f"values = {{ {inner} }}")
            if spec.how:
                lines.append(f"how = {_q(spec.how)}")
        return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    # a JSON string is a valid TOML basic string
    return json.dumps(text, ensure_ascii=False)
