"""Digests of the outputs of a whole chain, to show a refactoring changed no result.

``python tests/golden.py OUT.json`` runs gaps → bundles → plan on the CAU extract and on
the planner's set built from it with the code on ``sys.path`` and writes the digests;
``tests/test_golden.py`` runs the same chain and compares. Numbers are rounded (to 0.01
m, 1 yuan) so that only a changed result, not the last bit of a float, differs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

__all__ = ["chain_digests", "digest_folder"]

#: The tables compared, per command's folder.
_TABLES = ("gaps.csv", "summary.csv", "bundles.csv", "pairs.csv", "funding.csv", "excluded.csv")


def _rounded(frame: pd.DataFrame) -> str:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(2)
    return out.to_csv(index=False)


def digest_folder(folder: Path) -> dict[str, str]:
    """SHA-256 of each result table of an output folder (plan sheets but the cover)."""
    found = {}
    for name in _TABLES:
        if (folder / name).is_file():
            table = pd.read_csv(folder / name, encoding="utf-8-sig")
            found[name] = hashlib.sha256(_rounded(table).encode()).hexdigest()
    if (folder / "plan.xlsx").is_file():
        for sheet, table in pd.read_excel(folder / "plan.xlsx", sheet_name=None).items():
            if sheet != "封面 cover":  # names the folders and the date
                found[f"plan.xlsx[{sheet}]"] = hashlib.sha256(_rounded(table).encode()).hexdigest()
    return found


def chain_digests(osm: Path, work: Path) -> dict[str, dict[str, str]]:
    """Run gaps, bundles and plan on ``osm`` and on its planner's set; digest each folder."""
    from planner_set import planner_set
    from typer.testing import CliRunner

    from spatial.cli import app

    runner = CliRunner()
    files = planner_set(osm, work / "in")

    def run(*args: str) -> None:
        res = runner.invoke(app, ["-q", *map(str, args)])
        assert res.exit_code == 0, res.output

    run("gaps", "--osm", osm, "--out", work / "g")
    run("bundles", "--osm", osm, "--gaps", work / "g", "--out", work / "b")
    run("plan", "--gaps", work / "g", "--profile", "taian", "--budget-yuan", "5e8",
        "--start-year", "2030", "--osm", osm, "--out", work / "p")  # fmt: skip
    run("gaps", "--compounds", files["compounds"], "--pois", files["pois"], "--coords",
        "gcj02", "--network", files["network"], "--out", work / "gl")  # fmt: skip
    run("bundles", "--compounds", files["compounds"], "--gaps", work / "gl", "--out",
        work / "bl")  # fmt: skip
    return {name: digest_folder(work / name) for name in ("g", "b", "p", "gl", "bl")}


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    osm = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parents[2] / "shared"
    osm = osm / "data" / "osm" / "beijing_cau_haidian.osm" if osm.is_dir() else osm
    with tempfile.TemporaryDirectory() as tmp:
        digests = chain_digests(osm, Path(tmp))
    Path(sys.argv[1]).write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
