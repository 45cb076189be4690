"""Facilities (POIs) from several sources: classify, de-duplicate, report.

Planners hold POIs from OpenStreetMap and from Amap (高德) or Baidu exports. The same
kindergarten then appears two or three times, under slightly different names and a
few metres apart; counted twice it would hide nothing in the gap analysis but would
inflate facility counts and siting statistics, so duplicates are merged.

Classification. Assign POIs to life-circle categories by the rules in the taxonomy data file.

In order: an explicit category column (ids or Chinese/English names); OSM tag rules
(``key=value`` or ``key=*``); Amap six-digit type codes (``090100`` matches every
``0901xx``); and, for POIs no tag or code placed, Chinese name keywords. A POI can
belong to several categories; POIs matching none are counted, never dropped silently.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from spatial._errors import Problem
from spatial.io.crs.chinese import in_china
from spatial.io.crs.projection import to_metric
from spatial.io.osm.read import POI_KEYS
from spatial.lifecircle.schools import (
    is_school,
    level_categories,
    named_category,
    school_levels,
)
from spatial.standards import Category, load_categories

__all__ = [
    "SCHOOL_UNKNOWN",
    "PoiReport",
    "classify_pois",
    "deduplicate",
    "normalize_name",
    "poi_problems",
    "prepare_pois",
    "unknown_level_schools",
]

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


SCHOOL_UNKNOWN = {"none": (), "primary": ("primary",), "junior": ("junior",)}
SCHOOL_UNKNOWN["both"] = ("primary", "junior")


def classify_pois(
    pois: pd.DataFrame,
    *,
    categories: Sequence[Category] | None = None,
    school_unknown: str = "none",
) -> pd.Series:
    """Category ids of every POI, ``;``-joined, indexed like ``pois``.

    Parameters
    ----------
    pois
        POIs with any of the columns ``category``, ``tags`` (OSM tags as JSON) or OSM
        tag columns, ``typecode`` (Amap) and ``name``.
    categories
        The taxonomy; default the shipped one.
    school_unknown
        What a school of unknown level (:func:`~spatial.lifecircle.schools.school_levels`
        is None) counts as: ``none``, ``primary``, ``junior`` or ``both``.

    Returns
    -------
    Series of str
        e.g. ``"kindergarten;primary_school"``; ``""`` for a POI of no category. A
        school's levels come from its tags and name, not from the keyword rules.
    """
    if school_unknown not in SCHOOL_UNKNOWN:
        raise ValueError(f"school_unknown must be one of {', '.join(SCHOOL_UNKNOWN)}")
    cats = tuple(categories) if categories is not None else load_categories()
    by_name = {}
    for c in cats:
        for label in (c.id, c.zh, c.en):
            by_name[label.lower()] = c.id
    tag_rules = [(c.id, *rule.split("=", 1)) for c in cats for rule in c.osm if "=" in rule]
    code_rules = [(c.id, _code_prefix(code)) for c in cats for code in c.amap]
    level_ids, known = level_categories(), {c.id for c in cats}
    explicit = (
        pois["category"].to_numpy(dtype=object)
        if "category" in pois
        else np.full(len(pois), None, dtype=object)
    )
    given = np.array([isinstance(v, str) and bool(v.strip()) for v in explicit], dtype=bool)
    out = np.full(len(pois), "", dtype=object)
    # a user's category column: each distinct value is read once
    by_value = {
        v: ";".join(
            dict.fromkeys(
                by_name[t.lower()] for t in _SPLIT.split(v.strip()) if t.lower() in by_name
            )
        )
        for v in pd.unique(explicit[given])
    }
    out[given] = [by_value[v] for v in explicit[given]]
    rest = np.flatnonzero(~given)
    for pos, row in zip(rest, pois.iloc[rest].to_dict("records"), strict=True):
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
        by_keyword = not found and isinstance(name, str)
        if by_keyword:
            found = [c.id for c in cats if any(k in name for k in c.keywords)]
        named = named_category(name)
        if named is not None and named in known:  # a 幼儿园 tagged amenity=school
            found = [named]
        elif is_school(tags, codes):
            levels = school_levels(tags, name if isinstance(name, str) else None)
            taught = SCHOOL_UNKNOWN[school_unknown] if levels is None else levels
            # a school's name tells its level, not other categories (幼儿园路小学)
            found = [] if by_keyword else [c for c in found if c not in level_ids.values()]
            found += [level_ids[lv] for lv in taught if level_ids.get(lv) in known]
        out[pos] = ";".join(dict.fromkeys(found))
    return pd.Series(out, index=pois.index, dtype=object)


def unknown_level_schools(pois: pd.DataFrame) -> pd.Series:
    """True for schools whose level neither tags nor name say, indexed like ``pois``.

    Parameters
    ----------
    pois
        POIs as for :func:`classify_pois`.

    Returns
    -------
    Series of bool
    """
    flags = pd.Series(False, index=pois.index, dtype=bool)
    given = (
        pois["category"].map(lambda v: isinstance(v, str) and bool(v.strip()))
        if "category" in pois
        else pd.Series(False, index=pois.index)
    )
    rest = np.flatnonzero(~given.to_numpy())  # rows a user's category settles are skipped
    for pos, row in zip(rest, pois.iloc[rest].to_dict("records"), strict=True):
        tags = _tags_of(row)
        name = row.get("name")
        flags.iloc[pos] = bool(
            is_school(tags, row.get("typecode"))
            and named_category(name) is None
            and school_levels(tags, name if isinstance(name, str) else None) is None
        )
    return flags


_BRANCH = re.compile(r"\(.*?\)|（.*?）|\[.*?\]|【.*?】")
_PUNCT = re.compile(r"[\s·•・\-_.,，。、/\\|'\"“”‘’]+")


def normalize_name(name: object) -> str:
    """Name for comparison: NFKC, no branch suffix in brackets, no spaces or punctuation.

    Parameters
    ----------
    name
        A POI name (anything; missing gives ``""``).

    Returns
    -------
    str
        The normalised name, lower case.
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKC", name).lower()
    return _PUNCT.sub("", _BRANCH.sub("", text))


