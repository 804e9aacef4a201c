"""Many formations at once: one job per roster, or per section of one roster.

Jobs come from a ``JOBS.toml`` file or a directory of rosters (see
:func:`load_jobs`) and run in parallel on a local process pool, in this
process one after the other, or on a Ray cluster (:func:`form_many`). Each
job reads its input files once, in the process that plans the batch, and
ships their bytes to the worker, so a cluster's nodes need no shared file
system; the worker sends back the teams CSV and the result JSON, which are
written here, atomically, under ``OUT/<job name>/``.

A job is done when ``OUT/<job name>/job.json`` holds the key of its inputs: a
hash of the roster, pair and pin files, the model, the section, the seed, the
limits and the teamform version. Rerunning a batch skips done jobs; a job
killed halfway left no ``job.json`` (or one with another key) and runs again.
A job with bad input or an infeasible model is reported and the others carry
on; an infeasible job is an answer and counts as done, bad input does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teamform.errors import InputError, TeamformError
from teamform.files import (
    MAX_TOML_CHARS,
    decode_text,
    parse_toml,
    read_text,
    safe_cell,
    write_atomic,
)
from teamform.result import teams_csv

Engine = Literal["process", "serial", "ray"]
JobStatus = Literal["optimal", "feasible", "infeasible", "unknown", "error"]
#: The file in a job's output directory that marks it done, written last.
DONE_FILE = "job.json"
_NAME_OK = re.compile(r"[^A-Za-z0-9._-]+")


class JobOptions(BaseModel):
    """Settings a job takes from ``[defaults]`` unless it sets its own."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="preset name or model TOML path")
    time_limit: float = Field(default=10.0, gt=0, description="seconds per job")
    seed: int = 0
    workers: int = Field(default=1, ge=1, description="CP-SAT threads per job")
    strategy: Literal["auto", "exact", "lns"] = "auto"
    deterministic: bool = False
    reference_date: date | None = None


class Job(JobOptions):
    """One formation: a roster (or one section of it) under a model.

    Paths are absolute or relative to the jobs file's directory.
    """

    name: str | None = Field(default=None, description="default: the roster's file name")
    roster: Path
    avoid: Path | None = None
    prefer: Path | None = None
    pins: Path | None = None
    section: str | None = Field(default=None, description="form this section of the roster")
    by_section: bool = Field(default=False, description="one job per section of the roster")


class JobResult(BaseModel):
    """What became of one job."""

    name: str
    key: str
    status: JobStatus
    cached: bool = Field(default=False, description="done by an earlier run with the same key")
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    n_learners: int = 0
    n_teams: int = 0
    runtime: float = Field(default=0.0, description="seconds the job took in its worker")
    error: str | None = Field(default=None, description="the one-line error, or the conflict")
    teams: str | None = Field(default=None, description="teams CSV, relative to the output dir")
    result: str | None = Field(default=None, description="result JSON, relative to the output dir")

    @property
    def ok(self) -> bool:
        """Whether the job formed teams that meet every hard rule."""
        return self.status in ("optimal", "feasible")


@dataclass
class Payload:
    """A job ready to run anywhere: its settings and the bytes of its files."""

    name: str
    key: str
    options: dict[str, Any]
    section: str | None
    #: kind (roster, avoid, prefer, pins, model) to (path as the user gave it, bytes)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    #: a problem found while planning (a file that cannot be read): the job's answer
    error: str | None = None


@dataclass
class Outcome:
    """What a worker sends back."""

    result: JobResult
    teams_csv: str | None = None
    result_json: str | None = None


# --------------------------------------------------------------------- reading jobs


def load_jobs(source: str | Path, defaults: JobOptions | None = None) -> list[Job]:
    """The jobs of a ``JOBS.toml`` file or of a directory of rosters.

    A TOML file has an optional ``[defaults]`` table (any :class:`JobOptions`
    key) and a ``[[jobs]]`` array (:class:`Job` keys). A directory holds one
    job per ``NAME.csv`` (with optional ``NAME.avoid.csv``, ``NAME.prefer.csv``,
    ``NAME.pins.csv`` and ``NAME.toml`` beside it) and one per subdirectory
    holding ``roster.csv`` (with ``avoid.csv``, ``prefer.csv``, ``pins.csv``,
    ``model.toml``), as ``teamform generate`` writes. ``defaults`` (e.g. from
    command-line options) fill what the file or directory leaves unset.

    Raises
    ------
    InputError
        When the file or directory cannot be read or a job is malformed.
    """
    path = Path(source)
    base = defaults or JobOptions()
    if path.is_dir():
        jobs = _jobs_of_directory(path, base)
    elif path.exists():
        jobs = _jobs_of_toml(path, base)
    else:
        raise InputError("file or directory not found", file=str(path))
    if not jobs:
        raise InputError("no jobs: no [[jobs]] entries or rosters found", file=str(path))
    return jobs


