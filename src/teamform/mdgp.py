"""Maximally diverse grouping problem (MDGP) instances, objective and helpers.

The MDGP splits ``n`` elements into ``m`` groups, group ``g`` holding between
``lo[g]`` and ``hi[g]`` elements, so that the sum over groups of the pairwise
distances inside each group is as large as possible. It is the pairwise
diversity criterion of teamform stripped of everything else, which makes the
public MDGPLIB benchmark (Gallego et al. 2013) a yardstick for the search code.

File format (MDGPLIB, 0-based element indices, whitespace separated)::

    <n> <m> <ss|ds> <lo_1> <hi_1> ... <lo_m> <hi_m>
    <i> <j> <d_ij>          # one line per pair i < j, n(n-1)/2 lines

Files ending in ``.gz`` are read through gzip.
"""

from __future__ import annotations

import csv
import gzip
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from teamform.errors import InputError

__all__ = [
    "MdgpFormatError",
    "MdgpInstance",
    "check_mdgp_assignment",
    "mdgp_objective",
    "read_best_known",
    "read_mdgp",
    "read_mdgp_solution",
    "scale_distances",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class MdgpFormatError(InputError, ValueError):
    """A malformed MDGP instance or solution file.

    It is a :class:`ValueError` as well as a teamform :class:`InputError`; the
    message names the file and the 1-based line at fault.
    """

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"line {self.row}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass(frozen=True, eq=False)
class MdgpInstance:
    """One MDGP instance.

    Attributes
    ----------
    name
        Instance name (file name without ``.txt``/``.txt.gz``).
    n
        Number of elements.
    m
        Number of groups.
    kind
        ``"ss"`` (every group has the same fixed size) or ``"ds"`` (each group
        has its own size range).
    lo, hi
        Per-group size bounds, int64 arrays of length ``m``.
    dist
        Dense symmetric ``n x n`` float64 distance matrix with zero diagonal.
    """

    name: str
    n: int
    m: int
    kind: str
    lo: IntArray
    hi: IntArray
    dist: FloatArray


def _read_text(path: Path) -> str:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="ascii") as fh:
            return fh.read()
    return path.read_text(encoding="ascii")


def _instance_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".txt"):
        name = name.removesuffix(suffix)
    return name


def _locate_bad_line(lines: list[str], file: str, width: int) -> MdgpFormatError:
    """Slow path, only run once a file is known to be broken: find the culprit line."""
    for k, line in enumerate(lines[1:], start=2):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != width:
            return MdgpFormatError(
                f"expected {width} fields 'i j d_ij', found {len(parts)}", file=file, row=k
            )
        try:
            [float(p) for p in parts]
        except ValueError:
            return MdgpFormatError(f"not a number in {line.strip()!r}", file=file, row=k)
    return MdgpFormatError("cannot parse the pair lines", file=file)


def _data_line_number(lines: list[str], index: int) -> int:
    """1-based file line of the ``index``-th non-blank data line."""
    seen = -1
    for k, line in enumerate(lines[1:], start=2):
        if line.strip():
            seen += 1
            if seen == index:
                return k
    return len(lines)


def _parse_header(header: str, file: str) -> tuple[int, int, str, IntArray, IntArray]:
    parts = header.split()
    if len(parts) < 3:
        raise MdgpFormatError(
            "header must read '<n> <m> <ss|ds> <lo_1> <hi_1> ...'", file=file, row=1
        )
    try:
        n, m = int(parts[0]), int(parts[1])
        bounds = [int(p) for p in parts[3:]]
    except ValueError as exc:
        raise MdgpFormatError(f"header has a non-integer field: {exc}", file=file, row=1) from exc
    kind = parts[2]
    if kind not in ("ss", "ds"):
        raise MdgpFormatError(f"instance type must be 'ss' or 'ds', got {kind!r}", file=file, row=1)
    if n < 1 or m < 1 or m > n:
        raise MdgpFormatError(f"need 1 <= m <= n, got n={n}, m={m}", file=file, row=1)
    if len(bounds) != 2 * m:
        raise MdgpFormatError(
            f"header needs {2 * m} size bounds for m={m} groups, found {len(bounds)}",
            file=file,
            row=1,
        )
    lo = np.array(bounds[0::2], dtype=np.int64)
    hi = np.array(bounds[1::2], dtype=np.int64)
    if np.any(lo < 0) or np.any(lo > hi):
        g = int(np.flatnonzero((lo < 0) | (lo > hi))[0])
        raise MdgpFormatError(
            f"group {g} has invalid size bounds [{lo[g]}, {hi[g]}]", file=file, row=1
        )
    if lo.sum() > n or hi.sum() < n:
        raise MdgpFormatError(
            f"size bounds admit no assignment: sum(lo)={lo.sum()}, sum(hi)={hi.sum()}, n={n}",
            file=file,
            row=1,
        )
    return n, m, kind, lo, hi


