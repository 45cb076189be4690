"""How one layer of a map page looks and behaves: :class:`Layer`, given to ``MapPage.add``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Layer"]


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One layer of a :class:`~spatial.render.page.MapPage`: its name, style and popup.

    Parameters
    ----------
    id, name, group
        Identifier, label in the layer list, group id (see ``MapPage.group``).
    style
        Canvas style: ``fill``, ``fillOpacity``, ``stroke``, ``weight`` (px),
        ``opacity``, ``radius`` (points, px), ``dash``, ``casing``, ``minZoom``, ``z``.
    show
        Drawn when the page opens.
    popup
        Popup builder of the runtime: ``"fields"`` (``fields`` as (label, column) or
        (label, column, "wan") for numbers shown as 万元) or one registered by a page
        script.
    fields
        Popup rows, see ``popup``.
    title_col, note
        Popup title column and a note under the fields.
    link_col
        Column of relative links the popup offers (the map book's index).
    label
        ``{"col", "minZoom", "font", "colour", "halo"}``: text drawn on the tiles.
    class_col, classes
        A column whose value picks extra style from ``classes``.
    fill_col, stroke_col
        Columns of CSS colours per feature.
    pane
        ``context`` (under the data), ``data`` or ``top``.
    swatch
        Colour shown beside the name in the layer list.
    width_by_zoom
        Scale line widths with the zoom (streets).
    simplify_m, decimals
        Geometry simplification (metres) and WGS84 decimals kept.
    z_index
        Order among the layers of the same pane (higher on top).
    dots_below
        Below this zoom, draw each feature as a dot at its centre (level of detail
        for a whole city's compounds).
    low_zoom
        ``(zoom, style)``: extra style below that zoom (small dots for many points).
    hidden
        Not listed in the layer list (shown and hidden with another layer).
    together_with
        Hidden layers switched on and off with this one.
    """

    id: str
    name: str
    group: str
    style: Mapping[str, Any] = field(default_factory=dict)
    show: bool = True
    popup: str | None = None
    fields: Sequence[tuple[str, ...]] = ()
    title_col: str | None = None
    note: str | None = None
    link_col: str | None = None
    label: Mapping[str, Any] | None = None
    class_col: str | None = None
    classes: Mapping[str, Mapping[str, Any]] | None = None
    fill_col: str | None = None
    stroke_col: str | None = None
    pane: Literal["context", "data", "top"] = "data"
    swatch: str | None = None
    width_by_zoom: bool = False
    simplify_m: float = 1.0
    decimals: int = 6
    z_index: int = 1
    dots_below: int | None = None
    low_zoom: tuple[int, Mapping[str, Any]] | None = None
    hidden: bool = False
    together_with: Sequence[str] = ()

    def spec(self) -> dict[str, Any]:
        """The layer as the page runtime (``spatial-map.js``) reads it, without its data.

        Returns
        -------
        dict
            JSON-ready keys in the runtime's camelCase; options left at their default
            are left out.
        """
        spec: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "group": self.group,
            "show": bool(self.show),
            "style": dict(self.style),
            "pane": self.pane,
        }
        optional: dict[str, Any] = {
            "popup": self.popup,
            "titleCol": self.title_col,
            "note": self.note,
            "linkCol": self.link_col,
            "label": dict(self.label) if self.label else None,
            "classCol": self.class_col,
            "classes": {k: dict(v) for k, v in self.classes.items()} if self.classes else None,
            "fillCol": self.fill_col,
            "strokeCol": self.stroke_col,
            "swatch": self.swatch,
            "fields": [list(f) for f in self.fields] or None,
            "widthByZoom": True if self.width_by_zoom else None,
            "zIndex": self.z_index if self.z_index != 1 else None,
            "lowZoom": (
                {"below": int(self.low_zoom[0]), "style": dict(self.low_zoom[1])}
                if self.low_zoom is not None
                else None
            ),
            "dotsBelow": int(self.dots_below) if self.dots_below is not None else None,
            "hidden": True if self.hidden else None,
            "with": list(self.together_with) or None,
        }
        spec.update({k: v for k, v in optional.items() if v is not None})
        return spec
