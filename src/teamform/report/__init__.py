"""Reports tutors can act on, read from a result JSON.

* :func:`render_html`: one self-contained page (summary, per-criterion
  breakdown, a card per team with charts and flags, or the conflicts when no
  teams could be formed);
* :func:`render_markdown`: the same content as Markdown;
* :func:`render_sheets`: one sheet per team for its learners, with the
  teammates and the common meeting windows in each member's own time zone.

Example::

    from teamform.report import load_report, write_report

    write_report(load_report("result.json"), html="report.html", sheets="sheets")
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from teamform.errors import InputError
from teamform.files import read_text, write_atomic
from teamform.report.compliance import ReportData, build_report
from teamform.report.html import render_html
from teamform.report.markdown import render_markdown
from teamform.report.sheets import SheetFormat, render_sheets
from teamform.result import Result

__all__ = [
    "ReportData",
    "SheetFormat",
    "build_report",
    "load_report",
    "render_html",
    "render_markdown",
    "render_sheets",
    "write_report",
]


def load_report(path: str | Path, zone: str | None = None) -> ReportData:
    """Read a result JSON written by ``teamform form --json`` and prepare it.

    Parameters
    ----------
    path
        The result file.
    zone
        Time zone for the heat maps (the tutor's, e.g. ``Europe/Paris``);
        UTC when None.

    Returns
    -------
    ReportData

    Raises
    ------
    InputError
        When the file is missing, unreadable, not JSON or not a teamform result.
    """
    path = Path(path)
    text = read_text(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not a result JSON (invalid JSON: {exc.msg})", file=str(path), row=exc.lineno
        ) from None
    if not isinstance(raw, dict) or "status" not in raw:
        raise InputError("not a teamform result (no 'status' field)", file=str(path))
    try:
        result = Result.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(
            f"not a teamform result ({err['msg']})", file=str(path), column=where
        ) from None
    return build_report(result, raw, zone)


def write_report(
    data: ReportData,
    *,
    html: str | Path | None = None,
    markdown: str | Path | None = None,
    sheets: str | Path | None = None,
    sheet_format: SheetFormat = "md",
) -> list[Path]:
    """Write any of the HTML report, the Markdown report and the team sheets.

    Parameters
    ----------
    data
        A prepared result (see :func:`load_report`).
    html, markdown
        Output files for the tutor's report.
    sheets
        Directory for the team sheets (created if missing); one file per team.
    sheet_format
        ``md`` or ``html`` sheets.

    Returns
    -------
    list of Path
        The files written.
    """
    written: list[Path] = []
    if html is not None:
        write_atomic(Path(html), render_html(data))
        written.append(Path(html))
    if markdown is not None:
        write_atomic(Path(markdown), render_markdown(data))
        written.append(Path(markdown))
    if sheets is not None:
        folder = Path(sheets)
        for name, text in render_sheets(data, sheet_format).items():
            write_atomic(folder / name, text)
            written.append(folder / name)
    return written
