"""Project rules that can be checked: lint, types, docstrings, module size and __all__,
the layer order of the stages, README = CI command."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

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
        assert len(text.splitlines()) <= 520, f"{path} is over ~500 lines: split it"
        body = ast.parse(text).body
        # `__getattr__, __dir__, __all__ = lazy_loader.attach_stub(…)` declares it too
        names = {
            t.id
            for node in body
            if isinstance(node, ast.Assign)
            for target in node.targets
            for t in (target.elts if isinstance(target, ast.Tuple) else [target])
            if isinstance(t, ast.Name)
        }
        names |= {
            node.target.id
            for node in body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        }
        assert "__all__" in names, f"{path} has no __all__"


def test_cli_help_imports_nothing_heavy():
    code = (
        "import sys; from spatial.cli import app; "
        "print(sorted(m for m in ('geopandas', 'osmium', 'scipy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_does_no_work():
    code = "import sys, spatial; print('geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ci_lints_and_checks_types_as_steps_of_their_own():
    """ruff (lint and format) and mypy run in .ci/run beside the tests, not inside them."""
    steps = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for step in ("ruff check .", "ruff format --check .", "mypy"):
        assert step in steps, f".ci/run does not run {step!r}"


#: The stages in the order data flows; a module may import its own stage and lower ones.
LAYERS = {
    "spatial._errors": -1,  # the base: every stage reports problems with it
    "spatial.faults": -1,
    "spatial.heap": -1,  # giving freed memory back: any stage with a city in memory
    "spatial.processes": -1,  # jobs shared with a second process: any stage
    "spatial.settings": 0,
    "spatial.params": 0.5,
    "spatial.standards": 0,
    "spatial.io": 1,
    "spatial.db": 1.5,
    "spatial.network": 2,
    "spatial.demo": 2,
    "spatial.lifecircle": 3,
    "spatial.bundling": 4,
    "spatial.policy": 5,
    "spatial.render": 6,
    "spatial.finance": 6.5,
    "spatial.api": 7,
    "spatial.pipeline": 8,
    "spatial.batch": 9,
    "spatial.cli": 10,
}


def _layer(module: str) -> tuple[str, int]:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    raise AssertionError(f"{module} is in no stage of LAYERS: add it")


def _imports(path: Path) -> list[str]:
    """Every ``spatial.*`` module a file imports, at the top or inside functions."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return [m for m in out if m == "spatial" or m.startswith("spatial.")]


def test_layer_order_nothing_imports_upward():
    """io → network → lifecircle → bundling → policy → render → api → pipeline → batch → cli.

    ``spatial/__init__.py`` is the face's door (it loads ``spatial.api`` lazily) and is
    exempt; ``demo`` sits beside ``network`` and may use only io and lower.
    """
    wrong = []
    for path in sorted((REPO / "spatial").rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        if module == "spatial":
            continue
        stage, rank = _layer(module)
        for imported in _imports(path):
            if imported == "spatial":
                continue  # the package itself: only the exceptions live there
            other, other_rank = _layer(imported)
            if other_rank > rank or (other_rank == rank and other != stage):
                wrong.append(f"{module} ({stage}) imports {imported} ({other})")
    assert not wrong, "\n".join(wrong)


def test_layer_order_check_catches_an_upward_import(tmp_path):
    """The check above can fail: an io module importing the network stage is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from spatial.network import WalkNetwork\n", encoding="utf-8")
    (imported,) = _imports(bad)
    assert _layer(imported)[1] > _layer("spatial.io.load")[1]


#: numpydoc checks every public function and class must pass: a docstring (GL08),
#: every parameter documented (PR01) and no unknown one (PR02), a Returns section (RT01).
DOC_CHECKS = {"GL08", "PR01", "PR02", "RT01"}


def _doc_errors(name: str, obj: object) -> list[str]:
    from numpydoc.validate import validate

    codes = {c for c, _ in validate(name)["errors"]} & DOC_CHECKS
    if inspect.isclass(obj):
        codes.discard("RT01")
        doc = inspect.getdoc(obj) or ""
        if "Attributes\n" in doc or "Parameters\n" in doc:
            codes.discard("PR01")  # dataclass fields documented as attributes
    if isinstance(obj, property):
        codes -= {"RT01", "PR01"}
    return sorted(codes)


def test_every_public_function_has_numpydoc_parameters():
    """Each name in a module's ``__all__`` (and each public method) documents its
    parameters and what it returns (numpydoc validation); the CLI's commands document
    their options through typer and are checked by ``spatial --help``."""
    import spatial

    missing = {}
    for info in pkgutil.walk_packages(spatial.__path__, "spatial."):
        if info.name.startswith("spatial.cli"):
            continue
        mod = importlib.import_module(info.name)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != info.name:
                continue  # re-exported: checked where it is defined
            targets = [(f"{info.name}.{name}", obj)]
            if inspect.isclass(obj):
                targets += [
                    (f"{info.name}.{name}.{attr}", value)
                    for attr, value in vars(obj).items()
                    if not attr.startswith("_")
                    and (inspect.isfunction(value) or isinstance(value, classmethod))
                ]
            for target, value in targets:
                errors = _doc_errors(target, value)
                if errors:
                    missing[target] = errors
    assert not missing, "\n".join(f"{k}: {v}" for k, v in sorted(missing.items()))


def test_docstring_check_can_fail():
    """The docstring check catches a function that documents no parameters."""
    import textwrap

    assert {"PR01", "RT01"} <= set(_doc_errors("textwrap.dedent", textwrap.dedent))


def test_no_module_imports_another_modules_private_name():
    """A name shared across modules is public in its module's __all__; a private module
    (``_offline``) is imported only within its own package."""
    wrong = []
    for path in sorted((REPO / "spatial").rglob("*.py")):
        package = ".".join(path.relative_to(REPO).parent.parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("spatial")):
                continue
            module = node.module or ""
            names = [a.name for a in node.names if a.name.startswith("_")]
            names = [n for n in names if not n.startswith("__")]
            hidden = [p for p in module.split(".") if p.startswith("_") and not p.startswith("__")]
            outside = hidden and not module.startswith(package + ".")
            if names or (outside and module != "spatial._errors"):
                wrong.append(f"{path.relative_to(REPO)}: from {module} import {names or '…'}")
    assert not wrong, "\n".join(wrong)


def test_no_two_modules_import_each_other():
    """No import cycle among the package's modules, counting imports inside functions
    (the database's connect ↔ styles was one)."""
    import networkx as nx

    modules = {
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (REPO / "spatial").rglob("*.py")
    }
    graph = nx.DiGraph()
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("spatial"):
                named = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in [node.module, *named] if t in modules]
                graph.add_edges_from((module, t) for t in targets if t != module)
    cycles = list(nx.simple_cycles(graph))
    assert len(graph) > 100 and not cycles, cycles


#: Modules mypy checks without --strict's rules (pyproject.toml); this number only falls.
NOT_YET_STRICT = 36


def test_the_modules_not_yet_strict_only_get_fewer():
    """``mypy --strict`` on the package, with a list of modules not yet clean: a new
    module is strict from its first line, and the list may not grow."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    (relaxed,) = config["overrides"]
    modules = relaxed["module"]
    assert len(modules) <= NOT_YET_STRICT, "a module joined the list: type it instead"
    known = {
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in (REPO / "spatial").rglob("*.py")
    }
    assert set(modules) <= known, set(modules) - known  # renamed modules leave the list
