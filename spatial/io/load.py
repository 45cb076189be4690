"""Load compounds, POIs and parcels from any supported file, validated and projected.

Supported: GeoPackage, shapefile, GeoJSON (and anything else GDAL reads), CSV/Excel
with lon/lat, ``location`` or WKT columns, and OSM XML/PBF. Every problem of every
file is collected first; :func:`load_layers` raises one
:class:`~spatial._errors.InputError` before any expensive work.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial._errors import InputError, InputWarning, Problem, format_problems, raise_for_errors
from spatial.io.checks import check_degrees, check_geometries, check_location, check_offset
from spatial.io.crs.chinese import COORD_SYSTEMS, to_wgs84
from spatial.io.crs.projection import local_metric_crs
from spatial.io.osm.read import is_osm_file
from spatial.io.outputs.runfolder import folder_layer, folder_rows
from spatial.io.readers import is_gis_file, library_failed, pick_layer, read_any
from spatial.io.survey.conform import conform
from spatial.io.survey.schema import LAYERS
from spatial.io.survey.sheets import unique_headers
from spatial.io.survey.tables import (
    TABLE_SUFFIXES,
    coordinate_system_hint,
)

__all__ = [
    "LoadSpec",
    "Loaded",
    "check_file",
    "check_frame",
    "check_layers",
    "load_layer",
    "load_layers",
]


@dataclass
class Loaded:
    """A file read and checked, before projection.

    Attributes
    ----------
    frame
        Canonical columns (see :data:`spatial.schema.CONTRACTS`) and geometry in the
        file's CRS, or WGS84 for tables and OSM; ``None`` if the file could not be read.
    problems
        Every problem found (errors and warnings).
    """

    frame: gpd.GeoDataFrame | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when no problem is an error."""
        return not any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class LoadSpec:
    """What to load: a file, which layer kind it holds, and how to read it.

    Attributes
    ----------
    path
        The file.
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    crs
        CRS of a table's coordinates (default WGS84 lon/lat).
    coords
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"bd09mc"``.
    sheet
        Excel sheet name or number.
    source_layer
        Layer inside a GeoPackage.
    keep_cut
        OSM compounds: keep residential areas cut by the extract's edge (the part
        inside, ``partial``) instead of leaving them out.
    """

    path: str | Path
    layer: str
    crs: Any = None
    coords: str = "wgs84"
    sheet: str | int | None = None
    source_layer: str | None = None
    keep_cut: bool = False


#: ``frame.attrs`` key of a layer checked and in metres (its kind): the library face takes
#: it as it is instead of checking it again.
PREPARED_ATTR = "spatial_layer"