def _jobs_of_toml(path: Path, base: JobOptions) -> list[Job]:
    data = parse_toml(read_text(path, MAX_TOML_CHARS), str(path))
    unknown = sorted(set(data) - {"defaults", "jobs"})
    if unknown:
        raise InputError(
            f"unknown table '{unknown[0]}' (expected [defaults] and [[jobs]])", file=str(path)
        )
    try:
        given = JobOptions.model_validate(data.get("defaults", {}))
    except ValidationError as exc:
        raise InputError(_pydantic_message(exc, "defaults"), file=str(path)) from None
    merged = {**base.model_dump(exclude_unset=True), **given.model_dump(exclude_unset=True)}
    entries = data.get("jobs", [])
    if not isinstance(entries, list):
        raise InputError("'jobs' must be an array of tables ([[jobs]])", file=str(path))
    jobs = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InputError(f"jobs entry {i} is not a table", file=str(path))
        try:
            job = Job.model_validate({**merged, **entry})
        except ValidationError as exc:
            raise InputError(_pydantic_message(exc, f"jobs[{i}]"), file=str(path)) from None
        jobs.append(_relative_to(job, path.parent))
    return jobs


def _pydantic_message(exc: ValidationError, where: str) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    return f"{where}.{key}: {err['msg']}" if key else f"{where}: {err['msg']}"


def _relative_to(job: Job, base: Path) -> Job:
    """Paths of a jobs file are relative to its directory."""

    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    update: dict[str, Any] = {
        k: fix(getattr(job, k)) for k in ("roster", "avoid", "prefer", "pins")
    }
    if job.model is not None and (base / job.model).is_file():
        update["model"] = str(base / job.model)
    return job.model_copy(update=update)


def _jobs_of_directory(path: Path, base: JobOptions) -> list[Job]:
    opts = base.model_dump()

    def job(name: str, roster: Path, siblings: dict[str, Path], model: Path) -> Job:
        data: dict[str, Any] = {**opts, "name": name, "roster": roster}
        data.update({k: p for k, p in siblings.items() if p.exists()})
        if model.exists():
            data["model"] = str(model)
        return Job.model_validate(data)

    kinds = ("avoid", "prefer", "pins")
    jobs = [
        job(sub.name, sub / "roster.csv", {k: sub / f"{k}.csv" for k in kinds}, sub / "model.toml")
        for sub in sorted(p for p in path.iterdir() if p.is_dir() and (p / "roster.csv").exists())
    ]
    for csv_path in sorted(path.glob("*.csv")):
        stem = csv_path.name[: -len(".csv")]
        if stem.endswith(tuple(f".{k}" for k in kinds)):
            continue
        siblings = {k: path / f"{stem}.{k}.csv" for k in kinds}
        jobs.append(job(stem, csv_path, siblings, path / f"{stem}.toml"))
    return jobs


# --------------------------------------------------------------------- planning


def job_name(job: Job, section: str | None = None) -> str:
    """A job's name as a directory name: its own, or the roster's, plus the section."""
    name = job.name or job.roster.stem
    if section is not None:
        name = f"{name}-{section}"
    return _NAME_OK.sub("_", name).strip("._") or "job"


