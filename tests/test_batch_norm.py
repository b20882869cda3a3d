"""batch_norm=True (issue 11): batch normalization of every hidden layer's dense product,
before its activation (Ioffe & Szegedy, 2015; torch.nn.BatchNorm1d).

The oracles: a float64 NumPy step (_reference.batch_norm_network_step), itself checked
against finite differences; PyTorch's Linear -> BatchNorm1d -> activation where installed;
the eval-mode network folded from the running statistics. Then what the estimators
promise: thread invariance, predict from the running statistics, the model file, and clear
errors."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

import _reference as ref
import nnfast
from nnfast import MLPClassifier, MLPRegressor, _core

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
        if len(rows) < 2:
            continue  # a one-row batch updates nothing (train_epoch's rule)
        _, grads, stats = ref.batch_norm_network_step(*params, activations, X[rows], Y[rows],
                                                       keep=keep, epsilon=epsilon, alpha=alpha)
        for group, group_grads in zip(params, grads):
            for j, g in enumerate(group_grads):
                group[j] = group[j] - lr * g
        m = len(rows)
        for layer, (mean, var) in enumerate(stats):
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


def test_a_one_row_batch_updates_nothing():
    """33 rows in batches of 16: the last batch has one row (PyTorch refuses it); it
    changes no parameter and no statistic."""
    rng = np.random.default_rng(5)
    sizes = (6, 8, 3)
    Ws, bs, scales, shifts = network(rng, sizes)
    X = rng.standard_normal((33, 6)).astype(np.float32)
    Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 33)]
    order = np.arange(33, dtype=np.int64)
    got = core_sgd_epoch(Ws, bs, scales, shifts, ("tanh",), X, Y, order, 16, 0.1, 0.0)
    expected = oracle_sgd_epoch(Ws, bs, scales, shifts, ("tanh",), X, Y, order, 16, 0.1, 0.0)
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
    two_batches = core_sgd_epoch(Ws, bs, scales, shifts, ("tanh",), X, Y, order[:32], 16, 0.1,
                                 0.0)
    for ours, theirs in zip(got, two_batches):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)


def test_one_row_batches_are_refused_by_the_estimators(digits):
    X, y = digits
    with pytest.raises(ValueError, match="batches of 2 rows or more.*batch_size=1"):
        MLPClassifier((8,), batch_norm=True, batch_size=1).fit(X, y)
    clf = MLPClassifier((8,), batch_norm=True, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="with 1 training row"):
        clf.partial_fit(X[:1], y[:1])


def test_core_checks_the_batch_norm_arrays():
    rng = np.random.default_rng(0)
    Ws, bs, scales, shifts = network(rng, (4, 5, 2))
    X = rng.standard_normal((8, 4)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 8)]
    params = Ws + bs + scales + shifts
    base = dict(batch_norm_scales=scales, batch_norm_shifts=shifts,
                running_means=[np.zeros(5, np.float32)], running_vars=[np.ones(5, np.float32)])

    def epoch(state=params, **changes):
        _core.train_epoch(Ws, bs, [_core.Activation.relu], _core.Loss.softmax_cross_entropy,
                          X, Y, None, np.arange(8), 4, 0.0, _core.OptimizerConfig("sgd", 0.1),
                          [np.zeros_like(p) for p in state], [], np.zeros(1, np.int64),
                          **{**base, **changes})

    with pytest.raises(ValueError, match="running_vars.*one array per hidden layer"):
        epoch(running_vars=[])
    with pytest.raises(ValueError, match="batch_norm_shifts"):
        epoch(batch_norm_shifts=[np.zeros(4, np.float32)])
    with pytest.raises(TypeError, match="running_means"):
        epoch(running_means=[np.zeros(5)])
    with pytest.raises(ValueError, match="momentum"):
        epoch(batch_norm_momentum=1.5)
    with pytest.raises(ValueError, match="epsilon"):
        epoch(batch_norm_epsilon=0.0)
    with pytest.raises(ValueError, match="state1 needs 6 arrays"):
        epoch(state=Ws + bs)
    epoch()  # and the good call trains


def test_one_step_matches_torch_batchnorm1d():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    sizes, m, lr = (7, 12, 9, 4), 20, 0.05
    Ws, bs, scales, shifts = network(rng, sizes)
    X = rng.standard_normal((m, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], m)
    Y = np.eye(sizes[-1], dtype=np.float32)[labels]
    got = core_sgd_epoch(Ws, bs, scales, shifts, ("relu", "tanh"), X, Y,
                         np.arange(m, dtype=np.int64), m, lr, 0.0, momentum=0.3, epsilon=1e-3)

    torch.manual_seed(0)
    layers = []
    for i in range(len(Ws)):
        linear = torch.nn.Linear(*Ws[i].shape).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(Ws[i].T.astype(np.float64)))
            linear.bias.copy_(torch.from_numpy(bs[i].astype(np.float64)))
        layers.append(linear)
        if i < len(Ws) - 1:
            norm = torch.nn.BatchNorm1d(Ws[i].shape[1], eps=1e-3, momentum=0.3).double()
            with torch.no_grad():
                norm.weight.copy_(torch.from_numpy(scales[i].astype(np.float64)))
                norm.bias.copy_(torch.from_numpy(shifts[i].astype(np.float64)))
            layers += [norm, torch.nn.ReLU() if i == 0 else torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers).train()
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(X.astype(np.float64))),
                                             torch.from_numpy(labels))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    linears = [l for l in layers if isinstance(l, torch.nn.Linear)]
    norms = [l for l in layers if isinstance(l, torch.nn.BatchNorm1d)]
    expected = ([l.weight.detach().numpy().T for l in linears],
                [l.bias.detach().numpy() for l in linears],
                [n.weight.detach().numpy() for n in norms],
                [n.bias.detach().numpy() for n in norms],
                [n.running_mean.numpy() for n in norms], [n.running_var.numpy() for n in norms])
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# --- the estimators -------------------------------------------------------------------------
def test_predict_uses_the_running_statistics(digits):
    X, y = digits
    clf = MLPClassifier((32, 16), batch_norm=True, activation=("relu", "gelu"), max_iter=5,
                        random_state=0).fit(X, y)
    a = X.astype(np.float64)
    for i, name in enumerate(("relu", "gelu")):
        z = a @ clf.coefs_[i] + clf.intercepts_[i]
        zhat = (z - clf.running_means_[i]) / np.sqrt(clf.running_vars_[i].astype(np.float64)
                                                     + 1e-5)
        a = ref.activation(clf.batch_norm_scales_[i] * zhat + clf.batch_norm_shifts_[i], name)
    expected = ref.softmax(a @ clf.coefs_[2] + clf.intercepts_[2])
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-4, atol=1e-6)
    # the statistics moved from their start towards the data's, and the scales trained
    assert not np.allclose(clf.running_vars_[0], 1.0)
    assert not np.allclose(clf.batch_norm_scales_[1], 1.0)


def test_threads_and_sparse_input_do_not_change_results(digits):
    X, y = digits
    fits = []
    for threads, data in ((1, X), (2, X), (2, sp.csr_matrix(X))):
        nnfast.set_num_threads(threads)
        reg = MLPClassifier((128, 64), batch_norm=True, dropout=0.2, activation="silu",
                            max_iter=3, random_state=0)
        fits.append(reg.fit(data, y))
    for other in fits[1:]:
        for a, b in zip(fits[0]._trained_params() + fits[0].running_vars_,
                        other._trained_params() + other.running_vars_):
            np.testing.assert_array_equal(a, b)


def test_batch_norm_trains_a_deep_sigmoid_network(digits):
    """Four logistic hidden layers under SGD learn little in 20 epochs; normalized, they
    do (the paper's motivation)."""
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0)
    kw = dict(hidden_layer_sizes=(64, 64, 64, 64), activation="logistic", solver="sgd",
              learning_rate_init=0.05, max_iter=20, random_state=0)
    plain = MLPClassifier(**kw).fit(X_train, y_train).score(X_test, y_test)
    normalized = MLPClassifier(batch_norm=True, **kw).fit(X_train, y_train).score(X_test, y_test)
    assert normalized > 0.9 and normalized > plain + 0.2, (plain, normalized)


