"""Column roles from header text (and, for skills, from the answers)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

from teamform.survey.grid import DAY_NAMES, grid_day
from teamform.survey.mapping import ColumnSpec

__all__ = ["NUMERIC_LEAD", "detect_column", "fold", "slug"]

#: An answer starting with a number: ``4``, ``4.5``, ``4. I have written programs ...``
NUMERIC_LEAD = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)(?![0-9])")

_IGNORE = re.compile(
    r"^(?:timestamp|horodateur|marca temporal|zeitstempel|start ?time|completion ?time|"
    r"last modified time|start ?date|end ?date|status|ip ?address|progress|duration.*|"
    r"finished|recorded ?date|response ?id|response type|external ?(?:data ?)?reference|"
    r"location ?(?:latitude|longitude)|distribution ?channel|user ?language|q_.*|"
    r"total points|quiz feedback|points.*|feedback.*)$"
    r"|\b(?:phone|mobile|telephone)\b"
)
_RANK_WORDS = {"top": 1, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_RANK = re.compile(
    r"\[(?:(top|first|second|third|fourth|fifth|sixth)|(\d+)(?:st|nd|rd|th)?)\s*(?:choice|pick|preference)\]"
    r"|\[(?:choice|rank|preference|option)\s*#?\s*(\d+)\]"
)
#: A ranking question answered in one cell (Microsoft Forms: "B;A;C;")
_RANKING = re.compile(r"\brank\b|\branking\b|order of preference|in order of")
_RANKED_THINGS = re.compile(r"project|topic|choice|option|preference")
_GRID_WORDS = re.compile(
    r"availab|unavailab|\bfree\b|\bbusy\b|\btimes?\b|schedule|when can you|\bmeet"
)
_BUSY = re.compile(r"unavailab|not available|\bbusy\b|can ?not|can't|conflict|not free")
_TEAMMATE = re.compile(
    r"work with|teammate|team ?mate|on your team|in your team|partner|group with|"
    r"in your group|team with"
)
_NEGATIVE = re.compile(r"\bnot\b|\bavoid|rather not|n't\b|\bnever\b|\bprefer not")
_EMAIL = re.compile(r"e-?mail")
_LMS = re.compile(r"\b(?:login|username|user name|canvas id|moodle id|lms id|lms)\b")
_ID = re.compile(
    r"\b(?:student|learner|sis|matriculation|registration|university)\s*(?:id|number|no)\b"
    r"|^id$|^id number$|\bstudent id\b"
)
_FIRST = re.compile(r"first ?name|given name|prefer(?:red)? name|prefer to be called|forename")
_LAST = re.compile(r"last ?name|surname|family name")
_NAME = re.compile(r"\bname\b")
_SECTION = re.compile(r"\bsection\b")
_TIMEZONE = re.compile(r"time ?zone|time-zone|utc offset")
_AVAILABILITY = re.compile(r"availab")
_MOTIVATION = re.compile(
    r"motivat|why (?:are|did) you (?:take|taking|enrol|enroll|join|choose|chose)|"
    r"required or elective|elective|compulsory|mandatory|chose this|choose this|sent by"
)
_PARTICIPATION = re.compile(r"\bparticipation\b")
_FREE_TEXT = re.compile(r"anything else|\bcomments?\b|\bnotes?\b|\bremarks?\b|\bfeedback\b")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "by",
        "course",
        "did",
        "do",
        "does",
        "for",
        "from",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "level",
        "many",
        "much",
        "of",
        "on",
        "or",
        "please",
        "rate",
        "scale",
        "skill",
        "skills",
        "so",
        "the",
        "this",
        "to",
        "what",
        "which",
        "with",
        "you",
        "your",
        "yourself",
        "would",
        "experience",
        "experienced",
        "comfortable",
        "confident",
    ]
)


def fold(text: str) -> str:
    """Lower case without accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain).strip().casefold()


