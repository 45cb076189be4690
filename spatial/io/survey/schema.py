"""Column contracts for compounds, POIs and other parcels, with Chinese/English aliases.

Real survey tables arrive with Chinese headers (小区名称, 建成年份, 户数 …) and values
such as "1990年代", "1,200户" or "是". :func:`map_columns` maps the headers to canonical
names; :func:`spatial.io.survey.conform.conform` then parses the values and returns every
problem it finds, each with its row and the column as written in the file.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

from spatial._errors import Problem
from spatial.io.survey.values import (
    normalize_header,
)

__all__ = [
    "CONTRACTS",
    "LAYERS",
    "PARCEL_KINDS",
    "Field",
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
