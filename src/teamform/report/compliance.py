"""Per-team compliance as the renderers draw it: what each criterion asks, what a team has.

The measuring is done when a result is finished (:mod:`teamform.summary`) and
stored in it, so a report needs nothing but the result JSON.
:func:`build_report` turns a result into what the HTML, Markdown and team-sheet
renderers draw. It also accepts results written before those fields existed,
and reads ``repeated_pairs`` (pairs of learners who already worked together in
an earlier phase) when a result carries them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from teamform.availability import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    SLOTS_PER_WEEK,
    AvailabilityError,
    canonical_timezone,
    format_local_windows,
    reference_week_start,
)
from teamform.errors import InputError
from teamform.result import Result, TeamFlag, TeamSummary

SLOTS_PER_HOUR = 60 // SLOT_MINUTES
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class MemberView:
    """One member as the report shows them."""

    id: str
    name: str
    timezone: str | None
    participation: float | None
    #: common meeting windows in this member's own time zone (None: unknown)
    windows: list[str] | None
    #: the team's project among this member's choices ("choice 2", "not chosen"); None: n/a
    choice: str | None = None

    @property
    def label(self) -> str:
        """The name, or the id when the roster gave no name."""
        return self.name or self.id


@dataclass
class CriterionView:
    """One criterion row of a team card; ``score`` is None for old results."""

    name: str
    hard: bool
    value: str
    target: str
    score: float | None


@dataclass
class TeamView:
    """Everything a team card, a Markdown section or a team sheet shows."""

    summary: TeamSummary
    members: list[MemberView]
    #: ``heat[day][hour]``: common quarter-hours (0-4) in that UTC hour; None: unknown
    heat: list[list[int]] | None
    utc_windows: list[str] | None
    criteria: list[CriterionView]
    flags: list[TeamFlag]
    met: list[TeamFlag]

    @property
    def number(self) -> int:
        """Team number, from 1."""
        return self.summary.team


@dataclass
class ReportData:
    """A result prepared for rendering."""

    result: Result
    teams: list[TeamView]
    week_start: date | None
    #: upper end of the skill axis of the charts
    skill_max: float
    criterion_names: list[str] = field(default_factory=list)
    #: the zone of the heat maps (None: UTC)
    zone: str | None = None

    @property
    def infeasible(self) -> bool:
        """Whether the result holds no usable assignment."""
        return not self.result.feasible


def slots_to_mask(runs: Sequence[Sequence[int]]) -> int:
    """Rebuild a UTC slot mask from ``(start, end)`` runs (end may pass the week end)."""
    mask = 0
    for start, end in runs:
        for s in range(int(start), int(end)):
            mask |= 1 << (s % SLOTS_PER_WEEK)
    return mask


def heat_grid(
    runs: Sequence[Sequence[int]], zone: str | None = None, reference: date | None = None
) -> list[list[int]]:
    """Common quarter-hours per day (Monday first) and hour, from UTC slot runs.

    In UTC by default; with ``zone`` (and the reference date that fixes the
    week, so daylight-saving time is right), in that zone's local time.
    """
    grid = [[0] * 24 for _ in range(7)]
    mask = slots_to_mask(runs)
    local = zone is not None and zone not in ("UTC", "Etc/UTC") and reference is not None
    if local:
        assert zone is not None and reference is not None
        tz = ZoneInfo(zone)
        origin = datetime.combine(reference_week_start(reference), time(), tzinfo=UTC)
    for s in range(SLOTS_PER_WEEK):
        if mask >> s & 1:
            if local:
                at = (origin + timedelta(minutes=SLOT_MINUTES * s)).astimezone(tz)
                grid[at.weekday()][at.hour] += 1
            else:
                grid[s // SLOTS_PER_DAY][(s % SLOTS_PER_DAY) // SLOTS_PER_HOUR] += 1
    # a daylight-saving change can fold two UTC quarter-hours onto one local one
    return [[min(c, SLOTS_PER_HOUR) for c in row] for row in grid]


def local_windows(
    runs: Sequence[Sequence[int]], timezone: str, reference: date | None
) -> list[str] | None:
    """Common windows in a time zone's local time, or None when they cannot be placed."""
    if reference is None and timezone not in ("UTC", "Etc/UTC"):
        return None
    try:
        return format_local_windows(slots_to_mask(runs), timezone, reference or date(2024, 1, 1))
    except AvailabilityError:
        return None


