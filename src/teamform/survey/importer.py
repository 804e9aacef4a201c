"""A survey export to a validated roster, with the mapping it used and what to check."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from teamform.errors import InputError, problems_of, raise_problems
from teamform.result import safe_cell, write_atomic
from teamform.roster import (
    KNOWN_COLUMNS,
    REQUIRED_COLUMNS,
    SKILL_PREFIX,
    Roster,
    _build,
    load_pairs,
    load_roster,
)
from teamform.survey.detect import NUMERIC_LEAD, detect_column, fold, slug
from teamform.survey.grid import (
    DAY_NAMES,
    DEFAULT_PERIODS,
    GridCellError,
    grid_day,
    infer_slot_minutes,
    parse_cell,
    subtract,
    windows_text,
)
from teamform.survey.mapping import ColumnSpec, SurveyMapping
from teamform.survey.people import NameIndex, TeammateError, split_names
from teamform.survey.table import EXCEL_SUFFIXES, Table, read_table
from teamform.survey.timezones import match_timezone

__all__ = ["SurveyImport", "detect_mapping", "import_survey", "is_roster", "read_learners"]

#: Column names only a teamform roster spells so (exactly, in lower case).
_TEAMFORM_COLUMNS = ("id", "timezone", "availability", "motivation")
#: Roles a survey has at most once.
_SINGLE = ("id", "name", "first_name", "last_name", "email", "lms_id", "section", "timezone",
           "motivation", "participation")  # fmt: skip
_IMPOSED = (
    "requir", "mandator", "compulsor", "oblig", "employer", "manager", "company", "sent ",
    "sent by", "imposed", "assigned", "had to", "have to", "must", "not my", "no choice",
    "boss", "my job",
)  # fmt: skip
_INTRINSIC = (
    "chose", "choice", "choose", "own", "interest", "want", "elective", "optional",
    "voluntar", "intrinsic", "myself", "curious", "passion", "fun", "enjoy", "personal",
)  # fmt: skip


class SurveyImport(BaseModel):
    """What :func:`import_survey` made of a survey.

    Attributes
    ----------
    source
        The survey file.
    format
        ``google_forms``, ``ms_forms``, ``qualtrics``, ``gruepr`` or ``roster``.
    mapping
        The mapping used, every column resolved (edit it and pass it back).
    roster
        The validated roster.
    records
        The roster as rows (what :meth:`write_roster` writes).
    timezones
        Every distinct time-zone answer and the IANA zone chosen for it.
    warnings
        What the tutor should check: near-miss names, fixed-offset zones,
        repeated responses, defaults taken.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    format: str
    mapping: SurveyMapping
    roster: Roster
    records: list[dict[str, str]]
    timezones: dict[str, str]
    warnings: list[str]

    @property
    def columns(self) -> list[str]:
        """The roster columns, in the order written."""
        out: dict[str, None] = {}
        for rec in self.records:
            out.update(dict.fromkeys(rec))
        return list(out)

    def roster_csv(self) -> str:
        """The roster as CSV text, formula-safe; :func:`~teamform.load_roster` reads it back."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        cols = self.columns
        writer.writerow(cols)
        for rec in self.records:
            writer.writerow([safe_cell(rec.get(c, "")) for c in cols])
        return buf.getvalue()

    def write_roster(self, path: str | Path) -> None:
        """Write the roster CSV atomically."""
        write_atomic(Path(path), self.roster_csv())


def _spec_for(
    header: str, short: str, values: Sequence[str], mapping: SurveyMapping, fmt: str
) -> tuple[ColumnSpec, bool]:
    """The column's spec (from the mapping, completed from the header, or detected)."""
    given = mapping.columns.get(header) or (mapping.columns.get(short) if short else None)
    detected = detect_column(header, values, fmt=fmt, short=short)
    if given is None:
        return detected, False
    fill: dict[str, Any] = {}
    if given.role == "grid":
        day = given.day or (DAY_NAMES[d] if (d := grid_day(header)) is not None else None)
        if day is None:
            raise InputError(
                'a grid column needs its day (day = "Mon" .. "Sun")', column=f"columns.{header}"
            )
        fill["day"] = day
        fill["marks"] = given.marks or detected.marks or "free"
    if given.role in ("skill", "category"):
        fill["name"] = given.name or slug(header)
    if given.role == "project_choice":
        fill["rank"] = given.rank or detected.rank  # None: the whole ranking in one cell
    how = given.how.removesuffix(" (mapping)") or (
        detected.how if detected.role == given.role else given.role
    )
    return given.model_copy(update={**fill, "how": f"{how} (mapping)"}), True


