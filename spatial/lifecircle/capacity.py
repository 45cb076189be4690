"""Supply and demand of facilities on the walk network: the two-step floating catchment
ratios (2SFCA, Luo & Wang 2003; E2SFCA with a Gaussian weight, Dai 2010).

For a category of radius ``r`` with facilities ``j`` (places ``S_j``) and compounds ``i``
(demand ``D_i``: people of the served age group × places each needs), on the exact walk
distances ``d_ij ≤ r`` of the gap engine (:func:`~spatial.lifecircle.within.reach_matrix`)
and a weight ``W`` (1, or Gaussian: 1 at the facility, 0 at the radius):

- step 1, each facility's places per person of demand in its catchment:
  ``R_j = S_j / Σ_i D_i W(d_ij)`` (0 when no demand is in reach);
- step 2, each compound's accessible places per person of demand:
  ``A_i = Σ_j R_j W(d_ij)``.

A compound is short of ``D_i × max(0, 1 − A_i)`` places. The figures of demand and default
capacities are data (``spatial/standards/capacity.toml``, each with its source).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomllib

from spatial._errors import InputError, Problem
from spatial.lifecircle.within import Reach

__all__ = [
    "CAPACITY_FILE",
    "CapacityRule",
    "CapacityStandard",
    "capacity_rows",
    "catchment_weight",
    "demand_of",
    "fca_ratios",
    "first_number",
    "gaussian_weight",
    "load_capacity",
    "supply_of",
]

CAPACITY_FILE = Path(__file__).resolve().parents[1] / "standards" / "capacity.toml"


@dataclass(frozen=True)
class CapacityRule:
    """How one category's places are counted and needed.

    Attributes
    ----------
    category
        Category id.
    unit
        What a place is (``学位 places``, ``床位 beds``).
    serves
        Age group served (a key of :attr:`CapacityStandard.age_share`).
    need
        Places one person of the group needs.
    capacity
        Places of a facility whose data do not say.
    columns
        Data columns giving a facility's places.
    classes
        Data columns giving its classes (班数).
    places_per_class
        Places of a class.
    sources
        Figure → where it comes from.
    """

    category: str
    unit: str
    serves: str
    need: float
    capacity: float
    columns: tuple[str, ...]
    classes: tuple[str, ...]
    places_per_class: float
    sources: Mapping[str, str]


@dataclass(frozen=True)
class CapacityStandard:
    """Demand figures and the capacity rules of ``capacity.toml``.

    Attributes
    ----------
    persons_per_household
        Residents per household where the data give households only.
    age_share
        Age group → share of residents.
    decay
        ``gaussian`` (E2SFCA) or ``none`` (2SFCA).
    rules
        Category id → its rule.
    sources
        Figure → where it comes from.
    path
        The file read.
    """

    persons_per_household: float
    age_share: Mapping[str, float]
    decay: str
    rules: Mapping[str, CapacityRule]
    sources: Mapping[str, str]
    path: Path


def _figure(table: Mapping[str, Any], key: str, where: str) -> tuple[Any, str]:
    item = table.get(key)
    if not isinstance(item, dict) or "value" not in item or "source" not in item:
        raise InputError(
            [
                Problem.error(
                    where,
                    f'{key} needs {{ value = …, source = "…" }}',
                    column=key,
                    hint="every figure says where it comes from",
                )
            ]
        )
    return item["value"], str(item["source"])


def load_capacity(path: str | Path | None = None) -> CapacityStandard:
    """Read a capacity standard (default ``spatial/standards/capacity.toml``).

    Parameters
    ----------
    path
        A file like the shipped one.

    Returns
    -------
    CapacityStandard
        Its figures and rules.

    Raises
    ------
    InputError
        A figure without value or source, a rule serving an unknown age group or with
        a figure out of range.
    """
    file = Path(path) if path is not None else CAPACITY_FILE
    where = str(file)
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    sources: dict[str, str] = {}
    pph, sources["persons_per_household"] = _figure(
        data.get("demand", {}), "persons_per_household", where
    )
    decay, sources["decay"] = _figure(data.get("meta", {}), "decay", where)
    shares = {}
    for group in data.get("age_share", {}):
        shares[group], sources[f"age_share.{group}"] = _figure(data["age_share"], group, where)
    rules = {}
    problems = []
    for cat, table in data.get("category", {}).items():
        got = {k: _figure(table, k, where) for k in ("need", "capacity", "places_per_class")}
        rule_sources = {k: v[1] for k, v in got.items()}
        serves = str(table.get("serves", ""))
        if serves not in shares:
            problems.append(
                Problem.error(
                    where, f"category.{cat}: serves {serves!r} is no age group", column="serves"
                )
            )
        for key, (value, _) in got.items():
            if not isinstance(value, (int, float)) or value < 0:
                problems.append(
                    Problem.error(where, f"category.{cat}.{key} must be a number ≥ 0", column=key)
                )
        rules[cat] = CapacityRule(
            category=cat,
            unit=str(table.get("unit", "places")),
            serves=serves,
            need=float(got["need"][0]),
            capacity=float(got["capacity"][0]),
            columns=tuple(table.get("columns", ())),
            classes=tuple(table.get("classes", ())),
            places_per_class=float(got["places_per_class"][0]),
            sources=rule_sources,
        )
    if decay not in ("gaussian", "none"):
        problems.append(
            Problem.error(where, f"meta.decay {decay!r}: gaussian or none", column="decay")
        )
    if problems:
        raise InputError(problems)
    return CapacityStandard(float(pph), shares, str(decay), rules, sources, file)


def gaussian_weight(metres: np.ndarray, radius_m: float) -> np.ndarray:
    """The Gaussian distance weight of E2SFCA (Dai 2010): 1 at 0 m, 0 at the radius.

    Parameters
    ----------
    metres
        Walk distances, metres (≤ ``radius_m``).
    radius_m
        The category's radius, metres.

    Returns
    -------
    ndarray
        ``(exp(-½(d/r)²) − exp(-½)) / (1 − exp(-½))``.
    """
    edge = np.exp(-0.5)
    near = np.exp(-0.5 * (np.asarray(metres, dtype=float) / radius_m) ** 2)
    return np.asarray((near - edge) / (1 - edge), dtype=float)


def catchment_weight(metres: np.ndarray, radius_m: float, decay: str) -> np.ndarray:
    """The weight of each pair inside the radius: Gaussian (E2SFCA) or 1 (2SFCA).

    Parameters
    ----------
    metres
        Walk distances, metres.
    radius_m
        The category's radius, metres.
    decay
        ``gaussian`` or ``none``.

    Returns
    -------
    ndarray
        One weight per distance.
    """
    if decay == "gaussian":
        return gaussian_weight(metres, radius_m)
    return np.ones(len(np.asarray(metres)))


def fca_ratios(
    reach: Reach,
    supply: np.ndarray,
    demand: np.ndarray,
    *,
    radius_m: float,
    decay: str = "gaussian",
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Accessible places per person of demand (2SFCA / E2SFCA; see the module text).

    Parameters
    ----------
    reach
        Facility × compound pairs within the radius and their walk metres.
    supply
        Places of each facility (rows of ``reach``).
    demand
        Demand of each compound (columns of ``reach``): people × places each needs.
    radius_m
        The radius, metres.
    decay
        ``gaussian`` (E2SFCA) or ``none`` (2SFCA).
    weight
        The pairs' weights when already computed (:func:`catchment_weight`).

    Returns
    -------
    per_compound, per_facility
        ``A_i`` (places per person of demand; 0 out of reach of any facility) and
        ``R_j`` (a facility's places per person of demand in its catchment; 0 without
        any).
    """
    n_fac, n_comp = reach.shape
    if weight is None:
        weight = catchment_weight(reach.metres, radius_m, decay)
    demand = np.nan_to_num(np.asarray(demand, dtype=float), nan=0.0)
    pulled = np.bincount(reach.row, weights=weight * demand[reach.col], minlength=n_fac)
    supply = np.asarray(supply, dtype=float)[:n_fac]
    ratio = np.divide(supply, pulled, out=np.zeros(n_fac), where=pulled > 0)
    per_compound = np.bincount(reach.col, weights=weight * ratio[reach.row], minlength=n_comp)
    return per_compound, ratio


