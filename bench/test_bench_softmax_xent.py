"""Softmax + cross-entropy, loss and gradient w.r.t. the logits in one call, 10 classes:
nnfast.ops.softmax_cross_entropy vs NumPy vs PyTorch (log_softmax, closed-form grad)."""

import numpy as np
import pytest

from common import grouped_params, need_torch, one_hot, random_arrays, torch

SIZES = {"softmax_xent 256x10": 256, "softmax_xent 4096x10": 4096}


def xent_case(impl, n, k=10):
    (z,) = random_arrays((n, k))
    labels = np.random.default_rng(1).integers(0, k, n)
    y = one_hot(labels, k)
    if impl == "nnfast":
        from nnfast import ops

        return lambda: ops.softmax_cross_entropy(z, y)
    if impl == "NumPy":
        def numpy_xent():
            p = z - z.max(axis=1, keepdims=True)
            np.exp(p, out=p)
            p /= p.sum(axis=1, keepdims=True)
            loss = -np.log(np.maximum(p[np.arange(n), labels], 1e-7)).mean()
            p -= y
            p /= np.float32(n)
            return loss, p

        return numpy_xent
    tz, ty, tlabels = torch.from_numpy(z), torch.from_numpy(y), torch.from_numpy(labels)

    def torch_xent():
        logp = torch.log_softmax(tz, dim=1)
        loss = -logp.gather(1, tlabels[:, None]).mean()
        return loss, (logp.exp_() - ty) / n

    return torch_xent


@pytest.mark.parametrize("n, impl", grouped_params(SIZES, ("nnfast", "NumPy", "PyTorch")))
def test_softmax_xent(benchmark, n, impl):
    need_torch(impl)
    benchmark(xent_case(impl, n))
