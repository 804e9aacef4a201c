"""Reference penalties, written from each criterion's definition alone.

The penalties never call a :class:`~teamform.criteria.base.Term`: targets (means,
floors, ceilings, common blocks, ideal distances) are rebuilt from the
instance's data and the model's settings as the criteria's documentation states
them, plainly and slowly, so that the validator is checked against code it
does not share. Penalties are in each criterion's integer units, keyed by the
criterion's name as in results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from teamform.availability import SLOT_MINUTES, SLOTS_PER_WEEK
from teamform.criteria import Term
from teamform.instance import SKILL_SCALE, Instance
from teamform.result import Status
from teamform.solve import Search
from teamform.validate import validate

SLOTS_PER_HOUR = 60 // SLOT_MINUTES


def section_teams(inst: Instance, s: int) -> int:
    """Number of teams of section ``s``."""
    return sum(1 for t in range(inst.k) if int(inst.team_section[t]) == s)


def section_learners(inst: Instance, s: int) -> list[int]:
    return [i for i in range(inst.n) if int(inst.section[i]) == s]


def even_range(total: int, teams: int) -> tuple[int, int]:
    """floor and ceiling of ``total / teams``."""
    return total // teams, -(-total // teams)


def block_slots(mask: int, block: int) -> int:
    """Slots of ``mask`` in cyclic runs of at least ``block`` consecutive slots."""
    bits = [(mask >> p) & 1 for p in range(SLOTS_PER_WEEK)]
    if all(bits):
        return SLOTS_PER_WEEK
    # rotate so that the week starts on a free slot: no run then crosses the end
    start = bits.index(0)
    rotated = bits[start:] + bits[:start]
    count = run = 0
    for b in [*rotated, 0]:
        if b:
            run += 1
        else:
            if run >= block:
                count += run
            run = 0
    return count


def reference_team_penalties(
    inst: Instance, assignment: Sequence[int], projects: Sequence[int] | None = None
) -> dict[str, list[int]]:
    """Per criterion name, the penalty of each team of ``assignment``.

    ``projects[t]`` is team ``t``'s project index (with the projects criterion).
    """
    teams: list[list[int]] = [[] for _ in range(inst.k)]
    for i, t in enumerate(assignment):
        teams[int(t)].append(i)
    c = inst.model.criteria
    out: dict[str, list[int]] = {}
    sections = range(len(inst.section_names))

    def per_team(name: str, penalty) -> None:  # type: ignore[no-untyped-def]
        out[name] = [penalty(m, t) for t, m in enumerate(teams)]

    if c.skill_balance and c.skill_balance.enabled and inst.skill_names:
        cols = [inst.skill_names.index(x) for x in (c.skill_balance.skills or inst.skill_names)]
        # the section mean of each skill in hundredths, rounded to a whole hundredth
        mean = {
            (s, j): round(sum(int(inst.skills[i, j]) for i in section_learners(inst, s)) / n)
            for s in sections
            if (n := len(section_learners(inst, s)))
            for j in cols
        }

        def skill(m: list[int], t: int) -> int:
            s = int(inst.team_section[t])
            return sum(
                abs(sum(int(inst.skills[i, j]) for i in m) - len(m) * mean[s, j]) for j in cols
            )

        per_team("skill_balance", skill)
    if c.skill_coverage and c.skill_coverage.enabled and c.skill_coverage.rules:
        rules = [
            (inst.skill_names.index(r.skill), round(r.level * SKILL_SCALE))
            for r in c.skill_coverage.rules
        ]
        per_team(
            "skill_coverage",
            lambda m, t: sum(1 for j, lv in rules if not any(inst.skills[i, j] >= lv for i in m)),
        )
    if c.motivation and c.motivation.enabled:

        def motivation(m: list[int], t: int) -> int:
            s = int(inst.team_section[t])
            total = sum(1 for i in section_learners(inst, s) if inst.intrinsic[i])
            lo, hi = even_range(total, section_teams(inst, s))
            size = int(inst.team_hi[t])
            lo, hi = min(lo, size), min(hi, size)
            count = sum(1 for i in m if inst.intrinsic[i])
            return max(0, lo - count) + max(0, count - hi)

        per_team("motivation", motivation)
    if c.prefer and c.prefer.enabled and len(inst.prefer):
        pairs = [(int(a), int(b)) for a, b in inst.prefer.tolist()]
        # a split pair counts once on each side
        per_team(
            "prefer",
            lambda m, t: sum(
                1 for a, b in pairs for x, y in ((a, b), (b, a)) if x in m and y not in m
            ),
        )
    if c.overlap and c.overlap.enabled:
        o = c.overlap
        need = round(o.hours * SLOTS_PER_HOUR)
        block = max(1, round(o.block * SLOTS_PER_HOUR))
        below = round(o.below * SLOTS_PER_HOUR) if need else 0
        none = round(o.none * SLOTS_PER_HOUR) if need else 0

        def overlap(m: list[int], t: int) -> int:
            common = (1 << SLOTS_PER_WEEK) - 1
            for i in m:
                common &= inst.masks[i]
            got = block_slots(common, block)
            if got >= need:
                return 0
            return need - got + below + (none if got == 0 else 0)

        per_team("overlap", overlap)
    for rule in c.category:
        if not rule.enabled:
            continue
        cat = inst.categories[rule.column]
        active = [
            v for v, label in enumerate(cat.values) if not rule.values or label in rule.values
        ]

        def held(m: list[int], v: int, cat=cat) -> int:  # type: ignore[no-untyped-def]
            return sum(1 for i in m if int(cat.codes[i]) == v)

        def category(m: list[int], t: int, rule=rule, cat=cat, active=active) -> int:  # type: ignore[no-untyped-def]
            if rule.rule == "cluster":
                return max(0, sum(1 for v in active if held(m, v)) - 1)
            if rule.rule == "no_isolation":
                return sum(1 for v in active if held(m, v) == 1)
            s = int(inst.team_section[t])
            pen = 0
            for v in active:
                total = sum(1 for i in section_learners(inst, s) if int(cat.codes[i]) == v)
                lo, hi = even_range(total, section_teams(inst, s))
                pen += max(0, lo - held(m, v)) + max(0, held(m, v) - hi)
            return pen

        per_team(f"category:{rule.column}:{rule.rule}", category)
    if c.diversity and c.diversity.enabled and inst.distances is not None:
        d = inst.distances
        top = []
        for i in range(inst.n):
            s = int(inst.section[i])
            biggest = max(int(inst.team_hi[t]) for t in range(inst.k) if inst.team_section[t] == s)
            peers = sorted(
                (int(d[i, j]) for j in section_learners(inst, s) if j != i), reverse=True
            )
            # the learner's best imaginable team: its most distant peers
            top.append(sum(peers[: biggest - 1]))
        per_team(
            "diversity",
            lambda m, t: (
                sum(top[i] for i in m) - 2 * sum(int(d[a, b]) for a in m for b in m if a < b)
            ),
        )
    if c.no_repeat and c.no_repeat.enabled:
        per_team(
            "no_repeat",
            lambda m, t: sum(inst.history.get((a, b), 0) for a in m for b in m if a < b),
        )
    if c.stability and c.stability.enabled:
        prev = [-1] * inst.n if inst.previous is None else [int(x) for x in inst.previous]
        per_team("stability", lambda m, t: sum(1 for i in m if prev[i] >= 0 and prev[i] != t))
    p = c.participation
    if p and p.enabled and inst.participation is not None:
        value = [float(x) for x in inst.participation]
        low = [not math.isnan(x) and x < p.low for x in value]

        def spread(m: list[int], t: int) -> int:
            s = int(inst.team_section[t])
            total = sum(1 for i in section_learners(inst, s) if low[i])
            return max(
                0, sum(1 for i in m if low[i]) - even_range(total, section_teams(inst, s))[1]
            )

        per_team("participation", spread)
        if p.require_high:
            per_team(
                "participation_high",
                lambda m, t: (
                    0 if any(not math.isnan(value[i]) and value[i] >= p.high for i in m) else 1
                ),
            )
    pr = c.projects
    if pr and pr.enabled and inst.projects is not None:
        assert projects is not None, "the projects criterion needs each team's project"
        data = inst.projects
        choices = data.choices

        def rank(i: int, q: int) -> int | None:
            return next((r for x, r in choices[i] if x == q), None)

        def steps(m: list[int], t: int) -> int:
            ranks = [rank(i, projects[t]) for i in m if choices[i]]
            return sum(data.unranked if r is None else r for r in ranks)

        per_team("projects", steps)
        if pr.hard:
            per_team(
                "projects_choice",
                lambda m, t: sum(1 for i in m if choices[i] and rank(i, projects[t]) is None),
            )
    return out


def reference_penalties(
    inst: Instance, assignment: Sequence[int], projects: Sequence[int] | None = None
) -> dict[str, int]:
    """Per criterion name, the total penalty of ``assignment``."""
    return {
        name: sum(pens)
        for name, pens in reference_team_penalties(inst, assignment, projects).items()
    }


def assert_valid_search(inst: Instance, terms: Sequence[Term], found: Search) -> None:
    """The raw answer of :func:`teamform.solve.search` for a cohort known to be feasible:
    an assignment, claimed feasible, that the validator accepts as it is."""
    outcome = found.outcome
    assert outcome.status in (Status.OPTIMAL, Status.FEASIBLE), outcome.status
    assert outcome.assignment is not None
    check = validate(inst, outcome.assignment, terms)
    assert check.ok, f"the search's assignment breaks {len(check.violations)} hard rule(s)"
    assert outcome.objective is None or outcome.objective == check.objective
