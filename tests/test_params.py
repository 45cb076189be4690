"""One parameter object per stage: declared once, validated once, passed on unchanged."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import textwrap

import pytest
from typer.testing import CliRunner

import spatial
from spatial._errors import InputError
from spatial.bundling.params import BundleParams
from spatial.cli import app
from spatial.lifecircle.params import GapParams
from spatial.policy.params import PlanParams
from spatial.render.options import MapOptions

PARAMS = (GapParams, BundleParams, PlanParams, MapOptions)
#: The layers above the stages: they build the stages' objects and pass them on.
LAYERS = ("spatial.api", "spatial.pipeline", "spatial.batch", "spatial.cli")
#: Stage functions that take their object (and changes of it by name).
STAGES = ("spatial.lifecircle.gaps.compute_gaps", "spatial.bundling.bundles.find_bundles")


def _modules(prefix: str):
    module = importlib.import_module(prefix)
    yield module
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, prefix + "."):
            yield importlib.import_module(info.name)


def _functions():
    for layer in LAYERS:
        for module in _modules(layer):
            for name, obj in vars(module).items():
                if inspect.isfunction(obj) and obj.__module__ == module.__name__:
                    yield f"{module.__name__}.{name}", obj
    for path in STAGES:
        module, name = path.rsplit(".", 1)
        yield path, getattr(importlib.import_module(module), name)


def test_no_layer_declares_a_default_of_a_stage_option():
    """Every option of a stage has its default in the stage's object only: a face,
    pipeline, batch or CLI parameter named like a field defaults to None (not given)."""
    fields = {f.name: cls.__name__ for cls in PARAMS for f in dataclasses.fields(cls)}
    # names that are not the option there: a layer's own choice (the demo's seed of its
    # city), the gaps' taxonomy given to the plan, a file path of the CLI
    own = {"seed", "categories"}
    again = []
    checked = 0
    for where, func in _functions():
        for name, p in inspect.signature(func).parameters.items():
            if name not in fields or name in own:
                continue
            checked += 1
            if p.default is not inspect.Parameter.empty and p.default is not None:
                again.append(f"{where}({name}={p.default!r}) re-declares {fields[name]}.{name}")
    assert checked > 20  # the scan sees the CLI's options and the pipeline's parameters
    assert not again, "\n".join(again)


def test_the_cli_shows_and_uses_the_objects_defaults(tmp_path, monkeypatch):
    from spatial.cli._common import console

    monkeypatch.setattr(console, "width", 250)  # the problem table's cells on one line
    runner = CliRunner()
    shown = runner.invoke(app, ["gaps", "--help"], terminal_width=200).output
    assert f"{GapParams().search_limit_m:g}" in shown and "--line-snap-m" in shown
    bad = runner.invoke(
        app,
        ["gaps", "--osm", "x.osm", "--search-limit-m", "-5", "--gate-tolerance-m", "-1",
         "--out", str(tmp_path / "g")],
        terminal_width=250,
    )  # fmt: skip
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "--search-limit-m is -5" in bad.output and "--gate-tolerance-m is -1" in bad.output
    assert not (tmp_path / "g").exists()


def test_values_are_checked_once_with_every_problem_named():
    with pytest.raises(InputError) as info:
        GapParams(search_limit_m=0, school_unknown="maybe", access_leg_factor=0.5)  # type: ignore[arg-type]
    columns = sorted(p.column or "" for p in info.value.problems)
    assert columns == ["--access-leg-factor", "--school-unknown", "--search-limit-m"]
    with pytest.raises(InputError, match="did you mean --search-limit-m"):
        GapParams().replace(serch_limit_m=2000)
    with pytest.raises(TypeError):
        GapParams(2000)  # type: ignore[misc]  # keyword-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        GapParams().search_limit_m = 1  # type: ignore[misc]
    assert GapParams().replace(search_limit_m=2000).search_limit_m == 2000
    assert PlanParams(profile="taian", budget_yuan=5e8).sites_k == 3
    with pytest.raises(InputError, match="--budget-yuan is -1"):
        PlanParams(profile="taian", budget_yuan=-1)


def test_a_province_file_sets_each_stage_by_the_same_fields(tmp_path):
    from spatial.batch.spec import load_province

    (tmp_path / "area.osm").write_text("<osm/>", encoding="utf-8")
    path = tmp_path / "province.toml"
    path.write_text(
        textwrap.dedent(
            """
            [province]
            name = "山东省"
            profile = "taian"
            [province.gaps]
            search_limit_m = 2000
            [province.bundles]
            islands = "exclude"

            [[unit]]
            name = "泰山区"
            level = "district"
            osm = "area.osm"
            budget_yuan = 3e8
            gaps = { count_reachable = true, categories = "my.toml" }
            plan = { sites_k = 5 }
            """
        ),
        encoding="utf-8",
    )
    (unit,) = load_province(path).units
    s = unit.settings()
    assert s.gaps.search_limit_m == 2000 and s.gaps.count_reachable
    assert s.gaps.categories == str(tmp_path / "my.toml")  # relative to the file
    assert s.bundles.islands == "exclude" and s.bundles.profile == "taian"
    assert (s.plan.profile, s.plan.budget_yuan, s.plan.sites_k) == ("taian", 3e8, 5)

    path.write_text(
        textwrap.dedent(
            """
            [[unit]]
            name = "泰山区"
            level = "district"
            osm = "area.osm"
            gaps = { search_limit = 2000, walk_speed_m_per_min = -60, context = "yes" }
            bundles = 3
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_province(path)
    said = {(p.column, p.row): p for p in info.value.problems}
    assert "did you mean search_limit_m?" in said[("search_limit", "line 2")].hint
    assert said[("walk_speed_m_per_min", "line 2")].message == "walk_speed_m_per_min is -60"
    assert "true or false" in said[("context", "line 2")].message
    assert "bundles must be a table" in said[("bundles", "line 7")].message


