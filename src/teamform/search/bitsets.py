"""Weekly slot masks as arrays of 64-bit words, and pair lists as adjacency arrays.

Python integers are convenient bit sets but every operation allocates; the
construction and the overlap bound evaluate millions of team intersections,
so they work on ``(n, WORDS)`` arrays of ``uint64`` with the kernels of
:mod:`teamform.search.bitset_kernels`. Building the arrays needs no numba.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from teamform.availability import SLOTS_PER_WEEK

WORDS = (SLOTS_PER_WEEK + 63) // 64


def to_words(masks: Sequence[int]) -> np.ndarray:
    """Bit sets as a ``(len(masks), WORDS)`` array of little-endian ``uint64`` words."""
    nbytes = WORDS * 8
    raw = b"".join(m.to_bytes(nbytes, "little") for m in masks)
    return np.frombuffer(raw, dtype="<u8").reshape(len(masks), WORDS).astype(np.uint64)


def pairs_csr(n: int, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric adjacency of ``(E, 2)`` learner pairs as (row pointers, column indices)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(rows, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(rows, minlength=n))
    return ptr, cols[order]
