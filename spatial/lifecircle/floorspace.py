"""Facility floor area and land: the supply side of the 千人指标 of GB 50180-2018
(``spatial/standards/floorspace.toml``).

A facility's floor area (建筑面积) and land (用地面积) come from its data columns, else
from the default scale of its category (each figure with its source); the standard's
minimum per 1,000 residents is given per life-circle level (表5.0.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spatial._errors import InputError, Problem
from spatial.lifecircle.capacity import first_number
from spatial.standards.files import read_toml
from spatial.standards.lifecircle import Category

__all__ = [
    "FLOOR_COLUMNS",
    "LAND_COLUMNS",
    "AreaRule",
    "FloorspaceStandard",
    "LevelMinimum",
    "facility_areas",
    "load_floorspace",
]

#: Data columns giving a facility's floor area (m²), first positive number wins.
FLOOR_COLUMNS = ("floor_area_m2", "建筑面积", "floor_area", "gfa")
#: Data columns giving a facility's land (m²).
LAND_COLUMNS = ("land_area_m2", "用地面积", "占地面积", "land_area")
_LEVELS = ("15min", "10min", "5min", "block")
_SCALES = ("community", "subdistrict")


@dataclass(frozen=True)
class LevelMinimum:
    """The standard's figures of one life-circle level.

    Attributes
    ----------
    level, zh
        ``15min``, ``10min``, ``5min`` or ``block``, and its Chinese name.
    scale
        The unit it is checked in: ``community`` (社区) or ``subdistrict`` (街道).
    land_per_1000, floor_per_1000
        ``(minimum, maximum)`` m² per 1,000 residents.
    sources
        ``land_per_1000`` / ``floor_per_1000`` → where the figure comes from.
    """

    level: str
    zh: str
    scale: str
    land_per_1000: tuple[float, float]
    floor_per_1000: tuple[float, float]
    sources: Mapping[str, str]


@dataclass(frozen=True)
class AreaRule:
    """A category's default scale.

    Attributes
    ----------
    category
        The category id.
    floor_m2, land_m2
        One facility's floor area (建筑面积) and land (用地面积), m² (0: none of its own).
    sources
        ``floor_m2`` / ``land_m2`` → where the figure comes from.
    """

    category: str
    floor_m2: float
    land_m2: float
    sources: Mapping[str, str]


@dataclass(frozen=True)
class FloorspaceStandard:
    """The 千人指标 figures.

    Attributes
    ----------
    standard
        What the figures transcribe.
    note
        What a reader of the figures should know (how far they are checked).
    assign_within_m
        A facility counts for the unit of the nearest compound within this distance (m).
    levels, rules
        Per level the minima; per category the default scale.
    sources
        ``assign_within_m`` → its source.
    path
        The file read (the shipped file's name when it is the shipped one).
    """

    standard: str
    note: str
    assign_within_m: float
    levels: Mapping[str, LevelMinimum]
    rules: Mapping[str, AreaRule]
    sources: Mapping[str, str]
    path: str


def _figure(
    table: Mapping[str, Any], key: str, where: str, problems: list[Problem], *, pair: bool = False
) -> tuple[Any, str]:
    item = table.get(key)
    if not isinstance(item, dict) or "value" not in item or "source" not in item:
        problems.append(
            Problem.error(
                where,
                f'{key} needs {{ value = …, source = "…" }}',
                column=key,
                hint="every figure says where it comes from",
            )
        )
        return ((0.0, 0.0) if pair else 0.0), ""
    value = item["value"]
    numbers = value if pair else [value]
    ok = isinstance(numbers, list) and len(numbers) == (2 if pair else 1)
    ok = ok and all(isinstance(v, (int, float)) and v >= 0 for v in numbers)
    if not ok:
        what = "[minimum, maximum], numbers ≥ 0" if pair else "a number ≥ 0"
        problems.append(Problem.error(where, f"{key} must be {what}: {value!r}", column=key))
        return ((0.0, 0.0) if pair else 0.0), ""
    if pair:
        return (float(numbers[0]), float(numbers[1])), str(item["source"])
    return float(value), str(item["source"])


def load_floorspace(path: str | Path | None = None) -> FloorspaceStandard:
    """Read the 千人指标 figures (default ``spatial/standards/floorspace.toml``).

    Parameters
    ----------
    path
        A file like the shipped one (a city's own 千人指标).

    Returns
    -------
    FloorspaceStandard

    Raises
    ------
    InputError
        Every figure without value or source, out of range, and every unknown level or
        scale, at once.
    """
    data, where = read_toml(path, default="floorspace.toml")
    problems: list[Problem] = []
    meta = data.get("meta", {})
    within, within_src = _figure(meta, "assign_within_m", where, problems)
    levels = {}
    for level, table in data.get("level", {}).items():
        if level not in _LEVELS:
            problems.append(
                Problem.error(where, f"level.{level}: one of {', '.join(_LEVELS)}", column=level)
            )
            continue
        scale = str(table.get("scale", ""))
        if scale not in _SCALES:
            problems.append(
                Problem.error(
                    where, f"level.{level}.scale {scale!r}: community or subdistrict", column=level
                )
            )
        land, land_src = _figure(table, "land_per_1000", where, problems, pair=True)
        floor, floor_src = _figure(table, "floor_per_1000", where, problems, pair=True)
        levels[level] = LevelMinimum(
            level,
            str(table.get("zh", level)),
            scale,
            land,
            floor,
            {"land_per_1000": land_src, "floor_per_1000": floor_src},
        )
    rules = {}
    for cat, table in data.get("category", {}).items():
        floor_m2, floor_src = _figure(table, "floor_m2", where, problems)
        land_m2, land_src = _figure(table, "land_m2", where, problems)
        rules[cat] = AreaRule(cat, floor_m2, land_m2, {"floor_m2": floor_src, "land_m2": land_src})
    if problems:
        raise InputError(problems)
    return FloorspaceStandard(
        str(meta.get("standard", "")),
        str(meta.get("note", "")),
        float(within),
        levels,
        rules,
        {"assign_within_m": within_src},
        where,
    )


def facility_areas(
    pois: pd.DataFrame,
    *,
    categories: Sequence[Category],
    standard: FloorspaceStandard,
) -> pd.DataFrame:
    """Floor area and land of every facility of a category with a default scale.

    Parameters
    ----------
    pois
        POIs with ``categories`` (``;``-joined ids, as ``spatial gaps`` writes them) and
        any data columns (:data:`FLOOR_COLUMNS`, :data:`LAND_COLUMNS`); a POI in two
        categories counts in each.
    categories
        The run's taxonomy (each category's ``level``).
    standard
        Default scales.

    Returns
    -------
    pandas.DataFrame
        One row per POI and category: ``poi`` (the POI's row position), ``category``,
        ``level``, ``floor_m2``, ``land_m2``, ``floor_default`` and ``land_default``
        (the default scale was used).
    """
    level_of = {c.id: c.level for c in categories}
    floor_given = first_number(pois, FLOOR_COLUMNS).to_numpy()
    land_given = first_number(pois, LAND_COLUMNS).to_numpy()
    ids = pd.Series(pois["categories"].fillna("").astype(str).to_numpy()).str.split(";")
    rows = ids.explode()  # indexed by the POI's row position
    rows = rows[rows.isin([c for c in standard.rules if c in level_of])]
    pos = rows.index.to_numpy(dtype=np.int64)
    cats = rows.to_numpy(dtype=object)
    default_floor = np.array([standard.rules[c].floor_m2 for c in cats], dtype=float)
    default_land = np.array([standard.rules[c].land_m2 for c in cats], dtype=float)
    floor, land = floor_given[pos], land_given[pos]
    table: pd.DataFrame = pd.DataFrame(
        {
            "poi": pos,
            "category": cats,
            "level": [level_of[c] for c in cats],
            "floor_m2": np.where(np.isnan(floor), default_floor, floor),
            "land_m2": np.where(np.isnan(land), default_land, land),
            "floor_default": np.isnan(floor),
            "land_default": np.isnan(land),
        }
    )
    return table
