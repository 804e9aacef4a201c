"""Diversity alone: pairwise distances inside teams, maximised."""

from pathlib import Path

import numpy as np
import pytest

from conftest import learner, make_instance, mdgp_as_roster, solve_exact, teams_of
from teamform import FormationModel, InputError, Roster, build_instance
from teamform.criteria import DiversityTerm, build_terms
from teamform.distances import model_distances
from teamform.validate import validate


def four(tmp_path: Path, distances: dict[tuple[str, str], float]):
    csv = "id_a,id_b,distance\n" + "".join(f"{a},{b},{d}\n" for (a, b), d in distances.items())
    (tmp_path / "dist.csv").write_text(csv)
    model_path = tmp_path / "m.toml"
    model_path.write_text(
        '[team]\nsize = 2\n[criteria.diversity]\nweight = 1\nmatrix = "dist.csv"\n'
    )
    model = FormationModel.from_toml(model_path)
    roster = Roster.from_records([learner(x) for x in "abcd"])
    return build_instance(roster, model, distances=model_distances(roster, model))


def test_optimum_by_hand(tmp_path: Path) -> None:
    # pairings: {ab,cd} 1+2=3; {ac,bd} 5+4=9; {ad,bc} 0.5+0.25=0.75 -> {ac,bd}
    inst = four(
        tmp_path,
        {
            ("a", "b"): 1,
            ("c", "d"): 2,
            ("a", "c"): 5,
            ("b", "d"): 4,
            ("a", "d"): 0.5,
            ("b", "c"): 0.25,
        },
    )
    (term,) = build_terms(inst)
    assert isinstance(term, DiversityTerm)
    assert inst.distance_factor == 100  # two decimals at most: exact
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ac"), frozenset("bd")}
    assert term.achieved(assignment) == pytest.approx(9.0)
    # best partners: a->c 5, b->d 4, c->a 5, d->b 4: ideal 18/2 = 9 = achieved
    assert objective == 0


def test_penalty_is_ideal_minus_achieved(tmp_path: Path) -> None:
    inst = four(tmp_path, {("a", "b"): 1, ("c", "d"): 2, ("a", "c"): 5, ("b", "d"): 4})
    (term,) = build_terms(inst)
    check = validate(inst, [0, 0, 1, 1], [term])  # {ab},{cd}: within 3, ideal 9
    assert term.natural(check.penalties["diversity"]) == pytest.approx(9 - 3)


def test_distances_from_columns() -> None:
    records = [
        learner("p", skills={"x": 1}, role="a"),
        learner("q", skills={"x": 1}, role="b"),
        learner("r", skills={"x": 5}, role="a"),
        learner("s", skills={"x": 5}, role="b"),
    ]
    inst = make_instance(records, {"diversity": {"columns": ["skill_x", "role"]}})
    # standardised x: -1, -1, 1, 1 (|dz| = 2); role mismatch adds 1
    d = inst.distances / inst.distance_factor
    assert d[0, 1] == pytest.approx(1) and d[0, 2] == pytest.approx(2)
    assert d[0, 3] == pytest.approx(3)
    objective, assignment = solve_exact(inst)
    assert teams_of(inst, assignment) == {frozenset("ps"), frozenset("qr")}
    assert objective == 0


def test_composes_with_other_criteria() -> None:
    # diversity wants {p,s},{q,r}; a heavy preferred pair p-q overrides it
    records = [learner(x, skills={"x": v}) for x, v in zip("pqrs", (1, 1, 5, 5), strict=True)]
    inst = make_instance(
        records,
        {"diversity": {"columns": ["skill_x"], "weight": 1}, "prefer": {"weight": 50}},
        prefer=[("p", "q")],
    )
    _, assignment = solve_exact(inst)
    assert assignment[0] == assignment[1]
    assert np.array_equal(inst.distances, inst.distances.T)


def test_bad_distance_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown learner id 'zz'") as err:
        four(tmp_path, {("a", "zz"): 1})
    assert err.value.row == 2 and err.value.column == "id_b"


@pytest.mark.parametrize(
    "name, optimum",
    [("RanReal/RanReal_n010_ss_01.txt", 1427.845), ("Geo/Geo_n010_ss_02.txt", 1404.797)],
)
def test_engine_reaches_mdgp_exact_optimum(tmp_path: Path, name: str, optimum: float) -> None:
    from teamform.solve import solve_instance

    inst = mdgp_as_roster(Path("instances/mdgp") / name, tmp_path)
    (term,) = build_terms(inst)
    for strategy in ("lns", "exact"):
        result = solve_instance(inst, time_limit=3, seed=0, strategy=strategy)  # type: ignore[arg-type]
        assert result.valid
        assignment = [result.assignment[i] - 1 for i in inst.ids]
        assert term.achieved(assignment) == pytest.approx(optimum, abs=1e-6)
        assert result.strategy == ("diversity" if strategy == "lns" else "exact")


def test_distance_file_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "dist.csv").write_bytes(b"id_a,id_b,distance\na,b,\xff\n")
    (tmp_path / "m.toml").write_text(
        '[team]\nsize = 2\n[criteria.diversity]\nmatrix = "dist.csv"\n'
    )
    model = FormationModel.from_toml(tmp_path / "m.toml")
    roster = Roster.from_records([learner(x) for x in "abcd"])
    with pytest.raises(InputError, match="not UTF-8") as err:
        build_instance(roster, model, distances=model_distances(roster, model))
    assert err.value.row == 2


def test_build_instance_reads_no_distance_file(tmp_path: Path) -> None:
    inst = four(tmp_path, {("a", "b"): 3, ("c", "d"): 1.5})
    (tmp_path / "dist.csv").unlink()
    model = FormationModel.from_toml(tmp_path / "m.toml")
    with pytest.raises(InputError, match=r"'dist\.csv' were not given") as err:
        build_instance(inst.roster, model)
    assert err.value.column == "criteria.diversity.matrix"
    given = np.zeros((4, 4))
    given[0, 1] = given[1, 0] = 3
    given[2, 3] = given[3, 2] = 1.5
    again = build_instance(inst.roster, model, distances=given)
    assert again.distances is not None and inst.distances is not None
    assert np.array_equal(again.distances, inst.distances)
    lopsided = given.copy()
    lopsided[0, 1] = 2
    for bad, what in ((np.zeros((3, 3)), "shape"), (lopsided, "symmetric"), (-given, ">= 0")):
        with pytest.raises(InputError, match=what):
            build_instance(inst.roster, model, distances=bad)
