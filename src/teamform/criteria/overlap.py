"""Time-zone overlap: enough common weekly hours for synchronous work.

A team's common time is the set of UTC slots in which every member is
available (see :mod:`teamform.availability`); only runs of at least ``block``
consecutive hours count, since a meeting needs an unbroken stretch. Penalty per
team: the slots (quarter-hours) short of ``hours``, plus ``below`` hours' worth
of slots for a team short at all and ``none`` more for a team with no common
block: steps that make the search keep a team's last common hour, and keep the
number of teams below the target down, before it trades hours for other goals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, field_validator

from teamform.availability import (
    HOURS_PER_WEEK,
    SLOT_MINUTES,
    SLOTS_PER_WEEK,
    check_reference_date,
    common_block_slots,
)
from teamform.criteria.base import (
    Criterion,
    Relaxation,
    Term,
    learner_label,
    learners_named,
)
from teamform.layout import TeamLayout
from teamform.result import CriterionCheck, TeamFlag, team_flag
from teamform.search.bitsets import to_words
from teamform.search.kernels import usable

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.search.compiled_data import OverlapRecord
else:
    from teamform.lazy import cp_model  # imported when a model is first made


class Overlap(Criterion):
    """Common weekly hours for synchronous work.

    Penalty: per team, the hours short of ``hours`` of common availability,
    counting only runs of at least ``block`` consecutive hours. Computed in UTC
    for the week of ``reference_date`` so daylight-saving time is right.
    ``below`` more hours are charged to a team short of the target at all, and
    ``none`` more to a team without a single common block: the first hours a
    team lacks, and its last common hour, weigh more than the others.
    """

    hours: float = Field(default=2.0, ge=0, le=HOURS_PER_WEEK)
    block: float = Field(default=1.0, ge=0, le=HOURS_PER_WEEK)
    below: float = Field(default=0.0, ge=0, le=HOURS_PER_WEEK)
    none: float = Field(default=0.0, ge=0, le=HOURS_PER_WEEK)
    # a TOML date or a "YYYY-MM-DD" string
    reference_date: date | None = Field(default=None, strict=False)

    @field_validator("reference_date")
    @classmethod
    def _in_range(cls, value: date | None) -> date | None:
        if value is not None:
            check_reference_date(value)
        return value


FULL_WEEK = (1 << SLOTS_PER_WEEK) - 1
#: Where the bound's compiled kernels live (imported only when one can run).
KERNELS = "teamform.criteria.overlap_kernels"
#: Above this many learners short of the target, the pairwise part of the bound is skipped.
PAIR_BOUND_MAX = 1000
#: Common masks whose block time is remembered (a few MB at most).
_SLOTS_CACHE = 1 << 16


def mask_matrix(masks: Sequence[int]) -> np.ndarray:
    """Bit sets as a ``(len(masks), SLOTS_PER_WEEK)`` boolean matrix."""
    nbytes = (SLOTS_PER_WEEK + 7) // 8
    raw = b"".join(m.to_bytes(nbytes, "little") for m in masks)
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    return bits.reshape(len(masks), nbytes * 8)[:, :SLOTS_PER_WEEK].astype(bool)


def team_common(masks: Sequence[int], members: Sequence[int]) -> int:
    """Slots in which every member is available."""
    return reduce(lambda a, i: a & masks[i], members, FULL_WEEK)


def team_commons(inst: Instance, layout: TeamLayout) -> list[int]:
    """:func:`team_common` of every team of ``layout`` (the full week for an empty
    team), all at once: one AND-reduction of the members' words per team."""

    def compute() -> list[int]:
        words = inst.mask_words
        out = [FULL_WEEK] * layout.k
        sizes = layout.sizes
        filled = np.flatnonzero(sizes > 0)
        if len(filled) and words.shape[1]:
            rows = np.bitwise_and.reduceat(words[layout.order], layout.starts[filled], axis=0)
            # little-endian words, as the masks were cut into them
            raw = rows.astype("<u8", copy=False).tobytes()
            width = rows.shape[1] * 8
            for p, t in enumerate(filled.tolist()):
                out[t] = int.from_bytes(raw[p * width : (p + 1) * width], "little")
        return out

    return layout.memo(("team_commons", id(inst)), compute)


