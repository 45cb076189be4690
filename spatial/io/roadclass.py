"""Road classes of line layers: which column says the class, what 高速公路/主干路/fclass
values mean as OSM ``highway`` values, and which lines are bridges or tunnels.

The table is ``spatial/standards/road_classes.toml`` (with its sources); the osmnx walk
rule then decides what is walked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spatial._errors import Problem
from spatial.io.osm.tags import is_walkable
from spatial.standards.files import read_toml

__all__ = ["RoadClasses", "classify_lines", "line_levels", "load_road_classes"]

_OSM_HIGHWAYS = frozenset(
    [
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "pedestrian",
        "footway",
        "path",
        "steps",
        "track",
        "bridleway",
        "cycleway",
        "corridor",
        "road",
        "sidewalk",
        "crossing",
        "busway",
        "elevator",
        "construction",
        "proposed",
        "platform",
        "unknown",
    ]
)


@dataclass(frozen=True)
class RoadClasses:
    """How a line layer's columns tell road class and level (from ``road_classes.toml``).

    Attributes
    ----------
    columns
        Road-class columns looked for, first found wins.
    values
        Chinese class name → OSM ``highway`` value.
    not_roads
        Values whose lines are left out (railways, rivers).
    level_columns, bridge_columns, tunnel_columns
        Columns giving the vertical level, or flagging bridges and tunnels.
    true_values
        Values read as "yes" in bridge/tunnel columns.
    source
        The file the figures came from.
    """

    columns: tuple[str, ...]
    values: dict[str, str]
    not_roads: tuple[str, ...]
    level_columns: tuple[str, ...]
    bridge_columns: tuple[str, ...]
    tunnel_columns: tuple[str, ...]
    true_values: frozenset[str]
    source: str

    def highway(self, value: Any) -> str | None:
        """The OSM ``highway`` value of one road-class cell.

        Parameters
        ----------
        value
            The cell (Chinese class, OSM value, or empty).

        Returns
        -------
        str or None
            The OSM value; ``""`` for an empty cell; ``"no"`` for a value that is not a
            road; None when the value is not known.
        """
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        text = str(value).strip()
        if not text:
            return ""
        lower = text.lower()
        if lower in _OSM_HIGHWAYS or lower.startswith("track_grade"):
            return "track" if lower.startswith("track_grade") else lower
        if any(word in text for word in self.not_roads):
            return "no"
        if text in self.values:
            return self.values[text]
        found = [key for key in self.values if key in text]
        return self.values[max(found, key=len)] if found else None


def load_road_classes(path: str | Path | None = None) -> RoadClasses:
    """Read the road-class table (default ``spatial/standards/road_classes.toml``).

    Parameters
    ----------
    path
        A file of one's own with the same keys, or None for the shipped one.

    Returns
    -------
    RoadClasses
        The table.
    """
    data, where = read_toml(path, default="road_classes.toml")
    return RoadClasses(
        columns=tuple(data["columns"]),
        values={str(k): str(v) for k, v in data["values"].items()},
        not_roads=tuple(data.get("not_roads", ())),
        level_columns=tuple(data.get("level_columns", ())),
        bridge_columns=tuple(data.get("bridge_columns", ())),
        tunnel_columns=tuple(data.get("tunnel_columns", ())),
        true_values=frozenset(str(v).lower() for v in data.get("true_values", ())),
        source=where,
    )


def _find_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): str(c) for c in frame.columns if c != "geometry"}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def line_levels(frame: pd.DataFrame, classes: RoadClasses) -> tuple[np.ndarray, str | None]:
    """Vertical level per line: ``layer`` if given, else +1 bridge, -1 tunnel, else 0.

    Parameters
    ----------
    frame
        The line layer's attributes.
    classes
        The road-class table (names of level, bridge and tunnel columns).

    Returns
    -------
    level, columns
        ``(n,)`` integer levels, and the columns used (None when the layer has none).
    """
    level = np.zeros(len(frame), dtype=np.int64)
    used: list[str] = []
    col = _find_column(frame, classes.level_columns)
    if col is not None:
        level = pd.to_numeric(frame[col], errors="coerce").fillna(0).round().to_numpy(np.int64)
        used.append(col)
    for names, sign in ((classes.bridge_columns, 1), (classes.tunnel_columns, -1)):
        flag_col = _find_column(frame, names)
        if flag_col is None:
            continue
        flag = frame[flag_col].astype(str).str.strip().str.lower().isin(classes.true_values)
        level = np.where(flag.to_numpy() & (level == 0), sign, level)
        used.append(flag_col)
    return level, ", ".join(used) or None


def classify_lines(
    frame: pd.DataFrame, classes: RoadClasses, file: str
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """OSM ``highway`` value per line and whether the osmnx walk rule keeps it.

    Parameters
    ----------
    frame
        The line layer's attributes.
    classes
        The road-class table.
    file
        The layer's name in messages.

    Returns
    -------
    highway, walkable, problems
        ``(n,)`` OSM values (``"road"`` when unknown or empty), ``(n,)`` booleans, and
        warnings: no class column, values not known, lines left out.
    """
    problems: list[Problem] = []
    col = _find_column(frame, classes.columns)
    if col is None:
        problems.append(
            Problem.warning(
                file,
                "no road-class column found: every line is taken as walkable, motorways too",
                hint=f"add a column {classes.columns[:4]} with 高速公路/快速路/主干路/… values",
            )
        )
        highway = np.full(len(frame), "", dtype=object)
        return highway, np.ones(len(frame), dtype=bool), problems
    raw = frame[col]
    mapped = [classes.highway(v) for v in raw]
    unknown = Counter(str(v) for v, m in zip(raw, mapped, strict=True) if m is None)
    if unknown:
        shown = ", ".join(f"'{v}' ({n})" for v, n in unknown.most_common(5))
        problems.append(
            Problem.warning(
                file,
                f"{sum(unknown.values())} line(s) have a road class not known: {shown}; "
                "taken as walkable",
                column=col,
                hint=f"map the values in a copy of {classes.source}",
            )
        )
    highway = np.array([m if m else "road" for m in mapped], dtype=object)
    other = frame.drop(columns=[c for c in frame.columns if c == "geometry" or c == col])
    tags = other.to_dict("records") if len(other.columns) else [{} for _ in range(len(frame))]
    walk = np.array(
        [is_walkable({**t, "highway": h}) for t, h in zip(tags, highway, strict=True)], dtype=bool
    )
    left = Counter(str(v) for v, w in zip(raw, walk, strict=True) if not w)
    if left:
        shown = ", ".join(f"'{v}' ({n})" for v, n in left.most_common(5))
        problems.append(
            Problem.warning(
                file,
                f"{sum(left.values())} line(s) not walkable were left out: {shown}",
                column=col,
            )
        )
    return highway, walk, problems