def check_file(
    path: str | Path,
    layer: str,
    *,
    crs: Any = None,
    coords: str = "wgs84",
    sheet: str | int | None = None,
    source_layer: str | None = None,
    reference: gpd.GeoSeries | None = None,
    keep_cut: bool = False,
) -> Loaded:
    """Read one file and check it; never raises for bad content.

    Parameters
    ----------
    path
        The file.
    layer
        What it holds: ``"compounds"``, ``"pois"`` or ``"parcels"``.
    crs
        CRS of a table's coordinates (default WGS84 lon/lat); overrides nothing in
        vector files, whose CRS must be in the file.
    coords
        ``"wgs84"`` (also for CGCS2000), ``"gcj02"`` (Amap, Tencent), ``"bd09"`` (Baidu
        lon/lat) or ``"bd09mc"`` (Baidu Mercator metres): the system the coordinates
        are in; converted to WGS84.
    sheet
        Excel sheet name or number.
    source_layer
        Layer of a multi-layer GIS file (default: the only one, or the one whose name,
        geometry and columns say it holds ``layer``; several candidates are an error).
    reference
        Geometries known to be WGS84 (e.g. streets); used to detect GCJ-02/BD-09
        data declared as WGS84.
    keep_cut
        OSM compounds: also the residential areas cut by the extract's edge.

    Returns
    -------
    Loaded
        The frame (None when unreadable), with ``source_file`` and ``source_row`` (the
        row or feature as messages name it), and every problem found.
    """
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; use one of {LAYERS}")
    if coords not in COORD_SYSTEMS:
        raise ValueError(f"unknown coordinate system {coords!r}; use one of {COORD_SYSTEMS}")
    path = Path(path)
    src = str(path)
    if not path.exists():
        return Loaded(None, [Problem.error(src, "file not found", hint="check the path")])
    folder = path if path.is_dir() else None
    if folder is not None:  # another command's output folder: its file of this kind
        try:
            path, source_layer = folder_layer(path, layer)
        except InputError as exc:
            return Loaded(None, exc.problems)
        src = str(path)
    problems: list[Problem] = []
    if is_gis_file(path):
        try:
            source_layer, several = pick_layer(path, layer, source_layer)
        except ValueError as exc:
            ask = f"name it with --{layer}-layer (spatial validate: --layer)"
            return Loaded(None, [Problem.error(src, str(exc), hint=ask)])
        except Exception as exc:  # pyogrio DataSourceError: not a GIS file
            if not library_failed(exc):
                raise
            return Loaded(None, [Problem.error(src, f"cannot read the file: {exc}")])
        src = f"{path} [{source_layer}]" if several else src
    try:
        raw, geometry, label, names = read_any(
            path, layer, crs, coords, sheet, source_layer, problems, keep_cut=keep_cut
        )
    except Exception as exc:  # a corrupt or unreadable file is reported; a bug is raised
        if not library_failed(exc):
            raise
        return Loaded(
            None,
            [
                Problem.error(
                    src,
                    f"cannot read the file: {exc}",
                    hint="check that the file is a valid table or GIS file",
                )
            ],
        )
    if raw is None:
        return Loaded(None, problems)

    hint = coordinate_system_hint(path.name, *names)
    if hint and hint[0] != coords and hint[0] != "wgs84":
        problems.append(
            Problem.error(
                src,
                f"'{hint[1]}' suggests {hint[0]} coordinates but they are read as {coords}",
                column=hint[1] if hint[1] != path.name else None,
                hint=f"pass coords='{hint[0]}' (--coords {hint[0]}) "
                "if the data really are in that system",
            )
        )
    checked = check_frame(
        raw,
        layer,
        geometry=geometry,
        source=src,
        coords=coords,
        row_label=label,
        degrees_checked=path.suffix.lower() in TABLE_SUFFIXES,
        reference=reference,
        empty_ok=is_osm_file(path),
    )
    said = any(p.message.startswith("no geometry") for p in problems)  # by the reader
    gdf = checked.frame
    problems += [p for p in checked.problems if not (said and p.message.startswith("no geometry"))]
    if gdf is not None and folder is not None:
        kinds = raw["kind"] if "kind" in raw.columns else pd.Series([], dtype=str)
        if len(kinds) == len(gdf):
            keep, notes = folder_rows(folder, layer, kinds.reset_index(drop=True))
            gdf, problems = gdf[keep], problems + notes
    return Loaded(gdf, problems)


