"""Roster input: the learners of a cohort, read from CSV or built from records.

A roster is one learner per row. The loader checks every cell it uses and raises
:class:`~teamform.errors.InputError` naming the file, row and column of each
problem (all of them, as :class:`~teamform.errors.InputErrors`, when there are
several), so a tutor can fix the spreadsheet without reading a traceback.

Only ``id`` is always required: ``timezone``, ``availability`` and
``motivation`` are needed when the formation model uses a criterion that reads
them (:func:`teamform.build_instance` says so), and a default time zone can
stand in for empty ``timezone`` cells.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from teamform.availability import AvailabilityError, canonical_timezone, parse_availability
from teamform.errors import InputError, problems_of, raise_problems
from teamform.files import first_line, read_text
from teamform.gcpause import gc_paused

if TYPE_CHECKING:
    from _csv import Reader

MOTIVATIONS = ("intrinsic", "imposed")
#: Columns with a fixed meaning; any other non-skill column is a category.
KNOWN_COLUMNS = (
    "id",
    "name",
    "email",
    "timezone",
    "availability",
    "motivation",
    "section",
    "participation",
    "avoid",
    "prefer",
    "projects",
)
REQUIRED_COLUMNS = ("id",)
#: Columns a criterion reads: required when the model uses it.
NEEDED_BY = {"overlap": ("timezone", "availability"), "motivation": ("motivation",)}
SKILL_PREFIX = "skill_"
#: Longest data cell: an availability cell of 10 000 windows fits, a pasted document does not.
MAX_CELL_CHARS = 1_000_000
#: Longest header cell (survey exports put the whole question text there).
MAX_HEADER_CHARS = 10_000


class Learner(BaseModel):
    """One learner of the cohort.

    Attributes
    ----------
    id
        Unique identifier, used in pair lists and outputs.
    name, email
        Personal data: shown in outputs for the tutor, never logged.
    timezone
        IANA time-zone name such as ``Europe/Paris``; empty when not given.
    availability
        Local weekly windows, e.g. ``Mon-Fri 18:00-21:00; Sat 09:00-12:00``.
    skills
        Skill name (without the ``skill_`` prefix) to level.
    motivation
        ``intrinsic`` (chose the course) or ``imposed`` (sent by someone else);
        ``None`` when not given.
    section
        Teams never mix sections; ``None`` when the roster has no sections.
    attributes
        Categorical columns such as ``language`` or ``role``.
    participation
        Engagement in the previous phase, 0-100, if monitored.
    row
        Where the learner came from (CSV line or record number), for messages.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    name: str = ""
    email: str | None = None
    timezone: str = ""
    availability: str = ""
    skills: dict[str, float] = Field(default_factory=dict)
    motivation: Literal["intrinsic", "imposed"] | None = None
    section: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    participation: float | None = None
    row: int | None = None
    #: ranked project choices, best first (roster column ``projects``, ``;``-separated)
    projects: tuple[str, ...] = ()


