"""The outcome of a formation: status, teams, objective, bound and how it was scored."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from teamform.files import csv_text, write_atomic
from teamform.files import safe_cell as safe_cell  # older imports of it from here
from teamform.search.params import SearchParams

_M = TypeVar("_M", bound=BaseModel)

#: How the result's timings begin in its JSON text.
_TIMINGS_KEY = '\n  "timings": '


class Status(StrEnum):
    """Solve status, in CP-SAT's vocabulary."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"
    MODEL_INVALID = "model_invalid"


class CriterionScore(BaseModel):
    """One criterion's share of the objective."""

    name: str
    hard: bool
    weight: float
    penalty: float = Field(description="total penalty in natural units")
    unit: str
    weighted: float = Field(description="weight x penalty, as counted in the objective")
    lower_bound: float = Field(description="penalty no assignment can avoid, natural units")


class CriterionCheck(BaseModel):
    """One criterion measured on one team, against what it asks of that team."""

    name: str
    hard: bool = False
    value: float = Field(description="the team's measure, in `unit`")
    target: str = Field(description="what the criterion asks of this team, in words")
    unit: str = ""
    penalty: float = Field(default=0.0, description="the team's penalty in natural units")
    score: float = Field(default=100.0, description="0-100; 100 when the target is met")


#: The types a number field of :func:`criterion_check` takes as it is.
_NUMBER = (int, float)


def criterion_check(
    name: str,
    hard: bool,
    penalty: float,
    value: float,
    target: str,
    unit: str = "",
    score: float = 100.0,
    **rest: Any,
) -> CriterionCheck:
    """A :class:`CriterionCheck` of these values, set as they are (numbers as floats)
    where every value has its field's type, otherwise validated.

    Every criterion measures every team of a plan: at 50 000 learners validating
    those 50 000 checks took about a quarter of summarising them.
    """
    if (
        rest
        or not isinstance(target, str)
        or not isinstance(unit, str)
        or not isinstance(value, _NUMBER)
        or not isinstance(penalty, _NUMBER)
        or not isinstance(score, _NUMBER)
    ):
        return CriterionCheck(
            name=name, hard=hard, penalty=penalty, value=value, target=target,
            unit=unit, score=score, **rest,
        )  # fmt: skip
    values = {
        "name": name,
        "hard": bool(hard),
        "value": float(value),
        "target": target,
        "unit": unit,
        "penalty": float(penalty),
        "score": float(score),
    }
    return unvalidated(CriterionCheck, values)


