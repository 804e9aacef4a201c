"""The tutor's report as one self-contained HTML page.

Everything is inline: styles, the small filter script and the charts (SVG),
so the page opens from a file with no network. A Content-Security-Policy
allows only that inline style and script (by hash), and every piece of roster
text goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import hashlib
import html

from teamform.report.compliance import (
    DAY_NAMES,
    ReportData,
    TeamView,
    breakdown_rows,
    carded_teams,
    cell_class,
    criterion_label,
    solver_rows,
    summary_rows,
    team_scores,
    verdict,
    week_label,
)

# Heat-map colours for 0-4 common quarter-hours in an hour.
_HEAT = ("#ececec", "#c6e48b", "#7bc96f", "#3d9a4a", "#1d5e2b")

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa;
  --good: #1a7f37; --fair: #9a6700; --poor: #cf222e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); margin: 0 auto; max-width: 72rem; padding: 1.5rem; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin: 2rem 0 .75rem; font-size: 1.25rem; border-bottom: 1px solid var(--line); }
h3 { margin: 0 0 .5rem; font-size: 1.1rem; }
h4 { margin: .75rem 0 .25rem; font-size: .95rem; color: var(--muted); }
.sub { color: var(--muted); margin: 0; }
table { border-collapse: collapse; margin: .25rem 0 .75rem; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left;
  vertical-align: top; }
th { background: var(--bg); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
.status { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-weight: 600;
  color: #fff; background: var(--good); }
.status.bad { background: var(--poor); }
.alert { border: 2px solid var(--poor); background: #fff0f0; padding: .75rem 1rem;
  border-radius: .5rem; margin: 1rem 0; }
.alert h2 { border: 0; margin-top: 0; color: var(--poor); }
.verdict { border-left: 4px solid var(--good); background: var(--bg); padding: .5rem 1rem;
  margin: 1rem 0; font-size: 1.05rem; }
.verdict.bad { border-left-color: var(--poor); }
.verdict.fair { border-left-color: var(--fair); }
.verdict p { margin: .25rem 0; }
details.solver { margin: .5rem 0; } details.solver summary { cursor: pointer; color: var(--muted); }
.good { color: var(--good); } .fair { color: var(--fair); } .poor { color: var(--poor); }
.na { color: var(--muted); }
td.good { background: #dafbe1; } td.fair { background: #fff8c5; } td.poor { background: #ffebe9; }
.team { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem;
  margin: 0 0 1rem; break-inside: avoid; }
.team .cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(24rem, 1fr));
  gap: .5rem 2rem; }
.team .cols > div { min-width: 0; overflow-x: auto; }
svg { max-width: 100%; height: auto; }
.badge { font-size: .8rem; font-weight: 600; padding: 0 .45rem; border-radius: 1rem;
  border: 1px solid currentColor; margin-left: .5rem; }
ul.flags, ul.met { margin: .25rem 0; padding-left: 1.2rem; }
ul.flags li { color: var(--poor); }
ul.met li { color: var(--good); }
.muted { color: var(--muted); }
svg text { font-family: system-ui, sans-serif; fill: #1f2328; }
.toolbar { margin: .5rem 0 1rem; }
.hidden { display: none; }
@media print { .toolbar { display: none; } .team { page-break-inside: avoid; } }
"""

# Filters the cards to those with flags; marks the page ready once it has run.
_SCRIPT = """
(function () {
  var box = document.getElementById("only-flagged");
  var cards = document.querySelectorAll("article.team");
  function apply() {
    for (var i = 0; i < cards.length; i++) {
      var flagged = cards[i].getAttribute("data-flags") !== "0";
      cards[i].classList.toggle("hidden", box.checked && !flagged);
    }
  }
  if (box) { box.addEventListener("change", apply); apply(); }
  document.body.setAttribute("data-ready", "1");
})();
"""


