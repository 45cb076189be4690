"""The map book: one gap map (and bundle map) per subdistrict or community, an index page.

``spatial map --by subdistrict`` writes, in a folder named after ``--out``:
``index.html`` (an overview map of the units, each linking to its map, and a table of
units with their figures) and ``<unit>.html`` per unit (``<unit>_bundles.html`` with
``--bundles``). Each unit map holds its compounds, the facilities and service areas
within the largest walking radius of them, and its own streets, so it keeps the detail
(footpaths) a whole-city map leaves out.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.io.crs.projection import to_metric
from spatial.io.outputs.results import BundleTables, GapTables
from spatial.io.outputs.write import one_chunk
from spatial.render.bundlemap import bundle_map
from spatial.render.context import add_context, credit_osm
from spatial.render.gapmap import gap_map
from spatial.render.layer import Layer
from spatial.render.offline import Basemap, save_map
from spatial.render.outlines import OutlineTiles, generalise_outlines, iter_service_areas
from spatial.render.page import MapPage, column_values

__all__ = ["UNIT_LEVELS", "UNSPECIFIED", "map_book", "unit_names"]

UNIT_LEVELS = {"subdistrict": "街道 Subdistrict", "community": "社区 Community"}
UNSPECIFIED = "未注明 unspecified"
Level = Literal["subdistrict", "community"]


def unit_names(compounds: pd.DataFrame, by: Level) -> pd.Series:
    """The unit of each compound.

    Parameters
    ----------
    compounds
        Compounds with the ``by`` column (or without: all are unspecified).
    by
        ``subdistrict`` or ``community``.

    Returns
    -------
    Series
        Indexed like ``compounds``; ``UNSPECIFIED`` where the cell is empty.
    """
    if by not in compounds:
        return pd.Series(UNSPECIFIED, index=compounds.index)
    names = compounds[by].astype(object).where(compounds[by].notna(), None)
    return names.map(lambda v: str(v).strip() if v is not None and str(v).strip() else UNSPECIFIED)


def _file_stem(name: str, used: set[str]) -> str:
    """A file name for a unit: its own characters where safe, unique in the book."""
    stem = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", name).strip("_") or "unit"
    base, k = stem, 2
    while stem.lower() in used:
        stem, k = f"{base}_{k}", k + 1
    used.add(stem.lower())
    return stem


def _sorted_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    return order, keys[order]


def _rows_of(order: np.ndarray, sorted_keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Positions (ascending) of the rows whose key is one of ``wanted``."""
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    hi = np.searchsorted(sorted_keys, wanted, side="right")
    if not len(lo) or not (hi > lo).any():
        return np.zeros(0, dtype=np.int64)
    idx = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a])
    return np.sort(order[idx])


