"""teamform: form learner teams with CP-SAT.

The public API::

    from teamform import form, load_roster, FormationModel

    roster = load_roster("instances/demo/roster.csv", avoid="instances/demo/avoid.csv")
    model = FormationModel.from_toml("models/collaborative.toml")
    result = form(roster, model, time_limit=10, seed=0)
    result.to_csv("teams.csv")

Each name is imported on first use, so ``import teamform`` (and a command
that needs only part of the package) does not load the solver, the phase
history or the batch machinery it does not use.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teamform.batch import Job, JobResult, form_many, load_jobs
    from teamform.errors import InputError, TeamformError
    from teamform.instance import Instance, build_instance
    from teamform.lms import export_lms
    from teamform.model import FormationModel
    from teamform.pins import Pins
    from teamform.plan import Plan, run_due
    from teamform.result import Result, Status, TeamSummary
    from teamform.roster import Learner, Roster, load_roster
    from teamform.solve import form, solve_instance
    from teamform.survey import SurveyImport, SurveyMapping, import_survey
    from teamform.validate import Validation, validate

    __version__: str

#: public name -> the module that defines it
_HOMES = {
    "Job": "teamform.batch",
    "JobResult": "teamform.batch",
    "form_many": "teamform.batch",
    "load_jobs": "teamform.batch",
    "InputError": "teamform.errors",
    "TeamformError": "teamform.errors",
    "Instance": "teamform.instance",
    "build_instance": "teamform.instance",
    "export_lms": "teamform.lms",
    "FormationModel": "teamform.model",
    "Pins": "teamform.pins",
    "Plan": "teamform.plan",
    "run_due": "teamform.plan",
    "Result": "teamform.result",
    "Status": "teamform.result",
    "TeamSummary": "teamform.result",
    "Learner": "teamform.roster",
    "Roster": "teamform.roster",
    "load_roster": "teamform.roster",
    "form": "teamform.solve",
    "solve_instance": "teamform.solve",
    "SurveyImport": "teamform.survey",
    "SurveyMapping": "teamform.survey",
    "import_survey": "teamform.survey",
    "Validation": "teamform.validate",
    "validate": "teamform.validate",
}

__all__ = [
    "FormationModel",
    "InputError",
    "Instance",
    "Job",
    "JobResult",
    "Learner",
    "Pins",
    "Plan",
    "Result",
    "Roster",
    "Status",
    "SurveyImport",
    "SurveyMapping",
    "TeamSummary",
    "TeamformError",
    "Validation",
    "build_instance",
    "export_lms",
    "form",
    "form_many",
    "import_survey",
    "load_jobs",
    "load_roster",
    "run_due",
    "solve_instance",
    "validate",
]


if not TYPE_CHECKING:  # mypy reads the imports above, and no catch-all attribute

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            value: Any = _version()
        elif name in _HOMES:
            value = getattr(importlib.import_module(_HOMES[name]), name)
        else:
            raise AttributeError(f"module 'teamform' has no attribute '{name}'")
        globals()[name] = value  # later look-ups skip this function
        return value


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # First importing the submodule teamform.validate binds it here, over the
        # public function of the same name: keep the function.
        if isinstance(value, types.ModuleType) and value.__name__ == _HOMES.get(name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, "__version__"})


def _version() -> str:
    """The installed distribution's version; a source tree that is not installed
    says so rather than guessing a number."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("teamform")
    except PackageNotFoundError:
        return "0+unknown"
