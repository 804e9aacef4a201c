"""teamform: form learner teams with CP-SAT.

The public API::

    from teamform import form, load_roster, FormationModel

    roster = load_roster("instances/demo/roster.csv", avoid="instances/demo/avoid.csv")
    model = FormationModel.from_toml("models/collaborative.toml")
    result = form(roster, model, time_limit=10, seed=0)
    result.to_csv("teams.csv")
"""

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
__version__ = "0.1.0"
