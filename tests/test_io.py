"""Atomic outputs: a failed run leaves earlier outputs intact and no half-written files."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from spatial import InputError
from spatial.io import atomic_path, write_csv, write_gpkg
from spatial.pipeline import run_demo


def test_failure_inside_atomic_path_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_writers_replace_whole_files(tmp_path):
    csv = write_csv(pd.DataFrame({"小区": ["甲"]}), tmp_path / "a.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(116, 40)], crs=4326)
    path = write_gpkg({"x": gdf, "y": gdf}, tmp_path / "a.gpkg")
    assert sorted(n for n, _ in __import__("pyogrio").list_layers(path)) == ["x", "y"]
    with pytest.raises(ValueError, match="no CRS"):
        write_gpkg({"x": gdf.set_crs(None, allow_override=True)}, path)
    assert len(gpd.read_file(path, layer="x")) == 1


def test_a_large_layer_is_written_in_pieces_reprojected_each(tmp_path, monkeypatch):
    """Rows written a few vertices at a time (so a city's outlines are never held twice)
    come back whole, in order, reprojected like one ``to_crs`` of the whole layer."""
    import shapely

    rings = [
        shapely.Point(500_000 + 90 * k, 4_400_000).buffer(30, quad_segs=k + 1) for k in range(7)
    ]
    gdf = gpd.GeoDataFrame({"n": range(7), "名": list("甲乙丙丁戊己庚")}, geometry=rings, crs=32650)
    writes = []
    to_file = gpd.GeoDataFrame.to_file

    def counted(self, *args, **kwargs):
        writes.append(len(self))
        return to_file(self, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", counted)
    path = write_gpkg({"a": gdf}, tmp_path / "a.gpkg", crs=4326, max_vertices=12)
    assert len(writes) > 2 and sum(writes) == 7  # pieces, every row once
    back = gpd.read_file(path, layer="a")
    want = gdf.to_crs(4326)
    assert back.crs.to_epsg() == 4326 and back["n"].tolist() == list(range(7))
    assert back["名"].tolist() == want["名"].tolist()
    assert shapely.equals_exact(back.geometry.values, want.geometry.values, tolerance=1e-9).all()


def test_bad_input_leaves_no_partial_outputs(tmp_path, demo_city):
    data = tmp_path / "data"
    data.mkdir()
    gpkg = data / "demo_city.gpkg"
    (data / "demo_city.osm").write_bytes(demo_city.osm.read_bytes())
    for layer in ("compounds", "pois", "parcels"):
        gdf = gpd.read_file(demo_city.gpkg, layer=layer)
        if layer == "compounds":
            gdf["户数"] = gdf["户数"].astype(str)  # a text column, as Excel exports often are
            gdf.loc[3, "户数"] = "很多"
            gdf_ids = gdf["小区编号"].astype(str).tolist()
        gdf.to_file(gpkg, layer=layer, engine="pyogrio")
    out, maps = tmp_path / "results", tmp_path / "maps"
    out.mkdir()
    (out / "inventory.csv").write_text("earlier run")
    with pytest.raises(InputError) as info:
        run_demo(data_dir=data, out_dir=out, maps_dir=maps)
    [err] = info.value.errors
    assert (err.row, err.column) == (f"小区编号 {gdf_ids[3]}", "户数")  # named by its own id
    assert sorted(p.name for p in out.iterdir()) == ["inventory.csv"]
    assert (out / "inventory.csv").read_text() == "earlier run"
    assert not maps.exists()


def test_bad_input_stops_the_second_process_and_writes_nothing(tmp_path, demo_city):
    """With a large network file its ways are read by a second process while the inputs
    are checked; a bad input still fails with its problem, writes nothing and leaves no
    process behind."""
    import multiprocessing

    from spatial.io import LoadSpec
    from spatial.lifecircle import GapParams
    from spatial.pipeline import run_gaps

    bad = gpd.read_file(demo_city.gpkg, layer="compounds")
    bad["户数"] = bad["户数"].astype(str)
    bad.loc[2, "户数"] = "很多"
    bad.to_file(tmp_path / "bad.gpkg", layer="compounds", engine="pyogrio")
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        run_gaps(
            out_dir=out,
            compounds=[LoadSpec(tmp_path / "bad.gpkg", "compounds")],
            pois=[LoadSpec(demo_city.gpkg, "pois", source_layer="pois")],
            network=demo_city.osm,
            params=GapParams(context_process_mb=0.0),
        )
    assert [(e.column, e.row.startswith("小区编号 ")) for e in info.value.errors] == [
        ("户数", True)
    ]
    assert not out.exists() or not any(out.iterdir())
    assert multiprocessing.active_children() == []


def test_large_tables_written_by_arrow_read_back_as_pandas_writes_them(tmp_path, monkeypatch):
    """From the row limit on, CSVs are written by Arrow; read back, they equal what
    pandas writes: text with commas, quotes and Chinese, formulas kept as text, booleans,
    missing values and floats."""
    import numpy as np

    import spatial.io.outputs.write as write
    from spatial.io.outputs.write import read_own_csv

    frame = pd.DataFrame(
        {
            "compound_id": ["C1", "C2", "C3", "C4"],
            "compound_name": ['甲,"小区"', "=1+1", None, "-2"],
            "distance_m": [12.25, np.nan, 0.1 + 0.2, 3000.0],
            "covered": [True, False, True, False],
            "n": [1, 2, 3, 4],
        }
    )
    write_csv(frame, tmp_path / "pandas.csv")
    monkeypatch.setattr(write, "_ARROW_ROWS", 0)
    write_csv(frame, tmp_path / "arrow.csv")
    arrow_text = (tmp_path / "arrow.csv").read_bytes()
    assert arrow_text.startswith(b"\xef\xbb\xbf") and b"True" in arrow_text
    assert arrow_text != (tmp_path / "pandas.csv").read_bytes()  # Arrow's own quoting
    pd.testing.assert_frame_equal(
        read_own_csv(tmp_path / "arrow.csv"), read_own_csv(tmp_path / "pandas.csv")
    )
    assert read_own_csv(tmp_path / "arrow.csv")["compound_name"].tolist()[:2] == [
        '甲,"小区"',
        "=1+1",
    ]
    mixed = frame.assign(when=pd.Timestamp("2026-01-01"))  # not plain: pandas writes it
    write_csv(mixed, tmp_path / "mixed.csv")
    assert "2026-01-01" in (tmp_path / "mixed.csv").read_text(encoding="utf-8-sig")


def test_gap_matrix_is_the_pivot_of_the_long_table():
    import numpy as np

    from spatial.lifecircle import gap_matrix

    rng = np.random.default_rng(5)
    ids = [f"C{i}" for i in range(50)]
    cats = ["kindergarten", "clinic", "market"]
    rows = [(c, k) for c in ids for k in cats if rng.random() < 0.8]
    long = pd.DataFrame(rows, columns=["compound_id", "category"])
    long["distance_m"] = rng.uniform(0, 3000, len(long)).round(2)
    order = [*ids[::-1], "missing"]
    want = long.pivot(index="compound_id", columns="category", values="distance_m")
    want = want.reindex(index=order, columns=cats)
    got = gap_matrix(long, "distance_m", compound_ids=order, categories=cats)
    assert np.array_equal(got.to_numpy(), want.to_numpy(), equal_nan=True)
    assert list(got.index) == order and list(got.columns) == cats


def test_number_columns_typed_at_once_equal_cell_by_cell_parsing():
    """A clean numeric column is typed in one step; one with something to report is
    parsed cell by cell and every problem is listed."""
    import numpy as np

    from spatial.io.survey.conform import _parse_column, _parse_value
    from spatial.io.survey.schema import CONTRACTS

    fields = {f.name: f for f in CONTRACTS["compounds"]}
    label = lambda pos: pos + 2  # noqa: E731
    for name, values in (
        ("households", [120, 80, np.nan, 3]),
        ("floor_area_m2", [1200.5, np.nan, 0.0, 3.25]),
        ("households", [120.0, -4.0, 2.5, 7.0]),
    ):
        series = pd.Series(values)
        got, _, problems = _parse_column(series, fields[name], name, "f.csv", label)
        cells = [_parse_value(v, fields[name]) for v in values]
        assert [None if pd.isna(v) else v for v in got.tolist()] == [c[0] for c in cells]
        assert [p.row for p in problems] == [label(k) for k, c in enumerate(cells) if c[2]]


def test_a_script_without_a_main_guard_still_runs_once(tmp_path, demo_city):
    """A script that calls ``run_gaps`` without ``if __name__ == "__main__":`` makes the
    spawned second process run it again; that copy stops at once (the output folder is
    locked) and the run reads the file itself, writing its outputs once, without hanging."""
    import subprocess
    import sys
    import textwrap

    out = tmp_path / "out"
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from spatial.io import LoadSpec
            from spatial.lifecircle import GapParams
            from spatial.pipeline import run_gaps

            gpkg = {str(demo_city.gpkg)!r}
            run_gaps(
                out_dir={str(out)!r},
                compounds=[LoadSpec(gpkg, "compounds", source_layer="compounds")],
                pois=[LoadSpec(gpkg, "pois", source_layer="pois")],
                network={str(demo_city.osm)!r},
                params=GapParams(service_areas=False, context_process_mb=0.0),
            )
            print("ran")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ran"]
    assert "if __name__" in done.stderr  # the warning says what to do
    assert (out / "gaps.csv").is_file() and (out / "context.gpkg").is_file()


def test_one_chunk_joins_arrow_columns_and_changes_nothing_else():
    """A layer read through Arrow comes in chunks per batch; one_chunk joins them (a
    unit's rows are then taken ~60× faster) and the frame is equal to the one read."""
    import pyarrow as pa

    from spatial.io.outputs.write import one_chunk

    pieces = [pd.Series(v, dtype="str") for v in (["甲", None], ["乙"], ["丙", "丁"])]
    frame = pd.DataFrame({"n": [1, 2, 3, 4, 5]}, index=[5, 4, 3, 2, 1])
    frame["name"] = pd.concat(pieces, ignore_index=True).set_axis(frame.index)

    def chunks(column: pd.Series) -> int:
        data = pa.array(column.array)
        return data.num_chunks if isinstance(data, pa.ChunkedArray) else 1

    assert chunks(frame["name"]) == 3
    joined = one_chunk(frame)
    pd.testing.assert_frame_equal(joined, frame)
    assert chunks(joined["name"]) == 1
    assert chunks(frame["name"]) == 3  # the argument is left as it was
    assert one_chunk(joined) is joined
