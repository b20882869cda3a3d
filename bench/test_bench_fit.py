"""One training epoch of W1's network (784-128-64-10, softmax-CE, Adam) on 10,000 rows:
nnfast's estimator, nnfast's _core.train_epoch alone, the NumPy step, PyTorch's eager
loop and scikit-learn (the same cases as bench/compare.py's W1, smaller)."""

import functools

import pytest

from common import W1_LAYERS, classification_data, grouped_params, need_torch
from peers import epoch_cases

ROWS = 10_000
BATCHES = {"fit epoch b=64": 64, "fit epoch b=256": 256}


@functools.lru_cache(maxsize=None)
def cases(batch_size):
    X, y = classification_data(ROWS)
    return epoch_cases("classification", W1_LAYERS, X, y, batch_size)


@pytest.mark.parametrize("batch_size, impl",
                         grouped_params(BATCHES, ("nnfast", "_core", "NumPy", "PyTorch",
                                                  "sklearn")))
def test_fit_epoch(benchmark, batch_size, impl):
    need_torch(impl)
    benchmark.pedantic(cases(batch_size)[impl], rounds=3, warmup_rounds=1)
