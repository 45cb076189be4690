"""Shared fixtures: the real OSM extract in ../shared and small demo cities; markers of
what each test needs, so that a contributor can leave out what the machine lacks
(``pytest -m "not browser and not postgis"`` runs without root)."""

from __future__ import annotations

import inspect
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CAU_OSM = SHARED / "data" / "osm" / "beijing_cau_haidian.osm"


@pytest.fixture(scope="session")
def cau_osm() -> Path:
    """The real OSM extract around China Agricultural University (ODbL), read in place."""
    if not CAU_OSM.exists():
        pytest.fail(f"{CAU_OSM} is missing: the tests need ../shared beside the repository")
    return CAU_OSM


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory):
    """A size-4 demo city generated once per test session."""
    from spatial.demo import generate_demo

    return generate_demo(tmp_path_factory.mktemp("demo"), size=4, seed=7)


def write_osm_xml(path: Path, nodes: dict, ways: list, *, crs: str = "EPSG:32650") -> Path:
    """Write a tiny OSM XML file from node coordinates given in metres (UTM 50N by default).

    ``nodes``: ``{id: (x, y)}`` or ``{id: (x, y, {tags})}``; ``ways``: ``[(refs, {tags})]``.
    Coordinates are offset to lie near Beijing (x + 440000, y + 4428000).
    """
    from xml.sax.saxutils import quoteattr

    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6">']
    for nid, spec in nodes.items():
        x, y = spec[0], spec[1]
        tags = spec[2] if len(spec) > 2 else {}
        lon, lat = tr.transform(x + 440000.0, y + 4428000.0)
        head = f' <node id="{nid}" version="1" lat="{lat:.10f}" lon="{lon:.10f}"'
        body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append(f"{head}>{body}</node>" if tags else f"{head}/>")
    for wid, (refs, tags) in enumerate(ways, start=1):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append(f' <way id="{wid}" version="1">{nds}{tg}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def metric(x: float, y: float):
    """A point in the test frame of :func:`write_osm_xml` (UTM 50N metres)."""
    from shapely.geometry import Point

    return Point(x + 440000.0, y + 4428000.0)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (installed by scripts/test-deps.sh)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run scripts/test-deps.sh (as .ci/run does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_offline(browser, path: Path):
    """Open a local HTML file with the network switched off; returns (page, errors)."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => Object.keys(window).some(k => k.startsWith('map_'))")
    page.wait_for_timeout(500)
    return page, errors


#: Markers set from what a test uses (its fixtures, or names in its own source and its
#: fixtures' sources): marker → the words that give it away.
NEEDS = {
    "browser": ("browser", "open_offline"),
    "postgis": ("postgres", "postgresql://"),
    "libreoffice": ("_soffice", "_recalculate(", "soffice"),
    "shared_data": ("cau_osm", "SHARED", "planner_set("),
}
#: Tests measured at more than ~15 s on the 2-core machine (pytest --durations).
SLOW_MODULES = ("test_readme.py", "test_notebooks.py", "test_fuzz.py", "test_real_chain.py")


def _sources(item: pytest.Item) -> str:
    parts = []
    funcs = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    if info is not None:
        for name in item.fixturenames:  # type: ignore[attr-defined]
            funcs += [d.func for d in info.name2fixturedefs.get(name, ())]
    for func in funcs:
        try:
            parts.append(inspect.getsource(func))
        except (OSError, TypeError):
            continue
    return "\n".join(parts)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        text = _sources(item) + " ".join(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        for marker, words in NEEDS.items():
            if any(w in text for w in words) or (
                marker == "postgis" and "postgis" in params.values()
            ):
                item.add_marker(marker)
        if item.path.name in SLOW_MODULES or "slow" in item.keywords:
            item.add_marker("slow")


PG_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL + PostGIS cluster, started and stopped by the project's script."""
    # not under pytest's 0700 folders: as root, the script runs the server as another user
    folder = Path(tempfile.mkdtemp(prefix="spatial-pg-"))
    started = subprocess.run(
        ["bash", str(PG_SCRIPT), "start", str(folder), str(_free_port())],
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        pytest.fail(
            "PostgreSQL did not start (install it with scripts/postgres.sh install): "
            + started.stderr[-2000:]
        )
    yield started.stdout.strip()
    subprocess.run(["bash", str(PG_SCRIPT), "stop", str(folder)], check=False)
    shutil.rmtree(folder, ignore_errors=True)


_COUNTER = {"n": 0}


@pytest.fixture(params=["gpkg", "postgis"])
def target(request, tmp_path):
    """A fresh, not yet initialised database on each back end."""
    if request.param == "gpkg":
        return str(tmp_path / "老旧小区.gpkg")
    import psycopg

    base = request.getfixturevalue("postgres")
    _COUNTER["n"] += 1
    name = f"t{_COUNTER['n']}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name
