"""Shapefile text as Chinese offices hand it over: no ``.cpg``, names cut to 10 bytes.

A DBF stores field names in at most 10 bytes, so ``小区名称`` (12 bytes in UTF-8) arrives
as ``小区名`` plus half a character, and ``结构安全等级`` (12 bytes in GBK) as ``结构安全等``.
Without a ``.cpg`` file GDAL reads the bytes as Latin-1, so GBK or UTF-8 text arrives as
``Ð¡Çø`` … This module finds the encoding the bytes really are in (UTF-8, else GBK),
decodes names and values with it, and expands a cut name to the field whose Chinese or
English alias it begins, when only one field fits.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from spatial._errors import Problem
from spatial.io.survey.values import normalize_header

__all__ = ["expand_cut_names", "repair_shapefile_text"]

_DBF_NAME_BYTES = 10


def _latin1_bytes(text: str) -> bytes | None:
    """The raw bytes behind a string GDAL decoded as Latin-1, if it was."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return raw if any(b >= 0x80 for b in raw) else None


def _decode(raw: bytes, encoding: str) -> str | None:
    """Decode, letting a name end in a character the 10-byte limit cut in two."""
    for cut in range(0, 3):
        try:
            return raw[: len(raw) - cut].decode(encoding) if cut < len(raw) else None
        except UnicodeDecodeError:
            continue
    return None


def _guess_encoding(samples: list[bytes]) -> str | None:
    """UTF-8 when every sample decodes as UTF-8 (it rarely does by chance), else GBK."""
    if not samples:
        return None
    if all(_decode(s, "utf-8") is not None for s in samples):
        return "utf-8"
    if all(_decode(s, "gbk") is not None for s in samples):
        return "gbk"
    return None


def repair_shapefile_text(
    gdf: gpd.GeoDataFrame, *, source: str, has_cpg: bool
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Decode names and text read as Latin-1 from a shapefile without ``.cpg``.

    Parameters
    ----------
    gdf
        The layer as GDAL read it.
    source
        File name for the messages.
    has_cpg
        Whether the shapefile has a ``.cpg`` (then its encoding is trusted).

    Returns
    -------
    GeoDataFrame, problems
        A new frame with decoded names and values, and a warning saying which encoding
        was assumed.
    """
    if has_cpg:
        return gdf, []
    text_cols = [
        c
        for c in gdf.columns
        if c != "geometry" and (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c]))
    ]
    samples = [b for c in gdf.columns if (b := _latin1_bytes(str(c))) is not None]
    for c in text_cols:
        for value in gdf[c].dropna().head(200):
            if isinstance(value, str) and (b := _latin1_bytes(value)) is not None:
                samples.append(b)
    encoding = _guess_encoding(samples)
    if encoding is None:
        return gdf, []

    def fix(value: object) -> object:
        if isinstance(value, str) and (raw := _latin1_bytes(value)) is not None:
            return _decode(raw, encoding) or value
        return value

    out = gdf.rename(columns={c: fix(c) for c in gdf.columns if c != "geometry"})
    for c in text_cols:
        name = fix(c)
        out[name] = pd.Series(gdf[c].map(fix).to_numpy(), index=gdf.index, dtype=object)
    note = Problem.warning(
        source,
        f"the shapefile has no .cpg: its text was read as {encoding.upper()}",
        hint=f"check the names; add a .cpg file holding '{encoding.upper()}' to make it sure",
    )
    return out, [note]


def expand_cut_names(
    columns: list[str], aliases: dict[str, str], *, source: str
) -> tuple[dict[str, str], list[Problem]]:
    """Names cut by the DBF limit, expanded to the alias they begin.

    Parameters
    ----------
    columns
        The layer's field names.
    aliases
        ``{normalised alias: canonical field}`` of the layer kind.
    source
        File name for the messages.

    Returns
    -------
    renames, problems
        ``{cut name: full alias}`` for names no alias equals but exactly one field's
        aliases begin with, and one warning listing them.
    """
    renames: dict[str, str] = {}
    for col in columns:
        key = normalize_header(col)
        if col == "geometry" or key in aliases or not key:
            continue
        nbytes = max(len(col.encode("utf-8")), len(col.encode("gbk", errors="replace")))
        if nbytes < _DBF_NAME_BYTES - 2:  # short names were not cut
            continue
        fits = {alias: field for alias, field in aliases.items() if alias.startswith(key)}
        if len(set(fits.values())) == 1:
            renames[col] = min(fits, key=len)
    problems = []
    if renames:
        shown = ", ".join(f"{a} → {b}" for a, b in renames.items())
        problems.append(
            Problem.warning(
                source,
                f"field names cut to 10 bytes by the DBF format were read as: {shown}",
                hint="check them, or save the layer as GeoPackage, which keeps whole names",
            )
        )
    return renames, problems
