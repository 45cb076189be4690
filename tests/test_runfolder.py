"""One run, one set: a killed run leaves the earlier folder whole, two runs do not
interleave, and a folder is never swapped over files another command or a person wrote."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SHARED
from typer.testing import CliRunner

from spatial.cli import app

BUPT = SHARED / "data" / "osm" / "beijing_bupt_haidian.osm"
SPATIAL = [sys.executable, "-c", "from spatial.cli import main; main()"]
runner = CliRunner()


def _gaps(out: Path, *extra: str) -> list[str]:
    return [*SPATIAL, "-q", "gaps", "--osm", str(BUPT), "--out", str(out), *extra]


def _digest(path: Path) -> str:
    """A file's content; a GeoPackage by its layers (it stores the time it was written)."""
    if path.suffix != ".gpkg":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    import geopandas as gpd
    import pyogrio

    parts = []
    for name, _ in pyogrio.list_layers(path):
        layer = gpd.read_file(path, layer=name, engine="pyogrio").to_wkb()
        parts.append(f"{name}\n{layer.to_csv()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: _digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _consistent(folder: Path) -> str:
    """The folder is one whole set: run.json lists exactly its files, sizes as written."""
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    files = {p.name: p.stat().st_size for p in folder.iterdir() if p.name != "run.json"}
    assert files == record["files"]
    return record["run_id"]


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    """The files of an earlier run (search limit 3 km) and of a new one (800 m, 5 categories)."""
    base = tmp_path_factory.mktemp("sets")
    subprocess.run(_gaps(base / "old"), check=True, capture_output=True)
    new = ("--search-limit-m", "800", "--categories", "kindergarten,health_station,bus_stop")
    subprocess.run(_gaps(base / "new", *new), check=True, capture_output=True)
    old_set, new_set = _snapshot(base / "old"), _snapshot(base / "new")
    return old_set, new_set, new


def _without_run_file(snapshot: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in snapshot.items() if k != "run.json"}


def test_a_killed_run_leaves_the_old_set_or_the_new(two_sets, tmp_path):
    old_set, new_set, new_args = two_sets
    out = tmp_path / "results"
    subprocess.run(_gaps(out), check=True, capture_output=True)
    assert _without_run_file(_snapshot(out)) == _without_run_file(old_set)
    first_id = _consistent(out)
    seen = set()
    for delay in (0.3, 0.8, 1.2, 1.6, 2.0, 2.4, 3.0, 6.0):
        proc = subprocess.Popen(_gaps(out, *new_args), stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # what a reader sees: the folder as the next run (or a person) finds it
        now = _without_run_file(_snapshot(out))
        assert now in (_without_run_file(old_set), _without_run_file(new_set)), delay
        run_id = _consistent(out)
        seen.add("old" if now == _without_run_file(old_set) else "new")
        if now == _without_run_file(old_set):
            assert run_id == first_id
    assert "old" in seen  # the kills did land mid-run
    # leftovers of killed runs (hidden staging folders) are removed by the next run
    subprocess.run(_gaps(out), check=True, capture_output=True)
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".results.")]
    assert hidden == [".results.lock"]


def test_a_second_run_on_the_same_folder_is_refused(tmp_path, monkeypatch):
    from filelock import FileLock

    from spatial.cli._common import console

    monkeypatch.setattr(console, "_width", 300)
    out = tmp_path / "results"
    with FileLock(tmp_path / ".results.lock"):  # as a running `spatial gaps` holds it
        result = runner.invoke(app, ["gaps", "--osm", str(BUPT), "--out", str(out)])
    assert result.exit_code == 1 and "another spatial run is writing this folder" in result.output
    assert not out.exists()
    # two real processes at once: one writes, the other is refused or waits its turn;
    # the folder ends as one whole set
    procs = [
        subprocess.Popen(
            _gaps(out),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "300"},  # the problem table unwrapped
        )
        for _ in range(2)
    ]
    texts = [p.communicate()[0] for p in procs]  # reads and closes each pipe
    outputs = [(p.returncode, text) for p, text in zip(procs, texts, strict=True)]
    assert all(code == 0 or "another spatial run" in text for code, text in outputs), outputs
    assert any(code == 0 for code, _ in outputs)
    _consistent(out)


def test_folders_of_other_commands_and_people_are_kept(tmp_path, monkeypatch):
    from spatial.cli._common import console

    monkeypatch.setattr(console, "_width", 300)
    out = tmp_path / "results"
    assert runner.invoke(app, ["gaps", "--osm", str(BUPT), "--out", str(out)]).exit_code == 0
    before = _snapshot(out)
    first_id = _consistent(out)
    result = runner.invoke(app, ["bundles", "--parcels", str(BUPT), "--out", str(out)])
    assert result.exit_code == 1 and "holds the results of `spatial gaps`" in result.output
    assert _snapshot(out) == before
    # the same command again replaces its own set
    again = runner.invoke(app, ["gaps", "--osm", str(BUPT), "--out", str(out)])
    assert again.exit_code == 0 and _consistent(out) != first_id


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_parent_is_refused_before_any_work(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        result = runner.invoke(app, ["gaps", "--osm", str(BUPT), "--out", str(parent / "x")])
        assert result.exit_code == 1 and "cannot write here" in result.output
    finally:
        parent.chmod(0o700)


def test_a_planners_files_and_a_log_being_written_are_kept(tmp_path):
    """A log redirected into the folder and a note beside the results stay, across runs;
    the log keeps receiving what is written to it after the swap."""
    out = tmp_path / "results"
    out.mkdir()
    (out / "笔记.txt").write_text("a planner's note", encoding="utf-8")
    with open(out / "log", "w") as log:
        subprocess.run(_gaps(out), check=True, stdout=log, stderr=log)
        log.write("after the run\n")
    assert (out / "笔记.txt").read_text(encoding="utf-8") == "a planner's note"
    assert (out / "log").read_text().endswith("after the run\n")
    listed = json.loads((out / "run.json").read_text(encoding="utf-8"))["files"]
    assert "gaps.csv" in listed and not {"log", "笔记.txt"} & set(listed)  # the run's only
    subprocess.run(_gaps(out), check=True, capture_output=True)
    assert {"笔记.txt", "log", "gaps.csv"} <= {p.name for p in out.iterdir()}