def esc(value: object) -> str:
    """Escape any text for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def content_security_policy() -> str:
    """The page's policy: nothing from the network, only its own style and script."""
    return (
        f"default-src 'none'; style-src '{_sha256(_CSS)}'; script-src '{_sha256(_SCRIPT)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def render_html(data: ReportData) -> str:
    """Render the tutor's report as a self-contained HTML document.

    Parameters
    ----------
    data
        A prepared result (see :func:`teamform.report.compliance.build_report`).

    Returns
    -------
    str
        The HTML page.
    """
    r = data.result
    title = f"Team formation report: {r.model_name}" if r.model_name else "Team formation report"
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # the policy is teamform's own constant text; its single quotes need no escaping
        '<meta http-equiv="Content-Security-Policy" '
        f'content="{html.escape(content_security_policy(), quote=False)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{esc(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{esc(_subtitle(data))}</p>',
        "</header>",
    ]
    out.extend(_verdict(data))
    if data.infeasible:
        out.extend(_conflicts(data))
    out.extend(_summary(data))
    if data.teams:
        out.extend(_overview(data))
        out.append('<section id="teams">')
        out.append("<h2>Teams</h2>")
        shown = carded_teams(data)
        if len(shown) < len(data.teams):
            out.append(
                f'<p class="muted">{len(data.teams)} teams: every team is in the table above; '
                f"cards follow for the {len(shown)} that need a look most (the team sheets "
                "have every team).</p>"
            )
        out.append(
            '<p class="toolbar"><label><input type="checkbox" id="only-flagged"> '
            "show only teams with flags</label></p>"
        )
        for view in shown:
            out.extend(_card(data, view))
        out.append("</section>")
    out.append(f"<script>{_SCRIPT}</script>")
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


def _subtitle(data: ReportData) -> str:
    r = data.result
    bits = [f"{r.n_learners} learners", f"{r.n_teams} teams"]
    if data.week_start is not None:
        bits.append(f"time zones compared in the {week_label(data.week_start)}")
    return " · ".join(bits)


def _conflicts(data: ReportData) -> list[str]:
    r = data.result
    out = [
        '<section class="alert" id="conflicts">',
        "<h2>No valid teams were formed</h2>",
        f"<p>Status: <strong>{esc(r.status.value)}</strong>. "
        "These rules cannot all hold; change one of them and form the teams again.</p>",
    ]
    lines = r.conflicts or r.violations
    if lines:
        out.append('<ul class="conflicts">')
        out.extend(f"<li>{esc(line)}</li>" for line in lines)
        out.append("</ul>")
    else:
        out.append("<p>The solver gave no reason (time limit reached before any answer).</p>")
    out.append("</section>")
    return out


def _verdict(data: ReportData) -> list[str]:
    flagged = any(v.flags for v in data.teams)
    cls = "verdict bad" if data.infeasible else ("verdict fair" if flagged else "verdict")
    out = [f'<section class="{cls}" id="verdict">']
    out.extend(f"<p>{esc(line)}</p>" for line in verdict(data))
    out.append("</section>")
    return out


