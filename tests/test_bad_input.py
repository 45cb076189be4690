"""Bad input never ends in a traceback: each kind a planner may hand over gets exit code 1
and a message naming the file (and row, column) with the fix; what can be read is read,
with a warning saying what was assumed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SHARED
from shapely.geometry import Polygon
from typer.testing import CliRunner

from spatial.cli import app

runner = CliRunner()
BUPT = SHARED / "data" / "osm" / "beijing_bupt_haidian.osm"
LON, LAT = 116.35, 39.96


def _square(dx: float = 0.0, size: float = 0.001) -> Polygon:
    x, y = LON + dx, LAT
    return Polygon([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])


def _csv(path: Path, frame: pd.DataFrame, encoding: str = "utf-8-sig") -> Path:
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def _pois(d: Path) -> Path:
    return _csv(d / "pois.csv", pd.DataFrame({"名称": ["幼儿园"], "经度": [LON], "纬度": [LAT]}))


def _survey(d: Path, name: str, rows: dict) -> Path:
    return _csv(d / name, pd.DataFrame(rows))


def _bytes(name: str, data: bytes) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / name).write_bytes(data)
        return ["validate", str(d / name)]

    return build


def _title_row(d: Path) -> list[str]:
    rows = [["某区老旧小区台账（2024年）", None, None], ["小区名称", "经度", "纬度"]]
    rows += [["农大小区", LON, LAT], ["北邮家属院", LON + 0.01, LAT]]
    pd.DataFrame(rows).to_excel(d / "台账.xlsx", index=False, header=False)
    return ["validate", str(d / "台账.xlsx"), "--kind", "compounds"]


def _out_is_file(d: Path) -> list[str]:
    (d / "results").write_text("not a folder")
    return ["gaps", "--osm", str(BUPT), "--out", str(d / "results")]


def _out_foreign(d: Path) -> list[str]:
    (d / "results" / "我的资料").mkdir(parents=True)  # a folder of a planner's own files
    return ["gaps", "--osm", str(BUPT), "--out", str(d / "results")]


def _empty_layer(d: Path) -> list[str]:
    gdf = gpd.GeoDataFrame({"小区名称": ["x"]}, geometry=[_square()], crs=4326).iloc[:0]
    gdf.to_file(d / "empty.gpkg", layer="小区", engine="pyogrio")
    return ["validate", str(d / "empty.gpkg")]


def _negative_budget(d: Path) -> list[str]:
    budget = ["--budget-yuan", "-5"]
    return [
        "plan",
        "--profile",
        "shandong",
        "--gaps",
        str(d / "none"),
        "--out",
        str(d / "p"),
        *budget,
    ]


# (id, build the input and return the arguments, texts the output must hold)
CASES: list[tuple[str, Callable[[Path], list[str]], tuple[str, ...]]] = [
    ("empty csv", _bytes("empty.csv", b""), ("empty.csv",)),
    (
        "utf-16 csv without its BOM",
        _bytes("u16.csv", "名称,经度,纬度\n幼儿园,116.3,40\n".encode("utf-16-le")),
        ("u16.csv", "NUL byte"),
    ),
    (
        "broken geojson",
        _bytes("b.geojson", b'{"type": "FeatureCollection", "features": ['),
        ("b.geojson",),
    ),
    ("random gpkg", _bytes("r.gpkg", os.urandom(2048)), ("r.gpkg", "cannot read")),
    (
        "csv named xlsx",
        _bytes("t.xlsx", "名称,经度,纬度\na,1,2\n".encode()),
        ("t.xlsx", "name it .csv"),
    ),
    (
        "bad osm as reference",
        lambda d: (
            _pois(d),
            (d / "f.osm.pbf").write_bytes(os.urandom(300)),
            ["validate", str(d / "pois.csv"), "--reference", str(d / "f.osm.pbf")],
        )[-1],
        ("f.osm.pbf", "not a readable OSM file"),
    ),
    (
        "truncated osm as area",
        lambda d: (
            _pois(d),
            (d / "t.osm").write_text('<osm version="0.6"><node id="1" lat="40" lon="116"/>'),
            ["pois", str(d / "pois.csv"), "--area", str(d / "t.osm"), "--out", str(d / "p.gpkg")],
        )[-1],
        ("t.osm", "not a readable OSM file"),
    ),
    (
        "gaps folder missing",
        lambda d: ["map", "--gaps", str(d / "nothing"), "--out", str(d / "m.html")],
        ("nothing", "spatial gaps"),
    ),
    (
        "gaps folder is a file",
        lambda d: (
            (d / "f").write_text("x"),
            ["map", "--gaps", str(d / "f"), "--out", str(d / "m.html")],
        )[-1],
        ("f",),
    ),
    ("out is a file", _out_is_file, ("results", "--out is a file")),
    (
        "out not writable",
        lambda d: ["gaps", "--osm", str(BUPT), "--out", "/proc/spatial/x"],
        ("cannot write here",),
    ),
    ("out holds other folders", _out_foreign, ("我的资料", "choose a new --out folder")),
    (
        "header-only table",
        lambda d: ["validate", str(_survey(d, "h.csv", {"小区名称": [], "经度": [], "纬度": []}))],
        ("h.csv", "no records"),
    ),
    ("empty layer", _empty_layer, ("empty.gpkg", "no records")),
    (
        "bd09mc on degrees",
        lambda d: ["validate", str(_pois(d)), "--coords", "bd09mc"],
        ("pois.csv", "use --coords bd09"),
    ),
    (
        "huge integer",
        lambda d: [
            "validate",
            str(
                _survey(
                    d,
                    "big.csv",
                    {"小区名称": ["x"], "户数": [10**30], "经度": [LON], "纬度": [LAT]},
                )
            ),
        ],
        ("big.csv", "户数", "too large"),
    ),
    (
        "location (0, 0)",
        lambda d: [
            "validate",
            str(
                _survey(
                    d, "z.csv", {"小区名称": ["x", "y"], "经度": [LON, 0.0], "纬度": [LAT, 0.0]}
                )
            ),
        ],
        ("z.csv", "(0, 0)", " 3 "),
    ),
    (
        "bad toml",
        lambda d: (
            (d / "c.toml").write_text("[x\n"),
            ["gaps", "--osm", str(BUPT), "--categories", str(d / "c.toml"), "--out", str(d / "g")],
        )[-1],
        ("c.toml", "not valid TOML"),
    ),
    (
        "data on the 2nd sheet, no geometry",
        lambda d: (
            pd.DataFrame({"说明": ["见下"]}).to_excel(d / "s.xlsx", index=False),
            ["validate", str(d / "s.xlsx"), "--kind", "compounds"],
        )[-1],
        ("s.xlsx", "--sheet", "headers on row 1"),
    ),
    ("negative budget", _negative_budget, ("--budget-yuan is -5",)),
]


@pytest.mark.parametrize(("build", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_not_raised(build, expected, tmp_path, monkeypatch):
    from spatial.cli._common import console

    monkeypatch.setattr(console, "_width", 400)  # one problem per line, unwrapped
    args = build(tmp_path)
    result = runner.invoke(app, args)
    out = result.output
    assert "Traceback" not in out
    assert result.exit_code == 1, f"{args}\n{out}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit)  # no exception escaped the command
    for text in expected:
        assert text in out, f"{text!r} not in:\n{out}"


def test_what_can_be_read_is_read_with_a_warning(tmp_path, monkeypatch):
    """A title row above the headers, approximate counts, cut DBF names without .cpg."""
    from spatial.cli._common import console

    monkeypatch.setattr(console, "_width", 400)
    args = _title_row(tmp_path)
    done = runner.invoke(app, args)
    assert done.exit_code == 0 and "台账.xlsx: compounds: 2 records" in done.output, done.output
    approx = _survey(
        tmp_path,
        "a.csv",
        {"小区名称": ["x", "y", "z"], "户数": ["约300户", "300余户", "~120"], "经度": [LON] * 3}
        | {"纬度": [LAT] * 3},
    )
    done = runner.invoke(app, ["validate", str(approx)])
    assert done.exit_code == 0, done.output
    assert "'约300户' is approximate: read as 300" in done.output
    assert "'300余户' is approximate: read as 300" in done.output
    from spatial._errors import InputWarning
    from spatial.io import load_layer

    with pytest.warns(InputWarning, match="approximate"):
        assert load_layer(approx, "compounds")["households"].tolist() == [300, 300, 120]
    # a GBK shapefile without .cpg, names cut to 10 bytes by the DBF format
    gdf = gpd.GeoDataFrame(
        {"小区名称": ["农大小区"], "结构安全等级": ["C"], "建成年份": [1985]},
        geometry=[_square()],
        crs=4326,
    )
    with pytest.warns(RuntimeWarning):  # GDAL says it cut the names
        gdf.to_file(tmp_path / "xq.shp", engine="pyogrio", encoding="gbk")
    (tmp_path / "xq.cpg").unlink(missing_ok=True)
    done = runner.invoke(app, ["validate", str(tmp_path / "xq.shp")])
    assert done.exit_code == 0, done.output
    assert "read as GBK" in done.output and "结构安全等 → 结构安全等级" in done.output
    with pytest.warns(InputWarning, match="GBK"):
        comp = load_layer(tmp_path / "xq.shp", "compounds")
    assert comp["name"].tolist() == ["农大小区"] and comp["build_year"].tolist() == [1985]


def test_a_bug_is_two_lines_and_exit_code_2(monkeypatch, capsys):
    """An exception that is not bad input: the console script reports it briefly, keeps the
    traceback in a log file and exits 2 (the tests above would see it as exit code != 1)."""
    import spatial.cli as cli

    def broken(*_a, **_k):
        raise RuntimeError("a fault inside spatial")

    monkeypatch.setattr(cli, "app", broken)
    monkeypatch.delenv("SPATIAL_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    out = capsys.readouterr().out
    assert "internal error: RuntimeError: a fault inside spatial" in out
    assert "Traceback" not in out
    log = Path(out.split("details in ")[1].split(".log")[0] + ".log")
    assert "RuntimeError" in log.read_text(encoding="utf-8")


def test_a_gis_feature_is_named_by_its_own_id(tmp_path):
    """Problems in a GeoPackage name the feature by its 地块编号, not "feature 0"."""
    import geopandas as gpd
    from shapely.geometry import box

    from spatial.io.load import check_file

    path = tmp_path / "地块.gpkg"
    gpd.GeoDataFrame(
        {
            "地块编号": ["G-12", "G-13"],
            "地块类型": ["棚户区", "旧厂区"],
            "规划容积率": ["abc", "2"],
        },
        geometry=[box(440000, 4428000, 440100, 4428100), box(440200, 4428000, 440300, 4428100)],
        crs=32650,
    ).to_file(path, layer="地块")
    (bad,) = [p for p in check_file(path, "parcels").problems if p.severity == "error"]
    assert bad.row == "地块编号 G-12" and bad.column == "规划容积率"
