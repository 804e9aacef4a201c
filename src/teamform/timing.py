"""Wall-clock accounting: when this process started, on the ``perf_counter`` clock.

A command's ``--time-limit`` is the user's wall clock, so it counts from the
moment the operating system started the process (interpreter start-up and
imports included), not from the first line of teamform code that runs.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("teamform.timing")

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


#: Seconds of the time this process spent blocked (neither running nor waiting for a
#: core) that count as its start-up: reading cold files takes some, but a process
#: that a shell ran other commands in before turning into this one (``sh -c 'fetch &&
#: teamform ...'`` runs the last command in the shell's own process) was blocked all
#: that while, and that is not the command's time.
BLOCKED_MAX = 0.5


def _linux_age() -> float | None:
    """Seconds since this process started, from the kernel's record, with no more
    than :data:`BLOCKED_MAX` of the time it spent blocked (:func:`_busy`)."""
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
    busy = _busy()
    if busy is not None and busy < age:
        age = busy + min(age - busy, BLOCKED_MAX)
    return age


def _busy() -> float | None:
    """Seconds this process's main thread has run or waited for a core since it
    started (``/proc/self/schedstat``; None where the kernel keeps no such record)."""
    try:
        with open("/proc/self/schedstat", "rb") as fh:
            running, waiting = fh.read().split()[:2]
        return (int(running) + int(waiting)) / 1e9
    except (OSError, ValueError):
        return None


#: Seconds between a :class:`Pace`'s readings of the clocks.
PACE_PERIOD = 0.1
#: Seconds of the most recent past over which a :class:`Pace` measures.
PACE_SPAN = 1.0


class Pace:
    """Wall seconds per second of one thread's CPU time over the last
    :data:`PACE_SPAN` seconds, read while that thread works.

    A helper thread reads the wall clock and the measured thread's CPU clock
    every :data:`PACE_PERIOD` seconds; :meth:`recent` compares the reading of
    about a span ago with the clocks now. A machine that turns busy late in a
    search shows here at once, where the search's whole span would average it
    away; it shows as what the next second of work will cost. ``watch`` is
    called by the helper thread after each reading (e.g. to end the search
    early when what follows it needs more time at this pace). Used as a
    context manager by the thread it measures. Where a thread's CPU clock
    cannot be read (not on every platform), or with ``active`` false (nothing
    to measure for), :meth:`recent` and :meth:`cpu` say nothing and no thread
    starts.
    """

    def __init__(
        self,
        period: float = PACE_PERIOD,
        span: float = PACE_SPAN,
        *,
        active: bool = True,
        watch: Callable[[Pace], None] | None = None,
    ) -> None:
        self.active = active
        self.period = period
        self.span = span
        self.watch = watch
        self._readings: deque[tuple[float, float]] = deque(maxlen=int(span / period) + 2)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clock: int | None = None
        #: the longest wall time between two readings so far, beyond the period:
        #: how long the measured thread held the interpreter (compiled code does)
        self.longest_hold = 0.0

    def __enter__(self) -> Pace:
        if not self.active:
            return self
        try:
            self._clock = time.pthread_getcpuclockid(threading.get_ident())
            self._read()
        except (AttributeError, OSError):  # no per-thread CPU clock here
            self._clock = None
            return self
        self._thread = threading.Thread(target=self._run, name="teamform-pace", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def cpu(self) -> float | None:
        """The measured thread's CPU seconds now (read from any thread)."""
        return None if self._clock is None else time.clock_gettime(self._clock)

    def _read(self) -> None:
        cpu = self.cpu()
        assert cpu is not None
        wall = time.perf_counter()
        if self._readings:
            hold = wall - self._readings[-1][0] - self.period
            self.longest_hold = max(self.longest_hold, hold)
        self._readings.append((wall, cpu))

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self._read()
            if self.watch is not None:
                try:
                    self.watch(self)
                except Exception:
                    # a helper thread's failure must not print a traceback into a
                    # command's output: said once, and the watching stops
                    log.warning("the pace watcher failed and stopped", exc_info=True)
                    self.watch = None

    def recent(self) -> float | None:
        """Wall seconds per CPU second of the measured thread since the reading
        closest to one span ago (at least 1); None when the readings cover less
        than half a span, or the thread did no work in it. Read from any thread."""
        cpu = self.cpu()
        if cpu is None:
            return None
        wall = time.perf_counter()
        # the oldest reading within the span: the helper may have been kept from
        # reading by work that holds the interpreter, so the span is not always full
        anchor = next((r for r in list(self._readings) if wall - r[0] <= self.span), None)
        if anchor is None or wall - anchor[0] < 0.5 * self.span or cpu <= anchor[1]:
            return None
        return max(1.0, (wall - anchor[0]) / (cpu - anchor[1]))
