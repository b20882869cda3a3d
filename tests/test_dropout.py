"""dropout= (issue 11): inverted dropout on the hidden layers in training only.

The oracle: a float64 NumPy training step that drops the same units, its mask replayed
from the documented counter-based draws (_reference.dropout_keep, SplitMix64 keyed by
seed, epoch, layer, row of X and unit). Then what the draws promise: the same bits for any
thread count and for dense or sparse X; nothing dropped at predict; no draw at rate 0."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

import _reference as ref
import nnfast
from nnfast import MLPClassifier, MLPRegressor, _core

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def network(rng, sizes):
    Ws = [(rng.standard_normal((a, b)) * 0.3).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    bs = [(rng.standard_normal(b) * 0.1).astype(np.float32) for b in sizes[1:]]
    return Ws, bs


def oracle_sgd_step(Ws, bs, activations, X, Y, rows, rates, seed, epoch, lr, alpha):
    """One plain SGD step (softmax cross-entropy) on X[rows] in float64, dropping hidden
    unit j of row i where _reference.dropout_keep says so. Returns the new (Ws, bs)."""
    a = [np.asarray(X[rows], dtype=np.float64)]
    z, keep = [], []
    for layer, (W, b) in enumerate(zip(Ws[:-1], bs[:-1])):
        z.append(a[-1] @ W + b)
        keep.append(ref.dropout_keep(rates[layer], seed, epoch, layer, rows, W.shape[1]))
        a.append(ref.activation(z[-1], activations[layer]) * keep[-1])
    out = a[-1] @ Ws[-1] + bs[-1]
    p = np.exp(out - out.max(axis=1, keepdims=True))
    delta = p / p.sum(axis=1, keepdims=True) - Y[rows]
    n = len(rows)
    new_W, new_b = list(Ws), list(bs)
    for layer in reversed(range(len(Ws))):
        grad_W, grad_b = a[layer].T @ delta, delta.sum(axis=0)
        if layer > 0:
            delta = (delta @ Ws[layer].T) * keep[layer - 1] * ref.activation_derivative(
                z[layer - 1], activations[layer - 1])
        new_W[layer] = Ws[layer] - lr * (grad_W + alpha * Ws[layer]) / n
        new_b[layer] = bs[layer] - lr * grad_b / n
    return new_W, new_b


# Small batches; and batches of 256 rows on a network wide enough (19 MFLOP a step) that
# two threads split the rows into tiles, so tiles that start past row 0 are covered.
SHAPES = {"small": ((12, 20, 16, 3), 37, 16), "tiled": ((64, 96, 64, 3), 300, 256)}


@pytest.mark.parametrize("activations", [("tanh", "relu"), ("gelu", "logistic")])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_an_epoch_equals_its_float64_oracle(activations, sparse, shape):
    rng = np.random.default_rng(0)
    sizes, n, batch = SHAPES[shape]
    nnfast.set_num_threads(2)
    Ws, bs = network(rng, sizes)
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    X[X < 0.3] = 0.0  # sparse-ish, so CSR has something to skip
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], n)]
    order = rng.permutation(n).astype(np.int64)
    rates, seed, epoch, lr, alpha = [0.3, 0.5], 987654321, 11, 0.5, 0.01

    params = [W.copy() for W in Ws] + [b.copy() for b in bs]
    _core.train_epoch(params[:3], params[3:], [_core.Activation[a] for a in activations],
                      _core.Loss.softmax_cross_entropy, sp.csr_matrix(X) if sparse else X, Y,
                      None, order, batch, alpha, _core.OptimizerConfig("sgd", lr, momentum=0.0),
                      [np.zeros_like(p) for p in params], [], np.zeros(1, np.int64),
                      dropout=rates, dropout_seed=seed, epoch=epoch)

    W64, b64 = [W.astype(np.float64) for W in Ws], [b.astype(np.float64) for b in bs]
    for first in range(0, n, batch):
        W64, b64 = oracle_sgd_step(W64, b64, activations, X, Y.astype(np.float64),
                                   order[first:first + batch], rates, seed, epoch, lr, alpha)
    for ours, expected in zip(params, W64 + b64):
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_the_drawn_fraction_is_the_rate():
    keep = ref.dropout_keep(0.3, 5, 2, 1, np.arange(400), 500)
    assert abs((keep == 0).mean() - 0.3) < 0.005
    assert set(np.unique(keep)) == {np.float32(0), np.float32(1) / np.float32(0.7)}


def test_threads_and_sparse_input_do_not_change_results(digits):
    X, y = digits
    fits = []
    for threads, data in ((1, X), (2, X), (2, sp.csr_matrix(X))):
        nnfast.set_num_threads(threads)
        clf = MLPClassifier((64, 32), dropout=(0.4, 0.2), activation="gelu", max_iter=3,
                            random_state=0)
        fits.append(clf.fit(data, y))
    for other in fits[1:]:
        for a, b in zip(fits[0].coefs_ + fits[0].intercepts_, other.coefs_ + other.intercepts_):
            assert_array_equal(a, b)


def test_rate_zero_is_no_dropout_and_draws_nothing(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(8, 6), max_iter=5, random_state=0)
    plain = MLPClassifier(**kw).fit(X, y)
    for dropout in (0.0, (0.0, 0.0)):
        zero = MLPClassifier(dropout=dropout, **kw).fit(X, y)
        for a, b in zip(plain.coefs_ + plain.intercepts_, zero.coefs_ + zero.intercepts_):
            assert_array_equal(a, b)


def test_predict_drops_nothing_and_training_does(digits):
    X, y = digits
    clf = MLPClassifier((32,), dropout=0.5, max_iter=5, random_state=0).fit(X, y)
    _, z = ref.forward(clf.coefs_, clf.intercepts_, ["relu"], X)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), p / p.sum(axis=1, keepdims=True),
                               rtol=1e-4, atol=1e-6)
    assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    other = MLPClassifier((32,), dropout=0.5, max_iter=5, random_state=1).fit(X, y)
    plain = MLPClassifier((32,), max_iter=5, random_state=0).fit(X, y)
    assert not np.array_equal(clf.coefs_[0], plain.coefs_[0])  # training did drop
    assert not np.array_equal(clf.coefs_[0], other.coefs_[0])


def test_warm_start_and_partial_fit_draw_new_masks_each_epoch(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(8,), dropout=0.5, random_state=0)
    two = MLPClassifier(max_iter=2, **kw).fit(X, y)
    warm = MLPClassifier(max_iter=1, warm_start=True, **kw)
    warm.fit(X, y)
    warm.fit(X, y)
    # The same draws as one fit of two epochs but for the seed, drawn per fit call, and
    # the shuffles: what must hold is that both ran and differ from a single epoch.
    one = MLPClassifier(max_iter=1, **kw).fit(X, y)
    assert warm.t_ == two.t_ == 2 * len(y)
    assert not np.array_equal(warm.coefs_[0], one.coefs_[0])
    clf = MLPClassifier(**kw)
    for _ in range(2):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.t_ == 2 * len(y)


@pytest.mark.parametrize("dropout, error, message", [
    (1.0, InvalidParameterError, "'dropout' parameter"),
    (-0.1, InvalidParameterError, "'dropout' parameter"),
    ("half", InvalidParameterError, "'dropout' parameter"),
    ((0.5,), ValueError, "dropout has 1 rates, but the network has 2 hidden layers"),
    ((0.5, 1.5), ValueError, r"dropout rates must be numbers in \[0, 1\) \(as float32\), got 1.5"),
    ((0.5, "x"), ValueError, "dropout rates must be numbers"),
    (1 - 1e-9, ValueError, r"in \[0, 1\) \(as float32\)"),
])
def test_bad_dropout_is_named_and_fits_nothing(iris, dropout, error, message):
    clf = MLPClassifier((4, 3), dropout=dropout, max_iter=2)
    with pytest.raises(error, match=message):
        clf.fit(*iris)
    assert not hasattr(clf, "coefs_")


def test_dropout_without_a_hidden_layer_is_refused(iris):
    with pytest.raises(ValueError, match="no hidden layer to drop units of"):
        MLPClassifier((), dropout=0.5).fit(*iris)


def test_lbfgs_refuses_dropout_and_core_checks_rates(iris):
    with pytest.raises(ValueError, match="dropout needs a stochastic solver"):
        MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", dropout=0.1).fit(*iris)
    rng = np.random.default_rng(0)
    Ws, bs = network(rng, (4, 5, 2))
    X = rng.standard_normal((6, 4)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 0, 1]]
    for rates, message in (([0.5, 0.5], "dropout has 2 rates"), ([1.0], r"dropout\[0\] must be")):
        with pytest.raises(ValueError, match=message):
            _core.train_epoch(Ws, bs, [_core.Activation.relu], _core.Loss.softmax_cross_entropy,
                              X, Y, None, np.arange(6, dtype=np.int64), 6, 0.0,
                              _core.OptimizerConfig("sgd", 0.1), [np.zeros_like(p) for p in Ws + bs],
                              [], np.zeros(1, np.int64), dropout=rates)


def test_dropout_survives_the_model_file(tmp_path, iris):
    X, y = iris
    clf = MLPClassifier((6, 4), dropout=(0.2, 0.1), max_iter=3, random_state=0).fit(X, y)
    nnfast.save(clf, tmp_path / "m.safetensors")
    loaded = nnfast.load(tmp_path / "m.safetensors")
    assert loaded.dropout == (0.2, 0.1)
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
