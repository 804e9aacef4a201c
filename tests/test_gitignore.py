"""The README's examples, run from the repository root, leave the work tree clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

OUTPUTS = ["teams.csv", "result.json", "report.html", "report.md", "sheets/team-01.md"]


@pytest.mark.skipif(
    shutil.which("git") is None or not Path(".git").exists(), reason="needs a git checkout"
)
@pytest.mark.parametrize("name", OUTPUTS)
def test_demo_outputs_are_ignored(name: str) -> None:
    # check-ignore answers for paths that need not exist
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", name], capture_output=True, check=False
    )
    assert done.returncode == 0, f"{name} would show up as untracked"
