"""One run, one set of outputs: a command's folder is staged and swapped into place.

A command writes into a hidden sibling folder (``.NAME.partial-…``) and, when every file
is written, renames it onto ``NAME``; the earlier folder is moved aside first and removed
after. A run killed at any moment leaves ``NAME`` wholly old (or, between the two renames,
moved aside and restored by the next run). A lock file beside the folder
(``.NAME.lock``, held with :mod:`filelock`, released by the system when a process dies)
keeps two runs from writing the same folder. ``run.json`` in the folder says which
command wrote it, when, and which files belong to the set.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from spatial._errors import InputError, Problem
from spatial.faults import (
    MachineFaultError,
    free_bytes,
    tree_bytes,
    write_fault,
)

__all__ = [
    "COMPOUND_KIND",
    "RUN_FILE",
    "check_out_file",
    "folder_kinds",
    "folder_layer",
    "folder_rows",
    "rebase_outputs",
    "run_folder",
]

RUN_FILE = "run.json"

#: What each command writes; a folder from an older version (no run.json) is replaced
#: only when it holds nothing else.
_OWN_FILES = {
    "gaps": {
        "gaps.csv",
        "summary.csv",
        "compounds.gpkg",
        "service_areas.gpkg",
        "problems.csv",
        "categories.toml",
        "capacity.csv",
        "capacity_pairs.csv",
        "context.gpkg",
    },
    "bundles": {
        "bundles.gpkg",
        "bundles.csv",
        "pairs.csv",
        "packages.csv",
        "excluded.csv",
        "funding.csv",
        "problems.csv",
        "finance.xlsx",
        "sensitivity.html",
        "finance_projects.csv",
        "funding_lines.csv",
        "facilities.csv",
        "sensitivity.csv",
    },
    "plan": {"plan.xlsx", "plan.gpkg"},
    "assess": {"assessment.xlsx", "community_check.csv", "units.csv"},
}
_OWN_FILES["demo"] = set().union(*_OWN_FILES.values(), {"database.gpkg", "inventory.csv"})
_OWN_FILES["match"] = {"matched.gpkg", "matched.xlsx", "review.xlsx"}


def _problem(out: Path, message: str, hint: str) -> InputError:
    return InputError([Problem.error(str(out), message, column="--out", hint=hint)])


_KEEP_AT_MOST = 20  # a folder with more files of its own is not a results folder
_CARRIED = ".carried.json"  # in a staging folder: files moved in from the old one


def _check_target(out: Path, command: str) -> list[str]:
    """Refuse a file, a folder of another command, or one holding folders or many files
    this command did not write; return the few files of others to keep (a log, notes)."""
    if out.exists() and not out.is_dir():
        raise _problem(out, "--out is a file, not a folder", "name a folder (it is created)")
    if not out.is_dir():
        return []
    entries = {p.name for p in out.iterdir()}
    own = {_CARRIED, *_OWN_FILES.get(command, set())}
    if RUN_FILE in entries:
        try:
            record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        earlier = record.get("command")
        if earlier not in (command, None):
            raise _problem(
                out,
                f"the folder holds the results of `spatial {earlier}`, which this run would "
                "replace",
                f"give `spatial {command}` its own --out folder",
            )
        own = {RUN_FILE, *record.get("files", {}), *own}
    others = sorted(entries - own)
    folders = [name for name in others if not (out / name).is_file()]
    if folders or len(others) > _KEEP_AT_MOST:
        shown = ", ".join((folders or others)[:5]) + (" …" if len(others) > 5 else "")
        raise _problem(
            out,
            f"the folder holds {'folders' if folders else 'many files'} not written by "
            f"`spatial {command}` ({shown}); a run replaces its whole folder",
            "choose a new --out folder, or empty this one",
        )
    return others


def _carry(out: Path, stage: Path, names: list[str]) -> None:
    """Move the files of others from ``out`` into ``stage`` (same file system: a log
    being written keeps being written), listed first so that a killed run gives them back."""
    if not names:
        return
    (stage / _CARRIED).write_text(json.dumps(names, ensure_ascii=False), "utf-8")
    for name in names:
        if (out / name).is_file():
            os.replace(out / name, stage / name)


def _recover(out: Path) -> None:
    """Under the lock: restore a folder moved aside by a killed swap, drop stale staging."""
    prefix = f".{out.name}."
    for stale in sorted(out.parent.glob(prefix + "old-*")):
        if not out.exists():
            os.replace(stale, out)
        else:
            shutil.rmtree(stale, ignore_errors=True)
    for stale in out.parent.glob(prefix + "partial-*"):
        carried = stale / _CARRIED
        if carried.is_file() and out.is_dir():  # files of others moved in: give them back
            for name in json.loads(carried.read_text(encoding="utf-8")):
                if (stale / name).is_file() and not (out / name).exists():
                    os.replace(stale / name, out / name)
        shutil.rmtree(stale, ignore_errors=True)


def _write_run_file(stage: Path, *, command: str, run_id: str, started: float) -> None:
    files = {
        str(p.relative_to(stage)): p.stat().st_size
        for p in sorted(stage.rglob("*"))
        if p.is_file() and p.name != RUN_FILE
    }
    from spatial import __version__

    record = {
        "command": command,
        "run_id": run_id,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "spatial_version": __version__,
        "argv": sys.argv[1:],
        "files": files,
    }
    (stage / RUN_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")


@contextmanager
def run_folder(out_dir: str | Path, *, command: str) -> Iterator[Path]:
    """Stage a command's outputs and swap them onto ``out_dir`` when the block succeeds.

    Checked at entry, before any expensive work: ``out_dir`` is not a file, its parent
    can be written, no other run holds it, and it holds nothing but an earlier run of the
    same command and at most a few files of others (a log, notes), which are kept.

    Parameters
    ----------
    out_dir
        The output folder.
    command
        The command writing it (``gaps``, ``bundles``, ``plan``, ``demo``).

    Yields
    ------
    Path
        The staging folder to write into.

    Raises
    ------
    InputError
        When the folder cannot be used, with the reason and the fix.
    """
    from filelock import FileLock, Timeout

    out = Path(out_dir).absolute()
    _check_target(out, command)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.parent / f".{out.name}.{secrets.token_hex(4)}.probe"
        probe.touch()  # a folder that cannot be written would look locked to filelock
        probe.unlink()
        lock = FileLock(out.parent / f".{out.name}.lock", timeout=0)
        lock.acquire()
    except Timeout:
        raise _problem(
            out,
            "another spatial run is writing this folder",
            "wait for it to finish, or give another --out folder",
        ) from None
    except OSError as exc:
        raise _problem(
            out, f"cannot write here: {exc.strerror or exc}", "choose a folder you can write"
        ) from None
    try:
        _recover(out)
        keep = _check_target(out, command)  # as restored
        run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        stage = out.parent / f".{out.name}.partial-{run_id}"
        started = time.time()
        try:
            stage.mkdir()
        except OSError as exc:
            raise _problem(
                out, f"cannot write here: {exc.strerror or exc}", "choose a folder you can write"
            ) from None
        try:
            yield stage
            _write_run_file(stage, command=command, run_id=run_id, started=started)
            _carry(out, stage, keep)
            aside = out.parent / f".{out.name}.old-{run_id}"
            if out.exists():
                os.replace(out, aside)
            os.replace(stage, out)
            (out / _CARRIED).unlink(missing_ok=True)
            shutil.rmtree(aside, ignore_errors=True)
        except Exception as exc:
            fault = write_fault(exc, stage=stage, where=out.parent)
            if fault is None:
                raise
            raise MachineFaultError(_fault_message(out, stage, fault)) from exc
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
    finally:
        lock.release()


def _fault_message(out: Path, stage: Path, fault: str) -> str:
    """What stopped the run, how much it needed, and that the old outputs are kept."""
    written = tree_bytes(stage)
    old = tree_bytes(out) if out.exists() else 0
    free = free_bytes(out.parent)
    sizes = [f"the run had written {written / 1e6:,.1f} MB"]
    if old:
        sizes.append(f"the earlier run's outputs take {old / 1e6:,.1f} MB")
    if free is not None:
        sizes.append(f"{free / 1e6:,.1f} MB free there")
    kept = (
        f"the earlier outputs in {out} are kept as they were"
        if out.exists()
        else "nothing was written"
    )
    sizes_text = "; ".join(sizes)
    return f"cannot write {out}: {fault} ({sizes_text}); {kept}"


def rebase_outputs(
    outputs: Mapping[str, Path], stage: Path, out_dir: str | Path
) -> dict[str, Path]:
    """The paths the staged files have once the folder is in place.

    Parameters
    ----------
    outputs
        ``{name: path}`` as written into ``stage``.
    stage, out_dir
        The staging folder and the output folder.

    Returns
    -------
    dict
        ``{name: path}`` under ``out_dir``.
    """
    base = Path(out_dir)
    return {
        k: base / Path(p).relative_to(stage) if Path(p).is_relative_to(stage) else Path(p)
        for k, p in outputs.items()
    }


def check_out_file(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any work, that an output file can be written.

    Parameters
    ----------
    path
        The file to write (its folder is created).
    option
        The option that named it, for the message.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When it is a folder or its folder cannot be written.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(
            [Problem.error(str(target), f"{option} is a folder", column=option, hint="name a file")]
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = target.parent / f".{target.name}.{secrets.token_hex(4)}.probe"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(
            [
                Problem.error(
                    str(target),
                    f"cannot write here: {exc.strerror or exc}",
                    column=option,
                    hint="choose a folder you can write",
                )
            ]
        ) from None
    return target


#: Where a command's output folder keeps what another command asks for: (file, layer).
_FOLDER_LAYERS: dict[str, dict[str, tuple[str, str | None]]] = {
    "gaps": {"compounds": ("compounds.gpkg", "compounds"), "pois": ("compounds.gpkg", "pois")},
    "match": {"compounds": ("matched.gpkg", "compounds")},
    "plan": {"compounds": ("plan.gpkg", "eligibility")},
    # a bundle's members: its old compounds are compounds, the rest parcels
    "bundles": {"compounds": ("bundles.gpkg", "members"), "parcels": ("bundles.gpkg", "members")},
}
#: The member kind that is a compound; every other kind in a bundles folder is a parcel.
COMPOUND_KIND = "old_compound"


def folder_layer(folder: str | Path, kind: str) -> tuple[Path, str | None]:
    """The file and layer of a ``spatial`` output folder that hold ``kind``.

    A ``gaps`` folder gives its compounds (with their gaps) and POIs, a ``match`` folder the
    matched compounds, a ``plan`` folder the compounds with their eligibility, a
    ``bundles`` folder its members (the old compounds as compounds, the rest as parcels:
    :func:`folder_rows` keeps the right ones).

    Parameters
    ----------
    folder
        An output folder of another command (its ``run.json`` names the command).
    kind
        ``compounds``, ``pois`` or ``parcels``.

    Returns
    -------
    path, layer
        The file to read and its layer (None: its only one).

    Raises
    ------
    InputError
        When the folder is no such output or holds no ``kind``: the message says which
        folders do.
    """
    folder = Path(folder)
    command = _folder_command(folder)
    found = _FOLDER_LAYERS.get(str(command), {}).get(kind)
    takes = ", ".join(f"`spatial {c}`'s" for c, kinds in _FOLDER_LAYERS.items() if kind in kinds)
    if found is None or not (folder / found[0]).is_file():
        what = f"an output folder of `spatial {command}`" if command else "a folder"
        raise InputError(
            [
                Problem.error(
                    str(folder),
                    f"{what}, which holds no {kind}",
                    hint=f"give a file, or {takes or 'no'} output folder for {kind}",
                )
            ]
        )
    return folder / found[0], found[1]


def folder_kinds(folder: str | Path) -> list[str]:
    """The kinds of records a ``spatial`` output folder holds (for a folder given as a
    file of several kinds, ``--parcels``).

    Parameters
    ----------
    folder
        An output folder of another command.

    Returns
    -------
    list of str
        ``compounds``, ``pois``, ``parcels`` — those it has records of (a bundles folder
        has parcels only when a bundle took one).

    Raises
    ------
    InputError
        When the folder is no output folder this toolkit reads.
    """
    import pyogrio

    folder = Path(folder)
    command = _folder_command(folder)
    held = _FOLDER_LAYERS.get(str(command), {})
    if not held:
        folder_layer(folder, "compounds")  # raises, naming the folders that are read
    kinds = []
    for kind, (file, layer) in held.items():
        path = folder / file
        if not path.is_file():
            continue
        if command == "bundles":
            members = pyogrio.read_dataframe(
                path, layer=layer, columns=["kind"], read_geometry=False
            )
            keep, _ = folder_rows(folder, kind, members["kind"])
            if not keep.any():
                continue
        kinds.append(kind)
    return kinds


def folder_rows(
    folder: str | Path, kind: str, kinds: pd.Series
) -> tuple[np.ndarray, list[Problem]]:
    """Which records of :func:`folder_layer`'s layer are ``kind``, and what was left out.

    Parameters
    ----------
    folder
        The output folder given as input.
    kind
        ``compounds``, ``pois`` or ``parcels``.
    kinds
        The layer's ``kind`` column (a bundle member's kind), or an empty series.

    Returns
    -------
    keep, notes
        A boolean mask over the records; warnings naming what the folder does not hold
        (compounds that ``spatial bundles`` excluded are not among its members; nor are
        parcels no bundle took).
    """
    folder = Path(folder)
    keep = np.ones(len(kinds), dtype=bool)
    if _folder_command(folder) != "bundles" or kind not in ("compounds", "parcels"):
        return keep, []
    is_compound = kinds.astype(str).eq(COMPOUND_KIND).to_numpy()
    keep = is_compound if kind == "compounds" else ~is_compound
    notes = []
    excluded = folder / "excluded.csv"
    try:
        left = len(pd.read_csv(excluded, encoding="utf-8-sig")) if excluded.is_file() else 0
    except (OSError, ValueError, pd.errors.EmptyDataError):
        left = 0
    if left and kind == "compounds":  # excluded.csv lists compounds (islands) only
        notes.append(
            Problem.warning(
                str(folder),
                f"{left} compound(s) excluded from every bundle (excluded.csv) are not "
                "among its members and are not read",
                hint="give the bundles' own input file to include them",
            )
        )
    return keep, notes


def _folder_command(folder: Path) -> str | None:
    run = folder / RUN_FILE
    try:
        return json.loads(run.read_text(encoding="utf-8")).get("command") if run.is_file() else None
    except (OSError, ValueError, AttributeError):
        return None
