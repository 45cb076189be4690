"""Runs of ``gaps`` and ``plan`` written back into the database, and read from it.

A gaps run keeps ``gap_results`` (the rows of ``gaps.csv``, queryable) and its layers
(compounds with their gaps, POIs, service areas, map context, summary) in ``run_layers``, each row's
attributes as JSON with the column types, so that ``plan --db`` and ``map --db`` read
back exactly the tables ``plan --gaps`` and ``map --gaps`` read from the folder. A plan
run keeps ``plan_results`` and marks the planned compounds 计划 in their plan year.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import insert, select

from spatial._errors import InputError, Problem
from spatial.db.connect import Database
from spatial.db.frames import geometry_param, geometry_value, plain, read_compounds, read_table
from spatial.db.schema import SRID
from spatial.db.stamps import now_text, user_name

__all__ = [
    "compounds_file",
    "latest_run",
    "load_gap_tables_db",
    "record_map",
    "save_gap_run",
    "save_plan_run",
]

_GAP_FILES = {"compounds": ("compounds.gpkg", "compounds"), "pois": ("compounds.gpkg", "pois")}


@contextmanager
def compounds_file(db: Database) -> Iterator[Path]:
    """The database's compounds as a temporary GeoPackage (layer ``compounds``).

    Runs read it through the same loader and checks as a compound file, so a run from
    the database and one from the exported file give the same result.

    Parameters
    ----------
    db
        The database.

    Yields
    ------
    Path
        The file (removed afterwards).
    """
    from spatial.io.outputs.write import write_gpkg

    with db.reading() as conn:
        comp = read_compounds(conn, db)
    if len(comp) == 0:
        raise InputError(
            [
                Problem.error(
                    db.label,
                    "the database holds no compounds",
                    hint=f"import a survey first: spatial db import 台账.gpkg --db {db.label}",
                )
            ]
        )
    comp = comp.drop(columns=["status", "status_year"])
    with tempfile.TemporaryDirectory(prefix="spatial-db-") as tmp:
        path = write_gpkg({"compounds": comp}, Path(tmp) / "compounds.gpkg")
        yield path


def _records(frame: pd.DataFrame) -> list[str]:
    cols = [c for c in frame.columns if c != "geometry"]
    return [
        json.dumps({c: plain(v) for c, v in zip(cols, row, strict=True)}, ensure_ascii=False)
        for row in frame[cols].itertuples(index=False, name=None)
    ]


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): str(t) for c, t in frame.dtypes.items() if c != "geometry"}


def _layer_rows(db: Database, run_id: int, name: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    geoms = frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else [None] * len(frame)
    return [
        {"run_id": run_id, "layer": name, "seq": i, "attrs": a, "geom": geometry_param(db, g)}
        for i, (a, g) in enumerate(zip(_records(frame), geoms, strict=True))
    ]


def _new_run(conn: Any, db: Database, kind: str, **values: Any) -> int:
    result = conn.execute(
        insert(db.table("runs")).values(
            kind=kind, created_at=now_text(), created_by=user_name(), **values
        )
    )
    return int(result.inserted_primary_key[0])


def save_gap_run(db: Database, out_dir: str | Path, *, options: dict[str, Any]) -> int:
    """Store a finished gaps run (read from its output folder) in the database.

    Parameters
    ----------
    db
        The database.
    out_dir
        The folder ``spatial gaps`` wrote.
    options
        The run's settings (kept as JSON).

    Returns
    -------
    int
        The run's id.
    """
    from spatial.io.outputs.results import load_gap_tables
    from spatial.io.outputs.write import read_own_csv

    out = Path(out_dir)
    tables = load_gap_tables(out)
    layers: dict[str, pd.DataFrame] = {"compounds": tables.compounds}
    if tables.pois is not None:
        layers["pois"] = tables.pois
    if tables.service_areas is not None:
        layers["service_areas"] = tables.service_areas
    if tables.context is not None:  # the streets and water the maps draw under the data
        layers["context"] = tables.context
        options = {**options, "context_sources": tables.context.attrs.get("sources", [])}
    for name in ("summary", "problems"):
        if (out / f"{name}.csv").is_file():
            layers[name] = read_own_csv(out / f"{name}.csv")
    gaps = tables.gaps
    cats = out / "categories.toml"
    dtypes = {name: _dtypes(frame) for name, frame in {**layers, "gaps": gaps}.items()}
    with db.writing() as conn:
        run_id = _new_run(
            conn,
            db,
            "gaps",
            options=json.dumps(options, ensure_ascii=False, default=str),
            categories=cats.read_text(encoding="utf-8") if cats.is_file() else None,
            dtypes=json.dumps(dtypes),
            outputs=str(out),
        )
        cols = [c.name for c in db.table("gap_results").columns if c.name not in ("fid", "run_id")]
        rows = [
            {"run_id": run_id, **{c: plain(r.get(c)) for c in cols}}
            for r in gaps.to_dict("records")
        ]
        if rows:
            conn.execute(insert(db.table("gap_results")), rows)
        for name, frame in layers.items():
            layer_rows = _layer_rows(db, run_id, name, frame)
            if layer_rows:
                conn.execute(insert(db.table("run_layers")), layer_rows)
    return run_id


def latest_run(db: Database, kind: str) -> int:
    """The id of the latest run of a kind.

    Parameters
    ----------
    db
        The database.
    kind
        ``gaps``, ``plan`` or ``map``.

    Returns
    -------
    int
        The run's id.

    Raises
    ------
    InputError
        When there is none.
    """
    with db.reading() as conn:
        runs = read_table(conn, db, "runs", kind=kind)
    if len(runs) == 0:
        raise InputError(
            [
                Problem.error(
                    db.label,
                    f"no {kind} run in the database",
                    hint=f"run spatial {kind} --db {db.label} … first",
                )
            ]
        )
    return int(runs["fid"].max())


def _restore(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    for col, dtype in dtypes.items():
        if col not in frame:
            frame[col] = None
        if dtype == "object" or dtype.startswith("str"):
            continue
        kind: Any = (
            "Int64" if dtype.startswith(("int", "uint")) and frame[col].isna().any() else dtype
        )
        frame[col] = frame[col].astype(kind)
    return frame[list(dtypes)]


def _read_layer(
    db: Database, run_id: int, name: str, dtypes: dict[str, dict[str, str]]
) -> pd.DataFrame | None:
    table = db.table("run_layers")
    query = (
        select(table.c.attrs, table.c.geom)
        .where(table.c.run_id == run_id, table.c.layer == name)
        .order_by(table.c.seq)
    )
    with db.reading() as conn:
        rows = conn.execute(query).all()
    if not rows and name not in dtypes:
        return None
    frame = _restore(pd.DataFrame([json.loads(r[0]) for r in rows]), dtypes.get(name, {}))
    geoms = [geometry_value(r[1]) for r in rows]
    if any(g is not None for g in geoms):
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{SRID}")
    return frame


def load_gap_tables_db(db: Database, run_id: int | None = None) -> Any:
    """A gaps run of the database as :class:`~spatial.io.outputs.results.GapTables`.

    Parameters
    ----------
    db
        The database.
    run_id
        The run (default the latest gaps run).

    Returns
    -------
    GapTables
        The same tables ``load_gap_tables`` reads from the run's folder.
    """
    from spatial.io.outputs.results import GAPS_COLUMNS, GapTables
    from spatial.standards import load_categories

    run_id = run_id or latest_run(db, "gaps")
    with db.reading() as conn:
        run = read_table(conn, db, "runs", fid=run_id).iloc[0]
        gaps = read_table(conn, db, "gap_results", run_id=run_id)
    dtypes = json.loads(run["dtypes"])
    gaps = _restore(gaps.drop(columns=["fid", "run_id"]), dtypes["gaps"])
    assert list(gaps.columns[: len(GAPS_COLUMNS)]) == list(GAPS_COLUMNS)
    layers = {
        name: _read_layer(db, run_id, name, dtypes)
        for name in ("compounds", "pois", "service_areas")
    }
    cats = None
    if run["categories"]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "categories.toml"
            path.write_text(run["categories"], encoding="utf-8")
            cats = load_categories(path)
    else:
        cats = load_categories(None)
    context = _read_layer(db, run_id, "context", dtypes) if "context" in dtypes else None
    if context is not None:
        context.attrs["sources"] = json.loads(run["options"] or "{}").get("context_sources", [])
    return GapTables(
        layers["compounds"], gaps, layers["pois"], layers["service_areas"], None, cats, context
    )


def record_map(db: Database, paths: list[Path], *, gaps_run: int) -> int:
    """Note in the database which maps were drawn from which gaps run.

    Parameters
    ----------
    db
        The database.
    paths
        The HTML/PNG files written.
    gaps_run
        The gaps run they show.

    Returns
    -------
    int
        The map run's id.
    """
    with db.writing() as conn:
        return _new_run(
            conn,
            db,
            "map",
            options=json.dumps({"gaps_run": gaps_run}),
            outputs=";".join(str(p) for p in paths),
        )


def save_plan_run(db: Database, plan: pd.DataFrame, *, options: dict[str, Any]) -> tuple[int, int]:
    """Store a plan run and mark its compounds 计划 (planned) in their plan year.

    A compound whose status in or before that year is already 计划 or later keeps it
    (statuses never go back).

    Parameters
    ----------
    db
        The database.
    plan
        :attr:`spatial.pipeline.PlanRun.plan` (one row per compound, with ``id``).
    options
        The run's settings (kept as JSON).

    Returns
    -------
    run_id, marked
        The run's id and the compounds marked 计划.
    """
    from spatial.db.progress import record_statuses

    cols = ("status", "rank", "year", "cost_yuan", "households", "reason_zh", "reason_en")
    with db.writing() as conn:
        run_id = _new_run(
            conn, db, "plan", options=json.dumps(options, ensure_ascii=False, default=str)
        )
        rows = [
            {"run_id": run_id, "compound_id": str(r["id"]), **{c: plain(r.get(c)) for c in cols}}
            for r in plan.to_dict("records")
        ]
        if rows:
            conn.execute(insert(db.table("plan_results")), rows)
        st = read_table(conn, db, "renovation_status")
        planned = plan[plan["year"].notna()]
        new = []
        for cid, year in zip(planned["id"].astype(str), planned["year"].astype(int), strict=True):
            earlier = st[(st["compound_id"] == cid) & (st["year"] <= year)]
            if len(earlier) and earlier["status"].isin(["planned", "underway", "completed"]).any():
                continue
            new.append({"compound_id": cid, "year": year, "status": "planned"})
        if new:
            record_statuses(
                conn,
                db,
                pd.DataFrame(new),
                round_fid=None,
                by=user_name(),
                src=f"plan run {run_id}",
            )
    return run_id, len(new)
