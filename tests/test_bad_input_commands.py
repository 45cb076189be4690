"""Bad input to the newer commands (#33): match, db import/export/history/status, plan
options; text from data inert on the terminal; and which errors count as the user's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io.outputs.write import inert_text

runner = CliRunner()
CAU = SHARED / "data" / "osm" / "beijing_cau_haidian.osm"
SPATIAL = [sys.executable, "-c", "from spatial.cli import main; main()"]


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    from spatial.cli._common import console

    monkeypatch.setattr(console, "_width", 400)  # one problem per line, unwrapped


def _table(d: Path) -> Path:
    pd.DataFrame({"小区名称": ["农大小区", "北邮家属院"], "户数": [1, 2]}).to_excel(
        d / "台账.xlsx", index=False
    )
    return d / "台账.xlsx"


def _refused(args: list[str], *expected: str) -> str:
    result = runner.invoke(app, args)
    out = result.output
    assert result.exit_code == 1, f"{args}\n{out}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit), result.exception  # nothing escaped
    assert "Traceback" not in out and "internal error" not in out
    for text in expected:
        assert text in out, f"{text!r} not in:\n{out}"
    return out


@pytest.mark.shared_data
def test_match_refuses_folders_junk_and_broken_review_files(tmp_path):
    table = _table(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.gpkg").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "r.xlsx").write_text("not a workbook")
    out = ["--out", str(tmp_path / "m")]
    _refused(
        ["match", str(table), "--footprints", str(tmp_path / "folder"), *out],
        "folder",
        "holds no compounds",
    )
    _refused(
        ["match", str(table), "--footprints", str(tmp_path / "junk.gpkg"), *out],
        "junk.gpkg",
        "cannot read the footprints: not a file GDAL can read",
    )
    _refused(
        ["match", str(table), "--footprints", str(CAU), "--review", str(tmp_path / "r.xlsx"), *out],
        "r.xlsx",
        "cannot read the review file: not an Excel workbook",
    )
    _refused(
        ["match", str(tmp_path / "folder"), "--footprints", str(CAU), *out],
        "survey table: a folder, not a file",
    )
    assert not (tmp_path / "m").exists()  # nothing written


def test_db_import_of_bad_targets_names_each_cell(tmp_path):
    db = str(tmp_path / "t.gpkg")
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    path = tmp_path / "targets.csv"
    path.write_text(
        "层级,名称,年度,小区数,户数,投资（万元）\n街道,甲,2026,abc,-5,inf\n区县,乙,2026,3,100,\n"
        "某级,丙,1800,1,1,1\n",
        encoding="utf-8",
    )
    out = _refused(["db", "import", str(path), "--kind", "targets", "--db", db])
    for row, column, text in [
        ("2", "小区数", "'abc' is not an amount"),
        ("2", "户数", "'-5' is not an amount"),
        ("2", "投资（万元）", "'inf' is not an amount"),
        ("4", "层级", "unknown level '某级'"),
        ("4", "年度", "is not a year"),
    ]:
        line = next((li for li in out.splitlines() if text in li), "")
        assert f" {row} " in line and column in line, (text, out)
    # nothing was written: the same file, fixed, imports as a new round
    path.write_text("层级,名称,年度,小区数,户数,投资（万元）\n街道,甲,2026,3,100,1200\n", "utf-8")
    assert (
        runner.invoke(app, ["db", "import", str(path), "--kind", "targets", "--db", db]).exit_code
        == 0
    )


def test_db_export_onto_a_file_is_refused_and_a_folder_keeps_notes(tmp_path):
    db = str(tmp_path / "t.gpkg")
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    (tmp_path / "x.xlsx").write_text("a planner's file")
    _refused(["db", "export", "--db", db, "--out", str(tmp_path / "x.xlsx")], "is a file")
    assert (tmp_path / "x.xlsx").read_text() == "a planner's file"
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "说明.txt").write_text("note")
    for _ in range(2):  # a second export replaces the first
        done = runner.invoke(app, ["db", "export", "--db", db, "--out", str(folder)])
        assert done.exit_code == 0, done.output
    assert (folder / "说明.txt").read_text() == "note" and (folder / "compounds.gpkg").exists()


PLAN = ("--out", "p", "--start-year", "-5")


def test_out_of_range_options_are_refused(tmp_path):
    _refused(
        ["plan", "--gaps", str(tmp_path), "--profile", "shandong", "--budget-yuan", "5e8", *PLAN],
        "--start-year is -5",
        "from 1949 to 2100",
    )


EVIL = "恶意\x1b]0;PWNED\x07\x1b[2J小区\u202egnp.exe\x9b31m"


def test_text_from_data_is_inert_on_the_terminal(tmp_path):
    """A compound named with OSC/CSI escapes and a bidi override, through import and history."""
    assert inert_text(EVIL) == "恶意␛]0;PWNED␇␛[2J小区\\u202egnp.exe\\x9b31m"
    table = tmp_path / "evil.csv"
    pd.DataFrame(
        {
            "小区名称": [EVIL, "好小区"],
            "户数": [1, 2],
            "经度": [116.35, 116.36],
            "纬度": [39.96] * 2,
        }
    ).to_csv(table, index=False)
    db = str(tmp_path / "e.gpkg")
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    for args in (
        ["db", "import", str(table), "--db", db, "--round", "第一轮\x1b[31m"],
        ["db", "history", "--db", db],
        ["db", "status", "--db", db],
        ["validate", str(table)],
    ):
        done = subprocess.run([*SPATIAL, *args], capture_output=True, text=True)
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        for active in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert active not in said, (args, active)
    assert "␛]0;PWNED" in said or "PWNED" not in said


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("spatial._errors:InputError", "user"),
        ("spatial.faults:MachineFaultError", "user"),
        ("builtins:ValueError", "internal"),
        ("builtins:FileNotFoundError", "internal"),
        ("builtins:KeyError", "internal"),
    ],
)
def test_only_input_errors_and_machine_faults_are_the_users(error, kind, tmp_path, monkeypatch):
    """A bug raising ValueError or FileNotFoundError is an internal error, not bad input."""
    import importlib

    from spatial import api
    from spatial._errors import Problem

    module, name = error.split(":")
    cls = getattr(importlib.import_module(module), name)
    exc = cls([Problem.error("x.csv", "bad")]) if name == "InputError" else cls("boom")

    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(api, "load_inputs", broken, raising=False)
    monkeypatch.setattr("spatial.pipeline.runs.check_layers", broken)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # the bug log
    result = runner.invoke(app, ["gaps", "--osm", str(CAU), "--out", str(tmp_path / "g")])
    if kind == "user":
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    else:
        # the exception reaches main(), which reports it as a bug with its log (exit 2)
        assert result.exception is exc, result.output


@pytest.mark.parametrize(
    "fault",
    [
        lambda *a, **k: {}["geometry"],  # KeyError in the toolkit's own code
        lambda *a, **k: pd.DataFrame({"a": [1], "b": [2]})[["a", "a"]]["a"].dtype,  # in pandas
    ],
    ids=["KeyError", "AttributeError in pandas"],
)
def test_a_bug_in_a_reader_is_not_taken_for_a_bad_file(fault, tmp_path, monkeypatch):
    """check_file reports a damaged file as "cannot read"; a bug goes up as itself."""
    from spatial.io.load import check_file

    path = tmp_path / "t.csv"
    path.write_text("小区名称,经度,纬度\n甲,116.35,39.96\n", encoding="utf-8")
    monkeypatch.setattr("spatial.io.readers.read_table", fault)
    with pytest.raises((KeyError, AttributeError)):
        check_file(path, "compounds")


def test_a_damaged_file_is_reported_as_unreadable(tmp_path):
    from spatial.io.load import check_file

    path = tmp_path / "t.gpkg"
    path.write_bytes(b"SQLite format 3\x00" + bytes(4000))
    loaded = check_file(path, "compounds")
    assert loaded.frame is None and "cannot read the file" in loaded.problems[0].message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["db", "import", "{junk}", "--db", "{db}", "--kind", "status"], "cannot read the status"),
        (["db", "import", "{dir}", "--db", "{db}", "--kind", "targets"], "a folder, not a file"),
        (["db", "import", "{junk}", "--db", "{db}"], "junk.xlsx"),
        (["db", "status", "--db", "{db}", "--year", "-3"], "--year is -3"),
        (["db", "init", "--db", "{dir}"], "a database file ends in .gpkg"),
        (["batch", "{toml}", "--out", "{dir}/b"], "not valid TOML"),
        (["eligibility", "--gaps", "{dir}", "--profile", "{toml}", "--out", "{dir}/e.csv"], ""),
        (
            ["plan", "--gaps", "{dir}", "--profile", "{toml}", "--budget-yuan", "1", "--out", "p"],
            "",
        ),
    ],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else None,
)
def test_every_command_refuses_bad_files_with_a_located_error(args, expected, tmp_path):
    db = tmp_path / "t.gpkg"
    assert runner.invoke(app, ["db", "init", "--db", str(db)]).exit_code == 0
    (tmp_path / "junk.xlsx").write_bytes(bytes(range(256)) * 2)
    (tmp_path / "junk.toml").write_text("x\n")
    (tmp_path / "dir").mkdir()
    names = {
        "junk": tmp_path / "junk.xlsx",
        "db": db,
        "dir": tmp_path / "dir",
        "toml": tmp_path / "junk.toml",
    }
    filled = [a.format(**{k: str(v) for k, v in names.items()}) for a in args]
    _refused(filled, expected.format(**{k: str(v) for k, v in names.items()}))
