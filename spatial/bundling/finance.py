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

from spatial._errors import Problem, raise_for_errors
from spatial.bundling.finance_rules import finance_problems
from spatial.standards.files import read_toml_text

__all__ = [
    "CONTENT_CLASSES",
    "MONEY_COLUMNS",
    "FinanceDefaults",
    "load_finance",
    "money_problems",
    "numeric_column",
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

    Raises
    ------
    InputError
        With every problem of the file at once (unknown, missing or out-of-bounds
        figures), each naming its key and line.
    ValueError
        When the file is missing or not valid TOML.
    """
    data, where, text = read_toml_text(path, default="finance.toml")
    raise_for_errors(finance_problems(data, text, where))
    values = {f"{s}.{k}": float(v["value"]) for s, e in data.items() for k, v in e.items()}
    sources = {
        f"{s}.{k}": str(v.get("source", "assumption"))
        for s, e in data.items()
        for k, v in e.items()
    }
    return FinanceDefaults(values, sources)


def numeric_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats (NaN where missing or not a number; all NaN without the column).

    Parameters
    ----------
    frame
        Any table.
    column
        Column name.

    Returns
    -------
    Series
        Indexed like ``frame``.
    """
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _compound_rows(c: pd.DataFrame, f: FinanceDefaults, classes: tuple[str, ...]) -> pd.DataFrame:
    raw_households = numeric_column(c, "households")
    households = raw_households.fillna(0)
    floor = numeric_column(c, "floor_area_m2")
    estimated = floor.isna()
    lacking = np.where(
        raw_households.isna() & floor.isna(),
        "households;floor_area_m2",
        np.where(raw_households.isna(), "households", ""),
    )
    floor = floor.fillna(households * f["renovation.floor_area_per_household_m2"])
    unit = sum(f[f"renovation.{k}_yuan_per_m2"] for k in classes)
    floors = numeric_column(c, "floors")
    has_elevator = (
        c["elevator"].astype("boolean").fillna(False)
        if "elevator" in c
        else (pd.Series(False, index=c.index))
    )
    needs = (floors >= f["elevator.min_floors"]) & ~has_elevator.astype(bool)
    buildings = numeric_column(c, "buildings")
    elevators = np.where(needs, buildings.fillna(1) * f["elevator.per_building"], 0)
    guessed = (needs & buildings.isna()).to_numpy()  # 1 building assumed: said in basis
    cost = floor * unit + elevators * f["elevator.cost_yuan_per_elevator"]
    subsidy = households * f["subsidy.yuan_per_household"] + (
        elevators * f["elevator.subsidy_yuan_per_elevator"]
    )
    labels = ", ".join(f.label(f"renovation.{k}_yuan_per_m2") for k in classes)
    basis = [
        f"floor_area_m2={fa:g}{' (from households × ' + f.label('renovation.floor_area_per_household_m2') + ')' if est else ''} × [{labels}]"  # noqa: E501
        + (f" + elevators={e:g} × {f.label('elevator.cost_yuan_per_elevator')}" if e else "")
        + (
            f" (elevators assumed: buildings unknown, 1 × {f.label('elevator.per_building')};"
            " give 楼栋数 buildings in the survey)"
            if g
            else ""
        )
        + f"; subsidy: households={h:g} × {f.label('subsidy.yuan_per_household')}"
        + (f" + {e:g} × {f.label('elevator.subsidy_yuan_per_elevator')}" if e else "")
        for fa, est, e, h, g in zip(floor, estimated, elevators, households, guessed, strict=True)
    ]
    return pd.DataFrame(
        {
            "cost_yuan": cost,
            "subsidy_yuan": subsidy,
            "revenue_yuan": 0.0,
            "elevators": elevators,
            "basis": basis,
            "missing_figures": lacking,
            "far_source": "",
        },
        index=c.index,
    )


def _parcel_rows(p: pd.DataFrame, f: FinanceDefaults, default_far: bool) -> pd.DataFrame:
    land = numeric_column(p, "land_area_m2").fillna(
        pd.Series(p.geometry.area, index=p.index) if isinstance(p, gpd.GeoDataFrame) else np.nan
    )
    floor = numeric_column(p, "floor_area_m2")
    far = numeric_column(p, "planned_far")
    households = numeric_column(p, "households")
    rows = []
    for i in p.index:
        kind = str(p.at[i, "kind"])
        cost = revenue = 0.0
        parts: list[str] = []
        lacking: list[str] = []
        far_source = ""
        if kind in ("old_factory", "low_efficiency", "shantytown", "urban_village"):
            key = f"revenue.{kind}_yuan_per_m2"
            far_i, far_label = far[i], f"planned_far={far[i]:g}"
            far_source = "given"
            if not np.isfinite(far_i) and default_far:
                far_i = f[f"default_far.{kind}"]
                far_label = "default " + f.label(f"default_far.{kind}").replace(
                    kind, "planned_far", 1
                )
                far_source = "default"
            if not np.isfinite(far_i):
                far_source = "missing"
                lacking.append("planned_far")
                parts.append("revenue: no planned_far given, not counted")
            elif not np.isfinite(land[i]):
                lacking.append("land_area_m2")
                parts.append("revenue: no land_area_m2 given, not counted")
            else:
                revenue = land[i] * far_i * f[key]
                parts.append(f"revenue: land_area_m2={land[i]:g} × {far_label} × {f.label(key)}")
        if kind in ("shantytown", "urban_village"):
            key = f"cost.{kind}_yuan_per_household"
            if np.isfinite(households[i]):
                cost = households[i] * f[key]
                parts.append(f"cost: households={households[i]:g} × {f.label(key)}")
            else:
                lacking.append("households")
                parts.append("cost: no households to resettle given, not counted")
        elif kind in ("dilapidated", "old_block", "function_conversion"):
            key = f"cost.{kind}_yuan_per_m2"
            if np.isfinite(floor[i]):
                cost = floor[i] * f[key]
                parts.append(f"cost: floor_area_m2={floor[i]:g} × {f.label(key)}")
            else:
                lacking.append("floor_area_m2")
                parts.append("cost: no floor_area_m2 given, not counted")
        if kind == "function_conversion" and np.isfinite(floor[i]):
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
                "missing_figures": ";".join(lacking),
                "far_source": far_source,
            }
        )
    return pd.DataFrame(rows, index=p.index)


