"""batch_norm=True (issue 11): batch normalization of every hidden layer's dense product,
before its activation (Ioffe & Szegedy, 2015; torch.nn.BatchNorm1d).

The oracles: a float64 NumPy step (_reference.batch_norm_network_step), itself checked
against finite differences; PyTorch's Linear -> BatchNorm1d -> activation where installed;
the eval-mode network folded from the running statistics. Then what the estimators
promise: thread invariance, predict from the running statistics, the model file, and clear
errors."""

import numpy as np
import pytest
import scipy.sparse as sp

import _reference as ref
import nnfast
from nnfast import _core

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def network(rng, sizes):
    Ws = [(rng.standard_normal((a, b)) * 0.3).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    bs = [(rng.standard_normal(b) * 0.1).astype(np.float32) for b in sizes[1:]]
    scales = [(1 + 0.2 * rng.standard_normal(b)).astype(np.float32) for b in sizes[1:-1]]
    shifts = [(0.1 * rng.standard_normal(b)).astype(np.float32) for b in sizes[1:-1]]
    return Ws, bs, scales, shifts


def core_sgd_epoch(Ws, bs, scales, shifts, activations, X, Y, order, batch, lr, alpha,
                   momentum=0.1, epsilon=1e-5, dropout=None):
    """_core.train_epoch with plain SGD on copies; returns the new arrays and the running
    statistics (starting from zeros and ones)."""
    L = len(Ws)
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    scales, shifts = [s.copy() for s in scales], [s.copy() for s in shifts]
    means = [np.zeros_like(s) for s in scales]
    variances = [np.ones_like(s) for s in scales]
    params = Ws + bs + scales + shifts
    _core.train_epoch(Ws, bs, [_core.Activation[a] for a in activations],
                      _core.Loss.softmax_cross_entropy, X, Y, None, order, batch, alpha,
                      _core.OptimizerConfig("sgd", lr, momentum=0.0),
                      [np.zeros_like(p) for p in params], [], np.zeros(1, np.int64),
                      batch_norm_scales=scales, batch_norm_shifts=shifts,
                      running_means=means, running_vars=variances,
                      batch_norm_momentum=momentum, batch_norm_epsilon=epsilon,
                      **(dict(dropout=dropout[0], dropout_seed=dropout[1], epoch=dropout[2])
                         if dropout else {}))
    assert len(params) == 2 * L + 2 * (L - 1)
    return Ws, bs, scales, shifts, means, variances


def oracle_sgd_epoch(Ws, bs, scales, shifts, activations, X, Y, order, batch, lr, alpha,
                     momentum=0.1, epsilon=1e-5, dropout=None):
    params = [[p.astype(np.float64) for p in group] for group in (Ws, bs, scales, shifts)]
    means = [np.zeros(len(s)) for s in scales]
    variances = [np.ones(len(s)) for s in scales]
    for first in range(0, len(order), batch):
        rows = order[first:first + batch]
        keep = None
        if dropout:
            rates, seed, epoch = dropout
            keep = [ref.dropout_keep(r, seed, epoch, layer, rows, len(scales[layer]))
                    for layer, r in enumerate(rates)]
        _, grads, stats = ref.batch_norm_network_step(*params, activations, X[rows], Y[rows],
                                                       keep=keep, epsilon=epsilon, alpha=alpha)
        for group, group_grads in zip(params, grads):
            for j, g in enumerate(group_grads):
                group[j] = group[j] - lr * g
        m = len(rows)
        for layer, (mean, var) in enumerate(stats):
            if m > 1:
                means[layer] = (1 - momentum) * means[layer] + momentum * mean
                variances[layer] = (1 - momentum) * variances[layer] + momentum * var * m / (m - 1)
    return (*params, means, variances)


def test_the_oracle_gradient_is_the_loss_gradient():
    """The float64 oracle's backward against central differences of its own forward."""
    rng = np.random.default_rng(1)
    Ws, bs, scales, shifts = [[p.astype(np.float64) for p in g]
                              for g in network(rng, (5, 7, 6, 3))]
    X = rng.standard_normal((9, 5))
    Y = np.eye(3)[rng.integers(0, 3, 9)]
    activations = ("tanh", "gelu")
    _, grads, _ = ref.batch_norm_network_step(Ws, bs, scales, shifts, activations, X, Y,
                                              alpha=0.1)
    params = Ws + bs + scales + shifts

    def loss():
        return ref.batch_norm_network_step(Ws, bs, scales, shifts, activations, X, Y,
                                           alpha=0.1)[0]

    numeric = ref.finite_difference_gradient(loss, params)
    for analytic, fd in zip([g for group in grads for g in group], numeric):
        np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-8)


# Small batches (the last of 37 rows has 5); and batches of 256 rows on a network wide
# enough that two threads split the rows into tiles and the statistics into column tiles.
SHAPES = {"small": ((12, 20, 16, 3), 37, 16), "tiled": ((64, 96, 80, 3), 300, 256)}


@pytest.mark.parametrize("activations", [("tanh", "relu"), ("gelu", "logistic")])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_an_epoch_equals_its_float64_oracle(activations, sparse, shape):
    rng = np.random.default_rng(0)
    sizes, n, batch = SHAPES[shape]
    nnfast.set_num_threads(2)
    Ws, bs, scales, shifts = network(rng, sizes)
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    X[X < 0.3] = 0.0
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    order = rng.permutation(n).astype(np.int64)
    got = core_sgd_epoch(Ws, bs, scales, shifts, activations,
                         sp.csr_matrix(X) if sparse else X, Y, order, batch, 0.3, 0.01)
    expected = oracle_sgd_epoch(Ws, bs, scales, shifts, activations, X, Y, order, batch, 0.3,
                                0.01)
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


def test_batch_norm_with_dropout_equals_the_oracle():
    rng = np.random.default_rng(3)
    sizes, n, batch = (10, 24, 16, 4), 50, 20
    Ws, bs, scales, shifts = network(rng, sizes)
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    order = rng.permutation(n).astype(np.int64)
    dropout = ([0.25, 0.4], 12345, 7)
    for activations in [("relu", "silu"), ("elu", "tanh")]:
        got = core_sgd_epoch(Ws, bs, scales, shifts, activations, X, Y, order, batch, 0.2, 0.0,
                             dropout=dropout)
        expected = oracle_sgd_epoch(Ws, bs, scales, shifts, activations, X, Y, order, batch,
                                    0.2, 0.0, dropout=dropout)
        for ours, theirs in zip(got, expected):
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
