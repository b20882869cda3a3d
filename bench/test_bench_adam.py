"""One Adam update of W1's first weight matrix (784 x 128) in place: nnfast.ops.adam_update
(one pass) vs NumPy expressions vs torch.optim.Adam.step (PyTorch's default foreach)."""

import numpy as np
import pytest

from common import grouped_params, need_torch, random_arrays, torch
from peers import numpy_adam

SHAPES = {"adam 784x128": (784, 128)}


def adam_case(impl, shape):
    param, grad = random_arrays(shape, shape)
    m, v = np.zeros_like(param), np.zeros_like(param)
    if impl == "nnfast":
        from nnfast import ops

        return lambda: ops.adam_update(param, grad, m, v, step=10, learning_rate=1e-3)
    if impl == "NumPy":
        return lambda: numpy_adam([param], [grad], [m], [v], step=10)
    tparam = torch.nn.Parameter(torch.from_numpy(param))
    tparam.grad = torch.from_numpy(grad)
    return torch.optim.Adam([tparam], lr=1e-3).step


@pytest.mark.parametrize("shape, impl", grouped_params(SHAPES, ("nnfast", "NumPy", "PyTorch")))
def test_adam(benchmark, shape, impl):
    need_torch(impl)
    benchmark(adam_case(impl, shape))
