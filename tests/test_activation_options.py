"""The estimators' activations beyond scikit-learn's four, and one activation per hidden
layer (issue 11): fits end to end, the forward they learn matches a float64 NumPy forward
of the fitted weights, results do not depend on the thread count, bad values are named,
and the choice survives the model file."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

import _reference as ref
import nnfast
from nnfast import MLPClassifier, MLPRegressor

NEW = ("leaky_relu", "elu", "gelu", "gelu_tanh", "silu")


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("activation", [*NEW, ("relu", "gelu"), ("silu", "elu")])
def test_fit_learns_and_predicts_as_its_float64_forward(digits, activation):
    X, y = digits  # scaled to [0, 1]
    hidden = (32,) if isinstance(activation, str) else (32, 16)
    clf = MLPClassifier(hidden, activation=activation, max_iter=40, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9  # it learns (chance is 0.1)
    names = [activation] * len(hidden) if isinstance(activation, str) else list(activation)
    _, z = ref.forward(clf.coefs_, clf.intercepts_, names, X)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(z), rtol=1e-4, atol=1e-5)


def test_one_name_per_layer_equals_the_same_name_for_all(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0)
    one = MLPClassifier(activation="gelu", **kw).fit(X, y)
    per_layer = MLPClassifier(activation=("gelu", "gelu"), **kw).fit(X, y)
    for a, b in zip(one.coefs_ + one.intercepts_, per_layer.coefs_ + per_layer.intercepts_):
        assert_array_equal(a, b)


def test_per_layer_init_takes_each_layers_factor():
    # Glorot-uniform bound sqrt(factor / (fan_in + fan_out)): 2 for logistic, 6 otherwise;
    # with a tuple, each layer's from the activation after it, the output's from the last.
    X = np.random.default_rng(0).standard_normal((50, 300))
    y = np.arange(50) % 2
    clf = MLPClassifier((200, 100), activation=("logistic", "relu"), max_iter=1,
                        learning_rate_init=1e-12, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    for coef, factor in zip(clf.coefs_, (2.0, 6.0, 6.0)):
        bound = np.sqrt(factor / sum(coef.shape))
        assert 0.95 * bound < np.abs(coef).max() <= bound * (1 + 1e-6)


@pytest.mark.parametrize("activation", ["gelu", ("elu", "silu")])
def test_threads_do_not_change_results(digits, activation):
    X, y = digits
    results = []
    for n in (1, 2):
        nnfast.set_num_threads(n)
        reg = MLPRegressor(hidden_layer_sizes=(64, 32), activation=activation, max_iter=3, random_state=0)
        results.append(reg.fit(X, y.astype(float)).coefs_)
    for a, b in zip(*results):
        assert_array_equal(a, b)


def test_unknown_name_is_rejected_at_fit_with_every_allowed_name(iris):
    X, y = iris
    with pytest.raises(InvalidParameterError, match="'activation' parameter") as err:
        MLPClassifier(activation="softplus").fit(X, y)
    for name in ref.ACTIVATIONS:
        assert f"'{name}'" in str(err.value)


@pytest.mark.parametrize("activation, message", [
    (("relu",), r"activation has 1 entries, but the network has 2 hidden layers"),
    (("relu", "tanh", "elu"), r"activation has 3 entries, but the network has 2"),
    (("relu", "swish"), r"activation 'swish' is not one of \['identity', 'logistic'"),
    (("relu", 3), r"activation 3 is not one of"),
])
def test_bad_per_layer_activation_is_a_value_error_and_fits_nothing(iris, activation, message):
    X, y = iris
    clf = MLPClassifier((5, 4), activation=activation)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_per_layer_activation_survives_the_model_file(tmp_path, iris):
    X, y = iris
    clf = MLPClassifier((6, 5), activation=("gelu_tanh", "leaky_relu"), max_iter=20,
                        random_state=0).fit(X, y)
    nnfast.save(clf, tmp_path / "model.safetensors")
    loaded = nnfast.load(tmp_path / "model.safetensors")
    assert loaded.activation == ("gelu_tanh", "leaky_relu")
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_set_params_to_another_activation_takes_effect_at_predict(iris):
    X, y = iris
    clf = MLPClassifier((6,), activation="relu", max_iter=20, random_state=0).fit(X, y)
    clf.set_params(activation=["silu"])  # a list, as a grid search may give
    _, z = ref.forward(clf.coefs_, clf.intercepts_, ["silu"], X)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(z), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("bad", [None, 5, 1.5])
def test_a_non_name_activation_still_copies_and_is_named_at_predict(iris, bad):
    import copy
    import pickle

    X, y = iris
    for est in (MLPClassifier(activation=bad),
                MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)):
        est.set_params(activation=bad)
        for restored in (copy.deepcopy(est), pickle.loads(pickle.dumps(est))):
            assert restored.activation == bad
    with pytest.raises(ValueError, match="activation must be a name or a tuple of names"):
        restored.predict(X)
    with pytest.raises(InvalidParameterError, match="'activation' parameter"):
        MLPClassifier(activation=bad).fit(X, y)