def plan(jobs: Sequence[Job]) -> list[Payload]:
    """Read every job's files and compute its key; split ``by_section`` jobs.

    Raises
    ------
    InputError
        For a problem with the batch as a whole (two jobs of the same name).
        A problem with one job's files is that job's error, reported when it
        runs.
    """
    from teamform import __version__

    payloads: list[Payload] = []
    for job in jobs:
        files: dict[str, tuple[str, bytes]] = {}
        errors: list[str] = []
        for kind in ("roster", "avoid", "prefer", "pins"):
            p = getattr(job, kind)
            if p is not None:
                files[kind] = (str(p), _read_bytes(p, errors))
        if job.model is None:
            errors.append("no model: give one in the job, in [defaults] or with --model")
        else:
            model_path = _model_path(job.model, errors)
            if model_path is not None:
                files["model"] = (str(model_path), _read_bytes(model_path, errors))
        options = job.model_dump(
            include={"time_limit", "seed", "workers", "strategy", "deterministic"}
        )
        options["reference_date"] = (
            None if job.reference_date is None else job.reference_date.isoformat()
        )
        sections: list[str | None] = [job.section]
        if job.by_section and not errors:
            if job.pins is not None:
                errors.append("pins cannot be split by section: give one job per section")
            else:
                column = _section_column(files["model"])
                sections = _sections(files["roster"][1], column) or [None]
        for section in sections:
            name = job_name(job, section)
            key = _key(files, options, section, __version__)
            error = errors[0] if errors else None
            payloads.append(Payload(name, key, dict(options), section, dict(files), error))
    seen: set[str] = set()
    for p in payloads:
        if p.name in seen:
            raise InputError(f"two jobs are named '{p.name}': give them distinct names")
        seen.add(p.name)
    return payloads


def _read_bytes(path: Path, errors: list[str]) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        errors.append(f"{path}: file not found")
    except OSError as exc:
        errors.append(f"{path}: cannot read file ({exc.strerror or exc})")
    return b""


def _model_path(spec: str, errors: list[str]) -> Path | None:
    from teamform.presets import resolve_model_path

    try:
        return resolve_model_path(spec)
    except InputError as exc:
        errors.append(str(exc))
        return None


def _section_column(model: tuple[str, bytes]) -> str:
    """The roster header that holds the section, as the model maps it."""
    from teamform.model import FormationModel

    try:
        text = decode_text(model[1], model[0])
        return FormationModel.from_toml_text(text, source=model[0]).roster.columns.get(
            "section", "section"
        )
    except InputError:
        return "section"  # the job's own run reports a bad model


