"""OpenStreetMap tag rules: which ways pedestrians may walk, which nodes are gates.

The walk rule is osmnx 2.1's ``network_type="walk"`` filter, applied while reading so
that building and landuse outlines, motorways and ``foot=no`` ways never become edges.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "BUILDING_ENTRANCES",
    "WALK_EXCLUDE",
    "WALK_THROUGH_BARRIERS",
    "is_gate",
    "is_walkable",
]

#: osmnx 2.1 ``network_type="walk"`` filter as (key, pattern): a way is excluded when
#: the key is present and the pattern is found in its value (Overpass ``!~`` semantics:
#: unanchored search, true when the key is absent). ``access`` is osmnx's default_access.
WALK_EXCLUDE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("area", re.compile("yes")),
    ("access", re.compile("private")),
    (
        "highway",
        re.compile(
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|"
            "platform|proposed|raceway|razed|rest_area|services"
        ),
    ),
    ("foot", re.compile("no")),
    ("service", re.compile("private")),
    ("sidewalk", re.compile("separate")),
    ("sidewalk:both", re.compile("separate")),
    ("sidewalk:left", re.compile("separate")),
    ("sidewalk:right", re.compile("separate")),
)


_OTHER_KEYS = frozenset(key for key, _ in WALK_EXCLUDE if key != "highway")
_HIGHWAY_EXCLUDE = dict(WALK_EXCLUDE)["highway"]
_HIGHWAY_VERDICT: dict[str, bool] = {}  # highway value -> walkable when no other key is set


def is_walkable(tags: Mapping[str, Any]) -> bool:
    """Tell whether a way with these OSM tags belongs to the walk network (osmnx "walk" rule).

    Parameters
    ----------
    tags
        The way's tags (missing values may be None or NaN, as in a table).

    Returns
    -------
    bool
        True for a ``highway=*`` way no exclusion of :data:`WALK_EXCLUDE` matches.
    """
    highway = tags.get("highway")
    if highway is None:
        return False
    if _OTHER_KEYS.isdisjoint(tags) and isinstance(highway, str):  # most streets
        verdict = _HIGHWAY_VERDICT.get(highway)
        if verdict is None:
            verdict = _HIGHWAY_VERDICT[highway] = not _HIGHWAY_EXCLUDE.search(highway)
        return verdict
    for key, pattern in WALK_EXCLUDE:
        value = tags.get(key)
        present = value is not None and not (isinstance(value, float) and np.isnan(value))
        if present and pattern.search(str(value)):
            return False
    return True


#: ``entrance=*`` values that open a building, not a compound's wall (OSM wiki Key:entrance)
BUILDING_ENTRANCES = frozenset({"staircase", "home", "garage", "emergency"})
#: ``barrier=*`` values people walk through
WALK_THROUGH_BARRIERS = frozenset({"gate", "lift_gate", "turnstile", "kissing_gate", "swing_gate"})


def is_gate(tags: Mapping[str, Any]) -> bool:
    """Tell whether a node with these tags is a gate or entrance (a compound access point).

    Parameters
    ----------
    tags
        The node's tags.

    Returns
    -------
    bool
        True for ``entrance=*`` other than a building's own (``staircase``, ``home``,
        ``garage``, ``emergency``) and for ``barrier=gate|lift_gate|turnstile|
        kissing_gate|swing_gate``. ``access=private|no`` is kept: such a gate is a way in
        for the compound's own residents, whose walks are the ones measured.
    """
    entrance = tags.get("entrance")
    if entrance is not None and entrance not in BUILDING_ENTRANCES:
        return True
    return tags.get("barrier") in WALK_THROUGH_BARRIERS
