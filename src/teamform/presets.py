"""Formation-model presets and the demo course, shipped inside the package.

The files live in ``teamform/data/`` so that an installed wheel carries them;
a source checkout reaches the same files through ``models/`` and
``instances/demo/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from teamform.errors import InputError

if TYPE_CHECKING:
    from teamform.model import FormationModel

__all__ = [
    "DEMO_FILES",
    "Preset",
    "copy_demo",
    "demo_dir",
    "list_presets",
    "load_preset",
    "preset_path",
    "resolve_model_path",
]

#: The demo course's files, as copied by :func:`copy_demo`.
DEMO_FILES = ("roster.csv", "avoid.csv", "prefer.csv", "README.md")


def _data_dir(name: str) -> Path:
    # the package is installed as plain files (never zipped), so this is a real directory
    return Path(str(files("teamform") / "data" / name))


def demo_dir() -> Path:
    """The directory holding the demo course (roster, pair lists, README)."""
    return _data_dir("demo")


@dataclass(frozen=True)
class Preset:
    """A formation model that ships with teamform."""

    name: str
    path: Path
    description: str


def list_presets() -> list[Preset]:
    """The shipped presets, sorted by name."""
    from teamform.files import parse_toml, read_text

    out = []
    for path in sorted(_data_dir("models").glob("*.toml")):
        data = parse_toml(read_text(path), str(path))
        out.append(Preset(path.stem, path, str(data.get("description", ""))))
    return out


def preset_path(name: str) -> Path:
    """The file of the preset called ``name``.

    Raises
    ------
    InputError
        When no preset has that name; the message lists those that exist.
    """
    path = _data_dir("models") / f"{name}.toml"
    if "/" in name or "\\" in name or not path.is_file():
        known = ", ".join(p.name for p in list_presets())
        raise InputError(f"no preset named '{name}' (presets: {known})", column="--model")
    return path


def load_preset(name: str) -> FormationModel:
    """The preset called ``name`` as a :class:`~teamform.FormationModel`."""
    from teamform.model import FormationModel

    return FormationModel.from_toml(preset_path(name))


def resolve_model_path(spec: str | Path) -> Path:
    """A model given as a TOML path or as a preset name (``collaborative``).

    An existing file wins over a preset of the same name; a bare name that is
    neither a file nor a preset is reported with the presets that exist.
    """
    path = Path(spec)
    if path.exists() or path.suffix.lower() == ".toml" or len(path.parts) != 1:
        return path
    return preset_path(str(spec))


def copy_demo(directory: str | Path, *, models: bool = True) -> list[Path]:
    """Copy the demo course (and the presets, under ``models/``) into ``directory``.

    Files already there are kept, so a tutor's edits survive a second call.

    Returns
    -------
    list of Path
        The files written.
    """
    target = Path(directory)
    sources = [(demo_dir() / name, target / name) for name in DEMO_FILES]
    if models:
        sources += [(p.path, target / "models" / p.path.name) for p in list_presets()]
    written = []
    for src, dest in sources:
        if dest.exists():
            continue
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        except OSError as exc:
            raise InputError(f"cannot write ({exc.strerror or exc})", file=str(dest)) from None
        written.append(dest)
    return written
