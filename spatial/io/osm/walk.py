"""The walkable ways of an OSM file, collected while it is read, as arrays.

Per way only the node ids are taken in Python; the coordinates come from one WKB
string per way built by libosmium (:class:`osmium.geom.WKBFactory`) and are decoded
in bulk by shapely at the end, and segments and distinct nodes are formed with numpy.
A way cut by the extract's edge is split into its runs of nodes inside the file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import cast

import numpy as np
import osmium
import pandas as pd
import shapely

__all__ = ["WalkCollector", "WalkWays"]


@dataclass(frozen=True)
class WalkWays:
    """The walkable ways of an OSM file as segments between node ids (WGS84).

    Attributes
    ----------
    node_ids
        ``(n,)`` OSM ids of the nodes the segments use, ascending.
    lonlat
        ``(n, 2)`` their longitude and latitude in degrees.
    pairs
        ``(m, 2)`` segments as pairs of node ids, in way order.
    highway
        ``(m,)`` the ``highway`` tag of each segment's way.
    gate_ids
        ``(g,)`` ids of nodes tagged ``entrance=*`` or ``barrier=gate``.
    n_missing
        Way nodes outside the extract: their segments were skipped, the rest of the
        way kept.
    """

    node_ids: np.ndarray
    lonlat: np.ndarray
    pairs: np.ndarray
    highway: np.ndarray
    gate_ids: np.ndarray
    n_missing: int = 0


class WalkCollector:
    """Runs of consecutive way nodes inside the file, with their ``highway`` value."""

    def __init__(self) -> None:
        self._refs: list[list[int]] = []  # runs whose coordinates are in self._wkb
        self._wkb: list[bytes] = []
        self._highway: list[str] = []
        self._cut_refs: list[list[int]] = []  # runs of cut ways, coordinates read per node
        self._cut_xy: list[tuple[float, float]] = []
        self._cut_highway: list[str] = []
        self.n_missing = 0

    def add(self, way: osmium.osm.Way, highway: str, wkb: bytes | None) -> None:
        """Take a walkable way.

        Parameters
        ----------
        way
            The way read by osmium.
        highway
            Its ``highway`` tag.
        wkb
            Its line with every node; None when cut by the extract's edge.
        """
        if wkb is not None:
            self._refs.append([nd.ref for nd in way.nodes])
            self._wkb.append(wkb)
            self._highway.append(highway)
            return
        run: list[int] = []
        for nd in way.nodes:
            loc = nd.location
            if loc.valid():
                run.append(nd.ref)
                self._cut_xy.append((loc.lon, loc.lat))
                continue
            self.n_missing += 1
            if run:
                self._cut_refs.append(run)
                self._cut_highway.append(highway)
                run = []
        if run:
            self._cut_refs.append(run)
            self._cut_highway.append(highway)

    def result(self, gate_ids: list[int]) -> WalkWays:
        """The collected ways as arrays (read-only).

        Parameters
        ----------
        gate_ids
            Ids of the gate and entrance nodes.

        Returns
        -------
        WalkWays
        """
        runs = self._refs + self._cut_refs
        lengths = np.fromiter(map(len, runs), dtype=np.int64, count=len(runs))
        refs = np.fromiter(
            itertools.chain.from_iterable(runs), dtype=np.int64, count=int(lengths.sum())
        )
        xy = np.vstack(
            [
                _line_coordinates(self._wkb, lengths[: len(self._refs)]),
                np.asarray(self._cut_xy, dtype=float).reshape(-1, 2),
            ]
        )
        if len(xy) != len(refs):  # WKB with osmium.geom.ALL keeps every node
            raise RuntimeError(f"{len(xy)} coordinates for {len(refs)} way nodes")
        inner = np.ones(max(len(refs) - 1, 0), dtype=bool)
        ends = np.cumsum(lengths)[:-1] - 1  # last node of each run but the final one
        inner[ends[ends < len(inner)]] = False
        pairs = np.column_stack([refs[:-1][inner], refs[1:][inner]])
        highway = np.repeat(
            np.asarray(self._highway + self._cut_highway, dtype=object), np.maximum(lengths - 1, 0)
        )
        node_ids, first = _distinct(refs)
        return WalkWays(
            node_ids=_frozen(node_ids.astype(np.int64)),
            lonlat=_frozen(xy[first].reshape(-1, 2)),
            pairs=_frozen(np.asarray(pairs, dtype=np.int64).reshape(-1, 2)),
            highway=_frozen(highway.astype(object)),
            gate_ids=_frozen(np.array(sorted(set(gate_ids)), dtype=np.int64)),
            n_missing=self.n_missing,
        )


def _line_coordinates(wkbs: list[bytes], counts: np.ndarray) -> np.ndarray:
    """``(sum(counts), 2)`` coordinates of little-endian 2D WKB linestrings of ``counts``
    points each, read from the joined bytes at once (9 header bytes, then the doubles);
    shapely decodes them where the bytes are laid out otherwise."""
    if not wkbs:
        return np.zeros((0, 2))
    data = np.frombuffer(b"".join(wkbs), dtype=np.uint8)
    sizes = 9 + 16 * counts
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    plain = len(data) == int(sizes.sum()) and (data[starts] == 1).all()
    if plain:
        kinds = data[(starts[:, None] + np.arange(1, 5)).ravel()].reshape(-1, 4)
        plain = bool((kinds == [2, 0, 0, 0]).all())
    if not plain:
        lines = shapely.from_wkb(np.asarray(wkbs, dtype=object))
        return cast("np.ndarray", shapely.get_coordinates(lines).reshape(-1, 2))
    header = (starts[:, None] + np.arange(9)).ravel()
    return np.delete(data, header).view("<f8").reshape(-1, 2).astype(float)


def _distinct(refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids and the first position of each, as ``np.unique`` gives them,
    by hashing first (a city has millions of way nodes and a third as many distinct)."""
    codes, uniques = pd.factorize(refs, sort=False)
    if len(refs) == 0:
        return np.asarray(uniques, dtype=np.int64), np.zeros(0, dtype=np.int64)
    top = np.maximum.accumulate(codes)  # codes count up in order of first appearance
    first = np.flatnonzero(np.r_[True, top[1:] > top[:-1]])
    order = np.argsort(uniques, kind="stable")
    return np.asarray(uniques)[order], first[order]


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
