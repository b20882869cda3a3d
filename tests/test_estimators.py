"""MLPClassifier / MLPRegressor behaviour: scores on real data, the scikit-learn API
(attributes, partial_fit, warm_start, early stopping, sample_weight, multilabel,
strings, pandas), persistence, meta-estimators, bad input, and nnfast's fixes.

Comparisons with scikit-learn's own MLP are the oracle wherever behaviour is meant to
be identical (exception types, attribute sets, signatures, tags).
"""

import copy
import inspect
import os
import pickle
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import neural_network as sk
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

import nnfast
from nnfast import MLPClassifier, MLPRegressor
from conftest import load

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATOR_PAIRS = [(MLPClassifier, sk.MLPClassifier), (MLPRegressor, sk.MLPRegressor)]


def split(X, y):
    return train_test_split(X, y, test_size=0.25, random_state=0)


# --- it learns ----------------------------------------------------------------------
def test_digits_accuracy(digits):
    X_train, X_test, y_train, y_test = split(*digits)
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=100, random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.95


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_breast_cancer_accuracy(breast_cancer, solver):
    X_train, X_test, y_train, y_test = split(*breast_cancer)
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=100,
                        learning_rate_init=0.01, random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.93


def test_wine_accuracy():
    X_train, X_test, y_train, y_test = split(*load("wine"))
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01,
                        random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.93


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_diabetes_r2(diabetes, solver):
    X_train, X_test, y_train, y_test = split(*diabetes)
    # 331 training samples: a small, strongly regularised net (R^2 ~0.38 here, as
    # scikit-learn's MLP with the same parameters).
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=100, alpha=30.0,
                       learning_rate_init=0.01, random_state=0)
    assert reg.fit(X_train, y_train).score(X_test, y_test) > 0.3


def test_poisson_regression_learns_the_rate(rng):
    X = rng.uniform(-1, 1, (2000, 3))
    rate = np.exp(1.0 + X[:, 0] - 0.5 * X[:, 1])
    y = rng.poisson(rate)
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), learning_rate_init=0.01,
                       max_iter=100, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert np.all(pred > 0)
    assert np.corrcoef(pred, rate)[0, 1] > 0.95


# --- API surface identical to scikit-learn's --------------------------------------------
# What nnfast adds to scikit-learn's parameters (issue 11), keyword-only, after them.
BATCH_NORM_DEFAULTS = {"batch_norm": False, "batch_norm_momentum": 0.1,
                       "batch_norm_epsilon": 1e-5}
EXTRA_PARAMETERS = {"MLPClassifier": {"class_weight": None, "init": "glorot_uniform",
                                      "dropout": 0.0, **BATCH_NORM_DEFAULTS,
                                      "dtype": np.float32},
                    "MLPRegressor": {"init": "glorot_uniform", "dropout": 0.0,
                                     **BATCH_NORM_DEFAULTS, "delta": 1.0, "quantile": 0.5,
                                     "dtype": np.float32}}


@pytest.mark.parametrize("ours,theirs", ESTIMATOR_PAIRS)
def test_signature_and_constraints_are_sklearns(ours, theirs):
    extra = EXTRA_PARAMETERS[ours.__name__]
    mine = list(inspect.signature(ours).parameters.values())
    assert mine[:len(mine) - len(extra)] == list(inspect.signature(theirs).parameters.values())
    for p in mine[len(mine) - len(extra):]:
        assert p.kind == p.KEYWORD_ONLY and extra[p.name] == p.default
    assert ours().get_params() == {**theirs().get_params(), **extra}
    assert ours._parameter_constraints.keys() == theirs._parameter_constraints.keys() | extra.keys()
    assert get_tags(ours()) == get_tags(theirs())


def test_regressor_first_positional_parameter_is_loss(diabetes):
    reg = MLPRegressor((16,))
    assert reg.loss == (16,)
    with pytest.raises(InvalidParameterError):
        reg.fit(*diabetes)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("ours,theirs", ESTIMATOR_PAIRS)
