"""Every transition between fit, warm-started fit and partial_fit, with early_stopping
switched and the solver changed in between, either works (a usable, finite model with
consistent records) or raises a ValueError naming the parameter; and weights assigned
by a user or restored from a pickle are checked and converted, never a crash."""

import itertools
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nnfast import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = ["adam", "sgd", "lbfgs"]
SECOND_CALLS = ["fit", "warm_fit", "partial_fit"]


def assert_usable(est, X):
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    assert est.predict(X).shape[0] == X.shape[0]
    if est.solver != "lbfgs":
        assert isinstance(est.loss_curve_, list) and len(est.loss_curve_) >= 1
        if est.early_stopping:
            assert len(est.validation_scores_) >= 1


@pytest.mark.parametrize("first_solver,first_es", list(itertools.product(SOLVERS, [False, True])))
@pytest.mark.parametrize("second_solver,second_es,call",
                         list(itertools.product(SOLVERS, [False, True], SECOND_CALLS)))
def test_transition(iris, first_solver, first_es, second_solver, second_es, call):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=4, random_state=0,
                        solver=first_solver, early_stopping=first_es).fit(X, y)
    est.set_params(solver=second_solver, early_stopping=second_es,
                   warm_start=call == "warm_fit")
    try:
        if call == "partial_fit":
            est.partial_fit(X, y)
        else:
            est.fit(X, y)
    except AttributeError as e:  # scikit-learn's API: no partial_fit for lbfgs
        assert call == "partial_fit" and second_solver == "lbfgs", e
        assert not hasattr(est, "partial_fit")
        return
    except ValueError as e:
        assert call == "partial_fit" and second_es, e
        assert "early_stopping" in str(e)
        est.set_params(early_stopping=False)
        est.partial_fit(X, y)
    assert_usable(est, X)
    est.set_params(warm_start=True, early_stopping=not second_es)  # and once more
    est.fit(X, y)
    assert_usable(est, X)


def test_warm_start_switching_early_stopping_on_keeps_the_loss_curve(iris):
    # Was: AttributeError: 'NoneType' object has no attribute 'append'.
    X, y = iris
    est = MLPClassifier(max_iter=5, warm_start=True, random_state=0).fit(X, y)
    est.set_params(early_stopping=True).fit(X, y)
    assert len(est.loss_curve_) == 10 and len(est.validation_scores_) == 5
    est.set_params(early_stopping=False).fit(X, y)
    assert len(est.loss_curve_) == 15 and np.isfinite(est.best_loss_)


# --- assigned and unpickled parameters -------------------------------------------------------
def fitted(iris):
    X, y = iris
    return MLPClassifier(hidden_layer_sizes=(7,), max_iter=5, random_state=0).fit(X, y)


@pytest.mark.parametrize("convert", [
    tuple, lambda cs: [c.astype(np.float64) for c in cs],
    lambda cs: [c.astype(">f4") for c in cs], lambda cs: [np.asfortranarray(c) for c in cs],
    lambda cs: [c.tolist() for c in cs],
], ids=["tuple", "float64", "big-endian", "fortran", "nested lists"])
def test_assigned_parameters_are_converted(iris, convert):
    X, y = iris
    est = fitted(iris)
    want = est.predict_proba(X)
    est.coefs_, est.intercepts_ = convert(est.coefs_), convert(est.intercepts_)
    assert_array_equal(est.predict_proba(X), want)
    est.set_params(warm_start=True).fit(X, y)  # converted once, then trained in place
    assert all(c.dtype == np.float32 and c.flags.c_contiguous for c in est.coefs_)


def test_failed_partial_fit_restores_assigned_tuples(diabetes):
    # The rollback copied arrays inside lists only: training wrote into the tuple's arrays.
    X, y = diabetes
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", random_state=0).partial_fit(X, y)
    est.coefs_, est.intercepts_ = tuple(est.coefs_), tuple(est.intercepts_)
    want = est.predict(X)
    est._optimizer.learning_rate = 1.0
    with pytest.raises(ValueError, match="diverged"):
        est.partial_fit(X * 1e6, y * 1e6)
    assert_array_equal(est.predict(X), want)


@pytest.mark.parametrize("tamper,error,match", [
    (lambda s: s["coefs_"].__setitem__(0, s["coefs_"][0][:2]), ValueError,
     r"coefs_\[0\] has shape \(2, 7\), expected \(4, \*\)"),
    (lambda s: s["coefs_"].__setitem__(1, s["coefs_"][1].T.copy()), ValueError,
     r"coefs_\[1\] has shape \(3, 7\), expected \(7, \*\)"),
    (lambda s: s["intercepts_"].__setitem__(0, s["intercepts_"][0][:3]), ValueError,
     r"intercepts_\[0\] has shape \(3,\), expected \(7,\)"),
    (lambda s: s["intercepts_"].pop(), ValueError, "non-empty lists of equal length"),
    (lambda s: s["coefs_"].__setitem__(0, np.array([["a"] * 7] * 4)), TypeError,
     r"coefs_\[0\] must be a numeric array"),
    (lambda s: s.__setitem__("coefs_", 5), TypeError, "coefs_ must be a list of arrays"),
    (lambda s: s.__setitem__("n_outputs_", 2), ValueError, "expected n_outputs_=2"),
])
def test_tampered_pickle_raises_on_load(iris, tamper, error, match):
    est = fitted(iris)
    state = est.__getstate__()
    state = {k: list(v) if k in ("coefs_", "intercepts_") else v for k, v in state.items()}
    tamper(state)
    clone = MLPClassifier.__new__(MLPClassifier)
    with pytest.raises(error, match=match):
        clone.__setstate__(state)


def test_pickle_with_other_dtypes_and_byte_order_loads_converted(iris):
    X, _ = iris
    est = fitted(iris)
    state = est.__getstate__()
    state["coefs_"] = [c.astype(">f4") for c in state["coefs_"]]
    state["intercepts_"] = [b.astype(np.float64) for b in state["intercepts_"]]
    clone = pickle.loads(pickle.dumps(est))
    clone.__setstate__(state)
    assert_array_equal(clone.predict_proba(X), est.predict_proba(X))


def test_nan_weight_stays_visible(iris):
    # relu once mapped NaN to 0: a model with one NaN weight predicted 0.708 / 0.292.
    X, y = iris
    for est, target in ((MLPClassifier(max_iter=3, random_state=0), y == 1),
                        (MLPRegressor(max_iter=3, random_state=0), y.astype(float))):
        est.fit(X, target)
        est.coefs_[0][0, 0] = np.nan
        out = est.predict_proba(X[:2]) if hasattr(est, "predict_proba") else est.predict(X[:2])
        assert np.isnan(out).all()
        with pytest.raises(ValueError, match=r"coefs_\[0\] contains NaN.*warm_start=False"):
            est.set_params(warm_start=True).fit(X, target)
