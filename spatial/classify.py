"""Assign POIs to life-circle categories by the rules in the taxonomy data file.

In order: an explicit category column (ids or Chinese/English names); OSM tag rules
(``key=value`` or ``key=*``); Amap six-digit type codes (``090100`` matches every
``0901xx``); and, for POIs no tag or code placed, Chinese name keywords. A POI can
belong to several categories; POIs matching none are counted, never dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pandas as pd

from spatial.io.osm import POI_KEYS
from spatial.standards import Category, load_categories

__all__ = ["classify_pois"]

_SPLIT = re.compile(r"[;；,，、|/]+")
_TAG_COLUMNS = (*POI_KEYS, "highway", "railway", "station", "isced:level", "social_facility:for")


def _code_prefix(code: str) -> str:
    code = str(code).strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def _tags_of(row: pd.Series) -> dict[str, str]:
    tags: dict[str, str] = {}
    raw = row.get("tags")
    if isinstance(raw, str) and raw.startswith("{"):
        tags.update(json.loads(raw))
    for col in _TAG_COLUMNS:
        val = row.get(col)
        if isinstance(val, str) and val:
            tags.setdefault(col, val)
    return tags


def classify_pois(pois: pd.DataFrame, *, categories: Sequence[Category] | None = None) -> pd.Series:
    """Category ids of every POI, ``;``-joined (``""`` for none), indexed like ``pois``.

    Parameters
    ----------
    pois
        POIs with any of the columns ``category``, ``tags`` (OSM tags as JSON) or OSM
        tag columns, ``typecode`` (Amap) and ``name``.
    categories
        The taxonomy; default the shipped one.
    """
    cats = tuple(categories) if categories is not None else load_categories()
    by_name = {}
    for c in cats:
        for label in (c.id, c.zh, c.en):
            by_name[label.lower()] = c.id
    tag_rules = [(c.id, *rule.split("=", 1)) for c in cats for rule in c.osm if "=" in rule]
    code_rules = [(c.id, _code_prefix(code)) for c in cats for code in c.amap]
    out = []
    for _, row in pois.iterrows():
        found: list[str] = []
        explicit = row.get("category")
        if isinstance(explicit, str) and explicit.strip():
            found = [
                by_name[t.lower()] for t in _SPLIT.split(explicit.strip()) if t.lower() in by_name
            ]
        else:
            tags = _tags_of(row)
            found = [
                cid
                for cid, key, value in tag_rules
                if key in tags and (value == "*" or tags[key] == value)
            ]
            codes = row.get("typecode")
            if isinstance(codes, str) and codes.strip():
                for code in _SPLIT.split(codes.strip()):
                    found += [cid for cid, prefix in code_rules if code.startswith(prefix)]
            name = row.get("name")
            if not found and isinstance(name, str):
                found = [c.id for c in cats if any(k in name for k in c.keywords)]
        out.append(";".join(dict.fromkeys(found)))
    return pd.Series(out, index=pois.index, dtype=object)
