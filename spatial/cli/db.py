"""``spatial db``: the compound database (老旧小区数据库): init, import, export, status, history."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from spatial.cli._common import check_out, console, print_outputs, run_reporting

__all__ = ["app"]

app = typer.Typer(
    help="老旧小区数据库 — the compound database: a GeoPackage file, or PostgreSQL/PostGIS "
    "with --db postgresql://user@host/db.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str, typer.Option("--db", help="Database: a .gpkg file or postgresql://user@host:port/name.")
]


class ImportKind(str, Enum):
    """What an imported file holds."""

    survey = "survey"
    status = "status"
    targets = "targets"


@app.command()
def init(db: DbOption) -> None:
    """Create an empty database (GeoPackage file, or the tables in a PostGIS database).

    新建老旧小区数据库（GeoPackage 文件或 PostGIS 数据库中的表）。
    """
    from spatial.db.connect import init_db

    made = run_reporting(lambda _r: init_db(db))
    console.print(f"created {made.label}", markup=False, soft_wrap=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The file to import.")],
    db: DbOption,
    round_name: Annotated[
        str | None,
        typer.Option(
            "--round",
            help="Name of this survey round (e.g. 2025年调查); default: the file's name and "
            "today's date.",
        ),
    ] = None,
    kind: Annotated[
        ImportKind,
        typer.Option(
            help="survey: compounds (a layer, or matched.gpkg of spatial match); status: "
            "小区编号, 年度, 状态; targets: 层级, 名称, 年度, 小区数, 户数, 投资（万元）."
        ),
    ] = ImportKind.survey,
    layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer file.")] = None,
    surveyed_on: Annotated[
        str | None,
        typer.Option(
            help="Date of the survey, or of the statuses (their month in the bulletin), "
            "e.g. 2025-06-30 (default today)."
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who imports (default: your login).")] = None,
) -> None:
    """Import a survey round, statuses or targets; any error and nothing is written.

    导入一轮调查摸底、改造状态或年度目标；有任何错误则不写入。
    """
    from datetime import date

    from spatial.db.connect import open_db

    if round_name is None:
        round_name = f"{file.stem} {date.today().isoformat()}"
        console.print(f"round named {round_name} (--round to name it)", markup=False)

    def job(_report: object) -> str:
        assert round_name is not None
        database = open_db(db)
        if kind is ImportKind.survey:
            from spatial.db.survey import import_survey

            r = import_survey(
                database,
                file,
                round_name=round_name,
                surveyed_on=surveyed_on,
                by=by,
                source_layer=layer,
            )
            return (
                f"round {r.round_name}: added 新增 {r.added}, changed 变更 {r.changed}, "
                f"unchanged 未变 {r.unchanged}; {r.values_changed} history rows"
            )
        from spatial.db.progress import import_status, import_targets

        if kind is ImportKind.status:
            n = import_status(database, file, round_name=round_name, by=by, reported_on=surveyed_on)
        else:
            n = import_targets(database, file, round_name=round_name, by=by)
        return f"round {round_name}: {n} {kind.value} rows"

    console.print(run_reporting(job), markup=False, soft_wrap=True)


@app.command()
def export(
    db: DbOption,
    out: Annotated[
        Path,
        typer.Option(
            help="Folder: compounds.gpkg/.xlsx/.csv, history, status, targets, gaps, plan."
        ),
    ],
) -> None:
    """Export the compounds (as they stand), their history, statuses, targets and results.

    导出小区现状、变更记录、改造状态、年度目标和最近一次缺口与计划结果。
    """
    from spatial.db.export import export_db

    written = run_reporting(lambda _r: export_db(db, out))
    print_outputs(written)


@app.command()
def status(
    db: DbOption,
    year: Annotated[int | None, typer.Option(help="The plan year (default: this year).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the table (.csv or .xlsx).")] = None,
    communities: Annotated[
        bool, typer.Option(help="Also print one row per community (the file has them always).")
    ] = False,
) -> None:
    """Progress of a year against its targets, community → subdistrict → … → all.

    按社区、街道、区县、市、省逐级汇总年度改造进度（小区数、户数、投资）与目标对比。
    """
    import pandas as pd
    from rich.table import Table

    from spatial.db.connect import open_db
    from spatial.db.rollup import progress

    if year is None:
        from datetime import date

        year = date.today().year
        console.print(f"year {year} (--year for another)", markup=False)
    the_year = year
    if not 1949 <= year <= 2100:
        from spatial._errors import input_error

        def refuse(_r: object) -> None:
            raise input_error("<options>", f"--year is {year}", hint="a year from 1949 to 2100")

        run_reporting(refuse)
    table = run_reporting(lambda _r: progress(open_db(db), year=the_year))
    view = Table(title=f"{year} 年改造进度 progress")
    for col in (
        "层级 level",
        "名称 unit",
        "小区 compounds",
        "户数 households",
        "投资 万元",
        "在建+完工 started",
        "完工 completed",
    ):
        view.add_column(col)

    def vs(value: float, target: float, fmt: str, scale: float = 1.0) -> str:
        """The figure, and "/ target" where there is a target."""
        text = format(value / scale, fmt)
        return text if pd.isna(target) else f"{text} / {format(float(target) / scale, fmt)}"

    shown = table if communities else table[table["level"] != "community"]
    for r in shown.to_dict("records"):
        view.add_row(
            f"{r['level_zh']} {r['level']}",
            str(r["unit"]),
            vs(r["compounds"], r["target_compounds"], ",.0f"),
            vs(r["households"], r["target_households"], ",.0f"),
            vs(r["money_yuan"], r["target_money_yuan"], ",.0f", 1e4),
            str(r["started"]),
            str(r["completed"]),
        )
    console.print(view)
    if out is not None:
        from spatial.io.outputs.write import write_csv, write_xlsx

        check_out(out)
        path = write_xlsx({"进度": table}, out) if out.suffix == ".xlsx" else write_csv(table, out)
        console.print(f"wrote {path}", markup=False, soft_wrap=True)


@app.command()
def history(
    db: DbOption,
    compound: Annotated[str | None, typer.Option(help="Only this compound id.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write all rows to this CSV.")] = None,
) -> None:
    """What changed, when, by whom and from which file (每次调查的变更记录).

    查看小区属性的变更历史：原值、新值、时间、操作人和来源。
    """
    from rich.markup import escape
    from rich.table import Table

    from spatial.db.export import history_table

    rows = run_reporting(lambda _r: history_table(db, compound=compound))
    view = Table(title=f"变更记录 history ({len(rows)} rows; last 50)")
    for col in (
        "compound",
        "field",
        "old 原值",
        "new 新值",
        "round 轮次",
        "when 时间",
        "who",
        "source",
    ):
        view.add_column(col)
    for r in rows.tail(50).to_dict("records"):
        view.add_row(
            *(
                escape(str(r[k])[:40]) if r[k] is not None and r[k] == r[k] else ""  # NaN: none
                for k in (
                    "compound_id",
                    "field",
                    "old_value",
                    "new_value",
                    "round",
                    "changed_at",
                    "changed_by",
                    "source",
                )
            )
        )
    console.print(view)
    if out is not None:
        from spatial.io.outputs.write import write_csv

        check_out(out)
        console.print(f"wrote {write_csv(rows, out)}", markup=False, soft_wrap=True)


@app.command()
def bulletin(
    db: DbOption,
    month: Annotated[str, typer.Option(help="The month reported, e.g. 2026-11.")],
    out: Annotated[Path, typer.Option(help="Output folder: bulletin.xlsx and bulletin.pdf.")],
    behind_months: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Months after which a planned compound not started is behind schedule "
            "(default in spatial/standards/database.toml).",
        ),
    ] = None,
) -> None:
    """The monthly progress bulletin: started and completed against targets, ranked.

    月通报：各区县/街道/社区开工、完工与年度目标对比、排名、滞后项目和本月变化。
    """
    from rich.table import Table

    from spatial.db.connect import open_db
    from spatial.pipeline.bulletin import run_bulletin

    done, written = run_reporting(
        lambda _r: run_bulletin(open_db(db), month=month, out_dir=out, behind_months=behind_months)
    )
    import pandas as pd

    view = Table(title=f"{month} 月通报 bulletin")
    cols = ["level", "unit", "rank", "started", "completed", "target_compounds", "behind", "note"]
    heads = ["层级", "单位", "排名", "开工小区", "完工小区", "目标小区数", "滞后项目", "说明"]
    for head in heads:
        view.add_column(head)

    def cell(value: object) -> str:
        if pd.isna(value):  # type: ignore[call-overload]
            return ""
        if isinstance(value, float) and value.is_integer():
            return f"{value:,.0f}"
        return str(value)

    units = done.units.sort_values(["level", "rank", "unit"], na_position="last")
    for r in units[units["level"] != "community"].to_dict("records"):
        view.add_row(*(cell(r[c]) for c in cols))
    console.print(view)
    print_outputs(written)
