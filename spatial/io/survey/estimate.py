"""Survey figures estimated where the data has none (compounds read from OpenStreetMap).

Floor area = Σ footprint × levels of the buildings whose representative point lies in
the compound (``building:levels``, else a default), or land area × a default floor-area
ratio when no building is mapped; households = floor area / floor area per household.
The figures and their sources are in ``spatial/standards/estimates.toml`` and
``finance.toml``; each estimate is labelled in ``estimate_basis``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial._errors import Problem
from spatial.io.crs.projection import local_metric_crs
from spatial.io.survey.values import parse_number
from spatial.standards import read_toml

__all__ = ["estimate_from_buildings"]


def _figures() -> dict[str, tuple[float, str]]:
    """The estimate figures and their sources, each file read once."""
    est, _ = read_toml(None, default="estimates.toml")
    fin, _ = read_toml(None, default="finance.toml")
    per_hh = fin["renovation"]["floor_area_per_household_m2"]
    entries = {**est, "floor_area_per_household_m2": per_hh}
    return {k: (float(v["value"]), str(v["source"])) for k, v in entries.items()}


def estimate_from_buildings(
    compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame | None, *, source: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Estimate floor area, households and floors of compounds without survey figures.

    Parameters
    ----------
    compounds
        Compound polygons with a CRS; existing ``households``, ``floor_area_m2`` and
        ``floors`` values are kept.
    buildings
        Building footprints with ``levels`` (text as in OSM), any CRS; None: none mapped.
    source
        File name for the message.

    Returns
    -------
    compounds, problems
        A copy indexed like ``compounds`` with ``floor_area_m2``, ``households``,
        ``floors`` filled where missing, ``estimated`` (the columns estimated) and
        ``estimate_basis`` (how); one warning that counts the estimates.
    """
    figures = _figures()
    levels_default, levels_src = figures["default_building_levels"]
    far_default, far_src = figures["default_floor_area_ratio"]
    min_area, _ = figures["min_building_area_m2"]
    per_hh, per_hh_src = figures["floor_area_per_household_m2"]
    out = compounds.copy()
    if len(out) == 0:
        return out, []
    crs = local_metric_crs(out)
    comp_m = out.geometry.to_crs(crs)
    floor = np.zeros(len(out))
    n_build = np.zeros(len(out), dtype=int)
    n_levels = np.zeros(len(out), dtype=int)
    floors = np.full(len(out), np.nan)
    if buildings is not None and len(buildings):
        b = buildings.to_crs(crs)
        area = b.geometry.area.to_numpy()
        keep = area >= min_area
        b, area = b[keep], area[keep]
        lv = np.array([parse_number(v)[0] or np.nan for v in b["levels"]], dtype=float)
        lv[(lv < 1) | (lv > 120)] = np.nan
        points = gpd.GeoDataFrame(
            {"lv": lv, "area": area}, geometry=b.geometry.representative_point().values, crs=crs
        )
        hit = gpd.sjoin(
            points, gpd.GeoDataFrame(geometry=comp_m.reset_index(drop=True)), predicate="within"
        )
        pos = hit["index_right"].to_numpy()
        used = hit["lv"].fillna(levels_default).to_numpy()
        np.add.at(floor, pos, hit["area"].to_numpy() * used)
        np.add.at(n_build, pos, 1)
        np.add.at(n_levels, pos, hit["lv"].notna().to_numpy().astype(int))
        med = hit.groupby("index_right")["lv"].median()
        floors[med.index.to_numpy()] = np.round(med.to_numpy())
    land = comp_m.area.to_numpy()
    no_build = n_build == 0
    floor[no_build] = land[no_build] * far_default
    basis = [
        (
            f"{n} OSM buildings ({k} with building:levels, others {levels_default:g} levels: "
            f"{levels_src})"
            if n
            else f"no building mapped: land {a:,.0f} m² × FAR {far_default:g} ({far_src})"
        )
        + f"; households = floor area / {per_hh:g} m² ({per_hh_src})"
        for n, k, a in zip(n_build, n_levels, land, strict=True)
    ]
    nan = pd.Series(np.nan, index=out.index)
    given_hh = pd.to_numeric(out["households"], errors="coerce") if "households" in out else nan
    given_fa = (
        pd.to_numeric(out["floor_area_m2"], errors="coerce") if "floor_area_m2" in out else nan
    )
    fa = given_fa.fillna(pd.Series(np.round(floor, -1), index=out.index))
    est_hh = pd.Series(np.maximum(np.round(fa.to_numpy(dtype=float) / per_hh), 1), index=out.index)
    estimated = [
        ",".join(
            c
            for c, given in (("floor_area_m2", given_fa), ("households", given_hh))
            if pd.isna(given[idx])
        )
        for idx in out.index
    ]
    out["floor_area_m2"] = fa
    out["households"] = given_hh.fillna(est_hh)
    if "floors" not in out or out["floors"].isna().all():
        out["floors"] = floors
    out["estimated"] = estimated
    out["estimate_basis"] = [b if e else "" for b, e in zip(basis, estimated, strict=True)]
    n_est = sum(bool(e) for e in estimated)
    problems = []
    if n_est:
        problems.append(
            Problem.warning(
                source,
                f"households and floor area of {n_est} compound(s) estimated from "
                f"{int(n_build.sum())} OSM building(s) ({int(no_build.sum())} compound(s) with "
                "no building mapped use a default floor-area ratio)",
                column="households",
                hint="see the columns estimated and estimate_basis; give survey figures "
                "(户数, 建筑面积) to replace them",
            )
        )
    return out, problems
