"""dtype=np.float64 on the estimators (issue 11, Deliver 8): training and prediction in
float64 from end to end (each instruction set's float64 kernels).

Oracles: scikit-learn's MLP, which computes in float64 (the same random_state gives the
same initial weights and batches, so the fitted weights agree to float64 rounding); the
float32 fit (the same function at float32 precision); bitwise equality across thread
counts and between sparse and dense X. scikit-learn's estimator checks run on the float64
estimators in test_sklearn_checks.py, with no expected failure.
"""

import os
import tempfile
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neural_network
from sklearn.datasets import load_diabetes, load_digits

import nnfast
from nnfast import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits64():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.fixture(scope="module")
def diabetes64():
    X, y = load_diabetes(return_X_y=True)
    return X, (y - y.mean()) / y.std()


def both(name, **params):
    """nnfast's float64 estimator and scikit-learn's, with the same parameters."""
    return (getattr(nnfast, name)(dtype=np.float64, **params),
            getattr(neural_network, name)(**params))


def relative_difference(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_classifier_matches_sklearn_to_float64_rounding(digits64, solver):
    X, y = digits64
    ours, theirs = both("MLPClassifier", hidden_layer_sizes=(24,), solver=solver, max_iter=15,
                        random_state=0)
    ours.fit(X, y)
    theirs.fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == np.float64
        assert relative_difference(a, b) < 1e-11
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-11,
                               atol=1e-15)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_with_sample_weight_matches_sklearn(diabetes64, solver):
    X, y = diabetes64
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    ours, theirs = both("MLPRegressor", hidden_layer_sizes=(16, 8), solver=solver,
                        max_iter=20, learning_rate_init=1e-2, random_state=1)
    ours.fit(X, y, sample_weight=sw)
    theirs.fit(X, y, sample_weight=sw)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        assert relative_difference(a, b) < 1e-10
    prediction = ours.predict(X)
    assert prediction.dtype == np.float64
    np.testing.assert_allclose(prediction, theirs.predict(X), rtol=1e-10, atol=1e-10)


def test_lbfgs_follows_sklearn_to_float64_tolerances(diabetes64):
    # scipy's L-BFGS stops when the objective's relative reduction falls below its ftol
    # (2.2e-9): a float32 objective's rounding reaches that early, a float64 one goes on
    # as scikit-learn's does.
    X, y = diabetes64
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", tol=1e-12, random_state=0)
    ours = MLPRegressor(dtype=np.float64, max_iter=50, **params).fit(X, y)
    theirs = neural_network.MLPRegressor(max_iter=50, **params).fit(X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        assert relative_difference(a, b) < 1e-5  # 50 iterations apart by float64 rounding
    long64 = MLPRegressor(dtype=np.float64, max_iter=3000, **params).fit(X, y)
    long_theirs = neural_network.MLPRegressor(max_iter=3000, **params).fit(X, y)
    long32 = MLPRegressor(max_iter=3000, **params).fit(X, y)
    assert abs(long64.n_iter_ - long_theirs.n_iter_) <= 5  # (both part by an ulp near the end)
    assert long64.n_iter_ > long32.n_iter_ + 50


def test_float64_is_the_float32_fit_at_higher_precision(digits64):
    # The same function: one epoch with dropout and batch norm agrees with the float32 fit
    # to float32 precision (each kernel's float64 twin computes it).
    X, y = digits64
    params = dict(hidden_layer_sizes=(32, 16), activation="gelu", dropout=0.2, batch_norm=True,
                  max_iter=1, random_state=0, batch_size=64)
    f64 = MLPClassifier(dtype=np.float64, **params).fit(X, y)
    f32 = MLPClassifier(**params).fit(X, y)
    for a, b in zip(f64.coefs_ + f64.batch_norm_scales_ + f64.running_vars_,
                    f32.coefs_ + f32.batch_norm_scales_ + f32.running_vars_):
        assert a.dtype == np.float64 and b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-5)
    np.testing.assert_allclose(f64.predict_proba(X), f32.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float64_fit_is_bitwise_the_same_for_any_thread_count(solver):
    # Steps large enough to run on several threads (~1e8 FLOP, above the core's 5e6).
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    fits = []
    for threads in (1, 2, 3):
        nnfast.set_num_threads(threads)
        model = MLPClassifier((256, 128), dtype=np.float64, solver=solver, max_iter=3,
                              random_state=0, batch_size=400, batch_norm=solver == "adam",
                              dropout=0.1 if solver == "adam" else 0.0).fit(X, y)
        fits.append((model, model.predict_proba(X)))
    (first, proba), rest = fits[0], fits[1:]
    for model, other_proba in rest:
        for a, b in zip(first.coefs_ + first.intercepts_, model.coefs_ + model.intercepts_):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(proba, other_proba)


def test_sparse_float64_equals_dense_float64(digits64):
    X, y = digits64
    dense = MLPClassifier((16,), dtype=np.float64, max_iter=3, random_state=0).fit(X, y)
    sparse = MLPClassifier((16,), dtype=np.float64, max_iter=3, random_state=0).fit(
        sp.csr_matrix(X), y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)))


