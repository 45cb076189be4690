"""Writing rows of an openpyxl sheet where data text stays text and formulas are formulas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

    return get_column_letter(i)


class Sheet:
    """Rows written one at a time; text stays text, ``=…`` strings given as formulas.

    Parameters
    ----------
    wb
        The openpyxl workbook.
    title
        Title of the new sheet.
    """

    def __init__(self, wb: Any, title: str) -> None:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self.ws = wb.create_sheet(title)
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
        self.row += 1
        for j, value in enumerate(values, start=1):
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                continue
            if isinstance(value, (np.floating, np.integer)):
                value = value.item()
            if isinstance(value, (bool, np.bool_)):
                value = bool(value)
            cell = self.ws.cell(row=self.row, column=j)
            if isinstance(value, str):
                cell.value = self._illegal.sub("", value)
                if j - 1 not in formulas and cell.data_type == "f":
                    cell.data_type = "s"  # a name such as "=1+1" stays text
            else:
                cell.value = value
        return self.row
