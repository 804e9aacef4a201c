"""Projects: each team gets one project; learners rank the projects they want.

Unlike the other criteria, the penalty depends on a per-team decision (the
team's project) as well as on the members, and project capacities tie the
teams together. The term therefore holds the current project of every team
(:attr:`ProjectTerm.assigned`) and keeps the objective a sum over teams given
those projects:

* in a CP-SAT model over some teams, the project of each of those teams is a
  variable, and each project's capacity is what the teams outside the model
  leave of it; so a neighbourhood still measures the exact change of the
  global objective, and the full model optimises teams and projects together;
* between moves and swaps (which keep projects fixed), :meth:`ProjectTerm.decide`
  re-assigns all projects exactly for the current teams: a min-cost flow from
  teams to projects, each project a node of its capacity.

A learner's cost is the rank of their team's project among their choices
(0 = first choice), ``unranked`` steps when it is not among them, and 0 for a
learner who ranked nothing. The hard variant (:class:`ProjectChoiceTerm`)
counts learners who did not get one of their choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from teamform.criteria.base import Criterion, Term
from teamform.errors import InputError

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from teamform.cpmodel import SubModel
    from teamform.instance import Instance
    from teamform.model import FormationModel
    from teamform.roster import Roster
    from teamform.search.compiled_data import ProjectRecord


class Projects(Criterion):
    """Each team gets one project; learners rank projects in the roster.

    Learners list projects, best first, in the roster column ``projects``
    (``;``-separated). Penalty: per learner, the rank steps from their first
    choice to their team's project (0 for the first choice, 1 for the second
    ...); a project not among the learner's choices counts ``unranked``
    steps; learners who ranked nothing count 0. With ``hard``, every learner
    who ranked projects gets one of them (the rank penalty stays soft).

    ``names`` lists the projects on offer (default: every project the roster
    names, sorted); ``capacity`` is how many teams may take each project
    (default 1 when there are at least as many projects as teams, otherwise
    an even share), ``capacities`` overrides it per project. With ``keep``, a
    phase formed under the ``keep`` policy gives each team its previous
    project.
    """

    names: list[str] = Field(default_factory=list)
    capacity: int | None = Field(default=None, ge=1)
    capacities: dict[str, int] = Field(default_factory=dict)
    unranked: int = Field(default=10, ge=0)
    keep: bool = False

    @model_validator(mode="after")
    def _check(self) -> Projects:
        if len(set(self.names)) < len(self.names):
            raise ValueError("a project is listed twice in names")
        bad = [p for p, c in self.capacities.items() if c < 0]
        if bad:
            raise ValueError(f"capacity of project '{bad[0]}' is negative")
        if self.names:
            unknown = [p for p in self.capacities if p not in self.names]
            if unknown:
                raise ValueError(f"capacities name project '{unknown[0]}', which is not in names")
        return self


IntArray = npt.NDArray[np.int64]


@dataclass
class ProjectData:
    """Projects compiled against a roster and a number of teams.

    Attributes
    ----------
    names
        Project names; project ``p`` is ``names[p]``.
    capacity
        Teams each project may take.
    choices
        For each learner, ``(project, rank)`` pairs, rank 0 for the first choice.
    unranked
        Rank steps charged for a project not among a learner's choices.
    keep
        Project each team must keep from the previous phase, or -1.
    """

    names: list[str]
    capacity: IntArray
    choices: list[list[tuple[int, int]]]
    unranked: int
    keep: IntArray

    @property
    def ranked(self) -> list[bool]:
        """Whether each learner ranked any project."""
        return [bool(c) for c in self.choices]

    def rank_of(self, i: int, p: int) -> int | None:
        """1-based rank of project ``p`` for learner ``i`` (None: not among the choices)."""
        return next((r + 1 for q, r in self.choices[i] if q == p), None)


def compile_projects(
    roster: Roster,
    model: FormationModel,
    k: int,
    previous: Mapping[int, str] | None = None,
) -> ProjectData | None:
    """Compile the ``projects`` criterion, or None when it is off.

    Parameters
    ----------
    roster, model
        The cohort (column ``projects``) and the formation model.
    k
        Number of teams.
    previous
        Team number (from 1) to the project it had in the previous phase;
        used when ``criteria.projects.keep`` is set.

    Raises
    ------
    InputError
        A learner ranks a project not on offer, no project is named at all,
        or the capacities hold fewer teams than there are.
    """
    spec = model.criteria.projects
    if spec is None or not spec.enabled:
        return None
    names = list(spec.names)
    if not names:
        names = sorted({p for lr in roster.learners for p in lr.projects} | set(spec.capacities))
    if not names:
        raise InputError(
            "no projects: list them in criteria.projects.names or rank them in the roster's "
            "'projects' column",
            file=model.source,
            column="criteria.projects",
        )
    index = {name: p for p, name in enumerate(names)}
    choices: list[list[tuple[int, int]]] = []
    for lr in roster.learners:
        row: list[tuple[int, int]] = []
        for r, name in enumerate(lr.projects):
            if name not in index:
                raise InputError(
                    f"project '{name}' is not on offer (criteria.projects.names)",
                    file=roster.source,
                    row=lr.row,
                    column="projects",
                )
            row.append((index[name], r))
        choices.append(row)
    default = spec.capacity
    if default is None:
        default = 1 if len(names) >= k else -(-k // len(names))
    capacity = np.array([spec.capacities.get(name, default) for name in names], dtype=np.int64)
    if int(capacity.sum()) < k:
        raise InputError(
            f"{k} teams need a project each, but the capacities hold only {int(capacity.sum())} "
            f"teams over {len(names)} projects",
            file=model.source,
            column="criteria.projects.capacity",
        )
    keep = np.full(k, -1, dtype=np.int64)
    if spec.keep and previous:
        used = np.zeros(len(names), dtype=np.int64)
        for team, name in sorted(previous.items()):
            p = index.get(name)
            # a dropped project, a vanished team or a full project: chosen afresh
            if p is not None and 1 <= team <= k and used[p] < capacity[p]:
                keep[team - 1] = p
                used[p] += 1
    return ProjectData(names, capacity, choices, spec.unranked, keep)


def _first_assignment(data: ProjectData, k: int) -> IntArray:
    """Any assignment meeting capacities and kept projects."""
    assigned = data.keep.copy()
    left = data.capacity - np.bincount(assigned[assigned >= 0], minlength=len(data.names))
    p = 0
    for t in np.flatnonzero(assigned < 0).tolist():
        while left[p] <= 0:
            p += 1
        assigned[t] = p
        left[p] -= 1
    return assigned


class _Vars:
    """Project variables of one sub-model, shared by the soft and hard terms."""

    def __init__(self, term: ProjectTerm, sub: SubModel) -> None:
        data = term.data
        model = sub.model
        teams = sub.teams
        inside = set(teams)
        outside = [int(p) for t, p in enumerate(term.assigned.tolist()) if t not in inside]
        left = data.capacity - np.bincount(
            np.asarray(outside, dtype=np.int64), minlength=len(data.names)
        )
        listed = sorted({p for i in sub.learners for p, _ in data.choices[i]})
        options = [p for p in listed if left[p] > 0]
        # projects nobody in the model ranked cost the same for every team:
        # enough of them for every team to take one keeps the model exact
        spare, room = [], 0
        chosen = set(listed)
        for p in range(len(data.names)):
            if room >= len(teams):
                break
            if p not in chosen and left[p] > 0:
                spare.append(p)
                room += int(left[p])
        options += spare
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        for t in teams:
            own = [int(data.keep[t])] if data.keep[t] >= 0 else options
            lits = []
            for p in own:
                v = model.new_bool_var(f"project[{t},{p}]")
                self.y[t, p] = v
                lits.append(v)
                if term.assigned[t] == p:
                    model.add_hint(v, 1)
            model.add_exactly_one(lits)
        for p in set(options) | {int(data.keep[t]) for t in teams if data.keep[t] >= 0}:
            use = [self.y[t, p] for t in teams if (t, p) in self.y]
            if len(use) > left[p]:
                model.add(sum(use) <= int(left[p]))
        unranked = data.unranked
        self.rank: dict[int, list[cp_model.LinearExprT]] = {t: [] for t in teams}
        self.miss: dict[int, list[cp_model.LinearExprT]] = {t: [] for t in teams}
        for i in sub.learners:
            if not data.choices[i]:
                continue
            for t in teams:
                x = sub.x.get((i, t))
                if x is None:
                    continue
                self.rank[t].append(unranked * x)
                self.miss[t].append(x)
                for p, r in data.choices[i]:
                    y = self.y.get((t, p))
                    if y is None:
                        continue
                    # w = learner i in team t and t takes p (pushed up by the objective)
                    w = model.new_bool_var(f"gets[{i},{t},{p}]")
                    model.add_implication(w, x)
                    model.add_implication(w, y)
                    self.rank[t].append((r - unranked) * w)
                    self.miss[t].append(-w)

    @classmethod
    def of(cls, term: ProjectTerm, sub: SubModel) -> _Vars:
        found = sub.shared.get("projects")
        if not isinstance(found, _Vars):
            found = sub.shared["projects"] = cls(term, sub)
        return found


class ProjectTerm(Term):
    """Rank steps between each learner's first choice and their team's project."""

    name = "projects"
    unit = 1.0
    unit_label = "rank steps"

    def __init__(self, inst: Instance, *, weight: float) -> None:
        super().__init__(inst, weight=weight, hard=False)
        assert inst.projects is not None
        self.data: ProjectData = inst.projects
        #: the project of each team
        self.assigned: IntArray = _first_assignment(self.data, inst.k)
        #: whether every learner who ranked projects must get one of them
        self.required = False
        self._inverse: tuple[bytes, dict[int, list[int]]] | None = None

    def penalty_with(self, members: Sequence[int], project: int) -> int:
        """Rank steps of ``members`` if their team takes ``project``."""
        total = 0
        for i in members:
            ch = self.data.choices[i]
            if ch:
                total += next((r for q, r in ch if q == project), self.data.unranked)
        return total

    def misses_with(self, members: Sequence[int], project: int) -> int:
        """Members who ranked projects but not ``project``."""
        return sum(1 for i in members if self.data.choices[i] and self.rank_in(i, project) is None)

    def rank_in(self, i: int, project: int) -> int | None:
        """0-based rank of ``project`` among learner ``i``'s choices, or None."""
        return next((r for q, r in self.data.choices[i] if q == project), None)

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return self.penalty_with(members, int(self.assigned[team]))

    def max_penalty(self) -> int:
        """Every learner who ranked projects at the worst rank (or outside them)."""
        worst = max([self.data.unranked, *(r for ch in self.data.choices for _, r in ch)])
        return worst * sum(1 for ch in self.data.choices if ch)

    def teams_wanted_by(self, i: int) -> list[int]:
        """Teams whose project learner ``i`` ranked (candidates for a move)."""
        key = self.assigned.tobytes()
        if self._inverse is None or self._inverse[0] != key:
            inverse: dict[int, list[int]] = {}
            for t, p in enumerate(self.assigned.tolist()):
                inverse.setdefault(p, []).append(t)
            self._inverse = (key, inverse)
        inverse = self._inverse[1]
        return [t for p, _ in self.data.choices[i] for t in inverse.get(p, ())]

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        v = _Vars.of(self, sub)
        return {t: sum(v.rank[t]) for t in sub.teams}

    def lower_bound(self) -> int:
        """Each learner's best project under capacities, ignoring teams.

        A min-cost flow sends every learner who ranked projects to a project,
        each project holding at most its capacity times the largest team; any
        real assignment is such a flow.
        """
        found = _learner_flow(self.inst, self.data, miss_only=False, hard=self.required)
        return found if found is not None else 0

    # -- the per-team decision ------------------------------------------------------------

    def decisions(self) -> object:
        return self.assigned.copy()

    def restore(self, saved: object) -> None:
        self.assigned = np.array(saved, dtype=np.int64)

    def read_decisions(self, sub: SubModel, solver: cp_model.CpSolver) -> None:
        v = _Vars.of(self, sub)
        for (t, p), lit in v.y.items():
            if solver.boolean_value(lit):
                self.assigned[t] = p

    def decide(self, members: Sequence[Sequence[int]]) -> bool:
        """Best projects for these teams (all of them), by a min-cost flow.

        Returns whether any team's project changed. With required choices and
        teams that cannot all get a project their members ranked, nothing
        changes.
        """
        found = best_projects(self.data, members, required=self.required)
        if found is None or np.array_equal(found, self.assigned):
            return False
        self.assigned = found
        return True

    def compiled_data(self) -> ProjectRecord:
        """Ranks with each team's project fixed (the moves keep projects)."""
        from teamform.search.compiled_data import ProjectRecord, cost_per_unit

        choices = self.data.choices
        ptr = np.zeros(len(choices) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(c) for c in choices])
        rec = ProjectRecord(
            np.ascontiguousarray(self.assigned, dtype=np.int64),
            ptr,
            np.array([p for c in choices for p, _ in c], dtype=np.int64),
            np.array([r for c in choices for _, r in c], dtype=np.int64),
            self.data.unranked,
            cost_per_unit(self),
            np.zeros(len(self.data.names) + 1, dtype=np.int64),
            np.zeros(self.inst.k, dtype=np.int64),
        )
        return rec.holding()


