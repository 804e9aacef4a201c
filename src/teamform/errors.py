"""Error types shared across teamform.

Every error a user can trigger with bad input is an :class:`InputError`: it
renders as one line naming the file, the row and the column at fault, so the
command line can print it and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Longest message an error prints; longer ones (a quoted megabyte cell) are elided.
MAX_MESSAGE_CHARS = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TeamformError(Exception):
    """Base class of all errors raised on purpose by teamform."""


class InputError(TeamformError):
    """Bad input: a file, row or column that cannot be used as it is.

    Parameters
    ----------
    message
        What is wrong, in words a tutor understands.
    file
        The file at fault (roster, pair list, model, plan), if any.
    row
        1-based line number in that file (the CSV header is row 1), if known.
    column
        Column or key at fault, if known; a name starting with ``-`` is a
        command-line option (``--now``) and is shown as one.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            # a command-line option is named as such, not as a CSV column
            column = one_line(self.column, 80)
            is_option = column.startswith("-")
            where.append(f"option {column}" if is_option else f"column '{column}'")
        prefix = ", ".join(where)
        message = one_line(self.message)
        return f"{prefix}: {message}" if prefix else message

    def located(
        self, *, file: str | None = None, row: int | None = None, column: str | None = None
    ) -> InputError:
        """Return a copy with missing location fields filled in."""
        return InputError(
            self.message,
            file=self.file or file,
            row=self.row if self.row is not None else row,
            column=self.column or column,
        )


class InputErrors(InputError):
    """Several problems found in one pass over a file (a roster with many bad cells).

    Behaves as its first problem (same message, file, row and column), so a
    caller printing one line still prints the first; :attr:`problems` holds
    them all, in file order.
    """

    def __init__(self, problems: Sequence[InputError]) -> None:
        if not problems:
            raise ValueError("InputErrors needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.message, file=first.file, row=first.row, column=first.column)

    def __str__(self) -> str:
        first = super().__str__()
        more = len(self.problems) - 1
        if not more:
            return first
        return f"{first} (and {more} more: 'teamform check' lists them all)"


def problems_of(exc: InputError) -> list[InputError]:
    """Every problem an error stands for: its list, or itself."""
    return list(exc.problems) if isinstance(exc, InputErrors) else [exc]


def raise_problems(problems: Sequence[InputError]) -> None:
    """Raise the problems found, if any: one as itself, several together."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputErrors(problems)


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` as one short line: control characters escaped, the middle elided."""
    flat = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if len(flat) <= limit:
        return flat
    keep = limit - 3
    return f"{flat[: keep * 2 // 3]}...{flat[len(flat) - keep // 3 :]}"