class _Slicer:
    """A unit's share of a city-wide gaps run, from indexes built once per book (a city
    has thousands of units: never a pass over every gap row, POI or outline per unit)."""

    def __init__(self, tables: GapTables, areas: OutlineTiles | None) -> None:
        self.tables = replace(
            tables,
            compounds=one_chunk(tables.compounds),
            gaps=one_chunk(tables.gaps),
            pois=None if tables.pois is None else one_chunk(tables.pois),
        )
        self.gap_rows = _sorted_rows(tables.gaps["compound_id"].astype(str).to_numpy())
        self.pois = self._wgs(self.tables.pois)
        self.poi_tree = None if self.pois is None else shapely.STRtree(self.pois.geometry.values)
        self.areas = areas

    @staticmethod
    def _wgs(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        if frame is None:
            return None
        return frame.to_crs(4326) if frame.crs and frame.crs.to_epsg() != 4326 else frame

    def unit(self, positions: np.ndarray, reach_m: float) -> GapTables:
        """The unit's compounds and gaps; facilities and service areas near them."""
        comp = self.tables.compounds.iloc[positions]
        ids = np.unique(comp["id"].astype(str).to_numpy())
        gaps = self.tables.gaps.iloc[_rows_of(*self.gap_rows, ids)]
        metric = to_metric(comp)
        area = gpd.GeoSeries([shapely.box(*metric.total_bounds).buffer(reach_m)], crs=metric.crs)
        bounds = tuple(area.to_crs(4326).total_bounds)
        pois = None
        if self.pois is not None and self.poi_tree is not None:
            hit = self.poi_tree.query(shapely.box(*bounds), predicate="intersects")
            pois = self.pois.iloc[np.sort(hit)]
        areas = None if self.areas is None else self.areas.cut(bounds)
        return replace(self.tables, compounds=comp, gaps=gaps, pois=pois, service_areas=areas)


def _unit_bundles(bundles: BundleTables, ids: set[str]) -> BundleTables | None:
    if not ids:
        return None
    members = bundles.members
    keep = bundles.bundles["bundle_id"].astype(str).isin(ids)
    pairs = bundles.pairs[bundles.pairs["deficit_bundle"].astype(str).isin(ids)]
    sources = bundles.sources
    if sources is not None:
        sources = sources[sources["id"].astype(str).isin(set(pairs["surplus_id"].astype(str)))]
    return replace(
        bundles,
        bundles=bundles.bundles[keep],
        members=members[members["bundle_id"].astype(str).isin(ids)],
        pairs=pairs,
        sources=sources,
    )


def map_book(
    tables: GapTables,
    out_dir: str | Path,
    *,
    by: Level = "subdistrict",
    bundles: BundleTables | None = None,
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    title: str = "15分钟生活圈设施缺口 15-minute life-circle gaps",
    osm_data: bool = True,
    data_date: str | None = None,
    service_areas: str | Path | None = None,
) -> list[Path]:
    """Write one map per unit and the index page.

    Parameters
    ----------
    tables
        A gaps run (:func:`spatial.io.outputs.results.load_gap_tables`), with its context.
    out_dir
        Folder of the book (created; files in it are replaced one by one, atomically).
    by
        ``subdistrict`` (街道) or ``community`` (社区).
    bundles
        A bundles run: also ``<unit>_bundles.html`` for units that have bundles.
    basemap, tianditu_key, osm_data, data_date
        As for :func:`spatial.render.gap_map`.
    title
        Title of the maps; each unit map is titled ``<unit> · <title>``.
    service_areas
        A ``service_areas.gpkg`` read one category at a time instead of
        ``tables.service_areas``; either is cut once into small tiles
        (:class:`~spatial.render.outlines.OutlineTiles`), so a page cuts only its own.

    Returns
    -------
    list of Path
        The index first, then every unit map.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    units = unit_names(tables.compounds, by)
    cats = tables.categories or ()
    reach_m = max((c.radius_m for c in cats), default=1000.0)
    written: list[Path] = []
    rows = []
    used: set[str] = {"index"}
    tiles = None
    if service_areas is not None:
        tiles = OutlineTiles(iter_service_areas(service_areas))
    elif tables.service_areas is not None:
        tiles = OutlineTiles([generalise_outlines(tables.service_areas)])
    if tiles is not None and not len(tiles):  # a layer without outlines: pages without
        tiles = None
    slicer = _Slicer(replace(tables, service_areas=None), tiles)
    where: dict[str, np.ndarray] = {
        str(k): np.asarray(v)
        for k, v in units.reset_index(drop=True)
        .groupby(units.to_numpy(), sort=False)
        .indices.items()
    }
    bundle_ids: dict[str, set[str]] = {}
    if bundles is not None:
        member_units = unit_names(bundles.members, by).to_numpy()
        for name, ids in zip(member_units, bundles.members["bundle_id"].astype(str), strict=True):
            bundle_ids.setdefault(name, set()).add(ids)
    for unit in sorted(where, key=lambda u: (u == UNSPECIFIED, u)):
        stem = _file_stem(unit, used)
        sub = slicer.unit(where[unit], reach_m)
        page = gap_map(
            sub,
            basemap=basemap,
            tianditu_key=tianditu_key,
            title=f"{unit} · {title}",
            osm_data=osm_data,
            data_date=data_date,
        )
        written.append(save_map(page, out / f"{stem}.html"))
        bundle_file = None
        if bundles is not None:
            part = _unit_bundles(bundles, bundle_ids.get(unit, set()))
            if part is not None:
                bpage = bundle_map(
                    part,
                    basemap=basemap,
                    tianditu_key=tianditu_key,
                    title=f"{unit} · 片区统筹平衡 Renovation bundles",
                    osm_data=osm_data,
                    context=tables.context,
                    data_date=data_date,
                )
                bundle_file = save_map(bpage, out / f"{stem}_bundles.html")
                written.append(bundle_file)
        comp = sub.compounds
        missing = pd.to_numeric(comp["n_missing"], errors="coerce").fillna(0)
        households = pd.to_numeric(comp.get("households", pd.Series(dtype=float)), errors="coerce")
        rows.append(
            {
                "unit": unit,
                "href": quote(f"{stem}.html"),
                "bundles_href": quote(bundle_file.name) if bundle_file else None,
                "compounds": len(comp),
                "households": int(households.sum()) if households.notna().any() else None,
                "missing_any": float((missing > 0).mean()) if len(comp) else 0.0,
                "mean_missing": float(missing.mean()) if len(comp) else 0.0,
                "geometry": shapely.convex_hull(
                    shapely.union_all(comp.to_crs(4326).geometry.values)
                ),
            }
        )
    index = _index_page(
        gpd.GeoDataFrame(rows, crs="EPSG:4326"),
        tables,
        by=by,
        title=title,
        basemap=basemap,
        tianditu_key=tianditu_key,
        osm_data=osm_data,
        data_date=data_date,
    )
    return [save_map(index, out / "index.html"), *written]


def _index_page(
    units: gpd.GeoDataFrame,
    tables: GapTables,
    *,
    by: Level,
    title: str,
    basemap: Basemap,
    tianditu_key: str | None,
    osm_data: bool,
    data_date: str | None,
) -> MapPage:
    """The overview map of the units, linking to their maps, with the table of units."""
    bounds = tuple(units.total_bounds)
    page = MapPage(
        bounds,
        title=f"图册索引 Map book · {title}",
        basemap=basemap,  # type: ignore[arg-type]
        tianditu_key=tianditu_key,
        data_date=data_date,
    )
    context = tables.context
    credit_osm(page, osm_data=osm_data, context=context)
    add_context(page, context, bounds=bounds)  # type: ignore[arg-type]
    page.group("units", UNIT_LEVELS[by], expanded=True)
    share = [f"{v:.0%}" for v in units["missing_any"]]
    page.add(
        units,
        Layer(
            id="units",
            name=UNIT_LEVELS[by],
            group="units",
            style={"fill": "#fdae61", "fillOpacity": 0.35, "stroke": "#b35806", "weight": 2},
            popup="fields",
            title_col="unit",
            link_col="href",
            fields=[
                ("小区 Compounds", "compounds"),
                ("户数 Households", "households"),
                ("有缺口的小区 With gaps", "share"),
            ],
            label={
                "col": "unit",
                "minZoom": 0,
                "font": "bold 12px sans-serif",
                "colour": "#5a2d00",
            },
            simplify_m=5,
        ),
        cols={
            "unit": column_values(units["unit"]),
            "href": column_values(units["href"]),
            "compounds": column_values(units["compounds"]),
            "households": column_values(units["households"]),
            "share": share,
        },
    )
    page.config["index"] = {
        "title": f"图幅索引 Index ({len(units)})",
        "headers": [
            UNIT_LEVELS[by],
            "小区 Compounds",
            "户数 Households",
            "有缺口 With gaps",
            "片区图 Bundles",
        ],
        "rows": [
            [
                r.unit,
                r.href,
                f"{r.compounds:,}",
                "—" if r.households is None or pd.isna(r.households) else f"{int(r.households):,}",
                s,
                "✓" if r.bundles_href else "—",
            ]
            for r, s in zip(units.itertuples(), share, strict=True)
        ],
    }
    page.legend(UNIT_LEVELS[by], [("#fdae61", "点击单元打开地图 click a unit to open its map")])
    return page
