"""The output folders of ``spatial gaps``, ``bundles`` and ``plan``: written and read here.

One module owns the folder contract (docs/architecture.md, "File contracts"), so that a writer
and every reader agree on it:

- gaps: ``gaps.csv`` (one row per compound × category), ``compounds.gpkg`` (layers
  ``compounds`` — inputs plus ``n_missing``, ``missing``, ``gap_score`` — and ``pois``
  with their categories), ``summary.csv`` (coverage per category),
  ``service_areas.gpkg`` (reachable street parts per category, buffered),
  ``problems.csv`` and ``categories.toml`` (the taxonomy of the run, so that ``plan``
  and ``map`` use the same categories and radii);
- bundles: ``bundles.gpkg`` (layers ``bundles``, ``members``), ``bundles.csv``,
  ``pairs.csv``, ``packages.csv``, ``excluded.csv``;
- plan: ``plan.xlsx`` and ``plan.gpkg`` (layers ``eligibility``, ``sites``).

Every file is written atomically; geometry is exported in WGS84.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd

from spatial._errors import InputError, Problem
from spatial.io.crs.projection import WGS84, to_wgs84
from spatial.io.outputs.write import (
    read_gpkg,
    read_own_csv,
    write_csv,
    write_gpkg,
    write_text,
    write_xlsx,
)
from spatial.standards import Category, dump_categories, load_categories

__all__ = [
    "GAPS_COLUMNS",
    "BundleTables",
    "GapTables",
    "check_bundles_folder",
    "load_assessment",
    "load_bundle_tables",
    "load_gap_tables",
    "pairs_lonlat",
    "read_plan_layers",
    "write_bundle_outputs",
    "write_gap_outputs",
    "write_gap_tables",
    "write_plan_outputs",
]

#: Column order of ``gaps.csv`` (the file contract).
GAPS_COLUMNS = (
    "compound_id",
    "compound_name",
    "category",
    "level",
    "radius_m",
    "distance_m",
    "walk_min",
    "covered",
    "status",
)
_PROBLEM_COLUMNS = ["severity", "file", "row", "column", "message", "hint"]


class _GapResultLike(Protocol):
    gaps: pd.DataFrame
    compounds: gpd.GeoDataFrame
    summary: pd.DataFrame
    pois: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame | None
    problems: list[Problem]
    categories: tuple[Category, ...]


class _BundleResultLike(Protocol):
    bundles: gpd.GeoDataFrame
    members: gpd.GeoDataFrame
    pairs: pd.DataFrame
    packages: pd.DataFrame
    excluded: pd.DataFrame
    funding: pd.DataFrame | None


@dataclass
class GapTables:
    """A gaps output folder read back (what maps, plans and bundles need).

    Attributes
    ----------
    compounds
        Layer ``compounds`` of ``compounds.gpkg`` (WGS84).
    gaps
        ``gaps.csv``.
    pois
        Layer ``pois`` of ``compounds.gpkg``, or None in an older folder.
    service_areas
        ``service_areas.gpkg``, or None when not written or not asked for.
    plan_layers
        ``plan.gpkg`` of ``spatial plan`` written into the same folder, or None.
    categories
        The run's taxonomy from ``categories.toml`` (the shipped one for an older folder).
    context
        ``context.gpkg``: streets, water, railways and names drawn under the maps, or None.
    capacity
        ``capacity.csv`` of ``spatial gaps --capacity`` (places per person, shortfall,
        ``covered_over_capacity``), or None.
    communities
        ``units.csv``, ``community_check.csv`` and ``per_thousand.csv`` (or None) of
        ``spatial assess``, or None.
    service_area_file
        ``service_areas.gpkg`` when its outlines are not in ``service_areas`` (a city's
        are gigabytes): maps read it a category at a time.
    """

    compounds: gpd.GeoDataFrame
    gaps: pd.DataFrame
    pois: gpd.GeoDataFrame | None
    service_areas: gpd.GeoDataFrame | None
    plan_layers: Path | None = None
    categories: tuple[Category, ...] | None = None
    context: gpd.GeoDataFrame | None = None
    capacity: pd.DataFrame | None = None
    communities: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None] | None = None
    service_area_file: Path | None = None


@dataclass
class BundleTables:
    """A bundles output folder read back.

    Attributes
    ----------
    bundles, members
        Layers of ``bundles.gpkg`` (WGS84).
    pairs
        ``pairs.csv``: cross-area combinations with both ends in lon/lat.
    sources
        Layer ``sources``: the free parcels the pairs draw money from, or None.
    context
        ``context.gpkg`` beside the gaps (or given): what the maps draw under the data.
    """

    bundles: gpd.GeoDataFrame
    members: gpd.GeoDataFrame
    pairs: pd.DataFrame
    sources: gpd.GeoDataFrame | None = None
    context: gpd.GeoDataFrame | None = None


def _problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    return pd.DataFrame([vars(p) for p in problems], columns=_PROBLEM_COLUMNS)


def write_gap_tables(result: _GapResultLike, out_dir: str | Path) -> dict[str, Path]:
    """Write the gap tables into ``out_dir``: ``gaps.csv``, ``summary.csv``,
    ``compounds.gpkg`` and, when computed, ``capacity.csv`` and ``capacity_pairs.csv``
    (what a run can write while its service areas are still traced).

    Parameters
    ----------
    result
        A :class:`spatial.lifecircle.GapResult` (any metric CRS; exported in WGS84).
    out_dir
        Folder (created if missing).

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    out = Path(out_dir)
    extra = [c for c in ("access", "reachable_count") if c in result.gaps]
    paths = {
        "gaps": write_csv(result.gaps.loc[:, [*GAPS_COLUMNS, *extra]], out / "gaps.csv"),
        "summary": write_csv(result.summary, out / "summary.csv"),
    }
    comp = to_wgs84(result.compounds)
    pois = to_wgs84(result.pois)
    paths["compounds"] = write_gpkg({"compounds": comp, "pois": pois}, out / "compounds.gpkg")
    capacity = getattr(result, "capacity", None)
    if capacity is not None:
        paths["capacity"] = write_csv(capacity, out / "capacity.csv")
        pairs = getattr(result, "capacity_pairs", None)
        if pairs is not None:
            paths["capacity_pairs"] = write_csv(pairs, out / "capacity_pairs.csv")
    return paths


