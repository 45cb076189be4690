"""Read the cells of an ``.xlsx``/``.xlsm`` workbook that hold something, and only those.

A sheet's declared dimension can be ``A1:XFD1048576`` while three rows hold data (a
stray format or one cell far below); a reader that walks the declared range spends
minutes on empty rows. Here the sheet's XML is streamed and only cells with a value are
kept, with their real row numbers and column letters, so messages can point at them.
The archive is checked first (sizes, compression ratio) so junk is refused in
milliseconds.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

__all__ = ["MAX_CELLS", "MAX_XML_BYTES", "SheetCells", "read_workbook"]

#: More cells with a value than a survey table has (200,000 compounds × 100 columns).
MAX_CELLS = 20_000_000
#: Unpacked size of one sheet's XML beyond which a workbook is not a survey table.
MAX_XML_BYTES = 2_000_000_000
_MAX_RATIO = 500  # unpacked/packed; a zip bomb goes far beyond, real sheets 5-30
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


@dataclass
class SheetCells:
    """The cells of one sheet that hold a value.

    Attributes
    ----------
    name
        The sheet's name.
    rows
        ``{row number (1-based): {column number (1-based): value}}``; values are
        text, int, float, bool or datetime; empty text and error cells are left out.
    """

    name: str
    rows: dict[int, dict[int, Any]]

    def column_letter(self, col: int) -> str:
        """The letter(s) of a 1-based column number (``1`` → ``A``).

        Parameters
        ----------
        col
            Column number, 1-based.

        Returns
        -------
        str
            As Excel names the column.
        """
        return str(get_column_letter(col))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_archive(book: zipfile.ZipFile, path: Path) -> None:
    for info in book.infolist():
        packed = max(info.compress_size, 1)
        if info.file_size > MAX_XML_BYTES or (
            info.file_size > 50_000_000 and info.file_size / packed > _MAX_RATIO
        ):
            raise ValueError(
                f"part {info.filename} unpacks to {info.file_size / 1e6:,.0f} MB from "
                f"{info.compress_size / 1e6:,.1f} MB: not a survey table (a damaged or "
                "crafted workbook); save the sheet again from Excel or WPS"
            )


def _sheet_paths(book: zipfile.ZipFile) -> tuple[list[tuple[str, str]], bool]:
    """Sheet names with the archive paths of their XML, and whether dates count from 1904."""
    rels: dict[str, str] = {}
    with book.open("xl/_rels/workbook.xml.rels") as fh:
        for _, el in iterparse(fh):
            if _local(el.tag) == "Relationship":
                target = el.get("Target", "")
                if target.startswith("/"):
                    rels[el.get("Id", "")] = target.lstrip("/")
                else:
                    rels[el.get("Id", "")] = str(PurePosixPath("xl") / target)
    sheets: list[tuple[str, str]] = []
    date1904 = False
    with book.open("xl/workbook.xml") as fh:
        for _, el in iterparse(fh):
            tag = _local(el.tag)
            if tag == "sheet" and el.get(_REL) in rels:
                sheets.append((el.get("name", ""), rels[el.get(_REL, "")]))
            elif tag == "workbookPr":
                date1904 = el.get("date1904", "0").lower() in ("1", "true")
    return sheets, date1904


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    out: list[str] = []
    parts: list[str] = []
    phonetic = 0
    with book.open("xl/sharedStrings.xml") as fh:
        for event, el in iterparse(fh, events=("start", "end")):
            tag = _local(el.tag)
            if tag == "rPh":  # phonetic guide text is not part of the cell's text
                phonetic += 1 if event == "start" else -1
            elif event == "end" and tag == "t" and not phonetic:
                parts.append(el.text or "")
            elif event == "end" and tag == "si":
                out.append("".join(parts))
                parts = []
                el.clear()
    return out


def _date_styles(book: zipfile.ZipFile) -> set[int]:
    """Positions of the cell styles whose number format shows a date or time."""
    if "xl/styles.xml" not in book.namelist():
        return set()
    custom: dict[int, str] = {}
    dates: set[int] = set()
    in_xfs = False
    n_xf = 0
    with book.open("xl/styles.xml") as fh:
        for event, el in iterparse(fh, events=("start", "end")):
            tag = _local(el.tag)
            if event == "start" and tag == "cellXfs":
                in_xfs = True
            elif event == "end" and tag == "cellXfs":
                in_xfs = False
            elif event == "end" and tag == "numFmt":
                custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
            elif event == "end" and tag == "xf" and in_xfs:
                fmt_id = int(el.get("numFmtId", "0"))
                code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, "General"))
                if is_date_format(code):
                    dates.add(n_xf)
                n_xf += 1
    return dates


def _value(cell: Any, strings: list[str], dates: set[int], epoch: Any) -> Any:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        text = "".join(t.text or "" for t in cell.iter() if _local(t.tag) == "t")
        return text or None
    raw = None
    for child in cell:
        if _local(child.tag) == "v":
            raw = child.text
    if raw is None or kind == "e":
        return None
    if kind == "s":
        index = int(raw)
        return strings[index] if 0 <= index < len(strings) else None
    if kind in ("str", "d"):
        return raw or None
    if kind == "b":
        return raw.strip() in ("1", "true")
    try:
        number = float(raw)
        style = int(cell.get("s", "0"))
    except ValueError:  # not a number where one was declared: keep the text
        return raw
    if style in dates:
        try:
            return from_excel(number, epoch=epoch)
        except (ValueError, OverflowError):
            return number
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _read_sheet(
    fh: IO[bytes], name: str, strings: list[str], dates: set[int], epoch: Any
) -> SheetCells:
    rows: dict[int, dict[int, Any]] = {}
    n_cells = 0
    row_no = 0
    for _, el in iterparse(fh):
        if _local(el.tag) != "row":
            continue
        row_no = int(el.get("r", row_no + 1))
        col_no = 0
        cells: dict[int, Any] = {}
        for cell in el:
            if _local(cell.tag) != "c":
                continue
            ref = _CELL_REF.fullmatch(cell.get("r", ""))
            col_no = _column_number(ref.group(1)) if ref else col_no + 1
            value = _value(cell, strings, dates, epoch)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                cells[col_no] = value
        el.clear()
        if cells:
            rows[row_no] = cells
            n_cells += len(cells)
            if n_cells > MAX_CELLS:
                raise ValueError(
                    f"sheet '{name}' has more than {MAX_CELLS:,} cells with a value (at row "
                    f"{row_no:,}): too large for a survey table; split it or export it as CSV"
                )
    return SheetCells(name, rows)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def read_workbook(path: str | Path, *, sheets: list[str] | None = None) -> list[SheetCells]:
    """Read the cells with a value of an ``.xlsx``/``.xlsm`` workbook's sheets.

    Parameters
    ----------
    path
        The workbook.
    sheets
        Names of the sheets to read; default all, in the workbook's order.

    Returns
    -------
    list of SheetCells
        One per sheet read; formulas give their cached value, error cells (``#N/A``)
        and empty text nothing, date-formatted numbers a datetime.

    Raises
    ------
    ValueError
        Not a workbook, damaged, a part that unpacks to gigabytes, or a sheet with more
        than :data:`MAX_CELLS` cells with a value; the message says which.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as book:
            _check_archive(book, path)
            paths, date1904 = _sheet_paths(book)
            strings = _shared_strings(book)
            dates = _date_styles(book)
            epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
            wanted = [(n, p) for n, p in paths if sheets is None or n in sheets]
            out = []
            for name, part in wanted:
                with book.open(part) as fh:
                    out.append(_read_sheet(fh, name, strings, dates, epoch))
            return out
    except (zipfile.BadZipFile, KeyError, ParseError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"a damaged workbook ({type(exc).__name__}: {exc}); open it in Excel or WPS "
            "and save it again"
        ) from exc
