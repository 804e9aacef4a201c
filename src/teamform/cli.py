"""Command line: ``teamform form``, ``teamform check`` and friends.

Exit codes: 0 success, 2 bad input (one line naming file, row and column),
3 infeasible model (the conflicting rules are printed), 4 stopped by Ctrl-C
(the best teams found so far are written), 130 a second Ctrl-C (nothing more).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from teamform.availability import AvailabilityError, canonical_timezone
from teamform.criteria import build_terms
from teamform.distances import model_distances
from teamform.errors import InputError, TeamformError, problems_of
from teamform.instance import build_instance
from teamform.model import FormationModel, check_reference_date
from teamform.pins import Pins
from teamform.presets import resolve_model_path
from teamform.result import Result, Status, Timings, write_atomic
from teamform.roster import Roster
from teamform.solve import Progress, form
from teamform.summary import digest
from teamform.timing import process_start

EXIT_INPUT = 2
#: Problems ``check`` lists before it only counts the rest.
MAX_LISTED_PROBLEMS = 50
EXIT_INFEASIBLE = 3
EXIT_STOPPED = 4
EXIT_INTERRUPTED = 130

EXIT_CODES = (
    "Exit codes: 0 done; 2 bad input (file, row and column named); 3 no assignment meets "
    "every hard rule (the conflicting rules are named); 4 stopped by Ctrl-C, the best teams "
    "found so far written; 130 interrupted by a second Ctrl-C, nothing written."
)


try:  # recent typer ships its own copy of click
    from typer._click import exceptions as _CLICK
except ImportError:  # pragma: no cover - older typer on click
    from click import exceptions as _CLICK  # type: ignore[no-redef]
_ABORT = (typer.Abort, getattr(_CLICK, "Abort", typer.Abort))


class _OneLineErrors(TyperGroup):
    """Usage errors (unknown option, bad value) as one line, like every input error."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _CLICK.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                _rich_format_error(exc)  # the help text, as typer shows it
            else:
                where = exc.ctx.command_path if exc.ctx is not None else "teamform"
                # pydantic, behind typer's coercion, prefixes its own words
                message = exc.format_message().replace("Value error, ", "")
                err.print(
                    Text(f"error: {message} (see '{where} --help')"),
                    style="red",
                    soft_wrap=True,
                )
            sys.exit(exc.exit_code)
        except _CLICK.ClickException as exc:
            _rich_format_error(exc)
            sys.exit(exc.exit_code)
        except _ABORT:
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="teamform",
    cls=_OneLineErrors,
    help="Form balanced learner teams from a CSV roster and a formation model.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console()
err = Console(stderr=True)
#: When the process started (``perf_counter``), set by :func:`main`; the time
#: limit counts from it. Unset when the app is invoked in-process (tests).
_process_started: float | None = None
#: Set by ``form`` run from :func:`main`: its process ends without the
#: interpreter's teardown, which takes 0.1-0.4 s past the time limit.
_exit_at_once = False
#: What such a ``form`` keeps referenced until the process ends (see :func:`_exit_now`).
_KEPT: list[object] = []
#: Up to this many teams, ``form`` prints every team by default; past it, a digest.
SHOW_ALL_MAX_TEAMS = 40


class ShowTeams(StrEnum):
    """Which teams ``form`` prints."""

    AUTO = "auto"
    ALL = "all"
    SUMMARY = "summary"


def _rich_format_error(exc: Exception) -> None:
    # typer's formatter imports rich's markdown and traceback parts: only on an error
    from typer.rich_utils import rich_format_error

    rich_format_error(exc)  # type: ignore[arg-type]


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("teamform")
    except metadata.PackageNotFoundError:  # running from a source tree
        from teamform import __version__

        return __version__


