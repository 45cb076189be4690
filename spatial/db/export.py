"""Export the database to files planners open: GeoPackage, Excel and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pandas as pd

from spatial.db.connect import open_db
from spatial.db.frames import read_compounds, read_table
from spatial.db.schema import column_labels

__all__ = ["export_db", "history_table"]


def export_db(target: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """Write the compounds as they stand, their history, statuses, targets and results.

    Parameters
    ----------
    target
        The database (``.gpkg`` or ``postgresql://``).
    out_dir
        Folder: ``compounds.gpkg`` (WGS84), ``compounds.xlsx`` (Chinese headers),
        ``compounds.csv``, ``history.csv``, ``status.csv``, ``targets.csv``, and the
        latest runs' ``gaps.csv`` and ``plan.csv`` when there are runs.

    Returns
    -------
    dict
        ``{name: path}`` of the files written.
    """
    from spatial.io.outputs.runfolder import rebase_outputs, run_folder

    db = open_db(target)
    with run_folder(out_dir, command="export") as stage:
        written = _write(db, stage)
    return rebase_outputs(written, stage, out_dir)


def _write(db: Any, out: Path) -> dict[str, Path]:
    """The export's files, into ``out``."""
    from spatial.io.outputs.write import write_csv, write_gpkg, write_xlsx

    with db.reading() as conn:
        comp = read_compounds(conn, db)
        tables = {
            name: read_table(conn, db, name)
            for name in ("compound_history", "renovation_status", "targets", "runs", "rounds")
        }
        runs = tables["runs"]
        latest = {
            kind: int(runs.loc[runs["kind"] == kind, "fid"].max())
            for kind in ("gaps", "plan")
            if (runs["kind"] == kind).any()
        }
        gaps = (
            read_table(conn, db, "gap_results", run_id=latest["gaps"]) if "gaps" in latest else None
        )
        plan = (
            read_table(conn, db, "plan_results", run_id=latest["plan"])
            if "plan" in latest
            else None
        )
    labels = column_labels()["compounds"] | {"id": ("小区编号", "compound id")}
    table = pd.DataFrame(comp.drop(columns="geometry"))
    written = {
        "compounds": write_gpkg({"compounds": comp}, out / "compounds.gpkg"),
        "compounds_xlsx": write_xlsx(
            {"老旧小区": table.rename(columns={k: v[0] for k, v in labels.items()})},
            out / "compounds.xlsx",
        ),
        "compounds_csv": write_csv(table, out / "compounds.csv"),
        "history": write_csv(tables["compound_history"], out / "history.csv"),
        "status": write_csv(tables["renovation_status"], out / "status.csv"),
        "targets": write_csv(tables["targets"], out / "targets.csv"),
        "rounds": write_csv(tables["rounds"], out / "rounds.csv"),
    }
    if gaps is not None:
        written["gaps"] = write_csv(gaps.drop(columns=["fid"]), out / "gaps.csv")
    if plan is not None:
        written["plan"] = write_csv(plan.drop(columns=["fid"]), out / "plan.csv")
    return written


def history_table(target: str | Path, *, compound: str | None = None) -> pd.DataFrame:
    """Every changed value with its round's name, oldest first.

    Parameters
    ----------
    target
        The database.
    compound
        Only this compound id.

    Returns
    -------
    DataFrame
        ``compound_history`` with a ``round`` column (the round's name).
    """
    db = open_db(target)
    with db.reading() as conn:
        rows = read_table(conn, db, "compound_history")
        rounds = read_table(conn, db, "rounds")
    rows = rows.merge(
        rounds[["fid", "name"]].rename(columns={"fid": "round_id", "name": "round"}),
        on="round_id",
        how="left",
    )
    return cast("pd.DataFrame", rows if compound is None else rows[rows["compound_id"] == compound])
