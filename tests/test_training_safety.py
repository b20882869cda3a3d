"""What float32 training cannot hold never passes silently, and a call that fails leaves
the estimator as it was: divergence, optimizer state that overflows, values beyond
float32's range in every input and path, hyperparameters float32 rounds to 0 or 1.
Each case was once a silent wrong model (see issue 9)."""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.neural_network as sk
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from nnfast import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def state_of(est):
    """Everything fit may change (not the hyperparameters), as bytes: equal bytes, an
    unchanged estimator."""
    skip = set(est.get_params()) | {"_predictor"}
    return pickle.dumps({k: v for k, v in vars(est).items() if k not in skip})


def timestamps(n=200, seed=0):
    """The issue's data: a millisecond timestamp (~1.7e12) beside two plain features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    X[:, 0] = 1.7e12 + rng.uniform(0, 1e9, n)
    return X, 2 * X[:, 1] + 1


# --- divergence -----------------------------------------------------------------------------
def test_exploding_learning_rate_raises_naming_the_epoch(diabetes):
    X, y = diabetes
    est = MLPRegressor(solver="sgd", learning_rate_init=1e3, max_iter=20, random_state=0)
    with pytest.raises(ValueError, match=r"diverged in epoch \d+ of this fit.*learning_rate_init "
                                         r"\(now 1000.0\)"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")  # a failed first fit leaves it unfitted


def test_diverging_refit_leaves_the_previous_model_intact(diabetes):
    X, y = diabetes
    est = MLPRegressor(solver="sgd", max_iter=20, random_state=0).fit(X, y)
    before, prediction = state_of(est), est.predict(X)
    for warm_start in (False, True):
        est.set_params(learning_rate_init=1e3, warm_start=warm_start)
        with pytest.raises(ValueError, match="diverged"):
            est.fit(X, y)
        assert state_of(est) == before
        assert_array_equal(est.predict(X), prediction)


def test_partial_fit_raises_on_the_call_that_diverges(diabetes):
    X, y = diabetes
    est = MLPRegressor(solver="sgd", learning_rate_init=1e-3, batch_size=5, random_state=0)
    est.partial_fit(X[:50], y[:50])
    est._optimizer.learning_rate = 10.0  # partial_fit keeps its optimizer: raise its rate
    before = state_of(est)
    with pytest.raises(ValueError, match="diverged in this partial_fit call"):
        est.partial_fit(X[50:100], y[50:100])
    assert state_of(est) == before
    est._optimizer.learning_rate = 1e-3
    est.partial_fit(X[100:150], y[100:150])  # the stream goes on from the last good state
    assert np.isfinite(est.predict(X)).all()


def test_training_stops_at_the_first_non_finite_loss(diabetes, monkeypatch):
    X, y = diabetes
    calls = []
    from nnfast import _core
    real = _core.train_epoch
    monkeypatch.setattr(_core, "train_epoch", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.raises(ValueError, match="diverged in epoch 1 "):
        MLPRegressor(max_iter=50).fit(np.asarray(X * 1e30, np.float32), y)
    assert len(calls) == 1


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("sparse", [False, True])
def test_features_too_large_for_float32_products(diabetes, solver, sparse):
    X, y = diabetes
    X = np.asarray(X * 1e30, np.float32)  # finite in float32, products overflow
    X = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError, match=r"diverged.*Scale the features|diverged.*scale the "
                                         r"features.*largest \|X\| is \d.\d+e\+30"):
        MLPRegressor(solver=solver, max_iter=5).fit(X, y)


# --- optimizer state -------------------------------------------------------------------------
def test_adam_state_overflow_is_reported_with_a_hint():
    X, y = timestamps()
    est = MLPRegressor(hidden_layer_sizes=(10,), max_iter=50, random_state=0)
    with pytest.raises(ValueError, match=r"overflowed float32 in epoch 1.*Scale the features.*"
                                         r"largest \|X\| is 1.7e\+12"):
        est.fit(X, y)
    X[:, 0] = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    est.fit(X, y)  # scaled, it trains as scikit-learn does
    theirs = sk.MLPRegressor(hidden_layer_sizes=(10,), max_iter=50, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    assert est.loss_curve_[-1] < 0.85 * est.loss_curve_[0]


def test_warm_start_never_inherits_a_non_finite_state(diabetes):
    X, y = diabetes
    est = MLPRegressor(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    est._optimizer.state2[0][0, 0] = np.inf  # as an old version could have left it
    est.fit(X, y)
    assert all(np.isfinite(s).all() for s in est._optimizer.state1 + est._optimizer.state2)
    assert all(np.isfinite(c).all() for c in est.coefs_)


# --- values beyond float32's range -------------------------------------------------------------
def huge(a, where=(0, 0)):
    a = np.array(a, dtype=np.float64)
    a[where] = 1e39
    return a


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("path", ["dense", "sparse", "partial_fit"])
def test_X_beyond_float32_range_raises(iris, solver, path):
    X, y = iris
    X = huge(X)
    est = MLPClassifier(solver=solver, max_iter=5)
    if path == "sparse":
        X = sp.csr_matrix(X)
    if path == "partial_fit":
        if solver == "lbfgs":
            pytest.skip("partial_fit is for sgd and adam")
        fit = lambda: est.partial_fit(X, y, classes=np.unique(y))  # noqa: E731
    else:
        fit = lambda: est.fit(X, y)  # noqa: E731
    with pytest.raises(ValueError, match="X has a value of magnitude 1e\\+39, beyond float32"):
        fit()
    assert not hasattr(est, "coefs_") and not hasattr(est, "classes_")


def test_y_and_sample_weight_beyond_float32_range_raise(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="y has a value of magnitude 1e\\+39"):
        MLPRegressor(max_iter=2).fit(X, huge(y, 3))
    with pytest.raises(ValueError, match="sample_weight has a value of magnitude 1e\\+39"):
        MLPRegressor(max_iter=2).fit(X, y, sample_weight=huge(np.ones(len(y)), 3))


def test_predict_names_float32_range(iris):
    X, y = iris
    est = MLPClassifier(max_iter=3).fit(X, y)
    for X_bad in (np.full((2, 4), 1e300), [[1e300] * 4]):  # fast lane and validated lane
        with pytest.raises(ValueError, match="beyond float32's range"):
            est.predict(X_bad)


# --- sample weights --------------------------------------------------------------------------
def test_negative_and_all_zero_sample_weights_raise(iris):
    X, y = iris
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        MLPClassifier(max_iter=2).fit(X, y, sample_weight=np.zeros(len(y)))


# --- hyperparameters float32 cannot hold -------------------------------------------------------
@pytest.mark.parametrize("name,value,became", [
    ("learning_rate_init", 1e-50, "0.0"), ("learning_rate_init", 1e39, "inf"),
    ("alpha", 1e-50, "0.0"), ("alpha", 1e300, "inf"), ("epsilon", 1e-60, "0.0"),
])
def test_hyperparameters_float32_cannot_hold_raise(iris, name, value, became):
    X, y = iris
    with pytest.raises(ValueError, match=rf"{name}={re.escape(repr(value))} cannot be held in float32.*"
                                         rf"become {became}"):
        MLPClassifier(max_iter=2, **{name: value}).fit(X, y)


@pytest.mark.parametrize("param", [{"beta_2": 1 - 1e-8}, {"beta_1": 1 - 1e-9},
                                   {"beta_2": 1 - 1e-12}])
def test_betas_near_one_train_as_scikit_learn_does(digits, param):
    # beta_2 = 1 - 1e-8 rounds to 1.0f: the step size was 0 and the loss curve flat.
    X, y = digits
    kw = dict(hidden_layer_sizes=(20,), max_iter=8, random_state=0, shuffle=False, **param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**kw).fit(X, y).loss_curve_
        theirs = sk.MLPClassifier(**kw).fit(X, y).loss_curve_
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours[-1] < 0.9 * ours[0]


def test_failed_fit_restores_a_users_random_state(diabetes):
    X, y = diabetes
    rs = np.random.RandomState(0)
    before = rs.get_state()
    est = MLPRegressor(solver="sgd", learning_rate_init=1e3, max_iter=20, random_state=rs)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, y)
    after = rs.get_state()
    assert after[2] == before[2] and (after[1] == before[1]).all()


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("scale", [1e37, 1e-40])
def test_only_the_ratios_of_sample_weights_matter(iris, solver, scale):
    # Weights of 1e37 overflowed the float32 products (a "divergence"), 1e-40 underflowed.
    X, y = iris
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    kw = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=5, random_state=0)
    want = MLPClassifier(**kw).fit(X, y, sample_weight=w / w.mean())
    got = MLPClassifier(**kw).fit(X, y, sample_weight=w * scale)
    for a, b in zip(got.coefs_, want.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
