"""Every endpoint of the tutors' app, through FastAPI's test client."""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from teamform import FormationModel, Result, Roster, build_instance
from teamform.app import create_app
from teamform.app import service as service_mod
from teamform.criteria import OBJECTIVE_SCALE
from teamform.validate import validate

SURVEYS = Path(__file__).resolve().parents[2] / "instances" / "surveys"
NASTY = '<script>alert("x")</script>'
HEADER = "id,name,email,timezone,availability,skill_programming,motivation\n"


def roster_csv(n: int = 8) -> str:
    rows = []
    for i in range(n):
        name = NASTY if i == 0 else f"Learner Name{i}"
        zone = "Europe/Paris" if i % 2 else "America/New_York"
        motivation = "intrinsic" if i % 3 == 0 else "imposed"
        rows.append(
            f"L{i:02},{name},person{i}@example.org,{zone},Mon-Fri 14:00-20:00,"
            f"{1 + i % 5},{motivation}\n"
        )
    return HEADER + "".join(rows)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "ws"), base_url="http://127.0.0.1") as c:
        yield c


def upload(client: TestClient, text: str | bytes, name: str = "roster.csv", **extra: object):
    data = text.encode() if isinstance(text, str) else text
    files: dict[str, tuple[str, bytes]] = {"roster": (name, data)}
    for kind in ("avoid", "prefer", "history"):
        if kind in extra:
            files[kind] = (f"{kind}.csv", str(extra[kind]).encode())
    return client.post(
        "/sessions",
        files=files,
        data={"preset": str(extra.get("preset", "collaborative"))},
        follow_redirects=False,
    )


def new_session(client: TestClient, text: str | None = None, **extra: object) -> str:
    """Upload a roster (by default :func:`roster_csv`) and return the session id."""
    r = upload(client, roster_csv() if text is None else text, **extra)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def wait_done(client: TestClient, sid: str) -> list[dict[str, object]]:
    """Follow the server-sent events of a solve to its end."""
    events: list[dict[str, object]] = []
    kind = ""
    with client.stream("GET", f"/api/sessions/{sid}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                events.append({"event": kind, **json.loads(line[len("data: ") :])})
    assert events[-1]["event"] == "done"
    return events


def solved(client: TestClient, **extra: object) -> str:
    sid = new_session(client, **extra)
    r = client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 2, "seed": 1})
    assert r.status_code == 202, r.text
    wait_done(client, sid)
    return sid


def error_of(r) -> str:
    """The one error line of an HTML page, as the tutor reads it."""
    return html.unescape(r.text.split('id="error">', 1)[1].split("</p>", 1)[0])


def board(client: TestClient, sid: str) -> dict[str, object]:
    r = client.get(f"/api/sessions/{sid}/board")
    assert r.status_code == 200, r.text
    return r.json()


def validator(text: str, model_toml: str, assignment: dict[str, int]):
    model = FormationModel.from_toml_text(model_toml)
    records = list(csv.DictReader(io.StringIO(text)))
    roster = Roster.from_records(records)
    inst = build_instance(roster, model)
    return inst, validate(inst, [assignment[lid] - 1 for lid in inst.ids])


# -- pages and uploads ---------------------------------------------------------


def test_index_lists_presets_and_sets_a_strict_policy(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert 'value="collaborative"' in r.text and 'value="cooperative"' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/app.js").status_code == 200


def test_upload_creates_a_session_and_escapes_names(client: TestClient) -> None:
    sid = new_session(client)
    page = client.get(f"/sessions/{sid}")
    assert page.status_code == 200
    assert "roster.csv (8 learners)" in page.text
    assert client.get("/").text.count(f"/sessions/{sid}") == 1
    sid2 = solved(client)
    page = client.get(f"/sessions/{sid2}").text
    assert NASTY not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "roster.csv: empty file"),
        (b"id,name\n\xff\xfe,x\n", "roster.csv, row 2: not UTF-8 text (byte 0xff)"),
        (b"id,\x00name\n", "not a text file"),
        (
            (
                HEADER.replace(",timezone", ",zone")
                + "L1,A,a@x.org,UTC,daily 09:00-10:00,1,imposed\n"
            ).encode(),
            "column",
        ),
        (
            (HEADER + "L1,A,a@x.org,Mars/Base,daily 09:00-10:00,1,imposed\n").encode(),
            "roster.csv, row 2, column 'timezone'",
        ),
    ],
)
def test_bad_uploads_give_one_message_and_store_nothing(
    client: TestClient, content: bytes, message: str
) -> None:
    r = upload(client, content)
    assert r.status_code == 400
    error = error_of(r)
    assert message in error and "\n" not in error and "Traceback" not in r.text
    assert client.app.state.workspace.store.sessions() == []


