"""The table of criteria: each formation-model section, its settings and its terms.

One row per ``[criteria.<key>]`` table. The model schema
(:class:`teamform.model.Criteria`) and :func:`teamform.criteria.build_terms` are
both made from :data:`SECTIONS`, in its order, so a criterion is added by writing
its module and one row here (see ``docs/criteria.md``).

:func:`register` adds a row at run time (a criterion defined outside the
package); it checks the row first (:func:`problems`) so that a term missing a
hook the engine relies on is refused at once, not found wrong in a user's solve.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import teamform.criteria.category as category
import teamform.criteria.diversity as diversity
import teamform.criteria.motivation as motivation
import teamform.criteria.no_repeat as no_repeat
import teamform.criteria.overlap as overlap
import teamform.criteria.participation as participation
import teamform.criteria.prefer as prefer
import teamform.criteria.project as project
import teamform.criteria.skill_balance as skill_balance
import teamform.criteria.skill_coverage as skill_coverage
import teamform.criteria.stability as stability
from teamform.criteria.base import Criterion, Term

if TYPE_CHECKING:
    from teamform.instance import Instance


@dataclass(frozen=True)
class Section:
    """One criterion section of the formation model.

    Attributes
    ----------
    key
        The table's name: ``[criteria.<key>]`` (``[[criteria.<key>]]`` when ``many``).
    settings
        Its settings, a :class:`~teamform.criteria.base.Criterion` (weight, hard,
        enabled and the criterion's own keys).
    build
        ``build(inst, settings)``: the terms of one table (none when it is off or
        the roster gives it nothing to do).
    terms
        Every :class:`~teamform.criteria.base.Term` class ``build`` may return,
        so that their hooks can be checked when the row is registered.
    many
        Whether the model holds a list of such tables (one term each).
    """

    key: str
    settings: type[Criterion]
    build: Callable[[Instance, Any], list[Term]]
    terms: tuple[type[Term], ...]
    many: bool = False


#: Every criterion, in the order the model lists them and the terms are built.
SECTIONS: list[Section] = [
    Section(
        "skill_balance",
        skill_balance.SkillBalance,
        skill_balance.build,
        (skill_balance.SkillBalanceTerm,),
    ),
    Section(
        "skill_coverage",
        skill_coverage.SkillCoverage,
        skill_coverage.build,
        (skill_coverage.SkillCoverageTerm,),
    ),
    Section("motivation", motivation.Motivation, motivation.build, (motivation.MotivationTerm,)),
    Section("prefer", prefer.Prefer, prefer.build, (prefer.PreferTerm,)),
    Section("overlap", overlap.Overlap, overlap.build, (overlap.OverlapTerm,)),
    Section("category", category.CategoryRule, category.build, (category.CategoryTerm,), many=True),
    Section("diversity", diversity.Diversity, diversity.build, (diversity.DiversityTerm,)),
    Section("no_repeat", no_repeat.NoRepeat, no_repeat.build, (no_repeat.NoRepeatTerm,)),
    Section("stability", stability.Stability, stability.build, (stability.StabilityTerm,)),
    Section(
        "participation",
        participation.Participation,
        participation.build,
        (participation.ParticipationSpreadTerm, participation.ParticipationHighTerm),
    ),
    Section(
        "projects",
        project.Projects,
        project.build,
        (project.ProjectTerm, project.ProjectChoiceTerm),
    ),
]

_listeners: list[Callable[[], None]] = []

#: Per-team decision hooks: a term overriding one must override them all.
_DECISION_HOOKS = ("decide", "decisions", "restore", "read_decisions")


def _overrides(cls: type[Term], name: str) -> bool:
    return getattr(cls, name) is not getattr(Term, name)


def problems(section: Section, existing: Sequence[Section] = ()) -> list[str]:
    """What is wrong with a section row; empty when it can be registered.

    Checked: a unique identifier key; settings derived from
    :class:`~teamform.criteria.base.Criterion`; and for every term class, no
    abstract method left (``team_penalty``, ``add_to_model``), its own ``name``
    and ``unit_label`` (results and reports show them), ``max_penalty`` (without
    it a soft weight cannot be range-checked and may overflow the objective),
    and the per-team decision hooks all or none.
    """
    out: list[str] = []
    where = f"criterion '{section.key}'"
    if not section.key.isidentifier():
        out.append(f"{where}: the key must be an identifier")
    if any(s.key == section.key for s in existing):
        out.append(f"{where}: a section with this key is already registered")
    if not (inspect.isclass(section.settings) and issubclass(section.settings, Criterion)):
        out.append(f"{where}: settings must derive from teamform.criteria.base.Criterion")
    if not callable(section.build):
        out.append(f"{where}: build must be a function (inst, settings) -> list of terms")
    if not section.terms:
        out.append(f"{where}: no term classes listed")
    for cls in section.terms:
        label = f"{where}, term {cls.__name__}"
        if not (inspect.isclass(cls) and issubclass(cls, Term)):
            out.append(f"{label}: not a teamform.criteria.base.Term")
            continue
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            out.append(f"{label}: does not implement {', '.join(missing)}")
        if cls.name == Term.name:
            out.append(f"{label}: has no name of its own")
        if cls.unit_label == Term.unit_label:
            out.append(f"{label}: has no unit_label of its own")
        if not _overrides(cls, "max_penalty"):
            out.append(f"{label}: does not implement max_penalty (weights cannot be checked)")
        decided = [h for h in _DECISION_HOOKS if _overrides(cls, h)]
        if decided and len(decided) != len(_DECISION_HOOKS):
            lacking = [h for h in _DECISION_HOOKS if h not in decided]
            out.append(f"{label}: has per-team decisions but not {', '.join(lacking)}")
    return out


def register(section: Section) -> None:
    """Add a criterion section (after the built-in ones) and rebuild the model schema.

    Raises
    ------
    TypeError
        When :func:`problems` finds anything wrong with the row.
    """
    found = problems(section, SECTIONS)
    if found:
        raise TypeError("; ".join(found))
    SECTIONS.append(section)
    _changed()


def unregister(key: str) -> None:
    """Remove a section added by :func:`register` and rebuild the model schema."""
    SECTIONS[:] = [s for s in SECTIONS if s.key != key]
    _changed()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever the table changes (the model rebuilds its schema)."""
    _listeners.append(listener)


def _changed() -> None:
    for listener in _listeners:
        listener()


def section_of(term: Term) -> Section | None:
    """The section whose table a term was built from."""
    return next((s for s in SECTIONS if type(term) in s.terms), None)
