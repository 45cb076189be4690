"""Renovation statuses per compound and year, yearly targets, and progress roll-ups.

A compound moves 储备 → 计划 → 在建 → 完工 and never back. The roll-ups against the
targets are :mod:`spatial.db.rollup` (``status``) and :mod:`spatial.db.bulletin`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, insert, update

from spatial._errors import Problem, raise_for_errors
from spatial.db.connect import Database
from spatial.db.frames import read_table
from spatial.db.rounds import add_round, file_sha256, round_problems
from spatial.db.schema import levels, statuses
from spatial.db.stamps import now_text, user_name
from spatial.io.survey.values import normalize_header

__all__ = ["import_status", "import_targets", "record_statuses", "status_code"]

_STATUS_HEADERS = {
    "id": ("小区编号", "编号", "id", "compound_id", "compound id"),
    "year": ("年度", "年份", "year"),
    "status": ("状态", "改造状态", "status"),
}
_TARGET_HEADERS = {
    "level": ("层级", "级别", "level"),
    "unit": ("名称", "单位", "unit", "name"),
    "year": ("年度", "年份", "year"),
    "compounds": ("小区数", "小区个数", "compounds"),
    "households": ("户数", "households"),
    "money_wan": ("投资（万元）", "投资(万元)", "投资万元", "money (10k yuan)"),
    "money_yuan": ("投资（元）", "投资(元)", "投资", "money_yuan", "money (yuan)"),
}


def status_code(value: object) -> str | None:
    """The status code of a label (储备, 计划, 在建, 完工, or reserve … in English).

    Parameters
    ----------
    value
        A cell.

    Returns
    -------
    str or None
        ``reserve``, ``planned``, ``underway`` or ``completed``; None if unknown.
    """
    text = normalize_header(str(value)) if value is not None else ""
    for s in statuses():
        if text in {s.code, s.zh, normalize_header(s.en)}:
            return s.code
    return None


def _rank() -> dict[str, int]:
    return {s.code: s.rank for s in statuses()}


def _columns(
    frame: pd.DataFrame, wanted: dict[str, tuple[str, ...]], source: str, required: tuple[str, ...]
) -> tuple[pd.DataFrame, list[Problem]]:
    names = {normalize_header(str(c)): c for c in frame.columns}
    out = pd.DataFrame(index=frame.index)
    found = []
    for key, aliases in wanted.items():
        col = next(
            (names[normalize_header(a)] for a in aliases if normalize_header(a) in names), None
        )
        if col is not None:
            out[key] = frame[col]
        elif key in required:
            found.append(
                Problem.error(
                    source,
                    f"no column {aliases[0]} ({key})",
                    column=aliases[0],
                    hint="headers accepted: " + ", ".join(aliases),
                )
            )
    return out, found


def _years(
    values: pd.Series, rows: list[int], source: str, column: str
) -> tuple[pd.Series, list[Problem]]:
    years = pd.to_numeric(values, errors="coerce")
    bad = years.isna() | (years < 1949) | (years > 2100)
    found = [
        Problem.error(
            source,
            f"year {values.iloc[i]!r} is not a year",
            row=rows[i],
            column=column,
            hint="write the year as 2025",
        )
        for i in np.flatnonzero(bad.to_numpy())
    ]
    return years, found


#: Target columns that hold amounts, and their headers for messages.
_TARGET_NUMBERS = {
    "compounds": "小区数",
    "households": "户数",
    "money_wan": "投资（万元）",
    "money_yuan": "投资（元）",
}


def _amounts(
    values: pd.Series, rows: list[int], source: str, column: str
) -> tuple[pd.Series, list[Problem]]:
    """Counts or money: empty stays empty; text, negative or infinite is an error."""
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    empty = text.isna() | (text == "")
    bad = ~empty & ~(np.isfinite(numbers) & (numbers >= 0))
    found = [
        Problem.error(
            source,
            f"{values.iloc[i]!r} is not an amount (a number ≥ 0)",
            row=rows[i],
            column=column,
            hint="write a plain number, e.g. 1200, or leave the cell empty",
        )
        for i in np.flatnonzero(bad.to_numpy())
    ]
    return numbers.where(~bad), found


def import_status(
    db: Database,
    path: str | Path,
    *,
    round_name: str,
    by: str | None = None,
    reported_on: str | None = None,
) -> int:
    """Import renovation statuses (小区编号, 年度, 状态) as one round.

    Parameters
    ----------
    db
        The database.
    path
        CSV or Excel table.
    round_name
        Name of the round.
    by
        Who imports.
    reported_on
        The date the statuses describe (``2026-11-28``; default now): history rows carry
        it, so the monthly bulletin counts each change in its month.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    InputError
        An unknown compound or status, a bad year, a compound twice in one year, or a
        status going backwards (完工 → 计划); nothing is written.
    """
    from spatial.io.readers import read_table_file

    source = str(path)
    raw = read_table_file(path, what="status table", hint="give CSV or Excel: 小区编号, 年度, 状态")
    table, problems = _columns(raw, _STATUS_HEADERS, source, ("id", "year", "status"))
    if reported_on is not None and pd.isna(pd.to_datetime(reported_on, errors="coerce")):
        problems.append(
            Problem.error(
                "--surveyed-on",
                f"{reported_on!r} is not a date",
                hint="give the date the statuses describe, e.g. 2026-11-28",
            )
        )
    rows = raw.attrs.get("rows") or [i + 2 for i in range(len(raw))]
    with db.writing() as conn:
        problems += round_problems(
            conn, db, name=round_name, sha256=file_sha256(path), kind="status", source=source
        )
        raise_for_errors(problems)
        known = set(read_table(conn, db, "compounds")["compound_id"].astype(str))
        years, found = _years(table["year"], rows, source, "年度")
        problems += found
        table["id"] = table["id"].astype(str).str.strip()
        codes = table["status"].map(status_code)
        for i in range(len(table)):
            if table["id"].iloc[i] not in known:
                problems.append(
                    Problem.error(
                        source,
                        f"no compound {table['id'].iloc[i]!r} in the database",
                        row=rows[i],
                        column="小区编号",
                        hint="import the survey with this compound first, or correct the id",
                    )
                )
            if codes.iloc[i] is None:
                problems.append(
                    Problem.error(
                        source,
                        f"unknown status {table['status'].iloc[i]!r}",
                        row=rows[i],
                        column="状态",
                        hint="use 储备, 计划, 在建 or 完工",
                    )
                )
        new = pd.DataFrame(
            {"compound_id": table["id"], "year": years, "status": codes, "row": rows}
        )
        problems += _backwards(read_table(conn, db, "renovation_status"), new.dropna(), source)
        raise_for_errors(problems)
        round_fid = add_round(
            conn,
            db,
            name=round_name,
            kind="status",
            path=path,
            rows=len(new),
            by=by,
            surveyed_on=reported_on,
        )
        record_statuses(
            conn,
            db,
            new,
            round_fid=round_fid,
            by=by or user_name(),
            src=Path(path).name,
            when=reported_on,
        )
    return len(new)


def _backwards(old: pd.DataFrame, new: pd.DataFrame, source: str) -> list[Problem]:
    """A compound twice in a year, or a status lower than an earlier year's (or the same
    year's in the database)."""
    rank, label = _rank(), {s.code: s.zh for s in statuses()}
    found = []
    twice = new[new.duplicated(["compound_id", "year"], keep="first")]
    for _, r in twice.iterrows():
        found.append(
            Problem.error(
                source,
                f"{r['compound_id']} has two statuses in {int(r['year'])}",
                row=r["row"],
                column="年度",
                hint="keep one row per compound and year",
            )
        )
    merged: dict[str, dict[int, tuple[str, Any]]] = {}
    for _, r in old.iterrows():
        merged.setdefault(str(r["compound_id"]), {})[int(r["year"])] = (r["status"], "database")
    for _, r in new.drop_duplicates(["compound_id", "year"]).iterrows():
        cid, year = str(r["compound_id"]), int(r["year"])
        before = merged.setdefault(cid, {}).get(year)
        if before is not None and rank[r["status"]] < rank[before[0]]:
            found.append(
                Problem.error(
                    source,
                    f"{cid}: status goes back in {year}, {label[before[0]]} (database) → "
                    f"{label[r['status']]}",
                    row=r["row"],
                    column="状态",
                    hint="a status never goes back; correct the row",
                )
            )
            continue
        merged[cid][year] = (r["status"], r["row"])
    for cid, by_year in merged.items():
        top, top_year = -1, None
        for year in sorted(by_year):
            code, where = by_year[year]
            if rank[code] < top and where != "database":
                found.append(
                    Problem.error(
                        source,
                        f"{cid}: status goes back, {label[statuses()[top].code]} in {top_year} → "
                        f"{label[code]} in {year}",
                        row=where,
                        column="状态",
                        hint="a status never goes back (完工 → 计划); correct the row",
                    )
                )
            elif rank[code] >= top:
                top, top_year = rank[code], year
    return found


