"""Stopping a search early on request, keeping the best plan found so far.

A caller (the command line on Ctrl-C, the web app's cancel button, a
developer's own thread) passes a :class:`threading.Event` to
:func:`teamform.form`; setting it makes every strategy stop within a fraction
of a second. Python loops poll the event between bursts of work; CP-SAT solves
are stopped from a small watcher thread, since the solver only calls back into
Python when it finds a solution.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


#: How often (seconds) a watcher looks at the event while CP-SAT runs.
POLL_SECONDS = 0.02


def is_set(cancel: threading.Event | None) -> bool:
    """Whether a stop was requested (``None``: never)."""
    return cancel is not None and cancel.is_set()


@contextmanager
def stopping(solver: cp_model.CpSolver, cancel: threading.Event | None) -> Iterator[None]:
    """Stop ``solver``'s search as soon as ``cancel`` is set, while in this block."""
    if cancel is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        # waits on ``done`` so that the block's exit is never delayed by a poll
        while not done.wait(POLL_SECONDS):
            if cancel.is_set():
                # repeated: a stop asked just before the solve has begun is not remembered
                solver.stop_search()

    watcher = threading.Thread(target=watch, name="teamform-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


class Stop(threading.Event):
    """A stop of the search's own (e.g. its time is up early), which also counts as
    set whenever the caller's ``cancel`` is: handed to a search in place of
    ``cancel``, it stops it for either reason, with no delay for the caller's."""

    def __init__(self, cancel: threading.Event | None) -> None:
        super().__init__()
        self.cancel = cancel

    def is_set(self) -> bool:
        """Whether this stop, or the caller's, was set."""
        return super().is_set() or is_set(self.cancel)
