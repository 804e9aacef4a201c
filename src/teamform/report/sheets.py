"""Learner-facing team sheets: one file per team, for the team's members.

A sheet names the teammates and lists the times when the whole team is free,
once per member in that member's own time zone, so nobody has to convert
times. It carries no ids, emails, scores or flags: those are for the tutor.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Literal

from teamform.report.compliance import ReportData, TeamView, week_label
from teamform.report.markdown import md

SheetFormat = Literal["md", "html"]

_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; margin: 0 auto; max-width: 40rem; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 1.5rem; border-bottom: 1px solid #d1d9e0; }
h3 { font-size: 1rem; margin-bottom: .25rem; }
.muted { color: #59636e; }
ul { margin-top: .25rem; }
"""


def sheet_name(view: TeamView, n_teams: int, fmt: SheetFormat) -> str:
    """File name of a team's sheet, e.g. ``team-03.md`` (zero-padded to sort well)."""
    width = max(2, len(str(n_teams)))
    return f"team-{view.number:0{width}d}.{fmt}"


def render_sheets(data: ReportData, fmt: SheetFormat = "md") -> dict[str, str]:
    """Render one sheet per team.

    Parameters
    ----------
    data
        A prepared result (see :func:`teamform.report.compliance.build_report`).
    fmt
        ``md`` (Markdown) or ``html`` (a self-contained page).

    Returns
    -------
    dict[str, str]
        File name to content, one entry per team.
    """
    render = _markdown if fmt == "md" else _html
    n = len(data.teams)
    return {sheet_name(view, n, fmt): render(data, view) for view in data.teams}


def _intro(data: ReportData, view: TeamView) -> tuple[str, str]:
    """Sentences above the meeting windows (plain text, not yet escaped)."""
    hours = view.summary.common_hours
    when = (
        f" They are worked out for the {week_label(data.week_start)}; when clocks change "
        "for daylight-saving time, some may move by an hour."
        if data.week_start
        else ""
    )
    first = (
        "These are the times when every member of the team is free, as each of you gave "
        "them. Each list shows the same moments in that member's own time zone." + when
    )
    second = (
        f"Together that makes about {hours:g} hours a week of usable meeting time." if hours else ""
    )
    return first, second


def _no_common_time() -> str:
    return (
        "There is no time in the week when all of you are free. Your tutor will help "
        "you agree on how to work together (for example in smaller groups or in writing)."
    )


def _markdown(data: ReportData, view: TeamView) -> str:
    t = view.summary
    out = [f"# Team {t.team}", ""]
    if t.section:
        out.extend([f"Section: {md(t.section)}", ""])
    if t.project:
        out.extend(["## Your project", "", md(t.project), ""])
    out.extend(["## Your team", ""])
    out.extend(f"- {md(m.label)}" for m in view.members)
    out.extend(["", "## When you can all meet", ""])
    if view.utc_windows is None:
        out.append("Your tutor will tell you when the team can meet.")
    elif not view.utc_windows:
        out.append(_no_common_time())
    else:
        first, second = _intro(data, view)
        # the intro is teamform's own text: nothing in it needs escaping
        out.append(first)
        if second:
            out.extend(["", second])
        for m in view.members:
            if m.windows is not None:
                zone, windows = m.timezone or "UTC", m.windows
            else:
                zone, windows = "UTC", view.utc_windows
            out.extend(["", f"### {md(m.label)} ({md(zone)})", ""])
            out.extend(f"- {md(w)}" for w in windows)
    return "\n".join(out).rstrip() + "\n"


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _html(data: ReportData, view: TeamView) -> str:
    t = view.summary
    e = html.escape
    policy = f"default-src 'none'; style-src '{_sha256(_CSS)}'; base-uri 'none'; form-action 'none'"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Team {t.team}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>Team {t.team}</h1>",
    ]
    if t.section:
        out.append(f'<p class="muted">Section: {e(t.section)}</p>')
    if t.project:
        out.append(f"<h2>Your project</h2><p>{e(t.project)}</p>")
    out.append("<h2>Your team</h2>")
    out.append("<ul>" + "".join(f"<li>{e(m.label)}</li>" for m in view.members) + "</ul>")
    out.append("<h2>When you can all meet</h2>")
    if view.utc_windows is None:
        out.append("<p>Your tutor will tell you when the team can meet.</p>")
    elif not view.utc_windows:
        out.append(f"<p>{e(_no_common_time())}</p>")
    else:
        first, second = _intro(data, view)
        out.append(f"<p>{e(first)}</p>")
        if second:
            out.append(f"<p>{e(second)}</p>")
        for m in view.members:
            if m.windows is not None:
                zone, windows = m.timezone or "UTC", m.windows
            else:
                zone, windows = "UTC", view.utc_windows
            out.append(f'<section class="member"><h3>{e(m.label)} ({e(zone)})</h3>')
            out.append("<ul>" + "".join(f"<li>{e(w)}</li>" for w in windows) + "</ul></section>")
    out.extend(["</body>", "</html>"])
    return "\n".join(out) + "\n"
