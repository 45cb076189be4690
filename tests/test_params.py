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

PARAMS = (GapParams, BundleParams, PlanParams)
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
