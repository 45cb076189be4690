"""Run every unit of a province file on this machine's cores or a Dask cluster, and roll
the results up.

Worker processes of this machine by default (:mod:`spatial.batch.local`: forked with the
toolkit imported, no scheduler to start), or an existing Dask cluster
(``tcp://host:port``). Each unit is one task that reads its own inputs and writes its
own folder; only the unit's settings go to the worker and only a small summary comes
back. Units report their stages (on a queue, or as Dask events), which become progress.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatial._errors import InputError, Problem

from .local import run_local
from .spec import Province, Unit
from .unit import _TOPIC, UNIT_FILE, _write_json, read_outcome, run_unit

__all__ = ["BatchRun", "BatchStatus", "run_batch"]

log = logging.getLogger(__name__)

_DIED = "the worker running it died (out of memory? see the worker's log)"


@dataclass
class BatchStatus:
    """Where a batch stands, passed to the progress callback at every change.

    Attributes
    ----------
    total
        Units that run (those with inputs).
    done, skipped, failed
        Names of the units finished, skipped as unchanged, failed.
    running
        Unit name → the stage it is in.
    dashboard
        The Dask dashboard address, when there is one.
    last
        ``(unit, what happened)`` of the latest change.
    """

    total: int
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    running: dict[str, str] = field(default_factory=dict)
    dashboard: str | None = None
    last: tuple[str, str] = ("", "")


@dataclass
class BatchRun:
    """What :func:`run_batch` produced.

    Attributes
    ----------
    records
        Unit name → its record (``status`` ``done``, ``skipped`` or ``failed`` …).
    outputs
        Written files by name (``province_xlsx``, ``overview``, ``batch``).
    wall_s
        Seconds from start to the last file.
    dashboard
        The Dask dashboard address, when there was one.
    """

    records: dict[str, dict[str, Any]]
    outputs: dict[str, Path] = field(default_factory=dict)
    wall_s: float = 0.0
    dashboard: str | None = None


def _check_out(out: Path) -> None:
    """A batch folder: new, or holding a batch's files; never another command's results."""
    if out.exists() and not out.is_dir():
        raise InputError(
            [Problem.error(str(out), "--out is a file", column="--out", hint="name a folder")]
        )
    if (out / "run.json").is_file():
        raise InputError(
            [
                Problem.error(
                    str(out),
                    "the folder holds the results of another spatial command",
                    column="--out",
                    hint="give the batch its own --out folder",
                )
            ]
        )


def _on_dask(
    units: list[Unit],
    out: Path,
    scheduler: str,
    force: bool,
    status: BatchStatus,
    stage: Callable[[str, str], None],
    finish: Callable[[Unit, dict[str, Any]], None],
) -> None:
    """Run the units as tasks of an existing Dask scheduler (its dashboard in ``status``)."""
    from distributed import Client, as_completed

    client = Client(scheduler, timeout="20s")
    try:
        status.dashboard = _dashboard(client)

        def event(message: tuple[float, dict[str, str]]) -> None:
            stage(message[1].get("unit", ""), message[1].get("stage", ""))

        client.subscribe_topic(_TOPIC, event)
        futures = {
            client.submit(
                run_unit,
                unit,
                str(out),
                force=force,
                key=f"spatial-unit-{unit.slug}-{time.time_ns()}",
                pure=False,
                priority=-k,  # in the given order: the largest first
            ): unit
            for k, unit in enumerate(units)
        }
        for future in as_completed(futures):
            unit = futures[future]
            try:
                record = future.result()
            except Exception as exc:
                name = type(exc).__name__
                record = _lost(unit, out, _DIED if name == "KilledWorker" else f"{name}: {exc}")
            finish(unit, record)
    finally:
        client.close()


def _input_bytes(unit: Unit) -> int:
    if unit.demo is not None:
        return unit.demo.size**2 * 50_000
    return sum(p.stat().st_size for p in unit.files() if p.is_file())


def _lost(unit: Unit, out: Path, why: str) -> dict[str, Any]:
    """The record of a unit whose task never came back (its worker died …)."""
    record = {
        "name": unit.name,
        "level": unit.level,
        "parent": unit.parent,
        "slug": unit.slug,
        "status": "failed",
        "error": why,
    }
    folder = out / "units" / unit.slug
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(record, folder / UNIT_FILE)
    return record


def run_batch(
    province: Province,
    *,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[BatchStatus], None] | None = None,
) -> BatchRun:
    """Run every unit with inputs (the largest first), then write the province roll-up.

    Parameters
    ----------
    province
        The units (see :func:`~spatial.batch.load_province`).
    out_dir
        The batch folder: ``units/<slug>/`` per unit, ``province.xlsx``,
        ``overview.html``, ``batch.json``. Kept between runs: unchanged units are skipped.
    workers
        Worker processes on this machine (default: the cores, at most 4).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:port``) instead of this
        machine's processes (the ``batch`` extra); every worker must read the inputs and
        write ``out_dir`` at the same paths.
    force
        Run every unit, changed or not.
    progress
        Called with the :class:`BatchStatus` at every change.

    Returns
    -------
    BatchRun
        Every unit's record and the files written.

    Raises
    ------
    InputError
        When ``out_dir`` cannot be used, or another batch is writing it.
    """
    from filelock import FileLock, Timeout

    from .rollup import write_rollup

    started = time.perf_counter()
    out = Path(out_dir).absolute()
    _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / ".batch.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            [
                Problem.error(
                    str(out),
                    "another spatial batch is writing this folder",
                    column="--out",
                    hint="wait for it to finish, or give another --out folder",
                )
            ]
        ) from None
    try:
        units = [u for u in province.units if u.has_data]
        status = BatchStatus(total=len(units))
        guard = threading.Lock()

        def tell(name: str, what: str) -> None:
            with guard:
                status.last = (name, what)
                if progress is not None:
                    progress(status)

        records: dict[str, dict[str, Any]] = {}

        def finish(unit: Unit, record: dict[str, Any]) -> None:
            records[unit.name] = record
            with guard:
                status.running.pop(unit.name, None)
                {"done": status.done, "skipped": status.skipped}.get(
                    record["status"], status.failed
                ).append(unit.name)
            tell(unit.name, record["status"])

        def stage(name: str, what: str) -> None:
            if what in ("done", "skipped", "failed"):
                return  # told when the result arrives
            with guard:
                status.running[name] = what
            tell(name, what)

        tell("", "started")
        largest_first = sorted(units, key=_input_bytes, reverse=True)  # the last to end is small
        n = workers or max(1, min(os.cpu_count() or 1, 4))
        if scheduler is None:
            for unit, got in run_local(largest_first, out, workers=n, force=force, on_stage=stage):
                finish(unit, got if got is not None else _lost(unit, out, _DIED))
        else:
            _on_dask(largest_first, out, scheduler, force, status, stage, finish)
        for unit in province.units:  # aggregates have no record; keep file order
            if unit.has_data:
                records[unit.name] = (
                    records.get(unit.name)
                    or read_outcome(out / "units" / unit.slug)
                    or {"name": unit.name, "status": "failed", "error": "no result"}
                )
        outputs = write_rollup(province, records, out)
        wall = time.perf_counter() - started
        batch = {
            "province": province.name,
            "file": str(province.path),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "wall_s": round(wall, 3),
            "scheduler": scheduler or f"this machine ({n} worker processes)",
            "units": {
                name: {k: r.get(k) for k in ("status", "error", "wall_s")}
                for name, r in records.items()
            },
        }
        from spatial.io.outputs.write import write_text

        outputs["batch"] = write_text(
            json.dumps(batch, ensure_ascii=False, indent=1), out / "batch.json"
        )
    finally:
        lock.release()
    return BatchRun(records, outputs, wall, status.dashboard)


def _dashboard(client: Any) -> str | None:
    """The dashboard's address: the scheduler's own, or None when it serves none."""
    try:
        info = client.scheduler_info()
    except OSError:
        return None
    port = info.get("services", {}).get("dashboard")
    if not port:
        return None
    host = client.scheduler.address.split("://")[-1].rsplit(":", 1)[0]
    return f"http://{host}:{port}/status"