class OverlapTerm(Term):
    """Quarter-hours short of the common-time target, per team."""

    name = "overlap"
    unit = SLOT_MINUTES / 60
    unit_label = "hours short"

    def __init__(
        self,
        inst: Instance,
        *,
        weight: float,
        hard: bool,
        hours: float,
        block: float,
        below: float = 0.0,
        none: float = 0.0,
    ) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        self.hours = hours
        self.block_hours = block
        self.need = round(hours * 60 / SLOT_MINUTES)
        self.block = max(1, round(block * 60 / SLOT_MINUTES))
        # the steps, in slots; without a target there is nothing to fall short of
        self.below_step = round(below * 60 / SLOT_MINUTES) if self.need else 0
        self.none_step = round(none * 60 / SLOT_MINUTES) if self.need else 0
        self._learner_bounds: np.ndarray | None = None
        # block time of common masks already seen: teams repeat them, and summaries
        # ask for each team's several times
        self._slots_of: dict[int, int] = {}
        # each section's learners, for the swaps the summaries suggest
        self._section_learners: dict[int, np.ndarray] = {}

    def shortfall_penalty(self, common: int) -> int:
        """Penalty (slots) of a team with ``common`` slots of block time."""
        if common >= self.need:
            return 0
        return self.need - common + self.below_step + (self.none_step if common == 0 else 0)

    def common_slots(self, members: Sequence[int]) -> int:
        """Common slots of a team that lie in long-enough runs."""
        return self._block_slots(team_common(self.inst.masks, members))

    def _block_slots(self, common: int) -> int:
        """:func:`common_block_slots` of a team's common mask, remembered (teams share masks)."""
        got = self._slots_of.get(common)
        if got is None:
            if len(self._slots_of) >= _SLOTS_CACHE:
                self._slots_of.clear()
            got = self._slots_of[common] = common_block_slots(common, self.block)
        return got

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return self.shortfall_penalty(self.common_slots(members))

    def max_penalty(self) -> int:
        """Every team without any common time."""
        return self.inst.k * self.shortfall_penalty(0)

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
            parts: list[cp_model.IntVar] = [short]
            coefs = [1]
            if self.below_step:
                # short of the target at all: some slot is missing
                below = model.new_bool_var(f"overlap_below[{t}]")
                model.add(short == 0).only_enforce_if(~below)
                parts.append(below)
                coefs.append(self.below_step)
            if self.none_step:
                # no common block at all: the whole target is missing
                empty = model.new_bool_var(f"overlap_none[{t}]")
                model.add(short <= self.need - 1).only_enforce_if(~empty)
                parts.append(empty)
                coefs.append(self.none_step)
            out[t] = cp_model.LinearExpr.weighted_sum(parts, coefs) if len(parts) > 1 else short
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
            if usable(
                (KERNELS, "_pattern_best_times"),
                "overlap bound from each learner's own hours (weaker)",
            ):
                from teamform.criteria.overlap_kernels import _pattern_best_times

                best = _pattern_best_times(
                    to_words([mask for mask, _ in items]),
                    np.array([len(group) for _, group in items], dtype=np.int64),
                    self.need,
                    self.block,
                    partners,
                )
            else:
                # no team has more common time than any of its members alone
                best = np.array(
                    [min(self.need, common_block_slots(m, self.block)) for m, _ in items],
                    dtype=np.int64,
                )
            for (_, group), value in zip(items, best.tolist(), strict=True):
                bounds[group] = max(0, self.need - value)
        self._learner_bounds = bounds
        return bounds

    def lower_bound(self) -> int:
        """Forced shortfall, from learners and from teams that cannot reach the target.

        Call ``b_i`` the shortfall of the best team learner ``i`` could join
        (:meth:`learner_bounds`). Two bounds hold, per section, and the larger
        is used:

        * the team bound (:meth:`layer_bound`): for every level ``tau``, the
          learners that cannot all be in teams short by at most ``tau`` slots,
          because of their own ``b_i`` or because the learners they could
          share such a team with are too few to make whole teams, need at
          least that many teams over ``tau``, ``cap`` learners a team; summed
          over the levels. It includes the older sorting bound (every team
          pays its worst member's ``b_i``: every ``cap``-th of them sorted);
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
            layers = self.layer_bound(s)
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
            total += max(chunks, layers, math.ceil(shared - 1e-9))
        total += self.step_bound()
        # the share and partition bounds count the steps themselves
        sections = range(len(inst.section_names))
        return max(
            total,
            sum(self.share_bound(s) for s in sections),
            sum(self.partition_bound(s) for s in sections),
        )

    def forced_teams(self) -> tuple[int, int]:
        """Teams that must be below the target, and teams that must have no common block.

        A learner whose best possible team (:meth:`learner_bounds`) falls short
        puts its team below the target; one whose best team has no common block
        leaves its team without any. A team holds at most ``cap`` of them, so
        each section has at least ``ceil(count / cap)`` such teams.
        """
        inst = self.inst
        if self.need == 0:
            return 0, 0
        b = self.learner_bounds()
        below = empty = 0
        for s in range(len(inst.section_names)):
            teams = inst.teams_of_section(s)
            if not len(teams):
                continue
            cap = int(inst.team_hi[teams].max())
            vals = b[inst.section == s]
            below += -(-int((vals > 0).sum()) // cap)
            empty += -(-int((vals >= self.need).sum()) // cap)
        return below, empty

    def step_bound(self) -> int:
        """The steps' share of the bound: every forced team pays its steps."""
        if not (self.below_step or self.none_step):
            return 0
        below, empty = self.forced_teams()
        return self.below_step * below + self.none_step * empty

    def share_bound(self, section: int) -> int:
        """Penalty, steps included, that the learners bound to be short force on ``section``.

        Call a learner *short* when its best possible team falls short
        (:meth:`learner_bounds`: ``b_i > 0``). Every team either has a common
        block, and then its short members share that block pairwise, or has
        none, and pays ``Z``, the penalty of no common time. A team with a
        block and short members ``C`` pays at least ``max b_i + below`` and at
        least ``need - pair + below`` for each pair of them; ``C`` is a clique
        of the graph joining short learners that share a block, so ``|C|`` is at
        most ``w_i``: one plus the short learners sharing a block with ``i``,
        and at most ``cap``. Each short learner therefore accounts for at least
        the cheapest of: ``b_i + below`` (alone), ``(max(b_i, need - p_i) +
        below) / w_i`` (with others; ``p_i`` its best pair's block time) and
        ``Z / cap`` (no common time). The sum is a feasible dual of the set
        partitioning of the short learners into teams, so never above the
        optimum; it binds where rare availability forces teams short or
        without common time, which counting learners alone does not see.
        """
        inst = self.inst
        got = self.section_bounds(section)
        if got is None:
            return 0
        teams, members, b = got
        if not usable(
            (KERNELS, "_short_shares"), "overlap bound without the short learners' shares (weaker)"
        ):
            return 0
        from teamform.criteria.overlap_kernels import _short_shares

        short = members[b[members] > 0]
        words, counts, pattern_b = _by_pattern(inst.masks, short, b)
        cap = int(inst.team_hi[teams].max())
        shares = _short_shares(
            words,
            counts,
            pattern_b,
            self.need,
            self.block,
            self.below_step,
            float(self.shortfall_penalty(0)),
            cap,
        )
        # penalties are integers, so a fractional bound rounds up
        return math.ceil(float((counts * shares).sum()) - 1e-9)

    def section_bounds(self, section: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The teams and learners of ``section`` and every learner's :meth:`learner_bounds`;
        None when there is nothing to bound (no target, no teams or no learners)."""
        teams = self.inst.teams_of_section(section)
        members = np.flatnonzero(self.inst.section == section)
        if self.need == 0 or not len(teams) or not len(members):
            return None
        return teams, members, self.learner_bounds()

    def partition_bound(self, section: int) -> int:
        """Penalty, steps included, of the teams holding ``section``'s short learners:
        the least over every way of grouping them into teams, each group paying
        the best team any plan could build around it, and on small cohorts at
        least as many teams without common time as the exact window packing
        proves (:mod:`teamform.criteria.overlap_partition`)."""
        from teamform.criteria.overlap_partition import partition_bound

        return partition_bound(self, section)

    def layer_bound(self, section: int) -> int:
        """Shortfall forced on the teams of ``section``, level by level.

        The total shortfall is the sum over levels ``tau = 0 .. need - 1`` of
        the number of teams short by more than ``tau``. A team short by at
        most ``tau`` has members with ``b_i <= tau`` whose every pair shares at
        least ``need - tau`` slots in blocks (a team's common time lies in
        each pair's). In the graph joining such pairs it is a clique, so it
        lies inside one connected component; the members of a component in
        such teams therefore make whole teams, of sizes the section allows.
        Learners with ``b_i > tau``, plus, per component, what is left over
        after the most of it that whole teams can hold, are in teams short by
        more than ``tau``; at most ``cap`` to a team. Avoid pairs, the other
        criteria and the exact team count are ignored, so this is a
        relaxation: never above the optimum. Work is per availability
        pattern, quadratic in their number (a few thousand at most).
        """
        inst = self.inst
        got = self.section_bounds(section)
        if got is None:
            return 0
        teams, members, b = got
        if not usable(
            (KERNELS, "_forced_per_level"), "overlap bound without its team-level part (weaker)"
        ):
            return 0
        from teamform.criteria.overlap_kernels import _forced_per_level

        words, counts, pattern_b = _by_pattern(inst.masks, members, b)
        # what whole teams of the allowed sizes can hold, for every head count
        reach = np.zeros(len(members) + 1, dtype=np.bool_)
        reach[0] = True
        sizes = sorted(
            {
                z
                for t in teams.tolist()
                for z in range(int(inst.team_lo[t]), int(inst.team_hi[t]) + 1)
            }
        )
        for m in range(1, len(reach)):
            reach[m] = any(z <= m and reach[m - z] for z in sizes if z > 0)
        held = np.maximum.accumulate(np.where(reach, np.arange(len(reach)), 0))
        leftover = np.arange(len(reach)) - held
        forced = _forced_per_level(words, counts, pattern_b, self.need, self.block, leftover)
        cap = int(inst.team_hi[teams].max())
        return int(sum(-(-int(f) // cap) for f in forced))

    guard_per_learner = True

    def measure(self, members: Sequence[int], team: int, penalty: int) -> CriterionCheck:
        have = self.natural(self.common_slots(members)) if len(members) else 0.0
        return self._measured(have, penalty)

    def _measured(self, have: float, penalty: int) -> CriterionCheck:
        score = 100.0 if self.hours <= 0 else round(100.0 * min(1.0, have / self.hours), 1)
        return self.check(
            penalty,
            value=have,
            target=f">= {self.hours:g} h a week in blocks of >= {self.block_hours:g} h",
            unit="h",
            score=score,
        )

    def team_block_slots(self, layout: TeamLayout) -> list[int]:
        """:meth:`common_slots` of every team of ``layout``."""

        def compute() -> list[int]:
            return [self._block_slots(common) for common in team_commons(self.inst, layout)]

        return layout.memo(("team_block_slots", id(self)), compute)

    def measure_teams(
        self, layout: TeamLayout, penalties: Sequence[int], teams: Sequence[int]
    ) -> list[CriterionCheck]:
        slots, sizes = self.team_block_slots(layout), layout.sizes.tolist()
        return [
            self._measured(self.natural(slots[t]) if sizes[t] else 0.0, int(penalties[t]))
            for t in teams
        ]

    def checks_of_teams(self, layout: TeamLayout, teams: Sequence[int]) -> list[list[TeamFlag]]:
        slots, members = self.team_block_slots(layout), layout.members
        out = []
        for t in teams:
            have = self.natural(slots[t])
            if have >= self.hours:
                out.append(self._met(have))
            else:
                out.append(self._short(have, layout, members[t]))
        return out

    def _met(self, have: float) -> list[TeamFlag]:
        msg = f"common hours {have:g} meet target {self.hours:g}"
        return [team_flag(code="overlap", ok=True, message=msg)]

    def team_checks(
        self, members: Sequence[int], team: int, assignment: Sequence[int] | np.ndarray
    ) -> list[TeamFlag]:
        mem = list(members)
        have = self.natural(self.common_slots(mem))
        if have >= self.hours:
            return self._met(have)
        return self._short(have, assignment, mem)

    def _short(
        self, have: float, assignment: Sequence[int] | np.ndarray, mem: list[int]
    ) -> list[TeamFlag]:
        msg = f"common hours {have:g} below target {self.hours:g}"
        who: list[str] = []
        limit = _limiting_member(self, assignment, mem)
        if limit is not None:
            msg, who = f"{msg}; {limit[0]}", limit[1]
        return [team_flag(code="overlap", message=msg, learners=who)]

    def precheck(self) -> list[str]:
        inst = self.inst
        bounds = self.learner_bounds()
        bad = np.flatnonzero(bounds).tolist()
        if not bad:
            return []
        # learners grouped by the most common time any teammates can give them
        by_best: dict[int, list[int]] = {}
        for i in bad:
            by_best.setdefault(self.need - int(bounds[i]), []).append(i)
        out = []
        for best, group in sorted(by_best.items()):
            out.append(
                f"{self.conflict_label()} cannot hold for {learners_named(inst, group)} "
                f"(best possible with any teammates: {self.natural(best):g} h)"
            )
        lowest = self.natural(min(by_best))
        if lowest > 0:
            out.append(
                f"relax to overlap >= {lowest:g} h (the most every learner above allows), "
                "or make overlap soft (hard = false)"
            )
        else:
            worst = by_best[min(by_best)]
            out.append(
                f"no overlap target above 0 h can hold for {learners_named(inst, worst)}: "
                "make overlap soft (hard = false) or ask for more availability"
            )
        return out

    def conflict_label(self) -> str:
        return f"overlap >= {self.hours:g} h (blocks of {self.block_hours:g} h)"

    def relaxations(self) -> list[Relaxation]:
        def relaxed(hours: float) -> Term:
            return OverlapTerm(
                self.inst, weight=self.weight, hard=True, hours=hours, block=self.block_hours
            )

        return [
            Relaxation(
                f"overlap >= {self.hours:g} h",
                [self.natural(s) for s in range(self.need - 1, -1, -1)],
                relaxed,
                lambda hours: f"overlap >= {hours:g} h",
            )
        ]

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        have = self.common_slots(members) * self.unit
        return (
            f"overlap: {have:g} h common in blocks of {self.block_hours:g} h, need {self.hours:g}"
        )

    def compiled_data(self) -> OverlapRecord:
        from teamform.search.compiled_data import OverlapRecord, cost_per_unit

        return OverlapRecord(
            np.ascontiguousarray(self.inst.mask_words, dtype=np.uint64),
            self.need,
            self.block,
            cost_per_unit(self),
            self.below_step,
            self.none_step,
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


#: Learners of other teams looked at for a swap that gives a team its common time.
SWAP_POOL = 600
#: Of those, the ones sharing most time with the team that are tried in full.
SWAP_TRIES = 12


def _limiting_member(
    term: OverlapTerm, assignment: Sequence[int] | np.ndarray, mem: list[int]
) -> tuple[str, list[str]] | None:
    """Who limits a team's common time, and a swap that would give it more.

    The limiting member is the one whose absence leaves the most common time;
    the swap trades them for a learner of another team of the section (neither
    pinned nor in an avoid pair with the new teammates) so that the two teams
    together fall least short of the target. Returns the sentence and the ids
    named, or None when no single member limits the team.
    """
    if len(mem) < 2:
        return None
    inst = term.inst
    have = term.common_slots(mem)
    m, without = max(
        ((i, term.common_slots([x for x in mem if x != i])) for i in mem),
        key=lambda pair: (pair[1], -pair[0]),
    )
    if without <= have:
        return None
    text = f"{learner_label(inst, m)} limits it (without them: {term.natural(without):g} h)"
    named = [inst.ids[m]]
    swap = _swap(term, assignment, mem, m)
    if swap is not None:
        j, u, ht, hu, hu_before = swap
        text += (
            f"; swapping them with {learner_label(inst, j)} of team {u + 1} gives this team "
            f"{ht:g} h and team {u + 1} {hu:g} h (now {hu_before:g} h)"
        )
        named.append(inst.ids[j])
    return text, named


def _swap(
    term: OverlapTerm, assignment: Sequence[int] | np.ndarray, mem: list[int], m: int
) -> tuple[int, int, float, float, float] | None:
    inst = term.inst
    assign = np.asarray(assignment)
    team = int(assign[m])
    rest = [i for i in mem if i != m]
    pinned = inst.pins.team >= 0 if inst.pins is not None else None
    if pinned is not None and pinned[m]:
        return None
    pool_ids = _swap_pool(term, assign, team, pinned, int(inst.section[m]))
    base = team_common(inst.masks, rest)
    # the most time shared with the team first (ties: lower index); only the first few count
    words = inst.mask_words
    base_words = np.frombuffer(base.to_bytes(words.shape[1] * 8, "little"), dtype="<u8")
    shared = np.bitwise_count(words[pool_ids] & base_words).sum(axis=1, dtype=np.int64)
    tried = pool_ids[np.argsort(-shared, kind="stable")[:SWAP_TRIES]].tolist()
    team_members = _members_of(assignment, assign, {int(assign[j]) for j in tried})
    avoid, masks = inst.avoid_adj, inst.masks
    need = term.hours
    # the other teams' time as it is: every team's at once where the summaries keep it
    now = term.team_block_slots(assignment) if isinstance(assignment, TeamLayout) else None

    def short(hours: float) -> float:
        return max(0.0, need - hours)

    def hours(common: int) -> float:
        return term.natural(term._block_slots(common))

    before = hours(base & masks[m])
    best: tuple[float, int, int, float, float, float] | None = None
    for j in tried[:SWAP_TRIES]:
        u = int(assign[j])
        other = team_members[u]
        moved_in = [x for x in other if x != j]
        if any(x in rest for x in avoid[j]) or any(x in moved_in for x in avoid[m]):
            continue
        ht = hours(base & masks[j])
        hu_before = term.natural(now[u]) if now is not None else hours(team_common(masks, other))
        hu = hours(team_common(masks, moved_in) & masks[m])
        change = short(ht) + short(hu) - short(before) - short(hu_before)
        if change < 0 and (best is None or (change, j) < (best[0], best[1])):
            best = (change, j, u, ht, hu, hu_before)
    if best is None:
        return None
    return best[1], best[2], best[3], best[4], best[5]


def _swap_pool(
    term: OverlapTerm, assign: np.ndarray, team: int, pinned: np.ndarray | None, section: int
) -> np.ndarray:
    """The first :data:`SWAP_POOL` learners of ``section`` (by index) outside ``team``
    and not pinned: a look at the section's first learners, the whole section if
    too many of them are excluded."""
    by_section = term._section_learners
    learners = by_section.get(section)
    if learners is None:
        learners = by_section[section] = np.flatnonzero(term.inst.section == section)
    # a team holds at most its size of them: the first few more than the pool suffice
    spare = int(term.inst.team_hi.max()) if term.inst.k else 0
    for look in (learners[: SWAP_POOL + spare], learners):
        keep = look[assign[look] != team]
        if pinned is not None:
            keep = keep[~pinned[keep]]
        if len(keep) >= SWAP_POOL or len(look) == len(learners):
            return keep[:SWAP_POOL]
    return np.zeros(0, dtype=np.int64)


def _members_of(
    assignment: Sequence[int] | np.ndarray, assign: np.ndarray, teams: set[int]
) -> dict[int, list[int]]:
    """The members of ``teams``: looked up when ``assignment`` is a
    :class:`~teamform.layout.TeamLayout`, else found in one pass over the cohort."""
    if isinstance(assignment, TeamLayout):
        return {u: assignment.members[u] for u in teams}
    marked = np.zeros(int(assign.max()) + 1 if assign.size else 0, dtype=bool)
    marked[list(teams)] = True
    inside = np.flatnonzero(marked[assign]).tolist()
    out: dict[int, list[int]] = {u: [] for u in teams}
    for x, u in zip(inside, assign[inside].tolist(), strict=True):
        out[u].append(x)
    return out


def _by_pattern(
    masks: Sequence[int], learners: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct availability patterns of ``learners``: their masks as words,
    how many learners have each, and each one's per-learner bound ``b`` (equal
    for every learner of a pattern)."""
    patterns: dict[int, int] = {}
    codes = np.fromiter(
        (patterns.setdefault(masks[i], len(patterns)) for i in learners.tolist()),
        dtype=np.int64,
        count=len(learners),
    )
    counts = np.bincount(codes, minlength=len(patterns)).astype(np.int64)
    pattern_b = np.zeros(len(patterns), dtype=np.int64)
    pattern_b[codes] = b[learners]
    return to_words(list(patterns)), counts, pattern_b


def overlap_term(terms: Iterable[Term], *, with_target: bool = False) -> OverlapTerm | None:
    """The common-time term among ``terms`` (None: there is none); with ``with_target``,
    only one whose target asks for common time (``need > 0``)."""
    for term in terms:
        if isinstance(term, OverlapTerm) and (term.need or not with_target):
            return term
    return None


def build(inst: Instance, spec: Overlap) -> list[Term]:
    """The terms of one ``[criteria.overlap]`` table."""
    if not spec.enabled:
        return []
    return [
        OverlapTerm(
            inst,
            weight=spec.weight,
            hard=spec.hard,
            hours=spec.hours,
            block=spec.block,
            below=spec.below,
            none=spec.none,
        )
    ]
