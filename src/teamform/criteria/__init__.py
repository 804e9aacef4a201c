"""Criteria: one module per criterion, each a :class:`~teamform.criteria.base.Term`.

:func:`build_terms` turns a formation model into the list of terms the solver
sums. The order of the list never changes the optimum: every term only adds
its own variables, constraints and penalty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamform.criteria.base import OBJECTIVE_LIMIT, OBJECTIVE_SCALE, Term
from teamform.criteria.category import CategoryTerm
from teamform.criteria.diversity import DiversityTerm
from teamform.criteria.motivation import MotivationTerm
from teamform.criteria.no_repeat import NoRepeatTerm
from teamform.criteria.overlap import OverlapTerm
from teamform.criteria.participation import ParticipationHighTerm, ParticipationSpreadTerm
from teamform.criteria.prefer import PreferTerm
from teamform.criteria.project import ProjectChoiceTerm, ProjectTerm
from teamform.criteria.registry import SECTIONS, Section, register, section_of
from teamform.criteria.skill_balance import SkillBalanceTerm
from teamform.criteria.skill_coverage import SkillCoverageTerm
from teamform.criteria.stability import StabilityTerm
from teamform.errors import InputError

if TYPE_CHECKING:
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
    "Section",
    "SkillBalanceTerm",
    "SkillCoverageTerm",
    "StabilityTerm",
    "Term",
    "build_terms",
    "check_weights",
    "register",
    "weight_range",
]


def build_terms(inst: Instance) -> list[Term]:
    """The terms of ``inst.model``'s enabled criteria, in the order of the registry."""
    c = inst.model.criteria
    terms: list[Term] = []
    for section in SECTIONS:
        value = getattr(c, section.key)
        for spec in value if section.many else [value] if value is not None else []:
            terms.extend(section.build(inst, spec))
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
    section = section_of(term)
    return section.key if section is not None else term.name.split(":")[0]