def record_statuses(
    conn: Connection,
    db: Database,
    new: pd.DataFrame,
    *,
    round_fid: int | None,
    by: str,
    src: str,
    when: str | None = None,
) -> None:
    """Write statuses (compound_id, year, status), with history, and each compound's latest.

    Parameters
    ----------
    conn
        A connection inside a write transaction.
    db
        The database.
    new
        Checked rows: ``compound_id``, ``year``, ``status`` (codes).
    round_fid
        The round (None for statuses a plan run set).
    by, src
        Who and where from, for the history.
    when
        The time the history rows carry (ISO 8601; a date alone is noon, China time);
        default now.
    """
    table, history = db.table("renovation_status"), db.table("compound_history")
    old = read_table(conn, db, "renovation_status")
    have = {(str(r["compound_id"]), int(r["year"])): r["status"] for _, r in old.iterrows()}
    if when is not None and len(when) == 10:  # a date: noon of that day, China time
        when = f"{when}T12:00:00+08:00"
    when = when or now_text()
    log = []
    for _, r in new.iterrows():
        key = (str(r["compound_id"]), int(r["year"]))
        if have.get(key) == r["status"]:
            continue
        if key in have:
            conn.execute(
                update(table)
                .where(table.c.compound_id == key[0], table.c.year == key[1])
                .values(status=r["status"], round_id=round_fid)
            )
        else:
            conn.execute(
                insert(table).values(
                    compound_id=key[0], year=key[1], status=r["status"], round_id=round_fid
                )
            )
        log.append(
            {
                "compound_id": key[0],
                "field": f"status.{key[1]}",
                "old_value": have.get(key),
                "new_value": r["status"],
                "round_id": round_fid,
                "changed_at": when,
                "changed_by": by,
                "source": src,
            }
        )
    if log and round_fid is not None:
        conn.execute(insert(history), log)
    latest = (
        read_table(conn, db, "renovation_status").sort_values("year").groupby("compound_id").last()
    )
    comp = db.table("compounds")
    for cid, r in latest.iterrows():
        conn.execute(
            update(comp)
            .where(comp.c.compound_id == cid)
            .values(status=r["status"], status_year=int(r["year"]))
        )


