"""`spatial batch`: units on a real Dask LocalCluster, compared with each unit run alone;
a broken unit fails alone, a dying worker is reported, a re-run skips, the roll-up sums."""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, open_offline
from distributed import WorkerPlugin
from typer.testing import CliRunner

from spatial._errors import InputError, InputWarning
from spatial.batch import load_province, rollup_tables, run_batch, run_unit
from spatial.cli import app

CAU = "甲市海淀区"
ODD = "甲市<img src=x onerror=alert(1)>区"  # a name that must stay text in the map

PROVINCE = """\
[province]
name = "测试省"
profile = "taian"
budget_yuan = 1e9

[[unit]]
name = "甲市"
level = "city"

[[unit]]
name = "{odd}"
level = "district"
parent = "甲市"
demo = {{ size = 2, seed = 5, centre = [116.90, 36.60] }}

[[unit]]
name = "甲市二区"
level = "district"
parent = "甲市"
demo = {{ size = 3, seed = 9, centre = [117.10, 36.70] }}
budget_yuan = 4e8

[[unit]]
name = "{cau}"
level = "district"
parent = "甲市"
osm = "{osm}"
profile = "shandong"

[[unit]]
name = "坏县"
level = "county"
compounds = "broken.csv"
pois = "broken.csv"
osm = "{osm}"
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory, cau_osm):
    root = tmp_path_factory.mktemp("batch")
    (root / "broken.csv").write_text("name,lon,lat,households\nA,abc,39.9,100\n", "utf-8")
    spec = root / "province.toml"
    spec.write_text(PROVINCE.format(odd=ODD, cau=CAU, osm=cau_osm.as_posix()), "utf-8")
    province = load_province(spec)
    run = run_batch(province, out_dir=root / "out", workers=2)
    return root, province, run


def _alone(unit, root: Path) -> Path:
    """The unit's chain run in this process, with the stage functions the commands use."""
    from spatial.bundling.params import BundleParams
    from spatial.demo import generate_demo
    from spatial.io.load import LoadSpec
    from spatial.pipeline import run_bundles, run_gaps, run_plan
    from spatial.policy.params import PlanParams

    out = root / "alone" / unit.slug
    kinds = {"compounds": [], "pois": [], "parcels": []}
    osm = unit.osm
    if unit.demo is not None:
        city = generate_demo(
            out / "city",
            size=unit.demo.size,
            seed=unit.demo.seed,
            centre_lonlat=unit.demo.centre_lonlat,
        )
        kinds = {k: [LoadSpec(city.gpkg, k, source_layer=k)] for k in kinds}
        osm = city.osm
    run_gaps(out_dir=out / "gaps", compounds=kinds["compounds"], pois=kinds["pois"], osm=osm)
    run_bundles(
        out_dir=out / "bundles",
        compounds=kinds["compounds"],
        parcels=kinds["parcels"],
        osm=osm,
        gaps_dir=out / "gaps",
        params=BundleParams(),
    )
    with warnings.catch_warnings(record=True) as said:  # what the plan leaves out
        warnings.simplefilter("always", InputWarning)
        run_plan(
            out_dir=out / "plan",
            gaps_dir=out / "gaps",
            params=PlanParams(profile=unit.profile, budget_yuan=unit.budget_yuan),
            parcels=kinds["parcels"],
            osm=osm,
        )
    (out / "said.txt").write_text(
        "\n".join(str(p) for w in said for p in getattr(w.message, "problems", [])),
        encoding="utf-8",
    )
    return out


