"""Coordinate systems: China's GCJ-02 and BD-09 (Amap, Baidu) to WGS84, and the local
metric CRS (UTM) every distance is measured in.

- :mod:`spatial.io.crs.chinese` GCJ-02, BD-09, BD-09MC ↔ WGS84
- :mod:`spatial.io.crs.projection` the local UTM zone, reprojection to WGS84 at the edges
"""

__all__: list[str] = []
