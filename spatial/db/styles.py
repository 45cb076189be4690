"""QGIS styles stored in the database (table ``layer_styles``), so layers open coloured.

QGIS looks for a layer's default style in ``layer_styles`` of the GeoPackage or of the
PostgreSQL database it comes from. The compounds are coloured by renovation status, with
the Chinese field names as aliases.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from sqlalchemy import Connection, MetaData, insert

from spatial.db.schema import column_labels, statuses
from spatial.db.stamps import now_text, user_name

__all__ = ["compounds_qml", "write_styles"]


def _rgba(colour: str) -> str:
    value = colour.lstrip("#")
    return ",".join(str(int(value[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _symbol(name: str, colour: str) -> str:
    props = {
        "color": _rgba(colour),
        "outline_color": "60,60,60,255",
        "outline_width": "0.3",
        "style": "solid",
    }
    layer = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return (
        f'<symbol type="fill" name="{name}" alpha="0.75">'
        f'<layer class="SimpleFill" pass="0" locked="0">{layer}</layer></symbol>'
    )


def compounds_qml(columns: list[str]) -> str:
    """The QGIS style of the compounds: one colour per status, Chinese aliases.

    Parameters
    ----------
    columns
        The table's columns (aliases are given for these, in this order).

    Returns
    -------
    str
        A QML document.
    """
    sts = statuses()
    cats = "".join(
        f'<category render="true" symbol="{i}" value={quoteattr(s.code)} '
        f"label={quoteattr(f'{s.zh} {s.en}')}/>"
        for i, s in enumerate(sts)
    )
    cats += f'<category render="true" symbol="{len(sts)}" value="" label="未填 none"/>'
    symbols = "".join(_symbol(str(i), s.colour) for i, s in enumerate(sts))
    symbols += _symbol(str(len(sts)), "#ffffff")
    labels = column_labels()["compounds"]
    aliases = "".join(
        f'<alias field={quoteattr(c)} index="{i}" name={quoteattr(labels[c][0])}/>'
        for i, c in enumerate(columns)
        if c in labels
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28" styleCategories="Symbology|Fields">'
        '<renderer-v2 type="categorizedSymbol" attr="status" forceraster="0" '
        f'symbollevels="0" enableorderby="0"><categories>{cats}</categories>'
        f"<symbols>{symbols}</symbols></renderer-v2>"
        f"<aliases>{aliases}</aliases></qgis>"
    )


def write_styles(conn: Connection, md: MetaData, *, catalog: str, schema: str) -> None:
    """Store the compounds' style as the default style of the ``compounds`` layer.

    Parameters
    ----------
    conn
        A connection inside the transaction that creates the schema.
    md
        The schema.
    catalog, schema
        ``f_table_catalog`` and ``f_table_schema`` as QGIS matches them (empty for a
        GeoPackage; the database name and ``public`` on PostgreSQL).
    """

    compounds = md.tables["compounds"]
    conn.execute(
        insert(md.tables["layer_styles"]).values(
            f_table_catalog=catalog,
            f_table_schema=schema,
            f_table_name="compounds",
            f_geometry_column="geom",
            stylename="改造状态 renovation status",
            styleqml=compounds_qml([c.name for c in compounds.columns]),
            stylesld="",
            useasdefault=True,
            description="老旧小区按改造状态着色 compounds by renovation status",
            owner=user_name(),
            ui="",
            update_time=now_text(),
        )
    )
