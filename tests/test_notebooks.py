"""The analysts' notebooks run from top to bottom on the demo city."""

from __future__ import annotations

from pathlib import Path

import nbformat
from conftest import REPO
from nbclient import NotebookClient


def _run(name: str) -> nbformat.NotebookNode:
    path = REPO / "notebooks" / name
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return nb


def _outputs(nb: nbformat.NotebookNode) -> str:
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text.append(out.get("text", ""))
            text.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(text)


def test_bundling_notebook_runs_and_shows_bundles():
    nb = _run("bundling.ipynb")
    text = _outputs(nb)
    assert "self-balancing" in text and "pairs within 30 m" in text
    assert "land value ×" in text and "large_area" in text and "cross_area" in text
    images = sum(
        "image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", [])
    )
    assert images >= 4  # adjacency map, money flows of one project, bundle map, balance chart
    assert not any(
        out.get("output_type") == "error" for c in nb.cells for out in c.get("outputs", [])
    )
    assert Path(REPO / "notebooks" / "bundling.ipynb").stat().st_size < 200_000  # stored clean


def test_gap_analysis_notebook_runs_with_the_real_extract(cau_osm):
    nb = _run("gap_analysis.ipynb")
    assert not any(
        out.get("output_type") == "error" for c in nb.cells for out in c.get("outputs", [])
    )
    text = _outputs(nb)
    assert "compound_id" in text and "11 compounds" in text  # demo table and the CAU extract
    html = [
        out["data"]["text/html"]
        for c in nb.cells
        for out in c.get("outputs", [])
        if "text/html" in out.get("data", {})
    ]
    assert any("leaflet" in h.lower() for h in html)  # the map is shown inline
    assert any("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))


def test_financing_notebook_shows_the_four_modes_cash_flow_and_sensitivity():
    nb = _run("financing.ipynb")
    assert not any(
        out.get("output_type") == "error" for c in nb.cells for out in c.get("outputs", [])
    )
    text = _outputs(nb)
    assert "pass the special-bond test" in text and "combination:" in text  # 大片区, 跨片区
    assert "median payback" in text and "canteen" in text  # 小区内自求平衡
    assert "maintenance_fund_yuan" in text and "city_budget_yuan" in text  # 多元化投入
    assert "bundle(s) flip" in text and "land value ×" in text  # sensitivity
    images = sum(
        "image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", [])
    )
    assert images == 3  # funding lines, one bundle's cash flow, its tornado chart
    assert Path(REPO / "notebooks" / "financing.ipynb").stat().st_size < 50_000  # stored clean


def test_planning_notebook_sweeps_budgets_and_judges_a_plan():
    nb = _run("planning.ipynb")
    assert not any(
        out.get("output_type") == "error" for c in nb.cells for out in c.get("outputs", [])
    )
    text = _outputs(nb)
    assert "131 compounds" in text and "budget sweep: 5 budgets" in text
    assert "household_categories" in text and "money_per_household_wan" in text
    assert any("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))
    assert Path(REPO / "notebooks" / "planning.ipynb").stat().st_size < 20_000  # stored clean
