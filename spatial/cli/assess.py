"""``spatial assess``: the 完整居住社区 check and the supply–demand figures of a gaps run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spatial.cli._common import print_outputs, run_reporting

__all__ = ["assess"]


def assess(
    gaps: Annotated[
        Path, typer.Option(help="Output folder of `spatial gaps` (with --capacity for places).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder: assessment.xlsx, community_check.csv.")],
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
) -> None:
    """Check each community against the 完整居住社区 standard, with places short per category.

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
        )
    )
    print_outputs(written)