def _resolve_columns(
    table: Table, mapping: SurveyMapping, fmt: str
) -> tuple[dict[str, ColumnSpec], list[str]]:
    known = set(table.headers) | set(table.short)
    for key in mapping.columns:
        if key not in known:
            raise InputError(
                "the mapping names a column that is not in the survey", column=f"columns.{key}"
            )
    warnings: list[str] = []
    specs: dict[str, ColumnSpec] = {}
    taken: dict[str, str] = {}
    names: set[str] = set()
    ranks: dict[int, str] = {}
    for i, header in enumerate(table.headers):
        short = table.short[i] if i < len(table.short) else ""
        values = [cells[i] for _, cells in table.rows]
        spec, given = _spec_for(header, short, values, mapping, fmt)
        if spec.role in _SINGLE:
            if spec.role in taken:
                if given:
                    raise InputError(
                        f"two columns have the role {spec.role}: '{taken[spec.role]}' and this one",
                        column=f"columns.{header}",
                    )
                warnings.append(
                    f"column '{header}' looks like a second {spec.role} column; ignored "
                    f"(map it in the mapping file to use it)"
                )
                spec = ColumnSpec(role="ignore", how=f"second {spec.role} column")
            else:
                taken[spec.role] = header
        if spec.role in ("skill", "category"):
            name = spec.name or slug(header)
            column = SKILL_PREFIX + name if spec.role == "skill" else name
            if spec.role == "category" and (
                column in KNOWN_COLUMNS or column.startswith(SKILL_PREFIX)
            ):
                name = column = f"q_{name}"
            base, n = name, 2
            while column in names:
                name = f"{base}_{n}"
                column = SKILL_PREFIX + name if spec.role == "skill" else name
                n += 1
            names.add(column)
            spec = spec.model_copy(update={"name": name})
        if spec.role == "project_choice" and spec.rank is not None:
            if spec.rank in ranks:
                raise InputError(
                    f"columns '{ranks[spec.rank]}' and '{header}' are both project choice "
                    f"{spec.rank}",
                    file=table.source,
                    row=1,
                    column=header,
                )
            ranks[spec.rank] = header
        specs[header] = spec
    return specs, warnings


def _motivation(text: str, spec: ColumnSpec) -> str | None:
    for answer, value in spec.values.items():
        if fold(answer) == fold(text):
            return value
    t = fold(text)
    if t in ("intrinsic", "imposed"):
        return t
    if any(k in t for k in _IMPOSED) or t in ("no", "required"):
        return "imposed"
    if any(k in t for k in _INTRINSIC) or t == "yes":
        return "intrinsic"
    return None


