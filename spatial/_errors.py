"""Problems found in input data, and the exception that carries all of them.

Every loader collects *all* problems of a file (and a pipeline those of all its
files) before it raises, so that a planner can fix a spreadsheet in one go.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "InputError",
    "InputWarning",
    "Problem",
    "format_problems",
    "input_error",
    "raise_for_errors",
    "summarise_problems",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    severity
        ``"error"`` stops the run; ``"warning"`` is reported and the run goes on
        (for example a geometry that was repaired).
    file
        The file the problem is in (as the user named it).
    row
        Where in the file: the spreadsheet row for CSV/Excel (header = row 1, first
        record = row 2), the feature number (0-based FID order) for vector files, the
        OSM element (``"way 123"``) for OSM files; ``None`` for the whole file.
    column
        The column as written in the file's header (Chinese or English), or ``None``.
    message
        What is wrong.
    hint
        How to fix it.
    """

    severity: Severity
    file: str
    row: int | str | None
    column: str | None
    message: str
    hint: str = ""

    @classmethod
    def error(
        cls,
        file: str,
        message: str,
        *,
        row: int | str | None = None,
        column: str | None = None,
        hint: str = "",
    ) -> Problem:
        """Make an error (the run stops); the fields are the class attributes.

        Parameters
        ----------
        file, message
            Where and what (see the class attributes).
        row, column, hint
            Where in the file, and how to fix it.

        Returns
        -------
        Problem
            Of severity ``"error"``.
        """
        return cls("error", file, row, column, message, hint)

    @classmethod
    def warning(
        cls,
        file: str,
        message: str,
        *,
        row: int | str | None = None,
        column: str | None = None,
        hint: str = "",
    ) -> Problem:
        """Make a warning (reported, the run goes on); parameters as :meth:`error`.

        Parameters
        ----------
        file, message, row, column, hint
            See :meth:`error`.

        Returns
        -------
        Problem
            Of severity ``"warning"``.
        """
        return cls("warning", file, row, column, message, hint)

    def location(self) -> str:
        """Human-readable place of the problem.

        Returns
        -------
        str
            ``"file, row N, column 'C'"``; row and column are left out when unknown.
        """
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}" if isinstance(self.row, int) else str(self.row))
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"[{self.severity}] {self.location()}: {self.message}"
        return f"{text} — fix: {self.hint}" if self.hint else text


def format_problems(problems: list[Problem]) -> str:
    """One line per problem, errors first.

    Parameters
    ----------
    problems
        Problems found in the inputs.

    Returns
    -------
    str
        ``[severity] location: message — fix: hint`` lines joined by newlines.
    """
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    return "\n".join(str(p) for p in ordered)


class InputError(ValueError):
    """Raised once, before any expensive work, with every problem found in the inputs.

    Attributes
    ----------
    problems
        All problems (errors and warnings) found, in file order.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n_err = sum(p.severity == "error" for p in self.problems)
        super().__init__(
            f"{n_err} problem(s) in the input data must be fixed:\n"
            + format_problems(self.problems)
        )

    @property
    def errors(self) -> list[Problem]:
        """Only the problems of severity ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]


def input_error(
    file: str,
    message: str,
    *,
    hint: str = "",
    row: int | str | None = None,
    column: str | None = None,
) -> InputError:
    """An :class:`InputError` of one problem: a bad file, option or value, located.

    Parameters
    ----------
    file
        The file (or option, ``--categories``) at fault.
    message
        What is wrong.
    hint
        How to fix it.
    row, column
        Where in the file, when known.

    Returns
    -------
    InputError
        To raise.
    """
    return InputError([Problem.error(file, message, row=row, column=column, hint=hint)])


class InputWarning(UserWarning):
    """Input data was accepted but changed or is suspicious (e.g. a repaired geometry).

    Parameters
    ----------
    message
        All problems, one per line.
    problems
        The problems themselves (for ``problems.csv`` and grouped console output).
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


_QUOTED = re.compile(r"'[^']*'")


def summarise_problems(problems: Sequence[Problem], *, examples: int = 3) -> list[str]:
    """One line per kind of problem with its count and the first few places.

    Parameters
    ----------
    problems
        Any number of problems (10,000 take well under a second).
    examples
        Places (rows) named per kind.

    Returns
    -------
    list of str
        Errors first; e.g. ``"[warning] x.osm: 812 × residential area cut by the
        extract's edge was left out (way 1, way 2, way 3, …) — fix: use a larger extract"``.
    """
    groups: dict[tuple[str, str, str, str], list[Problem]] = {}
    for p in problems:
        message = _QUOTED.sub("'…'", p.message)  # names differ, the kind is the same
        groups.setdefault((p.severity, p.file, message, p.hint), []).append(p)
    lines = []
    for (severity, file, message, hint), items in sorted(
        groups.items(), key=lambda kv: kv[0][0] != "error"
    ):
        if len(items) == 1:
            lines.append(str(items[0]))
            continue
        places = (p.row if p.row is not None else p.column for p in items[:examples])
        rows = [str(place) for place in places if place is not None]
        more = ", …" if len(items) > examples else ""
        where = f" ({', '.join(rows)}{more})" if rows else ""
        text = f"[{severity}] {file}: {len(items)} × {message}{where}"
        lines.append(f"{text} — fix: {hint}" if hint else text)
    return lines


def raise_for_errors(problems: list[Problem]) -> None:
    """Raise :class:`InputError` if any problem is an error; do nothing otherwise.

    Parameters
    ----------
    problems
        Every problem found so far (warnings are carried along in the error).

    Raises
    ------
    InputError
        When at least one problem has severity ``"error"``.
    """
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
