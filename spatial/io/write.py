"""Writers that never leave a half-written file: write to a temporary file, then rename.

A failed run leaves earlier outputs intact.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd

__all__ = [
    "FORMULA_STARTS",
    "atomic_path",
    "neutralise_formulas",
    "read_own_csv",
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
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(_guard)
    if out.index.dtype == object:
        out.index = [_guard(v) for v in out.index]
    return out


def _guard(value: object) -> object:
    """``'`` before a formula (and before an already quoted one, so reading back is exact)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


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


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write several layers to one GeoPackage atomically.

    Parameters
    ----------
    layers
        ``{layer name: GeoDataFrame}``; each must have a CRS.
    path
        Target ``.gpkg``; replaced as a whole.

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
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return Path(path)


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
        if frame[col].dtype == object:
            frame[col] = frame[col].map(
                lambda v: (
                    v[1:]
                    if isinstance(v, str) and v.startswith("'") and v[1:].startswith(FORMULA_STARTS)
                    else v
                )
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
    with atomic_path(path) as tmp:
        neutralise_formulas(frame).to_csv(tmp, index=index, encoding="utf-8-sig")
    return Path(path)


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

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def clean(value: object) -> object:  # control characters from data cannot be stored
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            table = frame.rename(columns=dict(headers or {}))
            for col in table.columns:
                if not pd.api.types.is_numeric_dtype(table[col]):
                    table[col] = table[col].map(clean)
            table.to_excel(xl, sheet_name=name, index=False)
            for row in xl.sheets[name].iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # openpyxl takes "=…" text for a formula
                        cell.data_type = "s"
    return Path(path)