def test_float32_x_into_a_float64_model(digits64):
    X, y = digits64
    X32 = X.astype(np.float32)
    model = MLPClassifier((16,), dtype=np.float64, max_iter=3, random_state=0).fit(X32, y)
    assert model.coefs_[0].dtype == np.float64
    proba = model.predict_proba(X32)
    assert proba.dtype == np.float64  # float32 rows are converted exactly, row by row
    np.testing.assert_array_equal(proba, model.predict_proba(X32.astype(np.float64)))


def test_warm_start_across_dtypes_converts_weights_and_optimizer_state(digits64):
    X, y = digits64
    model = MLPClassifier((16,), max_iter=2, random_state=0, warm_start=True).fit(X, y)
    assert model.coefs_[0].dtype == np.float32
    model.set_params(dtype=np.float64).fit(X, y)
    assert all(a.dtype == np.float64 for a in model.coefs_ + model.intercepts_)
    assert all(s.dtype == np.float64 for s in model._optimizer.state1 + model._optimizer.state2)
    model.set_params(dtype="float32").partial_fit(X, y)
    assert all(a.dtype == np.float32 for a in model.coefs_ + model._optimizer.state1)


def test_warm_start_with_early_stopping_keeps_the_new_dtype(digits64):
    # Early stopping restores its best epoch's copies: they follow the dtype too.
    X, y = digits64
    model = MLPClassifier((16,), early_stopping=True, n_iter_no_change=3, max_iter=60,
                          random_state=0).fit(X, y)
    model.set_params(dtype=np.float64, warm_start=True, max_iter=2, learning_rate_init=1.0)
    model.fit(X, y)  # no better epoch: the best copies are restored
    assert all(a.dtype == np.float64 for a in model.coefs_ + model.intercepts_)


def test_partial_fit_across_dtypes_keeps_the_optimizer(digits64):
    X, y = digits64
    model = MLPClassifier((16,), solver="sgd", learning_rate="adaptive", random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    optimizer = model._optimizer
    optimizer.learning_rate = 1e-4  # as 'adaptive' would have lowered it
    model.set_params(dtype=np.float64).partial_fit(X, y)
    assert model._optimizer is optimizer and optimizer.learning_rate == 1e-4
    assert all(s.dtype == np.float64 for s in optimizer.state1)


def test_sklearn_float64_weights_are_accepted_and_converted_once(digits64):
    X, y = digits64
    theirs = neural_network.MLPClassifier((16,), max_iter=5, random_state=0).fit(X, y)
    ours = MLPClassifier((16,), max_iter=1, random_state=0, warm_start=True).fit(X, y)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]  # float64, as scikit-learn has them
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5,
                               atol=1e-6)
    ours.fit(X, y)  # converted once, to the model's dtype (float32), then trained
    assert all(c.dtype == np.float32 for c in ours.coefs_)
    as64 = MLPClassifier((16,), max_iter=1, random_state=0, warm_start=True,
                         dtype=np.float64).fit(X, y)
    as64.coefs_, as64.intercepts_ = list(theirs.coefs_), list(theirs.intercepts_)
    np.testing.assert_allclose(as64.predict_proba(X), theirs.predict_proba(X), rtol=1e-12,
                               atol=1e-15)