def test_bad_pair_file_and_bad_preset_store_nothing(client: TestClient) -> None:
    r = upload(client, roster_csv(), avoid="id_a,id_b\nL00,NOPE\n")
    assert r.status_code == 400 and "avoid.csv" in error_of(r) and "NOPE" in error_of(r)
    r = upload(client, roster_csv(), preset="nonesuch")
    assert r.status_code == 400 and "unknown preset 'nonesuch'" in error_of(r)
    assert client.app.state.workspace.store.sessions() == []


def test_earlier_teams_flag_repeated_pairs(client: TestClient) -> None:
    earlier = "phase,id,team\nweek1,L00,1\nweek1,L01,1\nweek1,L02,2\n"
    r = upload(client, roster_csv(), history=earlier.replace("L02", "X9"))
    assert r.status_code == 400 and "history.csv, row 4, column 'id'" in error_of(r)
    assert client.app.state.workspace.store.sessions() == []
    sid = solved(client, history=earlier)
    plan = board(client, sid)["assignment"]
    assert isinstance(plan, dict)
    if plan["L00"] != plan["L01"]:
        client.post(
            f"/api/sessions/{sid}/swap",
            json={
                "a": "L01",
                "b": next(lid for lid, t in plan.items() if t == plan["L00"] and lid != "L00"),
            },
        )
    team = board(client, sid)["assignment"]["L00"]  # type: ignore[index]
    card = (
        client.get(f"/sessions/{sid}").text.split(f'id="team-{team}"', 1)[1].split("</article>")[0]
    )
    assert 'data-code="repeated_pair"' in card and "already worked together" in card


def test_oversized_upload_is_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_mod, "MAX_UPLOAD", 100)
    r = upload(client, roster_csv())
    assert r.status_code == 400 and "larger than" in error_of(r)
    assert client.app.state.workspace.store.sessions() == []


def test_unknown_session_is_404(client: TestClient) -> None:
    assert client.get("/sessions/nope").status_code == 404
    assert client.get("/api/sessions/nope/board").status_code == 404
    assert (
        client.post("/api/sessions/nope/move", json={"learner": "a", "team": 1}).status_code == 404
    )
    assert client.get("/api/sessions/nope/events").status_code == 404
    assert client.get("/sessions/nope/export/teams.csv").status_code == 404


# -- mapping and model ---------------------------------------------------------


