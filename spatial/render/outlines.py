"""Service-area outlines as the maps draw them: read a category at a time, simplified,
made into a layer's text by a second process while the rest of the page is built
(:class:`OutlineLayers`), and for a map book cut once into small tiles (a city's outline
of one category is one polygon with thousands of holes; cutting it whole for each of
thousands of pages took ~0.5 s a page and held it at full size)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.heap import trim_heap
from spatial.io.outputs.write import read_gpkg
from spatial.lifecircle.areas import simplify_outline
from spatial.processes import from_the_end, result_or_here
from spatial.render.offline import Basemap
from spatial.render.outline_text import (
    METRES_PER_DEGREE,
    OUTLINE_TOLERANCE_M,
    outline_file,
    simplified_m,
)
from spatial.settings import DEFAULTS

log = logging.getLogger(__name__)

__all__ = [
    "OUTLINE_TOLERANCE_M",
    "TILE_VERTICES",
    "OutlineLayers",
    "OutlineTiles",
    "generalise_outlines",
    "iter_service_areas",
    "read_service_areas",
]


def generalise_outlines(
    areas: gpd.GeoDataFrame, *, tolerance_m: float = OUTLINE_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """Service areas for display: the outlines of ``service_areas.gpkg`` (traced on a grid
    by the gap run) simplified by ``tolerance_m`` metres, never traced again here.

    Outlines stored in degrees are simplified in degrees (a degree of latitude is
    111.32 km and a degree of longitude less, so no point moves more than
    ``tolerance_m``), which spares two reprojections of every vertex.

    Parameters
    ----------
    areas
        Service areas (``category``, ``geometry``), WGS84 or metric.
    tolerance_m
        How far a point may move, metres.

    Returns
    -------
    GeoDataFrame
        New frame, same rows and CRS; returned as is when it was simplified by at least
        ``tolerance_m`` already (:func:`~spatial.render.outline_text.simplified_m`).
    """
    if simplified_m(areas) >= tolerance_m:
        return areas
    tolerance = tolerance_m / METRES_PER_DEGREE if areas.crs.is_geographic else tolerance_m
    out = areas.assign(geometry=[simplify_outline(g, tolerance) for g in areas.geometry.values])
    out.attrs["simplified_m"] = tolerance_m
    return out


def iter_service_areas(
    path: str | Path, *, tolerance_m: float = OUTLINE_TOLERANCE_M
) -> Iterator[gpd.GeoDataFrame]:
    """The rows of ``service_areas.gpkg`` one at a time (a category's outline each),
    simplified by ``tolerance_m`` metres as soon as each is read.

    Parameters
    ----------
    path
        A ``service_areas.gpkg`` written by ``spatial gaps``.
    tolerance_m
        How far a point may move, metres (the gap map's own tolerance by default).

    Yields
    ------
    GeoDataFrame
        One row, in the layer's order and CRS (WGS84), its outline simplified
        (``attrs["simplified_m"]``); the full outline is freed before the next is read.
    """
    import pyogrio

    for k in range(pyogrio.read_info(path)["features"]):
        yield generalise_outlines(read_gpkg(path, skip=k, count=1), tolerance_m=tolerance_m)
        trim_heap()  # the full outline just freed would stay with the process


def read_service_areas(
    path: str | Path, *, tolerance_m: float = OUTLINE_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """``service_areas.gpkg`` as the gap map draws it, read one category at a time
    (:func:`iter_service_areas`), so a whole city's outlines are never all in memory at
    full detail.

    Parameters
    ----------
    path
        A ``service_areas.gpkg`` written by ``spatial gaps``.
    tolerance_m
        How far a point may move, metres (the gap map's own tolerance by default).

    Returns
    -------
    GeoDataFrame
        The layer's rows in its order and CRS (WGS84), outlines simplified.
    """
    rows = list(iter_service_areas(path, tolerance_m=tolerance_m))
    if not rows:
        return read_gpkg(path)
    out = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=rows[0].crs)
    out.attrs["simplified_m"] = tolerance_m
    return out


class OutlineLayers:
    """The service-area layers of a gap map, made from a ``service_areas.gpkg`` a category
    at a time (in the file's order) from the moment this object is made, while the run
    reads its tables and builds the rest of the page.

    A file of at least ``process_mb`` is done by a spawned process (a thread would wait
    for the interpreter after each of its many short GEOS calls while the page's Python
    runs: 2 s of work took 3 s beside the page, 7 s beside a busy thread); a smaller one
    by a thread. It takes the categories from the last; when the page is written, the
    categories it has not begun are made here from the first, until the two meet. Each
    text goes through a file in a temporary folder. Where the process cannot start or
    breaks, the text is made here: the same text either way.

    Parameters
    ----------
    path
        A ``service_areas.gpkg`` written by ``spatial gaps``.
    basemap
        ``"amap"`` shifts the coordinates to GCJ-02.
    decimals
        Decimals of a degree kept.
    tolerance_m
        How far a point may move, metres.
    process_mb
        Smallest file done by a second process, MB.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        basemap: Basemap = "none",
        decimals: int = 5,
        tolerance_m: float = OUTLINE_TOLERANCE_M,
        process_mb: float = DEFAULTS.outline_map_process_mb,
    ) -> None:
        import pyogrio

        self.path = Path(path)
        self.options: dict[str, Any] = {
            "basemap": basemap,
            "decimals": decimals,
            "tolerance_m": tolerance_m,
        }
        names = pyogrio.read_dataframe(self.path, columns=["category"], read_geometry=False)
        column = names["category"].astype(str)
        self.counts: dict[str, int] = column.value_counts().to_dict()
        self.folder = Path(tempfile.mkdtemp(prefix="spatial-outlines-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self.pool = _pool(self.path, process_mb)
        self.order = column.drop_duplicates().tolist()
        self.left = set(self.order)  # texts not asked for yet
        make = partial(outline_file, **self.options)
        self.futures: dict[int, Future[int]] = from_the_end(  # the page asks from the first
            self.pool,
            len(self.order),
            lambda k: (make, self.path, self.order[k], self._target(k)),
            "service-area layers",
        )
        self.pool.shutdown(wait=False)  # it ends with its last category

    def count(self, category: str) -> int:
        """Rows of the category in the file (0: no service area).

        Parameters
        ----------
        category
            A category id.

        Returns
        -------
        int
            Its number of outlines.
        """
        return int(self.counts.get(category, 0))

    def text(self, category: str) -> Callable[[], str]:
        """The category's layer text, asked for when the page is written.

        Parameters
        ----------
        category
            A category id with an outline (:meth:`count` > 0).

        Returns
        -------
        callable
            Returns the text (:func:`~spatial.render.outline_text.outline_layer_text` of
            the category's rows), waiting for it if it is being made.
        """
        return partial(self._text, category)

    def cancel(self) -> None:
        """Drop the categories not begun and the folder (the page will not be written)."""
        for fut in self.futures.values():
            fut.cancel()
        self._cleanup()

    def _target(self, k: int) -> Path:
        return self.folder / f"{k}.json"

    def _text(self, category: str) -> str:
        k = self.order.index(category)
        target = self._target(k)
        result_or_here(  # made here (over any piece) when not begun there or lost
            self.futures.get(k),
            partial(outline_file, self.path, category, target, **self.options),
            "service-area layers",
        )
        text = target.read_text(encoding="utf-8")
        target.unlink(missing_ok=True)
        self.left.discard(category)
        if not self.left:
            self._cleanup()  # the folder goes with the last text
        return text


def _pool(path: Path, process_mb: float) -> ProcessPoolExecutor | ThreadPoolExecutor:
    """A spawned process for a large file on a machine with a second core, else a
    thread; a thread too where no process can start (a daemonic Dask worker)."""
    if path.stat().st_size >= process_mb * 1e6 and (os.cpu_count() or 1) > 1:
        try:
            return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        except (AssertionError, OSError, RuntimeError, ValueError) as exc:
            log.info("service-area layers made by a thread: %s", exc)
    return ThreadPoolExecutor(1, thread_name_prefix="spatial-outlines")


#: A map book's outlines are cut into tiles of at most this many vertices.
TILE_VERTICES = 2048
#: ... or until a tile is this small, degrees (~10 m: an outline that dense is no outline).
_SMALLEST_DEG = 1e-4
#: Small pieces are packed by cells of this many degrees (~1 km).
_PACK_DEG = 0.01


def _bisect(parts: np.ndarray, max_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """Polygons without holes cut in halves across their longer side until each has at most
    ``max_vertices`` vertices; returns the pieces and the index of the part of each."""
    done: list[np.ndarray] = []
    done_of: list[np.ndarray] = []
    todo, of = parts, np.arange(len(parts))
    while len(todo):
        bounds = shapely.bounds(todo)
        span = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        small = (shapely.get_num_coordinates(todo) <= max_vertices) | (span < _SMALLEST_DEG)
        done.append(todo[small])
        done_of.append(of[small])
        todo, of, bounds = todo[~small], of[~small], bounds[~small]
        if not len(todo):
            break
        halves = [_halves(g, b) for g, b in zip(todo, bounds, strict=True)]
        low, high = (np.array(h, dtype=object) for h in zip(*halves, strict=True))
        pieces, at = shapely.get_parts(np.concatenate([low, high]), return_index=True)
        poly = shapely.get_type_id(pieces) == 3  # a cut may leave lines and points
        todo, of = pieces[poly], np.concatenate([of, of])[at[poly]]
    return np.concatenate(done), np.concatenate(done_of)


def _pack(pieces: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of one outline whose boxes centre in the same cell of ``_PACK_DEG`` degrees
    as one MultiPolygon (a city's outline has millions of small holes)."""
    b = shapely.bounds(pieces)
    cells = np.floor(np.column_stack([(b[:, 0] + b[:, 2]), (b[:, 1] + b[:, 3])]) / 2 / _PACK_DEG)
    keys, group = np.unique(np.column_stack([owner, cells]), axis=0, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    packed = shapely.multipolygons(pieces[order], indices=group[order])
    return packed, keys[:, 0].astype(np.int64)


def _halves(shape: shapely.Geometry, b: np.ndarray) -> tuple[shapely.Geometry, ...]:
    """A polygon cut in two across the longer side of its box ``b``."""
    if b[2] - b[0] >= b[3] - b[1]:
        mid = (b[0] + b[2]) / 2
        return shapely.clip_by_rect(shape, b[0], b[1], mid, b[3]), shapely.clip_by_rect(
            shape, mid, b[1], b[2], b[3]
        )
    mid = (b[1] + b[3]) / 2
    return shapely.clip_by_rect(shape, b[0], b[1], b[2], mid), shapely.clip_by_rect(
        shape, b[0], mid, b[2], b[3]
    )


class OutlineTiles:
    """Service-area outlines cut once into tiles, kept as WKB, for a map book: a page
    decodes and cuts only the tiles that meet its box.

    An outline is cut ring by ring: its exterior and each of its holes become polygons of
    their own, a hole inside its exterior. Drawn with the even-odd rule, as the maps'
    canvas fills a layer, they cover what the outline covers (their symmetric difference
    is the outline); they are for drawing, not measuring. Cutting a polygon with its
    holes costs time that grows faster than its holes: a city's 15-minute outline of
    one category has ~190,000 of them.

    Parameters
    ----------
    areas
        Frames of service areas (``category``, ``geometry``; any CRS, simplified for
        display already), e.g. :func:`iter_service_areas`: each is cut and its
        geometries dropped before the next is taken.
    max_vertices
        Largest tile, vertices.
    """

    def __init__(
        self, areas: Iterable[gpd.GeoDataFrame], *, max_vertices: int = TILE_VERTICES
    ) -> None:
        rows: list[pd.DataFrame] = []
        wkb: list[np.ndarray] = []
        owner: list[np.ndarray] = []
        boxes: list[np.ndarray] = []
        n = 0
        for frame in areas:
            if frame.crs is not None and frame.crs.to_epsg() != 4326:
                frame = frame.to_crs(4326)
            parts, of = shapely.get_parts(frame.geometry.values, return_index=True)
            poly = shapely.get_type_id(parts) == 3
            rings, ring_of = shapely.get_rings(parts[poly], return_index=True)
            tiles, at = _bisect(shapely.polygons(rings), max_vertices)
            tiles, tile_of = _pack(tiles, of[poly][ring_of][at])
            wkb.append(shapely.to_wkb(tiles))
            owner.append(tile_of + n)
            boxes.append(shapely.bounds(tiles))
            rows.append(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
            n += len(frame)
        self.rows = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
        self.wkb = np.concatenate(wkb) if wkb else np.zeros(0, dtype=object)
        self.owner = np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64)
        bounds = np.concatenate(boxes) if boxes else np.zeros((0, 4))
        self.tree = shapely.STRtree(shapely.box(*bounds.T))

    def __len__(self) -> int:
        return len(self.wkb)

    def cut(self, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
        """The outlines within a box.

        Parameters
        ----------
        bounds
            ``(west, south, east, north)``, WGS84 degrees.

        Returns
        -------
        GeoDataFrame
            One row per outline that meets the box, its attributes, its rings as
            polygons cut to the box (pieces of neighbouring tiles side by side, not
            merged; drawn even-odd), WGS84; marked simplified (``attrs["simplified_m"]``).
        """
        hit = np.sort(self.tree.query(shapely.box(*bounds), predicate="intersects"))
        cut = shapely.clip_by_rect(shapely.from_wkb(self.wkb[hit]), *bounds)
        pieces, which = shapely.get_parts(cut, return_index=True)
        poly = shapely.get_type_id(pieces) == 3
        pieces, owner = pieces[poly], self.owner[hit][which[poly]]
        rows, at = np.unique(owner, return_inverse=True)
        geometry = shapely.multipolygons(pieces, indices=at) if len(pieces) else []
        out = gpd.GeoDataFrame(
            self.rows.iloc[rows].reset_index(drop=True), geometry=geometry, crs=4326
        )
        out.attrs["simplified_m"] = OUTLINE_TOLERANCE_M
        return out
