"""Meta-tests: every hookspec is prefixed, typed, documented and exercised by a test."""

import inspect
from pathlib import Path

import pytest

from core import hookspecs

HOOKS = [
    (name, fn)
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "fengqiao_spec")
]
TESTS = Path(__file__).parent


def test_there_are_hookspecs():
    assert len(HOOKS) >= 8


@pytest.mark.parametrize("name,fn", HOOKS, ids=[n for n, _ in HOOKS])
def test_hookspec_is_prefixed_typed_and_documented(name, fn):
    assert name.startswith("fengqiao_")
    doc = inspect.getdoc(fn) or ""
    assert len(doc.splitlines()) >= 3, f"{name} needs a contract docstring"
    assert ":return:" in doc, f"{name} must document its return value"
    sig = inspect.signature(fn)
    for param in sig.parameters.values():
        assert f":param {param.name}:" in doc, f"{name} must document {param.name}"
        assert param.annotation is not inspect.Parameter.empty, f"{name}: {param.name} is untyped"
    assert sig.return_annotation is not inspect.Signature.empty


@pytest.mark.parametrize("name", [n for n, _ in HOOKS])
def test_hookspec_is_exercised_by_a_test(name):
    sources = "".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py") if p.name != Path(__file__).name)
    assert f"def {name}(" in sources, f"no test implements {name}"
