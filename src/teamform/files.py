"""The user's files: reading text and TOML with one-line errors, writing output
safely (atomically, durably, with the usual permissions, and with spreadsheet
cells that cannot run as formulas)."""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import stat
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from teamform.errors import InputError

#: Largest roster or pair file read: a cohort of 100 000 fits with room to spare.
MAX_FILE_BYTES = 100_000_000
#: Largest settings file read (a model or a course plan is a page of settings).
MAX_TOML_CHARS = 1_000_000
#: Deepest nesting of arrays and tables read from a settings file.
MAX_TOML_DEPTH = 32

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# --- reading ------------------------------------------------------------------------


def read_text(path: Path, limit: int | None = None) -> str:
    """A UTF-8 text file (BOM dropped), with one-line errors naming file and row.

    At most ``limit`` bytes (default :data:`MAX_FILE_BYTES`) are read: a larger
    file, or a device such as ``/dev/zero``, is an error rather than a machine
    out of memory.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", file=str(path)) from None
    return decode_text(raw, str(path), limit)


def decode_text(data: bytes, file: str, limit: int | None = None) -> str:
    """``data`` as UTF-8 text (BOM dropped), or a one-line error naming ``file``:
    larger than ``limit`` bytes, or not UTF-8 (with the row of the first bad byte)."""
    if limit is not None:
        check_size(len(data), limit, file)
    try:
        # utf-8-sig drops the byte-order mark spreadsheets like to add.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            file=file,
            row=row,
        ) from None


#: Characters of a text :func:`first_line` splits before it splits the whole.
_HEAD_CHARS = 65_536


def first_line(text: str) -> str:
    """The first line of ``text`` holding more than white space ("" when none does).

    The line as ``text.splitlines()`` gives it, found in the text's start: a
    50 000-learner roster split into lines whole took 13 ms to read its header.
    """
    head = text[:_HEAD_CHARS].splitlines()
    # the last line of the start may go on past it: only the lines before it are whole
    whole = head if len(text) <= _HEAD_CHARS else head[:-1]
    found = next((line for line in whole if line.strip()), None)
    if found is not None or len(text) <= _HEAD_CHARS:
        return found or ""
    return next((line for line in text.splitlines() if line.strip()), "")


def check_size(size: int, limit: int, file: str) -> None:
    """Raise a one-line error when ``size`` bytes exceed ``limit``."""
    if size > limit:
        mib = 1024 * 1024
        most = f"{limit // mib} MB" if limit % mib == 0 else f"{limit} bytes"
        raise InputError(f"file is larger than {most}", file=file)


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text as a dict, with one-line errors: size and nesting capped, syntax located.

    Used for every settings file a user writes (models, course plans, batch
    jobs, survey mappings).
    """
    if len(text) > MAX_TOML_CHARS:
        raise InputError(
            f"{len(text)} characters is too long (at most {MAX_TOML_CHARS})",
            file=source,
        )
    depth = _nesting_depth(text)
    if depth > MAX_TOML_DEPTH:
        raise InputError(
            f"arrays or tables nested {depth} deep (at most {MAX_TOML_DEPTH})", file=source
        )
    try:
        data = tomllib.loads(text)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise InputError("arrays or tables nested too deep", file=source) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            raise InputError(
                f"malformed TOML at character {m.group(2)}: {msg[: m.start()].strip()}",
                file=source,
                row=int(m.group(1)),
            ) from None
        raise InputError(f"malformed TOML: {msg}", file=source) from None
    return data


_DEPTH_TOKEN = re.compile(r"\"\"\"|'''|[\"'#\[\]{}]")
_STRING_END = {
    '"""': re.compile(r'(?:[^\\]|\\.)*?"""', re.DOTALL),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*"'),
    "'''": re.compile(r".*?'''", re.DOTALL),
    "'": re.compile(r"[^'\n]*'"),
}


