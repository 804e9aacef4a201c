"""An assignment's teams: each team's member list, and the learners sorted by team.

Per-team work on a large cohort (validating, scoring, summarising 12 500 teams)
wants both shapes: plain member lists for the criteria's own evaluation of one
team, and the learners grouped by team in one array for computing a measure
of every team at once (``np.bincount``, ``np.add.reduceat``). One stable sort
gives both.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from functools import cached_property
from typing import Any, TypeVar, overload

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
_T = TypeVar("_T")


class TeamLayout(Sequence[int]):
    """The teams of an assignment (learner ``i`` in team ``assign[i]``, 0-based).

    It reads as the assignment itself (``layout[i]`` is learner ``i``'s team,
    ``np.asarray(layout)`` the array), so that code given an assignment can
    also look up a team's members without a pass over the cohort.

    Parameters
    ----------
    assignment
        Team index of every learner, each in ``0 .. k - 1``.
    k
        Number of teams.

    Attributes
    ----------
    assign
        The assignment as an int64 array.
    order
        Learner indices sorted by team, in increasing index inside a team.
    starts
        Team ``t``'s learners are ``order[starts[t]:starts[t + 1]]``.
    """

    def __init__(self, assignment: Sequence[int] | IntArray, k: int) -> None:
        self.assign: IntArray = np.asarray(assignment, dtype=np.int64)
        self.k = k
        if self.assign.size and (self.assign.min() < 0 or self.assign.max() >= k):
            raise IndexError(f"team index outside 0-{k - 1}")
        self.order: IntArray = np.argsort(self.assign, kind="stable").astype(np.int64)
        counts = np.bincount(self.assign, minlength=k)
        self.starts: IntArray = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._memo: dict[Hashable, Any] = {}

    def __len__(self) -> int:
        return len(self.assign)

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> list[int]: ...

    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            return list(self.assign[i].tolist())
        return int(self.assign[i])

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> IntArray:
        return self.assign if dtype is None else self.assign.astype(dtype)

    @property
    def sizes(self) -> IntArray:
        """Members of each team."""
        return np.diff(self.starts)

    @cached_property
    def teams(self) -> list[int]:
        """The assignment as a plain list (each learner's team)."""
        return list(self.assign.tolist())

    @cached_property
    def members(self) -> list[list[int]]:
        """Each team's learner indices, in increasing order."""
        order = self.order.tolist()
        bounds = self.starts.tolist()
        return [order[a:b] for a, b in itertools.pairwise(bounds)]

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, once per layout and ``key``: a measure of every team that
        several readers of this assignment ask for (its teams' common time, say)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def team_sums(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Sum over each team's members of ``values`` (one per learner, or ``(n, m)`` rows)."""
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 1:
            return np.bincount(self.assign, weights=arr, minlength=self.k).astype(np.float64)
        columns = [
            np.bincount(self.assign, weights=arr[:, j], minlength=self.k)
            for j in range(arr.shape[1])
        ]
        return np.stack(columns, axis=1) if columns else np.zeros((self.k, 0), dtype=np.float64)


def team_members(assignment: Sequence[int] | IntArray, k: int) -> list[list[int]]:
    """Members of each team, from a learner-to-team array."""
    return TeamLayout(assignment, k).members
