"""Teammates named in a survey answer, matched to learners of the roster.

Learners name the people they want (or do not want) to work with as they
remember them: ``Zoë Martin``, ``zoe martin``, ``Martin, Zoe``, an e-mail
address, a first name, a typo. Exact matches are on id, e-mail and name
compared case- and accent-insensitively (first/last order free); a first name
alone counts when only one learner has it; near misses are found with
rapidfuzz and taken only when one candidate clearly wins. Anything else is an
error that lists the candidates, so that no request is silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

__all__ = ["Match", "NameIndex", "TeammateError", "fold_name", "split_names"]

#: Score (0-100, token-sort ratio) from which a near miss may be taken.
ACCEPT = 88
#: How far ahead of the runner-up the best near miss must be.
MARGIN = 6
#: Score from which a learner is shown as a candidate in an error.
CANDIDATE = 60

_NOBODY = frozenset(
    {
        "",
        "none",
        "no",
        "n/a",
        "n a",
        "na",
        "nobody",
        "no one",
        "noone",
        "-",
        "no preference",
        "nope",
    }
)


class TeammateError(ValueError):
    """A name that matches no learner, or several; ``candidates`` lists the likely ones."""

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        self.candidates = list(candidates)
        if self.candidates:
            message += f" (candidates: {'; '.join(self.candidates)})"
        super().__init__(message)


@dataclass(frozen=True)
class Match:
    """A name resolved to a learner id; ``how`` is ``exact``, ``first name`` or ``fuzzy``."""

    text: str
    learner: str
    how: str
    score: float = 100.0


def fold_name(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^\w@.+\-' ]+", " ", plain.casefold())
    return re.sub(r"\s+", " ", plain.replace("'", "")).strip()


def split_names(cell: str) -> list[str]:
    """The separate names of an answer: ``;``, new lines, commas, ``and``, ``&``."""
    parts = []
    for chunk in re.split(r"[;\n/|]+", cell):
        chunk = chunk.strip()
        if not chunk:
            continue
        # "Martin, Zoe" is one person written surname first: keep two-word comma chunks whole
        pieces = [p.strip() for p in chunk.split(",")]
        if len(pieces) == 2 and all(len(p.split()) == 1 for p in pieces) and "@" not in chunk:
            parts.append(chunk)
            continue
        for piece in pieces:
            parts.extend(p.strip() for p in re.split(r"\s+(?:and|&|\+)\s+", piece) if p.strip())
    return parts


class NameIndex:
    """Learners' ids, e-mails and names, to resolve the names of an answer.

    Parameters
    ----------
    people
        ``(id, name, email)`` of every learner.
    aliases
        Answer text to learner id, e-mail or name (the mapping file's
        ``[teammates]`` table): how a tutor settles an ambiguous or unknown
        name; an empty value drops the name on purpose.
    """

    def __init__(
        self,
        people: Sequence[tuple[str, str, str]],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self._label = {lid: f"{name} ({lid})" if name else lid for lid, name, _ in people}
        self._exact: dict[str, set[str]] = {}
        self._first: dict[str, set[str]] = {}
        self._names: dict[str, str] = {}
        for lid, name, email in people:
            self._add(self._exact, lid.casefold(), lid)
            if email:
                self._add(self._exact, email.strip().casefold(), lid)
            folded = fold_name(name)
            if folded:
                self._add(self._exact, folded, lid)
                self._add(self._exact, _sorted_words(folded), lid)
                self._add(self._first, folded.split()[0], lid)
                self._names[lid] = folded
        self._aliases = {fold_name(k): v for k, v in (aliases or {}).items()}
        self._ids_sorted = list(self._names)
        self._choices = [_sorted_words(self._names[i]) for i in self._ids_sorted]

    @staticmethod
    def _add(table: dict[str, set[str]], key: str, lid: str) -> None:
        table.setdefault(key, set()).add(lid)

    def _one(self, text: str, ids: set[str]) -> str:
        if len(ids) > 1:
            names = sorted(self._label[i] for i in ids)
            raise TeammateError(f"'{text}' matches several learners", names)
        return next(iter(ids))

    def resolve(self, text: str) -> Match | None:
        """The learner ``text`` names; ``None`` for "nobody" or an alias set to drop.

        Raises
        ------
        TeammateError
            When no learner or several learners match.
        """
        folded = fold_name(text)
        if folded in _NOBODY:
            return None
        if folded in self._aliases:
            target = self._aliases[folded]
            if not target:
                return None
            found = self._lookup(target)
            if found is None:
                raise TeammateError(
                    f"the mapping sends '{text}' to '{target}', who is not a learner"
                )
            return Match(text, found, "mapping")
        found = self._lookup(text)
        if found is not None:
            return Match(text, found, "exact")
        first = self._first.get(folded)
        if first and " " not in folded:
            return Match(text, self._one(text, first), "first name")
        return self._fuzzy(text, folded)

    def _lookup(self, text: str) -> str | None:
        key = text.strip().casefold()
        folded = fold_name(text)
        for k in (key, folded, _sorted_words(folded)):
            if k in self._exact:
                return self._one(text, self._exact[k])
        return None

    def _fuzzy(self, text: str, folded: str) -> Match:
        scored = process.extract(_sorted_words(folded), self._choices, scorer=fuzz.ratio, limit=3)
        ranked = [(self._ids_sorted[i], s) for _, s, i in scored]
        if ranked and ranked[0][1] >= ACCEPT:
            best, score = ranked[0]
            if len(ranked) == 1 or ranked[1][1] <= score - MARGIN:
                return Match(text, best, "fuzzy", score)
            close = [self._label[lid] for lid, s in ranked if s > score - MARGIN]
            raise TeammateError(f"'{text}' is close to several learners", close)
        candidates = [self._label[lid] for lid, s in ranked if s >= CANDIDATE]
        raise TeammateError(f"'{text}' matches no learner", candidates)


def _sorted_words(folded: str) -> str:
    return " ".join(sorted(folded.split()))
