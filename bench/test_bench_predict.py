"""predict_proba of W1's network (the same weights in every library): a 10,000-row batch
(W3, smaller) and one row (W4). "_core" is nnfast's C++ forward pass without the
estimator's input validation."""

import functools

import pytest

from common import W1_LAYERS, classification_data, grouped_params, need_torch
from peers import predict_cases, same_network_models

ROWS = {"predict_proba 10000 rows": 10_000, "predict_proba 1 row": 1}


@functools.lru_cache(maxsize=None)
def models():
    return same_network_models(W1_LAYERS, *classification_data(2_000))


@pytest.mark.parametrize("rows, impl",
                         grouped_params(ROWS, ("nnfast", "_core", "PyTorch", "sklearn")))
def test_predict_proba(benchmark, rows, impl):
    need_torch(impl)
    X = classification_data(rows, seed=1)[0]
    benchmark(predict_cases(models(), X)[impl])
