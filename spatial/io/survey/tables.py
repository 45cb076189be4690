"""Read CSV and Excel tables and build their geometry from lon/lat, location or WKT columns."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial._errors import Problem
from spatial.io.survey.sheets import read_sheet, unique_headers
from spatial.io.survey.values import normalize_header, parse_number

__all__ = [
    "TABLE_SUFFIXES",
    "coordinate_system_hint",
    "is_table_file",
    "read_table",
    "table_geometry",
    "table_origin",
]

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls", ".xlsm", ".json")
_LON = (
    "经度",
    "lon",
    "lng",
    "long",
    "longitude",
    "x",
    "x坐标",
    "gcj_lng",
    "bd_lng",
    "wgs_lng",
    "location.lng",
    "location.lon",
    "location.x",
)
_LAT = (
    "纬度",
    "lat",
    "latitude",
    "y",
    "y坐标",
    "gcj_lat",
    "bd_lat",
    "wgs_lat",
    "location.lat",
    "location.y",
)
#: Baidu Mercator (BD-09MC) metres over China: x for lon 73–135°, y for lat 18–54°.
_BD09MC_X = (8.0e6, 1.52e7)
_BD09MC_Y = (1.9e6, 7.3e6)
_JSON_LISTS = ("pois", "results", "result", "data", "records", "items", "list")
_LOCATION = ("location", "坐标", "经纬度", "lnglat", "lonlat", "位置坐标", "中心点坐标")
_WKT = ("wkt", "geometry", "geom", "几何", "空间信息", "shape", "the_geom")
_HINTS = (
    ("gcj02", re.compile(r"gcj|高德|火星|amap|gaode|autonavi|腾讯|tencent", re.IGNORECASE)),
    ("bd09mc", re.compile(r"bd_?09_?mc|百度墨卡托|baidu_?mercator", re.IGNORECASE)),
    ("bd09", re.compile(r"bd_?09|百度|baidu|(^|[^a-z])bd_", re.IGNORECASE)),
    ("wgs84", re.compile(r"wgs|gps|4326|cgcs|4490", re.IGNORECASE)),
)


def coordinate_system_hint(*names: str) -> tuple[str, str] | None:
    """Whether a file or column name gives the coordinate system away.

    Parameters
    ----------
    *names
        File names and column headers.

    Returns
    -------
    (system, name) or None
        ``system`` is ``"gcj02"`` (Amap/高德/火星), ``"bd09"`` (Baidu/百度) or
        ``"wgs84"``; ``name`` is the name that told.
    """
    for system, pattern in _HINTS:
        for name in names:
            if pattern.search(str(name)):
                return system, str(name)
    return None


def read_table(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV or an Excel sheet as text.

    CSV may be UTF-8, UTF-8 with BOM, or GBK/GB18030 as Chinese Excel writes it. All
    cells are read as text where possible so that parsing (and its error messages) is
    done by :mod:`spatial.io.survey.values`, not guessed by pandas.

    Parameters
    ----------
    path
        CSV (any other ending), ``.json`` records, or an ``.xlsx``/``.xls``/``.xlsm`` workbook.
    sheet
        Excel sheet name or number. Default: the sheet whose header row names the most
        known columns (小区名称, 经度 …), the first on a tie.

    Returns
    -------
    DataFrame
        The cells, headers as in the file. An Excel sheet's header row is the one of its
        first rows that names the most known columns (a title row above it is skipped);
        ``attrs`` holds ``sheet``, ``header_row`` (1-based) and ``sheets``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm"):
        return read_sheet(path, sheet=sheet, known=_known_headers())
    if suffix == ".json":
        return _read_json_records(path)
    encodings = _text_encodings(path)
    last: Exception | None = None
    for encoding in encodings:
        try:
            try:
                raw = pd.read_csv(
                    path,
                    dtype=str,
                    keep_default_na=False,
                    encoding=encoding,
                    sep=None,
                    engine="python",
                    header=None,
                )
            except csv.Error:  # one column: no delimiter to detect
                raw = pd.read_csv(
                    path, dtype=str, keep_default_na=False, encoding=encoding, header=None
                )
            return _csv_frame(raw)
        except UnicodeDecodeError as exc:
            last = exc
    raise ValueError(f"{path}: not UTF-8 nor GBK text ({last})")


#: Bytes read at the start, middle and end of a text file to tell it is text.
_SNIFF_BYTES = 65_536


def _text_encodings(path: Path) -> tuple[str, ...]:
    """The encodings to try for a text table, after checking from a few samples that it is
    text at all (a file of NUL bytes is refused in milliseconds, not parsed for minutes)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16
            return ("utf-16",)
        samples = [(0, head)]
        for at in (size // 2, max(size - _SNIFF_BYTES, 0)):
            if at > len(head):
                fh.seek(at)
                samples.append((at, fh.read(_SNIFF_BYTES)))
    for at, sample in samples:
        nul = sample.find(b"\x00")
        if nul >= 0:
            raise ValueError(
                f"not a text table: binary data (a NUL byte at byte {at + nul:,} of "
                f"{size:,}); export the table again as CSV (UTF-8 or GBK) or as .xlsx"
            )
    return ("utf-8-sig", "gb18030")


def _csv_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """A CSV read without headers: its first row as unique headers (pandas would add .1)."""
    if raw.empty:
        return pd.DataFrame()
    blank = raw.apply(lambda col: col.str.strip().eq("").all())
    raw = raw.loc[:, ~blank.to_numpy()]  # a trailing comma: no header, no value
    if raw.empty:
        return pd.DataFrame()
    letters = [f"{i + 1}" for i in np.flatnonzero(~blank.to_numpy())]
    header, notes = unique_headers(raw.iloc[0].tolist(), letters)
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = header
    frame.attrs["header_notes"] = notes
    return frame


def _known_headers() -> set[str]:
    from spatial.io.survey.schema import LAYERS, alias_index

    known = {normalize_header(n) for n in (*_LON, *_LAT, *_LOCATION, *_WKT)}
    for layer in LAYERS:
        known |= set(alias_index(layer))
    return known


def table_origin(table: pd.DataFrame) -> str:
    """Where an Excel table's records were read, for messages ("" for other tables).

    Parameters
    ----------
    table
        A table from :func:`read_table`.

    Returns
    -------
    str
        E.g. ``"sheet '数据' (of 说明, 数据), headers on row 2"``.
    """
    if "sheet" not in table.attrs:
        return ""
    sheets = table.attrs["sheets"]
    others = f" (of {', '.join(sheets)})" if len(sheets) > 1 else ""
    return f"sheet '{table.attrs['sheet']}'{others}, headers on row {table.attrs['header_row']}"


def is_table_file(path: str | Path) -> bool:
    """Tell whether a file is read as a table (CSV, Excel, JSON records), not a GIS file.

    Parameters
    ----------
    path
        Any input file.

    Returns
    -------
    bool
        True for :data:`TABLE_SUFFIXES`, except GeoJSON saved as ``.json``.
    """
    suffix = Path(path).suffix.lower()
    return suffix in TABLE_SUFFIXES and not (suffix == ".json" and is_geojson(path))


def is_geojson(path: str | Path) -> bool:
    """True if a ``.json`` file is GeoJSON (read by GDAL), not a list of records."""
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8", errors="ignore")
    return re.search(r'"type"\s*:\s*"(FeatureCollection|Feature)"', head) is not None


def _read_json_records(path: Path) -> pd.DataFrame:
    """Records of an Amap/Baidu API export (``pois`` / ``results`` …) or a JSON list.

    Nested objects are flattened with dots (Baidu ``location.lat``); Amap writes empty
    fields as ``[]``, which become missing values.
    """
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    records = data
    if isinstance(data, dict):
        found = [data[k] for k in _JSON_LISTS if isinstance(data.get(k), list)]
        if not found:
            raise ValueError(f"{path}: no list of records ({', '.join(_JSON_LISTS)}) in the JSON")
        records = found[0]
    if not isinstance(records, list):
        raise ValueError(f"{path}: the JSON is not a list of records")
    frame = pd.json_normalize(records, sep=".")

    def flat(value: Any) -> Any:
        if isinstance(value, list):
            return ";".join(str(v) for v in value) if value else None
        return value

    return frame.apply(lambda col: col.map(flat)).astype(object)


def _find(columns: list[Any], aliases: tuple[str, ...]) -> Any | None:
    wanted = {normalize_header(a) for a in aliases}
    for col in columns:
        if normalize_header(col) in wanted:
            return col
    return None


def _numbers(
    series: pd.Series, column: str, source: str, label: Callable[[int], Any]
) -> tuple[np.ndarray, list[Problem]]:
    out = np.full(len(series), np.nan)
    problems = []
    for pos, raw in enumerate(series.tolist()):
        val, err = parse_number(raw)
        if err:
            problems.append(
                Problem.error(
                    source,
                    err,
                    row=label(pos),
                    column=column,
                    hint="write the coordinate as a decimal number, e.g. 116.3528",
                )
            )
        elif val is None:
            problems.append(
                Problem.error(
                    source,
                    "coordinate is empty",
                    row=label(pos),
                    column=column,
                    hint="fill in the coordinate or delete the row",
                )
            )
        else:
            out[pos] = val
    return out, problems


def _check_degrees(
    lon: np.ndarray,
    lat: np.ndarray,
    cols: tuple[str, str],
    source: str,
    label: Callable[[int], Any],
) -> list[Problem]:
    problems = []
    for pos in np.flatnonzero(np.isfinite(lon) & np.isfinite(lat)).tolist():
        x, y = lon[pos], lat[pos]
        if abs(y) > 90 and abs(x) <= 90:
            found = (
                cols[1],
                f"latitude {y:g} is impossible and longitude {x:g} looks like a "
                "latitude: longitude and latitude are swapped",
                f"swap the columns: '{cols[0]}' is longitude (73–135 in China), "
                f"'{cols[1]}' is latitude (18–54)",
            )
        elif _BD09MC_X[0] <= abs(x) <= _BD09MC_X[1] and _BD09MC_Y[0] <= abs(y) <= _BD09MC_Y[1]:
            found = (
                cols[0],
                f"({x:g}, {y:g}) look like Baidu Mercator metres (BD-09MC), not degrees",
                "load the file with coords='bd09mc' (--coords bd09mc)",
            )
        elif abs(x) > 180 or abs(y) > 90:
            found = (
                cols[0],
                f"({x:g}, {y:g}) are not degrees of longitude/latitude",
                "projected coordinates need their CRS: pass crs='EPSG:…' (--crs); "
                "Baidu Mercator metres need coords='bd09mc'",
            )
        else:
            continue
        column, message, hint = found
        problems.append(Problem.error(source, message, row=label(pos), column=column, hint=hint))
    return problems


def table_geometry(
    frame: pd.DataFrame,
    *,
    source: str,
    crs: Any = None,
    coords: str = "wgs84",
    row_label: Callable[[int], Any] | None = None,
) -> tuple[gpd.GeoSeries | None, list[Any], list[Problem]]:
    """Build point (or WKT) geometry from a table's coordinate columns.

    Parameters
    ----------
    frame
        The table as read.
    source
        File name for messages.
    crs
        CRS of the coordinates; ``None`` means WGS84 lon/lat (the contract of
        经度/纬度 columns) for lon/lat columns, and *required* for WKT columns whose
        numbers are not degrees.
    coords
        The declared coordinate system; ``"bd09mc"`` (Baidu Mercator metres) skips the
        degree checks, the numbers being converted later.
    row_label
        Maps record position to the row shown to the user.

    Returns
    -------
    geometry, used_columns, problems
        ``geometry`` is ``None`` when no coordinate column was found.
    """
    label = row_label or (lambda pos: pos + 2)
    cols = list(frame.columns)
    lon_col, lat_col = _find(cols, _LON), _find(cols, _LAT)
    loc_col, wkt_col = _find(cols, _LOCATION), _find(cols, _WKT)
    problems: list[Problem] = []
    if lon_col is not None and lat_col is not None:
        lon, p1 = _numbers(frame[lon_col], str(lon_col), source, label)
        lat, p2 = _numbers(frame[lat_col], str(lat_col), source, label)
        problems += p1 + p2
        used = [lon_col, lat_col]
        cols_named = (str(lon_col), str(lat_col))
    elif loc_col is not None:
        lon = np.full(len(frame), np.nan)
        lat = np.full(len(frame), np.nan)
        for pos, raw in enumerate(frame[loc_col].tolist()):
            parts = re.split(r"[,，;\s]+", str(raw).strip())
            try:
                lon[pos], lat[pos] = (float(parts[0]), float(parts[1]))
            except (ValueError, IndexError):
                problems.append(
                    Problem.error(
                        source,
                        f"'{raw}' is not 'lon,lat'",
                        row=label(pos),
                        column=str(loc_col),
                        hint="write the location as 'longitude,latitude'",
                    )
                )
        used = [loc_col]
        cols_named = (str(loc_col), str(loc_col))
    elif wkt_col is not None:
        texts = frame[wkt_col].astype(str).tolist()
        geoms = shapely.from_wkt(texts, on_invalid="ignore")
        for pos in np.flatnonzero(shapely.is_missing(geoms)).tolist():
            problems.append(
                Problem.error(
                    source,
                    f"'{texts[pos][:40]}' is not WKT geometry",
                    row=label(pos),
                    column=str(wkt_col),
                    hint="write geometry as WKT, e.g. POINT (116.35 40.0)",
                )
            )
        bounds = np.abs(shapely.bounds(geoms))
        known = np.isfinite(bounds).all(axis=1)
        degrees = bool(
            (bounds[known][:, [0, 2]] <= 180).all() and (bounds[known][:, [1, 3]] <= 90).all()
        )
        if crs is None and not degrees:
            problems.append(
                Problem.error(
                    source,
                    "WKT coordinates are not degrees and the file has no CRS",
                    column=str(wkt_col),
                    hint="pass the CRS of the coordinates, e.g. crs='EPSG:4547' (--crs)",
                )
            )
        return gpd.GeoSeries(geoms, index=frame.index, crs=crs or "EPSG:4326"), [wkt_col], problems
    else:
        return None, [], problems
    if crs is None and coords != "bd09mc":
        problems += _check_degrees(lon, lat, cols_named, source, label)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=frame.index, crs=crs or "EPSG:4326")
    points[~(np.isfinite(lon) & np.isfinite(lat))] = None
    return points, used, problems
