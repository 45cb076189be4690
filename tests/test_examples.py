"""The ``Examples`` sections of the library face run as written, on the demo city."""

from __future__ import annotations

import doctest
import os

import pytest
from conftest import REPO

import spatial.api


@pytest.mark.parametrize("name", ["gaps", "bundles", "plan", "prepare"])
def test_the_examples_of_the_face_run(name, monkeypatch):
    monkeypatch.chdir(REPO)  # the examples read data/demo/
    func = getattr(spatial.api, name)
    assert ">>>" in (func.__doc__ or ""), f"spatial.{name} has no Examples section"
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(func, f"spatial.{name}", globs={}):
        result = runner.run(test, out=lambda text: None)
        assert result.failed == 0, f"spatial.{name}: {result.failed} example(s) failed"
    assert os.getcwd() == str(REPO)