def write_gap_outputs(
    result: _GapResultLike, out_dir: str | Path, *, tables: bool = True
) -> dict[str, Path]:
    """Write all gap outputs into ``out_dir``.

    Parameters
    ----------
    result
        A :class:`spatial.lifecircle.GapResult` (any metric CRS; exported in WGS84).
    out_dir
        Folder (created if missing).
    tables
        Also the tables (:func:`write_gap_tables`); False when written already.

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    out = Path(out_dir)
    paths = write_gap_tables(result, out) if tables else {}
    if result.service_areas is not None and len(result.service_areas):
        # the outlines (the street parts themselves stay in the result)
        areas = result.service_areas.drop(columns=["streets"], errors="ignore")
        paths["service_areas"] = write_gpkg(  # in pieces: a city's are gigabytes
            {"service_areas": areas}, out / "service_areas.gpkg", crs=WGS84
        )
    paths["problems"] = write_csv(_problems_frame(result.problems), out / "problems.csv")
    if result.categories:
        paths["categories"] = write_text(
            dump_categories(result.categories), out / "categories.toml"
        )
    return paths


def _require(folder: Path, files: Sequence[str], command: str) -> None:
    """Raise InputError unless ``folder`` is an output folder of ``command``."""
    if not folder.is_dir():
        what = "the folder is a file" if folder.exists() else "the folder does not exist"
        message = f"{what}: an output folder of `spatial {command}` is needed"
    else:
        missing = [f for f in files if not (folder / f).is_file()]
        if not missing:
            return
        message = f"no {', '.join(missing)} here: not an output folder of `spatial {command}`"
    hint = f"run `spatial {command} … --out {folder}` first, or name its folder"
    raise InputError([Problem.error(str(folder), message, hint=hint)])


def load_gap_tables(folder: str | Path, *, service_areas: bool = True) -> GapTables:
    """Read a ``spatial gaps`` output folder.

    Parameters
    ----------
    folder
        The folder ``spatial gaps --out`` wrote.
    service_areas
        Also read ``service_areas.gpkg`` (the largest file; maps need it, plans do not);
        when not, the tables name it (``service_area_file``).

    Returns
    -------
    GapTables
        The folder's tables, in WGS84, with the run's categories.

    Raises
    ------
    InputError
        When the folder is missing or is not a gaps output folder.
    """
    folder = Path(folder)
    _require(folder, ("compounds.gpkg", "gaps.csv"), "gaps")
    comp = read_gpkg(folder / "compounds.gpkg", "compounds")
    try:
        pois = read_gpkg(folder / "compounds.gpkg", "pois")
    except Exception:  # an older output without the layer: the map goes without facilities
        pois = None
    areas = folder / "service_areas.gpkg"
    sa = read_gpkg(areas) if service_areas and areas.exists() else None
    numbers = {c: float for c in ("radius_m", "distance_m", "walk_min")}
    gaps = read_own_csv(
        folder / "gaps.csv", dtype={"compound_id": str, "compound_name": str, **numbers}
    )
    if "status" not in gaps:  # a folder from before statuses: tell what the columns can
        far = gaps["distance_m"].notna()
        gaps["status"] = [
            "covered" if c else "too_far" if f else "beyond_limit"
            for c, f in zip(gaps["covered"], far, strict=True)
        ]
    cats_file = folder / "categories.toml"
    cats = load_categories(cats_file if cats_file.exists() else None)
    context = None
    if (folder / "context.gpkg").exists():
        from spatial.io.context.store import load_context

        context = load_context(folder / "context.gpkg")
    capacity = None
    if (folder / "capacity.csv").exists():
        capacity = read_own_csv(folder / "capacity.csv", dtype={"compound_id": str})
    tables = GapTables(comp, gaps, pois, sa, read_plan_layers(folder), cats, context, capacity)
    if sa is None and areas.exists():
        tables.service_area_file = areas
    return tables


def load_assessment(
    folder: str | Path,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """``units.csv``, ``community_check.csv`` and ``per_thousand.csv`` of a ``spatial
    assess`` folder.

    Parameters
    ----------
    folder
        The folder.

    Returns
    -------
    units, check, per_thousand
        The unit of each compound, each unit's items, and its 千人指标 per level (None
        in a folder of a run without POIs or of an older version).

    Raises
    ------
    InputError
        When the folder is missing or is not an assess output folder.
    """
    folder = Path(folder)
    _require(folder, ("units.csv", "community_check.csv"), "assess")
    units = read_own_csv(folder / "units.csv", dtype={"compound_id": str, "unit": str})
    check = read_own_csv(folder / "community_check.csv", dtype={"unit": str})
    per = folder / "per_thousand.csv"
    thousand = read_own_csv(per, dtype={"unit": str}) if per.exists() else None
    return units, check, thousand


def write_bundle_outputs(
    result: _BundleResultLike, out_dir: str | Path, *, problems: Sequence[Problem] = ()
) -> dict[str, Path]:
    """Write the bundle outputs into ``out_dir``.

    Parameters
    ----------
    result
        A :class:`spatial.bundling.BundleResult` (metric CRS; exported in WGS84).
    out_dir
        Folder (created if missing): ``bundles.gpkg`` (layers ``bundles``, ``members``,
        ``funding``), ``funding.csv`` (one row per old compound: what pays for it),
        ``bundles.csv``, ``pairs.csv`` (cross-area money links), ``packages.csv`` (per
        subdistrict and community), ``excluded.csv`` and ``problems.csv``.
    problems
        What loading and the money found (e.g. parcels without a planned FAR).

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    out = Path(out_dir)
    bundles = to_wgs84(result.bundles)
    members = to_wgs84(result.members)
    layers = {"bundles": bundles, "members": members}
    sources = getattr(result, "sources", None)
    if sources is not None and len(sources):
        layers["sources"] = to_wgs84(sources)
    funding = result.funding if result.funding is not None else pd.DataFrame()
    if len(funding):
        where = members.drop_duplicates("id")
        at = pd.Series(where.geometry.values, index=where["id"].astype(str).to_numpy())
        geom = at.reindex(funding["compound_id"].astype(str).to_numpy()).values
        layers["funding"] = gpd.GeoDataFrame(funding, geometry=geom, crs=members.crs)
    return {
        "bundles": write_gpkg(layers, out / "bundles.gpkg"),
        "funding": write_csv(funding, out / "funding.csv"),
        "bundles_csv": write_csv(
            pd.DataFrame(bundles.drop(columns="geometry")), out / "bundles.csv"
        ),
        "pairs": write_csv(pairs_lonlat(result), out / "pairs.csv"),
        "packages": write_csv(result.packages, out / "packages.csv"),
        "excluded": write_csv(result.excluded, out / "excluded.csv"),
        "problems": write_csv(_problems_frame(problems), out / "problems.csv"),
    }


