"""``spatial match``: link a survey table (台账) to footprint polygons by name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spatial.cli._common import console, print_outputs, run_reporting

__all__ = ["match"]


def match(
    table: Annotated[
        Path, typer.Argument(help="Survey table (CSV/Excel: 小区名称, 街道, 社区 …).")
    ],
    footprints: Annotated[
        Path,
        typer.Option(help="Footprints: an OSM file (landuse=residential) or a polygon layer."),
    ],
    out: Annotated[
        Path, typer.Option(help="Output folder (matched.gpkg, matched.xlsx, review.xlsx).")
    ],
    review: Annotated[
        Path | None,
        typer.Option(
            help="A review.xlsx with its 决定 decision column filled: applied as decided."
        ),
    ] = None,
    amap_key: Annotated[
        str | None,
        typer.Option(
            envvar="AMAP_KEY",
            help="Amap Web服务 key: geocode the 地址 of rows the names do not match (needs "
            "restapi.amap.com; answers in GCJ-02 are converted to WGS84).",
        ),
    ] = None,
    amap_city: Annotated[
        str | None, typer.Option(help="City that narrows the geocoding, e.g. 北京.")
    ] = None,
) -> None:
    """Link survey rows without coordinates to footprints by their names.

    将没有坐标的老旧小区台账按名称（规范化后）匹配到小区轮廓；不确定的写入 review.xlsx 供人工确认。
    """
    from spatial.pipeline.match import run_match

    run = run_reporting(
        lambda _r: run_match(
            table, footprints, out_dir=out, review=review, amap_key=amap_key, amap_city=amap_city
        )
    )
    counts = run.rows["match_status"].value_counts()
    console.print(
        f"{len(run.rows)} rows: matched 已匹配 {counts.get('matched', 0)}, "
        f"located by address 仅定位 {counts.get('located', 0)}, "
        f"to review 待确认 {counts.get('review', 0)}, unmatched 未匹配 "
        f"{counts.get('unmatched', 0)} (review.xlsx: fill 决定 decision with a footprint id "
        "or 无, then run again with --review)"
    )
    print_outputs(run.outputs)
