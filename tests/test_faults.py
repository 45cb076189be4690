"""Faults of the machine (#33): a full disk or a file-size limit, a read-only folder, a
file removed mid-run, and kills during ``spatial map``: each is named, exit code 1, no
traceback, and the earlier outputs stay whole."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SHARED

from spatial.faults import MachineFaultError, machine_fault
from spatial.io.outputs.fileset import file_set, run_stamp_of
from spatial.io.outputs.runfolder import run_folder

pytestmark = pytest.mark.shared_data

BUPT = SHARED / "data" / "osm" / "beijing_bupt_haidian.osm"
SPATIAL = [sys.executable, "-c", "from spatial.cli import main; main()"]
PLAN = ("--budget-yuan", "5e8", "--out")


def MAP(base: Path) -> tuple[str, ...]:  # noqa: N802
    return ("--out", str(base / "maps" / "城区.html"), "--png")


def _files(folder: Path) -> dict[str, str]:
    """Every visible file under ``folder`` by its content (GeoPackages by size: they
    store the time they were written, and a kept one is not rewritten at all)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts):
            data = p.read_bytes()
            out[str(p.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A gaps, a bundles, a plan and a map folder of BUPT, written once."""
    base = tmp_path_factory.mktemp("faults")
    for args in (
        ["gaps", "--osm", str(BUPT), "--out", str(base / "gaps")],
        ["bundles", "--osm", str(BUPT), "--out", str(base / "bundles")],
        ["plan", "--gaps", str(base / "gaps"), "--profile", "shandong", *PLAN, str(base / "plan")],
        ["map", "--gaps", str(base / "gaps"), "--bundles", str(base / "bundles"), *MAP(base)],
    ):
        subprocess.run([*SPATIAL, "-q", *args], check=True, capture_output=True)
    return base


def _limited(kb: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (kb * 1024, kb * 1024))

    return limit


@pytest.mark.parametrize("command", ["gaps", "bundles", "plan", "map"])
def test_a_file_size_limit_is_named_and_the_old_outputs_kept(runs, command, tmp_path):
    """What a full disk does to a run (here a file-size limit: EFBIG, as ENOSPC)."""
    folder = {"map": runs / "maps"}.get(command, runs / command)
    before = _files(folder)
    args = {
        "gaps": ["gaps", "--osm", str(BUPT), "--out", str(folder)],
        "bundles": ["bundles", "--osm", str(BUPT), "--out", str(folder)],
        "plan": ["plan", "--gaps", str(runs / "gaps"), "--profile", "shandong", *PLAN, str(folder)],
        "map": [
            "map",
            "--gaps",
            str(runs / "gaps"),
            "--bundles",
            str(runs / "bundles"),
            *MAP(runs),
        ],
    }[command]
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path)}  # the font cache is written too
    done = subprocess.run(
        [*SPATIAL, *args], capture_output=True, text=True, preexec_fn=_limited(8), env=env
    )
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "file too large" in said or "disk" in said, said
    assert "kept as they were" in said
    assert "Traceback" not in said and "internal error" not in said
    assert _files(folder) == before


def test_a_file_removed_mid_run_is_named(tmp_path):
    out = tmp_path / "out"
    with (
        pytest.raises(MachineFaultError, match="vanished"),
        run_folder(out, command="gaps") as stage,
    ):
        (stage / "a.csv").write_text("x")
        (stage / "a.csv").unlink()  # another program cleaning up
        (stage / "a.csv").read_text()
    assert not out.exists()


def test_a_bug_is_not_taken_for_a_machine_fault(tmp_path):
    with pytest.raises(KeyError), run_folder(tmp_path / "out", command="gaps"):
        raise KeyError("a bug")
    assert machine_fault(KeyError("disk")) is None
    assert machine_fault(OSError(28, "No space left on device")) == "disk full"
    wrapped = RuntimeError("sqlite3_exec failed: database or disk is full")
    assert machine_fault(wrapped) == "disk full"


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a read-only folder needs root")
def test_a_read_only_file_system_is_named(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)]).returncode:
        pytest.skip("this machine does not allow mounts")
    try:
        done = subprocess.run(
            [*SPATIAL, "gaps", "--osm", str(BUPT), "--out", str(ro / "g")],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "400"},  # the problem table unwrapped
        )
        assert done.returncode == 1
        assert "Read-only file system" in done.stdout or "read-only" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def _stamps(folder: Path) -> set[str | None]:
    """Run stamps of the pages a user sees: a killed run's hidden staging folder (cleared
    by the next run) holds pages of its own that are not in the set."""
    pages = folder.rglob("*.html")
    seen = [p for p in pages if not any(x.startswith(".") for x in p.relative_to(folder).parts)]
    return {run_stamp_of(p) for p in seen}


def test_a_killed_map_run_leaves_one_set(runs, tmp_path):
    """Kills at any moment: every page of the folder is of one run, the old or the new."""
    maps = tmp_path / "maps"
    args = ["map", "--gaps", str(runs / "gaps"), "--bundles", str(runs / "bundles")]
    args += ["--out", str(maps / "城区.html")]
    subprocess.run([*SPATIAL, "-q", *args], check=True)
    (first,) = _stamps(maps)
    seen = set()
    for delay in (0.8, 2.0, 3.5):
        proc = subprocess.Popen([*SPATIAL, "-q", *args], stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stamps = _stamps(maps)
        assert len(stamps) == 1 and None not in stamps, (delay, stamps)
        seen.add("old" if stamps == {first} else "new")
    assert "old" in seen  # the kills did land mid-run
    subprocess.run([*SPATIAL, "-q", *args], check=True)
    assert sorted(p.name for p in maps.iterdir() if p.name.startswith(".")) == [".城区.set.lock"]


def test_an_interrupted_move_is_finished_by_the_next_run(tmp_path):
    """A kill between the moves of a set (the journal written): the next run completes it."""
    import json

    parent = tmp_path / "maps"
    parent.mkdir()
    (parent / "a.html").write_text("old a")
    (parent / "b.html").write_text("old b")
    stage = parent / ".a.set-20260101-000000-abcdef"
    stage.mkdir()
    (stage / "b.html").write_text("new b")  # a.html was moved before the kill
    (parent / "a.html").write_text("new a")
    (stage / ".complete.json").write_text(json.dumps({"entries": ["a.html", "b.html"]}))
    with file_set(parent, name="a") as new_stage:
        # the earlier set is whole before anything of this run is written
        assert (parent / "b.html").read_text() == "new b"
        (new_stage / "a.html").write_text("newest a")
    assert (parent / "a.html").read_text() == "newest a"
    assert not list(parent.glob(".a.set-*"))
