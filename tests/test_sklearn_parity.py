"""Parity with scikit-learn 1.9's MLP: same starting weights, same training trajectory.

The oracle is scikit-learn itself, run on the same data with the same parameters and
random_state. nnfast computes in float32 and scikit-learn in float64 here, so the
numbers agree to float32 round-off amplified over a few epochs, not bit for bit.
Where nnfast deliberately differs (see the estimators' docstrings) the test checks
the documented difference instead.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sk
from sklearn.exceptions import ConvergenceWarning

import nnfast
from conftest import load

# The relative agreement of losses after a few epochs: float32 vs float64 round-off.
LOSS_RTOL = 1e-4


def fit_both(kind, X, y, sample_weight=None, **params):
    """Fit nnfast's and scikit-learn's estimator of `kind` with identical parameters."""
    ours_cls, sk_cls = {
        "classifier": (nnfast.MLPClassifier, sk.MLPClassifier),
        "regressor": (nnfast.MLPRegressor, sk.MLPRegressor),
    }[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = ours_cls(**params).fit(X, y, sample_weight=sample_weight)
        ref = sk_cls(**params).fit(X, y, sample_weight=sample_weight)
    return ours, ref


def assert_same_predictions(ours, ref, X):
    if hasattr(ref, "predict_proba"):
        assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)
        assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.99
    else:
        assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-3, atol=1e-4)


# --- the starting point -------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh", "identity"])
@pytest.mark.parametrize("hidden", [(), 7, (5, 3)])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_initial_weights_are_sklearns(monkeypatch, iris, kind, hidden, activation):
    # Skip training in both, so coefs_ are the initial weights drawn by fit.
    monkeypatch.setattr(sk.MLPClassifier, "_fit_stochastic", lambda *a, **k: None)
    monkeypatch.setattr(sk.MLPRegressor, "_fit_stochastic", lambda *a, **k: None)
    monkeypatch.setattr(nnfast.MLPClassifier, "_fit_stochastic", lambda *a, **k: None)
    monkeypatch.setattr(nnfast.MLPRegressor, "_fit_stochastic", lambda *a, **k: None)
    X, y = iris
    ours, ref = fit_both(kind, X, y, hidden_layer_sizes=hidden, activation=activation,
                         random_state=3)
    assert len(ours.coefs_) == len(ref.coefs_)
    for mine, theirs in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        assert mine.dtype == np.float32 and mine.flags.c_contiguous
        assert_array_equal(mine, theirs.astype(np.float32))


# --- stochastic solvers -----------------------------------------------------------------
STOCHASTIC_CASES = {
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "adam-shuffle": dict(solver="adam", learning_rate_init=0.01, shuffle=True),
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.05, momentum=0.9),
    "sgd-momentum": dict(solver="sgd", learning_rate_init=0.05, momentum=0.9,
                         nesterovs_momentum=False),
    "sgd-plain-invscaling": dict(solver="sgd", learning_rate_init=0.2, momentum=0.0,
                                 learning_rate="invscaling", power_t=0.25),
    "sgd-adaptive": dict(solver="sgd", learning_rate_init=0.05, learning_rate="adaptive",
                         tol=0.05, n_iter_no_change=1),
    "adam-no-hidden-logistic": dict(solver="adam", hidden_layer_sizes=(),
                                    learning_rate_init=0.01, activation="logistic"),
    "adam-two-layers-tanh": dict(solver="adam", hidden_layer_sizes=(16, 8),
                                 learning_rate_init=0.01, activation="tanh"),
}


@pytest.mark.parametrize("case", sorted(STOCHASTIC_CASES))
@pytest.mark.parametrize("dataset,kind", [("iris", "classifier"),
                                          ("breast_cancer", "classifier"),
                                          ("diabetes", "regressor")])
def test_stochastic_training_matches_sklearn(dataset, kind, case):
    X, y = load(dataset)
    params = dict(hidden_layer_sizes=(20,), batch_size=32, shuffle=False, max_iter=15,
                  random_state=0)
    params.update(STOCHASTIC_CASES[case])
    ours, ref = fit_both(kind, X, y, **params)

    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=LOSS_RTOL)
    assert_allclose(ours.loss_, ref.loss_, rtol=LOSS_RTOL)
    assert_allclose(ours.best_loss_, ref.best_loss_, rtol=LOSS_RTOL)
    if case == "sgd-adaptive":  # the schedule really cut the rate, identically
        assert ours._optimizer.learning_rate < 0.05
        assert ours._optimizer.learning_rate == ref._optimizer.learning_rate
    for mine, theirs in zip(ours.coefs_, ref.coefs_):
        assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4)
    assert_same_predictions(ours, ref, X)


@pytest.mark.filterwarnings("ignore:Got `batch_size`")  # a whole-set batch, clipped
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind,dataset", [("classifier", "digits"),
                                          ("classifier", "breast_cancer"),  # stratified
                                          ("regressor", "diabetes")])
def test_early_stopping_matches_sklearn(kind, dataset, weighted):
    # Same validation split (drawn after the init, from the same RandomState), same
    # scores per epoch, same stopping epoch, and the best weights restored.
    X, y = load(dataset)
    X, y = X[:600], y[:600]
    # One batch per epoch with weights: the epoch losses are defined alike.
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(y)) if weighted else None
    ours, ref = fit_both(kind, X, y, sample_weight=sw,
                         batch_size=len(y) if weighted else "auto",
                         hidden_layer_sizes=(16,), early_stopping=True,
                         validation_fraction=0.2, n_iter_no_change=3, tol=1e-3,
                         learning_rate_init=0.01, max_iter=60, random_state=1)
    assert ours.best_loss_ is None and ours.validation_scores_ is not None
    assert ours.n_iter_ == ref.n_iter_ < 60
    assert_allclose(ours.validation_scores_, ref.validation_scores_, atol=1e-4)
    assert_allclose(ours.best_validation_score_, ref.best_validation_score_, atol=1e-4)
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=LOSS_RTOL)
    assert_same_predictions(ours, ref, X)


def test_float32_input_matches_sklearn_float32(iris):
    # scikit-learn keeps float32 X in float32 too (PR #17759): both compute in float32.
    X, y = iris
    ours, ref = fit_both("classifier", X.astype(np.float32), y, hidden_layer_sizes=(10,),
                         learning_rate_init=0.01, max_iter=20, random_state=0)
    assert ours.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-4)


def test_multilabel_matches_sklearn(rng):
    X = rng.randn(120, 6)
    Y = (X[:, :3] + 0.3 * rng.randn(120, 3) > 0).astype(int)
    ours, ref = fit_both("classifier", X, Y, hidden_layer_sizes=(12,), batch_size=40,
                         learning_rate_init=0.01, max_iter=15, random_state=0)
    assert ours.out_activation_ == ref.out_activation_ == "logistic"
    assert_array_equal(ours.classes_, ref.classes_)
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=LOSS_RTOL)
    assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_poisson_matches_sklearn(rng):
    # Half Poisson deviance, constant included, exp output: the same numbers.
    X = rng.randn(200, 5)
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
    ours, ref = fit_both("regressor", X, y, loss="poisson", hidden_layer_sizes=(10,),
                         batch_size=50, learning_rate_init=0.01, max_iter=15,
                         random_state=0)
    assert ours.out_activation_ == "exp"
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=LOSS_RTOL)
    assert_same_predictions(ours, ref, X)


def test_uniform_sample_weight_batches_match_sklearn(iris, rng):
    # Constant weights: the same weighted epoch loss in both definitions.
    X, y = iris
    sw = np.full(X.shape[0], 2.5)
    ours, ref = fit_both("classifier", X, y, sample_weight=sw, hidden_layer_sizes=(10,),
                         batch_size=32, learning_rate_init=0.01, max_iter=10,
                         random_state=0)
    assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=LOSS_RTOL)


def test_sample_weight_trajectory_matches_sklearn(iris, rng):
    # Non-uniform weights: the updates are scikit-learn's (same weights after
    # training); only the epoch-loss average differs when batches are weighed
    # differently, and with one batch per epoch that difference vanishes.
    X, y = iris
    sw = rng.uniform(0.1, 3.0, X.shape[0])
    ours, ref = fit_both("classifier", X, y, sample_weight=sw, hidden_layer_sizes=(10,),
                         batch_size=32, learning_rate_init=0.01, max_iter=10,
                         random_state=0)
    for mine, theirs in zip(ours.coefs_, ref.coefs_):
        assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4)
    one_batch, ref_one_batch = fit_both(
        "classifier", X, y, sample_weight=sw, hidden_layer_sizes=(10,),
        batch_size=X.shape[0], learning_rate_init=0.01, max_iter=10, random_state=0)
    assert_allclose(one_batch.loss_curve_, ref_one_batch.loss_curve_, rtol=LOSS_RTOL)


# --- L-BFGS ---------------------------------------------------------------------------
@pytest.mark.parametrize("dataset,kind", [("iris", "classifier"),
                                          ("breast_cancer", "classifier"),
                                          ("diabetes", "regressor")])
def test_lbfgs_matches_sklearn(dataset, kind):
    X, y = load(dataset)
    ours, ref = fit_both(kind, X, y, solver="lbfgs", hidden_layer_sizes=(10,),
                         max_iter=10, random_state=0)
    assert ours.n_iter_ == ref.n_iter_ == 10
    assert_allclose(ours.loss_, ref.loss_, rtol=1e-3)
    assert not hasattr(ours, "loss_curve_") and not hasattr(ref, "loss_curve_")
    assert_same_predictions(ours, ref, X)


def test_lbfgs_sample_weight_matches_sklearn(diabetes, rng):
    X, y = diabetes
    sw = rng.uniform(0.0, 2.0, X.shape[0])
    ours, ref = fit_both("regressor", X, y, sample_weight=sw, solver="lbfgs",
                         hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    assert_allclose(ours.loss_, ref.loss_, rtol=1e-3)


# --- deliberate differences -------------------------------------------------------------
def test_multioutput_squared_error_is_summed_over_outputs(diabetes):
    # scikit-learn #8349: its loss averages over outputs while its gradient sums
    # them. Both train identically (same gradient), but nnfast reports the loss the
    # gradient belongs to: n_outputs times scikit-learn's (alpha=0: no L2 term).
    X, y = diabetes
    Y = np.column_stack([y, -y, 0.5 * y])
    ours, ref = fit_both("regressor", X, Y, hidden_layer_sizes=(10,), alpha=0.0,
                         batch_size=64, learning_rate_init=0.01, max_iter=10,
                         shuffle=False, random_state=0)
    assert_allclose(ours.loss_curve_, 3 * np.asarray(ref.loss_curve_), rtol=LOSS_RTOL)
    for mine, theirs in zip(ours.coefs_, ref.coefs_):
        assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4)


def test_multioutput_loss_is_half_sum_of_squares(diabetes):
    # The loss value itself: 0.5 * sum over outputs, mean over samples, at weights
    # that one epoch with a vanishing learning rate leaves unchanged.
    X, y = diabetes
    Y = np.column_stack([y, 2 * y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = nnfast.MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0,
                                  learning_rate_init=1e-30, alpha=0.0, max_iter=1,
                                  batch_size=X.shape[0], random_state=0).fit(X, Y)
    expected = 0.5 * np.sum((Y - est.predict(X)) ** 2, axis=1).mean()
    assert_allclose(est.loss_, expected, rtol=1e-5)


def test_warm_start_keeps_adam_state_unlike_sklearn(iris):
    # nnfast: 5 + 5 warm-started epochs == 10 epochs (the Adam moments and step carry
    # over). scikit-learn restarts Adam, so its two-step fit differs from one fit.
    X, y = iris
    params = dict(hidden_layer_sizes=(10,), learning_rate_init=0.01, shuffle=False,
                  random_state=0, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = nnfast.MLPClassifier(max_iter=10, **params).fit(X, y)
        twice = nnfast.MLPClassifier(max_iter=5, warm_start=True, **params).fit(X, y)
        twice.fit(X, y)
        sk_once = sk.MLPClassifier(max_iter=10, **params).fit(X, y)
        sk_twice = sk.MLPClassifier(max_iter=5, warm_start=True, **params).fit(X, y)
        sk_twice.fit(X, y)
    assert twice.n_iter_ == 5 and twice.t_ == 10 * X.shape[0]
    assert_array_equal(twice.loss_curve_, once.loss_curve_)
    for a, b in zip(twice.coefs_, once.coefs_):
        assert_array_equal(a, b)
    assert abs(sk_twice.loss_curve_[-1] - sk_once.loss_curve_[-1]) > 1e-4


def test_verbose_output_matches_sklearn_format(iris, capsys):
    X, y = iris
    fit_both("classifier", X, y, hidden_layer_sizes=(5,), max_iter=3, verbose=True,
             random_state=0)
    lines = capsys.readouterr().out.splitlines()
    ours, theirs = lines[:3], lines[3:]
    assert len(ours) == len(theirs) == 3
    for mine, ref in zip(ours, theirs):
        # scikit-learn's "Iteration k, loss = x", then nnfast's ", 0.001 s" (the epoch's time)
        assert re.fullmatch(r"Iteration \d+, loss = [\d.]+, \d+\.\d{3} s", mine), mine
        assert mine.split("=")[0] == ref.split("=")[0]  # "Iteration k, loss "
        assert_allclose(float(mine.split("= ")[1].split(",")[0]), float(ref.split("=")[1]),
                        rtol=1e-5)
