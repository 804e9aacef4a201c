"""Teammates named by name or e-mail, matched to learner ids."""

from __future__ import annotations

import pytest

from teamform.survey.people import NameIndex, TeammateError, split_names

PEOPLE = [
    ("s1", "Zoë Martin", "zoe.martin@example.org"),
    ("s2", "John Smith", "john.smith@example.org"),
    ("s3", "Priya Natarajan", ""),
    ("s4", "Alex Kim", "alex.kim@example.org"),
    ("s5", "Alex Moreau", "alex.moreau@example.org"),
    ("s6", "Jon Smythe", ""),
]


@pytest.fixture
def index() -> NameIndex:
    return NameIndex(PEOPLE)


@pytest.mark.parametrize(
    ("text", "learner", "how"),
    [
        ("Zoë Martin", "s1", "exact"),
        ("zoe martin", "s1", "exact"),  # case and accents
        ("ZOE  MARTIN", "s1", "exact"),
        ("Martin Zoe", "s1", "exact"),  # surname first
        ("Martin, Zoë", "s1", "exact"),
        ("John.Smith@Example.org", "s2", "exact"),
        ("s4", "s4", "exact"),
        ("Priya", "s3", "first name"),  # the only Priya
        ("Prya Natarajan", "s3", "fuzzy"),
        ("Natarajan Pirya", "s3", "fuzzy"),
    ],
)
def test_resolves(index: NameIndex, text: str, learner: str, how: str) -> None:
    match = index.resolve(text)
    assert match is not None
    assert (match.learner, match.how) == (learner, how)


def test_a_shared_first_name_is_ambiguous_and_lists_candidates(index: NameIndex) -> None:
    with pytest.raises(TeammateError, match="matches several learners") as exc:
        index.resolve("Alex")
    assert exc.value.candidates == ["Alex Kim (s4)", "Alex Moreau (s5)"]


def test_an_unknown_name_lists_close_candidates(index: NameIndex) -> None:
    with pytest.raises(TeammateError, match="matches no learner") as exc:
        index.resolve("Alexa Kimura")
    assert "Alex Kim (s4)" in exc.value.candidates
    with pytest.raises(TeammateError, match="matches no learner") as exc:
        index.resolve("Bob Dylan")
    assert exc.value.candidates == []


def test_two_near_misses_are_not_guessed() -> None:
    index = NameIndex([("a", "Jon Smith", ""), ("b", "John Smith", ""), ("c", "Ann Lee", "")])
    with pytest.raises(TeammateError, match="several learners"):
        index.resolve("Jonh Smith")


def test_nobody_answers_are_no_names(index: NameIndex) -> None:
    for text in ("", "none", "N/A", "No one", "-"):
        assert index.resolve(text) is None


def test_aliases_settle_or_drop_names() -> None:
    index = NameIndex(PEOPLE, {"Alex": "alex.moreau@example.org", "my cousin": ""})
    match = index.resolve("alex")
    assert match is not None and (match.learner, match.how) == ("s5", "mapping")
    assert index.resolve("My Cousin") is None
    bad = NameIndex(PEOPLE, {"Alex": "nobody@example.org"})
    with pytest.raises(TeammateError, match="not a learner"):
        bad.resolve("Alex")


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Zoe Martin; John Smith", ["Zoe Martin", "John Smith"]),
        ("Zoe Martin, John Smith", ["Zoe Martin", "John Smith"]),
        ("Martin, Zoe", ["Martin, Zoe"]),
        ("Alex Kim and Priya & Jon", ["Alex Kim", "Priya", "Jon"]),
        ("a@x.org, b@x.org", ["a@x.org", "b@x.org"]),
        ("Zoe Martin\nJohn Smith", ["Zoe Martin", "John Smith"]),
    ],
)
def test_split_names(cell: str, names: list[str]) -> None:
    assert split_names(cell) == names
