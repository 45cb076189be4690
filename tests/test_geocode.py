"""Amap geocoding of 地址 in ``spatial match``, over real HTTP to a local server that
answers with responses in Amap's documented format (tests never touch the internet)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from spatial.cli import app
from spatial.io.crs.chinese import wgs84_to_gcj02
from spatial.io.survey.geocode import geocode_amap

# two 100 m compounds in Haidian (WGS84)
JIA = box(116.3500, 40.0000, 116.3512, 40.0009)
YI = box(116.3600, 40.0000, 116.3612, 40.0009)


def _gcj(point: Point) -> str:
    lon, lat = wgs84_to_gcj02(point.x, point.y)
    return f"{float(lon):.6f},{float(lat):.6f}"


def _entry(location: str | list, level: str | list) -> dict:
    """One geocode as Amap writes it (empty fields are [] in its JSON)."""
    return {
        "formatted_address": "北京市海淀区" if location else [],
        "country": "中国",
        "province": "北京市",
        "city": "北京市",
        "district": "海淀区",
        "township": [],
        "street": [],
        "number": [],
        "location": location,
        "level": level,
    }


ANSWERS = {
    "海淀区清华东路17号": _entry(_gcj(JIA.centroid), "门牌号"),
    "海淀区双清路88号": _entry(_gcj(Point(116.3700, 40.0100)), "兴趣点"),
    "清华东路": _entry(_gcj(Point(116.3550, 40.0005)), "道路"),
    "海淀区学院路30号": _entry(_gcj(YI.centroid), "门牌号"),
    "查无此地": _entry([], []),
}


@pytest.fixture
def amap(monkeypatch):
    """A local HTTP server answering /v3/geocode/geo; the first request is over the QPS."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            seen.append(query)
            if query.get("key") == "bad":
                body = {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}
            elif len(seen) == 1:
                body = {"status": "0", "info": "CUQPS_HAS_EXCEEDED_THE_LIMIT", "infocode": "10021"}
            else:
                geos = [ANSWERS.get(a, _entry([], [])) for a in query["address"].split("|")]
                body = {"status": "1", "info": "OK", "infocode": "10000",
                        "count": str(len(geos)), "geocodes": geos}  # fmt: skip
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SPATIAL_AMAP_URL", f"http://127.0.0.1:{server.server_port}/v3/geocode/geo")
    yield seen
    server.shutdown()
    server.server_close()


def test_answers_are_converted_from_gcj02_and_batched(amap):
    got = geocode_amap(["海淀区清华东路17号", "", "查无此地", "清华东路"], key="k", city="北京")
    assert got.loc[0, "lon"] == pytest.approx(JIA.centroid.x, abs=1e-6)
    assert got.loc[0, "lat"] == pytest.approx(JIA.centroid.y, abs=1e-6)
    assert bool(got.loc[0, "precise"]) and got.loc[0, "level"] == "门牌号"
    assert got.loc[[1, 2], "lon"].isna().all()
    assert got.loc[3, "level"] == "道路" and not got.loc[3, "precise"]
    # one retry after the QPS refusal, then one batch of the three non-empty addresses
    assert len(amap) == 2
    assert amap[1]["batch"] == "true" and amap[1]["city"] == "北京"
    assert amap[1]["address"] == "海淀区清华东路17号|查无此地|清华东路"


def test_match_places_rows_by_address(amap, tmp_path):
    feet = gpd.GeoDataFrame(
        {"小区编号": ["F1", "F2"], "小区名称": ["甲小区", "乙小区"]}, geometry=[JIA, YI],
        crs="EPSG:4326",
    )  # fmt: skip
    feet.to_file(tmp_path / "feet.gpkg", engine="pyogrio")
    pd.DataFrame(
        {
            "小区名称": ["完全不同的名字", "无名院", "另一个", "乙小区", "丙家属院"],
            "地址": ["海淀区清华东路17号", "海淀区双清路88号", "清华东路", "某处",
                   "海淀区学院路30号"],
        }
    ).to_csv(tmp_path / "台账.csv", index=False)  # fmt: skip
    r = CliRunner().invoke(
        app,
        ["match", str(tmp_path / "台账.csv"), "--footprints", str(tmp_path / "feet.gpkg"),
         "--out", str(tmp_path / "out"), "--amap-key", "k", "--amap-city", "北京"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = pd.read_excel(tmp_path / "out" / "matched.xlsx").set_index("row_id")
    assert rows.loc[2, ["match_status", "match_method", "footprint_id"]].tolist() == [
        "matched", "address", "F1",
    ]  # fmt: skip
    assert rows.loc[3, ["match_status", "match_method"]].tolist() == ["located", "address_point"]
    assert rows.loc[4, "match_status"] == "unmatched" and "道路" in rows.loc[4, "match_reason"]
    assert rows.loc[5, ["match_status", "footprint_id"]].tolist() == ["matched", "F2"]
    assert rows.loc[6, "match_status"] == "review" and "F2" in rows.loc[6, "match_reason"]
    # the row the name matched was not sent to Amap
    assert all("某处" not in q.get("address", "") for q in amap)
    layer = gpd.read_file(tmp_path / "out" / "matched.gpkg", layer="compounds")
    kinds = dict(zip(layer["小区名称"], layer.geometry.geom_type, strict=True))
    assert kinds == {"完全不同的名字": "Polygon", "无名院": "Point", "乙小区": "Polygon"}
    point = layer.loc[layer["小区名称"] == "无名院"].geometry.iloc[0]
    assert point.distance(Point(116.3700, 40.0100)) < 1e-6


def test_refused_key_and_unreachable_service_are_clear_errors(amap, tmp_path, monkeypatch):
    feet = gpd.GeoDataFrame({"小区名称": ["甲小区"]}, geometry=[JIA], crs="EPSG:4326")
    feet.to_file(tmp_path / "feet.gpkg", engine="pyogrio")
    pd.DataFrame({"小区名称": ["某某"], "地址": ["海淀区清华东路17号"]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    args = ["match", str(tmp_path / "t.csv"), "--footprints", str(tmp_path / "feet.gpkg")]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o1"), "--amap-key", "bad"])
    assert r.exit_code == 1 and "INVALID_USER_KEY" in r.output and "--amap-key" in r.output
    assert not (tmp_path / "o1").exists()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("SPATIAL_AMAP_URL", f"http://127.0.0.1:{closed}/v3/geocode/geo")
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o2"), "--amap-key", "k"])
    assert r.exit_code == 1 and "cannot reach" in r.output and "ConnectionError" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "o2").exists()
