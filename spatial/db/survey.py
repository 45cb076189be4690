"""Import a survey round (调查摸底) of compounds: check everything, then write in one go.

Rows are checked as ``spatial validate`` checks a compound file, and against the
database: a round imported before, an id that changed, one name on two footprints, one
footprint claimed by two rows. Any error: nothing is written. Otherwise new compounds
are added and every changed value is kept in ``compound_history`` with when, who and the
source; a blank cell does not erase a known value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, insert, update

from spatial._errors import InputError, Problem, raise_for_errors
from spatial.db.connect import Database
from spatial.db.frames import geometry_param, plain, read_compounds, value_text
from spatial.db.rounds import add_round, file_sha256, next_round, round_problems
from spatial.db.schema import SURVEY_FIELDS, levels, same_footprint_share
from spatial.db.stamps import now_text, user_name
from spatial.io.survey.names import normalize_name

__all__ = ["ImportReport", "import_survey"]

_FIELDS = tuple(name for name, *_ in SURVEY_FIELDS)
_INTERNAL = {"source_file", "source_row", "geometry", "id"}
_LOADER_FLAGS = re.compile(r".+_approx$")  # flags the loader adds ("1990年代" → approximate)


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes
    ----------
    round_name
        The round's name.
    added, changed, unchanged
        Compounds added, with a changed value, and the same as before.
    values_changed
        History rows written.
    warnings
        Problems that did not stop the import.
    """

    round_name: str
    added: int
    changed: int
    unchanged: int
    values_changed: int
    warnings: list[Problem]


def _has_ids(path: Path, source_layer: str | None, sheet: str | int | None) -> bool:
    """Whether the file has an id column (else the loader made ids up: C00001 …)."""
    from spatial.io.readers import is_gis_file, pick_layer
    from spatial.io.survey.schema import map_columns
    from spatial.io.survey.tables import is_table_file, read_table

    try:
        if is_table_file(path):
            headers = list(read_table(path, sheet=sheet).columns)
        elif is_gis_file(path):
            import pyogrio

            layer, _ = pick_layer(path, "compounds", source_layer)
            headers = list(pyogrio.read_info(path, layer=layer)["fields"])
        else:  # OSM: ids are the elements' own
            return True
    except Exception:  # the loader reported why the file cannot be read
        return True
    return "id" in map_columns(headers, "compounds")[0].values()


def _overlaps(a: gpd.GeoSeries, b: gpd.GeoSeries, share: float) -> list[tuple[int, int]]:
    """Pairs (i in a, j in b) whose overlap is ``share`` of the smaller footprint or more."""
    if len(a) == 0 or len(b) == 0:
        return []
    left, right = a.to_crs(a.estimate_utm_crs()), b.to_crs(a.estimate_utm_crs())
    ia, ib = right.sindex.query(left.values, predicate="intersects")
    if len(ia) == 0:
        return []
    ga, gb = left.values[ia], right.values[ib]
    inter = shapely.area(shapely.intersection(ga, gb))
    small = np.minimum(shapely.area(ga), shapely.area(gb))
    keep = inter >= share * np.maximum(small, 1e-9)
    return list(zip(ia[keep].tolist(), ib[keep].tolist(), strict=True))


def _area_key(row: pd.Series) -> tuple[str, str]:
    return tuple(str(row.get(k) or "") for k in ("subdistrict", "community"))  # type: ignore[return-value]


