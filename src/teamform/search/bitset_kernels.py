"""Kernels on weekly slot masks held as 64-bit words (:func:`teamform.search.bitsets.to_words`).

:func:`block_slots` counts the slots of a mask lying in long-enough cyclic
runs, the same value as :func:`teamform.availability.common_block_slots`,
walking runs word by word instead of bit by bit. Imported only by the modules
whose kernels call these (numba compiles them inline there).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from teamform.availability import SLOTS_PER_WEEK
from teamform.search.kernels import tie_module


@njit(cache=True, inline="always")
def popcount(x: np.uint64) -> int:
    """Set bits of a 64-bit word (SWAR, constant time)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))  # type: ignore[return-value]


@njit(cache=True, inline="always")
def _trailing_zeros(x: np.uint64) -> int:
    """Zero bits below the lowest set bit (64 for zero)."""
    if x == np.uint64(0):
        return 64
    return popcount((x & (~x + np.uint64(1))) - np.uint64(1))


@njit(cache=True)
def block_slots(mask: np.ndarray, block: int) -> int:
    """Slots of ``mask`` (one row of :func:`to_words`) in cyclic runs of ``block`` or more.

    A run may cross from the end of the week into its start. A full week
    counts every slot; bits past the week are ignored.
    """
    nbits = SLOTS_PER_WEEK
    nw = mask.shape[0]
    total = 0
    if block <= 1:
        for w in range(nw):
            width = min(64, nbits - 64 * w)
            x = mask[w]
            if width < 64:
                x &= (np.uint64(1) << np.uint64(width)) - np.uint64(1)
            total += popcount(x)
        return total
    run = 0
    head = -1  # length of the run starting at slot 0, joined to the last run at the end
    for w in range(nw):
        width = min(64, nbits - 64 * w)
        x = mask[w]
        if width < 64:
            x &= (np.uint64(1) << np.uint64(width)) - np.uint64(1)
        pos = 0
        while pos < width:
            rest = x >> np.uint64(pos)
            if rest & np.uint64(1):
                ones = min(_trailing_zeros(~rest), width - pos)
                run += ones
                pos += ones
            else:
                if run > 0:
                    if head < 0 and run == 64 * w + pos:
                        head = run
                    elif run >= block:
                        total += run
                    run = 0
                elif head < 0 and w == 0 and pos == 0:
                    head = 0
                zeros = min(_trailing_zeros(rest), width - pos)
                pos += zeros
    if run == nbits:
        return nbits
    if head < 0:
        head = 0
    if head + run >= block:
        total += head + run
    return total


@njit(cache=True)
def and_block_slots(a: np.ndarray, b: np.ndarray, block: int, scratch: np.ndarray) -> int:
    """:func:`block_slots` of ``a & b``, using ``scratch`` (one row) as workspace."""
    for w in range(a.shape[0]):
        scratch[w] = a[w] & b[w]
    return block_slots(scratch, block)


# numba checks only this file: the modules compiled in count too
tie_module(globals())
