"""The formation model: team sizes and the criteria that shape teams, read from TOML.

A model is a pydantic object, so the TOML file, a Python dict and the API all go
through the same validation. Unknown keys are errors, which catches misspelt
criterion names before a long solve.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from teamform.availability import HOURS_PER_WEEK as HOURS_PER_WEEK
from teamform.availability import REFERENCE_DATE_RANGE as REFERENCE_DATE_RANGE
from teamform.availability import check_reference_date as check_reference_date
from teamform.criteria.base import Criterion as Criterion
from teamform.criteria.base import Settings
from teamform.criteria.category import CategoryRule as CategoryRule
from teamform.criteria.diversity import Diversity as Diversity
from teamform.criteria.motivation import Motivation as Motivation
from teamform.criteria.no_repeat import NoRepeat as NoRepeat
from teamform.criteria.overlap import Overlap as Overlap
from teamform.criteria.participation import Participation as Participation
from teamform.criteria.prefer import Prefer as Prefer
from teamform.criteria.project import Projects as Projects
from teamform.criteria.registry import SECTIONS, on_change
from teamform.criteria.skill_balance import SkillBalance as SkillBalance
from teamform.criteria.skill_coverage import CoverageRule as CoverageRule
from teamform.criteria.skill_coverage import SkillCoverage as SkillCoverage
from teamform.criteria.stability import Stability as Stability
from teamform.errors import InputError
from teamform.files import MAX_TOML_CHARS, parse_toml, read_text, toml_line

#: Largest team size or number of teams a model may ask for.
MAX_TEAM_COUNT = 1_000_000
#: Skill scales are survey scales; bounded so levels in hundredths stay small integers.
MAX_SKILL_MAGNITUDE = 1_000_000


class _KeyError(ValueError):
    """A cross-field problem that belongs to one key (``loc``, below the validated model)."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


class TeamSpec(Settings):
    """Team size: a target size (with bounds) or a number of teams.

    With ``balanced`` (the default) team sizes differ by at most one; the
    number of teams is then chosen so that every size lies within
    ``[min, max]`` and the sizes are as close to ``size`` as possible.
    """

    size: int | None = Field(default=None, ge=1, le=MAX_TEAM_COUNT)
    min: int | None = Field(default=None, ge=1, le=MAX_TEAM_COUNT)
    max: int | None = Field(default=None, ge=1, le=MAX_TEAM_COUNT)
    teams: int | None = Field(default=None, ge=1, le=MAX_TEAM_COUNT)
    balanced: bool = True

    @model_validator(mode="after")
    def _check(self) -> TeamSpec:
        if self.size is None and self.teams is None:
            raise ValueError("give either 'size' (target team size) or 'teams' (number of teams)")
        lo = self.min if self.min is not None else 1
        hi = self.max if self.max is not None else MAX_TEAM_COUNT
        if lo > hi:
            raise ValueError(f"min ({lo}) is larger than max ({hi})")
        if self.size is not None and not lo <= self.size <= hi:
            raise ValueError(f"size {self.size} lies outside [min, max] = [{lo}, {hi}]")
        return self


class SkillScale(Settings):
    """Declared range of skill levels; every roster value must lie inside it."""

    min: float = Field(default=1, ge=-MAX_SKILL_MAGNITUDE, le=MAX_SKILL_MAGNITUDE)
    max: float = Field(default=5, ge=-MAX_SKILL_MAGNITUDE, le=MAX_SKILL_MAGNITUDE)

    @model_validator(mode="after")
    def _check(self) -> SkillScale:
        if self.min >= self.max:
            raise ValueError("skills.min must be below skills.max")
        return self


def _criteria_model() -> type[Settings]:
    """The ``[criteria]`` table, one optional key (or list) per registered section."""
    fields: dict[str, Any] = {}
    for s in SECTIONS:
        kind: Any = s.settings
        fields[s.key] = (list[kind], Field(default_factory=list)) if s.many else (kind | None, None)
    return create_model(
        "Criteria",
        __base__=Settings,
        __module__=__name__,
        __doc__="The criteria table of a formation model; absent criteria are off.",
        **fields,
    )


if TYPE_CHECKING:
    # What type checkers see of the built-in sections; the runtime model is made from
    # the registry (code reaching a section by its key needs no line here).

    class Criteria(Settings):
        skill_balance: SkillBalance | None = None
        skill_coverage: SkillCoverage | None = None
        motivation: Motivation | None = None
        prefer: Prefer | None = None
        overlap: Overlap | None = None
        category: list[CategoryRule] = Field(default_factory=list)
        diversity: Diversity | None = None
        no_repeat: NoRepeat | None = None
        stability: Stability | None = None
        participation: Participation | None = None
        projects: Projects | None = None