def _pair_of(item: Any) -> tuple[str, str] | None:
    """Read one repeated pair: ``[a, b, ...]`` or a mapping naming two learners."""
    if isinstance(item, Mapping):
        for key in ("learners", "pair", "ids", "members"):
            value = item.get(key)
            if isinstance(value, Sequence) and not isinstance(value, str) and len(value) >= 2:
                return str(value[0]), str(value[1])
        for a_key, b_key in (("a", "b"), ("id_a", "id_b")):
            if a_key in item and b_key in item:
                return str(item[a_key]), str(item[b_key])
        return None
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) >= 2:
        return str(item[0]), str(item[1])
    return None


def _repeated_pairs(source: Any) -> list[tuple[str, str]] | None:
    if not isinstance(source, Sequence) or isinstance(source, str):
        return None
    return [p for p in (_pair_of(item) for item in source) if p is not None]


def build_report(
    result: Result, raw: Mapping[str, Any] | None = None, zone: str | None = None
) -> ReportData:
    """Prepare a result for the renderers.

    Parameters
    ----------
    result
        The result, e.g. from :meth:`teamform.result.Result.from_json`.
    raw
        The JSON object the result was read from, if any; fields the result
        model does not declare (``repeated_pairs``) are read from it.
    zone
        Time zone in which to draw the heat maps (the tutor's), e.g.
        ``Europe/Paris``; UTC when None or when the result has no reference date.

    Returns
    -------
    ReportData
    """
    reference: date | None = None
    if result.reference_date:
        try:
            reference = date.fromisoformat(result.reference_date)
        except ValueError:
            reference = None
    if zone is not None:
        try:
            zone = canonical_timezone(zone)
        except AvailabilityError as exc:
            raise InputError(f"{exc} (expected an IANA name)", column="--timezone") from None
        if reference is None or zone in ("UTC", "Etc/UTC"):
            zone = None
    raw = raw or {}
    repeated = _repeated_pairs(raw.get("repeated_pairs", getattr(result, "repeated_pairs", None)))
    raw_teams: list[Any] = raw["teams"] if isinstance(raw.get("teams"), list) else []
    units = {c.name: c.unit for c in result.breakdown}
    names: dict[str, None] = {c.name: None for c in result.breakdown}

    views: list[TeamView] = []
    skill_max = 1.0
    for pos, team in enumerate(result.teams):
        raw_team = raw_teams[pos] if pos < len(raw_teams) else {}
        team_repeated = repeated
        if isinstance(raw_team, Mapping) and "repeated_pairs" in raw_team:
            team_repeated = _repeated_pairs(raw_team["repeated_pairs"])
        views.append(_team_view(team, reference, units, team_repeated, zone))
        for name in team.penalties:
            names.setdefault(name, None)
        for value in [*team.skill_means.values(), *team.skill_targets.values()]:
            skill_max = max(skill_max, float(value))
    return ReportData(
        result=result,
        teams=views,
        week_start=reference_week_start(reference) if reference else None,
        skill_max=float(math.ceil(skill_max)),
        criterion_names=list(names),
        zone=zone,
    )


def team_view(team: TeamSummary, reference: date | None) -> TeamView:
    """One team prepared for a card (as :func:`build_report` prepares every team)."""
    return _team_view(team, reference, {}, None)


def _team_view(
    team: TeamSummary,
    reference: date | None,
    units: Mapping[str, str],
    repeated: list[tuple[str, str]] | None,
    zone: str | None = None,
) -> TeamView:
    runs = team.common_slots
    members = []
    for lid, name in zip(team.members, team.names, strict=False):
        tz = team.timezones.get(lid)
        members.append(
            MemberView(
                id=lid,
                name=name,
                timezone=tz,
                participation=team.participation.get(lid),
                windows=local_windows(runs, tz, reference) if runs is not None and tz else None,
                choice=_choice(team, lid),
            )
        )
    if team.criteria:
        criteria = [
            CriterionView(
                name=c.name,
                hard=c.hard,
                value=f"{c.value:g} {c.unit}".strip(),
                target=c.target,
                score=c.score,
            )
            for c in team.criteria
        ]
    else:
        # results written before per-criterion values existed: penalties only
        criteria = [
            CriterionView(
                name=name,
                hard=False,
                value=f"penalty {pen:g} {units.get(name, '')}".strip(),
                target="penalty 0",
                score=None,
            )
            for name, pen in team.penalties.items()
        ]

    flags = [c for c in team.checks if not c.ok]
    met = [c for c in team.checks if c.ok]
    known = {c.message for c in team.checks}
    isolated = any(c.code == "isolation" for c in flags)
    for text in team.flags:
        if text in known or (isolated and ":no_isolation:" in text):
            continue
        flags.append(TeamFlag(code="rule", message=_labelled(text)))

    recorded = any(c.code == "repeated_pair" for c in team.checks)
    if repeated is not None and not recorded:
        inside = set(team.members)
        label = dict(zip(team.members, team.names, strict=False))
        again = [(a, b) for a, b in repeated if a in inside and b in inside]
        for a, b in again:
            who = " and ".join(f"{label[x]} ({x})" if label.get(x) else x for x in (a, b))
            flags.append(
                TeamFlag(
                    code="repeated_pair",
                    message=f"{who} already worked together in an earlier phase",
                    learners=[a, b],
                )
            )
        if not again:
            met.append(
                TeamFlag(
                    code="repeated_pair", ok=True, message="no pair from an earlier phase repeated"
                )
            )

    return TeamView(
        summary=team,
        members=members,
        heat=heat_grid(runs, zone, reference) if runs is not None else None,
        utc_windows=local_windows(runs, "UTC", reference) if runs is not None else None,
        criteria=criteria,
        flags=flags,
        met=met,
    )


