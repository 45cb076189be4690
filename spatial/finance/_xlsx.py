"""Writing rows of an openpyxl sheet where data text stays text and formulas are formulas."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

import numpy as np

__all__ = ["Sheet", "column", "figure_name"]


def figure_name(key: str) -> str:
    """The workbook name of a ``finance.toml`` figure.

    Parameters
    ----------
    key
        ``table.key`` of the figure.

    Returns
    -------
    str
        ``f_<table>_<key>``.
    """
    return "f_" + key.replace(".", "_")


@cache
def column(i: int) -> str:
    """Spreadsheet column letters of a column number.

    Parameters
    ----------
    i
        1-based column number.

    Returns
    -------
    str
        ``A`` … ``Z``, ``AA`` ….
    """
    from openpyxl.utils import get_column_letter

    return cast("str", get_column_letter(i))


class Sheet:
    """Rows appended one at a time to a write-only sheet; text stays text, ``=…`` strings
    given as formulas are formulas.

    Parameters
    ----------
    wb
        The openpyxl workbook (``write_only=True``: rows stream to disk).
    title
        Title of the new sheet.
    widths
        Column letter → width, set before the first row.
    """

    def __init__(self, wb: Any, title: str, widths: dict[str, float] | None = None) -> None:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self.ws = wb.create_sheet(title)
        for letter, width in (widths or {}).items():
            self.ws.column_dimensions[letter].width = width
        self.row = 0
        self._illegal = ILLEGAL_CHARACTERS_RE

    def put(self, values: Sequence[Any], *, formulas: Sequence[int] = ()) -> int:
        """Append a row.

        Parameters
        ----------
        values
            Cell values; None and non-finite numbers leave the cell empty.
        formulas
            0-based positions whose ``=…`` text is a formula; elsewhere it stays text.

        Returns
        -------
        int
            The row's number.
        """
        from openpyxl.cell import WriteOnlyCell

        self.row += 1
        keep = set(formulas)
        row: list[Any] = []
        for j, value in enumerate(values):
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                row.append(None)
                continue
            if isinstance(value, (np.floating, np.integer)):
                value = value.item()
            if isinstance(value, (bool, np.bool_)):
                value = bool(value)
            if isinstance(value, str):
                value = self._illegal.sub("", value)
                if j not in keep and value.startswith("="):
                    cell = WriteOnlyCell(self.ws, value=value)
                    cell.data_type = "s"  # a name such as "=1+1" stays text
                    row.append(cell)
                    continue
            row.append(value)
        self.ws.append(row)
        return self.row