def test_roster_columns_can_be_remapped(client: TestClient) -> None:
    text = roster_csv().replace("motivation\n", "motivation,nickname\n")
    text = (
        "\n".join(line + (f",Nick{i}" if i else "") for i, line in enumerate(text.splitlines()))
        + "\n"
    )
    sid = new_session(client, text)
    page = client.get(f"/sessions/{sid}").text
    assert '<option value="nickname">nickname</option>' in page
    toml = client.get(f"/sessions/{sid}/export/model.toml").text
    base = {
        "col.id": "id",
        "col.timezone": "timezone",
        "col.availability": "availability",
        "col.motivation": "motivation",
    }
    # a wrong choice is refused with the reason and changes nothing
    r = client.post(
        f"/sessions/{sid}/columns",
        data={**base, "col.participation": "nickname"},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "column 'nickname'" in error_of(r)
    assert client.get(f"/sessions/{sid}/export/model.toml").text == toml
    r = client.post(
        f"/sessions/{sid}/columns", data={**base, "col.name": "nickname"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert 'name = "nickname"' in client.get(f"/sessions/{sid}/export/model.toml").text
    roster = client.app.state.workspace.load(sid).roster
    assert [lr.name for lr in roster.learners[:2]] == ["Nick1", "Nick2"]


def test_a_roster_with_its_own_headers_goes_through_the_survey_reader(
    client: TestClient,
) -> None:
    sid = new_session(client, roster_csv().replace(",timezone,", ",Time zone,"))
    page = client.get(f"/sessions/{sid}").text
    assert "Survey columns (roster export)" in page
    loaded = client.app.state.workspace.load(sid)
    assert loaded.survey.mapping.columns["Time zone"].role == "timezone"
    assert loaded.roster.learners[1].timezone == "Europe/Paris"


def test_survey_upload_shows_its_mapping_and_takes_fixes(client: TestClient) -> None:
    data = (SURVEYS / "google_forms.csv").read_bytes()
    r = upload(client, data, name="google_forms.csv")
    assert r.status_code == 303, error_of(r)
    sid = r.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/sessions/{sid}").text
    assert "Survey columns (google_forms export)" in page
    headers = re.findall(r'name="header\.(\d+)" value="([^"]*)"', page)
    number = {html.unescape(h): n for n, h in headers}
    language = number["Preferred working language"]
    name_col = number["What is your full name?"]
    # reading the name column as time zones fails, names the column, changes nothing
    r = client.post(
        f"/sessions/{sid}/survey",
        data={f"header.{name_col}": "What is your full name?", f"role.{name_col}": "timezone"},
    )
    assert r.status_code == 400 and "What is your full name?" in error_of(r)
    r = client.post(
        f"/sessions/{sid}/survey",
        data={
            f"header.{language}": "Preferred working language",
            f"role.{language}": "ignore",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    loaded = client.app.state.workspace.load(sid)
    assert loaded.survey.mapping.columns["Preferred working language"].role == "ignore"
    assert "Preferred working language" not in loaded.roster.category_names
    r = client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 1})
    assert r.status_code == 202
    wait_done(client, sid)
    assert board(client, sid)["valid"]


def test_excel_survey_upload(client: TestClient, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "Name", "Email", "Time zone", "Availability", "Programming", "Motivation"])
    for i in range(8):
        sheet.append(
            [
                f"S{i}",
                f"Student {i}",
                f"s{i}@example.org",
                "Europe/Paris",
                "Mon-Fri 18:00-21:00",
                1 + i % 5,
                "intrinsic" if i % 2 else "imposed",
            ]
        )
    path = tmp_path / "responses.xlsx"
    book.save(path)
    r = upload(client, path.read_bytes(), name="responses.xlsx")
    assert r.status_code == 303, error_of(r)
    sid = r.headers["location"].rsplit("/", 1)[1]
    assert "Survey columns" in client.get(f"/sessions/{sid}").text
    assert len(client.app.state.workspace.load(sid).roster) == 8
    r = upload(client, b"not a workbook", name="broken.xlsx")
    assert r.status_code == 400 and "broken.xlsx: not an Excel workbook" in error_of(r)


def test_model_form_and_toml(client: TestClient) -> None:
    sid = new_session(client)
    fields = {
        "team.size": "3",
        "team.min": "2",
        "team.max": "4",
        "team.teams": "",
        "overlap.enabled": "on",
        "overlap.weight": "7.5",
        "overlap.hours": "2",
        "overlap.hard": "on",
        "motivation.enabled": "on",
        "motivation.weight": "30",
        "skill_balance.weight": "10",
        "prefer.enabled": "on",
        "prefer.weight": "5",
    }
    r = client.post(f"/sessions/{sid}/model", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text
    model = FormationModel.from_toml_text(client.get(f"/sessions/{sid}/export/model.toml").text)
    assert model.team.size == 3 and model.team.max == 4
    assert model.criteria.overlap is not None
    assert model.criteria.overlap.weight == 7.5 and model.criteria.overlap.hard
    assert model.criteria.skill_balance is not None and not model.criteria.skill_balance.enabled
    r = client.post(f"/sessions/{sid}/model", data={**fields, "team.size": "x"})
    assert r.status_code == 400 and "'x' is not a number" in error_of(r)
    r = client.post(f"/sessions/{sid}/model", data={"toml": "[team]\nsize = \n"})
    assert r.status_code == 400 and "malformed TOML" in error_of(r)
    r = client.post(
        f"/sessions/{sid}/model", data={"toml": "[team]\nsize = 2\n"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert (
        FormationModel.from_toml_text(
            client.get(f"/sessions/{sid}/export/model.toml").text
        ).team.size
        == 2
    )


# -- solving -------------------------------------------------------------------


def test_solve_streams_progress_and_stores_a_validated_plan(client: TestClient) -> None:
    sid = new_session(client)
    assert client.get(f"/api/sessions/{sid}/board").status_code == 400
    r = client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 0})
    assert r.status_code == 400 and "time limit" in r.json()["error"]
    r = client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 2})
    assert r.status_code == 202
    again = client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 2})
    assert again.status_code in (202, 409)
    events = wait_done(client, sid)
    assert "objective" in str(events[-1]["outcome"])
    for e in events:
        if e["event"] == "progress":
            assert set(e) >= {"objective", "bound", "elapsed"}
    state = board(client, sid)
    toml = client.get(f"/sessions/{sid}/export/model.toml").text
    _, check = validator(roster_csv(), toml, state["assignment"])  # type: ignore[arg-type]
    assert check.ok and state["valid"]
    assert state["objective"] == pytest.approx(check.objective / OBJECTIVE_SCALE)
    assert "objective" in client.get(f"/sessions/{sid}").text


