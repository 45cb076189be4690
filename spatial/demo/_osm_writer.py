"""Streets as straight lines that collect their junctions, written as OSM XML."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from pyproj import Transformer

from spatial.io.outputs.write import atomic_path

__all__ = ["Builder", "Line", "node_key", "write_osm"]


class Line:
    """A straight street (or path) that collects the positions of the junctions on it.

    Parameters
    ----------
    vertical
        True for a north–south line (fixed x), False for east–west (fixed y).
    coord
        The fixed coordinate in local metres.
    spans
        ``(lo, hi, extra_tags)`` stretches along the line that are drawn.
    tags
        OSM tags of every way on the line.
    """

    __slots__ = ("coord", "positions", "spans", "tags", "vertical")

    def __init__(
        self,
        vertical: bool,
        coord: float,
        spans: list[tuple[float, float, dict]],
        tags: dict[str, str],
    ) -> None:
        self.vertical = vertical
        self.coord = coord
        self.spans = spans
        self.tags = tags
        self.positions: set[float] = {p for lo, hi, _ in spans for p in (lo, hi)}

    def add(self, pos: float) -> None:
        """Record a junction at ``pos``.

        Parameters
        ----------
        pos
            Position along the line, local metres.
        """
        self.positions.add(pos)

    def point(self, pos: float) -> tuple[float, float]:
        """The point of the line at ``pos``.

        Parameters
        ----------
        pos
            Position along the line, local metres.

        Returns
        -------
        tuple of float
            ``(x, y)`` in local metres.
        """
        return (self.coord, pos) if self.vertical else (pos, self.coord)


class Builder:
    """Collects nodes and ways in local metres, then writes OSM XML."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.node_tags: dict[tuple[float, float], dict[str, str]] = {}
        self.extra_ways: list[tuple[list[tuple[float, float]], dict[str, str]]] = []

    def line(self, vertical: bool, coord: float, spans, tags) -> Line:
        """Add a straight line of streets.

        Parameters
        ----------
        vertical
            True for a north–south line (fixed x), False for east–west (fixed y).
        coord
            The fixed coordinate in local metres.
        spans
            ``(lo, hi, extra_tags)`` stretches along the line that are drawn.
        tags
            OSM tags of every way on the line.

        Returns
        -------
        Line
            The new line, to which junction positions can be added.
        """
        ln = Line(vertical, coord, [(lo, hi, t) for lo, hi, t in spans], tags)
        self.lines.append(ln)
        return ln

    def ways(self) -> list[tuple[list[tuple[float, float]], dict[str, str]]]:
        """Cut every line at its junctions.

        Returns
        -------
        list of (points, tags)
            One way per drawn span, points in local metres, then the extra ways.
        """
        out = []
        for ln in self.lines:
            pos = sorted(ln.positions)
            for lo, hi, extra in ln.spans:
                pts = [ln.point(p) for p in pos if lo <= p <= hi]
                if len(pts) >= 2:
                    out.append((pts, {**ln.tags, **extra}))
        return out + self.extra_ways


def node_key(xy: tuple[float, float]) -> tuple[float, float]:
    """Key that merges points closer than a centimetre into one OSM node.

    Parameters
    ----------
    xy
        Point in local metres.

    Returns
    -------
    tuple of float
        The point rounded to 0.01 m.
    """
    return (round(xy[0], 2), round(xy[1], 2))


def write_osm(b: Builder, path: Path, to_wgs: Transformer, origin: tuple[float, float]) -> int:
    """Write the builder's ways and tagged nodes as OSM XML.

    Parameters
    ----------
    b
        The streets and paths, in local metres.
    path
        The ``.osm`` file to write (atomically).
    to_wgs
        Transformer from the local metric CRS to WGS84.
    origin
        Local origin ``(x0, y0)`` added to every point before transforming.

    Returns
    -------
    int
        Number of nodes on the walk network written.
    """
    ways = b.ways()
    ids: dict[tuple[float, float], int] = {}
    order: list[tuple[float, float]] = []
    way_refs = []
    for pts, tags in ways:
        refs = []
        for xy in pts:
            k = node_key(xy)
            if k not in ids:
                ids[k] = len(order) + 1
                order.append(k)
            refs.append(ids[k])
        way_refs.append((refs, tags))
    arr = np.array(order, dtype=float)
    lon, lat = to_wgs.transform(arr[:, 0] + origin[0], arr[:, 1] + origin[1])
    network_nodes = {
        r
        for refs, tags in way_refs
        if tags.get("highway") not in (None, "motorway", "motorway_link")
        for r in refs
    }
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        fh.write('<osm version="0.6" generator="spatial demo (synthetic city)">\n')
        fh.write(
            f' <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" '
            f'maxlat="{lat.max():.7f}" maxlon="{lon.max():.7f}"/>\n'
        )
        for i, k in enumerate(order):
            node_tags = b.node_tags.get(k)
            head = f' <node id="{i + 1}" version="1" lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"'
            if node_tags:
                fh.write(
                    head
                    + ">\n"
                    + "".join(
                        f"  <tag k={quoteattr(t)} v={quoteattr(v)}/>\n"
                        for t, v in node_tags.items()
                    )
                    + " </node>\n"
                )
            else:
                fh.write(head + "/>\n")
        for w, (refs, tags) in enumerate(way_refs):
            fh.write(f' <way id="{w + 1}" version="1">\n')
            fh.write("".join(f'  <nd ref="{r}"/>\n' for r in refs))
            fh.write(
                "".join(f"  <tag k={quoteattr(t)} v={quoteattr(v)}/>\n" for t, v in tags.items())
            )
            fh.write(" </way>\n")
        fh.write("</osm>\n")
    return len(network_nodes)
