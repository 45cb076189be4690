"""The inventory (台账汇总): compounds, households, ages and parcels per subdistrict."""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import pandas as pd

from spatial.io.survey.schema import PARCEL_KINDS

__all__ = ["inventory"]


def inventory(compounds: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Per subdistrict (街道): compounds, households, age classes and parcels by kind.

    Parameters
    ----------
    compounds, parcels
        Validated layers with canonical columns (see :func:`spatial.io.load_layers`).

    Returns
    -------
    DataFrame
        One row per subdistrict plus a total row ``合计 total``; Chinese/English headers.
    """
    c = compounds.assign(
        subdistrict=compounds.get("subdistrict", pd.Series(dtype=object)).fillna("未知 unknown")
    )
    year = c.get("build_year", pd.Series(pd.NA, index=c.index, dtype="Int64"))
    rows = c.groupby("subdistrict").agg(
        n=("id", "size"),
        households=("households", "sum") if "households" in c else ("id", "size"),
    )
    rows["pre2001"] = (year <= 2000).groupby(c["subdistrict"]).sum()
    rows["pre2006"] = (year <= 2005).groupby(c["subdistrict"]).sum()
    table = rows.rename(
        columns={
            "n": "小区数 compounds",
            "households": "户数 households",
            "pre2001": "2000年及以前 built ≤2000",
            "pre2006": "2005年及以前 built ≤2005",
        }
    )
    if parcels is not None and len(parcels):
        p = parcels.assign(
            subdistrict=parcels.get("subdistrict", pd.Series(dtype=object)).fillna("未知 unknown")
        )
        kinds = p.groupby(["subdistrict", "kind"]).size().unstack(fill_value=0)
        kinds.columns = [f"{PARCEL_KINDS[k][0]} {PARCEL_KINDS[k][1]}" for k in kinds.columns]
        table = table.join(kinds, how="outer").fillna(0)
    table = table.astype("int64")
    table.loc["合计 total"] = table.sum()
    table.index.name = "街道 subdistrict"
    return cast("pd.DataFrame", table.reset_index())