class Roster(BaseModel):
    """A cohort: learners plus the pairs that must not, or asked to, work together.

    Build one with :func:`load_roster` (CSV) or :meth:`Roster.from_records`.
    """

    model_config = ConfigDict(frozen=True)

    learners: tuple[Learner, ...]
    avoid: tuple[tuple[str, str], ...] = ()
    prefer: tuple[tuple[str, str], ...] = ()
    source: str = "roster"
    #: the columns the roster had (teamform's names); empty: not recorded
    columns: tuple[str, ...] = ()

    def has_column(self, name: str) -> bool:
        """Whether the roster had this column (``True`` when not recorded)."""
        return not self.columns or name in self.columns

    @property
    def ids(self) -> list[str]:
        """Learner ids in roster order."""
        return [learner.id for learner in self.learners]

    @property
    def skill_names(self) -> list[str]:
        """Skill names present in the roster, in column order."""
        if self.columns and self.learners:
            # a read roster gives every learner every skill column
            return list(dict.fromkeys(c[len(SKILL_PREFIX) :] for c in self.columns if _is_skill(c)))
        names: dict[str, None] = {}
        for learner in self.learners:
            for key in learner.skills:
                names.setdefault(key, None)
        return list(names)

    @property
    def category_names(self) -> list[str]:
        """Categorical attribute columns present in the roster."""
        if self.columns and self.learners:
            return list(
                dict.fromkeys(
                    c for c in self.columns if c and c not in KNOWN_COLUMNS and not _is_skill(c)
                )
            )
        names: dict[str, None] = {}
        for learner in self.learners:
            for key in learner.attributes:
                names.setdefault(key, None)
        return list(names)

    def __len__(self) -> int:
        return len(self.learners)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        avoid: Iterable[tuple[str, str]] = (),
        prefer: Iterable[tuple[str, str]] = (),
        source: str = "records",
        timezone: str | None = None,
    ) -> Roster:
        """Build a roster from dictionaries shaped like CSV rows.

        Keys follow the CSV columns (``id``, ``timezone``, ``skill_math`` ...);
        a ``skills`` mapping may be given instead of ``skill_*`` keys.
        Values are validated exactly as CSV cells are; errors name the record
        (1-based) as the row. ``timezone`` stands in for records without one.
        """
        rows: list[dict[str, str]] = []
        for rec in records:
            row: dict[str, str] = {}
            for key, value in rec.items():
                if key == "skills" and isinstance(value, Mapping):
                    for skill, level in value.items():
                        row[SKILL_PREFIX + str(skill)] = _cell(level)
                elif key in ("avoid", "prefer", "projects") and isinstance(value, list | tuple):
                    row[key] = ";".join(str(v) for v in value)
                else:
                    row[str(key)] = _cell(value)
            rows.append(row)
        header: dict[str, None] = {}
        for row in rows:
            for key in row:
                header.setdefault(key, None)
        return _build(
            list(header),
            [(i + 1, r) for i, r in enumerate(rows)],
            source=source,
            avoid=[(a, b, None) for a, b in avoid],
            prefer=[(a, b, None) for a, b in prefer],
            pair_source=source,
            timezone=timezone,
        )


def _is_skill(column: str) -> bool:
    return column.startswith(SKILL_PREFIX) and len(column) > len(SKILL_PREFIX)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def _sniff_delimiter(text: str) -> str:
    first = first_line(text)
    return ";" if first.count(";") > first.count(",") else ","


def csv_reader(text: str, delimiter: str = ",") -> Reader:
    """A CSV reader over ``text`` whose cells are measured by the caller, not capped.

    The csv module's own cap (128 KiB a field) fails without naming the column
    and would reject long but valid cells; the whole file is in memory anyway,
    so the cap is lifted to the text's length and callers check cells against
    :data:`MAX_CELL_CHARS` with :func:`long_cell`.
    """
    if csv.field_size_limit() <= len(text):
        csv.field_size_limit(len(text) + 1)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def records(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of each record, ``line`` being where it starts.

    The csv module counts the line a record ends on, which for a cell holding
    a line break is not where a tutor would look.
    """
    end = reader.line_num
    for cells in reader:
        yield end + 1, cells
        end = reader.line_num


def long_cell(cells: Sequence[str], limit: int = MAX_CELL_CHARS) -> int | None:
    """Index of the first cell longer than ``limit`` characters, if any."""
    return next((j for j, c in enumerate(cells) if len(c) > limit), None)


def too_long(length: int, limit: int = MAX_CELL_CHARS) -> str:
    """The message for a cell of ``length`` characters over ``limit``."""
    return f"cell of {length} characters is too long (at most {limit})"


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    table = _read_table(path)
    return table.header, table.rows()


@dataclass
class _Table:
    """A CSV's header and its non-blank records, a column at a time (cells stripped)."""

    header: list[str]
    lines: list[int]
    columns: list[list[str]]

    def rows(self) -> list[tuple[int, dict[str, str]]]:
        """``(line, {column: cell})`` of each record."""
        header = self.header
        return [
            (line, dict(zip(header, cells, strict=True)))
            for line, *cells in zip(self.lines, *self.columns, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> list[str]:
        """Every record's cell of column ``name`` (empty cells when there is none)."""
        if name not in self.header:
            return [""] * len(self.lines)
        # a column renamed onto another's name wins, as in a row's dict
        return self.columns[len(self.header) - 1 - self.header[::-1].index(name)]


def _read_table(path: Path) -> _Table:
    text = read_text(path)
    reader = csv_reader(text, _sniff_delimiter(text))
    try:
        header = next(reader)
        while not any(h.strip() for h in header):
            header = next(reader)
    except StopIteration:
        raise InputError("empty file: no header row", file=str(path)) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), row=reader.line_num) from None
    header_row = reader.line_num
    header = [h.strip() for h in header]
    wide = long_cell(header, MAX_HEADER_CHARS)
    if wide is not None:
        raise InputError(
            f"header cell {wide + 1} has {len(header[wide])} characters "
            f"(at most {MAX_HEADER_CHARS})",
            file=str(path),
            row=header_row,
        )
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise InputError(
                "column appears twice in the header", file=str(path), row=header_row, column=col
            )
        seen.add(col)
    width = len(header)
    strip = str.strip
    lines: list[int] = []
    rows: list[list[str]] = []
    try:
        # a record starts on the line after the previous one ended (see records())
        end = reader.line_num
        for cells in reader:
            line, end = end + 1, reader.line_num
            if not any(map(strip, cells)):
                continue  # blank lines are layout, not learners
            if len(cells) != width:
                if len(cells) > width:
                    raise InputError(
                        f"{len(cells)} cells but the header has {width} columns",
                        file=str(path),
                        row=line,
                    )
                cells += [""] * (width - len(cells))
            # the longest cell first (one pass in C), which is rarely too long
            wide = long_cell(cells) if max(map(len, cells)) > MAX_CELL_CHARS else None
            if wide is not None:
                raise InputError(
                    too_long(len(cells[wide])), file=str(path), row=line, column=header[wide]
                )
            lines.append(line)
            rows.append(cells)
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), row=reader.line_num) from None
    columns = [list(map(strip, column)) for column in zip(*rows, strict=True)] if rows else []
    if not columns:
        columns = [[] for _ in header]
    return _Table(header, lines, columns)


