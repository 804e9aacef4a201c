"""Criteria: one module per criterion, each a :class:`~teamform.criteria.base.Term`.

:func:`build_terms` turns a formation model into the list of terms the solver
sums. The order of the list never changes the optimum: every term only adds
its own variables, constraints and penalty.
"""

from __future__ import annotations

from teamform.criteria.base import OBJECTIVE_LIMIT, OBJECTIVE_SCALE, Term
from teamform.criteria.category import CategoryTerm
from teamform.criteria.diversity import DiversityTerm
from teamform.criteria.motivation import MotivationTerm
from teamform.criteria.no_repeat import NoRepeatTerm
from teamform.criteria.overlap import OverlapTerm
from teamform.criteria.participation import ParticipationHighTerm, ParticipationSpreadTerm
from teamform.criteria.prefer import PreferTerm
from teamform.criteria.project import ProjectChoiceTerm, ProjectTerm
from teamform.criteria.skill_balance import SkillBalanceTerm
from teamform.criteria.skill_coverage import SkillCoverageTerm
from teamform.criteria.stability import StabilityTerm
from teamform.errors import InputError
from teamform.instance import Instance

__all__ = [
    "OBJECTIVE_LIMIT",
    "OBJECTIVE_SCALE",
    "CategoryTerm",
    "DiversityTerm",
    "MotivationTerm",
    "NoRepeatTerm",
    "OverlapTerm",
    "ParticipationHighTerm",
    "ParticipationSpreadTerm",
    "PreferTerm",
    "ProjectChoiceTerm",
    "ProjectTerm",
    "SkillBalanceTerm",
    "SkillCoverageTerm",
    "StabilityTerm",
    "Term",
    "build_terms",
    "check_weights",
    "weight_range",
]


def build_terms(inst: Instance) -> list[Term]:
    """The terms of ``inst.model``'s enabled criteria."""
    c = inst.model.criteria
    terms: list[Term] = []
    if c.skill_balance and c.skill_balance.enabled and inst.skill_names:
        terms.append(
            SkillBalanceTerm(
                inst,
                weight=c.skill_balance.weight,
                hard=c.skill_balance.hard,
                skills=c.skill_balance.skills,
            )
        )
    if c.skill_coverage and c.skill_coverage.enabled and c.skill_coverage.rules:
        terms.append(
            SkillCoverageTerm(
                inst,
                weight=c.skill_coverage.weight,
                hard=c.skill_coverage.hard,
                rules=c.skill_coverage.rules,
            )
        )
    if c.motivation and c.motivation.enabled:
        terms.append(MotivationTerm(inst, weight=c.motivation.weight, hard=c.motivation.hard))
    if c.prefer and c.prefer.enabled and len(inst.prefer):
        terms.append(PreferTerm(inst, weight=c.prefer.weight, hard=False))
    if c.overlap and c.overlap.enabled:
        terms.append(
            OverlapTerm(
                inst,
                weight=c.overlap.weight,
                hard=c.overlap.hard,
                hours=c.overlap.hours,
                block=c.overlap.block,
                below=c.overlap.below,
                none=c.overlap.none,
            )
        )
    for rule in c.category:
        if rule.enabled:
            terms.append(CategoryTerm(inst, rule))
    if c.diversity and c.diversity.enabled and inst.distances is not None:
        terms.append(
            DiversityTerm(
                inst,
                weight=c.diversity.weight,
                distances=inst.distances,
                factor=inst.distance_factor,
            )
        )
    if c.no_repeat and c.no_repeat.enabled:
        terms.append(NoRepeatTerm(inst, weight=c.no_repeat.weight, hard=c.no_repeat.hard))
    if c.stability and c.stability.enabled:
        terms.append(StabilityTerm(inst, weight=c.stability.weight, hard=c.stability.hard))
    p = c.participation
    # without a participation column (e.g. a first phase) there is nothing to spread
    if p and p.enabled and inst.participation is not None:
        terms.append(ParticipationSpreadTerm(inst, weight=p.weight, hard=p.hard, low=p.low))
        if p.require_high:
            terms.append(ParticipationHighTerm(inst, weight=p.weight, hard=p.hard, high=p.high))
    pr = c.projects
    if pr and pr.enabled and inst.projects is not None:
        project = ProjectTerm(inst, weight=pr.weight)
        terms.append(project)
        if pr.hard:
            terms.append(ProjectChoiceTerm(inst, project))
    check_weights(inst, terms)
    return terms


def weight_range(term: Term, n_soft: int = 1) -> tuple[float, float | None]:
    """Smallest weight that counts and largest that cannot overflow the objective.

    The objective budget :data:`~teamform.criteria.base.OBJECTIVE_LIMIT` is
    shared equally by the ``n_soft`` soft terms, so each term's range does not
    depend on the other weights. The upper end is ``None`` when the term has no
    penalty bound.
    """
    per_unit = OBJECTIVE_SCALE * term.unit
    smallest = 0.5 / per_unit
    worst = term.max_penalty()
    if worst is None:
        return smallest, None
    return smallest, OBJECTIVE_LIMIT / max(1, n_soft) / per_unit / max(1, worst)


def check_weights(inst: Instance, terms: list[Term]) -> None:
    """Raise :class:`InputError` for a soft weight too small to count or large enough
    to overflow the objective (the range depends on the roster's size)."""
    soft = [t for t in terms if not t.hard and t.weight > 0]
    for term in soft:
        smallest, largest = weight_range(term, len(soft))
        # the upper end first: a weight near the float limit has no coefficient at all
        if (largest is not None and term.weight > largest) or term.coefficient == 0:
            allowed = (
                f"{smallest:.2g} to {largest:.2g}"
                if largest is not None
                else f"at least {smallest:.2g}"
            )
            raise InputError(
                f"weight {term.weight:g} is out of range for this roster: use 0 (off) or {allowed}",
                file=inst.model.source,
                column=f"criteria.{_model_key(term)}.weight",
            )


def _model_key(term: Term) -> str:
    """The criterion table a term's weight comes from."""
    if isinstance(term, ParticipationHighTerm):
        return "participation"
    return term.name.split(":")[0]
