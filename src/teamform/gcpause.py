"""Pausing the garbage collector while large, acyclic data is built.

Reading a roster of 50 000 learners or summarising 12 500 teams allocates
millions of small objects; each full collection walks every live object, so
with the collector running such phases cost up to half as much again (and a
single list of lists can take ten times longer). These phases create no
reference cycles worth collecting, so the collector is paused over them and
resumed afterwards; reference counting still frees everything they drop.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Set by :func:`left_off`: paused blocks leave the collector off when they end.
_HOLD = [False]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block (usable as a decorator)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled and not _HOLD[0]:
            gc.enable()


def left_off() -> None:
    """From now on, a paused block leaves the collector off when it ends.

    For a process about to end (the command line's ``form``, once its search is
    over): resumed after the result is built, the collector's first pass walks
    every object allocated while it was paused (0.3-0.5 s for the summaries of
    12 500 teams) only for the process to end anyway.
    """
    _HOLD[0] = True