def parcel_finance(
    units: pd.DataFrame,
    *,
    defaults: FinanceDefaults | None = None,
    content_classes: tuple[str, ...] = CONTENT_CLASSES,
    overrides: Mapping[str, float] | None = None,
    default_far: bool = False,
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
    default_far
        Where a parcel whose revenue needs a planned FAR has none, use the labelled
        ``[default_far]`` figure of its kind (an assumption) instead of counting no
        revenue.

    Returns
    -------
    DataFrame
        Indexed like ``units``: ``cost_yuan``, ``subsidy_yuan``, ``revenue_yuan``,
        ``net_cost_yuan``, ``balance_yuan``, ``elevators``, ``basis``,
        ``missing_figures`` (figures the money needed and did not get, ``;``-separated;
        their part counts 0 yuan) and ``far_source`` (``given``, ``default``,
        ``missing``; empty where no FAR is needed).
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
        parts.append(_parcel_rows(units[~is_compound], f, default_far))
    out = pd.concat(parts).reindex(units.index)
    out["net_cost_yuan"] = out["cost_yuan"] - out["subsidy_yuan"]
    out["balance_yuan"] = out["revenue_yuan"] - out["net_cost_yuan"]
    return out[[*MONEY_COLUMNS, "basis", "missing_figures", "far_source"]]


_EFFECT = {
    "planned_far": ("planned FAR (规划容积率)", "its revenue is not counted (0 yuan)"),
    "land_area_m2": ("land area (用地面积)", "its revenue is not counted (0 yuan)"),
    "households": ("households (户数)", "its cost or subsidy per household is 0 yuan"),
    "floor_area_m2": ("floor area (建筑面积)", "its cost per m² is 0 yuan"),
}


def money_problems(units: pd.DataFrame, money: pd.DataFrame) -> list[Problem]:
    """One warning per parcel whose money lacks a figure, naming its file and row.

    Parameters
    ----------
    units
        The bundled units (with ``source_file``/``source_row`` from the loader, when
        read from files), indexed like ``money``.
    money
        :func:`parcel_finance` of the units.

    Returns
    -------
    list of Problem
        Warnings: what is missing, what it does to the balance, and the fix; and one
        per parcel that used a default FAR.
    """
    problems = []
    for i in money.index[(money["missing_figures"] != "") | (money["far_source"] == "default")]:
        file = str(units.at[i, "source_file"]) if "source_file" in units else "<parcels>"
        row = str(units.at[i, "source_row"]) if "source_row" in units else None
        kind = str(units.at[i, "kind"])
        for figure in filter(None, str(money.at[i, "missing_figures"]).split(";")):
            label, effect = _EFFECT[figure]
            hint = f"add a {label} column"
            if figure == "planned_far":
                hint += ", or run with --default-far (finance.toml [default_far], an assumption)"
            problems.append(
                Problem.warning(
                    file,
                    f"{kind} without {label}: {effect}, so its bundle's balance is understated"
                    if figure in ("planned_far", "land_area_m2")
                    else f"{kind} without {label}: {effect}, so its bundle's cost is understated",
                    row=row,
                    column=figure,
                    hint=hint,
                )
            )
        if money.at[i, "far_source"] == "default":
            problems.append(
                Problem.warning(
                    file,
                    f"{kind} without planned FAR: the default FAR of finance.toml was used "
                    "(an assumption)",
                    row=row,
                    column="planned_far",
                    hint="give the 控制性详细规划 FAR for a real study",
                )
            )
    return problems