def _show_version(value: bool) -> None:
    if value:
        out.print(f"teamform {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_show_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Form balanced learner teams from a CSV roster and a formation model."""


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err.print(Text(f"error: {message}"), style="red", soft_wrap=True)
    return typer.Exit(code)


def _load(
    roster_path: Path,
    model_path: Path,
    avoid: Path | None,
    prefer: Path | None,
    reference_date: str | None,
    mapping: Path | None = None,
    timezone: str | None = None,
) -> tuple[Roster, FormationModel]:
    model = FormationModel.from_toml(resolve_model_path(model_path))
    if timezone is not None:
        model = _with_default_zone(model, timezone)
    if reference_date is not None:
        try:
            ref = date.fromisoformat(reference_date)
        except ValueError:
            raise InputError(
                f"'{reference_date}' is not a date (expected YYYY-MM-DD)",
                column="--reference-date",
            ) from None
        try:
            check_reference_date(ref)
        except ValueError as exc:
            raise InputError(str(exc), column="--reference-date") from None
        model = _with_reference_date(model, ref)
    roster = _read_roster(roster_path, mapping, timezone, avoid, prefer, model.roster.columns)
    return roster, model


def _read_roster(
    path: Path,
    mapping: Path | None,
    timezone: str | None,
    avoid: Path | None = None,
    prefer: Path | None = None,
    columns: dict[str, str] | None = None,
) -> Roster:
    """A roster CSV, or a survey export read through the survey mapping (warnings shown)."""
    from teamform.survey import read_learners

    roster, imported = read_learners(
        path, mapping=mapping, default_timezone=timezone, avoid=avoid, prefer=prefer,
        columns=columns,
    )  # fmt: skip
    if imported is not None:
        err.print(
            Text(f"{path}: read as a {imported.format} survey ({len(roster)} learners; "
                 "'teamform import' shows the mapping)"),
            soft_wrap=True,
        )  # fmt: skip
        for line in imported.warnings:
            err.print(Text(f"warning: {line}"), style="yellow", soft_wrap=True)
    return roster


def _with_default_zone(model: FormationModel, timezone: str) -> FormationModel:
    try:
        zone = canonical_timezone(timezone)
    except AvailabilityError as exc:
        raise InputError(f"{exc} (expected an IANA name)", column="--timezone") from None
    roster = model.roster.model_copy(update={"timezone": zone})
    return model.model_copy(update={"roster": roster})


def _with_reference_date(model: FormationModel, ref: date) -> FormationModel:
    return model.with_reference_date(ref)


class StrategyName(StrEnum):
    """Values of ``form --strategy``."""

    auto = "auto"
    exact = "exact"
    lns = "lns"


class SheetFormat(StrEnum):
    """Values of ``report --sheet-format``."""

    md = "md"
    html = "html"


RosterArg = Annotated[
    Path, typer.Argument(help="Roster CSV, one learner a row, or a survey export (CSV, .xlsx).")
]
ModelOpt = Annotated[
    Path,
    typer.Option(
        "--model",
        "-m",
        help="Formation model: a TOML file or a preset name (see 'teamform models list').",
    ),
]
AvoidOpt = Annotated[
    Path | None, typer.Option(help="CSV of pairs (id_a,id_b) who must not share a team.")
]
PreferOpt = Annotated[
    Path | None, typer.Option(help="CSV of pairs (id_a,id_b) who asked to work together.")
]
PinsOpt = Annotated[
    Path | None,
    typer.Option(
        help="CSV of pins: id,team (learner fixed to a team; a 'fixed' column set to yes "
        "closes the team) and/or group,id (learners kept together)."
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(help="Survey mapping (TOML) overriding the detected column roles."),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="Time zone of learners whose roster or survey gives none, e.g. Europe/Paris "
        "(default: timezone under [roster] in the model).",
    ),
]
RefOpt = Annotated[
    str | None,
    typer.Option(help="Week (YYYY-MM-DD) in which time zones are compared (default: this week)."),
]


@app.command("form", epilog=EXIT_CODES)
def form_cmd(
    ctx: typer.Context,
    roster: RosterArg,
    model: ModelOpt,
    out_csv: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write id,name,team to this CSV.")
    ] = None,
    avoid: AvoidOpt = None,
    prefer: PreferOpt = None,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full result (JSON); '-' for standard output."),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            help="Seconds of wall time for the whole command: start-up, reading, search, writing.",
            min=0.01,
        ),
    ] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[int | None, typer.Option(help="CP-SAT worker threads.", min=1)] = None,
    strategy: Annotated[
        StrategyName,
        typer.Option(help="exact: full CP-SAT model; lns: neighbourhoods (large cohorts)."),
    ] = StrategyName.auto,
    deterministic: Annotated[
        bool, typer.Option(help="Same input, seed and workers give the same teams.")
    ] = False,
    reference_date: RefOpt = None,
    show_teams: Annotated[
        ShowTeams,
        typer.Option(
            help=f"all: every team; summary: totals, worst and flagged teams; auto: all up to "
            f"{SHOW_ALL_MAX_TEAMS} teams, else the summary.",
        ),
    ] = ShowTeams.AUTO,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No teams and no progress line: only the totals."),
    ] = False,
    pins: PinsOpt = None,
    mapping: MappingOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Form teams for a roster (or a survey export) and print them.

    Ctrl-C stops the search: the best teams found so far are printed and
    written (exit code 4).
    """
    global _exit_at_once
    entered = perf_counter()
    started = _process_started if _process_started is not None else entered
    _exit_at_once = _process_started is not None
    if _is_stdout(json_path):
        _messages_to_stderr(ctx)
    try:
        ros, mod = _load(roster, model, avoid, prefer, reference_date, mapping, timezone)
        pinned = Pins.from_csv(pins) if pins is not None else None
        read = perf_counter() - entered
        if _process_started is not None:
            # the roster lives until the process ends: keep the collector off it
            gc.freeze()
        live = out.is_terminal and not quiet
        status = _LiveStatus()
        with Live(status, console=out, transient=True, refresh_per_second=4) if live else _Null():
            result = solve_until_interrupted(
                lambda cancel: form(
                    ros,
                    mod,
                    time_limit=time_limit,
                    seed=seed,
                    workers=workers,
                    strategy=strategy.value,
                    deterministic=deterministic,
                    progress=status.update,
                    cancel=cancel,
                    pins=pinned,
                    started=started,
                    include_writing=out_csv is not None or json_path is not None,
                    exiting=_exit_at_once,
                )
            )
    except InputError as exc:
        raise fail(str(exc)) from None
    except TeamformError as exc:
        raise fail(str(exc)) from None

    result.timings.startup = entered - started if _process_started is not None else None
    result.timings.read = read
    if _exit_at_once:
        # freeing the roster and the result (their objects one by one) would take
        # 0.2-0.5 s past the clock at 50 000 learners: the process ends without it
        _KEPT.extend((ros, mod, result))
    feasible = result.status != Status.INFEASIBLE and result.feasible
    # the teams are printed before the files are written, so that the timings in the
    # JSON count the printing too: what comes after them is the short summary alone
    if feasible and not quiet:
        if show_teams == ShowTeams.ALL or (
            show_teams == ShowTeams.AUTO and result.n_teams <= SHOW_ALL_MAX_TEAMS
        ):
            print_teams(result)
        else:
            print_digest(result)
    # the JSON of an infeasible run explains the conflict (and feeds `teamform report`)
    written = _write_outputs(
        result,
        out_csv if feasible else None,
        json_path,
        started,
        None if deterministic or _process_started is None else time_limit,
    )
    if not feasible:
        _print_summary(result)
        if result.stopped:
            raise fail("stopped before any assignment met every hard rule", EXIT_STOPPED)
        for line_ in result.conflicts or result.violations:
            err.print(Text(line_), style="red", soft_wrap=True)
        raise typer.Exit(EXIT_INFEASIBLE)
    _print_summary(result)
    for what, path in written:
        out.print(f"{what} written to {path}")
    if result.stopped:
        err.print(
            Text(
                f"stopped by Ctrl-C after {result.runtime:.1f} s: these are the best teams "
                "found so far, not the end of the search"
            ),
            style="yellow",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_STOPPED)


def _write_outputs(
    result: Result,
    out_csv: Path | None,
    json_path: Path | None,
    started: float,
    wall_limit: float | None = None,
) -> list[tuple[str, Path]]:
    """Write the teams CSV and the result JSON (last, with the time taken to write).

    ``wall_limit``: the time limit, when it is wall time (not a work budget), to
    record how far past it the command ran, if it did.
    """
    begin = perf_counter()

    def clock() -> None:
        now = perf_counter()
        result.timings.write = now - begin
        result.timings.total = now - started
        if wall_limit is not None:
            over = result.timings.total - wall_limit
            result.timings.over_limit = over if over > 0 else None

    written: list[tuple[str, Path]] = []
    path: Path | None = None
    try:
        if out_csv is not None:
            path = out_csv
            result.to_csv(path)
            written.append(("teams", path))
        if json_path is not None:
            path = json_path
            # the timings in the file count its serialisation too
            write_json(result, path, clock)
            if not _is_stdout(path):
                written.append(("result", path))
    except OSError as exc:
        raise fail(f"{path}: cannot write ({exc.strerror or exc})") from None
    clock()
    return written


def _is_stdout(path: Path | None) -> bool:
    return path is not None and str(path) == "-"


def _messages_to_stderr(ctx: typer.Context) -> None:
    """Keep standard output for the JSON alone, for this command."""
    out.stderr = True
    ctx.call_on_close(lambda: setattr(out, "stderr", False))


def write_json(result: Result, path: Path, stamp: Callable[[], None] | None = None) -> None:
    """The full result as JSON, into a file (atomically) or, for ``-``, to stdout;
    ``stamp`` sets the timings once the rest is serialised (see :meth:`Result.json_text`)."""
    if _is_stdout(path):
        sys.stdout.write(result.json_text(stamp) + "\n")
        sys.stdout.flush()
    else:
        result.to_json(path, stamp)


def progress_line(p: Progress) -> str:
    """The live status line: best objective, bound when known, time elapsed."""
    best = "-" if p.objective is None else f"{p.objective:.2f}"
    bound = "" if p.bound is None else f"  bound {p.bound:.2f}"
    return f"searching: best {best}{bound}  {p.elapsed:.1f} s"


class _LiveStatus:
    """The live line: the latest progress, with the clock ticking between reports."""

    def __init__(self) -> None:
        self.started = perf_counter()
        self.last = Progress(None, None, 0.0)

    def update(self, p: Progress) -> None:
        self.last = p

    def __rich__(self) -> Text:
        elapsed = perf_counter() - self.started
        text = progress_line(Progress(self.last.objective, self.last.bound, elapsed))
        return Text(text + "  (Ctrl-C: stop and keep the best teams)")


def solve_until_interrupted(run: Callable[[threading.Event], Result]) -> Result:
    """Run a solve in a worker thread; the first Ctrl-C asks it to stop and
    keep its best teams, a second one quits at once (exit 130).

    The solve runs off the main thread because Python handles signals on the
    main thread only, and only between its own instructions: while the main
    thread is inside CP-SAT, a handler there would wait for the solve.
    """
    cancel = threading.Event()
    box: list[Result | BaseException] = []

    def target() -> None:
        try:
            box.append(run(cancel))
        except BaseException as exc:  # handed to the main thread
            box.append(exc)

    worker = threading.Thread(target=target, name="teamform-solve", daemon=True)
    try:
        with _stop_on_sigint(cancel):
            worker.start()
            while worker.is_alive():
                worker.join(0.1)
    except KeyboardInterrupt:
        raise fail("interrupted twice: nothing written", EXIT_INTERRUPTED) from None
    (outcome,) = box
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


@contextmanager
def _stop_on_sigint(cancel: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@app.command("check")
def check_cmd(
    roster: RosterArg,
    model: ModelOpt,
    avoid: AvoidOpt = None,
    prefer: PreferOpt = None,
    reference_date: RefOpt = None,
    pins: PinsOpt = None,
    mapping: MappingOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Validate a roster, pair lists and a model without forming teams.

    Every problem found is listed, one a line (the first 50, then a count).
    """
    try:
        ros, mod = _load(roster, model, avoid, prefer, reference_date, mapping, timezone)
        pinned = Pins.from_csv(pins) if pins is not None else None
        inst = build_instance(
            ros, mod, pins=pinned, today=date.today(), distances=model_distances(ros, mod)
        )
        build_terms(inst)  # weights are checked against the roster, as `form` does
    except InputError as exc:
        problems = problems_of(exc)
        for problem in problems[:MAX_LISTED_PROBLEMS]:
            err.print(Text(f"error: {problem}"), style="red", soft_wrap=True)
        if len(problems) > MAX_LISTED_PROBLEMS:
            err.print(
                Text(f"... and {len(problems) - MAX_LISTED_PROBLEMS} more"),
                style="red",
                soft_wrap=True,
            )
        raise typer.Exit(EXIT_INPUT) from None
    if inst.pins is not None and inst.pins.conflicts:
        for line_ in inst.pins.conflicts:
            err.print(Text(line_), style="red", soft_wrap=True)
        raise typer.Exit(EXIT_INFEASIBLE)
    sizes = sorted(set(zip(inst.team_lo.tolist(), inst.team_hi.tolist(), strict=True)))
    size_txt = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in sizes)
    out.print(
        f"ok: {inst.n} learners, {inst.k} teams of {size_txt}, "
        f"{len(inst.avoid)} avoid pairs, {len(inst.prefer)} preferred pairs, "
        f"skills: {', '.join(inst.skill_names) or 'none'}"
        + (
            f", {int((inst.pins.team >= 0).sum())} pinned learners, "
            f"{len(inst.pins.groups)} keep-together groups, "
            f"{int(inst.pins.closed.sum())} fixed teams"
            if inst.pins is not None
            else ""
        )
    )