def check_frame(
    raw: pd.DataFrame,
    layer: str,
    *,
    geometry: gpd.GeoSeries | None = None,
    source: str = "<frame>",
    coords: str = "wgs84",
    row_label: Any = None,
    degrees_checked: bool = False,
    reference: gpd.GeoSeries | None = None,
    empty_ok: bool = False,
) -> Loaded:
    """Check records already read (a file's, or a GeoDataFrame of one's own) as
    :func:`check_file` does: canonical columns from Chinese or English headers, values,
    geometries, coordinates; never raises for bad content.

    Parameters
    ----------
    raw
        The records; their geometry in ``geometry`` or in their own geometry column.
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    geometry
        The records' geometry with its CRS (default ``raw.geometry``).
    source
        What messages call it (a file, ``compounds (argument)``).
    coords
        ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"bd09mc"``: converted to WGS84.
    row_label
        ``row_label(position)``: how messages name a record (default ``row N``, 0-based).
    degrees_checked
        The coordinates were checked per column already (tables).
    reference
        Geometries known to be WGS84, to detect GCJ-02/BD-09 offsets.
    empty_ok
        No records is not an error (an OSM extract may hold none of a kind).

    Returns
    -------
    Loaded
        The canonical frame (None when it cannot be made) with ``source_file`` and
        ``source_row``, and every problem found.
    """
    src, label = source, row_label or (lambda pos: f"row {pos}")
    problems: list[Problem] = []
    if geometry is None:
        geometry = raw.geometry if isinstance(raw, gpd.GeoDataFrame) else None
    attributes = raw.drop(columns="geometry", errors="ignore")
    if attributes.columns.duplicated().any():  # a frame built in code; files are made unique
        names, notes = unique_headers(
            list(attributes.columns), [str(i + 1) for i in range(attributes.shape[1])]
        )
        attributes = attributes.set_axis(names, axis=1)
        problems += [
            Problem.warning(src, note, hint="give each column a name of its own") for note in notes
        ]
    frame, found = conform(attributes, layer, source=src, row_label=label)
    problems += found
    if geometry is None:
        problems.append(
            Problem.error(
                src,
                "no geometry: no 经度/纬度 (lon/lat), location or WKT column",
                hint="add columns 经度 and 纬度 with WGS84 degrees",
            )
        )
        return Loaded(None, problems)
    if geometry.crs is None:
        problems.append(
            Problem.error(
                src,
                "the file has no coordinate reference system (CRS); distances cannot be measured",
                hint="save it with its CRS (a shapefile needs its .prj file), or "
                "set it in QGIS: Layer ▸ Set CRS",
            )
        )
    elif not degrees_checked and coords != "bd09mc":
        # tables were checked per column already
        problems += check_degrees(geometry, source=src, row_label=label)
    geometry, found = check_geometries(geometry, layer, source=src, row_label=label)
    problems += found
    gdf = gpd.GeoDataFrame(frame, geometry=geometry.values, crs=geometry.crs)
    # where each record came from, for messages of later stages (money, matching)
    gdf["source_file"] = src
    gdf["source_row"] = [str(label(pos)) for pos in range(len(gdf))]
    if coords == "bd09mc" and len(gdf) and np.nanmax(np.abs(gdf.total_bounds)) <= 180:
        problems.append(
            Problem.error(
                src,
                "coords bd09mc means Baidu Mercator metres (about 12,900,000, 4,800,000), "
                "but these coordinates are degrees",
                column="geometry",
                hint="use --coords bd09 for Baidu longitude/latitude",
            )
        )
    elif coords != "wgs84" and gdf.crs is not None and not CRS(gdf.crs).is_geographic:
        problems.append(
            Problem.error(
                src,
                f"--coords {coords} applies to longitude/latitude tables, but this file's "
                f"CRS is {CRS(gdf.crs).to_string()} (projected)",
                column="geometry",
                hint="leave --coords out for this file: its CRS already says where it is",
            )
        )
    elif coords != "wgs84" and gdf.crs is not None and _degrees_ok(problems):
        gdf = _convert_coords(gdf, coords)
    if (
        gdf.crs is not None
        and _degrees_ok(problems)
        and not any(p.severity == "error" and p.column == "geometry" for p in problems)
    ):
        problems += check_location(gdf.geometry, source=src, row_label=label)
    if len(gdf) == 0 and not empty_ok:
        problems.append(
            Problem.error(
                src,
                "no records: the file or layer is empty",
                hint="check that it is the right file, sheet or layer",
            )
        )
    if reference is not None and gdf.crs is not None and _degrees_ok(problems):
        offset = check_offset(gdf.geometry.to_crs(reference.crs), reference, source=src)
        if offset is not None and coords == "wgs84":
            problems.append(offset)
    return Loaded(gdf, problems)


def _degrees_ok(problems: list[Problem]) -> bool:
    return not any(
        (p.column == "geometry" and "degrees" in p.message) or "swapped" in p.message
        for p in problems
    )


def _convert_coords(gdf: gpd.GeoDataFrame, coords: str) -> gpd.GeoDataFrame:
    """Return a copy with lon/lat converted from ``coords`` (GCJ-02 or BD-09) to WGS84."""
    if not CRS.from_user_input(gdf.crs).is_geographic:
        raise ValueError(f"coords={coords!r} applies to lon/lat data, not to CRS {gdf.crs}")

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], coords))  # type: ignore[arg-type]

    out = gdf.copy()
    out.geometry = shapely.transform(gdf.geometry.values, convert)
    return out.set_crs("EPSG:4326", allow_override=True)


