"""What the compiled local search works on: each criterion's record, checked.

Every criterion with a compiled evaluation hands over its data through
:meth:`~teamform.criteria.base.Term.compiled_data`, one record per criterion,
of a kind listed in :data:`KINDS`; :func:`build_records` gathers and checks
them for :mod:`teamform.search.compiled`, whose kernels recompute team costs
from members alone. Kept apart from the kernels so that deciding whether the
compiled search can run, and building its data, never imports numba.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from teamform.search.bitsets import WORDS, pairs_csr
from teamform.search.kernels import note
from teamform.search.local import HARD_COST

if TYPE_CHECKING:
    from teamform.criteria.base import Term
    from teamform.search.local import TeamState


#: category rules, as the kernel numbers them
CATEGORY_KIND = {"distribute": 0, "cluster": 1, "no_isolation": 2}


class CompiledDataError(RuntimeError):
    """A criterion's compiled data does not fit the instance (an internal error)."""


class NoCompiledEvaluation(ValueError):
    """A criterion of the model has no compiled evaluation."""


def cost_per_unit(term: Term) -> int:
    """The search's cost of one penalty unit of ``term``: a breach for hard terms."""
    return HARD_COST if term.hard else term.coefficient


def _expect(
    kind: str, field: str, value: np.ndarray, dtype: type, shape: tuple[int | None, ...]
) -> None:
    """Raise :class:`CompiledDataError` unless ``value`` has this dtype and shape
    (None: any length) and is contiguous, as the compiled kernels take it."""
    ok = (
        isinstance(value, np.ndarray)
        and value.dtype == dtype
        and value.ndim == len(shape)
        and all(want is None or got == want for got, want in zip(value.shape, shape, strict=False))
        and value.flags.c_contiguous
    )
    if not ok:
        got = (
            f"{value.dtype} {value.shape}"
            if isinstance(value, np.ndarray)
            else type(value).__name__
        )
        want = "x".join("*" if s is None else str(s) for s in shape)
        raise CompiledDataError(
            f"compiled data of {kind}: {field} is {got}, expected {np.dtype(dtype)} {want}"
        )


def _i64(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64)


class Rules(NamedTuple):
    """The instance's own hard rules (not a criterion): avoid pairs, and a breach's cost."""

    avoid_ptr: np.ndarray  #: (n + 1,) row pointers of each learner's avoid partners
    avoid_idx: np.ndarray  #: the partners
    hard: int


class SkillRecord(NamedTuple):
    """Skill balance: per team and skill, ``|sum - size * mean|``."""

    values: np.ndarray  #: (n, S) skill values
    mean: np.ndarray  #: (k, S) the mean of each team's section
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> SkillRecord:
        return cls(np.zeros((n, 0), dtype=np.int64), np.zeros((k, 0), dtype=np.int64), 0)

    def check(self, n: int, k: int) -> None:
        _expect("skill_balance", "values", self.values, np.int64, (n, None))
        _expect("skill_balance", "mean", self.mean, np.int64, (k, self.values.shape[1]))


class MotivationRecord(NamedTuple):
    """Motivation: intrinsic learners outside each team's range."""

    intrinsic: np.ndarray  #: (n,) 1 for intrinsic learners
    lo: np.ndarray  #: (k,)
    hi: np.ndarray  #: (k,)
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> MotivationRecord:
        return cls(_i64(n), _i64(k), _i64(k), 0)

    def check(self, n: int, k: int) -> None:
        _expect("motivation", "intrinsic", self.intrinsic, np.int64, (n,))
        _expect("motivation", "lo", self.lo, np.int64, (k,))
        _expect("motivation", "hi", self.hi, np.int64, (k,))


class PreferRecord(NamedTuple):
    """Preferred pairs: each member's preferred partner outside the team."""

    ptr: np.ndarray  #: (n + 1,) row pointers
    idx: np.ndarray  #: partners
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> PreferRecord:
        return cls(_i64(n + 1), _i64(0), 0)

    def check(self, n: int, k: int) -> None:
        _expect("prefer", "ptr", self.ptr, np.int64, (n + 1,))
        _expect("prefer", "idx", self.idx, np.int64, (int(self.ptr[-1]),))