def test_fitted_attributes_are_sklearns(iris, ours, theirs, solver):
    X, y = iris
    mine = ours(hidden_layer_sizes=(5,), solver=solver, max_iter=5).fit(X, y)
    ref = theirs(hidden_layer_sizes=(5,), solver=solver, max_iter=5).fit(X, y)
    public = {k for k in vars(ref) if k.endswith("_") and not k.startswith("_")}
    assert public == {k for k in vars(mine) if k.endswith("_") and not k.startswith("_")}
    for name in public:
        assert type(getattr(mine, name)) is type(getattr(ref, name)) or name in {
            "loss_", "best_loss_", "coefs_", "intercepts_"}, name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes(iris, dtype):
    # Weights are float32 owned arrays; predictions follow X's dtype as scikit-learn.
    X, y = iris
    X = X.astype(dtype)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5).fit(X, y)
    for a in clf.coefs_ + clf.intercepts_:
        assert a.dtype == np.float32 and a.flags.c_contiguous and a.flags.owndata
    assert clf.predict_proba(X).dtype == dtype
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5).fit(X, y.astype(np.float64))
    assert reg.predict(X).dtype == dtype
    assert reg.predict(X.astype(int)).dtype == np.float64


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("order", ["C", "F"])
def test_training_does_not_copy_X(monkeypatch, iris, early_stopping, order):
    # C-contiguous float32 X reaches _core.train_epoch as the very same memory; only
    # index arrays (shuffle, early-stopping split) are made.
    X, y = iris
    X = np.asarray(X, dtype=np.float32, order=order)
    seen = []
    real_train_epoch = nnfast._core.train_epoch

    def spy(coefs, intercepts, activations, loss, X_core, *args, **kwargs):
        seen.append(X_core)
        return real_train_epoch(coefs, intercepts, activations, loss, X_core, *args, **kwargs)

    monkeypatch.setattr(nnfast._core, "train_epoch", spy)
    MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, early_stopping=early_stopping,
                  n_iter_no_change=100).fit(X, y)
    assert len(seen) == 3
    assert all(X_core is seen[0] for X_core in seen)  # converted at most once per fit
    assert np.shares_memory(seen[0], X) == (order == "C")


def test_threads_do_not_change_results(digits):
    # The kernels never split a reduction, so 1 and 2 threads agree bit for bit.
    X, y = digits
    results = []
    for n in (1, 2):
        nnfast.set_num_threads(n)
        assert nnfast.get_num_threads() == n
        clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=0)
        results.append(clf.fit(X, y).predict_proba(X))
    assert_array_equal(results[0], results[1])


# --- targets ------------------------------------------------------------------------------
def test_string_labels_round_trip(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=100,
                        random_state=0).fit(X, names)
    assert_array_equal(clf.classes_, np.sort(np.unique(names)))
    assert clf.predict(X).dtype == names.dtype
    assert clf.score(X, names) > 0.9


def test_binary_output_layer(breast_cancer):
    X, y = breast_cancer
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=10).fit(X, y)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_multilabel(rng):
    X = rng.randn(300, 5)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(20,), learning_rate_init=0.01, max_iter=200,
                        random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    assert_array_equal(clf.classes_, np.arange(3))
    assert clf.predict(X).shape == Y.shape
    assert clf.score(X, Y) > 0.9  # subset accuracy
    assert not np.allclose(clf.predict_proba(X).sum(axis=1), 1.0)  # independent sigmoids


def test_single_class_quirk_like_sklearn(iris):
    X, _ = iris
    y = np.zeros(X.shape[0], dtype=int)
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)
    ref = sk.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)
    assert_array_equal(clf.predict(X), ref.predict(X))
    assert clf.predict_proba(X).shape == ref.predict_proba(X).shape == (X.shape[0], 2)


def test_multioutput_regression_and_1d_prediction(diabetes):
    X, y = diabetes
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20).fit(X, np.column_stack([y, y]))
    assert reg.predict(X).shape == (X.shape[0], 2)
    with pytest.warns(Warning):  # DataConversionWarning for a column vector y
        reg.fit(X, y.reshape(-1, 1))
    assert reg.predict(X).shape == (X.shape[0],)


