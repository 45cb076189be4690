"""``spatial assess``: the 完整居住社区 check and the supply–demand figures of a gaps run."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from spatial.cli._common import print_outputs, run_reporting

__all__ = ["BoundaryScale", "assess"]


class BoundaryScale(str, Enum):
    """What a layer of unit boundaries holds."""

    community = "community"
    subdistrict = "subdistrict"


def assess(
    gaps: Annotated[
        Path, typer.Option(help="Output folder of `spatial gaps` (with --capacity for places).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Output folder: assessment.xlsx, community_check.csv, per_thousand.csv, units.csv."
        ),
    ],
    capacity_file: Annotated[
        Path | None,
        typer.Option(
            help="Demand figures and capacity rules (default spatial/standards/capacity.toml)."
        ),
    ] = None,
    items: Annotated[
        Path | None,
        typer.Option(
            help="The standard's items (default spatial/standards/complete_community.toml)."
        ),
    ] = None,
    floorspace: Annotated[
        Path | None,
        typer.Option(
            help="千人指标: m² per 1,000 residents per level and facilities' default scales "
            "(default spatial/standards/floorspace.toml; a city's own figures replace it)."
        ),
    ] = None,
    boundaries: Annotated[
        Path | None,
        typer.Option(
            help="Polygons of units (社区 or 街道) with their names: compounds and "
            "facilities belong to the one holding them."
        ),
    ] = None,
    boundaries_layer: Annotated[
        str | None, typer.Option(help="Layer of --boundaries (default: its polygon layer).")
    ] = None,
    boundary_name: Annotated[
        str | None,
        typer.Option(
            help="Column naming each unit (default: 社区名称, 社区, 街道名称, 街道, name)."
        ),
    ] = None,
    boundary_scale: Annotated[
        BoundaryScale,
        typer.Option(
            help="What --boundaries are: community (社区, replacing the 社区 column) or "
            "subdistrict (街道, for the 10- and 15-minute 千人指标)."
        ),
    ] = BoundaryScale.subdistrict,
) -> None:
    """Check each community against the 完整居住社区 standard and the 千人指标 (m² short).

    按《完整居住社区建设标准（试行）》逐社区核查配套设施（达标/不达标/无数据），并汇总供需缺口
    （学位、床位）及千人指标（GB 50180-2018 表5.0.2，建筑面积与用地面积缺口）；无社区字段时按
    5000–12000 人拟议规划单元。
    """
    from spatial.pipeline.assess import run_assess

    written = run_reporting(
        lambda report: run_assess(
            gaps_dir=gaps,
            out_dir=out,
            capacity_file=capacity_file,
            items_file=items,
            floorspace_file=floorspace,
            boundaries=boundaries,
            boundaries_layer=boundaries_layer,
            boundary_name=boundary_name,
            boundary_scale=boundary_scale.value,
        )
    )
    print_outputs(written)
