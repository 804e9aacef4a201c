"""The process start time the command line counts its time limit from, and what it
costs the search when start-up took part of the limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import teamform.solve as solve_module
from teamform import timing
from teamform.result import Timings
from teamform.search.budget import Budget


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_process_start_is_before_now_and_after_a_sleep_in_a_child() -> None:
    code = (
        "import time; time.sleep(0.5); "
        "from teamform.timing import process_start; "
        "print(time.perf_counter() - process_start())"
    )
    age = float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    # the sleep happened before the module was imported, so only the OS record sees it
    assert age >= 0.5


def test_process_start_of_this_process_is_in_the_past() -> None:
    assert timing.process_start() <= time.perf_counter()


def test_fallback_when_the_os_record_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "_linux_age", lambda: None)
    assert timing.process_start() == timing._IMPORTED


def _form_demo(demo_paths: dict[str, str], tmp_path: Path, limit: str) -> tuple[str, dict]:
    from typer.testing import CliRunner

    from teamform.cli import app

    out = tmp_path / "result.json"
    args = ["form", demo_paths["roster"], "--model", demo_paths["model"], "--avoid",
            demo_paths["avoid"], "--prefer", demo_paths["prefer"], "--time-limit", limit,
            "--quiet", "--json", str(out)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.output, json.loads(out.read_text(encoding="utf-8"))


def test_the_search_budget_counts_from_the_process_start(
    monkeypatch: pytest.MonkeyPatch, demo_paths: dict[str, str], tmp_path: Path
) -> None:
    import teamform.cli as cli

    # a process that started 2.5 s before the command ran: that much of the limit is gone
    began = time.perf_counter() - 2.5
    monkeypatch.setattr(cli, "_process_started", began)
    budgets: list[tuple[float, float]] = []
    real = solve_module.Budget

    def recorded(seconds: float, work: bool = False, start: float | None = None) -> Budget:
        budget = real(seconds, work, time.perf_counter() if start is None else start)
        budgets.append((budget.start, budget.left()))
        return budget

    monkeypatch.setattr(solve_module, "Budget", recorded)
    _, data = _form_demo(demo_paths, tmp_path, "4")
    (start, left), *_ = budgets
    assert start == began
    # what the search is given: the limit less what was spent before it (and the reserve)
    assert left <= 4 - 2.5
    tm = data["timings"]
    assert tm["startup"] >= 2.5 and tm["total"] >= tm["startup"]


def test_a_limit_gone_before_the_search_is_reported(
    monkeypatch: pytest.MonkeyPatch, demo_paths: dict[str, str], tmp_path: Path
) -> None:
    import teamform.cli as cli

    monkeypatch.setattr(cli, "_process_started", time.perf_counter() - 30)
    output, data = _form_demo(demo_paths, tmp_path, "2")
    tm = data["timings"]
    assert data["valid"] and data["status"] in ("feasible", "optimal")
    assert tm["over_limit"] == pytest.approx(tm["total"] - 2, abs=1e-6)
    assert "over the limit" in output
    assert "start-up, reading and building alone took" in " ".join(output.split())


def test_over_limit_line_names_what_took_the_time() -> None:
    from teamform.cli import over_limit_line

    assert over_limit_line(Timings(limit=5, total=4.9)) is None
    late = over_limit_line(Timings(limit=5, total=7.2, over_limit=2.2, startup=6.0, read=0.1))
    assert late is not None and late.startswith("2.20 s past the 5 s limit")
    assert "alone took 6.10 s" in late
    slow = over_limit_line(Timings(limit=5, total=5.3, over_limit=0.3, startup=2.0))
    assert slow is not None and "searching and finishing took longer" in slow