def demand_of(
    compounds: pd.DataFrame, rule: CapacityRule, standard: CapacityStandard
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """People of the served age group in each compound and the places they need.

    Parameters
    ----------
    compounds
        With ``households`` (survey or the gap stage's estimates, ``estimated``
        naming the estimated columns); a ``residents`` (常住人口) column is used first.
    rule
        The category's rule.
    standard
        Persons per household and age shares.

    Returns
    -------
    people, need, basis
        People of the group, places they need (people × ``need``), and per compound
        ``survey``, ``estimated`` (households estimated from floor area) or ``none``.
    """
    n = len(compounds)
    residents = (
        pd.to_numeric(compounds["residents"], errors="coerce")
        if "residents" in compounds
        else pd.Series(np.nan, index=compounds.index)
    )
    households = (
        pd.to_numeric(compounds["households"], errors="coerce")
        if "households" in compounds
        else pd.Series(np.nan, index=compounds.index)
    )
    people_all = residents.fillna(households * standard.persons_per_household).to_numpy(float)
    estimated = (
        compounds["estimated"].astype(str).str.contains("households").to_numpy()
        if "estimated" in compounds
        else np.zeros(n, dtype=bool)
    )
    basis = np.where(
        np.isnan(people_all),
        "none",
        np.where(estimated & residents.isna().to_numpy(), "estimated", "survey"),
    ).tolist()
    people = people_all * standard.age_share[rule.serves]
    return people, people * rule.need, basis


def first_number(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The first positive number of ``columns`` per row (NaN where none).

    Parameters
    ----------
    frame
        Any table (columns missing from it are skipped).
    columns
        The columns to read, in order of preference.

    Returns
    -------
    pandas.Series
        Indexed like ``frame``, float.
    """
    out = pd.Series(np.nan, index=frame.index)
    for col in columns:
        if col in frame:
            values = pd.to_numeric(frame[col], errors="coerce")
            out = out.fillna(values.where(values > 0))
    result: pd.Series = out.astype(float)
    return result


def _osm_capacity(raw: object) -> str | None:
    """The ``capacity`` tag of an OSM element's tags (JSON text), if any."""
    if isinstance(raw, str) and raw.startswith("{"):
        value = json.loads(raw).get("capacity")
        return str(value) if value is not None else None
    return None


def supply_of(pois: pd.DataFrame, rule: CapacityRule) -> tuple[np.ndarray, np.ndarray]:
    """Places of each POI: from its data (an OSM element's ``capacity`` tag too), else from
    its classes, else the default.

    Parameters
    ----------
    pois
        POIs (any columns; those of ``rule.columns`` and ``rule.classes`` are read).
    rule
        The category's rule.

    Returns
    -------
    places, defaulted
        Places per POI, and whether the default scale was used.
    """
    frame = pois
    if "tags" in pois and not set(rule.columns) & set(pois.columns):  # OSM: capacity=*
        frame = pois.assign(capacity=pois["tags"].map(_osm_capacity))
    given = first_number(frame, rule.columns)
    given = given.fillna(first_number(frame, rule.classes) * rule.places_per_class)
    defaulted = given.isna().to_numpy()
    return given.fillna(rule.capacity).to_numpy(float), defaulted


def capacity_rows(
    reach: Reach,
    *,
    category: str,
    radius_m: float,
    compounds: pd.DataFrame,
    pois: pd.DataFrame,
    status: np.ndarray,
    standard: CapacityStandard,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """One category's supply–demand rows, one per compound, the pairs they come from and
    what was assumed.

    Parameters
    ----------
    reach
        Facility (POI position) × compound pairs within the radius, walk metres.
    category
        The category (a key of ``standard.rules``).
    radius_m
        Its radius, metres.
    compounds
        The compounds ``reach`` columns index (``id``, ``households`` …).
    pois
        The POIs ``reach`` rows index.
    status
        Each compound's gap status for the category.
    standard
        Demand figures and capacity rules.

    Returns
    -------
    rows, pairs, problems
        ``compound_id, category, unit, serves, people, need_places, places_per_person,
        accessible_places, shortfall_places, status, demand_basis, method``; the
        facility–compound pairs within the radius (``category, poi, facility,
        compound_id, walk_m, weight, places, places_default``); warnings for default
        capacities.
    """
    rule = standard.rules[category]
    people, need, basis = demand_of(compounds, rule, standard)
    places, defaulted = supply_of(pois, rule)
    weight = catchment_weight(reach.metres, radius_m, standard.decay)
    per_person, _ = fca_ratios(reach, places, need, radius_m=radius_m, weight=weight)
    names = pois["name"].astype(str).to_numpy() if "name" in pois else np.full(len(pois), "")
    pairs = pd.DataFrame(
        {
            "category": category,
            "poi": reach.row,
            "facility": names[reach.row],
            "compound_id": compounds["id"].astype(str).to_numpy()[reach.col],
            "walk_m": reach.metres,
            "weight": weight,
            "places": places[reach.row],
            "places_default": defaulted[reach.row],
        }
    )
    accessible = per_person * np.nan_to_num(need)
    short = np.maximum(np.nan_to_num(need) - accessible, 0.0)
    over = (status == "covered") & (per_person < 1.0) & (np.nan_to_num(need) > 0)
    method = "E2SFCA gaussian" if standard.decay == "gaussian" else "2SFCA"
    rows = pd.DataFrame(
        {
            "compound_id": compounds["id"].astype(str).to_numpy(),
            "category": category,
            "unit": rule.unit,
            "serves": rule.serves,
            "people": people,
            "need_places": need,
            "places_per_person": per_person,
            "accessible_places": np.round(accessible, 2),
            "shortfall_places": np.round(short, 2),
            "status": np.where(over, "covered_over_capacity", status),
            "demand_basis": basis,
            "method": method,
        }
    )
    problems = []
    used = np.unique(reach.row) if len(reach.row) else np.zeros(0, dtype=np.int64)
    n_default = int(defaulted[used].sum()) if len(used) else 0
    if n_default:
        problems.append(
            Problem.warning(
                "pois",
                f"{category}: {n_default} of {len(used)} facilities in reach of a compound "
                f"have no capacity in the data: {rule.capacity:g} {rule.unit} each "
                f"({rule.sources['capacity']})",
                column=", ".join(rule.columns + rule.classes),
                hint="give the places (学位/床位) or classes (班数) of each facility",
            )
        )
    return rows, pairs, problems
