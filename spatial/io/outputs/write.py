"""Writers that never leave a half-written file: write to a temporary file, then rename.

A failed run leaves earlier outputs intact.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import shapely

from spatial.io.crs.projection import reproject
from spatial.io.outputs.cells import write_frame

__all__ = [
    "FORMULA_STARTS",
    "atomic_path",
    "inert_text",
    "neutralise_formulas",
    "one_chunk",
    "read_gpkg",
    "read_own_csv",
    "write_bytes",
    "write_csv",
    "write_gpkg",
    "write_text",
    "write_xlsx",
]

#: A cell starting with one of these is run as a formula by Excel and LibreOffice
#: (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Parameters
    ----------
    frame
        Any table (names and tags from data end up in text cells).

    Returns
    -------
    DataFrame
        A copy, indexed like ``frame``; only text cells starting with one of
        :data:`FORMULA_STARTS` change (``=1+1`` becomes ``'=1+1``). Numbers, also
        negative ones, are untouched.
    """
    out = frame.copy(deep=False)
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            # each distinct value is checked once (a city's gaps.csv repeats every name
            # and category millions of times)
            values = out[col]
            if isinstance(values.dtype, pd.StringDtype):  # Arrow finds the candidates
                hit = values.str.lstrip("'").str.startswith(FORMULA_STARTS)
                values = values[hit.fillna(False).astype(bool)]
            risky = {
                v: _guard(v)
                for v in values.unique()
                if isinstance(v, str) and v.lstrip("'").startswith(FORMULA_STARTS)
            }
            if risky:
                out[col] = out[col].map(lambda v, r=risky: r.get(v, v) if isinstance(v, str) else v)
    if out.index.dtype == object:
        out.index = [_guard(v) for v in out.index]
    return out


def _guard(value: object) -> object:
    """``'`` before a formula (and before an already quoted one, so reading back is exact)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


#: Characters that act on a terminal instead of showing: C0 controls but tab and newline,
#: DEL, C1 controls (CSI, OSC …) and the bidirectional overrides that reorder text.
_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert_text(text: str) -> str:
    """Text from data made inert on a terminal and in logs.

    A name with ``ESC ]0;…`` would set the window title, ``ESC [2J`` clear the screen,
    U+202E reverse what follows. Each such character is shown instead: C0 controls as
    their control pictures (ESC → ␛), the others as ``\\u202e``-style escapes.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        The same text with every active character made visible.
    """

    def shown(match: re.Match[str]) -> str:
        ch = match.group()
        code = ord(ch)
        if code < 0x20:
            return chr(0x2400 + code)
        if code == 0x7F:
            return "\u2421"
        return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"

    return _ACTIVE.sub(shown, text)


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On any exception the temporary file is removed and ``target`` is untouched.

    Parameters
    ----------
    target
        The file to write.

    Yields
    ------
    Path
        Where to write; renamed onto ``target`` when the block ends without error.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL refuse to open an existing empty file
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for leftover in (
            tmp,
            tmp.with_name(tmp.name + "-journal"),
            tmp.with_name(tmp.name + "-wal"),
            tmp.with_name(tmp.name + "-shm"),
        ):
            if leftover.exists():
                leftover.unlink()


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | Path,
    *,
    crs: Any = None,
    max_vertices: int = 4_000_000,
) -> Path:
    """Write several layers to one GeoPackage atomically.

    A layer is written in pieces of at most ``max_vertices`` vertices (whole rows), each
    reprojected on its own, so a whole city's outlines are never held twice (in the
    working CRS and in ``crs``, then again as WKB).

    Parameters
    ----------
    layers
        ``{layer name: GeoDataFrame}``; each must have a CRS.
    path
        Target ``.gpkg``; replaced as a whole.
    crs
        Reproject to this CRS while writing (anything ``to_crs`` takes, e.g. ``4326``);
        None keeps each layer's.
    max_vertices
        Largest number of vertices written (and reprojected) at once.

    Returns
    -------
    Path
        ``path``.
    """
    for name, gdf in layers.items():
        if gdf.crs is None:
            raise ValueError(f"layer {name!r} has no CRS; refusing to write it")
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            for k, piece in enumerate(_pieces(gdf, max_vertices)):
                piece = piece if crs is None else reproject(piece, crs)
                # through Arrow: a city's 300k features in a third less time
                piece.to_file(
                    tmp,
                    layer=name,
                    driver="GPKG",
                    engine="pyogrio",
                    use_arrow=True,
                    mode="a" if k else "w",
                )
    return Path(path)


def _pieces(gdf: gpd.GeoDataFrame, max_vertices: int) -> Iterator[gpd.GeoDataFrame]:
    """Consecutive row slices of ``gdf`` of at most ``max_vertices`` vertices (a row
    with more is a slice of its own); the whole frame when it is small or empty."""
    count = shapely.get_num_coordinates(gdf.geometry.values)
    if len(gdf) < 2 or count.sum() <= max_vertices:
        yield gdf
        return
    start, total = 0, 0
    for k, n in enumerate(count.tolist()):
        if total and total + n > max_vertices:
            yield gdf.iloc[start:k]
            start, total = k, 0
        total += n
    yield gdf.iloc[start:]


def read_gpkg(
    path: str | Path,
    layer: str | None = None,
    *,
    skip: int = 0,
    count: int | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage through Arrow (three to four times faster).

    Parameters
    ----------
    path
        The ``.gpkg`` file (text is UTF-8 in a GeoPackage, so no encoding is guessed).
    layer
        Layer name; the first layer when None.
    skip
        Rows left out at the start.
    count
        Rows read (all the rest when None).
    where
        An SQL condition on the attributes: only the rows meeting it are read.

    Returns
    -------
    GeoDataFrame
        The layer (or its rows asked for), in its own CRS.
    """
    rows: dict[str, int] = {"skip_features": skip} if skip else {}
    if count is not None:
        rows["max_features"] = count
    return gpd.read_file(path, layer=layer, engine="pyogrio", use_arrow=True, where=where, **rows)