def _choice(team: TeamSummary, lid: str) -> str | None:
    if team.project is None or lid not in team.project_ranks:
        return None
    rank = team.project_ranks[lid]
    return "not chosen" if rank is None else f"choice {rank}"


_LABELS = {
    "skill_balance": "Skill balance",
    "skill_coverage": "Skill coverage",
    "motivation": "Motivation mix",
    "prefer": "Preferred partners",
    "overlap": "Common time",
    "diversity": "Diversity",
    "no_repeat": "New teammates",
    "stability": "Same team as before",
    "participation": "Participation mix",
}
_CATEGORY_RULES = {
    "distribute": "spread evenly",
    "cluster": "kept together",
    "no_isolation": "nobody alone",
}
#: The flag codes that speak of each criterion (category rules: by their rule).
_FLAG_CODES = {
    "motivation": ("motivation",),
    "overlap": ("overlap",),
    "skill_coverage": ("skill_coverage",),
    "prefer": ("prefer",),
    "participation": ("participation",),
    "no_repeat": ("repeated_pair",),
    "no_isolation": ("isolation",),
}


def criterion_label(name: str) -> str:
    """A criterion's name as a tutor reads it: ``Language: nobody alone``."""
    if name.startswith("category:"):
        parts = name.split(":")
        column = parts[1] if len(parts) > 1 else ""
        rule = _CATEGORY_RULES.get(parts[2], parts[2]) if len(parts) > 2 else ""
        return f"{column.replace('_', ' ').capitalize()}: {rule}".rstrip(": ")
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def _labelled(message: str) -> str:
    """A rule's message with the criterion's internal name replaced by its label."""
    name, sep, rest = message.partition(": ")
    if sep and (name in _LABELS or name.startswith("category:")):
        return f"{criterion_label(name)}: {rest}"
    return message


def flagged(view: TeamView, name: str) -> bool:
    """Whether a flag of the team speaks of criterion ``name``."""
    key = name.split(":")[2] if name.startswith("category:") and name.count(":") >= 2 else name
    codes = _FLAG_CODES.get(key, ())
    label = f"{criterion_label(name)}: "
    return any(f.code in codes or f.message.startswith(label) for f in view.flags)


def cell_class(view: TeamView, name: str, score: float | None) -> str:
    """The colour of a team's criterion cell, in agreement with its flags.

    Red when a flag speaks of the criterion, green when the team meets the
    target (score 100), amber in between; grey when not measured.
    """
    if flagged(view, name):
        return "poor"
    if score is None:
        return "na"
    return "good" if score >= 99.95 else "fair"


def verdict(data: ReportData) -> list[str]:
    """The report's opening: what was formed and what needs the tutor, in plain words."""
    r = data.result
    if data.infeasible:
        if r.stopped:
            return ["The search was stopped before any teams meeting every rule were found."]
        return [
            "No teams could be formed: the rules below cannot all hold. "
            "Relax one of them and form the teams again."
        ]
    sizes = sorted({t.size for t in r.teams})
    size_text = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]} to {sizes[-1]}"
    lines = [
        f"{r.n_teams} teams of {size_text} were formed for {r.n_learners} learners, "
        "and every hard rule holds."
    ]
    attention = [v for v in data.teams if v.flags]
    if not attention:
        lines.append("No team has anything to act on.")
    else:
        worst = sorted(attention, key=lambda v: (-len(v.flags), v.number))[:3]
        named = "; ".join(f"team {v.number}: {v.flags[0].message}" for v in worst)
        more = len(attention) - len(worst)
        lines.append(
            f"{len(attention)} of {r.n_teams} teams need a look ({named}"
            + (f"; and {more} more" if more > 0 else "")
            + ")."
        )
        short = [v for v in data.teams if any(f.code == "overlap" for f in v.flags)]
        none = [v for v in short if (v.summary.common_hours or 0) == 0]
        if short:
            lines.append(
                f"{len(short)} team{'s have' if len(short) != 1 else ' has'} less common time "
                f"than asked, {len(none)} with none at all."
            )
    if r.stopped:
        lines.append("The search was stopped early: these are the best teams found until then.")
    elif r.status.value == "optimal":
        lines.append("No better teams exist under this model: the search proved it.")
    elif r.gap is not None and r.gap > 0:
        lines.append(
            "Better teams may exist: the search used its whole time limit without proving "
            "these the best (a longer --time-limit may improve them)."
        )
    return lines


