"""Tests for the tutor report, the team sheets and spreadsheet-safe CSV.

The cohort below is small enough to solve by hand. In the week of 12 January
2026 Paris is UTC+1 and New York UTC-5, so P1 (Paris, Mon 18:00-22:00) and N1
(New York, Mon 12:00-15:00) share Mon 17:00-20:00 UTC: 18:00-21:00 in Paris,
12:00-15:00 in New York. T1 and T2 (Tokyo, Tue 09:00-12:00) share three hours
with each other and none with P1 or N1, so with teams of two and a heavy
overlap weight the optimum is {P1, N1}, {T1, T2}.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import teamform
from teamform import FormationModel, Result, Roster
from teamform.cli import app
from teamform.report import (
    build_report,
    load_report,
    render_html,
    render_markdown,
    render_sheets,
    write_report,
)
from teamform.report.compliance import criterion_label, heat_grid, local_windows
from teamform.result import safe_cell

REF = "2026-01-12"
SCRIPT_NAME = "<script>alert(1)</script>"
QUOTES_NAME = "\"&'"
FORMULA_NAME = "=cmd|' /C calc'!A0"
RECORDS: list[dict[str, Any]] = [
    {
        "id": "P1",
        "name": SCRIPT_NAME,
        "email": "p1@example.org",
        "timezone": "Europe/Paris",
        "availability": "Mon 18:00-22:00",
        "motivation": "intrinsic",
        "skill_code": 4,
        "participation": 90,
        "language": "<b>fr</b>",
    },
    {
        "id": "N1",
        "name": QUOTES_NAME,
        "email": "n1@example.org",
        "timezone": "America/New_York",
        "availability": "Mon 12:00-15:00",
        "motivation": "imposed",
        "skill_code": 2,
        "participation": 75,
        "language": "en",
    },
    {
        "id": "T1",
        "name": FORMULA_NAME,
        "email": "t1@example.org",
        "timezone": "Asia/Tokyo",
        "availability": "Tue 09:00-12:00",
        "motivation": "intrinsic",
        "skill_code": 3,
        "participation": 20,
        "language": "en",
    },
    {
        "id": "T2",
        "name": "@SUM(1+1)",
        "email": "t2@example.org",
        "timezone": "Asia/Tokyo",
        "availability": "Tue 09:00-12:00",
        "motivation": "imposed",
        "skill_code": 3,
        "participation": 35,
        "language": "en",
    },
]
MODEL: dict[str, Any] = {
    "name": "tiny <model>",
    "team": {"size": 2},
    "criteria": {
        "overlap": {"hours": 2, "block": 1, "weight": 50, "reference_date": REF},
        "motivation": {"weight": 1},
        "skill_balance": {"weight": 1},
        "prefer": {"weight": 1},
        "category": [
            {"column": "language", "rule": "no_isolation", "weight": 1, "values": ["<b>fr</b>"]}
        ],
    },
}


def _solve(records: list[dict[str, Any]] = RECORDS, model: dict[str, Any] = MODEL) -> Result:
    roster = Roster.from_records(records, prefer=[("N1", "T1")])
    return teamform.form(roster, FormationModel.from_dict(model), time_limit=5, seed=0, workers=1)


@pytest.fixture(scope="module")
def result() -> Result:
    res = _solve()
    assert res.feasible
    return res


@pytest.fixture(scope="module")
def result_file(result: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("result") / "result.json"
    result.to_json(path)
    return path


def _team_with(result: Result, lid: str) -> teamform.TeamSummary:
    return next(t for t in result.teams if lid in t.members)


# ------------------------------------------------------------ what the result records


def test_result_records_common_slots_zones_and_checks(result: Result) -> None:
    assert {frozenset(t.members) for t in result.teams} == {
        frozenset({"P1", "N1"}),
        frozenset({"T1", "T2"}),
    }
    europe = _team_with(result, "P1")
    # Mon 17:00-20:00 UTC: slots 68-80 of the week
    assert europe.common_slots == [(68, 80)]
    assert europe.timezones == {"P1": "Europe/Paris", "N1": "America/New_York"}
    criteria = {c.name: c for c in europe.criteria}
    assert criteria["overlap"].value == 3 and criteria["overlap"].score == 100
    # preferred pair N1-T1 is split: the check says where T1 went
    prefer = [c for c in europe.checks if c.code == "prefer"]
    assert len(prefer) == 1 and not prefer[0].ok and "team" in prefer[0].message
    # P1 is the only <b>fr</b> speaker of the team
    isolated = [c for c in europe.checks if c.code == "isolation" and not c.ok]
    assert [c.learners for c in isolated] == [["P1"]]

    tokyo = _team_with(result, "T1")
    low = [c for c in tokyo.checks if c.code == "participation"]
    assert len(low) == 1 and not low[0].ok
    assert set(low[0].learners) == {"T1", "T2"}
    assert any("low participation" in f for f in tokyo.flags)
    assert tokyo.participation == {"T1": 20.0, "T2": 35.0}


def test_results_without_the_new_fields_still_load(result_file: Path, tmp_path: Path) -> None:
    raw = json.loads(result_file.read_text(encoding="utf-8"))
    for team in raw["teams"]:
        for key in ("common_slots", "timezones", "participation", "skill_targets"):
            team.pop(key)
        team.pop("criteria")
        team.pop("checks")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(raw), encoding="utf-8")
    data = load_report(old)
    page = render_html(data)
    assert "Not recorded in this result." in page
    assert all(f'id="team-{t.team}"' in page for t in data.result.teams)
    # flags still come from the plain-text list
    tokyo = next(v for v in data.teams if "T1" in v.summary.members)
    assert any("low participation" in f.message for f in tokyo.flags)


# ------------------------------------------------------------------------ HTML


_URL_ATTR = re.compile(r"""\b(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", re.I)


def test_html_is_self_contained(result_file: Path) -> None:
    page = render_html(load_report(result_file))
    assert not _URL_ATTR.search(page)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    # only the report's own script, and the policy allows nothing else
    assert page.count("<script") == 1
    assert "default-src 'none'" in page


def test_html_escapes_names_and_roster_text(result_file: Path) -> None:
    page = render_html(load_report(result_file))
    assert SCRIPT_NAME not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&amp;&#x27;" in page
    assert "<b>fr</b>" not in page and "&lt;b&gt;fr&lt;/b&gt;" in page
    assert "tiny &lt;model&gt;" in page
    assert "@example.org" not in page


def test_html_has_every_team_card_and_charts(result_file: Path) -> None:
    data = load_report(result_file)
    page = render_html(data)
    for team in data.result.teams:
        assert f'<article class="team" id="team-{team.team}"' in page
    assert page.count('<svg class="heatmap"') == len(data.result.teams)
    assert page.count('<svg class="skills"') == len(data.result.teams)
    # 7 x 24 cells per heat map, with day and hour labels
    assert page.count("min common</title></rect>") == 7 * 24 * len(data.result.teams)
    assert ">Mon</text>" in page and ">23</text>" in page
    assert "Mon 17:00-20:00" in page  # the European team's window in UTC


def test_infeasible_result_shows_conflicts_first(tmp_path: Path) -> None:
    records = [dict(r) for r in RECORDS]
    records[0].update(name="<i>lonely</i>", availability="Sun 03:00-04:00")
    model = json.loads(json.dumps(MODEL))
    model["criteria"]["overlap"].update(hard=True)
    res = _solve(records, model)
    assert res.status == teamform.Status.INFEASIBLE and res.conflicts
    path = tmp_path / "infeasible.json"
    res.to_json(path)
    data = load_report(path)
    page = render_html(data)
    assert 'id="conflicts"' in page
    assert page.index('id="conflicts"') < page.index('id="summary"')
    for line in res.conflicts:
        assert f"<li>{_esc(line)}</li>" in page
    text = render_markdown(data)
    assert text.index("## No valid teams were formed") < text.index("## Summary")
    assert render_sheets(data) == {}


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=True)