def one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each Arrow-backed column in one piece.

    Read through Arrow (a GeoPackage, a CSV), a text column comes in as many chunks as
    batches were read, and taking a few rows of it then costs ~60× more: a stage that
    takes a unit's or a bundle's rows thousands of times pays for it.

    Parameters
    ----------
    frame
        Any (Geo)DataFrame.

    Returns
    -------
    DataFrame
        A shallow copy, same index, dtypes and values; ``frame`` itself when no column
        was in pieces.
    """
    out = None
    for col in frame.columns:
        if not isinstance(frame[col].dtype, (pd.StringDtype, pd.ArrowDtype)):
            continue
        chunked = pa.array(frame[col].array)  # the column's own Arrow data (no copy)
        if isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > 1:
            out = frame.copy(deep=False) if out is None else out
            whole = pd.array(chunked.combine_chunks(), dtype=frame[col].dtype)
            out[col] = pd.Series(whole, index=frame.index)
    return frame if out is None else out


def read_own_csv(path: str | Path, **options: object) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv`, undoing the formula guard.

    Parameters
    ----------
    path
        The file.
    **options
        Passed to :func:`pandas.read_csv` (e.g. ``dtype``).

    Returns
    -------
    DataFrame
        Text cells as they were before :func:`neutralise_formulas` (``'=1+1`` is
        ``=1+1`` again).
    """
    frame = pd.read_csv(path, encoding="utf-8-sig", **options)  # type: ignore[call-overload]
    for col in frame.columns:
        if frame[col].dtype == object or isinstance(frame[col].dtype, pd.StringDtype):
            quoted = [
                v
                for v in pd.unique(frame[col].to_numpy(dtype=object))
                if isinstance(v, str)
                and v.startswith("'")
                and v.lstrip("'").startswith(FORMULA_STARTS)
            ]
            if quoted:  # only the guarded values are mapped back
                back = {v: v[1:] for v in quoted}
                frame[col] = frame[col].map(
                    lambda v, b=back: b.get(v, v) if isinstance(v, str) else v
                )
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write a table as UTF-8 CSV with BOM (so that Excel shows Chinese correctly), atomically.

    Text cells that a spreadsheet would run as formulas are written as text
    (:func:`neutralise_formulas`).

    Parameters
    ----------
    frame
        The table.
    path
        Target ``.csv``.
    index
        Write the index as the first column.

    Returns
    -------
    Path
        ``path``.
    """
    safe = neutralise_formulas(frame)
    with atomic_path(path) as tmp:
        if index or len(safe) < _ARROW_ROWS or not _write_arrow_csv(safe, tmp):
            safe.to_csv(tmp, index=index, encoding="utf-8-sig")
    return Path(path)


#: From this many rows on a table is written by Arrow's CSV writer (in C++, about ten
#: times faster than pandas' on a city's 2 million gap rows).
_ARROW_ROWS = 5_000


def _write_arrow_csv(frame: pd.DataFrame, path: Path) -> bool:
    """Write ``frame`` as pandas would (BOM, ``True``/``False``, empty for missing);
    False, writing nothing, when a column is not plain numbers, booleans or text."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    for col in frame.columns:
        kind = frame[col].dtype.kind
        if kind not in "biuf" and not (
            isinstance(frame[col].dtype, pd.StringDtype)
            or pd.api.types.infer_dtype(frame[col], skipna=True) in ("string", "empty")
        ):
            return False
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
        return False
    for k, field in enumerate(table.schema):
        if pa.types.is_boolean(field.type):
            text = pc.if_else(table.column(k), "True", "False")
            table = table.set_column(k, field.name, text)
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        pacsv.write_csv(table, fh)
    return True