def _nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings and comments (a bound on TOML depth).

    ``tomllib`` parses nested arrays and inline tables recursively, so a file of
    a hundred thousand ``[`` would end in a ``RecursionError``; measuring first
    turns that into an error message.
    """
    depth = deepest = pos = 0
    while (m := _DEPTH_TOKEN.search(text, pos)) is not None:
        token, pos = m.group(), m.end()
        if token == "#":
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline
        elif token in _STRING_END:
            closed = _STRING_END[token].match(text, pos)
            if closed is None:
                break  # unterminated: tomllib reports it
            pos = closed.end()
        elif token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def toml_line(text: str, loc: Sequence[str | int]) -> int | None:
    """Best-effort line (from 1) of a key path in TOML source, for error messages.

    ``loc`` is a path as validation reports it: ``["team", "min"]``,
    ``["criteria", "category", 1, "column"]``, ``["phases", 2]``. An index
    narrows the search to that item of an array of tables (``[[phases]]``) and,
    last in the path, names the item itself. The key is looked for inside its
    own table (``[team]``), whose header stands in when the key is not written
    there; a top-level key is looked for above the first table. Failing those,
    the first line setting the key, or a table header naming it.
    """
    lines = text.splitlines()
    parts = [str(p) for p in loc]
    heads = {n: m.group(2) for n, line in enumerate(lines) if (m := _HEADER.match(line))}
    lo, hi, base = 0, len(lines), ""
    d = next((i for i, p in enumerate(parts) if p.isdigit()), None)
    if d:
        array, nth = ".".join(parts[:d]), int(parts[d])
        items = [n for n, name in heads.items() if name == array and lines[n].lstrip()[1] == "["]
        if nth < len(items):
            lo = items[nth]
            hi = items[nth + 1] if nth + 1 < len(items) else len(lines)
            parts, base = parts[d + 1 :], array
            if not parts:
                return lo + 1
    names = [p for p in parts if not p.isdigit()]
    if not names:
        return None
    key = names[-1]
    table = ".".join([base, *names[:-1]] if base else names[:-1])
    setting = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")

    def block(start: int) -> int:
        """The line of ``key`` in the table whose header is at ``start``, else ``start``."""
        end = next((n for n in heads if start < n < hi), hi)
        return next((n for n in range(start + 1, end) if setting.match(lines[n])), start) + 1

    if table:
        own = next((n for n, name in heads.items() if lo <= n < hi and name == table), None)
        if own is not None:
            return block(own)
    else:
        first = next(iter(heads), len(lines))
        found = next((n for n in range(first) if setting.match(lines[n])), None)
        if found is not None:
            return found + 1
    named = re.compile(rf"[\w.]*\b{re.escape(key)}\b")
    for n in (*range(lo, hi), *range(lo), *range(hi, len(lines))):
        name = heads.get(n)
        if (name is None and setting.match(lines[n])) or (name and named.match(name)):
            return n + 1
    return None


# a table header and its name: [team], [[phases]], [ criteria.overlap ] # comment
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


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


def write_atomic(
    path: str | Path, text: str | bytes, then: Callable[[], str | bytes] | None = None
) -> None:
    """Write UTF-8 text (or bytes, as they are) to ``path`` so that readers see
    the old file or the new one, never a part, even after a crash or power loss.

    The text goes to a temporary file beside the target, is flushed to disk and
    renamed over it; the directory is then flushed so the rename itself lasts.
    A new file gets the usual permissions (``0o666`` less the umask); a
    replaced file keeps its own. ``then``, when given, is called once ``text``
    is on disk, and what it returns ends the file (a file that records how long
    writing it took).
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
        with os.fdopen(fd, "wb") as fh:
            fh.write(_utf8(text))
            if then is not None:
                fh.flush()
                os.fsync(fh.fileno())
                fh.write(_utf8(then()))
            fh.flush()
            if keep is not None:
                os.chmod(tmp, keep)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _utf8(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


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