def check_bundles_folder(folder: str | Path) -> None:
    """Fail early (before any drawing) when ``folder`` is not a bundles output folder.

    Parameters
    ----------
    folder
        The folder ``spatial bundles --out`` wrote.

    Raises
    ------
    InputError
        When it is missing or lacks ``bundles.gpkg`` or ``pairs.csv``.
    """
    _require(Path(folder), ("bundles.gpkg", "pairs.csv"), "bundles")


def load_bundle_tables(folder: str | Path) -> BundleTables:
    """Read a ``spatial bundles`` output folder.

    Parameters
    ----------
    folder
        The folder ``spatial bundles --out`` wrote.

    Returns
    -------
    BundleTables
        Bundles and members (WGS84) and the cross-area pairs.

    Raises
    ------
    InputError
        When the folder is missing or is not a bundles output folder.
    """
    folder = Path(folder)
    _require(folder, ("bundles.gpkg", "pairs.csv"), "bundles")
    import pyogrio

    names = {n for n, _ in pyogrio.list_layers(folder / "bundles.gpkg")}
    return BundleTables(
        read_gpkg(folder / "bundles.gpkg", "bundles"),
        read_gpkg(folder / "bundles.gpkg", "members"),
        read_own_csv(folder / "pairs.csv"),
        read_gpkg(folder / "bundles.gpkg", "sources") if "sources" in names else None,
    )


