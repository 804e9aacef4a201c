"""Ctrl-C during ``teamform form``: the best teams so far are written, exit code 4."""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform.cli import EXIT_INTERRUPTED, EXIT_STOPPED, Progress, _LiveStatus, app

DEMO = Path("instances/demo")


def interrupt_once_handled(times: int = 1, gap: float = 0.3) -> threading.Thread:
    """Send SIGINT to this process once the command has installed its handler."""

    before = signal.getsignal(signal.SIGINT)

    def send() -> None:
        deadline = time.monotonic() + 60
        while signal.getsignal(signal.SIGINT) is before:
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        time.sleep(0.5)  # let the search start
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(gap)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def form_demo(tmp_path: Path, *extra: str):
    return CliRunner().invoke(
        app,
        [
            "form",
            str(DEMO / "roster.csv"),
            "--model",
            "models/collaborative.toml",
            "--avoid",
            str(DEMO / "avoid.csv"),
            "--time-limit",
            "120",
            "--out",
            str(tmp_path / "teams.csv"),
            "--json",
            str(tmp_path / "result.json"),
            *extra,
        ],
    )


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs POSIX signals")
def test_ctrl_c_writes_the_best_teams_and_exits_4(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    started = time.perf_counter()
    sender = interrupt_once_handled()
    result = form_demo(tmp_path)
    sender.join()
    assert time.perf_counter() - started < 60
    assert result.exit_code == EXIT_STOPPED == 4, (result.stdout, result.stderr)
    assert "stopped by Ctrl-C" in result.stderr
    assert "best teams found so far" in result.stderr
    data = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert data["stopped"] == "cancelled" and data["valid"] is True
    with (tmp_path / "teams.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 60
    assert {r["id"]: int(r["team"]) for r in rows} == data["assignment"]
    # the handler in place before the command is put back afterwards
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs POSIX signals")
def test_second_ctrl_c_quits_without_writing(tmp_path: Path, monkeypatch) -> None:
    # a search that ignores the first request, so that the second one is needed
    import teamform.cli as cli

    def stubborn(*args, cancel, **kwargs):
        end = time.monotonic() + 20
        while time.monotonic() < end:
            time.sleep(0.05)
        raise AssertionError("not interrupted")

    monkeypatch.setattr(cli, "form", stubborn)
    sender = interrupt_once_handled(times=2)
    result = form_demo(tmp_path)
    sender.join()
    assert result.exit_code == EXIT_INTERRUPTED == 130, (result.stdout, result.stderr)
    assert "interrupted twice" in result.stderr
    assert not (tmp_path / "teams.csv").exists()


def test_live_line_ticks_between_reports() -> None:
    status = _LiveStatus()
    status.started -= 3.0
    assert "best -" in status.__rich__().plain and "3." in status.__rich__().plain
    status.update(Progress(12.5, 3.0, 0.1))
    text = status.__rich__().plain
    assert text.startswith("searching: best 12.50  bound 3.00  3.")
    assert "Ctrl-C" in text
