"""Search tunables, in one object recorded with every result.

Every number that steers the search (how the budget is shared between its
phases, which algorithm a budget affords, how work is counted in deterministic
mode) lives here, so a result says how it was searched and a benchmark can
vary one setting at a time. The defaults are the measured ones (see
``benchmarks/README.md``); changing one changes the teams a seed gives.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SearchParams(BaseModel):
    """How the search spends its budget (fractions are of the search's time limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exact_max_learners: int = Field(
        default=80, ge=0, description="cohorts up to this size get the full CP-SAT model (auto)"
    )
    compiled_min_seconds: float = Field(
        default=2.0,
        ge=0,
        description=(
            "shortest wall-clock budget given to the compiled search (its first use compiles"
            " it); deterministic runs use it whatever their budget"
        ),
    )
    spread_share: float = Field(
        default=0.1, ge=0, le=1, description="of the limit: the construction's motivation repair"
    )
    anneal_share: float = Field(
        default=0.75, ge=0, le=1, description="exact strategy: compiled annealing before CP-SAT"
    )
    anneal_runs: int = Field(
        default=4, ge=1, description="annealing runs (then each from the best so far)"
    )
    anneal_run_seconds: float = Field(
        default=2.0, gt=0, description="shortest annealing run worth having"
    )
    warm_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="exact strategy with projects: neighbourhood warm start",
    )
    warm_max_seconds: float = Field(default=10.0, ge=0, description="cap of that warm start")
    local_share: float = Field(
        default=0.2, ge=0, le=1, description="exact strategy, Python search: local search first"
    )
    local_max_seconds: float = Field(default=2.0, ge=0, description="cap of that local search")
    local_steps_per_team_second: int = Field(
        default=200, ge=0, description="its deterministic steps per team and second of budget"
    )
    local_max_work_seconds: float = Field(
        default=5.0, ge=0, description="budget seconds counted at most for those steps"
    )
    polish_share: float = Field(
        default=0.05, ge=0, le=1, description="LNS: the last part, for the motivation spread"
    )
    polish_max_seconds: float = Field(default=1.5, ge=0, description="cap of that polish")
    teams_first_share: float = Field(
        default=0.4, ge=0, le=1, description="LNS with projects: teams formed first"
    )
    lns_units_per_second: int = Field(
        default=4000, gt=0, description="deterministic LNS: work units (steps) per second"
    )
    burst_seconds: float = Field(
        default=0.5, gt=0, description="LNS: wall seconds at most per burst of moves"
    )
    neighbourhood_units: int = Field(
        default=150, ge=0, description="deterministic LNS: units charged per neighbourhood"
    )
    neighbourhood_work: float = Field(
        default=0.05, gt=0, description="deterministic LNS: CP-SAT work per neighbourhood"
    )
    neighbourhood_seconds: float = Field(
        default=0.2, gt=0, description="LNS: wall seconds at most per neighbourhood"
    )
    compiled_steps_per_second: int = Field(
        default=40000, gt=0, description="deterministic compiled search: steps per second"
    )
    diversity_iterations_per_second: int = Field(
        default=2000, gt=0, description="deterministic diversity search: iterations per second"
    )
    diagnose_share: float = Field(
        default=0.25, ge=0, le=1, description="of the limit: narrowing an infeasible model down"
    )
    diagnose_min_seconds: float = Field(default=1.0, ge=0, description="floor of that diagnosis")


#: The measured defaults.
DEFAULT_PARAMS = SearchParams()
