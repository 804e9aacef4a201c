"""Pairwise dissimilarities between learners, for the diversity criterion.

Either read from a CSV pair list (``id_a,id_b,distance``) or computed from
roster columns: numeric columns add the absolute difference of standardised
values (so a column with a wide spread does not dominate), categorical columns
add 1 when the values differ. Real distances are scaled to integers for
CP-SAT with :func:`teamform.mdgp.scale_distances`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from teamform.errors import InputError
from teamform.files import read_text
from teamform.mdgp import scale_distances
from teamform.roster import Roster, csv_reader, long_cell, records, too_long

if TYPE_CHECKING:
    from teamform.model import FormationModel


def model_distances(roster: Roster, model: FormationModel) -> np.ndarray | None:
    """The distances the model's diversity criterion uses, for
    :func:`teamform.build_instance`: read from its ``matrix`` file (a relative
    path is taken from the model file's directory) or computed from its
    ``columns``; None when the criterion is off.
    """
    div = model.criteria.diversity
    if div is None or not div.enabled:
        return None
    if not div.matrix:
        return distances_from_columns(roster, div.columns, model.source)
    path = Path(div.matrix)
    if not path.is_absolute() and model.source not in ("model", ""):
        path = Path(model.source).parent / path
    return distances_from_file(roster, path)


def distances_from_columns(roster: Roster, columns: list[str], source: str) -> np.ndarray:
    """Dense ``(n, n)`` float distances from roster columns (see module doc)."""
    learners = roster.learners
    n = len(learners)
    dist = np.zeros((n, n), dtype=np.float64)
    for col in columns:
        if col.startswith("skill_") or col == "participation":
            key = col.removeprefix("skill_")
            values = []
            for lr in learners:
                v = lr.participation if col == "participation" else lr.skills.get(key)
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    raise InputError(
                        f"column '{col}' has no value for a learner used in diversity",
                        file=roster.source,
                        row=lr.row,
                        column=col,
                    )
                values.append(float(v))
            x = np.array(values)
            spread = x.std()
            z = (x - x.mean()) / spread if spread > 0 else np.zeros(n)
            dist += np.abs(z[:, None] - z[None, :])
        elif col in roster.category_names:
            codes: dict[str, int] = {}
            c = np.array(
                [codes.setdefault(lr.attributes.get(col, ""), len(codes)) for lr in learners]
            )
            dist += c[:, None] != c[None, :]
        else:
            raise InputError(
                f"column '{col}' is not in the roster", file=source, column="criteria.diversity"
            )
    return dist


def distances_from_file(roster: Roster, path: Path) -> np.ndarray:
    """Dense float distances from a CSV pair list; unlisted pairs are 0."""
    index = {lid: i for i, lid in enumerate(roster.ids)}
    n = len(index)
    dist = np.zeros((n, n), dtype=np.float64)
    text = read_text(path)
    for line, cells in _rows(text, path):
        if [c.lower() for c in cells[:2]] == ["id_a", "id_b"]:
            continue
        if len(cells) < 3:
            raise InputError("expected id_a,id_b,distance", file=str(path), row=line)
        for col, lid in (("id_a", cells[0]), ("id_b", cells[1])):
            if lid not in index:
                raise InputError(
                    f"unknown learner id '{lid}'", file=str(path), row=line, column=col
                )
        try:
            value = float(cells[2])
        except ValueError:
            raise InputError(
                f"distance '{cells[2]}' is not a number",
                file=str(path),
                row=line,
                column="distance",
            ) from None
        if not math.isfinite(value) or value < 0:
            raise InputError(
                "distance must be a finite number >= 0", file=str(path), row=line, column="distance"
            )
        i, j = index[cells[0]], index[cells[1]]
        dist[i, j] = dist[j, i] = value
    return dist


def _rows(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows of a distance file with their line, cells stripped and measured."""
    reader = csv_reader(text)
    try:
        for line, raw in records(reader):
            cells = [c.strip() for c in raw]
            if not any(cells):
                continue
            wide = long_cell(cells)
            if wide is not None:
                column = ("id_a", "id_b", "distance")[wide] if wide < 3 else f"#{wide + 1}"
                raise InputError(
                    too_long(len(cells[wide])), file=str(path), row=line, column=column
                )
            yield line, cells
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", file=str(path), row=reader.line_num) from None


#: Finest distance resolution kept: a thousandth of a unit (MDGPLIB's three decimals).
MAX_FACTOR = 1000


def integer_distances(dist: npt.ArrayLike) -> tuple[np.ndarray, float]:
    """Scale real distances to integers by a power of ten, at most :data:`MAX_FACTOR`.

    Finer resolutions would make a unit of penalty smaller than the objective's
    own resolution (1/10000 of a weighted unit).
    """
    d = np.asarray(dist, dtype=np.float64)
    scaled, factor = scale_distances(d, max_abs=10**7)
    if factor > MAX_FACTOR:
        factor = float(MAX_FACTOR)
        scaled = np.rint(d * factor).astype(np.int64)
    np.fill_diagonal(scaled, 0)
    return scaled, factor
