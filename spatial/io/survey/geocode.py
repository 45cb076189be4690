"""Addresses (地址) to WGS84 points through the Amap geocoding web service (高德地理编码).

The real HTTP path: ``GET restapi.amap.com/v3/geocode/geo`` with ``key``, ``address``
(up to ten joined by ``|`` with ``batch=true``) and an optional ``city``. Amap answers in
GCJ-02, converted here to WGS84. ``SPATIAL_AMAP_URL`` points the client at another
server (the tests' recorded responses, or an intranet proxy).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from spatial._errors import InputError, Problem
from spatial.io.crs.chinese import gcj02_to_wgs84
from spatial.standards.files import read_toml

__all__ = ["AMAP_URL", "geocode_amap"]

AMAP_URL = "https://restapi.amap.com/v3/geocode/geo"
_BATCH = 10  # Amap's limit per batch request
_RETRY_CODES = {"10019", "10020", "10021", "10022", "10014", "10015"}  # over QPS, busy
_HINTS = {
    "10001": "the key is wrong: check --amap-key (a Web服务 key of console.amap.com)",
    "10009": "the key is not a Web服务 (web service) key: create one of that kind",
    "10003": "the key's daily quota is used up: try tomorrow or use another key",
    "10044": "the account's daily quota is used up: try tomorrow",
}


def _settings() -> dict[str, Any]:
    return dict(read_toml(None, default="matching.toml")[0]["geocoding"])


def _get(session: Any, url: str, params: dict[str, str], *, retries: int) -> dict[str, Any]:
    """One request, retried (with a growing pause) while Amap says it is over its rate."""
    import requests

    pause = float(_settings()["retry_pause_s"])
    for attempt in range(retries + 1):
        try:
            reply = session.get(url, params=params, timeout=float(_settings()["timeout_s"]))
            reply.raise_for_status()
            data = reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise InputError(
                [
                    Problem.error(
                        url,
                        f"cannot reach the Amap service ({type(exc).__name__})",
                        hint="run where restapi.amap.com is reachable, or leave --amap-key "
                        "out (names only)",
                    )
                ]
            ) from exc
        code = str(data.get("infocode", ""))
        if str(data.get("status")) == "1":
            return data
        if code in _RETRY_CODES and attempt < retries:
            time.sleep(pause * (attempt + 1))
            continue
        raise InputError(
            [
                Problem.error(
                    url,
                    f"Amap refused the request: {data.get('info', '')} (infocode {code})",
                    hint=_HINTS.get(code, "see Amap's infocode table (lbs.amap.com)"),
                )
            ]
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _location(entry: dict[str, Any]) -> tuple[float, float] | None:
    loc = entry.get("location")
    if not isinstance(loc, str) or "," not in loc:
        return None
    lon, lat = (float(v) for v in loc.split(",", 1))
    return lon, lat


def geocode_amap(
    addresses: Sequence[str],
    *,
    key: str,
    city: str | None = None,
    url: str | None = None,
    retries: int = 3,
    session: Any = None,
) -> pd.DataFrame:
    """Geocode addresses with Amap, ten per request.

    Parameters
    ----------
    addresses
        The addresses (empty ones are not sent).
    key
        An Amap Web服务 key.
    city
        City name or adcode that narrows the search (e.g. ``北京``).
    url
        The service (default ``SPATIAL_AMAP_URL`` or :data:`AMAP_URL`).
    retries
        Attempts more while Amap reports its rate exceeded.
    session
        A ``requests.Session`` (default a new one).

    Returns
    -------
    DataFrame
        One row per address, in order: ``lon``, ``lat`` (WGS84, converted from GCJ-02;
        NaN where Amap found nothing), ``level`` (Amap's 门牌号, 兴趣点, 道路 …),
        ``formatted`` and ``precise`` (the level is in ``[geocoding] precise_levels`` of
        ``matching.toml``).

    Raises
    ------
    InputError
        When the service cannot be reached or refuses the key.
    """
    import requests

    endpoint = url or os.environ.get("SPATIAL_AMAP_URL") or AMAP_URL
    precise = set(_settings()["precise_levels"])
    http = session or requests.Session()
    rows: list[dict[str, Any]] = [
        {"lon": float("nan"), "lat": float("nan"), "level": "", "formatted": "", "precise": False}
        for _ in addresses
    ]
    todo = [i for i, a in enumerate(addresses) if str(a or "").strip()]
    for start in range(0, len(todo), _BATCH):
        chunk = todo[start : start + _BATCH]
        params = {
            "key": key,
            "address": "|".join(str(addresses[i]).strip().replace("|", " ") for i in chunk),
            "batch": "true",
            "output": "JSON",
        }
        if city:
            params["city"] = city
        data = _get(http, endpoint, params, retries=retries)
        for i, entry in zip(chunk, data.get("geocodes") or [], strict=False):
            found = _location(entry)
            if found is None:
                continue
            lon, lat = gcj02_to_wgs84(found[0], found[1])
            level = entry.get("level") if isinstance(entry.get("level"), str) else ""
            formatted = entry.get("formatted_address")
            rows[i] = {
                "lon": float(lon),
                "lat": float(lat),
                "level": level,
                "formatted": formatted if isinstance(formatted, str) else "",
                "precise": level in precise,
            }
    return pd.DataFrame(rows)