def unvalidated(cls: type[_M], values: dict[str, Any]) -> _M:
    """An instance of ``cls`` holding ``values`` (every field, each of its type) as they are."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


class TeamFlag(BaseModel):
    """A check on one team: ``ok=False`` marks something for the tutor to act on."""

    code: str = Field(
        description="motivation, overlap, skill_coverage, isolation, participation, prefer, "
        "repeated_pair"
    )
    ok: bool = False
    message: str
    learners: list[str] = Field(default_factory=list)


def team_flag(
    code: str, message: str, *, ok: bool = False, learners: list[str] | None = None
) -> TeamFlag:
    """A :class:`TeamFlag` of these values, set as they are where each has its field's
    type, otherwise validated.

    A plan's summaries flag every team two or three times (37 500 flags at 50 000
    learners): validating each again cost about a tenth of summarising them.
    """
    if (
        not isinstance(code, str)
        or not isinstance(message, str)
        or type(ok) is not bool
        or not (
            learners is None or (type(learners) is list and all(type(x) is str for x in learners))
        )
    ):
        return TeamFlag(code=code, ok=ok, message=message, learners=learners or [])
    values = {"code": code, "ok": ok, "message": message, "learners": learners or []}
    return unvalidated(TeamFlag, values)


class TeamSummary(BaseModel):
    """One team as a tutor reads it."""

    team: int = Field(description="team number, from 1")
    section: str | None
    members: list[str]
    names: list[str]
    size: int
    skill_means: dict[str, float]
    intrinsic: int
    imposed: int
    common_hours: float | None = Field(description="common weekly hours in long-enough blocks")
    penalties: dict[str, float]
    flags: list[str] = Field(description="the messages of the failing `checks`, one a line")
    # Added later, with defaults so that older result files still load.
    common_slots: list[tuple[int, int]] | None = Field(
        default=None,
        description="UTC slot runs [start, end) when every member is free (end may pass the "
        "week end; slot 0 is Monday 00:00 UTC of the reference week); None: not recorded",
    )
    timezones: dict[str, str] = Field(default_factory=dict, description="member id to time zone")
    participation: dict[str, float] = Field(
        default_factory=dict, description="member id to participation score, where known"
    )
    skill_targets: dict[str, float] = Field(
        default_factory=dict, description="cohort (section) mean of each skill"
    )
    criteria: list[CriterionCheck] = Field(default_factory=list)
    checks: list[TeamFlag] = Field(default_factory=list)
    project: str | None = Field(default=None, description="the team's project, if any")
    project_ranks: dict[str, int | None] = Field(
        default_factory=dict,
        description="member id to the rank (from 1) of the team's project among the member's "
        "choices; None: not among them; members who ranked nothing are left out",
    )


class Timings(BaseModel):
    """Where the wall time of a formation went, in seconds (None: not measured).

    The API (:func:`teamform.form`) fills ``build``, ``search`` (with its parts
    ``construction`` and ``bounds``), ``finish`` and ``reserve``; the command line
    adds start-up, reading and writing.
    """

    startup: float | None = Field(
        default=None, description="process start (as the OS records it) to the command's start"
    )
    read: float | None = Field(default=None, description="reading the model, roster and pairs")
    build: float | None = Field(default=None, description="compiling the roster into an instance")
    search: float | None = Field(default=None, description="construction, lower bounds and search")
    construction: float | None = Field(
        default=None, description="of the search: the first assignment (and its motivation repair)"
    )
    bounds: float | None = Field(
        default=None, description="of the search: the criteria's lower bounds"
    )
    finish: float | None = Field(default=None, description="validation and team summaries")
    write: float | None = Field(
        default=None,
        description="writing the teams CSV and serialising and writing this JSON (all "
        "but its last lines, these timings among them, which come after they are measured)",
    )
    total: float | None = Field(
        default=None, description="from the start of the budget to the JSON being written"
    )
    limit: float | None = Field(default=None, description="the time limit asked for")
    over_limit: float | None = Field(
        default=None,
        description="seconds ``total`` ran past a wall-clock limit (the command line "
        "only; None: within it, or the limit was a work budget)",
    )
    reserve: float | None = Field(
        default=None,
        description="time kept back from the search for finishing (and writing), "
        "estimated from costs measured on a sample of teams",
    )


class Result(BaseModel):
    """Everything a formation produced.

    ``objective`` and ``bound`` are in weighted natural units (e.g. weight x
    hours short); ``gap`` is ``(objective - bound) / max(objective, 1)`` and
    ``excess_per_team`` is ``(objective - bound) / teams``.
    """

    status: Status
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    excess_per_team: float | None = None
    runtime: float = 0.0
    time_to_first: float | None = None
    seed: int = 0
    workers: int = 1
    strategy: str = ""
    model_name: str = ""
    reference_date: str = ""
    n_learners: int = 0
    n_teams: int = 0
    assignment: dict[str, int] = Field(default_factory=dict)
    teams: list[TeamSummary] = Field(default_factory=list)
    breakdown: list[CriterionScore] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    valid: bool = False
    violations: list[str] = Field(default_factory=list)
    search_objective: float | None = Field(
        default=None,
        description="objective as the search computed it; equals `objective` unless a bug",
    )
    stopped: str | None = Field(
        default=None,
        description="why the search ended before its time limit: 'cancelled' when a stop "
        "was requested (the teams are the best found until then); None otherwise",
    )
    python_fallback: list[str] = Field(
        default_factory=list,
        description="where Python code ran instead of the compiled kernels, and why: "
        "a criterion without a compiled evaluation, kernels still compiling on a first "
        "run (the construction, the overlap bound or the search in Python meanwhile), "
        "or compiled data at odds with the criteria (a bug; the Python search went on)",
    )
    timings: Timings = Field(default_factory=Timings)
    params: SearchParams | None = Field(
        default=None, description="the search's tunables (None: not recorded)"
    )
    defects: list[str] = Field(
        default_factory=list,
        description="inconsistencies found while checking the result (a lower bound above "
        "the objective of a valid plan, an invalid plan returned as feasible, a search "
        "objective the validator does not confirm): each is a bug; empty otherwise",
    )

    @property
    def feasible(self) -> bool:
        """Whether the result holds an assignment meeting every hard rule."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE) and self.valid

    def team_of(self, learner_id: str) -> int:
        """Team number (from 1) of a learner."""
        return self.assignment[learner_id]

    def to_json(self, path: str | Path, stamp: Callable[[], None] | None = None) -> None:
        """Write the full result as JSON (atomically).

        ``stamp`` is called once the rest of the file is written, to set the
        timings, which then end the file as it left them: so they can count
        serialising and writing the file (at 50 000 learners, most of the
        writing).
        """
        if stamp is None:
            write_atomic(Path(path), self._json_bytes())
            return
        head, tail = self._around_timings_bytes()

        def timings() -> bytes:
            stamp()
            return self._timings_json().encode() + tail

        write_atomic(Path(path), head, timings)

    def _json_bytes(self) -> bytes:
        """:meth:`model_dump_json` (indented by 2) as UTF-8 bytes: at 50 000 learners,
        decoding the serialiser's bytes and encoding them again takes a tenth of a second."""
        return self.__pydantic_serializer__.to_json(self, indent=2)

    def _around_timings_bytes(self) -> tuple[bytes, bytes]:
        """:meth:`_around_timings` as UTF-8 bytes."""
        text = self._json_bytes()
        timings = self._timings_json().encode()
        at = text.index(timings)
        return text[:at], text[at + len(timings) :]

    def json_text(self, stamp: Callable[[], None] | None = None) -> str:
        """The full result as JSON text, indented by 2; ``stamp`` as for :meth:`to_json`."""
        if stamp is None:
            return self.model_dump_json(indent=2)
        head, tail = self._around_timings()
        stamp()
        return head + self._timings_json() + tail

    def _timings_json(self) -> str:
        """The ``timings`` entry of the result's JSON text."""
        # one level down: 2 more spaces a line
        return _TIMINGS_KEY + self.timings.model_dump_json(indent=2).replace("\n", "\n  ")

    def _around_timings(self) -> tuple[str, str]:
        """The result's JSON text before its timings and after them."""
        text = self.model_dump_json(indent=2)
        timings = self._timings_json()
        at = text.index(timings)  # the top-level key: no string holds an unescaped quote
        return text[:at], text[at + len(timings) :]

    def to_csv(self, path: str | Path) -> None:
        """Write ``id,name,team`` rows, safe to open in a spreadsheet."""
        write_atomic(path, teams_csv(self.teams))

    @classmethod
    def from_json(cls, path: str | Path) -> Result:
        """Read a result written by :meth:`to_json`."""
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


def teams_csv(teams: Sequence[TeamSummary]) -> str:
    """``id,name,team`` CSV text of ``teams``, safe to open in a spreadsheet.

    With projects, each row also gives the team's ``project`` and its
    ``project_rank`` among the learner's choices (empty: not among them).
    """
    if not any(team.project is not None for team in teams):
        rows = (
            (lid, name, team.team)
            for team in teams
            for lid, name in zip(team.members, team.names, strict=True)
        )
        return csv_text(("id", "name", "team"), rows)
    with_projects = (
        (lid, name, team.team, team.project or "", team.project_ranks.get(lid) or "")
        for team in teams
        for lid, name in zip(team.members, team.names, strict=True)
    )
    return csv_text(("id", "name", "team", "project", "project_rank"), with_projects)