def test_each_unit_equals_the_unit_run_alone(batch):
    root, province, run = batch
    good = [u for u in province.units if u.has_data and u.name != "坏县"]
    assert {u.name: run.records[u.name]["status"] for u in good} == dict.fromkeys(
        (u.name for u in good), "done"
    )
    for unit in good:
        alone = _alone(unit, root)
        there = root / "out" / "units" / unit.slug
        # the batch keeps in unit.json what the unit run alone says it left out
        said = (alone / "said.txt").read_text(encoding="utf-8")
        assert set(filter(None, said.split("\n"))) <= set(run.records[unit.name]["warnings"])
        for name in (
            "gaps/gaps.csv",
            "gaps/summary.csv",
            "bundles/bundles.csv",
            "bundles/funding.csv",
            "bundles/pairs.csv",
            "bundles/packages.csv",
        ):
            a, b = pd.read_csv(there / name), pd.read_csv(alone / name)
            pd.testing.assert_frame_equal(a, b, obj=f"{unit.name} {name}")
        for sheet, frame in pd.read_excel(there / "plan" / "plan.xlsx", sheet_name=None).items():
            if sheet == "封面 cover":  # names the run's own gaps folder
                continue
            other = pd.read_excel(alone / "plan" / "plan.xlsx", sheet_name=sheet)
            pd.testing.assert_frame_equal(frame, other, obj=f"{unit.name} plan {sheet}")
        for page in ("gap_map.html", "bundle_map.html"):
            assert (there / "maps" / page).stat().st_size > 10_000


def test_the_rollup_sums_the_units_files(batch):
    root, province, _run = batch
    units = root / "out" / "units"
    summaries = {
        u.name: pd.read_csv(units / u.slug / "gaps" / "summary.csv")
        for u in province.units
        if u.has_data and u.name != "坏县"
    }
    sheets = pd.read_excel(root / "out" / "province.xlsx", sheet_name=None)
    assert list(sheets) == [
        "汇总 rollup",
        "设施覆盖 coverage",
        "片区资金 money",
        "年度计划 annual plan",
        "单元运行 runs",
    ]
    top = sheets["汇总 rollup"].set_index("单元 Unit")
    city = top.loc["甲市"]
    assert city["户数 Households"] == sum(s["households"].iloc[0] for s in summaries.values())
    assert city["单元数 Units"] == 3 and city["失败单元 Failed units"] == 0
    whole = top.loc["测试省"]
    assert whole["单元数 Units"] == 4 and whole["失败单元 Failed units"] == 1
    assert whole["小区数 Compounds"] == sum(s["compounds"].iloc[0] for s in summaries.values())
    # coverage of the whole from summed households, not a mean of the units' shares
    cov = sheets["设施覆盖 coverage"].set_index("单元 Unit")
    kg = [s.set_index("category").loc["kindergarten"] for s in summaries.values()]
    expected = sum(k["households_covered"] for k in kg) / sum(k["households"] for k in kg)
    assert cov.loc["测试省", "幼儿园 Kindergarten"] == pytest.approx(expected, abs=1e-4)
    # money: the bundles of every unit
    money = sheets["片区资金 money"].set_index("单元 Unit")
    bundles = [
        pd.read_csv(units / u.slug / "bundles" / "bundles.csv")
        for u in province.units
        if u.name in summaries
    ]
    assert money.loc["测试省", "片区数 Bundles"] == sum(len(b) for b in bundles)
    assert money.loc["测试省", "资金平衡（元） Balance (yuan)"] == pytest.approx(
        sum(b["balance_yuan"].sum() for b in bundles)
    )
    # the annual plan per year, from each unit's plan.xlsx
    plan = sheets["年度计划 annual plan"]
    years = pd.concat(
        pd.read_excel(units / u.slug / "plan" / "plan.xlsx", sheet_name="年度计划 annual plan")
        for u in province.units
        if u.name in summaries
    )
    per_year = years.groupby("改造年度 Year")["户数 Households"].sum()
    mine = plan[plan["行类型 Row"] == "全省 all"].set_index("改造年度 Year")
    assert mine["纳入计划户数 Households planned"].to_dict() == per_year.to_dict()
    # levels: the county level holds only the failed unit
    level = top[top["行类型 Row"] == "按层级 by level"]
    assert set(level.index) == {"全部区级单元", "全部县级单元"}
    assert level.loc["全部县级单元", "小区数 Compounds"] == 0


