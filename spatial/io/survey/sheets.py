"""Excel sheets as tables: the header row found among the first rows (under a title, over
two rows below merged cells), repeated and empty headers made unique, empty rows skipped
with the real row numbers kept for messages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spatial.io.survey.values import normalize_header

__all__ = ["read_sheet", "unique_headers"]

_HEADER_SCAN_ROWS = 10
#: Rows × columns of a sheet's used range beyond which it is not a survey table.
_MAX_DENSE = 50_000_000


def _header_row(raw: pd.DataFrame, known: set[str]) -> tuple[int, int]:
    """The row (0-based) among the first ones naming the most known columns, and how many."""
    best = (0, -1)
    for row in range(min(_HEADER_SCAN_ROWS, len(raw))):
        cells = [c for c in raw.iloc[row].tolist() if isinstance(c, str) and c.strip()]
        score = sum(normalize_header(c) in known for c in cells)
        if score > best[1]:
            best = (row, score)
    return best


def read_sheet(path: Path, *, sheet: str | int | None, known: set[str]) -> pd.DataFrame:
    """Read the records of one sheet of an Excel workbook, as text and numbers.

    Parameters
    ----------
    path
        An ``.xlsx``/``.xlsm`` (read cell by cell, only cells with a value) or ``.xls``.
    sheet
        Sheet name or number; default the sheet whose header row names the most
        ``known`` headers, the first on a tie.
    known
        Normalised headers of the fields (小区名称, 经度 …), to find the header row.

    Returns
    -------
    DataFrame
        The records under the header row, headers made unique; ``attrs`` holds
        ``sheet``, ``header_row`` and ``rows`` (1-based sheet rows), ``sheets`` and
        ``header_notes`` (repeated or empty headers, in words).
    """
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if not magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx), OLE2 (xls)
        text = magic.decode("utf-8", errors="ignore").isprintable() and magic != b""
        raise ValueError(
            "not an Excel workbook"
            + ("; it looks like text: if it is CSV, name it .csv" if text else "")
        )
    from openpyxl.utils.cell import get_column_letter  # openpyxl only for workbooks

    if magic.startswith(b"PK"):
        book = _zip_sheets(path)
    else:
        with pd.ExcelFile(path) as workbook:
            book = {
                str(n): _trimmed(pd.read_excel(workbook, sheet_name=n, header=None, dtype=object))
                for n in workbook.sheet_names
            }
    names = list(book)
    if sheet is not None and str(sheet) not in names:
        if not str(sheet).isdigit() or int(sheet) >= len(names):
            raise ValueError(f"no sheet '{sheet}'; the workbook has: {', '.join(names)}")
        sheet = names[int(sheet)]
    wanted = names if sheet is None else [str(sheet)]
    scored = [(name, *_header_row(book[name], known)) for name in wanted]
    name, row, _ = max(scored, key=lambda t: (t[2], -scored.index(t)))
    raw = book[name]
    if raw.empty:
        frame: pd.DataFrame = pd.DataFrame()
        header_row, rows = 1, []
    else:
        letters = [get_column_letter(int(c)) for c in raw.columns]
        cells, below = _header_cells(raw, row, known)
        header, notes = unique_headers(cells, letters)
        frame = raw.iloc[row + 1 + below :]
        header_row, rows = int(raw.index[row]), [int(r) for r in frame.index]
        frame = frame.reset_index(drop=True)
        frame.columns = header
        frame.attrs["header_notes"] = [f"sheet '{name}': {note}" for note in notes]
    frame.attrs.update(sheet=str(name), header_row=header_row, sheets=names, rows=rows)
    return frame


def _header_cells(raw: pd.DataFrame, row: int, known: set[str]) -> tuple[list[Any], int]:
    """The header row's cells, completed by a second header row under merged cells.

    ``位置`` merged over two columns with ``经度``/``纬度`` beneath is a two-row header:
    a cell of the row below that names a known column, under an empty or merged cell,
    takes its place. Returns the cells and how many rows below were headers (0 or 1).
    """
    top = raw.iloc[row].tolist()
    if row + 1 >= len(raw):
        return top, 0
    under = raw.iloc[row + 1].tolist()
    filled = [c for c in under if c is not None and not pd.isna(c)]
    named = [c for c in filled if isinstance(c, str) and normalize_header(c) in known]
    if not named or len(named) < len(filled) * 0.5 or any(not isinstance(c, str) for c in filled):
        return top, 0
    cells = [
        u if isinstance(u, str) and normalize_header(u) in known else t
        for t, u in zip(top, under, strict=True)
    ]
    return cells, 1


def _zip_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Each sheet's rows and columns that hold a value, indexed by their 1-based numbers."""
    from spatial.io.survey.xlsx import read_workbook

    book = {}
    for cells in read_workbook(path):
        cols = sorted({c for row in cells.rows.values() for c in row})
        if len(cells.rows) * len(cols) > _MAX_DENSE:
            raise ValueError(
                f"sheet '{cells.name}': its values are spread over {len(cells.rows):,} rows "
                f"× {len(cols):,} columns: too large for a survey table; delete the stray "
                "cells far from the table, or export the sheet as CSV"
            )
        at = {c: i for i, c in enumerate(cols)}
        data = np.full((len(cells.rows), len(cols)), None, dtype=object)
        for i, row in enumerate(cells.rows.values()):
            for c, value in row.items():
                data[i, at[c]] = value
        book[cells.name] = pd.DataFrame(data, index=list(cells.rows), columns=cols)
    return book


def _trimmed(raw: pd.DataFrame) -> pd.DataFrame:
    """An .xls sheet as :func:`_zip_sheets` gives one: empty rows and columns dropped."""
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    raw.index = raw.index + 1
    raw.columns = raw.columns + 1
    return raw


def unique_headers(cells: Sequence[Any], letters: Sequence[str]) -> tuple[list[str], list[str]]:
    """Column headers made unique, and a note for each one changed.

    A real 台账 repeats headers (two 备注 or 小计 columns) and leaves some empty. The
    first of a repeated header keeps its name (so it is the one read); the others get
    ``name_D列`` (no alias of any field); an empty header becomes ``D列``.

    Parameters
    ----------
    cells
        The header row's values.
    letters
        Each column's letter (Excel) or number (CSV), for names and notes.

    Returns
    -------
    headers, notes
        One unique header per column; what was renamed, in words.
    """
    headers: list[str] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    empty: list[str] = []
    for cell, letter in zip(cells, letters, strict=True):
        name = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        name = name.strip()
        if not name:
            empty.append(letter)
            headers.append(f"{letter}列")
            continue
        key = normalize_header(name)
        if key in seen:
            new = f"{name}_{letter}列"
            notes.append(
                f"header '{name}' is repeated in columns {seen[key]} and {letter}: column "
                f"{seen[key]} is read as '{name}', column {letter} is kept as '{new}'"
            )
            headers.append(new)
        else:
            seen[key] = letter
            headers.append(name)
    if empty:
        notes.append(
            f"column(s) {', '.join(empty)} have values but no header: kept as "
            f"{', '.join(f'{x}列' for x in empty)} and not read as any field"
        )
    return headers, notes
