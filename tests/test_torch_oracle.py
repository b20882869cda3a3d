"""PyTorch as an independent oracle: the full-batch objective and its gradient from
_core.loss_and_gradient agree with torch autograd on the same weights (skipped when torch
is not installed; CI installs the CPU build)."""

import itertools

import numpy as np
import pytest

import _reference as ref
from nnfast import _core

torch = pytest.importorskip("torch")

F = torch.nn.functional
# Each of nnfast's activations as PyTorch computes it (its default parameters).
ACTIVATIONS = {"identity": lambda z: z, "logistic": torch.sigmoid, "tanh": torch.tanh,
               "relu": torch.relu, "leaky_relu": F.leaky_relu, "elu": F.elu, "gelu": F.gelu,
               "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"), "silu": F.silu}


def torch_objective(Ws, bs, activations, loss, X, Y, sw, alpha):
    """sum(sw * loss_i) / sum(sw) + 0.5 * alpha * sum ||W||^2 / sum(sw), nnfast's losses;
    activations: one name per hidden layer."""
    a = X
    for i, (W, b) in enumerate(zip(Ws, bs)):
        a = a @ W + b
        if i + 1 < len(Ws):
            a = ACTIVATIONS[activations[i]](a)
    if loss == "softmax_cross_entropy":
        per_row = -(Y * torch.log_softmax(a, dim=1)).sum(1)
    elif loss == "logistic_cross_entropy":
        per_row = torch.nn.functional.binary_cross_entropy_with_logits(a, Y, reduction="none").sum(1)
    elif loss == "squared_error":
        per_row = 0.5 * ((a - Y) ** 2).sum(1)
    else:  # poisson: half deviance with the log link, constant included
        y_log_y = torch.where(Y > 0, Y * torch.log(torch.clamp(Y, min=1e-30)), torch.zeros_like(Y))
        per_row = (y_log_y - Y * a - Y + torch.exp(a)).sum(1)
    total = sw.sum()
    return (sw * per_row).sum() / total + 0.5 * alpha * sum((W ** 2).sum() for W in Ws) / total




def test_every_activation_has_its_torch_twin():
    assert set(ACTIVATIONS) == set(ref.ACTIVATIONS)


@pytest.mark.parametrize("activations, loss", [
    *(((a, a), loss) for a, loss in itertools.product(ref.ACTIVATIONS, ref.LOSSES)),
    (("gelu", "elu"), "softmax_cross_entropy"),  # one activation per hidden layer
    (("leaky_relu", "silu"), "squared_error"),
    (("gelu_tanh", "logistic"), "poisson"),
])
def test_loss_and_gradient_match_torch_autograd(activations, loss):
    rng = np.random.default_rng(0)
    sizes, n, alpha = (7, 11, 5, 3), 40, 0.01
    Ws = [(rng.standard_normal((a, b)) * 0.4).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    bs = [(rng.standard_normal(b) * 0.1).astype(np.float32) for b in sizes[1:]]
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    Y = ref.random_targets(loss, rng, n, sizes[-1], poisson_rate=1.0)
    sw = rng.uniform(0.5, 2.0, n).astype(np.float32)

    gW = [np.empty_like(W) for W in Ws]
    gb = [np.empty_like(b) for b in bs]
    value = _core.loss_and_gradient(Ws, bs, [_core.Activation[a] for a in activations],
                                    _core.Loss[loss], X, Y, sw, alpha, gW, gb)

    tW = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in Ws]
    tb = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]
    as64 = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    expected = torch_objective(tW, tb, activations, loss, as64(X), as64(Y), as64(sw), alpha)
    expected.backward()

    np.testing.assert_allclose(value, expected.item(), rtol=2e-5)
    for ours, theirs in zip(gW + gb, tW + tb):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activations, loss", [
    *(((a, a), "softmax_cross_entropy") for a in ref.ACTIVATIONS),
    *((("tanh", "gelu"), loss) for loss in ref.LOSSES),
])
def test_float64_loss_and_gradient_match_torch_to_float64_precision(activations, loss):
    # float64 parameters: _core runs its float64 kernels, and agrees with float64 autograd
    # to about 1e-12 (float32's comparison above allows 1e-4).
    rng = np.random.default_rng(1)
    sizes, n, alpha = (7, 11, 5, 3), 40, 0.01
    Ws = [rng.standard_normal((a, b)) * 0.4 for a, b in zip(sizes, sizes[1:])]
    bs = [rng.standard_normal(b) * 0.1 for b in sizes[1:]]
    X = rng.standard_normal((n, sizes[0]))
    Y = ref.random_targets(loss, rng, n, sizes[-1], poisson_rate=1.0).astype(np.float64)
    sw = rng.uniform(0.5, 2.0, n)
    gW = [np.empty_like(W) for W in Ws]
    gb = [np.empty_like(b) for b in bs]
    value = _core.loss_and_gradient(Ws, bs, [_core.Activation[a] for a in activations],
                                    _core.Loss[loss], X, Y, sw, alpha, gW, gb)
    tW = [torch.tensor(W, requires_grad=True) for W in Ws]
    tb = [torch.tensor(b, requires_grad=True) for b in bs]
    expected = torch_objective(tW, tb, activations, loss, torch.tensor(X), torch.tensor(Y),
                               torch.tensor(sw), alpha)
    expected.backward()
    np.testing.assert_allclose(value, expected.item(), rtol=1e-12)
    for ours, theirs in zip(gW + gb, tW + tb):
        assert ours.dtype == np.float64
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)
