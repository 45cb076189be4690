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

__all__ = ["atomic_path", "write_csv", "write_gpkg", "write_text", "write_xlsx"]


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


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write a table as UTF-8 CSV with BOM (so that Excel shows Chinese correctly), atomically.

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
        frame.to_csv(tmp, index=index, encoding="utf-8-sig")
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
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            frame.rename(columns=dict(headers or {})).to_excel(xl, sheet_name=name, index=False)
    return Path(path)
