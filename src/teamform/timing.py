"""Wall-clock accounting: when this process started, on the ``perf_counter`` clock.

A command's ``--time-limit`` is the user's wall clock, so it counts from the
moment the operating system started the process (interpreter start-up and
imports included), not from the first line of teamform code that runs.
"""

from __future__ import annotations

import os
import sys
import time

#: Fallback start: when this module was first imported (early in every command).
_IMPORTED = time.perf_counter()


def process_start() -> float:
    """The ``time.perf_counter()`` reading at which this process started.

    On Linux the kernel records the start in ``/proc/self/stat`` (clock ticks
    since boot); elsewhere, or if that cannot be read, the time this module
    was imported stands in for it.
    """
    if sys.platform.startswith("linux"):
        elapsed = _linux_age()
        if elapsed is not None:
            return time.perf_counter() - elapsed
    return _IMPORTED


def _linux_age() -> float | None:
    """Seconds since this process started, from the kernel's record."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        # the command name (field 2) may hold spaces and parentheses: split after it
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[19])  # field 22, starttime
        started = ticks / os.sysconf("SC_CLK_TCK")
        now = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    age = now - started
    # a clock that disagrees with itself (containers with odd boot clocks) is not used
    if not 0.0 <= age <= time.perf_counter() - _IMPORTED + 600.0:
        return None
    return age
