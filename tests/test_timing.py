"""The process start time the command line counts its time limit from."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from teamform import timing


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
