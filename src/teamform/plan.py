"""Course plans: re-form teams between course phases, on a schedule, with memory.

A course workspace is a directory holding ``plan.toml`` (the course plan),
the files it names (roster, pair lists, formation models) and ``teamform.db``
(the formations of earlier phases, see :mod:`teamform.history`). The plan
lists the phases with their start dates, formation model and re-forming
policy:

``fresh``
    new teams; the only memory is the plan's ``no_repeat`` setting (earlier
    teammates kept apart, soft or hard).
``keep``
    the teams of the last phase, repaired: the ``stability`` criterion counts
    learners moved, so dropouts and late joiners are absorbed and sizes and
    hard rules restored while moving as few learners as possible.
``mix``
    new teams with as many new pairings as possible: ``no_repeat`` with a
    heavy weight (``mix_weight``), or hard when the plan asks for it.

:func:`run_due` forms every phase whose start has come and that has no stored
formation, in plan order, each stored in its own transaction, under a lock on
the workspace; running it twice forms nothing the second time. It is meant to
run from cron or a systemd timer (see ``docs/phases.md``).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from teamform.distances import model_distances
from teamform.errors import InputError
from teamform.files import MAX_TOML_CHARS, csv_text, parse_toml, read_text, toml_line, write_atomic
from teamform.history import (
    DB_NAME,
    CourseHistory,
    Formation,
    NewFormation,
    PhaseAlreadyFormed,
    check_database,
    load_history_csv,
    pair_counts,
)
from teamform.instance import build_instance
from teamform.model import FormationModel, NoRepeat, Stability
from teamform.pins import Pins
from teamform.presets import copy_demo
from teamform.result import Result
from teamform.roster import Roster, load_roster
from teamform.solve import form

#: Name of the course plan in a workspace.
PLAN_NAME = "plan.toml"
#: Lock file that serialises runs on one workspace.
LOCK_NAME = ".teamform.lock"

Policy = Literal["fresh", "keep", "mix"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoRepeatSettings(_Strict):
    """How earlier teammates are kept apart.

    Attributes
    ----------
    enabled
        Apply ``no_repeat`` in ``fresh`` phases (``mix`` always applies it,
        ``keep`` never does).
    hard
        Earlier teammates must not meet again.
    weight
        Per pair and phase already shared (soft rule).
    lookback
        Only the last ``lookback`` earlier phases count (default: all).
    """

    enabled: bool = True
    hard: bool = False
    weight: float = Field(default=10.0, ge=0)
    lookback: int | None = Field(default=None, ge=1)


class Phase(_Strict):
    """One phase of the course.

    ``roster``, ``avoid``, ``prefer``, ``time_limit``, ``seed`` and
    ``no_repeat`` override the plan's values for this phase. ``pins`` is a
    pins CSV for this phase (see :meth:`teamform.Pins.from_csv`).
    """

    name: str = Field(min_length=1)
    start: datetime | date
    model: str = Field(min_length=1)
    policy: Policy = "fresh"
    roster: str | None = None
    avoid: str | None = None
    prefer: str | None = None
    time_limit: float | None = Field(default=None, gt=0)
    seed: int | None = None
    no_repeat: NoRepeatSettings | None = None
    pins: str | None = None


class Plan(_Strict):
    """A course plan, read from ``plan.toml`` with :meth:`load`.

    Paths are relative to the plan's directory. Phases are listed in time
    order with distinct start dates; a phase is due once its start (a date
    means midnight, local time) has come.

    Examples
    --------
    >>> plan = Plan.model_validate({
    ...     "roster": "roster.csv",
    ...     "phases": [{"name": "P1", "start": "2026-01-12", "model": "m.toml"}],
    ... })
    >>> plan.phases[0].policy
    'fresh'
    """

    name: str = "course"
    roster: str = Field(min_length=1)
    avoid: str | None = None
    prefer: str | None = None
    history: str | None = None
    time_limit: float = Field(default=10.0, gt=0)
    seed: int = 0
    workers: int | None = Field(default=None, ge=1)
    deterministic: bool = False
    keep_weight: float = Field(default=1000.0, ge=0)
    mix_weight: float = Field(default=100.0, ge=0)
    no_repeat: NoRepeatSettings = NoRepeatSettings()
    phases: list[Phase] = Field(min_length=1)
    _dir: Path = PrivateAttr(default=Path("."))
    _source: str = PrivateAttr(default=PLAN_NAME)

    @property
    def directory(self) -> Path:
        """Directory the plan's relative paths start from."""
        return self._dir

    @property
    def source(self) -> str:
        """The plan file, for messages."""
        return self._source

    def resolve(self, path: str) -> Path:
        """A path named in the plan, relative to the plan's directory."""
        return self._dir / path

    def start_of(self, phase: Phase) -> datetime:
        """Start of ``phase`` as a naive local time."""
        return _local(phase.start)

    def phase(self, name: str) -> Phase:
        """The phase called ``name``."""
        for p in self.phases:
            if p.name == name:
                return p
        raise InputError(f"no phase named '{name}' in the plan", file=self.source, column="--phase")

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        """Read and check a plan file (or the ``plan.toml`` of a workspace directory).

        Checks, before anything is formed: the TOML and its keys, that phase
        names are unique and start dates strictly increasing, that every file
        named exists and that every formation model is valid.

        Raises
        ------
        InputError
            One line naming the plan (or model) file, row and key.
        """
        path = Path(path)
        if path.is_dir():
            path = path / PLAN_NAME
        source = str(path)
        if not path.exists():
            raise InputError("plan file not found", file=source)
        text = read_text(path, MAX_TOML_CHARS)
        plan = cls._from_dict(parse_toml(text, source), source, text)
        plan._dir = path.parent
        plan._source = source
        plan._check(text)
        return plan

    @classmethod
    def _from_dict(cls, data: dict[str, Any], source: str, text: str) -> Plan:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = [str(p) for p in err["loc"]]
            if err["type"] == "extra_forbidden":
                message = f"unknown key '{loc[-1]}'"
            else:
                message = err["msg"].removeprefix("Value error, ")
            row = toml_line(text, loc)
            raise InputError(message, file=source, row=row, column=".".join(loc) or None) from None

    def _check(self, text: str) -> None:
        def fail(message: str, loc: list[str]) -> InputError:
            return InputError(
                message, file=self.source, row=toml_line(text, loc), column=".".join(loc)
            )

        seen: dict[str, int] = {}
        for i, p in enumerate(self.phases):
            if p.name in seen:
                raise fail(f"phase name '{p.name}' is used twice", ["phases", str(i), "name"])
            seen[p.name] = i
        for i in range(1, len(self.phases)):
            prev, cur = self.phases[i - 1], self.phases[i]
            a, b = self.start_of(prev), self.start_of(cur)
            if b == a:
                raise fail(
                    f"phases '{prev.name}' and '{cur.name}' overlap: both start {_fmt(b)}",
                    ["phases", str(i), "start"],
                )
            if b < a:
                raise fail(
                    f"phases out of order: '{cur.name}' starts {_fmt(b)}, "
                    f"before '{prev.name}' ({_fmt(a)})",
                    ["phases", str(i), "start"],
                )
        files: list[tuple[list[str], str | None]] = [
            (["roster"], self.roster),
            (["avoid"], self.avoid),
            (["prefer"], self.prefer),
            (["history"], self.history),
        ]
        for i, p in enumerate(self.phases):
            for key in ("model", "roster", "avoid", "prefer", "pins"):
                files.append((["phases", str(i), key], getattr(p, key)))
        for loc, rel in files:
            if rel is not None and not self.resolve(rel).is_file():
                raise fail(f"{loc[-1]} file not found: {self.resolve(rel)}", loc)
        for p in self.phases:
            FormationModel.from_toml(self.resolve(p.model))


