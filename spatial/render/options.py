"""The map stage's parameters (:class:`MapOptions`): each option and its one default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from spatial.params import StageParams

__all__ = ["MapOptions"]


@dataclass(frozen=True, kw_only=True)
class MapOptions(StageParams):
    """Settings of the maps: what is drawn beside the HTML maps and how they are labelled.

    :func:`spatial.pipeline.maps.run_maps` takes it from ``spatial map``, the demo and a
    batch unit; its defaults are the only ones.

    Attributes
    ----------
    basemap
        ``none`` (works with no network), ``osm``, ``tianditu`` (needs ``tianditu_key``)
        or ``amap`` (data shifted to GCJ-02).
    tianditu_key
        Tianditu (天地图) key.
    png
        Also write PNG maps for reports (needs a CJK font).
    title
        Title shown on the maps (None: each map's own).
    by
        Map book: one map per ``subdistrict`` or ``community``, and ``index.html``.
    atlas
        Also write the A3 PDF atlas (图集), a page per unit of ``by``.
    data_date
        Date of the data shown on the maps (None: today).
    context
        Files of streets and water drawn under the data (an OSM file, road or water
        layers); empty: ``context.gpkg`` of the gaps run.
    source
        The credit line of the PNG maps (None: OpenStreetMap when the data come from it).
    assess
        A ``spatial assess`` folder: the gap map gets its 完整社区 layer (None: none).
    """

    basemap: Literal["none", "osm", "tianditu", "amap"] = "none"
    tianditu_key: str | None = None
    png: bool = False
    title: str | None = None
    by: Literal["subdistrict", "community"] | None = None
    atlas: bool = False
    data_date: str | None = None
    context: tuple[str, ...] = ()
    source: str | None = None
    assess: str | None = None