def test_a_broken_unit_fails_alone_with_its_error(batch):
    root, _province, run = batch
    bad = run.records["坏县"]
    assert bad["status"] == "failed"
    assert "broken.csv" in bad["error"] and "'lon'" in bad["error"] and "row 2" in bad["error"]
    runs = pd.read_excel(root / "out" / "province.xlsx", sheet_name="单元运行 runs")
    row = runs.set_index("单元 Unit").loc["坏县"]
    assert row["状态 Status"].startswith("失败") and "broken.csv" in row["错误 Error"]
    record = json.loads((root / "out" / "batch.json").read_text("utf-8"))
    assert record["units"]["坏县"]["status"] == "failed"
    assert sum(u["status"] == "done" for u in record["units"].values()) == 3


def test_a_rerun_skips_unchanged_units_and_runs_a_changed_one(batch):
    root, province, _run = batch
    gaps = root / "out" / "units" / province.units[1].slug / "gaps" / "gaps.csv"
    stamp = gaps.stat().st_mtime_ns
    again = run_batch(province, out_dir=root / "out", workers=2)
    status = {n: r["status"] for n, r in again.records.items()}
    assert status == {ODD: "skipped", "甲市二区": "skipped", CAU: "skipped", "坏县": "failed"}
    assert gaps.stat().st_mtime_ns == stamp
    # the roll-up of a run that skipped everything is the same as the first one's
    first = pd.read_excel(root / "out" / "province.xlsx", sheet_name="汇总 rollup")
    assert first.loc[first["单元 Unit"] == "测试省", "户数 Households"].iloc[0] > 0
    # a changed setting runs that unit only
    text = (
        (root / "province.toml")
        .read_text("utf-8")
        .replace("budget_yuan = 4e8", "budget_yuan = 3e8")
    )
    (root / "changed.toml").write_text(text, "utf-8")
    changed = run_batch(load_province(root / "changed.toml"), out_dir=root / "out", workers=2)
    status = {n: r["status"] for n, r in changed.records.items()}
    assert status == {ODD: "skipped", "甲市二区": "done", CAU: "skipped", "坏县": "failed"}


def test_the_overview_map_links_each_unit_and_keeps_names_as_text(batch, browser):
    root, _province, _run = batch
    page, errors = open_offline(browser, root / "out" / "overview.html")
    assert errors == []
    panel = page.locator(".spatial-units")
    text = panel.inner_text()
    assert ODD in text and "坏县" in text and "失败 failed" in text
    assert page.locator(".spatial-units img").count() == 0  # the name stayed text
    links = page.locator(".spatial-units a").evaluate_all("els => els.map(e => e.href)")
    assert len(links) == 6  # gap and bundle map of the three units that ran
    for href in links:
        from urllib.parse import unquote, urlparse

        assert Path(unquote(urlparse(href).path)).is_file(), href
    outlines = page.evaluate(_OUTLINES)
    # drawn on the canvas, an outline and a dot per unit that ran, popups bound
    assert sorted(outlines) == sorted(["甲市二区", CAU, ODD] * 2)
    popup = page.locator(".leaflet-popup-content")
    assert "平均设施覆盖率" in popup.inner_text() and popup.locator("a").count() == 2
    assert popup.locator("img").count() == 0


_OUTLINES = """() => {
  const m = window[Object.keys(window).find(k => k.startsWith('map_'))];
  const names = [];
  let last = null;
  m.eachLayer(l => { if (l.feature && l.feature.properties.popup_html) {
    names.push(new DOMParser().parseFromString(l.feature.properties.popup_html, 'text/html')
               .querySelector('b').textContent);
    last = l; } });
  last.openPopup();
  return names;
}"""


