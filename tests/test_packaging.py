"""The built wheel carries the presets and the demo course.

Builds the wheel from a copy of the sources, installs it (without dependencies)
into a fresh virtual environment in a temporary directory, which sees the
dependencies of the running environment through a ``.pth`` file, and runs the
installed ``teamform`` from outside any checkout. A few seconds: no network, no
dependency resolution.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src-copy"
    src.mkdir()
    # a copy, so the build leaves no build/ or egg-info in the checkout
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp / "dist"),
            str(src),
        ],
        tmp,
        env,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("teamform-*.whl")

    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(
        _run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env
        ).stdout.strip()
    )
    # the running environment's packages (ortools, numpy ...), after the wheel's own
    deps = sysconfig.get_paths()["purelib"]
    (site / "zz_deps.pth").write_text(deps + "\n", encoding="utf-8")
    inst = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        tmp,
        env,
    )
    assert inst.returncode == 0, inst.stderr
    work = tmp / "elsewhere"
    work.mkdir()
    return work, env


def _teamform(
    installed: tuple[Path, dict[str, str]], *args: str
) -> subprocess.CompletedProcess[str]:
    work, env = installed
    exe = work.parent / "venv" / "bin" / "teamform"
    return _run([str(exe), *args], work, env)


def test_the_installed_package_is_the_wheel(installed: tuple[Path, dict[str, str]]) -> None:
    work, env = installed
    py = work.parent / "venv" / "bin" / "python"
    where = _run([str(py), "-c", "import teamform; print(teamform.__file__)"], work, env)
    assert where.returncode == 0, where.stderr
    assert str(work.parent / "venv") in where.stdout
    assert str(REPO) not in where.stdout


def test_presets_demo_and_plan_init_from_the_wheel(installed: tuple[Path, dict[str, str]]) -> None:
    work, _ = installed
    listed = _teamform(installed, "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert "collaborative" in listed.stdout and "cooperative" in listed.stdout

    shown = _teamform(installed, "models", "show", "collaborative")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (REPO / "models" / "collaborative.toml").read_text(encoding="utf-8")

    demo = _teamform(installed, "demo", "course")
    assert demo.returncode == 0, demo.stderr
    for name in ("roster.csv", "avoid.csv", "prefer.csv", "models/cooperative.toml"):
        assert (work / "course" / name).is_file(), name
    assert (work / "course" / "roster.csv").read_bytes() == (
        REPO / "instances" / "demo" / "roster.csv"
    ).read_bytes()

    checked = _teamform(
        installed, "check", "course/roster.csv", "--model", "cooperative", "--avoid",
        "course/avoid.csv",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "60 learners" in checked.stdout

    # the survey import and its dependencies come with the package too
    (work / "survey.csv").write_text(
        "Timestamp,Email Address,Time zone,When are you available? [Monday]\n"
        + "".join(f"t,l{i}@example.org,GMT+{i % 3},6PM;7PM;8PM\n" for i in range(8)),
        encoding="utf-8",
    )
    imported = _teamform(installed, "import", "survey.csv", "--out", "roster.csv")
    assert imported.returncode == 0, imported.stderr
    formed = _teamform(installed, "form", "roster.csv", "-m", "collaborative", "--time-limit", "2")
    assert formed.returncode == 0, formed.stderr

    init = _teamform(installed, "plan", "init", "ws", "--start", "2026-01-12")
    assert init.returncode == 0, init.stderr
    status = _teamform(installed, "plan", "status", "ws", "--now", "2026-01-13")
    assert status.returncode == 0, status.stderr
    assert "Kick-off" in status.stdout
