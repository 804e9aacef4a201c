"""Tests for teamform.errors: every input error renders as one short line."""

from __future__ import annotations

from teamform.errors import MAX_MESSAGE_CHARS, InputError, one_line


def test_control_characters_are_shown_not_printed() -> None:
    exc = InputError("cannot read 'Mon\n09:00\r\x00'", file="r.csv", row=3, column="a\tb")
    assert str(exc) == "r.csv, row 3, column 'a\\tb': cannot read 'Mon\\n09:00\\r\\x00'"


def test_long_messages_keep_both_ends() -> None:
    text = "unknown time zone '" + "x" * 10_000 + "' (expected an IANA name)"
    short = one_line(text)
    assert len(short) <= MAX_MESSAGE_CHARS
    assert short.startswith("unknown time zone 'xxx")
    assert short.endswith("' (expected an IANA name)")
    assert "..." in short


def test_short_messages_are_unchanged() -> None:
    assert one_line("skill level 7 is outside the declared scale 1-5") == (
        "skill level 7 is outside the declared scale 1-5"
    )