def _local(value: datetime | date) -> datetime:
    """A date or datetime as a naive local time (dates mean midnight)."""
    if isinstance(value, datetime):
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    return datetime.combine(value, dtime())


def _fmt(value: datetime) -> str:
    return value.date().isoformat() if value.time() == dtime() else value.isoformat(" ")


# --- running phases -----------------------------------------------------------------


@dataclass(frozen=True)
class PhaseStatus:
    """Where one phase stands.

    Attributes
    ----------
    name, index
        Phase name and its position in the plan (from 0).
    start
        Start as a naive local time.
    policy, model
        Re-forming policy and formation model path (as written in the plan).
    due
        Whether the start has come.
    formation
        The stored formation, if any.
    """

    name: str
    index: int
    start: datetime
    policy: str
    model: str
    due: bool
    formation: Formation | None


@dataclass
class RunReport:
    """What :func:`run_due` did.

    Attributes
    ----------
    now
        The time the run compared start dates with.
    due
        Names of the due phases, in plan order.
    formed
        Formations stored by this run.
    already
        Due phases that were formed before this run.
    failed
        The phase that could not be formed (no valid teams), if any; later
        phases were not attempted.
    problems
        Why it failed: conflicting rules or violations.
    """

    now: datetime
    due: list[str] = field(default_factory=list)
    formed: list[Formation] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class _Inputs:
    """A phase's files, read and checked before anything is formed."""

    index: int
    phase: Phase
    roster: Roster
    roster_path: Path
    model: FormationModel
    model_text: str
    pins: Pins | None = None