class _Importer:
    def __init__(self, table: Table, mapping: SurveyMapping, default_timezone: str | None) -> None:
        self.table = table
        self.src = table.source
        self.mapping = mapping
        self.fmt = mapping.format or table.format
        self.default_tz = default_timezone or mapping.default_timezone
        self.specs, self.warnings = _resolve_columns(table, mapping, self.fmt)
        self.by_role: dict[str, list[int]] = {}
        for i, header in enumerate(table.headers):
            self.by_role.setdefault(self.specs[header].role, []).append(i)
        self.periods = {**DEFAULT_PERIODS, **mapping.periods}
        grid_cells = [cells[i] for _, cells in table.rows for i in self.by_role.get("grid", [])]
        self.slot = mapping.slot_minutes or infer_slot_minutes(grid_cells)
        self.zones: dict[str, str] = {}

    def resolved_mapping(self) -> SurveyMapping:
        """The mapping with every column's role settled."""
        return self.mapping.model_copy(
            update={
                "format": self.fmt,
                "columns": self.specs,
                "default_timezone": self.default_tz,
                "slot_minutes": self.slot if "grid" in self.by_role else self.mapping.slot_minutes,
            }
        )

    def fail(self, line: int, column: int | str, message: str) -> InputError:
        header = column if isinstance(column, str) else self.table.headers[column]
        return InputError(message, file=self.src, row=line, column=header)

    def cell(self, cells: list[str], role: str) -> tuple[int, str] | None:
        cols = self.by_role.get(role)
        return (cols[0], cells[cols[0]]) if cols else None

    # --- grids ----------------------------------------------------------------------

    def grid_ticks(
        self, line: int, cells: list[str]
    ) -> dict[tuple[int, str], list[tuple[int, int]]]:
        """Ticked intervals per (day, ``free``/``busy``) of one response."""
        out: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for i in self.by_role.get("grid", []):
            spec = self.specs[self.table.headers[i]]
            try:
                ticked = parse_cell(cells[i], slot_minutes=self.slot, periods=self.periods)
            except GridCellError as exc:
                raise self.fail(line, i, str(exc)) from None
            key = (DAY_NAMES.index(spec.day or "Mon"), spec.marks or "free")
            out[key] = out.get(key, []) + ticked
        return out

    def busy_span(self) -> tuple[int, int] | None:
        """First to last slot any learner ticked in a busy grid: the span the grid offered."""
        ends = [
            span
            for line, cells in self.table.rows
            for (_, marks), spans in self.grid_ticks(line, cells).items()
            if marks == "busy"
            for span in spans
        ]
        return (min(s for s, _ in ends), max(e for _, e in ends)) if ends else None

    def availability(self, line: int, cells: list[str], span: tuple[int, int] | None) -> str:
        parts = []
        text = self.cell(cells, "availability")
        if text is not None and text[1]:
            parts.append(text[1])
        free: dict[int, list[tuple[int, int]]] = {}
        for (day, marks), ticked in self.grid_ticks(line, cells).items():
            if marks == "busy":
                ticked = subtract([span], ticked) if span is not None else []
            free[day] = free.get(day, []) + ticked
        grid = windows_text({d: f for d, f in free.items() if f})
        if grid:
            parts.append(grid)
        return "; ".join(parts)

    # --- time zones -----------------------------------------------------------------

    def timezone(self, line: int, cells: list[str]) -> str:
        got = self.cell(cells, "timezone")
        if got is None or not got[1]:
            if self.default_tz:
                return self.default_tz
            if got is None and not ({"grid", "availability"} & set(self.by_role)):
                return "UTC"  # no times asked: the zone does not matter
            if got is None:
                raise InputError(
                    "the survey has availability times but no time-zone column: give the "
                    "zone with --timezone (or default_timezone in the mapping)",
                    file=self.src,
                )
            raise self.fail(line, got[0], "no time zone given (set a default with --timezone)")
        col, label = got
        if label not in self.zones:
            choice = match_timezone(label, self.mapping.timezones)
            if choice is None:
                raise self.fail(
                    line,
                    col,
                    f"cannot tell the time zone of '{label}' (write an IANA name such as "
                    f"Europe/Paris, or map the answer in the mapping's [timezones] table)",
                )
            self.zones[label] = choice.zone
            if choice.note:
                self.warnings.append(f"time zone '{label}' -> {choice.zone}: {choice.note}")
        return self.zones[label]

    # --- one response ---------------------------------------------------------------

    def record(self, line: int, cells: list[str], span: tuple[int, int] | None) -> dict[str, str]:
        rec: dict[str, str] = {}
        email = self.cell(cells, "email")
        lms = self.cell(cells, "lms_id")
        name = self.cell(cells, "name")
        first, last = self.cell(cells, "first_name"), self.cell(cells, "last_name")
        full = (
            name[1]
            if name and name[1]
            else " ".join(p[1] for p in (first, last) if p is not None and p[1])
        )
        given_id = self.cell(cells, "id")
        if given_id is not None:
            if not given_id[1]:
                raise self.fail(line, given_id[0], "empty learner id")
            rec["id"] = given_id[1]
        elif email is not None:
            if "@" not in email[1]:
                what = f"'{email[1]}' is not an e-mail address" if email[1] else "no e-mail address"
                raise self.fail(
                    line,
                    email[0],
                    f"{what}, and the survey has no id column to tell learners apart "
                    '(map a column with role = "id")',
                )
            rec["id"] = email[1].strip().lower()
        elif lms is not None and lms[1]:
            rec["id"] = lms[1]
        else:
            rec["id"] = f"R{line:04}"
        rec["name"] = full
        rec["email"] = email[1].strip() if email else ""
        rec["timezone"] = self.timezone(line, cells)
        rec["availability"] = self.availability(line, cells, span)
        mot = self.cell(cells, "motivation")
        if mot is None:
            rec["motivation"] = self.mapping.default_motivation
        else:
            col, text = mot
            value = _motivation(text, self.specs[self.table.headers[col]])
            if value is None:
                raise self.fail(
                    line,
                    col,
                    f"cannot tell whether '{text}' means intrinsic or imposed motivation "
                    '(map it in the mapping: values = { "..." = "intrinsic" })',
                )
            rec["motivation"] = value
        for role in ("section", "participation"):
            got = self.cell(cells, role)
            if got is not None:
                rec[role] = got[1]
        for i in self.by_role.get("skill", []):
            header = self.table.headers[i]
            m = NUMERIC_LEAD.match(cells[i])
            if m is None:
                what = "no answer" if not cells[i] else f"'{cells[i]}' does not start with a number"
                raise self.fail(line, i, f"{what} (expected a level such as 3 or '4. ...')")
            rec[SKILL_PREFIX + (self.specs[header].name or "")] = m.group(1).replace(",", ".")
        for i in self.by_role.get("category", []):
            rec[self.specs[self.table.headers[i]].name or ""] = cells[i]
        if lms is not None:
            rec["lms_id"] = lms[1]
        choices = sorted(
            (self.specs[self.table.headers[i]].rank or 0, cells[i])
            for i in self.by_role.get("project_choice", [])
        )
        if choices:
            picked: list[str] = []
            for rank, cell in choices:
                # a one-cell ranking (no rank, sorted first) lists its choices best first
                for choice in re.split(r"[;\n]", cell) if rank == 0 else [cell]:
                    if choice.strip() and choice.strip() not in picked:
                        picked.append(choice.strip())
            rec["projects"] = ";".join(p.replace(";", ",") for p in picked)
        return rec

    def run(self) -> tuple[list[tuple[int, dict[str, str]]], dict[int, list[str]]]:
        span = (
            self.busy_span()
            if any(s.role == "grid" and s.marks == "busy" for s in self.specs.values())
            else None
        )
        kept: dict[str, tuple[int, dict[str, str], list[str]]] = {}
        for line, cells in self.table.rows:
            rec = self.record(line, cells, span)
            if rec["id"] in kept:
                self.warnings.append(
                    f"rows {kept[rec['id']][0]} and {line} are both learner '{rec['id']}': "
                    f"the later answer (row {line}) is used"
                )
            kept[rec["id"]] = (line, rec, cells)
        rows = sorted((line, rec) for line, rec, _ in kept.values())
        cells_of = {line: cells for line, _, cells in kept.values()}
        return rows, cells_of

    def teammates(
        self, rows: list[tuple[int, dict[str, str]]], cells_of: dict[int, list[str]]
    ) -> None:
        people = [(r["id"], r["name"], r["email"]) for _, r in rows]
        index = NameIndex(people, self.mapping.teammates)
        for line, rec in rows:
            for role in ("prefer", "avoid"):
                ids: list[str] = []
                for i in self.by_role.get(role, []):
                    for text in split_names(cells_of[line][i]):
                        try:
                            match = index.resolve(text)
                        except TeammateError as exc:
                            raise self.fail(
                                line,
                                i,
                                f"{exc}; settle it in the mapping's [teammates] table",
                            ) from None
                        if match is None:
                            continue
                        if match.learner == rec["id"]:
                            self.warnings.append(
                                f"row {line}: learner '{rec['id']}' names themselves in "
                                f"'{self.table.headers[i]}'; left out"
                            )
                            continue
                        if match.how in ("fuzzy", "first name"):
                            self.warnings.append(
                                f"row {line}, column '{self.table.headers[i]}': '{text}' "
                                f"taken as learner '{match.learner}' ({match.how})"
                            )
                        ids.append(match.learner)
                if role in self.by_role:
                    rec[role] = ";".join(dict.fromkeys(ids))


