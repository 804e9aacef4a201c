"""The result file: its JSON text, with timings that count their own serialisation."""

from __future__ import annotations

import json
from pathlib import Path

from teamform.result import Result, Status, TeamSummary


def _result() -> Result:
    team = TeamSummary(
        team=1, section=None, members=["a", 'b "timings": {'], names=["A", "B"], size=2,
        skill_means={}, intrinsic=1, imposed=1, common_hours=None, penalties={}, flags=[],
    )  # fmt: skip
    return Result(status=Status.FEASIBLE, n_learners=2, n_teams=1, teams=[team])


def test_timings_set_after_serialising_go_in_as_set(tmp_path: Path) -> None:
    result = _result()
    result.timings.read = 0.5

    def stamp() -> None:
        result.timings.write = 1.25
        result.timings.total = 3.0

    text = result.json_text(stamp)
    # the same text as serialising the whole result once it is stamped
    assert text == result.model_dump_json(indent=2)
    assert json.loads(text)["timings"]["write"] == 1.25
    assert json.loads(text)["teams"][0]["members"][1] == 'b "timings": {'
    result.to_json(tmp_path / "r.json", stamp)
    assert Result.from_json(tmp_path / "r.json") == result
    assert _result().json_text() == _result().model_dump_json(indent=2)


def test_the_file_is_on_disk_before_its_timings_are_stamped(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    result = _result()
    seen: list[int] = []

    def stamp() -> None:
        # the teams are written by now: the temporary file beside the target holds them
        (part,) = [p for p in tmp_path.iterdir() if p.name.startswith(".r.json.")]
        seen.append(part.stat().st_size)
        result.timings.write = 0.75

    result.to_json(path, stamp)
    text = path.read_text(encoding="utf-8")
    assert text == result.model_dump_json(indent=2)
    assert 0 < seen[0] < len(text) and text[: seen[0]].count('"teams"') == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_the_file_holds_the_serialised_text_in_utf8(tmp_path: Path) -> None:
    result = _result()
    result.teams[0].names = ["Zoë", "Łukasz 李"]
    for stamp in (None, lambda: None):
        path = tmp_path / "r.json"
        result.to_json(path, stamp)
        assert path.read_bytes() == result.model_dump_json(indent=2).encode("utf-8")
