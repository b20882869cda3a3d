"""Shared small datasets (scaled, cached) for the estimator tests, and the thread setting
put back to the default after every test."""

import functools

import numpy as np
import pytest
from sklearn import datasets
from sklearn.preprocessing import StandardScaler

from nnfast import _core


# Every instruction set nnfast has kernels for, on some CPU: a test taking the `isa`
# fixture runs once per entry, and skips, with the reason, where this CPU or build lacks it.
KNOWN_ISAS = ("generic", "avx2", "avx512")


@pytest.fixture(params=KNOWN_ISAS)
def isa(request):
    """Makes ``request.param``'s kernel table the active one for the test."""
    available = _core.available_isas()
    if request.param not in available:
        pytest.skip(f"{request.param} kernels are not available here (this CPU and build "
                    f"run: {', '.join(available)})")
    saved = _core.isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(saved)


@pytest.fixture(autouse=True)
def default_thread_count():
    """A test may call set_num_threads: the next one starts from the default again."""
    yield
    _core.reset_num_threads()


@functools.lru_cache(maxsize=None)
def _load(name):
    if name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        return X / 16.0, y
    loader = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
    }[name]
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()  # targets of unit scale: fewer epochs needed
    return X, y


def load(name):
    """(X float64 C-contiguous, y) for a small scikit-learn dataset, copies."""
    X, y = _load(name)
    return X.copy(), y.copy()


@pytest.fixture
def iris():
    return load("iris")


@pytest.fixture
def digits():
    return load("digits")


@pytest.fixture
def diabetes():
    return load("diabetes")


@pytest.fixture
def breast_cancer():
    return load("breast_cancer")


@pytest.fixture
def rng():
    return np.random.RandomState(0)