def _roster_column(spec: ColumnSpec) -> str:
    if spec.role == "skill":
        return SKILL_PREFIX + (spec.name or "")
    if spec.role == "category":
        return spec.name or ""
    if spec.role == "grid":
        return "availability"
    return spec.role


def _start(
    path: str | Path, mapping: SurveyMapping | str | Path | None, default_timezone: str | None
) -> _Importer:
    """Read the survey and settle every column's role (no answer converted yet)."""
    if isinstance(mapping, str | Path):
        mapping_file = str(mapping)
        mapping = SurveyMapping.from_toml(mapping)
    else:
        mapping_file = "mapping"
        mapping = mapping or SurveyMapping()
    where = ("--timezone", None) if default_timezone else ("default_timezone", mapping_file)
    default_timezone = default_timezone or mapping.default_timezone
    if default_timezone is not None:
        choice = match_timezone(default_timezone)
        if choice is None:
            raise InputError(
                f"unknown time zone '{default_timezone}'", column=where[0], file=where[1]
            )
        default_timezone = choice.zone
    table = read_table(path)
    try:
        return _Importer(table, mapping, default_timezone)
    except InputError as exc:
        if exc.column and exc.column.startswith("columns.") and exc.file is None:
            raise exc.located(file=mapping_file) from None
        raise


