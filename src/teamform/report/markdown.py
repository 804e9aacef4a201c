"""The tutor's report as Markdown: the same content as the HTML page.

Markdown renderers pass raw HTML through, so roster text has the characters
Markdown would act on backslash-escaped and is then HTML-escaped.
"""

from __future__ import annotations

import html
import re

from teamform.report.compliance import (
    DAY_NAMES,
    ReportData,
    TeamView,
    breakdown_rows,
    carded_teams,
    criterion_label,
    solver_rows,
    summary_rows,
    team_scores,
    verdict,
    week_label,
)

# One character per hour of the heat map, by common quarter-hours (0-4).
_HEAT_CHARS = (".", "░", "▒", "▓", "█")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")


def md(value: object) -> str:
    """Escape text for Markdown: Markdown syntax, then HTML (so entities stay intact)."""
    text = _MD_SPECIAL.sub(r"\\\1", str(value))
    text = html.escape(text, quote=True)
    # a line break inside a cell or bullet would end it
    return " ".join(text.split())


def render_markdown(data: ReportData) -> str:
    """Render the tutor's report as Markdown.

    Parameters
    ----------
    data
        A prepared result (see :func:`teamform.report.compliance.build_report`).

    Returns
    -------
    str
        The Markdown document.
    """
    r = data.result
    title = f"Team formation report: {r.model_name}" if r.model_name else "Team formation report"
    out = [f"# {md(title)}", ""]
    out.extend(f"> {md(line)}" for line in verdict(data))
    out.append("")
    if data.infeasible:
        out.extend(_conflicts(data))
    out.extend(["## Summary", ""])
    out.extend(["| | |", "|---|---|"])
    out.extend(f"| {md(label)} | {md(value)} |" for label, value in summary_rows(data))
    out.append("")
    rows = breakdown_rows(data)
    if rows:
        out.extend(["### Criteria", ""])
        out.append("| criterion | kind | penalty | weighted | unavoidable |")
        out.append("|---|---|---:|---:|---:|")
        out.extend("| " + " | ".join(md(c) for c in row) + " |" for row in rows)
        out.append("")
    if r.violations and not data.infeasible:
        out.extend(f"- **{md(v)}**" for v in r.violations)
        out.append("")
    out.extend(["### Solver details", "", "| | |", "|---|---|"])
    out.extend(f"| {md(label)} | {md(value)} |" for label, value in solver_rows(data))
    out.append("")
    if data.teams:
        out.extend(_overview(data))
        out.extend(["## Teams", ""])
        shown = carded_teams(data)
        if len(shown) < len(data.teams):
            out.append(
                f"{len(data.teams)} teams: every team is in the table above; the "
                f"{len(shown)} that need a look most follow (the team sheets have every team)."
            )
            out.append("")
        for view in shown:
            out.extend(_team(data, view))
    return "\n".join(out).rstrip() + "\n"


def _conflicts(data: ReportData) -> list[str]:
    r = data.result
    out = [
        "## No valid teams were formed",
        "",
        f"Status: **{md(r.status.value)}**. These rules cannot all hold; change one of them "
        "and form the teams again.",
        "",
    ]
    lines = r.conflicts or r.violations
    if lines:
        out.extend(f"- **{md(line)}**" for line in lines)
    else:
        out.append("The solver gave no reason (time limit reached before any answer).")
    out.append("")
    return out


def _overview(data: ReportData) -> list[str]:
    names = data.criterion_names
    out = [
        "## Compliance by team",
        "",
        "Scores 0-100 per criterion (100: the team meets what the criterion asks of it).",
        "",
        "| team | members | " + " | ".join(md(criterion_label(n)) for n in names) + " | flags |",
        "|---|---:|" + "---:|" * len(names) + "---:|",
    ]
    for view in data.teams:
        cells = ["-" if s is None else f"{s:g}" for s in team_scores(view, names)]
        out.append(
            f"| Team {view.number} | {view.summary.size} | "
            + " | ".join(cells)
            + f" | {len(view.flags)} |"
        )
    out.append("")
    return out