def test_the_face_takes_the_object_or_changes_by_name(demo_city):
    from spatial.io import load_layers
    from spatial.io.load import LoadSpec

    layers = load_layers(
        [LoadSpec(demo_city.gpkg, k, source_layer=k) for k in ("compounds", "pois")]
    )
    few = layers["compounds"].head(5)
    net = demo_city.osm
    by_name = spatial.gaps(few, layers["pois"], net, only_categories=("kindergarten",))
    by_object = spatial.gaps(
        few, layers["pois"], net, params=GapParams(only_categories=("kindergarten",))
    )
    assert [c for c in by_name if c.endswith("_status")] == ["kindergarten_status"]
    assert by_name["kindergarten_m"].equals(by_object["kindergarten_m"])
    with pytest.raises(InputError, match="no GapParams setting"):
        spatial.gaps(few, layers["pois"], net, radius=300)


def test_the_face_takes_frames_as_geopandas_gives_them(tmp_path, cau_osm):
    """`gpd.read_file` output, Chinese headers, a road GeoDataFrame as the network: the face
    prepares them as the loaders do, and says what is wrong with a frame by its argument."""
    import geopandas as gpd
    import pandas as pd
    import shapely
    from planner_set import planner_set

    files = planner_set(cau_osm, tmp_path)
    table = pd.read_excel(files["compounds"])
    survey = gpd.GeoDataFrame(
        table.drop(columns="几何"), geometry=shapely.from_wkt(table["几何"]), crs=4326
    ).set_index("小区名称", drop=False)
    amap = pd.read_csv(files["pois"])
    amap = gpd.GeoDataFrame(amap, geometry=gpd.points_from_xy(amap["经度"], amap["纬度"]), crs=4326)
    pois = spatial.prepare(amap, "pois", coords="gcj02")  # Amap's lon/lat are GCJ-02
    roads = gpd.read_file(files["network"])
    per = spatial.gaps(survey, pois, roads, only_categories=("bus_stop",))
    assert per.index.equals(survey.index) and list(per.columns[:8]) == list(survey.columns)
    from spatial.io import load_layers
    from spatial.io.load import LoadSpec

    layers = load_layers(
        [LoadSpec(files["compounds"], "compounds"), LoadSpec(files["pois"], "pois", coords="gcj02")]
    )
    loaded = spatial.gaps(
        layers["compounds"], layers["pois"], files["network"], only_categories=("bus_stop",)
    )
    assert per["bus_stop_m"].to_numpy() == pytest.approx(loaded["bus_stop_m"].to_numpy())

    with pytest.raises(InputError) as info:
        spatial.gaps(survey.set_crs(None, allow_override=True), pois, roads)
    (problem,) = info.value.problems
    assert problem.file == "compounds" and "CRS" in problem.message
    with pytest.raises(InputError, match="compounds is a DataFrame, not a GeoDataFrame"):
        spatial.gaps(table, pois, roads)
    assert {"gaps", "bundles", "plan", "prepare", "GapParams"} <= set(dir(spatial))
    assert "importlib" not in dir(spatial)


def test_the_bundles_face_mirrors_the_command(tmp_path):
    """`spatial.bundles(compounds, parcels)` with raw frames gives the members and money
    that `spatial bundles --compounds --parcels` gives from the same rows as files."""
    import geopandas as gpd
    import shapely

    def square(x0: float):
        lon, lat, d = 116.35 + x0, 40.0, 0.002
        return shapely.box(lon, lat, lon + d, lat + d)

    compounds = gpd.GeoDataFrame(
        {"小区编号": ["XQ1", "XQ2"], "小区名称": ["甲小区", "乙小区"], "户数": [400, 300]},
        geometry=[square(0), square(0.0042)],
        crs=4326,
        index=[10, 20],
    )
    parcels = gpd.GeoDataFrame(
        {"地块编号": ["D1"], "地块名称": ["旧机床厂"], "地块类型": ["旧厂区"], "规划容积率": [2.5]},
        geometry=[square(0.002)],
        crs=4326,
    )
    per = spatial.bundles(compounds, parcels, seed=0)
    assert list(per.index) == [("compounds", 10), ("compounds", 20), ("parcels", 0)]
    assert per["bundle_id"].nunique() == 1  # the factory pays for both compounds
    compounds.to_file(tmp_path / "c.gpkg")
    parcels.to_file(tmp_path / "p.gpkg")
    res = CliRunner().invoke(
        app,
        ["bundles", "--compounds", str(tmp_path / "c.gpkg"), "--parcels",
         str(tmp_path / "p.gpkg"), "--seed", "0", "--out", str(tmp_path / "b")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    import pandas as pd

    members = gpd.read_file(tmp_path / "b" / "bundles.gpkg", layer="members").set_index("id")
    for key, row in per.iterrows():
        ident = row["小区编号"] if key[0] == "compounds" else row["地块编号"]
        assert row["balance_yuan"] == pytest.approx(members.at[ident, "balance_yuan"])
    assert pd.notna(per["bundle_id"]).all()