def slug(header: str) -> str:
    """A roster column name for a question: its bracket text, else its key words."""
    bracket = re.findall(r"\[([^\]]+)\]", header)
    text = bracket[-1] if bracket else re.sub(r"\([^)]*\)", " ", header)
    words = [w for w in re.findall(r"[a-z0-9]+", fold(text)) if not w.isdigit()]
    keep = [w for w in words if w not in _STOP] or words
    return "_".join(keep[:3]) or "answer"


def _rank(header: str) -> int | None:
    m = _RANK.search(header)
    if not m:
        return None
    word, number, number2 = m.groups()
    if word:
        return _RANK_WORDS[word]
    return int(number or number2)


def detect_column(header: str, values: Sequence[str], *, fmt: str, short: str = "") -> ColumnSpec:
    """The role of one column, from its header and, when the header says nothing, its answers.

    Parameters
    ----------
    header
        The column's header (question text).
    values
        The column's answers (used to tell skills from categories).
    fmt
        The survey format (``ms_forms`` numbers responses in an ``ID`` column).
    short
        Qualtrics' short name for the column, if any.
    """
    h = fold(header)
    if (
        _IGNORE.search(h)
        or (short and _IGNORE.search(fold(short)))
        or (fmt == "ms_forms" and h == "id")
    ):
        return ColumnSpec(role="ignore", how="survey bookkeeping")
    rank = _rank(h)
    if rank is not None:
        return ColumnSpec(role="project_choice", rank=rank, how=f"project choice, rank {rank}")
    if _RANKING.search(h) and _RANKED_THINGS.search(h):
        return ColumnSpec(role="project_choice", how="ranked choices in one cell, best first")
    day = grid_day(header)
    if day is not None and _GRID_WORDS.search(h):
        marks: Literal["free", "busy"] = "busy" if _BUSY.search(h) else "free"
        return ColumnSpec(
            role="grid",
            day=DAY_NAMES[day],  # type: ignore[arg-type]
            marks=marks,
            how=f"{DAY_NAMES[day]} grid, ticks mark {marks} times",
        )
    if _TEAMMATE.search(h):
        if _NEGATIVE.search(h):
            return ColumnSpec(role="avoid", how="names/e-mails of learners to avoid")
        return ColumnSpec(role="prefer", how="names/e-mails of preferred teammates")
    if _FREE_TEXT.search(h):
        return ColumnSpec(role="ignore", how="free text")
    rules: tuple[tuple[re.Pattern[str], str, str], ...] = (
        (_EMAIL, "email", "e-mail address"),
        (_LMS, "lms_id", "LMS account"),
        (_ID, "id", "learner id"),
        (_FIRST, "first_name", "first name"),
        (_LAST, "last_name", "last name"),
        (_NAME, "name", "full name"),
        (_SECTION, "section", "section"),
        (_TIMEZONE, "timezone", "time-zone label -> IANA zone"),
        (_AVAILABILITY, "availability", "weekly windows, e.g. Mon-Fri 18:00-21:00"),
        (_MOTIVATION, "motivation", "answer -> intrinsic/imposed"),
        (_PARTICIPATION, "participation", "0-100"),
    )
    for pattern, role, how in rules:
        if pattern.search(h):
            return ColumnSpec(role=role, how=how)  # type: ignore[arg-type]
    answers = [v for v in values if v.strip()]
    if not answers:
        return ColumnSpec(role="ignore", how="no answers")
    # mostly numbers: a skill, whose odd answers are then reported rather than guessed
    if sum(1 for v in answers if NUMERIC_LEAD.match(v)) >= 0.8 * len(answers):
        return ColumnSpec(role="skill", name=slug(header), how="leading number -> level")
    # long answers that nearly all differ are comments, not a category
    distinct = len({fold(v) for v in answers})
    if (
        len(answers) >= 5
        and distinct > 0.8 * len(answers)
        and (sum(len(v) for v in answers) > 25 * len(answers))
    ):
        return ColumnSpec(role="ignore", how="free text")
    return ColumnSpec(role="category", name=slug(header), how="answer as a category")
