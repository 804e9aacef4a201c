"""The tutors' app in a real browser: Debian's chromium driven by Playwright.

One server (uvicorn, on a free local port) and one browser serve every test
here. A failing test leaves a screenshot in ``$TEAMFORM_ARTEFACTS`` (default:
pytest's temporary directory) and names it in the failure.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
playwright_api = pytest.importorskip("playwright.sync_api")

import teamform  # noqa: E402
from teamform import FormationModel, build_instance, load_roster  # noqa: E402
from teamform.criteria import OBJECTIVE_SCALE, build_terms  # noqa: E402
from teamform.validate import validate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install -y chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from teamform.app import create_app

    port = _free_port()
    app = create_app(tmp_path_factory.mktemp("workspace"))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh page; a failure inside the test leaves a full-page screenshot."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    outside: list[str] = []
    pg.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    try:
        yield pg
    except BaseException:
        raise
    finally:
        if getattr(request.node, "_failed", False):
            folder = Path(os.environ.get("TEAMFORM_ARTEFACTS", tmp_path))
            folder.mkdir(parents=True, exist_ok=True)
            shot = folder / f"{request.node.name}.png"
            pg.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        context.close()
    assert outside == [], f"the page loaded from the network: {outside}"


@contextmanager
def failure_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    """Mark the test failed for the page fixture's screenshot when the body raises."""
    try:
        yield
    except BaseException:
        request.node._failed = True
        raise


def _load_demo(page: Any, server: str) -> str:
    page.goto(server + "/")
    page.set_input_files("input[name=roster]", str(DEMO / "roster.csv"))
    page.set_input_files("input[name=avoid]", str(DEMO / "avoid.csv"))
    page.set_input_files("input[name=prefer]", str(DEMO / "prefer.csv"))
    page.select_option("select[name=preset]", "collaborative")
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#solve-panel")
    return str(page.url)


def _form(page: Any, seconds: float = 1.0) -> None:
    page.fill("#time-limit", str(seconds))
    page.click("#form-teams")
    page.wait_for_selector("#board .card", timeout=60_000)


def _assignment(page: Any) -> dict[str, int]:
    pairs = page.eval_on_selector_all(
        "#board .member",
        "els => els.map(e => [e.dataset.id, Number(e.closest('.card').dataset.team)])",
    )
    return {lid: team for lid, team in pairs}


def _validator(page: Any, session_url: str, assignment: dict[str, int]) -> tuple[Any, Any, Any]:
    """The validator's view of the page's assignment, under the model the app exports."""
    toml = page.request.get(session_url + "/export/model.toml").text()
    model = FormationModel.from_toml_text(toml)
    roster = load_roster(DEMO / "roster.csv", avoid=DEMO / "avoid.csv", prefer=DEMO / "prefer.csv")
    inst = build_instance(roster, model)
    terms = build_terms(inst)
    check = validate(inst, [assignment[lid] - 1 for lid in inst.ids], terms)
    return inst, terms, check


def _team_score(terms: Any, check: Any, team: int) -> float:
    return (
        sum(t.coefficient * check.team_penalties[t.name][team - 1] for t in terms if not t.hard)
        / OBJECTIVE_SCALE
    )


def test_load_form_drag_undo_lock_export(
    page: Any, server: str, request: pytest.FixtureRequest
) -> None:
    with failure_marked(request):
        _load_form_drag_undo_lock_export(page, server)


def _load_form_drag_undo_lock_export(page: Any, server: str) -> None:
    url = _load_demo(page, server)
    _form(page)
    before = _assignment(page)
    inst, terms, check = _validator(page, url, before)
    assert len(before) == inst.n == 60
    assert float(page.get_attribute("#totals", "data-objective")) == pytest.approx(
        check.objective / OBJECTIVE_SCALE
    )

    # drag the first member of team 1 onto team 2
    learner = page.get_attribute("#team-1 .member", "data-id")
    page.drag_and_drop(f"#team-1 .member[data-id='{learner}']", "#team-2 header h3")
    page.wait_for_selector(f"#team-2 .member[data-id='{learner}']")
    after = _assignment(page)
    assert after[learner] == 2 and before[learner] == 1
    _, _, moved = _validator(page, url, after)
    for team in (1, 2):
        shown = float(page.get_attribute(f"#team-{team}", "data-score"))
        assert shown == pytest.approx(_team_score(terms, moved, team))
        text = page.inner_text(f"#team-{team} .team-score")
        assert text == f"{_team_score(terms, moved, team):.2f}"
    assert float(page.get_attribute("#totals", "data-objective")) == pytest.approx(
        moved.objective / OBJECTIVE_SCALE
    )
    assert page.inner_text("#objective") == f"{moved.objective / OBJECTIVE_SCALE:.2f}"
    # teams of four: the move breaks the size rule, shown in red with the reason
    assert not moved.ok
    assert "broken" in (page.get_attribute("#team-2", "class") or "")
    assert "5 members" in page.inner_text("#team-2 .violations")
    assert "hard rule" in page.inner_text("#message")

    # undo puts the learner back and restores the totals
    page.click("#undo")
    page.wait_for_selector(f"#team-1 .member[data-id='{learner}']")
    assert float(page.get_attribute("#totals", "data-objective")) == pytest.approx(
        check.objective / OBJECTIVE_SCALE
    )

    # a locked team refuses a learner dropped on it, and stays locked after a reload
    page.click("#team-3 .lock-team")
    page.wait_for_selector("#team-3.locked")
    page.reload()
    assert "locked" in (page.get_attribute("#team-3", "class") or "")
    page.drag_and_drop(f"#team-1 .member[data-id='{learner}']", "#team-3 header h3")
    playwright_api.expect(page.locator("#message")).to_contain_text("team 3 is locked")
    assert _assignment(page) == before

    # export: the teams CSV holds the plan on the page
    with page.expect_download() as info:
        page.click("a[href$='/export/teams.csv']")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert {r["id"]: int(r["team"]) for r in rows} == before


@pytest.mark.skipif(not hasattr(teamform, "Pins"), reason="needs the engine's pins")
def test_lock_a_team_and_reoptimise_the_rest(
    page: Any, server: str, request: pytest.FixtureRequest
) -> None:
    with failure_marked(request):
        url = _load_demo(page, server)
        _form(page)
        before = _assignment(page)
        kept = sorted(lid for lid, t in before.items() if t == 3)
        page.click("#team-3 .lock-team")
        page.wait_for_selector("#team-3.locked")
        page.fill("#time-limit", "1")
        # the page reloads when the solve ends
        with page.expect_navigation(timeout=60_000):
            page.click("#reoptimise")
        page.wait_for_selector("#board .card")
        assert "objective" in page.inner_text("#progress")
        final = _assignment(page)
        assert sorted(lid for lid, t in final.items() if t == 3) == kept
        _, _, now = _validator(page, url, final)
        assert now.ok
        assert float(page.get_attribute("#totals", "data-objective")) == pytest.approx(
            now.objective / OBJECTIVE_SCALE
        )