@app.command("generate")
def generate_cmd(
    n: Annotated[int, typer.Option("--n", help="Number of learners.", min=1)],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the cohort to.")],
    seed: Annotated[int, typer.Option(help="Random seed.", min=0)] = 1,
    sections: Annotated[int, typer.Option(help="Number of sections (0: none).", min=0)] = 0,
    participation: Annotated[bool, typer.Option(help="Fill the participation column.")] = False,
) -> None:
    """Write a synthetic cohort (roster.csv, avoid.csv, prefer.csv) for benchmarks."""
    from teamform.generate import generate_cohort, write_cohort

    try:
        paths = write_cohort(
            generate_cohort(n, seed, sections=sections, participation=participation), out_dir
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    out.print(f"{n} learners written to {paths['roster']}")


@app.command("warmup")
def warmup_cmd() -> None:
    """Compile the search kernels now (once per install), so that the first
    'form' runs them from the start instead of Python code while they compile."""
    from teamform.search.kernels import one_compiler, warm_up

    def waiting() -> None:
        out.print("another teamform process is compiling the kernels: waiting for it")

    with one_compiler(waiting):
        seconds = warm_up()
    out.print(f"search kernels ready ({seconds:.1f} s)")


def print_teams(result: Result) -> None:
    """Print every team: a table, or one plain line a team for many teams off a terminal."""
    if not out.is_terminal and result.n_teams > SHOW_ALL_MAX_TEAMS:
        # a rich table of thousands of rows takes seconds to lay out; a pipe needs none
        lines = [f"{result.n_teams} teams ({result.model_name})"]
        for team in result.teams:
            members = ", ".join(
                f"{n or i} ({i})" for i, n in zip(team.members, team.names, strict=True)
            )
            common = "-" if team.common_hours is None else f"{team.common_hours:g}"
            line = (
                f"{team.team:>4}  {members} | skills "
                + " ".join(f"{k[:4]} {v:.2f}" for k, v in team.skill_means.items())
                + f" | intrinsic/imposed {team.intrinsic}/{team.imposed} | common h/week "
                + common
            )
            lines.append(line + (f" | {'; '.join(team.flags)}" if team.flags else ""))
        out.file.write("\n".join(lines) + "\n")
        out.file.flush()
        return
    table = Table(title=f"{result.n_teams} teams ({result.model_name})", show_lines=False)
    table.add_column("team", justify="right")
    table.add_column("members")
    table.add_column("skill means")
    table.add_column("intrinsic/imposed", justify="center")
    table.add_column("common h/week", justify="right")
    table.add_column("flags", style="yellow")
    projects = any(team.project is not None for team in result.teams)
    if projects:
        table.add_column("project")
    for team in result.teams:
        table.add_row(
            str(team.team),
            Text(
                ", ".join(f"{n or i} ({i})" for i, n in zip(team.members, team.names, strict=True))
            ),
            " ".join(f"{k[:4]} {v:.2f}" for k, v in team.skill_means.items()),
            f"{team.intrinsic}/{team.imposed}",
            "-" if team.common_hours is None else f"{team.common_hours:g}",
            Text("; ".join(team.flags)),
            *([Text(team.project or "-")] if projects else []),
        )
    out.print(table)


#: Teams listed by name in the digest of a large result.
DIGEST_WORST = 5


def team_cost(result: Result) -> list[float]:
    """Each team's weighted penalty (weight x natural units, summed over criteria)."""
    weight = {c.name: c.weight for c in result.breakdown if not c.hard}
    return [
        sum(weight.get(name, 0.0) * pen for name, pen in team.penalties.items())
        for team in result.teams
    ]


def print_digest(result: Result) -> None:
    """Totals, the worst teams and what is flagged, instead of every team."""
    found = digest(result.teams, result.breakdown, DIGEST_WORST)
    size_txt = ", ".join(f"{c} of {s}" for s, c in sorted(found.sizes.items()))
    out.print(
        f"{result.n_teams} teams ({result.model_name}) of {result.n_learners} learners: "
        f"{size_txt}; {found.flagged} flagged",
        soft_wrap=True,
        highlight=False,
    )
    if found.kinds:
        out.print(
            "flagged: " + ", ".join(f"{k} {v} teams" for k, v in sorted(found.kinds.items())),
            soft_wrap=True,
            highlight=False,
        )
    table = Table(title=f"worst {len(found.worst)} teams (weighted penalty)")
    for col, justify in (("team", "right"), ("penalty", "right"), ("members", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    table.add_column("flags", style="yellow")
    for t, cost in found.worst:
        team = result.teams[t]
        table.add_row(
            str(team.team),
            f"{cost:.1f}",
            Text(", ".join(team.members)),
            Text("; ".join(team.flags)),
        )
    out.print(table)
    out.print("every team: --show-teams all (or the --out CSV / --json result)", highlight=False)


def _print_summary(result: Result) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("status", result.status.value)
    if result.objective is not None:
        table.add_row("objective", f"{result.objective:.2f}")
        table.add_row("bound", f"{result.bound:.2f}")
        table.add_row("gap", f"{100 * (result.gap or 0):.1f} %")
        table.add_row("excess per team", f"{result.excess_per_team:.2f}")
        for c in result.breakdown:
            kind = "hard" if c.hard else f"weight {c.weight:g}"
            table.add_row(
                f"  {c.name}",
                f"{c.penalty:g} {c.unit} ({kind}; bound {c.lower_bound:g})",
            )
    table.add_row("time", f"{result.runtime:.2f} s ({result.strategy}, seed {result.seed})")
    for n, why in enumerate(result.python_fallback):
        # compiled code would have run here: say what ran instead, and why
        table.add_row("in Python" if n == 0 else "", why)
    tm = result.timings
    parts = [
        f"{name} {value:.2f}"
        for name, value in (
            ("start-up", tm.startup),
            ("read", tm.read),
            ("build", tm.build),
            ("search", tm.search),
            ("finish", tm.finish),
            ("write", tm.write),
        )
        if value is not None
    ]
    if tm.total is not None and parts:
        table.add_row("wall time", f"{tm.total:.2f} s: " + ", ".join(parts))
    over = over_limit_line(tm)
    if over is not None:
        table.add_row("over the limit", Text(over, style="yellow"))
    out.print(table)


def over_limit_line(tm: Timings) -> str | None:
    """Why the command ran past its wall-clock limit, when it did (None: it kept it)."""
    if tm.over_limit is None or tm.limit is None:
        return None
    head = f"{tm.over_limit:.2f} s past the {tm.limit:g} s limit: "
    before = sum(v for v in (tm.startup, tm.read, tm.build) if v is not None)
    if before >= tm.limit:
        # nothing the search could give back: the limit was gone before it began
        return head + (
            f"start-up, reading and building alone took {before:.2f} s, so the "
            "construction's teams were returned at once; allow a longer limit"
        )
    return head + (
        "searching and finishing took longer than the time kept for them "
        "(a busy machine); allow a longer limit"
    )


@app.command("report")
def report_cmd(
    result_path: Annotated[Path, typer.Argument(help="Result JSON from 'teamform form --json'.")],
    html_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the tutor's report as HTML.")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Write the tutor's report as Markdown.")
    ] = None,
    sheets_dir: Annotated[
        Path | None, typer.Option("--sheets", help="Write one sheet per team into this folder.")
    ] = None,
    sheet_format: Annotated[
        SheetFormat, typer.Option("--sheet-format", help="Team sheets as Markdown or HTML.")
    ] = SheetFormat.md,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="Draw the heat maps in this time zone (yours), e.g. Europe/Paris."
        ),
    ] = None,
) -> None:
    """Write a tutor's report and learners' team sheets from a result JSON."""
    from teamform.report import load_report, write_report

    if html_path is None and markdown_path is None and sheets_dir is None:
        raise fail("nothing to write: give --out, --markdown and/or --sheets")
    try:
        data = load_report(result_path, timezone)
        written = write_report(
            data,
            html=html_path,
            markdown=markdown_path,
            sheets=sheets_dir,
            sheet_format=sheet_format.value,
        )
    except TeamformError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or ''}: cannot write ({exc.strerror})") from None
    if html_path is not None:
        out.print(f"report written to {html_path}")
    if markdown_path is not None:
        out.print(f"markdown report written to {markdown_path}")
    if sheets_dir is not None:
        n = len(written) - (html_path is not None) - (markdown_path is not None)
        out.print(f"{n} team sheets written to {sheets_dir}")


