"""Output files: atomic, durable, usual permissions, formula-safe cells."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamform.cli import app
from teamform.files import csv_text, safe_cell, write_atomic


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