# -------------------------------------------------------------------- Markdown


def test_markdown_has_the_same_content_escaped(result_file: Path) -> None:
    data = load_report(result_file)
    text = render_markdown(data)
    assert "## Summary" in text and "### Criteria" in text and "## Compliance by team" in text
    for c in data.result.breakdown:
        assert criterion_label(c.name) in text  # human labels, not internal names
        if "_" in c.name or ":" in c.name:
            assert c.name.replace("_", "\\_") not in text
    for team in data.result.teams:
        assert f"### Team {team.team} " in text
    assert SCRIPT_NAME not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&quot;&amp;&#x27;" in text
    assert "<b>" not in text
    assert "@example.org" not in text
    # heat map rows, one per UTC day
    assert re.search(r"^Mon  ", text, re.M) and re.search(r"^Sun  ", text, re.M)


def test_repeated_pairs_in_the_result_are_flagged(result_file: Path, tmp_path: Path) -> None:
    raw = json.loads(result_file.read_text(encoding="utf-8"))
    raw["repeated_pairs"] = [["P1", "N1"], {"learners": ["T1", "P1"]}]
    path = tmp_path / "repeated.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    data = load_report(path)
    europe = next(v for v in data.teams if "P1" in v.summary.members)
    tokyo = next(v for v in data.teams if "T1" in v.summary.members)
    assert [f.learners for f in europe.flags if f.code == "repeated_pair"] == [["P1", "N1"]]
    assert not [f for f in tokyo.flags if f.code == "repeated_pair"]
    assert [f.code for f in tokyo.met if f.code == "repeated_pair"] == ["repeated_pair"]
    # absent: no check at all
    plain = build_report(Result.model_validate(json.loads(result_file.read_text())))
    assert not any(f.code == "repeated_pair" for v in plain.teams for f in v.flags + v.met)