def load_pairs(path: str | Path) -> list[tuple[str, str, int | None]]:
    """Read a pair list: a CSV with columns ``id_a,id_b`` (header optional).

    A first row naming ``id_a`` or ``id_b`` is a header: it must name both, in
    any order, and other columns (a note, a date) are ignored. Returns
    ``(id_a, id_b, row)`` triples; ids are checked against the roster when the
    roster is built.
    """
    path = Path(path)
    text = read_text(path)
    reader = csv_reader(text, _sniff_delimiter(text))
    pairs: list[tuple[str, str, int | None]] = []
    names: list[str] | None = None
    columns = (0, 1)
    try:
        for line, cells in records(reader):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if names is None:
                names = [c.lower() for c in cells]
                if "id_a" in names or "id_b" in names:
                    for col in ("id_a", "id_b"):
                        if col not in names:
                            raise InputError(
                                "required column is missing", file=str(path), row=line, column=col
                            )
                    columns = (names.index("id_a"), names.index("id_b"))
                    continue
            wide = long_cell(cells)
            if wide is not None:
                column = {columns[0]: "id_a", columns[1]: "id_b"}.get(wide, f"#{wide + 1}")
                raise InputError(
                    too_long(len(cells[wide])), file=str(path), row=line, column=column
                )
            a, b = (cells[j] if j < len(cells) else "" for j in columns)
            if not a or not b:
                raise InputError("expected two ids: id_a,id_b", file=str(path), row=line)
            pairs.append((a, b, line))
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), row=reader.line_num) from None
    return pairs