def test_cancel_without_a_running_solve(client: TestClient) -> None:
    sid = new_session(client)
    r = client.post(f"/api/sessions/{sid}/cancel")
    assert r.status_code == 200 and r.json() == {"cancelled": False}


def test_reoptimise_needs_a_plan_and_a_lock(client: TestClient) -> None:
    sid = new_session(client)
    r = client.post(f"/api/sessions/{sid}/reoptimise", json={"time_limit": 1})
    assert r.status_code == 400 and "form teams first" in r.json()["error"]


# -- the board -----------------------------------------------------------------


def test_moves_swaps_and_undo_rescore_like_the_validator(client: TestClient) -> None:
    sid = solved(client)
    toml = client.get(f"/sessions/{sid}/export/model.toml").text
    state = board(client, sid)
    start = dict(state["assignment"])  # type: ignore[call-overload]
    a, b = "L00", next(lid for lid, t in start.items() if t != start["L00"])
    r = client.post(f"/api/sessions/{sid}/move", json={"learner": a, "team": start[b]})
    assert r.status_code == 200
    reply = r.json()
    assert reply["moved"] == {a: [start[a], start[b]]}
    assert set(reply["cards"]) >= {str(start[a]), str(start[b])}
    assert NASTY not in json.dumps(reply)
    now = board(client, sid)
    _, check = validator(roster_csv(), toml, now["assignment"])  # type: ignore[arg-type]
    assert reply["objective"] == pytest.approx(check.objective / OBJECTIVE_SCALE)
    assert reply["valid"] == check.ok
    if not check.ok:
        assert reply["broken"] and "members" in " ".join(reply["broken"])
    for team, score in now["team_objectives"].items():  # type: ignore[attr-defined]
        assert f'data-score="{score:.4f}"' in reply["cards"].get(team, f'data-score="{score:.4f}"')
    # swap a (now in b's team) with a learner of a's first team
    c = next(lid for lid, t in start.items() if t == start[a] and lid != a)
    r = client.post(f"/api/sessions/{sid}/swap", json={"a": a, "b": c})
    assert r.status_code == 200
    assert r.json()["moved"] == {a: [start[b], start[a]], c: [start[a], start[b]]}
    assert client.post(f"/api/sessions/{sid}/undo").status_code == 200
    assert client.post(f"/api/sessions/{sid}/undo").status_code == 200
    assert board(client, sid)["assignment"] == start
    r = client.post(f"/api/sessions/{sid}/undo")
    assert r.status_code == 400 and r.json()["error"] == "nothing to undo"
    r = client.post(f"/api/sessions/{sid}/move", json={"learner": "ZZ", "team": 1})
    assert r.status_code == 400 and "no learner with id 'ZZ'" in r.json()["error"]
    r = client.post(f"/api/sessions/{sid}/move", json={"learner": a, "team": 99})
    assert r.status_code == 400 and "no team 99" in r.json()["error"]
    r = client.post(f"/api/sessions/{sid}/move", json={"learner": a})
    assert r.status_code == 422