class ProjectChoiceTerm(Term):
    """Hard: every learner who ranked projects gets one of them."""

    name = "projects_choice"
    unit = 1.0
    unit_label = "learners without a project they ranked"

    def __init__(self, inst: Instance, owner: ProjectTerm) -> None:
        super().__init__(inst, weight=owner.weight, hard=True)
        self.owner = owner
        owner.required = True

    def team_penalty(self, members: Sequence[int], team: int) -> int:
        return self.owner.misses_with(members, int(self.owner.assigned[team]))

    def add_to_model(self, sub: SubModel) -> dict[int, cp_model.LinearExprT]:
        v = _Vars.of(self.owner, sub)
        return {t: sum(v.miss[t]) for t in sub.teams}

    def max_penalty(self) -> int:
        """Every learner who ranked projects without one of them."""
        return sum(1 for choices in self.owner.data.choices if choices)

    def lower_bound(self) -> int:
        found = _learner_flow(self.inst, self.owner.data, miss_only=True, hard=False)
        return found if found is not None else 0

    def describe_violation(self, members: Sequence[int], team: int, penalty: int) -> str:
        p = int(self.owner.assigned[team])
        out = [
            i for i in members if self.owner.data.choices[i] and self.owner.rank_in(i, p) is None
        ]
        ids = ", ".join(self.inst.ids[i] for i in out)
        return f"projects: {ids} did not rank '{self.owner.data.names[p]}', the team's project"


