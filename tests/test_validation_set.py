"""fit(X, y, X_val=, y_val=, sample_weight_val=) and validation_loss_curve_ (issue 11).

Oracles: the float64 NumPy objective of the fitted weights on the validation set
(_reference.objective with alpha=0), and, for early stopping on X_val, the plain fit of
as many epochs as the best one: the same random path, so bitwise the same weights."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.metrics import accuracy_score

import _reference as ref
import nnfast
from nnfast import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def one_hot(y, classes):
    return (np.asarray(y)[:, None] == classes[None, :]).astype(np.float64)


def test_the_curve_ends_at_the_float64_loss_of_the_fitted_weights(digits):
    X, y, X_val, y_val = split(*digits, 1400)
    sw_val = np.random.default_rng(0).uniform(0.5, 2.0, len(y_val))
    clf = MLPClassifier((32,), activation="gelu", max_iter=6, random_state=0)
    clf.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=sw_val)
    assert len(clf.validation_loss_curve_) == len(clf.loss_curve_) == 6
    expected = ref.objective(clf.coefs_, clf.intercepts_, ["gelu"], "softmax_cross_entropy",
                             X_val, one_hot(y_val, clf.classes_), sw_val, 0.0)
    np.testing.assert_allclose(clf.validation_loss_curve_[-1], expected, rtol=1e-5)
    assert clf.validation_loss_curve_[-1] < clf.validation_loss_curve_[0]  # it learns


def test_regression_curve_and_class_weight_on_the_validation_set(diabetes, iris):
    X, y, X_val, y_val = split(*diabetes, 300)
    reg = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=5,
                       random_state=0).fit(X, y, X_val=X_val, y_val=y_val)
    expected = ref.objective(reg.coefs_, reg.intercepts_, ["relu"], "squared_error", X_val,
                             y_val[:, None], None, 0.0)
    np.testing.assert_allclose(reg.validation_loss_curve_[-1], expected, rtol=1e-5)
    # class_weight weighs the validation rows as it weighs the training rows
    X, y = iris
    order = np.random.default_rng(1).permutation(len(y))
    X, y, X_val, y_val = split(X[order], y[order], 100)
    clf = MLPClassifier((6,), class_weight={2: 5.0}, max_iter=4, random_state=0)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    expected = ref.objective(clf.coefs_, clf.intercepts_, ["relu"], "softmax_cross_entropy",
                             X_val, one_hot(y_val, clf.classes_), np.where(y_val == 2, 5.0, 1.0),
                             0.0)
    np.testing.assert_allclose(clf.validation_loss_curve_[-1], expected, rtol=1e-5)


def test_early_stopping_on_x_val_keeps_the_best_epoch(digits):
    X, y, X_val, y_val = split(*digits, 1400)
    kw = dict(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)
    es = MLPClassifier(early_stopping=True, max_iter=60, n_iter_no_change=3, **kw)
    es.fit(X, y, X_val=X_val, y_val=y_val)
    assert es.n_iter_ < 60 and len(es.validation_scores_) == es.n_iter_
    best = int(np.argmax(es.validation_scores_)) + 1
    plain = MLPClassifier(max_iter=best, **kw).fit(X, y)  # all of X trained: no split
    for a, b in zip(es.coefs_ + es.intercepts_, plain.coefs_ + plain.intercepts_):
        assert_array_equal(a, b)
    assert es.best_validation_score_ == accuracy_score(y_val, plain.predict(X_val))


def test_the_split_records_a_curve_too_and_no_validation_records_none(digits):
    X, y = digits
    es = MLPClassifier((16,), early_stopping=True, max_iter=5, random_state=0).fit(X, y)
    assert len(es.validation_loss_curve_) == es.n_iter_ == 5
    plain = MLPClassifier((16,), max_iter=3, random_state=0).fit(X, y)
    assert not hasattr(plain, "validation_loss_curve_")


def test_warm_start_appends_and_a_new_fit_forgets(digits):
    X, y, X_val, y_val = split(*digits, 1400)
    clf = MLPClassifier((16,), max_iter=2, warm_start=True, random_state=0)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert len(clf.validation_loss_curve_) == len(clf.loss_curve_) == 4
    clf.fit(X, y)  # a warm fit without a validation set: the curve would miss its epochs
    assert not hasattr(clf, "validation_loss_curve_")
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert len(clf.validation_loss_curve_) == 2 and len(clf.loss_curve_) == 8


def test_the_curve_survives_the_model_file(tmp_path, iris):
    X, y = iris
    clf = MLPClassifier((5,), max_iter=3, random_state=0).fit(X, y, X_val=X, y_val=y)
    nnfast.save(clf, tmp_path / "m.safetensors")
    assert nnfast.load(tmp_path / "m.safetensors").validation_loss_curve_ == clf.validation_loss_curve_


@pytest.mark.parametrize("kwargs, message", [
    (dict(X_val="X"), "X_val and y_val must be given together \\(got X_val only\\)"),
    (dict(y_val="y"), "got y_val only"),
    (dict(sample_weight_val="w"), "sample_weight_val was given without X_val and y_val"),
    (dict(X_val="X3", y_val="y"), "X_val: X has 3 features, but MLPClassifier is expecting 4"),
    (dict(X_val="X", y_val="y_unknown"), r"y_val has labels that y does not: \[7\]"),
    (dict(X_val="X", y_val="y_short"), "X_val has 150 rows but y_val has 149"),
    (dict(X_val="X_nan", y_val="y"), "X_val: Input X contains NaN"),
    (dict(X_val="X", y_val="scalar"), "y_val: "),
    (dict(X_val="X", y_val="y", sample_weight_val="w_negative"), "sample_weight_val: "),
])
def test_bad_validation_sets_are_named(iris, kwargs, message):
    X, y = iris
    values = {"X": X, "y": y, "w": np.ones(len(y)), "X3": X[:, :3], "y_unknown": np.r_[y[:-1], 7],
              "y_short": y[:-1], "X_nan": np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X),
              "w_negative": -np.ones(len(y)), "scalar": 1}
    clf = MLPClassifier((4,), max_iter=2)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, **{k: values[v] for k, v in kwargs.items()})
    assert not hasattr(clf, "coefs_")


def test_lbfgs_refuses_a_validation_set_and_regressors_check_outputs(iris, diabetes):
    X, y = iris
    with pytest.raises(ValueError, match="solver='lbfgs' has no epochs"):
        MLPClassifier((4,), solver="lbfgs").fit(X, y, X_val=X, y_val=y)
    X, y = diabetes
    with pytest.raises(ValueError, match="y_val has 2 outputs, y has 1"):
        MLPRegressor(hidden_layer_sizes=(4,)).fit(X, y, X_val=X, y_val=np.c_[y, y])


def test_multilabel_y_val_must_be_indicators(iris):
    X, y = iris
    Y = np.c_[y == 0, y == 1].astype(int)
    with pytest.raises(ValueError, match="y_val must be a 2-column 0/1 indicator matrix"):
        MLPClassifier((4,), max_iter=2).fit(X, Y, X_val=X, y_val=-Y)