def _read_model(path: Path) -> tuple[FormationModel, str]:
    text = read_text(path, MAX_TOML_CHARS)
    return FormationModel.from_toml_text(text, source=str(path)), text


def _roster_for(plan: Plan, phase: Phase | None, model: FormationModel) -> tuple[Roster, Path]:
    def pick(own: str | None, base: str | None) -> Path | None:
        rel = own if own is not None else base
        return plan.resolve(rel) if rel is not None else None

    roster_path = pick(phase.roster if phase else None, plan.roster)
    assert roster_path is not None
    roster = load_roster(
        roster_path,
        avoid=pick(phase.avoid if phase else None, plan.avoid),
        prefer=pick(phase.prefer if phase else None, plan.prefer),
        columns=model.roster.columns,
    )
    return roster, roster_path


def _prepare(plan: Plan, index: int, today: date) -> _Inputs:
    phase = plan.phases[index]
    model, text = _read_model(plan.resolve(phase.model))
    roster, roster_path = _roster_for(plan, phase, model)
    pins = Pins.from_csv(plan.resolve(phase.pins)) if phase.pins is not None else None
    # the roster fits the model's sizes and criteria, and the distance file reads
    build_instance(roster, model, pins=pins, today=today, distances=model_distances(roster, model))
    return _Inputs(index, phase, roster, roster_path, model, text, pins)


def _imported(plan: Plan) -> list[tuple[str, dict[str, int]]]:
    """Teams of the optional history import file, checked against the plan's roster."""
    if plan.history is None:
        return []
    model, _ = _read_model(plan.resolve(plan.phases[0].model))
    roster, _ = _roster_for(plan, None, model)
    return load_history_csv(plan.resolve(plan.history), roster.ids)


def phase_model(plan: Plan, phase: Phase, model: FormationModel) -> FormationModel:
    """The formation model of ``phase`` with its policy's criteria set.

    ``fresh`` uses the plan's ``no_repeat`` settings, ``keep`` turns on
    ``stability`` (weight ``keep_weight``) and turns ``no_repeat`` off, ``mix``
    uses ``no_repeat`` with weight at least ``mix_weight`` (hard if the plan
    says so). These replace any ``no_repeat`` or ``stability`` table of the
    model file.
    """
    nr = phase.no_repeat or plan.no_repeat
    no_repeat: NoRepeat | None = None
    stability: Stability | None = None
    if phase.policy == "fresh" and nr.enabled:
        no_repeat = NoRepeat(weight=nr.weight, hard=nr.hard)
    elif phase.policy == "mix":
        hard = nr.enabled and nr.hard
        no_repeat = NoRepeat(weight=max(nr.weight, plan.mix_weight), hard=hard)
    elif phase.policy == "keep":
        stability = Stability(weight=plan.keep_weight)
    criteria = model.criteria.model_copy(update={"no_repeat": no_repeat, "stability": stability})
    return model.model_copy(update={"criteria": criteria})