# ------------------------------------------------------------------ team sheets


def _sections(text: str) -> dict[str, list[str]]:
    """Markdown ``### heading`` to its bullet lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = line[4:]
            out[current] = []
        elif current is not None and line.startswith("- "):
            out[current].append(line[2:])
    return out


def test_sheet_shows_windows_in_each_members_zone(result_file: Path) -> None:
    data = load_report(result_file)
    sheets = render_sheets(data)
    assert sorted(sheets) == ["team-01.md", "team-02.md"]
    europe = next(v for v in data.teams if "P1" in v.summary.members)
    text = sheets[f"team-{europe.number:02d}.md"]
    sections = _sections(text)
    # checked by hand: Mon 17:00-20:00 UTC
    assert sections["&lt;script&gt;alert(1)&lt;/script&gt; (Europe/Paris)"] == ["Mon 18:00-21:00"]
    assert sections["&quot;&amp;&#x27; (America/New\\_York)"] == ["Mon 12:00-15:00"]
    assert "about 3 hours a week" in text
    for name, sheet in sheets.items():
        assert "@example.org" not in sheet, name
        assert "<script>" not in sheet and "<b>" not in sheet, name


def test_html_sheets_escape_and_localise(result_file: Path) -> None:
    data = load_report(result_file)
    sheets = render_sheets(data, "html")
    europe = next(v for v in data.teams if "P1" in v.summary.members)
    page = sheets[f"team-{europe.number:02d}.html"]
    assert "<h3>&lt;script&gt;alert(1)&lt;/script&gt; (Europe/Paris)</h3>" in page
    assert "<li>Mon 18:00-21:00</li>" in page and "<li>Mon 12:00-15:00</li>" in page
    assert "<script" not in page and "@example.org" not in page
    assert not _URL_ATTR.search(page)


def test_local_windows_and_heat_grid_by_hand() -> None:
    from datetime import date

    ref = date(2026, 1, 12)
    assert local_windows([(68, 80)], "Europe/Paris", ref) == ["Mon 18:00-21:00"]
    assert local_windows([(68, 80)], "America/New_York", ref) == ["Mon 12:00-15:00"]
    assert local_windows([(68, 80)], "Not/AZone", ref) is None
    grid = heat_grid([(68, 80)])
    assert grid[0][17:20] == [4, 4, 4]
    assert sum(map(sum, grid)) == 12
    # a run across the week end: Sun 23:30 to Mon 00:30 UTC
    wrapped = heat_grid([(670, 674)])
    assert wrapped[6][23] == 2 and wrapped[0][0] == 2


# ------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_cell_neutralises_formula_starts(start: str) -> None:
    assert safe_cell(start + "1+1") == "'" + start + "1+1"


def test_safe_cell_keeps_plain_text() -> None:
    for value in ("Chloe Bennett", "L0001", "", "a=b", "O'Brien"):
        assert safe_cell(value) == value


def test_csv_export_is_safe_in_spreadsheets(result: Result, tmp_path: Path) -> None:
    path = tmp_path / "teams.csv"
    result.to_csv(path)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert rows["T1"]["name"] == "'" + FORMULA_NAME
    assert rows["T2"]["name"] == "'@SUM(1+1)"
    assert rows["P1"]["name"] == SCRIPT_NAME
    for row in rows.values():
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# ------------------------------------------------------------------------- CLI


runner = CliRunner()


def test_cli_report_writes_everything(result_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    md = tmp_path / "report.md"
    sheets = tmp_path / "sheets"
    res = runner.invoke(
        app,
        [
            *("report", str(result_file), "--out", str(out), "--markdown", str(md)),
            *("--sheets", str(sheets), "--sheet-format", "html"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert md.read_text(encoding="utf-8").startswith("# Team formation report")
    assert sorted(p.name for p in sheets.iterdir()) == ["team-01.html", "team-02.html"]
    assert "2 team sheets written" in res.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "file not found"),
        ("not json at all", "not a result JSON"),
        ('{"teams": []}', "not a teamform result"),
        ('{"status": "optimal", "teams": 3}', "not a teamform result"),
        ("[1, 2]", "not a teamform result"),
    ],
)
def test_cli_report_bad_input_is_one_line(
    tmp_path: Path, content: str | None, fragment: str
) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["report", str(path), "--out", str(out)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert str(path) in lines[0]
    assert "Traceback" not in res.output
    assert not out.exists()


def test_cli_report_needs_an_output(result_file: Path) -> None:
    res = runner.invoke(app, ["report", str(result_file)])
    assert res.exit_code == 2 and "nothing to write" in res.stderr


def test_write_report_returns_written_paths(result_file: Path, tmp_path: Path) -> None:
    written = write_report(load_report(result_file), markdown=tmp_path / "r.md")
    assert written == [tmp_path / "r.md"]


# ------------------------------------------------------------- headless browser


_PROBE = (
    "(function(){var root=document.documentElement;"
    "function note(kind,text){root.setAttribute('data-probe-errors',"
    "(root.getAttribute('data-probe-errors')||'')+'|'+kind+':'+text);}"
    "window.addEventListener('error',function(e){note('error',e.message);});"
    "window.addEventListener('unhandledrejection',function(e){note('rejection',String(e.reason));});"
    "document.addEventListener('securitypolicyviolation',function(e){note('csp',e.blockedURI);});"
    "['error','warn'].forEach(function(k){var f=console[k];console[k]=function(){"
    "note(k,Array.prototype.join.call(arguments,' '));return f.apply(console,arguments);};});"
    "})();"
)


def _with_probe(page: str) -> str:
    """Add an error probe right after the page's policy, which must then allow it by hash."""
    digest = base64.b64encode(hashlib.sha256(_PROBE.encode()).digest()).decode()
    assert "script-src '" in page
    page = page.replace("script-src '", f"script-src 'sha256-{digest}' '", 1)
    meta = r"(<meta http-equiv=\"Content-Security-Policy\"[^>]*>)"
    head, policy, rest = re.split(meta, page, maxsplit=1)
    return f"{head}{policy}<script>{_PROBE}</script>{rest}"


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="needs Debian's chromium (apt-get install -y chromium) for the headless check",
)
def test_report_renders_in_headless_chromium(result_file: Path, tmp_path: Path) -> None:
    data = load_report(result_file)
    page = tmp_path / "report.html"
    page.write_text(_with_probe(render_html(data)), encoding="utf-8")
    chromium = shutil.which("chromium")
    assert chromium is not None
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    # the page's own script ran to the end, and the probe saw no error of any kind
    assert 'data-ready="1"' in dom, dom[:500]
    assert not re.search(r"<html[^>]*data-probe-errors", dom), dom[:1000]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    for team in data.result.teams:
        assert f'id="team-{team.team}"' in dom
    assert dom.count('class="team"') == len(data.result.teams)
    # escaped names stay text in the rendered DOM
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
