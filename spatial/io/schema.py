"""Column contracts for compounds, POIs and other parcels, with Chinese/English aliases.

Real survey tables arrive with Chinese headers (小区名称, 建成年份, 户数 …) and values
such as "1990年代", "1,200户" or "是". :func:`conform` maps the headers to canonical
names, parses the values and returns every problem it finds, each with its row and
the column as written in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from spatial._errors import Problem
from spatial.io.values import (
    clean_text,
    is_approximate,
    is_missing,
    normalize_header,
    parse_bool,
    parse_number,
    parse_share,
    parse_year,
)

__all__ = [
    "CONTRACTS",
    "LAYERS",
    "PARCEL_KINDS",
    "Field",
    "conform",
    "map_columns",
]

Layer = Literal["compounds", "pois", "parcels"]
LAYERS: tuple[str, ...] = ("compounds", "pois", "parcels")
DType = Literal["str", "int", "float", "year", "bool", "share", "kind"]


@dataclass(frozen=True)
class Field:
    """One canonical column: its name, type, labels and accepted header aliases.

    Attributes
    ----------
    name
        Canonical column name.
    dtype
        ``"str"``, ``"int"``, ``"float"``, ``"year"``, ``"bool"``, ``"share"`` or ``"kind"``.
    zh, en
        Chinese and English labels.
    aliases
        Other headers accepted for the column (normalised before matching).
    minimum
        Smallest allowed value of a number (None: no check).
    future_ok
        Whether a year after this year is allowed (planned dates).
    """

    name: str
    dtype: DType
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    minimum: float | None = 0
    future_ok: bool = False


def _f(name: str, dtype: DType, zh: str, en: str, *aliases: str, future_ok: bool = False) -> Field:
    return Field(name, dtype, zh, en, (name, zh, en, *aliases), 0, future_ok)


_ID = _f(
    "id",
    "str",
    "编号",
    "id",
    "编码",
    "代码",
    "序号",
    "小区编号",
    "地块编号",
    "项目编号",
    "宗地编号",
    "设施编号",
    "code",
    "fid_code",
)
_NAME = _f("name", "str", "名称", "name", "小区名称", "小区名", "项目名称", "地块名称", "设施名称")
_SUBDISTRICT = _f("subdistrict", "str", "街道", "subdistrict", "街道办", "街道办事处", "乡镇街道")
_COMMUNITY = _f("community", "str", "社区", "community", "社区居委会", "居委会", "所属社区")
_DISTRICT = _f("district", "str", "区县", "district", "县区", "区", "县(市、区)", "county")
_ADDRESS = _f("address", "str", "地址", "address", "详细地址", "位置")
_BUILD_YEAR = _f(
    "build_year",
    "year",
    "建成年份",
    "build year",
    "建成年代",
    "建设年代",
    "建成时间",
    "竣工年份",
    "竣工时间",
    "年代",
    "year_built",
    "year built",
    "built",
)
_HOUSEHOLDS = _f("households", "int", "户数", "households", "总户数", "居民户数", "住户数", "hh")
_FLOOR_AREA = _f(
    "floor_area_m2",
    "float",
    "建筑面积",
    "floor area",
    "总建筑面积",
    "floor_area",
    "gfa",
)
_LAND_AREA = _f("land_area_m2", "float", "占地面积", "land area", "用地面积", "land_area")
_BUILDINGS = _f("buildings", "int", "楼栋数", "buildings", "栋数", "楼栋", "楼幢数", "n_buildings")

CONTRACTS: dict[str, tuple[Field, ...]] = {
    "compounds": (
        _ID,
        _NAME,
        _DISTRICT,
        _SUBDISTRICT,
        _COMMUNITY,
        _ADDRESS,
        _BUILD_YEAR,
        _HOUSEHOLDS,
        _BUILDINGS,
        _f("floors", "int", "层数", "floors", "楼层", "最高层数", "楼层数", "storeys", "levels"),
        _FLOOR_AREA,
        _LAND_AREA,
        _f("elevator", "bool", "加装电梯", "elevator", "有无电梯", "电梯", "has_elevator"),
        _f("heating", "bool", "供暖", "heating", "集中供暖", "有无供暖"),
        _f("property_management", "bool", "有无物业", "property management", "物业", "物业管理"),
        _f("willingness", "share", "居民意愿", "willingness", "改造意愿", "同意改造比例"),
        _f(
            "contribution_share",
            "share",
            "出资比例",
            "contribution share",
            "居民出资比例",
            "出资户比例",
        ),
        _f("owner_unit", "str", "原产权单位", "original owner", "产权单位", "owner unit"),
        _f(
            "structure_grade",
            "str",
            "结构安全等级",
            "structure grade",
            "房屋安全等级",
            "安全等级",
            "危房等级",
        ),
        _f(
            "expropriation_year",
            "year",
            "计划征收年份",
            "expropriation year",
            "征收年份",
            "征收计划",
            future_ok=True,
        ),
        _f(
            "planned_demolition",
            "bool",
            "计划拆除",
            "planned demolition",
            "纳入拆迁计划",
            "纳入棚改计划",
        ),
    ),
    "pois": (
        _ID,
        _NAME,
        _f("category", "str", "设施类别", "category", "类别", "设施类型", "life_circle_category"),
        _f("type", "str", "类型", "type", "poi类型", "大类", "tag", "detail_info.tag", "标签"),
        _f(
            "typecode",
            "str",
            "类型编码",
            "typecode",
            "type code",
            "类型代码",
            "分类编码",
            "type_code",
            "typecodes",
        ),
        _ADDRESS,
        _SUBDISTRICT,
        _COMMUNITY,
    ),
    "parcels": (
        _ID,
        _NAME,
        _f(
            "kind",
            "kind",
            "地块类型",
            "kind",
            "类型",
            "类别",
            "用地类型",
            "项目类型",
            "parcel kind",
        ),
        _DISTRICT,
        _SUBDISTRICT,
        _COMMUNITY,
        _ADDRESS,
        _BUILD_YEAR,
        _HOUSEHOLDS,
        _BUILDINGS,
        _FLOOR_AREA,
        _LAND_AREA,
        _f("planned_far", "float", "规划容积率", "planned far", "容积率", "far"),
        _f("structure_grade", "str", "房屋安全等级", "structure grade", "危房等级", "安全等级"),
    ),
}

#: Parcel kinds that can be bundled with old compounds: id -> (zh, en, extra aliases).
PARCEL_KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "old_compound": ("老旧小区", "old compound", ("小区", "旧小区")),
    "old_block": ("旧城区", "old city block", ("老城区", "旧街区")),
    "shantytown": ("棚户区", "shantytown", ("棚改", "棚户区改造")),
    "urban_village": ("城中村", "urban village", ()),
    "old_factory": (
        "旧厂区",
        "old factory area",
        ("旧厂(矿)区", "旧厂矿区", "老厂区", "旧厂房", "old factory", "factory"),
    ),
    "dilapidated": ("危旧房", "dilapidated housing", ("危房", "危旧房屋", "dangerous housing")),
    "function_conversion": (
        "既有建筑功能转换",
        "function conversion",
        ("功能转换", "建筑功能转换"),
    ),
    "low_efficiency": ("城镇低效用地", "low-efficiency land", ("低效用地", "low efficiency land")),
}


#: Headers that mean a field only when no better header does (a row number 序号 is the id
#: of a table without 编号, but not beside 小区编号).
_WEAK_ALIASES = frozenset(normalize_header(a) for a in ("序号", "fid_code"))


def alias_index(layer: str) -> dict[str, str]:
    """``{normalised alias: canonical field}`` of a layer kind.

    Parameters
    ----------
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.

    Returns
    -------
    dict
        Every alias of every field, normalised with :func:`normalize_header`.
    """
    return dict(_alias_index(layer))


def _alias_index(layer: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for field in CONTRACTS[layer]:
        for alias in field.aliases:
            index.setdefault(normalize_header(alias), field.name)
    return index


def map_columns(
    columns: Sequence[Hashable], layer: str, *, source: str = "<data>"
) -> tuple[dict[Hashable, str], list[Problem]]:
    """Map a file's headers to canonical column names.

    Parameters
    ----------
    columns
        The file's headers.
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    source
        File name for the messages.

    Returns
    -------
    mapping
        ``{original header: canonical name}`` for the headers that match a field.
    problems
        One error per canonical field matched by more than one header.
    """
    if layer not in CONTRACTS:
        raise ValueError(f"unknown layer {layer!r}; use one of {LAYERS}")
    index = _alias_index(layer)
    mapping: dict[Hashable, str] = {}
    seen: dict[str, Hashable] = {}
    problems: list[Problem] = []
    found = {c: index.get(normalize_header(c)) for c in columns if c != "geometry"}
    strong = {f for c, f in found.items() if f and normalize_header(c) not in _WEAK_ALIASES}
    for col, canonical in found.items():
        if canonical is None:
            continue
        if canonical in strong and normalize_header(col) in _WEAK_ALIASES:
            continue  # 序号 beside 小区编号: a row number, kept as it is
        if canonical in seen:
            problems.append(
                Problem.error(
                    source,
                    f"both '{seen[canonical]}' and '{col}' mean '{canonical}'",
                    column=str(col),
                    hint="keep one of the two columns or rename the other",
                )
            )
            continue
        seen[canonical] = col
        mapping[col] = canonical
    return mapping, problems


def _kind_index() -> dict[str, str]:
    index = {}
    for kind, (zh, en, aliases) in PARCEL_KINDS.items():
        for alias in (kind, zh, en, *aliases):
            index[normalize_header(alias)] = kind
    return index


def _parse_kind(value: Any) -> tuple[str | None, str | None]:
    if is_missing(value):
        return None, "parcel kind is empty"
    kind = _kind_index().get(normalize_header(value))
    if kind is None:
        return None, f"'{value}' is not a known parcel kind"
    return kind, None


_KIND_HINT = "use one of: " + ", ".join(f"{zh}/{k}" for k, (zh, _, _) in PARCEL_KINDS.items())


def _parse_column(
    series: pd.Series, field: Field, header: str, source: str, row_label: Callable[[int], Any]
) -> tuple[pd.Series, pd.Series | None, list[Problem]]:
    problems: list[Problem] = []
    values: list[Any] = []
    approx: list[bool] = []
    for pos, raw in enumerate(series.tolist()):
        err: str | None = None
        val: Any = None
        hint = ""
        flag = False
        if field.dtype == "year":
            val, flag, err = parse_year(raw, future_ok=field.future_ok)
            hint = "write a 4-digit year such as 1988, 1988年 or 1980年代"
        elif field.dtype in ("int", "float"):
            val, err = parse_number(raw)
            hint = f"write a plain number in {field.zh}/{field.name}"
            if val is not None and is_approximate(raw):
                problems.append(
                    Problem.warning(
                        source,
                        f"'{raw}' is approximate: read as {val:g}",
                        row=row_label(pos),
                        column=header,
                        hint="write the surveyed number where it is known",
                    )
                )
            if val is not None and field.minimum is not None and val < field.minimum:
                val, err = None, f"{raw!r} is negative"
            elif val is not None and field.dtype == "int":
                if abs(val) >= 2**53:
                    val, err = None, f"'{raw}' is too large for {field.zh}"
                elif not float(val).is_integer():
                    val, err = None, f"'{raw}' is not a whole number"
                else:
                    val = int(val)
        elif field.dtype == "bool":
            val, err = parse_bool(raw)
            hint = "write 是 or 否 (yes/no)"
        elif field.dtype == "share":
            val, err = parse_share(raw)
            hint = "write a share such as 0.8 or 80%"
        elif field.dtype == "kind":
            val, err = _parse_kind(raw)
            hint = _KIND_HINT
        else:
            val = None if is_missing(raw) else clean_text(raw)
        if err:
            problems.append(
                Problem.error(source, err, row=row_label(pos), column=header, hint=hint)
            )
        values.append(val)
        approx.append(flag)
    dtype = {
        "int": "Int64",
        "year": "Int64",
        "float": "Float64",
        "share": "Float64",
        "bool": "boolean",
    }.get(field.dtype, "object")
    out = pd.Series(values, index=series.index, dtype=dtype)
    flags = pd.Series(approx, index=series.index) if field.dtype == "year" else None
    return out, flags, problems


def conform(
    frame: pd.DataFrame,
    layer: str,
    *,
    source: str = "<data>",
    row_label: Callable[[int], Any] | None = None,
    id_prefix: str | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename columns to the canonical contract of ``layer`` and parse their values.

    Parameters
    ----------
    frame
        The table as read (any headers; a ``geometry`` column is passed through).
    layer
        ``"compounds"``, ``"pois"`` or ``"parcels"``.
    source
        File name used in problem messages.
    row_label
        Maps a 0-based record position to the row reported to the user (default:
        spreadsheet row ``pos + 2``).
    id_prefix
        Prefix of generated ids for records without one (default: first letter of
        the layer, upper case).

    Returns
    -------
    frame, problems
        A new frame (same index) with canonical columns parsed to typed columns,
        unmatched columns kept unchanged, ``id`` and ``name`` always present; and
        every problem found (errors and warnings).
    """
    label = row_label or (lambda pos: pos + 2)
    mapping, problems = map_columns(list(frame.columns), layer, source=source)
    out = frame.copy()
    fields = {f.name: f for f in CONTRACTS[layer]}
    for header, canonical in mapping.items():
        parsed, flags, found = _parse_column(
            frame[header], fields[canonical], str(header), source, label
        )
        problems += found
        out = out.drop(columns=[header])
        out[canonical] = parsed
        if flags is not None and flags.any():
            out[f"{canonical}_approx"] = flags
    prefix = id_prefix or layer[0].upper()
    generated = pd.Series([f"{prefix}{i + 1:05d}" for i in range(len(out))], index=out.index)
    if "id" not in out:
        out["id"] = generated
    else:
        missing = out["id"].isna()
        out["id"] = out["id"].where(~missing, generated).astype(str)
        dup = out["id"].duplicated(keep=False)
        id_header = next(h for h, c in mapping.items() if c == "id")
        positions = pd.Series(np.flatnonzero(dup.to_numpy()), index=out["id"][dup].to_numpy())
        for value, group in positions.groupby(level=0, sort=False):
            rows = [label(int(pos)) for pos in group]
            for row in rows:
                others = ", ".join(str(r) for r in rows if r != row)
                problems.append(
                    Problem.error(
                        source,
                        f"id '{value}' is also used at row(s) {others}",
                        row=row,
                        column=str(id_header),
                        hint="give every record its own id",
                    )
                )
    if "name" not in out:
        out["name"] = pd.Series([None] * len(out), index=out.index, dtype="object")
    if layer == "parcels" and "kind" not in out:
        problems.append(
            Problem.error(
                source,
                "no parcel kind column (地块类型/kind)",
                hint="add a column 地块类型 with values such as 棚户区, 城中村, 旧厂区",
            )
        )
    first = ["id", "name", *[f for f in fields if f in out and f not in ("id", "name")]]
    rest = [c for c in out.columns if c not in first]
    return out[first + rest], problems