def read_mdgp(path: str | Path) -> MdgpInstance:
    """Read an MDGPLIB instance file (``.txt`` or ``.txt.gz``).

    Parameters
    ----------
    path
        Instance file.

    Returns
    -------
    MdgpInstance
        The instance with a dense symmetric distance matrix.

    Raises
    ------
    MdgpFormatError
        If the header or a pair line is malformed, a pair is out of range,
        repeated or missing. The message names the file and the line.
    """
    path = Path(path)
    file = str(path)
    try:
        text = _read_text(path)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise MdgpFormatError(f"cannot read file: {exc}", file=file) from exc
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise MdgpFormatError("empty file or empty header line", file=file, row=1)
    n, m, kind, lo, hi = _parse_header(lines[0], file)

    # Fast path: one split over the whole body, one vectorised conversion.
    body = text[len(lines[0]) :]
    tokens = body.split()
    if len(tokens) % 3 != 0:
        raise _locate_bad_line(lines, file, 3)
    try:
        values = np.array(tokens, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise _locate_bad_line(lines, file, 3) from None

    expected = n * (n - 1) // 2
    fi, fj, d = values[:, 0], values[:, 1], values[:, 2]
    i = fi.astype(np.int64)
    j = fj.astype(np.int64)
    bad = (i != fi) | (j != fj) | (i < 0) | (j >= n) | (i >= j) | ~np.isfinite(d)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise MdgpFormatError(
            f"pair line must be 'i j d' with integers 0 <= i < j < {n} and a finite d, "
            f"got {fi[k]:g} {fj[k]:g} {d[k]:g}",
            file=file,
            row=_data_line_number(lines, k),
        )
    key = i * n + j
    if len(key) != expected or len(np.unique(key)) != expected:
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        if dup.size:
            k = int(order[dup[0] + 1])
            raise MdgpFormatError(
                f"pair ({i[k]}, {j[k]}) appears more than once",
                file=file,
                row=_data_line_number(lines, k),
            )
        raise MdgpFormatError(
            f"expected {expected} pair lines for n={n}, found {len(key)}", file=file
        )
    dist = np.zeros((n, n), dtype=np.float64)
    dist[i, j] = d
    dist[j, i] = d
    return MdgpInstance(name=_instance_name(path), n=n, m=m, kind=kind, lo=lo, hi=hi, dist=dist)


def read_mdgp_solution(path: str | Path, n: int | None = None) -> tuple[IntArray, float]:
    """Read a published TPSDP best-solution file.

    The format is: line 1 ``instance best avg worst``; line 2
    ``N = n  G = m  f = obj``; then ``m`` lines ``lb ub size``; then ``n``
    lines ``element group`` (both 0-based).

    Parameters
    ----------
    path
        Solution file.
    n
        Expected number of elements, checked if given.

    Returns
    -------
    assignment, reported
        Group of each element (int64 array of length ``n``) and the objective
        value the file reports.
    """
    path = Path(path)
    file = str(path)
    lines = _read_text(path).splitlines()
    if len(lines) < 2:
        raise MdgpFormatError("solution file too short", file=file)
    head = lines[1].replace("=", " ").split()
    try:
        n_file = int(head[head.index("N") + 1])
        m_file = int(head[head.index("G") + 1])
        reported = float(head[head.index("f") + 1])
    except (ValueError, IndexError) as exc:
        raise MdgpFormatError("expected 'N = n  G = m  f = obj'", file=file, row=2) from exc
    if n is not None and n != n_file:
        raise MdgpFormatError(f"solution is for n={n_file}, expected n={n}", file=file, row=2)
    start = 2 + m_file
    rows = [ln.split() for ln in lines[start : start + n_file]]
    if len(rows) != n_file or any(len(r) != 2 for r in rows):
        raise MdgpFormatError(f"expected {n_file} lines 'element group'", file=file, row=start + 1)
    pairs = np.array(rows, dtype=np.int64)
    assignment = np.full(n_file, -1, dtype=np.int64)
    assignment[pairs[:, 0]] = pairs[:, 1]
    if np.any(assignment < 0) or np.any(assignment >= m_file):
        raise MdgpFormatError("element or group index out of range", file=file, row=start + 1)
    return assignment, reported


def mdgp_objective(dist: FloatArray, assignment: npt.ArrayLike) -> float:
    """Sum over groups of the distances of the pairs inside each group.

    The selected pair distances are summed with :func:`math.fsum`, so the
    result is the correctly rounded sum and does not depend on the order of
    the elements.

    Parameters
    ----------
    dist
        Symmetric ``n x n`` distance matrix.
    assignment
        Group index of each element.

    Returns
    -------
    float
        The MDGP objective.
    """
    a = np.asarray(assignment)
    n = dist.shape[0]
    if a.shape != (n,):
        raise ValueError(f"assignment has shape {a.shape}, expected ({n},)")
    iu, ju = np.triu_indices(n, k=1)
    same = a[iu] == a[ju]
    return math.fsum(dist[iu[same], ju[same]].tolist())


def check_mdgp_assignment(inst: MdgpInstance, assignment: npt.ArrayLike) -> None:
    """Check that an assignment is complete and honours the group size bounds.

    Parameters
    ----------
    inst
        The instance.
    assignment
        Group index of each element.

    Raises
    ------
    ValueError
        If the shape is wrong, a group index is out of range or a group size
        falls outside ``[lo[g], hi[g]]``.
    """
    a = np.asarray(assignment)
    if a.shape != (inst.n,):
        raise ValueError(f"assignment has shape {a.shape}, expected ({inst.n},)")
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"assignment must hold integers, got dtype {a.dtype}")
    if a.min() < 0 or a.max() >= inst.m:
        raise ValueError(f"group indices must lie in [0, {inst.m}), got {a.min()}..{a.max()}")
    sizes = np.bincount(a, minlength=inst.m)
    bad = np.flatnonzero((sizes < inst.lo) | (sizes > inst.hi))
    if bad.size:
        g = int(bad[0])
        raise ValueError(f"group {g} has {sizes[g]} elements, allowed [{inst.lo[g]}, {inst.hi[g]}]")


