"""Writing output files safely: atomically, durably, with the usual permissions,
and with spreadsheet cells that cannot run as formulas."""

from __future__ import annotations

import csv
import io
import os
import secrets
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(
    header: Sequence[object], rows: Iterable[Sequence[object]], *, safe: bool = True
) -> str:
    """CSV text (``\\n`` line ends) of a header and rows; with ``safe``, every
    text cell goes through :func:`safe_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(c) if safe and isinstance(c, str) else c for c in row])
    return buf.getvalue()


def write_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 text to ``path`` so that readers see the old file or the new
    one, never a part, even after a crash or power loss.

    The text goes to a temporary file beside the target, is flushed to disk and
    renamed over it; the directory is then flushed so the rename itself lasts.
    A new file gets the usual permissions (``0o666`` less the umask); a
    replaced file keeps its own.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        keep: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        keep = None
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    # os.open applies the umask to 0o666; tempfile.mkstemp would force 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            if keep is not None:
                os.chmod(tmp, keep)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
