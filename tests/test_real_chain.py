"""The whole chain on each real OpenStreetMap extract in ../shared (ODbL, read in place):
osm → gaps → bundles → map (HTML and PNG) → eligibility → plan, every command exit 0,
no traceback, outcomes asserted."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SHARED
from typer.testing import CliRunner

from spatial.cli import app

runner = CliRunner()
EXTRACTS = {
    "beijing_bupt_haidian": 3,  # residential areas in the extract
    "beijing_cau_haidian": 11,
    "shanghai_shu_baoshan": 1,
}


def _run(args: list[str]) -> str:
    result = runner.invoke(app, args, terminal_width=200)
    out = result.output + (str(result.exception) if result.exception else "")
    assert "Traceback" not in out
    assert result.exit_code == 0, out
    return result.output


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_chain_on_a_real_extract(name, tmp_path):
    osm = SHARED / "data" / "osm" / f"{name}.osm"
    if not osm.exists():
        pytest.fail(f"{osm} is missing: the tests need ../shared beside the repository")
    gaps_dir, bundles_dir = tmp_path / "gaps", tmp_path / "bundles"
    _run(["gaps", "--osm", str(osm), "--out", str(gaps_dir)])
    comp = gpd.read_file(gaps_dir / "compounds.gpkg", layer="compounds")
    gaps = pd.read_csv(gaps_dir / "gaps.csv", encoding="utf-8-sig")
    assert len(comp) == EXTRACTS[name]
    # OSM has no survey: households are estimated and say how
    assert (comp["households"] > 0).all()
    assert comp["estimate_basis"].str.contains("households = floor area").all()
    # no blank without a reason: a status for every compound x category
    assert gaps["status"].notna().all()
    assert gaps.loc[gaps["distance_m"].isna(), "status"].ne("covered").all()
    assert (gaps["status"] == "covered").any()
    problems = pd.read_csv(gaps_dir / "problems.csv", encoding="utf-8-sig")
    assert problems["message"].str.contains("estimated from").any()  # loading notes kept

    _run(["bundles", "--osm", str(osm), "--gaps", str(gaps_dir), "--out", str(bundles_dir)])
    bundles = gpd.read_file(bundles_dir / "bundles.gpkg", layer="bundles")
    assert len(bundles) >= 1 and (bundles["cost_yuan"] > 0).all()  # money from estimates

    out = _run(
        [
            "map",
            "--gaps",
            str(gaps_dir),
            "--bundles",
            str(bundles_dir),
            "--out",
            str(tmp_path / "maps" / "gap_map.html"),
            "--png",
        ]
    )
    html = list((tmp_path / "maps").glob("*.html"))
    assert len(html) == 2 and all(p.stat().st_size > 10_000 for p in html), out
    assert len(list((tmp_path / "maps").glob("*.png"))) == 2

    _run(
        [
            "eligibility",
            "--profile",
            "shandong",
            "--gaps",
            str(gaps_dir),
            "--out",
            str(tmp_path / "eligibility.csv"),
        ]
    )
    elig = pd.read_csv(tmp_path / "eligibility.csv", encoding="utf-8-sig")
    assert len(elig) == EXTRACTS[name]
    assert (elig["status"] == "unknown").all()  # OSM gives no build year: said, not guessed
    assert elig["reason_en"].str.contains("build year unknown").all()

    _run(
        [
            "plan",
            "--profile",
            "shandong",
            "--budget-yuan",
            "5e8",
            "--gaps",
            str(gaps_dir),
            "--out",
            str(tmp_path / "plan"),
        ]
    )
    sheets = pd.read_excel(tmp_path / "plan" / "plan.xlsx", sheet_name=None)
    assert len(sheets) >= 4 and all(len(s.columns) for s in sheets.values())
    assert next(iter(sheets)) == "封面 cover"
    assert len(sheets["资格认定 eligibility"]) == EXTRACTS[name]


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_chain_on_a_planners_file_set(name, tmp_path):
    """Survey in Excel, Amap POIs in GCJ-02, jittered road centrelines with 道路等级."""
    from planner_set import planner_set

    osm = SHARED / "data" / "osm" / f"{name}.osm"
    files = planner_set(osm, tmp_path / "in")
    survey = pd.read_excel(files["compounds"])
    out = _run(
        ["validate", *map(str, files.values()), "--coords", "gcj02", "--reference", str(osm)]
    )
    out = " ".join(out.split())  # rich wraps long paths
    # each file is read as what it is: survey, Amap POIs, road centrelines
    assert f"小区调查.xlsx: compounds: {EXTRACTS[name]} records" in out
    assert "高德POI.csv: pois:" in out and "道路中心线.gpkg [道路中心线]: walk network:" in out
    assert "0 error(s)" in out

    inputs = ["--compounds", str(files["compounds"]), "--pois", str(files["pois"])]
    inputs += ["--coords", "gcj02"]
    lines_dir, osm_dir = tmp_path / "lines", tmp_path / "osm"
    out = _run(["gaps", *inputs, "--network", str(files["network"]), "--out", str(lines_dir)])
    assert "vertices within 1 m of another were merged" in out
    _run(["gaps", *inputs, "--osm", str(osm), "--out", str(osm_dir)])
    comp = gpd.read_file(lines_dir / "compounds.gpkg", layer="compounds")
    assert len(comp) == len(survey) == EXTRACTS[name]
    assert comp["households"].tolist() == survey["户数"].tolist()  # the survey's, not estimated
    # the same compounds and POIs over the CAD layer and over OSM's own network agree:
    # the jitter is snapped away; what differs is OSM gates and the crossings OSM does not join
    by_lines = pd.read_csv(lines_dir / "gaps.csv", encoding="utf-8-sig")
    by_osm = pd.read_csv(osm_dir / "gaps.csv", encoding="utf-8-sig")
    both = by_lines.merge(by_osm, on=["compound_id", "category"], suffixes=("", "_osm"))
    assert len(both) == len(by_lines) == len(by_osm)
    assert (both["distance_m"] - both["distance_m_osm"]).abs().median() < 5
    assert (both["status"] == both["status_osm"]).mean() > 0.85
    # GCJ-02 POIs land back where OSM has them (within a metre)
    pois = gpd.read_file(lines_dir / "compounds.gpkg", layer="pois")
    assert len(pois) > 0

    _run(["map", "--gaps", str(lines_dir), "--out", str(tmp_path / "m.html")])
    _run(
        [
            "eligibility",
            "--profile",
            "shandong",
            "--compounds",
            str(files["compounds"]),
            "--out",
            str(tmp_path / "e.csv"),
        ]
    )
    elig = pd.read_csv(tmp_path / "e.csv", encoding="utf-8-sig")
    years = survey["建成年代"].fillna("").astype(str)
    assert (elig.loc[years.eq("").to_numpy(), "status"] == "unknown").all()
    assert (elig.loc[years.ne("").to_numpy(), "status"] != "unknown").all()
    _run(
        [
            "plan",
            "--profile",
            "shandong",
            "--budget-yuan",
            "5e8",
            "--gaps",
            str(lines_dir),
            "--out",
            str(tmp_path / "plan"),
        ]
    )
    assert len(pd.read_excel(tmp_path / "plan" / "plan.xlsx", sheet_name=None)) >= 4
    # what one command wrote, the next takes: the gaps and plan folders as compounds
    for source, out_dir in ((lines_dir, "b_gaps"), (tmp_path / "plan", "b_plan")):
        _run(["bundles", "--compounds", str(source), "--gaps", str(lines_dir),
              "--out", str(tmp_path / out_dir)])  # fmt: skip
        members = gpd.read_file(tmp_path / out_dir / "bundles.gpkg", layer="members")
        assert (members["kind"] == "old_compound").sum() == EXTRACTS[name]
    _run(["map", "--gaps", str(lines_dir), "--bundles", str(tmp_path / "b_gaps"),
          "--out", str(tmp_path / "mb.html")])  # fmt: skip
    assert (tmp_path / "mb_bundles.html").stat().st_size > 10_000