else:
    Criteria = _criteria_model()


class RosterColumns(Settings):
    """How to read the roster: its own headers, and a default time zone."""

    columns: dict[str, str] = Field(default_factory=dict)
    timezone: str | None = Field(
        default=None,
        description="time zone of learners with an empty (or no) timezone column",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        from teamform.availability import AvailabilityError, canonical_timezone

        if value is None:
            return None
        try:
            return canonical_timezone(value)
        except AvailabilityError as exc:
            raise ValueError(f"{exc} (expected an IANA name such as Europe/Paris)") from None


class FormationModel(Settings):
    """A formation model: which criteria matter, how much, and which are hard.

    Avoid pairs and sections are always hard rules; team sizes are always
    respected.

    Examples
    --------
    >>> m = FormationModel.model_validate({"team": {"size": 4}})
    >>> m.team.size
    4
    """

    name: str = "custom"
    description: str = ""
    team: TeamSpec
    skills: SkillScale = SkillScale()
    criteria: Criteria = Field(default_factory=lambda: Criteria())
    roster: RosterColumns = RosterColumns()
    _source: str = PrivateAttr(default="model")

    @model_validator(mode="after")
    def _levels_on_scale(self) -> FormationModel:
        coverage = self.criteria.skill_coverage
        lo, hi = self.skills.min, self.skills.max
        for i, rule in enumerate(coverage.rules if coverage is not None else []):
            if not lo <= rule.level <= hi:
                raise _KeyError(
                    f"level {rule.level:g} is outside the skill scale {lo:g}-{hi:g}",
                    ("criteria", "skill_coverage", "rules", i, "level"),
                )
        return self

    @property
    def source(self) -> str:
        """Where the model came from (file path), for error messages."""
        return self._source

    def with_reference_date(self, ref: date) -> FormationModel:
        """This model with time zones compared in the week of ``ref``."""
        data = self.model_dump()
        overlap = data["criteria"].get("overlap")
        if overlap is not None:
            overlap["reference_date"] = ref
        return FormationModel.from_dict(data, source=self.source)

    @classmethod
    def from_toml(cls, path: str | Path) -> FormationModel:
        """Read a model from a TOML file, with one-line errors naming the key."""
        path = Path(path)
        return cls.from_toml_text(read_text(path, MAX_TOML_CHARS), source=str(path))

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "model") -> FormationModel:
        """Parse TOML text into a model (see :meth:`from_toml`)."""
        return cls.from_dict(parse_toml(text, source), source=source, text=text)

    def to_toml(self) -> str:
        """The model as TOML text that :meth:`from_toml_text` reads back to an equal model."""
        return _toml_table(_pruned(self.model_dump(exclude_none=True)), ())

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, source: str = "model", text: str | None = None
    ) -> FormationModel:
        """Validate a plain dict (as parsed from TOML) into a model."""
        try:
            model = cls.model_validate(data)
            model._source = source
            return model
        except ValidationError as exc:
            err = exc.errors()[0]
            keyed = (err.get("ctx") or {}).get("error")
            extra = keyed.loc if isinstance(keyed, _KeyError) else ()
            loc = [str(p) for p in (*err["loc"], *extra)]
            key = ".".join(loc)
            if err["type"] == "extra_forbidden":
                what = (
                    "unknown criterion" if len(loc) == 2 and loc[0] == "criteria" else "unknown key"
                )
                message = f"{what} '{loc[-1]}'"
            else:
                message = err["msg"].removeprefix("Value error, ")
            row = toml_line(text, loc) if text and loc else None
            raise InputError(message, file=source, row=row, column=key or None) from None


def _rebuild_schema() -> None:
    """Remake :class:`Criteria` after the registry changed (a criterion registered)."""
    global Criteria
    Criteria = _criteria_model()  # type: ignore[assignment,misc]
    FormationModel.__pydantic_fields__["criteria"].annotation = Criteria
    FormationModel.model_rebuild(force=True)


on_change(_rebuild_schema)


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        # a JSON string is a valid TOML basic string
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _pruned(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty lists and tables (their defaults), depth first."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _pruned(value)
        if value in ({}, []):
            continue
        out[key] = value
    return out


def _toml_table(data: dict[str, Any], path: tuple[str, ...]) -> str:
    """Scalars first, then sub-tables, then arrays of tables (TOML's required order)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables:
        sub = (*path, key)
        out += f"\n[{'.'.join(_toml_key(k) for k in sub)}]\n" + _toml_table(value, sub)
    for key, items in arrays:
        sub = (*path, key)
        for item in items:
            # nested tables inside an array item are written inline
            out += f"\n[[{'.'.join(_toml_key(k) for k in sub)}]]\n"
            out += "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in item.items())
    return out
