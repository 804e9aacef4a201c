"""The outcome of a formation: status, teams, objective, bound and how it was scored."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from teamform.criteria import OBJECTIVE_SCALE, Term
from teamform.criteria.overlap import OverlapTerm
from teamform.criteria.project import ProjectTerm
from teamform.files import csv_text, write_atomic
from teamform.files import safe_cell as safe_cell  # older imports of it from here
from teamform.instance import SKILL_SCALE, Instance, slot_hours
from teamform.validate import Validation, team_members


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


class TeamFlag(BaseModel):
    """A check on one team: ``ok=False`` marks something for the tutor to act on."""

    code: str = Field(description="motivation, overlap, isolation, participation, prefer ...")
    ok: bool = False
    message: str
    learners: list[str] = Field(default_factory=list)


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
    flags: list[str]
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
        description="writing the teams CSV and serialising this JSON (the final file write "
        "of the JSON itself, a few milliseconds, comes after it is measured)",
    )
    total: float | None = Field(
        default=None, description="from the start of the budget to the JSON being written"
    )
    limit: float | None = Field(default=None, description="the time limit asked for")
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
    timings: Timings = Field(default_factory=Timings)

    @property
    def feasible(self) -> bool:
        """Whether the result holds an assignment meeting every hard rule."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE) and self.valid

    def team_of(self, learner_id: str) -> int:
        """Team number (from 1) of a learner."""
        return self.assignment[learner_id]

    def to_json(self, path: str | Path) -> None:
        """Write the full result as JSON (atomically)."""
        write_atomic(Path(path), self.model_dump_json(indent=2))

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


def summarize(
    inst: Instance,
    assignment: list[int],
    terms: list[Term],
    validation: Validation,
    only: Sequence[int] | None = None,
) -> tuple[list[TeamSummary], list[CriterionScore]]:
    """Per-team summaries and per-criterion scores of a validated assignment.

    ``only`` restricts the summaries to these team indices (to measure their cost).
    """
    members = team_members(assignment, inst.k)
    teams = [
        summarize_team(inst, assignment, terms, validation.team_penalties, t, members[t])
        for t in (range(inst.k) if only is None else only)
    ]
    return teams, criterion_scores(terms, validation.penalties)


def summarize_team(
    inst: Instance,
    assignment: Sequence[int],
    terms: Sequence[Term],
    team_penalties: Mapping[str, Sequence[int]],
    t: int,
    mem: Sequence[int],
) -> TeamSummary:
    """One team (0-based ``t``, learner indices ``mem``) as a tutor reads it.

    ``team_penalties`` holds, per criterion, the validator's penalty of every team.
    """
    # imported here: the report package reads this module's models
    from teamform.report.compliance import team_details

    mem = list(mem)
    overlap = next((term for term in terms if isinstance(term, OverlapTerm)), None)
    learners = inst.roster.learners
    size = len(mem)
    # one sum over the members for every skill: the same values as a mean per skill
    sums = inst.skills[mem].sum(axis=0).tolist() if size else []
    means = {
        s: round(sums[j] / size / SKILL_SCALE, 2) if size else 0.0
        for j, s in enumerate(inst.skill_names)
    }
    intrinsic = int(inst.intrinsic[mem].sum()) if size else 0
    pens = {term.name: term.natural(team_penalties[term.name][t]) for term in terms}
    flags = []
    if size and intrinsic == 0 and inst.roster.has_column("motivation"):
        flags.append("no intrinsically motivated member")
    common = None
    if overlap is not None:
        common = slot_hours(overlap.common_slots(mem))
        if common < overlap.hours:
            flags.append(f"common hours {common:g} below target {overlap.hours:g}")
    for term in terms:
        p = team_penalties[term.name][t]
        if p and term.name.startswith("category:") and "no_isolation" in term.name:
            flags.append(term.describe_violation(mem, t, p))
        if p and term.name == "skill_coverage":
            flags.append(term.describe_violation(mem, t, p))
    extra = team_details(inst, terms, assignment, mem, t, team_penalties)
    flags.extend(c.message for c in extra.checks if c.code == "participation" and not c.ok)
    return TeamSummary(
        team=t + 1,
        section=inst.section_names[int(inst.team_section[t])] or None,
        members=[inst.ids[i] for i in mem],
        names=[learners[i].name for i in mem],
        size=size,
        skill_means=means,
        intrinsic=intrinsic,
        imposed=size - intrinsic,
        common_hours=common,
        penalties=pens,
        flags=flags,
        common_slots=extra.common_slots,
        timezones=extra.timezones,
        participation=extra.participation,
        skill_targets=extra.skill_targets,
        criteria=extra.criteria,
        checks=extra.checks,
        **_project_fields(inst, terms, mem, t),
    )


def _project_fields(
    inst: Instance, terms: Sequence[Term], members: list[int], team: int
) -> dict[str, Any]:
    term = next((x for x in terms if isinstance(x, ProjectTerm)), None)
    if term is None:
        return {}
    data = term.data
    p = int(term.assigned[team])
    ranks = {inst.ids[i]: data.rank_of(i, p) for i in members if data.choices[i]}
    return {"project": data.names[p], "project_ranks": ranks}


def criterion_scores(terms: Sequence[Term], penalties: Mapping[str, int]) -> list[CriterionScore]:
    """Each criterion's share of the objective, from its total integer penalty."""
    return [
        CriterionScore(
            name=term.name,
            hard=term.hard,
            weight=term.weight,
            penalty=term.natural(penalties[term.name]),
            unit=term.unit_label,
            weighted=term.coefficient * penalties[term.name] / OBJECTIVE_SCALE,
            lower_bound=term.natural(term.bound()),
        )
        for term in terms
    ]
