"""What the web app does, as plain Python: sessions, plans, edits, solves and exports.

The web layer (:mod:`teamform.app.web`) only translates HTTP to these calls.
Everything that scores or forms teams is the library's: :func:`teamform.form`
solves, :class:`teamform.board.Board` re-scores edits with the validator's
per-team check, :mod:`teamform.report` renders the exports.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from teamform.app.store import SessionRow, Store, Upload
from teamform.board import Board, Change
from teamform.criteria import ProjectTerm, build_terms
from teamform.distances import model_distances
from teamform.errors import InputError, TeamformError
from teamform.files import check_size, decode_text, parse_toml
from teamform.history import load_history_csv, pair_counts
from teamform.instance import Instance, build_instance
from teamform.lms import DEFAULT_PATTERN, export_lms
from teamform.model import FormationModel
from teamform.pins import Pins
from teamform.presets import list_presets, resolve_model_path
from teamform.report import build_report, render_html, render_sheets
from teamform.result import Result, teams_csv
from teamform.roster import Roster, load_roster
from teamform.solve import Progress, form
from teamform.survey import ROLES, ColumnSpec, SurveyImport, SurveyMapping, import_survey, is_roster
from teamform.survey.table import EXCEL_SUFFIXES

#: Largest accepted upload, in bytes (a 20 000-learner roster is about 3 MB).
MAX_UPLOAD = 8 * 1024 * 1024
#: Longest solve the app starts, in seconds.
MAX_TIME_LIMIT = 3600.0


class NotFound(TeamformError):
    """A session (or something inside it) that does not exist."""


class Busy(TeamformError):
    """An action that cannot run while a solve of the same session is running."""


def csv_header(upload: Upload) -> list[str]:
    """The header row of an uploaded CSV, as the roster reader sees it."""
    import csv

    first = next((line for line in upload.text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]


def presets() -> dict[str, str]:
    """The shipped preset formation models: name to TOML text."""
    return {p.name: p.path.read_text(encoding="utf-8") for p in list_presets()}


def load_uploads(
    roster: Upload,
    avoid: Upload | None,
    prefer: Upload | None,
    columns: Mapping[str, str],
    survey: str | None = None,
) -> tuple[Roster, SurveyImport | None]:
    """Read uploads into a roster; errors name the upload as the tutor sent it.

    ``survey`` is ``"detect"`` to tell a survey export from a roster CSV,
    ``"import"`` to read the file as a survey, the TOML of a survey mapping to
    import a survey with it, or None for a roster.
    """
    with tempfile.TemporaryDirectory(prefix="teamform-upload-") as tmp:
        paths: dict[str, Path | None] = {}
        for kind, up in (("roster", roster), ("avoid", avoid), ("prefer", prefer)):
            if up is None:
                paths[kind] = None
                continue
            folder = Path(tmp) / kind
            folder.mkdir()
            path = folder / (Path(up.name).name or f"{kind}.csv")
            path.write_bytes(up.data)
            paths[kind] = path
        roster_path = paths["roster"]
        assert roster_path is not None
        pairs = {"avoid": paths["avoid"], "prefer": paths["prefer"]}
        names = {str(p): Path(p).name for p in paths.values() if p is not None}

        def named(exc: InputError) -> InputError:
            file = names.get(exc.file or "", exc.file)
            return InputError(exc.message, file=file, row=exc.row, column=exc.column)

        def survey_import(mapping: SurveyMapping | None) -> SurveyImport:
            return import_survey(roster_path, mapping, avoid=pairs["avoid"], prefer=pairs["prefer"])

        imported: SurveyImport | None = None
        try:
            if survey is None or (survey == "detect" and is_roster(roster_path, columns)):
                loaded = load_roster(
                    roster_path, columns=columns, avoid=pairs["avoid"], prefer=pairs["prefer"]
                )
            else:
                given = None if survey in ("detect", "import") else _survey_mapping(survey)
                imported = survey_import(given)
                loaded = imported.roster
        except InputError as exc:
            raise named(exc) from None
        return loaded.model_copy(update={"source": roster.name}), imported


def history_pairs(history: Upload | None, ids: list[str]) -> dict[tuple[str, str], int] | None:
    """Pairs of learners who shared a team in earlier phases (``phase,id,team`` upload)."""
    if history is None:
        return None
    with tempfile.TemporaryDirectory(prefix="teamform-upload-") as tmp:
        path = Path(tmp) / history.name
        path.write_bytes(history.data)
        try:
            phases = load_history_csv(path, ids)
        except InputError as exc:
            raise InputError(
                exc.message, file=history.name, row=exc.row, column=exc.column
            ) from None
    return pair_counts(assignment for _, assignment in phases)


def _survey_mapping(text: str) -> SurveyMapping:
    return SurveyMapping.model_validate(parse_toml(text, "survey mapping"))


def _compile(
    roster: Roster, model: FormationModel, history: Mapping[tuple[str, str], int] | None
) -> Instance:
    """The instance of a session as a formation run today compiles it."""
    return build_instance(
        roster,
        model,
        history=history,
        today=date.today(),
        distances=model_distances(roster, model),
    )


def decode_upload(name: str, data: bytes) -> Upload:
    """Check an uploaded file (size, encoding), or raise a one-line error naming it."""
    name = Path(name).name or "upload.csv"
    check_size(len(data), MAX_UPLOAD, name)
    if not data.strip():
        raise InputError("empty file", file=name)
    if Path(name).suffix.lower() in EXCEL_SUFFIXES:
        if not data.startswith(b"PK\x03\x04"):
            raise InputError("not an Excel workbook (.xlsx)", file=name)
        return Upload(name, data)
    if "\x00" in decode_text(data, name):
        raise InputError("not a text file (contains NUL bytes)", file=name)
    return Upload(name, data)


@dataclass
class Job:
    """A solve running in a background thread."""

    kind: str
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    events: list[Progress] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str = ""

    def report(self, p: Progress) -> None:
        """The solver's progress callback (called from the solve thread)."""
        self.events.append(p)

    def elapsed(self) -> float:
        """Seconds since the solve started."""
        return time.monotonic() - self.started