class _Flow:
    """A min-cost flow from ``sources`` unit supplies (nodes 0..sources-1) to ``sink``."""

    def __init__(self) -> None:
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.caps: list[int] = []
        self.costs: list[int] = []

    def arc(self, a: int, b: int, cap: int, cost: int) -> None:
        self.tails.append(a)
        self.heads.append(b)
        self.caps.append(cap)
        self.costs.append(cost)

    def solve(self, sources: int, sink: int) -> tuple[int, list[int]] | None:
        """Optimal cost and the flow on each arc, or None when infeasible."""
        # only models with projects get here: the others start without it
        from ortools.graph.python import min_cost_flow

        flow = min_cost_flow.SimpleMinCostFlow()
        arcs = flow.add_arcs_with_capacity_and_unit_cost(
            np.array(self.tails), np.array(self.heads), np.array(self.caps), np.array(self.costs)
        )
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[:sources] = 1
        supplies[sink] = -sources
        flow.set_nodes_supplies(np.arange(sink + 1), supplies)
        if flow.solve() != flow.OPTIMAL:
            return None
        return int(flow.optimal_cost()), flow.flows(arcs).tolist()


def best_projects(
    data: ProjectData, members: Sequence[Sequence[int]], *, required: bool = False
) -> IntArray | None:
    """Projects for teams with these members, minimising total rank steps.

    A min-cost flow: each team sends one unit to a project it may take, each
    project passes at most its capacity. Teams reach the projects their
    members ranked directly, at their exact cost; every other project costs a
    team the same (``unranked`` per ranked member), so those go through one
    shared node. Returns None when no assignment exists (required choices
    that capacities cannot meet).
    """
    k, n_p = len(members), len(data.names)
    hub, sink = k + n_p, k + n_p + 1
    net = _Flow()
    for t, mem in enumerate(members):
        kept = int(data.keep[t])
        ranked = [i for i in mem if data.choices[i]]
        base = data.unranked * len(ranked)
        delta: dict[int, int] = {}
        count: dict[int, int] = {}
        for i in ranked:
            for p, r in data.choices[i]:
                delta[p] = delta.get(p, 0) + r - data.unranked
                count[p] = count.get(p, 0) + 1
        if kept >= 0:
            net.arc(t, k + kept, 1, base + delta.get(kept, 0))
            continue
        for p, d in delta.items():
            if not required or count[p] == len(ranked):
                net.arc(t, k + p, 1, base + d)
        if not required or not ranked:
            net.arc(t, hub, 1, base)
    for p in range(n_p):
        net.arc(hub, k + p, int(data.capacity[p]), 0)
        net.arc(k + p, sink, int(data.capacity[p]), 0)
    found = net.solve(k, sink)
    if found is None:
        return None
    out = np.full(k, -1, dtype=np.int64)
    via_hub: list[int] = []
    hub_left = np.zeros(n_p, dtype=np.int64)
    for tail, head, f in zip(net.tails, net.heads, found[1], strict=True):
        if not f:
            continue
        if tail < k:
            if head == hub:
                via_hub.append(tail)
            else:
                out[tail] = head - k
        elif tail == hub:
            hub_left[head - k] += f
    for t in via_hub:
        p = int(np.flatnonzero(hub_left)[0])
        out[t] = p
        hub_left[p] -= 1
    return out


def _learner_flow(inst: Instance, data: ProjectData, *, miss_only: bool, hard: bool) -> int | None:
    """Least total cost of sending each ranking learner to a project (see the bounds)."""
    n_p = len(data.names)
    learners = [i for i in range(inst.n) if data.choices[i]]
    if not learners:
        return 0
    m = len(learners)
    hub, sink = m + n_p, m + n_p + 1
    biggest = int(inst.team_hi.max())
    net = _Flow()
    for a, i in enumerate(learners):
        for p, r in data.choices[i]:
            net.arc(a, m + p, 1, 0 if miss_only else r)
        if not hard:
            net.arc(a, hub, 1, 1 if miss_only else data.unranked)
    for p in range(n_p):
        room = int(data.capacity[p]) * biggest
        net.arc(hub, m + p, room, 0)
        net.arc(m + p, sink, room, 0)
    found = net.solve(m, sink)
    return None if found is None else found[0]


def build(inst: Instance, spec: Projects) -> list[Term]:
    """The terms of one ``[criteria.projects]`` table."""
    if not spec.enabled or inst.projects is None:
        return []
    project = ProjectTerm(inst, weight=spec.weight)
    return [project, ProjectChoiceTerm(inst, project)] if spec.hard else [project]