def _alike(a: str, b: str, threshold: float) -> bool:
    if not a or not b:
        return not a and not b
    if a in b or b in a:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= threshold


def deduplicate(
    pois: gpd.GeoDataFrame,
    *,
    distance_m: float = 50.0,
    name_similarity: float = 0.6,
    category_column: str = "category",
    categories: Sequence[Category] | None = None,
) -> gpd.GeoDataFrame:
    """Merge records of the same facility: same category, names alike, close together.

    Parameters
    ----------
    pois
        POIs with ``name`` and ``category`` (ids joined by ``;``), any CRS.
    distance_m
        Records farther apart than this (metres) are never merged.
    name_similarity
        Minimum :class:`difflib.SequenceMatcher` ratio of normalised names with the
        category words (幼儿园, 便利店 …) removed; a name containing the other also
        counts, and two names with nothing left (or unnamed) count as alike.
    category_column
        Column holding the ``;``-joined category ids.
    categories
        The taxonomy whose names and keywords are generic words; default the shipped one.

    Returns
    -------
    GeoDataFrame
        The first record of every group (input order decides: list the most trusted
        source first), indexed like the input, with ``duplicates`` (how many records
        were merged into it) and ``merged_ids`` (their ids, ``;``-joined).
    """
    metric = to_metric(pois) if not pois.crs.is_projected else pois
    pts = shapely.get_coordinates(metric.geometry.representative_point().values)
    generic = sorted(
        {normalize_name(w) for c in categories or load_categories() for w in (c.zh, *c.keywords)},
        key=len,
        reverse=True,
    )
    pattern = re.compile("|".join(re.escape(w) for w in generic if w))
    # Compare what distinguishes names: "阳光幼儿园" vs "育才幼儿园" differ in 阳光/育才.
    names = [
        pattern.sub("", normalize_name(n)) for n in pois.get("name", pd.Series(index=pois.index))
    ]
    cats = [set(str(c).split(";")) - {""} for c in pois[category_column].fillna("")]
    tree = shapely.STRtree(shapely.points(pts))
    left, right = tree.query(shapely.points(pts), predicate="dwithin", distance=distance_m)
    keep = left < right
    pairs = [
        (i, j)
        for i, j in zip(left[keep].tolist(), right[keep].tolist(), strict=True)
        if cats[i] & cats[j] and _alike(names[i], names[j], name_similarity)
    ]
    n = len(pois)
    if pairs:
        a, b = np.array(pairs).T
        graph = coo_array((np.ones(len(a)), (a, b)), shape=(n, n))
        _, group = connected_components(graph, directed=False)
    else:
        group = np.arange(n)
    first = pd.Series(np.arange(n)).groupby(group).transform("min").to_numpy()
    ids = pois["id"].astype(str).to_numpy() if "id" in pois else np.arange(n).astype(str)
    merged = pd.Series(ids).groupby(first).apply(lambda s: ";".join(s.iloc[1:]))
    out = pois.iloc[np.flatnonzero(first == np.arange(n))].copy()
    pos = np.flatnonzero(first == np.arange(n))
    out["duplicates"] = pd.Series(first).value_counts().reindex(pos).to_numpy() - 1
    out["merged_ids"] = merged.reindex(pos).to_numpy()
    return out