@dataclass
class Loaded:
    """A session compiled for the engine, with its plan under edit."""

    row: SessionRow
    model: FormationModel
    roster: Roster
    inst: Instance
    board: Board | None
    solved: Result | None
    #: what the survey import made of the upload (None for a roster CSV)
    survey: SurveyImport | None = None
    #: pairs who shared a team in earlier phases (from an uploaded ``phase,id,team`` file)
    history: dict[tuple[str, str], int] | None = None


class Workspace:
    """All sessions of an app workspace (one directory, one SQLite file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = Store(root)
        self._cache: dict[str, Loaded] = {}
        self._jobs: dict[str, Job] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        """Stop running solves (keeping their best plans) and close the database."""
        for job in list(self._jobs.values()):
            job.cancel.set()
        for job in list(self._jobs.values()):
            job.done.wait(30)
        self.store.close()

    def _lock(self, sid: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(sid, threading.RLock())

    # -- sessions --------------------------------------------------------

    def create(
        self,
        roster: Upload,
        avoid: Upload | None,
        prefer: Upload | None,
        preset: str,
        *,
        model_toml: str | None = None,
        history: Upload | None = None,
    ) -> str:
        """Check the uploads against a preset (or a model's TOML) and store a new session."""
        if model_toml is None:
            texts = presets()
            if preset not in texts:
                raise InputError(f"unknown preset '{preset}' (choose {', '.join(sorted(texts))})")
            model_toml = texts[preset]
        model = FormationModel.from_toml_text(model_toml, source=f"{preset}.toml")
        columns = model.roster.columns
        loaded, imported = load_uploads(roster, avoid, prefer, columns, "detect")
        try:
            _compile(loaded, model, history_pairs(history, loaded.ids))
        except InputError:
            if imported is not None:
                raise
            # a roster with some headers of its own: the survey reader may place them
            try:
                loaded, imported = load_uploads(roster, avoid, prefer, columns, "import")
                _compile(loaded, model, history_pairs(history, loaded.ids))
            except InputError:
                imported = None
            if imported is None:
                raise
        return self.store.create(
            roster=roster,
            avoid=avoid,
            prefer=prefer,
            preset=preset,
            model_toml=model.to_toml(),
            survey_mapping=None if imported is None else imported.mapping.to_toml(),
            history=history,
        )

    def open_files(self, roster: Path, avoid: Path | None, prefer: Path | None, model: str) -> str:
        """A session on files from disk (``model``: preset name or TOML path).

        The same files and model reopen the session made from them before.
        """

        def read(path: Path | None) -> Upload | None:
            if path is None:
                return None
            try:
                return decode_upload(path.name, path.read_bytes())
            except OSError as exc:
                raise InputError(f"cannot read file ({exc.strerror})", file=str(path)) from None

        model_path = resolve_model_path(model)
        preset = model_path.stem
        text = read(model_path)
        assert text is not None
        model_toml = text.text
        ups = [read(roster), read(avoid), read(prefer)]
        assert ups[0] is not None
        for sid, *_ in self.store.sessions():
            row = self.store.get(sid)
            if row is not None and (row.roster, row.avoid, row.prefer, row.preset) == (
                ups[0],
                ups[1],
                ups[2],
                preset,
            ):
                return sid
        return self.create(ups[0], ups[1], ups[2], preset, model_toml=model_toml)

    def row(self, sid: str) -> SessionRow:
        """A stored session, or :class:`NotFound`."""
        row = self.store.get(sid)
        if row is None:
            raise NotFound(f"no session '{sid}'")
        return row

    def load(self, sid: str) -> Loaded:
        """The session compiled, with its board (rebuilt from the database when needed)."""
        with self._lock(sid):
            cached = self._cache.get(sid)
            if cached is not None:
                # every write goes through this object, which drops or refreshes the entry
                return cached
            row = self.row(sid)
            model = FormationModel.from_toml_text(row.model_toml, source="model.toml")
            roster, imported = load_uploads(
                row.roster, row.avoid, row.prefer, model.roster.columns, row.survey_mapping
            )
            pairs = history_pairs(row.history, roster.ids)
            inst = _compile(roster, model, pairs)
            board, solved = None, None
            if row.assignment is not None and row.result_json is not None:
                solved = Result.model_validate_json(row.result_json)
                board = _board(inst, row, solved)
            loaded = Loaded(row, model, roster, inst, board, solved, imported, pairs)
            self._cache[sid] = loaded
            return loaded

    def delete(self, sid: str) -> None:
        """Remove a session."""
        with self._lock(sid):
            self.row(sid)
            self._refuse_if_running(sid)
            self.store.delete(sid)
            self._cache.pop(sid, None)
            self._jobs.pop(sid, None)

    def headers(self, sid: str) -> list[str]:
        """The roster file's header row (a survey's columns, for survey exports)."""
        loaded = self.load(sid)
        if loaded.survey is not None:
            return list(loaded.survey.mapping.columns)
        return csv_header(loaded.row.roster)

    # -- the model -------------------------------------------------------

    def set_columns(self, sid: str, columns: Mapping[str, str]) -> None:
        """Use other roster headers for teamform's columns (the model's ``[roster.columns]``)."""
        with self._lock(sid):
            current = self.load(sid).model
            keep = {k: v for k, v in columns.items() if v and v != k}
            data = current.model_dump(exclude_none=True)
            data["roster"] = {"columns": keep}
            self._set_model(sid, FormationModel.from_dict(data, source="model"))

    def set_survey(self, sid: str, fields: Mapping[str, str]) -> None:
        """Apply the survey mapping form: each column's role and name, the default zone.

        Fields: ``header.N`` (a column as the survey spells it), ``role.N``,
        ``name.N``; ``default_timezone``. The survey is imported again with the
        new mapping before anything is stored.
        """
        with self._lock(sid):
            self._refuse_if_running(sid)
            loaded = self.load(sid)
            if loaded.survey is None:
                raise InputError("this session's roster is not a survey export")
            mapping = loaded.survey.mapping
            columns = dict(mapping.columns)
            for key, header in fields.items():
                if not key.startswith("header."):
                    continue
                n = key.removeprefix("header.")
                if header not in columns:
                    raise InputError(f"the survey has no column '{header}'")
                role = fields.get(f"role.{n}", columns[header].role)
                if role not in ROLES:
                    raise InputError(f"unknown role '{role}'", column=header)
                name = fields.get(f"name.{n}", "").strip() or None
                spec = columns[header]
                if role != spec.role or name != spec.name:
                    columns[header] = ColumnSpec.model_validate(
                        {**spec.model_dump(), "role": role, "name": name, "how": ""}
                    )
            zone = fields.get("default_timezone", "").strip() or None
            new = mapping.model_copy(update={"columns": columns, "default_timezone": zone})
            text = new.to_toml()
            row = loaded.row
            roster, _ = load_uploads(row.roster, row.avoid, row.prefer, {}, text)
            inst = _compile(roster, loaded.model, history_pairs(row.history, roster.ids))
            keep = row.assignment is not None and _fits(inst, row.assignment)
            self.store.set_survey_mapping(sid, text, keep_plan=keep)
            self._cache.pop(sid, None)

    def set_model_toml(self, sid: str, text: str) -> None:
        """Replace the model by TOML text (checked first)."""
        with self._lock(sid):
            self._set_model(sid, FormationModel.from_toml_text(text, source="model.toml"))

    def set_model_fields(self, sid: str, fields: Mapping[str, str]) -> None:
        """Apply the model form: team sizes and each criterion's switches and weight."""
        with self._lock(sid):
            data = self.load(sid).model.model_dump(exclude_none=True)
            team = data["team"]
            for key in ("size", "min", "max", "teams"):
                raw = fields.get(f"team.{key}", "").strip()
                if raw:
                    team[key] = _number(raw, f"team.{key}", integer=True)
                elif f"team.{key}" in fields:
                    team.pop(key, None)
            for name, crit in _criteria_tables(data["criteria"]):
                crit["enabled"] = fields.get(f"{name}.enabled") == "on"
                crit["hard"] = fields.get(f"{name}.hard") == "on"
                raw = fields.get(f"{name}.weight", "").strip()
                if raw:
                    crit["weight"] = _number(raw, f"{name}.weight")
                if "hours" in crit and fields.get(f"{name}.hours", "").strip():
                    crit["hours"] = _number(fields[f"{name}.hours"], f"{name}.hours")
            self._set_model(sid, FormationModel.from_dict(data, source="model"))

    def _set_model(self, sid: str, model: FormationModel) -> None:
        self._refuse_if_running(sid)
        row = self.row(sid)
        roster, _ = load_uploads(
            row.roster, row.avoid, row.prefer, model.roster.columns, row.survey_mapping
        )
        inst = _compile(roster, model, history_pairs(row.history, roster.ids))
        keep = row.assignment is not None and _fits(inst, row.assignment)
        self.store.set_model(sid, model.to_toml(), keep_plan=keep)
        self._cache.pop(sid, None)

    # -- solving ---------------------------------------------------------

    def job(self, sid: str) -> Job | None:
        """The session's current or last solve."""
        return self._jobs.get(sid)

    def solve(self, sid: str, *, time_limit: float, seed: int = 0, use_locks: bool = False) -> Job:
        """Start forming teams in a background thread; progress goes to the job."""
        if not 0 < time_limit <= MAX_TIME_LIMIT:
            raise InputError(f"time limit must lie in (0, {MAX_TIME_LIMIT:g}] seconds")
        with self._lock(sid):
            self._refuse_if_running(sid)
            loaded = self.load(sid)
            kwargs: dict[str, Any] = {}
            if use_locks:
                if loaded.board is None:
                    raise InputError("form teams first: there is no plan to keep parts of")
                kwargs["pins"] = _pins(loaded.board)
            job = Job(kind="reoptimise" if use_locks else "form")
            kwargs["cancel"] = job.cancel
            if loaded.history:
                kwargs["history"] = loaded.history
            self._jobs[sid] = job
        thread = threading.Thread(
            target=self._run,
            args=(sid, loaded, job, time_limit, seed, kwargs),
            name=f"teamform-solve-{sid}",
            daemon=True,
        )
        thread.start()
        return job

    def _run(
        self,
        sid: str,
        loaded: Loaded,
        job: Job,
        time_limit: float,
        seed: int,
        kwargs: dict[str, Any],
    ) -> None:
        try:
            result = form(
                loaded.roster,
                loaded.model,
                time_limit=time_limit,
                seed=seed,
                progress=job.report,
                **kwargs,
            )
        except TeamformError as exc:
            job.outcome = f"not formed: {exc}"
            self.store.set_message(sid, job.outcome)
        except Exception as exc:  # a crashed solve must not take the session with it
            job.outcome = f"the solve failed ({type(exc).__name__})"
            self.store.set_message(sid, job.outcome)
        else:
            job.outcome = _describe(result, job.cancel.is_set())
            if result.feasible:
                # a bound proven with locks holds for the locked problem only
                proven = None if "pins" in kwargs else result.bound
                self.save_result(sid, result, proven, job.outcome)
            else:
                self.store.set_message(sid, job.outcome)
        finally:
            with self._lock(sid):
                self._cache.pop(sid, None)
            job.done.set()

    def save_result(
        self, sid: str, result: Result, proven_bound: float | None, message: str = ""
    ) -> None:
        """Make a result the session's plan (edits are cleared; locks stay)."""
        with self._lock(sid):
            self.store.save_plan(
                sid, result.model_dump_json(), result.assignment, proven_bound, message
            )
            self._cache.pop(sid, None)

    def cancel(self, sid: str) -> bool:
        """Ask a running solve to stop and keep its best plan; False when none runs."""
        job = self._jobs.get(sid)
        if job is None or job.done.is_set():
            return False
        job.cancel.set()
        return True

    def _refuse_if_running(self, sid: str) -> None:
        job = self._jobs.get(sid)
        if job is not None and not job.done.is_set():
            raise Busy("a solve is running for this session; wait for it or cancel it")

    # -- editing the plan ------------------------------------------------

    def _board(self, sid: str) -> Loaded:
        loaded = self.load(sid)
        if loaded.board is None:
            raise InputError("form teams first: there is no plan yet")
        return loaded

    def _edit(self, sid: str, label: str, apply: Callable[[Board], Change]) -> Change:
        with self._lock(sid):
            self._refuse_if_running(sid)
            loaded = self._board(sid)
            board = loaded.board
            assert board is not None
            change = apply(board)
            if change.moved:
                self.store.record_move(sid, label, change.moved, board.assignment)
            self._refresh_row(sid, loaded)
            return change

    def move(self, sid: str, learner: str, team: int) -> Change:
        """Move a learner to a team and store the edit."""
        return self._edit(sid, "move", lambda b: b.move(learner, team))

    def swap(self, sid: str, a: str, b: str) -> Change:
        """Swap two learners and store the edit."""
        return self._edit(sid, "swap", lambda board: board.swap(a, b))

    def undo(self, sid: str) -> Change:
        """Take back the latest edit."""
        with self._lock(sid):
            self._refuse_if_running(sid)
            loaded = self._board(sid)
            board = loaded.board
            assert board is not None
            last = self.store.last_move(sid)
            if last is None:
                raise InputError("nothing to undo")
            change = board.place(
                {lid: old for lid, (old, _) in last.changes.items()}, respect_locks=False
            )
            self.store.undo(sid, last.seq, board.assignment)
            self._refresh_row(sid, loaded)
            return change

    def lock(
        self, sid: str, *, learner: str | None = None, team: int | None = None, locked: bool
    ) -> list[int]:
        """Lock or release a learner or a team; returns the team numbers whose cards change."""
        with self._lock(sid):
            self._refuse_if_running(sid)
            loaded = self._board(sid)
            board = loaded.board
            assert board is not None
            if learner is not None:
                board.lock_learner(learner, locked)
                touched = [board.team_of(learner)]
            elif team is not None:
                board.lock_team(team, locked)
                touched = [team]
            else:
                raise InputError("name a learner or a team to lock")
            self.store.set_locks(
                sid,
                [board.inst.ids[i] for i in board.locked_learners],
                [t + 1 for t in board.locked_teams],
            )
            self._refresh_row(sid, loaded)
            return touched

    def _refresh_row(self, sid: str, loaded: Loaded) -> None:
        """Keep the cached board: the database now matches it."""
        loaded.row = self.row(sid)

    # -- exports ---------------------------------------------------------

    def current_result(self, sid: str) -> Result:
        """The plan as it stands (edits included) as a full result."""
        loaded = self._board(sid)
        assert loaded.board is not None and loaded.solved is not None
        return loaded.board.result(loaded.solved)

    def export(self, sid: str, kind: str) -> tuple[bytes, str, str]:
        """``(content, media type, file name)`` of one export."""
        if kind == "model.toml":
            return self.row(sid).model_toml.encode(), "application/toml", "model.toml"
        result = self.current_result(sid)
        if kind == "teams.csv":
            return teams_csv(result.teams).encode(), "text/csv", "teams.csv"
        if kind == "result.json":
            return result.model_dump_json(indent=2).encode(), "application/json", "result.json"
        if kind == "report.html":
            return render_html(build_report(result)).encode(), "text/html", "report.html"
        if kind == "sheets.zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, text in render_sheets(build_report(result), "html").items():
                    zf.writestr(name, text)
            return buf.getvalue(), "application/zip", "sheets.zip"
        raise NotFound(f"no export '{kind}'")

    def export_lms(self, sid: str, fmt: str, options: Mapping[str, str]) -> tuple[bytes, str, str]:
        """The plan as an LMS group import (:func:`teamform.lms.export_lms`).

        One file comes back as CSV; Moodle's and Blackboard's two files as a zip.
        """
        loaded = self._board(sid)
        result = self.current_result(sid)
        with tempfile.TemporaryDirectory(prefix="teamform-lms-") as tmp:
            try:
                written = export_lms(
                    result,
                    loaded.roster,
                    fmt,
                    Path(tmp) / f"{fmt}.csv",
                    user_column=options.get("user_column") or "id",
                    pattern=options.get("team_name") or DEFAULT_PATTERN,
                    canvas_field=options.get("canvas_field") or "login_id",
                    course=options.get("course") or None,
                    group_set=options.get("group_set") or None,
                )
            except InputError as exc:
                # the form's field names, not the command line's options
                column = (exc.column or "").removeprefix("--").replace("-", "_") or None
                raise InputError(exc.message, file=exc.file, row=exc.row, column=column) from None
            if len(written) == 1:
                return written[0].read_bytes(), "text/csv", written[0].name
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in written:
                    zf.write(path, path.name)
            return buf.getvalue(), "application/zip", f"{fmt}.zip"


def _criteria_tables(criteria: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each criterion table of a model dump, named as the model form names it."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, value in criteria.items():
        if isinstance(value, dict):
            out.append((name, value))
        elif isinstance(value, list):
            out.extend((f"{name}.{i}", item) for i, item in enumerate(value))
    return out


def _number(raw: str, key: str, *, integer: bool = False) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"'{raw}' is not a number", column=key) from None
    if integer:
        if value != int(value):
            raise InputError(f"'{raw}' is not a whole number", column=key)
        return int(value)
    return value


def _fits(inst: Instance, assignment: Mapping[str, int]) -> bool:
    return set(assignment) == set(inst.ids) and all(1 <= t <= inst.k for t in assignment.values())


def _board(inst: Instance, row: SessionRow, solved: Result) -> Board | None:
    assert row.assignment is not None
    if not _fits(inst, row.assignment):
        return None
    terms = build_terms(inst)
    project = next((t for t in terms if isinstance(t, ProjectTerm)), None)
    if project is not None:
        # each team keeps the project the solve gave it; moves only change members
        index = {name: p for p, name in enumerate(project.data.names)}
        for summary in solved.teams:
            if summary.project in index and 1 <= summary.team <= inst.k:
                project.assigned[summary.team - 1] = index[summary.project]
    board = Board(
        inst,
        [row.assignment[lid] - 1 for lid in inst.ids],
        terms=terms,
        solver_bound=row.proven_bound,
    )
    for lid in row.locked_learners:
        if lid in board.index:
            board.lock_learner(lid)
    for team in row.locked_teams:
        if 1 <= team <= inst.k:
            board.lock_team(team)
    return board


def _pins(board: Board) -> Pins:
    """The board's locks as the engine's pins: locked learners stay, locked teams stay whole."""
    locks = board.locks()
    if not locks.learners:
        raise InputError("lock a learner or a team first: nothing would be kept")
    return Pins(teams=locks.learners, fixed=sorted(locks.teams), source="locks")


def _describe(result: Result, cancelled: bool) -> str:
    if not result.feasible:
        why = (result.conflicts or result.violations or ["no assignment meets every hard rule"])[0]
        return f"no plan: {why}"
    text = (
        f"{result.status.value}: objective {result.objective:.2f}, bound {result.bound:.2f}, "
        f"gap {100 * (result.gap or 0):.1f} % in {result.runtime:.1f} s"
    )
    return text + (" (stopped early: best plan so far)" if cancelled else "")
