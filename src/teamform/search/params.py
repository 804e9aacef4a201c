"""Search tunables, in one object recorded with every result.

Every number that steers the search (how long its phases are, which algorithm
a budget affords, how work is counted in deterministic mode) lives here, so a
result says how it was searched and a benchmark can vary one setting at a time.
The defaults are the measured ones (see ``benchmarks/README.md``); changing one
changes the teams a seed gives.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Settings of earlier versions, which gave a phase a share of the budget (so that a
#: larger budget searched otherwise than a smaller one, and could end worse): results
#: saved with them still load, these settings ignored, since the phases they shared
#: out now have lengths of their own (``*_seconds`` below).
RETIRED = frozenset(
    {
        "anneal_share",
        "warm_share",
        "warm_max_seconds",
        "local_share",
        "local_max_seconds",
        "local_max_work_seconds",
        "teams_first_share",
    }
)


class SearchParams(BaseModel):
    """How the search spends its budget (fractions are of the search's time limit).

    Phases of the search have lengths (seconds on the clock, or of work in
    deterministic mode), never shares of the budget, so that a larger budget
    runs a smaller one's phases first: in deterministic mode it never ends worse.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _without_retired(cls, data: Any) -> Any:
        """Drop the settings of :data:`RETIRED` (results saved by earlier versions)."""
        if isinstance(data, dict) and RETIRED & data.keys():
            return {k: v for k, v in data.items() if k not in RETIRED}
        return data

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
    proof_max_pairs: int = Field(
        default=200,
        ge=0,
        description="exact strategy: CP-SAT first up to this many learners times teams",
    )
    proof_seconds: float = Field(
        default=1.0, ge=0, description="exact strategy: length of that first CP-SAT phase"
    )
    anneal_runs: int = Field(
        default=4, ge=1, description="exact strategy: annealing runs, each from the best so far"
    )
    anneal_run_seconds: float = Field(
        default=1.5, gt=0, description="exact strategy: length of each annealing run"
    )
    cpsat_seconds: float = Field(
        default=2.0,
        ge=0,
        description="exact strategy: CP-SAT after each round of annealing runs (when more is left)",
    )
    warm_seconds: float = Field(
        default=5.0,
        ge=0,
        description="exact strategy with projects: length of the neighbourhood warm start",
    )
    local_seconds: float = Field(
        default=2.0, ge=0, description="exact strategy, Python search: length of the local search"
    )
    local_steps_per_team_second: int = Field(
        default=200, ge=0, description="its deterministic steps per team and second of budget"
    )
    polish_share: float = Field(
        default=0.05, ge=0, le=1, description="LNS: the last part, for the motivation spread"
    )
    polish_max_seconds: float = Field(default=1.5, ge=0, description="cap of that polish")
    teams_first_seconds: float = Field(
        default=3.0, ge=0, description="LNS with projects: length of the teams formed first"
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