class OverlapRecord(NamedTuple):
    """Time-zone overlap: slots short of ``need`` in runs of ``block``, plus steps."""

    words: np.ndarray  #: (n, WORDS) weekly masks as 64-bit words
    need: int
    block: int
    coef: int
    below: int  #: step for a team short at all
    none: int  #: further step for a team without any common block

    @classmethod
    def empty(cls, n: int, k: int) -> OverlapRecord:
        return cls(np.zeros((n, WORDS), dtype=np.uint64), 0, 1, 0, 0, 0)

    def check(self, n: int, k: int) -> None:
        _expect("overlap", "words", self.words, np.uint64, (n, WORDS))
        if self.block < 1 or self.need < 0:
            raise CompiledDataError(
                f"compiled data of overlap: need {self.need}, block {self.block}"
            )


class CoverageRecord(NamedTuple):
    """Skill coverage: rules no member of the team meets."""

    strong: np.ndarray  #: (R, n) 1 where a learner meets rule r
    coef: int

    @classmethod
    def empty(cls, n: int, k: int) -> CoverageRecord:
        return cls(np.zeros((0, n), dtype=np.int64), 0)

    def check(self, n: int, k: int) -> None:
        _expect("skill_coverage", "strong", self.strong, np.int64, (None, n))


class CategoryRecord(NamedTuple):
    """Category rules, one row each (every rule of the model in one record)."""

    codes: np.ndarray  #: (R, n) each learner's value
    kind: np.ndarray  #: (R,) :data:`CATEGORY_KIND`
    active: np.ndarray  #: (R, V) 1 for the values a rule looks at
    lo: np.ndarray  #: (R, k, V) distribute: the even range per team and value
    hi: np.ndarray  #: (R, k, V)
    coef: np.ndarray  #: (R,)
    scratch: np.ndarray  #: (V,) counts, reused

    @classmethod
    def empty(cls, n: int, k: int) -> CategoryRecord:
        return cls.rows(n, k, 0, 1)

    @classmethod
    def rows(cls, n: int, k: int, count: int, values: int) -> CategoryRecord:
        """Zeroed arrays for ``count`` rules over at most ``values`` values."""
        return cls(
            np.zeros((count, n), dtype=np.int64),
            _i64(count),
            np.zeros((count, values), dtype=np.int64),
            np.zeros((count, k, values), dtype=np.int64),
            np.zeros((count, k, values), dtype=np.int64),
            _i64(count),
            _i64(values),
        )

    def check(self, n: int, k: int) -> None:
        rules, values = self.active.shape if self.active.ndim == 2 else (-1, -1)
        _expect("category", "codes", self.codes, np.int64, (rules, n))
        _expect("category", "kind", self.kind, np.int64, (rules,))
        _expect("category", "active", self.active, np.int64, (rules, values))
        _expect("category", "lo", self.lo, np.int64, (rules, k, values))
        _expect("category", "hi", self.hi, np.int64, (rules, k, values))
        _expect("category", "coef", self.coef, np.int64, (rules,))
        _expect("category", "scratch", self.scratch, np.int64, (values,))
        if rules and (self.codes.min() < 0 or self.codes.max() >= values):
            raise CompiledDataError("compiled data of category: a value code out of range")


class ProjectRecord(NamedTuple):
    """Project ranks, each team's project held fixed during the moves."""

    team_project: np.ndarray  #: (k,) each team's project
    ptr: np.ndarray  #: (n + 1,) row pointers of each learner's ranked choices
    project: np.ndarray  #: the projects ranked
    rank: np.ndarray  #: their 0-based ranks
    unranked: int  #: cost of a project not among a learner's choices
    coef: int
    holders_ptr: np.ndarray  #: (P + 1,) row pointers of the teams holding each project
    holders: np.ndarray  #: (k,) those teams

    @classmethod
    def empty(cls, n: int, k: int) -> ProjectRecord:
        return cls(_i64(k), _i64(n + 1), _i64(0), _i64(0), 0, 0, _i64(1), _i64(0))

    def check(self, n: int, k: int) -> None:
        _expect("project", "team_project", self.team_project, np.int64, (k,))
        _expect("project", "ptr", self.ptr, np.int64, (n + 1,))
        _expect("project", "project", self.project, np.int64, (int(self.ptr[-1]),))
        _expect("project", "rank", self.rank, np.int64, self.project.shape)
        _expect("project", "holders_ptr", self.holders_ptr, np.int64, (None,))
        _expect("project", "holders", self.holders, np.int64, (None,))
        projects = len(self.holders_ptr) - 1
        if len(self.project) and (self.project.min() < 0 or self.project.max() >= projects):
            raise CompiledDataError("compiled data of project: a project number out of range")
        if self.coef and k and (self.team_project.min() < 0 or self.team_project.max() >= projects):
            raise CompiledDataError("compiled data of project: a team's project out of range")

    def holding(self) -> ProjectRecord:
        """The same record with the teams of each project recomputed."""
        order = np.argsort(self.team_project, kind="stable").astype(np.int64)
        counts = np.bincount(self.team_project, minlength=len(self.holders_ptr) - 1)
        ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return self._replace(holders_ptr=ptr, holders=order)