def pairs_lonlat(result: _BundleResultLike) -> pd.DataFrame:
    """Cross-area pairs with both ends in WGS84 lon/lat.

    Parameters
    ----------
    result
        A bundle result whose ``pairs`` carry ``deficit_x/_y`` and ``surplus_x/_y`` in
        the bundles' metric CRS.

    Returns
    -------
    DataFrame
        The pairs with ``*_lon``, ``*_lat`` (degrees, 6 decimals) instead of metres.
    """
    pairs = result.pairs.copy()
    for end in ("deficit", "surplus"):
        pts = gpd.GeoSeries(
            gpd.points_from_xy(pairs[f"{end}_x"], pairs[f"{end}_y"]), crs=result.bundles.crs
        ).to_crs(4326)
        pairs[f"{end}_lon"], pairs[f"{end}_lat"] = pts.x.round(6), pts.y.round(6)
        pairs = pairs.drop(columns=[f"{end}_x", f"{end}_y"])
    return pairs


def write_plan_outputs(
    sheets: Mapping[str, pd.DataFrame],
    layers: Mapping[str, gpd.GeoDataFrame],
    out_dir: str | Path,
    *,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``plan.xlsx`` (one sheet per table) and ``plan.gpkg`` into ``out_dir``.

    Parameters
    ----------
    sheets
        Sheet name → table.
    layers
        Layer name → GeoDataFrame (any CRS; exported in WGS84).
    out_dir
        Folder (created if missing).
    headers
        Column name → header shown in the workbook (e.g. Chinese/English).

    Returns
    -------
    dict
        ``{"plan": …, "plan_layers": …}``.
    """
    out = Path(out_dir)
    return {
        "plan": write_xlsx(sheets, out / "plan.xlsx", headers=headers, styled=True),
        "plan_layers": write_gpkg(
            {name: to_wgs84(gdf) for name, gdf in layers.items()}, out / "plan.gpkg"
        ),
    }


def read_plan_layers(folder: str | Path) -> Path | None:
    """The ``plan.gpkg`` of a folder ``spatial plan`` wrote into, or None.

    Parameters
    ----------
    folder
        An output folder.

    Returns
    -------
    Path or None
        The GeoPackage (layers ``eligibility``, ``sites``) when present.
    """
    path = Path(folder) / "plan.gpkg"
    return path if path.is_file() else None
