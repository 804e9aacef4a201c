"""The collector paused over large phases, and left off for a process about to end."""

from __future__ import annotations

import gc

from teamform import gcpause


def test_paused_blocks_resume_the_collector_unless_left_off() -> None:
    assert gc.isenabled()
    try:
        with gcpause.gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        gcpause.left_off()
        with gcpause.gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gcpause._HOLD[0] = False
        gc.enable()