@gc_paused()
def load_roster(
    path: str | Path,
    *,
    avoid: str | Path | None = None,
    prefer: str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> Roster:
    """Read and validate a roster CSV.

    Parameters
    ----------
    path
        Roster CSV (UTF-8 with or without BOM; comma or semicolon delimited).
    avoid, prefer
        Optional pair-list CSVs (``id_a,id_b``), added to any ``avoid`` /
        ``prefer`` roster columns.
    columns
        Mapping from teamform's column names to the file's own headers, e.g.
        ``{"id": "Student ID"}`` (the formation model's ``[roster.columns]``).
    timezone
        Time zone of learners whose ``timezone`` cell is empty (or of all, when
        the roster has no such column), e.g. ``Europe/Paris``.

    Returns
    -------
    Roster

    Raises
    ------
    InputError
        Naming file, row and column; an :class:`~teamform.errors.InputErrors`
        holding every problem when the file has several.
    """
    path = Path(path)
    table = _read_table(path)
    header = table.header
    if columns:
        rename = {theirs: ours for ours, theirs in columns.items()}
        missing = [theirs for theirs in rename if theirs not in header]
        if missing:
            raise InputError(
                "column named in the model's [roster.columns] is not in the file",
                file=str(path),
                row=1,
                column=missing[0],
            )
        header = table.header = [rename.get(h, h) for h in header]
    pair_lists: dict[str, list[tuple[str, str, int | None]]] = {"avoid": [], "prefer": []}
    pair_files: dict[str, str] = {}
    for kind, pair_path in (("avoid", avoid), ("prefer", prefer)):
        if pair_path is not None:
            pair_lists[kind] = load_pairs(pair_path)
            pair_files[kind] = str(pair_path)
    try:
        return _build(
            header,
            table,
            source=str(path),
            avoid=pair_lists["avoid"],
            prefer=pair_lists["prefer"],
            pair_source=pair_files,
            timezone=timezone,
        )
    except InputError as exc:
        if not columns:
            raise
        # name the column as the file spells it, not as teamform does
        renamed = [
            InputError(p.message, file=p.file, row=p.row, column=columns[p.column])
            if p.file == str(path) and p.column and p.column in columns
            else p
            for p in problems_of(exc)
        ]
        raise_problems(renamed)
        raise


def _build(
    header: Sequence[str],
    rows: Sequence[tuple[int, Mapping[str, str]]] | _Table,
    *,
    source: str,
    avoid: Sequence[tuple[str, str, int | None]],
    prefer: Sequence[tuple[str, str, int | None]],
    pair_source: str | Mapping[str, str],
    timezone: str | None = None,
) -> Roster:
    if not rows:
        raise InputError("the roster has no learners", file=source)
    for col in REQUIRED_COLUMNS:
        if col not in header:
            raise InputError("required column is missing", file=source, row=1, column=col)
    default_zone = ""
    if timezone is not None and timezone.strip():
        try:
            default_zone = canonical_timezone(timezone)
        except AvailabilityError as exc:
            raise InputError(f"{exc} (expected an IANA name)", column="--timezone") from None
    skill_cols = [h for h in header if _is_skill(h)]

    def context() -> _Rows:
        return _Rows(
            source=source,
            default_zone=default_zone,
            skill_cols=skill_cols,
            category_cols=[
                h for h in header if h not in KNOWN_COLUMNS and h not in skill_cols and h
            ],
            has_section="section" in header,
            has_participation="participation" in header,
        )

    # every problem is collected, so that a tutor fixes the file in one go
    problems: list[InputError] = []
    ctx = context()
    found = _learners_by_column(ctx, rows) if isinstance(rows, _Table) else None
    if found is not None:
        learners = found
    else:
        # a problem somewhere (or records): row by row, which names each problem
        ctx = context()
        learners = []
        for line, row in rows.rows() if isinstance(rows, _Table) else rows:
            try:
                learners.append(_learner(ctx, line, row))
            except InputError as exc:
                problems.append(exc)
    row_of = ctx.row_of
    column_pairs = ctx.column_pairs

    def check_pairs(
        kind: str, pairs: Sequence[tuple[str, str, int | None]], file: str
    ) -> tuple[tuple[str, str], ...]:
        out: dict[tuple[str, str], None] = {}
        for a, b, line in pairs:
            bad = [(col, lid) for col, lid in (("id_a", a), ("id_b", b)) if lid not in row_of]
            for col, lid in bad:
                problems.append(
                    InputError(
                        f"unknown learner id '{lid}' in {kind} pairs",
                        file=file,
                        row=line,
                        column=kind if file == source else col,
                    )
                )
            if bad:
                continue
            if a == b:
                problems.append(
                    InputError(
                        f"learner '{a}' is paired with itself",
                        file=file,
                        row=line,
                        column=kind if file == source else "id_b",
                    )
                )
                continue
            out.setdefault((a, b) if a < b else (b, a), None)
        return tuple(out)

    def file_of(kind: str) -> str:
        if isinstance(pair_source, str):
            return pair_source
        return pair_source.get(kind, source)

    avoid_pairs = check_pairs("avoid", column_pairs["avoid"], source) + check_pairs(
        "avoid", avoid, file_of("avoid")
    )
    prefer_pairs = check_pairs("prefer", column_pairs["prefer"], source) + check_pairs(
        "prefer", prefer, file_of("prefer")
    )
    avoid_set = set(avoid_pairs)
    for file, listed in ((source, column_pairs["prefer"]), (file_of("prefer"), prefer)):
        for a, b, at in listed:
            if ((a, b) if a < b else (b, a)) in avoid_set:
                problems.append(
                    InputError(
                        f"pair {a},{b} is both an avoid pair and a preferred pair",
                        file=file,
                        row=at,
                        column="prefer" if file == source else "id_a",
                    )
                )
    raise_problems(problems)
    prefer_pairs = tuple(dict.fromkeys(prefer_pairs))
    return Roster.model_construct(
        learners=tuple(learners),
        avoid=tuple(dict.fromkeys(avoid_pairs)),
        prefer=prefer_pairs,
        source=source,
        columns=tuple(header),
    )


@dataclass
class _Rows:
    """What reading rows shares: the layout, and what earlier rows held."""

    source: str
    default_zone: str
    skill_cols: list[str]
    category_cols: list[str]
    has_section: bool
    has_participation: bool
    row_of: dict[str, int] = field(default_factory=dict)
    zone_of: dict[str, str | None] = field(default_factory=dict)
    avail_ok: dict[str, None] = field(default_factory=dict)
    column_pairs: dict[str, list[tuple[str, str, int | None]]] = field(
        default_factory=lambda: {"avoid": [], "prefer": []}
    )


def _learner(ctx: _Rows, line: int, row: Mapping[str, str]) -> Learner:
    """One row as a learner; raises the row's first problem."""
    row_of, zone_of, avail_ok = ctx.row_of, ctx.zone_of, ctx.avail_ok

    def fail(column: str, message: str) -> InputError:
        return InputError(message, file=ctx.source, row=line, column=column)

    lid = row.get("id", "")
    if not lid:
        raise fail("id", "empty id")
    if lid in row_of:
        raise fail("id", f"duplicate id '{lid}' (first on row {row_of[lid]})")
    row_of[lid] = line

    tz = row.get("timezone", "")
    if tz not in zone_of:
        try:
            zone_of[tz] = canonical_timezone(tz) if tz else ctx.default_zone
        except AvailabilityError:
            zone_of[tz] = None
    zone = zone_of[tz]
    if zone is None:
        raise fail("timezone", f"unknown time zone '{tz}' (expected an IANA name)")

    avail = row.get("availability", "")
    if avail not in avail_ok:
        try:
            parse_availability(avail)
        except AvailabilityError as exc:
            raise fail("availability", str(exc)) from None
        avail_ok[avail] = None

    raw_motivation = row.get("motivation", "")
    motivation = raw_motivation.lower() or None
    if motivation is not None and motivation not in MOTIVATIONS:
        raise fail(
            "motivation",
            f"unknown motivation '{raw_motivation}' (expected intrinsic or imposed)",
        )

    skills: dict[str, float] = {}
    for col in ctx.skill_cols:
        raw = row.get(col, "")
        try:
            value = float(raw.replace(",", ".")) if raw else math.nan
        except ValueError:
            raise fail(col, f"skill level '{raw}' is not a number") from None
        if not math.isfinite(value):
            raise fail(col, "skill level is missing" if not raw else f"bad skill level '{raw}'")
        skills[col[len(SKILL_PREFIX) :]] = value

    participation: float | None = None
    if ctx.has_participation and row.get("participation", ""):
        raw = row["participation"]
        try:
            participation = float(raw)
        except ValueError:
            raise fail("participation", f"participation '{raw}' is not a number") from None
        if not 0 <= participation <= 100:
            raise fail("participation", f"participation {raw} is outside 0-100")

    projects = tuple(p.strip() for p in row.get("projects", "").split(";") if p.strip())
    if len(set(projects)) < len(projects):
        twice = next(p for p in projects if projects.count(p) > 1)
        raise fail("projects", f"project '{twice}' is ranked twice")

    for kind in ("avoid", "prefer"):
        for other in filter(None, (p.strip() for p in row.get(kind, "").split(";"))):
            ctx.column_pairs[kind].append((lid, other, line))

    return Learner.model_construct(
        id=lid,
        name=row.get("name", ""),
        email=row.get("email") or None,
        timezone=zone,
        availability=avail,
        skills=skills,
        motivation=motivation,
        section=(row.get("section") or None) if ctx.has_section else None,
        attributes={c: row.get(c, "") for c in ctx.category_cols},
        participation=participation,
        row=line,
        projects=projects,
    )


def _learners_by_column(ctx: _Rows, table: _Table) -> list[Learner] | None:
    """Every record as a learner, checked a column at a time.

    Cohorts repeat the same few time zones, statements and levels, so each
    distinct cell is checked once. The checks are those of :func:`_learner`;
    on the first problem this gives up (None) and the caller reads row by row,
    which names every problem with its row.
    """
    n = len(table.lines)
    ids = table.column("id")
    if "" in set(ids) or len(set(ids)) != n:
        return None

    def distinct(column: list[str], convert: Callable[[str], Any]) -> list[Any] | None:
        values: dict[str, Any] = {}
        for cell in set(column):
            try:
                values[cell] = convert(cell)
            except (AvailabilityError, ValueError):
                return None
        return [values[cell] for cell in column]

    def zone(cell: str) -> str:
        return canonical_timezone(cell) if cell else ctx.default_zone

    def statement(cell: str) -> str:
        parse_availability(cell)
        return cell

    def motivation(cell: str) -> str | None:
        value = cell.lower() or None
        if value is not None and value not in MOTIVATIONS:
            raise ValueError(cell)
        return value

    def level(cell: str) -> float:
        value = float(cell.replace(",", ".")) if cell else math.nan
        if not math.isfinite(value):
            raise ValueError(cell)
        return value

    def participation(cell: str) -> float | None:
        if not cell:
            return None
        value = float(cell)
        if not 0 <= value <= 100:
            raise ValueError(cell)
        return value

    zones = distinct(table.column("timezone"), zone)
    statements = distinct(table.column("availability"), statement)
    motivations = distinct(table.column("motivation"), motivation)
    levels = [distinct(table.column(c), level) for c in ctx.skill_cols]
    shares = (
        distinct(table.column("participation"), participation) if ctx.has_participation else None
    )
    if zones is None or statements is None or motivations is None or None in levels:
        return None
    if ctx.has_participation and shares is None:
        return None
    choices: list[tuple[str, ...]] = [()] * n
    if "projects" in table.header:
        choices = [
            tuple(p.strip() for p in cell.split(";") if p.strip())
            for cell in table.column("projects")
        ]
        if any(len(set(c)) < len(c) for c in choices):
            return None
    lines = table.lines
    for kind in ("avoid", "prefer"):
        if kind in table.header:
            ctx.column_pairs[kind] = [
                (lid, other, line)
                for lid, line, cell in zip(ids, lines, table.column(kind), strict=True)
                for other in filter(None, (p.strip() for p in cell.split(";")))
            ]
    ctx.row_of.update(zip(ids, lines, strict=True))
    names = [c[len(SKILL_PREFIX) :] for c in ctx.skill_cols]
    categories = [table.column(c) for c in ctx.category_cols]
    nothing = [None] * n
    columns: dict[str, Iterable[Any]] = {
        "id": ids,
        "name": table.column("name"),
        "email": [cell or None for cell in table.column("email")],
        "timezone": zones,
        "availability": statements,
        "skills": (dict(zip(names, v, strict=True)) for v in zip(*levels, strict=True))
        if names
        else (dict[str, float]() for _ in lines),
        "motivation": motivations,
        "section": [cell or None for cell in table.column("section")]
        if ctx.has_section
        else nothing,
        "attributes": (
            dict(zip(ctx.category_cols, v, strict=True)) for v in zip(*categories, strict=True)
        )
        if categories
        else (dict[str, str]() for _ in lines),
        "participation": nothing if shares is None else shares,
        "row": lines,
        "projects": choices,
    }
    keys = tuple(columns)
    assert set(keys) == set(Learner.model_fields)
    new, setattr_ = Learner.__new__, object.__setattr__
    learners: list[Learner] = []
    for values in zip(*columns.values(), strict=True):
        # what Learner.model_construct does for a value of every field, without
        # its loop over the fields (a fifth of the time a learner took to read)
        learner = new(Learner)
        setattr_(learner, "__dict__", dict(zip(keys, values, strict=True)))
        setattr_(learner, "__pydantic_fields_set__", set(keys))
        setattr_(learner, "__pydantic_extra__", None)
        setattr_(learner, "__pydantic_private__", None)
        learners.append(learner)
    return learners
