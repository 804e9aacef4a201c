"""Survey exports to rosters: Google Forms, Microsoft Forms, Qualtrics, gruepr, other rosters.

:func:`import_survey` detects the tool that wrote the file and the role of each
column from its header (name, e-mail, time zone, availability grid, teammates,
ranked project choices, skills, categories ...), converts the answers (time-zone
labels to IANA zones, grid cells to weekly windows, teammate names to ids) and
returns a validated :class:`~teamform.Roster` with the :class:`SurveyMapping`
it chose, which can be edited and passed back in.
"""

from teamform.survey.importer import (
    SurveyImport,
    detect_mapping,
    import_survey,
    is_roster,
    read_learners,
)
from teamform.survey.mapping import ROLES, ColumnSpec, SurveyMapping

__all__ = [
    "ROLES",
    "ColumnSpec",
    "SurveyImport",
    "SurveyMapping",
    "detect_mapping",
    "import_survey",
    "is_roster",
    "read_learners",
]
