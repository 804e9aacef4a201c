"""The user's files: text read with one-line errors, TOML keys located; output
atomic, durable, with the usual permissions and formula-safe cells."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from teamform import files
from teamform.cli import app
from teamform.errors import InputError
from teamform.files import (
    check_size,
    csv_text,
    decode_text,
    first_line,
    parse_toml,
    read_text,
    safe_cell,
    toml_line,
    write_atomic,
)


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_honours_the_umask(tmp_path: Path, umask: None, mask: int, expected: int) -> None:
    os.umask(mask)
    target = tmp_path / "out" / "teams.csv"
    write_atomic(target, "id,team\n")
    assert target.read_text(encoding="utf-8") == "id,team\n"
    assert mode(target) == expected


def test_replaced_file_keeps_its_mode(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "result.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert mode(target) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temporary left


def test_file_and_directory_are_flushed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        flushed.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_atomic(tmp_path / "a.txt", "x")
    assert flushed == ["file", "dir"]


def test_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "teams.csv"
    target.write_text("old", encoding="utf-8")

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["teams.csv"]


def test_csv_text_neutralises_formulas_only_when_asked() -> None:
    rows = [("=1+1", "-2", 3), ("plain", "@x", 4)]
    assert csv_text(("a", "b", "n"), rows) == "a,b,n\n'=1+1,'-2,3\nplain,'@x,4\n"
    assert csv_text(("a", "b", "n"), rows, safe=False) == "a,b,n\n=1+1,-2,3\nplain,@x,4\n"
    assert safe_cell("\tx") == "'\tx"


def test_form_outputs_are_readable_by_others(tmp_path: Path, umask: None) -> None:
    out, js = tmp_path / "teams.csv", tmp_path / "result.json"
    result = CliRunner().invoke(
        app,
        [
            "form",
            "instances/demo/roster.csv",
            "--model",
            "models/collaborative.toml",
            "--time-limit",
            "1",
            "--out",
            str(out),
            "--json",
            str(js),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert mode(out) == mode(js) == 0o644


# ---------------------------------------------------------------- reading


def test_read_text_drops_the_bom_and_locates_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xef\xbb\xbfid\na\n")
    assert read_text(path) == "id\na\n"
    path.write_bytes(b"id\na\n\xffb\n")
    with pytest.raises(InputError) as info:
        read_text(path)
    assert (info.value.file, info.value.row) == (str(path), 3)
    assert info.value.message == "not UTF-8 text (byte 0xff); save the file as UTF-8"
    with pytest.raises(InputError, match="file not found"):
        read_text(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="larger than 5 bytes"):
        read_text(path, 5)


def test_decode_and_size_messages() -> None:
    assert decode_text(b"\xef\xbb\xbfx", "up.csv") == "x"
    with pytest.raises(InputError, match=r"^up\.csv, row 2: not UTF-8"):
        decode_text(b"a\n\xfe", "up.csv")
    with pytest.raises(InputError, match="larger than 8 MB"):
        check_size(8 * 1024 * 1024 + 1, 8 * 1024 * 1024, "up.csv")
    check_size(10, 10, "up.csv")


def test_parse_toml_locates_syntax_errors() -> None:
    assert parse_toml("a = 1\n[t]\nb = 2\n", "m.toml") == {"a": 1, "t": {"b": 2}}
    with pytest.raises(InputError) as info:
        parse_toml("a = 1\nb = \n", "m.toml")
    assert info.value.row == 2 and info.value.message.startswith("malformed TOML")
    with pytest.raises(InputError, match="nested 40 deep"):
        parse_toml("a = " + "[" * 40 + "]" * 40, "m.toml")


TOML = """\
name = "demo"  # line 1

[team]
size = 4
min = 3

[criteria.overlap]
hours = 2
"weight" = 1

[[criteria.category]]
column = "gender"

[[criteria.category]]
column = "major"
weight = 2

[[phases]]
name = "P1"

[[phases]]
name = "P2"
model = "m.toml"

[phases.no_repeat]
lookback = 1
"""


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (["name"], 1),
        (["team", "min"], 5),
        (["team"], 3),  # a table: its header
        (["team", "max"], 3),  # a key not written: its table
        (["criteria", "overlap", "weight"], 9),  # quoted keys
        (["criteria", "category", "1", "column"], 15),  # the second item
        (["criteria", "category", 1, "weight"], 16),
        (["criteria", "category", "0", "weight"], 11),  # not in the first item: its header
        (["criteria", "overlap"], 7),  # no [criteria] table: the header naming it
        (["phases", "1"], 21),  # an item of an array of tables
        (["phases", "1", "model"], 23),
        (["phases", "0", "name"], 19),
        (["phases", "1", "no_repeat", "lookback"], 26),
        (["nothing"], None),
        ([], None),
    ],
)
def test_toml_line(loc: list[str | int], line: int | None) -> None:
    assert toml_line(TOML, loc) == line


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n \n\t\n",
        "id,name\nL1,A\n",
        "\r\n\r\nid;name\r\nL1;A",
        " " * 70_000 + "\nid,name\n",  # the first line past the start
        "\n" * 65_535 + "\r\nid,name\n",  # a line break split where the start ends
        "\n" * 65_535 + "id,name",
        "\n" * 65_536 + "id,name",
        "x" * 70_000 + "\nid",  # the first line itself longer than the start
        "\u2028\x1cid\x85name\n",
    ],
)
def test_first_line_is_the_first_line_splitlines_gives(text: str) -> None:
    expected = next((line for line in text.splitlines() if line.strip()), "")
    assert first_line(text) == expected


@given(st.text(alphabet=" \t\r\n\x0b\x0c\x1c\x85\u2028ab,", max_size=40))
def test_first_line_from_a_short_start_is_the_same(text: str) -> None:
    expected = next((line for line in text.splitlines() if line.strip()), "")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "_HEAD_CHARS", 7)  # the start cut anywhere, line breaks too
        assert first_line(text) == expected