# --- course plans: phases re-formed on a schedule -------------------------------------

plan_app = typer.Typer(
    name="plan",
    help="Course plans: re-form teams between course phases, on a schedule, with memory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(plan_app, name="plan")

WorkspaceArg = Annotated[
    Path, typer.Argument(help="Course workspace directory (holding plan.toml).")
]
NowOpt = Annotated[
    str | None,
    typer.Option(help="Take this as the current time: YYYY-MM-DD or YYYY-MM-DDTHH:MM."),
]


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"'{text}' is not a date or time (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM)",
            column="--now",
        ) from None


def _print_wide(table: Table) -> None:
    # a cron log or a pipe has no width: keep rows on one line rather than 80 columns
    (out if out.is_terminal else Console(width=200)).print(table)


def _formed_at(text: str) -> str:
    return text.replace("T", " ")[:16]


def _stamp(line: str) -> None:
    now = datetime.now().isoformat(" ", timespec="seconds")
    out.print(Text(f"[{now}] {line}"), soft_wrap=True)


@plan_app.command("init")
def plan_init_cmd(
    directory: WorkspaceArg,
    start: Annotated[
        str | None, typer.Option(help="Start of the first phase, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Create a workspace with an example plan on the demo course (files copied in)."""
    from teamform.plan import init_workspace

    try:
        first = date.fromisoformat(start) if start is not None else date.today()
    except ValueError:
        raise fail(f"--start: '{start}' is not a date (expected YYYY-MM-DD)") from None
    try:
        path = init_workspace(directory, start=first)
    except InputError as exc:
        raise fail(str(exc)) from None
    out.print(f"plan written to {path}; edit it, then run: teamform plan run-due {directory}")


@plan_app.command("status")
def plan_status_cmd(directory: WorkspaceArg, now: NowOpt = None) -> None:
    """List the phases: start, policy, whether due, and their formation."""
    from teamform.plan import plan_status

    try:
        phases = plan_status(directory, _parse_now(now))
    except InputError as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"phases of {directory}")
    for col in ("#", "phase", "start", "policy", "model", "state"):
        table.add_column(col)
    for p in phases:
        if p.formation is not None:
            f = p.formation
            state = f"formed {_formed_at(f.formed_at)} UTC ({f.status}, {f.objective or 0:.2f})"
        else:
            state = "due" if p.due else "upcoming"
        start = p.start.date().isoformat() if p.start.time() == time() else p.start.isoformat(" ")
        table.add_row(str(p.index + 1), Text(p.name), start, p.policy, Text(p.model), state)
    _print_wide(table)
    last = [p for p in phases if p.formation is not None]
    waiting = [p.name for p in phases if p.due and p.formation is None]
    out.print(
        f"last formation: {last[-1].name if last else 'none'}; due now: "
        f"{', '.join(waiting) or 'none'}",
        soft_wrap=True,
    )


@plan_app.command("run-due")
def plan_run_due_cmd(
    directory: WorkspaceArg,
    now: NowOpt = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for another run on the workspace.", min=0)
    ] = 600.0,
) -> None:
    """Form every phase whose start has come and which is not formed yet (idempotent)."""
    from teamform.plan import run_due

    try:
        report = run_due(directory, _parse_now(now), wait=wait, log=_stamp)
    except InputError as exc:
        raise fail(str(exc)) from None
    if report.failed is not None:
        for line in report.problems:
            err.print(Text(line), style="red", soft_wrap=True)
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command("history")
def history_cmd(directory: WorkspaceArg) -> None:
    """List the formations stored in a course workspace."""
    from teamform.plan import history

    try:
        formations = history(directory)
    except InputError as exc:
        raise fail(str(exc)) from None
    if not formations:
        out.print("no formation stored yet")
        return
    table = Table(title=f"formations in {directory}")
    for col in (
        "id",
        "phase",
        "formed at (UTC)",
        "policy",
        "model",
        "status",
        "objective",
        "bound",
        "learners",
        "teams",
    ):
        table.add_column(col)
    for f in formations:
        table.add_row(
            str(f.id),
            Text(f.phase),
            _formed_at(f.formed_at),
            f.policy,
            Text(f.model_name),
            f.status,
            "-" if f.objective is None else f"{f.objective:.2f}",
            "-" if f.bound is None else f"{f.bound:.2f}",
            str(f.n_learners),
            str(f.n_teams),
        )
    _print_wide(table)


@app.command("export")
def export_cmd(
    directory: WorkspaceArg,
    phase: Annotated[str, typer.Option("--phase", "-p", help="Phase name, as in the plan.")],
    out_csv: Annotated[Path, typer.Option("--out", "-o", help="CSV to write (id,name,team).")],
) -> None:
    """Write the teams of a formed phase as id,name,team CSV."""
    from teamform.plan import export_phase

    try:
        path = export_phase(directory, phase, out_csv)
    except InputError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{out_csv}: cannot write ({exc.strerror})") from None
    out.print(f"teams of phase '{phase}' written to {path}")


@app.command("import")
def import_cmd(
    survey: Annotated[
        Path, typer.Argument(help="Survey export: Google/Microsoft Forms, Qualtrics, gruepr ...")
    ],
    out_csv: Annotated[Path, typer.Option("--out", "-o", help="Roster CSV to write.")],
    mapping: MappingOpt = None,
    timezone: TimezoneOpt = None,
    save_mapping: Annotated[
        Path | None, typer.Option(help="Write the mapping used as TOML (edit, pass to --mapping).")
    ] = None,
) -> None:
    """Turn a survey export into a roster, printing how each column was read."""
    from teamform.survey import import_survey

    try:
        imported = import_survey(survey, mapping, timezone)
    except InputError as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"{survey}: {imported.format} survey, {len(imported.roster)} learners")
    for col in ("#", "survey column", "role", "roster column", "read as"):
        table.add_column(col)
    for i, (header, spec) in enumerate(imported.mapping.columns.items(), start=1):
        target = {"skill": f"skill_{spec.name}", "category": spec.name, "grid": "availability",
                  "project_choice": "projects", "first_name": "name", "last_name": "name",
                  "ignore": "-"}.get(spec.role, spec.role)  # fmt: skip
        table.add_row(str(i), Text(header), spec.role, Text(target or ""), Text(spec.how))
    _print_wide(table)
    zones = {k: v for k, v in imported.timezones.items() if k != v}
    if zones:
        ztable = Table(title="time zones chosen")
        ztable.add_column("answer")
        ztable.add_column("IANA zone")
        for label, zone in zones.items():
            ztable.add_row(Text(label), zone)
        _print_wide(ztable)
    for line in imported.warnings:
        out.print(Text(f"warning: {line}"), style="yellow", soft_wrap=True)
    for path, text, what in (
        (out_csv, imported.roster_csv(), "roster"),
        (save_mapping, imported.mapping.to_toml(), "mapping"),
    ):
        if path is None:
            continue
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise fail(f"{path}: cannot write ({exc.strerror or exc})") from None
        out.print(f"{what} written to {path}")


