"""Word-array slot masks: the compiled run counting agrees with the integer version."""

from __future__ import annotations

import numpy as np
import pytest

from teamform.availability import FULL_WEEK_MASK, SLOTS_PER_WEEK, common_block_slots
from teamform.search.bitset_kernels import and_block_slots, block_slots
from teamform.search.bitsets import pairs_csr, to_words


def random_masks(count: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    masks = []
    for _ in range(count):
        mask = 0
        for _ in range(int(rng.integers(0, 12))):
            start, length = int(rng.integers(SLOTS_PER_WEEK)), int(rng.integers(1, 100))
            for s in range(start, start + length):
                mask |= 1 << (s % SLOTS_PER_WEEK)
        masks.append(mask)
    return masks


EDGES = [
    0,
    FULL_WEEK_MASK,
    FULL_WEEK_MASK ^ 1,  # one gap at the start: a single run wrapping the week end
    FULL_WEEK_MASK ^ (1 << (SLOTS_PER_WEEK - 1)),
    1,
    1 << (SLOTS_PER_WEEK - 1),
    (1 << (SLOTS_PER_WEEK - 1)) | 1,  # two slots, one run across the week end
    (1 << (SLOTS_PER_WEEK - 1)) | 0b111,
    ((1 << 64) - 1) << 32,  # a run over a word boundary
    ((1 << 64) - 1) << 640,  # a run into the last, partial word
]


@pytest.mark.parametrize("block", [1, 2, 4, 5, 63, 64, 65, 200, SLOTS_PER_WEEK])
def test_block_slots_match_integer_masks(block: int) -> None:
    masks = EDGES + random_masks(400, seed=block)
    words = to_words(masks)
    got = [block_slots(words[i], block) for i in range(len(masks))]
    assert got == [common_block_slots(m, block) for m in masks]


def test_and_block_slots_is_the_intersection() -> None:
    masks = random_masks(60, seed=7)
    words = to_words(masks)
    scratch = np.empty(words.shape[1], dtype=np.uint64)
    for a in range(0, 60, 3):
        for b in range(1, 60, 7):
            got = and_block_slots(words[a], words[b], 4, scratch)
            assert got == common_block_slots(masks[a] & masks[b], 4)


def test_pairs_csr_is_symmetric() -> None:
    ptr, idx = pairs_csr(5, np.array([[0, 3], [3, 4], [1, 0]]))
    rows = {i: sorted(idx[ptr[i] : ptr[i + 1]].tolist()) for i in range(5)}
    assert rows == {0: [1, 3], 1: [0], 2: [], 3: [0, 4], 4: [3]}
    ptr, idx = pairs_csr(3, np.zeros((0, 2), dtype=np.int64))
    assert ptr.tolist() == [0, 0, 0, 0] and len(idx) == 0
