"""The criterion registry: one table makes the model schema and the terms; rows are checked.

A stub criterion is added the documented way (docs/criteria.md): its settings, its term and
a build function in one place, one registry row; it is then read from a model, solved and
validated end to end.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from ortools.sat.python import cp_model
from pydantic import Field

from conftest import learner, make_instance, solve_exact
from teamform import FormationModel, Roster, form
from teamform.cpmodel import SubModel
from teamform.criteria import build_terms
from teamform.criteria.base import Criterion, Term
from teamform.criteria.registry import SECTIONS, Section, problems, register, unregister
from teamform.errors import InputError
from teamform.instance import Instance
from teamform.model import Criteria
from teamform.validate import validate

MODEL_PY = Path(__file__).resolve().parents[2] / "src" / "teamform" / "model.py"


# --------------------------------------------------------------------- the stub


class Apart(Criterion):
    """Listed learners in different teams; penalty: listed learners beyond one per team."""

    ids: list[str] = Field(default_factory=list)


class ApartTerm(Term):
    name = "apart"
    unit_label = "listed learners beyond one"

    def __init__(self, inst: Instance, *, weight: float, hard: bool, ids: Sequence[str]) -> None:
        super().__init__(inst, weight=weight, hard=hard)
        index = {lid: i for i, lid in enumerate(inst.ids)}
        self.listed = {index[x] for x in ids if x in index}

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return max(0, sum(1 for i in members if i in self.listed) - 1)

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        out: dict[int, cp_model.LinearExprT] = {}
        for t in sub.teams:
            extra = sub.model.new_int_var(0, len(self.listed), f"apart[{t}]")
            sub.model.add(extra >= sum(v for i, v in sub.members[t] if i in self.listed) - 1)
            out[t] = extra
        return out

    def max_penalty(self) -> int:
        return len(self.listed)


def build_apart(inst: Instance, spec: Apart) -> list[Term]:
    if not spec.enabled or not spec.ids:
        return []
    return [ApartTerm(inst, weight=spec.weight, hard=spec.hard, ids=spec.ids)]


APART = Section("apart", Apart, build_apart, (ApartTerm,))


@pytest.fixture
def apart() -> Iterator[Section]:
    register(APART)
    try:
        yield APART
    finally:
        unregister("apart")


# ------------------------------------------------------------------ the table


def test_schema_and_terms_come_from_the_table() -> None:
    assert list(Criteria.model_fields) == [s.key for s in SECTIONS]
    inst = make_instance(
        [learner(x, skill_math=1 + i % 3, motivation="intrinsic" if i < 2 else "imposed")
         for i, x in enumerate("ABCDEF")],
        {"skill_balance": {}, "motivation": {}, "category": []},
    )  # fmt: skip
    assert [t.name for t in build_terms(inst)] == ["skill_balance", "motivation"]


def test_every_built_in_section_has_the_hooks_it_needs() -> None:
    for section in SECTIONS:
        assert problems(section) == [], section.key


def test_the_typed_view_of_the_schema_names_only_registered_sections() -> None:
    # model.py declares the built-in sections for type checkers; they must exist at run time
    tree = ast.parse(MODEL_PY.read_text(encoding="utf-8"))
    declared = {
        node.target.id
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef) and cls.name == "Criteria"
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert declared and declared <= {s.key for s in SECTIONS}


# ------------------------------------------------------------ refused rows


class _NoBound(ApartTerm):
    name = "no_bound"

    max_penalty = Term.max_penalty  # back to the default: no bound on the penalty


class _NoUnit(ApartTerm):
    name = "no_unit"
    unit_label = Term.unit_label


class _HalfDecisions(ApartTerm):
    name = "half_decisions"

    def decide(self, members: Sequence[Sequence[int]]) -> bool:
        return False


class _Abstract(Term):
    name = "abstract"
    unit_label = "points"

    def max_penalty(self) -> int:
        return 0


def _row(term: type[Term], key: str = "stub") -> Section:
    return Section(key, Apart, build_apart, (term,))


@pytest.mark.parametrize(
    ("term", "hook"),
    [
        (_NoBound, "max_penalty"),
        (_NoUnit, "unit_label"),
        (_HalfDecisions, "decisions, restore, read_decisions"),
        (_Abstract, "add_to_model, team_penalty"),
    ],
)
def test_a_term_without_a_needed_hook_is_refused(term: type[Term], hook: str) -> None:
    with pytest.raises(TypeError, match=hook):
        register(_row(term))
    assert "stub" not in {s.key for s in SECTIONS}
    assert "stub" not in Criteria.model_fields


def test_a_taken_key_or_plain_settings_are_refused() -> None:
    assert any("already registered" in p for p in problems(_row(ApartTerm, "overlap"), SECTIONS))
    bad = Section("stub", FormationModel, build_apart, (ApartTerm,))  # type: ignore[arg-type]
    assert any("Criterion" in p for p in problems(bad))


# ---------------------------------------------------------------- end to end


def test_a_registered_criterion_is_read_solved_and_validated(apart: Section) -> None:
    data = {
        "team": {"size": 2},
        "criteria": {"apart": {"weight": 5, "ids": ["A", "B", "C"]}, "motivation": {}},
    }
    model = FormationModel.from_dict(data)
    assert FormationModel.from_toml_text(model.to_toml()) == model
    records = [learner(x) for x in "ABCDEF"]
    # optimum worked out by hand: three teams of two, A, B and C one per team -> penalty 0
    inst = make_instance(records, data["criteria"])
    terms = build_terms(inst)
    assert [t.name for t in terms] == ["motivation", "apart"]
    objective, assignment = solve_exact(inst, terms)
    assert objective == 0
    assert len({assignment[0], assignment[1], assignment[2]}) == 3
    # ... and with only two teams, one team must hold two of them: penalty 1
    two = make_instance(records, data["criteria"], team={"teams": 2})
    objective, _ = solve_exact(two)
    assert objective == 5 * 10_000

    result = form(Roster.from_records(records), model, time_limit=2, seed=1, workers=1)
    assert result.valid and result.feasible
    assert {result.team_of(x) for x in "ABC"} == {1, 2, 3}
    (score,) = [c for c in result.breakdown if c.name == "apart"]
    assert score.penalty == 0 and score.unit == "listed learners beyond one"
    # the report's per-team measure falls back to the penalty against zero
    assert all(any(c.name == "apart" for c in t.criteria) for t in result.teams)
    assert validate(inst, assignment, terms).ok


def test_a_misspelt_key_of_a_registered_criterion_is_an_input_error(apart: Section) -> None:
    with pytest.raises(InputError, match="unknown key 'idz'"):
        FormationModel.from_dict({"team": {"size": 2}, "criteria": {"apart": {"idz": ["A"]}}})


def test_unregistering_removes_the_section_from_the_schema() -> None:
    register(APART)
    unregister("apart")
    with pytest.raises(InputError, match="unknown criterion 'apart'"):
        FormationModel.from_dict({"team": {"size": 2}, "criteria": {"apart": {}}})