CompiledData = (
    SkillRecord
    | MotivationRecord
    | PreferRecord
    | OverlapRecord
    | CoverageRecord
    | CategoryRecord
    | ProjectRecord
)
#: The kinds of criterion data the kernels take, in the order of :class:`Records`.
KINDS: tuple[type[CompiledData], ...] = (
    SkillRecord,
    MotivationRecord,
    PreferRecord,
    OverlapRecord,
    CoverageRecord,
    CategoryRecord,
    ProjectRecord,
)


class Records(NamedTuple):
    """Everything the kernels evaluate a team with: one record per kind of :data:`KINDS`."""

    rules: Rules
    skill: SkillRecord
    motivation: MotivationRecord
    prefer: PreferRecord
    overlap: OverlapRecord
    coverage: CoverageRecord
    category: CategoryRecord
    project: ProjectRecord


class Layout(NamedTuple):
    """Team sizes, sections and frozen learners: what moves must respect."""

    lo: np.ndarray
    hi: np.ndarray
    section: np.ndarray  #: (k,) each team's section
    sec_ptr: np.ndarray  #: (sections + 1,) row pointers into ``sec_teams``
    sec_teams: np.ndarray  #: the teams of each section
    sec_pos: np.ndarray  #: (k,) each team's place among its section's
    frozen: np.ndarray  #: (n,) learners that never move


class Teams(NamedTuple):
    """The search's assignment: team of each learner, members and costs of each team."""

    assign: np.ndarray
    members: np.ndarray  #: (k, width), -1 past each team's size
    size: np.ndarray
    cost: np.ndarray


def unsupported(terms: Sequence[Term]) -> list[str]:
    """Names of the terms without a compiled evaluation."""
    return [t.name for t in terms if t.compiled_data() is None]


def supported(terms: Sequence[Term]) -> bool:
    """Whether every term has a compiled evaluation; when not, the reason is
    noted for the result (the Python search runs instead)."""
    missing = unsupported(terms)
    if missing:
        which = ", ".join(missing)
        note(f"{which}: no compiled evaluation, so the search runs in Python")
    return not missing


def _combine(kind: type[CompiledData], found: list[CompiledData], n: int, k: int) -> CompiledData:
    """One record of ``kind`` from those the terms gave (rows of category rules stack)."""
    if len(found) == 1:
        return found[0]
    if kind is CategoryRecord:
        cats = [r for r in found if isinstance(r, CategoryRecord)]
        values = max(r.active.shape[1] for r in cats)
        out = CategoryRecord.rows(n, k, sum(len(r.kind) for r in cats), values)
        row = 0
        for r in cats:
            rows, v = r.active.shape
            span = slice(row, row + rows)
            out.codes[span] = r.codes
            out.kind[span] = r.kind
            out.active[span, :v] = r.active
            out.lo[span, :, :v] = r.lo
            out.hi[span, :, :v] = r.hi
            out.coef[span] = r.coef
            row += rows
        return out
    raise CompiledDataError(f"{len(found)} criteria gave compiled data of kind {kind.__name__}")


def build_records(state: TeamState) -> Records:
    """The kernels' data for ``state``'s criteria, checked against the instance.

    Raises :class:`NoCompiledEvaluation` when a criterion has none, and
    :class:`CompiledDataError` when its data does not fit.
    """
    inst = state.inst
    n, k = inst.n, inst.k
    by_kind: dict[type[CompiledData], list[CompiledData]] = {kind: [] for kind in KINDS}
    for term in state.terms:
        rec = term.compiled_data()
        if rec is None:
            raise NoCompiledEvaluation(f"{term.name} has no compiled evaluation")
        if type(rec) not in by_kind:
            raise CompiledDataError(f"{term.name}: compiled data of unknown kind {type(rec)}")
        rec.check(n, k)
        by_kind[type(rec)].append(rec)
    parts = [
        _combine(kind, found, n, k) if found else kind.empty(n, k)
        for kind, found in by_kind.items()
    ]
    aptr, aidx = pairs_csr(n, inst.avoid)
    records = Records(Rules(aptr, aidx, HARD_COST), *parts)  # type: ignore[arg-type]
    for part in parts:
        part.check(n, k)
    return records