def detect_mapping(
    path: str | Path,
    mapping: SurveyMapping | str | Path | None = None,
    default_timezone: str | None = None,
) -> SurveyMapping:
    """The mapping :func:`import_survey` would use, without converting any answer.

    Useful to show a tutor how each column will be read (and let them change
    it) even when some answers are still wrong.
    """
    return _start(path, mapping, default_timezone).resolved_mapping()


def import_survey(
    path: str | Path,
    mapping: SurveyMapping | str | Path | None = None,
    default_timezone: str | None = None,
    *,
    avoid: str | Path | None = None,
    prefer: str | Path | None = None,
) -> SurveyImport:
    """Read a survey export into a validated roster.

    Parameters
    ----------
    path
        Google Forms CSV, Microsoft Forms ``.xlsx``, Qualtrics CSV (three
        header rows), gruepr survey CSV or a roster with its own column names.
    mapping
        Overrides of the detected mapping: a :class:`SurveyMapping` or a TOML
        file. Columns it does not list are detected from their headers.
    default_timezone
        IANA zone for learners without a time-zone answer (overrides the
        mapping's ``default_timezone``).
    avoid, prefer
        Optional pair-list CSVs (``id_a,id_b``) added to the survey's answers.

    Returns
    -------
    SurveyImport
        The roster, the mapping used, the zones chosen and the warnings.

    Raises
    ------
    InputError
        On the first problem, naming the file, row and column (the survey's
        own header).
    """
    importer = _start(path, mapping, default_timezone)
    table, mapping = importer.table, importer.mapping
    rows, cells_of = importer.run()
    importer.teammates(rows, cells_of)
    pairs = {
        k: load_pairs(p) if p is not None else [] for k, p in (("avoid", avoid), ("prefer", prefer))
    }
    header: dict[str, None] = {}
    for _, rec in rows:
        header.update(dict.fromkeys(rec))
    survey_header: dict[str, str] = {}
    for h, spec in importer.specs.items():
        survey_header.setdefault(_roster_column(spec), h)
    try:
        roster = _build(
            list(header),
            rows,
            source=table.source,
            avoid=pairs["avoid"],
            prefer=pairs["prefer"],
            pair_source={k: str(p) for k, p in (("avoid", avoid), ("prefer", prefer)) if p},
        )
    except InputError as exc:
        # name the columns as the survey spells them
        raise_problems(
            [
                InputError(p.message, file=p.file, row=p.row, column=survey_header[p.column])
                if p.file == table.source and p.column in survey_header
                else p
                for p in problems_of(exc)
            ]
        )
        raise
    if not ({"grid", "availability"} & set(importer.by_role)):
        importer.warnings.append(
            "the survey asks for no availability: every learner has none (use a model "
            "without the overlap criterion)"
        )
    if "motivation" not in importer.by_role:
        importer.warnings.append(
            f"the survey asks for no motivation: every learner counts as "
            f"{mapping.default_motivation}"
        )
    resolved = importer.resolved_mapping()
    return SurveyImport(
        source=table.source,
        format=importer.fmt,
        mapping=resolved,
        roster=roster,
        records=[rec for _, rec in rows],
        timezones=dict(importer.zones),
        warnings=importer.warnings,
    )


