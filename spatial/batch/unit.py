"""One unit of a batch, run where it is scheduled: gaps → bundles → plan → maps.

The task reads its own inputs and writes its own folder (``units/<slug>/`` of the batch
folder, one sub-folder per stage, each swapped into place by the stage's run). It sends
back only a small summary (totals, coverage per category, money, annual plan, its
outline), which is also kept as ``unit.json`` for the roll-up of later runs. A unit whose
inputs and settings hash as in ``unit.json`` is skipped. Any error is caught and returned
with the unit's name: one broken unit never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spatial._errors import InputError, InputWarning, format_problems

from .spec import Unit

__all__ = ["UNIT_FILE", "read_outcome", "run_unit", "send_events_to", "unit_hash"]

log = logging.getLogger(__name__)

UNIT_FILE = "unit.json"
_TOPIC = "spatial-batch"  # Dask event topic of the progress messages
_STAGES = ("gaps", "bundles", "plan")


def unit_hash(unit: Unit) -> str:
    """Content hash of everything a unit's results depend on.

    The unit's settings, the bytes of every file it reads and the toolkit's version:
    any change to one of them, and only such a change, makes the unit run again.

    Parameters
    ----------
    unit
        The unit.

    Returns
    -------
    str
        A SHA-256 hex digest.
    """
    from spatial import __version__

    digest = hashlib.sha256()
    settings = {k: v for k, v in asdict(unit).items() if k != "line"}
    digest.update(json.dumps(settings, default=str, sort_keys=True).encode())
    digest.update(__version__.encode())
    for path in unit.files():
        digest.update(str(path).encode())
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 22), b""):
                digest.update(chunk)
    return digest.hexdigest()


def read_outcome(folder: Path) -> dict[str, Any] | None:
    """The ``unit.json`` of a unit's folder, or None when there is none or it is unreadable.

    Parameters
    ----------
    folder
        ``units/<slug>`` of a batch folder.

    Returns
    -------
    dict or None
    """
    try:
        return dict(json.loads((folder / UNIT_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


_EVENTS: list[Any] = []  # a local pool's queue, in its worker processes (send_events_to)


def send_events_to(queue: Any) -> None:
    """Send this process's unit stages to ``queue`` as ``(unit name, stage)`` (the
    initializer of a local pool's workers, :mod:`spatial.batch.local`).

    Parameters
    ----------
    queue
        A :class:`multiprocessing.SimpleQueue` read by the batch's process.
    """
    _EVENTS[:] = [queue]


def _emit(unit: Unit, stage: str) -> None:
    """Tell the batch which stage a unit is in: on the local pool's queue, or as a Dask
    event; nothing when the unit runs alone."""
    if _EVENTS:
        _EVENTS[0].put((unit.name, stage))
        return
    try:
        from distributed import get_worker

        get_worker().log_event(_TOPIC, {"unit": unit.name, "stage": stage})
    except (ImportError, ValueError):
        pass


def _write_json(record: dict[str, Any], path: Path) -> None:
    from spatial.io.outputs.write import write_text

    write_text(json.dumps(record, ensure_ascii=False, indent=1, default=_plain), path)


def _plain(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    return str(value)


def _number(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if np.isnan(out) else out


def _inputs(unit: Unit, inputs_dir: Path) -> dict[str, Any]:
    """LoadSpecs and network of a unit (the demo city generated on first use)."""
    from spatial.io.load import LoadSpec

    if unit.demo is not None:
        from spatial.demo import generate_demo
        from spatial.pipeline import demo_paths

        demo = unit.demo
        lon, lat = demo.centre_lonlat
        gpkg, osm = demo_paths(inputs_dir / f"demo-{demo.size}-{demo.seed}-{lon:.4f}-{lat:.4f}")
        if not (gpkg.is_file() and osm.is_file()):
            generate_demo(gpkg.parent, size=demo.size, seed=demo.seed, centre_lonlat=(lon, lat))
        kinds = {k: [LoadSpec(gpkg, k, source_layer=k)] for k in ("compounds", "pois", "parcels")}
        return {"osm": osm, "network": None, **kinds}

    def specs(kind: str) -> list[LoadSpec]:
        files = getattr(unit, kind)
        return [
            LoadSpec(f.path, kind, coords=f.coords, sheet=f.sheet, source_layer=f.layer)
            for f in files
        ]

    return {
        "osm": unit.osm,
        "network": unit.network,
        **{k: specs(k) for k in ("compounds", "pois", "parcels")},
    }


def _summary(gaps: Any, bundles: Any, plan: Any) -> dict[str, Any]:
    """Totals, coverage per category, money and annual plan of one unit (small)."""
    from spatial.io.crs.projection import to_wgs84

    comp = gaps.result.compounds
    households = pd.to_numeric(comp.get("households"), errors="coerce")
    households = households if households is not None else pd.Series(0.0, index=comp.index)
    missing = comp["n_missing"].fillna(0) > 0
    summary = gaps.result.summary
    coverage = [
        {
            "category": str(row["category"]),
            "zh": str(row["zh"]),
            "en": str(row["en"]),
            "compounds": int(row["compounds"]),
            "compounds_covered": int(row["compounds_covered"]),
            "households": _number(row["households"]),
            "households_covered": _number(row["households_covered"]),
        }
        for _, row in summary.iterrows()
    ]
    b = bundles.result.bundles
    funding = bundles.result.funding if bundles.result.funding is not None else pd.DataFrame()
    fund_status = funding["status"] if "status" in funding else pd.Series(dtype=str)
    fund_hh = pd.to_numeric(funding.get("households"), errors="coerce") if len(funding) else None
    p = plan.plan
    planned = p[p["year"].notna()]
    years = [
        {
            "year": int(year),
            "compounds": len(grp),
            "households": _number(grp["households"].sum()) if "households" in grp else 0.0,
            "cost_yuan": _number(grp["cost_yuan"].sum()),
        }
        for year, grp in planned.groupby("year")
    ]
    outline = to_wgs84(comp[["geometry"]]).geometry.union_all().convex_hull.buffer(0.002)
    totals = {
        "compounds": len(comp),
        "households": _number(households.sum()),
        "compounds_missing_any": int(missing.sum()),
        "households_missing_any": _number(households[missing].sum()),
        "network_nodes": int(gaps.network.n_nodes),
        "bundles": len(b),
        "bundles_self_balancing": int((b["status"] == "self-balancing").sum()) if len(b) else 0,
        **{
            k: _number(b[k].sum()) if k in b else 0.0
            for k in ("cost_yuan", "subsidy_yuan", "revenue_yuan", "balance_yuan")
        },
        "compounds_funded": int((fund_status == "funded").sum()),
        "compounds_partly_funded": int((fund_status == "partly_funded").sum()),
        "compounds_unfunded": int((fund_status == "unfunded").sum()),
        "households_funded": _number(fund_hh[fund_status == "funded"].sum())
        if fund_hh is not None
        else 0.0,
        "compounds_eligible": int(p["status"].isin(["priority", "eligible"]).sum()),
        "compounds_to_verify": int((p["status"] == "unknown").sum()),
        "compounds_planned": len(planned),
        "households_planned": _number(planned["households"].sum())
        if "households" in planned
        else 0.0,
        "cost_planned_yuan": _number(planned["cost_yuan"].sum()),
    }
    return {
        "totals": totals,
        "coverage": coverage,
        "plan_years": years,
        "outline_wkt": outline.simplify(0.0005).wkt,
    }


def _maps(folder: Path, unit: Unit) -> dict[str, str]:
    """The unit's offline HTML maps, from its stage folders."""
    from spatial.pipeline.maps import run_maps

    maps = folder / "maps"
    written = run_maps(
        folder / "gaps",
        folder / "bundles",
        out=maps / "gap_map.html",
        bundle_out=maps / "bundle_map.html",
    )
    return {name: path.relative_to(folder).as_posix() for name, path in written.items()}


