"""Attributes of the demo city: names, build years, survey fields, parcels and facilities.

Everything here is a demo setting (plausible values for a Shandong-like city), not a
standard: standards live in ``spatial/standards/``.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Point, Polygon

__all__ = [
    "DEMO_COVERAGE",
    "NEW_PREFIX",
    "NEW_SUFFIX",
    "OLD_SUFFIX",
    "OLD_UNITS",
    "ORDINAL",
    "PARCEL_ZH",
    "ROAD_NAMES_H",
    "ROAD_NAMES_V",
    "SETBACK_M",
    "SUBDISTRICTS",
    "age_year",
    "cn_number",
    "parcel_row",
    "place_pois",
]

SETBACK_M = 12.0

#: Share of the district's area each category should cover if facilities were placed
#: at random (a demo setting, not a standard): lower values leave larger gaps.
DEMO_COVERAGE: dict[str, float] = {
    "kindergarten": 0.55,
    "nursery": 0.35,
    "primary_school": 0.7,
    "junior_school": 0.8,
    "health_station": 0.5,
    "health_centre": 0.75,
    "elderly_daycare": 0.3,
    "nursing_home": 0.55,
    "meal_service": 0.25,
    "community_station": 0.6,
    "community_centre": 0.8,
    "culture_station": 0.4,
    "culture_centre": 0.6,
    "sports_small": 0.45,
    "fitness_outdoor": 0.6,
    "sports_medium": 0.5,
    "sports_large": 0.5,
    "fresh_market": 0.65,
    "convenience_store": 0.85,
    "parcel_point": 0.7,
    "pharmacy": 0.75,
    "bus_stop": 0.85,
    "rail_station": 0.35,
    "parking": 0.6,
    "ev_charging": 0.4,
    "emergency_station": 0.45,
}


ROAD_NAMES_V = "经{}路"


ROAD_NAMES_H = "纬{}路"


_CN_NUM = "一二三四五六七八九十"


SUBDISTRICTS = (
    "大明湖",
    "泉城路",
    "趵突泉",
    "千佛山",
    "舜井",
    "文化东路",
    "燕山",
    "甸柳",
    "姚家",
    "龙洞",
    "智远",
    "舜华路",
    "洪家楼",
    "东关",
    "文东",
    "建新",
    "解放路",
    "历山路",
    "王舍人",
    "山大路",
)


OLD_UNITS = (
    "机床厂",
    "纺织厂",
    "电业局",
    "化工厂",
    "粮食局",
    "铁路",
    "教育局",
    "商业局",
    "供销社",
    "人民医院",
    "邮电局",
    "建工",
    "农机厂",
    "自来水公司",
    "印染厂",
    "钢厂",
    "轻工局",
    "水利局",
    "气象局",
    "棉纺厂",
)


OLD_SUFFIX = ("宿舍", "家属院", "生活区", "宿舍区")


NEW_PREFIX = (
    "阳光",
    "幸福",
    "和谐",
    "锦绣",
    "翠竹",
    "金色",
    "华府",
    "康居",
    "丽景",
    "东方",
    "新城",
    "绿地",
    "明珠",
    "福泰",
    "泉景",
    "嘉和",
    "御景",
    "名仕",
    "恒大",
    "鲁能",
)


NEW_SUFFIX = ("花园", "家园", "小区", "苑", "嘉园", "名居", "公寓", "新村")


ORDINAL = ("", "二区", "三区", "四区", "五区", "六区", "七区", "八区", "九区")


PARCEL_ZH = {
    "shantytown": "棚户区",
    "urban_village": "城中村",
    "old_factory": "旧厂区",
    "dilapidated": "危旧房",
    "function_conversion": "既有建筑功能转换",
    "low_efficiency": "城镇低效用地",
}


def cn_number(n: int) -> str:
    """Chinese numeral for demo names.

    Parameters
    ----------
    n
        A positive integer.

    Returns
    -------
    str
        一 … 九十九 for 1–99; Arabic digits beyond.
    """
    if n > 99:
        return str(n)
    if n <= 10:
        return _CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else _CN_NUM[tens - 1]}十{_CN_NUM[ones - 1] if ones else ''}"


def age_year(
    rng: np.random.Generator, x: float, y: float, cx: float, cy: float, radius: float
) -> int:
    """Build year of a compound: older near the centre of the district, newer at its edge.

    Parameters
    ----------
    rng
        The demo city's random generator.
    x, y
        The compound's centre, metres.
    cx, cy, radius
        The district's centre and radius, metres.

    Returns
    -------
    int
        A build year.
    """
    r = math.hypot(x - cx, y - cy) / max(radius, 1.0)
    return int(np.clip(round(1975 + 45 * (0.15 + 0.85 * r) + rng.normal(0, 7)), 1975, 2020))


def parcel_row(rng, kind: str, geom, subdistrict, community, cx, cy, radius) -> dict:
    """The attribute row of a demo parcel (shantytown, old factory …).

    Parameters
    ----------
    rng
        The demo city's random generator.
    kind
        The parcel kind (``PARCEL_KINDS`` id).
    geom
        Its polygon, metres.
    subdistrict, community
        Where it lies.
    cx, cy, radius
        The district's centre and radius, metres (old parcels lie near the centre).

    Returns
    -------
    dict
        Columns of the parcels layer.
    """
    c = geom.centroid
    year = age_year(rng, c.x, c.y, cx, cy, radius) - 10
    area = geom.area
    households = {
        "shantytown": area / 60,
        "urban_village": area / 80,
        "dilapidated": area / 120,
    }.get(kind, 0)
    existing_far = {"old_factory": 0.6, "low_efficiency": 0.2}.get(kind, rng.uniform(0.8, 1.5))
    return {
        "名称": f"{community.removesuffix('社区')}{PARCEL_ZH[kind]}",
        "地块类型": PARCEL_ZH[kind],
        "区县": "示范区",
        "kind_id": kind,
        "街道": subdistrict,
        "社区": community,
        "建成年份": max(1950, year),
        "户数": int(households),
        "建筑面积": round(area * existing_far, -1),
        "占地面积": round(area, 1),
        "规划容积率": round(float(rng.uniform(2.0, 3.5)), 1) if kind != "dilapidated" else None,
        "房屋安全等级": str(rng.choice(["C", "D"]))
        if kind in ("dilapidated", "shantytown")
        else None,
        "geometry": geom,
    }


def place_pois(rng, cats, blocks: list[tuple[Polygon, str]], area_m2: float) -> list[dict]:
    """Facilities of the demo city, sparse enough that gaps exist.

    Parameters
    ----------
    rng
        The demo city's random generator.
    cats
        The life-circle categories.
    blocks
        Superblock polygons (metres) and their subdistrict.
    area_m2
        The city's area.

    Returns
    -------
    list of dict
        One row per facility.
    """
    rows: list[dict] = []
    for cat in cats:
        cov = DEMO_COVERAGE.get(cat.id, 0.5)
        density = -math.log(1 - cov) / (2 * cat.radius_m**2)  # per m², diamond service area
        n = max(1, int(rng.poisson(density * area_m2)))
        for k in range(n):
            block, community = blocks[int(rng.integers(len(blocks)))]
            x0, y0, x1, y1 = block.bounds
            side = int(rng.integers(4))
            t = rng.uniform(0.2, 0.8)
            inset = SETBACK_M + 3.0
            x, y = [
                (x0 + t * (x1 - x0), y0 + inset),
                (x1 - inset, y0 + t * (y1 - y0)),
                (x0 + t * (x1 - x0), y1 - inset),
                (x0 + inset, y0 + t * (y1 - y0)),
            ][side]
            rows.append(
                {
                    "名称": f"{community.removesuffix('社区')}{cat.zh}"
                    f"{'' if k == 0 else cn_number(min(k + 1, 99))}",
                    "设施类别": cat.id,
                    "类型编码": cat.amap[0] if cat.amap else None,
                    "地址": community,
                    "geometry": Point(x, y),
                }
            )
    return rows