def _memory(
    plan: Plan,
    index: int,
    db: CourseHistory,
    imported: list[tuple[str, dict[str, int]]],
) -> list[dict[str, int]]:
    """Assignments of the phases before ``index``: imported ones, then stored ones."""
    by_name = {f.phase: f for f in db.formations()}
    stored = [by_name[p.name] for p in plan.phases[:index] if p.name in by_name]
    return [a for _, a in imported] + [db.assignment(f.id) for f in stored]


def _previous_projects(plan: Plan, index: int, db: CourseHistory) -> dict[int, str] | None:
    """Team number to project in the latest stored phase before ``index``."""
    by_name = {f.phase: f for f in db.formations()}
    for p in reversed(plan.phases[:index]):
        if p.name in by_name:
            result = Result.model_validate_json(db.result_json(by_name[p.name].id))
            return {t.team: t.project for t in result.teams if t.project is not None}
    return None


def _form_phase(
    plan: Plan,
    inputs: _Inputs,
    db: CourseHistory,
    imported: list[tuple[str, dict[str, int]]],
    today: date,
) -> tuple[Result, NewFormation]:
    phase = inputs.phase
    model = phase_model(plan, phase, inputs.model)
    memory = _memory(plan, inputs.index, db, imported)
    nr = phase.no_repeat or plan.no_repeat
    window = memory[-nr.lookback :] if nr.lookback else memory
    history = pair_counts(window) if model.criteria.no_repeat is not None else None
    previous = memory[-1] if phase.policy == "keep" and memory else None
    projects = model.criteria.projects
    kept = None
    if previous is not None and projects is not None and projects.keep:
        kept = _previous_projects(plan, inputs.index, db)
    time_limit = phase.time_limit if phase.time_limit is not None else plan.time_limit
    seed = phase.seed if phase.seed is not None else plan.seed
    result = form(
        inputs.roster,
        model,
        time_limit=time_limit,
        seed=seed,
        workers=plan.workers,
        deterministic=plan.deterministic,
        history=history,
        previous=previous,
        pins=inputs.pins,
        previous_projects=kept,
        today=today,
    )
    new = NewFormation(
        phase=phase.name,
        phase_index=inputs.index,
        formed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        policy=phase.policy,
        roster=str(inputs.roster_path),
        model_name=model.name,
        model_toml=inputs.model_text,
        model_json=model.model_dump_json(),
        seed=seed,
        time_limit=time_limit,
        status=result.status.value,
        objective=result.objective,
        bound=result.bound,
        n_learners=result.n_learners,
        n_teams=result.n_teams,
        runtime=result.runtime,
        result_json=result.model_dump_json(),
        assignment=result.assignment,
    )
    return result, new


