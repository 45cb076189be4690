"""What a file holds — compounds, POIs, parcels or a road network — from its layer names,
geometry and columns, so that ``spatial validate pois.gpkg`` checks POIs as POIs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from spatial.io.osm.read import is_osm_file
from spatial.io.outputs.runfolder import folder_kinds
from spatial.io.survey.schema import LAYERS, PARCEL_KINDS, map_columns
from spatial.io.survey.tables import is_table_file, read_table
from spatial.io.survey.values import normalize_header

__all__ = ["KINDS", "barrier_layer", "guess_kinds", "guess_table_kind", "named_kind"]

#: Every kind of input: the three record layers and the walk network.
KINDS: tuple[str, ...] = (*LAYERS, "network")

_LAYER_NAMES: dict[str, re.Pattern[str]] = {
    "compounds": re.compile(r"compound|residential|小区|住宅|社区", re.IGNORECASE),
    "pois": re.compile(r"poi|facilit|amenit|设施|兴趣点|网点|站点", re.IGNORECASE),
    "parcels": re.compile(r"parcel|plot|地块|宗地|用地|棚户|城中村|厂区", re.IGNORECASE),
    "network": re.compile(r"road|street|network|highway|道路|路网|中心线", re.IGNORECASE),
    # administrative areas: context, not a kind this toolkit loads
    "boundaries": re.compile(r"district|boundar|admin|街道|行政区|区划|边界|乡镇", re.IGNORECASE),
    # what `spatial osm` writes beside the records: barriers for bundles, gates for access
    "barriers": re.compile(r"barrier|屏障|障碍", re.IGNORECASE),
    "entrances": re.compile(r"entrance|gate|出入口|大门", re.IGNORECASE),
}
#: Fields only a compound survey has (POIs and parcel lists rarely do).
_SURVEY_FIELDS = frozenset(
    {"build_year", "households", "buildings", "floors", "elevator", "heating", "willingness"}
)
_POINT_COLUMNS = frozenset(
    normalize_header(c)
    for c in ("经度", "纬度", "lon", "lng", "lat", "longitude", "latitude", "location", "经纬度")
)


def named_kind(name: str) -> str | None:
    """The kind a layer's name says (``compounds``, 小区, 道路 …), if it says exactly one.

    Parameters
    ----------
    name
        A layer name.

    Returns
    -------
    str or None
        One of :data:`KINDS`, ``"boundaries"`` (administrative areas), ``"barriers"``
        or ``"entrances"`` (beside the records in ``spatial osm``'s GeoPackage) — never
        loaded as records — or None.
    """
    said = [kind for kind, pattern in _LAYER_NAMES.items() if pattern.search(name)]
    exact = [k for k in KINDS if name.lower() == k]
    return exact[0] if exact else (said[0] if len(said) == 1 else None)


def _kind_share(values: pd.Series) -> float:
    """Share of non-empty values that name a parcel kind (棚户区, 旧厂区, old_factory …)."""
    names = {
        normalize_header(alias)
        for kind, (zh, en, more) in PARCEL_KINDS.items()
        for alias in (kind, zh, en, *more)
    }
    text = values.dropna().astype(str).map(normalize_header)
    text = text[text != ""]
    return float(text.isin(names).mean()) if len(text) else 0.0


def guess_table_kind(frame: pd.DataFrame, *, points: bool | None = None) -> str:
    """Guess what a table's records are from its columns (and values of its kind column).

    Parameters
    ----------
    frame
        The table (headers in Chinese or English).
    points
        Whether its geometry is points (lon/lat) rather than polygons; default: from
        the headers (lon/lat or location columns and no WKT column).

    Returns
    -------
    str
        ``parcels`` when a kind column holds parcel kinds (棚户区, 旧厂区 …) for most
        rows; ``pois`` with a category or type-code column, or points without survey
        columns; else ``compounds``.
    """
    columns = list(frame.columns)
    if points is None:
        points = any(normalize_header(c) in _POINT_COLUMNS for c in columns)
    parcel_map, _ = map_columns(columns, "parcels")
    kind_col = next((c for c, f in parcel_map.items() if f == "kind"), None)
    if kind_col is not None and _kind_share(frame[kind_col]) >= 0.5:
        return "parcels"
    poi_fields = set(map_columns(columns, "pois")[0].values())
    survey = set(map_columns(columns, "compounds")[0].values()) & _SURVEY_FIELDS
    if {"category", "typecode"} & poi_fields and not survey:
        return "pois"
    if points and not survey:
        return "pois"
    return "compounds"


def _gis_layer_kind(path: Path, layer: str, geometry_type: str) -> str:
    import pyogrio

    named = named_kind(layer)
    if named is not None:
        return named
    geometry_type = geometry_type.lower()
    if "line" in geometry_type:
        return "network"
    if "point" in geometry_type:
        return "pois"
    fields = [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    parcel_map, _ = map_columns(fields, "parcels")
    kind_col = next((c for c, f in parcel_map.items() if f == "kind"), None)
    if kind_col is not None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
            values = pyogrio.read_dataframe(
                path, layer=layer, columns=[str(kind_col)], read_geometry=False, max_features=500
            )
        if _kind_share(values[str(kind_col)]) >= 0.5:
            return "parcels"
    return "compounds"


def guess_kinds(path: str | Path, *, layer: str | None = None) -> list[tuple[str, str | None]]:
    """Guess what a file holds: the kinds to load from it and the layers they are in.

    Parameters
    ----------
    path
        An OSM, table or GIS file, or another command's output folder.
    layer
        Only this layer of a multi-layer GIS file.

    Returns
    -------
    list of (kind, source layer)
        ``kind`` is ``compounds``, ``pois``, ``parcels`` or ``network``. An OSM file holds
        every kind. A table is classed by :func:`guess_table_kind`. Each layer of a GIS
        file is the kind its name says (小区, 设施/POI, 地块, 道路 …), else lines are a
        network, points POIs, polygons parcels when a kind column holds parcel kinds,
        else compounds.
    """
    import pyogrio

    path = Path(path)
    if path.is_dir():  # another command's output folder: what it holds
        return [(k, None) for k in folder_kinds(path)]
    if is_osm_file(path):
        return [(k, None) for k in KINDS]
    if is_table_file(path):
        return [(guess_table_kind(read_table(path)), None)]
    listed = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    if layer is not None:
        listed = [(n, t) for n, t in listed if n == layer] or [(layer, "")]
    return [(_gis_layer_kind(path, name, gtype), name) for name, gtype in listed]


def barrier_layer(path: str | Path) -> str | None:
    """The layer of a GIS file its name calls barriers (``spatial osm`` writes one).

    Parameters
    ----------
    path
        Any input file; OSM files and tables have no such layer.

    Returns
    -------
    str or None
        The first such layer's name, or None (also for a file that cannot be listed:
        the loaders say what is wrong with it).
    """
    import pyogrio

    path = Path(path)
    if is_osm_file(path) or is_table_file(path) or not path.exists():
        return None
    try:
        listed = [str(n) for n, _ in pyogrio.list_layers(path)]
    except (OSError, pyogrio.errors.DataSourceError):
        return None
    return next((n for n in listed if named_kind(n) == "barriers"), None)
