"""init= (issue 11): the starting weights of each initialization against NumPy draws from
the same RandomState (the oracle: the documented formula, drawn in the documented order),
and their spread against the formula's bound or deviation on a wide layer."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

import nnfast
from nnfast import MLPClassifier, MLPRegressor

# name -> (distribution, scale(fan_in, fan_out, factor)): U(-scale, scale) or N(0, scale^2)
FORMULAS = {
    "glorot_uniform": ("uniform", lambda fi, fo, f: np.sqrt(f / (fi + fo))),
    "glorot_normal": ("normal", lambda fi, fo, f: np.sqrt(f / (3.0 * (fi + fo)))),
    "he_uniform": ("uniform", lambda fi, fo, f: np.sqrt(6.0 / fi)),
    "he_normal": ("normal", lambda fi, fo, f: np.sqrt(2.0 / fi)),
}


def initial(estimator, monkeypatch, X, y):
    """The weights fit draws, before any training."""
    monkeypatch.setattr(type(estimator), "_fit_stochastic", lambda *a, **k: None)
    return estimator.fit(X, y)


@pytest.mark.parametrize("init", list(FORMULAS))
@pytest.mark.parametrize("activation", ["relu", "logistic", ("logistic", "tanh")])
def test_initial_weights_are_the_formula_drawn_in_order(monkeypatch, iris, init, activation):
    X, y = iris
    hidden = (7, 5)
    est = initial(MLPClassifier(hidden, activation=activation, init=init, random_state=3),
                  monkeypatch, X, y)
    rng = np.random.RandomState(3)
    names = [activation] * 2 if isinstance(activation, str) else list(activation)
    names.append(names[-1])  # the output layer: the last hidden one's factor
    kind, scale = FORMULAS[init]
    for coef, intercept, name in zip(est.coefs_, est.intercepts_, names):
        fan_in, fan_out = coef.shape
        s = scale(fan_in, fan_out, 2.0 if name == "logistic" else 6.0)
        draw = (lambda shape: rng.uniform(-s, s, shape)) if kind == "uniform" else (
            lambda shape: rng.normal(0.0, s, shape))
        assert_array_equal(coef, draw((fan_in, fan_out)).astype(np.float32))
        assert_array_equal(intercept, draw(fan_out).astype(np.float32))


@pytest.mark.parametrize("init", list(FORMULAS))
def test_spread_matches_the_formula_on_a_wide_layer(monkeypatch, init):
    X = np.random.default_rng(0).standard_normal((20, 400))
    y = np.random.default_rng(1).standard_normal(20)
    est = initial(MLPRegressor(hidden_layer_sizes=(300,), init=init, random_state=0),
                  monkeypatch, X, y)
    w = est.coefs_[0].astype(np.float64)
    kind, scale = FORMULAS[init]
    s = scale(400, 300, 6.0)
    if kind == "uniform":
        assert 0.99 * s < np.abs(w).max() <= s
        assert abs(w.std() - s / np.sqrt(3)) < 0.01 * s
    else:
        assert abs(w.std() - s) < 0.01 * s and abs(w.mean()) < 0.01 * s


def test_default_is_scikit_learns_and_he_trains_a_deep_relu_net(digits):
    X, y = digits
    assert MLPClassifier().init == "glorot_uniform"
    scores = {}
    for init in ("glorot_uniform", "he_normal"):
        clf = MLPClassifier((64, 64, 64), init=init, max_iter=15, random_state=0)
        with pytest.warns(Warning):
            scores[init] = clf.fit(X, y).score(X, y)
    assert min(scores.values()) > 0.9  # both learn; which is better depends on the data


def test_unknown_init_is_rejected_naming_every_option(iris):
    with pytest.raises(InvalidParameterError, match="'init' parameter") as err:
        MLPClassifier(init="orthogonal").fit(*iris)
    for name in FORMULAS:
        assert name in str(err.value)


def test_init_survives_the_model_file(tmp_path, iris):
    X, y = iris
    clf = MLPClassifier((5,), init="he_uniform", max_iter=3, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    nnfast.save(clf, tmp_path / "m.safetensors")
    assert nnfast.load(tmp_path / "m.safetensors").init == "he_uniform"
