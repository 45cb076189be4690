"""Unit boundaries: a polygon layer of communities (社区) or subdistricts (街道) with their
names, for the per-unit figures of ``spatial assess``."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from spatial._errors import InputError, InputWarning, Problem, format_problems
from spatial.io.checks import check_geometries
from spatial.io.readers import check_input_path, reading

__all__ = ["NAME_COLUMNS", "read_boundaries"]

#: Columns naming a unit, tried in order when none is given.
NAME_COLUMNS = (
    "社区名称",
    "社区",
    "居委会",
    "街道名称",
    "街道",
    "街道办事处",
    "乡镇街道",
    "name",
    "名称",
    "NAME",
    "Name",
)
#: Words in a layer's name that say it holds units (when a file has several).
_LAYER_WORDS = ("subdistrict", "communit", "boundar", "unit", "街道", "社区", "边界", "单元")
_HINT = "a polygon layer (GeoPackage, shapefile, GeoJSON) with a CRS and a name per unit"


def _layer(path: Path, layer: str | None) -> str | None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        listed = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    names = [n for n, _ in listed]
    if layer is not None:
        if layer not in names:
            raise InputError(
                [
                    Problem.error(
                        str(path),
                        f"boundaries: no layer {layer!r}; it has: {', '.join(names)}",
                        hint="name one of them with --boundaries-layer",
                    )
                ]
            )
        return layer
    polygons = [n for n, t in listed if "Polygon" in t]
    named = [n for n in polygons if any(k in n.lower() for k in _LAYER_WORDS)]
    if len(polygons) > 1 and len(named) == 1:
        return named[0]
    if len(names) > 1 and len(polygons) != 1:
        raise InputError(
            [
                Problem.error(
                    str(path),
                    f"boundaries: {len(names)} layers ({', '.join(names)}), "
                    f"{len(polygons)} of polygons",
                    hint="name the layer of units with --boundaries-layer",
                )
            ]
        )
    return polygons[0] if len(names) > 1 else None


def read_boundaries(
    path: str | Path, *, layer: str | None = None, name_column: str | None = None
) -> gpd.GeoDataFrame:
    """Read a layer of unit boundaries.

    Parameters
    ----------
    path
        A GIS file.
    layer
        Its layer (default: the only one, the only polygon layer, or the only polygon
        layer named like units: subdistricts, communities, 街道, 社区, boundaries …).
    name_column
        The column naming each unit (default: the first of :data:`NAME_COLUMNS`).

    Returns
    -------
    GeoDataFrame
        ``unit`` (the name) and the polygon, one row per name (parts of one name merged),
        in the file's CRS.

    Raises
    ------
    InputError
        Every problem at once: no file, no such layer, no CRS, geometries that are not
        polygons, no name column, rows without a name (file, row, column).

    Warns
    -----
    InputWarning
        Invalid polygons (drawn across themselves), repaired to their polygonal parts.
    """
    file = Path(path)
    check_input_path(file, what="boundaries", hint=_HINT)
    with reading(file, what="boundaries", hint=_HINT):
        frame = gpd.read_file(file, layer=_layer(file, layer))
    where = str(file) + (f" [{layer}]" if layer else "")
    problems = []
    if frame.crs is None:
        problems.append(
            Problem.error(
                where,
                "boundaries: no CRS",
                hint="save the layer with its coordinate system (.prj of a shapefile)",
            )
        )
    kinds = shapely.get_type_id(frame.geometry.values)
    bad = ~pd.Series(kinds).isin([3, 6]).to_numpy()  # Polygon, MultiPolygon
    if bad.any():
        rows = [int(i) + 1 for i in bad.nonzero()[0][:5]]
        problems.append(
            Problem.error(
                where,
                f"boundaries: {int(bad.sum())} features are not polygons (features {rows} …)",
                row=rows[0],
                hint="give the units as polygons",
            )
        )
    column = name_column or next((c for c in NAME_COLUMNS if c in frame.columns), None)
    if column is None or column not in frame.columns:
        have = ", ".join(str(c) for c in frame.columns if c != "geometry")
        problems.append(
            Problem.error(
                where,
                f"boundaries: no column {column!r}" if column else "boundaries: no name column",
                column=column,
                hint=f"name it with --boundary-name; the layer has: {have}",
            )
        )
    else:
        names = frame[column].astype("string").str.strip()
        empty = names.isna() | (names == "")
        if empty.any():
            rows = [int(i) + 1 for i in empty.to_numpy().nonzero()[0][:5]]
            problems.append(
                Problem.error(
                    where,
                    f"boundaries: {int(empty.sum())} units without a name (features {rows} …)",
                    row=rows[0],
                    column=column,
                    hint="name every unit",
                )
            )
    if problems:
        raise InputError(problems)
    geoms = frame.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():  # a surveyed boundary drawn across itself: its polygonal parts kept
        at = invalid.nonzero()[0]
        rows = [int(i) + 1 for i in at[:5]]
        fixed, found = check_geometries(  # the inputs' own repair (polygons stay polygons)
            gpd.GeoSeries(geoms[invalid]),
            "compounds",
            source=where,
            row_label=lambda k: int(at[k]) + 1,
        )
        if any(p.severity == "error" for p in found):
            raise InputError([p for p in found if p.severity == "error"])
        geoms = geoms.copy()
        geoms[invalid] = fixed.values
        said = [
            Problem.warning(
                where,
                f"boundaries: {int(invalid.sum())} invalid polygons repaired "
                f"(features {rows} …): their polygonal parts are used",
                row=rows[0],
                hint="check those units' outlines",
            )
        ]
        warnings.warn(InputWarning(format_problems(said), said), stacklevel=2)
    units = gpd.GeoDataFrame(
        {"unit": names.astype(object).to_numpy()}, geometry=geoms, crs=frame.crs
    )
    merged: gpd.GeoDataFrame = units.dissolve("unit", sort=False).reset_index()
    return merged
