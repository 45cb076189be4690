"""The documentation site builds with every warning an error, and says what it should."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_the_docs_site_builds_without_a_warning(tmp_path):
    out = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(REPO / "docs"), str(out)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    for page in ("index.html", "getting-started.html", "api.html", "architecture.html",
                 "guide/gaps.html", "guide/bundles.html", "guide/assess.html",
                 "gallery/bundling.html"):  # fmt: skip
        assert page in pages
    api = (out / "api.html").read_text(encoding="utf-8")
    assert "GapParams" in api and "search_limit_m" in api and "spatial.prepare" in api
    # the sections the docstrings cite exist
    architecture = (out / "architecture.html").read_text(encoding="utf-8")
    for cited in ("The gap engine, defined", "Compound access points", "File contracts"):
        assert cited in architecture
    # the getting-started page carries the README's two commands and its usage
    start = (out / "getting-started.html").read_text(encoding="utf-8")
    assert "scripts/test-deps.sh" in start and "regenerate" in start