def test_locks_hold_and_persist(client: TestClient, tmp_path: Path) -> None:
    sid = solved(client)
    start = board(client, sid)["assignment"]
    assert isinstance(start, dict)
    team = start["L00"]
    r = client.post(f"/api/sessions/{sid}/lock", json={"learner": "L00", "locked": True})
    assert r.status_code == 200 and str(team) in r.json()["cards"]
    other = next(t for t in start.values() if t != team)
    r = client.post(f"/api/sessions/{sid}/move", json={"learner": "L00", "team": other})
    assert r.status_code == 400 and "locked" in r.json()["error"]
    r = client.post(f"/api/sessions/{sid}/lock", json={"team": other, "locked": True})
    assert r.status_code == 200
    assert board(client, sid)["locks"] == {"learners": ["L00"], "teams": [other]}
    r = client.post(f"/api/sessions/{sid}/lock", json={"locked": True})
    assert r.status_code == 400


def test_a_restarted_server_loses_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with TestClient(create_app(ws), base_url="http://127.0.0.1") as c:
        sid = solved(c)
        start = board(c, sid)["assignment"]
        assert isinstance(start, dict)
        other = next(t for t in start.values() if t != start["L01"])
        c.post(f"/api/sessions/{sid}/move", json={"learner": "L01", "team": other})
        c.post(f"/api/sessions/{sid}/lock", json={"learner": "L02", "locked": True})
        before = board(c, sid)
    with TestClient(create_app(ws), base_url="http://127.0.0.1") as c:
        after = board(c, sid)
        assert after == before
        assert after["moves"] == 1
        assert c.post(f"/api/sessions/{sid}/undo").status_code == 200
        assert board(c, sid)["assignment"] == start


def test_delete_session(client: TestClient) -> None:
    sid = new_session(client)
    r = client.post(f"/sessions/{sid}/delete", follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/sessions/{sid}").status_code == 404


# -- exports -------------------------------------------------------------------


def test_exports_hold_the_edited_plan(client: TestClient) -> None:
    sid = new_session(client)
    r = client.get(f"/sessions/{sid}/export/teams.csv")
    assert r.status_code == 400 and "form teams first" in error_of(r)
    r = client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 2})
    wait_done(client, sid)
    start = board(client, sid)["assignment"]
    assert isinstance(start, dict)
    other = next(t for t in start.values() if t != start["L03"])
    client.post(f"/api/sessions/{sid}/move", json={"learner": "L03", "team": other})
    plan = board(client, sid)["assignment"]

    r = client.get(f"/sessions/{sid}/export/teams.csv")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["id"]: int(row["team"]) for row in rows} == plan
    # the formula-looking name is neutralised
    assert all(not row["name"].startswith(("=", "+", "-", "@")) for row in rows)

    result = Result.model_validate_json(client.get(f"/sessions/{sid}/export/result.json").text)
    assert result.assignment == plan
    assert result.objective == pytest.approx(board(client, sid)["objective"])

    r = client.get(f"/sessions/{sid}/export/report.html")
    assert r.status_code == 200 and "<html" in r.text and NASTY not in r.text
    assert "style-src 'unsafe-inline'" in r.headers["content-security-policy"]

    r = client.get(f"/sessions/{sid}/export/sheets.zip")
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert len(names) == result.n_teams and all(n.endswith(".html") for n in names)

    assert client.get(f"/sessions/{sid}/export/nope").status_code == 404