def _sections(roster: bytes, column: str = "section") -> list[str | None]:
    """Section names of a roster, sorted (read as the roster reader reads it)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.csv"
        path.write_bytes(roster)
        from teamform.roster import _read_csv

        try:
            header, rows = _read_csv(path)
        except InputError:
            return []  # the job's own run reports the problem
    if column not in header:
        return []
    names = sorted({row.get(column) or "" for _, row in rows})
    return [n or None for n in names]


def _key(
    files: dict[str, tuple[str, bytes]],
    options: dict[str, Any],
    section: str | None,
    version: str,
) -> str:
    digest = hashlib.sha256()
    record = {
        "version": version,
        "files": {k: hashlib.sha256(data).hexdigest() for k, (_, data) in sorted(files.items())},
        "options": options,
        "section": section,
    }
    digest.update(json.dumps(record, sort_keys=True).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------- running one job


def run_payload(payload: Payload) -> Outcome:
    """Run one job (in whichever process or node it lands on)."""
    from teamform import __version__

    begin = time.perf_counter()

    def failed(status: JobStatus, message: str) -> Outcome:
        return Outcome(
            JobResult(
                name=payload.name,
                key=payload.key,
                status=status,
                error=message,
                runtime=time.perf_counter() - begin,
            )
        )

    if payload.error is not None:
        return failed("error", payload.error)
    try:
        with _materialised(payload.files) as (paths, rename):
            try:
                result = _solve(payload, paths)
            except TeamformError as exc:
                return failed("error", rename(str(exc)))
    except Exception as exc:  # a worker must answer, whatever happened
        return failed("error", f"unexpected error: {type(exc).__name__}: {exc}")
    status: JobStatus = "infeasible"
    if result.feasible:
        status = "optimal" if result.status.value == "optimal" else "feasible"
    elif result.status.value == "unknown":
        status = "unknown"
    summary = JobResult(
        name=payload.name,
        key=payload.key,
        status=status,
        objective=result.objective,
        bound=result.bound,
        gap=result.gap,
        n_learners=result.n_learners,
        n_teams=result.n_teams,
        runtime=time.perf_counter() - begin,
        error=None if result.feasible else "; ".join(result.conflicts or result.violations),
    )
    data = json.loads(result.model_dump_json())
    data["batch"] = {"job": payload.name, "key": payload.key, "version": __version__}
    return Outcome(
        summary,
        teams_csv=teams_csv(result.teams) if result.feasible else None,
        result_json=json.dumps(data, indent=2),
    )


def _solve(payload: Payload, paths: dict[str, Path]) -> Any:
    from teamform.model import FormationModel
    from teamform.pins import Pins
    from teamform.roster import load_roster
    from teamform.solve import form

    opts = payload.options
    name, data = payload.files["model"]
    model = FormationModel.from_toml_text(decode_text(data, name), source=name)
    if opts["reference_date"] is not None:
        model = model.with_reference_date(date.fromisoformat(opts["reference_date"]))
    roster = load_roster(
        paths["roster"],
        avoid=paths.get("avoid"),
        prefer=paths.get("prefer"),
        columns=model.roster.columns,
    )
    if payload.section is not None:
        roster = _section_of(roster, payload.section)
    pins = Pins.from_csv(paths["pins"]) if "pins" in paths else None
    return form(
        roster,
        model,
        time_limit=opts["time_limit"],
        seed=opts["seed"],
        workers=opts["workers"],
        strategy=opts["strategy"],
        deterministic=opts["deterministic"],
        pins=pins,
    )


def _section_of(roster: Any, section: str) -> Any:
    """The learners of one section, with the pairs among them."""
    from teamform.roster import Roster

    learners = tuple(lr for lr in roster.learners if (lr.section or "") == section)
    if not learners:
        raise InputError(f"no learner in section '{section}'", file=roster.source)
    ids = {lr.id for lr in learners}
    return Roster(
        learners=learners,
        avoid=tuple(p for p in roster.avoid if p[0] in ids and p[1] in ids),
        prefer=tuple(p for p in roster.prefer if p[0] in ids and p[1] in ids),
        source=roster.source,
    )


class _materialised:
    """The payload's files written to a temporary directory; errors renamed back."""

    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        self.files = files
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> tuple[dict[str, Path], Callable[[str], str]]:
        self.tmp = tempfile.TemporaryDirectory(prefix="teamform-job-")
        paths: dict[str, Path] = {}
        names: dict[str, str] = {}
        for kind, (original, data) in self.files.items():
            suffix = Path(original).suffix or ".csv"
            path = Path(self.tmp.name) / f"{kind}{suffix}"
            path.write_bytes(data)
            paths[kind] = path
            names[str(path)] = original

        def rename(message: str) -> str:
            for tmp_name, original in names.items():
                message = message.replace(tmp_name, original)
            return message

        return paths, rename

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


# --------------------------------------------------------------------- running a batch


def default_parallel(workers_per_job: int = 1) -> int:
    """Jobs to run at once: the cores this process may use, over each job's threads."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers_per_job))


def done_result(out_dir: Path, payload: Payload) -> JobResult | None:
    """The recorded result of a job already done with the same key, if any."""
    marker = out_dir / payload.name / DONE_FILE
    try:
        recorded = JobResult.model_validate_json(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if recorded.key != payload.key:
        return None
    # the files the marker points at must still be there
    for rel in (recorded.teams, recorded.result):
        if rel is not None and not (out_dir / rel).exists():
            return None
    return recorded.model_copy(update={"cached": True})


def record(out_dir: Path, outcome: Outcome) -> JobResult:
    """Write a job's files atomically, the done marker last; bad input is not done."""
    res = outcome.result
    job_dir = out_dir / res.name
    if outcome.teams_csv is not None:
        write_atomic(job_dir / "teams.csv", outcome.teams_csv)
        res.teams = f"{res.name}/teams.csv"
    if outcome.result_json is not None:
        write_atomic(job_dir / "result.json", outcome.result_json)
        res.result = f"{res.name}/result.json"
    marker = job_dir / DONE_FILE
    if res.status == "error":
        marker.unlink(missing_ok=True)
    else:
        write_atomic(marker, res.model_dump_json(indent=2))
    return res


