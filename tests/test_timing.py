"""The process start time the command line counts its time limit from, and what it
costs the search when start-up took part of the limit."""

from __future__ import annotations

import json
import shlex
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_shell_s_earlier_commands_do_not_count_as_the_process_s_time() -> None:
    # a shell that runs a 2 s command, then turns into Python (as ``sh -c 'fetch &&
    # teamform ...'`` does with its last command): the kernel dates the process from
    # the shell's start, but it was blocked those 2 s, and at most half a second of
    # that counts
    code = (
        "from teamform.timing import process_start; import time; "
        "print(time.perf_counter() - process_start())"
    )
    script = f"sleep 2; exec {shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    age = float(
        subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    )
    assert 0.0 < age < 1.5


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


def _work_for(seconds: float, busy: float = 1.0) -> None:
    """Keep this thread busy for ``busy`` of each 20 ms, asleep for the rest."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        until = time.perf_counter() + 0.02 * busy
        while time.perf_counter() < until:
            pass
        if busy < 1.0:
            time.sleep(0.02 * (1.0 - busy))


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no thread CPU clock")
def test_the_pace_sees_the_last_second_not_the_whole_span() -> None:
    # a thread busy for 2 s, then working half the time for 1.2 s: over the whole
    # span it took about 1.3 s of wall time per second of work, over the last
    # second 2 (more on a loaded machine, never less)
    watched: list[float] = []
    with timing.Pace(watch=lambda p: watched.append(time.perf_counter())) as pace:
        _work_for(2.0)
        _work_for(1.2, busy=0.5)
        recent = pace.recent()
        cpu = pace.cpu()
    assert recent is not None and recent >= 1.7
    assert cpu == pytest.approx(time.thread_time(), abs=0.05)  # this thread's clock
    assert len(watched) >= 10  # the helper read the clocks, and called back each time


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no thread CPU clock")
def test_the_pace_says_nothing_before_half_a_span() -> None:
    with timing.Pace() as pace:
        assert pace.recent() is None
    with timing.Pace(active=False) as idle:
        _work_for(0.6)
        assert idle.recent() is None and idle.cpu() is None
        assert idle._thread is None


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no thread CPU clock")
def test_the_pace_measures_how_long_the_interpreter_was_held() -> None:
    # sorting a long list holds the interpreter throughout: the helper cannot read
    # the clocks meanwhile, and the gap between its readings says how long that was
    import random

    rng = random.Random(1)
    size, held = 1_000_000, 0.0
    with timing.Pace() as pace:
        while held < 0.3 and size <= 8_000_000:  # a sort long enough to tell
            values = [rng.random() for _ in range(size)]
            time.sleep(0.25)  # the helper reads the clocks
            began = time.perf_counter()
            values.sort()
            held = time.perf_counter() - began
            size *= 2
        time.sleep(0.25)
    assert held >= 0.3
    assert pace.longest_hold >= 0.5 * held


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no thread CPU clock")
def test_a_failing_watcher_is_said_once_and_stops(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[float] = []

    def broken(pace: timing.Pace) -> None:
        calls.append(time.perf_counter())
        raise RuntimeError("watcher bug")

    with caplog.at_level("WARNING", logger="teamform.timing"), timing.Pace(watch=broken) as pace:
        _work_for(0.8)
        recent = pace.recent()
    assert len(calls) == 1  # not called again after it failed
    assert recent is not None  # the readings go on
    assert [r.message for r in caplog.records] == ["the pace watcher failed and stopped"]