def load_layers(
    specs: Sequence[LoadSpec], *, reference: gpd.GeoSeries | None = None, to_crs: Any = None
) -> dict[str, gpd.GeoDataFrame]:
    """Load several files, report all their problems at once, and project them.

    :func:`check_layers`, with its warnings emitted once as
    :class:`~spatial._errors.InputWarning`.

    Parameters
    ----------
    specs
        The files.
    reference
        WGS84 geometries used to detect GCJ-02/BD-09 offsets.
    to_crs
        Target metric CRS; default the local UTM zone of the first layer.

    Returns
    -------
    dict
        ``{layer kind: GeoDataFrame}`` in one metric CRS (metres).
    """
    layers, warned = check_layers(specs, reference=reference, to_crs=to_crs)
    if warned:
        warnings.warn(InputWarning(format_problems(warned), warned), stacklevel=2)
    return layers


def check_layers(
    specs: Sequence[LoadSpec], *, reference: gpd.GeoSeries | None = None, to_crs: Any = None
) -> tuple[dict[str, gpd.GeoDataFrame], list[Problem]]:
    """Load several files, report all their problems at once, and project them.

    Files of the same layer kind are concatenated. Raises
    :class:`~spatial._errors.InputError` if any file has an error; the warnings are
    returned (each once), for a run to keep in ``problems.csv``.

    Parameters
    ----------
    specs
        The files.
    reference
        WGS84 geometries used to detect GCJ-02/BD-09 offsets.
    to_crs
        Target metric CRS; default the local UTM zone of the first layer.

    Returns
    -------
    layers, warnings
        ``{layer kind: GeoDataFrame}`` in one metric CRS (metres), and the warnings.
    """
    loaded = [
        (
            spec,
            check_file(
                spec.path,
                spec.layer,
                crs=spec.crs,
                coords=spec.coords,
                sheet=spec.sheet,
                source_layer=spec.source_layer,
                keep_cut=spec.keep_cut,
                reference=reference,
            ),
        )
        for spec in specs
    ]
    # a file read for two layers (compounds and parcels of one OSM file) reports once
    problems = list(dict.fromkeys(p for _, item in loaded for p in item.problems))
    problems += [
        Problem.error(
            str(spec.path),
            f"no {spec.layer} in the file",
            hint="check that it is the right file or layer (an OSM extract may hold none: "
            "leave the option out or use a larger extract)",
        )
        for spec, item in loaded
        if item.frame is not None and len(item.frame) == 0
    ]
    if not specs:
        problems.append(
            Problem.error("<inputs>", "no input files given", hint="name at least one file")
        )
    raise_for_errors(problems)
    warned = [p for p in problems if p.severity == "warning"]
    frames: dict[str, list[gpd.GeoDataFrame]] = {}
    for spec, item in loaded:
        assert item.frame is not None
        frames.setdefault(spec.layer, []).append(item.frame)
    first = next(iter(frames.values()))[0]
    target = CRS.from_user_input(to_crs) if to_crs is not None else local_metric_crs(first)
    out = {}
    for kind, parts in frames.items():
        projected = [part.to_crs(target) for part in parts]
        out[kind] = (
            gpd.GeoDataFrame(pd.concat(projected, ignore_index=True), crs=target)
            if len(projected) > 1
            else projected[0]
        )
        out[kind].attrs[PREPARED_ATTR] = kind
    return out, warned


def load_layer(path: str | Path, layer: str, **options: Any) -> gpd.GeoDataFrame:
    """Load one file into a metric GeoDataFrame.

    Parameters
    ----------
    path
        The file.
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    **options
        ``crs``, ``coords``, ``sheet``, ``source_layer``, ``reference`` as in
        :func:`check_file`.

    Returns
    -------
    GeoDataFrame
        Canonical columns, local UTM CRS (metres).

    Raises
    ------
    InputError
        With every problem if any is an error.
    """
    to_crs = options.pop("to_crs", None)
    reference = options.pop("reference", None)
    spec = LoadSpec(path, layer, **options)
    return load_layers([spec], reference=reference, to_crs=to_crs)[layer]