# --- pandas -------------------------------------------------------------------------------
def test_pandas_input_and_feature_names(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=10, random_state=0)
    clf.fit(df, pd.Series(y))
    assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        assert_array_equal(clf.predict(df), clf.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df[["b", "a", "c", "d"]])


# --- solvers and their knobs ------------------------------------------------------------
def test_loss_curve_and_counters(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=7, tol=0.0).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 7
    assert clf.t_ == 7 * X.shape[0]
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.n_layers_ == 3


def test_max_iter_warns(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=2).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=2).fit(X, y)


def test_no_improvement_stops_training(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=500, tol=10.0,
                        n_iter_no_change=4).fit(X, y)
    # Epoch 1 improves on best_loss_=inf; epochs 2..6 do not by tol, and training
    # stops once the counter *exceeds* n_iter_no_change (as scikit-learn).
    assert clf.n_iter_ == 6


def test_early_stopping_restores_best_weights(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, max_iter=100,
                        n_iter_no_change=3, learning_rate_init=0.05, random_state=0)
    clf.fit(X, y)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # Re-derive the validation split (the same RandomState calls as fit) and check
    # that the restored weights are the ones that scored best on it.
    rs = np.random.RandomState(0)
    for fan_in, fan_out in zip([64, 32], [32, 10]):
        rs.uniform(size=(fan_in, fan_out)), rs.uniform(size=fan_out)
    _, val_idx = train_test_split(np.arange(len(y)), random_state=rs, test_size=0.1,
                                  stratify=None)
    assert_allclose(clf.score(X[val_idx], y[val_idx]), clf.best_validation_score_)


def test_early_stopping_needs_two_validation_samples(iris):
    X, y = iris
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.01).fit(X[:50], y[:50])


def test_batch_size_larger_than_n_is_clipped_with_warning(iris):
    X, y = iris
    with pytest.warns(UserWarning, match="clipped"):
        clf = MLPClassifier(hidden_layer_sizes=(5,), batch_size=1000, max_iter=2).fit(X, y)
    assert clf.n_iter_ == 2


@pytest.mark.parametrize("hidden", [(), 3, [4, 3]])
def test_hidden_layer_sizes_forms(iris, hidden):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=hidden, max_iter=3).fit(X, y)
    n_hidden = 1 if isinstance(hidden, int) else len(hidden)
    assert clf.n_layers_ == n_hidden + 2 == len(clf.coefs_) + 1


def test_zero_hidden_units_raise(iris):
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        MLPClassifier(hidden_layer_sizes=(5, 0)).fit(*iris)


def test_lbfgs_verbose_prints_progress(iris, capsys):
    # scikit-learn #10236: its lbfgs ignores verbose. nnfast prints each iteration.
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=4, verbose=True)
    clf.fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"Iteration {i}" for i in (1, 2, 3, 4)]
    assert_allclose(float(lines[-1].split("=")[1]), clf.loss_, atol=1e-8)


def test_lbfgs_respects_max_fun(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_fun=3, max_iter=100)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.n_iter_ <= 3


def test_float64_beyond_float32_range_raises(iris):
    X, y = iris
    with pytest.raises(ValueError, match="X has a value of magnitude 3.09e\\+200, beyond float32"):
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=3).fit(X * 1e200, y)


def test_poisson_negative_y_raises(diabetes):
    # scikit-learn trains on a NaN loss instead.
    X, y = diabetes
    with pytest.raises(ValueError, match="y >= 0"):
        MLPRegressor(loss="poisson").fit(X, y)
    reg = MLPRegressor(loss="poisson", max_iter=2).fit(X, np.abs(y))
    with pytest.raises(ValueError, match="y >= 0"):
        reg.partial_fit(X, y)


def test_keyboard_interrupt_keeps_weights(digits):
    # A real SIGINT during fit: _core raises KeyboardInterrupt between batches, fit
    # warns and returns a usable model (scikit-learn's behaviour).
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=5000, tol=0.0,
                        n_iter_no_change=np.inf, random_state=0)
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            clf.fit(X, y)
    finally:
        timer.cancel()
    # How many epochs ran depends on the machine's speed; the model must be usable.
    assert clf.n_iter_ < 5000 and len(clf.loss_curve_) == clf.n_iter_
    assert np.isfinite(clf.predict_proba(X)).all()