@dataclass
class PoiReport:
    """What :func:`prepare_pois` found: counts per category and what was left out.

    Attributes
    ----------
    per_category
        ``category``, labels and counts of POIs per category (empty ones included).
    unmatched
        POIs that match no category.
    n_input
        POIs read.
    n_duplicates
        POIs dropped as duplicates (same category and name nearby).
    n_outside
        POIs dropped outside the study area.
    """

    per_category: pd.DataFrame
    unmatched: pd.DataFrame
    n_input: int
    n_duplicates: int
    n_outside: int


def prepare_pois(
    pois: gpd.GeoDataFrame,
    *,
    categories: Sequence[Category] | None = None,
    distance_m: float = 50.0,
    area: shapely.Geometry | None = None,
) -> tuple[gpd.GeoDataFrame, PoiReport]:
    """Classify POIs, drop those off the map, merge duplicates, and count per category.

    Parameters
    ----------
    pois
        POIs from one or several sources (concatenated; most trusted source first).
    categories
        The taxonomy; default the shipped one.
    distance_m
        De-duplication distance in metres.
    area
        Study area in the POIs' CRS; POIs outside it (or outside China) are off the map.

    Returns
    -------
    pois, report
        The kept POIs with ``category`` (ids ``;``-joined, ``""`` if none) and the report.
    """
    cats = tuple(categories) if categories is not None else load_categories()
    out = pois.copy()
    out["category"] = classify_pois(out, categories=cats)
    wgs = out.geometry.to_crs(4326).representative_point()
    outside = ~in_china(wgs.x.to_numpy(), wgs.y.to_numpy())
    if area is not None:
        outside |= ~out.geometry.intersects(area).to_numpy()
    kept = out.loc[~outside]
    matched = kept[kept["category"] != ""]
    merged = (
        deduplicate(matched, distance_m=distance_m, categories=cats) if len(matched) else (matched)
    )
    unmatched = kept[kept["category"] == ""]
    label = "type" if "type" in unmatched else "name"
    rows = []
    for cat in cats:
        has = merged["category"].str.split(";").apply(lambda ids, c=cat.id: c in ids)
        rows.append({"category": cat.id, "zh": cat.zh, "en": cat.en, "pois": int(has.sum())})
    report = PoiReport(
        per_category=pd.DataFrame(rows),
        unmatched=(
            unmatched[label]
            .fillna("(none)")
            .value_counts()
            .rename_axis(label)
            .reset_index(name="pois")
        ),
        n_input=len(pois),
        n_duplicates=int(merged["duplicates"].sum()) if len(merged) else 0,
        n_outside=int(outside.sum()),
    )
    result = pd.concat([merged, unmatched.assign(duplicates=0, merged_ids="")])
    return gpd.GeoDataFrame(result, geometry="geometry", crs=pois.crs), report


_SCHOOL_AS = {
    "none": "neither primary nor junior school",
    "primary": "a primary school (--school-unknown primary)",
    "junior": "a junior school (--school-unknown junior)",
    "both": "both levels (--school-unknown both)",
}


def poi_problems(pois: pd.DataFrame, *, school_unknown: str, snap_limit_m: float) -> list[Problem]:
    """What the POIs' classification and attachment leave out or assume.

    Parameters
    ----------
    pois
        Classified POIs (``categories``, ``attached``, ``name``).
    school_unknown
        What a school of unknown level counts as.
    snap_limit_m
        The snap limit POIs were attached with, metres (for the message).

    Returns
    -------
    list of Problem
        Warnings: schools of unknown level, POIs off the network.
    """
    found: list[Problem] = []
    for pos in np.flatnonzero(unknown_level_schools(pois).to_numpy()):
        found.append(
            Problem.warning(
                "pois",
                f"{str(pois.at[pos, 'name']) if 'name' in pois else 'a school'}: a school "
                "of unknown level (no isced:level/grades tag, no 小学/中学 … in its name): "
                f"counted as {_SCHOOL_AS[school_unknown]}",
                row=str(pois.at[pos, "id"]) if "id" in pois else str(pos),
                column="category",
                hint="tag isced:level (1 primary, 2 junior) or use --school-unknown",
            )
        )
    n_off = int((~pois["attached"] & (pois["categories"] != "")).sum())
    if n_off:
        found.append(
            Problem.warning(
                "pois",
                f"{n_off} POI(s) are more than {snap_limit_m:g} m from the walk "
                "network and were left out",
                hint="see pois.attached == False",
            )
        )
    n_unmatched = int((pois["categories"] == "").sum())
    if n_unmatched:
        found.append(
            Problem.warning(
                "pois",
                f"{n_unmatched} POI(s) match no life-circle category",
                hint="see the classification rules in spatial/standards",
            )
        )
    return found