@contextmanager
def workspace_lock(workspace: str | Path, wait: float = 600.0) -> Iterator[None]:
    """Hold the workspace's lock file exclusively (``flock``).

    The lock is released when the process ends, however it ends, so a killed
    run never blocks the next one.

    Raises
    ------
    InputError
        When another run still holds the lock after ``wait`` seconds.
    """
    path = Path(workspace) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InputError(
                        f"another run still holds the lock after {wait:g} s", file=str(path)
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _now(now: datetime | date | None) -> datetime:
    return _local(now) if now is not None else datetime.now()


def _due(plan: Plan, now: datetime) -> list[int]:
    return [i for i, p in enumerate(plan.phases) if plan.start_of(p) <= now]


def run_due(
    workspace: str | Path,
    now: datetime | date | None = None,
    *,
    wait: float = 600.0,
    log: Callable[[str], None] | None = None,
) -> RunReport:
    """Form every due phase that has no stored formation yet.

    Phases are formed in plan order, each stored in its own transaction, so
    a run killed midway keeps the phases it finished and the next run forms
    the rest. Runs on the same workspace are serialised by a lock, so each
    phase is formed once however often (or concurrently) this is called.

    Parameters
    ----------
    workspace
        Course workspace directory (holding ``plan.toml``).
    now
        The time to compare start dates with (default: now, local time).
    wait
        Seconds to wait for a concurrent run to finish.
    log
        Called with a line of text for each phase formed or skipped.

    Returns
    -------
    RunReport
        ``failed`` is set when a phase had no valid teams (e.g. contradictory
        hard rules); it is not stored, and later phases wait for it.

    Raises
    ------
    InputError
        Bad plan, roster, model, history file or database; raised before
        anything is written.
    """
    ws = Path(workspace)
    say = log or (lambda _line: None)
    plan = Plan.load(ws)
    when = _now(now)
    report = RunReport(now=when, due=[plan.phases[i].name for i in _due(plan, when)])
    db_path = ws / DB_NAME
    check_database(db_path)
    if not report.due:
        say("no phase is due")
        return report
    with CourseHistory.read(db_path) as db:
        formed = {f.phase for f in db.formations()}
    todo = [i for i in _due(plan, when) if plan.phases[i].name not in formed]
    # read and check every input first: bad input must not leave half a course formed
    imported = _imported(plan)
    inputs = {i: _prepare(plan, i, when.date()) for i in todo}

    with workspace_lock(ws, wait), CourseHistory.open(db_path) as db:
        for i in _due(plan, when):
            phase = plan.phases[i]
            if db.formation(phase.name) is not None:
                report.already.append(phase.name)
                say(f"phase '{phase.name}' already formed")
                continue
            result, new = _form_phase(plan, inputs[i], db, imported, when.date())
            if not result.feasible:
                report.failed = phase.name
                report.problems = result.conflicts or result.violations
                say(f"phase '{phase.name}' not formed: {result.status.value}")
                break
            try:
                stored = db.record(new)
            except PhaseAlreadyFormed:
                report.already.append(phase.name)  # only without a working lock
                continue
            report.formed.append(stored)
            say(
                f"formed phase '{phase.name}' ({phase.policy}): {stored.status}, "
                f"objective {stored.objective:.2f}, {stored.n_teams} teams of "
                f"{stored.n_learners} learners in {stored.runtime:.1f} s"
            )
    return report


def plan_status(workspace: str | Path, now: datetime | date | None = None) -> list[PhaseStatus]:
    """Each phase of the plan: its start, whether it is due, its formation."""
    ws = Path(workspace)
    plan = Plan.load(ws)
    when = _now(now)
    with CourseHistory.read(ws / DB_NAME) as db:
        stored = {f.phase: f for f in db.formations()}
    return [
        PhaseStatus(
            name=p.name,
            index=i,
            start=plan.start_of(p),
            policy=p.policy,
            model=p.model,
            due=plan.start_of(p) <= when,
            formation=stored.get(p.name),
        )
        for i, p in enumerate(plan.phases)
    ]


def history(workspace: str | Path) -> list[Formation]:
    """Past formations of a workspace, in plan order.

    Raises
    ------
    InputError
        When ``workspace`` is not a course workspace (no such directory, or
        neither a plan nor a database in it).
    """
    ws = _existing_workspace(workspace)
    with CourseHistory.read(ws / DB_NAME) as db:
        return db.formations()


def _existing_workspace(workspace: str | Path) -> Path:
    ws = Path(workspace)
    if not ws.is_dir():
        what = "not a directory" if ws.exists() else "no such directory"
        raise InputError(f"{what} (expected a course workspace)", file=str(ws))
    if not (ws / PLAN_NAME).exists() and not (ws / DB_NAME).exists():
        raise InputError(
            f"not a course workspace (no {PLAN_NAME}); create one with 'teamform plan init {ws}'",
            file=str(ws),
        )
    return ws


def export_phase(workspace: str | Path, phase: str, out: str | Path) -> Path:
    """Write the teams of a formed phase as ``id,name,team`` CSV.

    Cells a spreadsheet would read as formulas are neutralised.

    Raises
    ------
    InputError
        When the phase is unknown or not formed yet.
    """
    ws = _existing_workspace(workspace)
    with CourseHistory.read(ws / DB_NAME) as db:
        found = db.formation(phase)
        if found is None:
            plan = Plan.load(ws)
            plan.phase(phase)  # unknown name: says so
            raise InputError(f"phase '{phase}' is not formed yet", column="--phase")
        assignment = db.assignment(found.id)
        result = Result.model_validate_json(db.result_json(found.id))
    names = {
        lid: name
        for team in result.teams
        for lid, name in zip(team.members, team.names, strict=True)
    }
    rows = ((lid, names.get(lid, ""), team) for lid, team in assignment.items())
    path = Path(out)
    write_atomic(path, csv_text(("id", "name", "team"), rows))
    return path


# --- a new workspace ------------------------------------------------------------------

_EXAMPLE_PLAN = """\
# Course plan: when teams are (re-)formed, and how.
#
# `teamform plan run-due DIR` forms every phase whose start has come and which
# has no stored formation yet; run it daily from cron or a systemd timer.
# Paths are relative to this file. Formations are kept in teamform.db next to it.

name = "Demo course"
roster = "roster.csv"     # edit it between phases: new rows join, removed rows drop out
avoid = "avoid.csv"       # optional: pairs who must not share a team
prefer = "prefer.csv"     # optional: pairs who asked to work together
# history = "history.csv" # optional: earlier teams, columns phase,id,team
time_limit = 10           # seconds of search per phase
seed = 0
keep_weight = 1000        # `keep` phases: per learner moved (above every other criterion)
mix_weight = 100          # `mix` phases: per earlier pair together again

# Earlier teammates in `fresh` phases: a soft rule, per pair and phase already shared.
[no_repeat]
enabled = true
hard = false
weight = 10
# lookback = 2            # only the last two phases count

# Phases, in time order. policy: fresh (new teams), keep (repair the last
# teams, moving few learners), mix (new teams, as many new pairings as possible).
[[phases]]
name = "Kick-off"
start = {start1}
model = "models/collaborative.toml"
policy = "fresh"

[[phases]]
name = "Project"
start = {start2}
model = "models/cooperative.toml"
policy = "mix"

[[phases]]
name = "Wrap-up"
start = {start3}
model = "models/cooperative.toml"
policy = "keep"
# time_limit = 30         # per-phase overrides: roster, avoid, prefer, pins, time_limit,
# seed = 1                # seed and a [phases.no_repeat] table
"""


def init_workspace(directory: str | Path, *, start: date) -> Path:
    """Create a course workspace with an example plan on the demo course.

    The demo roster, pair lists and the preset models are copied into the
    workspace (files already there are kept), so the workspace is
    self-contained; the plan refers to them by relative path. The three
    phases start on ``start`` and four and eight weeks later.

    Returns
    -------
    Path
        The plan file written.

    Raises
    ------
    InputError
        When the directory already holds a plan.
    """
    ws = Path(directory)
    plan_path = ws / PLAN_NAME
    if plan_path.exists():
        raise InputError("a plan already exists here; not overwritten", file=str(plan_path))
    copy_demo(ws)
    text = _EXAMPLE_PLAN.format(
        start1=start.isoformat(),
        start2=(start + timedelta(weeks=4)).isoformat(),
        start3=(start + timedelta(weeks=8)).isoformat(),
    )
    write_atomic(plan_path, text)
    return plan_path
