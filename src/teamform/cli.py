"""Command line: ``teamform form``, ``teamform check`` and friends.

Exit codes: 0 success, 2 bad input (one line naming file, row and column),
3 infeasible model (the conflicting rules are printed).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from teamform.errors import InputError, TeamformError
from teamform.instance import build_instance
from teamform.model import FormationModel
from teamform.result import Result, Status
from teamform.roster import Roster, load_roster
from teamform.solve import Progress, form

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3

app = typer.Typer(
    name="teamform",
    help="Form balanced learner teams from a CSV roster and a formation model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


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
) -> tuple[Roster, FormationModel]:
    model = FormationModel.from_toml(model_path)
    if reference_date is not None:
        try:
            ref = date.fromisoformat(reference_date)
        except ValueError:
            raise InputError(
                f"'{reference_date}' is not a date (expected YYYY-MM-DD)",
                column="--reference-date",
            ) from None
        model = _with_reference_date(model, ref)
    roster = load_roster(roster_path, avoid=avoid, prefer=prefer, columns=model.roster.columns)
    return roster, model


def _with_reference_date(model: FormationModel, ref: date) -> FormationModel:
    data = model.model_dump()
    overlap = data["criteria"].get("overlap")
    if overlap is not None:
        overlap["reference_date"] = ref
    return FormationModel.from_dict(data, source=model.source)


RosterArg = Annotated[Path, typer.Argument(help="Roster CSV, one learner a row.")]
ModelOpt = Annotated[
    Path,
    typer.Option("--model", "-m", help="Formation model (TOML), e.g. models/collaborative.toml"),
]
AvoidOpt = Annotated[
    Path | None, typer.Option(help="CSV of pairs (id_a,id_b) who must not share a team.")
]
PreferOpt = Annotated[
    Path | None, typer.Option(help="CSV of pairs (id_a,id_b) who asked to work together.")
]
RefOpt = Annotated[
    str | None,
    typer.Option(help="Week (YYYY-MM-DD) in which time zones are compared (default: this week)."),
]


@app.command("form")
def form_cmd(
    roster: RosterArg,
    model: ModelOpt,
    out_csv: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write id,name,team to this CSV.")
    ] = None,
    avoid: AvoidOpt = None,
    prefer: PreferOpt = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the full result.")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds to search.", min=0.01)] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[int | None, typer.Option(help="CP-SAT worker threads.", min=1)] = None,
    strategy: Annotated[
        str, typer.Option(help="auto, exact (full CP-SAT) or lns (large cohorts).")
    ] = "auto",
    deterministic: Annotated[
        bool, typer.Option(help="Same input, seed and workers give the same teams.")
    ] = False,
    reference_date: RefOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
) -> None:
    """Form teams for a roster and print them."""
    if strategy not in ("auto", "exact", "lns"):
        raise fail(f"--strategy must be auto, exact or lns, not '{strategy}'")
    try:
        ros, mod = _load(roster, model, avoid, prefer, reference_date)
        live = out.is_terminal and not quiet
        line = Text("")
        with Live(line, console=out, transient=True, refresh_per_second=4) if live else _Null():

            def show(p: Progress) -> None:
                if live:
                    line.plain = (
                        f"searching: best {p.objective:.2f}  bound {p.bound:.2f}  {p.elapsed:.1f} s"
                    )

            result = form(
                ros,
                mod,
                time_limit=time_limit,
                seed=seed,
                workers=workers,
                strategy=strategy,  # type: ignore[arg-type]
                deterministic=deterministic,
                progress=show,
            )
    except InputError as exc:
        raise fail(str(exc)) from None
    except TeamformError as exc:
        raise fail(str(exc)) from None

    if result.status == Status.INFEASIBLE or not result.feasible:
        _print_summary(result)
        for line_ in result.conflicts or result.violations:
            err.print(Text(line_), style="red")
        raise typer.Exit(EXIT_INFEASIBLE)
    if not quiet:
        print_teams(result)
    _print_summary(result)
    if out_csv is not None:
        result.to_csv(out_csv)
        out.print(f"teams written to {out_csv}")
    if json_path is not None:
        result.to_json(json_path)
        out.print(f"result written to {json_path}")


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
) -> None:
    """Validate a roster, pair lists and a model without forming teams."""
    try:
        ros, mod = _load(roster, model, avoid, prefer, reference_date)
        inst = build_instance(ros, mod)
    except InputError as exc:
        raise fail(str(exc)) from None
    sizes = sorted(set(zip(inst.team_lo.tolist(), inst.team_hi.tolist(), strict=True)))
    size_txt = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in sizes)
    out.print(
        f"ok: {inst.n} learners, {inst.k} teams of {size_txt}, "
        f"{len(inst.avoid)} avoid pairs, {len(inst.prefer)} preferred pairs, "
        f"skills: {', '.join(inst.skill_names) or 'none'}"
    )


def print_teams(result: Result) -> None:
    """Print the table of teams."""
    table = Table(title=f"{result.n_teams} teams ({result.model_name})", show_lines=False)
    table.add_column("team", justify="right")
    table.add_column("members")
    table.add_column("skill means")
    table.add_column("intrinsic/imposed", justify="center")
    table.add_column("common h/week", justify="right")
    table.add_column("flags", style="yellow")
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
        )
    out.print(table)


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
    out.print(table)


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
        str, typer.Option("--sheet-format", help="Team sheets as md or html.")
    ] = "md",
) -> None:
    """Write a tutor's report and learners' team sheets from a result JSON."""
    from teamform.report import load_report, write_report

    if sheet_format not in ("md", "html"):
        raise fail(f"--sheet-format must be md or html, not '{sheet_format}'")
    if html_path is None and markdown_path is None and sheets_dir is None:
        raise fail("nothing to write: give --out, --markdown and/or --sheets")
    try:
        data = load_report(result_path)
        written = write_report(
            data,
            html=html_path,
            markdown=markdown_path,
            sheets=sheets_dir,
            sheet_format=sheet_format,  # type: ignore[arg-type]
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


def main() -> None:
    """Entry point that never shows a traceback for expected errors."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
