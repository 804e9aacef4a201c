"""Presets by name or path, and the demo course copied out of the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamform.errors import InputError
from teamform.presets import (
    copy_demo,
    demo_dir,
    list_presets,
    load_preset,
    preset_path,
    resolve_model_path,
)

REPO = Path(__file__).resolve().parents[1]


def test_the_checkout_paths_are_the_package_files() -> None:
    # models/ and instances/demo/ are the packaged files, not copies that could drift
    for preset in list_presets():
        assert (REPO / "models" / preset.path.name).resolve() == preset.path.resolve()
    assert (REPO / "instances" / "demo").resolve() == demo_dir().resolve()
    assert {p.name for p in list_presets()} >= {"collaborative", "cooperative"}


def test_presets_load_by_name() -> None:
    model = load_preset("cooperative")
    assert model.name == "cooperative"
    assert preset_path("collaborative").name == "collaborative.toml"
    with pytest.raises(InputError, match=r"no preset named 'nope' \(presets: collaborative"):
        preset_path("nope")
    with pytest.raises(InputError, match="no preset named"):
        preset_path("../models/collaborative")


def test_a_file_wins_over_a_preset_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_model_path("collaborative") == preset_path("collaborative")
    (tmp_path / "collaborative").write_text('name = "mine"\n[team]\nsize = 3\n', encoding="utf-8")
    assert resolve_model_path("collaborative") == Path("collaborative")
    # paths and .toml names are never taken for presets: a missing file stays an error there
    assert resolve_model_path("missing.toml") == Path("missing.toml")
    assert resolve_model_path("sub/collaborative") == Path("sub/collaborative")


def test_copy_demo_keeps_existing_files(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("mine\n", encoding="utf-8")
    written = copy_demo(tmp_path)
    assert tmp_path / "roster.csv" not in written
    assert (tmp_path / "roster.csv").read_text(encoding="utf-8") == "mine\n"
    assert (tmp_path / "models" / "collaborative.toml").is_file()
    assert copy_demo(tmp_path) == []


def test_copy_demo_into_a_file_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="cannot write"):
        copy_demo(blocker)


def test_models_and_demo_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from teamform.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "cooperative" in listed.stdout
    shown = runner.invoke(app, ["models", "show", "cooperative"])
    assert shown.stdout == preset_path("cooperative").read_text(encoding="utf-8")
    missing = runner.invoke(app, ["models", "show", "nope"])
    assert missing.exit_code == 2 and "no preset named 'nope'" in missing.stderr
    demo = runner.invoke(app, ["demo", str(tmp_path / "course")])
    assert demo.exit_code == 0, demo.stderr
    assert "6 files written" in demo.stdout
    checked = runner.invoke(
        app, ["check", str(tmp_path / "course" / "roster.csv"), "--model", "collaborative"]
    )
    assert checked.exit_code == 0, checked.stderr
