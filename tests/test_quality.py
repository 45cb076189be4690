"""Project rules that can be checked: lint, module size and __all__, README = CI command."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert "spatial demo" in blocks[0] and "pytest" in blocks[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1].strip() in ci.splitlines()


def test_modules_are_small_and_declare_all():
    for path in (REPO / "spatial").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) < 800, f"{path} is over 800 lines"
        body = ast.parse(text).body
        names = {
            t.id
            for node in body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        names |= {
            node.target.id
            for node in body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        }
        assert "__all__" in names, f"{path} has no __all__"


def test_import_does_no_work():
    code = "import sys, spatial; print('geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff comes with the test extra")
def test_ruff_lint_and_format():
    subprocess.run(["ruff", "check", str(REPO)], check=True)
    subprocess.run(["ruff", "format", "--check", str(REPO)], check=True)


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy comes with the test extra")
def test_type_hints_check():
    out = subprocess.run(["mypy"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
