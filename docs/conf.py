"""Sphinx configuration of the documentation site (``sphinx-build -W docs out``)."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).parent

project = "spatial"
author = "the spatial contributors"
copyright = "2026, the spatial contributors"
release = metadata.version("spatial")

extensions = [
    "myst_nb",  # Markdown pages and the notebooks (shown as committed, not run here)
    "sphinx.ext.autodoc",
    "numpydoc",
]
myst_enable_extensions = ["colon_fence"]
nb_execution_mode = "off"  # tests/test_notebooks.py runs them
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_typehints = "none"  # the numpydoc sections say the types, with their units
autodoc_member_order = "bysource"
suppress_warnings = ["myst.header"]
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "spatial — 老旧小区改造规划工具"

# the notebooks live in notebooks/ (run by the tests); the gallery shows copies
_GALLERY = HERE / "gallery"
_GALLERY.mkdir(exist_ok=True)
for notebook in sorted((HERE.parent / "notebooks").glob("*.ipynb")):
    shutil.copy2(notebook, _GALLERY / notebook.name)