def _identify(
    frame: gpd.GeoDataFrame,
    current: gpd.GeoDataFrame,
    source: str,
    round_fid: int,
    *,
    has_ids: bool,
) -> tuple[list[str], list[Problem]]:
    """The database id of every row, and the identity problems."""
    share = same_footprint_share()
    found: list[Problem] = []
    rows = frame["source_row"].astype(str).tolist()
    made = np.full(len(frame), not has_ids)
    known = set(current["id"].astype(str))
    ids = frame["id"].astype(str).tolist()
    # two rows, one footprint
    for i, j in _overlaps(frame.geometry, frame.geometry, share):
        if i < j:
            found.append(
                Problem.error(
                    source,
                    f"rows {rows[i]} and {rows[j]} ({frame['name'].iloc[i]} / "
                    f"{frame['name'].iloc[j]}) claim the same footprint",
                    row=rows[j],
                    column="geometry",
                    hint="one compound is one row: merge the rows, or correct one outline",
                )
            )
    # one name, two footprints
    keys = [
        (normalize_name(n), *_area_key(r))
        for n, (_, r) in zip(frame["name"], frame.iterrows(), strict=True)
    ]
    seen: dict[tuple[str, ...], int] = {}
    pairs = {(i, j) for i, j in _overlaps(frame.geometry, frame.geometry, share)}
    for j, key in enumerate(keys):
        if not key[0]:
            continue
        if key in seen and (seen[key], j) not in pairs:
            i = seen[key]
            found.append(
                Problem.error(
                    source,
                    f"the name {frame['name'].iloc[j]!r} is on two footprints (rows "
                    f"{rows[i]} and {rows[j]})",
                    row=rows[j],
                    column="name",
                    hint="tell them apart in the name (北区/南区, 1号院/2号院), or merge them",
                )
            )
        seen.setdefault(key, j)
    # ids against the database: same footprint or same name under another id
    by_foot: dict[int, list[int]] = {}
    for i, j in _overlaps(frame.geometry, current.geometry, share):
        by_foot.setdefault(i, []).append(j)
    cur_keys: dict[tuple[str, ...], list[int]] = {}
    for j, (_, r) in enumerate(current.iterrows()):
        k = (normalize_name(r["name"]), *_area_key(r))
        if k[0]:
            cur_keys.setdefault(k, []).append(j)
    out: list[str] = []
    for i in range(len(frame)):
        if not made[i] and ids[i] in known:
            out.append(ids[i])
            continue
        hits = by_foot.get(i) or cur_keys.get(keys[i], [])
        others = sorted({str(current["id"].iloc[j]) for j in hits})
        if len(others) > 1:
            found.append(
                Problem.error(
                    source,
                    f"{frame['name'].iloc[i]!r} matches {len(others)} compounds of the "
                    f"database ({', '.join(others)})",
                    row=rows[i],
                    column="id",
                    hint="give the row the id of the compound it is",
                )
            )
            out.append(ids[i])
        elif others and made[i]:
            out.append(others[0])  # no id in the file: the footprint or name says which
        elif others:
            found.append(
                Problem.error(
                    source,
                    f"id {ids[i]!r} is new, but the row is compound {others[0]} of the "
                    f"database ({frame['name'].iloc[i]}): an id that changed?",
                    row=rows[i],
                    column="id",
                    hint=f"keep the id {others[0]} (ids stay the same between rounds)",
                )
            )
            out.append(ids[i])
        else:
            out.append(f"R{round_fid}-{i + 1:05d}" if made[i] else ids[i])
    return out, found


def _matched_rows(frame: gpd.GeoDataFrame, source: str) -> list[Problem]:
    """Rows of a ``spatial match`` output that were not matched (no footprint yet); rows
    placed only by their address point are imported as points, with a warning."""
    if "match_status" not in frame:
        return []
    status = frame["match_status"].astype(str)
    points = frame[status == "located"]
    found = [
        Problem.warning(
            source,
            f"{r['name']!r} has only its address point, no footprint: imported as a point",
            row=str(r["source_row"]),
            column="match_status",
            hint="draw its outline and import it in a later round",
        )
        for _, r in points.iterrows()
    ]
    bad = frame[~status.isin(["matched", "located"])]
    return found + [
        Problem.error(
            source,
            f"{r['name']!r} is {r['match_status']}, not matched to a footprint",
            row=str(r["source_row"]),
            column="match_status",
            hint="decide it in review.xlsx and run spatial match --review first",
        )
        for _, r in bad.iterrows()
    ]


