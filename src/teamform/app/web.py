"""HTTP routes of the tutors' app: pages (Jinja2) and a small JSON API for the board.

Pages are plain HTML forms; the board's drag-and-drop, live progress and
locks use ``static/app.js``, which posts JSON and swaps in team cards the
server rendered (so every name is escaped by the template engine, never by
script). Everything is served from the package: the pages load nothing from
the network, and a strict Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from teamform.app.service import (
    MAX_UPLOAD,
    Busy,
    Loaded,
    NotFound,
    Workspace,
    decode_upload,
    presets,
)
from teamform.app.store import Upload
from teamform.board import Change
from teamform.errors import InputError, TeamformError
from teamform.lms import LMS_FORMATS
from teamform.report.compliance import score_class, team_view
from teamform.roster import KNOWN_COLUMNS, REQUIRED_COLUMNS
from teamform.survey import ROLES

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The downloaded report keeps its own inline styles and charts, and nothing else.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
EXPORTS = ("teams.csv", "result.json", "report.html", "sheets.zip", "model.toml")
log = logging.getLogger("teamform.app")


class MoveBody(BaseModel):
    learner: str = Field(max_length=200)
    team: int


class SwapBody(BaseModel):
    a: str = Field(max_length=200)
    b: str = Field(max_length=200)


class LockBody(BaseModel):
    learner: str | None = Field(default=None, max_length=200)
    team: int | None = None
    locked: bool = True


class SolveBody(BaseModel):
    time_limit: float = 10.0
    seed: int = 0


def create_app(
    workspace: Path,
    *,
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
) -> FastAPI:
    """The app over a workspace directory (created if missing).

    Parameters
    ----------
    workspace
        Where sessions are kept (``app.db``).
    allowed_hosts
        Host names the app answers to; anything else (a DNS-rebinding page) gets 400.
    """
    ws = Workspace(workspace)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ws.close()

    app = FastAPI(
        title="teamform", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.workspace = ws
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(score_class=score_class, exports=EXPORTS)
    templates.env.filters["num"] = lambda v: "-" if v is None else f"{v:.2f}"
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if host not in allowed_hosts:
            return Response("unknown host", status_code=400, media_type="text/plain")
        if request.method not in ("GET", "HEAD"):
            # a page elsewhere must not drive the app through the tutor's browser
            site = request.headers.get("sec-fetch-site")
            origin = request.headers.get("origin")
            foreign = site is not None and site not in ("same-origin", "none")
            if foreign or (origin and urlsplit(origin).netloc != request.headers.get("host")):
                return Response("cross-site request refused", status_code=403)
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > 3 * MAX_UPLOAD:
                return _error_page(templates, request, "upload too large", 413)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    # -- pages -----------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return page(request, "index.html", sessions=ws.store.sessions(), presets=sorted(presets()))

    @app.post("/sessions")
    async def create_session(
        request: Request,
        roster: UploadFile,
        preset: str = Form(max_length=100),
        avoid: UploadFile | None = None,
        prefer: UploadFile | None = None,
        history: UploadFile | None = None,
    ) -> Response:
        try:
            files = [await _read_upload(f) for f in (roster, avoid, prefer, history)]
            if files[0] is None:
                raise InputError("choose a roster file to upload")
            sid = ws.create(files[0], files[1], files[2], preset, history=files[3])
        except TeamformError as exc:
            return page(
                request,
                "index.html",
                400,
                sessions=ws.store.sessions(),
                presets=sorted(presets()),
                error=str(exc),
            )
        log.info("session %s created", sid)
        return RedirectResponse(f"/sessions/{sid}", status_code=303)

    @app.get("/sessions/{sid}", response_class=HTMLResponse)
    def session_page(request: Request, sid: str) -> HTMLResponse:
        try:
            loaded = ws.load(sid)
        except NotFound as exc:
            return _error_page(templates, request, str(exc), 404)
        except TeamformError as exc:
            return _error_page(templates, request, str(exc), 400)
        return page(request, "session.html", **_session_context(ws, loaded))

    @app.post("/sessions/{sid}/columns")
    async def set_columns(request: Request, sid: str) -> Response:
        form = await request.form()
        columns = {k.removeprefix("col."): str(v) for k, v in form.items() if k.startswith("col.")}
        return _apply(request, sid, lambda: ws.set_columns(sid, columns))

    @app.post("/sessions/{sid}/survey")
    async def set_survey(request: Request, sid: str) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        return _apply(request, sid, lambda: ws.set_survey(sid, fields))

    @app.post("/sessions/{sid}/model")
    async def set_model(request: Request, sid: str) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        if "toml" in fields:
            return _apply(request, sid, lambda: ws.set_model_toml(sid, fields["toml"]))
        return _apply(request, sid, lambda: ws.set_model_fields(sid, fields))

    @app.post("/sessions/{sid}/delete")
    def delete_session(request: Request, sid: str) -> Response:
        try:
            ws.delete(sid)
        except NotFound as exc:
            return _error_page(templates, request, str(exc), 404)
        except TeamformError as exc:
            return _error_page(templates, request, str(exc), 409)
        return RedirectResponse("/", status_code=303)

    @app.get("/sessions/{sid}/export/{kind}")
    def export(request: Request, sid: str, kind: str) -> Response:
        try:
            content, media, filename = ws.export(sid, kind)
        except NotFound as exc:
            return _error_page(templates, request, str(exc), 404)
        except TeamformError as exc:
            return _error_page(templates, request, str(exc), 400)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if kind == "report.html":
            headers["Content-Security-Policy"] = REPORT_CSP
        return Response(content, media_type=media, headers=headers)

    def refused(request: Request, sid: str, exc: TeamformError) -> Response:
        # the session's page again, with what was wrong
        loaded = ws.load(sid)
        return page(request, "session.html", 400, error=str(exc), **_session_context(ws, loaded))

    @app.get("/sessions/{sid}/export-lms")
    def export_lms(request: Request, sid: str) -> Response:
        params = dict(request.query_params)
        try:
            content, media, filename = ws.export_lms(sid, params.get("format", ""), params)
        except NotFound as exc:
            return _error_page(templates, request, str(exc), 404)
        except TeamformError as exc:
            return refused(request, sid, exc)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(content, media_type=media, headers=headers)

    def _apply(request: Request, sid: str, action: Callable[[], None]) -> Response:
        try:
            action()
        except NotFound as exc:
            return _error_page(templates, request, str(exc), 404)
        except TeamformError as exc:
            return refused(request, sid, exc)
        return RedirectResponse(f"/sessions/{sid}", status_code=303)

    # -- the board API ---------------------------------------------------

    def cards(loaded: Loaded, teams: list[int]) -> dict[str, str]:
        tmpl = templates.env.get_template("_card.html")
        ctx = _board_context(loaded)
        return {str(t): tmpl.render(card=_card(loaded, t), **ctx) for t in teams}

    def board_reply(sid: str, teams: list[int], change: Change | None = None) -> JSONResponse:
        loaded = ws.load(sid)
        board = loaded.board
        assert board is not None
        totals = templates.env.get_template("_totals.html").render(**_board_context(loaded))
        return JSONResponse(
            {
                "cards": cards(loaded, teams),
                "totals": totals,
                "objective": board.totals().objective,
                "valid": board.totals().valid,
                "moved": {} if change is None else {k: list(v) for k, v in change.moved.items()},
                "broken": [] if change is None else change.broken,
                "undo": loaded.row.moves > 0,
            }
        )

    def api(action: Callable[[], JSONResponse]) -> JSONResponse:
        try:
            return action()
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except Busy as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except TeamformError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    @app.get("/api/sessions/{sid}/board")
    def get_board(sid: str) -> JSONResponse:
        def run() -> JSONResponse:
            loaded = ws.load(sid)
            if loaded.board is None:
                raise InputError("form teams first: there is no plan yet")
            totals = loaded.board.totals()
            return JSONResponse(
                {
                    "objective": totals.objective,
                    "bound": totals.bound,
                    "gap": totals.gap,
                    "valid": totals.valid,
                    "violations": totals.violations,
                    "assignment": loaded.board.assignment,
                    "team_objectives": {
                        str(t): loaded.board.team_objective(t) for t in range(1, loaded.inst.k + 1)
                    },
                    "locks": {
                        "learners": sorted(
                            loaded.board.inst.ids[i] for i in loaded.board.locked_learners
                        ),
                        "teams": sorted(t + 1 for t in loaded.board.locked_teams),
                    },
                    "moves": loaded.row.moves,
                }
            )

        return api(run)

    @app.post("/api/sessions/{sid}/move")
    def move(sid: str, body: MoveBody) -> JSONResponse:
        def run() -> JSONResponse:
            change = ws.move(sid, body.learner, body.team)
            return board_reply(sid, change.refreshed, change)

        return api(run)

    @app.post("/api/sessions/{sid}/swap")
    def swap(sid: str, body: SwapBody) -> JSONResponse:
        def run() -> JSONResponse:
            change = ws.swap(sid, body.a, body.b)
            return board_reply(sid, change.refreshed, change)

        return api(run)

    @app.post("/api/sessions/{sid}/undo")
    def undo(sid: str) -> JSONResponse:
        def run() -> JSONResponse:
            change = ws.undo(sid)
            return board_reply(sid, change.refreshed, change)

        return api(run)

    @app.post("/api/sessions/{sid}/lock")
    def lock(sid: str, body: LockBody) -> JSONResponse:
        def run() -> JSONResponse:
            teams = ws.lock(sid, learner=body.learner, team=body.team, locked=body.locked)
            return board_reply(sid, teams)

        return api(run)

    def start(sid: str, body: SolveBody, use_locks: bool) -> JSONResponse:
        def run() -> JSONResponse:
            job = ws.solve(sid, time_limit=body.time_limit, seed=body.seed, use_locks=use_locks)
            log.info("session %s: %s started", sid, job.kind)
            return JSONResponse({"started": job.kind}, status_code=202)

        return api(run)

    @app.post("/api/sessions/{sid}/solve")
    def solve(sid: str, body: SolveBody) -> JSONResponse:
        return start(sid, body, False)

    @app.post("/api/sessions/{sid}/reoptimise")
    def reoptimise(sid: str, body: SolveBody) -> JSONResponse:
        return start(sid, body, True)

    @app.post("/api/sessions/{sid}/cancel")
    def cancel(sid: str) -> JSONResponse:
        def run() -> JSONResponse:
            ws.row(sid)
            return JSONResponse({"cancelled": ws.cancel(sid)})

        return api(run)

    @app.get("/api/sessions/{sid}/events")
    async def events(sid: str) -> Response:
        from fastapi.responses import StreamingResponse

        try:
            ws.row(sid)
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

        async def stream() -> AsyncIterator[str]:
            job = ws.job(sid)
            sent = 0
            while job is not None:
                while sent < len(job.events):
                    p = job.events[sent]
                    sent += 1
                    data = {"objective": p.objective, "bound": p.bound, "elapsed": p.elapsed}
                    yield f"event: progress\ndata: {json.dumps(data)}\n\n"
                if job.done.is_set() and sent >= len(job.events):
                    break
                yield f"event: tick\ndata: {json.dumps({'elapsed': job.elapsed()})}\n\n"
                await asyncio.sleep(0.25)
            outcome = "" if job is None else job.outcome
            yield f"event: done\ndata: {json.dumps({'outcome': outcome})}\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    return app


async def _read_upload(file: UploadFile | None) -> Upload | None:
    """An uploaded file read up to the size limit; None when the field was left empty."""
    if file is None or not file.filename:
        return None
    data = await file.read(MAX_UPLOAD + 1)
    return decode_upload(file.filename, data)


def _error_page(
    templates: Jinja2Templates, request: Request, message: str, status: int
) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {"error": message}, status_code=status)


def _board_context(loaded: Loaded) -> dict[str, Any]:
    board = loaded.board
    if board is None:
        return {"board": None}
    return {
        "sid": loaded.row.id,
        "board": board,
        "totals": board.totals(),
        "k": loaded.inst.k,
        "moves": loaded.row.moves,
    }


def _card(loaded: Loaded, team: int) -> dict[str, Any]:
    board = loaded.board
    assert board is not None
    summary = board.team(team)
    view = team_view(summary, loaded.inst.reference_date)
    learners = loaded.inst.roster.learners
    index = board.index
    members = [
        {
            "id": m.id,
            "label": m.label,
            "timezone": m.timezone or "",
            "intrinsic": learners[index[m.id]].motivation == "intrinsic",
            "locked": index[m.id] in board.locked_learners,
        }
        for m in view.members
    ]
    return {
        "team": team,
        "section": summary.section,
        "size": summary.size,
        "score": board.team_objective(team),
        "locked": team - 1 in board.locked_teams,
        "violations": board.violations_of(team),
        "members": members,
        "criteria": view.criteria,
        "windows": view.utc_windows,
        "flags": view.flags,
    }


def _session_context(ws: Workspace, loaded: Loaded) -> dict[str, Any]:
    row = loaded.row
    header = ws.headers(row.id)
    columns = loaded.model.roster.columns
    columns_view = [
        {
            "name": role,
            "required": role in REQUIRED_COLUMNS,
            "chosen": columns.get(role, role if role in header else ""),
        }
        for role in KNOWN_COLUMNS
    ]
    data = loaded.model.model_dump(exclude_none=True)
    criteria = []
    for name, value in data["criteria"].items():
        items = (
            [(name, value)]
            if isinstance(value, dict)
            else [(f"{name}.{i}", v) for i, v in enumerate(value)]
        )
        for key, crit in items:
            label = key if "column" not in crit else f"{crit['rule']} {crit['column']}"
            criteria.append({"key": key, "label": label, **crit})
    job = ws.job(row.id)
    running = job is not None and not job.done.is_set()
    ctx: dict[str, Any] = {
        "row": row,
        "n": loaded.inst.n,
        "header": header,
        "columns_view": columns_view,
        "team": data["team"],
        "criteria": criteria,
        "model_toml": row.model_toml,
        "running": running,
        "history": ws.store.history(row.id) if loaded.board is not None else [],
        "lms_formats": LMS_FORMATS,
        "survey": loaded.survey,
        "roles": ROLES,
        "user_columns": ["id", "email", "name", *loaded.roster.category_names],
    }
    ctx.update(_board_context(loaded))
    if loaded.board is not None:
        ctx["cards"] = [_card(loaded, t) for t in range(1, loaded.inst.k + 1)]
    return ctx
