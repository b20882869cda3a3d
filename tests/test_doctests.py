"""The docstrings' Examples run as doctests, and every public name has one.

Every public name (``nnfast.__all__`` and ``nnfast.ops.__all__``, constants aside) must
have an Examples section with at least one example, and every example in every module
of the package must pass, without a warning a user would see (as the README's).
"""

import doctest
import importlib
import inspect
import io
import pkgutil
import warnings

import pytest

import nnfast
from nnfast import ops

# The optional packages a module's examples need (the extras io and onnx): skipped
# without them, as those functions raise ImportError there.
OPTIONAL = {
    "nnfast._model_file": ("safetensors",),
    "nnfast._onnx": ("onnx", "skl2onnx"),
}

MODULES = ["nnfast"] + sorted(
    info.name for info in pkgutil.walk_packages(nnfast.__path__, prefix="nnfast."))


def _public_names():
    """{qualified name: object} of every public function, class and module."""
    names = {}
    for module, exported in ((nnfast, nnfast.__all__), (ops, ops.__all__)):
        for name in exported:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.ismodule(obj) or callable(obj):
                names[f"{module.__name__}.{name}"] = obj
    return names


PUBLIC = _public_names()


def _examples(obj):
    """The doctest examples of ``obj``'s own docstring (not its members')."""
    tests = doctest.DocTestFinder(recurse=False).find(obj, getattr(obj, "__name__", "?"))
    return [example for test in tests for example in test.examples]


def test_the_public_names_are_found():
    assert {"nnfast.MLPClassifier", "nnfast.MLPRegressor", "nnfast.save", "nnfast.load",
            "nnfast.to_onnx", "nnfast.set_num_threads", "nnfast.get_num_threads",
            "nnfast.ops", "nnfast.ops.gemm"} <= set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_has_examples(name):
    obj = PUBLIC[name]
    assert "\nExamples\n--------\n" in (inspect.getdoc(obj) or ""), (
        f"{name}'s docstring has no numpydoc Examples section")
    assert _examples(obj), f"{name}'s Examples section has no doctest example"


def test_examples_outnumber_public_names():
    """Not vacuous: the modules' doctests hold at least one example per public name."""
    finder = doctest.DocTestFinder()
    found = sum(len(test.examples)
                for module in MODULES
                for test in finder.find(importlib.import_module(module)))
    assert found >= len(PUBLIC)


@pytest.mark.parametrize("module_name", MODULES)
def test_module_examples_pass(module_name):
    for package in OPTIONAL.get(module_name, ()):
        pytest.importorskip(package)
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder().find(module)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    with warnings.catch_warnings():
        # A ConvergenceWarning or RuntimeWarning in an example would show in a user's
        # copy; deprecations inside other packages are hidden from users by default.
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        for test in tests:
            runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()