def import_targets(
    db: Database, path: str | Path, *, round_name: str, by: str | None = None
) -> int:
    """Import yearly targets (层级, 名称, 年度, 小区数, 户数, 投资) as one round.

    Parameters
    ----------
    db
        The database.
    path
        CSV or Excel table; 投资（万元） is read in 万元, 投资（元） in yuan.
    round_name
        Name of the round.
    by
        Who imports.

    Returns
    -------
    int
        Targets written (a target of the same level, unit and year is replaced).
    """
    from spatial.io.readers import read_table_file

    source = str(path)
    raw = read_table_file(
        path, what="targets table", hint="give CSV or Excel: 层级, 名称, 年度, 小区数, 户数, 投资"
    )
    table, problems = _columns(raw, _TARGET_HEADERS, source, ("level", "unit", "year"))
    rows = raw.attrs.get("rows") or [i + 2 for i in range(len(raw))]
    names = {key: lv.column for lv in levels() for key in (lv.zh, lv.en, lv.column)}
    names.update({"全部": "total", "total": "total", "合计": "total"})
    if not problems:
        years, found = _years(table["year"], rows, source, "年度")
        problems += found
        given = table["level"].tolist()
        table["level"] = [names.get(str(v).strip()) for v in given]
        for i in np.flatnonzero(table["level"].isna().to_numpy()):
            problems.append(
                Problem.error(
                    source,
                    f"unknown level {given[i]!r}",
                    row=rows[i],
                    column="层级",
                    hint="use 社区, 街道, 区县, 市, 省 or 全部",
                )
            )
        for key, header in _TARGET_NUMBERS.items():
            if key in table and not (key == "money_yuan" and "money_wan" in table):
                table[key], found = _amounts(table[key], rows, source, header)
                problems += found
        money = (
            table["money_wan"] * 1e4
            if "money_wan" in table
            else table["money_yuan"]
            if "money_yuan" in table
            else pd.Series(np.nan, index=table.index)
        )
        table = table.assign(year=years, money_yuan=money)
    with db.writing() as conn:
        problems += round_problems(
            conn, db, name=round_name, sha256=file_sha256(path), kind="targets", source=source
        )
        raise_for_errors(problems)
        fid = add_round(
            conn, db, name=round_name, kind="targets", path=path, rows=len(table), by=by
        )
        t = db.table("targets")
        for _, r in table.iterrows():
            conn.execute(
                delete(t).where(
                    t.c.level == r["level"], t.c.unit == str(r["unit"]), t.c.year == int(r["year"])
                )
            )
            conn.execute(
                insert(t).values(
                    level=r["level"],
                    unit=str(r["unit"]),
                    year=int(r["year"]),
                    compounds=_int(r.get("compounds")),
                    households=_int(r.get("households")),
                    money_yuan=None if pd.isna(r["money_yuan"]) else float(r["money_yuan"]),
                    round_id=fid,
                )
            )
    return len(table)


def _int(value: object) -> int | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else int(number)