@app.command("export-lms")
def export_lms_cmd(
    result_path: Annotated[Path, typer.Argument(help="Result JSON from 'teamform form --json'.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="canvas, moodle or blackboard.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Membership CSV to write.")],
    roster_path: Annotated[
        Path | None,
        typer.Option("--roster", help="Roster or survey the result came from: e-mails, LMS ids."),
    ] = None,
    user_column: Annotated[
        str | None,
        typer.Option(help="Roster column with the LMS user (default: lms_id if present, else id)."),
    ] = None,
    team_name: Annotated[
        str, typer.Option("--team-name", help="Team-name pattern over {n} and {section}.")
    ] = "Team {n:02}",
    canvas_field: Annotated[
        str, typer.Option(help="Canvas user field: login_id, user_id or canvas_user_id.")
    ] = "login_id",
    course: Annotated[str | None, typer.Option(help="Moodle course short name.")] = None,
    group_set: Annotated[
        str | None, typer.Option(help="Moodle grouping / Blackboard group set.")
    ] = None,
    mapping: MappingOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Write the teams of a result as a Canvas, Moodle or Blackboard group import."""
    from teamform.lms import export_lms
    from teamform.report import load_report

    try:
        result = load_report(result_path).result
        ros = _read_roster(roster_path, mapping, timezone) if roster_path is not None else None
        column = user_column or (
            "lms_id" if ros is not None and "lms_id" in ros.category_names else "id"
        )
        written = export_lms(
            result,
            ros,
            fmt,
            out_path,
            user_column=column,
            pattern=team_name,
            canvas_field=canvas_field,
            course=course,
            group_set=group_set,
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    out.print(
        f"{result.n_learners} learners in {result.n_teams} teams written for {fmt}: "
        + ", ".join(str(p) for p in written),
        soft_wrap=True,
    )


# --- presets and the demo course, shipped with the package -----------------------------

models_app = typer.Typer(
    name="models",
    help="Formation-model presets shipped with teamform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list_cmd() -> None:
    """List the presets (usable as --model NAME)."""
    from teamform.presets import list_presets

    table = Table(title="formation-model presets")
    table.add_column("name")
    table.add_column("description")
    for p in list_presets():
        table.add_row(p.name, Text(p.description))
    _print_wide(table)


@models_app.command("show")
def models_show_cmd(
    name: Annotated[str, typer.Argument(help="Preset name, e.g. collaborative.")],
) -> None:
    """Print a preset's TOML (redirect it to a file to adapt it)."""
    from teamform.presets import preset_path

    try:
        path = preset_path(name)
    except InputError as exc:
        raise fail(str(exc)) from None
    sys.stdout.write(path.read_text(encoding="utf-8"))


@app.command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Argument(help="Directory to copy the demo course into.")],
) -> None:
    """Copy the demo course (60 learners, pair lists, the presets) into a directory."""
    from teamform.presets import copy_demo

    try:
        written = copy_demo(directory)
    except InputError as exc:
        raise fail(str(exc)) from None
    out.print(f"{len(written)} files written to {directory}; try:", soft_wrap=True)
    out.print(
        Text(
            f"  teamform form {directory / 'roster.csv'} --model collaborative "
            f"--avoid {directory / 'avoid.csv'} --prefer {directory / 'prefer.csv'}"
        ),
        soft_wrap=True,
    )


@app.command("app")
def app_cmd(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8000,
    workspace: Annotated[
        Path, typer.Option(help="Directory where sessions are kept (app.db).")
    ] = Path("teamform-app"),
    roster: Annotated[
        Path | None, typer.Option(help="Open a session on this roster at start.")
    ] = None,
    avoid: AvoidOpt = None,
    prefer: PreferOpt = None,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Preset name or model TOML for --roster.")
    ] = "collaborative",
    demo: Annotated[
        bool, typer.Option("--demo", help="Open a session on the demo course at start.")
    ] = False,
) -> None:
    """Serve the tutors' web app on 127.0.0.1 (needs the app extra)."""
    import socket

    try:
        from teamform.app import HOST, serve
        from teamform.app.service import Workspace
    except ImportError:
        raise fail("the app needs its extra: pip install 'teamform[app]'") from None
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise fail(f"port {port} is in use; choose another with --port") from None
    url = f"http://{HOST}:{port}/"
    if demo and roster is None:
        from teamform.presets import demo_dir

        folder = demo_dir()
        roster, avoid, prefer = (folder / f"{n}.csv" for n in ("roster", "avoid", "prefer"))
    if roster is not None:
        try:
            ws = Workspace(workspace)
            try:
                sid = ws.open_files(roster, avoid, prefer, model)
            finally:
                ws.close()
        except InputError as exc:
            raise fail(str(exc)) from None
        url += f"sessions/{sid}"
    out.print(f"teamform app on {url} (workspace {workspace}); Ctrl+C stops it")
    serve(workspace, port=port)