def _run_stages(
    unit: Unit, folder: Path, inputs_dir: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    from spatial.pipeline import run_bundles, run_gaps, run_plan

    settings = unit.settings()

    seconds: dict[str, float] = {}
    start = time.perf_counter()

    def lap(stage: str) -> None:  # seconds of the stage that just ended
        seconds[stage] = time.perf_counter() - start - sum(seconds.values())

    say("inputs")
    src = _inputs(unit, inputs_dir)
    say("gaps")
    gaps = run_gaps(
        out_dir=folder / "gaps",
        compounds=src["compounds"],
        pois=src["pois"],
        osm=src["osm"],
        network=src["network"],
        params=settings.gaps,
    )
    lap("gaps")
    say("bundles")
    bundles = run_bundles(
        out_dir=folder / "bundles",
        compounds=src["compounds"],
        parcels=src["parcels"],
        osm=src["osm"],
        gaps_dir=folder / "gaps",
        params=settings.bundles,
    )
    lap("bundles")
    say("plan")
    plan = run_plan(
        out_dir=folder / "plan",
        gaps_dir=folder / "gaps",
        params=settings.plan,
        parcels=src["parcels"] if src["osm"] is not None else (),
        osm=src["osm"],
    )
    lap("plan")
    maps: dict[str, str] = {}
    if unit.maps:
        say("maps")
        maps = _maps(folder, unit)
        lap("maps")
    return {**_summary(gaps, bundles, plan), "maps": maps, "seconds": seconds}


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_unit(
    unit: Unit,
    out_dir: str | Path,
    *,
    force: bool = False,
    progress: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Run one unit's chain into ``<out_dir>/units/<slug>/``, or skip it when unchanged.

    Parameters
    ----------
    unit
        The unit (see :func:`~spatial.batch.load_province`).
    out_dir
        The batch folder.
    force
        Run even when the inputs and settings hash as in the last successful run.
    progress
        ``progress(unit_name, stage)`` as stages start (besides the Dask event).

    Returns
    -------
    dict
        The unit's record (also ``unit.json``): ``status`` ``done``, ``skipped`` or
        ``failed`` (with ``error`` and, for a bug, ``log``), its hash, timings, summary.
    """
    folder = Path(out_dir) / "units" / unit.slug
    head = {"name": unit.name, "level": unit.level, "parent": unit.parent, "slug": unit.slug}

    def say(stage: str) -> None:
        _emit(unit, stage)
        if progress is not None:
            progress(unit.name, stage)

    started = time.perf_counter()
    try:
        key = unit_hash(unit)
    except OSError as exc:
        return {**head, "status": "failed", "error": f"cannot read an input: {exc}"}
    earlier = read_outcome(folder)
    if (
        not force
        and earlier is not None
        and earlier.get("status") == "done"
        and earlier.get("hash") == key
        and all((folder / s / "run.json").is_file() for s in _STAGES)
    ):
        say("skipped")
        return {**earlier, "status": "skipped"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "error.log").unlink(missing_ok=True)
    record: dict[str, Any] = {**head, "hash": key}
    try:
        with warnings.catch_warnings(record=True) as caught:  # kept in unit.json, said once
            warnings.simplefilter("always", InputWarning)
            record.update(_run_stages(unit, folder, Path(out_dir) / "inputs" / unit.slug, say))
        said = [str(p) for w in caught for p in getattr(w.message, "problems", [])]
        record["warnings"] = list(dict.fromkeys(said))
        record["status"] = "done"
    except InputError as exc:
        errors = [q for q in exc.problems if q.severity == "error"]
        more = f"\n… and {len(errors) - 8} more" if len(errors) > 8 else ""
        record.update(status="failed", error=format_problems(errors[:8]) + more)
    except (ValueError, FileNotFoundError, OSError) as exc:
        record.update(status="failed", error=str(exc))
    except Exception as exc:  # a bug: keep its traceback beside the unit's results
        (folder / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        record.update(
            status="failed", error=f"{type(exc).__name__}: {exc}", log=str(folder / "error.log")
        )
    record["wall_s"] = round(time.perf_counter() - started, 3)
    record["peak_rss_mb"] = _peak_rss_mb()
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if record["status"] == "failed":
        record.pop("hash", None)  # a failed unit always runs again
    _write_json(record, folder / UNIT_FILE)
    say(record["status"])
    return record
