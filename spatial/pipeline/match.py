"""``spatial match``: a survey table (台账) linked to footprints, into one output folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial._errors import Problem, raise_for_errors
from spatial.io.crs.projection import to_wgs84
from spatial.io.osm.read import read_osm
from spatial.io.outputs.runfolder import folder_layer, rebase_outputs, run_folder
from spatial.io.outputs.write import write_gpkg, write_xlsx
from spatial.io.readers import check_input_path, read_table_file, reading
from spatial.io.survey.match import apply_review, match_names, place_by_address
from spatial.io.survey.schema import map_columns

__all__ = ["MatchRun", "read_footprints", "read_survey", "run_match"]

_KEYS = ("name", "subdistrict", "community")


@dataclass
class MatchRun:
    """What :func:`run_match` produced.

    Attributes
    ----------
    rows
        Every survey row (its own columns) with ``row_id`` and the match columns.
    outputs
        Written files by name.
    """

    rows: pd.DataFrame
    outputs: dict[str, Path] = field(default_factory=dict)


def read_survey(path: str | Path) -> pd.DataFrame:
    """A survey table with its own columns and the canonical ``row_id``, ``name`` ….

    Parameters
    ----------
    path
        CSV or Excel file with Chinese or English headers (小区名称, 街道, 社区 …).

    Returns
    -------
    DataFrame
        Indexed by ``row_id`` (the table's id column, else its spreadsheet row); the
        canonical ``name``, ``subdistrict``, ``community`` added where found.

    Raises
    ------
    InputError
        When no name column is found, or an id repeats.
    """
    path = Path(path)
    hint = "give the survey as CSV or Excel (.xlsx) with a 小区名称 column"
    table = read_table_file(path, what="survey table", hint=hint)
    mapping, problems = map_columns(list(table.columns), "compounds", source=str(path))
    canon = {v: k for k, v in mapping.items()}
    if "name" not in canon:
        problems.append(
            Problem.error(
                str(path),
                "no name column: rows are matched to footprints by their names",
                hint="add a column 小区名称 (or 名称, name)",
            )
        )
    raise_for_errors(problems)
    out = table.copy()
    for key in _KEYS:
        if key in canon:
            out[f"_{key}"] = table[canon[key]].astype("string").fillna("").astype(str)
    sheet_rows = table.attrs.get("rows") or [i + 2 for i in range(len(table))]
    rows = pd.Series([str(r) for r in sheet_rows])  # as the spreadsheet numbers them
    ids = table[canon["id"]].astype(str).str.strip() if "id" in canon else rows
    repeated = ids[ids.duplicated(keep=False) & (ids != "")]
    raise_for_errors(
        [
            Problem.error(
                str(path), f"id {v!r} is given twice", row=int(r), column=str(canon["id"])
            )
            for r, v in zip(rows[repeated.index], repeated, strict=True)
        ]
    )
    out.index = pd.Index(ids.where(ids != "", rows).to_numpy(), name="row_id")
    return cast("pd.DataFrame", out)


def read_footprints(path: str | Path) -> gpd.GeoDataFrame:
    """Footprint polygons with ``id``, ``name`` and, where given, subdistrict and community.

    Parameters
    ----------
    path
        An OSM file (its ``landuse=residential`` areas) or a polygon layer.

    Returns
    -------
    GeoDataFrame
        The footprints in their CRS.
    """
    p = Path(path)
    layer = None
    hint = "give an OSM file or a polygon layer (GeoPackage, shapefile, GeoJSON)"
    if p.is_dir():  # another command's output folder: its compounds
        p, layer = folder_layer(p, "compounds")
    check_input_path(p, what="footprints", hint=hint)
    with reading(p, what="footprints", hint=hint):
        if p.suffix.lower() in (".osm", ".pbf", ".xml") or p.name.endswith(".osm.pbf"):
            return read_osm(p).compounds
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    mapping, problems = map_columns(list(gdf.columns), "compounds", source=str(p))
    raise_for_errors(problems)
    gdf = gdf.rename(columns=mapping)
    if "id" not in gdf:
        gdf["id"] = [f"F{i + 1}" for i in range(len(gdf))]
    if "name" not in gdf:
        gdf["name"] = None
    return gdf


def run_match(
    table: str | Path,
    footprints: str | Path,
    *,
    out_dir: str | Path,
    review: str | Path | None = None,
    amap_key: str | None = None,
    amap_city: str | None = None,
) -> MatchRun:
    """Match a survey table to footprints and write ``matched.gpkg``, ``matched.xlsx`` and
    ``review.xlsx`` (see :mod:`spatial.io.survey.match`).

    Parameters
    ----------
    table
        The survey table.
    footprints
        OSM file or polygon layer.
    out_dir
        Output folder.
    review
        A ``review.xlsx`` whose ``decision`` column a planner filled (a footprint id, or
        ``none``/``无``); applied after matching.
    amap_key, amap_city
        Geocode the 地址 of rows the names did not match with the Amap web service
        (:func:`spatial.io.survey.geocode.geocode_amap`), then place them in the footprint the
        point falls in, or keep the point (flagged).

    Returns
    -------
    MatchRun
        The rows with their matches and the files written.
    """
    with run_folder(out_dir, command="match") as stage:
        survey = read_survey(table)
        feet = read_footprints(footprints)
        keys = survey[[f"_{k}" for k in _KEYS if f"_{k}" in survey]]
        keys.columns = [c[1:] for c in keys.columns]
        found = match_names(keys, feet)
        if amap_key:
            found = _by_address(survey, found, feet, key=amap_key, city=amap_city)
        if review is not None:
            review = Path(review)
            again = "use the review.xlsx that spatial match wrote, with 决定 filled"
            decided = read_table_file(review, what="review file", hint=again)
            cols = {c: str(c).split()[-1] for c in decided.columns}
            decided = decided.rename(columns=cols)
            if not {"row_id", "decision"} <= set(decided.columns):
                raise_for_errors(
                    [
                        Problem.error(
                            str(review),
                            "a review file needs the columns row_id and decision",
                            hint="use the review.xlsx that spatial match wrote",
                        )
                    ]
                )
            found, bad = apply_review(found, decided[["row_id", "decision"]], feet)
            raise_for_errors([Problem.error(str(review), b) for b in bad])
        rows = survey.drop(columns=[c for c in survey if str(c).startswith("_")]).join(found)
        outputs = _write(rows, keys, feet, stage)
    return MatchRun(rows, rebase_outputs(outputs, stage, out_dir))


def _by_address(
    survey: pd.DataFrame,
    found: pd.DataFrame,
    feet: gpd.GeoDataFrame,
    *,
    key: str,
    city: str | None,
) -> pd.DataFrame:
    """Geocode the addresses of rows not matched by name and place them."""
    from spatial.io.survey.geocode import geocode_amap

    mapping, _ = map_columns(list(survey.columns), "compounds")
    column = next((h for h, c in mapping.items() if c == "address"), None)
    if column is None:
        raise_for_errors(
            [
                Problem.error(
                    "<survey>",
                    "--amap-key geocodes addresses, but the table has no address column",
                    hint="add a column 地址 (address), or leave --amap-key out",
                )
            ]
        )
    todo = found.index[found["match_status"] != "matched"]
    addresses = survey[column].loc[todo].astype("string").fillna("").astype(str)
    points = geocode_amap(addresses.tolist(), key=key, city=city).set_axis(todo)
    return place_by_address(found, points, feet)


def _write(
    rows: pd.DataFrame, keys: pd.DataFrame, feet: gpd.GeoDataFrame, out: Path
) -> dict[str, Path]:
    at = pd.Series(to_wgs84(feet).geometry.values, index=feet["id"].astype(str).to_numpy())
    at = at[~at.index.duplicated()]
    placed = rows[rows["match_status"].isin(["matched", "located"])]
    geom = [
        at.get(str(fid))
        if status == "matched"
        else gpd.points_from_xy([lon], [lat])[0]  # a located row keeps its address point
        for status, fid, lon, lat in zip(
            placed["match_status"],
            placed["footprint_id"],
            placed.get("lon", pd.Series(np.nan, index=placed.index)),
            placed.get("lat", pd.Series(np.nan, index=placed.index)),
            strict=True,
        )
    ]
    layer = gpd.GeoDataFrame(
        placed.reset_index().astype({"footprint_id": str}), geometry=geom, crs="EPSG:4326"
    )
    table = rows.reset_index()
    todo = table[table["match_status"] != "matched"]
    named = keys.reset_index(drop=True).set_axis(table.index)
    review = todo[["row_id"]].join(named.loc[todo.index])
    for col in ("match_status", "match_reason", "candidates", "match_score"):
        review[col] = todo[col]
    review["decision"] = ""
    headers = {
        "row_id": "行号 row_id",
        "name": "名称 name",
        "match_status": "状态 match_status",
        "match_reason": "原因 match_reason",
        "candidates": "候选 candidates",
        "match_score": "相似度 match_score",
        "decision": "决定 decision",
    }
    return {
        "matched_gpkg": write_gpkg({"compounds": layer}, out / "matched.gpkg"),
        "matched": write_xlsx({"matched": table}, out / "matched.xlsx"),
        "review": write_xlsx({"review": review}, out / "review.xlsx", headers=headers),
    }
