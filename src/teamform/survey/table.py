"""Survey files as a table: headers, and rows numbered as the file numbers them.

Reads CSV exports (Google Forms, Qualtrics with its three header rows, gruepr,
plain rosters) and Excel workbooks (Microsoft Forms) into one shape, and tells
which survey tool wrote the file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from teamform.errors import InputError
from teamform.files import first_line, read_text
from teamform.roster import (
    MAX_CELL_CHARS,
    MAX_HEADER_CHARS,
    csv_reader,
    long_cell,
    too_long,
)

__all__ = ["EXCEL_SUFFIXES", "Table", "read_table"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")

_QUALTRICS_IMPORT_ID = re.compile(r'^\{\s*"ImportId"', re.IGNORECASE)
_GRUEPR_HINTS = (
    re.compile(r"\bunavailable\b.*\[", re.IGNORECASE),
    re.compile(r"would like (?:not )?to have on your team", re.IGNORECASE),
    re.compile(r"\[(?:top|first) choice\]", re.IGNORECASE),
)


@dataclass
class Table:
    """A survey as read from its file.

    Attributes
    ----------
    source
        The file, for messages.
    headers
        Column headers (for Qualtrics the question text of the second row),
        made unique.
    short
        Qualtrics' short column names (``Q1``, ``StartDate``), else empty.
    rows
        ``(row number, cells)``: the line (CSV) or sheet row (Excel) where the
        response starts, and one cell per header.
    format
        The tool that wrote the file, as far as the headers tell.
    """

    source: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    format: str = "roster"
    short: list[str] = field(default_factory=list)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        h = h.strip()
        if h in seen:
            seen[h] += 1
            h = f"{h} ({seen[h]})"
        seen.setdefault(h, 1)
        out.append(h)
    return out


def _excel_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _read_excel(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except Exception as exc:  # openpyxl raises many types on a damaged file
        raise InputError(f"not a readable Excel workbook ({exc})", file=str(path)) from None
    try:
        sheet = book.worksheets[0]
        rows = [
            (number, [_excel_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise InputError("empty workbook: no header row", file=str(path))
    (_, header), data = rows[0], rows[1:]
    return header, data


def _read_csv(path: Path, head: int | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = read_text(path)
    first = first_line(text)
    delimiter = max((",", ";", "\t"), key=first.count)  # ties go to the comma
    reader = csv_reader(text, delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                _check_lengths(path, start, cells, rows[0][1] if rows else None)
                rows.append((start, [c.strip() for c in cells]))
                if head is not None and len(rows) > head:
                    break
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), row=start) from None
    if not rows:
        raise InputError("empty file: no header row", file=str(path))
    (_, header), data = rows[0], rows[1:]
    return header, data


def _check_lengths(path: Path, row: int, cells: list[str], header: list[str] | None) -> None:
    """Cells no longer than the roster's limits, the column named (the header by position)."""
    limit = MAX_CELL_CHARS if header is not None else MAX_HEADER_CHARS
    wide = long_cell(cells, limit)
    if wide is None:
        return
    if header is None:
        message = f"header cell {wide + 1} has {len(cells[wide])} characters (at most {limit})"
        raise InputError(message, file=str(path), row=row)
    column = header[wide] if wide < len(header) else None
    raise InputError(too_long(len(cells[wide]), limit), file=str(path), row=row, column=column)


def read_table(path: str | Path, head: int | None = None) -> Table:
    """Read a survey export (CSV or Excel) and detect which tool wrote it.

    With ``head``, only the header and the first ``head`` responses of a CSV
    file are read: enough to tell the tool (a quick look before the full read).

    Raises
    ------
    InputError
        On an unreadable file or a response with more cells than the header.
    """
    path = Path(path)
    excel = path.suffix.lower() in EXCEL_SUFFIXES
    header, rows = _read_excel(path) if excel else _read_csv(path, head)
    short: list[str] = []
    fmt = "roster"
    # Qualtrics: short names, question text, then {"ImportId": ...} per column
    if len(rows) >= 2 and any(_QUALTRICS_IMPORT_ID.match(c) for c in rows[1][1]):
        short = header
        header = [q or s for q, s in zip(rows[0][1] + [""] * len(short), short, strict=False)]
        rows = rows[2:]
        fmt = "qualtrics"
    header = _unique(header)
    for line, cells in rows:
        if len(cells) > len(header) and any(cells[len(header) :]):
            raise InputError(
                f"{len(cells)} cells but the header has {len(header)} columns",
                file=str(path),
                row=line,
            )
        cells[:] = (cells + [""] * len(header))[: len(header)]
    lowered = [h.lower() for h in header]
    if fmt == "qualtrics":
        pass
    elif any(p.search(h) for p in _GRUEPR_HINTS for h in header):
        fmt = "gruepr"
    elif excel and "start time" in lowered and "completion time" in lowered:
        fmt = "ms_forms"
    elif lowered and lowered[0] in ("timestamp", "horodateur", "marca temporal", "zeitstempel"):
        fmt = "google_forms"
    return Table(str(path), header, rows, fmt, short)