#: Responses after the header that :func:`read_table` needs to tell the tool (Qualtrics'
#: second header row and its import ids).
_TOOL_ROWS = 2


def is_roster(path: str | Path, columns: Mapping[str, str] | None = None) -> bool:
    """Whether a file is meant as a teamform roster CSV rather than a survey export.

    It is when no survey tool wrote it and it uses teamform's own column
    names (``id``, ``timezone``, ``availability``, ``motivation``, ``skill_*``,
    spelled exactly) or the model's ``[roster.columns]``: such a file is then
    checked as a roster, so a missing column is reported as such.
    """
    path = Path(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return False
    # the header and the rows that tell a survey tool apart: the roster is read in full later
    table = read_table(path, head=_TOOL_ROWS)
    if table.format != "roster":
        return False
    own = {*REQUIRED_COLUMNS, *_TEAMFORM_COLUMNS, *(columns or {}).values()}
    return any(h in own or h.startswith(SKILL_PREFIX) for h in table.headers)


def read_learners(
    path: str | Path,
    *,
    mapping: SurveyMapping | str | Path | None = None,
    default_timezone: str | None = None,
    avoid: str | Path | None = None,
    prefer: str | Path | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[Roster, SurveyImport | None]:
    """A roster from a teamform roster CSV or from any survey export.

    A file with teamform's required columns (and no mapping given) is read as
    a roster; anything else goes through :func:`import_survey`, whose result
    is returned too (``None`` for a plain roster).
    """
    if mapping is None and is_roster(path, columns):
        roster = load_roster(
            path, avoid=avoid, prefer=prefer, columns=columns, timezone=default_timezone
        )
        return roster, None
    imported = import_survey(path, mapping, default_timezone, avoid=avoid, prefer=prefer)
    return imported.roster, imported