def test_a_dying_worker_fails_its_unit_only(tmp_path):
    """An existing cluster (--scheduler): a worker killed while running one unit."""
    import dask
    from distributed import Client, LocalCluster

    spec = tmp_path / "p.toml"
    spec.write_text(
        '[[unit]]\nname = "崩溃区"\nlevel = "district"\ndemo = { size = 1, seed = 1 }\n'
        '[[unit]]\nname = "好区"\nlevel = "district"\ndemo = { size = 1, seed = 2 }\n',
        "utf-8",
    )
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2)  # one unit per worker: the good one is not queued behind
        client.register_plugin(_KillOn("崩溃区"), name="kill")
        run = run_batch(
            load_province(spec), out_dir=tmp_path / "out", scheduler=cluster.scheduler_address
        )
    assert run.records["好区"]["status"] == "done"
    assert run.records["崩溃区"]["status"] == "failed"
    assert "worker running it died" in run.records["崩溃区"]["error"]


class _KillOn(WorkerPlugin):
    """A worker plugin that ends its process when a unit's task starts."""

    def __init__(self, slug: str) -> None:
        self.slug = slug

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and self.slug in str(key):
            os._exit(1)


def test_a_bug_in_a_unit_is_caught_with_its_traceback(tmp_path, monkeypatch):
    from spatial.batch import unit as unit_module

    province = tmp_path / "p.toml"
    province.write_text('[[unit]]\nname = "x"\nlevel = "city"\ndemo = { size = 1 }\n', "utf-8")
    unit = load_province(province).units[0]

    def boom(*_args, **_kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(unit_module, "_run_stages", boom)
    record = run_unit(unit, tmp_path / "out")
    assert record["status"] == "failed" and record["error"] == "ZeroDivisionError: a bug"
    assert "ZeroDivisionError" in Path(record["log"]).read_text("utf-8")
    assert "hash" not in record  # a failed unit runs again next time


def test_a_bad_province_file_lists_every_problem_with_its_line(tmp_path):
    spec = tmp_path / "p.toml"
    spec.write_text(
        "[province]\nbudget_yuan = -5\n\n"
        '[[unit]]\nname = "a"\nlevel = "city"\nparrent = "b"\nosm = "missing.osm"\n\n'
        '[[unit]]\nname = "b"\nlevel = "town"\nparent = "c"\ndemo = { size = 99 }\n\n'
        '[[unit]]\nname = "c"\nlevel = "county"\nparent = "b"\ndemo = { size = 1 }\n\n'
        '[[unit]]\nname = "a"\nlevel = "county"\nprofile = "nowhere"\ndemo = { size = 1 }\n',
        "utf-8",
    )
    with pytest.raises(InputError) as err:
        load_province(spec)
    found = {(p.row, p.column, p.message.split(":")[0]) for p in err.value.problems}
    text = "\n".join(str(p) for p in err.value.problems)
    assert ("line 2", "budget_yuan", "budget_yuan is -5") in found
    assert any(
        p.column == "parrent" and "did you mean 'parent'" in p.hint for p in err.value.problems
    )
    assert ("line 8", "osm", "osm") in found  # missing.osm
    assert "level 'town' is not known" in text
    assert "demo size 99 is out of range" in text
    assert "is its own ancestor" in text
    assert "named twice" in text and "unknown profile 'nowhere'" in text
    assert all(str(spec) == p.file for p in err.value.problems)


def test_rollup_shares_come_from_sums_not_means(tmp_path):
    spec = tmp_path / "p.toml"
    spec.write_text(
        '[[unit]]\nname = "市"\nlevel = "city"\n'
        '[[unit]]\nname = "大"\nlevel = "district"\nparent = "市"\ndemo = { size = 1 }\n'
        '[[unit]]\nname = "小"\nlevel = "district"\nparent = "市"\ndemo = { size = 1 }\n',
        "utf-8",
    )
    province = load_province(spec)

    def record(households, covered, missing):
        return {
            "status": "done",
            "totals": {"households": households, "compounds": 1, "households_missing_any": missing},
            "coverage": [
                {
                    "category": "kindergarten",
                    "zh": "幼儿园",
                    "en": "Kindergarten",
                    "households": households,
                    "households_covered": covered,
                }
            ],
        }

    tables = rollup_tables(province, {"大": record(900, 900, 0), "小": record(100, 0, 100)})
    city = tables["汇总 rollup"].set_index("unit").loc["市"]
    assert city["households"] == 1000
    assert city["share_households_complete"] == pytest.approx(0.9)  # not (1 + 0) / 2
    assert tables["设施覆盖 coverage"].set_index("unit").loc["市", "幼儿园 Kindergarten"] == 0.9


def test_the_example_province_runs_as_is(tmp_path):
    shutil.copytree(REPO / "data" / "demo", tmp_path / "demo")
    out = tmp_path / "province"
    result = CliRunner().invoke(
        app,
        ["batch", str(tmp_path / "demo" / "province.toml"), "--out", str(out), "--workers", "2"],
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"3 of 3 units ready", result.output)
    assert "Traceback" not in result.output
    runs = pd.read_excel(out / "province.xlsx", sheet_name="单元运行 runs")
    assert list(runs["状态 Status"]) == ["完成 done"] * 3
    again = CliRunner().invoke(
        app,
        ["batch", str(tmp_path / "demo" / "province.toml"), "--out", str(out), "--workers", "1"],
    )
    assert again.exit_code == 0 and again.output.count("skipped (unchanged)") == 3


def test_force_runs_an_unchanged_unit_again(tmp_path):
    province = tmp_path / "p.toml"
    province.write_text('[[unit]]\nname = "小"\nlevel = "county"\ndemo = { size = 1 }\n', "utf-8")
    unit = load_province(province).units[0]
    first = run_unit(unit, tmp_path / "out")
    assert first["status"] == "done" and len(first["hash"]) == 64
    assert run_unit(unit, tmp_path / "out")["status"] == "skipped"
    forced = run_unit(unit, tmp_path / "out", force=True)
    assert forced["status"] == "done" and forced["hash"] == first["hash"]
    assert forced["finished"] >= first["finished"]


def test_the_local_pool_fails_only_the_unit_whose_worker_dies(tmp_path, monkeypatch):
    """This machine's pool (no --scheduler): a worker that dies fails the unit it ran, says
    so, and the unit that shared the pool with it runs again and is done; stages arrive."""
    import os
    import sys

    import spatial.batch.unit as unit_module
    from spatial.batch.local import run_local

    if sys.platform != "linux":
        pytest.skip("the dying worker is patched in and forked (Linux)")
    spec = tmp_path / "p.toml"
    spec.write_text(
        '[[unit]]\nname = "崩溃区"\nlevel = "district"\ndemo = { size = 1, seed = 1 }\n'
        '[[unit]]\nname = "好区"\nlevel = "district"\ndemo = { size = 1, seed = 2 }\n',
        "utf-8",
    )
    real = unit_module._run_stages

    def dies_in_one(unit, folder, inputs_dir, say):
        if unit.name == "崩溃区":
            say("gaps")
            os._exit(3)  # as the kernel's OOM killer would end it: no exception, no record
        return real(unit, folder, inputs_dir, say)

    monkeypatch.setattr(unit_module, "_run_stages", dies_in_one)
    stages: list[tuple[str, str]] = []
    units = load_province(spec).units
    got = dict(
        (u.name, r)
        for u, r in run_local(
            units,
            tmp_path / "out",
            workers=2,
            on_stage=lambda n, s: stages.append((n, s)),
            start_method="fork",
        )
    )
    assert got["崩溃区"] is None  # its worker died, again when it ran alone
    assert got["好区"]["status"] == "done"
    assert ("好区", "plan") in stages and ("崩溃区", "gaps") in stages