def scale_distances(dist: FloatArray, max_abs: int = 10**6) -> tuple[IntArray, float]:
    """Turn real distances into integers for CP-SAT.

    The smallest power of ten ``f`` such that every ``dist * f`` is an integer
    (up to float noise) is used when it keeps ``max|dist| * f <= max_abs``;
    the scaling is then exact (MDGPLIB RanReal and Geo have three decimals,
    giving ``f = 1000``). Otherwise the largest power of ten within
    ``max_abs`` is used and values are rounded. ``max_abs`` is also capped so
    that the sum of all pairwise terms fits in int64.

    Parameters
    ----------
    dist
        Real distance matrix.
    max_abs
        Largest allowed absolute integer distance.

    Returns
    -------
    scaled, factor
        ``round(dist * factor)`` as int64, and ``factor``; an objective ``z``
        computed on ``scaled`` is ``z / factor`` in the original units.
    """
    d = np.asarray(dist, dtype=np.float64)
    if not np.all(np.isfinite(d)):
        raise ValueError("distances must be finite")
    if max_abs < 1:
        raise ValueError("max_abs must be positive")
    # A full sum of n^2 terms of size max_abs must stay below 2^62.
    n_terms = max(d.size, 1)
    max_abs = int(min(max_abs, (2**62) // n_terms))
    peak = float(np.abs(d).max()) if d.size else 0.0
    if peak == 0.0:
        return np.zeros(d.shape, dtype=np.int64), 1.0
    # Exact decimal resolution: the first power of ten that makes every value integral.
    for k in range(0, 10):
        f = 10.0**k
        if peak * f > max_abs:
            break
        scaled = d * f
        rounded = np.rint(scaled)
        # Float noise of d * f is a few ulps; anything larger is a real digit.
        if np.all(np.abs(scaled - rounded) <= 1e-12 * np.maximum(1.0, np.abs(scaled))):
            return rounded.astype(np.int64), f
    # Lossy: the largest power of ten (possibly negative) that fits max_abs.
    k = math.floor(math.log10(max_abs / peak))
    f = 10.0**k
    while peak * f > max_abs:
        k -= 1
        f = 10.0**k
    return np.rint(d * f).astype(np.int64), f


def read_best_known(path: str | Path) -> dict[str, float]:
    """Read a reference-value CSV (``instance,<value>[,source]``).

    Works for ``best_known.csv`` (column ``best_known``) and
    ``exact_optima.csv`` (column ``optimum``): the second column is the value.

    Parameters
    ----------
    path
        CSV file with a header row.

    Returns
    -------
    dict
        Instance name to reference objective value.
    """
    path = Path(path)
    out: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or len(header) < 2:
            raise MdgpFormatError("expected a header 'instance,value,...'", file=str(path), row=1)
        for k, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                out[row[0]] = float(row[1])
            except (IndexError, ValueError) as exc:
                raise MdgpFormatError(f"bad value row {row!r}", file=str(path), row=k) from exc
    return out