def test_regressor_and_adam(diabetes):
    X, y = diabetes
    reg = MLPRegressor(hidden_layer_sizes=(32,), batch_norm=True, max_iter=200, learning_rate_init=0.01,
                       random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.5
    assert len(reg._optimizer.state2) == 2 + 2 + 2  # coefs, intercepts, scale, shift


def test_early_stopping_restores_the_best_epochs_statistics(digits):
    X, y = digits
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=1)
    clf = MLPClassifier((32,), batch_norm=True, early_stopping=True, n_iter_no_change=3,
                        max_iter=60, learning_rate_init=0.05, random_state=0)
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert clf.n_iter_ > int(np.argmax(clf.validation_scores_)) + 1  # it went past the best
    assert clf.score(X_val, y_val) == clf.best_validation_score_


def test_warm_start_and_partial_fit_continue_the_statistics(iris):
    X, y = iris
    clf = MLPClassifier((8,), batch_norm=True, max_iter=3, random_state=0).fit(X, y)
    before = clf.running_means_[0].copy()
    clf.partial_fit(X, y)
    assert not np.array_equal(before, clf.running_means_[0])
    clf.set_params(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="trained with batch norm"):
        clf.set_params(batch_norm=False).fit(X, y)
    assert clf.running_means_  # unchanged by the refused call
    plain = MLPClassifier((8,), max_iter=3, random_state=0, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="trained without batch norm"):
        plain.set_params(batch_norm=True).fit(X, y)
    refit = plain.set_params(warm_start=False).fit(X, y)
    assert len(refit.running_vars_) == 1