# --- many sections and courses at once ------------------------------------------------

#: Up to this many jobs, ``batch`` lists every job; past it, totals and the jobs not ok.
BATCH_LIST_MAX = 40


class EngineChoice(StrEnum):
    """Where ``batch`` runs its jobs."""

    PROCESS = "process"
    SERIAL = "serial"
    RAY = "ray"


@app.command("batch")
def batch_cmd(
    source: Annotated[
        Path, typer.Argument(help="JOBS.toml, or a directory of rosters (one job each).")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for each job's teams and result.")
    ],
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Model (TOML or preset) of jobs that name none."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per job (default 10).", min=0.01)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed of every job.")] = None,
    workers: Annotated[
        int | None, typer.Option(help="CP-SAT threads per job (default 1).", min=1)
    ] = None,
    deterministic: Annotated[
        bool | None,
        typer.Option(
            "--deterministic/--no-deterministic",
            help="Work limits instead of wall-clock limits: the same teams on any engine.",
        ),
    ] = None,
    reference_date: RefOpt = None,
    engine: Annotated[
        EngineChoice,
        typer.Option(help="process: local process pool; serial: one at a time; ray: a cluster."),
    ] = EngineChoice.PROCESS,
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address, e.g. ray://head:10001 (default: RAY_ADDRESS)."),
    ] = None,
    parallel: Annotated[
        int | None,
        typer.Option(help="Jobs at once on the process pool (default: cores / threads).", min=1),
    ] = None,
    force: Annotated[bool, typer.Option(help="Rerun jobs already done.")] = False,
) -> None:
    """Form teams for many rosters or sections at once; jobs already done are skipped.

    Settings in the jobs file (a job's own, then [defaults]) win over these
    options, which fill what the file leaves unset.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from teamform.batch import JobOptions, JobResult, form_many, load_jobs

    given = {
        "model": model,
        "time_limit": time_limit,
        "seed": seed,
        "workers": workers,
        "deterministic": deterministic,
    }
    try:
        ref = None if reference_date is None else date.fromisoformat(reference_date)
    except ValueError:
        raise fail(f"--reference-date: '{reference_date}' is not a date (YYYY-MM-DD)") from None
    try:
        chosen: dict[str, object] = {k: v for k, v in given.items() if v is not None}
        if ref is not None:
            chosen["reference_date"] = ref
        defaults = JobOptions.model_validate(chosen)
        jobs = load_jobs(source, defaults)
    except InputError as exc:
        raise fail(str(exc)) from None

    bar = Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )
    task = bar.add_task("jobs", total=None)

    def started(names: list[str]) -> None:
        bar.update(task, total=len(names))

    def arrived(res: JobResult) -> None:
        bar.advance(task)
        if not out.is_terminal:
            out.print(Text(f"{res.name}: {_job_state(res)}"), soft_wrap=True)
        elif not res.ok:
            bar.console.print(Text(f"{res.name}: {_job_state(res)}"), style="red", soft_wrap=True)

    try:
        with bar:
            results = form_many(
                jobs,
                out_dir,
                engine=engine.value,
                parallel=parallel,
                address=address,
                force=force,
                on_start=started,
                on_result=arrived,
            )
    except InputError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or out_dir}: cannot write ({exc.strerror or exc})") from None
    _print_batch(results, out_dir)
    if any(r.status == "error" for r in results):
        raise typer.Exit(EXIT_INPUT)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_INFEASIBLE)


def _job_state(res: object) -> str:
    from teamform.batch import JobResult

    assert isinstance(res, JobResult)
    if res.ok:
        done = "done earlier" if res.cached else f"{res.runtime:.1f} s"
        return f"{res.status}, objective {res.objective:.2f} ({done})"
    return f"{res.status}: {res.error}"


def _print_batch(results: list, out_dir: Path) -> None:
    ok = [r for r in results if r.ok]
    cached = sum(1 for r in results if r.cached)
    listed = results if len(results) <= BATCH_LIST_MAX else [r for r in results if not r.ok]
    if listed:
        table = Table(title=f"jobs in {out_dir}")
        for col in ("job", "status", "learners", "teams", "objective", "gap", "time", "note"):
            table.add_column(col)
        for r in listed:
            note = "done earlier" if r.cached else (r.error or "")
            table.add_row(
                Text(r.name),
                r.status,
                str(r.n_learners) if r.n_learners else "-",
                str(r.n_teams) if r.n_teams else "-",
                "-" if r.objective is None else f"{r.objective:.2f}",
                "-" if r.gap is None else f"{100 * r.gap:.1f} %",
                f"{r.runtime:.1f} s",
                Text(note),
            )
        _print_wide(table)
    out.print(
        f"{len(results)} jobs: {len(ok)} formed teams, {len(results) - len(ok)} did not; "
        f"{cached} done earlier; {sum(r.n_learners for r in ok)} learners in "
        f"{sum(r.n_teams for r in ok)} teams; summary in {out_dir / 'summary.csv'}",
        soft_wrap=True,
        highlight=False,
    )


def main() -> None:
    """Entry point that never shows a traceback for expected errors."""
    global _process_started
    _process_started = process_start()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit as exc:
        if _exit_at_once:
            _exit_now(exc.code)
        raise
    finally:
        # the collector would otherwise walk every object once more at exit
        # (about a second after a 10 000-learner run): the OS frees it all anyway
        gc.freeze()


def _exit_now(code: object) -> None:
    """End the process with ``code`` as :class:`SystemExit` would, but without the
    interpreter's teardown: every file is written and closed by now, and the
    background compiler, in a session of its own, goes on."""
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
    status = code if isinstance(code, int) else (0 if code is None else 1)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