def form_many(
    jobs: Sequence[Job],
    out_dir: str | Path,
    *,
    engine: Engine = "process",
    parallel: int | None = None,
    address: str | None = None,
    force: bool = False,
    on_start: Callable[[list[str]], None] | None = None,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run many formations and write each one's teams and result under ``out_dir``.

    Parameters
    ----------
    jobs
        From :func:`load_jobs`, or built directly.
    out_dir
        Results go to ``out_dir/<job name>/`` (``teams.csv``, ``result.json``,
        ``job.json``), and a summary to ``out_dir/summary.csv``.
    engine
        ``process`` (a local process pool), ``serial`` (this process, one job
        after the other) or ``ray`` (a Ray cluster: ``pip install teamform[ray]``).
    parallel
        Jobs at once on the process pool (default: the usable cores divided
        by the CP-SAT threads of a job, so that threads do not compete).
    address
        Ray cluster address (``ray://host:10001`` or ``host:6379``; default: a
        running Ray instance in this process, or a new local one).
    force
        Run every job, even those done already with the same key.
    on_start
        Called with the names of every job once the batch is planned.
    on_result
        Called with each job's result as it arrives (cached ones first).

    Returns
    -------
    list of JobResult
        In the order of the jobs (a ``by_section`` job gives one per section).
    """
    out = Path(out_dir)
    payloads = plan(jobs)
    results: dict[str, JobResult] = {}
    if on_start is not None:
        on_start([p.name for p in payloads])

    def arrived(res: JobResult) -> None:
        results[res.name] = res
        if on_result is not None:
            on_result(res)

    todo = []
    for p in payloads:
        cached = None if force else done_result(out, p)
        if cached is not None:
            arrived(cached)
        else:
            todo.append(p)
    for outcome in _run(todo, engine, parallel, address):
        arrived(record(out, outcome))
    ordered = [results[p.name] for p in payloads]
    write_summary(out, ordered)
    return ordered


def _run(
    payloads: list[Payload], engine: Engine, parallel: int | None, address: str | None
) -> Iterator[Outcome]:
    if not payloads:
        return
    if engine == "serial":
        for p in payloads:
            yield run_payload(p)
    elif engine == "process":
        yield from _run_pool(payloads, parallel)
    elif engine == "ray":
        from teamform.batch_ray import run_on_ray

        yield from run_on_ray(payloads, address, run_payload, failed_outcome)
    else:
        raise InputError(f"unknown engine '{engine}' (expected process, serial or ray)")


def _run_pool(payloads: list[Payload], parallel: int | None) -> Iterator[Outcome]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    threads = max(int(p.options.get("workers", 1)) for p in payloads)
    size = min(len(payloads), parallel or default_parallel(threads))
    if size <= 1:
        for p in payloads:
            yield run_payload(p)
        return
    # spawn: a fresh interpreter per worker, not a fork of a process holding threads
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=size, mp_context=context)
    try:
        # submit a few ahead of the workers, not all: a large batch stays cheap to cancel
        queue = iter(payloads)
        running: dict[Future[Outcome], Payload] = {}
        lost: list[Payload] = []

        def submit(p: Payload) -> None:
            try:
                running[pool.submit(run_payload, p)] = p
            except BrokenProcessPool:  # a worker died and took the pool with it
                lost.append(p)

        for p in queue:
            submit(p)
            if len(running) + len(lost) >= 2 * size:
                break
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                p = running.pop(fut)
                try:
                    yield fut.result()
                except Exception as exc:  # the worker process died
                    yield failed_outcome(p, f"worker failed: {type(exc).__name__}: {exc}")
                nxt = next(queue, None)
                if nxt is not None:
                    submit(nxt)
        for p in [*lost, *queue]:
            yield failed_outcome(p, "not run: a worker process died and the pool stopped")
    finally:
        # interrupted: jobs not started yet are dropped, running ones end within their limit
        pool.shutdown(wait=True, cancel_futures=True)


def failed_outcome(p: Payload, message: str) -> Outcome:
    return Outcome(JobResult(name=p.name, key=p.key, status="error", error=message))


def write_summary(out_dir: Path, results: Sequence[JobResult]) -> None:
    """``summary.csv`` (one row a job, safe to open in a spreadsheet) and ``summary.json``."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    cols = ["name", "status", "cached", "n_learners", "n_teams", "objective", "bound", "gap"]
    writer.writerow([*cols, "runtime", "error"])
    for r in results:
        row = [getattr(r, c) for c in cols]
        writer.writerow(
            [safe_cell(str(v)) if isinstance(v, str) else v for v in row]
            + [round(r.runtime, 3), safe_cell(r.error or "")]
        )
    write_atomic(out_dir / "summary.csv", buf.getvalue())
    write_atomic(
        out_dir / "summary.json",
        json.dumps([r.model_dump() for r in results], indent=2),
    )