# --- warm_start and partial_fit ---------------------------------------------------------------
def test_warm_start_accumulates_and_keeps_optimizer_state(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, tol=0.0, warm_start=True)
    clf.fit(X, y)
    step_after_first = int(clf._optimizer.step[0])
    moments = [m.copy() for m in clf._optimizer.state1]
    clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6 and clf.t_ == 6 * X.shape[0]
    assert step_after_first > 0 and clf._optimizer.step[0] == 2 * step_after_first
    assert not np.array_equal(moments[0], clf._optimizer.state1[0])


def test_warm_start_rejects_new_classes(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


def test_without_warm_start_refit_restarts(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, tol=0.0)
    first = clf.fit(X, y).loss_curve_[:]
    assert_array_equal(clf.fit(X, y).loss_curve_, first)


def test_partial_fit_classifier(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    clf.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 3
    assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X, y + 1)


def test_partial_fit_regressor_and_sample_weight(diabetes):
    X, y = diabetes
    reg = MLPRegressor(hidden_layer_sizes=(5,), learning_rate_init=0.01)
    for _ in range(20):
        reg.partial_fit(X, y, sample_weight=np.ones_like(y))
    assert len(reg.loss_curve_) == 20 and reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize("ours", [MLPClassifier, MLPRegressor])
def test_partial_fit_only_for_stochastic_solvers(ours, iris):
    # scikit-learn's regressor exposes partial_fit for lbfgs (and runs a full fit).
    assert not hasattr(ours(solver="lbfgs"), "partial_fit")
    assert hasattr(ours(solver="sgd"), "partial_fit")
    with pytest.raises(ValueError, match="early_stopping"):
        ours(early_stopping=True).partial_fit(*iris, **(
            {"classes": [0, 1, 2]} if ours is MLPClassifier else {}))


# --- sample_weight ---------------------------------------------------------------------------
def test_zero_weight_equals_removing_samples(iris, rng):
    X, y = iris
    sw = rng.randint(0, 2, X.shape[0]).astype(float)
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    weighted = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    removed = MLPClassifier(**params).fit(X[sw > 0], y[sw > 0])
    assert_allclose(weighted.predict_proba(X), removed.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("ours", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("sparse", [False, True])
def test_integer_weights_equal_repetition_to_float32_precision(ours, sparse):
    # scikit-learn's check_sample_weight_equivalence_on_*_data, with a tolerance for
    # float32 arithmetic (the check itself uses float64's: see test_sklearn_checks.py).
    import scipy.sparse as sp

    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    sw = rng.randint(0, 5, size=15)
    X_fit, X_rep = X, X.repeat(sw, axis=0)
    if sparse:
        X_fit, X_rep = sp.csr_array(X_fit), sp.csr_array(X_rep)
    est = ours(max_iter=100, random_state=0)
    repeated = clone(est).fit(X_rep, y.repeat(sw))
    weighted = clone(est).fit(X_fit, y, sample_weight=sw)
    method = "predict_proba" if ours is MLPClassifier else "predict"
    assert_allclose(getattr(weighted, method)(X), getattr(repeated, method)(X), rtol=1e-5)


def test_weighted_score(iris, rng):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    sw = rng.rand(X.shape[0])
    expected = np.average(clf.predict(X) == y, weights=sw)
    assert_allclose(clf.score(X, y, sample_weight=sw), expected)


# --- sparse input ---------------------------------------------------------------------------
def test_sparse_input_equals_dense(iris):
    import scipy.sparse as sp

    X, y = iris
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    dense = MLPClassifier(**params).fit(X, y)
    sparse = MLPClassifier(**params).fit(sp.csr_matrix(X), y)
    assert_array_equal(dense.predict_proba(X), sparse.predict_proba(sp.csc_matrix(X)))


# --- persistence and meta-estimators --------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_pickle_clone_deepcopy(iris, solver):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver=solver, max_iter=5,
                        random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    for restored in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        assert_array_equal(restored.predict_proba(X), expected)
        assert restored.coefs_[0] is not clf.coefs_[0]
    unfitted = clone(clf)
    assert unfitted.get_params() == clf.get_params() and not hasattr(unfitted, "coefs_")
    assert_array_equal(unfitted.fit(X, y).predict_proba(X), expected)
    if solver != "lbfgs":
        # The optimizer state travels with the estimator: training continues alike.
        from_pickle = pickle.loads(pickle.dumps(clf)).partial_fit(X, y)
        from_copy = copy.deepcopy(clf).partial_fit(X, y)
        clf.partial_fit(X, y)
        assert_array_equal(from_pickle.predict_proba(X), clf.predict_proba(X))
        assert_array_equal(from_copy.predict_proba(X), clf.predict_proba(X))


def test_pipeline_and_cross_val_score(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(10,),
                                                         learning_rate_init=0.01,
                                                         max_iter=100, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85


def test_grid_search_in_parallel(diabetes):
    X, y = diabetes
    search = GridSearchCV(
        MLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=50,
                     random_state=0),
        {"alpha": [1e-4, 1.0], "solver": ["adam", "lbfgs"]}, cv=2, n_jobs=2)
    search.fit(X, y)
    assert search.best_score_ > 0.2
    assert isinstance(search.best_estimator_, MLPRegressor)


# --- bad input: the same exception types as scikit-learn -----------------------------------------
def _bad_inputs(X, y):
    X_nan, X_inf = X.copy(), X.copy()
    X_nan[0, 0], X_inf[0, 0] = np.nan, np.inf
    y_nan = y.astype(float)
    y_nan[0] = np.nan
    return {
        "nan_X": (X_nan, y),
        "inf_X": (X_inf, y),
        "1d_X": (X[:, 0], y),
        "3d_X": (X[:, :, None], y),
        "empty": (X[:0], y[:0]),
        "string_X": (np.full(X.shape, "a"), y),
        "complex_X": (X + 1j, y),
        "inconsistent_lengths": (X, y[:-1]),
        "y_none": (X, None),
        "nan_y": (X, y_nan),
    }


@pytest.mark.parametrize("case", sorted(_bad_inputs(np.ones((4, 2)), np.arange(4))))
@pytest.mark.parametrize("ours,theirs", ESTIMATOR_PAIRS)
def test_bad_fit_input_raises_like_sklearn(iris, ours, theirs, case):
    X_bad, y_bad = _bad_inputs(*iris)[case]
    with pytest.raises(Exception) as expected:
        theirs(max_iter=2).fit(X_bad, y_bad)
    with pytest.raises(expected.type) as got:
        ours(max_iter=2).fit(X_bad, y_bad)
    assert str(got.value).split("\n")[0][:30] == str(expected.value).split("\n")[0][:30]


@pytest.mark.parametrize("ours,theirs", ESTIMATOR_PAIRS)
def test_bad_predict_input_raises_like_sklearn(iris, ours, theirs):
    X, y = iris
    with pytest.raises(NotFittedError):
        ours().predict(X)
    mine = ours(max_iter=2).fit(X, y)
    ref = theirs(max_iter=2).fit(X, y)
    X_nan = X.copy()
    X_nan[1, 1] = np.nan
    for X_bad in (X[:, :3], X_nan, X[:, 0], np.full(X.shape, "a")):
        with pytest.raises(Exception) as expected:
            ref.predict(X_bad)
        with pytest.raises(expected.type, match=str(expected.value).split("\n")[0][:20]):
            mine.predict(X_bad)


def _sorted_sets(message):
    """The message with each "{...}" listed in sorted order (set order is arbitrary)."""
    return re.sub(r"\{[^}]*\}",
                  lambda m: "{" + ", ".join(sorted(m.group(0)[1:-1].split(", "))) + "}",
                  message)


@pytest.mark.parametrize("params", [
    dict(solver="rmsprop"), dict(alpha=-1.0),
    dict(batch_size=0), dict(batch_size="big"), dict(learning_rate="cosine"),
    dict(learning_rate_init=0.0), dict(max_iter=0), dict(momentum=1.5),
    dict(validation_fraction=1.0), dict(beta_1=1.0), dict(epsilon=0.0),
    dict(n_iter_no_change=0), dict(max_fun=0), dict(hidden_layer_sizes="wide"),
    dict(shuffle="yes"), dict(tol=-1.0),
])
@pytest.mark.parametrize("ours,theirs", ESTIMATOR_PAIRS)
def test_invalid_hyperparameters_raise_at_fit(iris, ours, theirs, params):
    est = ours(**params)  # accepted by __init__ ...
    with pytest.raises(InvalidParameterError) as got:
        est.fit(*iris)  # ... rejected by fit, with scikit-learn's message
    with pytest.raises(InvalidParameterError) as expected:
        theirs(**params).fit(*iris)
    assert _sorted_sets(str(got.value)) == _sorted_sets(str(expected.value))


def test_invalid_regressor_loss():
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        MLPRegressor(loss="hinge").fit(np.ones((4, 2)), np.arange(4.0))


# --- command line -------------------------------------------------------------------------
def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "nnfast", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_demo_reaches_accuracy():
    result = _run_cli("demo")
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("test accuracy:")[1].split()[0])
    assert accuracy >= 0.95
    assert "ISA:" in result.stdout and "threads:" in result.stdout


def test_cli_info():
    result = _run_cli("info")
    assert result.returncode == 0, result.stderr
    assert nnfast.__version__ in result.stdout
    assert nnfast._core.isa() in result.stdout


def test_public_names():
    assert nnfast.__version__ == "0.1.0"
    for name in ("MLPClassifier", "MLPRegressor", "set_num_threads", "get_num_threads",
                 "ops"):
        assert hasattr(nnfast, name)


# --- predict's fast lane (plain float ndarrays skip validate_data) ----------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_lane_predicts_like_validated_input(digits, dtype):
    X, y = digits
    clf = nnfast.MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    fast = clf.predict_proba(X.astype(dtype))
    validated = clf.predict_proba(X.astype(dtype).tolist())  # a list takes validate_data
    assert fast.dtype == dtype  # float32 in, float32 out; float64 in, float64 out
    assert_allclose(fast, validated, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_lane_rejects_non_finite(digits, bad, dtype):
    X, y = digits
    clf = nnfast.MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y.astype(float))
    X_bad = X[:3].astype(dtype)
    X_bad[1, 5] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        clf.predict(X_bad)


def test_prediction_follows_parameters_changed_after_fit(iris):
    # predict reads coefs_, intercepts_ and activation at call time, as scikit-learn's
    # does, although the network it predicts with was prepared at fit.
    import _reference as ref

    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(6, 5), max_iter=20, random_state=0).fit(X, y)

    def reference():
        return ref.predict(clf.coefs_, clf.intercepts_, [clf.activation] * 2,
                           "softmax_cross_entropy", X.astype(np.float32))

    assert_allclose(clf.predict_proba(X), reference(), rtol=1e-5, atol=1e-6)
    clf.set_params(activation="tanh")
    assert_allclose(clf.predict_proba(X), reference(), rtol=1e-5, atol=1e-6)
    clf.coefs_ = [c * 0.5 for c in clf.coefs_]
    assert_allclose(clf.predict_proba(X), reference(), rtol=1e-5, atol=1e-6)
    clf.intercepts_[0] += 1.0
    assert_allclose(clf.predict_proba(X), reference(), rtol=1e-5, atol=1e-6)


def test_a_fitted_model_with_a_bad_activation_still_copies(iris):
    # set_params does not validate; like scikit-learn's, the model still pickles and
    # copies, and only predict (or fit) reports the bad value.
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    clf.set_params(activation="bogus")
    for restored in (copy.deepcopy(clf), pickle.loads(pickle.dumps(clf))):
        assert restored.activation == "bogus"
        with pytest.raises(ValueError, match="activation 'bogus' is not one of"):
            restored.predict(X)