def test_lms_exports(client: TestClient, tmp_path: Path) -> None:
    from teamform.lms import read_lms

    sid = solved(client)
    plan = board(client, sid)["assignment"]
    assert isinstance(plan, dict)
    r = client.get(f"/sessions/{sid}/export-lms", params={"format": "canvas"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    (tmp_path / "canvas.csv").write_bytes(r.content)
    groups = read_lms(tmp_path / "canvas.csv", "canvas")
    assert {lid: int(g.removeprefix("Team ")) for lid, g in groups.items()} == plan
    r = client.get(f"/sessions/{sid}/export-lms", params={"format": "moodle"})
    assert r.status_code == 400 and "column 'course'" in error_of(r)
    r = client.get(
        f"/sessions/{sid}/export-lms",
        params={"format": "moodle", "course": "TF101", "user_column": "email"},
    )
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert names == ["moodle.csv", "moodle-groups.csv"]
    r = client.get(f"/sessions/{sid}/export-lms", params={"format": "nope"})
    assert r.status_code == 400 and "unknown LMS format" in error_of(r)


def test_cancel_keeps_the_best_plan(client: TestClient) -> None:
    demo = Path(__file__).resolve().parents[2] / "instances" / "demo"
    sid = new_session(
        client,
        (demo / "roster.csv").read_text(encoding="utf-8"),
        avoid=(demo / "avoid.csv").read_text(encoding="utf-8"),
    )
    started = time.monotonic()
    assert client.post(f"/api/sessions/{sid}/solve", json={"time_limit": 120}).status_code == 202
    time.sleep(1.5)
    r = client.post(f"/api/sessions/{sid}/cancel")
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    events = wait_done(client, sid)
    assert time.monotonic() - started < 60
    assert "stopped early" in str(events[-1]["outcome"])
    assert board(client, sid)["valid"]


def test_reoptimise_keeps_locked_learners_and_teams(client: TestClient) -> None:
    sid = solved(client, text=roster_csv(12))
    start = board(client, sid)["assignment"]
    assert isinstance(start, dict)
    r = client.post(f"/api/sessions/{sid}/reoptimise", json={"time_limit": 1})
    assert r.status_code == 400 and "lock a learner or a team first" in r.json()["error"]
    kept_team = start["L01"]
    members = sorted(lid for lid, t in start.items() if t == kept_team)
    client.post(f"/api/sessions/{sid}/lock", json={"team": kept_team, "locked": True})
    loner = next(lid for lid, t in start.items() if t != kept_team)
    client.post(f"/api/sessions/{sid}/lock", json={"learner": loner, "locked": True})
    r = client.post(f"/api/sessions/{sid}/reoptimise", json={"time_limit": 1, "seed": 3})
    assert r.status_code == 202, r.text
    events = wait_done(client, sid)
    assert "objective" in str(events[-1]["outcome"])
    after = board(client, sid)
    plan = after["assignment"]
    assert isinstance(plan, dict)
    assert sorted(lid for lid, t in plan.items() if t == kept_team) == members
    assert plan[loner] == start[loner]
    assert after["locks"] == {"learners": [loner], "teams": [kept_team]}
    assert after["valid"]


# -- safety --------------------------------------------------------------------


def test_foreign_hosts_and_cross_site_posts_are_refused(client: TestClient) -> None:
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    sid = new_session(client)
    r = client.post(
        f"/api/sessions/{sid}/solve",
        json={"time_limit": 1},
        headers={"origin": "http://evil.example"},
    )
    assert r.status_code == 403
    r = client.post(
        f"/sessions/{sid}/delete", headers={"sec-fetch-site": "cross-site"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert client.get(f"/sessions/{sid}").status_code == 200


def test_no_names_or_emails_in_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = solved(client)
    start = board(client, sid)["assignment"]
    assert isinstance(start, dict)
    other = next(t for t in start.values() if t != start["L04"])
    client.post(f"/api/sessions/{sid}/move", json={"learner": "L04", "team": other})
    upload(client, b"\xff")
    text = caplog.text
    assert "Name" not in text and "example.org" not in text and "script" not in text
