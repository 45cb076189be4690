"""Money of renovation bundles: cost, subsidy and revenue of every parcel, with their basis.

Defaults live in ``spatial/standards/finance.toml``; each figure there says whether it
is policy (Qinghai: ≥15,000 yuan per household, ≥150,000 yuan per elevator) or an
assumption the user must set. Every output row carries a ``basis`` text naming the
inputs and figures it came from.

Balance (大片区统筹平衡): ``net_cost = cost − subsidy``; ``balance = revenue − net_cost``;
a bundle is self-balancing when its balance is ≥ 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.standards.files import read_toml

__all__ = [
    "CONTENT_CLASSES",
    "MONEY_COLUMNS",
    "FinanceDefaults",
    "load_finance",
    "parcel_finance",
]

CONTENT_CLASSES = ("basic", "improvement", "upgrade")
#: The money columns of :func:`parcel_finance` (besides ``basis``), summed per bundle.
MONEY_COLUMNS = (
    "cost_yuan",
    "subsidy_yuan",
    "revenue_yuan",
    "net_cost_yuan",
    "balance_yuan",
    "elevators",
)


@dataclass(frozen=True)
class FinanceDefaults:
    """Figures by ``section.key`` with their sources; see ``finance.toml``.

    Attributes
    ----------
    values
        Figure by ``section.key`` (yuan, m², shares).
    sources
        Where each figure comes from (policy clause or ``assumption``).
    overrides
        Figures changed by the user, by ``section.key``.
    """

    values: dict[str, float]
    sources: dict[str, str]
    overrides: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.overrides.get(key, self.values[key])

    def label(self, key: str) -> str:
        """The figure and its kind, for the ``basis`` columns.

        Parameters
        ----------
        key
            ``section.key`` of the figure.

        Returns
        -------
        str
            e.g. ``"basic_yuan_per_m2=400 (assumption)"``.
        """
        if key in self.overrides:
            kind = "user"
        else:
            kind = "policy" if self.sources[key].startswith("policy") else "assumption"
        return f"{key.split('.')[-1]}={self[key]:g} ({kind})"

    def with_overrides(self, **changes: float) -> FinanceDefaults:
        """A copy with some figures changed.

        Parameters
        ----------
        **changes
            New values keyed ``section__key`` or ``key``, e.g.
            ``defaults.with_overrides(renovation__basic_yuan_per_m2=600)``.

        Returns
        -------
        FinanceDefaults
            A new object; this one is unchanged.
        """
        out = dict(self.overrides)
        for name, value in changes.items():
            key = name.replace("__", ".")
            matches = [k for k in self.values if k == key or k.endswith("." + key)]
            if len(matches) != 1:
                raise KeyError(f"{name!r} names no single finance figure; see finance.toml")
            out[matches[0]] = float(value)
        return FinanceDefaults(self.values, self.sources, out)


def load_finance(path: str | Path | None = None) -> FinanceDefaults:
    """Read finance figures.

    Parameters
    ----------
    path
        A TOML file like the shipped ``finance.toml`` (the default).

    Returns
    -------
    FinanceDefaults
        The figures with their sources.
    """
    data, where = read_toml(path, default="finance.toml")
    values, sources = {}, {}
    for section, entries in data.items():
        if not isinstance(entries, dict):
            raise ValueError(f"{where}: [{section}] must be a table of figures")
        for key, spec in entries.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("value"), (int, float)):
                raise ValueError(
                    f"{where}: {section}.{key} needs a number: "
                    f'{key} = {{ value = 1.0, source = "…" }}'
                )
            values[f"{section}.{key}"] = float(spec["value"])
            sources[f"{section}.{key}"] = str(spec.get("source", "assumption"))
    return FinanceDefaults(values, sources)


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _compound_rows(c: pd.DataFrame, f: FinanceDefaults, classes: tuple[str, ...]) -> pd.DataFrame:
    households = _num(c, "households").fillna(0)
    floor = _num(c, "floor_area_m2")
    estimated = floor.isna()
    floor = floor.fillna(households * f["renovation.floor_area_per_household_m2"])
    unit = sum(f[f"renovation.{k}_yuan_per_m2"] for k in classes)
    floors = _num(c, "floors")
    has_elevator = (
        c["elevator"].astype("boolean").fillna(False)
        if "elevator" in c
        else (pd.Series(False, index=c.index))
    )
    needs = (floors >= f["elevator.min_floors"]) & ~has_elevator.astype(bool)
    elevators = np.where(needs, _num(c, "buildings").fillna(1) * f["elevator.per_building"], 0)
    cost = floor * unit + elevators * f["elevator.cost_yuan_per_elevator"]
    subsidy = households * f["subsidy.yuan_per_household"] + (
        elevators * f["elevator.subsidy_yuan_per_elevator"]
    )
    labels = ", ".join(f.label(f"renovation.{k}_yuan_per_m2") for k in classes)
    basis = [
        f"floor_area_m2={fa:g}{' (from households × ' + f.label('renovation.floor_area_per_household_m2') + ')' if est else ''} × [{labels}]"  # noqa: E501
        + (f" + elevators={e:g} × {f.label('elevator.cost_yuan_per_elevator')}" if e else "")
        + f"; subsidy: households={h:g} × {f.label('subsidy.yuan_per_household')}"
        + (f" + {e:g} × {f.label('elevator.subsidy_yuan_per_elevator')}" if e else "")
        for fa, est, e, h in zip(floor, estimated, elevators, households, strict=True)
    ]
    return pd.DataFrame(
        {
            "cost_yuan": cost,
            "subsidy_yuan": subsidy,
            "revenue_yuan": 0.0,
            "elevators": elevators,
            "basis": basis,
        },
        index=c.index,
    )


def _parcel_rows(p: pd.DataFrame, f: FinanceDefaults) -> pd.DataFrame:
    land = _num(p, "land_area_m2").fillna(
        pd.Series(p.geometry.area, index=p.index) if isinstance(p, gpd.GeoDataFrame) else 0
    )
    floor = _num(p, "floor_area_m2").fillna(0)
    far = _num(p, "planned_far")
    households = _num(p, "households").fillna(0)
    rows = []
    for i in p.index:
        kind = p.at[i, "kind"]
        cost = revenue = 0.0
        parts = []
        if kind in ("old_factory", "low_efficiency", "shantytown", "urban_village"):
            key = f"revenue.{kind}_yuan_per_m2"
            if np.isfinite(far[i]):
                revenue = land[i] * far[i] * f[key]
                parts.append(
                    f"revenue: land_area_m2={land[i]:g} × planned_far={far[i]:g} × {f.label(key)}"
                )
            else:
                parts.append("revenue: no planned_far given, not counted")
        if kind in ("shantytown", "urban_village"):
            key = f"cost.{kind}_yuan_per_household"
            cost = households[i] * f[key]
            parts.append(f"cost: households={households[i]:g} × {f.label(key)}")
        elif kind in ("dilapidated", "old_block", "function_conversion"):
            key = f"cost.{kind}_yuan_per_m2"
            cost = floor[i] * f[key]
            parts.append(f"cost: floor_area_m2={floor[i]:g} × {f.label(key)}")
        if kind == "function_conversion":
            key = "revenue.function_conversion_yuan_per_m2"
            revenue = floor[i] * f[key]
            parts.append(f"revenue: floor_area_m2={floor[i]:g} × {f.label(key)}")
        rows.append(
            {
                "cost_yuan": cost,
                "subsidy_yuan": 0.0,
                "revenue_yuan": revenue,
                "elevators": 0.0,
                "basis": "; ".join(parts),
            }
        )
    return pd.DataFrame(rows, index=p.index)


def parcel_finance(
    units: pd.DataFrame,
    *,
    defaults: FinanceDefaults | None = None,
    content_classes: tuple[str, ...] = CONTENT_CLASSES,
    overrides: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Cost, subsidy, revenue and balance of every parcel.

    Parameters
    ----------
    units
        Old compounds (``kind == "old_compound"``) and other parcels with the canonical
        columns (``households``, ``floor_area_m2``, ``land_area_m2``, ``floors``,
        ``buildings``, ``elevator``, ``planned_far``) — a GeoDataFrame in metres, so
        that a missing land area can be measured.
    defaults
        Finance figures (default: :func:`load_finance`).
    content_classes
        Which renovation classes are costed for old compounds.
    overrides
        Figures to change, as for :meth:`FinanceDefaults.with_overrides`.

    Returns
    -------
    DataFrame
        Indexed like ``units``: ``cost_yuan``, ``subsidy_yuan``, ``revenue_yuan``,
        ``net_cost_yuan``, ``balance_yuan``, ``elevators`` and ``basis``.
    """
    f = defaults or load_finance()
    if overrides:
        f = f.with_overrides(**overrides)
    unknown = set(content_classes) - set(CONTENT_CLASSES)
    if unknown:
        raise ValueError(f"unknown content classes {sorted(unknown)}; use {CONTENT_CLASSES}")
    is_compound = units["kind"] == "old_compound"
    parts = []
    if is_compound.any():
        parts.append(_compound_rows(units[is_compound], f, tuple(content_classes)))
    if (~is_compound).any():
        parts.append(_parcel_rows(units[~is_compound], f))
    out = pd.concat(parts).reindex(units.index)
    out["net_cost_yuan"] = out["cost_yuan"] - out["subsidy_yuan"]
    out["balance_yuan"] = out["revenue_yuan"] - out["net_cost_yuan"]
    return out[[*MONEY_COLUMNS, "basis"]]