#: Beyond this many teams, reports give a card only to the teams that need a look most
#: (every team stays in the compliance table): 2500 cards of charts make a page of
#: tens of megabytes that no browser opens comfortably.
MAX_CARDS = 100


def carded_teams(data: ReportData) -> list[TeamView]:
    """The teams that get a card: all of them, or the most flagged when there are many."""
    if len(data.teams) <= MAX_CARDS:
        return data.teams
    flagged = sorted((v for v in data.teams if v.flags), key=lambda v: (-len(v.flags), v.number))
    return sorted(flagged[:MAX_CARDS], key=lambda v: v.number)


def score_class(score: float | None) -> str:
    """A traffic-light class name for a 0-100 score."""
    if score is None:
        return "na"
    if score >= 90:
        return "good"
    if score >= 60:
        return "fair"
    return "poor"


def week_label(week_start: date | None) -> str:
    """``week of 12 January 2026``, or an empty string."""
    if week_start is None:
        return ""
    return f"week of {week_start.day} {week_start:%B %Y}"


_STATUS_WORDS = {
    "optimal": "teams formed, proven the best under this model",
    "feasible": "teams formed; every hard rule holds",
    "infeasible": "no teams: the hard rules conflict",
    "unknown": "no teams found in the time given",
    "model_invalid": "no teams: the model is invalid",
}


def summary_rows(data: ReportData) -> list[tuple[str, str]]:
    """The summary block as (label, value) rows in plain words, shared by every renderer."""
    r = data.result
    status = _STATUS_WORDS.get(r.status.value, r.status.value)
    if r.objective is not None and not r.valid:
        status += " (the check of the teams failed)"
    if r.stopped:
        status += "; stopped early"
    rows = [("result", status), ("learners", str(r.n_learners)), ("teams", str(r.n_teams))]
    if r.model_name:
        rows.append(("model", r.model_name))
    if data.week_start is not None:
        rows.append(("time zones compared in", week_label(data.week_start)))
    if data.zone is not None:
        rows.append(("times shown in", data.zone))
    return rows


def solver_rows(data: ReportData) -> list[tuple[str, str]]:
    """The search's own figures (objective, bound, gap), for whoever wants them."""
    r = data.result
    rows = [("status", r.status.value + ("" if r.valid or r.objective is None else " (invalid)"))]
    if r.objective is not None:
        rows.append(("objective (total weighted penalty)", f"{r.objective:.2f}"))
    if r.bound is not None:
        rows.append(("bound (no teams can do better)", f"{r.bound:.2f}"))
    if r.gap is not None:
        rows.append(("gap", f"{100 * r.gap:.1f} %"))
    if r.excess_per_team is not None:
        rows.append(("excess per team", f"{r.excess_per_team:.2f}"))
    run = f"{r.runtime:.2f} s"
    if r.strategy:
        run += f" ({r.strategy}, seed {r.seed}, {r.workers} worker{'s' if r.workers != 1 else ''})"
    rows.append(("runtime", run))
    if r.time_to_first is not None:
        rows.append(("first solution after", f"{r.time_to_first:.2f} s"))
    return rows


def breakdown_rows(data: ReportData) -> list[tuple[str, str, str, str, str]]:
    """Per-criterion rows: name, kind, penalty, weighted penalty, bound."""
    return [
        (
            criterion_label(c.name),
            "hard" if c.hard else f"weight {c.weight:g}",
            f"{c.penalty:g} {c.unit}",
            f"{c.weighted:g}",
            f"{c.lower_bound:g} {c.unit}",
        )
        for c in data.result.breakdown
    ]


def team_scores(view: TeamView, names: Sequence[str]) -> list[float | None]:
    """The team's score for each named criterion (None when absent or unknown)."""
    by_name = {c.name: c.score for c in view.criteria}
    return [by_name.get(n) for n in names]