def _survey_values(frame: gpd.GeoDataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Typed survey columns (city/province lifted from 市/省 headers) and the extras."""
    values = pd.DataFrame(index=frame.index)
    lifted: set[str] = set()
    for level in levels():
        if level.column in frame:
            values[level.column] = frame[level.column]
        else:
            for header in level.headers:
                if header in frame and header not in lifted:
                    values[level.column] = frame[header]
                    lifted.add(header)
                    break
    for name in _FIELDS:
        if name in frame and name not in values:
            values[name] = frame[name]
    other = [
        c
        for c in frame.columns
        if c not in _INTERNAL
        and c not in _FIELDS
        and c not in lifted
        and not _LOADER_FLAGS.match(str(c))
    ]
    extras = [
        {c: v for c in other if (v := value_text(row[c])) is not None}
        for _, row in frame[other].iterrows()
    ]
    return values, extras


def import_survey(
    db: Database,
    path: str | Path,
    *,
    round_name: str,
    surveyed_on: str | None = None,
    by: str | None = None,
    source_layer: str | None = None,
    sheet: str | int | None = None,
    coords: str = "wgs84",
) -> ImportReport:
    """Import a survey table or layer of compounds as one round.

    Parameters
    ----------
    db
        The database.
    path
        A compound file as ``spatial gaps --compounds`` reads it (GeoPackage, shapefile,
        GeoJSON, CSV/Excel with 经度/纬度 or WKT, or ``matched.gpkg`` of ``spatial
        match``).
    round_name
        Name of the round (e.g. ``2025年调查``); a name is used once.
    surveyed_on
        Date of the survey (ISO text); default today.
    by
        Who imports (default ``SPATIAL_USER`` or the login name).
    source_layer, sheet, coords
        As for :func:`spatial.io.load.check_file`.

    Returns
    -------
    ImportReport
        Counts and warnings.

    Raises
    ------
    InputError
        Every problem of the file and against the database; nothing is written.
    """
    from spatial.io.load import check_file

    path = Path(path)
    loaded = check_file(path, "compounds", source_layer=source_layer, sheet=sheet, coords=coords)
    problems = list(loaded.problems)
    source = str(path)
    sha = file_sha256(path) if path.is_file() else ""
    when, who = now_text(), by or user_name()
    with db.writing() as conn:
        problems += round_problems(
            conn, db, name=round_name, sha256=sha, kind="survey", source=source
        )
        if loaded.frame is None:
            raise_for_errors(problems)
            raise InputError(problems)
        frame = loaded.frame.to_crs(4326)
        problems += _matched_rows(frame, source)
        current = read_compounds(conn, db, expand=False)
        round_fid = next_round(conn, db)
        ids, found = _identify(
            frame, current, source, round_fid, has_ids=_has_ids(path, source_layer, sheet)
        )
        raise_for_errors([*problems, *found])
        add_round(
            conn,
            db,
            fid=round_fid,
            name=round_name,
            kind="survey",
            path=path,
            rows=len(frame),
            by=who,
            surveyed_on=surveyed_on,
        )
        counts = _write(
            conn, db, frame, ids, current, round_fid=round_fid, when=when, who=who, src=path.name
        )
    warnings = [p for p in problems if p.severity == "warning"]
    return ImportReport(round_name, *counts, warnings)


def _write(
    conn: Connection,
    db: Database,
    frame: gpd.GeoDataFrame,
    ids: list[str],
    current: gpd.GeoDataFrame,
    *,
    round_fid: int,
    when: str,
    who: str,
    src: str,
) -> tuple[int, int, int, int]:
    values, extras = _survey_values(frame)
    table, history = db.table("compounds"), db.table("compound_history")
    old = current.set_index(current["id"].astype(str))
    new_rows, changes = [], []
    changed = unchanged = 0
    for pos, cid in enumerate(ids):
        record = {str(k): plain(v) for k, v in values.iloc[pos].items() if plain(v) is not None}
        geom = frame.geometry.iloc[pos]
        if cid not in old.index:
            new_rows.append(
                {
                    "compound_id": cid,
                    **record,
                    "extra": json.dumps(extras[pos], ensure_ascii=False) if extras[pos] else None,
                    "round_id": round_fid,
                    "geom": geometry_param(db, geom),
                }
            )
            changes.append(
                {"compound_id": cid, "field": "(新增 added)", "new_value": record.get("name")}
            )
            continue
        before = old.loc[cid]
        diff = {k: v for k, v in record.items() if value_text(before.get(k)) != value_text(v)}
        was = json.loads(before["extra"]) if before.get("extra") else {}
        merged = {**was, **extras[pos]}
        rows = [
            {
                "compound_id": cid,
                "field": k,
                "old_value": value_text(before.get(k)),
                "new_value": value_text(v),
            }
            for k, v in diff.items()
        ]
        rows += [
            {"compound_id": cid, "field": f"extra.{k}", "old_value": was.get(k), "new_value": v}
            for k, v in extras[pos].items()
            if was.get(k) != v
        ]
        old_geom = before["geometry"]
        if old_geom is None or not shapely.equals_exact(old_geom, geom, tolerance=1e-7):
            rows.append(
                {
                    "compound_id": cid,
                    "field": "geometry",
                    "old_value": value_text(old_geom),
                    "new_value": value_text(geom),
                }
            )
            diff["geom"] = geometry_param(db, geom)
        if not rows:
            unchanged += 1
            continue
        changed += 1
        changes += rows
        if merged != was:
            diff["extra"] = json.dumps(merged, ensure_ascii=False)
        diff["round_id"] = round_fid
        conn.execute(update(table).where(table.c.compound_id == cid).values(**diff))
    if new_rows:
        keys = sorted({k for r in new_rows for k in r})
        conn.execute(insert(table), [{k: r.get(k) for k in keys} for r in new_rows])
    if changes:
        stamp = {"round_id": round_fid, "changed_at": when, "changed_by": who, "source": src}
        full = [{"old_value": None, "new_value": None, **c, **stamp} for c in changes]
        conn.execute(insert(history), full)
    return len(new_rows), changed, unchanged, len(changes)