@pytest.mark.parametrize("params, message", [
    (dict(solver="lbfgs"), "stochastic solver"),
    (dict(hidden_layer_sizes=()), "no hidden layer"),
])
def test_refused_settings_are_named(iris, params, message):
    with pytest.raises(ValueError, match=message):
        MLPClassifier(batch_norm=True, **params).fit(*iris)


@pytest.mark.parametrize("name, value", [("batch_norm_momentum", 1.5),
                                         ("batch_norm_momentum", -0.1),
                                         ("batch_norm_epsilon", 0.0), ("batch_norm", "yes")])
def test_bad_hyperparameters_are_named(iris, name, value):
    with pytest.raises(InvalidParameterError, match=name):
        MLPClassifier(**{"batch_norm": True, name: value}).fit(*iris)


def test_without_batch_norm_there_are_no_such_attributes(iris):
    clf = MLPClassifier((4,), max_iter=2).fit(*iris)
    assert not any(hasattr(clf, name) for name in
                   ("batch_norm_scales_", "batch_norm_shifts_", "running_means_", "running_vars_"))


def test_model_file_and_pickle_keep_it(tmp_path, iris):
    X, y = iris
    clf = MLPClassifier((8, 6), batch_norm=True, max_iter=4, random_state=0).fit(X, y)
    nnfast.save(clf, tmp_path / "m.safetensors")
    for copy in (nnfast.load(tmp_path / "m.safetensors"), pickle.loads(pickle.dumps(clf))):
        np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
        copy.set_params(warm_start=True).fit(X, y)
    clf.set_params(warm_start=True).fit(X, y)
    np.testing.assert_array_equal(copy.running_vars_[1], clf.running_vars_[1])


def test_assigned_arrays_are_checked(iris):
    X, y = iris
    clf = MLPClassifier((8,), batch_norm=True, max_iter=2, random_state=0,
                        warm_start=True).fit(X, y)
    clf.running_vars_ = [np.ones(7)]
    with pytest.raises(ValueError, match=r"running_vars_ has shapes \[\(7,\)\]"):
        clf.fit(X, y)
    clf.running_vars_ = [-np.ones(8)]
    with pytest.raises(ValueError, match="negative variance"):
        clf.fit(X, y)
    clf.running_vars_ = [np.ones(8)]  # float64, as a user may assign: converted
    clf.fit(X, y)
    assert clf.running_vars_[0].dtype == np.float32


def test_predict_names_bad_assigned_arrays(iris):
    X, y = iris
    clf = MLPClassifier((8,), batch_norm=True, max_iter=2, random_state=0).fit(X, y)
    good = clf.predict_proba(X)
    for name, value, message in (("running_vars_", [np.ones(1)], r"running_vars_\[0\] has shape"),
                                 ("running_vars_", [-np.ones(8)], "negative variance"),
                                 ("batch_norm_scales_", [], "one array per hidden layer"),
                                 ("running_means_", None, "running_means_ must be a list")):
        saved = getattr(clf, name)
        setattr(clf, name, value)
        with pytest.raises(ValueError, match=message):
            clf.predict(X)
        setattr(clf, name, saved)
    del clf.batch_norm_shifts_
    with pytest.raises(ValueError, match="batch_norm_shifts_"):
        clf.predict(X)
    clf.batch_norm_shifts_ = [np.zeros(8)]  # float64 of the right shape: used as it is
    clf.running_means_ = [m.astype(np.float64) for m in clf.running_means_]
    assert clf.predict_proba(X).shape == good.shape


def test_save_refuses_a_changed_setting(iris, tmp_path):
    X, y = iris
    clf = MLPClassifier((8,), batch_norm=True, max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="batch_norm=False was changed since the fit"):
        nnfast.save(clf.set_params(batch_norm=False), tmp_path / "m.safetensors")


def test_an_epsilon_float32_cannot_hold_is_refused(iris):
    with pytest.raises(ValueError, match="batch_norm_epsilon=1e-300 cannot be held in float32"):
        MLPClassifier((8,), batch_norm=True, batch_norm_epsilon=1e-300).fit(*iris)
