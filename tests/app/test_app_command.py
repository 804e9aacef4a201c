"""``teamform app``: errors before serving are one line and exit 2; the demo session opens."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")

from teamform import cli
from teamform.app.service import Workspace

runner = CliRunner()


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = runner.invoke(cli.app, ["app", "--port", str(port), "--workspace", str(tmp_path)])
    assert r.exit_code == 2
    assert f"port {port} is in use" in r.output and "Traceback" not in r.output


def test_a_bad_roster_is_refused_before_serving(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe")
    r = runner.invoke(
        cli.app, ["app", "--roster", str(bad), "--workspace", str(tmp_path / "ws"), "--port", "1"]
    )
    assert r.exit_code == 2 and "bad.csv" in r.output


def test_the_demo_session_is_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Path] = []
    monkeypatch.setattr("teamform.app.serve", lambda workspace, port: served.append(workspace))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for _ in range(2):
        r = runner.invoke(
            cli.app, ["app", "--demo", "--workspace", str(tmp_path), "--port", str(port)]
        )
        assert r.exit_code == 0, r.output
        assert f"http://127.0.0.1:{port}/sessions/" in r.output
    ws = Workspace(tmp_path)
    try:
        assert len(ws.store.sessions()) == 1
        assert len(ws.load(ws.store.sessions()[0][0]).roster) == 60
    finally:
        ws.close()
    assert served == [tmp_path, tmp_path]