def _team(data: ReportData, view: TeamView) -> list[str]:
    t = view.summary
    head = f"### Team {t.team}"
    if t.section:
        head += f" (section {md(t.section)})"
    n_flags = len(view.flags)
    head += f" ({n_flags} flag{'s' if n_flags != 1 else ''})" if n_flags else " (no flags)"
    out = [head, ""]
    if t.project:
        out.extend([f"Project: **{md(t.project)}**", ""])
    out.extend(["#### Members", ""])
    has_part = any(m.participation is not None for m in view.members)
    has_choice = t.project is not None
    out.append(
        "| id | name | time zone |"
        + (" participation |" if has_part else "")
        + (" project |" if has_choice else "")
    )
    out.append("|---|---|---|" + ("---:|" if has_part else "") + ("---|" if has_choice else ""))
    for m in view.members:
        part = ""
        if has_part:
            part = " " + ("-" if m.participation is None else f"{m.participation:g}") + " |"
        if has_choice:
            part += f" {md(m.choice or '-')} |"
        out.append(f"| {md(m.id)} | {md(m.name)} | {md(m.timezone or '-')} |{part}")
    out.append("")

    out.extend(["#### Skill profile", ""])
    if t.skill_means:
        out.append("| skill | team mean | cohort mean | |")
        out.append("|---|---:|---:|---|")
        for skill, mean in t.skill_means.items():
            target = t.skill_targets.get(skill)
            bar = "█" * round(10 * max(0.0, mean) / data.skill_max)
            shown = "-" if target is None else f"{target:.2f}"
            out.append(f"| {md(skill)} | {mean:.2f} | {shown} | {bar} |")
    else:
        out.append("No skills in this roster.")
    out.append("")

    out.extend(["#### Motivation mix", ""])
    out.append(
        f"{t.intrinsic} intrinsic, {t.imposed} imposed: `{'●' * t.intrinsic}{'○' * t.imposed}`"
    )
    out.append("")

    zone = data.zone or "UTC"
    caption = f"{zone}, {week_label(data.week_start)}" if data.week_start else zone
    out.extend([f"#### Common availability ({md(caption)})", ""])
    if view.heat is None:
        out.append("Not recorded in this result.")
    else:
        out.extend(heat_text(view.heat, zone))
        hours = "-" if t.common_hours is None else f"{t.common_hours:g}"
        out.append("")
        out.append(f"Counted common time: {hours} h a week.")
        out.append("")
        windows = "; ".join(view.utc_windows or []) or "none"
        out.append(f"Windows (UTC): {md(windows)}")
    out.append("")

    out.extend(["#### Criteria", ""])
    out.append("| criterion | team | target | score |")
    out.append("|---|---|---|---:|")
    for c in view.criteria:
        score = "-" if c.score is None else f"{c.score:g}"
        name = criterion_label(c.name) + (" (hard)" if c.hard else "")
        out.append(f"| {md(name)} | {md(c.value)} | {md(c.target)} | {score} |")
    out.append("")

    out.extend(["#### Flags", ""])
    if view.flags:
        out.extend(f"- ⚠ {md(f.message)}" for f in view.flags)
    else:
        out.append("Nothing to act on.")
    out.extend(f"- ✓ {md(f.message)}" for f in view.met)
    out.append("")
    return out


def heat_text(heat: list[list[int]], zone: str = "UTC") -> list[str]:
    """The weekly heat map as a fenced block: a row per day, a column per hour of ``zone``."""
    lines = ["```text", "     " + " ".join(f"{h:02d}" for h in range(24))]
    for day, counts in enumerate(heat):
        lines.append(f"{DAY_NAMES[day]}  " + " ".join(f" {_HEAT_CHARS[min(c, 4)]}" for c in counts))
    lines.append("```")
    lines.append("")
    lines.append(
        f"One column per hour ({md(zone)}): `.` no common time, `░` 15 min, `▒` 30 min, "
        "`▓` 45 min, `█` the whole hour."
    )
    return lines
