"""Survey rows (台账) without coordinates linked to footprint polygons by their names.

Each row's name and each footprint's name are reduced by
:func:`spatial.io.survey.names.normalize_name`, without a unit written in front of them (某某社区,
某某街道, or any district, subdistrict or community named in the data), and compared
with rapidfuzz's ``ratio`` (0–1) over every pair at once (``process.cdist``). Where
both a row and a footprint carry a subdistrict (街道) or community (社区), only
footprints of the same one are candidates.
Footprints without a name of their own (OSM's placeholder 未命名小区 w…) are never
candidates.

A row is

- ``matched`` when its best score is ≥ ``accept``, leads the second best footprint by
  ``margin`` and the numbers in both names are the same (house numbers: 200号 is not
  2000号; method ``name_exact`` when the reduced names are equal, else
  ``name_similar``), unless another matched row claims the same footprint;
- ``review`` when its best score is ≥ ``review`` but it is not matched (too close to a
  second footprint, below ``accept``, or a footprint claimed twice): a planner decides,
  in ``review.xlsx``;
- ``unmatched`` otherwise.

The thresholds are data (``spatial/standards/matching.toml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.io.survey.names import normalize_name
from spatial.standards.files import read_toml

__all__ = [
    "MatchThresholds",
    "apply_review",
    "load_thresholds",
    "match_names",
    "place_by_address",
]


@dataclass(frozen=True)
class MatchThresholds:
    """Scores (0–1) that decide a match.

    Attributes
    ----------
    accept
        Best score from which a row is matched without review.
    margin
        How far the best must lead the second best footprint.
    review
        Best score from which a row goes to review rather than unmatched.
    candidates
        Candidates listed per row for review.
    """

    accept: float
    margin: float
    review: float
    candidates: int


def load_thresholds() -> MatchThresholds:
    """The shipped thresholds of ``matching.toml``.

    Returns
    -------
    MatchThresholds
        The figures.
    """
    data, _ = read_toml(None, default="matching.toml")
    t = data["thresholds"]
    return MatchThresholds(
        float(t["accept"]), float(t["margin"]), float(t["review"]), int(t["candidates"])
    )


#: A unit written in front of a compound's name: 某某社区 / 某某街道(办事处) / 某某居委会.
_UNIT_PREFIX = re.compile(r"^(.{2,12}?)(社区居委会|居委会|社区|街道办事处|街道办|街道)(.{2,})$")


def _unit_keys(rows: pd.DataFrame, footprints: pd.DataFrame) -> list[str]:
    """The reduced names of every district, subdistrict and community in the data,
    longest first."""
    found = {
        normalize_name(v)
        for frame in (rows, footprints)
        for col in ("district", "subdistrict", "community")
        if col in frame
        for v in frame[col].dropna().astype(str)
    }
    return sorted((u for u in found if len(u) >= 2), key=len, reverse=True)


def _without_unit(name: object, units: list[str]) -> str:
    """The reduced name without a unit written in front of it (某某社区阳光小区 → 阳光)."""
    written = _UNIT_PREFIX.match(str(name)) if isinstance(name, str) else None
    if written is not None and len(normalize_name(written.group(3))) >= 2:
        return normalize_name(written.group(3))
    key = normalize_name(name)
    for unit in units:
        if key.startswith(unit) and len(key) - len(unit) >= 2:
            return key[len(unit) :]
    return key


def _numbers(key: str) -> tuple[str, ...]:
    """The numbers in a reduced name (house numbers, phases): equal for a match."""
    return tuple(m.lstrip("0") or "0" for m in re.findall(r"\d+", key))


def _same_area(rows: pd.DataFrame, feet: pd.DataFrame) -> np.ndarray:
    """``(n_rows, n_footprints)``: False where both name an area and they differ."""
    ok = np.ones((len(rows), len(feet)), dtype=bool)
    for col in ("subdistrict", "community"):
        if col in rows and col in feet:
            a = rows[col].map(normalize_name).to_numpy(dtype=object)
            b = feet[col].map(normalize_name).to_numpy(dtype=object)
            known = (a != "")[:, None] & (b != "")[None, :]
            ok &= ~known | (a[:, None] == b[None, :])
    return ok


def match_names(
    rows: pd.DataFrame,
    footprints: pd.DataFrame,
    *,
    thresholds: MatchThresholds | None = None,
) -> pd.DataFrame:
    """Link each row to a footprint by name (the rules of the module text).

    Parameters
    ----------
    rows
        Survey rows with ``name`` (and optional ``subdistrict``, ``community``).
    footprints
        Footprints with ``id``, ``name`` (and optional ``subdistrict``, ``community``,
        ``name_source``: OSM's ``placeholder`` names are not used).
    thresholds
        Scores (default :func:`load_thresholds`).

    Returns
    -------
    DataFrame
        Indexed like ``rows``: ``footprint_id``, ``footprint_name``, ``match_status``
        (``matched``, ``review``, ``unmatched``), ``match_method`` (``name_exact``,
        ``name_similar``, ``""``), ``match_score`` (0–1), ``candidates`` (the best
        footprints ``id 名称 score``, ``;``-separated) and ``match_reason``.
    """
    from rapidfuzz import fuzz, process

    th = thresholds or load_thresholds()
    usable = footprints
    if "name_source" in footprints:
        usable = footprints[footprints["name_source"].astype(str) != "placeholder"]
    usable = usable[usable["name"].map(normalize_name) != ""]
    units = _unit_keys(rows, usable)
    keys = [_without_unit(n, units) for n in rows["name"]]
    names = [_without_unit(n, units) for n in usable["name"]]
    out = pd.DataFrame(
        {
            "footprint_id": None,
            "footprint_name": None,
            "match_status": "unmatched",
            "match_method": "",
            "match_score": 0.0,
            "candidates": "",
            "match_reason": "no footprint with a similar name",
        },
        index=rows.index,
    )
    if not len(rows) or not len(usable):
        if len(rows):
            out["match_reason"] = "no named footprints to match"
        return out
    score = process.cdist(keys, names, scorer=fuzz.ratio, dtype=np.float32) / 100.0
    score = np.where(_same_area(rows, usable), score, 0.0)
    score[np.array([k == "" for k in keys])] = 0.0
    # a footprint whose name has other numbers (200号 for 2000号) is never matched, nor
    # does it stand in the way of one that has the same numbers
    numbers_k = [_numbers(k) for k in keys]
    numbers_n = [_numbers(n) for n in names]
    codes = {t: c for c, t in enumerate(dict.fromkeys(numbers_k + numbers_n))}
    agree = (
        np.array([codes[t] for t in numbers_k])[:, None]
        == np.array([codes[t] for t in numbers_n])[None, :]
    )
    order = np.argsort(-score, axis=1, kind="stable")
    ids = usable["id"].astype(str).to_numpy()
    raw = usable["name"].astype(str).to_numpy()
    at = np.arange(len(rows))
    best = score[at, order[:, 0]]
    same = np.where(agree, score, 0.0)
    order_same = np.argsort(-same, axis=1, kind="stable")
    best_same = same[at, order_same[:, 0]]
    second_same = same[at, order_same[:, 1]] if same.shape[1] > 1 else np.zeros(len(rows))
    accepted = (best_same >= th.accept) & (best_same - second_same >= th.margin)
    # a matched row takes its number-agreeing footprint; any other shows its best one
    first = np.where(accepted, order_same[:, 0], order[:, 0])
    second = np.where(accepted, second_same, score[at, order[:, 1]] if score.shape[1] > 1 else 0)
    same_numbers = agree[at, first]
    claims = pd.Series(ids[first][accepted]).value_counts()
    twice = set(claims[claims > 1].index)
    for i, pos in enumerate(out.index):
        top = [j for j in order[i, : th.candidates] if score[i, j] >= th.review]
        out.at[pos, "candidates"] = "; ".join(f"{ids[j]} {raw[j]} {score[i, j]:.2f}" for j in top)
        out.at[pos, "match_score"] = round(float(best[i]), 3)
        if best[i] < th.review:
            continue
        j = first[i]
        out.at[pos, "footprint_id"], out.at[pos, "footprint_name"] = ids[j], raw[j]
        if accepted[i] and ids[j] not in twice:
            out.at[pos, "match_status"] = "matched"
            out.at[pos, "match_method"] = "name_exact" if keys[i] == names[j] else "name_similar"
            out.at[pos, "match_reason"] = ""
            continue
        out.at[pos, "match_status"] = "review"
        if not same_numbers[i]:
            said = "/".join(numbers_k[i]) or "none"
            theirs = "/".join(numbers_n[j]) or "none"
            reason = f"the numbers in the names differ ({said} vs {theirs})"
        elif accepted[i]:
            reason = f"footprint {ids[j]} is claimed by {claims[ids[j]]} rows"
        elif best[i] - second[i] < th.margin:
            reason = "two footprints are about as similar"
        else:
            reason = f"similar ({best[i]:.2f}) but below {th.accept:g}"
        out.at[pos, "match_reason"] = reason
    return out


_NONE = {"none", "无", "否", "no", "-", "unmatched", "不匹配"}


def apply_review(
    matches: pd.DataFrame, decisions: pd.DataFrame, footprints: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Apply a planner's decisions from ``review.xlsx``.

    Parameters
    ----------
    matches
        :func:`match_names` output, indexed by ``row_id``.
    decisions
        ``row_id`` and ``decision``: a footprint id, or ``none``/``无`` (no footprint);
        blank decisions are left as they were.
    footprints
        The footprints (``id``, ``name``).

    Returns
    -------
    matches, problems
        A copy with the decided rows ``matched`` (method ``review``) or ``unmatched``;
        and one text per decision that names an unknown row or footprint.
    """
    out = matches.copy()
    names = dict(zip(footprints["id"].astype(str), footprints["name"], strict=True))
    problems = []
    for k, r in enumerate(decisions.itertuples(index=False), start=2):
        row_id, decision = str(r.row_id).strip(), str(r.decision).strip()
        if decision in ("", "nan", "None"):
            continue
        if row_id not in out.index:
            problems.append(f"row {k}: no survey row {row_id!r}")
            continue
        if decision.lower() in _NONE:
            out.loc[row_id, ["footprint_id", "footprint_name"]] = None
            out.loc[row_id, ["match_status", "match_method"]] = ["unmatched", "review"]
            out.loc[row_id, "match_reason"] = "reviewed: no footprint"
        elif decision in names:
            out.loc[row_id, ["footprint_id", "footprint_name"]] = [decision, names[decision]]
            out.loc[row_id, ["match_status", "match_method"]] = ["matched", "review"]
            out.loc[row_id, "match_reason"] = ""
        else:
            problems.append(f"row {k}: footprint {decision!r} does not exist")
    return out, problems


def place_by_address(
    found: pd.DataFrame, points: pd.DataFrame, footprints: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Rows not matched by name, placed by their geocoded address.

    A precise point inside a footprint no other row holds matches it (method
    ``address``); inside a footprint already matched, the row goes to review; outside
    every footprint, the row keeps the point (status ``located``, method
    ``address_point``). Coarse or missing points leave the row as it was, with the
    reason.

    Parameters
    ----------
    found
        :func:`match_names`' result.
    points
        Indexed like ``found`` (the rows geocoded): ``lon``, ``lat`` (WGS84), ``level``,
        ``precise``.
    footprints
        The footprints (``id``, ``name``, geometry in any CRS).

    Returns
    -------
    DataFrame
        ``found`` with those rows updated and ``lon``, ``lat``, ``geocode_level`` added.
    """
    import shapely

    out = found.copy()
    for col, default in (("lon", np.nan), ("lat", np.nan), ("geocode_level", "")):
        out[col] = default
    if len(points) == 0:
        return out
    feet = footprints.to_crs("EPSG:4326")
    held = dict(zip(out["footprint_id"].astype(str), out.index, strict=False))
    held = {k: v for k, v in held.items() if out.at[v, "match_status"] == "matched"}
    ok = points[points["lon"].notna()]
    geoms = shapely.points(ok["lon"].to_numpy(), ok["lat"].to_numpy())
    inside, foot = feet.sindex.query(geoms, predicate="within")
    where = dict(zip(inside.tolist(), foot.tolist(), strict=False))
    for pos, (row, p) in enumerate(ok.iterrows()):
        out.loc[row, ["lon", "lat", "geocode_level"]] = [p["lon"], p["lat"], p["level"]]
        if not p["precise"]:
            out.at[row, "match_reason"] = (
                f"{out.at[row, 'match_reason']}; address placed only to the level "
                f"{p['level'] or '?'}"
            ).strip("; ")
            continue
        if pos not in where:
            out.loc[row, ["match_status", "match_method", "match_score"]] = [
                "located",
                "address_point",
                1.0,
            ]
            out.at[row, "match_reason"] = "the address point is outside every footprint"
            continue
        fid = str(feet["id"].iloc[where[pos]])
        other = held.get(fid)
        if other is not None and other != row:
            out.at[row, "match_status"] = "review"
            out.at[row, "match_reason"] = (
                f"the address falls in footprint {fid}, which row {other} holds already"
            )
            continue
        out.loc[row, ["match_status", "match_method", "match_score", "match_reason"]] = [
            "matched",
            "address",
            1.0,
            "",
        ]
        out.at[row, "footprint_id"] = fid
        out.at[row, "footprint_name"] = feet["name"].iloc[where[pos]]
        held[fid] = row
    return out
