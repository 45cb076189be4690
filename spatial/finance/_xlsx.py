"""Writing ``finance.xlsx`` with XlsxWriter: data text stays text, every formula carries
its computed value (so pandas, mail and phone previews read numbers), amounts in 万元."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy as np

__all__ = ["WAN", "Book", "Formula", "Link", "Sheet", "cached", "column", "figure_name"]

#: Yuan per 万元: the workbook's amounts are in 万元 (yuan only on 假设, labelled).
WAN = 10_000.0

#: Number formats by column kind.
_FORMATS = {
    "money": "#,##0.00",
    "yuan": "#,##0",
    "share": "0.0%",
    "rate": "0.00%",
    "ratio": "0.00",
    "year": "0",
    "count": "#,##0",
    "number": "General",
    "text": "@",
}
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_TEXT = 32_767


class Formula(NamedTuple):
    """A formula and its value, computed in Python by the same rule.

    Parameters
    ----------
    text
        ``=…``, or ``{=…}`` for an array formula of one cell.
    value
        What the formula computes (stored for readers that do not calculate).
    """

    text: str
    value: Any


class Link(NamedTuple):
    """A link to another sheet of the workbook.

    Parameters
    ----------
    sheet
        The sheet's title.
    text
        The cell's text.
    """

    sheet: str
    text: str


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
    letters = ""
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cached(value: Any) -> Any:
    """The value a formula cell stores: numbers as Python numbers, a missing one as "".

    Parameters
    ----------
    value
        Computed in Python.

    Returns
    -------
    Any
        ``float``, ``int``, ``bool``, ``str``; ``""`` for None and non-finite numbers.
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else ""
    return str(value)


def _plain_sheet() -> type:
    """XlsxWriter's worksheet without its rewriting of newer Excel functions (29 regular
    expressions per formula, 80 % of the time of a city's workbook): the formulas here use
    none of them (checked by the LibreOffice recalculation test)."""
    from xlsxwriter.worksheet import Worksheet

    class _Plain(Worksheet):  # type: ignore[misc]
        def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
            return formula.removeprefix("{").removeprefix("=").removesuffix("}")

    return _Plain


class Book:
    """An XlsxWriter workbook built in memory, with the number formats of the sheets."""

    def __init__(self) -> None:
        import xlsxwriter

        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self.buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.formats = {k: self.wb.add_format({"num_format": v}) for k, v in _FORMATS.items()}
        self.header = self.wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.sheets: list[Sheet] = []
        self.sheet_class = _plain_sheet()

    def sheet(
        self,
        title: str,
        headers: Sequence[str],
        *,
        kinds: Sequence[str] = (),
        widths: dict[int, float] | None = None,
        table: bool = True,
    ) -> Sheet:
        """Add a sheet and write its header row.

        Parameters
        ----------
        title
            Sheet title (at most 31 characters).
        headers
            Chinese and English header of each column (empty: no header row).
        kinds
            Format of each column (keys of the formats: ``money`` = 万元 with thousands
            separators, ``share``, ``rate``, ``ratio``, ``year``, ``count``, ``text``).
        widths
            0-based column → width; others are sized from the header.
        table
            A filter on the header and the first row and column frozen.

        Returns
        -------
        Sheet
            Rows are appended with :meth:`Sheet.put`.
        """
        s = Sheet(self, title, kinds, table=table and bool(headers))
        for j, head in enumerate(headers):
            width = (widths or {}).get(j, min(max(10.0, 1.1 * len(head)), 28.0))
            s.ws.set_column(j, j, width)
        for j, width in (widths or {}).items():
            if j >= len(headers):
                s.ws.set_column(j, j, width)
        if headers:
            s.ws.set_row(0, 42)
            for j, head in enumerate(headers):
                s.ws.write_string(0, j, head, self.header)
            s.row = 1
            s.columns = len(headers)
        if s.table:
            s.ws.freeze_panes(1, 1)
        self.sheets.append(s)
        return s

    def close(self) -> bytes:
        """Finish the sheets (filters over their rows) and return the file's bytes.

        Returns
        -------
        bytes
            The ``.xlsx`` file.
        """
        for s in self.sheets:
            if s.table and s.row > 1:
                s.ws.autofilter(0, 0, s.row - 1, s.columns - 1)
        self.wb.close()
        return self.buffer.getvalue()


class Sheet:
    """Rows appended one at a time: text stays text, :class:`Formula` cells are formulas
    with their value, numbers are numbers in the column's format.

    Parameters
    ----------
    book
        The workbook.
    title
        Title of the new sheet.
    kinds
        Format of each column.
    table
        Whether :meth:`Book.close` puts a filter on it.
    """

    def __init__(self, book: Book, title: str, kinds: Sequence[str], *, table: bool) -> None:
        self.book = book
        self.ws = book.wb.add_worksheet(title, worksheet_class=book.sheet_class)
        self.title = title
        self.formats = [book.formats[k] for k in kinds]
        self.table = table
        self.row = 0
        self.columns = 1

    def put(self, values: Sequence[Any], *, kind: str | None = None) -> int:
        """Append a row.

        Parameters
        ----------
        values
            Cell values: :class:`Formula`, :class:`Link`, text, numbers, booleans;
            None and non-finite numbers leave the cell empty.
        kind
            Format of the row's cells after the first (default: the columns' formats).

        Returns
        -------
        int
            The row's number in the spreadsheet (1-based).
        """
        ws, r, fmts = self.ws, self.row, self.formats
        every = self.book.formats[kind] if kind else None
        for j, value in enumerate(values):
            fmt = every if every is not None and j else fmts[j] if j < len(fmts) else None
            if isinstance(value, Formula):
                if value.text.startswith("{"):
                    ws.write_array_formula(r, j, r, j, value.text, fmt, cached(value.value))
                else:
                    ws.write_formula(r, j, value.text, fmt, cached(value.value))
            elif isinstance(value, Link):
                ws.write_url(r, j, f"internal:'{value.sheet}'!A1", string=value.text)
            elif isinstance(value, str):
                if value:
                    ws.write_string(r, j, _ILLEGAL.sub("", value)[:_MAX_TEXT], fmt)
            elif isinstance(value, (bool, np.bool_)):
                ws.write_boolean(r, j, bool(value), fmt)
            elif isinstance(value, (int, float, np.integer, np.floating)):
                if np.isfinite(value):
                    ws.write_number(r, j, float(value), fmt)
            elif value is not None:
                ws.write_string(r, j, _ILLEGAL.sub("", str(value))[:_MAX_TEXT], fmt)
        self.row += 1
        self.columns = max(self.columns, len(values))
        return self.row