def test_float64_skips_the_float32_range_checks():
    # Values float32 cannot hold: a float32 model refuses them, a float64 one trains.
    X = np.array([[1e39, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.5]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="beyond float32's range"):
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, dtype=np.float64,
                         learning_rate_init=1e-60, alpha=1e-50).fit(X, y)
    assert model.coefs_[0].dtype == np.float64 and np.isfinite(model.predict(X)).all()
    with pytest.raises(ValueError, match="cannot be held in float32"):
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, learning_rate_init=1e-60).fit(
            X / 1e38, y)


@pytest.mark.parametrize("dtype", [np.int32, "float16", np.complex128, "double precision", None,
                                   "i4,("])
def test_other_dtypes_are_a_value_error(dtype):
    with pytest.raises(ValueError, match=r"dtype"):  # None: scikit-learn's parameter check
        MLPClassifier((4,), max_iter=1, dtype=dtype).fit([[0.0], [1.0]], [0, 1])


def test_float64_model_file_and_pickle_round_trip(digits64):
    import pickle
    X, y = digits64
    model = MLPClassifier((16,), dtype=np.float64, max_iter=3, random_state=0,
                          batch_norm=True).fit(X, y)
    path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    nnfast.save(model, path)
    for copy in (nnfast.load(path), pickle.loads(pickle.dumps(model))):
        assert copy.get_params()["dtype"] in (np.float64, "float64")
        assert all(a.dtype == np.float64 for a in copy.coefs_ + copy.running_vars_)
        np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = nnfast.load(path).set_params(warm_start=True, max_iter=1).fit(X, y)
    assert resumed._optimizer.state1[0].dtype == np.float64
    # Hyperparameters float64 holds but float32 cannot: saved and loaded.
    tiny = MLPClassifier((8,), dtype=np.float64, epsilon=1e-50, max_iter=2,
                         random_state=0).fit(X, y)
    nnfast.save(tiny, path)
    assert nnfast.load(path)._optimizer.epsilon == 1e-50


def test_a_pickle_from_before_dtype_is_float32(digits64):
    import pickle
    X, y = digits64
    model = MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    del model.__dict__["dtype"]  # as pickled by an nnfast without the parameter
    old = pickle.loads(pickle.dumps(model))
    assert old.get_params()["dtype"] == np.float32
    old.set_params(warm_start=True).fit(X, y)
    assert old.coefs_[0].dtype == np.float32


def test_float64_model_exports_to_onnx(digits64):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    X, y = digits64
    model = MLPClassifier((16,), dtype=np.float64, max_iter=3, random_state=0,
                          batch_norm=True).fit(X, y)
    onx = nnfast.to_onnx(model, X[:1], options={"zipmap": False})  # a float64 graph
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    proba = session.run(None, {session.get_inputs()[0].name: X})[1]
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-12, atol=1e-14)


def test_core_takes_arrays_not_nested_lists_as_parameters():
    # A nested list would become a temporary float64 array whose memory the call would
    # read after it is gone: a TypeError naming the argument instead.
    from nnfast import _core
    X = np.ones((2, 1))
    with pytest.raises(TypeError, match=r"\[predict\] coefs\[0\] must be a numpy array"):
        _core.predict([[[1.0]]], [np.zeros(1)], [], _core.Loss.squared_error, X)
    with pytest.raises(TypeError, match=r"\[Predictor\] coefs\[0\] must be a numpy array"):
        _core.Predictor([], _core.Loss.squared_error)(X, [[[1.0]]], [np.zeros(1)])
