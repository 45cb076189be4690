"""One synthetic old compound: its outline, gates, inner paths and survey attributes."""

from __future__ import annotations

from shapely.geometry import Polygon

from spatial.demo._attributes import (
    NEW_PREFIX,
    NEW_SUFFIX,
    OLD_SUFFIX,
    OLD_UNITS,
    age_year,
)
from spatial.demo._osm_writer import Builder, node_key

__all__ = ["compound"]


def compound(
    rng,
    b: Builder,
    inner,
    line_at_x,
    line_at_y,
    block_bounds,
    subdistrict,
    community,
    cx,
    cy,
    radius,
    unique,
) -> dict:
    """Draw one old compound into the builder and return its survey row.

    The outline is the block's inner box with jittered corners; a ring of footways
    inside joins one to three gates, each linked by an access footway to the block's
    street. Attributes follow the build year (older: lower, smaller flats, no lift).

    Parameters
    ----------
    rng
        The city's random generator (numpy ``Generator``); the only source of chance.
    b
        The builder the streets, gates and building outline are added to.
    inner
        ``(x0, y0, x1, y1)`` of the compound inside its block, local metres.
    line_at_x, line_at_y
        The block streets by their fixed coordinate; gates' junctions are added to them.
    block_bounds
        ``(x0, y0, x1, y1)`` of the block between its streets, local metres.
    subdistrict, community
        Names written into the row.
    cx, cy
        Centre of the old town, local metres; compounds near it are older.
    radius
        Radius of the city, metres (scales the age gradient).
    unique
        Makes a name unique in the city (adds an ordinal when repeated).

    Returns
    -------
    dict
        The compound's survey row with Chinese headers and its ``geometry``.
    """
    x0, y0, x1, y1 = inner
    jit = rng.uniform(-4, 4, (4, 2))
    corners = [
        (x0 + jit[0, 0], y0 + jit[0, 1]),
        (x1 + jit[1, 0], y0 + jit[1, 1]),
        (x1 + jit[2, 0], y1 + jit[2, 1]),
        (x0 + jit[3, 0], y1 + jit[3, 1]),
    ]
    poly = Polygon(corners)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    year = age_year(rng, mx, my, cx, cy, radius)
    w, h = x1 - x0, y1 - y0
    rx0, rx1, ry0, ry1 = x0 + 0.3 * w, x1 - 0.3 * w, y0 + 0.3 * h, y1 - 0.3 * h
    ring_v = {rx: b.line(True, rx, [(ry0, ry1, {})], {"highway": "footway"}) for rx in (rx0, rx1)}
    ring_h = {ry: b.line(False, ry, [(rx0, rx1, {})], {"highway": "footway"}) for ry in (ry0, ry1)}
    for rx, vl in ring_v.items():
        vl.add(ry0)
        vl.add(ry1)
        ring_h[ry0].add(rx)
        ring_h[ry1].add(rx)
    bx0, by0, bx1, by1 = block_bounds
    sides = rng.permutation(4)[: int(rng.choice([1, 2, 2, 3]))]
    for k, side in enumerate(sides):
        t = rng.uniform(0.35, 0.65)
        (ax, ay), (cx_, cy_) = corners[side], corners[(side + 1) % 4]
        if side in (0, 2):  # bottom or top side: gate at x, connector runs vertically
            gx = x0 + t * w
            gy = ay + (cy_ - ay) * (gx - ax) / (cx_ - ax)
            street_y = by0 if side == 0 else by1
            ring_y = ry0 if side == 0 else ry1
            conn = b.line(
                True,
                gx,
                [(min(street_y, ring_y), max(street_y, ring_y), {})],
                {"highway": "footway", "footway": "access"},
            )
            conn.add(gy)
            line_at_y[street_y].add(gx)
            ring_h[ring_y].add(gx)
            gate = (gx, gy)
        else:  # right or left side: connector runs horizontally
            gy = y0 + t * h
            gx = ax + (cx_ - ax) * (gy - ay) / (cy_ - ay)
            street_x = bx1 if side == 1 else bx0
            ring_x = rx1 if side == 1 else rx0
            conn = b.line(
                False,
                gy,
                [(min(street_x, ring_x), max(street_x, ring_x), {})],
                {"highway": "footway", "footway": "access"},
            )
            conn.add(gx)
            line_at_x[street_x].add(gy)
            ring_v[ring_x].add(gy)
            gate = (gx, gy)
        b.node_tags[node_key(gate)] = {
            "barrier": "gate",
            **({"entrance": "main"} if k == 0 else {}),
        }
    bw, bh = 0.15 * w, 0.15 * h
    outline = [(mx - bw, my - bh), (mx + bw, my - bh), (mx + bw, my + bh), (mx - bw, my + bh)]
    b.extra_ways.append(([*outline, outline[0]], {"building": "residential"}))

    if year < 1990:
        far, floors, unit = rng.uniform(1.0, 1.6), int(rng.integers(4, 7)), rng.uniform(55, 70)
    elif year <= 2005:
        far, unit = rng.uniform(1.3, 2.0), rng.uniform(70, 95)
        floors = int(rng.integers(11, 19)) if rng.random() < 0.1 else int(rng.integers(5, 8))
    else:
        far, floors, unit = rng.uniform(1.8, 3.0), int(rng.integers(11, 34)), rng.uniform(90, 120)
    land = poly.area
    floor_area = round(land * far, -1)
    households = max(8, int(floor_area / unit))
    elevator = floors >= 10 or (floors >= 7 and year > 2005) or rng.random() < 0.05
    if year < 1990:
        name = (
            f"{OLD_UNITS[int(rng.integers(len(OLD_UNITS)))]}"
            f"{OLD_SUFFIX[int(rng.integers(len(OLD_SUFFIX)))]}"
        )
    else:
        name = (
            f"{NEW_PREFIX[int(rng.integers(len(NEW_PREFIX)))]}"
            f"{NEW_SUFFIX[int(rng.integers(len(NEW_SUFFIX)))]}"
        )
    style = rng.random()
    year_text = (
        f"{year // 10 * 10}年代" if style < 0.05 else (f"{year}年" if style < 0.15 else str(year))
    )
    grade = (
        "D"
        if year < 1985 and rng.random() < 0.1
        else ("C" if year < 1995 and rng.random() < 0.3 else ("B" if year < 2005 else "A"))
    )
    road = line_at_y[by0].tags.get("name") or line_at_x[bx0].tags.get("name") or "支路"
    return {
        "小区名称": unique(name),
        "区县": "示范区",
        "街道": subdistrict,
        "社区": community,
        "地址": f"{road}{int(rng.integers(1, 300))}号",
        "建成年份": year_text,
        "户数": households,
        "楼栋数": max(1, round(floor_area / (floors * 700.0))),
        "层数": floors,
        "建筑面积": floor_area,
        "占地面积": round(land, 1),
        "加装电梯": "是" if elevator else "否",
        "供暖": "是" if year > 1985 or rng.random() < 0.6 else "否",
        "有无物业": "有" if (year > 2000 and rng.random() < 0.9) or rng.random() < 0.3 else "无",
        "居民意愿": round(float(rng.beta(6, 2)), 2),
        "出资比例": round(float(rng.uniform(0.3, 0.9)), 2),
        "结构安全等级": grade,
        "计划征收年份": int(rng.integers(2026, 2031)) if rng.random() < 0.03 else None,
        "计划拆除": "是" if rng.random() < 0.02 else "否",
        "geometry": poly,
    }