def _summary(data: ReportData) -> list[str]:
    out = ['<section id="summary">', "<h2>Summary</h2>", '<dl class="summary">']
    for label, value in summary_rows(data):
        if label == "result":
            cls = "status" if data.result.feasible else "status bad"
            value_html = f'<span class="{cls}">{esc(value)}</span>'
        else:
            value_html = esc(value)
        out.append(f"<dt>{esc(label)}</dt><dd>{value_html}</dd>")
    out.append("</dl>")
    rows = breakdown_rows(data)
    if rows:
        out.append("<h3>Criteria</h3>")
        out.append(
            "<table><thead><tr><th>criterion</th><th>kind</th><th>penalty</th>"
            "<th>weighted</th><th>unavoidable</th></tr></thead><tbody>"
        )
        for name, kind, pen, weighted, bound in rows:
            out.append(
                f"<tr><td>{esc(name)}</td><td>{esc(kind)}</td><td class=num>{esc(pen)}</td>"
                f"<td class=num>{esc(weighted)}</td><td class=num>{esc(bound)}</td></tr>"
            )
        out.append("</tbody></table>")
    out.append('<details class="solver"><summary>Solver details</summary><dl class="summary">')
    for label, value in solver_rows(data):
        out.append(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>")
    out.append("</dl></details>")
    if data.result.violations and not data.infeasible:
        out.append('<ul class="flags">')
        out.extend(f"<li>{esc(v)}</li>" for v in data.result.violations)
        out.append("</ul>")
    out.append("</section>")
    return out


def _overview(data: ReportData) -> list[str]:
    names = data.criterion_names
    carded = {v.number for v in carded_teams(data)}
    summarised = len(carded) < len(data.teams)
    out = [
        '<section id="overview">',
        "<h2>Compliance by team</h2>",
        '<p class="muted">Scores 0-100 per criterion (100: the team meets what the '
        "criterion asks of it).</p>",
        "<table><thead><tr><th>team</th><th>members</th>",
    ]
    out.extend(f"<th>{esc(criterion_label(n))}</th>" for n in names)
    out.append("<th>flags</th></tr></thead><tbody>")
    for view in data.teams:
        cells = []
        for name, score in zip(names, team_scores(view, names), strict=True):
            text = "-" if score is None else f"{score:g}"
            cells.append(f'<td class="num {cell_class(view, name, score)}">{esc(text)}</td>')
        n_flags = len(view.flags)
        link = f'<a href="#team-{view.number}">Team {view.number}</a>'
        who = esc(", ".join(m.label for m in view.members))
        members = f"<td>{who}</td>" if summarised else f"<td class=num>{view.summary.size}</td>"
        out.append(
            f"<tr><td>{link if view.number in carded else f'Team {view.number}'}</td>"
            f"{members}{''.join(cells)}"
            f'<td class="num {"poor" if n_flags else "good"}">{n_flags}</td></tr>'
        )
    out.append("</tbody></table>")
    out.append("</section>")
    return out


def _card(data: ReportData, view: TeamView) -> list[str]:
    t = view.summary
    n_flags = len(view.flags)
    badge = (
        f'<span class="badge poor">{n_flags} flag{"s" if n_flags != 1 else ""}</span>'
        if n_flags
        else '<span class="badge good">no flags</span>'
    )
    section = f' <span class="muted">section {esc(t.section)}</span>' if t.section else ""
    out = [
        f'<article class="team" id="team-{t.team}" data-team="{t.team}" data-flags="{n_flags}">',
        f"<h3>Team {t.team}{section}{badge}</h3>",
        *([f"<p>Project: <strong>{esc(t.project)}</strong></p>"] if t.project else []),
        '<div class="cols">',
        "<div>",
        "<h4>Members</h4>",
        _members_table(view),
        "</div>",
        "<div>",
        "<h4>Skill profile (team mean, target marked)</h4>",
        _skill_svg(data, view),
        "<h4>Motivation mix</h4>",
        _motivation_svg(view),
        "</div>",
        "</div>",
        "<div>",
        f"<h4>Common availability ({esc(_heat_caption(data))})</h4>",
    ]
    if view.heat is None:
        out.append('<p class="muted">Not recorded in this result.</p>')
    else:
        hours = "-" if t.common_hours is None else f"{t.common_hours:g}"
        out.append(_heat_svg(view, data.zone or "UTC"))
        out.append(
            f'<p class="muted">Counted common time: {esc(hours)} h a week. '
            f"Windows (UTC): {esc('; '.join(view.utc_windows or []) or 'none')}</p>"
        )
        limiting = [f for f in view.flags if f.code == "overlap" and "limits it" in f.message]
        out.extend(f'<p class="poor">{esc(f.message)}</p>' for f in limiting)
    out.append("</div>")
    out.append("<h4>Criteria</h4>")
    out.append(
        "<table><thead><tr><th>criterion</th><th>team</th><th>target</th><th>score</th>"
        "</tr></thead><tbody>"
    )
    for c in view.criteria:
        score = "-" if c.score is None else f"{c.score:g}"
        hard = " (hard)" if c.hard else ""
        out.append(
            f"<tr><td>{esc(criterion_label(c.name) + hard)}</td><td>{esc(c.value)}</td>"
            f"<td>{esc(c.target)}</td>"
            f'<td class="num {cell_class(view, c.name, c.score)}">{esc(score)}</td></tr>'
        )
    out.append("</tbody></table>")
    out.append("<h4>Flags</h4>")
    if view.flags:
        out.append('<ul class="flags">')
        out.extend(f"<li>{esc(f.message)}</li>" for f in view.flags)
        out.append("</ul>")
    else:
        out.append('<p class="good">Nothing to act on.</p>')
    if view.met:
        out.append('<ul class="met">')
        out.extend(f"<li>{esc(f.message)}</li>" for f in view.met)
        out.append("</ul>")
    out.append("</article>")
    return out


def _heat_caption(data: ReportData) -> str:
    zone = data.zone or "UTC"
    return f"{zone}, {week_label(data.week_start)}" if data.week_start else zone


def _members_table(view: TeamView) -> str:
    has_part = any(m.participation is not None for m in view.members)
    has_choice = view.summary.project is not None
    head = "<th>id</th><th>name</th><th>time zone</th>" + (
        "<th>participation</th>" if has_part else ""
    )
    head += "<th>project</th>" if has_choice else ""
    rows = []
    for m in view.members:
        part = ""
        if has_part:
            part = "-" if m.participation is None else f"{m.participation:g}"
            part = f"<td class=num>{esc(part)}</td>"
        if has_choice:
            part += f"<td>{esc(m.choice or '-')}</td>"
        rows.append(
            f"<tr><td>{esc(m.id)}</td><td>{esc(m.name)}</td>"
            f"<td>{esc(m.timezone or '-')}</td>{part}</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _skill_svg(data: ReportData, view: TeamView) -> str:
    means = view.summary.skill_means
    if not means:
        return '<p class="muted">No skills in this roster.</p>'
    targets = view.summary.skill_targets
    label_w, bar_w, row_h, value_w = 100, 180, 22, 70
    width = label_w + bar_w + value_w
    height = row_h * len(means) + 6
    scale = bar_w / data.skill_max
    parts = [
        f'<svg class="skills" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="skill profile of team {view.number}">'
    ]
    for row, (skill, mean) in enumerate(means.items()):
        y = row * row_h + 4
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12">{esc(skill)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="16" fill="#eef1f4"/>'
            f'<rect x="{label_w}" y="{y}" width="{max(0.0, mean) * scale:.1f}" height="16" '
            f'fill="#5b8def"><title>{esc(skill)}: team mean {mean:.2f}</title></rect>'
        )
        target = targets.get(skill)
        text = f"{mean:.2f}"
        if target is not None:
            tx = label_w + target * scale
            parts.append(
                f'<line x1="{tx:.1f}" y1="{y - 2}" x2="{tx:.1f}" y2="{y + 18}" '
                f'stroke="#1f2328" stroke-width="2"><title>{esc(skill)}: cohort mean '
                f"{target:.2f}</title></line>"
            )
            text += f" / {target:.2f}"
        parts.append(
            f'<text x="{label_w + bar_w + 6}" y="{y + 13}" font-size="12">{esc(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _motivation_svg(view: TeamView) -> str:
    t = view.summary
    total = max(t.intrinsic + t.imposed, 1)
    width, bar = 380, 200
    wi = bar * t.intrinsic / total
    label = f"{t.intrinsic} intrinsic, {t.imposed} imposed"
    return (
        f'<svg class="motivation" width="{width}" height="22" '
        f'viewBox="0 0 {width} 22" role="img" aria-label="{esc(label)}">'
        f'<rect x="0" y="3" width="{wi:.1f}" height="16" fill="#8250df">'
        f"<title>{t.intrinsic} intrinsic</title></rect>"
        f'<rect x="{wi:.1f}" y="3" width="{bar - wi:.1f}" height="16" fill="#d0d7de">'
        f"<title>{t.imposed} imposed</title></rect>"
        f'<text x="{bar + 6}" y="15" font-size="12">{esc(label)}</text></svg>'
    )


def _heat_svg(view: TeamView, zone: str = "UTC") -> str:
    assert view.heat is not None
    cell_w, cell_h, left, top = 22, 16, 34, 16
    width = left + 24 * cell_w + 2
    height = top + 7 * cell_h + 2
    parts = [
        f'<svg class="heatmap" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="common availability of team {view.number}, {esc(zone)}, Monday to Sunday, '
        f'hours 0 to 23">'
    ]
    for hour in range(24):
        x = left + hour * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top - 4}" font-size="10" text-anchor="middle">{hour:02d}</text>'
        )
    for day, counts in enumerate(view.heat):
        y = top + day * cell_h
        parts.append(f'<text x="0" y="{y + cell_h - 3}" font-size="10">{DAY_NAMES[day]}</text>')
        for hour, count in enumerate(counts):
            minutes = count * 15
            parts.append(
                f'<rect x="{left + hour * cell_w}" y="{y}" width="{cell_w - 1}" '
                f'height="{cell_h - 1}" fill="{_HEAT[min(count, 4)]}">'
                f"<title>{DAY_NAMES[day]} {hour:02d}:00 {esc(zone)}: {minutes} min common</title>"
                "</rect>"
            )
    parts.append("</svg>")
    return "".join(parts)
