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
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from teamform.errors import InputError
from teamform.files import MAX_TOML_CHARS, parse_toml, read_text, toml_line

#: Largest team size or number of teams a model may ask for.
MAX_TEAM_COUNT = 1_000_000
#: Skill scales are survey scales; bounded so levels in hundredths stay small integers.
MAX_SKILL_MAGNITUDE = 1_000_000
#: A week has 168 hours: no overlap target or block can be longer.
HOURS_PER_WEEK = 168
#: Reference weeks the time-zone conversion supports.
REFERENCE_DATE_RANGE = (date(1900, 1, 1), date(2199, 12, 31))


class _Strict(BaseModel):
    # strict: a string "4" or a 1 for true is a typo, not a value; finite: inf and
    # nan have no meaning as weights, hours or levels
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _KeyError(ValueError):
    """A cross-field problem that belongs to one key (``loc``, below the validated model)."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


class TeamSpec(_Strict):
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


class SkillScale(_Strict):
    """Declared range of skill levels; every roster value must lie inside it."""

    min: float = Field(default=1, ge=-MAX_SKILL_MAGNITUDE, le=MAX_SKILL_MAGNITUDE)
    max: float = Field(default=5, ge=-MAX_SKILL_MAGNITUDE, le=MAX_SKILL_MAGNITUDE)

    @model_validator(mode="after")
    def _check(self) -> SkillScale:
        if self.min >= self.max:
            raise ValueError("skills.min must be below skills.max")
        return self


class Criterion(_Strict):
    """Common switches of a criterion: its weight, and hard vs soft."""

    enabled: bool = True
    weight: float = Field(default=1.0, ge=0)
    hard: bool = False


class SkillBalance(Criterion):
    """Every team's skill total close to its size times the cohort mean.

    Penalty: per team and skill, the absolute deviation of the team's skill
    sum from ``size * cohort mean``, in skill points (a team of four whose mean
    is 0.25 off counts 1 point). ``skills`` restricts it to some skills.
    """

    skills: list[str] = Field(default_factory=list)


class CoverageRule(_Strict):
    skill: str
    level: float


class SkillCoverage(Criterion):
    """At least one member at level >= ``level`` in ``skill``, per rule and team.

    Penalty: one per team and rule without such a member.
    """

    rules: list[CoverageRule] = Field(default_factory=list)


class Motivation(Criterion):
    """Intrinsically motivated learners spread evenly.

    Each team should hold between floor(I/k) and ceil(I/k) of the I intrinsic
    learners (k teams, per section); penalty: learners outside that range.
    With fewer intrinsic learners than teams, ``min_intrinsic`` (default 1) is
    still required where possible: no team made only of imposed learners.
    """


class Prefer(Criterion):
    """Preferred pairs: one penalty point (times the weight) per pair split up.

    Preferred pairs are wishes, never hard rules.
    """

    @model_validator(mode="after")
    def _soft(self) -> Prefer:
        if self.hard:
            raise ValueError("preferred pairs are always soft; use hard = false")
        return self


class Overlap(Criterion):
    """Common weekly hours for synchronous work.

    Penalty: per team, the hours short of ``hours`` of common availability,
    counting only runs of at least ``block`` consecutive hours. Computed in UTC
    for the week of ``reference_date`` so daylight-saving time is right.
    ``below`` more hours are charged to a team short of the target at all, and
    ``none`` more to a team without a single common block: the first hours a
    team lacks, and its last common hour, weigh more than the others.
    """

    hours: float = Field(default=2.0, ge=0, le=HOURS_PER_WEEK)
    block: float = Field(default=1.0, ge=0, le=HOURS_PER_WEEK)
    below: float = Field(default=0.0, ge=0, le=HOURS_PER_WEEK)
    none: float = Field(default=0.0, ge=0, le=HOURS_PER_WEEK)
    # a TOML date or a "YYYY-MM-DD" string
    reference_date: date | None = Field(default=None, strict=False)

    @field_validator("reference_date")
    @classmethod
    def _in_range(cls, value: date | None) -> date | None:
        if value is not None:
            check_reference_date(value)
        return value


def check_reference_date(value: date) -> None:
    """Raise ``ValueError`` unless ``value`` lies in :data:`REFERENCE_DATE_RANGE`."""
    first, last = REFERENCE_DATE_RANGE
    if not first <= value <= last:
        raise ValueError(
            f"reference date {value.isoformat()} is outside {first.isoformat()} to "
            f"{last.isoformat()}"
        )


class CategoryRule(Criterion):
    """A rule on a categorical roster column.

    ``distribute``: each value spread evenly (per team between floor and ceil
    of its share); ``cluster``: teams share one value (penalty: extra values per
    team); ``no_isolation``: never a single member of a value alone in a team
    (penalty: isolated members). ``values`` limits the rule to some values.
    """

    column: str
    rule: Literal["distribute", "cluster", "no_isolation"]
    values: list[str] = Field(default_factory=list)


class NoRepeat(Criterion):
    """Teammates of earlier phases kept apart.

    Penalty: per team, over each pair of members who already shared a team,
    the number of earlier phases they shared (so a pair met twice weighs
    twice). Hard: no pair of earlier teammates meets again. The pair history
    comes from the course workspace (:mod:`teamform.plan`) or
    ``form(..., history=...)``.
    """


class Stability(Criterion):
    """Learners kept in their current team (the ``keep`` re-forming policy).

    Penalty: learners placed in a team other than the one they are in now
    (teams keep their number across phases); learners without a current team
    cost nothing. Hard: nobody moves.
    """


class Participation(Criterion):
    """Engagement from a ``participation`` roster column (0-100).

    Learners below ``low`` are spread: per team, those beyond ``ceil(L/k)``
    count (``L`` low learners, ``k`` teams in the section). With
    ``require_high``, each team without a member at ``high`` or above counts 1.
    Ignored when the roster has no participation column (e.g. a first phase).
    """

    low: float = Field(default=40, ge=0, le=100)
    high: float = Field(default=70, ge=0, le=100)
    require_high: bool = True

    @model_validator(mode="after")
    def _check(self) -> Participation:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        return self


class Diversity(Criterion):
    """Pairwise diversity: members of a team differ from one another.

    Distances come from ``matrix`` (a CSV ``id_a,id_b,distance``; pairs not
    listed are at distance 0) or are computed from roster ``columns``: numeric
    columns (``skill_<name>`` or ``participation``) add the absolute difference
    of standardised values, other columns add 1 when the values differ.
    Penalty: per team, the pairwise distance its members fall short of each
    member's most distant possible teammates (see the criterion module).
    """

    columns: list[str] = Field(default_factory=list)
    matrix: str | None = None

    @model_validator(mode="after")
    def _source(self) -> Diversity:
        if bool(self.columns) == bool(self.matrix):
            raise ValueError("give either 'columns' or 'matrix' (a distance CSV), not both")
        if self.hard:
            raise ValueError("diversity is always soft; use hard = false")
        return self


class Projects(Criterion):
    """Each team gets one project; learners rank projects in the roster.

    Learners list projects, best first, in the roster column ``projects``
    (``;``-separated). Penalty: per learner, the rank steps from their first
    choice to their team's project (0 for the first choice, 1 for the second
    ...); a project not among the learner's choices counts ``unranked``
    steps; learners who ranked nothing count 0. With ``hard``, every learner
    who ranked projects gets one of them (the rank penalty stays soft).

    ``names`` lists the projects on offer (default: every project the roster
    names, sorted); ``capacity`` is how many teams may take each project
    (default 1 when there are at least as many projects as teams, otherwise
    an even share), ``capacities`` overrides it per project. With ``keep``, a
    phase formed under the ``keep`` policy gives each team its previous
    project.
    """

    names: list[str] = Field(default_factory=list)
    capacity: int | None = Field(default=None, ge=1)
    capacities: dict[str, int] = Field(default_factory=dict)
    unranked: int = Field(default=10, ge=0)
    keep: bool = False

    @model_validator(mode="after")
    def _check(self) -> Projects:
        if len(set(self.names)) < len(self.names):
            raise ValueError("a project is listed twice in names")
        bad = [p for p, c in self.capacities.items() if c < 0]
        if bad:
            raise ValueError(f"capacity of project '{bad[0]}' is negative")
        if self.names:
            unknown = [p for p in self.capacities if p not in self.names]
            if unknown:
                raise ValueError(f"capacities name project '{unknown[0]}', which is not in names")
        return self


class Criteria(_Strict):
    """The criteria table of a formation model; absent criteria are off."""

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


class RosterColumns(_Strict):
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


class FormationModel(_Strict):
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
    criteria: Criteria = Criteria()
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