def write_text(text: str, path: str | Path) -> Path:
    """Write a UTF-8 text file atomically.

    Parameters
    ----------
    text
        The content.
    path
        Target file.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    headers: Mapping[str, str] | None = None,
    styled: bool = False,
) -> Path:
    """Write several tables to one Excel workbook, atomically.

    Text cells are stored as text, never as formulas, whatever they start with
    (a name ``=HYPERLINK(…)`` shows as that text); control characters a worksheet
    cannot hold are dropped.

    Parameters
    ----------
    sheets
        Sheet name → table (written without its index).
    path
        Target ``.xlsx``; replaced as a whole.
    headers
        Column name → header shown (e.g. ``{"households": "户数 Households"}``).
    styled
        For officials: bold frozen header row, filters, widths fitted to the content
        (a Chinese character counts two) and number formats by column: ``*_wan`` and
        ``*_yuan`` money with thousands separators, ``f_*``/``score`` to 3 decimals,
        counts as integers.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(value: object) -> object:  # control characters from data cannot be stored
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    import xlsxwriter

    # built in memory: a write cut short (disk full) leaves no half-closed zip behind;
    # XlsxWriter, told never to turn text into formulas, links or numbers
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(buffer, options)
    for name, frame in sheets.items():
        table = frame.rename(columns=dict(headers or {}))
        for col in table.columns:
            if not pd.api.types.is_numeric_dtype(table[col]):
                table[col] = table[col].map(clean)
        ws = book.add_worksheet(name)
        write_frame(book, ws, table)
        if styled:
            _style_sheet(book, ws, frame, table)
    book.close()
    return write_bytes(buffer.getbuffer(), path)


def write_bytes(data: bytes | memoryview, path: str | Path) -> Path:
    """Write bytes to ``path`` atomically.

    Parameters
    ----------
    data
        The content.
    path
        Target file; replaced as a whole.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _number_format(column: str) -> str | None:
    if column.endswith(("_wan", "_yuan")):
        return "#,##0.0" if column.endswith("_wan") else "#,##0"
    if column.startswith("f_") or column == "score":
        return "0.000"
    if column in ("households", "compounds", "households_planned", "floors", "rank", "year"):
        return "0" if column == "year" else "#,##0"
    return None


def _display_width(value: object) -> int:
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _style_sheet(book: Any, ws: Any, frame: pd.DataFrame, table: pd.DataFrame) -> None:
    """Frozen bold header, filters, fitted widths and number formats (see write_xlsx)."""
    ws.freeze_panes(1, 0)
    if len(table.columns):
        ws.autofilter(0, 0, len(table), len(table.columns) - 1)
    head = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter", "border": 1}
    )
    formats: dict[str, Any] = {}
    sample = table.head(2000)
    for k, (raw, shown) in enumerate(zip(frame.columns, table.columns, strict=True)):
        ws.write_string(0, k, str(shown), head)
        widths = sample[shown].map(_display_width) if len(sample) else pd.Series([0])
        body = int(widths.max()) if len(widths) else 0
        width = min(max(body, _display_width(shown) // 2, 6) + 2, 60)
        fmt = _number_format(str(raw))
        if fmt is not None and fmt not in formats:
            formats[fmt] = book.add_format({"num_format": fmt})
        ws.set_column(k, k, width, formats.get(fmt) if fmt is not None else None)
