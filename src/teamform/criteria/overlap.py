"""Time-zone overlap: enough common weekly hours for synchronous work.

A team's common time is the set of UTC slots in which every member is
available (see :mod:`teamform.availability`); only runs of at least ``block``
consecutive hours count, since a meeting needs an unbroken stretch. Penalty per
team: the slots (quarter-hours) short of ``hours``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

from teamform.availability import SLOT_MINUTES, SLOTS_PER_WEEK, common_block_slots
from teamform.criteria.base import Term
from teamform.instance import Instance

if TYPE_CHECKING:
    from teamform.cpmodel import SubModel

FULL_WEEK = (1 << SLOTS_PER_WEEK) - 1
#: Above this many learners short of the target, the pairwise part of the bound is skipped.
PAIR_BOUND_MAX = 1000


def mask_matrix(masks: Sequence[int]) -> np.ndarray:
    """Bit sets as a ``(len(masks), SLOTS_PER_WEEK)`` boolean matrix."""
    nbytes = (SLOTS_PER_WEEK + 7) // 8
    raw = b"".join(m.to_bytes(nbytes, "little") for m in masks)
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    return bits.reshape(len(masks), nbytes * 8)[:, :SLOTS_PER_WEEK].astype(bool)


def team_common(masks: Sequence[int], members: Sequence[int]) -> int:
    """Slots in which every member is available."""
    return reduce(lambda a, i: a & masks[i], members, FULL_WEEK)


class OverlapTerm(Term):
    """Quarter-hours short of the common-time target, per team."""

    name = "overlap"
    unit = SLOT_MINUTES / 60
    unit_label = "hours short"

    def __init__(
        self, inst: Instance, *, weight: float, hard: bool, hours: float, block: float
    ) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        self.hours = hours
        self.block_hours = block
        self.need = round(hours * 60 / SLOT_MINUTES)
        self.block = max(1, round(block * 60 / SLOT_MINUTES))
        self._learner_bounds: np.ndarray | None = None

    def common_slots(self, members: Sequence[int]) -> int:
        """Common slots of a team that lie in long-enough runs."""
        return common_block_slots(team_common(self.inst.masks, members), self.block)

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return max(0, self.need - self.common_slots(members))

    def max_penalty(self) -> int:
        """Every team without any common time."""
        return self.inst.k * self.need

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        if self.need == 0:
            return {t: 0 for t in sub.teams}
        model = sub.model
        learners = sub.learners
        pos = {i: p for p, i in enumerate(learners)}
        avail = mask_matrix([self.inst.masks[i] for i in learners])
        min_size = min(int(self.inst.team_lo[t]) for t in sub.teams) if sub.teams else 1
        segments = _segments(avail, max(1, min_size))
        windows = _windows(segments, self.block)
        for t in sub.teams:
            members = sub.members[t]
            y = []
            for g, (_, _, column) in enumerate(segments):
                yg = model.new_bool_var(f"common[{t},{g}]")
                absent = [v for i, v in members if not column[pos[i]]]
                if absent:
                    model.add(sum(absent) == 0).only_enforce_if(yg)
                y.append(yg)
            if self.block <= 1:
                cover = y
            else:
                starts: list[list[cp_model.IntVar]] = [[] for _ in segments]
                for w, span in enumerate(windows):
                    z = model.new_bool_var(f"window[{t},{w}]")
                    model.add_bool_and([y[g] for g in span]).only_enforce_if(z)
                    for g in span:
                        starts[g].append(z)
                cover = []
                for g in range(len(segments)):
                    c = model.new_bool_var(f"cover[{t},{g}]")
                    model.add_bool_or(starts[g]).only_enforce_if(c) if starts[g] else model.add(
                        c == 0
                    )
                    cover.append(c)
            counted = sum(length * c for (_, length, _), c in zip(segments, cover, strict=True))
            short = model.new_int_var(0, self.need, f"overlap_short[{t}]")
            model.add(short >= self.need - counted)
            out[t] = short
        return out

    def learner_bounds(self) -> np.ndarray:
        """Shortfall (slots) every team containing each learner must pay.

        For each distinct availability pattern, a depth-first search finds the
        most common time any team of the smallest size in the section could
        have with a learner of that pattern (avoid pairs ignored, so this is a
        relaxation). Partners are tried in decreasing order of their common
        time with the learner; that value bounds every team containing them,
        which prunes the search. Past a node budget the search stops and the
        weaker bound from the best single partners is used instead.
        """
        if self._learner_bounds is not None:
            return self._learner_bounds
        inst = self.inst
        bounds = np.zeros(inst.n, dtype=np.int64)
        for s in range(len(inst.section_names)):
            teams = inst.teams_of_section(s)
            if not len(teams):
                continue
            partners = int(inst.team_lo[teams].min()) - 1
            patterns: dict[int, list[int]] = {}
            for i in np.flatnonzero(inst.section == s).tolist():
                patterns.setdefault(inst.masks[i], []).append(i)
            # most common patterns first: good partners are found sooner
            items = sorted(patterns.items(), key=lambda kv: -len(kv[1]))
            for mask, group in items:
                best = self._best_team_time(mask, items, partners)
                bounds[group] = max(0, self.need - best)
        self._learner_bounds = bounds
        return bounds

    def _quick_team(
        self, mask: int, patterns: list[tuple[int, list[int]]], partners: int, look: int = 64
    ) -> bool:
        """Whether a team meeting the target is easy to find among common patterns.

        Most learners have plenty of good partners; a greedy team built from
        the ``look`` most common patterns is a witness that their bound is 0,
        which spares them the full search.
        """
        block, need = self.block, self.need
        cur, left = mask, partners
        for other, members in patterns[:look]:
            count = len(members) - (1 if other == mask else 0)
            if count <= 0:
                continue
            nxt = cur & other
            if common_block_slots(nxt, block) >= need:
                cur = nxt
                left -= count
                if left <= 0:
                    return True
        return False

    def _best_team_time(
        self, mask: int, patterns: list[tuple[int, list[int]]], partners: int
    ) -> int:
        """Most block time a team of ``partners`` others can share with ``mask``."""
        block = self.block
        if partners <= 0:
            return common_block_slots(mask, block)
        if self._quick_team(mask, patterns, partners):
            return self.need
        cands: list[tuple[int, int, int]] = []
        for other, members in patterns:
            count = len(members) - (1 if other == mask else 0)
            if count > 0:
                value = common_block_slots(mask & other, block)
                if value > 0:
                    cands.append((value, other, count))
        cands.sort(key=lambda c: -c[0])
        if sum(c[2] for c in cands) < partners:
            return 0
        # weaker fallback: the partners-th best single partner bounds any team
        fallback, left = 0, partners
        for value, _, count in cands:
            left -= count
            if left <= 0:
                fallback = value
                break
        best = 0
        budget = [20000]

        def search(cur: int, start: int, left: int) -> None:
            nonlocal best
            budget[0] -= 1
            if left == 0:
                best = max(best, common_block_slots(cur, block))
                return
            for idx in range(start, len(cands)):
                value, other, count = cands[idx]
                if value <= best or budget[0] <= 0 or best >= self.need:
                    return
                nxt = cur & other
                if common_block_slots(nxt, block) <= best:
                    continue
                for use in range(min(count, left), 0, -1):
                    search(nxt, idx + 1, left - use)

        search(mask, 0, partners)
        return fallback if budget[0] <= 0 else best

    def lower_bound(self) -> int:
        """Forced shortfall, from the learners that cannot reach the target.

        Call ``b_i`` the shortfall of the best team learner ``i`` could join
        (:meth:`learner_bounds`). Two bounds hold, per section, and the larger
        is used:

        * every team pays at least its worst member's ``b_i``; sorting them in
          decreasing order, teams of at most ``cap`` learners pay at least
          every ``cap``-th value;
        * a learner with ``b_i > 0`` either has no such learner beside it, and
          its team pays ``b_i``, or shares its team with one, ``j``, and the team
          then pays at least ``s_i``, the shortfall forced by ``i`` and ``j``'s
          own common time (minimised over ``j``); a team shared by up to
          ``cap`` of them pays at least the mean of their ``s_i``. Each such
          learner thus accounts for at least ``min(b_i, s_i / cap)``. Pairs are
          only examined for up to :data:`PAIR_BOUND_MAX` such learners.
        """
        inst = self.inst
        b = self.learner_bounds()
        total = 0
        for s in range(len(inst.section_names)):
            teams = inst.teams_of_section(s)
            if not len(teams):
                continue
            cap = int(inst.team_hi[teams].max())
            members = np.flatnonzero(inst.section == s)
            vals = np.sort(b[members])[::-1]
            chunks = int(vals[::cap].sum())
            hard = [i for i in members.tolist() if b[i] > 0]
            shared = 0.0
            if 1 < len(hard) <= PAIR_BOUND_MAX:
                masks = [inst.masks[i] for i in hard]
                for a, i in enumerate(hard):
                    best = max(
                        common_block_slots(masks[a] & masks[c], self.block)
                        for c in range(len(hard))
                        if c != a
                    )
                    s_i = max(self.need - best, int(b[i]))
                    shared += min(float(b[i]), s_i / cap)
            # penalties are integers, so a fractional bound rounds up
            total += max(chunks, math.ceil(shared - 1e-9))
        return total

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        have = self.common_slots(members) * self.unit
        return (
            f"overlap: {have:g} h common in blocks of {self.block_hours:g} h, need {self.hours:g}"
        )


def _segments(avail: np.ndarray, threshold: int) -> list[tuple[int, int, np.ndarray]]:
    """Runs of slots with the same set of available learners.

    Only slots where at least ``threshold`` learners are available can be
    common to a team; the others are dropped (they break runs). Returns
    ``(start slot, length, availability column)``; runs may wrap the week end.
    """
    n_slots = avail.shape[1]
    useful = avail.sum(axis=0) >= threshold
    if not useful.any():
        return []
    change = np.ones(n_slots, dtype=bool)
    change[1:] = (avail[:, 1:] != avail[:, :-1]).any(axis=0) | (useful[1:] != useful[:-1])
    change[0] = bool((avail[:, 0] != avail[:, -1]).any() or useful[0] != useful[-1])
    starts = np.flatnonzero(change)
    if len(starts) == 0:
        return [(0, n_slots, avail[:, 0])]
    segs = []
    for a, b in zip(starts.tolist(), [*starts[1:].tolist(), int(starts[0]) + n_slots], strict=True):
        if useful[a]:
            segs.append((a, b - a, avail[:, a]))
    return segs


def _windows(segments: list[tuple[int, int, np.ndarray]], block: int) -> list[tuple[int, ...]]:
    """Minimal spans of adjacent segments lasting at least ``block`` slots.

    For each segment, the shortest span starting there (forward) and the
    shortest span ending there (backward). Every slot of a common run of at
    least ``block`` slots lies in one of these spans, so "covered by a fully
    common span" is exactly "in a long-enough common run".
    """
    count = len(segments)
    if count == 0:
        return []
    if count == 1 and segments[0][1] == SLOTS_PER_WEEK:
        return [(0,)]

    def adjacent(g: int) -> bool:
        start, length, _ = segments[g]
        nxt = segments[(g + 1) % count][0]
        return (start + length) % SLOTS_PER_WEEK == nxt % SLOTS_PER_WEEK

    found: dict[tuple[int, ...], None] = {}
    for g in range(count):
        span, total, h = [g], segments[g][1], g
        while total < block and adjacent(h) and len(span) < count:
            h = (h + 1) % count
            span.append(h)
            total += segments[h][1]
        if total >= block:
            found.setdefault(tuple(sorted(span)), None)
        span, total, h = [g], segments[g][1], g
        while total < block and len(span) < count and adjacent((h - 1) % count):
            h = (h - 1) % count
            span.append(h)
            total += segments[h][1]
        if total >= block:
            found.setdefault(tuple(sorted(span)), None)
    return list(found)
