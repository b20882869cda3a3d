"""Dense layer, forward (x @ w + b, ReLU) and backward (dW, db, dX), W1's shapes at
batch 256: nnfast.ops vs NumPy vs PyTorch, outputs preallocated where the API allows."""

import numpy as np
import pytest

from common import grouped_params, need_torch, random_arrays, torch

IMPLS = ("nnfast", "NumPy", "PyTorch")
FORWARD = {"dense forward 256x784->128 relu": (256, 784, 128)}
BACKWARD = {"dense backward 256x128->64": (256, 128, 64)}


def forward_case(impl, n, fan_in, fan_out):
    x, w, b, out = random_arrays((n, fan_in), (fan_in, fan_out), (fan_out,), (n, fan_out))
    if impl == "nnfast":
        from nnfast import ops

        return lambda: ops.dense_forward(x, w, b, "relu", out=out)
    if impl == "NumPy":
        def numpy_forward():
            np.matmul(x, w, out=out)
            np.add(out, b, out=out)
            np.maximum(out, 0, out=out)

        return numpy_forward
    tx, tw, tb, tout = map(torch.from_numpy, (x, w, b, out))
    return lambda: torch.addmm(tb, tx, tw, out=tout).relu_()


def backward_case(impl, n, fan_in, fan_out):
    dz, x, w, dw, db, dx = random_arrays((n, fan_out), (n, fan_in), (fan_in, fan_out),
                                  (fan_in, fan_out), (fan_out,), (n, fan_in))
    if impl == "nnfast":
        from nnfast import ops

        return lambda: ops.dense_backward(dz, x, w)
    if impl == "NumPy":
        def numpy_backward():
            np.matmul(x.T, dz, out=dw)
            dz.sum(axis=0, out=db)
            np.matmul(dz, w.T, out=dx)

        return numpy_backward
    tdz, tx, tw, tdw, tdb, tdx = map(torch.from_numpy, (dz, x, w, dw, db, dx))

    def torch_backward():
        torch.mm(tx.T, tdz, out=tdw)
        torch.sum(tdz, 0, out=tdb)
        torch.mm(tdz, tw.T, out=tdx)

    return torch_backward


@pytest.mark.parametrize("shape, impl", grouped_params(FORWARD, IMPLS))
def test_dense_forward(benchmark, shape, impl):
    need_torch(impl)
    benchmark(forward_case(impl, *shape))


@pytest.mark.parametrize("shape, impl", grouped_params(BACKWARD, IMPLS))
def test_dense_backward(benchmark, shape, impl):
    need_torch(impl)
    benchmark(backward_case(impl, *shape))
