"""小区内自求平衡 Within-compound balance: operating facilities sized from each compound.

Parking on the compound's free land, EV and e-bike charging, a community canteen,
rented service rooms, parcel lockers and facade advertising. Each facility's size comes
from the compound (households, land, free land, buildings); its build cost, yearly income
and running cost from ``finance.toml`` (assumptions, labelled as such). Income is the
capacity's income times ``operating.uptake``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spatial.bundling.finance import FinanceDefaults, numeric_column

__all__ = ["FACILITIES", "operating_facilities", "within_compound"]

#: Facility key → (中文, English, unit of one).
FACILITIES: dict[str, tuple[str, str, str]] = {
    "parking": ("停车位", "parking spaces", "space"),
    "ev_charging": ("汽车充电桩", "EV charging points", "point"),
    "ebike_charging": ("电动自行车充电口", "e-bike charging ports", "port"),
    "canteen": ("社区食堂", "community canteen", "canteen"),
    "service_rooms": ("便民服务用房", "rented service rooms", "m²"),
    "lockers": ("智能快递柜", "parcel lockers", "locker bank"),
    "advertising": ("楼体广告", "facade advertising", "building"),
}


def _sizes(c: pd.DataFrame, f: FinanceDefaults) -> tuple[dict[str, np.ndarray], list[str]]:
    """Units of each facility per compound, and a text on how the land was taken."""
    hh = numeric_column(c, "households").fillna(0).to_numpy()
    land = numeric_column(c, "land_area_m2")
    if hasattr(c, "geometry"):
        land = land.fillna(pd.Series(c.geometry.area, index=c.index))
    land_m2 = land.fillna(0).to_numpy()
    floor = numeric_column(c, "floor_area_m2").to_numpy()
    floors = numeric_column(c, "floors").to_numpy()
    known = np.isfinite(floor) & np.isfinite(floors) & (floors > 0)
    footprint = np.where(
        known,
        np.divide(floor, floors, out=np.zeros_like(floor), where=known),
        land_m2 * f["operating.building_coverage"],
    )
    free = np.maximum(land_m2 - footprint, 0.0)
    buildings = numeric_column(c, "buildings").to_numpy()
    est_buildings = ~np.isfinite(buildings)
    buildings = np.where(
        est_buildings, np.ceil(hh / f["operating.households_per_building"]), buildings
    )
    parking = np.floor(
        np.minimum(
            hh * f["parking.spaces_per_household"],
            free * f["parking.free_land_share"] / f["parking.m2_per_space"],
        )
    )
    sizes = {
        "parking": parking,
        "ev_charging": np.floor(parking * f["ev_charging.share_of_spaces"]),
        "ebike_charging": np.ceil(hh * f["ebike_charging.ports_per_household"]),
        "canteen": (hh >= f["canteen.min_households"]).astype(float),
        "service_rooms": np.round(hh * f["service_rooms.m2_per_household"], 1),
        "lockers": np.ceil(hh / f["lockers.households_per_unit"]),
        "advertising": buildings,
    }
    basis = [
        f"land {la:,.0f} m², footprint {fp:,.0f} m² "
        f"({'floor area / floors' if k else 'land × ' + f.label('operating.building_coverage')}"
        f"), free land {fr:,.0f} m²; buildings {b:g}{' (estimated)' if e else ''}"
        for la, fp, k, fr, b, e in zip(
            land_m2, footprint, known, free, buildings, est_buildings, strict=True
        )
    ]
    return sizes, basis


def operating_facilities(compounds: pd.DataFrame, *, finance: FinanceDefaults) -> pd.DataFrame:
    """One row per compound and facility: how many, build cost, yearly income and cost.

    Parameters
    ----------
    compounds
        Old compounds with ``id``, ``households`` and, where known, ``land_area_m2``,
        ``floor_area_m2``, ``floors``, ``buildings``; a GeoDataFrame in metres measures a
        missing land area.
    finance
        Figures (``[operating]`` and one table per facility of ``finance.toml``).

    Returns
    -------
    DataFrame
        ``compound_id``, ``facility``, ``facility_zh``, ``units``, ``build_yuan``,
        ``capacity_income_yuan_per_year`` (all of it used),
        ``income_yuan_per_year`` (capacity × ``operating.uptake``), ``cost_yuan_per_year``,
        ``net_yuan_per_year``, ``basis``; facilities sized 0 are left out. Yuan.
    """
    f = finance
    sizes, basis = _sizes(compounds, f)
    ids = compounds["id"].astype(str).to_numpy()
    uptake = f["operating.uptake"]
    # rows by compound, then facility key (as sorting by them would give), built in that
    # order from (facility × compound) arrays: no string column is ever taken from
    keys = sorted(FACILITIES)
    units = np.array([sizes[k] for k in keys], dtype=float)
    per_unit = {
        name: np.array([f[f"{k}.{name}"] for k in keys], dtype=float)[:, None]
        for name in ("build_yuan_per_unit", "income_yuan_per_unit_year", "cost_yuan_per_unit_year")
    }
    income = units * per_unit["income_yuan_per_unit_year"] * uptake
    cost = units * per_unit["cost_yuan_per_unit_year"]
    capacity = income / uptake if uptake else units * per_unit["income_yuan_per_unit_year"]
    prices = [f.label(f"{k}.build_yuan_per_unit") for k in keys]
    columns = {
        "compound_id": np.broadcast_to(ids, units.shape),
        "facility": np.broadcast_to(np.array(keys, dtype=object)[:, None], units.shape),
        "facility_zh": np.broadcast_to(
            np.array([FACILITIES[k][0] for k in keys], dtype=object)[:, None], units.shape
        ),
        "units": units,
        "unit": np.broadcast_to(
            np.array([FACILITIES[k][2] for k in keys], dtype=object)[:, None], units.shape
        ),
        "build_yuan": units * per_unit["build_yuan_per_unit"],
        "capacity_income_yuan_per_year": capacity,
        "income_yuan_per_year": income,
        "cost_yuan_per_year": cost,
        "net_yuan_per_year": income - cost,
    }
    keep = (units > 0).T.ravel()  # compound-major
    out = pd.DataFrame({name: np.asarray(v).T.ravel()[keep] for name, v in columns.items()})
    at = np.flatnonzero(keep)
    compound, facility = at // len(keys), at % len(keys)
    one = [FACILITIES[k][2] for k in keys]
    out["basis"] = [
        f"{units[j, i]:g} {one[j]} × {prices[j]}; {basis[i]}"
        for i, j in zip(compound.tolist(), facility.tolist(), strict=True)
    ]
    return out


def within_compound(
    compounds: pd.DataFrame,
    *,
    finance: FinanceDefaults,
    facilities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per compound the facilities' totals and their payback (小区内自求平衡).

    Parameters
    ----------
    compounds
        As for :func:`operating_facilities`.
    finance
        Figures.
    facilities
        :func:`operating_facilities` of the same compounds, when computed already.

    Returns
    -------
    DataFrame
        Indexed like ``compounds``: ``facility_build_yuan``,
        ``facility_capacity_income_yuan_per_year`` (before uptake),
        ``facility_income_yuan_per_year``,
        ``facility_cost_yuan_per_year``, ``facility_net_yuan_per_year`` and
        ``payback_years`` (build ÷ net yearly income; inf where the net is not positive).
    """
    rows = (
        facilities if facilities is not None else operating_facilities(compounds, finance=finance)
    )
    sums = rows.groupby("compound_id")[
        [
            "build_yuan",
            "capacity_income_yuan_per_year",
            "income_yuan_per_year",
            "cost_yuan_per_year",
            "net_yuan_per_year",
        ]
    ].sum()
    sums = sums.reindex(compounds["id"].astype(str).to_numpy()).fillna(0.0)
    net = sums["net_yuan_per_year"].to_numpy()
    build = sums["build_yuan"].to_numpy()
    payback = np.full(len(net), np.inf)
    np.divide(build, net, out=payback, where=net > 0)
    return pd.DataFrame(
        {
            "facility_build_yuan": build,
            "facility_capacity_income_yuan_per_year": sums[
                "capacity_income_yuan_per_year"
            ].to_numpy(),
            "facility_income_yuan_per_year": sums["income_yuan_per_year"].to_numpy(),
            "facility_cost_yuan_per_year": sums["cost_yuan_per_year"].to_numpy(),
            "facility_net_yuan_per_year": net,
            "payback_years": payback,
        },
        index=compounds.index,
    )
